//! The runner: every model x dataset x repetition of a suite, each with its own measured
//! windows (load, fit where the model learns, warm-up, inference), per-inference latency on the
//! monotonic clock, and metrics scored on the very predictions measured. Each repetition goes
//! to the sink as one record, so a kill loses only the repetition in flight.

pub mod meter;
pub mod progress;
mod repetition;

pub use meter::{EnergyMeter, WindowEnergy};
pub use progress::{Bars, Progress, Quiet};

use crate::plan::{jobs, prepare_dataset, PreparedDataset};
use crate::registry::BackendFactory;
use crate::shard::Shard;
use crate::sink::{HardwareInfo, LocationRecord, ModelFit, ResultSink, RunId, RunStart};
use crate::suite::{IfMissing, LoadedSuite, Protocol};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeSet, HashSet};

/// What the run needs besides the suite: the protocol actually used (the suite's, with any
/// command-line overrides) and the facts recorded with the run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub protocol: Protocol,
    /// Continue the latest unfinished run of the same suite hash instead of starting one.
    pub resume: bool,
    /// Run only this shard's units, in the named run all shards join (`--shard`, Slurm).
    pub shard: Option<Shard>,
    pub git_revision: Option<String>,
    pub tool_version: String,
    pub hardware: HardwareInfo,
    pub location: LocationRecord,
}

/// The borrowed parts a run works with.
pub struct RunParts<'a> {
    pub factory: &'a dyn BackendFactory,
    pub meter: &'a mut dyn EnergyMeter,
    pub sink: &'a mut dyn ResultSink,
    pub progress: &'a mut dyn Progress,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub run: RunId,
    pub resumed: bool,
    /// Repetitions run now.
    pub ran: usize,
    /// Repetitions found already committed (resume).
    pub already: usize,
    /// Models skipped because their files were not found: (model name, message).
    pub skipped: Vec<(String, String)>,
}

/// Run a suite to the end.
pub fn run(suite: &LoadedSuite, opts: &RunOptions, parts: RunParts) -> Result<RunOutcome> {
    let RunParts {
        factory,
        meter,
        sink,
        progress,
    } = parts;
    let s = &suite.suite;
    let protocol = &opts.protocol;

    // Models whose files are missing: skipped when the suite says so, an error otherwise.
    let mut skipped = Vec::new();
    let mut skipped_idx = HashSet::new();
    for (i, m) in s.models.iter().enumerate() {
        if let Some(msg) = factory.missing(m) {
            if m.if_missing == IfMissing::Fail {
                bail!("model `{}`: {msg}", m.name);
            }
            progress.note(&format!("skipping model `{}`: {msg}", m.name));
            skipped.push((m.name.clone(), msg));
            skipped_idx.insert(i);
        }
    }

    // Every dataset a remaining model uses, loaded, split and sampled once.
    let used: BTreeSet<usize> = s
        .datasets
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            s.models.iter().enumerate().any(|(i, m)| {
                !skipped_idx.contains(&i) && m.datasets.as_ref().is_none_or(|o| o.contains(&d.name))
            })
        })
        .map(|(i, _)| i)
        .collect();
    let base = suite.base_dir();
    let mut prepared: Vec<Option<PreparedDataset>> = vec![None; s.datasets.len()];
    for &i in &used {
        let p = prepare_dataset(&s.datasets[i], suite.source_json(i), protocol, &base)?;
        for n in &p.notes {
            progress.note(n);
        }
        prepared[i] = Some(p);
    }

    let hash = suite.hash(protocol);
    let start = || RunStart {
        suite_name: s.name.clone(),
        suite_path: suite.path.display().to_string(),
        suite_text: suite.text.clone(),
        suite_hash: hash.clone(),
        started_at: repetition::unix_now(),
        git_revision: opts.git_revision.clone(),
        tool_version: opts.tool_version.clone(),
        hardware: opts.hardware.clone(),
        location: opts.location.clone(),
        idle: meter.idle(),
    };
    let (run, resumed) = if let Some(shard) = &opts.shard {
        // Every shard joins one run; a shard rerun (`--resume` or not) does what it lacks.
        let (id, existed) = sink.join_sharded_run(&start(), shard)?;
        if opts.resume && !existed {
            bail!(
                "--resume: no run `{}` of suite `{}` with this exact suite file and protocol \
                 in the store (it has been started now; rerun without --resume)",
                shard.run_name,
                s.name
            );
        }
        (id, existed)
    } else if opts.resume {
        match sink.find_unfinished_run(&hash)? {
            Some(id) => (id, true),
            None => bail!(
                "--resume: no unfinished run of suite `{}` with this exact suite file and \
                 protocol in the store; run without --resume to start a new run",
                s.name
            ),
        }
    } else {
        (sink.begin_run(&start())?, false)
    };
    for p in prepared.iter().flatten() {
        sink.record_dataset(run, &p.record())?;
        sink.record_splits(run, &p.entry.name, &p.split_records())?;
    }
    for (name, msg) in &skipped {
        sink.record_skipped(run, name, msg)?;
    }
    let committed = sink.committed_repetitions(run)?;
    let todo = jobs(
        s,
        protocol.repetitions,
        &skipped_idx,
        &committed,
        opts.shard.as_ref(),
    );
    if let Some(shard) = &opts.shard {
        let all = jobs(s, protocol.repetitions, &skipped_idx, &[], None).len();
        let own = jobs(s, protocol.repetitions, &skipped_idx, &[], Some(shard)).len();
        progress.note(&format!(
            "{shard} (run {run}): {own} of the plan's {all} repetition(s) are this shard's, \
             {} of them to do",
            todo.len()
        ));
    } else if resumed {
        progress.note(&format!(
            "resuming run {run}: {} repetition(s) already stored, {} to do",
            committed.len(),
            todo.len()
        ));
    }
    progress.start(todo.len() as u64);
    let mut warned = HashSet::new();
    for job in &todo {
        let model = &s.models[job.model];
        let Some(data) = prepared[job.dataset].as_ref() else {
            bail!("internal: dataset {} was not prepared", job.dataset);
        };
        progress.repetition(
            &model.name,
            &data.entry.name,
            job.repetition,
            protocol.repetitions,
            data.split_for(job.repetition).sample.len() as u64,
        );
        let ctx = repetition::Context {
            run,
            model,
            data,
            protocol,
            factory,
        };
        let (rep, model_record, warnings) =
            repetition::run_one(&ctx, job.repetition, meter, progress).with_context(|| {
                format!(
                    "model `{}` on dataset `{}`, repetition {}",
                    model.name,
                    data.entry.name,
                    job.repetition + 1
                )
            })?;
        for w in warnings {
            if warned.insert(w.clone()) {
                progress.note(&format!("meter: {w}"));
            }
        }
        sink.record_model(run, &model_record)?;
        sink.record_fit(
            run,
            &ModelFit {
                model: model.name.clone(),
                dataset: data.entry.name.clone(),
                parameters: model_record.parameters,
                description: model_record.description.clone(),
            },
        )?;
        sink.record_repetition(run, &rep)?;
        progress.repetition_done();
    }
    match &opts.shard {
        Some(shard) => {
            if !sink.end_shard(run, shard, repetition::unix_now())? {
                progress.note(&format!(
                    "{shard} is done; run {run} ends when its other shards are"
                ));
            }
        }
        None => sink.end_run(run, repetition::unix_now())?,
    }
    progress.finish();
    Ok(RunOutcome {
        run,
        resumed,
        ran: todo.len(),
        already: committed.len(),
        skipped,
    })
}
