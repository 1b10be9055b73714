//! Sentence embeddings as sentence-transformers computes them, for BERT-family models such as
//! all-MiniLM-L6-v2 and XLM-RoBERTa ones such as paraphrase-multilingual-mpnet-base-v2: each
//! text stripped (and lower-cased if the folder says so), the encoder's last hidden states,
//! pooled (mean over the attention mask, or [CLS]) and L2-normalised when the folder's
//! `modules.json` says so (see `st_modules`).

use super::config::{count_parameters, HfConfig};
use super::encoder::{var_builder, Encoder};
use super::files::ModelFiles;
use super::packed::Packed;
use super::st_modules::{l2_normalize, st_text, Pipeline, Pooling};
use super::tokenize::TextTokenizer;
use anyhow::{Context, Result};
use candle_core::{DType, Device};
use powerhungry_tasks::{ModelInfo, TextEmbedder};
use serde_json::Value;

/// Padding we accept inside one forward pass before splitting a call into length groups:
/// a group may hold at most this many padded positions more than it has real tokens.
/// Texts are processed shortest first, so groups are only split where lengths jump.
const MAX_PAD_FRACTION: f64 = 0.25;

pub struct CandleEmbedder {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    dim: usize,
    pipeline: Pipeline,
    /// sentence_bert_config.json's `do_lower_case`.
    lowercase: bool,
    info: ModelInfo,
    device: Device,
}

impl CandleEmbedder {
    /// Load with our fast packed BERT (the default).
    pub fn load(files: &ModelFiles) -> Result<Self> {
        Self::load_with(files, true)
    }

    /// `fast = false` runs candle-transformers' BERT instead (for comparisons).
    pub fn load_with(files: &ModelFiles, fast: bool) -> Result<Self> {
        let cfg = HfConfig::load(&files.config)?;
        let device = Device::Cpu;
        let vb = var_builder(&files.weights, &device)?;
        let encoder = if fast {
            Encoder::load_fast(&cfg, &vb)?
        } else {
            Encoder::load_candle(&cfg, &vb)?
        };
        let max_len = max_seq_len(files, &cfg)?;
        let lowercase = st_config_key(files, "sentence_bert_config.json", "do_lower_case")?
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let tokenizer = TextTokenizer::load(&files.tokenizer, max_len, cfg.pad_token_id()?)?;
        let dim = cfg.hidden_size()?;
        let pipeline = Pipeline::read(&files.dir)?;
        let info = ModelInfo {
            parameters: Some(count_parameters(&files.weights)?),
            description: format!(
                "candle{} sentence embedding: {}, {:?} pooling{}, {dim} dims, max {max_len} tokens; {}",
                if fast { "" } else { " (candle-transformers BERT)" },
                cfg.describe(),
                pipeline.pooling,
                if pipeline.normalize { ", L2-normalised" } else { "" },
                files.source
            ),
        };
        Ok(Self {
            encoder,
            tokenizer,
            dim,
            pipeline,
            lowercase,
            info,
            device,
        })
    }

    /// Mean-pooled embeddings of texts already tokenized, all in one forward pass.
    fn embed_group(&self, group: &[&(Vec<u32>, Vec<u32>)]) -> Result<Vec<Vec<f32>>> {
        let mut vectors = self.pool_group(group)?;
        if self.pipeline.normalize {
            vectors.iter_mut().for_each(|v| l2_normalize(v));
        }
        Ok(vectors)
    }

    fn pool_group(&self, group: &[&(Vec<u32>, Vec<u32>)]) -> Result<Vec<Vec<f32>>> {
        if let Encoder::FastBert(fast) = &self.encoder {
            let packed = Packed::new(group)?;
            let hidden = fast.forward_packed(&packed)?;
            return Ok(match self.pipeline.pooling {
                Pooling::Mean => packed.mean_pool(&hidden, fast.hidden_size()),
                Pooling::Cls => packed.first_token(&hidden, fast.hidden_size()),
            });
        }
        let batch = self.tokenizer.batch(group, &self.device)?;
        let hidden = self
            .encoder
            .forward(&batch.ids, &batch.type_ids, &batch.mask)?;
        if self.pipeline.pooling == Pooling::Cls {
            return Ok(hidden.narrow(1, 0, 1)?.squeeze(1)?.to_vec2::<f32>()?);
        }
        let mask = batch.mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        Ok(mean.to_vec2::<f32>()?)
    }
}

/// The sequence limit sentence-transformers uses: `sentence_bert_config.json`'s
/// `max_seq_length`, else the tokenizer's `model_max_length`, capped by the position table.
pub fn max_seq_len(files: &ModelFiles, cfg: &HfConfig) -> Result<usize> {
    let cap = cfg.max_positions()?;
    let from = |name: &str, key: &str| -> Result<Option<usize>> {
        // transformers writes a huge sentinel when a tokenizer has no limit.
        Ok(st_config_key(files, name, key)?
            .and_then(|v| v.as_u64())
            .filter(|n| *n < 1_000_000)
            .map(|n| n as usize))
    };
    let limit = match from("sentence_bert_config.json", "max_seq_length")? {
        Some(n) => n,
        None => from("tokenizer_config.json", "model_max_length")?.unwrap_or(cap),
    };
    Ok(limit.min(cap))
}

/// `key` of the optional JSON file `name` in the model folder (None: no file or no key).
fn st_config_key(files: &ModelFiles, name: &str, key: &str) -> Result<Option<Value>> {
    let Some(path) = files.optional(name) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    Ok(v.get(key).cloned())
}

/// Split texts (sorted by length) into groups whose padding stays under
/// `MAX_PAD_FRACTION` of the group's tokens. Returns index ranges into the sorted order.
pub fn length_groups(sorted_lengths: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut tokens = 0usize;
    for (i, &len) in sorted_lengths.iter().enumerate() {
        let n = i + 1 - start;
        let padded = n * len;
        if n > 1 && (padded - (tokens + len)) as f64 > MAX_PAD_FRACTION * padded as f64 {
            groups.push(start..i);
            start = i;
            tokens = 0;
        }
        tokens += len;
    }
    if start < sorted_lengths.len() {
        groups.push(start..sorted_lengths.len());
    }
    groups
}

impl TextEmbedder for CandleEmbedder {
    fn dimension(&self) -> usize {
        self.dim
    }

    fn embed(&mut self, texts: &[&str]) -> Result<Vec<(Vec<f32>, u32)>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let prepared: Vec<_> = texts.iter().map(|t| st_text(t, self.lowercase)).collect();
        let prepared: Vec<&str> = prepared.iter().map(|t| t.as_ref()).collect();
        let encoded = self.tokenizer.encode(&prepared)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].0.len());
        let lengths: Vec<usize> = order.iter().map(|&i| encoded[i].0.len()).collect();
        let mut out: Vec<Option<(Vec<f32>, u32)>> = vec![None; texts.len()];
        // The packed fast path has no padding to save: one forward pass for the whole call.
        let groups: Vec<_> = if matches!(self.encoder, Encoder::FastBert(_)) {
            std::iter::once(0..lengths.len()).collect()
        } else {
            length_groups(&lengths)
        };
        for range in groups {
            let idx = &order[range];
            let group: Vec<_> = idx.iter().map(|&i| &encoded[i]).collect();
            let vectors = self.embed_group(&group)?;
            for (&i, v) in idx.iter().zip(vectors) {
                out[i] = Some((v, encoded[i].0.len() as u32));
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, o)| o.with_context(|| format!("text {i} got no embedding")))
            .collect()
    }

    fn info(&self) -> ModelInfo {
        self.info.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::length_groups;

    #[test]
    fn groups_split_where_padding_would_exceed_a_quarter() {
        assert_eq!(length_groups(&[5, 5, 6, 6]), vec![0..4]);
        // 4 texts of 10 then one of 40: padding the short ones to 40 would be 75 % waste.
        assert_eq!(length_groups(&[10, 10, 10, 10, 40]), vec![0..4, 4..5]);
        assert_eq!(length_groups(&[7]), vec![0..1]);
        assert!(length_groups(&[]).is_empty());
    }
}
