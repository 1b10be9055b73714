//! The end-of-run summary: one row per model x dataset with Wh per 1,000 inferences (mean,
//! SD, 95% interval over repetitions, method of each component), g CO2e, the task's metrics
//! and latency percentiles; as a terminal table, JSON or CSV. Joules become Wh only here.

use crate::sink::{LocationRecord, Phase, RepetitionRecord};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;

const J_PER_WH: f64 = 3600.0;

/// One model on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub model: String,
    pub dataset: String,
    pub repetitions: usize,
    /// Measured inferences per repetition.
    pub inferences: u64,
    /// Energy of the inference window per 1,000 inferences, over repetitions.
    pub wh_per_1000_mean: f64,
    pub wh_per_1000_sd: Option<f64>,
    /// Half-width of the 95% interval of the mean (t distribution, n - 1 df).
    pub wh_per_1000_ci95: Option<f64>,
    /// The same above the idle baseline, when every component had one.
    pub wh_per_1000_above_idle_mean: Option<f64>,
    /// Method of each component, "cpu=estimated:cpu-load ram=estimated:ram".
    pub methods: String,
    /// Mean share of each component in the inference energy.
    pub components_wh_per_1000: BTreeMap<String, f64>,
    /// g CO2e per 1,000 inferences: mean Wh x PUE x intensity.
    pub g_co2e_per_1000: f64,
    /// Metric name -> mean over repetitions.
    pub metrics: BTreeMap<String, f64>,
    /// Latency percentiles: the mean over repetitions of each repetition's own p50 / p95
    /// (the report uses the same definition).
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// Why the energy is not whole, when it is not: a needed device went uncounted (another
    /// meter held it) or nothing was measured. Such a row is not comparable with the others.
    pub incomplete: Option<String>,
    /// Mean duration of each phase's window, seconds.
    pub phase_seconds: BTreeMap<String, f64>,
    /// Mean energy of each phase's window per repetition, Wh (load and fit are what
    /// inference energy is weighed against for parity).
    pub phase_wh: BTreeMap<String, f64>,
}

/// The summary of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub run: i64,
    pub suite: String,
    pub location: LocationRecord,
    pub rows: Vec<Row>,
}

/// Summarise the repetitions of a run, rows in first-seen (model, dataset) order.
pub fn summarize_run(
    run: i64,
    suite: &str,
    location: &LocationRecord,
    reps: &[RepetitionRecord],
) -> Summary {
    let mut order: Vec<(String, String)> = Vec::new();
    for r in reps {
        let key = (r.model.clone(), r.dataset.clone());
        if !order.contains(&key) {
            order.push(key);
        }
    }
    let rows = order
        .into_iter()
        .map(|(m, d)| {
            let group: Vec<&RepetitionRecord> = reps
                .iter()
                .filter(|r| r.model == m && r.dataset == d)
                .collect();
            row(m, d, &group, location)
        })
        .collect();
    Summary {
        run,
        suite: suite.to_string(),
        location: location.clone(),
        rows,
    }
}

fn row(model: String, dataset: String, reps: &[&RepetitionRecord], loc: &LocationRecord) -> Row {
    let per_1000 = |j: f64, items: u64| j / J_PER_WH * 1000.0 / items.max(1) as f64;
    let mut totals = Vec::new();
    let mut above = Vec::new();
    let mut comps: BTreeMap<String, (f64, String)> = BTreeMap::new();
    let mut inferences = 0;
    for r in reps {
        let Some(w) = r.windows.iter().find(|w| w.phase == Phase::Inference) else {
            continue;
        };
        inferences = w.items;
        if w.nothing_measured {
            // No figure at all, not a figure of 0.
            continue;
        }
        totals.push(per_1000(w.total_joules(), w.items));
        let a: Option<f64> = w.components.iter().map(|c| c.above_idle_joules).sum();
        above.push(a.map(|j| per_1000(j, w.items)));
        for c in &w.components {
            let e = comps
                .entry(c.component.clone())
                .or_insert((0.0, c.method.clone()));
            e.0 += per_1000(c.joules, w.items) / reps.len() as f64;
            if !e.1.split('|').any(|m| m == c.method) {
                // A component whose method changed between repetitions says so.
                e.1 = format!("{}|{}", e.1, c.method);
            }
        }
    }
    let s = powerhungry_stats::Summary::of(&totals);
    let mean = s.as_ref().map(|s| s.mean).unwrap_or(f64::NAN);
    let above_mean: Option<Vec<f64>> = above.into_iter().collect();
    let mut metrics: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in reps {
        for m in &r.metrics {
            metrics.entry(m.name.clone()).or_default().push(m.value);
        }
    }
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut phase_wh: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in reps {
        for w in &r.windows {
            let p = w.phase.as_str().to_string();
            phases.entry(p.clone()).or_default().push(w.duration_s);
            phase_wh
                .entry(p)
                .or_default()
                .push(w.total_joules() / J_PER_WH);
        }
    }
    let mean_of = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let mean_ms = |f: &dyn Fn(&RepetitionRecord) -> Option<f64>| {
        let v: Option<Vec<f64>> = reps.iter().map(|r| f(r).map(|s| s * 1000.0)).collect();
        v.filter(|v| !v.is_empty()).map(|v| mean_of(&v))
    };
    let bad: Vec<(u32, String)> = reps
        .iter()
        .filter_map(|r| r.incomplete().map(|why| (r.index, why)))
        .collect();
    let incomplete = (!bad.is_empty()).then(|| {
        let mut reasons: Vec<&str> = bad.iter().map(|(_, w)| w.as_str()).collect();
        reasons.sort();
        reasons.dedup();
        format!(
            "{} in {} of {} repetition(s)",
            reasons.join("; "),
            bad.len(),
            reps.len()
        )
    });

    Row {
        model,
        dataset,
        repetitions: reps.len(),
        inferences,
        wh_per_1000_mean: mean,
        wh_per_1000_sd: s.as_ref().and_then(|s| s.sd),
        wh_per_1000_ci95: s.as_ref().and_then(|s| s.ci95_half),
        wh_per_1000_above_idle_mean: above_mean.filter(|v| !v.is_empty()).map(|v| mean_of(&v)),
        methods: comps
            .iter()
            .map(|(c, (_, m))| format!("{c}={m}"))
            .collect::<Vec<_>>()
            .join(" "),
        components_wh_per_1000: comps.iter().map(|(c, (wh, _))| (c.clone(), *wh)).collect(),
        g_co2e_per_1000: mean / 1000.0 * loc.pue * loc.intensity_g_per_kwh,
        metrics: metrics
            .iter()
            .map(|(k, v)| (k.clone(), mean_of(v)))
            .collect(),
        latency_p50_ms: mean_ms(&|r| r.latency_p50_s),
        latency_p95_ms: mean_ms(&|r| r.latency_p95_s),
        incomplete,
        phase_seconds: phases
            .iter()
            .map(|(k, v)| (k.clone(), mean_of(v)))
            .collect(),
        phase_wh: phase_wh
            .iter()
            .map(|(k, v)| (k.clone(), mean_of(v)))
            .collect(),
    }
}

impl Summary {
    /// The terminal table.
    pub fn table(&self) -> String {
        let head = [
            "model",
            "dataset",
            "n",
            "Wh/1k inf (mean ± SD)",
            "95% CI",
            "g CO2e/1k",
            "accuracy",
            "macro-F1",
            "p50 ms",
            "p95 ms",
        ];
        let f = |x: Option<f64>, p: usize| x.map(|v| format!("{v:.p$}")).unwrap_or("-".into());
        let mut lines: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
        for r in &self.rows {
            lines.push(vec![
                r.model.clone(),
                r.dataset.clone(),
                r.repetitions.to_string(),
                if !r.wh_per_1000_mean.is_finite() && r.incomplete.is_some() {
                    "nothing measured".to_string()
                } else {
                    format!(
                        "{} ± {}{}",
                        sig(r.wh_per_1000_mean),
                        r.wh_per_1000_sd.map(sig).unwrap_or("-".into()),
                        if r.incomplete.is_some() {
                            " INCOMPLETE"
                        } else {
                            ""
                        }
                    )
                },
                r.wh_per_1000_ci95
                    .map(|c| format!("± {}", sig(c)))
                    .unwrap_or("-".into()),
                if r.g_co2e_per_1000.is_finite() {
                    sig(r.g_co2e_per_1000)
                } else {
                    "-".into()
                },
                f(r.metrics.get("accuracy").copied(), 4),
                f(
                    r.metrics
                        .get("macro_f1")
                        .or(r.metrics.get("macro-f1"))
                        .copied(),
                    4,
                ),
                f(r.latency_p50_ms, 3),
                f(r.latency_p95_ms, 3),
            ]);
        }
        let widths: Vec<usize> = (0..head.len())
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            let cells: Vec<String> = l
                .iter()
                .zip(&widths)
                .map(|(s, w)| format!("{s:<w$}"))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
                out.push('\n');
            }
        }
        for r in &self.rows {
            let phase = |p: &str| match (r.phase_wh.get(p), r.phase_seconds.get(p)) {
                (Some(&wh), Some(&s)) => format!(", {p} {} Wh in {} s", sig(wh), sig(s)),
                _ => String::new(),
            };
            out.push_str(&format!(
                "{} on {}: energy by {}; per repetition{}{}{}\n",
                r.model,
                r.dataset,
                r.methods,
                phase("load"),
                phase("fit"),
                phase("inference")
            ));
        }
        for r in &self.rows {
            if let Some(why) = &r.incomplete {
                out.push_str(&format!(
                    "INCOMPLETE: {} on {}: {why}; its energy is not the whole and is not \
                     comparable (never rated, never on a Pareto front, never in a task mean)\n",
                    r.model, r.dataset
                ));
            }
        }
        for r in &self.rows {
            if let Some(note) = coarse_note(r) {
                out.push_str(&note);
                out.push('\n');
            }
        }
        let l = &self.location;
        out.push_str(&format!(
            "carbon: {} g CO2e/kWh ({}; {}{}), PUE {}\n",
            l.intensity_g_per_kwh,
            l.location,
            l.source,
            l.year.map(|y| format!(", {y}")).unwrap_or_default(),
            l.pue
        ));
        out
    }

    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// One CSV line per row; metric and component columns are the union over rows.
    pub fn to_csv(&self) -> Result<String> {
        let metric_names: Vec<String> = union(self.rows.iter().map(|r| r.metrics.keys()));
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head: Vec<String> = [
            "run",
            "suite",
            "model",
            "dataset",
            "repetitions",
            "inferences",
            "wh_per_1000_mean",
            "wh_per_1000_sd",
            "wh_per_1000_ci95",
            "wh_per_1000_above_idle_mean",
            "methods",
            "g_co2e_per_1000",
            "intensity_g_per_kwh",
            "latency_p50_ms",
            "latency_p95_ms",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        head.extend(metric_names.iter().cloned());
        w.write_record(&head)?;
        let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        for r in &self.rows {
            let mut rec = vec![
                self.run.to_string(),
                self.suite.clone(),
                r.model.clone(),
                r.dataset.clone(),
                r.repetitions.to_string(),
                r.inferences.to_string(),
                r.wh_per_1000_mean.to_string(),
                o(r.wh_per_1000_sd),
                o(r.wh_per_1000_ci95),
                o(r.wh_per_1000_above_idle_mean),
                r.methods.clone(),
                r.g_co2e_per_1000.to_string(),
                self.location.intensity_g_per_kwh.to_string(),
                o(r.latency_p50_ms),
                o(r.latency_p95_ms),
            ];
            rec.extend(metric_names.iter().map(|m| o(r.metrics.get(m).copied())));
            w.write_record(&rec)?;
        }
        Ok(String::from_utf8(
            w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?,
        )?)
    }
}

/// Inference windows this short are coarse under the CPU-load estimate, which counts CPU time
/// in /proc/stat ticks (10 ms on Linux's usual USER_HZ = 100).
const COARSE_WINDOW_S: f64 = 0.5;

fn coarse_note(r: &Row) -> Option<String> {
    let s = *r.phase_seconds.get("inference")?;
    (s < COARSE_WINDOW_S && r.methods.contains("estimated:cpu-load")).then(|| {
        let ticks = (s / 0.01).floor();
        let span = if ticks < 1.0 {
            "less than one /proc/stat tick (10 ms)".to_string()
        } else {
            format!("about {ticks} /proc/stat ticks of 10 ms")
        };
        format!(
            "note: {} on {}: the inference window lasts {} s, {span}, so its CPU-load estimate \
             is coarse; more inferences per repetition give a finer figure",
            r.model,
            r.dataset,
            sig(s)
        )
    })
}

fn union<'a>(keys: impl Iterator<Item = impl Iterator<Item = &'a String>>) -> Vec<String> {
    let mut all: Vec<String> = keys.flatten().cloned().collect();
    all.sort();
    all.dedup();
    all
}

/// Four significant figures, whatever the magnitude (energies span 1e-6 to 1e3 Wh).
fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::{ComponentEnergy, InferenceRecord, MetricValue, WindowRecord};

    fn rep(index: u32, joules: f64, method: &str, latency_s: f64) -> RepetitionRecord {
        RepetitionRecord {
            model: "m".into(),
            dataset: "d".into(),
            index,
            started_at: 0.0,
            ended_at: 1.0,
            latency_p50_s: Some(latency_s),
            latency_p95_s: Some(latency_s),
            windows: vec![WindowRecord {
                phase: Phase::Inference,
                uncounted: vec![],
                nothing_measured: false,
                duration_s: 1.0,
                items: 2,
                components: vec![ComponentEnergy {
                    component: "cpu".into(),
                    method: method.into(),
                    joules,
                    above_idle_joules: None,
                }],
            }],
            inferences: (0..2)
                .map(|p| InferenceRecord {
                    position: p,
                    example_id: p.to_string(),
                    latency_s,
                    input_tokens: 1,
                    output_tokens: 0,
                    prediction: "a".into(),
                    gold: Some("a".into()),
                    request: None,
                })
                .collect(),
            metrics: vec![MetricValue {
                name: "accuracy".into(),
                value: 1.0,
            }],
        }
    }

    #[test]
    fn rows_compute_per_1000_statistics_and_flag_mixed_methods() {
        // 7.2 J and 10.8 J per 2 inferences: 1.0 and 1.5 Wh per 1,000.
        let reps = [
            rep(0, 7.2, "measured:rapl", 0.001),
            rep(1, 10.8, "estimated:cpu-load", 0.003),
        ];
        let loc = LocationRecord {
            intensity_g_per_kwh: 200.0,
            pue: 1.0,
            ..Default::default()
        };
        let s = summarize_run(1, "s", &loc, &reps);
        let r = &s.rows[0];
        assert!((r.wh_per_1000_mean - 1.25).abs() < 1e-12);
        let sd = (0.125f64).sqrt(); // deviations ±0.25, n - 1 = 1
        assert!((r.wh_per_1000_sd.unwrap() - sd).abs() < 1e-12);
        // t(0.975, 1) = 12.7062047361747 (exact; the old table said 12.706).
        assert!(
            (r.wh_per_1000_ci95.unwrap() - 12.706_204_736_174_7 * sd / 2f64.sqrt()).abs() < 1e-9
        );
        assert!((r.g_co2e_per_1000 - 1.25 / 1000.0 * 200.0).abs() < 1e-12);
        assert_eq!(r.methods, "cpu=measured:rapl|estimated:cpu-load");
        assert_eq!(r.wh_per_1000_above_idle_mean, None);
        // Inference window per repetition: (7.2 + 10.8) / 2 J = 0.0025 Wh.
        assert!((r.phase_wh["inference"] - 0.0025).abs() < 1e-15);
        // Repetitions of 1 ms and 3 ms latencies: the mean of each repetition's own p50 and p95
        // (1 and 3 ms) is 2 ms for both.
        assert!((r.latency_p50_ms.unwrap() - 2.0).abs() < 1e-9);
        assert!((r.latency_p95_ms.unwrap() - 2.0).abs() < 1e-9);
        let csv = s.to_csv().unwrap();
        assert!(csv.starts_with("run,suite,model,dataset,repetitions"));
        assert!(csv.lines().next().unwrap().ends_with(",accuracy"));
        // 1 s inference windows are not flagged as coarse; 0.01 s ones are, under the estimate.
        assert!(!s.table().contains("coarse"));
        let mut short = reps.clone();
        for r in &mut short {
            r.windows[0].duration_s = 0.01;
        }
        let t = summarize_run(1, "s", &loc, &short).table();
        assert!(
            t.contains("note: m on d: the inference window lasts 0.01000 s"),
            "{t}"
        );
    }

    #[test]
    fn four_significant_figures() {
        assert_eq!(sig(0.00022114), "0.0002211");
        assert_eq!(sig(12.3456), "12.35");
        assert_eq!(sig(1234.56), "1235");
        assert_eq!(sig(0.0), "0");
    }
}
