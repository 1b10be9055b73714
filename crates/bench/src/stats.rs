//! Summary statistics over repetitions and inferences: mean, sample standard deviation, 95%
//! confidence interval with Student's t (repetitions are few), and percentiles.

/// Mean, sample standard deviation (n - 1) and 95% interval half-width of `xs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation; None for fewer than two values.
    pub sd: Option<f64>,
    /// Half-width of the 95% confidence interval of the mean (t with n - 1 degrees of
    /// freedom); None for fewer than two values.
    pub ci95: Option<f64>,
}

/// Summarise `xs`; None when empty.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Summary {
            n,
            mean,
            sd: None,
            ci95: None,
        });
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let ci = t_975(n - 1) * sd / (n as f64).sqrt();
    Some(Summary {
        n,
        mean,
        sd: Some(sd),
        ci95: Some(ci),
    })
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95%).
/// Exact table values for df <= 30 (to 3 decimals, as printed in every statistics textbook);
/// beyond, the Cornish-Fisher expansion around the normal quantile, accurate to < 1e-3.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let v = df as f64;
            let z3 = z.powi(3);
            let z5 = z.powi(5);
            let z7 = z.powi(7);
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

/// Percentile `p` (0..=100) with linear interpolation between closest ranks (the method
/// NumPy uses by default). None when empty.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = (p / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (rank - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_sd_and_interval_match_hand_computation() {
        // xs = 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample var 32/7.
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.n, 8);
        assert!((s.mean - 5.0).abs() < 1e-12);
        let sd = (32.0f64 / 7.0).sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-12);
        // t(0.975, 7) = 2.365.
        assert!((s.ci95.unwrap() - 2.365 * sd / 8f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn one_value_has_no_spread_and_none_has_no_summary() {
        let s = summarize(&[3.5]).unwrap();
        assert_eq!((s.mean, s.sd, s.ci95), (3.5, None, None));
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert_eq!(t_975(2), 4.303);
        assert_eq!(t_975(9), 2.262);
        // Published values: df 40 -> 2.021, 60 -> 2.000, 120 -> 1.980.
        assert!((t_975(40) - 2.021).abs() < 1e-3, "{}", t_975(40));
        assert!((t_975(60) - 2.000).abs() < 1e-3, "{}", t_975(60));
        assert!((t_975(120) - 1.980).abs() < 1e-3, "{}", t_975(120));
        // Continuity at the end of the table: df 31 lies between 2.042 and 2.040 (df 32: 2.037).
        assert!((t_975(31) - 2.040).abs() < 1e-3, "{}", t_975(31));
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let xs = [15.0, 20.0, 35.0, 40.0, 50.0];
        // numpy.percentile([15,20,35,40,50], [0, 50, 95, 100]) = 15, 35, 48, 50; p40 = 29.
        assert_eq!(percentile(&xs, 0.0), Some(15.0));
        assert_eq!(percentile(&xs, 50.0), Some(35.0));
        assert!((percentile(&xs, 95.0).unwrap() - 48.0).abs() < 1e-12);
        assert!((percentile(&xs, 40.0).unwrap() - 29.0).abs() < 1e-12);
        assert_eq!(percentile(&xs, 100.0), Some(50.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
