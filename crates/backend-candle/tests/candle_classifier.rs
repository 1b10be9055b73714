//! Sequence-classification heads on tiny random models made in the test (HF weight names):
//! logits against Python transformers on the same weights, label mapping from id2label,
//! padding invariance, and DistilBERT's inverted mask convention in candle.

use candle_core::{Tensor, D};
use powerhungry_backend_candle::config::{Family, HfConfig};
use powerhungry_backend_candle::encoder::{distilbert_mask, var_builder, Encoder};
use powerhungry_backend_candle::tiny::{self, TinySpec, REFERENCE_TEXTS};
use powerhungry_backend_candle::tokenize::TextTokenizer;
use powerhungry_backend_candle::{resolve, ResolveOptions, SequenceClassifier};
use powerhungry_tasks::{Backend, Example, Input, Output};
use serde::Deserialize;
use std::collections::HashMap;

const FAMILIES: [Family; 3] = [Family::Bert, Family::DistilBert, Family::Roberta];

fn write(spec: &TinySpec) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    tiny::write(dir.path(), spec).expect("tiny model written");
    dir
}

fn load(dir: &tempfile::TempDir, fast: bool) -> SequenceClassifier {
    let files = resolve(&dir.path().to_string_lossy(), &ResolveOptions::default()).expect("files");
    SequenceClassifier::load_with(&files, fast).expect("classifier loads")
}

fn rows(t: &Tensor) -> Vec<Vec<f32>> {
    t.to_vec2::<f32>().expect("2-d f32")
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[derive(Deserialize)]
struct Reference {
    texts: Vec<String>,
    models: HashMap<String, ModelRef>,
}

#[derive(Deserialize)]
struct ModelRef {
    ids: Vec<Vec<u32>>,
    logits_alone: Vec<Vec<f32>>,
    logits_batched: Vec<Vec<f32>>,
}

#[test]
fn logits_match_python_transformers_on_the_same_weights() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/minilm/tiny_classifiers_reference.json"
    );
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(path).expect("committed")).expect("parses");
    assert_eq!(reference.texts, REFERENCE_TEXTS);
    for family in FAMILIES {
        let r = &reference.models[family.name()];
        let dir = write(&tiny::reference_spec(family));
        for fast in [true, false] {
            let m = load(&dir, fast);
            let (logits, lengths) = m.logits(&REFERENCE_TEXTS).expect("logits");
            let lens: Vec<usize> = r.ids.iter().map(Vec::len).collect();
            assert_eq!(lengths, lens, "{family:?}: token counts");
            for (i, got) in rows(&logits).iter().enumerate() {
                let d1 = max_diff(got, &r.logits_alone[i]);
                let d2 = max_diff(got, &r.logits_batched[i]);
                assert!(
                    d1 < 1e-4 && d2 < 1e-4,
                    "{family:?} fast={fast} text {i}: {got:?} vs transformers {:?} (diff {d1}, {d2})",
                    r.logits_alone[i]
                );
            }
        }
    }
}

fn example(id: usize, text: &str) -> Example {
    Example {
        id: id.to_string(),
        input: Input::Text(text.to_string()),
        label: None,
        gold: None,
    }
}

#[test]
fn predictions_use_id2label_and_count_tokens() {
    for family in FAMILIES {
        for (class, name) in [(1, "positive"), (2, "neutral"), (0, "negative")] {
            let mut spec = tiny::reference_spec(family);
            spec.bias_boost = Some((class, 100.0));
            let dir = write(&spec);
            let mut m = load(&dir, true);
            assert_eq!(m.labels(), ["negative", "positive", "neutral"]);
            let ex: Vec<Example> = REFERENCE_TEXTS
                .iter()
                .enumerate()
                .map(|(i, t)| example(i, t))
                .collect();
            let refs: Vec<&Example> = ex.iter().collect();
            let preds = m.predict(&refs).expect("predict");
            assert_eq!(preds.len(), 4);
            let (logits, _) = m.logits(&REFERENCE_TEXTS).expect("logits");
            assert_eq!(logits.dims(), &[4, 3]);
            let best = logits.argmax(D::Minus1).unwrap().to_vec1::<u32>().unwrap();
            assert!(
                best.iter().all(|&b| b as usize == class),
                "{family:?}: {best:?}"
            );
            for p in &preds {
                assert_eq!(p.output, Output::Label(name.to_string()), "{family:?}");
                assert_eq!(p.output_tokens, 0);
            }
            // "the film was good" = [CLS] the film was good [SEP]
            assert_eq!(preds[0].input_tokens, 6);
            assert_eq!(preds[2].input_tokens, 3);
        }
    }
}

#[test]
fn padding_a_text_does_not_change_its_logits() {
    let short = "a film";
    let long = "the film was good but the plot was dull and the actors were very bad .";
    for family in FAMILIES {
        let dir = write(&tiny::reference_spec(family));
        for fast in [true, false] {
            let m = load(&dir, fast);
            let alone = rows(&m.logits(&[short]).unwrap().0);
            let padded = rows(&m.logits(&[short, long]).unwrap().0);
            let d = max_diff(&alone[0], &padded[0]);
            assert!(
                d < 1e-5,
                "{family:?} fast={fast}: padding moved logits by {d}"
            );
        }
    }
}

/// candle's DistilBERT masks where its mask is 1; Hugging Face's attention_mask is 1 on real
/// tokens. Our conversion keeps a padded text's hidden states equal to the text alone; handing
/// candle Hugging Face's mask unconverted would not.
#[test]
fn distilbert_mask_is_inverted_for_candle() {
    let dir = write(&tiny::reference_spec(Family::DistilBert));
    let files = resolve(&dir.path().to_string_lossy(), &ResolveOptions::default()).unwrap();
    let cfg = HfConfig::load(&files.config).unwrap();
    let vb = var_builder(&files.weights, &candle_core::Device::Cpu).unwrap();
    let Encoder::DistilBert(model) = Encoder::load_candle(&cfg, &vb).unwrap() else {
        panic!("expected candle's DistilBERT");
    };
    let tok = TextTokenizer::load(&files.tokenizer, 40, 0).unwrap();
    let enc = tok
        .encode(&["a film", "the film was good but the plot was dull"])
        .unwrap();
    let dev = candle_core::Device::Cpu;
    let alone = tok.batch(&[&enc[0]], &dev).unwrap();
    let both = tok.batch(&[&enc[0], &enc[1]], &dev).unwrap();
    let first_row = |h: Tensor| -> Vec<f32> {
        // Hidden states of text 0's real tokens, flattened.
        h.get(0)
            .unwrap()
            .narrow(0, 0, 4)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    let reference = first_row(
        model
            .forward(&alone.ids, &distilbert_mask(&alone.mask).unwrap())
            .unwrap(),
    );
    let converted = first_row(
        model
            .forward(&both.ids, &distilbert_mask(&both.mask).unwrap())
            .unwrap(),
    );
    assert!(max_diff(&reference, &converted) < 1e-5);
    let (b, l) = both.mask.dims2().unwrap();
    let unconverted = both.mask.eq(1u32).unwrap().reshape((b, 1, 1, l)).unwrap();
    let wrong = first_row(model.forward(&both.ids, &unconverted).unwrap());
    let d = max_diff(&reference, &wrong);
    assert!(
        d > 1e-2 || wrong.iter().any(|v| v.is_nan()),
        "flipping the mask convention should change the result (diff {d})"
    );
    // Through the public encoder, the text alone and padded agree.
    let enc_model = Encoder::load_candle(&cfg, &vb).unwrap();
    let via = first_row(
        enc_model
            .forward(&both.ids, &both.type_ids, &both.mask)
            .unwrap(),
    );
    assert!(max_diff(&reference, &via) < 1e-5);
}

#[test]
fn config_errors_name_the_file_and_key() {
    let err = |json: &str| HfConfig::parse(json, "cfg.json").and_then(|c| c.labels().map(|_| c));
    let msg = |json: &str| format!("{:#}", err(json).expect_err("should fail"));
    assert!(msg("{").contains("cfg.json: not valid JSON"));
    assert!(msg(r#"{"model_type": "gpt2"}"#).contains("model_type `gpt2` is not supported"));
    assert!(msg(r#"{"hidden_size": 4}"#).contains("`model_type` missing"));
    let m = msg(r#"{"model_type": "bert", "id2label": {"0": "a", "5": "b"}}"#);
    assert!(m.contains("id2label key `5`"), "{m}");
    let m = msg(r#"{"model_type": "bert", "id2label": {"0": "a", "1": "b"}, "num_labels": 3}"#);
    assert!(m.contains("num_labels is 3"), "{m}");
    let m = msg(
        r#"{"model_type": "bert", "num_labels": 2, "problem_type": "multi_label_classification"}"#,
    );
    assert!(m.contains("multi_label_classification"), "{m}");
    assert!(msg(r#"{"model_type": "bert", "num_labels": 1}"#).contains("regression"));
    assert!(msg(r#"{"model_type": "bert"}"#).contains("not a classifier"));
    // num_labels alone gives transformers' LABEL_i names.
    let c = HfConfig::parse(r#"{"model_type": "roberta", "num_labels": 2}"#, "c").unwrap();
    assert_eq!(c.labels().unwrap(), ["LABEL_0", "LABEL_1"]);
    assert_eq!(c.pad_token_id().unwrap(), 1);
    assert_eq!(c.max_positions().unwrap(), 512 - 2);
}

#[test]
fn a_checkpoint_without_its_head_is_a_clear_error() {
    let dir = write(&tiny::reference_spec(Family::Bert));
    // Same weights, but the config claims DistilBERT: the encoder or head is missing.
    let cfg_path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    let text = text.replace("\"model_type\": \"bert\"", "\"model_type\": \"distilbert\"");
    std::fs::write(&cfg_path, text).unwrap();
    let files = resolve(&dir.path().to_string_lossy(), &ResolveOptions::default()).unwrap();
    let e = format!(
        "{:#}",
        SequenceClassifier::load(&files).err().expect("fails")
    );
    assert!(e.contains("distilbert"), "{e}");
}
