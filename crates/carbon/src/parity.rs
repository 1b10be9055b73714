//! Parity, as in "Power Hungry Processing" (Luccioni, Jernite, Strubell 2024): the number of
//! inferences after which inference energy equals training plus fine-tuning energy,
//! (training + fine-tuning) / energy per inference.

use crate::error::CarbonError;
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

fn check(name: &str, v: f64, positive: bool) -> Result<(), CarbonError> {
    let ok = v.is_finite() && if positive { v > 0.0 } else { v >= 0.0 };
    if ok {
        Ok(())
    } else {
        let need = if positive { "> 0" } else { ">= 0" };
        Err(CarbonError::InvalidInput(format!(
            "{name} must be a finite number {need}, got {v}"
        )))
    }
}

/// Inferences to parity. `inference_kwh` is per ONE inference (divide a per-1,000 figure by 1,000).
pub fn parity_inferences(
    training_kwh: f64,
    finetune_kwh: f64,
    inference_kwh: f64,
) -> Result<f64, CarbonError> {
    check("--training-kwh", training_kwh, false)?;
    check("--finetune-kwh", finetune_kwh, false)?;
    check("--inference-kwh", inference_kwh, true)?;
    if training_kwh + finetune_kwh <= 0.0 {
        return Err(CarbonError::InvalidInput(
            "training + fine-tuning energy must be > 0 kWh".into(),
        ));
    }
    Ok((training_kwh + finetune_kwh) / inference_kwh)
}

/// Days to reach `inferences` at `per_day` queries a day.
pub fn days_at(inferences: f64, per_day: f64) -> Result<f64, CarbonError> {
    check("--per-day", per_day, true)?;
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
        ];
        for (res, want) in cases {
            let err = res.unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
