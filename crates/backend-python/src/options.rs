//! A transformers model's suite options (`[models.options]`), which Python runs it, and where
//! its weights are (a local folder, or the Hugging Face cache: runs never download unless
//! asked).

use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variable naming the Python interpreter (below `--python`, above the default).
pub const PYTHON_ENV: &str = "POWERHUNGRY_PYTHON";
/// The interpreter when nothing names one.
pub const DEFAULT_PYTHON: &str = "python3";

/// `[models.options]` of a `transformers` `pipeline` model.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineOptions {
    /// The interpreter for this model (overridden by `--python`).
    pub python: Option<String>,
    /// The pipeline task, when not the study's for the dataset's task.
    pub pipeline: Option<String>,
    /// `cpu` (default), `cuda`, `cuda:0`.
    pub device: Option<String>,
    /// The GPUs the worker sees (`CUDA_VISIBLE_DEVICES`, e.g. "1"): the one the meter counts
    /// should be the one the model runs on; `device = "cuda"` is then the first of them.
    pub cuda_visible_devices: Option<String>,
    /// A torch dtype name: `float16`, `bfloat16`, `float32`.
    pub dtype: Option<String>,
    /// Keyword arguments of `transformers.pipeline(...)`.
    #[serde(default)]
    pub pipeline_kwargs: toml::Table,
    /// Keyword arguments of every call (generation limits); over the study's defaults.
    #[serde(default)]
    pub call_kwargs: toml::Table,
    /// Model label -> dataset label, for models whose labels are spelled otherwise.
    #[serde(default)]
    pub label_map: BTreeMap<String, String>,
    /// Zero-shot: a generative pipeline answers the task through this prompt (`"study"`,
    /// `"dspy-chat"` or `{ template = "..." }`) and its answer is parsed (crates/tasks prompts).
    pub prompt: Option<powerhungry_tasks::prompts::PromptStyle>,
    /// Seconds one call may take before the worker counts as hung (default 600).
    pub timeout_s: Option<f64>,
}

impl PipelineOptions {
    pub fn parse(options: &toml::Table) -> Result<PipelineOptions> {
        let o: PipelineOptions = toml::Value::Table(options.clone())
            .try_into()
            .map_err(|e| anyhow!("transformers pipeline options: {e}"))?;
        if let Some(t) = o.timeout_s {
            if !(t.is_finite() && t > 0.0) {
                anyhow::bail!("transformers option `timeout_s` = {t}: expected seconds > 0");
            }
        }
        if let Some(d) = &o.dtype {
            if !["float16", "bfloat16", "float32", "float64"].contains(&d.as_str()) {
                anyhow::bail!(
                    "transformers option `dtype` = {d:?}: expected float16, bfloat16, float32 or float64"
                );
            }
        }
        Ok(o)
    }

    /// The interpreter: `--python` (given as `cli`), the model's option, POWERHUNGRY_PYTHON,
    /// else python3.
    pub fn python(&self, cli: Option<&str>) -> String {
        cli.map(String::from)
            .or_else(|| self.python.clone())
            .or_else(|| std::env::var(PYTHON_ENV).ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PYTHON.to_string())
    }
}

/// The Hugging Face hub cache: HF_HUB_CACHE, HF_HOME/hub, else ~/.cache/huggingface/hub.
pub fn hub_cache() -> PathBuf {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("HF_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("hub");
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".cache/huggingface/hub")
}

/// Where the pipeline loads `model` from: a folder (relative to the suite's folder, or as
/// given), or the id itself when the hub cache holds it (or downloads are allowed).
pub fn locate_model(model: &str, base_dir: &Path, allow_download: bool) -> Result<String> {
    let p = Path::new(model);
    let local = base_dir.join(p);
    if p.is_relative() && local.is_dir() {
        return Ok(local.to_string_lossy().into_owned());
    }
    if p.is_dir() {
        return Ok(model.to_string());
    }
    let cached = hub_cache().join(format!("models--{}", model.replace('/', "--")));
    if cached.is_dir() || allow_download {
        return Ok(model.to_string());
    }
    Err(anyhow!(
        "model `{model}` is neither a local folder (looked in {} and the working directory) \
         nor in the Hugging Face cache at {}; fetch it there (e.g. `huggingface-cli download \
         {model}`), give a folder, or run with --allow-download",
        base_dir.display(),
        hub_cache().display()
    ))
}
