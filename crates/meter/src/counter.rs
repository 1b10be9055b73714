//! Turning two reads of a wrapping energy counter into energy, or into a reported anomaly.

/// What happened between two reads of a counter (values in the counter's unit, e.g. µJ).
#[derive(Debug, Clone, PartialEq)]
pub enum CounterStep {
    /// The counter went up by this much.
    Normal(u64),
    /// The counter passed its maximum and restarted: `(max - prev) + cur`.
    Wrapped(u64),
    /// Not a believable step: a reset, a corrupt read, or a decrease with no known range.
    /// Carries the reason for the warning.
    Anomaly(String),
}

/// Classify the step from `prev` to `cur`.
///
/// `max_range` is the counter's wrap point (`max_energy_range_uj`), `None` when unknown.
/// `max_step` is the largest believable increase over the interval (max power x elapsed, in
/// the counter's unit); a larger increase, or a wrap implying one, is an anomaly.
pub fn step(prev: u64, cur: u64, max_range: Option<u64>, max_step: f64) -> CounterStep {
    if cur >= prev {
        let d = cur - prev;
        if d as f64 > max_step {
            return CounterStep::Anomaly(format!(
                "counter jumped from {prev} to {cur}, more than the plausible maximum {max_step:.0}"
            ));
        }
        return CounterStep::Normal(d);
    }
    match max_range {
        None => CounterStep::Anomaly(format!(
            "counter went down from {prev} to {cur} and its wrap point (max_energy_range_uj) is unknown"
        )),
        Some(max) if prev > max || cur > max => CounterStep::Anomaly(format!(
            "counter value {} is above its range {max}",
            prev.max(cur)
        )),
        Some(max) => {
            let d = (max - prev) + cur;
            if d as f64 > max_step {
                CounterStep::Anomaly(format!(
                    "counter went down from {prev} to {cur}; as a wrap at {max} that would be \
                     {d}, more than the plausible maximum {max_step:.0}: treated as a reset"
                ))
            } else {
                CounterStep::Wrapped(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_and_wrap() {
        assert_eq!(step(100, 250, Some(1000), 1e9), CounterStep::Normal(150));
        // Wrap at 1000: 1000 - 900 = 100 up to the top, then 50 more.
        assert_eq!(step(900, 50, Some(1000), 1e9), CounterStep::Wrapped(150));
        assert_eq!(step(7, 7, None, 1e9), CounterStep::Normal(0));
    }

    #[test]
    fn anomalies() {
        // A decrease with no known range cannot be interpreted.
        assert!(matches!(step(900, 50, None, 1e9), CounterStep::Anomaly(_)));
        // A wrap implying more than the plausible maximum is a reset.
        assert!(matches!(
            step(900, 50, Some(1_000_000), 1000.0),
            CounterStep::Anomaly(_)
        ));
        // An increase beyond the plausible maximum.
        assert!(matches!(
            step(0, 5000, Some(1_000_000), 1000.0),
            CounterStep::Anomaly(_)
        ));
        // Values outside the declared range.
        assert!(matches!(
            step(2000, 5, Some(1000), 1e9),
            CounterStep::Anomaly(_)
        ));
    }
}
