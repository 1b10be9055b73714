//! The run plan: each dataset loaded once, split and sampled with the suite's seed (the sample
//! is recorded, never a silent first N rows), and the list of model x dataset x repetition
//! jobs still to do (those already committed, on `--resume`, are left out).

use crate::sink::{DatasetRecord, RepetitionKey};
use crate::suite::{DatasetEntry, Protocol, Suite};
use anyhow::{Context, Result};
use powerhungry_datasets::{load_dataset, stratified_sample, train_test_split, LoadedDataset};
use powerhungry_tasks::Example;
use std::collections::HashSet;
use std::path::Path;

/// A dataset ready to run: its examples, the training part and the measured sample.
#[derive(Debug, Clone)]
pub struct PreparedDataset {
    pub entry: DatasetEntry,
    /// The suite's `source` table for this dataset, as JSON (for the store).
    pub spec_json: String,
    pub loaded: LoadedDataset,
    /// Indices into `loaded.examples` that models which learn are fitted on.
    pub train: Vec<usize>,
    /// Indices of the measured inputs, in the order they are inferred.
    pub sample: Vec<usize>,
    /// Indices of the warm-up inputs (taken from the training part, never from the sample).
    pub warmup: Vec<usize>,
    /// Things the user should know (a sample smaller than asked, undecodable lines).
    pub notes: Vec<String>,
}

impl PreparedDataset {
    pub fn examples(&self, idx: &[usize]) -> Vec<&Example> {
        idx.iter().map(|&i| &self.loaded.examples[i]).collect()
    }

    pub fn train_examples(&self) -> Vec<Example> {
        self.train
            .iter()
            .map(|&i| self.loaded.examples[i].clone())
            .collect()
    }

    /// What the store records about this dataset and its sample.
    pub fn record(&self) -> DatasetRecord {
        let ids = |idx: &[usize]| {
            idx.iter()
                .map(|&i| self.loaded.examples[i].id.clone())
                .collect()
        };
        DatasetRecord {
            name: self.entry.name.clone(),
            task: self.entry.task.as_str().to_string(),
            spec_json: self.spec_json.clone(),
            examples: self.loaded.examples.len() as u64,
            undecodable: self.loaded.report.undecodable_lines as u64,
            train_ids: ids(&self.train),
            sample_ids: ids(&self.sample),
        }
    }
}

/// Load, split and sample one dataset. Relative paths are taken from `base`.
pub fn prepare_dataset(
    entry: &DatasetEntry,
    spec_json: String,
    protocol: &Protocol,
    base: &Path,
) -> Result<PreparedDataset> {
    let spec = entry.source.resolved(base);
    let loaded = load_dataset(&spec).with_context(|| format!("dataset `{}`", entry.name))?;
    let ex = &loaded.examples;
    let labelled = ex.iter().all(|e| e.label.is_some());
    let split = train_test_split(ex, protocol.test_fraction, protocol.seed, labelled)
        .with_context(|| format!("dataset `{}`: train/test split", entry.name))?;
    let mut notes = Vec::new();
    if loaded.report.undecodable_lines > 0 || loaded.report.skipped_empty > 0 {
        notes.push(format!(
            "dataset `{}`: {}",
            entry.name,
            loaded.report.summary()
        ));
    }
    // Sample within the test part: sample indices are positions in `test`.
    let test: Vec<Example> = split.test.iter().map(|&i| ex[i].clone()).collect();
    let s = stratified_sample(&test, protocol.inferences as usize, protocol.seed)
        .with_context(|| format!("dataset `{}`: sample", entry.name))?;
    if let Some(w) = s.warning {
        notes.push(format!("dataset `{}` (test part): {w}", entry.name));
    }
    let sample: Vec<usize> = s.indices.iter().map(|&i| split.test[i]).collect();
    let train = match protocol.max_train {
        Some(cap) if (cap as usize) < split.train.len() => {
            let part: Vec<Example> = split.train.iter().map(|&i| ex[i].clone()).collect();
            let s = stratified_sample(&part, cap as usize, protocol.seed)?;
            s.indices.iter().map(|&i| split.train[i]).collect()
        }
        _ => split.train.clone(),
    };
    let warmup = (0..protocol.warmup as usize)
        .map(|k| train[k % train.len()])
        .collect();
    Ok(PreparedDataset {
        entry: entry.clone(),
        spec_json,
        loaded,
        train,
        sample,
        warmup,
        notes,
    })
}

/// One repetition to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Index into the suite's models.
    pub model: usize,
    /// Index into the suite's datasets.
    pub dataset: usize,
    pub repetition: u32,
}

/// Jobs in run order (model, then dataset, then repetition), leaving out skipped models and
/// the repetitions already committed.
pub fn jobs(
    suite: &Suite,
    repetitions: u32,
    skipped_models: &HashSet<usize>,
    committed: &[RepetitionKey],
) -> Vec<Job> {
    let done: HashSet<(&str, &str, u32)> = committed
        .iter()
        .map(|k| (k.model.as_str(), k.dataset.as_str(), k.index))
        .collect();
    let mut out = Vec::new();
    for (mi, m) in suite.models.iter().enumerate() {
        if skipped_models.contains(&mi) {
            continue;
        }
        for (di, d) in suite.datasets.iter().enumerate() {
            if m.datasets
                .as_ref()
                .is_some_and(|only| !only.contains(&d.name))
            {
                continue;
            }
            for r in 0..repetitions {
                if !done.contains(&(m.name.as_str(), d.name.as_str(), r)) {
                    out.push(Job {
                        model: mi,
                        dataset: di,
                        repetition: r,
                    });
                }
            }
        }
    }
    out
}
