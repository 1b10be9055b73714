//! `PythonPipeline`: one transformers pipeline in a worker process, behind our `Backend`.
//! Loading starts the worker, checks its handshake (protocol version, torch and transformers
//! present) and builds the pipeline, all inside the harness's load window.

use crate::mapping;
use crate::process::{Spawn, Worker, PROTOCOL_VERSION};
use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::{Backend, Example, ModelInfo, Prediction, TaskName};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Everything needed to start a worker and load one pipeline.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub spawn: Spawn,
    /// Our task (what the outputs are mapped to).
    pub task: TaskName,
    /// The transformers pipeline task (default: the study's for `task`).
    pub pipeline: String,
    /// A folder or a Hugging Face id.
    pub model: String,
    pub device: String,
    pub dtype: Option<String>,
    pub pipeline_kwargs: Map<String, Value>,
    /// The study's defaults for the task, overridden by the suite's.
    pub call_kwargs: Map<String, Value>,
    pub label_map: BTreeMap<String, String>,
    /// Zero-shot: the prompt a generative pipeline answers the task through.
    pub prompt: Option<powerhungry_tasks::prompts::PromptStyle>,
    pub timeout: Duration,
}

/// The worker's answer to the handshake: what the run ran on.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct WorkerVersions {
    pub protocol: u64,
    pub python: String,
    pub torch: Option<String>,
    pub transformers: Option<String>,
    pub diffusers: Option<String>,
    pub cuda: bool,
    pub device_name: String,
}

impl WorkerVersions {
    pub fn describe(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "absent".into());
        format!(
            "Python {}, torch {}, transformers {}, diffusers {}, CUDA {}, device {}",
            self.python,
            v(&self.torch),
            v(&self.transformers),
            v(&self.diffusers),
            if self.cuda {
                "available"
            } else {
                "unavailable"
            },
            self.device_name
        )
    }
}

/// One worker's answer to one input.
#[derive(Debug, Clone, serde::Deserialize)]
struct Answer {
    output: Value,
    /// The worker's own time for the call (pipeline only, no protocol), seconds.
    seconds: f64,
    input_tokens: u32,
    output_tokens: u32,
}

pub struct PythonPipeline {
    worker: Worker,
    spec: LoadSpec,
    versions: WorkerVersions,
    parameters: Option<u64>,
    model_class: String,
    mask_token: Option<String>,
    labels: Vec<String>,
    /// The worker's per-call seconds of the last batch, in order.
    last_call_seconds: Vec<f64>,
}

/// Start a worker and say hello; errors if it speaks another protocol or lacks a package.
pub fn handshake(spawn: &Spawn, timeout: Duration) -> Result<(Worker, WorkerVersions)> {
    handshake_needing(spawn, timeout, false)
}

/// `handshake`, also requiring diffusers when `diffusers` is true.
pub fn handshake_needing(
    spawn: &Spawn,
    timeout: Duration,
    diffusers: bool,
) -> Result<(Worker, WorkerVersions)> {
    let mut worker = Worker::spawn(spawn)?;
    let answer = worker.call("handshake", Map::new(), timeout)?;
    let versions: WorkerVersions = serde_json::from_value(answer)
        .map_err(|e| anyhow!("the Python worker's handshake is not the protocol's: {e}"))?;
    if versions.protocol != PROTOCOL_VERSION {
        bail!(
            "the Python worker speaks protocol {}, this powerhungry speaks {PROTOCOL_VERSION}",
            versions.protocol
        );
    }
    let missing: Vec<String> = [
        ("torch", &versions.torch),
        ("transformers", &versions.transformers),
        ("diffusers", &versions.diffusers),
    ]
    .iter()
    .filter(|(n, v)| v.is_none() && (diffusers || *n != "diffusers"))
    .map(|(n, _)| crate::pins::pip_spec(n))
    .collect();
    if !missing.is_empty() {
        bail!(
            "the Python at `{}` lacks {}; install with `{} -m pip install {}`",
            spawn.python,
            missing.join(" and "),
            spawn.python,
            missing.join(" ")
        );
    }
    Ok((worker, versions))
}

impl PythonPipeline {
    pub fn load(spec: LoadSpec) -> Result<PythonPipeline> {
        let (mut worker, versions) = handshake(&spec.spawn, spec.timeout)?;
        let mut req = Map::new();
        req.insert("task".into(), json!(spec.pipeline));
        req.insert("model".into(), json!(spec.model));
        req.insert("device".into(), json!(spec.device));
        req.insert("dtype".into(), json!(spec.dtype));
        req.insert("kwargs".into(), Value::Object(spec.pipeline_kwargs.clone()));
        req.insert(
            "call_kwargs".into(),
            Value::Object(spec.call_kwargs.clone()),
        );
        let loaded = worker.call("load", req, spec.timeout).map_err(|e| {
            anyhow!(
                "loading `{}` as a {} pipeline: {e:#}",
                spec.model,
                spec.pipeline
            )
        })?;
        Ok(PythonPipeline {
            worker,
            parameters: loaded.get("parameters").and_then(|v| v.as_u64()),
            model_class: loaded
                .get("model_class")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string(),
            mask_token: loaded
                .get("mask_token")
                .and_then(|v| v.as_str())
                .map(String::from),
            spec,
            versions,
            labels: Vec::new(),
            last_call_seconds: Vec::new(),
        })
    }

    pub fn versions(&self) -> &WorkerVersions {
        &self.versions
    }

    /// The worker's own seconds per call of the last batch.
    pub fn last_call_seconds(&self) -> &[f64] {
        &self.last_call_seconds
    }

    /// The pipeline's raw answers (JSON as the worker sent them) to `inputs`, for tests and
    /// the overhead benchmark.
    pub fn raw(&mut self, op: &str, inputs: Vec<Value>) -> Result<Vec<(Value, f64, u32, u32)>> {
        let mut req = Map::new();
        let n = inputs.len();
        req.insert("inputs".into(), Value::Array(inputs));
        let answer = self
            .worker
            .call(op, req, self.spec.timeout * n.max(1) as u32)?;
        let results: Vec<Answer> = answer
            .get("results")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| anyhow!("the Python worker's `{op}` answer is not the protocol's: {e}"))?
            .ok_or_else(|| anyhow!("the Python worker's `{op}` answer has no `results`"))?;
        if results.len() != n {
            bail!("the Python worker answered {} of {n} inputs", results.len());
        }
        Ok(results
            .into_iter()
            .map(|a| (a.output, a.seconds, a.input_tokens, a.output_tokens))
            .collect())
    }
}

impl Backend for PythonPipeline {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: self.parameters,
            description: format!(
                "transformers `{}` pipeline, {} on {} (worker: {})",
                self.spec.pipeline,
                self.model_class,
                self.spec.device,
                self.versions.describe()
            ),
        }
    }

    fn prepare(&mut self, task: TaskName, labels: &[String]) -> Result<()> {
        if task != self.spec.task {
            bail!(
                "this pipeline was loaded for {}, and is asked for {task}",
                self.spec.task
            );
        }
        self.labels = labels.to_vec();
        Ok(())
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        let task = self.spec.task;
        let inputs = batch
            .iter()
            .map(|e| match &self.spec.prompt {
                Some(style) => mapping::prompt_input(task, style, &e.input, &self.labels),
                None => mapping::pipeline_input(task, &e.input, self.mask_token.as_deref()),
            })
            .collect::<Result<Vec<_>>>()?;
        let answers = self.raw("infer", inputs)?;
        self.last_call_seconds = answers.iter().map(|a| a.1).collect();
        answers
            .into_iter()
            .map(|(raw, _, input_tokens, output_tokens)| {
                let output = match &self.spec.prompt {
                    Some(_) => mapping::zero_shot_output(task, &raw, &self.labels)?,
                    None => mapping::output(task, &raw, &self.labels, &self.spec.label_map)?,
                };
                Ok(Prediction {
                    output,
                    input_tokens,
                    output_tokens,
                    request: None,
                })
            })
            .collect()
    }
}
