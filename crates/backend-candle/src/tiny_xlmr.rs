//! A tiny random XLM-RoBERTa *sentence-transformers folder*, laid out as
//! sentence-transformers/paraphrase-multilingual-mpnet-base-v2 is (a bare `XLMRobertaModel`,
//! model_type `xlm-roberta`, pad id 1 with positions counted from 2, one token type; a
//! SentencePiece-style Unigram tokenizer with `<s>` `<pad>` `</s>` `<unk>` … `<mask>` that wraps
//! each text in `<s>` … `</s>`; modules Transformer + mean Pooling, no Normalize; max_seq_length
//! 128), made from a seed. The real weights are not reachable here: the parity test
//! (tests/candle_xlmr.rs) runs these against sentence-transformers' numbers on the same files
//! (testdata/xlmr/), and example `tiny_xlmr` writes the folder for testdata/xlmr/make_reference.py.

use super::config::Family;
use super::tiny::{Weights, HEADS, HIDDEN, INTERMEDIATE, LAYERS};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::Path;

/// The seed of the folder testdata/xlmr/ holds sentence-transformers' embeddings of.
pub const REFERENCE_SEED: u64 = 20_251_201;
/// As the real model's sentence_bert_config.json.
pub const MAX_SEQ_LENGTH: usize = 128;
/// As the real model's config.json: 512 positions after the pad id's two.
pub const MAX_POSITIONS: usize = 514;

/// Unigram pieces after the four specials (`<mask>` comes last, as in XLM-R). `▁` marks a word
/// start (Metaspace). Words of English, German, Hindi and Chinese, sub-words, and single
/// characters to fall back on; what none covers (emoji, most capitals) becomes `<unk>`.
const PIECES: &[&str] = &[
    "▁",
    ".",
    ",",
    "!",
    "?",
    ":",
    "।",
    "。",
    "0",
    "1",
    "2",
    "4",
    // English
    "▁the",
    "▁film",
    "▁was",
    "▁very",
    "▁good",
    "▁bad",
    "▁energy",
    "▁a",
    "▁is",
    "▁and",
    "▁not",
    "▁fun",
    "▁mixed",
    "▁movie",
    "ing",
    "ed",
    // German
    "▁Der",
    "▁Film",
    "▁war",
    "▁sehr",
    "▁gut",
    "▁schlecht",
    "▁Energie",
    "▁und",
    "▁nicht",
    "▁Guten",
    "▁Morgen",
    "▁über",
    "▁Straße",
    "ß",
    "ü",
    "ö",
    "ä",
    "en",
    "er",
    "sch",
    "ie",
    // Hindi (Devanagari; फ़ decomposed, as NFKC leaves it)
    "▁यह",
    "▁फ\u{093C}िल्म",
    "▁बहुत",
    "▁अच्छी",
    "▁थी",
    "▁नमस्ते",
    "▁ऊर्जा",
    "▁है",
    "▁और",
    "क",
    "ा",
    "ि",
    "ी",
    "्",
    "र",
    "म",
    "स",
    "त",
    "न",
    "े",
    "ह",
    "ल",
    "ब",
    "ु",
    "\u{093C}",
    "फ",
    "ज",
    "ऊ",
    "▁य",
    "▁अ",
    // Chinese
    "这",
    "部",
    "电影",
    "很",
    "好",
    "能源",
    "我",
    "喜欢",
    "的",
    "▁这",
    "电",
    "影",
    "能",
    "源",
    // Latin letters to spell anything else
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "M",
    "S",
    "fi",
    "lm",
    "▁A",
    "▁f",
];

const SPECIALS: [&str; 4] = ["<s>", "<pad>", "</s>", "<unk>"];
const MASK: &str = "<mask>";

pub fn vocab_size() -> usize {
    SPECIALS.len() + PIECES.len() + 1
}

/// Texts of the reference: four languages, whitespace sentence-transformers strips, NFKC
/// forms (full-width letters, a ligature, a precomposed फ़), unknown characters, the empty
/// text, and one longer than [`MAX_SEQ_LENGTH`] tokens.
pub fn reference_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "the film was very good",
        "Der Film war sehr gut.",
        "यह \u{095E}िल्म बहुत अच्छी थी।",
        "这部电影很好。",
        "",
        "  Guten Morgen,   Straße!  ",
        "ＡＢＣ ﬁlm 2024",
        "mixed: Energie, ऊर्जा, 能源 🙂",
        "a",
        "\tनमस्ते\n",
        "\u{1f}Film\u{1c}",
        "我喜欢这部电影",
    ]
    .map(String::from)
    .to_vec();
    texts.push("Energie und energy, ऊर्जा और 能源. ".repeat(30));
    texts
}

/// Write the folder into `dir` (created if needed): config.json, model.safetensors,
/// tokenizer.json, tokenizer_config.json, special_tokens_map.json, modules.json,
/// sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json.
pub fn write(dir: &Path, seed: u64) -> Result<()> {
    let pooling_dir = dir.join("1_Pooling");
    std::fs::create_dir_all(&pooling_dir)
        .with_context(|| format!("creating {}", pooling_dir.display()))?;
    let mut w = Weights::new(seed);
    w.encoder(Family::Roberta, "", vocab_size(), MAX_POSITIONS)?;
    // XLMRobertaModel keeps its pooler; sentence-transformers pools the token vectors instead.
    w.linear("pooler.dense", HIDDEN, HIDDEN)?;
    let weights = dir.join("model.safetensors");
    candle_core::safetensors::save(&w.t, &weights)
        .with_context(|| format!("writing {}", weights.display()))?;
    let files: [(&str, Value); 8] = [
        ("config.json", config()),
        ("tokenizer.json", tokenizer()),
        ("tokenizer_config.json", tokenizer_config()),
        ("special_tokens_map.json", special_tokens()),
        (
            "modules.json",
            json!([
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]),
        ),
        (
            "sentence_bert_config.json",
            json!({"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": false}),
        ),
        (
            "config_sentence_transformers.json",
            json!({"__version__": {"sentence_transformers": "2.0.0", "transformers": "4.7.0",
                                   "pytorch": "1.9.0+cu102"}}),
        ),
        (
            "1_Pooling/config.json",
            json!({"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": false,
                   "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false,
                   "pooling_mode_mean_sqrt_len_tokens": false}),
        ),
    ];
    for (name, value) in files {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&value)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn config() -> Value {
    json!({
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1, "hidden_act": "gelu",
        "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE, "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS, "max_position_embeddings": MAX_POSITIONS,
        "type_vocab_size": 1, "vocab_size": vocab_size(), "layer_norm_eps": 1e-5,
        "initializer_range": 0.02, "bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2,
        "output_past": true, "gradient_checkpointing": false,
    })
}

fn added_token(id: usize, content: &str) -> Value {
    json!({"id": id, "content": content, "single_word": false, "lstrip": content == MASK,
           "rstrip": false, "normalized": false, "special": true})
}

/// As transformers' XLM-R converter writes a SentencePiece model: Unigram over the pieces
/// (scores favour longer pieces), NFKC standing in for SentencePiece's precompiled nmt_nfkc
/// charsmap (not reproducible here), runs of spaces collapsed, Metaspace, `<s> $A </s>`.
fn tokenizer() -> Value {
    let mask_id = vocab_size() - 1;
    let mut vocab: Vec<Value> = SPECIALS.iter().map(|s| json!([s, 0.0])).collect();
    for (i, p) in PIECES.iter().enumerate() {
        let chars = p.chars().count() as f64;
        vocab.push(json!([p, -2.0 - 6.0 / chars - 0.001 * i as f64]));
    }
    vocab.push(json!([MASK, 0.0]));
    let mut added: Vec<Value> = SPECIALS
        .iter()
        .enumerate()
        .map(|(i, s)| added_token(i, s))
        .collect();
    added.push(added_token(mask_id, MASK));
    let special = |t: &str| json!({"SpecialToken": {"id": t, "type_id": 0}});
    let seq = |s: &str| json!({"Sequence": {"id": s, "type_id": 0}});
    let metaspace = json!({"type": "Metaspace", "replacement": "▁", "add_prefix_space": true});
    json!({
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": MAX_SEQ_LENGTH,
                       "strategy": "LongestFirst", "stride": 0},
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        ]},
        "pre_tokenizer": metaspace,
        "post_processor": {"type": "TemplateProcessing",
            "single": [special("<s>"), seq("A"), special("</s>")],
            "pair": [special("<s>"), seq("A"), special("</s>"), special("</s>"), seq("B"),
                     special("</s>")],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
            }},
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": false},
    })
}

fn special_tokens() -> Value {
    json!({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
           "pad_token": "<pad>", "cls_token": "<s>",
           "mask_token": {"content": MASK, "single_word": false, "lstrip": true,
                          "rstrip": false, "normalized": false}})
}

fn tokenizer_config() -> Value {
    let mut v = special_tokens();
    v["tokenizer_class"] = json!("XLMRobertaTokenizer");
    v["model_max_length"] = json!(512);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_distinct() {
        let mut all: Vec<&str> = SPECIALS.iter().chain(PIECES).copied().collect();
        all.push(MASK);
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, vocab_size());
    }
}
