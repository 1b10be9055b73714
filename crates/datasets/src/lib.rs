//! Datasets: where examples come from, how they are decoded, and how a seeded sample or a
//! train/test split is drawn from them. See docs/datasets.md for the user-facing rules.
//!
//! `DatasetSpec` is what a suite file says about one dataset; `load_dataset` turns it into
//! `Example`s plus a `LoadReport` that counts everything that was not a clean row (undecodable
//! lines, skipped empty texts), so nothing is dropped silently.
//!
//! Must not know about: models, backends, energy, the store.

mod decode;
mod delimited;
mod hf_cache;
mod jsonl;
mod label_folder;
mod labels;
mod own_split;
mod parquet_file;
mod sampling;
mod spec;

pub use decode::{Encoding, TextDecoder};
pub use hf_cache::{hf_hub_cache_dir, resolve_hub_dataset};
pub use own_split::join_own_split;
pub use sampling::{stratified_sample, train_test_split, Sample, Split};
pub use spec::{Column, DatasetSpec, Format};

use anyhow::{bail, Context, Result};
use powerhungry_tasks::Example;
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
}

/// How many locations of undecodable lines a report keeps.
pub const MAX_LOCATIONS: usize = 20;

impl LoadReport {
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
        s
    }
}

/// Load a dataset as its spec says. Relative paths in the spec are resolved against `base`
/// (the suite file's directory) by the caller via `DatasetSpec::resolved`.
pub fn load_dataset(spec: &DatasetSpec) -> Result<LoadedDataset> {
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
                    Format::LabelFiles | Format::LabelDirs => unreachable!("handled above"),
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
