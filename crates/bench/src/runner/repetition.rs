//! One repetition of one model on one dataset: load, fit, warm-up and inference windows.

use super::meter::{EnergyMeter, WindowEnergy};
use super::progress::Progress;
use crate::plan::PreparedDataset;
use crate::registry::BackendFactory;
use crate::sink::{
    latency_percentiles, InferenceRecord, MetricValue, ModelRecord, Phase, RepetitionRecord,
    WindowRecord,
};
use crate::suite::{ModelSpec, Protocol, TaskName};
use anyhow::{bail, Result};
use powerhungry_tasks::{Backend, Example, Output, Prediction, PredictionScope};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(crate) struct Context<'a> {
    pub run: crate::sink::RunId,
    pub model: &'a ModelSpec,
    pub data: &'a PreparedDataset,
    pub protocol: &'a Protocol,
    pub factory: &'a dyn BackendFactory,
}

/// Run `f` inside a meter window. The window is closed even when `f` fails.
fn measured<T>(
    meter: &mut dyn EnergyMeter,
    phase: Phase,
    f: impl FnOnce() -> Result<T>,
) -> Result<(T, WindowEnergy)> {
    meter.open_window(phase.as_str())?;
    let out = f();
    let energy = meter.close_window()?;
    Ok((out?, energy))
}

fn window(phase: Phase, items: usize, e: &WindowEnergy) -> WindowRecord {
    WindowRecord {
        phase,
        duration_s: e.duration_s,
        items: items as u64,
        components: e.components.clone(),
        uncounted: e.uncounted.clone(),
        nothing_measured: e.nothing_measured,
    }
}

/// One repetition: the record to store, the model's record, and the meter's warnings.
pub(crate) fn run_one(
    ctx: &Context,
    index: u32,
    meter: &mut dyn EnergyMeter,
    progress: &mut dyn Progress,
) -> Result<(RepetitionRecord, ModelRecord, Vec<String>)> {
    let started_at = unix_now();
    let mut windows = Vec::with_capacity(4);
    let mut warnings = Vec::new();
    let batch = ctx.protocol.batch_size as usize;
    // The split of this repetition (`index mod splits`; one split: the same every time).
    let split = ctx.data.split_for(index);

    progress.phase("load");
    let (mut backend, e) = measured(meter, Phase::Load, || {
        ctx.factory.load_for_task(ctx.model, ctx.data.entry.task)
    })?;
    windows.push(window(Phase::Load, 0, &e));
    warnings.extend(e.warnings);
    // The task and the label set (zero-shot models build prompts and parse answers with them).
    backend.prepare(ctx.data.entry.task, &ctx.data.loaded.labels)?;

    if backend.needs_fit() {
        progress.phase("fit");
        let train = ctx.data.train_examples_of(split);
        let ((), e) = measured(meter, Phase::Fit, || backend.fit(&train))?;
        windows.push(window(Phase::Fit, train.len(), &e));
        warnings.extend(e.warnings);
    }

    let scope = |warmup| PredictionScope {
        run: ctx.run,
        model: ctx.model.name.clone(),
        dataset: ctx.data.entry.name.clone(),
        repetition: index,
        warmup,
    };
    if !split.warmup.is_empty() {
        progress.phase("warm-up");
        backend.begin(&scope(true))?;
        let inputs = ctx.data.examples(&split.warmup);
        let ((), e) = measured(meter, Phase::Warmup, || {
            for chunk in inputs.chunks(batch) {
                predict(backend.as_mut(), chunk)?;
            }
            Ok(())
        })?;
        windows.push(window(Phase::Warmup, inputs.len(), &e));
        warnings.extend(e.warnings);
    }

    progress.phase("inference");
    backend.begin(&scope(false))?;
    let inputs = ctx.data.examples(&split.sample);
    // Not `measured`: the loop reads live watts from the meter for the progress display.
    meter.open_window(Phase::Inference.as_str())?;
    let timed = infer(backend.as_mut(), &inputs, batch, &*meter, progress);
    let e = meter.close_window()?;
    let timed = timed?;
    windows.push(window(Phase::Inference, inputs.len(), &e));
    warnings.extend(e.warnings);

    let pairs: Vec<(&Example, &Output)> = inputs
        .iter()
        .zip(&timed)
        .map(|(ex, (_, p))| (*ex, &p.output))
        .collect();
    let mut metrics = score(ctx.data.entry.task, &pairs)?;
    // Served models: requests that failed (scored as wrong, so also in unparsed_fraction).
    let failed = timed
        .iter()
        .filter(|(_, p)| p.request.as_ref().is_some_and(|r| r.error.is_some()))
        .count();
    if failed > 0 {
        metrics.push(MetricValue {
            name: "request_error_fraction".into(),
            value: failed as f64 / timed.len().max(1) as f64,
        });
    }
    let inferences: Vec<InferenceRecord> = inputs
        .iter()
        .zip(timed)
        .enumerate()
        .map(|(i, (ex, (latency_s, p)))| InferenceRecord {
            position: i as u32,
            example_id: ex.id.clone(),
            latency_s,
            input_tokens: p.input_tokens,
            output_tokens: p.output_tokens,
            prediction: p.output.record_text(),
            gold: ex.gold_text(),
            request: p.request,
        })
        .collect();
    let info = backend.info();
    let model = ModelRecord {
        name: ctx.model.name.clone(),
        backend: ctx.model.backend.as_str().to_string(),
        kind: ctx.model.kind.clone(),
        model: ctx.model.model.clone(),
        options_json: serde_json::to_string(&ctx.model.options)?,
        parameters: info.parameters,
        description: info.description,
    };
    let (latency_p50_s, latency_p95_s) =
        latency_percentiles(inferences.iter().map(|i| i.latency_s));
    let rep = RepetitionRecord {
        model: ctx.model.name.clone(),
        dataset: ctx.data.entry.name.clone(),
        index,
        started_at,
        ended_at: unix_now(),
        windows,
        inferences,
        metrics,
        latency_p50_s,
        latency_p95_s,
    };
    Ok((rep, model, warnings))
}

/// The measured loop: as little as possible between the clock reads.
fn infer(
    backend: &mut dyn Backend,
    inputs: &[&Example],
    batch: usize,
    meter: &dyn EnergyMeter,
    progress: &mut dyn Progress,
) -> Result<Vec<(f64, Prediction)>> {
    let mut timed: Vec<(f64, Prediction)> = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(batch) {
        let t0 = Instant::now();
        let preds = predict(backend, chunk)?;
        // A batch's inputs share its wall time equally.
        let each = t0.elapsed().as_secs_f64() / chunk.len() as f64;
        timed.extend(preds.into_iter().map(|p| (each, p)));
        progress.inferred(chunk.len() as u64, &|| meter.live_watts());
    }
    Ok(timed)
}

fn predict(backend: &mut dyn Backend, chunk: &[&Example]) -> Result<Vec<Prediction>> {
    let preds = backend.predict(chunk)?;
    if preds.len() != chunk.len() {
        bail!(
            "the backend returned {} predictions for {} inputs",
            preds.len(),
            chunk.len()
        );
    }
    Ok(preds)
}

/// The task's metrics over the measured predictions (none for an unlabelled sample).
fn score(task: TaskName, pairs: &[(&Example, &Output)]) -> Result<Vec<MetricValue>> {
    Ok(powerhungry_tasks::metrics::score_task(task, pairs)?
        .into_iter()
        .map(|(name, value)| MetricValue { name, value })
        .collect())
}
