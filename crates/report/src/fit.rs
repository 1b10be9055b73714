//! Ordinary least-squares line `y = intercept + slope * x`, with R^2, for energy against
//! duration. When the fit is undefined (fewer than two points, or every x the same: a vertical
//! line) it says so instead of dividing by zero.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineFit {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination `1 - SS_res / SS_tot`; `None` when every y is the same
    /// (SS_tot = 0: the line fits exactly but explains no variation, so R^2 has no meaning).
    pub r2: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FitUndefined {
    /// Fewer than two points.
    TooFewPoints(usize),
    /// All x equal: the points lie on a vertical line, whose slope is infinite.
    VerticalLine,
    /// A coordinate is NaN or infinite.
    NotFinite,
}

impl std::fmt::Display for FitUndefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitUndefined::TooFewPoints(n) => {
                write!(f, "no fit: {n} point(s), a line needs at least 2")
            }
            FitUndefined::VerticalLine => {
                write!(
                    f,
                    "no fit: every x is the same (a vertical line has no finite slope)"
                )
            }
            FitUndefined::NotFinite => write!(f, "no fit: a value is not a finite number"),
        }
    }
}

/// Least-squares fit of `points` (x, y). Centred sums, so large offsets (durations in the
/// thousands of seconds) lose no precision.
pub fn least_squares(points: &[(f64, f64)]) -> Result<LineFit, FitUndefined> {
    let n = points.len();
    if points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(FitUndefined::NotFinite);
    }
    if n < 2 {
        return Err(FitUndefined::TooFewPoints(n));
    }
    let nf = n as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    // Exactly equal x give sxx == 0; x differing only by rounding noise (relative 1e-12) are
    // treated as equal too, or the slope would be noise divided by noise.
    let scale = points
        .iter()
        .map(|p| p.0.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    if sxx <= (1e-12 * scale).powi(2) * nf {
        return Err(FitUndefined::VerticalLine);
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let r2 = if syy > 0.0 {
        Some((1.0 - ss_res / syy).clamp(0.0, 1.0))
    } else {
        None
    };
    Ok(LineFit {
        n,
        slope,
        intercept,
        r2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_fit() {
        // x 1,2,3,4; y 2,4,5,4. mx 2.5, my 3.75, sxx 5,
        // sxy = (-1.5)(-1.75) + (-0.5)(0.25) + (0.5)(1.25) + (1.5)(0.25) = 3.5 -> slope 0.7,
        // intercept 3.75 - 0.7 * 2.5 = 2. Residuals -0.7, 0.6, 0.9, -0.8: SS_res 2.3.
        // syy = 3.0625 + 0.0625 + 1.5625 + 0.0625 = 4.75 -> R^2 = 1 - 2.3/4.75.
        let f = least_squares(&[(1.0, 2.0), (2.0, 4.0), (3.0, 5.0), (4.0, 4.0)]).unwrap();
        assert!((f.slope - 0.7).abs() < 1e-12);
        assert!((f.intercept - 2.0).abs() < 1e-12);
        assert!((f.r2.unwrap() - (1.0 - 2.3 / 4.75)).abs() < 1e-12);
        assert_eq!(f.n, 4);
    }

    #[test]
    fn exact_line_with_large_offset() {
        // y = 3 + 2x at x around 1e6: R^2 = 1, no cancellation error.
        let pts: Vec<_> = (0..5)
            .map(|i| 1e6 + i as f64)
            .map(|x| (x, 3.0 + 2.0 * x))
            .collect();
        let f = least_squares(&pts).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-9);
        assert!((f.intercept - 3.0).abs() < 1e-3);
        assert!((f.r2.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ties_in_x_are_fine_when_not_all_equal() {
        // x 1,1,3,3; y 1,3,5,7: means 2 and 4; sxx 4; sxy = (-1)(-3)+(-1)(-1)+(1)(1)+(1)(3) = 8
        // slope 2, intercept 0; SS_res = (1-2)^2+(3-2)^2+(5-6)^2+(7-6)^2 = 4; syy = 20; R^2 0.8.
        let f = least_squares(&[(1.0, 1.0), (1.0, 3.0), (3.0, 5.0), (3.0, 7.0)]).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-12);
        assert!(f.intercept.abs() < 1e-12);
        assert!((f.r2.unwrap() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn undefined_fits_say_why() {
        assert_eq!(least_squares(&[]), Err(FitUndefined::TooFewPoints(0)));
        assert_eq!(
            least_squares(&[(1.0, 2.0)]),
            Err(FitUndefined::TooFewPoints(1))
        );
        // All durations equal: a vertical line.
        let vertical = [(10.0, 1.0), (10.0, 2.0), (10.0, 3.5)];
        assert_eq!(least_squares(&vertical), Err(FitUndefined::VerticalLine));
        assert_eq!(
            least_squares(&[(1.0, 1.0), (1.0, 1.0)]),
            Err(FitUndefined::VerticalLine)
        );
        assert_eq!(
            least_squares(&[(1.0, f64::NAN), (2.0, 1.0)]),
            Err(FitUndefined::NotFinite)
        );
        assert!(FitUndefined::VerticalLine.to_string().contains("vertical"));
    }

    #[test]
    fn horizontal_line_has_no_r2() {
        let f = least_squares(&[(1.0, 5.0), (2.0, 5.0), (3.0, 5.0)]).unwrap();
        assert_eq!((f.slope, f.intercept, f.r2), (0.0, 5.0, None));
    }

    #[test]
    fn two_points_fit_exactly() {
        let f = least_squares(&[(0.0, 1.0), (2.0, 5.0)]).unwrap();
        assert_eq!((f.slope, f.intercept, f.r2), (2.0, 1.0, Some(1.0)));
    }
}
