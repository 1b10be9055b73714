//! Traditional models against known answers: TF-IDF values and logistic-regression weights
//! from scikit-learn (testdata/traditional/*.json, made by make_reference.py), bag-of-words
//! counts by hand, a separable toy set, embedding features through a fake embedder.

use powerhungry_backend_traditional::{
    build, Analyzer, LogReg, LogRegOptions, Tokenizer, TraditionalBackend, Vectorizer,
};
use powerhungry_tasks::{Backend, Example, Input, ModelInfo, Output, TextEmbedder};
use std::path::PathBuf;

fn reference(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/traditional")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("committed")).expect("JSON")
}

fn ex(i: usize, text: &str, label: &str) -> Example {
    Example {
        id: i.to_string(),
        input: Input::Text(text.into()),
        label: Some(label.into()),
        gold: None,
    }
}

fn strs(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("str").to_string())
        .collect()
}

fn tight() -> LogRegOptions {
    LogRegOptions {
        c: 1.0,
        max_iter: 10_000,
        tol: 1e-9,
    }
}

#[test]
fn tfidf_char_values_match_sklearn() {
    let r = reference("tfidf_3docs.json");
    let docs = strs(&r["docs"]);
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let mut v = Vectorizer::new(Analyzer::Chars { min: 2, max: 3 }, true);
    let (x, counts) = v.fit_transform(&docs);
    let idf = r["idf"].as_object().expect("idf");
    assert_eq!(v.vocabulary_size(), idf.len());
    // By hand: "at" is in all 3 documents, idf = ln(4/4) + 1 = 1; " a" in one, ln(4/2) + 1.
    assert!((v.idf_of("at").expect("at") - 1.0).abs() < 1e-15);
    assert!((v.idf_of(" a").expect(" a") - (2f64.ln() + 1.0)).abs() < 1e-15);
    for (term, want) in idf {
        let got = v.idf_of(term).unwrap_or_else(|| panic!("missing {term:?}"));
        assert!(
            (got - want.as_f64().expect("f64")).abs() < 1e-12,
            "idf {term:?}"
        );
    }
    for (term, per_doc) in r["values"].as_object().expect("values") {
        let j = v.column_of(term).expect("term");
        for (i, want) in per_doc.as_array().expect("array").iter().enumerate() {
            let (idx, val) = x.row(i);
            let got = idx
                .iter()
                .position(|&c| c == j)
                .map(|p| val[p])
                .unwrap_or(0.0);
            assert!(
                (got - want.as_f64().expect("f64")).abs() < 1e-12,
                "doc {i} term {term:?}"
            );
        }
    }
    // "the cat sat": 10 2-grams + 9 3-grams.
    assert_eq!(counts[0], 19);
}

#[test]
fn bag_of_words_counts_by_hand() {
    let mut v = Vectorizer::new(Analyzer::Words(Tokenizer::Sklearn), false);
    let (x, counts) = v.fit_transform(&["The cat and THE hat", "a cat"]);
    // Vocabulary (sorted): and, cat, hat, the ("a" is one character: dropped, as sklearn).
    assert_eq!(v.vocabulary_size(), 4);
    let row0: Vec<(u32, f64)> = x
        .row(0)
        .0
        .iter()
        .copied()
        .zip(x.row(0).1.iter().copied())
        .collect();
    assert_eq!(row0, vec![(0, 1.0), (1, 1.0), (2, 1.0), (3, 2.0)]);
    assert_eq!(x.row(1), (&[1u32][..], &[1.0][..]));
    assert_eq!(counts, vec![5, 1]);
    // Unknown words are ignored at prediction but still counted as input tokens.
    let (y, counts) = v.transform(&["the dog"]);
    assert_eq!(y.row(0), (&[3u32][..], &[1.0][..]));
    assert_eq!(counts, vec![2]);
}

fn check_logreg(case: &serde_json::Value, analyzer: Analyzer, tfidf: bool) {
    let texts = strs(&case["texts"]);
    let labels = strs(&case["labels"]);
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let mut v = Vectorizer::new(analyzer, tfidf);
    let (x, _) = v.fit_transform(&texts);
    let m = LogReg::fit(&x, &labels, &tight()).expect("fit");
    assert!(m.outcome.converged, "{:?}", m.outcome);
    assert_eq!(m.classes, strs(&case["classes"]));
    for (term, ws) in case["coef"].as_object().expect("coef") {
        let j = v.column_of(term).expect("term") as usize;
        for (k, w) in ws.as_array().expect("array").iter().enumerate() {
            let w = w.as_f64().expect("f64");
            assert!(
                (m.weight(k, j) - w).abs() < 1e-5,
                "coef[{k}][{term:?}] {} vs {w}",
                m.weight(k, j)
            );
        }
    }
    for (k, b) in case["intercept"]
        .as_array()
        .expect("array")
        .iter()
        .enumerate()
    {
        assert!(
            (m.intercept(k) - b.as_f64().expect("f64")).abs() < 1e-5,
            "intercept {k}"
        );
    }
    let proba = m.predict_proba(&x);
    for (row, want) in proba.iter().zip(case["proba"].as_array().expect("array")) {
        for (p, w) in row.iter().zip(want.as_array().expect("array")) {
            assert!((p - w.as_f64().expect("f64")).abs() < 1e-6);
        }
    }
}

#[test]
fn logistic_regression_weights_match_sklearn() {
    let r = reference("logreg_toy.json");
    check_logreg(&r["bow_binary"], Analyzer::Words(Tokenizer::Sklearn), false);
    check_logreg(
        &r["bow_multiclass"],
        Analyzer::Words(Tokenizer::Sklearn),
        false,
    );
    check_logreg(
        &r["tfidf_char_binary"],
        Analyzer::Chars { min: 2, max: 3 },
        true,
    );
}

#[test]
fn separable_toy_set_is_learned_exactly() {
    // Each class has its own words: a linear model separates them perfectly.
    let train: Vec<Example> = (0..30)
        .map(|i| match i % 3 {
            0 => ex(i, "red apple red cherry", "red"),
            1 => ex(i, "green leaf green lime", "green"),
            _ => ex(i, "blue sky blue sea", "blue"),
        })
        .collect();
    let mut m = TraditionalBackend::bag_of_words(LogRegOptions {
        c: 100.0,
        ..tight()
    });
    m.fit(&train).expect("fit");
    let probe = [
        ex(0, "a red cherry", "red"),
        ex(1, "lime leaf", "green"),
        ex(2, "the sea", "blue"),
    ];
    let refs: Vec<&Example> = probe.iter().collect();
    let out = m.predict(&refs).expect("predict");
    let got: Vec<String> = out
        .iter()
        .map(|p| match &p.output {
            Output::Label(l) => l.clone(),
            other => panic!("expected a label, got {other:?}"),
        })
        .collect();
    assert_eq!(got, ["red", "green", "blue"]);
    assert_eq!(out[0].input_tokens, 2, "\"a\" is not a token");
    // 9 distinct words (red apple cherry green leaf lime blue sky sea); 3 classes:
    // 3 x 9 weights + 3 intercepts.
    assert_eq!(m.info().parameters, Some(3 * 9 + 3));
}

/// A deterministic stand-in for a sentence encoder: word hashing into 8 dimensions.
struct FakeEmbedder {
    calls: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
}

impl TextEmbedder for FakeEmbedder {
    fn dimension(&self) -> usize {
        8
    }
    fn embed(&mut self, texts: &[&str]) -> anyhow::Result<Vec<(Vec<f32>, u32)>> {
        self.calls.lock().expect("lock").push(texts.len());
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; 8];
                let words: Vec<&str> = t.split_whitespace().collect();
                for w in &words {
                    let h = w
                        .bytes()
                        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
                    v[(h % 8) as usize] += 1.0;
                }
                (v, words.len() as u32 + 2)
            })
            .collect())
    }
    fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: Some(1000),
            description: "fake hashing embedder".into(),
        }
    }
}

#[test]
fn embedding_features_with_a_fake_embedder() {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let embedder = Box::new(FakeEmbedder {
        calls: calls.clone(),
    });
    let mut opts = toml::Table::new();
    opts.insert("embed_batch_size".into(), toml::Value::Integer(4));
    let mut m = build("embedding-lr", &opts, Some(embedder)).expect("build");
    assert!(m.needs_fit());
    let train: Vec<Example> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                ex(i, "good", "pos")
            } else {
                ex(i, "bad", "neg")
            }
        })
        .collect();
    m.fit(&train).expect("fit");
    assert_eq!(*calls.lock().expect("lock"), vec![4, 4, 2], "batches of 4");
    let probe = [ex(0, "good", "pos"), ex(1, "bad", "neg")];
    let out = m
        .predict(&probe.iter().collect::<Vec<_>>())
        .expect("predict");
    let got: Vec<String> = out
        .iter()
        .map(|p| match &p.output {
            Output::Label(l) => l.clone(),
            other => panic!("expected a label, got {other:?}"),
        })
        .collect();
    // "good" and "bad" hash to different dimensions, so the classes are separable.
    assert_eq!(got, ["pos", "neg"]);
    assert_eq!(out[0].input_tokens, 3, "tokens come from the embedder");
    let info = m.info();
    // Binary: 8 weights + 1 intercept, plus the embedder's 1000.
    assert_eq!(info.parameters, Some(1009));
    assert!(
        info.description.contains("fake hashing embedder"),
        "{}",
        info.description
    );
}

#[test]
fn clear_errors() {
    let mut m = TraditionalBackend::tfidf_char(LogRegOptions::default());
    let e = ex(0, "text", "a");
    let err = m.predict(&[&e]).unwrap_err().to_string();
    assert!(err.contains("must be fitted"), "{err}");
    let err = m.fit(&[ex(0, "x y", "a"), ex(1, "y z", "a")]).unwrap_err();
    assert!(
        format!("{err:#}").contains("at least two classes"),
        "{err:#}"
    );
    let unlabelled = Example {
        label: None,
        ..ex(0, "x", "a")
    };
    let err = m.fit(&[unlabelled]).unwrap_err().to_string();
    assert!(err.contains("needs a label"), "{err}");

    let none = toml::Table::new();
    let err = build("svm", &none, None)
        .err()
        .expect("unknown kind")
        .to_string();
    assert!(err.contains("bow-lr"), "{err}");
    let err = build("embedding-lr", &none, None)
        .err()
        .expect("no embedder")
        .to_string();
    assert!(err.contains("embedding model"), "{err}");
    let mut bad = toml::Table::new();
    bad.insert("C".into(), toml::Value::Float(2.0));
    let err = build("bow-lr", &bad, None)
        .err()
        .expect("unknown key")
        .to_string();
    assert!(err.contains('C') && err.contains("model options"), "{err}");
    let mut neg = toml::Table::new();
    neg.insert("c".into(), toml::Value::Float(-1.0));
    let err = build("bow-lr", &neg, None)
        .err()
        .expect("negative c")
        .to_string();
    assert!(err.contains("`c`"), "{err}");
    // An integer C is fine in TOML (`c = 10`).
    let ten: toml::Table = toml::from_str("c = 10\nmax_iter = 50").expect("toml");
    assert!(build("bow-lr", &ten, None).is_ok());
}

/// Returns fixed vectors, so the scaled features can be computed by hand.
struct FixedEmbedder;

impl TextEmbedder for FixedEmbedder {
    fn dimension(&self) -> usize {
        2
    }
    fn embed(&mut self, texts: &[&str]) -> anyhow::Result<Vec<(Vec<f32>, u32)>> {
        Ok(texts
            .iter()
            .map(|t| match *t {
                "a" => (vec![3.0, 4.0], 1),
                "b" => (vec![1.0, 4.0], 1),
                _ => (vec![0.0, 0.0], 1),
            })
            .collect())
    }
    fn info(&self) -> ModelInfo {
        ModelInfo::default()
    }
}

#[test]
fn embedding_scalings_by_hand() {
    use powerhungry_backend_traditional::{EmbeddingFeatures, Scaling};
    let rows = |m: &powerhungry_backend_traditional::Csr| -> Vec<Vec<f64>> {
        (0..m.rows()).map(|i| m.row(i).1.to_vec()).collect()
    };
    // L2: (3, 4) / 5; a zero vector stays zero.
    let mut f = EmbeddingFeatures::new(Box::new(FixedEmbedder), 8, Scaling::L2);
    let (x, _) = f.fit_transform(&["a", "z"]).expect("embed");
    assert_eq!(rows(&x), vec![vec![0.6, 0.8], vec![0.0, 0.0]]);
    // Standardize on train {(3,4), (1,4)}: mean (2, 4), std (1, 0 -> 1).
    let mut f = EmbeddingFeatures::new(Box::new(FixedEmbedder), 8, Scaling::Standardize);
    assert!(f.transform(&["a"]).is_err(), "not fitted yet");
    let (x, _) = f.fit_transform(&["a", "b"]).expect("embed");
    assert_eq!(rows(&x), vec![vec![1.0, 0.0], vec![-1.0, 0.0]]);
    let (y, _) = f.transform(&["z"]).expect("embed");
    assert_eq!(rows(&y), vec![vec![-2.0, -4.0]]);
    let mut f = EmbeddingFeatures::new(Box::new(FixedEmbedder), 8, Scaling::None);
    let (x, _) = f.fit_transform(&["b"]).expect("embed");
    assert_eq!(rows(&x), vec![vec![1.0, 4.0]]);
}
