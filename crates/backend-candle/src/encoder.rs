//! The transformer encoders, behind one call that takes Hugging Face's conventions
//! (right padding, attention mask 1 = real token) and returns the last hidden states.
//! BERT and RoBERTa use candle-transformers' models as they are; DistilBERT's candle model
//! takes the inverted mask (1 = masked), which is converted here and nowhere else.

use super::config::{Family, HfConfig};
use super::fast_bert::FastBert;
use super::packed::Packed;
use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{bert, distilbert, xlm_roberta};
use std::path::Path;

pub enum Encoder {
    Bert(bert::BertModel),
    /// Our own BERT forward pass (same weights, same numbers, fewer passes over memory);
    /// used for the sentence-embedding model, where speed is measured against PyTorch.
    FastBert(FastBert),
    DistilBert(distilbert::DistilBertModel),
    Roberta(xlm_roberta::XLMRobertaModel),
}

/// Map the weights file; keys are read lazily by name.
pub fn var_builder(weights: &Path, device: &Device) -> Result<VarBuilder<'static>> {
    // SAFETY: the file is mapped read-only; like every mmap user we rely on nobody
    // truncating the model file while it is loaded.
    unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, device) }
        .with_context(|| format!("cannot read safetensors weights {}", weights.display()))
}

/// The prefix under which the base model's tensors live: none in a bare `BertModel`
/// checkpoint (all-MiniLM-L6-v2), `bert.` / `distilbert.` / `roberta.` in a
/// `...ForSequenceClassification` checkpoint.
pub fn base_prefix(vb: &VarBuilder, family: Family) -> Option<&'static str> {
    let prefix = match family {
        Family::Bert => "bert",
        Family::DistilBert => "distilbert",
        Family::Roberta => "roberta",
    };
    vb.contains_tensor(&format!("{prefix}.embeddings.word_embeddings.weight"))
        .then_some(prefix)
}

impl Encoder {
    /// The plain candle-transformers model of the family.
    pub fn load_candle(cfg: &HfConfig, vb: &VarBuilder) -> Result<Self> {
        let base = match base_prefix(vb, cfg.family) {
            Some(p) => vb.pp(p),
            None => vb.clone(),
        };
        let what = || {
            format!(
                "loading the {} encoder from {}",
                cfg.family.name(),
                cfg.path
            )
        };
        Ok(match cfg.family {
            Family::Bert => {
                Encoder::Bert(bert::BertModel::load(base, &cfg.bert()?).with_context(what)?)
            }
            Family::DistilBert => Encoder::DistilBert(
                distilbert::DistilBertModel::load(base, &cfg.distilbert()?).with_context(what)?,
            ),
            Family::Roberta => Encoder::Roberta(
                xlm_roberta::XLMRobertaModel::new(&cfg.roberta()?, base).with_context(what)?,
            ),
        })
    }

    /// The encoder for sentence embeddings: our faster BERT where the family is BERT.
    pub fn load_fast(cfg: &HfConfig, vb: &VarBuilder) -> Result<Self> {
        if cfg.family != Family::Bert {
            return Self::load_candle(cfg, vb);
        }
        let base = match base_prefix(vb, cfg.family) {
            Some(p) => vb.pp(p),
            None => vb.clone(),
        };
        let fast = FastBert::load(base, &cfg.bert()?)
            .with_context(|| format!("loading the bert encoder from {}", cfg.path))?;
        Ok(Encoder::FastBert(fast))
    }

    /// Last hidden states `(batch, seq, hidden)`. `mask` is Hugging Face's: 1 = real token.
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Encoder::Bert(m) => m.forward(ids, type_ids, Some(mask))?,
            Encoder::FastBert(m) => {
                let packed = Packed::from_padded(ids, type_ids, mask)?;
                let hidden = m.forward_packed(&packed)?;
                packed.unpack(&hidden, m.hidden_size(), ids.device())?
            }
            Encoder::DistilBert(m) => m.forward(ids, &distilbert_mask(mask)?)?,
            Encoder::Roberta(m) => m.forward(ids, mask, type_ids, None, None, None)?,
        })
    }
}

/// candle's DistilBERT fills scores with -inf where its mask is 1, the opposite of Hugging
/// Face's `attention_mask`, and broadcasts it against `(batch, heads, query, key)`.
pub fn distilbert_mask(hf_mask: &Tensor) -> Result<Tensor> {
    let (b, l) = hf_mask.dims2()?;
    Ok(hf_mask.eq(0u32)?.reshape((b, 1, 1, l))?)
}
