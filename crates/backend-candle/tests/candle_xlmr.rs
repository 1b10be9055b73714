//! Parity of our candle XLM-RoBERTa sentence embeddings with sentence-transformers on PyTorch,
//! on a tiny random XLM-R sentence-transformers folder made here from the seed (tiny_xlmr.rs),
//! byte for byte the folder testdata/xlmr/make_reference.py embedded (the sha256 of every file
//! is checked). The texts: English, German, Hindi, Chinese, white space sentence-transformers
//! strips, NFKC forms, unknown characters, the empty text and one truncated at 128 tokens.
//! No Python is needed: the reference is committed.

use powerhungry_backend_candle::tiny_xlmr::{self, MAX_SEQ_LENGTH, REFERENCE_SEED};
use powerhungry_backend_candle::tokenize::TextTokenizer;
use powerhungry_backend_candle::{resolve, CandleEmbedder, ResolveOptions};
use powerhungry_tasks::TextEmbedder;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Reference {
    meta: Meta,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Meta {
    seed: u64,
    files_sha256: BTreeMap<String, String>,
    max_seq_length: usize,
    modules: Vec<String>,
}

#[derive(Deserialize)]
struct Row {
    text: String,
    ids: Vec<u32>,
    embedding_alone: Vec<f32>,
    embedding_batched: Vec<f32>,
}

/// Largest difference allowed between one of our embedding elements and sentence-transformers'
/// (docs/candle.md quotes it with what was observed). The vectors are not normalised (the
/// model has no Normalize module); their elements are of order 1.
const MAX_ELEMENT_DIFFERENCE: f32 = 1e-5;

fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/xlmr/tiny-xlmr-reference.json"
    );
    let text = std::fs::read_to_string(path).expect("reference JSON is committed");
    serde_json::from_str(&text).expect("reference JSON parses")
}

/// sha256 of every file under `root`, by path relative to it (`/`-separated).
fn folder_sha256(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(root).expect("under root");
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let bytes = std::fs::read(&path).expect("read");
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.insert(rel.join("/"), hex);
        }
    }
    out
}

/// The folder from the seed, checked to be the one the reference was computed on.
fn folder() -> (tempfile::TempDir, Reference) {
    let reference = reference();
    assert_eq!(reference.meta.seed, REFERENCE_SEED);
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(dir.path(), REFERENCE_SEED).expect("tiny XLM-R folder written");
    assert_eq!(
        folder_sha256(dir.path()),
        reference.meta.files_sha256,
        "the folder made from the seed differs from the one sentence-transformers embedded"
    );
    let texts: Vec<&str> = reference.rows.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, tiny_xlmr::reference_texts());
    assert_eq!(reference.meta.max_seq_length, MAX_SEQ_LENGTH);
    assert_eq!(reference.meta.modules, ["Transformer", "Pooling"]);
    (dir, reference)
}

fn load(dir: &Path) -> CandleEmbedder {
    let files = resolve(&dir.to_string_lossy(), &ResolveOptions::default()).expect("model files");
    CandleEmbedder::load(&files).expect("model loads")
}

/// Compare with the reference element by element; returns the largest difference.
fn check(rows: &[Row], got: &[(Vec<f32>, u32)], batched: bool, what: &str) -> f32 {
    assert_eq!(got.len(), rows.len());
    let mut worst = 0f32;
    for (row, (emb, n)) in rows.iter().zip(got) {
        assert_eq!(
            *n as usize,
            row.ids.len(),
            "{what}: token count of {:?}",
            row.text
        );
        let want = if batched {
            &row.embedding_batched
        } else {
            &row.embedding_alone
        };
        assert_eq!(emb.len(), want.len());
        let d = emb
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            d <= MAX_ELEMENT_DIFFERENCE,
            "{what}: {:?} differs by {d} (first values {:?} vs {:?})",
            row.text,
            &emb[..4],
            &want[..4]
        );
        worst = worst.max(d);
    }
    eprintln!(
        "{what}: largest element difference {worst:.2e}, {} texts",
        rows.len()
    );
    worst
}

#[test]
fn tokens_are_those_sentence_transformers_feeds_the_model() {
    let (dir, reference) = folder();
    let tok = TextTokenizer::load(&dir.path().join("tokenizer.json"), MAX_SEQ_LENGTH, 1)
        .expect("tokenizer");
    for row in &reference.rows {
        let stripped = powerhungry_backend_candle::st_modules::st_text(&row.text, false);
        let ids = &tok.encode(&[stripped.as_ref()]).expect("encode")[0].0;
        assert_eq!(ids, &row.ids, "{:?}", row.text);
    }
    // The long text is cut at max_seq_length, still ending in </s>; an empty one is <s></s>.
    let long = reference.rows.last().expect("rows");
    assert_eq!(long.ids.len(), MAX_SEQ_LENGTH);
    assert_eq!(long.ids.last(), Some(&2));
    assert!(reference.rows.iter().any(|r| r.ids == [0, 2]));
    // Unknown characters (the emoji) are <unk> = 3.
    assert!(reference.rows.iter().any(|r| r.ids.contains(&3)));
}

#[test]
fn embeddings_match_sentence_transformers_one_text_at_a_time() {
    let (dir, reference) = folder();
    let mut m = load(dir.path());
    assert_eq!(m.dimension(), powerhungry_backend_candle::tiny::HIDDEN);
    let got: Vec<_> = reference
        .rows
        .iter()
        .map(|r| m.embed(&[r.text.as_str()]).expect("embed").remove(0))
        .collect();
    check(&reference.rows, &got, false, "batch 1");
    // No Normalize module: the vectors are not unit length (sentence-transformers' are not).
    let norm: f32 = got[0].0.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() > 0.1, "norm {norm}");
    let info = m.info().description;
    assert!(
        info.contains("XLMRobertaModel (xlm-roberta)") && info.contains("Mean pooling"),
        "{info}"
    );
    assert!(!info.contains("L2-normalised"), "{info}");
}

#[test]
fn batched_embeddings_match_and_padding_changes_nothing() {
    let (dir, reference) = folder();
    let mut m = load(dir.path());
    let texts: Vec<&str> = reference.rows.iter().map(|r| r.text.as_str()).collect();
    // All 13 at once: 2 to 128 tokens, padded within length groups.
    let all = m.embed(&texts).expect("embed");
    check(&reference.rows, &all, true, "batch of 13");
    check(&reference.rows, &all, false, "batch of 13 against batch 1");
    // Reversed, in batches of 3: neighbours and their padding must not matter.
    let rev: Vec<&str> = texts.iter().rev().copied().collect();
    let mut got = Vec::new();
    for chunk in rev.chunks(3) {
        got.extend(m.embed(chunk).expect("embed"));
    }
    got.reverse();
    check(&reference.rows, &got, true, "reversed, batches of 3");
}

#[test]
fn a_folder_that_is_not_a_candle_model_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(dir.path(), REFERENCE_SEED).expect("written");
    // The layout some hub snapshots have: PyTorch weights only.
    std::fs::rename(
        dir.path().join("model.safetensors"),
        dir.path().join("pytorch_model.bin"),
    )
    .expect("rename");
    let e = format!(
        "{:#}",
        resolve(&dir.path().to_string_lossy(), &ResolveOptions::default()).unwrap_err()
    );
    assert!(
        e.contains("lacks model.safetensors") && e.contains("only pytorch_model.bin"),
        "{e}"
    );
    // A broken pooling config names its file.
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(dir.path(), REFERENCE_SEED).expect("written");
    std::fs::write(dir.path().join("1_Pooling/config.json"), "{not json").expect("write");
    let files = resolve(&dir.path().to_string_lossy(), &ResolveOptions::default()).expect("files");
    let e = format!("{:#}", CandleEmbedder::load(&files).err().expect("fails"));
    assert!(
        e.contains("1_Pooling/config.json") && e.contains("not valid JSON"),
        "{e}"
    );
}

/// `do_lower_case` in sentence_bert_config.json lower-cases texts before the tokenizer, as
/// sentence-transformers does (the real model has it false: case matters there).
#[test]
fn do_lower_case_is_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    tiny_xlmr::write(dir.path(), REFERENCE_SEED).expect("written");
    let texts = ["DER FILM WAR GUT", "der film war gut"];
    // One text per call: equal inputs give bit-equal outputs (no padding neighbours).
    let each = |m: &mut CandleEmbedder| -> Vec<(Vec<f32>, u32)> {
        texts
            .iter()
            .map(|t| m.embed(&[t]).expect("embed").remove(0))
            .collect()
    };
    let cased = each(&mut load(dir.path()));
    assert_ne!(cased[0], cased[1]);
    std::fs::write(
        dir.path().join("sentence_bert_config.json"),
        r#"{"max_seq_length": 128, "do_lower_case": true}"#,
    )
    .expect("write");
    let lowered = each(&mut load(dir.path()));
    assert_eq!(lowered[0], lowered[1]);
    assert_eq!(lowered[1], cased[1]);
}
