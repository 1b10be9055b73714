//! Adapter: the results store's runs as a [`ReportInput`]. Each model x dataset of each run is
//! one series; each committed repetition contributes its inference window (loading, fitting and
//! warm-up are measured too but are not the per-inference figure).

use crate::input::{ComponentEnergy, Repetition, ReportInput, Series};
use anyhow::Result;
use powerhungry_bench::sink::{Phase, RepetitionRecord};
use powerhungry_store::{Store, StoredRun};
use std::collections::BTreeMap;
use std::path::Path;

/// Tasks whose outputs are generated (their output length is plotted against energy).
pub const GENERATIVE_TASKS: [&str; 4] = [
    "text-generation",
    "summarization",
    "image-to-text",
    "text-to-image",
];

/// Read every run of the store at `path`. The file must exist (opening a missing path would
/// create an empty store and report nothing, which hides a typo).
pub fn read_store(path: &Path) -> Result<ReportInput> {
    let store = Store::open_existing(path)?;
    let mut input = ReportInput {
        source: format!("store {}", path.display()),
        series: Vec::new(),
    };
    for listing in store.list_runs()? {
        let run = store.load_run(listing.id)?;
        let mut series = series_of_run(&run);
        for e in store.reported_emissions(listing.id)? {
            let rep = series
                .iter_mut()
                .filter(|s| s.model == e.model && s.dataset == e.dataset)
                .flat_map(|s| s.repetitions.iter_mut())
                .find(|r| r.index == e.index);
            if let Some(rep) = rep {
                rep.emissions_g = Some(e.g_co2e);
            }
        }
        input.series.extend(series);
    }
    Ok(input)
}

/// The series of one stored run, in the order the run recorded its models and datasets.
pub fn series_of_run(run: &StoredRun) -> Vec<Series> {
    let mut groups: BTreeMap<(usize, usize), Vec<&RepetitionRecord>> = BTreeMap::new();
    for r in &run.repetitions {
        let m = run
            .models
            .iter()
            .position(|m| m.name == r.model)
            .unwrap_or(usize::MAX);
        let d = run
            .datasets
            .iter()
            .position(|d| d.name == r.dataset)
            .unwrap_or(usize::MAX);
        groups.entry((m, d)).or_default().push(r);
    }
    let loc = &run.start.location;
    groups
        .into_values()
        .filter_map(|reps| {
            let first = reps.first()?;
            let model = run.models.iter().find(|m| m.name == first.model);
            let task = run
                .datasets
                .iter()
                .find(|d| d.name == first.dataset)
                .map_or_else(|| "unknown".to_string(), |d| d.task.clone());
            let repetitions: Vec<Repetition> = reps.iter().filter_map(|r| repetition(r)).collect();
            // GPUs the workload used: the GPU components measured, or the run's GPU list when
            // one component stands for several (CodeCarbon imports sum all GPUs in one figure).
            let gpu_components = repetitions.first().map_or(0, |r| {
                r.components
                    .iter()
                    .filter(|c| c.component.starts_with("gpu"))
                    .count()
            });
            let gpus = if gpu_components > 0 {
                gpu_components.max(run.start.hardware.gpus.len())
            } else {
                0
            };
            let generative = GENERATIVE_TASKS.contains(&task.as_str())
                || repetitions.iter().any(|r| r.output_tokens.unwrap_or(0) > 0);
            Some(Series {
                suite: Some(run.start.suite_name.clone()),
                run_id: Some(run.id.to_string()),
                primary_metric: repetitions
                    .first()
                    .and_then(|r| r.metrics.keys().find(|k| *k == "accuracy").cloned()),
                task,
                model: first.model.clone(),
                dataset: first.dataset.clone(),
                parameters: model.and_then(|m| m.parameters),
                gpus: gpus as u32,
                intensity_g_per_kwh: Some(loc.intensity_g_per_kwh),
                intensity_source: Some(format!("{} ({})", loc.location, loc.source)),
                pue: loc.pue,
                generative,
                repetitions,
            })
        })
        .collect()
}

fn repetition(r: &RepetitionRecord) -> Option<Repetition> {
    let w = r.windows.iter().find(|w| w.phase == Phase::Inference)?;
    let mut lat: Vec<f64> = r.inferences.iter().map(|i| i.latency_s * 1000.0).collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p| powerhungry_stats::quantile_sorted(&lat, p);
    let tokens: u64 = r.inferences.iter().map(|i| i.output_tokens as u64).sum();
    Some(Repetition {
        index: r.index,
        inferences: w.items,
        duration_s: w.duration_s,
        components: w
            .components
            .iter()
            .map(|c| ComponentEnergy {
                component: c.component.clone(),
                method: c.method.clone(),
                joules: c.joules,
                idle_joules: c.above_idle_joules.map(|a| c.joules - a),
            })
            .collect(),
        metrics: r
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.value))
            .collect(),
        output_tokens: (!r.inferences.is_empty()).then_some(tokens),
        emissions_g: None,
        latency_p50_ms: pct(0.5),
        latency_p95_ms: pct(0.95),
    })
}
