//! `powerhungry bench` with `backend = "transformers"`: tiny random-weight models built from
//! configs by crates/backend-python/tests/tiny_models.py (no download) run end to end through
//! the real binary and the real Python worker on the shared datasets, and every stored
//! prediction equals what the same pipeline returns when called directly in Python.
//! Needs python3 with torch and transformers (python/requirements-worker.txt): fails without.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tiny_models_py() -> PathBuf {
    repo().join("crates/backend-python/tests/tiny_models.py")
}

/// python3 with torch and transformers importable, or the testkit rule.
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

fn run_python(python: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(python)
        .arg(tiny_models_py())
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

/// The pipeline called directly in Python on `inputs`, one raw answer per input.
fn direct(
    python: &str,
    dir: &Path,
    model: &Path,
    task: &str,
    inputs: &Value,
    kwargs: Value,
) -> Vec<Value> {
    let (i, k) = (dir.join("inputs.json"), dir.join("kwargs.json"));
    std::fs::write(&i, inputs.to_string()).expect("write inputs");
    std::fs::write(&k, kwargs.to_string()).expect("write kwargs");
    let out = run_python(
        python,
        &[
            "direct",
            &model.to_string_lossy(),
            task,
            &i.to_string_lossy(),
            &k.to_string_lossy(),
        ],
    );
    serde_json::from_str(&out).expect("direct prints JSON")
}

/// (example id, prediction) of every stored inference of `model`, in order.
fn stored(db: &Path, model: &str) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).expect("store opens");
    let mut q = c
        .prepare(
            "SELECT i.example_id, i.prediction FROM inferences i \
             JOIN repetitions r ON r.id = i.repetition_id JOIN models m ON m.id = r.model_id \
             WHERE m.name = ?1 ORDER BY r.id, i.position",
        )
        .expect("query");
    q.query_map([model], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows read")
}

#[test]
fn tiny_pipelines_run_through_bench_and_match_python() {
    let Some(python) = python_with_transformers() else {
        return;
    };
    let (Some(rt), Some(xquad), Some(wiki)) = (
        powerhungry_testkit::shared("datasets/rt-polarity"),
        powerhungry_testkit::shared("datasets/xquad-en/xquad.en.json"),
        powerhungry_testkit::shared("datasets/wikitext-2/test.txt"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let models = d.join("models");
    run_python(
        &python,
        &[
            "build",
            &models.to_string_lossy(),
            "bert-tc",
            "bert-qa",
            "gpt2",
        ],
    );
    let suite = format!(
        r#"name = "python-worker"
[protocol]
inferences = 6
repetitions = 1
batch_size = 1
warmup = 1
seed = 7
test_fraction = 0.5

[[models]]
name = "tiny-bert-tc"
backend = "transformers"
kind = "pipeline"
model = "models/bert-tc"
datasets = ["rt-polarity"]

[[models]]
name = "tiny-bert-qa"
backend = "transformers"
kind = "pipeline"
model = "models/bert-qa"
datasets = ["xquad"]

[[models]]
name = "tiny-gpt2"
backend = "transformers"
kind = "pipeline"
model = "models/gpt2"
datasets = ["wikitext"]
[models.options]
call_kwargs = {{ do_sample = false }}

[[datasets]]
name = "rt-polarity"
task = "text-classification"
[datasets.source]
path = {rt:?}
format = "label-files"
encoding = "latin-1"
label_map = {{ pos = "positive", neg = "negative" }}

[[datasets]]
name = "xquad"
task = "extractive-qa"
[datasets.test]
path = {xquad:?}
format = "squad-json"

[[datasets]]
name = "wikitext"
task = "text-generation"
[datasets.test]
path = {wiki:?}
format = "text-lines"
max_rows = 200
"#
    );
    std::fs::write(d.join("suite.toml"), suite).expect("write suite");
    let out = Command::cargo_bin("powerhungry")
        .expect("binary")
        .current_dir(d)
        .env("HF_HUB_CACHE", d.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        .env("POWERHUNGRY_CLAIM_DIR", d.join("claims"))
        .args(["bench", "suite.toml", "--quiet", "--intensity", "100"])
        .args([
            "--python", &python, "--store", "r.sqlite", "--json", "s.json",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = d.join("r.sqlite");

    // Each worker's whole stderr is kept beside the store, one file per worker.
    let logs: Vec<_> = std::fs::read_dir(d.join("r.sqlite.logs"))
        .expect("the workers' logs beside the store")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("worker-"))
        .collect();
    assert!(!logs.is_empty(), "no worker log in r.sqlite.logs");

    // The worker's versions are stored with the model.
    let c = rusqlite::Connection::open(&db).expect("store");
    let desc: String = c
        .query_row(
            "SELECT description FROM models WHERE name = 'tiny-bert-qa'",
            [],
            |r| r.get(0),
        )
        .expect("model row");
    assert!(
        desc.contains("transformers 4.57.6") && desc.contains("BertForQuestionAnswering"),
        "{desc}"
    );

    // Text classification: LABEL_i is the dataset's i-th label (sorted: negative, positive).
    let rows = stored(&db, "tiny-bert-tc");
    assert_eq!(rows.len(), 6, "{rows:?}");
    let texts: Vec<Value> = rows
        .iter()
        .map(|(id, _)| {
            let (file, line) = id.rsplit_once(':').expect("file:line id");
            let bytes = std::fs::read(rt.join(file)).expect("rt file");
            let text: String = bytes.iter().map(|&b| b as char).collect(); // latin-1
            let n: usize = line.parse().expect("line number");
            json!(text.lines().nth(n - 1).expect("line"))
        })
        .collect();
    let want = direct(
        &python,
        d,
        &models.join("bert-tc"),
        "text-classification",
        &Value::Array(texts),
        json!({}),
    );
    for ((id, got), raw) in rows.iter().zip(&want) {
        let label = raw[0]["label"].as_str().expect("label");
        let mapped = match label {
            "LABEL_0" => "negative",
            "LABEL_1" => "positive",
            other => panic!("unexpected label {other}"),
        };
        assert_eq!(got, mapped, "{id}: {raw}");
    }

    // Extractive QA: the same answer span as the pipeline called directly.
    let squad: Value =
        serde_json::from_str(&std::fs::read_to_string(&xquad).expect("xquad")).expect("json");
    let mut by_id = std::collections::HashMap::new();
    for art in squad["data"].as_array().expect("data") {
        for p in art["paragraphs"].as_array().expect("paragraphs") {
            for qa in p["qas"].as_array().expect("qas") {
                by_id.insert(
                    qa["id"].as_str().expect("id").to_string(),
                    json!({"question": qa["question"], "context": p["context"]}),
                );
            }
        }
    }
    let rows = stored(&db, "tiny-bert-qa");
    assert_eq!(rows.len(), 6, "{rows:?}");
    let inputs: Vec<Value> = rows.iter().map(|(id, _)| by_id[id].clone()).collect();
    let want = direct(
        &python,
        d,
        &models.join("bert-qa"),
        "question-answering",
        &Value::Array(inputs),
        json!({}),
    );
    for ((id, got), raw) in rows.iter().zip(&want) {
        let got: Value = serde_json::from_str(got).expect("stored answer is JSON");
        assert_eq!(got["answer"]["text"], raw["answer"], "{id}");
        assert_eq!(got["answer"]["start"], raw["start"], "{id}");
        assert_eq!(got["answer"]["end"], raw["end"], "{id}");
    }

    // Text generation ran: a continuation per prompt, stored as text.
    let rows = stored(&db, "tiny-gpt2");
    assert_eq!(rows.len(), 6, "{rows:?}");
    for (id, got) in &rows {
        let got: Value = serde_json::from_str(got).expect("stored text is JSON");
        assert!(got["text"].is_string(), "{id}: {got}");
    }
}
