//! The Hugging Face hub cache layout, read offline:
//! `<cache>/datasets--<org>--<name>/{refs/<ref>, snapshots/<commit>/...}`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The hub cache directory: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub` (the same order as huggingface_hub).
pub fn hf_hub_cache_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
}

/// The snapshot folder of dataset `id` (`org/name`) at `revision` (a commit, or a ref name;
/// default `main`). Nothing is downloaded: a missing dataset is an error that says how to
/// get it.
pub fn resolve_hub_dataset(
    id: &str,
    revision: Option<&str>,
    cache_dir: Option<&Path>,
) -> Result<PathBuf> {
    if id.split('/').count() > 2 || id.is_empty() || id.starts_with('/') || id.ends_with('/') {
        bail!("dataset key `hub_id`: expected `org/name` or `name`, got {id:?}");
    }
    let cache = match cache_dir.map(Path::to_path_buf).or_else(hf_hub_cache_dir) {
        Some(c) => c,
        None => {
            bail!("dataset key `hub_id`: no hub cache directory (set HF_HUB_CACHE or `cache_dir`)")
        }
    };
    let repo = cache.join(format!("datasets--{}", id.replace('/', "--")));
    let how = format!(
        "this machine reads the hub cache only; on a machine with network run \
         `huggingface-cli download --repo-type dataset {id}` (or `datasets.load_dataset`) and copy \
         {} here, or point `path` at the data files",
        repo.display()
    );
    if !repo.is_dir() {
        bail!(
            "dataset {id:?} is not in the hub cache ({} does not exist): {how}",
            repo.display()
        );
    }
    let revision = revision.unwrap_or("main");
    let snapshots = repo.join("snapshots");
    let direct = snapshots.join(revision);
    if revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit()) && direct.is_dir() {
        return Ok(direct);
    }
    let ref_file = repo.join("refs").join(revision);
    if ref_file.is_file() {
        let commit = std::fs::read_to_string(&ref_file)
            .with_context(|| format!("cannot read {}", ref_file.display()))?;
        let snap = snapshots.join(commit.trim());
        if snap.is_dir() {
            return Ok(snap);
        }
        bail!(
            "{} points to {} which is missing: {how}",
            ref_file.display(),
            snap.display()
        );
    }
    bail!(
        "dataset {id:?}: revision {revision:?} is neither a ref under {} nor a snapshot under {}: {how}",
        repo.join("refs").display(),
        snapshots.display()
    )
}
