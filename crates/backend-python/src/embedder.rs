//! `PythonEmbedder`: a sentence-transformers model in the worker, as our `TextEmbedder` (the
//! embedding features of the traditional classifiers; the same model candle runs natively).

use crate::pipeline::{handshake, WorkerVersions};
use crate::process::{Spawn, Worker};
use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::{ModelInfo, TextEmbedder};
use serde_json::{json, Map};
use std::time::Duration;

pub struct PythonEmbedder {
    worker: Worker,
    versions: WorkerVersions,
    dimension: usize,
    parameters: Option<u64>,
    model: String,
    timeout: Duration,
    /// The worker's own seconds for the last `embed` call.
    pub last_seconds: f64,
}

impl PythonEmbedder {
    /// Start a worker and load `model` (a sentence-transformers folder or cached Hub id).
    pub fn load(spawn: &Spawn, model: &str, device: &str, timeout: Duration) -> Result<Self> {
        let (mut worker, versions) = handshake(spawn, timeout)?;
        let mut req = Map::new();
        req.insert("model".into(), json!(model));
        req.insert("device".into(), json!(device));
        let a = worker
            .call("load_embedder", req, timeout)
            .map_err(|e| anyhow!("loading `{model}` with sentence-transformers: {e:#}"))?;
        let dimension = a
            .get("dimension")
            .and_then(|d| d.as_u64())
            .ok_or_else(|| anyhow!("the worker's load_embedder answer has no dimension"))?;
        Ok(PythonEmbedder {
            worker,
            versions,
            dimension: dimension as usize,
            parameters: a.get("parameters").and_then(|p| p.as_u64()),
            model: model.to_string(),
            timeout,
            last_seconds: 0.0,
        })
    }
}

impl TextEmbedder for PythonEmbedder {
    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&mut self, texts: &[&str]) -> Result<Vec<(Vec<f32>, u32)>> {
        let mut req = Map::new();
        req.insert("texts".into(), json!(texts));
        let a = self.worker.call("embed", req, self.timeout)?;
        let vectors: Vec<Vec<f32>> = serde_json::from_value(a["vectors"].clone())
            .map_err(|e| anyhow!("the worker's embed answer: vectors: {e}"))?;
        let tokens: Vec<u32> = serde_json::from_value(a["tokens"].clone())
            .map_err(|e| anyhow!("the worker's embed answer: tokens: {e}"))?;
        if vectors.len() != texts.len() || tokens.len() != texts.len() {
            bail!(
                "the worker embedded {} of {} texts",
                vectors.len(),
                texts.len()
            );
        }
        if let Some(v) = vectors.iter().find(|v| v.len() != self.dimension) {
            bail!(
                "the worker returned a {}-wide vector, expected {}",
                v.len(),
                self.dimension
            );
        }
        self.last_seconds = a["seconds"].as_f64().unwrap_or(0.0);
        Ok(vectors.into_iter().zip(tokens).collect())
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: self.parameters,
            description: format!(
                "sentence-transformers `{}` (worker: {})",
                self.model,
                self.versions.describe()
            ),
        }
    }
}
