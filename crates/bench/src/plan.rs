//! The run plan: each dataset loaded once, split and sampled with the suite's seed (the sample
//! is recorded, never a silent first N rows), and the list of model x dataset x repetition
//! jobs still to do (those already committed, on `--resume`, are left out).
//!
//! With `splits = N` in the protocol, N different seeded train/test splits (each with its own
//! sample and warm-up inputs) are drawn once per dataset; repetition `r` uses split `r mod N`,
//! so every model of the suite sees the same N splits. Split 0 is the one a suite without
//! `splits` gets.

use crate::shard::Shard;
use crate::sink::{DatasetRecord, RepetitionKey, SplitIds};
use crate::suite::{DatasetEntry, DatasetSources, Protocol, Suite};
use anyhow::{Context, Result};
use powerhungry_datasets::{
    load_task_dataset, stratified_sample, train_test_split, DatasetSpec, LoadedDataset, Split,
};
use powerhungry_tasks::Example;
use std::collections::HashSet;
use std::path::Path;

/// One train/test split of a dataset: the training part, the measured sample and the warm-up
/// inputs, as indices into the loaded examples.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPart {
    /// The seed this split and its sample were drawn with.
    pub seed: u64,
    pub train: Vec<usize>,
    pub sample: Vec<usize>,
    pub warmup: Vec<usize>,
}

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
    /// Which train/test split was used, in words, for the summary and the store.
    pub split: String,
    /// Every split of the protocol (`splits[0]` is `train`, `sample` and `warmup` above).
    pub splits: Vec<SplitPart>,
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

    /// The split repetition `r` uses (`r mod splits`).
    pub fn split_for(&self, repetition: u32) -> &SplitPart {
        &self.splits[repetition as usize % self.splits.len()]
    }

    /// The examples of a split's training part.
    pub fn train_examples_of(&self, part: &SplitPart) -> Vec<Example> {
        part.train
            .iter()
            .map(|&i| self.loaded.examples[i].clone())
            .collect()
    }

    /// The ids of splits 1.. (split 0 is in `record()`), for the store.
    pub fn split_records(&self) -> Vec<SplitIds> {
        let ids = |idx: &[usize]| -> Vec<String> {
            idx.iter()
                .map(|&i| self.loaded.examples[i].id.clone())
                .collect()
        };
        self.splits
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, p)| SplitIds {
                split: k as u32,
                train_ids: ids(&p.train),
                sample_ids: ids(&p.sample),
            })
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
    let load = |spec: &DatasetSpec, part: &str| {
        load_task_dataset(entry.task, &spec.resolved(base))
            .with_context(|| format!("dataset `{}`{part}", entry.name))
    };
    let sources = entry
        .sources()
        .map_err(|e| anyhow::anyhow!("dataset `{}`: {e}", entry.name))?;
    let mut notes = Vec::new();
    let (loaded, split, description) = match sources {
        DatasetSources::One(spec) => {
            let loaded = load(spec, "")?;
            let ex = &loaded.examples;
            let labelled = ex.iter().all(|e| e.label.is_some());
            let split = train_test_split(ex, protocol.test_fraction, protocol.seed, labelled)
                .with_context(|| format!("dataset `{}`: train/test split", entry.name))?;
            let split = SplitSource::Drawn { split, labelled };
            if let Some(part) = &spec.split {
                notes.push(format!(
                    "dataset `{}`: `split = \"{part}\"` selects files, which the harness then \
                     splits again ({:.0} % test, seed {}); to use the dataset's own train and \
                     test files, give `[datasets.train]` and `[datasets.test]` instead of \
                     `source`",
                    entry.name,
                    protocol.test_fraction * 100.0,
                    protocol.seed
                ));
            }
            let description = if protocol.splits > 1 {
                format!(
                    "one source split by the harness: {:.0} % test, {} different splits \
                     (split 0 seed {}, split k a seed derived from it and k), repetition r \
                     on split r mod {}",
                    protocol.test_fraction * 100.0,
                    protocol.splits,
                    protocol.seed,
                    protocol.splits
                )
            } else {
                format!(
                    "one source split by the harness: {:.0} % test, seed {}",
                    protocol.test_fraction * 100.0,
                    protocol.seed
                )
            };
            (loaded, split, description)
        }
        DatasetSources::OwnSplit { train, test } => {
            let test_part = load(test, " (test part)")?;
            let train_part = match train {
                Some(t) => Some(load(t, " (train part)")?),
                None => None,
            };
            let description = format!(
                "the dataset's own split: train {}, test {}",
                train_part.as_ref().map_or("none".to_string(), files_of),
                files_of(&test_part)
            );
            let (loaded, split) = powerhungry_datasets::join_own_split(train_part, test_part);
            let description = if protocol.splits > 1 {
                format!(
                    "{description}; the split is the dataset's, so the {} splits differ only \
                     in their seeded samples",
                    protocol.splits
                )
            } else {
                description
            };
            (loaded, SplitSource::Fixed(split), description)
        }
    };
    let ex = &loaded.examples;
    if loaded.report.undecodable_lines > 0 || loaded.report.skipped_empty > 0 {
        notes.push(format!(
            "dataset `{}`: {}",
            entry.name,
            loaded.report.summary()
        ));
    }
    let mut splits = Vec::with_capacity(protocol.splits as usize);
    for k in 0..protocol.splits.max(1) {
        let seed = protocol.split_seed(k);
        let drawn;
        let split = match &split {
            SplitSource::Fixed(s) => s,
            SplitSource::Drawn { split, .. } if k == 0 => split,
            SplitSource::Drawn { labelled, .. } => {
                drawn = train_test_split(ex, protocol.test_fraction, seed, *labelled)
                    .with_context(|| format!("dataset `{}`: train/test split {k}", entry.name))?;
                &drawn
            }
        };
        // Notes once, from split 0 (the others are drawn alike).
        let mut split_notes = Vec::new();
        let part = draw(entry, protocol, ex, split, seed, &mut split_notes)?;
        if k == 0 {
            notes.extend(split_notes);
        }
        splits.push(part);
    }
    let first = splits[0].clone();
    Ok(PreparedDataset {
        entry: entry.clone(),
        spec_json,
        loaded,
        train: first.train,
        sample: first.sample,
        warmup: first.warmup,
        notes,
        split: description,
        splits,
    })
}

/// Where the splits come from: drawn by the harness (again for each split seed), or the
/// dataset's own (the same for every split).
enum SplitSource {
    Drawn { split: Split, labelled: bool },
    Fixed(Split),
}

/// One split's sample, training part and warm-up inputs, drawn with `seed`.
fn draw(
    entry: &DatasetEntry,
    protocol: &Protocol,
    ex: &[Example],
    split: &Split,
    seed: u64,
    notes: &mut Vec<String>,
) -> Result<SplitPart> {
    // Sample within the test part: sample indices are positions in `test`.
    let test: Vec<Example> = split.test.iter().map(|&i| ex[i].clone()).collect();
    let s = stratified_sample(&test, protocol.inferences as usize, seed)
        .with_context(|| format!("dataset `{}`: sample", entry.name))?;
    if let Some(w) = s.warning {
        notes.push(format!("dataset `{}` (test part): {w}", entry.name));
    }
    let sample: Vec<usize> = s.indices.iter().map(|&i| split.test[i]).collect();
    let train = match protocol.max_train {
        Some(cap) if (cap as usize) < split.train.len() => {
            let part: Vec<Example> = split.train.iter().map(|&i| ex[i].clone()).collect();
            let s = stratified_sample(&part, cap as usize, seed)?;
            s.indices.iter().map(|&i| split.train[i]).collect()
        }
        _ => split.train.clone(),
    };
    // Warm-up inputs come from the training part; a dataset with only a test part warms up on
    // test rows outside the sample, or (none left) on the sample itself, and says so.
    let warm_pool: Vec<usize> = if !train.is_empty() {
        train.clone()
    } else {
        let in_sample: HashSet<usize> = sample.iter().copied().collect();
        let rest: Vec<usize> = split
            .test
            .iter()
            .copied()
            .filter(|i| !in_sample.contains(i))
            .collect();
        if rest.is_empty() && protocol.warmup > 0 {
            notes.push(format!(
                "dataset `{}`: no training part and no test rows outside the sample: the \
                 warm-up inferences reuse sampled inputs",
                entry.name
            ));
            sample.clone()
        } else {
            rest
        }
    };
    let warmup = if warm_pool.is_empty() {
        Vec::new()
    } else {
        (0..protocol.warmup as usize)
            .map(|k| warm_pool[k % warm_pool.len()])
            .collect()
    };
    Ok(SplitPart {
        seed,
        train,
        sample,
        warmup,
    })
}

/// The files of a loaded part, for the split description.
fn files_of(d: &LoadedDataset) -> String {
    let names: Vec<String> = d
        .report
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    format!("{} ({} rows)", names.join(", "), d.examples.len())
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
/// the repetitions already committed. With a shard, only the units whose position in the full
/// plan (every model, skipped or not) is the shard's: the split does not depend on which
/// models a machine has or what has run.
pub fn jobs(
    suite: &Suite,
    repetitions: u32,
    skipped_models: &HashSet<usize>,
    committed: &[RepetitionKey],
    shard: Option<&Shard>,
) -> Vec<Job> {
    let done: HashSet<(&str, &str, u32)> = committed
        .iter()
        .map(|k| (k.model.as_str(), k.dataset.as_str(), k.index))
        .collect();
    let mut out = Vec::new();
    let mut position = 0usize;
    for (mi, m) in suite.models.iter().enumerate() {
        for (di, d) in suite.datasets.iter().enumerate() {
            if m.datasets
                .as_ref()
                .is_some_and(|only| !only.contains(&d.name))
            {
                continue;
            }
            for r in 0..repetitions {
                let mine = shard.is_none_or(|s| s.owns(position));
                position += 1;
                if mine
                    && !skipped_models.contains(&mi)
                    && !done.contains(&(m.name.as_str(), d.name.as_str(), r))
                {
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
