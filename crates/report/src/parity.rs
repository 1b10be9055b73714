//! Training-inference parity: after how many inferences inference energy equals the energy of
//! training (plus fine-tuning), from the measured energy per inference (the carbon crate's
//! `parity_inferences`, which `powerhungry parity` uses too).

use crate::analysis::Analysis;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParityRow {
    pub model: String,
    pub dataset: String,
    /// Training plus fine-tuning energy, kWh.
    pub training_kwh: f64,
    pub wh_per_1000: f64,
    /// training energy / energy per inference.
    pub inferences: f64,
}

/// Parse `MODEL=KWH` (the `--training-kwh` flag). KWH may be a sum like `1000+50`
/// (training plus fine-tuning); the result is the sum.
pub fn parse_training(arg: &str) -> Result<(String, f64), String> {
    let (model, kwh) = arg
        .rsplit_once('=')
        .ok_or_else(|| format!("--training-kwh {arg:?}: expected MODEL=KWH, e.g. bert=1500"))?;
    let mut total = 0.0;
    for part in kwh.split('+') {
        let v: f64 = part
            .trim()
            .parse()
            .map_err(|_| format!("--training-kwh {arg:?}: {part:?} is not a number of kWh"))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "--training-kwh {arg:?}: kWh must be a finite number >= 0"
            ));
        }
        total += v;
    }
    if model.trim().is_empty() {
        return Err(format!("--training-kwh {arg:?}: the model name is empty"));
    }
    Ok((model.trim().to_string(), total))
}

/// One row per analysed series of each model given training energy for.
pub fn parity_rows(a: &Analysis, training: &[(String, f64)]) -> Vec<ParityRow> {
    let mut rows = Vec::new();
    for (model, kwh) in training {
        for s in a.series.iter().filter(|s| &s.model == model) {
            let kwh_per_inference = s.wh_per_1000.mean / 1000.0 / 1000.0;
            if let Ok(n) =
                powerhungry_carbon::parity::parity_inferences(*kwh, 0.0, kwh_per_inference)
            {
                rows.push(ParityRow {
                    model: model.clone(),
                    dataset: s.dataset.clone(),
                    training_kwh: *kwh,
                    wh_per_1000: s.wh_per_1000.mean,
                    inferences: n,
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_hand() {
        use crate::analysis::analyse;
        use crate::input::*;
        // 2 Wh per 1,000 inferences = 2e-6 kWh each; 1,000 kWh of training -> 5e8 inferences.
        let rep = Repetition {
            index: 0,
            inferences: 1000,
            duration_s: 1.0,
            components: vec![ComponentEnergy {
                component: "cpu".into(),
                method: "measured:rapl".into(),
                joules: 7200.0,
                idle_joules: None,
            }],
            metrics: Default::default(),
            output_tokens: None,
            emissions_g: None,
            latency_p50_ms: None,
            latency_p95_ms: None,
            incomplete: None,
            nothing_measured: false,
        };
        let s = Series {
            suite: None,
            run_id: None,
            task: "text-classification".into(),
            model: "m".into(),
            dataset: "d".into(),
            parameters: None,
            gpus: 0,
            intensity_g_per_kwh: None,
            intensity_source: None,
            pue: 1.0,
            primary_metric: None,
            generative: false,
            unfinished: false,
            same_sample: false,
            approach: None,
            repetitions: vec![rep],
        };
        let a = analyse(&ReportInput {
            source: String::new(),
            notes: Vec::new(),
            series: vec![s],
        });
        let rows = parity_rows(&a, &[("m".into(), 1000.0), ("absent".into(), 5.0)]);
        assert_eq!(rows.len(), 1);
        assert!((rows[0].inferences - 5e8).abs() < 1e-3);
    }

    #[test]
    fn parse() {
        assert_eq!(parse_training("bert=1500"), Ok(("bert".into(), 1500.0)));
        assert_eq!(
            parse_training("org/m=1000+50.5"),
            Ok(("org/m".into(), 1050.5))
        );
        assert!(parse_training("bert").unwrap_err().contains("MODEL=KWH"));
        assert!(parse_training("bert=x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_training("=5").is_err());
        assert!(parse_training("b=-1").is_err());
    }
}
