//! `DatasetSpec`: what a suite file says about one dataset (serde, so it sits in the TOML).

use super::decode::Encoding;
use anyhow::{bail, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// File formats the loader reads. `None` in a spec means "detect": by extension for a file;
/// for a directory, data files inside it, else label sub-directories, else label files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Parquet,
    /// A folder of files named by label, one text per line (rt-polarity.pos / .neg).
    LabelFiles,
    /// A folder of sub-folders named by label, one text per file (aclImdb pos/ neg/).
    LabelDirs,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
            Format::LabelFiles => "label-files",
            Format::LabelDirs => "label-dirs",
        }
    }

    /// The format a data file's extension says, if it is one we read.
    pub fn for_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "jsonl" | "ndjson" => Format::Jsonl,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }

    pub(crate) fn from_extension(path: &Path) -> Result<Format> {
        match Format::for_extension(path) {
            Some(f) => Ok(f),
            None => bail!(
                "dataset file {}: cannot tell its format from the extension; set `format` to one \
                 of csv, tsv, jsonl, parquet, label-files, label-dirs",
                path.display()
            ),
        }
    }
}

/// A column by header name or by 0-based position (files without a header, `has_header =
/// false`). In TOML: `text_column = "sentence"` or `label_column = 0`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column {i}"),
            Column::Name(n) => write!(f, "column \"{n}\""),
        }
    }
}

/// One column or several joined (AG News: title and description).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(Column),
    Many(Vec<Column>),
}

impl Columns {
    pub fn as_slice(&self) -> &[Column] {
        match self {
            Columns::One(c) => std::slice::from_ref(c),
            Columns::Many(v) => v,
        }
    }
}

/// What a suite says about one dataset. Every key but `path`/`hub_id` is optional; defaults
/// are in docs/datasets.md.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// A file or a directory (label folder, or a folder of data shards).
    pub path: Option<PathBuf>,
    /// A Hugging Face dataset id (`org/name`) read from the local hub cache
    /// (`datasets--org--name/snapshots/<rev>/`), never downloaded.
    pub hub_id: Option<String>,
    /// Cache revision: a commit hash or a ref name under `refs/` (default `main`).
    pub revision: Option<String>,
    /// Hub cache directory (default: `$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`).
    pub cache_dir: Option<PathBuf>,
    pub format: Option<Format>,
    /// Which split's files to read in a directory of shards (file or folder names containing
    /// it, e.g. `test-00000-of-00001.parquet`), or a sub-directory of a label folder.
    pub split: Option<String>,
    /// Text column(s); several are joined with `text_separator`. Default `text`
    /// (or `sentence` when there is no `text`).
    pub text_column: Option<Columns>,
    /// Default `label`; when that column is missing and no key was given, the dataset is
    /// unlabelled.
    pub label_column: Option<Column>,
    /// Default: row number (see docs).
    pub id_column: Option<Column>,
    /// Joins several text columns. Default one space.
    pub text_separator: Option<String>,
    /// `utf-8` (default), `latin-1` / `windows-1252`, or `auto` (UTF-8 when the whole file is
    /// valid UTF-8, else Windows-1252).
    pub encoding: Option<String>,
    /// Names for integer labels, indexed from `label_index_base` (SST-2: negative, positive).
    pub label_names: Option<Vec<String>>,
    /// A file with one label name per line (AG News `classes.txt`), as `label_names`.
    pub label_names_file: Option<PathBuf>,
    /// The integer that names the first entry of `label_names` (AG News: 1). Default 0.
    pub label_index_base: Option<i64>,
    /// Rename labels: `{ pos = "positive", neg = "negative" }`.
    pub label_map: Option<std::collections::BTreeMap<String, String>>,
    /// CSV/TSV: whether the first line is a header. Default true.
    pub has_header: Option<bool>,
    /// CSV/TSV: a one-byte field delimiter (default `,` for csv and tab for tsv; emotion uses `;`).
    pub delimiter: Option<String>,
    /// CSV/TSV: honour double quotes (default true for csv, false for tsv, as GLUE's TSVs
    /// contain bare quotes).
    pub quoting: Option<bool>,
}

impl DatasetSpec {
    /// A spec that reads `path` with every default.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        DatasetSpec {
            path: Some(path.into()),
            ..DatasetSpec::default()
        }
    }

    /// The same spec with relative paths taken from `base` (the suite file's directory).
    pub fn resolved(&self, base: &Path) -> DatasetSpec {
        let fix = |p: &Option<PathBuf>| {
            p.as_ref().map(|p| {
                if p.is_relative() {
                    base.join(p)
                } else {
                    p.clone()
                }
            })
        };
        DatasetSpec {
            path: fix(&self.path),
            cache_dir: fix(&self.cache_dir),
            label_names_file: fix(&self.label_names_file),
            ..self.clone()
        }
    }

    pub fn encoding(&self) -> Result<Encoding> {
        match &self.encoding {
            None => Ok(Encoding::Utf8),
            Some(s) => Encoding::parse(s),
        }
    }

    /// The checks a spec can fail before any file is opened; each names the key.
    pub fn validate(&self) -> Result<()> {
        match (&self.path, &self.hub_id) {
            (None, None) => bail!("dataset: `path` or `hub_id` is required"),
            (Some(_), Some(_)) => bail!("dataset: give `path` or `hub_id`, not both"),
            _ => {}
        }
        self.encoding()?;
        if let Some(d) = &self.delimiter {
            if d.len() != 1 {
                bail!("dataset key `delimiter`: expected one ASCII character, got {d:?}");
            }
        }
        if self.label_names.is_some() && self.label_names_file.is_some() {
            bail!("dataset: give `label_names` or `label_names_file`, not both");
        }
        if let Some(Columns::Many(v)) = &self.text_column {
            if v.is_empty() {
                bail!("dataset key `text_column`: expected a column or a non-empty list");
            }
        }
        Ok(())
    }
}
