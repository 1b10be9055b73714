//! `PythonDiffusion`: one diffusers pipeline in a worker process, behind our `Backend`
//! (image generation). The worker writes each image as a PNG where the harness says; the
//! harness checks the file (a PNG of the answered size) and hashes it, so what the store
//! records is what is on disk.

use crate::diffusion_options::DiffusionSpec;
use crate::image_file::{check_image, image_path};
use crate::pipeline::{handshake_needing, WorkerVersions};
use crate::process::Worker;
use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::{
    Backend, Example, GeneratedImage, ModelInfo, Output, Prediction, PredictionScope, TaskName,
};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The worker's answer for one image.
#[derive(Debug, Clone, serde::Deserialize)]
struct ImageAnswer {
    path: PathBuf,
    width: u32,
    height: u32,
    steps: u32,
    /// The pipeline call alone (no PNG encoding, no protocol), seconds.
    seconds: f64,
    input_tokens: u32,
}

pub struct PythonDiffusion {
    worker: Worker,
    spec: DiffusionSpec,
    versions: WorkerVersions,
    parameters: Option<u64>,
    pipeline_class: String,
    device: String,
    dtype: String,
    /// Where the next predictions go (the runner's `begin`), and the next one's position.
    scope: Option<PredictionScope>,
    position: usize,
    last_call_seconds: Vec<f64>,
}

impl PythonDiffusion {
    /// Start a worker (torch, transformers and diffusers required) and load the pipeline.
    pub fn load(spec: DiffusionSpec) -> Result<PythonDiffusion> {
        let (mut worker, versions) = handshake_needing(&spec.spawn, spec.timeout, true)?;
        let mut req = Map::new();
        req.insert("model".into(), json!(spec.model));
        req.insert("device".into(), json!(spec.device));
        req.insert("dtype".into(), json!(spec.dtype));
        req.insert("kwargs".into(), Value::Object(spec.pipeline_kwargs.clone()));
        req.insert(
            "call_kwargs".into(),
            Value::Object(spec.call_kwargs.clone()),
        );
        let loaded = worker
            .call("load_diffusion", req, spec.timeout)
            .map_err(|e| anyhow!("loading `{}` as a diffusers pipeline: {e:#}", spec.model))?;
        let text = |k: &str| {
            loaded
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string()
        };
        Ok(PythonDiffusion {
            parameters: loaded.get("parameters").and_then(|v| v.as_u64()),
            pipeline_class: text("model_class"),
            device: text("device"),
            dtype: text("dtype"),
            worker,
            spec,
            versions,
            scope: None,
            position: 0,
            last_call_seconds: Vec::new(),
        })
    }

    pub fn versions(&self) -> &WorkerVersions {
        &self.versions
    }

    /// The worker's own seconds per image of the last batch.
    pub fn last_call_seconds(&self) -> &[f64] {
        &self.last_call_seconds
    }
}

impl Backend for PythonDiffusion {
    fn info(&self) -> ModelInfo {
        let asked = |v: Option<u32>| v.map_or("default".to_string(), |v| v.to_string());
        ModelInfo {
            parameters: self.parameters,
            description: format!(
                "diffusers `{}` on {} ({}), {}x{} px, {} steps, seed {} (worker: {})",
                self.pipeline_class,
                self.device,
                self.dtype,
                asked(self.spec.width),
                asked(self.spec.height),
                self.spec
                    .call_kwargs
                    .get("num_inference_steps")
                    .map_or("default".to_string(), |v| v.to_string()),
                self.spec.seed,
                self.versions.describe()
            ),
        }
    }

    fn prepare(&mut self, task: TaskName, _labels: &[String]) -> Result<()> {
        if task != TaskName::ImageGeneration {
            bail!("a diffusers pipeline generates images; it cannot answer {task}");
        }
        Ok(())
    }

    fn begin(&mut self, scope: &PredictionScope) -> Result<()> {
        self.scope = Some(scope.clone());
        self.position = 0;
        Ok(())
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        let Some(scope) = self.scope.clone() else {
            bail!("internal: a diffusion pipeline asked to predict before `begin` named the run")
        };
        let mut inputs = Vec::with_capacity(batch.len());
        let mut paths = Vec::with_capacity(batch.len());
        for e in batch {
            let Some(prompt) = e.input.as_text() else {
                bail!(
                    "image generation needs a text prompt; example `{}` has none",
                    e.id
                )
            };
            let path = image_path(&self.spec.images_dir, &scope, self.position, &e.id);
            self.position += 1;
            // A file left from an earlier attempt must not pass for this one's.
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => bail!("removing the old image {}: {e}", path.display()),
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow!("creating the image folder {}: {e}", parent.display()))?;
            }
            inputs.push(json!({
                "prompt": prompt,
                "seed": self.spec.seed,
                "path": path.to_string_lossy(),
            }));
            paths.push(path);
        }
        let n = inputs.len();
        let mut req = Map::new();
        req.insert("inputs".into(), Value::Array(inputs));
        let answer = self
            .worker
            .call("generate", req, self.spec.timeout * n.max(1) as u32)?;
        let answers: Vec<ImageAnswer> = answer
            .get("results")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| {
                anyhow!("the Python worker's `generate` answer is not the protocol's: {e}")
            })?
            .ok_or_else(|| anyhow!("the Python worker's `generate` answer has no `results`"))?;
        if answers.len() != n {
            bail!(
                "the Python worker answered {} of {n} prompts",
                answers.len()
            );
        }
        self.last_call_seconds = answers.iter().map(|a| a.seconds).collect();
        let mut out = Vec::with_capacity(n);
        for (a, path) in answers.into_iter().zip(paths) {
            if a.path != path {
                bail!(
                    "the worker answered an image at {}, it was asked for {}",
                    a.path.display(),
                    path.display()
                );
            }
            if a.steps == 0 {
                bail!("{}: the worker answered 0 diffusion steps", path.display());
            }
            let sha256 = check_image(
                &path,
                (a.width, a.height),
                (self.spec.width, self.spec.height),
            )?;
            if scope.warmup {
                // Warm-up images are not stored: the folder holds what the store records.
                std::fs::remove_file(&path)
                    .map_err(|e| anyhow!("removing the warm-up image {}: {e}", path.display()))?;
            }
            out.push(Prediction {
                output: Output::Image(GeneratedImage {
                    path,
                    sha256,
                    width: a.width,
                    height: a.height,
                    steps: a.steps,
                }),
                input_tokens: a.input_tokens,
                output_tokens: 0,
                request: None,
            });
        }
        Ok(out)
    }
}
