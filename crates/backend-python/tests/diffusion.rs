//! The real worker on a tiny random-weight Stable Diffusion pipeline (built from configs by
//! tiny_diffusion.py, no download) on real PartiPrompts prompts: each image is a PNG of the
//! size asked, written where the harness said, hashed from the file, and byte for byte the
//! image the same pipeline gives when called directly in Python with the same seed; warm-up
//! images are not kept. Needs python3 with torch, transformers and diffusers: fails without
//! (testkit's rule).

use powerhungry_backend_python::{diffusion_spec, PythonDiffusion, SuiteContext};
use powerhungry_tasks::{Backend, Example, Input, Output, PredictionScope, TaskName};
use std::path::Path;

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

fn tiny_diffusion(python: &str, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tiny_diffusion.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "tiny_diffusion.py {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The first `n` prompts of PartiPrompts (the bundled TSV's first column).
fn parti_prompts(n: usize) -> Vec<Example> {
    let tsv = powerhungry_testkit::repo_root().join("data/parti-prompts/PartiPrompts.tsv");
    let text = std::fs::read_to_string(&tsv).expect("PartiPrompts.tsv reads");
    text.lines()
        .skip(1)
        .take(n)
        .enumerate()
        .map(|(i, l)| Example {
            id: format!("PartiPrompts.tsv:{}", i + 2),
            input: Input::Text(l.split('\t').next().expect("prompt").to_string()),
            label: None,
            gold: None,
        })
        .collect()
}

#[test]
fn images_are_pngs_of_the_size_asked_and_match_the_pipeline_called_directly() {
    let Some(python) = python_with_diffusers() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    tiny_diffusion(&python, &["build", &d.join("sd").to_string_lossy()]);
    let ctx = SuiteContext {
        base_dir: d.into(),
        python: Some(python.clone()),
        images_dir: Some(d.join("images")),
        ..Default::default()
    };
    let options: toml::Table =
        toml::from_str("num_inference_steps = 2\nheight = 32\nwidth = 32\nseed = 5").expect("toml");
    assert_eq!(
        powerhungry_backend_python::missing_diffusion(Some("sd"), &options, &ctx),
        None
    );
    let spec = diffusion_spec(Some("sd"), &options, &ctx).expect("spec");
    let mut b = PythonDiffusion::load(spec).unwrap_or_else(|e| panic!("{e:#}"));
    b.prepare(TaskName::ImageGeneration, &[]).expect("prepare");
    assert!(b.prepare(TaskName::TextGeneration, &[]).is_err());
    let info = b.info();
    assert!(
        info.description.contains("StableDiffusionPipeline")
            && info.description.contains("float32")
            && info.description.contains("diffusers 0.35.2"),
        "{}",
        info.description
    );
    assert!(info.parameters.is_some_and(|p| p > 1000), "{info:?}");

    let examples = parti_prompts(3);
    let batch: Vec<&Example> = examples.iter().collect();
    let scope = |warmup| PredictionScope {
        run: 4,
        model: "tiny sd".into(),
        dataset: "parti-prompts".into(),
        repetition: 0,
        warmup,
    };
    // Before `begin`, the backend does not know where images go.
    assert!(b.predict(&batch).is_err());

    b.begin(&scope(true)).expect("begin");
    let warm = b.predict(&batch[..1]).unwrap_or_else(|e| panic!("{e:#}"));
    let Output::Image(w) = &warm[0].output else {
        panic!("{warm:?}")
    };
    assert!(!w.path.exists(), "warm-up images are not kept: {w:?}");

    b.begin(&scope(false)).expect("begin");
    let preds = b.predict(&batch).unwrap_or_else(|e| panic!("{e:#}"));
    let folder = d.join("images/run-4/tiny_sd/parti-prompts");
    let mut hashes = Vec::new();
    for (i, (p, e)) in preds.iter().zip(&examples).enumerate() {
        let Output::Image(img) = &p.output else {
            panic!("{p:?}")
        };
        let want = folder.join(format!("r0-{i}-PartiPrompts.tsv_{}.png", i + 2));
        assert_eq!(img.path, want);
        let bytes = std::fs::read(&img.path).expect("image file");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!((img.width, img.height, img.steps), (32, 32, 2), "{img:?}");
        assert_eq!(
            img.sha256,
            powerhungry_backend_python::image_file::sha256_hex(&bytes)
        );
        // The prompt's tokens: the tiny tokenizer has one a character (no merges).
        let prompt = e.input.as_text().expect("text");
        assert!(
            p.input_tokens > 0 && p.input_tokens as usize <= prompt.len(),
            "{p:?}"
        );
        hashes.push(img.sha256.clone());
    }
    assert_eq!(b.last_call_seconds().len(), 3);

    // Known answer: the pipeline called directly in Python, same prompt, seed, steps, size.
    let direct = d.join("direct.png");
    let prompt = examples[0].input.as_text().expect("text");
    tiny_diffusion(
        &python,
        &[
            "direct",
            &d.join("sd").to_string_lossy(),
            prompt,
            "5",
            "2",
            "32",
            "32",
            &direct.to_string_lossy(),
        ],
    );
    let direct = std::fs::read(&direct).expect("direct image");
    assert_eq!(
        powerhungry_backend_python::image_file::sha256_hex(&direct),
        hashes[0],
        "the worker's image differs from the pipeline's own"
    );

    // The same repetition again (resume) writes the same files, the same bytes.
    b.begin(&scope(false)).expect("begin");
    let again = b.predict(&batch).unwrap_or_else(|e| panic!("{e:#}"));
    let again: Vec<String> = again
        .iter()
        .map(|p| match &p.output {
            Output::Image(i) => i.sha256.clone(),
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(again, hashes);
    let files = std::fs::read_dir(&folder).expect("folder").count();
    assert_eq!(files, 3, "one file per measured image, nothing else");
}
