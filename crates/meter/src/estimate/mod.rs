//! Power models for machines without sensors. PLACEHOLDER: being replaced by the fitted model
//! (see the meter issue); the signatures below are the contract the meter uses.

/// CPU power as a function of utilisation.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuPowerModel {
    pub tdp_watts: f64,
    /// Where the TDP came from: "table: <matched name>", "--cpu-tdp", or "default".
    pub tdp_source: String,
}

impl CpuPowerModel {
    /// Look up the CPU brand string in the embedded TDP table; `override_tdp` wins.
    /// Returns the model and a warning when the CPU was not found and a default was used.
    pub fn for_cpu(_brand: &str, override_tdp: Option<f64>) -> (Self, Option<String>) {
        match override_tdp {
            Some(w) => (Self { tdp_watts: w, tdp_source: "--cpu-tdp".into() }, None),
            None => (
                Self { tdp_watts: 85.0, tdp_source: "default".into() },
                Some("CPU not in the TDP table: assuming 85 W".into()),
            ),
        }
    }

    /// Estimated package power in watts at `load` (0.0..=1.0, whole machine).
    pub fn watts(&self, load: f64) -> f64 {
        let l = load.clamp(0.0, 1.0);
        self.tdp_watts * (0.1 + 0.9 * l * l * l)
    }
}

/// RAM power estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct RamPowerModel {
    pub total_bytes: u64,
}

impl RamPowerModel {
    pub fn for_machine(total_bytes: u64) -> Self {
        Self { total_bytes }
    }

    /// Estimated RAM power in watts.
    pub fn watts(&self) -> f64 {
        3.0 * self.total_bytes as f64 / (8.0 * 1024.0 * 1024.0 * 1024.0)
    }
}
