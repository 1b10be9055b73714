//! The workspace's one statistics module (bench's closing summary and the report both use it).
//!
//! Summary statistics over repetitions: mean, sample standard deviation, a 95 % confidence
//! interval from Student's t distribution, percentiles, and outliers flagged by Tukey's fences.
//! Kept by hand rather than on `statrs`: the t quantile is an exact inversion of the regularised
//! incomplete beta function (tested against published tables to 1e-3 and beyond), so n = 2 gets
//! t = 12.71 and not the normal 1.96, and a table lookup and an asymptotic expansion can no
//! longer disagree with each other (the bench and the report once used one each).
//! Outliers are only flagged: every repetition stays in the mean.

use serde::Serialize;

/// Mean, spread and interval of one quantity over `n` repetitions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` when n < 2.
    pub sd: Option<f64>,
    /// Half-width of the two-sided 95 % interval `mean +- t(0.975, n-1) * sd / sqrt(n)`;
    /// `None` when n < 2 (one repetition says nothing about its own spread).
    pub ci95_half: Option<f64>,
    /// Indices (into the input slice) of values beyond Tukey's fences; see [`tukey_outliers`].
    pub outliers: Vec<usize>,
}

impl Summary {
    /// Summarise `values`; `None` for an empty slice or when any value is not finite.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let (sd, ci95_half) = if n >= 2 && values.iter().all(|v| *v == values[0]) {
            // Identical values: exactly no spread (the mean's rounding would leave ~1e-17).
            (Some(0.0), Some(0.0))
        } else if n >= 2 {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let sd = var.sqrt();
            let t = t_quantile(0.975, (n - 1) as f64);
            (Some(sd), Some(t * sd / (n as f64).sqrt()))
        } else {
            (None, None)
        };
        Some(Summary {
            n,
            mean,
            sd,
            ci95_half,
            outliers: tukey_outliers(values),
        })
    }

    /// The same summary with every figure multiplied by `k` (unit conversion).
    pub fn scaled(&self, k: f64) -> Summary {
        Summary {
            n: self.n,
            mean: self.mean * k,
            sd: self.sd.map(|s| s * k.abs()),
            ci95_half: self.ci95_half.map(|h| h * k.abs()),
            outliers: self.outliers.clone(),
        }
    }
}

/// Quantile of `sorted` (ascending) by linear interpolation between order statistics
/// (Hyndman and Fan type 7, the default of R and NumPy).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Percentile `p` (0..=100) of unsorted `xs`, by [`quantile_sorted`] (type 7, NumPy's
/// default). None when empty or `p` is outside 0..=100.
pub fn percentile(xs: &[f64], p: f64) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(&v, p / 100.0)
}

/// Indices of values below Q1 - 1.5 IQR or above Q3 + 1.5 IQR (Tukey's fences, quartiles by
/// [`quantile_sorted`]). Fewer than 4 values: nothing is flagged, the quartiles of 3 points
/// mean little. Robust where a z-score is not: one wild value inflates the SD that would judge it.
pub fn tukey_outliers(values: &[f64]) -> Vec<usize> {
    if values.len() < 4 {
        return Vec::new();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(q1), Some(q3)) = (
        quantile_sorted(&sorted, 0.25),
        quantile_sorted(&sorted, 0.75),
    ) else {
        return Vec::new();
    };
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v < lo || **v > hi)
        .map(|(i, _)| i)
        .collect()
}

/// Natural log of the gamma function (Lanczos approximation, g = 7, 9 coefficients;
/// relative error below 1e-13 for x > 0).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz's method).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularized incomplete beta function I_x(a, b).
fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Cumulative distribution function of Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * reg_inc_beta(df / 2.0, 0.5, x);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// Quantile of Student's t: the `t` with `t_cdf(t, df) == p`, found by bisection on the CDF
/// (monotone, so bisection cannot miss), to 1e-12. Panics never; returns NaN for p outside (0, 1)
/// or df <= 0.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let valid = p > 0.0 && p < 1.0 && df > 0.0; // false for NaN too
    if !valid {
        return f64::NAN;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_tables() {
        // Two-sided 95 % critical values from standard t tables (3 decimals).
        let table = [
            (1.0, 12.706),
            (2.0, 4.303),
            (3.0, 3.182),
            (4.0, 2.776),
            (5.0, 2.571),
            (9.0, 2.262),
            (10.0, 2.228),
            (20.0, 2.086),
            (29.0, 2.045),
            (30.0, 2.042),
            (60.0, 2.000),
            (120.0, 1.980),
        ];
        for (df, want) in table {
            let got = t_quantile(0.975, df);
            assert!(
                (got - want).abs() < 5e-4,
                "t(0.975, {df}) = {got}, table says {want}"
            );
        }
        // Other levels: t(0.95, 4) = 2.132, t(0.995, 4) = 4.604; large df tends to the normal.
        assert!((t_quantile(0.95, 4.0) - 2.132).abs() < 5e-4);
        assert!((t_quantile(0.995, 4.0) - 4.604).abs() < 5e-4);
        assert!((t_quantile(0.975, 1e7) - 1.959_964).abs() < 1e-5);
        // df = 1 is the Cauchy distribution: quantile tan(pi (p - 1/2)) exactly.
        let cauchy = (std::f64::consts::PI * (0.975 - 0.5)).tan();
        assert!((t_quantile(0.975, 1.0) - cauchy).abs() < 1e-8);
        assert!((t_quantile(0.025, 4.0) + 2.776).abs() < 5e-4);
        assert!(t_quantile(1.0, 4.0).is_nan() && t_quantile(0.5, 0.0).is_nan());
    }

    #[test]
    fn summary_by_hand() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample var 32/7.
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let s = Summary::of(&v).unwrap();
        assert_eq!(s.n, 8);
        assert!((s.mean - 5.0).abs() < 1e-12);
        let sd = (32.0_f64 / 7.0).sqrt();
        assert!((s.sd.unwrap() - sd).abs() < 1e-12);
        // t(0.975, 7) = 2.364624
        assert!((s.ci95_half.unwrap() - 2.364_624 * sd / 8f64.sqrt()).abs() < 1e-5);
        // Type-7 quartiles: Q1 = 4, Q3 = 5 + 0.25 * (7 - 5) = 5.5, IQR 1.5, fences 1.75 and
        // 7.75: the 9 (index 7) is flagged, the 2 is not.
        assert_eq!(s.outliers, vec![7]);
    }

    #[test]
    fn one_value_has_no_spread_and_bad_values_are_refused() {
        let s = Summary::of(&[3.5]).unwrap();
        assert_eq!((s.n, s.mean, s.sd, s.ci95_half), (1, 3.5, None, None));
        assert!(Summary::of(&[]).is_none());
        let same = Summary::of(&[0.2, 0.2, 0.2]).unwrap();
        assert_eq!((same.sd, same.ci95_half), (Some(0.0), Some(0.0)));
        assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn tukey_fences_flag_but_keep() {
        // Sorted 1,2,3,4,100: Q1 = 2, Q3 = 4, IQR 2, fences -1 and 7: only 100 is out.
        let v = [3.0, 1.0, 100.0, 2.0, 4.0];
        assert_eq!(tukey_outliers(&v), vec![2]);
        let s = Summary::of(&v).unwrap();
        assert_eq!(s.outliers, vec![2]);
        assert!(
            (s.mean - 22.0).abs() < 1e-12,
            "the outlier stays in the mean"
        );
        assert!(
            tukey_outliers(&[1.0, 2.0, 1000.0]).is_empty(),
            "n < 4 flags nothing"
        );
        assert!(
            tukey_outliers(&[5.0; 6]).is_empty(),
            "equal values are not outliers"
        );
    }

    #[test]
    fn type7_quantiles() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.25), Some(1.75));
        assert_eq!(quantile_sorted(&s, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&s, 1.0), Some(4.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
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
