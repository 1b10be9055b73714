//! One row of a CodeCarbon `emissions.csv`, typed, in CodeCarbon's units (seconds, kg CO2e,
//! kg/s, W, kWh, L, GB). Joules are converted at this edge only.

use super::timestamp::Timestamp;

const J_PER_KWH: f64 = 3.6e6;

/// A CodeCarbon 3.x row (2.x rows read into it leave the 3.x-only fields `None`).
/// `None` is written as an empty field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmissionsRow {
    pub timestamp: Timestamp,
    pub project_name: String,
    pub run_id: Option<String>,
    pub experiment_id: Option<String>,
    /// Seconds.
    pub duration_s: f64,
    /// kg CO2e.
    pub emissions_kg: f64,
    /// kg CO2e per second.
    pub emissions_rate_kg_s: f64,
    /// Mean watts over the run (energy / duration).
    pub cpu_power_w: Option<f64>,
    pub gpu_power_w: Option<f64>,
    pub ram_power_w: Option<f64>,
    /// kWh.
    pub cpu_energy_kwh: Option<f64>,
    pub gpu_energy_kwh: Option<f64>,
    pub ram_energy_kwh: Option<f64>,
    /// kWh, the sum of the component energies.
    pub energy_consumed_kwh: f64,
    /// Litres.
    pub water_consumed_l: Option<f64>,
    pub country_name: Option<String>,
    pub country_iso_code: Option<String>,
    pub region: Option<String>,
    pub cloud_provider: Option<String>,
    pub cloud_region: Option<String>,
    pub os: Option<String>,
    pub python_version: Option<String>,
    pub codecarbon_version: Option<String>,
    pub cpu_count: Option<u32>,
    pub cpu_model: Option<String>,
    pub gpu_count: Option<u32>,
    pub gpu_model: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// GB (CodeCarbon writes GiB under this name).
    pub ram_total_size_gb: Option<f64>,
    /// "machine" or "process".
    pub tracking_mode: Option<String>,
    pub cpu_utilization_percent: Option<f64>,
    pub gpu_utilization_percent: Option<f64>,
    pub ram_utilization_percent: Option<f64>,
    pub ram_used_gb: Option<f64>,
    /// Written "Y"/"N".
    pub on_cloud: Option<bool>,
    pub pue: Option<f64>,
    pub wue: Option<f64>,
}

/// Energy of one run in joules, per component; `None` = the component was not measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunEnergy {
    pub duration_s: f64,
    pub cpu_j: Option<f64>,
    pub gpu_j: Option<f64>,
    pub ram_j: Option<f64>,
    pub emissions_kg: f64,
}

impl EmissionsRow {
    /// A row with the energy columns filled from joules: energies in kWh, power columns as
    /// energy / duration (not CodeCarbon's unweighted sample mean), `energy_consumed` the
    /// sum, `emissions_rate` = emissions / duration. A zero duration leaves power and rate
    /// empty rather than infinite. Other fields are left for the caller.
    pub fn from_energy(timestamp: Timestamp, project_name: &str, e: &RunEnergy) -> Self {
        let per_s = |j: f64| (e.duration_s > 0.0).then(|| j / e.duration_s);
        let kwh = |j: f64| j / J_PER_KWH;
        let total_j = e.cpu_j.unwrap_or(0.0) + e.gpu_j.unwrap_or(0.0) + e.ram_j.unwrap_or(0.0);
        Self {
            timestamp,
            project_name: project_name.to_string(),
            duration_s: e.duration_s,
            emissions_kg: e.emissions_kg,
            emissions_rate_kg_s: per_s(e.emissions_kg).unwrap_or(0.0),
            cpu_power_w: e.cpu_j.and_then(per_s),
            gpu_power_w: e.gpu_j.and_then(per_s),
            ram_power_w: e.ram_j.and_then(per_s),
            cpu_energy_kwh: e.cpu_j.map(kwh),
            gpu_energy_kwh: e.gpu_j.map(kwh),
            ram_energy_kwh: e.ram_j.map(kwh),
            energy_consumed_kwh: kwh(total_j),
            ..Self::default()
        }
    }

    /// Total energy in joules (`energy_consumed` x 3.6e6).
    pub fn energy_joules(&self) -> f64 {
        self.energy_consumed_kwh * J_PER_KWH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_is_energy_over_duration() {
        let e = RunEnergy {
            duration_s: 10.0,
            cpu_j: Some(360.0),
            gpu_j: None,
            ram_j: Some(36.0),
            emissions_kg: 0.002,
        };
        let r = EmissionsRow::from_energy(Timestamp::default(), "p", &e);
        assert_eq!(r.cpu_power_w, Some(36.0));
        assert_eq!(r.ram_power_w, Some(3.6));
        assert_eq!(r.gpu_power_w, None);
        assert_eq!(r.cpu_energy_kwh, Some(0.0001));
        assert_eq!(r.ram_energy_kwh, Some(0.00001));
        assert!((r.energy_consumed_kwh - 0.00011).abs() < 1e-18);
        assert!((r.emissions_rate_kg_s - 0.0002).abs() < 1e-18);
        assert!((r.energy_joules() - 396.0).abs() < 1e-9);
        let zero = RunEnergy {
            duration_s: 0.0,
            cpu_j: Some(1.0),
            ..RunEnergy::default()
        };
        let r = EmissionsRow::from_energy(Timestamp::default(), "p", &zero);
        assert_eq!(r.cpu_power_w, None);
        assert_eq!(r.emissions_rate_kg_s, 0.0);
    }
}
