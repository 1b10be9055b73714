//! Tiny random `...ForSequenceClassification` models in Hugging Face's format (config.json,
//! model.safetensors with HF's weight names, tokenizer.json), made from a seed. For tests of
//! the heads and masks, and for `scripts/minilm_tiny_reference.py`, which runs the same files
//! through Python transformers (example `tiny_models` writes them).

use super::config::Family;
use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use rand::RngCore;
use rand::SeedableRng;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

pub const HIDDEN: usize = 16;
pub const HEADS: usize = 2;
pub const LAYERS: usize = 2;
pub const INTERMEDIATE: usize = 32;
pub const MAX_POSITIONS: usize = 40;
/// Words of the tiny vocabulary (after the four special tokens).
pub const WORDS: [&str; 24] = [
    "the", "a", "film", "movie", "is", "was", "good", "bad", "great", "awful", "not", "very",
    "plot", "actors", "and", "but", "fun", "dull", "i", "it", "loved", "hated", ".", ",",
];

/// How a tiny model is made.
#[derive(Debug, Clone)]
pub struct TinySpec {
    pub family: Family,
    /// `id2label` as written to config.json, in this key order.
    pub id2label: Vec<(usize, String)>,
    pub seed: u64,
    /// Add this to one class's output bias, to force a known prediction.
    pub bias_boost: Option<(usize, f32)>,
}

struct Gen(rand_chacha::ChaCha8Rng);

impl Gen {
    /// Uniform in [-scale, scale), from raw bits so the values never depend on a crate's
    /// float conversion.
    fn tensor(&mut self, shape: &[usize], scale: f32, center: f32) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| {
                let u = (self.0.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
                center + scale * (2.0 * u - 1.0)
            })
            .collect();
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
    }
}

/// Tensors being made, named as Hugging Face names them, all drawn from one seeded
/// generator: the order of the calls fixes the values.
pub(crate) struct Weights {
    pub t: HashMap<String, Tensor>,
    g: Gen,
}

impl Weights {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            t: HashMap::new(),
            g: Gen(rand_chacha::ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// Layer-norm scales near 1, embeddings in [-1, 1), everything else in [-0.3, 0.3).
    fn put(&mut self, name: String, shape: &[usize]) -> Result<()> {
        let (scale, center) =
            if name.ends_with("LayerNorm.weight") || name.ends_with("layer_norm.weight") {
                (0.1, 1.0)
            } else if name.contains("embeddings") {
                (1.0, 0.0)
            } else {
                (0.3, 0.0)
            };
        let v = self.g.tensor(shape, scale, center)?;
        self.t.insert(name, v);
        Ok(())
    }

    /// `{p}.weight` `(out, inp)` and `{p}.bias` `(out)`.
    pub(crate) fn linear(&mut self, p: &str, out: usize, inp: usize) -> Result<()> {
        self.put(format!("{p}.weight"), &[out, inp])?;
        self.put(format!("{p}.bias"), &[out])
    }

    /// A layer norm's `{p}.weight` and `{p}.bias` over the hidden size.
    fn norm(&mut self, p: &str) -> Result<()> {
        self.put(format!("{p}.weight"), &[HIDDEN])?;
        self.put(format!("{p}.bias"), &[HIDDEN])
    }

    /// The embeddings and the [`LAYERS`] transformer layers of `family`, under `base`
    /// (`bert`, `roberta`, ...; empty for a bare `...Model` checkpoint, as sentence-transformers
    /// folders hold).
    pub(crate) fn encoder(
        &mut self,
        family: Family,
        base: &str,
        vocab: usize,
        positions: usize,
    ) -> Result<()> {
        let (h, i) = (HIDDEN, INTERMEDIATE);
        let name = |s: &str| {
            if base.is_empty() {
                s.to_string()
            } else {
                format!("{base}.{s}")
            }
        };
        self.put(name("embeddings.word_embeddings.weight"), &[vocab, h])?;
        self.put(
            name("embeddings.position_embeddings.weight"),
            &[positions, h],
        )?;
        if family != Family::DistilBert {
            let types = if family == Family::Roberta { 1 } else { 2 };
            self.put(name("embeddings.token_type_embeddings.weight"), &[types, h])?;
        }
        self.norm(&name("embeddings.LayerNorm"))?;
        for l in 0..LAYERS {
            // (name, out, in) of each dense layer, then the layer norms.
            let (dense, norms): (Vec<(String, usize, usize)>, Vec<String>) =
                if family == Family::DistilBert {
                    let p = name(&format!("transformer.layer.{l}"));
                    (
                        vec![
                            (format!("{p}.attention.q_lin"), h, h),
                            (format!("{p}.attention.k_lin"), h, h),
                            (format!("{p}.attention.v_lin"), h, h),
                            (format!("{p}.attention.out_lin"), h, h),
                            (format!("{p}.ffn.lin1"), i, h),
                            (format!("{p}.ffn.lin2"), h, i),
                        ],
                        vec![
                            format!("{p}.sa_layer_norm"),
                            format!("{p}.output_layer_norm"),
                        ],
                    )
                } else {
                    let p = name(&format!("encoder.layer.{l}"));
                    (
                        vec![
                            (format!("{p}.attention.self.query"), h, h),
                            (format!("{p}.attention.self.key"), h, h),
                            (format!("{p}.attention.self.value"), h, h),
                            (format!("{p}.attention.output.dense"), h, h),
                            (format!("{p}.intermediate.dense"), i, h),
                            (format!("{p}.output.dense"), h, i),
                        ],
                        vec![
                            format!("{p}.attention.output.LayerNorm"),
                            format!("{p}.output.LayerNorm"),
                        ],
                    )
                };
            for (p, out, inp) in dense {
                self.linear(&p, out, inp)?;
            }
            for p in norms {
                self.norm(&p)?;
            }
        }
        Ok(())
    }
}

fn specials(family: Family) -> [&'static str; 4] {
    match family {
        Family::Roberta => ["<s>", "<pad>", "</s>", "<unk>"],
        _ => ["[PAD]", "[UNK]", "[CLS]", "[SEP]"],
    }
}

/// The model of each family whose logits Python transformers computed
/// (testdata/minilm/tiny_classifiers_reference.json): three classes, keys out of order.
pub fn reference_spec(family: Family) -> TinySpec {
    TinySpec {
        family,
        id2label: vec![
            (2, "neutral".into()),
            (0, "negative".into()),
            (1, "positive".into()),
        ],
        seed: 20_241_122 + family as u64,
        bias_boost: None,
    }
}

/// Texts of the reference: in and out of the vocabulary, one longer than the others.
pub const REFERENCE_TEXTS: [&str; 4] = [
    "the film was good",
    "i hated the plot , and the actors were dull . not fun , not great , very bad .",
    "a",
    "Great fun!",
];

pub fn vocab_size() -> usize {
    4 + WORDS.len()
}

/// Write the model's three files into `dir` (created if needed).
pub fn write(dir: &Path, spec: &TinySpec) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let n = spec.id2label.len();
    let mut w = Weights::new(spec.seed);
    let h = HIDDEN;
    let family = spec.family;
    let base = match family {
        Family::Bert => "bert",
        Family::DistilBert => "distilbert",
        Family::Roberta => "roberta",
    };
    let positions = MAX_POSITIONS + if family == Family::Roberta { 2 } else { 0 };
    w.encoder(family, base, vocab_size(), positions)?;
    let head: [(String, usize); 2] = match family {
        Family::Bert => [("bert.pooler.dense".into(), h), ("classifier".into(), n)],
        Family::DistilBert => [("pre_classifier".into(), h), ("classifier".into(), n)],
        Family::Roberta => [
            ("classifier.dense".into(), h),
            ("classifier.out_proj".into(), n),
        ],
    };
    for (name, out) in &head {
        w.linear(name, *out, h)?;
    }
    if let Some((class, boost)) = spec.bias_boost {
        let name = format!("{}.bias", head[1].0);
        let mut b = w.t[&name].to_vec1::<f32>()?;
        b[class] += boost;
        w.t.insert(name, Tensor::from_vec(b, n, &Device::Cpu)?);
    }
    candle_core::safetensors::save(&w.t, dir.join("model.safetensors"))?;
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config(spec))?,
    )?;
    std::fs::write(
        dir.join("tokenizer.json"),
        serde_json::to_string_pretty(&tokenizer(family))?,
    )?;
    Ok(())
}

fn config(spec: &TinySpec) -> serde_json::Value {
    let id2label: serde_json::Map<String, serde_json::Value> = spec
        .id2label
        .iter()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let label2id: serde_json::Map<String, serde_json::Value> = spec
        .id2label
        .iter()
        .map(|(i, l)| (l.clone(), json!(i)))
        .collect();
    let mut c = match spec.family {
        Family::Bert => json!({
            "architectures": ["BertForSequenceClassification"], "model_type": "bert",
            "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
            "intermediate_size": INTERMEDIATE, "hidden_act": "gelu", "max_position_embeddings": MAX_POSITIONS,
            "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12,
        }),
        Family::DistilBert => json!({
            "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
            "dim": HIDDEN, "n_heads": HEADS, "n_layers": LAYERS, "hidden_dim": INTERMEDIATE,
            "activation": "gelu", "max_position_embeddings": MAX_POSITIONS, "pad_token_id": 0,
            "sinusoidal_pos_embds": false,
        }),
        Family::Roberta => json!({
            "architectures": ["RobertaForSequenceClassification"], "model_type": "roberta",
            "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
            "intermediate_size": INTERMEDIATE, "hidden_act": "gelu",
            "max_position_embeddings": MAX_POSITIONS + 2, "type_vocab_size": 1, "pad_token_id": 1,
            "bos_token_id": 0, "eos_token_id": 2, "layer_norm_eps": 1e-5,
        }),
    };
    c["vocab_size"] = json!(vocab_size());
    c["id2label"] = json!(id2label);
    c["label2id"] = json!(label2id);
    c["problem_type"] = json!("single_label_classification");
    c
}

/// A WordPiece tokenizer over [`WORDS`] with the family's special tokens.
fn tokenizer(family: Family) -> serde_json::Value {
    let sp = specials(family);
    let mut vocab = serde_json::Map::new();
    for (id, tok) in sp.iter().chain(WORDS.iter()).enumerate() {
        vocab.insert((*tok).to_string(), json!(id));
    }
    let (unk, cls, sep) = match family {
        Family::Roberta => (sp[3], sp[0], sp[2]),
        _ => (sp[1], sp[2], sp[3]),
    };
    let id = |t: &str| vocab[t].clone();
    let added: Vec<_> = sp
        .iter()
        .map(|t| {
            json!({"id": id(t), "content": t, "single_word": false, "lstrip": false,
                        "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let special = |t: &str| json!({"SpecialToken": {"id": t, "type_id": 0}});
    json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [special(cls), {"Sequence": {"id": "A", "type_id": 0}}, special(sep)],
            "pair": [special(cls), {"Sequence": {"id": "A", "type_id": 0}}, special(sep),
                     {"Sequence": {"id": "B", "type_id": 0}}, special(sep)],
            "special_tokens": {
                cls: {"id": cls, "ids": [id(cls)], "tokens": [cls]},
                sep: {"id": sep, "ids": [id(sep)], "tokens": [sep]},
            }},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": unk, "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    })
}
