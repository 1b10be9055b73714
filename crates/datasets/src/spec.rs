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
    /// Plain text, one row per line (WikiText's `wiki.test.tokens`); the column is `text`.
    TextLines,
    /// SQuAD v1.1 JSON (`data[].paragraphs[].qas[]`), extractive QA.
    SquadJson,
    /// CoNLL column format: one token per line, blank lines between sentences,
    /// `-DOCSTART-` lines between documents (CoNLL-2003, WikiANN's XTREME TSV).
    Conll,
    /// COCO `instances_*.json` (object detection boxes).
    CocoInstances,
    /// COCO `captions_*.json` (image captioning references).
    CocoCaptions,
    /// A folder of sub-folders named by class, one image per file (CIFAR-10 `test/<class>/`).
    ImageFolder,
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
            Format::TextLines => "text-lines",
            Format::SquadJson => "squad-json",
            Format::Conll => "conll",
            Format::CocoInstances => "coco-instances",
            Format::CocoCaptions => "coco-captions",
            Format::ImageFolder => "image-folder",
        }
    }

    /// Every format, for error messages.
    pub const ALL: [Format; 12] = [
        Format::Csv,
        Format::Tsv,
        Format::Jsonl,
        Format::Parquet,
        Format::LabelFiles,
        Format::LabelDirs,
        Format::TextLines,
        Format::SquadJson,
        Format::Conll,
        Format::CocoInstances,
        Format::CocoCaptions,
        Format::ImageFolder,
    ];

    /// Formats that hold rows of columns (the column keys apply to them).
    pub fn is_tabular(self) -> bool {
        matches!(
            self,
            Format::Csv | Format::Tsv | Format::Jsonl | Format::Parquet | Format::TextLines
        )
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
                 of {}",
                path.display(),
                Format::ALL.map(Format::name).join(", ")
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

    // ---- keys of the tasks other than text classification (docs/datasets.md) ----
    /// Extractive QA from CSV/JSON Lines: the question column (default `question`).
    pub question_column: Option<Column>,
    /// Extractive QA: the context column (default `context`; SciQ: `support`).
    pub context_column: Option<Column>,
    /// Extractive QA: the gold answer(s) (default `answers`; SciQ: `correct_answer`). A string
    /// is one answer; a JSON array of strings, or an object with a `text` array (Hugging Face
    /// `squad`), is several.
    pub answers_column: Option<Column>,
    /// Summarization: the reference summary column (default `summary`).
    pub reference_column: Option<Column>,
    /// CoNLL: the 0-based column of the token (default 0).
    pub token_column: Option<usize>,
    /// CoNLL: the 0-based column of the tag (default the last one).
    pub tag_column: Option<usize>,
    /// CoNLL: `iob1` (CoNLL-2003's own scheme, converted to IOB2 when read) or `iob2`
    /// (kept as is). Default `iob1`, which is harmless on IOB2 files (the conversion leaves
    /// valid IOB2 unchanged).
    pub tag_scheme: Option<String>,
    /// COCO: the folder of the image files (default: the folder named after the JSON file's
    /// last `_` part next to its folder, `annotations/instances_val2017.json` -> `val2017/`).
    pub image_dir: Option<PathBuf>,
    /// COCO: what an image listed in the JSON but missing on disk is: `error` (default) or
    /// `skip` (counted in the load report).
    pub missing_images: Option<String>,
    /// Masked LM: which whitespace word (1-based) is masked; the input is the words up to
    /// it. Default 20, as the study.
    pub mask_word: Option<usize>,
    /// Text and image generation: how many leading whitespace words form the prompt
    /// (default 20 for text generation, 50 for image generation, as the study).
    pub prompt_words: Option<usize>,
    /// Read at most this many rows (lines, records) before anything is dropped (the study's
    /// WikiText text generation: 2,500 rows read, empties dropped).
    pub max_rows: Option<usize>,
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
            image_dir: fix(&self.image_dir),
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
        self.tag_scheme()?;
        self.skip_missing_images()?;
        for (key, v) in [
            ("mask_word", self.mask_word),
            ("prompt_words", self.prompt_words),
            ("max_rows", self.max_rows),
        ] {
            if v == Some(0) {
                bail!("dataset key `{key}`: expected a positive number, got 0");
            }
        }
        if let (Some(t), Some(g)) = (self.token_column, self.tag_column) {
            if t == g {
                bail!("dataset keys `token_column` and `tag_column`: both are column {t}");
            }
        }
        Ok(())
    }

    /// `tag_scheme`: true when tags are IOB1 (to be converted).
    pub fn tag_scheme(&self) -> Result<bool> {
        match self.tag_scheme.as_deref() {
            None | Some("iob1") => Ok(true),
            Some("iob2") => Ok(false),
            Some(other) => {
                bail!("dataset key `tag_scheme`: expected \"iob1\" or \"iob2\", got {other:?}")
            }
        }
    }

    /// `missing_images`: true for `skip`.
    pub fn skip_missing_images(&self) -> Result<bool> {
        match self.missing_images.as_deref() {
            None | Some("error") => Ok(false),
            Some("skip") => Ok(true),
            Some(other) => {
                bail!("dataset key `missing_images`: expected \"error\" or \"skip\", got {other:?}")
            }
        }
    }
}
