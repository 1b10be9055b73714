//! The report's charts, each with a caption saying what was measured and what estimated. A
//! chart is only made where the data allows it (no parameters: no size chart, and so on).

mod energy;
mod relations;

use crate::analysis::{Analysis, SeriesSummary};
use crate::parity::ParityRow;

pub use energy::{model_bars, task_means};
pub use relations::{accuracy_fronts, energy_duration, output_length, parity_bars, size_co2};

/// One chart, ready to place in the page.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub svg: String,
    /// Plain words: what is plotted, which figures were measured and which estimated.
    pub caption: String,
    /// Extra lines under the chart (Pareto members, fit parameters).
    pub notes: Vec<String>,
    /// Data marks drawn (class `pt`), for the page's self-check.
    pub points: usize,
}

/// Every chart the data allows, in report order.
pub fn all_charts(a: &Analysis, parity: &[ParityRow]) -> Vec<Chart> {
    let mut c = Vec::new();
    c.extend(task_means(a));
    c.extend(model_bars(a));
    c.extend(size_co2(a));
    c.extend(accuracy_fronts(a));
    c.extend(energy_duration(a));
    c.extend(output_length(a));
    c.extend(parity_bars(parity));
    c
}

/// "Measured: ... Estimated: ..." from the method labels of `series`.
pub fn methods_caption<'a>(series: impl IntoIterator<Item = &'a SeriesSummary>) -> String {
    let mut measured = Vec::new();
    let mut estimated = Vec::new();
    let mut other = Vec::new();
    for s in series {
        for m in &s.methods {
            let (comp, method) = m.split_once('=').unwrap_or((m.as_str(), "unknown"));
            let label = format!("{comp} ({method})");
            let list = if method.starts_with("measured") {
                &mut measured
            } else if method.starts_with("estimated") {
                &mut estimated
            } else {
                &mut other
            };
            if !list.contains(&label) {
                list.push(label);
            }
        }
    }
    let mut out = Vec::new();
    if !measured.is_empty() {
        out.push(format!("Measured by a sensor: {}.", measured.join(", ")));
    }
    if !estimated.is_empty() {
        out.push(format!(
            "Estimated from a power model or a constant, not read from a sensor: {}.",
            estimated.join(", ")
        ));
    }
    if !other.is_empty() {
        out.push(format!(
            "Method not stated by the source: {}.",
            other.join(", ")
        ));
    }
    if estimated.is_empty() && other.is_empty() && !measured.is_empty() {
        out.push("Every component was measured.".into());
    }
    out.join(" ")
}

/// Stable colour index per task, in the order tasks appear in the analysis.
pub(crate) fn task_colour(a: &Analysis, task: &str) -> &'static str {
    let i = a.tasks.iter().position(|t| t.task == task).unwrap_or(0);
    crate::svg::colour(i)
}

/// Short label of a series for axes and tooltips.
pub(crate) fn label(s: &SeriesSummary) -> String {
    match &s.approach {
        Some(a) => format!("{} · {} [{a}]", s.model, s.dataset),
        None => format!("{} · {}", s.model, s.dataset),
    }
}

pub(crate) fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::input::*;

    fn series(params: Option<u64>, generative: bool, tokens: Option<u64>) -> Series {
        let rep = |i: u32, j: f64| Repetition {
            index: i,
            inferences: 10,
            duration_s: j / 10.0,
            components: vec![
                ComponentEnergy {
                    component: "cpu".into(),
                    method: "measured:rapl".into(),
                    joules: j,
                    idle_joules: None,
                },
                ComponentEnergy {
                    component: "ram".into(),
                    method: "estimated:ram".into(),
                    joules: 1.0,
                    idle_joules: None,
                },
            ],
            metrics: Default::default(),
            output_tokens: tokens,
            emissions_g: None,
            latency_p50_ms: None,
            latency_p95_ms: None,
            incomplete: None,
            nothing_measured: false,
        };
        Series {
            suite: None,
            run_id: None,
            task: "summarization".into(),
            model: "m".into(),
            dataset: "d".into(),
            parameters: params,
            gpus: 0,
            intensity_g_per_kwh: Some(100.0),
            intensity_source: None,
            pue: 1.0,
            primary_metric: None,
            generative,
            unfinished: false,
            same_sample: false,
            approach: None,
            repetitions: vec![rep(0, 100.0), rep(1, 120.0)],
        }
    }

    #[test]
    fn charts_only_where_the_data_allows() {
        let bare = analyse(&ReportInput {
            source: String::new(),
            notes: Vec::new(),
            series: vec![series(None, false, None)],
        });
        let ids: Vec<String> = all_charts(&bare, &[]).into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            ["task-means", "models-summarization", "energy-duration"]
        );
        let full = analyse(&ReportInput {
            source: String::new(),
            notes: Vec::new(),
            series: vec![series(Some(1000), true, Some(300))],
        });
        let charts = all_charts(&full, &[]);
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "task-means",
                "models-summarization",
                "size-co2",
                "energy-duration",
                "output-length"
            ]
        );
        for c in &charts {
            assert!(c.points > 0, "{}", c.id);
            assert_eq!(c.svg.matches("class=\"pt\"").count(), c.points, "{}", c.id);
            for bad in ["NaN", "=\"inf", "=\"-inf", ",inf", " inf,"] {
                assert!(!c.svg.contains(bad), "{}: {bad}", c.id);
            }
        }
    }

    #[test]
    fn captions_separate_measured_from_estimated() {
        let a = analyse(&ReportInput {
            source: String::new(),
            notes: Vec::new(),
            series: vec![series(None, false, None)],
        });
        let c = methods_caption(&a.series);
        assert_eq!(
            c,
            "Measured by a sensor: cpu (measured:rapl). Estimated from a power model or a \
             constant, not read from a sensor: ram (estimated:ram)."
        );
    }
}
