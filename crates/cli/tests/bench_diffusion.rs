//! `powerhungry bench` with `kind = "diffusion-pipeline"`: a tiny random-weight Stable
//! Diffusion pipeline built from configs by crates/backend-python/tests/tiny_diffusion.py (no
//! download) generates images for 3 PartiPrompts prompts through the real binary and the real
//! Python worker. Every stored image is a PNG of the size asked, in the run's folder beside the
//! store, with the SHA-256 of the file (hashed here by Python's hashlib); the same seed gives
//! the same bytes in another run, another seed other bytes; the windows are stored and
//! `--predictions` exports the images. A model folder without model_index.json is refused,
//! naming it. Needs python3 with torch, transformers and diffusers: fails without.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python_with_diffusers() -> Option<String> {
    let python = powerhungry_testkit::program("python3", "install Python 3")?;
    let ok = std::process::Command::new(&python)
        .args(["-c", "import torch, transformers, diffusers"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return powerhungry_testkit::missing(
            "torch, transformers and diffusers for python3",
            "python3 -m pip install -r python/requirements-worker.txt (.ci/run does this)",
        );
    }
    Some(python.to_string_lossy().into_owned())
}

fn suite(model: &str, seed: u32) -> String {
    let parti = repo().join("data/parti-prompts/PartiPrompts.tsv");
    format!(
        r#"name = "diffusion"
[protocol]
inferences = 3
repetitions = 1
batch_size = 1
warmup = 1
seed = 7

[[models]]
name = "tiny-sd"
backend = "transformers"
kind = "diffusion-pipeline"
model = "{model}"
[models.options]
num_inference_steps = 2
height = 32
width = 32
seed = {seed}

[[datasets]]
name = "parti-prompts"
task = "image-generation"
[datasets.test]
path = {parti:?}
text_column = "Prompt"
"#
    )
}

fn bench(dir: &Path, python: &str, suite_file: &str, predictions: &str) -> std::process::Output {
    bench_with(dir, python, suite_file, predictions, &[])
}

fn bench_with(
    dir: &Path,
    python: &str,
    suite_file: &str,
    predictions: &str,
    env: &[(&str, &Path)],
) -> std::process::Output {
    Command::cargo_bin("powerhungry")
        .expect("binary")
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("HF_HUB_CACHE", dir.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        .env("POWERHUNGRY_CLAIM_DIR", dir.join("claims"))
        .args(["bench", suite_file, "--quiet", "--intensity", "100"])
        .args(["--python", python, "--store", "r.sqlite"])
        .args(["--predictions", predictions])
        .output()
        .expect("run")
}

/// SHA-256 of each file, by Python's hashlib (not the harness's code).
fn hashlib(python: &str, files: &[PathBuf]) -> Vec<String> {
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import hashlib, sys\nfor p in sys.argv[1:]: print(hashlib.sha256(open(p, 'rb').read()).hexdigest())",
        ])
        .args(files)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// The stored images of `run`, in position order.
fn stored_images(db: &Path, run: i64) -> Vec<Value> {
    let c = rusqlite::Connection::open(db).expect("store opens");
    let mut q = c
        .prepare(
            "SELECT i.prediction FROM inferences i JOIN repetitions r ON r.id = i.repetition_id \
             WHERE r.run_id = ?1 ORDER BY i.position",
        )
        .expect("query");
    q.query_map([run], |r| r.get::<_, String>(0))
        .expect("rows")
        .map(|p| {
            let v: Value = serde_json::from_str(&p.expect("row")).expect("stored JSON");
            v["image"].clone()
        })
        .collect()
}

#[test]
fn tiny_diffusion_runs_through_bench_with_its_images_beside_the_store() {
    let Some(python) = python_with_diffusers() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let script = repo().join("crates/backend-python/tests/tiny_diffusion.py");
    let built = std::process::Command::new(&python)
        .arg(&script)
        .arg("build")
        .arg(d.join("models/sd"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("python runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    std::fs::write(d.join("seed1.toml"), suite("models/sd", 1)).expect("write suite");
    std::fs::write(d.join("seed2.toml"), suite("models/sd", 2)).expect("write suite");

    let mut hashes = Vec::new();
    for (run, file) in [(1i64, "seed1.toml"), (2, "seed1.toml"), (3, "seed2.toml")] {
        let export = format!("p{run}.jsonl");
        let out = bench(d, &python, file, &export);
        assert!(
            out.status.success(),
            "run {run}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let db = d.join("r.sqlite");
        let images = stored_images(&db, run);
        assert_eq!(images.len(), 3, "run {run}: {images:?}");
        let folder = d.join(format!("r.sqlite.images/run-{run}/tiny-sd/parti-prompts"));
        let paths: Vec<PathBuf> = images
            .iter()
            .map(|i| PathBuf::from(i["path"].as_str().expect("path")))
            .collect();
        for (i, (img, path)) in images.iter().zip(&paths).enumerate() {
            assert_eq!(path.parent(), Some(folder.as_path()), "{img}");
            let name = path.file_name().expect("name").to_string_lossy();
            assert!(
                name.starts_with(&format!("r0-{i}-PartiPrompts.tsv_")),
                "{name}"
            );
            let bytes = std::fs::read(path).expect("the stored image exists");
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
            let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            assert_eq!((be(&bytes[16..20]), be(&bytes[20..24])), (32, 32), "{name}");
            assert_eq!(
                (&img["width"], &img["height"], &img["steps"]),
                (&32.into(), &32.into(), &2.into())
            );
        }
        // Only the measured images are kept (the warm-up's is deleted once checked).
        assert_eq!(std::fs::read_dir(&folder).expect("folder").count(), 3);
        let sha: Vec<String> = images
            .iter()
            .map(|i| i["sha256"].as_str().expect("sha256").to_string())
            .collect();
        assert_eq!(
            sha,
            hashlib(&python, &paths),
            "run {run}: stored hash != the file's"
        );

        // Every phase's window, and the inference window's energy, are stored.
        let c = rusqlite::Connection::open(&db).expect("store");
        let phases: Vec<(String, i64, i64)> = c
            .prepare(
                "SELECT w.phase, w.items, (SELECT COUNT(*) FROM window_energy e WHERE e.window_id = w.id) \
                 FROM windows w JOIN repetitions r ON r.id = w.repetition_id WHERE r.run_id = ?1 \
                 ORDER BY w.id",
            )
            .expect("query")
            .query_map([run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows read");
        let names: Vec<&str> = phases.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["load", "warmup", "inference"], "{phases:?}");
        assert_eq!(phases[2].1, 3, "{phases:?}");
        assert!(
            phases.iter().all(|p| p.2 > 0),
            "energy per window: {phases:?}"
        );

        // --predictions exports the images as the store keeps them.
        let text = std::fs::read_to_string(d.join(&export)).expect("export");
        let exported: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(exported.len(), 3);
        for (e, img) in exported.iter().zip(&images) {
            assert_eq!(&e["prediction"]["image"], img, "{e}");
            assert_eq!(e["task"], "image-generation");
        }
        hashes.push(sha);
    }
    assert_eq!(hashes[0], hashes[1], "the same seed gives the same images");
    for (a, b) in hashes[0].iter().zip(&hashes[2]) {
        assert_ne!(a, b, "another seed gives other images");
    }

    // The worker dies mid-run (killed while saving the second measured image, by a
    // sitecustomize the worker's Python picks up): an error of that repetition, with the
    // worker's last words, and nothing of it stored.
    let site = d.join("site");
    std::fs::create_dir(&site).expect("mkdir");
    std::fs::write(
        site.join("sitecustomize.py"),
        "import os, sys\n\
         try:\n    import PIL.Image\nexcept ImportError:\n    PIL = None\n\
         if PIL is not None:\n\
         \x20   save = PIL.Image.Image.save\n\
         \x20   def dying_save(self, fp, *a, **k):\n\
         \x20       if 'r0-1-' in str(fp):\n\
         \x20           sys.stderr.write('killed by the test at the second image\\n'); sys.stderr.flush()\n\
         \x20           os._exit(9)\n\
         \x20       return save(self, fp, *a, **k)\n\
         \x20   PIL.Image.Image.save = dying_save\n",
    )
    .expect("write sitecustomize");
    std::fs::write(d.join("dies.toml"), suite("models/sd", 3)).expect("write suite");
    let out = bench_with(
        d,
        &python,
        "dies.toml",
        "p5.jsonl",
        &[("PYTHONPATH", &site)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("repetition 1")
            && stderr.contains("before answering `generate`")
            && stderr.contains("killed by the test at the second image"),
        "{stderr}"
    );
    let c = rusqlite::Connection::open(d.join("r.sqlite")).expect("store");
    let kept: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM repetitions WHERE run_id = 4",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(kept, 0, "the failed repetition is not stored");

    // A folder that is not a diffusers pipeline: refused before anything runs, named.
    std::fs::create_dir(d.join("models/empty")).expect("mkdir");
    std::fs::write(d.join("empty.toml"), suite("models/empty", 1)).expect("write suite");
    let out = bench(d, &python, "empty.toml", "p4.jsonl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("models/empty") && stderr.contains("no model_index.json"),
        "{stderr}"
    );
}
