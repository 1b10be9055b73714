//! Sentence-embedding features: the embedder's vectors as dense rows, scaled as chosen.

use super::sparse::Csr;
use anyhow::{bail, Result};
use powerhungry_tasks::{ModelInfo, TextEmbedder};
use serde::Deserialize;

/// How embedding vectors are scaled before the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// Unit L2 norm, as sentence-transformers' `Normalize` module does for all-MiniLM-L6-v2
    /// (so the features equal `model.encode(texts)`).
    #[default]
    L2,
    /// Per-dimension z-scores with the training set's mean and standard deviation, as
    /// sklearn's `StandardScaler` (a dimension with zero spread is only centred).
    Standardize,
    /// The vectors as the embedder returns them.
    None,
}

impl Scaling {
    pub fn name(self) -> &'static str {
        match self {
            Scaling::L2 => "l2",
            Scaling::Standardize => "standardize",
            Scaling::None => "none",
        }
    }
}

pub struct EmbeddingFeatures {
    embedder: Box<dyn TextEmbedder>,
    batch: usize,
    scaling: Scaling,
    /// Training mean and standard deviation per dimension (`Standardize` only).
    moments: Option<(Vec<f64>, Vec<f64>)>,
}

impl EmbeddingFeatures {
    pub fn new(embedder: Box<dyn TextEmbedder>, batch: usize, scaling: Scaling) -> Self {
        EmbeddingFeatures {
            embedder,
            batch: batch.max(1),
            scaling,
            moments: None,
        }
    }

    pub fn embedder_info(&self) -> ModelInfo {
        self.embedder.info()
    }

    pub fn scaling(&self) -> Scaling {
        self.scaling
    }

    /// Embed the training texts and learn the scaling from them.
    pub fn fit_transform(&mut self, texts: &[&str]) -> Result<(Csr, Vec<u32>)> {
        let (rows, tokens) = self.embed(texts)?;
        if self.scaling == Scaling::Standardize {
            let dim = self.embedder.dimension();
            let n = rows.len().max(1) as f64;
            let mut mean = vec![0.0; dim];
            for r in &rows {
                for (m, v) in mean.iter_mut().zip(r) {
                    *m += f64::from(*v) / n;
                }
            }
            let mut std = vec![0.0; dim];
            for r in &rows {
                for ((s, v), m) in std.iter_mut().zip(r).zip(&mean) {
                    *s += (f64::from(*v) - m).powi(2) / n;
                }
            }
            std.iter_mut()
                .for_each(|s| *s = if *s > 0.0 { s.sqrt() } else { 1.0 });
            self.moments = Some((mean, std));
        }
        Ok((self.to_matrix(&rows), tokens))
    }

    /// Embed texts and scale them as learned in `fit_transform`.
    pub fn transform(&mut self, texts: &[&str]) -> Result<(Csr, Vec<u32>)> {
        if self.scaling == Scaling::Standardize && self.moments.is_none() {
            bail!("embedding features must be fitted before use");
        }
        let (rows, tokens) = self.embed(texts)?;
        Ok((self.to_matrix(&rows), tokens))
    }

    /// One vector per text and the tokens each used, `batch` texts per `embed` call.
    fn embed(&mut self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, Vec<u32>)> {
        let dim = self.embedder.dimension();
        let mut rows = Vec::with_capacity(texts.len());
        let mut tokens = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch) {
            let out = self.embedder.embed(chunk)?;
            if out.len() != chunk.len() {
                bail!(
                    "the embedder returned {} vectors for {} texts",
                    out.len(),
                    chunk.len()
                );
            }
            for (v, t) in out {
                if v.len() != dim {
                    bail!(
                        "the embedder returned a vector of width {} (expected {dim})",
                        v.len()
                    );
                }
                rows.push(v);
                tokens.push(t);
            }
        }
        Ok((rows, tokens))
    }

    fn to_matrix(&self, rows: &[Vec<f32>]) -> Csr {
        let dim = self.embedder.dimension();
        let mut m = Csr::new(dim);
        for r in rows {
            let mut v: Vec<f64> = r.iter().map(|&x| f64::from(x)).collect();
            match (self.scaling, &self.moments) {
                (Scaling::L2, _) => {
                    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                    if norm > 0.0 {
                        v.iter_mut().for_each(|x| *x /= norm);
                    }
                }
                (Scaling::Standardize, Some((mean, std))) => {
                    for ((x, m), s) in v.iter_mut().zip(mean).zip(std) {
                        *x = (*x - m) / s;
                    }
                }
                _ => {}
            }
            m.push_row(v.into_iter().enumerate().map(|(j, x)| (j as u32, x)));
        }
        m
    }
}
