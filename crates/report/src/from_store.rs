//! Adapter: the results store's runs as a [`ReportInput`]. Each model x dataset of each run is
//! one series; each committed repetition contributes its inference window (loading, fitting and
//! warm-up are measured too but are not the per-inference figure).

use crate::input::{ComponentEnergy, Repetition, ReportInput, Series};
use anyhow::Result;
use powerhungry_bench::sink::{latency_percentiles, ModelRecord, RepetitionRecord};
use powerhungry_store::{InferenceTotals, RunListing, ShardListing, Store, StoredRun};
use powerhungry_tasks::TaskName;
use std::collections::BTreeMap;
use std::path::Path;

/// Read every run of the store at `path`, opened read-only (a store on a read-only
/// filesystem reads). The file must exist (opening a missing path would create an empty store
/// and report nothing, which hides a typo). Runs are read one at a time without their
/// per-inference records (each repetition's latency percentiles are stored with it, and its
/// counts summed in SQL), so memory does not grow with the number of inferences.
pub fn read_store(path: &Path) -> Result<ReportInput> {
    let store = Store::open_read_only(path)?;
    let mut input = ReportInput {
        source: format!("store {}", store.path().display()),
        series: Vec::new(),
        notes: Vec::new(),
    };
    for listing in store.list_runs()? {
        let run = store.load_run_summary(listing.id)?;
        let totals = store.inference_totals(listing.id)?;
        let mut sampled = Vec::new();
        for d in &run.datasets {
            // Protocol `splits` > 1: each repetition had its own split and sample, so the
            // metric's SD is a spread over splits; with one split it says nothing.
            let splits = store.splits(listing.id, &d.name)?.len() + 1;
            if splits > 1 {
                input.notes.push(format!(
                    "run {} dataset `{}`: metrics over {splits} train/test splits (repetition \
                     r on split r mod {splits}), so their SD is the spread over splits",
                    listing.id, d.name
                ));
            } else if store.has_sample(listing.id, &d.name)? {
                sampled.push(d.name.clone());
            }
        }
        let mut series = series_of_run(
            &run,
            &|m, d, i| totals.get(&(m.into(), d.into(), i)).copied(),
            &sampled,
        );
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
        if let Some(note) = shards_note(&listing, &store.shards(listing.id)?) {
            input.notes.push(note);
        }
        for (model, why) in &run.skipped {
            input.notes.push(format!(
                "run {} ({}) skipped model `{model}`: {why}; the run is finished for the \
                 models it ran",
                run.id, run.start.suite_name
            ));
        }
        input.series.extend(series);
    }
    Ok(input)
}

/// A run made by several shards (`bench --shard I/N --run-name NAME`): how many joined, on
/// which hosts, and which have not ended (their part of the run is unfinished).
fn shards_note(run: &RunListing, shards: &[ShardListing]) -> Option<String> {
    let count = shards.first()?.count;
    let mut hosts: Vec<&str> = shards.iter().map(|s| s.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let open: Vec<String> = shards
        .iter()
        .filter(|s| s.ended_at.is_none())
        .map(|s| format!("{}/{count}", s.index + 1))
        .collect();
    let name = run
        .run_name
        .as_deref()
        .map_or_else(String::new, |n| format!(" `{n}`"));
    Some(format!(
        "run {}{name} ({}): {} of {count} shard(s) joined, on {}{}",
        run.id,
        run.suite_name,
        shards.len(),
        hosts.join(", "),
        if open.is_empty() {
            String::new()
        } else {
            format!("; not ended: shard {}", open.join(", "))
        }
    ))
}

/// Per-repetition inference count and output tokens, by (model, dataset, repetition index).
pub type TotalsOf<'a> = &'a dyn Fn(&str, &str, u32) -> Option<InferenceTotals>;

/// The series of one stored run, in the order the run recorded its models and datasets.
/// `totals` gives each repetition's inference count and output tokens when the run was read
/// without its inference records; otherwise they are counted from them. `sampled`: datasets
/// with a recorded sample (every repetition infers on it).
pub fn series_of_run(run: &StoredRun, totals: TotalsOf, sampled: &[String]) -> Vec<Series> {
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
            // Fitted size of this model on this dataset (schema 3), else the model's.
            let fit = run
                .fits
                .iter()
                .find(|f| f.model == first.model && f.dataset == first.dataset);
            let task = run
                .datasets
                .iter()
                .find(|d| d.name == first.dataset)
                .map_or_else(|| "unknown".to_string(), |d| d.task.clone());
            let repetitions: Vec<Repetition> = reps
                .iter()
                .filter_map(|r| repetition(r, totals(&r.model, &r.dataset, r.index)))
                .collect();
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
            // Output length against energy: tasks that generate text, and any model that
            // reported output tokens (a zero-shot LLM classifying).
            let known = TaskName::parse(&task);
            let generative = known.is_some_and(TaskName::generates_text)
                || repetitions.iter().any(|r| r.output_tokens.unwrap_or(0) > 0);
            Some(Series {
                suite: Some(run.start.suite_name.clone()),
                run_id: Some(run.id.to_string()),
                // The task's headline metric where the run scored it (docs/report.md).
                primary_metric: known.and_then(TaskName::headline_metric).and_then(|m| {
                    repetitions
                        .first()
                        .and_then(|r| r.metrics.keys().find(|k| *k == m).cloned())
                }),
                task,
                model: first.model.clone(),
                dataset: first.dataset.clone(),
                parameters: fit.map_or_else(|| model.and_then(|m| m.parameters), |f| f.parameters),
                gpus: gpus as u32,
                intensity_g_per_kwh: Some(loc.intensity_g_per_kwh),
                intensity_source: Some(format!("{} ({})", loc.location, loc.source)),
                pue: loc.pue,
                generative,
                unfinished: run.ended_at.is_none(),
                same_sample: sampled.contains(&first.dataset),
                approach: model.and_then(zero_shot_approach),
                repetitions,
            })
        })
        .collect()
}

fn repetition(r: &RepetitionRecord, totals: Option<InferenceTotals>) -> Option<Repetition> {
    let w = r.inference_window()?;
    let (inferences, tokens) = match totals {
        Some(t) => (t.inferences, t.output_tokens),
        None => (
            r.inferences.len() as u64,
            r.inferences.iter().map(|i| i.output_tokens as u64).sum(),
        ),
    };
    // One latency definition (the bench summary's too): each repetition's own percentiles,
    // stored when it ended; computed here only for records that lack them.
    let (p50, p95) = match (r.latency_p50_s, r.latency_p95_s) {
        (Some(a), Some(b)) => (Some(a), Some(b)),
        _ => latency_percentiles(r.inferences.iter().map(|i| i.latency_s)),
    };
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
        output_tokens: (inferences > 0).then_some(tokens),
        emissions_g: None,
        latency_p50_ms: p50.map(|s| s * 1000.0),
        latency_p95_ms: p95.map(|s| s * 1000.0),
        incomplete: r.incomplete(),
        nothing_measured: w.nothing_measured,
    })
}

/// How a zero-shot model answered, from its suite entry: a `causal-lm` model, or any model
/// given a `prompt` (a pipeline prompted as a general model), answers by generating and
/// parsing unless its `mode` is `log-likelihood` (docs/report.md). `None`: task-specific.
pub fn zero_shot_approach(model: &ModelRecord) -> Option<String> {
    let options: serde_json::Value = serde_json::from_str(&model.options_json).ok()?;
    let prompted = options.get("prompt").is_some();
    if model.kind != "causal-lm" && !prompted {
        return None;
    }
    Some(match options.get("mode").and_then(|m| m.as_str()) {
        Some("log-likelihood") => "zero-shot (log-likelihood)".to_string(),
        _ => "zero-shot (generate)".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::{shards_note, zero_shot_approach};
    use powerhungry_store::{RunListing, ShardListing};

    #[test]
    fn a_sharded_run_says_how_many_shards_joined_where_and_which_are_open() {
        let run = RunListing {
            id: 3,
            suite_name: "s".into(),
            suite_hash: "h".into(),
            started_at: 0.0,
            ended_at: None,
            repetitions: 4,
            run_name: Some("job-7".into()),
        };
        let shard = |index: u32, host: &str, ended: bool| ShardListing {
            index,
            count: 3,
            host: host.into(),
            pid: 1,
            started_at: 0.0,
            ended_at: ended.then_some(1.0),
        };
        assert_eq!(shards_note(&run, &[]), None);
        assert_eq!(
            shards_note(
                &run,
                &[shard(0, "node-b", true), shard(1, "node-a", false), shard(2, "node-b", true)]
            )
            .as_deref(),
            Some("run 3 `job-7` (s): 3 of 3 shard(s) joined, on node-a, node-b; not ended: shard 2/3")
        );
        assert_eq!(
            shards_note(&run, &[shard(0, "n", true)]).as_deref(),
            Some("run 3 `job-7` (s): 1 of 3 shard(s) joined, on n")
        );
    }

    use powerhungry_bench::sink::ModelRecord;

    fn model(kind: &str, options_json: &str) -> ModelRecord {
        ModelRecord {
            name: "m".into(),
            backend: "candle".into(),
            kind: kind.into(),
            model: None,
            options_json: options_json.into(),
            parameters: None,
            description: String::new(),
        }
    }

    #[test]
    fn zero_shot_models_are_told_apart_by_kind_prompt_and_mode() {
        let of = |k: &str, o: &str| zero_shot_approach(&model(k, o));
        assert_eq!(of("bow-lr", "{}"), None);
        assert_eq!(of("sequence-classifier", "{}"), None);
        assert_eq!(
            of("causal-lm", r#"{"prompt":"study"}"#).as_deref(),
            Some("zero-shot (generate)")
        );
        assert_eq!(
            of("causal-lm", r#"{"mode":"log-likelihood"}"#).as_deref(),
            Some("zero-shot (log-likelihood)")
        );
        assert_eq!(
            of("pipeline", r#"{"prompt":"dspy-chat"}"#).as_deref(),
            Some("zero-shot (generate)")
        );
        assert_eq!(
            of("causal-lm", "{}").as_deref(),
            Some("zero-shot (generate)")
        );
    }
}
