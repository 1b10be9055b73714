//! Protocol faults across the real process boundary: small Python workers that die mid-batch,
//! hang, print garbage, answer with the wrong id or lack a package, and a Python that does not
//! exist. Each must fail with a clear error (the worker's last stderr lines, the pip command),
//! and a broken worker must refuse further calls.

use powerhungry_backend_python::{LoadSpec, PythonPipeline, Spawn};
use powerhungry_tasks::{Backend, Example, Input, TaskName};
use std::path::Path;
use std::time::Duration;

/// A worker that speaks the protocol for handshake and load, then does `on_infer` (Python
/// statements with `req` and `answer` in scope).
fn fake_worker(dir: &Path, on_infer: &str) -> std::path::PathBuf {
    let body = format!(
        r#"import json, sys, time
def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "handshake":
        answer({{"id": req["id"], "ok": True, "protocol": 2, "python": "3", "torch": "t",
                "transformers": "t", "diffusers": None, "cuda": False, "device_name": "fake"}})
    elif req["op"] == "load":
        answer({{"id": req["id"], "ok": True, "parameters": 1, "model_class": "Fake", "mask_token": None}})
    else:
{}
"#,
        on_infer
            .lines()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let path = dir.join("worker.py");
    std::fs::write(&path, body).expect("write fake worker");
    path
}

fn python() -> Option<String> {
    powerhungry_testkit::program("python3", "install Python 3 (CI has it)")
        .map(|p| p.to_string_lossy().into_owned())
}

fn spec(python: &str, script: Option<std::path::PathBuf>, timeout: Duration) -> LoadSpec {
    LoadSpec {
        spawn: Spawn {
            python: python.into(),
            script,
            env: vec![],
            log: None,
        },
        task: TaskName::TextClassification,
        pipeline: "text-classification".into(),
        model: "unused".into(),
        device: "cpu".into(),
        dtype: None,
        pipeline_kwargs: Default::default(),
        call_kwargs: Default::default(),
        label_map: Default::default(),
        prompt: None,
        timeout,
    }
}

fn examples() -> Vec<Example> {
    ["a fine film", "a dull film"]
        .iter()
        .enumerate()
        .map(|(i, t)| Example {
            id: i.to_string(),
            input: Input::Text(t.to_string()),
            label: None,
            gold: None,
        })
        .collect()
}

/// Load a fake worker, run one batch, return the error. After a protocol fault a second call
/// must fail at once; an error the worker reported itself leaves it usable.
fn infer_error(on_infer: &str, timeout: Duration) -> Option<String> {
    infer_error_of(on_infer, timeout, true)
}

fn infer_error_of(on_infer: &str, timeout: Duration, breaks: bool) -> Option<String> {
    let python = python()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let script = fake_worker(dir.path(), on_infer);
    let mut b = PythonPipeline::load(spec(&python, Some(script), timeout)).expect("fake loads");
    b.prepare(
        TaskName::TextClassification,
        &["negative".into(), "positive".into()],
    )
    .expect("prepare");
    let ex = examples();
    let batch: Vec<&Example> = ex.iter().collect();
    let e = format!(
        "{:#}",
        b.predict(&batch)
            .expect_err("the fault must fail the batch")
    );
    let again = format!("{:#}", b.predict(&batch).expect_err("the fault repeats"));
    assert_eq!(again.contains("no longer usable"), breaks, "{again}");
    Some(e)
}

#[test]
fn a_worker_that_dies_mid_batch_fails_with_its_last_stderr_lines() {
    let Some(e) = infer_error(
        "sys.stderr.write('RuntimeError: CUDA out of memory (fake)\\n'); sys.stderr.flush()\nsys.exit(3)",
        Duration::from_secs(30),
    ) else {
        return;
    };
    assert!(
        e.contains("exited (exit status: 3) before answering `infer`"),
        "{e}"
    );
    assert!(e.contains("CUDA out of memory (fake)"), "{e}");
}

#[test]
fn a_worker_that_never_answers_times_out() {
    let started = std::time::Instant::now();
    let Some(e) = infer_error("time.sleep(3600)", Duration::from_millis(500)) else {
        return;
    };
    assert!(e.contains("no answer to `infer` within"), "{e}");
    assert!(e.contains("timeout_s"), "{e}");
    // Killed, not waited for: far less than the hour it sleeps.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_worker_that_prints_garbage_is_refused() {
    let Some(e) = infer_error("print('loading weights... done')", Duration::from_secs(30)) else {
        return;
    };
    assert!(e.contains("not the protocol's"), "{e}");
    assert!(e.contains("loading weights... done"), "{e}");
}

#[test]
fn a_worker_that_answers_another_id_is_refused() {
    let Some(e) = infer_error(
        "answer({'id': req['id'] + 100, 'ok': True, 'results': []})",
        Duration::from_secs(30),
    ) else {
        return;
    };
    assert!(e.contains("with id"), "{e}");
    assert!(e.contains("answered request"), "{e}");
}

#[test]
fn a_missing_package_error_gives_the_pip_command() {
    let Some(e) = infer_error_of(
        "answer({'id': req['id'], 'ok': False, 'error': 'no module', 'missing_package': 'transformers'})",
        Duration::from_secs(30),
        false,
    ) else {
        return;
    };
    assert!(e.contains("-m pip install transformers==4.57.6"), "{e}");
}

/// The real worker on a Python where `transformers` cannot be imported (a shadowing package on
/// PYTHONPATH): the handshake says so, with the pip command, before any pipeline is built.
#[test]
fn the_real_worker_reports_a_missing_transformers_with_the_pip_command() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shadow = dir.path().join("transformers");
    std::fs::create_dir(&shadow).expect("mkdir");
    std::fs::write(
        shadow.join("__init__.py"),
        "raise ImportError('transformers hidden by the test')\n",
    )
    .expect("write");
    let mut s = spec(&python, None, Duration::from_secs(120));
    s.spawn.env.push((
        "PYTHONPATH".into(),
        dir.path().to_string_lossy().into_owned(),
    ));
    let e = format!("{:#}", PythonPipeline::load(s).err().expect("must fail"));
    assert!(e.contains("lacks transformers==4.57.6"), "{e}");
    assert!(
        e.contains(&format!("{python} -m pip install transformers==4.57.6")),
        "{e}"
    );
}

#[test]
fn a_python_that_does_not_exist_is_a_clear_error() {
    let e = PythonPipeline::load(spec("/nonexistent/python3", None, Duration::from_secs(5)))
        .err()
        .expect("must fail");
    let e = format!("{e:#}");
    assert!(
        e.contains("Python not found: `/nonexistent/python3`"),
        "{e}"
    );
    assert!(e.contains("--python"), "{e}");
    let m = powerhungry_backend_python::missing(
        Some("some/model"),
        &toml::from_str("python = \"/nonexistent/python3\"").expect("toml"),
        &Default::default(),
    )
    .expect("missing");
    assert!(m.contains("Python not found"), "{m}");
}

#[test]
fn the_workers_whole_stderr_goes_to_its_log() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // Forty lines (more than the error message keeps), then death.
    let script = fake_worker(
        dir.path(),
        "for k in range(40): sys.stderr.write(f'warning line {k}\\n')\nsys.stderr.flush()\nsys.exit(3)",
    );
    let log = dir.path().join("logs/run-1/worker.log");
    let mut s = spec(&python, Some(script), Duration::from_secs(30));
    s.spawn.log = Some(log.clone());
    let mut b = PythonPipeline::load(s).expect("fake loads");
    b.prepare(
        TaskName::TextClassification,
        &["negative".into(), "positive".into()],
    )
    .expect("prepare");
    let ex = examples();
    let batch: Vec<&Example> = ex.iter().collect();
    let e = format!("{:#}", b.predict(&batch).expect_err("the worker dies"));
    assert!(
        e.contains(&log.display().to_string()),
        "the error names the log: {e}"
    );
    assert!(
        !e.contains("warning line 0\n"),
        "the message keeps the last lines only"
    );
    drop(b);
    let text = std::fs::read_to_string(&log).expect("the log was written");
    for k in 0..40 {
        assert!(
            text.contains(&format!("warning line {k}\n")),
            "line {k} in {text}"
        );
    }
}
