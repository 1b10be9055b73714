//! The real worker on tiny random-weight models (built from configs by tiny_models.py, no
//! download) for the pipelines the bench test does not cover: token classification, fill-mask,
//! GPT-2 generation and ViT image classification, on real inputs from the shared datasets.
//! The worker's raw answers must equal the same pipeline called directly in Python, and map to
//! our outputs. Needs python3 with torch and transformers: fails without (testkit's rule).

use powerhungry_backend_python::{mapping, LoadSpec, PythonPipeline, Spawn};
use powerhungry_tasks::{Backend, Example, Input, Output, TaskName};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn python_with_transformers() -> Option<String> {
    let python = powerhungry_testkit::program("python3", "install Python 3")?;
    let ok = std::process::Command::new(&python)
        .args(["-c", "import torch, transformers"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return powerhungry_testkit::missing(
            "torch and transformers for python3",
            "python3 -m pip install -r python/requirements-worker.txt (.ci/run does this)",
        );
    }
    Some(python.to_string_lossy().into_owned())
}

fn tiny_models(python: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tiny_models.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "tiny_models.py {args:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Floats equal to 1e-6 relative (same library, same process kind: they agree bit for bit in
/// practice; the tolerance only absorbs JSON's decimal round trip).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-6 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

struct Case {
    model: &'static str,
    task: TaskName,
    inputs: Vec<Input>,
}

fn first_lines(path: &Path, n: usize, words: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("dataset reads");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('='))
        .take(n)
        .map(|l| {
            l.split_whitespace()
                .take(words)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn the_worker_answers_as_the_pipeline_called_directly() {
    let Some(python) = python_with_transformers() else {
        return;
    };
    let (Some(wiki), Some(conll), Some(cifar)) = (
        powerhungry_testkit::shared("datasets/wikitext-2/test.txt"),
        powerhungry_testkit::shared("datasets/conll2003/eng.testb"),
        powerhungry_testkit::shared("datasets/cifar10-test-sample/test"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    tiny_models(
        &python,
        &[
            "build",
            &d.to_string_lossy(),
            "bert-ner",
            "bert-mlm",
            "gpt2",
            "vit",
        ],
    );

    // CoNLL-2003 sentences as token lists (first column, blank lines between sentences).
    let conll_text = std::fs::read_to_string(&conll).expect("conll");
    let sentences: Vec<Input> = conll_text
        .split("\n\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.starts_with("-DOCSTART-"))
                .filter_map(|l| l.split_whitespace().next().map(String::from))
                .collect::<Vec<_>>()
        })
        .filter(|t| t.len() > 3)
        .take(3)
        .map(Input::Tokens)
        .collect();
    let masked: Vec<Input> = first_lines(&wiki, 3, 20)
        .into_iter()
        .map(|l| {
            let words: Vec<String> = l.split(' ').map(String::from).collect();
            let masked = words.len() - 1;
            Input::Masked { words, masked }
        })
        .collect();
    let prompts: Vec<Input> = first_lines(&wiki, 3, 20)
        .into_iter()
        .map(Input::Text)
        .collect();
    let mut images: Vec<_> = ["cat", "ship", "dog"]
        .iter()
        .filter_map(|c| std::fs::read_dir(cifar.join(c)).ok()?.flatten().next())
        .map(|e| Input::Image(e.path()))
        .collect();
    images.sort_by_key(|i| format!("{i:?}"));
    assert_eq!(images.len(), 3, "three CIFAR-10 images");

    let cases = [
        Case {
            model: "bert-ner",
            task: TaskName::TokenClassification,
            inputs: sentences,
        },
        Case {
            model: "bert-mlm",
            task: TaskName::MaskedLanguageModelling,
            inputs: masked,
        },
        Case {
            model: "gpt2",
            task: TaskName::TextGeneration,
            inputs: prompts,
        },
        Case {
            model: "vit",
            task: TaskName::ImageClassification,
            inputs: images,
        },
    ];
    for case in cases {
        assert_eq!(case.inputs.len(), 3, "{}", case.model);
        let model = d.join(case.model).to_string_lossy().into_owned();
        let mut call_kwargs = mapping::default_call_kwargs(case.task);
        if case.task == TaskName::TextGeneration {
            // GPT-2's config samples in the text-generation pipeline (its task_specific_params):
            // greedy here, so that two calls can be compared.
            call_kwargs.insert("do_sample".into(), Value::Bool(false));
        }
        let mut b = PythonPipeline::load(LoadSpec {
            spawn: Spawn {
                python: python.clone(),
                script: None,
                env: vec![],
                log: None,
            },
            task: case.task,
            pipeline: case.task.pipeline().into(),
            model: model.clone(),
            device: "cpu".into(),
            dtype: None,
            pipeline_kwargs: Default::default(),
            call_kwargs: call_kwargs.clone(),
            label_map: Default::default(),
            prompt: None,
            timeout: Duration::from_secs(300),
        })
        .unwrap_or_else(|e| panic!("{}: {e:#}", case.model));
        let labels: Vec<String> = Vec::new();
        b.prepare(case.task, &labels).expect("prepare");
        let mask = if case.task == TaskName::MaskedLanguageModelling {
            Some("[MASK]")
        } else {
            None
        };
        let inputs: Vec<Value> = case
            .inputs
            .iter()
            .map(|i| mapping::pipeline_input(case.task, i, mask).expect("input maps"))
            .collect();
        let got = b
            .raw("infer", inputs.clone())
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.model));
        // The worker's own per-call time is there and positive.
        assert!(got.iter().all(|g| g.1 > 0.0), "{}: {:?}", case.model, got);

        std::fs::write(d.join("in.json"), Value::Array(inputs).to_string()).expect("write");
        std::fs::write(d.join("kw.json"), Value::Object(call_kwargs).to_string()).expect("write");
        let want: Vec<Value> = serde_json::from_str(&tiny_models(
            &python,
            &[
                "direct",
                &model,
                case.task.pipeline(),
                &d.join("in.json").to_string_lossy(),
                &d.join("kw.json").to_string_lossy(),
            ],
        ))
        .expect("direct JSON");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!(same(&g.0, w), "{}: worker {}\n direct {w}", case.model, g.0);
        }

        // And through predict: our output shape for the task.
        let examples: Vec<Example> = case
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| Example {
                id: i.to_string(),
                input: input.clone(),
                label: None,
                gold: None,
            })
            .collect();
        let refs: Vec<&Example> = examples.iter().collect();
        let preds = b
            .predict(&refs)
            .unwrap_or_else(|e| panic!("{}: {e:#}", case.model));
        for p in &preds {
            let ok = match (case.task, &p.output) {
                (TaskName::TokenClassification, Output::Entities(_)) => true,
                (TaskName::MaskedLanguageModelling, Output::Words(w)) => w.len() == 5,
                (TaskName::TextGeneration, Output::Text(_)) => p.input_tokens > 0,
                // No dataset labels given: the model's own (CIFAR-10 names) are kept unparsed.
                (TaskName::ImageClassification, Output::Unparsed(l)) => !l.is_empty(),
                _ => false,
            };
            assert!(ok, "{}: {p:?}", case.model);
        }
        assert!(
            b.info().description.contains("torch 2.15.0"),
            "{}",
            b.info().description
        );
    }
}
