//! `...ForSequenceClassification` for BERT, DistilBERT and RoBERTa: the encoder plus the
//! head candle lacks, read from Hugging Face's weight names:
//! - BERT: `bert.pooler.dense` (tanh on the first token) then `classifier`;
//! - DistilBERT: `pre_classifier` (ReLU on the first token) then `classifier`;
//! - RoBERTa: `classifier.dense` (tanh on `<s>`) then `classifier.out_proj`.

use super::config::{count_parameters, Family, HfConfig};
use super::encoder::{var_builder, Encoder};
use super::files::ModelFiles;
use super::tokenize::TextTokenizer;
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor, D};
use candle_nn::{linear, Linear, Module, VarBuilder};
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, Prediction};

enum Head {
    /// tanh(dense(x)) then the output layer: BERT's pooler + classifier, RoBERTa's head.
    Tanh(Linear, Linear),
    /// relu(dense(x)) then the output layer: DistilBERT.
    Relu(Linear, Linear),
}

impl Head {
    fn load(family: Family, vb: &VarBuilder, hidden: usize, n: usize) -> Result<Self> {
        Ok(match family {
            Family::Bert => Head::Tanh(
                linear(hidden, hidden, vb.pp("bert.pooler.dense"))?,
                linear(hidden, n, vb.pp("classifier"))?,
            ),
            Family::DistilBert => Head::Relu(
                linear(hidden, hidden, vb.pp("pre_classifier"))?,
                linear(hidden, n, vb.pp("classifier"))?,
            ),
            Family::Roberta => Head::Tanh(
                linear(hidden, hidden, vb.pp("classifier.dense"))?,
                linear(hidden, n, vb.pp("classifier.out_proj"))?,
            ),
        })
    }

    /// Logits from the first token's hidden state `(batch, hidden)`.
    fn forward(&self, first: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Head::Tanh(dense, out) => out.forward(&dense.forward(first)?.tanh()?)?,
            Head::Relu(dense, out) => out.forward(&dense.forward(first)?.relu()?)?,
        })
    }
}

pub struct SequenceClassifier {
    encoder: Encoder,
    head: Head,
    tokenizer: TextTokenizer,
    labels: Vec<String>,
    info: ModelInfo,
    device: Device,
}

impl SequenceClassifier {
    /// Load with our fast encoder for BERT (candle-transformers' for the others).
    pub fn load(files: &ModelFiles) -> Result<Self> {
        Self::load_with(files, true)
    }

    /// `fast = false` uses candle-transformers' encoder for every family (for cross-checks).
    pub fn load_with(files: &ModelFiles, fast: bool) -> Result<Self> {
        let cfg = HfConfig::load(&files.config)?;
        let labels = cfg.labels()?;
        let device = Device::Cpu;
        let vb = var_builder(&files.weights, &device)?;
        let encoder = if fast {
            Encoder::load_fast(&cfg, &vb)?
        } else {
            Encoder::load_candle(&cfg, &vb)?
        };
        let head =
            Head::load(cfg.family, &vb, cfg.hidden_size()?, labels.len()).with_context(|| {
                format!(
                    "{}: no {} sequence-classification head in {} (is this a \
                     ...ForSequenceClassification checkpoint?)",
                    cfg.path,
                    cfg.family.name(),
                    files.weights.display()
                )
            })?;
        let max_len = super::embedder::max_seq_len(files, &cfg)?;
        let tokenizer = TextTokenizer::load(&files.tokenizer, max_len, cfg.pad_token_id()?)?;
        let info = ModelInfo {
            parameters: Some(count_parameters(&files.weights)?),
            description: format!(
                "candle sequence classifier: {}, {} labels, max {max_len} tokens; {}",
                cfg.describe(),
                labels.len(),
                files.source
            ),
        };
        Ok(Self {
            encoder,
            head,
            tokenizer,
            labels,
            info,
            device,
        })
    }

    /// Class names by class index (from `id2label`).
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Logits `(texts, labels)` and each text's token count, padding to the longest text.
    pub fn logits(&self, texts: &[&str]) -> Result<(Tensor, Vec<usize>)> {
        let encoded = self.tokenizer.encode(texts)?;
        let refs: Vec<_> = encoded.iter().collect();
        let batch = self.tokenizer.batch(&refs, &self.device)?;
        let hidden = self
            .encoder
            .forward(&batch.ids, &batch.type_ids, &batch.mask)?;
        let first = hidden.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?;
        Ok((self.head.forward(&first)?, batch.lengths))
    }
}

impl Backend for SequenceClassifier {
    fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let texts = batch
            .iter()
            .map(|e| {
                e.input
                    .as_text()
                    .with_context(|| format!("example {} has no text input", e.id))
            })
            .collect::<Result<Vec<_>>>()?;
        let (logits, lengths) = self.logits(&texts)?;
        let best = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
        best.iter()
            .zip(lengths)
            .map(|(&i, n)| {
                let Some(label) = self.labels.get(i as usize) else {
                    bail!("class index {i} has no label");
                };
                Ok(Prediction {
                    output: Output::Label(label.clone()),
                    input_tokens: n as u32,
                    output_tokens: 0,
                    request: None,
                })
            })
            .collect()
    }
}
