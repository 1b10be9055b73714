//! Suite files: which models run on which datasets under which protocol. TOML, every table
//! closed (`deny_unknown_fields`), and every error names the file, the line, the key and what
//! was expected. docs/bench.md has the full schema and an example.

mod error;

pub use error::SuiteError;

use powerhungry_datasets::DatasetSpec;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A parsed, validated suite.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Short name, used in the store and the summaries.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub protocol: Protocol,
    /// Where the energy was drawn, for carbon (flags and environment take precedence).
    #[serde(default)]
    pub location: Option<SuiteLocation>,
    pub models: Vec<ModelSpec>,
    pub datasets: Vec<DatasetEntry>,
}

/// How every model x dataset pair is measured.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocol {
    /// Measured inferences per model, dataset and repetition (the studies: 1,000).
    #[serde(deserialize_with = "positive")]
    pub inferences: u32,
    /// Repetitions of each model x dataset (the studies: 10).
    #[serde(deserialize_with = "positive")]
    pub repetitions: u32,
    /// Inputs per call to the model (the studies: 1).
    #[serde(deserialize_with = "positive")]
    pub batch_size: u32,
    /// Inferences run before the measured ones, in their own window, not counted.
    pub warmup: u32,
    /// Seed of the train/test split and of the sample.
    pub seed: u64,
    /// Share of each dataset held out for testing; models that learn are fitted on the rest
    /// and the measured sample is drawn from the test part (Zschache and Hartwig: 0.5).
    #[serde(deserialize_with = "fraction")]
    pub test_fraction: f64,
    /// Cap on the training examples (stratified, seeded), to keep fitting short; none = all.
    #[serde(default, deserialize_with = "positive_opt")]
    pub max_train: Option<u32>,
    /// Different seeded train/test splits, one per repetition: repetition `r` uses split
    /// `r mod splits` (Zschache and Hartwig: 10 splits, the same for every model). Split 0 uses
    /// `seed` itself; split `k >= 1` uses a seed derived from `seed` and `k` (`split_seed`).
    /// With the default 1, every repetition reuses one split and one sample, so accuracy does
    /// not vary between repetitions. Left out of the suite hash when 1, so older runs resume.
    #[serde(
        default = "one",
        deserialize_with = "positive",
        skip_serializing_if = "is_one"
    )]
    pub splits: u32,
}

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

impl Protocol {
    /// The seed of split `k` (split 0: the protocol's seed, as before splits existed).
    pub fn split_seed(&self, k: u32) -> u64 {
        if k == 0 {
            return self.seed;
        }
        // SplitMix64 of (seed, k): distinct, well-spread seeds for the splits.
        let mut z = self
            .seed
            .wrapping_add(u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The split repetition `r` uses.
    pub fn split_of(&self, repetition: u32) -> u32 {
        repetition % self.splits.max(1)
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            inferences: 1000,
            repetitions: 10,
            batch_size: 1,
            warmup: 10,
            seed: 42,
            test_fraction: 0.5,
            max_train: None,
            splits: 1,
        }
    }
}

/// The suite's `[location]` table; same keys as `powerhungry intensity`'s flags.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteLocation {
    pub country: Option<String>,
    pub region: Option<String>,
    pub cloud: Option<String>,
    pub intensity: Option<f64>,
    pub pue: Option<f64>,
}

/// Backends a model can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendName {
    /// Bag-of-words / TF-IDF / embedding features with logistic regression.
    Traditional,
    /// Transformer models in pure Rust.
    Candle,
    /// Hugging Face transformers pipelines (`kind = "pipeline"`) and diffusers pipelines
    /// (`kind = "diffusion-pipeline"`) in a Python worker (crates/backend-python). A Hub
    /// model not in the local cache, or a diffusers folder without model_index.json, is "missing"
    /// (skipped with `if_missing = "skip"`, else refused before anything runs).
    Transformers,
    /// A model behind an OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama): options
    /// `base_url`, `api`, `stream`, `api_key_env`, `concurrency`, `timeout`, ... (docs/openai.md).
    Openai,
}

impl BackendName {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Traditional => "traditional",
            BackendName::Candle => "candle",
            BackendName::Transformers => "transformers",
            BackendName::Openai => "openai",
        }
    }
}

/// What to do when a model's files cannot be found locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IfMissing {
    /// Stop with an error (default).
    #[default]
    Fail,
    /// Say so plainly, with how to get the files, and run the other models.
    Skip,
}

/// One model of the suite.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Unique within the suite.
    pub name: String,
    pub backend: BackendName,
    /// What the backend builds, e.g. "bow-lr", "tfidf-char-lr", "embedding-lr",
    /// "sequence-classifier" (checked against the backend registry).
    pub kind: String,
    /// Hugging Face model id or local folder, for kinds that load weights.
    #[serde(default)]
    pub model: Option<String>,
    /// Kind-specific options, passed to the backend (checked by it).
    #[serde(default)]
    pub options: toml::Table,
    #[serde(default)]
    pub if_missing: IfMissing,
    /// Restrict the model to these datasets (default: all of the suite's).
    #[serde(default)]
    pub datasets: Option<Vec<String>>,
}

pub use powerhungry_tasks::TaskName;

/// One dataset of the suite: a name, its task, and where its examples come from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEntry {
    pub name: String,
    pub task: TaskName,
    /// Where and how to read it, as one source that the harness splits into train and test
    /// parts (`protocol.test_fraction`, seeded); relative paths are taken from the suite
    /// file's folder. Give either `source`, or `test` (and `train`) for a dataset that comes
    /// with its own split files.
    #[serde(default)]
    pub source: Option<DatasetSpec>,
    /// The dataset's own training part (a benchmark's official train file), used as is.
    #[serde(default)]
    pub train: Option<DatasetSpec>,
    /// The dataset's own test part: the measured sample is drawn from it, never re-split.
    #[serde(default)]
    pub test: Option<DatasetSpec>,
}

/// Where a dataset's examples come from, once the suite is validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DatasetSources<'a> {
    /// One source, split by the harness with the protocol's seed and test fraction.
    One(&'a DatasetSpec),
    /// The dataset's own parts; `train` may be absent (models that are not fitted need none).
    OwnSplit {
        train: Option<&'a DatasetSpec>,
        test: &'a DatasetSpec,
    },
}

impl DatasetEntry {
    /// The sources of a validated entry (`validate` guarantees one of the two shapes).
    pub fn sources(&self) -> Result<DatasetSources<'_>, String> {
        match (&self.source, &self.train, &self.test) {
            (Some(s), None, None) => Ok(DatasetSources::One(s)),
            (None, train, Some(test)) => Ok(DatasetSources::OwnSplit {
                train: train.as_ref(),
                test,
            }),
            (None, Some(_), None) => {
                Err("`train` without `test`: give the test part too (`[datasets.test]`)".into())
            }
            (None, None, None) => Err(
                "expected `source` (one table the harness splits) or `test` and `train` \
                 (the dataset's own split files)"
                    .into(),
            ),
            (Some(_), _, _) => Err(
                "give `source` or `train`/`test`, not both: `source` is split by the harness, \
                 `train`/`test` are used as they are"
                    .into(),
            ),
        }
    }
}

/// A suite with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub suite: Suite,
    pub path: PathBuf,
    pub text: String,
}

impl LoadedSuite {
    /// Read and validate a suite file.
    pub fn load(path: &Path) -> Result<LoadedSuite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|e| SuiteError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
        let suite = parse(&text, &path.display().to_string())?;
        Ok(LoadedSuite {
            suite,
            path: path.to_path_buf(),
            text,
        })
    }

    /// Folder that relative paths in the suite are taken from.
    pub fn base_dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The `source` table of dataset `i` as JSON, as written in the suite (for the store);
    /// for a dataset with its own split files, `{"train": {...}, "test": {...}}`.
    pub fn source_json(&self, i: usize) -> String {
        let entry: Option<toml::Value> = toml::from_str::<toml::Table>(&self.text)
            .ok()
            .and_then(|t| t.get("datasets")?.get(i).cloned());
        let raw = entry.and_then(|d| match d.get("source") {
            Some(s) => Some(s.clone()),
            None => {
                let mut parts = toml::Table::new();
                for key in ["train", "test"] {
                    if let Some(v) = d.get(key) {
                        parts.insert(key.into(), v.clone());
                    }
                }
                (!parts.is_empty()).then_some(toml::Value::Table(parts))
            }
        });
        raw.and_then(|v| serde_json::to_string(&v).ok())
            .unwrap_or_else(|| "null".into())
    }

    /// SHA-256 of the suite text and the protocol actually used (after command-line
    /// overrides), hex: what `--resume` matches a run on.
    pub fn hash(&self, protocol: &Protocol) -> String {
        let mut h = Sha256::new();
        h.update(self.text.as_bytes());
        h.update(b"\0protocol:");
        h.update(
            serde_json::to_string(protocol)
                .unwrap_or_default()
                .as_bytes(),
        );
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Parse and validate suite text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Suite, SuiteError> {
    let de = toml::Deserializer::new(text);
    let mut suite: Suite =
        serde_path_to_error::deserialize(de).map_err(|e| SuiteError::from_toml(file, text, e))?;
    expand_concurrency_sweeps(&mut suite);
    validate(&suite, file, text)?;
    Ok(suite)
}

/// A served model whose `concurrency` is a list (`concurrency = [1, 4, 16]`) is a sweep over
/// those levels in one run: one model per level, named `<name>@c<level>`, each measured and
/// stored on its own (energy per token depends mostly on the batch the server forms). Levels
/// that are not integers are left for the options check to refuse.
fn expand_concurrency_sweeps(suite: &mut Suite) {
    let mut out = Vec::with_capacity(suite.models.len());
    for m in suite.models.drain(..) {
        let levels: Option<Vec<i64>> = match (m.backend, m.options.get("concurrency")) {
            (BackendName::Openai, Some(toml::Value::Array(a))) => {
                a.iter().map(|v| v.as_integer()).collect()
            }
            _ => None,
        };
        match levels {
            Some(levels) if !levels.is_empty() => {
                for level in levels {
                    let mut one = m.clone();
                    one.name = format!("{}@c{level}", m.name);
                    one.options
                        .insert("concurrency".into(), toml::Value::Integer(level));
                    out.push(one);
                }
            }
            _ => out.push(m),
        }
    }
    suite.models = out;
}

fn validate(suite: &Suite, file: &str, text: &str) -> Result<(), SuiteError> {
    let err = |key: String, message: String| SuiteError::invalid(file, text, key, message);
    if suite.name.trim().is_empty() {
        return Err(err("name".into(), "expected a non-empty name".into()));
    }
    if suite.models.is_empty() {
        return Err(err(
            "models".into(),
            "expected at least one [[models]] table".into(),
        ));
    }
    if suite.datasets.is_empty() {
        return Err(err(
            "datasets".into(),
            "expected at least one [[datasets]] table".into(),
        ));
    }
    for (i, m) in suite.models.iter().enumerate() {
        if m.name.trim().is_empty() {
            return Err(err(
                format!("models[{i}].name"),
                "expected a non-empty name".into(),
            ));
        }
        if let Some(j) = suite.models[..i].iter().position(|o| o.name == m.name) {
            return Err(err(
                format!("models[{i}].name"),
                format!(
                    "`{}` is already the name of models[{j}]; names must be unique",
                    m.name
                ),
            ));
        }
        crate::registry::check_kind(m.backend, &m.kind)
            .map_err(|msg| err(format!("models[{i}].kind"), msg))?;
        crate::registry::check_options(m, &suite.protocol)
            .map_err(|msg| err(format!("models[{i}].options"), msg))?;
        for d in m.datasets.iter().flatten() {
            if !suite.datasets.iter().any(|e| &e.name == d) {
                return Err(err(
                    format!("models[{i}].datasets"),
                    format!("`{d}` is not the name of any [[datasets]] table"),
                ));
            }
        }
        for d in &suite.datasets {
            if m.datasets
                .as_ref()
                .is_some_and(|only| !only.contains(&d.name))
            {
                continue;
            }
            crate::registry::check_task(m.backend, &m.kind, d.task).map_err(|msg| {
                err(
                    format!("models[{i}]"),
                    format!("model `{}` on dataset `{}`: {msg}", m.name, d.name),
                )
            })?;
        }
    }
    for (i, d) in suite.datasets.iter().enumerate() {
        if d.name.trim().is_empty() {
            return Err(err(
                format!("datasets[{i}].name"),
                "expected a non-empty name".into(),
            ));
        }
        if let Some(j) = suite.datasets[..i].iter().position(|o| o.name == d.name) {
            return Err(err(
                format!("datasets[{i}].name"),
                format!(
                    "`{}` is already the name of datasets[{j}]; names must be unique",
                    d.name
                ),
            ));
        }
        let sources = d.sources().map_err(|e| err(format!("datasets[{i}]"), e))?;
        let parts: Vec<(&str, &DatasetSpec)> = match sources {
            DatasetSources::One(s) => vec![("source", s)],
            DatasetSources::OwnSplit { train, test } => {
                let mut v = vec![("test", test)];
                v.extend(train.map(|t| ("train", t)));
                v
            }
        };
        for (key, spec) in parts {
            spec.validate()
                .map_err(|e| err(format!("datasets[{i}].{key}"), format!("{e:#}")))?;
        }
    }
    Ok(())
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 0 {
        return Err(serde::de::Error::custom(
            "expected a whole number of at least 1, got 0",
        ));
    }
    Ok(v)
}

fn positive_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    positive(d).map(Some)
}

fn fraction<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v > 0.0 && v < 1.0) {
        return Err(serde::de::Error::custom(format!(
            "expected a number strictly between 0 and 1, got {v}"
        )));
    }
    Ok(v)
}
