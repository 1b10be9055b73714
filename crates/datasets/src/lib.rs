//! Datasets: where examples come from, how they are decoded, how each task's inputs are
//! prepared from them (the study's protocol), and how a seeded sample or a train/test split is
//! drawn. See docs/datasets.md for the user-facing rules.
//!
//! `DatasetSpec` is what a suite file says about one dataset; `load_task_dataset` turns it into
//! the task's `Example`s plus a `LoadReport` that counts everything that was not a clean row
//! (undecodable lines, skipped empty texts, rows too short for the task), so nothing is
//! dropped silently. Readers: CSV/TSV, JSON Lines, Parquet, label folders, the HF cache, text
//! lines, SQuAD JSON, CoNLL columns, COCO instances and captions, image folders.
//!
//! Must not know about: models, backends, energy, the store.

mod coco;
mod conll;
mod decode;
mod delimited;
mod hf_cache;
mod images;
mod jsonl;
mod label_folder;
mod labels;
mod own_split;
mod parquet_file;
mod parquet_footer;
mod rows;
mod sampling;
mod spec;
mod squad;
mod task_loader;

pub use decode::{Encoding, TextDecoder};
pub use hf_cache::{hf_hub_cache_dir, resolve_hub_dataset};
pub use images::{decode_check, IMAGE_EXTENSIONS};
pub use own_split::join_own_split;
pub use sampling::{stratified_sample, train_test_split, Sample, Split};
pub use spec::{Column, DatasetSpec, Format};
pub use task_loader::{formats_for, load_task_dataset, validate_for_task};

use anyhow::{bail, Context, Result};
use powerhungry_tasks::Example;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `load_dataset` produced.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub examples: Vec<Example>,
    /// The label set: the names list's order where one was given, otherwise the distinct gold
    /// labels sorted (numerically when all are integers). Empty for an unlabelled dataset.
    pub labels: Vec<String>,
    pub report: LoadReport,
}

/// Everything the loader saw that was not a clean example, so a report can say so.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// The files read, in order.
    pub files: Vec<PathBuf>,
    /// The format each file was read as.
    pub format: Option<Format>,
    /// The encoding text was decoded with.
    pub encoding: String,
    /// Examples produced (== `examples.len()`).
    pub rows: usize,
    /// Lines with bytes that are not valid in the encoding. They are kept, with each bad byte
    /// replaced by U+FFFD, and counted here.
    pub undecodable_lines: usize,
    /// Where the first undecodable lines are (`file:line`), at most `MAX_LOCATIONS`.
    pub undecodable_at: Vec<String>,
    /// Rows or lines skipped because their text was empty (blank lines in one-text-per-line
    /// files, empty text cells).
    pub skipped_empty: usize,
    /// Header or other non-data lines skipped on purpose (e.g. a CSV header).
    pub header_lines: usize,
    /// Label names found in the data file itself (a Parquet ClassLabel feature).
    pub label_names_from_file: Option<Vec<String>>,
    /// Records left out for a reason other than an empty text, by reason ("fewer than 20
    /// words", "empty context", "image file missing").
    pub skipped_for: BTreeMap<String, usize>,
    /// Other things counted that changed no example's presence ("prompts cut to their first
    /// 50 words", "rows with nothing after the first 20 words").
    pub tallies: BTreeMap<String, usize>,
}

/// How many locations of undecodable lines a report keeps.
pub const MAX_LOCATIONS: usize = 20;

impl LoadReport {
    /// Count a record left out, by reason.
    pub(crate) fn skip(&mut self, reason: &str) {
        *self.skipped_for.entry(reason.to_string()).or_default() += 1;
    }

    /// Count something worth saying that left the record in.
    pub(crate) fn tally(&mut self, what: &str) {
        *self.tallies.entry(what.to_string()).or_default() += 1;
    }

    /// Records left out for any reason (empty texts included).
    pub fn skipped(&self) -> usize {
        self.skipped_empty + self.skipped_for.values().sum::<usize>()
    }

    /// Whether there is anything to tell beyond the row count.
    pub fn has_notes(&self) -> bool {
        self.undecodable_lines > 0
            || self.skipped_empty > 0
            || !self.skipped_for.is_empty()
            || !self.tallies.is_empty()
    }

    pub(crate) fn note_undecodable(&mut self, file: &Path, line: usize) {
        self.undecodable_lines += 1;
        if self.undecodable_at.len() < MAX_LOCATIONS {
            self.undecodable_at
                .push(format!("{}:{}", file.display(), line));
        }
    }

    /// Record what `auto` resolved to for one file: `auto (utf-8)`, `auto (windows-1252)`,
    /// or `auto (utf-8, windows-1252)` when files differ.
    pub(crate) fn note_encoding(&mut self, used: Encoding) {
        if !self.encoding.starts_with("auto") {
            return;
        }
        let mut used_names: Vec<&str> = self
            .encoding
            .trim_start_matches("auto")
            .trim_matches([' ', '(', ')'])
            .split(", ")
            .filter(|s| !s.is_empty())
            .collect();
        if !used_names.contains(&used.name()) {
            used_names.push(used.name());
        }
        self.encoding = format!("auto ({})", used_names.join(", "));
    }

    /// One line for logs and the results store.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} examples from {} file(s) ({}, {})",
            self.rows,
            self.files.len(),
            self.format.map(|f| f.name()).unwrap_or("?"),
            self.encoding
        );
        if self.undecodable_lines > 0 {
            s.push_str(&format!(
                "; {} line(s) with undecodable bytes kept with U+FFFD (first at {})",
                self.undecodable_lines,
                self.undecodable_at
                    .first()
                    .map(String::as_str)
                    .unwrap_or("?")
            ));
        }
        if self.skipped_empty > 0 {
            s.push_str(&format!("; {} empty text(s) skipped", self.skipped_empty));
        }
        for (why, n) in &self.skipped_for {
            s.push_str(&format!("; {n} skipped: {why}"));
        }
        for (what, n) in &self.tallies {
            s.push_str(&format!("; {what}: {n}"));
        }
        s
    }
}

/// Load a text-classification dataset as its spec says (a format of another task's own, such
/// as `squad-json`, is read for that task: see `load_task_dataset`). Relative paths in the
/// spec are resolved against `base` (the suite file's directory) by the caller via
/// `DatasetSpec::resolved`.
pub fn load_dataset(spec: &DatasetSpec) -> Result<LoadedDataset> {
    if let Some(task) = spec.format.and_then(task_loader::task_of_format) {
        return load_task_dataset(task, spec);
    }
    if let Some(f @ Format::TextLines) = spec.format {
        bail!(
            "dataset key `format`: {} is read for masked language modelling, text and image \
             generation (give the task: load_task_dataset)",
            f.name()
        );
    }
    spec.validate()?;
    let root = match (&spec.path, &spec.hub_id) {
        (Some(p), None) => p.clone(),
        (None, Some(id)) => {
            resolve_hub_dataset(id, spec.revision.as_deref(), spec.cache_dir.as_deref())?
        }
        _ => bail!("dataset: give exactly one of `path` or `hub_id`"),
    };
    let meta = std::fs::metadata(&root)
        .with_context(|| format!("dataset path {}: cannot read it", root.display()))?;
    let decoder = TextDecoder::new(spec.encoding()?);
    let mut report = LoadReport {
        encoding: decoder.encoding().name().to_string(),
        ..LoadReport::default()
    };
    let names = labels::LabelNames::from_spec(spec)?;

    let (format, files) = if meta.is_dir() {
        pick_in_dir(&root, spec)?
    } else {
        let f = match spec.format {
            Some(f) => f,
            None => Format::from_extension(&root)?,
        };
        (f, vec![root.clone()])
    };
    report.format = Some(format);

    let mut examples = Vec::new();
    match format {
        Format::LabelFiles => {
            label_folder::load_label_files(&files, &decoder, &mut examples, &mut report)?
        }
        Format::LabelDirs => {
            label_folder::load_label_dirs(&files, &decoder, &mut examples, &mut report)?
        }
        _ => {
            for file in &files {
                let ctx = labels::RowContext::new(spec, &names);
                match format {
                    Format::Csv | Format::Tsv => delimited::load(
                        file,
                        format,
                        spec,
                        &ctx,
                        &decoder,
                        &mut examples,
                        &mut report,
                    )?,
                    Format::Jsonl => jsonl::load(file, &ctx, &decoder, &mut examples, &mut report)?,
                    Format::Parquet => {
                        parquet_file::load(file, spec, &names, &mut examples, &mut report)?
                    }
                    other => bail!(
                        "{}: format {} is not read for text classification",
                        file.display(),
                        other.name()
                    ),
                }
            }
        }
    }
    // Label folders name their labels by file; a names list can still rename them.
    if matches!(format, Format::LabelFiles | Format::LabelDirs) {
        names.rename_folder_labels(&mut examples)?;
    }
    report.files = files;
    report.rows = examples.len();
    let labels = names.label_set(&examples, report.label_names_from_file.as_ref());
    Ok(LoadedDataset {
        examples,
        labels,
        report,
    })
}

/// Decide what a directory holds: data files (possibly sharded, filtered by split), label
/// sub-directories (one text per file) or label files (one text per line).
fn pick_in_dir(root: &Path, spec: &DatasetSpec) -> Result<(Format, Vec<PathBuf>)> {
    // A split named after a sub-directory (imdb/test) narrows the root and is then used up.
    let (root, split) = match spec.split.as_deref() {
        Some(split) if root.join(split).is_dir() => (root.join(split), None),
        other => (root.to_path_buf(), other),
    };
    let no_split_here = |split: &str| {
        anyhow::anyhow!(
            "{}: dataset key `split` = {split:?} names neither a sub-folder nor data files here",
            root.display()
        )
    };
    if let Some(f @ (Format::LabelFiles | Format::LabelDirs)) = spec.format {
        if let Some(split) = split {
            return Err(no_split_here(split));
        }
        let files = label_folder::list_labels(&root, f)?;
        return Ok((f, files));
    }
    let data = label_folder::data_files(&root, spec.format, split)?;
    if let Some((format, files)) = data {
        return Ok((format, files));
    }
    if let Some(split) = split {
        // Ignoring it would silently load something else than asked.
        return Err(no_split_here(split));
    }
    let format = label_folder::detect_label_layout(&root)?;
    let files = label_folder::list_labels(&root, format)?;
    Ok((format, files))
}
