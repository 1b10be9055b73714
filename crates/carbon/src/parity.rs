//! Parity, as in "Power Hungry Processing" (Luccioni, Jernite, Strubell 2024): the number of
//! inferences after which inference energy equals training plus fine-tuning energy,
//! (training + fine-tuning) / energy per inference.

use crate::error::CarbonError;
use crate::units::fmt_sig;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parity {
    pub training_kwh: f64,
    pub finetune_kwh: f64,
    /// Energy of ONE inference, kWh.
    pub inference_kwh: f64,
    /// (training + fine-tuning) / inference.
    pub inferences: f64,
    /// Queries per day, if given.
    pub per_day: Option<f64>,
    /// inferences / per_day.
    pub days: Option<f64>,
}

/// Accepted ranges: energies up to 1e15 kWh (a petawatt-hour, ~30 years of the world's
/// electricity), one inference from 1e-15 kWh (3.6 microjoules), up to 1e15 queries a day. Within
/// them every result is a finite number.
pub const MAX_KWH: f64 = 1e15;
pub const MIN_INFERENCE_KWH: f64 = 1e-15;
pub const MAX_PER_DAY: f64 = 1e15;

/// `v` must be finite and in `[min, max]` (`(0, max]` when `min` is 0 and `positive`).
pub fn check_range(name: &str, v: f64, min: f64, max: f64, unit: &str) -> Result<(), CarbonError> {
    if v.is_finite() && v >= min && v <= max {
        Ok(())
    } else {
        Err(CarbonError::InvalidInput(format!(
            "{name} must be a finite number of {unit} from {} to {}, got {}",
            fmt_sig(min),
            fmt_sig(max),
            fmt_sig(v)
        )))
    }
}

/// Inferences to parity. `inference_kwh` is per ONE inference (divide a per-1,000 figure by 1,000).
pub fn parity_inferences(
    training_kwh: f64,
    finetune_kwh: f64,
    inference_kwh: f64,
) -> Result<f64, CarbonError> {
    check_range("--training-kwh", training_kwh, 0.0, MAX_KWH, "kWh")?;
    check_range("--finetune-kwh", finetune_kwh, 0.0, MAX_KWH, "kWh")?;
    check_range(
        "--inference-kwh",
        inference_kwh,
        MIN_INFERENCE_KWH,
        MAX_KWH,
        "kWh",
    )?;
    if training_kwh + finetune_kwh <= 0.0 {
        return Err(CarbonError::InvalidInput(
            "training + fine-tuning energy must be > 0 kWh".into(),
        ));
    }
    Ok((training_kwh + finetune_kwh) / inference_kwh)
}

/// Days to reach `inferences` at `per_day` queries a day: a whole number of queries, >= 1.
pub fn days_at(inferences: f64, per_day: f64) -> Result<f64, CarbonError> {
    if !(per_day.is_finite() && per_day.fract() == 0.0 && (1.0..=MAX_PER_DAY).contains(&per_day)) {
        return Err(CarbonError::InvalidInput(format!(
            "--per-day must be a whole number of inferences a day from 1 to {}, got {}",
            fmt_sig(MAX_PER_DAY),
            fmt_sig(per_day)
        )));
    }
    Ok(inferences / per_day)
}

pub fn parity(
    training_kwh: f64,
    finetune_kwh: f64,
    inference_kwh: f64,
    per_day: Option<f64>,
) -> Result<Parity, CarbonError> {
    let inferences = parity_inferences(training_kwh, finetune_kwh, inference_kwh)?;
    let days = per_day.map(|d| days_at(inferences, d)).transpose()?;
    Ok(Parity {
        training_kwh,
        finetune_kwh,
        inference_kwh,
        inferences,
        per_day,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn accepted_inputs_give_finite_results(
            t in 0.0..=MAX_KWH,
            f in 0.0..=MAX_KWH,
            z in MIN_INFERENCE_KWH..=MAX_KWH,
            d in 1u64..=1_000_000_000_000_000,
        ) {
            if let Ok(p) = parity(t, f, z, Some(d as f64)) {
                prop_assert!(p.inferences.is_finite() && p.inferences >= 0.0);
                prop_assert!(p.days.is_some_and(f64::is_finite));
            } else {
                prop_assert!(t + f == 0.0);
            }
        }
    }

    #[test]
    fn bloomz_7b_as_in_the_paper() {
        // Power Hungry Processing, BLOOMz-7B: training 51,686 kWh, fine-tuning 7,571 kWh,
        // 1.0e-4 kWh per inference -> (51,686 + 7,571) / 1e-4 = 592,570,000 inferences.
        let p = parity(51_686.0, 7_571.0, 1.0e-4, Some(1_000_000.0)).unwrap();
        assert!((p.inferences - 592_570_000.0).abs() < 1e-3);
        // At a million queries a day: 592.57 days.
        assert!((p.days.unwrap() - 592.57).abs() < 1e-9);
    }

    #[test]
    fn finetune_is_optional_and_per_day_too() {
        let p = parity(10.0, 0.0, 0.5, None).unwrap();
        assert_eq!((p.inferences, p.days), (20.0, None));
    }

    #[test]
    fn errors_name_the_flag() {
        let cases = [
            (parity(-1.0, 0.0, 1.0, None), "--training-kwh"),
            (parity(1.0, f64::NAN, 1.0, None), "--finetune-kwh"),
            (parity(1.0, 0.0, 0.0, None), "--inference-kwh"),
            (parity(0.0, 0.0, 1.0, None), "training + fine-tuning"),
            (parity(1.0, 0.0, 1.0, Some(0.0)), "--per-day"),
            (parity(1.0, 0.0, 1.0, Some(1.5)), "whole number"),
            (parity(1.0, 0.0, 1.0, Some(f64::INFINITY)), "--per-day"),
            (parity(1e308, 1e308, 1.0, None), "--training-kwh"),
            (parity(1.0, 0.0, 1e-320, None), "--inference-kwh"),
            (parity(1.0, f64::INFINITY, 1.0, None), "--finetune-kwh"),
        ];
        for (res, want) in cases {
            let err = res.unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
