//! Reading a Hugging Face `config.json`: which encoder family, the label names, the sequence
//! limit, and candle's own config structs (filled with Hugging Face's defaults for keys a
//! config omits, since candle's structs require them).

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Bert,
    DistilBert,
    Roberta,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::DistilBert => "distilbert",
            Family::Roberta => "roberta",
        }
    }
}

/// A parsed `config.json`.
#[derive(Debug, Clone)]
pub struct HfConfig {
    pub path: String,
    pub family: Family,
    pub raw: Map<String, Value>,
}

impl HfConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let value: Value =
            serde_json::from_str(text).with_context(|| format!("{origin}: not valid JSON"))?;
        let Value::Object(raw) = value else {
            bail!("{origin}: expected a JSON object");
        };
        let model_type = raw
            .get("model_type")
            .and_then(Value::as_str)
            .with_context(|| format!("{origin}: key `model_type` missing or not a string"))?;
        let family = match model_type {
            "bert" => Family::Bert,
            "distilbert" => Family::DistilBert,
            "roberta" | "xlm-roberta" => Family::Roberta,
            other => bail!(
                "{origin}: model_type `{other}` is not supported by the candle backend \
                 (supported: bert, distilbert, roberta, xlm-roberta)"
            ),
        };
        Ok(Self {
            path: origin.to_string(),
            family,
            raw,
        })
    }

    fn usize_key(&self, key: &str) -> Result<Option<usize>> {
        match self.raw.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).with_context(|| {
                format!("{}: key `{key}` must be a non-negative integer", self.path)
            }),
        }
    }

    pub fn pad_token_id(&self) -> Result<u32> {
        let default = if self.family == Family::Roberta { 1 } else { 0 };
        Ok(self.usize_key("pad_token_id")?.unwrap_or(default) as u32)
    }

    /// Longest input the position table allows (RoBERTa's positions start after the pad id).
    pub fn max_positions(&self) -> Result<usize> {
        let n = self.usize_key("max_position_embeddings")?.unwrap_or(512);
        Ok(match self.family {
            Family::Roberta => n.saturating_sub(self.pad_token_id()? as usize + 1),
            _ => n,
        })
    }

    pub fn hidden_size(&self) -> Result<usize> {
        let key = if self.family == Family::DistilBert {
            "dim"
        } else {
            "hidden_size"
        };
        Ok(self.usize_key(key)?.unwrap_or(768))
    }

    /// Class names by class index, from `id2label` (or `num_labels` with LABEL_i names, as
    /// transformers does), and the problem type, which must be single-label.
    pub fn labels(&self) -> Result<Vec<String>> {
        if let Some(pt) = self.raw.get("problem_type").and_then(Value::as_str) {
            if pt != "single_label_classification" {
                bail!(
                    "{}: problem_type `{pt}` is not supported (only single_label_classification: \
                     one label per text)",
                    self.path
                );
            }
        }
        let labels = match self.raw.get("id2label") {
            Some(Value::Object(map)) => {
                let mut labels = vec![None; map.len()];
                for (k, v) in map {
                    let i: usize =
                        k.parse().ok().filter(|i| *i < map.len()).with_context(|| {
                            format!(
                                "{}: id2label key `{k}` is not a class index 0..{}",
                                self.path,
                                map.len()
                            )
                        })?;
                    let name = v.as_str().with_context(|| {
                        format!("{}: id2label[`{k}`] must be a string", self.path)
                    })?;
                    labels[i] = Some(name.to_string());
                }
                labels.into_iter().flatten().collect::<Vec<_>>()
            }
            Some(_) => bail!("{}: key `id2label` must be an object", self.path),
            None => {
                let n = self.usize_key("num_labels")?.with_context(|| {
                    format!(
                        "{}: neither `id2label` nor `num_labels`: not a classifier",
                        self.path
                    )
                })?;
                (0..n).map(|i| format!("LABEL_{i}")).collect()
            }
        };
        if let Some(n) = self.usize_key("num_labels")? {
            if n != labels.len() {
                bail!(
                    "{}: num_labels is {n} but id2label names {} classes",
                    self.path,
                    labels.len()
                );
            }
        }
        if labels.len() < 2 {
            bail!(
                "{}: {} class(es): a single output is regression in transformers, not supported",
                self.path,
                labels.len()
            );
        }
        Ok(labels)
    }

    /// The raw config with Hugging Face's defaults for the keys it omits.
    fn with_defaults(&self, defaults: &[(&str, Value)]) -> Value {
        let mut map = self.raw.clone();
        for (k, v) in defaults {
            if !map.contains_key(*k) || map[*k].is_null() {
                map.insert((*k).to_string(), v.clone());
            }
        }
        // candle's BERT knows three activations; transformers' tanh-approximate names map
        // onto candle's `gelu_approximate`.
        if let Some(Value::String(act)) = map.get("hidden_act") {
            if act == "gelu_new" || act == "gelu_pytorch_tanh" {
                map.insert(
                    "hidden_act".into(),
                    Value::String("gelu_approximate".into()),
                );
            }
        }
        Value::Object(map)
    }

    pub fn bert(&self) -> Result<candle_transformers::models::bert::Config> {
        let v = self.with_defaults(&[
            ("vocab_size", 30522.into()),
            ("hidden_size", 768.into()),
            ("num_hidden_layers", 12.into()),
            ("num_attention_heads", 12.into()),
            ("intermediate_size", 3072.into()),
            ("hidden_act", "gelu".into()),
            ("hidden_dropout_prob", 0.1.into()),
            ("max_position_embeddings", 512.into()),
            ("type_vocab_size", 2.into()),
            ("initializer_range", 0.02.into()),
            ("layer_norm_eps", 1e-12.into()),
            ("pad_token_id", 0.into()),
        ]);
        serde_json::from_value(v).with_context(|| format!("{}: not a valid BERT config", self.path))
    }

    pub fn distilbert(&self) -> Result<candle_transformers::models::distilbert::Config> {
        let v = self.with_defaults(&[
            ("vocab_size", 30522.into()),
            ("dim", 768.into()),
            ("n_layers", 6.into()),
            ("n_heads", 12.into()),
            ("hidden_dim", 3072.into()),
            ("activation", "gelu".into()),
            ("max_position_embeddings", 512.into()),
            ("initializer_range", 0.02.into()),
            ("pad_token_id", 0.into()),
        ]);
        serde_json::from_value(v)
            .with_context(|| format!("{}: not a valid DistilBERT config", self.path))
    }

    pub fn roberta(&self) -> Result<candle_transformers::models::xlm_roberta::Config> {
        let v = self.with_defaults(&[
            ("vocab_size", 50265.into()),
            ("hidden_size", 768.into()),
            ("num_hidden_layers", 12.into()),
            ("num_attention_heads", 12.into()),
            ("intermediate_size", 3072.into()),
            ("hidden_act", "gelu".into()),
            ("hidden_dropout_prob", 0.1.into()),
            ("attention_probs_dropout_prob", 0.1.into()),
            ("max_position_embeddings", 514.into()),
            ("type_vocab_size", 1.into()),
            ("layer_norm_eps", 1e-5.into()),
            ("pad_token_id", 1.into()),
            ("position_embedding_type", "absolute".into()),
        ]);
        if v.get("position_embedding_type").and_then(Value::as_str) != Some("absolute") {
            bail!(
                "{}: only position_embedding_type \"absolute\" is supported",
                self.path
            );
        }
        serde_json::from_value(v)
            .with_context(|| format!("{}: not a valid RoBERTa config", self.path))
    }

    /// "BertForSequenceClassification (bert)", for `ModelInfo`.
    pub fn describe(&self) -> String {
        let arch = self
            .raw
            .get("architectures")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("?");
        let model_type = self
            .raw
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or(self.family.name());
        format!("{arch} ({model_type})")
    }
}

/// Total number of parameters stored in a safetensors file (position-id buffers excluded).
pub fn count_parameters(weights: &Path) -> Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(weights)
        .with_context(|| format!("cannot open {}", weights.display()))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .with_context(|| format!("{}: too short for safetensors", weights.display()))?;
    let n = u64::from_le_bytes(len);
    if n > 100_000_000 {
        bail!(
            "{}: implausible safetensors header size {n}",
            weights.display()
        );
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .with_context(|| format!("{}: truncated safetensors header", weights.display()))?;
    let header: Map<String, Value> = serde_json::from_slice(&header)
        .with_context(|| format!("{}: safetensors header is not JSON", weights.display()))?;
    let mut total = 0u64;
    for (name, t) in &header {
        if name == "__metadata__" || name.ends_with("position_ids") {
            continue;
        }
        let shape = t
            .get("shape")
            .and_then(Value::as_array)
            .with_context(|| format!("{}: tensor {name} has no shape", weights.display()))?;
        total += shape.iter().filter_map(Value::as_u64).product::<u64>();
    }
    Ok(total)
}
