//! The worker's own cost: the same pipeline, model and inputs (a) driven by our harness, one
//! input per `predict` as the runner does at batch size 1, and (b) in a plain Python loop
//! calling the pipeline (the study's script), in one run. Prints time per inference for both,
//! the worker's pipeline-only time, and ours minus theirs in µs and %.
//!
//!     cargo run -p powerhungry-backend-python --example worker_overhead -- \
//!         MODEL_DIR TEXT_FILE [N] [PYTHON]
//!
//! scripts/bench-python-worker.sh builds a model and runs this.

use anyhow::{bail, Context, Result};
use powerhungry_backend_python::{mapping, LoadSpec, PythonPipeline, Spawn};
use powerhungry_tasks::{Backend, Example, Input, TaskName};
use std::time::{Duration, Instant};

const PLAIN_LOOP: &str = r#"
import json, sys, time
import transformers
texts = json.load(open(sys.argv[2]))
pipe = transformers.pipeline("text-classification", model=sys.argv[1], device="cpu")
for t in texts[:10]:
    pipe(t)
start = time.perf_counter_ns()
for t in texts:
    pipe(t)
print((time.perf_counter_ns() - start) / 1e9 / len(texts))
"#;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(model), Some(text_file)) = (args.first(), args.get(1)) else {
        bail!("usage: overhead MODEL_DIR TEXT_FILE [N] [PYTHON]");
    };
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let python = args.get(3).cloned().unwrap_or_else(|| "python3".into());
    let bytes = std::fs::read(text_file).with_context(|| format!("reading {text_file}"))?;
    let texts: Vec<String> = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.iter().map(|&b| b as char).collect::<String>())
        .filter(|l| !l.trim().is_empty())
        .cycle()
        .take(n)
        .collect();

    // (b) the plain Python loop, same model and inputs.
    let dir = tempfile::tempdir()?;
    let (script, inputs) = (dir.path().join("loop.py"), dir.path().join("in.json"));
    std::fs::write(&script, PLAIN_LOOP)?;
    std::fs::write(&inputs, serde_json::to_string(&texts)?)?;
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(model)
        .arg(&inputs)
        .output()?;
    if !out.status.success() {
        bail!(
            "plain loop failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let plain_s: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;

    // (a) the harness: one predict per input.
    let mut b = PythonPipeline::load(LoadSpec {
        spawn: Spawn {
            python,
            script: None,
            env: vec![],
            log: None,
        },
        task: TaskName::TextClassification,
        pipeline: "text-classification".into(),
        model: model.clone(),
        device: "cpu".into(),
        dtype: None,
        pipeline_kwargs: Default::default(),
        call_kwargs: mapping::default_call_kwargs(TaskName::TextClassification),
        label_map: Default::default(),
        prompt: None,
        timeout: Duration::from_secs(600),
    })?;
    b.prepare(
        TaskName::TextClassification,
        &["negative".into(), "positive".into()],
    )?;
    let examples: Vec<Example> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Example {
            id: i.to_string(),
            input: Input::Text(t.clone()),
            label: None,
            gold: None,
        })
        .collect();
    for e in examples.iter().take(10) {
        b.predict(&[e])?;
    }
    let mut worker_s = 0.0;
    let start = Instant::now();
    for e in &examples {
        b.predict(&[e])?;
        worker_s += b.last_call_seconds().iter().sum::<f64>();
    }
    let ours_s = start.elapsed().as_secs_f64() / n as f64;
    let worker_s = worker_s / n as f64;
    let us = |s: f64| s * 1e6;
    println!("inputs: {n} texts from {text_file}, model {model}");
    println!(
        "plain Python loop (the study's script): {:9.1} µs / inference",
        us(plain_s)
    );
    println!(
        "harness + worker, wall:                 {:9.1} µs / inference",
        us(ours_s)
    );
    println!(
        "  of which the pipeline call (worker):  {:9.1} µs",
        us(worker_s)
    );
    println!(
        "ours minus theirs: {:+.1} µs / inference ({:+.2} %)",
        us(ours_s - plain_s),
        100.0 * (ours_s - plain_s) / plain_s
    );
    println!(
        "protocol + token counting (wall - pipeline): {:.1} µs / inference",
        us(ours_s - worker_s)
    );
    Ok(())
}
