//! The report's tables as plain rows of text, shared by the terminal printer, the CSV export
//! and the HTML report, so every output shows the same figures.

use crate::analysis::Analysis;
use crate::parity::ParityRow;
use crate::rating::{BANDS_V1, BANDS_VERSION};
use crate::svg::tick_label;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// File-name-safe name ("models" -> models.csv).
    pub name: &'static str,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A number with 4 significant figures, never in exponent form for everyday magnitudes.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..9).contains(&mag) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), sig)
}

fn headers(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

/// Shown instead of an energy figure when no component was counted.
pub const NOTHING: &str = "nothing measured";
/// Shown instead of a metric's SD over repetitions that all inferred on one sample.
pub const SAME_SAMPLE: &str = "n/a (same sample every repetition)";

pub fn task_table(a: &Analysis) -> Table {
    Table {
        name: "tasks",
        title: "Energy per task: Wh per 1,000 inferences over the models run (mean, SD)".into(),
        headers: headers(&[
            "task",
            "series",
            "models",
            "mean_wh_per_1000",
            "sd_wh_per_1000",
            "min",
            "max",
            "includes_estimates",
        ]),
        rows: a
            .tasks
            .iter()
            .map(|t| {
                vec![
                    t.task.clone(),
                    t.series.to_string(),
                    t.models.to_string(),
                    sig(t.wh_per_1000.mean),
                    opt(t.wh_per_1000.sd),
                    sig(t.min_wh_per_1000),
                    sig(t.max_wh_per_1000),
                    if t.estimated { "yes" } else { "no" }.into(),
                ]
            })
            .collect(),
    }
}

pub fn model_table(a: &Analysis) -> Table {
    Table {
        name: "models",
        title: "Per model and dataset: Wh per 1,000 inferences over repetitions".into(),
        headers: headers(&[
            "task",
            "model",
            "dataset",
            "n",
            "inferences",
            "wh_per_1000",
            "sd",
            "ci95_half",
            "above_idle_wh_per_1000",
            "g_co2e_per_1000",
            "metric",
            "metric_mean",
            "metric_sd",
            "duration_s",
            "p50_ms",
            "p95_ms",
            "rating",
            "outlier_reps",
            "run",
            "status",
            "methods",
        ]),
        rows: a
            .series
            .iter()
            .map(|s| {
                let nothing = s.nothing_measured();
                let energy = |x: String| if nothing { NOTHING.to_string() } else { x };
                vec![
                    s.task.clone(),
                    s.model.clone(),
                    s.dataset.clone(),
                    s.repetitions.to_string(),
                    s.inferences.to_string(),
                    energy(sig(s.wh_per_1000.mean)),
                    energy(opt(s.wh_per_1000.sd)),
                    energy(opt(s.wh_per_1000.ci95_half)),
                    energy(opt(s.wh_per_1000_above_idle.as_ref().map(|x| x.mean))),
                    energy(opt(s.g_co2e_per_1000.as_ref().map(|x| x.mean))),
                    s.metric_name.clone().unwrap_or_else(|| "-".into()),
                    opt(s.metric.as_ref().map(|x| x.mean)),
                    match s.metric.as_ref().and_then(|x| x.sd) {
                        // The same sample in every repetition: a spread over repetitions says
                        // nothing about the metric's sampling error.
                        Some(_) if s.same_sample => SAME_SAMPLE.to_string(),
                        sd => opt(sd),
                    },
                    sig(s.duration_s.mean),
                    opt(s.latency_p50_ms),
                    opt(s.latency_p95_ms),
                    match (&s.rating, &s.rating_version) {
                        (Some(r), Some(v)) => format!("{r} ({v})"),
                        _ if !s.comparable() => "not rated".into(),
                        _ => "unrated".into(),
                    },
                    s.outlier_repetitions
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    match (&s.suite, &s.run_id) {
                        (Some(suite), Some(id)) => format!("{suite} #{id}"),
                        (Some(suite), None) => suite.clone(),
                        (None, Some(id)) => format!("#{id}"),
                        (None, None) => "-".into(),
                    },
                    s.status.clone().unwrap_or_else(|| "-".into()),
                    s.methods.join(" "),
                ]
            })
            .collect(),
    }
}

pub fn front_table(a: &Analysis) -> Table {
    let mut rows = Vec::new();
    for f in &a.fronts {
        for (rank, &i) in f.members.iter().enumerate() {
            let s = &a.series[i];
            rows.push(vec![
                f.task.clone(),
                f.dataset.clone(),
                f.metric.clone(),
                (rank + 1).to_string(),
                s.model.clone(),
                opt(s.metric.as_ref().map(|m| m.mean)),
                sig(s.wh_per_1000.mean),
            ]);
        }
    }
    Table {
        name: "pareto",
        title: "Pareto front: no other model is both more accurate and cheaper".into(),
        headers: headers(&[
            "task",
            "dataset",
            "metric",
            "rank",
            "model",
            "metric_mean",
            "wh_per_1000",
        ]),
        rows,
    }
}

/// The study's central comparison: per task and dataset where both ran, every zero-shot model
/// beside the task-specific ones, with its energy as a multiple of the cheapest task-specific
/// model's and its metric against the best task-specific model's. Complete series only.
pub fn zero_shot_table(a: &Analysis) -> Table {
    let mut rows = Vec::new();
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for s in a.series.iter().filter(|s| s.approach.is_some()) {
        if !groups.contains(&(s.task.as_str(), s.dataset.as_str())) {
            groups.push((s.task.as_str(), s.dataset.as_str()));
        }
    }
    for (task, dataset) in groups {
        let group: Vec<_> = a
            .series
            .iter()
            .filter(|s| s.task == task && s.dataset == dataset && s.comparable())
            .collect();
        let specific: Vec<_> = group.iter().filter(|s| s.approach.is_none()).collect();
        let cheapest = specific
            .iter()
            .map(|s| s.wh_per_1000.mean)
            .fold(f64::INFINITY, f64::min);
        let best = specific
            .iter()
            .filter_map(|s| s.metric.as_ref().map(|m| m.mean))
            .fold(f64::NEG_INFINITY, f64::max);
        if specific.is_empty() || !group.iter().any(|s| s.approach.is_some()) {
            continue;
        }
        for s in &group {
            let metric = s.metric.as_ref().map(|m| m.mean);
            rows.push(vec![
                task.to_string(),
                dataset.to_string(),
                s.model.clone(),
                s.approach.clone().unwrap_or_else(|| "task-specific".into()),
                s.metric_name.clone().unwrap_or_else(|| "-".into()),
                opt(metric),
                sig(s.wh_per_1000.mean),
                if cheapest > 0.0 && cheapest.is_finite() {
                    sig(s.wh_per_1000.mean / cheapest)
                } else {
                    "-".into()
                },
                opt(metric.filter(|_| best.is_finite()).map(|m| m - best)),
            ]);
        }
    }
    Table {
        name: "zero_shot",
        title: "Zero-shot against task-specific models on the same data".into(),
        headers: headers(&[
            "task",
            "dataset",
            "model",
            "approach",
            "metric",
            "metric_mean",
            "wh_per_1000",
            "energy_x_cheapest_task_specific",
            "metric_minus_best_task_specific",
        ]),
        rows,
    }
}

pub fn fit_table(a: &Analysis) -> Table {
    Table {
        name: "energy_vs_duration",
        title: "Energy (Wh) against duration (s) per repetition: least-squares fit per GPU count"
            .into(),
        headers: headers(&[
            "gpus",
            "points",
            "slope_wh_per_s",
            "intercept_wh",
            "r2",
            "note",
        ]),
        rows: a
            .duration_fits
            .iter()
            .map(|d| match &d.fit {
                Ok(f) => vec![
                    d.gpus.to_string(),
                    d.points.len().to_string(),
                    sig(f.slope),
                    sig(f.intercept),
                    f.r2.map_or_else(
                        || "undefined (energy constant)".into(),
                        |r| format!("{r:.4}"),
                    ),
                    String::new(),
                ],
                Err(e) => vec![
                    d.gpus.to_string(),
                    d.points.len().to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    e.to_string(),
                ],
            })
            .collect(),
    }
}

pub fn band_table() -> Table {
    Table {
        name: "bands",
        title: format!("Energy rating bands {BANDS_VERSION}: Wh per 1,000 inferences"),
        headers: headers(&["task", "A_below", "B_from", "C_from", "D_from", "E_from"]),
        rows: BANDS_V1
            .iter()
            .map(|b| {
                let e = b.edges_wh_per_1000;
                vec![
                    b.task.to_string(),
                    tick_label(e[0]),
                    tick_label(e[0]),
                    tick_label(e[1]),
                    tick_label(e[2]),
                    tick_label(e[3]),
                ]
            })
            .collect(),
    }
}

pub fn parity_table(rows: &[ParityRow]) -> Table {
    Table {
        name: "parity",
        title: "Training-inference parity: inferences whose energy equals training energy".into(),
        headers: headers(&[
            "model",
            "dataset",
            "training_kwh",
            "wh_per_1000",
            "inferences_to_parity",
        ]),
        rows: rows
            .iter()
            .map(|p| {
                vec![
                    p.model.clone(),
                    p.dataset.clone(),
                    sig(p.training_kwh),
                    sig(p.wh_per_1000),
                    format!("{:.0}", p.inferences),
                ]
            })
            .collect(),
    }
}

/// All tables in report order; the parity table only when parity rows exist.
pub fn all_tables(a: &Analysis, parity: &[ParityRow]) -> Vec<Table> {
    let mut t = vec![task_table(a), model_table(a), front_table(a)];
    let zero_shot = zero_shot_table(a);
    if !zero_shot.rows.is_empty() {
        t.push(zero_shot);
    }
    t.extend([fit_table(a), band_table()]);
    if !parity.is_empty() {
        t.push(parity_table(parity));
    }
    t
}

/// The table without columns empty in every row ("-" or ""), and without the long `methods`
/// column, whose distinct values are returned to be listed once under the table.
pub fn narrowed(t: &Table) -> (Table, Vec<String>) {
    let empty = |c: &str| c.is_empty() || c == "-";
    let method_col = t.headers.iter().position(|h| h == "methods");
    let keep: Vec<usize> = (0..t.headers.len())
        .filter(|&i| Some(i) != method_col)
        .filter(|&i| t.rows.is_empty() || !t.rows.iter().all(|r| r.get(i).is_none_or(|c| empty(c))))
        .collect();
    let pick = |r: &[String]| {
        keep.iter()
            .map(|&i| r.get(i).cloned().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let mut methods: Vec<String> = method_col
        .map(|m| t.rows.iter().filter_map(|r| r.get(m).cloned()).collect())
        .unwrap_or_default();
    methods.sort();
    methods.dedup();
    let table = Table {
        name: t.name,
        title: t.title.clone(),
        headers: pick(&t.headers),
        rows: t.rows.iter().map(|r| pick(r)).collect(),
    };
    (table, methods)
}

/// Fixed-width text for a terminal, [`narrowed`], methods listed under the table.
pub fn render_text(t: &Table) -> String {
    let (table, methods) = narrowed(t);
    let mut out = render_columns(&table);
    for s in methods {
        out.push_str(&format!("methods: {s}\n"));
    }
    out
}

fn render_columns(t: &Table) -> String {
    let mut widths: Vec<usize> = t.headers.iter().map(|h| h.chars().count()).collect();
    for r in &t.rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = format!("{}\n{}\n", t.title, line(&t.headers));
    for r in &t.rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    if t.rows.is_empty() {
        out.push_str("(nothing to show)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_format() {
        assert_eq!(sig(4.746070), "4.746");
        assert_eq!(sig(0.0047460707), "0.004746");
        assert_eq!(sig(1234.6), "1235");
        assert_eq!(sig(0.0), "0");
        assert_eq!(sig(f64::NAN), "n/a");
        assert_eq!(sig(1.5e-7), "1.500e-7");
    }

    #[test]
    fn text_alignment() {
        let t = Table {
            name: "x",
            title: "T".into(),
            headers: vec!["a".into(), "bb".into()],
            rows: vec![vec!["long".into(), "1".into()]],
        };
        assert_eq!(render_text(&t), "T\na     bb\nlong  1\n");
        let t = Table {
            name: "x",
            title: "T".into(),
            headers: vec!["a".into(), "gone".into(), "methods".into()],
            rows: vec![
                vec!["1".into(), "-".into(), "cpu=m".into()],
                vec!["2".into(), "".into(), "cpu=m".into()],
            ],
        };
        assert_eq!(render_text(&t), "T\na\n1\n2\nmethods: cpu=m\n");
    }
}
