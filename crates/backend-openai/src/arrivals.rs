//! Poisson arrivals for a request rate (`request_rate`, as vLLM's and the ML.ENERGY benchmarks'
//! `--request-rate`): exponential gaps between requests, drawn from a seeded generator so a run
//! sends the same schedule every time (a benchmark must be repeatable).

use std::time::Duration;

/// When each of `n` requests is due, from the start of the batch: the running sum of
/// exponential gaps of mean 1/`per_second`. The same `seed` gives the same schedule.
pub fn poisson_schedule(per_second: f64, n: usize, seed: u64) -> Vec<Duration> {
    let mut state = seed;
    let mut t = 0.0f64;
    (0..n)
        .map(|_| {
            // U in (0, 1]: -ln(U) is an exponential draw of mean 1.
            let u = 1.0 - (splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            t += -u.ln() / per_second;
            Duration::from_secs_f64(t)
        })
        .collect()
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small generator with good 64-bit output, enough
/// for arrival times; no dependency for twenty lines.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_exponential_with_the_rate_asked() {
        let n = 50_000;
        let s = poisson_schedule(20.0, n, 7);
        let gaps: Vec<f64> = std::iter::once(s[0].as_secs_f64())
            .chain(s.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()))
            .collect();
        let mean = gaps.iter().sum::<f64>() / n as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Exponential: mean 1/rate = 0.05 s, and SD equal to the mean (coefficient of
        // variation 1). Standard error of the mean at n = 50,000: 0.45 %.
        assert!((mean - 0.05).abs() < 0.05 * 0.02, "mean gap {mean}");
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.03,
            "CV {}",
            var.sqrt() / mean
        );
        // P(gap > 3/rate) = e^-3.
        let tail = gaps.iter().filter(|g| **g > 0.15).count() as f64 / n as f64;
        assert!((tail - (-3f64).exp()).abs() < 0.005, "tail {tail}");
    }

    #[test]
    fn a_seed_gives_one_schedule() {
        assert_eq!(poisson_schedule(5.0, 100, 1), poisson_schedule(5.0, 100, 1));
        assert_ne!(poisson_schedule(5.0, 100, 1), poisson_schedule(5.0, 100, 2));
        let s = poisson_schedule(5.0, 100, 1);
        assert!(s.windows(2).all(|w| w[0] <= w[1]), "increasing");
    }
}
