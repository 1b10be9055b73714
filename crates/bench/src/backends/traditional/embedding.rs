//! Sentence-embedding features: the embedder's vectors as dense rows.

use super::sparse::Csr;
use crate::backend::{ModelInfo, TextEmbedder};
use anyhow::{bail, Result};

pub struct EmbeddingFeatures {
    embedder: Box<dyn TextEmbedder>,
    batch: usize,
}

impl EmbeddingFeatures {
    pub fn new(embedder: Box<dyn TextEmbedder>, batch: usize) -> Self {
        EmbeddingFeatures {
            embedder,
            batch: batch.max(1),
        }
    }

    pub fn embedder_info(&self) -> ModelInfo {
        self.embedder.info()
    }

    /// One dense row per text and the tokens each used, embedding `batch` texts at a time.
    pub fn transform(&mut self, texts: &[&str]) -> Result<(Csr, Vec<u32>)> {
        let dim = self.embedder.dimension();
        let mut m = Csr::new(dim);
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
                m.push_dense(&v);
                tokens.push(t);
            }
        }
        Ok((m, tokens))
    }
}
