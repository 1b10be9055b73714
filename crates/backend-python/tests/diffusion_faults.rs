//! Faults of image generation across the real process boundary: small Python workers that
//! speak the protocol, then die mid-batch or lie about the image they wrote (no file, not a
//! PNG, another size, another path). Each is an error of that inference, naming the file;
//! nothing is hashed from a file that is not what the worker said.

use powerhungry_backend_python::{DiffusionSpec, PythonDiffusion, Spawn};
use powerhungry_tasks::{Backend, Example, Input, PredictionScope};
use std::path::Path;
use std::time::Duration;

/// A PNG signature and IHDR of `w`x`h` (enough for the harness's check), as Python bytes.
const PNG_HEADER: &str =
    "b'\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR' + w.to_bytes(4, 'big') + h.to_bytes(4, 'big')";

/// A worker that answers handshake and load_diffusion, then does `on_generate` (Python
/// statements with `req`, `answer` and `item` (the first input) in scope).
fn fake_worker(dir: &Path, on_generate: &str) -> std::path::PathBuf {
    let body = format!(
        r#"import json, sys
def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()
def png(path, w, h):
    open(path, "wb").write({PNG_HEADER})
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "handshake":
        answer({{"id": req["id"], "ok": True, "protocol": 2, "python": "3", "torch": "t",
                "transformers": "t", "diffusers": "d", "cuda": False, "device_name": "fake"}})
    elif req["op"] == "load_diffusion":
        answer({{"id": req["id"], "ok": True, "parameters": 1, "model_class": "Fake",
                "device": "cpu", "dtype": "float32"}})
    else:
        item = req["inputs"][0]
{}
"#,
        on_generate
            .lines()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let path = dir.join("worker.py");
    std::fs::write(&path, body).expect("write fake worker");
    path
}

/// Load a fake worker, generate one image, return the result's error (None: it succeeded).
fn generate_error(on_generate: &str) -> Option<Result<(), String>> {
    let python = powerhungry_testkit::program("python3", "install Python 3 (CI has it)")?;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = fake_worker(dir.path(), on_generate);
    let spec = DiffusionSpec {
        spawn: Spawn {
            python: python.to_string_lossy().into_owned(),
            script: Some(script),
            env: vec![],
            log: None,
        },
        model: "unused".into(),
        device: None,
        dtype: None,
        pipeline_kwargs: Default::default(),
        call_kwargs: Default::default(),
        seed: 0,
        width: Some(32),
        height: Some(32),
        images_dir: dir.path().join("images"),
        timeout: Duration::from_secs(30),
    };
    let mut b = PythonDiffusion::load(spec).expect("fake loads");
    b.begin(&PredictionScope {
        run: 1,
        model: "m".into(),
        dataset: "d".into(),
        repetition: 0,
        warmup: false,
    })
    .expect("begin");
    let ex = Example {
        id: "7".into(),
        input: Input::Text("a red cube".into()),
        label: None,
        gold: None,
    };
    Some(b.predict(&[&ex]).map(|_| ()).map_err(|e| format!("{e:#}")))
}

fn answer_with(write: &str, path: &str, w: u32, h: u32) -> String {
    format!(
        "{write}\nanswer({{'id': req['id'], 'ok': True, 'results': [{{'path': {path}, 'width': {w}, \
         'height': {h}, 'steps': 2, 'seconds': 0.1, 'input_tokens': 3}}]}})"
    )
}

#[test]
fn an_honest_fake_passes_so_the_checks_below_are_what_fail() {
    let Some(r) = generate_error(&answer_with(
        "png(item['path'], 32, 32)",
        "item['path']",
        32,
        32,
    )) else {
        return;
    };
    assert_eq!(r, Ok(()));
}

#[test]
fn a_worker_that_dies_mid_batch_is_an_error_of_that_inference() {
    let Some(r) = generate_error(
        "sys.stderr.write('RuntimeError: killed mid-denoise (fake)\\n'); sys.stderr.flush()\nsys.exit(9)",
    ) else {
        return;
    };
    let e = r.expect_err("must fail");
    assert!(e.contains("before answering `generate`"), "{e}");
    assert!(e.contains("killed mid-denoise (fake)"), "{e}");
}

#[test]
fn a_worker_that_lies_about_its_image_is_refused_naming_the_file() {
    for (write, path, w, h, want) in [
        ("pass", "item['path']", 32, 32, "cannot be read"),
        (
            "open(item['path'], 'wb').write(b'GIF89a' + bytes(40))",
            "item['path']",
            32,
            32,
            "not a PNG file",
        ),
        (
            "png(item['path'], 16, 16)",
            "item['path']",
            32,
            32,
            "answered a 32x32 image, the file is 16x16",
        ),
        (
            "png(item['path'], 64, 64)",
            "item['path']",
            64,
            64,
            "asked for width 32",
        ),
        (
            "png(item['path'] + '.x', 32, 32)",
            "item['path'] + '.x'",
            32,
            32,
            "it was asked for",
        ),
    ] {
        let Some(r) = generate_error(&answer_with(write, path, w, h)) else {
            return;
        };
        let e = r.expect_err(want);
        assert!(e.contains(want), "{write}: {e}");
        assert!(e.contains("r0-0-7.png"), "names the file: {e}");
    }
}

/// A Python without torch, transformers and diffusers (a bare venv): the preflight says what
/// it lacks, with the pinned pip command, before any window opens.
#[test]
fn a_python_without_diffusers_is_named_with_the_pip_command() {
    let Some(python) = powerhungry_testkit::program("python3", "install Python 3 (CI has it)")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let venv = dir.path().join("venv");
    let made = std::process::Command::new(&python)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .expect("python runs");
    assert!(
        made.status.success(),
        "python3 -m venv: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bare = venv.join("bin/python");
    std::fs::create_dir(dir.path().join("sd")).expect("mkdir");
    std::fs::write(dir.path().join("sd/model_index.json"), "{}").expect("write");
    let ctx = powerhungry_backend_python::SuiteContext {
        base_dir: dir.path().into(),
        python: Some(bare.to_string_lossy().into_owned()),
        images_dir: Some(dir.path().join("images")),
        ..Default::default()
    };
    let m = powerhungry_backend_python::missing_diffusion(Some("sd"), &toml::Table::new(), &ctx)
        .expect("missing");
    assert!(m.contains("lacks torch=="), "{m}");
    assert!(
        m.contains(&format!(
            "{} -m pip install torch==",
            bare.to_string_lossy()
        )) && m.contains("diffusers==0.35.2"),
        "{m}"
    );
}

/// The real worker on a Python where `diffusers` cannot be imported (a shadowing package on
/// PYTHONPATH): the handshake refuses to load a diffusion pipeline, with the pip command.
#[test]
fn the_real_worker_without_diffusers_refuses_with_the_pip_command() {
    let Some(python) = powerhungry_testkit::program("python3", "install Python 3 (CI has it)")
    else {
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let shadow = dir.path().join("diffusers");
    std::fs::create_dir(&shadow).expect("mkdir");
    std::fs::write(
        shadow.join("__init__.py"),
        "raise ImportError('diffusers hidden by the test')\n",
    )
    .expect("write");
    let spec = DiffusionSpec {
        spawn: Spawn {
            python: python.clone(),
            script: None,
            env: vec![(
                "PYTHONPATH".into(),
                dir.path().to_string_lossy().into_owned(),
            )],
            log: None,
        },
        model: "unused".into(),
        device: None,
        dtype: None,
        pipeline_kwargs: Default::default(),
        call_kwargs: Default::default(),
        seed: 0,
        width: None,
        height: None,
        images_dir: dir.path().join("images"),
        timeout: Duration::from_secs(120),
    };
    let e = format!(
        "{:#}",
        PythonDiffusion::load(spec).err().expect("must fail")
    );
    assert!(e.contains("lacks diffusers==0.35.2"), "{e}");
    assert!(
        e.contains(&format!("{python} -m pip install diffusers==0.35.2")),
        "{e}"
    );
}
