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

/// `x` with 6 significant digits for people and YAML: plain decimals from 1e-4 to below 1e15
/// (`15000`, `0.0123457`), else scientific with a dot and a signed exponent (`1.08e-12`,
/// `3.0e+20`, a YAML 1.1 and 1.2 float). Never NaN or inf for a finite `x`.
pub fn fmt_sig(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-4..1e15).contains(&a) {
        // Shortest form of the rounded value: 1234.57, 15000, 0.5.
        return format!("{}", round_sig(x));
    }
    let s = format!("{x:.5e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mut mantissa = mantissa.trim_end_matches('0').to_string();
    if mantissa.ends_with('.') {
        mantissa.push('0');
    }
    let exp = if exp.starts_with('-') {
        exp.to_string()
    } else {
        format!("+{exp}")
    };
    format!("{mantissa}e{exp}")
}

/// Round to 6 significant digits (estimates carry no more precision than that). Finite for
/// every finite `x`, subnormals and `f64::MAX` included.
pub fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    // Through the decimal text: scaling by 10^k overflows at the ends of the range.
    format!("{x:.5e}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_digits_at_the_edges() {
        assert_eq!(round_sig(1234.56789), 1234.57);
        assert_eq!(round_sig(1e-320), 1e-320);
        assert_eq!(round_sig(f64::MAX), 1.79769e308);
        assert!(round_sig(5e-324).is_finite());
        assert_eq!(fmt_sig(15000.0), "15000");
        assert_eq!(fmt_sig(0.5), "0.5");
        assert_eq!(fmt_sig(1.08e-12), "1.08e-12");
        assert_eq!(fmt_sig(3e20), "3.0e+20");
        assert_eq!(fmt_sig(-2.5e-7), "-2.5e-7");
        assert_eq!(fmt_sig(0.0), "0");
    }

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
