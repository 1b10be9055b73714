//! Unit conversions at the edges. Inside, energy is joules.

/// Joules in one kilowatt-hour (1,000 W x 3,600 s).
pub const J_PER_KWH: f64 = 3.6e6;
/// Joules in one watt-hour.
pub const J_PER_WH: f64 = 3.6e3;
/// Kilograms in one international avoirdupois pound (exact by definition, 1959).
pub const KG_PER_LB: f64 = 0.453_592_37;

pub fn joules_to_kwh(joules: f64) -> f64 {
    joules / J_PER_KWH
}

pub fn kwh_to_joules(kwh: f64) -> f64 {
    kwh * J_PER_KWH
}

pub fn joules_to_wh(joules: f64) -> f64 {
    joules / J_PER_WH
}

/// lbs/MWh (eGRID's unit) to g/kWh: 1 lb = 453.59237 g and 1 MWh = 1,000 kWh,
/// so 1 lb/MWh = 0.45359237 g/kWh.
pub fn lbs_per_mwh_to_g_per_kwh(lbs_per_mwh: f64) -> f64 {
    lbs_per_mwh * KG_PER_LB
}

/// Energy in joules of a constant power (W) held for some hours.
pub fn watt_hours_to_joules(watts: f64, hours: f64) -> f64 {
    watts * hours * 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwh_and_joules() {
        assert_eq!(kwh_to_joules(1.0), 3_600_000.0);
        assert_eq!(joules_to_kwh(7_200_000.0), 2.0);
        assert_eq!(joules_to_wh(3600.0), 1.0);
        // 300 W for 100 h = 30 kWh.
        assert_eq!(joules_to_kwh(watt_hours_to_joules(300.0, 100.0)), 30.0);
    }

    #[test]
    fn egrid_pounds_to_grams() {
        // 1,000 lbs/MWh = 453.59237 kg/MWh = 453.59237 g/kWh.
        assert!((lbs_per_mwh_to_g_per_kwh(1000.0) - 453.592_37).abs() < 1e-9);
        // eGRID2023 California, 394.769 lbs/MWh, is 179.06 g/kWh (checked by hand:
        // 394.769 x 0.45359237 = 179.0636...).
        assert!((lbs_per_mwh_to_g_per_kwh(394.769) - 179.063_6).abs() < 1e-3);
    }
}
