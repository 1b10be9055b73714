//! From raw repetitions to the figures a report shows: per model x dataset summaries, the
//! per-task headline, Pareto fronts, energy-duration fits, and the totals behind equivalents.
//! Pure functions of a [`ReportInput`]; the HTML, terminal and CSV/JSON writers only format.

use crate::fit::{least_squares, FitUndefined, LineFit};
use crate::input::{ReportInput, Series, J_PER_KWH, J_PER_WH};
use crate::pareto::pareto_front;
use crate::rating::{bands_for, rate, BANDS_VERSION};
use powerhungry_stats::Summary;
use serde::Serialize;
use std::collections::BTreeMap;

/// One model on one dataset, summarised over its repetitions.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesSummary {
    pub suite: Option<String>,
    pub run_id: Option<String>,
    pub task: String,
    pub model: String,
    pub dataset: String,
    pub parameters: Option<u64>,
    pub gpus: u32,
    pub repetitions: usize,
    /// Inferences per repetition (the smallest, when they differ).
    pub inferences: u64,
    /// Total energy, Wh per 1,000 inferences.
    pub wh_per_1000: Summary,
    /// Above the idle baseline, where every component had one.
    pub wh_per_1000_above_idle: Option<Summary>,
    /// "component=method" for every component, e.g. "cpu=estimated:cpu-load".
    pub methods: Vec<String>,
    pub estimated: bool,
    pub g_co2e_per_1000: Option<Summary>,
    pub duration_s: Summary,
    pub metric_name: Option<String>,
    pub metric: Option<Summary>,
    /// Output tokens per inference (generative tasks).
    pub output_tokens_per_inference: Option<Summary>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    /// Band letter of the mean total energy, and the band table's version.
    pub rating: Option<String>,
    pub rating_version: Option<String>,
    /// Repetition indices whose energy lies beyond Tukey's fences (flagged, kept).
    pub outlier_repetitions: Vec<u32>,
    pub generative: bool,
    /// `None` for a complete series of a finished run. Otherwise why it is shown apart and
    /// never rated, put on a Pareto front or counted in a task mean: "unfinished run (n
    /// repetitions stored)", "incomplete: ... not counted ...", "nothing measured".
    pub status: Option<String>,
    /// Its energy is not the whole (a device uncounted, or nothing measured): also left out
    /// of the totals and the energy-duration fits.
    pub incomplete: bool,
    /// Every repetition inferred on the same sample (bench runs), so the metric's spread over
    /// repetitions is not a sampling spread.
    pub same_sample: bool,
    /// Zero-shot and how it answered, or `None` (task-specific, or not said): `Series::approach`.
    pub approach: Option<String>,
}

impl SeriesSummary {
    /// Complete and finished: rated, on Pareto fronts, in task means.
    pub fn comparable(&self) -> bool {
        self.status.is_none()
    }

    /// Nothing was measured in any repetition.
    pub fn nothing_measured(&self) -> bool {
        self.status.as_deref() == Some(NOTHING_MEASURED)
    }
}

/// The status of a series none of whose repetitions counted any component.
pub const NOTHING_MEASURED: &str = "nothing measured";

/// The studies' headline: per task, the spread of per-model means.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    pub task: String,
    /// Model x dataset series the figures are over.
    pub series: usize,
    pub models: usize,
    /// Mean and SD over the series' mean Wh per 1,000 inferences (complete, finished series
    /// only: see `SeriesSummary::status`).
    pub wh_per_1000: Summary,
    pub min_wh_per_1000: f64,
    pub max_wh_per_1000: f64,
    pub estimated: bool,
}

/// A Pareto front of one task on one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Front {
    pub task: String,
    pub dataset: String,
    pub metric: String,
    /// Indices into [`Analysis::series`] of the points drawn.
    pub points: Vec<usize>,
    /// Indices into [`Analysis::series`] of the members, by energy ascending.
    pub members: Vec<usize>,
}

/// Energy against duration for one GPU count.
#[derive(Debug, Clone, Serialize)]
pub struct DurationFit {
    pub gpus: u32,
    /// (duration s, Wh) per repetition, and the series index each came from.
    pub points: Vec<(f64, f64, usize)>,
    pub fit: Result<LineFit, FitUndefined>,
}

/// Sums over everything in the report, for the plain-words equivalents.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub repetitions: usize,
    pub inferences: u64,
    pub kwh: f64,
    /// Facility energy (x PUE), kWh.
    pub facility_kwh: f64,
    pub g_co2e: Option<f64>,
    pub smartphone_charges: f64,
    pub miles_driven: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub source: String,
    pub series: Vec<SeriesSummary>,
    pub tasks: Vec<TaskSummary>,
    pub fronts: Vec<Front>,
    pub duration_fits: Vec<DurationFit>,
    pub totals: Totals,
    pub bands_version: &'static str,
    /// Series left out, and why (no repetitions, zero inferences, non-finite values).
    pub skipped: Vec<String>,
    /// Series shown apart (unfinished runs, incomplete or nothing measured) and what the
    /// input says (models a run skipped).
    pub notes: Vec<String>,
}

fn summarise(s: &Series) -> Result<SeriesSummary, String> {
    let name = format!("{} on {}", s.model, s.dataset);
    if s.repetitions.is_empty() {
        return Err(format!("{name}: no repetitions"));
    }
    if let Some(r) = s.repetitions.iter().find(|r| r.inferences == 0) {
        return Err(format!(
            "{name}: repetition {} covers 0 inferences",
            r.index
        ));
    }
    let bad = |r: &&crate::input::Repetition| !(r.total_joules() >= 0.0 && r.duration_s >= 0.0);
    if let Some(r) = s.repetitions.iter().find(bad) {
        return Err(format!(
            "{name}: repetition {} has a negative or non-numeric energy ({} J) or duration ({} s)",
            r.index,
            r.total_joules(),
            r.duration_s
        ));
    }
    let per_1000 = |x: f64, n: u64| x / n as f64 * 1000.0;
    let wh: Vec<f64> = s
        .repetitions
        .iter()
        .map(|r| per_1000(r.total_joules() / J_PER_WH, r.inferences))
        .collect();
    let wh_per_1000 =
        Summary::of(&wh).ok_or_else(|| format!("{name}: an energy figure is not finite"))?;
    let above: Option<Vec<f64>> = s
        .repetitions
        .iter()
        .map(|r| {
            // Equal estimates minus equal baselines leave ~1e-18 of rounding: that is zero.
            let above = r.above_idle_joules()?;
            let above = if above.abs() <= 1e-12 * r.total_joules().abs() {
                0.0
            } else {
                above
            };
            Some(per_1000(above / J_PER_WH, r.inferences))
        })
        .collect();
    let co2: Option<Vec<f64>> = s
        .repetitions
        .iter()
        .map(|r| {
            let g = r.emissions_g.or_else(|| {
                s.intensity_g_per_kwh
                    .map(|i| powerhungry_carbon::emissions_g(r.total_joules(), s.pue, i))
            });
            g.map(|g| per_1000(g, r.inferences))
        })
        .collect();
    let mut methods: Vec<String> = s
        .repetitions
        .iter()
        .flat_map(|r| {
            r.components
                .iter()
                .map(|c| format!("{}={}", c.component, c.method))
        })
        .collect();
    methods.sort();
    methods.dedup();
    let durations: Vec<f64> = s.repetitions.iter().map(|r| r.duration_s).collect();
    // The series' own headline metric, else its task's (an exported report read back), else
    // accuracy, else the first it has.
    let metric_name = s.primary_metric.clone().or_else(|| {
        let first = s.repetitions.first()?;
        let task_headline = powerhungry_tasks::TaskName::parse(&s.task)
            .and_then(powerhungry_tasks::TaskName::headline_metric);
        task_headline
            .into_iter()
            .chain(["accuracy"])
            .find(|m| first.metrics.contains_key(*m))
            .map(str::to_string)
            .or_else(|| first.metrics.keys().next().cloned())
    });
    let metric = metric_name.as_ref().and_then(|m| {
        let v: Option<Vec<f64>> = s
            .repetitions
            .iter()
            .map(|r| r.metrics.get(m).copied())
            .collect();
        Summary::of(&v?)
    });
    let tokens: Option<Vec<f64>> = s
        .repetitions
        .iter()
        .map(|r| r.output_tokens.map(|t| t as f64 / r.inferences as f64))
        .collect();
    let mean_of = |f: &dyn Fn(&crate::input::Repetition) -> Option<f64>| {
        let v: Option<Vec<f64>> = s.repetitions.iter().map(f).collect();
        v.and_then(|v| Summary::of(&v)).map(|s| s.mean)
    };
    let incomplete: Vec<&str> = s
        .repetitions
        .iter()
        .filter_map(|r| r.incomplete.as_deref())
        .collect();
    let nothing = s.repetitions.iter().all(|r| r.nothing_measured);
    let status = if nothing {
        Some(NOTHING_MEASURED.to_string())
    } else if !incomplete.is_empty() {
        let mut why = incomplete.clone();
        why.sort();
        why.dedup();
        Some(format!(
            "{} in {} of {} repetition(s)",
            why.join("; "),
            incomplete.len(),
            s.repetitions.len()
        ))
    } else if s.unfinished {
        Some(format!(
            "unfinished run ({} repetition(s) stored)",
            s.repetitions.len()
        ))
    } else {
        None
    };
    let bands = bands_for(&s.task).filter(|_| status.is_none());
    let outlier_repetitions = wh_per_1000
        .outliers
        .iter()
        .map(|&i| s.repetitions[i].index)
        .collect();
    Ok(SeriesSummary {
        suite: s.suite.clone(),
        run_id: s.run_id.clone(),
        task: s.task.clone(),
        model: s.model.clone(),
        dataset: s.dataset.clone(),
        parameters: s.parameters,
        gpus: s.gpus,
        repetitions: s.repetitions.len(),
        inferences: s
            .repetitions
            .iter()
            .map(|r| r.inferences)
            .min()
            .unwrap_or(0),
        rating: bands
            .and_then(|b| rate(b, wh_per_1000.mean))
            .map(str::to_string),
        rating_version: bands.map(|_| BANDS_VERSION.to_string()),
        wh_per_1000,
        wh_per_1000_above_idle: above.and_then(|v| Summary::of(&v)),
        estimated: s.repetitions.iter().any(|r| r.is_estimated()),
        methods,
        g_co2e_per_1000: co2.and_then(|v| Summary::of(&v)),
        duration_s: Summary::of(&durations)
            .ok_or_else(|| format!("{name}: a duration is not finite"))?,
        metric_name: metric.as_ref().and(metric_name),
        metric,
        output_tokens_per_inference: tokens
            .and_then(|v| Summary::of(&v))
            .filter(|t| s.generative || t.mean > 0.0),
        latency_p50_ms: mean_of(&|r| r.latency_p50_ms),
        latency_p95_ms: mean_of(&|r| r.latency_p95_ms),
        outlier_repetitions,
        generative: s.generative,
        approach: s.approach.clone(),
        incomplete: nothing || !incomplete.is_empty(),
        status,
        same_sample: s.same_sample,
    })
}

/// Analyse everything in `input`.
pub fn analyse(input: &ReportInput) -> Analysis {
    let mut series = Vec::new();
    let mut skipped = Vec::new();
    let mut kept = Vec::new();
    for s in &input.series {
        match summarise(s) {
            Ok(sum) => {
                if !sum.incomplete {
                    kept.push(s);
                }
                series.push(sum);
            }
            Err(why) => skipped.push(why),
        }
    }
    let mut notes = Vec::new();
    for s in series.iter().filter(|s| !s.comparable()) {
        notes.push(format!(
            "{} on {}{}: {}; shown, but never rated, on a Pareto front or in a task mean{}",
            s.model,
            s.dataset,
            s.run_id
                .as_ref()
                .map(|r| format!(" (run {r})"))
                .unwrap_or_default(),
            s.status.as_deref().unwrap_or(""),
            if s.incomplete {
                ", nor in the totals"
            } else {
                ""
            }
        ));
    }
    notes.extend(input.notes.iter().cloned());
    Analysis {
        source: input.source.clone(),
        tasks: task_summaries(&series),
        fronts: fronts(&series),
        duration_fits: duration_fits(&kept),
        totals: totals(&kept),
        bands_version: BANDS_VERSION,
        series,
        skipped,
        notes,
    }
}

fn task_summaries(series: &[SeriesSummary]) -> Vec<TaskSummary> {
    let mut by_task: BTreeMap<&str, Vec<&SeriesSummary>> = BTreeMap::new();
    for s in series.iter().filter(|s| s.comparable()) {
        by_task.entry(&s.task).or_default().push(s);
    }
    by_task
        .into_iter()
        .filter_map(|(task, v)| {
            let wh: Vec<f64> = v.iter().map(|s| s.wh_per_1000.mean).collect();
            let mut models: Vec<&str> = v.iter().map(|s| s.model.as_str()).collect();
            models.sort();
            models.dedup();
            Some(TaskSummary {
                task: task.to_string(),
                series: v.len(),
                models: models.len(),
                min_wh_per_1000: wh.iter().cloned().fold(f64::INFINITY, f64::min),
                max_wh_per_1000: wh.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                wh_per_1000: Summary::of(&wh)?,
                estimated: v.iter().any(|s| s.estimated),
            })
        })
        .collect()
}

fn fronts(series: &[SeriesSummary]) -> Vec<Front> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate().filter(|(_, s)| s.comparable()) {
        if let (Some(m), Some(_)) = (&s.metric_name, &s.metric) {
            groups.entry((&s.task, &s.dataset, m)).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|((task, dataset, metric), points)| {
            let xy: Vec<(f64, f64)> = points
                .iter()
                .map(|&i| {
                    let s = &series[i];
                    (
                        s.metric.as_ref().map_or(f64::NAN, |m| m.mean),
                        s.wh_per_1000.mean,
                    )
                })
                .collect();
            let members = pareto_front(&xy).into_iter().map(|k| points[k]).collect();
            Front {
                task: task.into(),
                dataset: dataset.into(),
                metric: metric.into(),
                points,
                members,
            }
        })
        .collect()
}

fn duration_fits(series: &[&Series]) -> Vec<DurationFit> {
    let mut by_gpus: BTreeMap<u32, Vec<(f64, f64, usize)>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        for r in &s.repetitions {
            by_gpus
                .entry(s.gpus)
                .or_default()
                .push((r.duration_s, r.total_joules() / J_PER_WH, i));
        }
    }
    by_gpus
        .into_iter()
        .map(|(gpus, points)| {
            let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
            DurationFit {
                gpus,
                fit: least_squares(&xy),
                points,
            }
        })
        .collect()
}

fn totals(series: &[&Series]) -> Totals {
    let (mut reps, mut inferences, mut j, mut fj) = (0, 0, 0.0, 0.0);
    let mut g = Some(0.0);
    for s in series {
        for r in &s.repetitions {
            reps += 1;
            inferences += r.inferences;
            j += r.total_joules();
            fj += r.total_joules() * s.pue;
            let this = r.emissions_g.or_else(|| {
                s.intensity_g_per_kwh
                    .map(|i| powerhungry_carbon::emissions_g(r.total_joules(), s.pue, i))
            });
            g = g.zip(this).map(|(a, b)| a + b);
        }
    }
    let eq = powerhungry_carbon::Equivalents::new(fj / J_PER_KWH, g.unwrap_or(0.0));
    Totals {
        repetitions: reps,
        inferences,
        kwh: j / J_PER_KWH,
        facility_kwh: fj / J_PER_KWH,
        g_co2e: g,
        smartphone_charges: eq.smartphone_charges,
        miles_driven: g.map(|_| eq.miles_driven),
    }
}

#[cfg(test)]
mod tests;
