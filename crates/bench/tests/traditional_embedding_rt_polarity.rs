//! all-MiniLM-L6-v2 embeddings (candle backend, real weights) + logistic regression on Rotten
//! Tomatoes, the seed-42 50/50 split of traditional_rt_polarity.rs. Needs the weights:
//! `export POWERHUNGRY_MINILM_DIR=$(scripts/fetch-minilm.sh)`; without them the test fails
//! (crates/testkit has the rule), as the other MiniLM tests.
//!
//! Each text is embedded once (a memoising wrapper); the three feature scalings share them.
//! Unoptimised (debug) builds embed ~25x slower, so there, or with
//! POWERHUNGRY_EMBED_SUBSET=N, a seeded stratified N train and N test sentences of the split
//! are used (default 500) with a wider band; the full split runs under `--release`.

use powerhungry_backend_candle::{resolve, CandleEmbedder, ResolveOptions};
use powerhungry_backend_traditional::{LogRegOptions, Scaling, TraditionalBackend};
use powerhungry_datasets::{load_dataset, stratified_sample, train_test_split, DatasetSpec};
use powerhungry_tasks::metrics::accuracy;
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, TextEmbedder};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The model folder from POWERHUNGRY_MINILM_DIR; missing fails the test (crates/testkit).
fn model_dir() -> Option<PathBuf> {
    powerhungry_testkit::minilm_dir()
}

type Memo = Arc<Mutex<HashMap<String, (Vec<f32>, u32)>>>;

/// Embeds each distinct text once; later calls are answered from memory.
struct Memoised {
    inner: Arc<Mutex<CandleEmbedder>>,
    memo: Memo,
    dim: usize,
    info: ModelInfo,
}

impl TextEmbedder for Memoised {
    fn dimension(&self) -> usize {
        self.dim
    }
    fn embed(&mut self, texts: &[&str]) -> anyhow::Result<Vec<(Vec<f32>, u32)>> {
        let mut memo = self.memo.lock().expect("lock");
        let missing: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !memo.contains_key(*t))
            .collect();
        if !missing.is_empty() {
            let out = self.inner.lock().expect("lock").embed(&missing)?;
            for (t, v) in missing.iter().zip(out) {
                memo.insert(t.to_string(), v);
            }
        }
        Ok(texts.iter().map(|t| memo[*t].clone()).collect())
    }
    fn info(&self) -> ModelInfo {
        self.info.clone()
    }
}

#[test]
fn minilm_embeddings_with_logistic_regression_on_rt_polarity() {
    let Some(dir) = model_dir() else { return };
    let files =
        resolve(&dir.display().to_string(), &ResolveOptions::default()).expect("model files");
    let embedder = CandleEmbedder::load(&files).expect("MiniLM loads");
    let (dim, info) = (embedder.dimension(), embedder.info());
    let inner = Arc::new(Mutex::new(embedder));
    let memo: Memo = Arc::default();

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let spec = DatasetSpec {
        encoding: Some("latin-1".into()),
        ..DatasetSpec::from_path(root.join("../../data/rt-polarity"))
    };
    let data = load_dataset(&spec).expect("rt-polarity loads");
    let split = train_test_split(&data.examples, 0.5, 42, true).expect("split");
    let subset = match std::env::var("POWERHUNGRY_EMBED_SUBSET") {
        Ok(n) => Some(
            n.parse::<usize>()
                .expect("POWERHUNGRY_EMBED_SUBSET is a count"),
        ),
        Err(_) => cfg!(debug_assertions).then_some(500),
    };
    let (mut train_idx, mut test_idx) = (split.train.clone(), split.test.clone());
    if let Some(n) = subset {
        let pick = |idx: &[usize]| -> Vec<usize> {
            let part: Vec<Example> = idx.iter().map(|&i| data.examples[i].clone()).collect();
            let s = stratified_sample(&part, n, 7).expect("subset");
            s.indices.iter().map(|&k| idx[k]).collect()
        };
        train_idx = pick(&split.train);
        test_idx = pick(&split.test);
        println!("subset: {n} train and {n} test sentences");
    }
    let train: Vec<Example> = train_idx
        .iter()
        .map(|&i| data.examples[i].clone())
        .collect();
    let test: Vec<&Example> = test_idx.iter().map(|&i| &data.examples[i]).collect();
    let gold: Vec<&str> = test
        .iter()
        .map(|e| e.label.as_deref().unwrap_or(""))
        .collect();

    let mut results = Vec::new();
    for scaling in [Scaling::L2, Scaling::Standardize, Scaling::None] {
        let e = Memoised {
            inner: inner.clone(),
            memo: memo.clone(),
            dim,
            info: info.clone(),
        };
        let mut m =
            TraditionalBackend::embedding(Box::new(e), 32, scaling, LogRegOptions::default());
        let t = std::time::Instant::now();
        m.fit(&train).expect("fit");
        let fit = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let pred: Vec<String> = m
            .predict(&test)
            .expect("predict")
            .into_iter()
            .map(|p| match p.output {
                Output::Label(l) => l,
                other => panic!("a classifier answered {other:?}"),
            })
            .collect();
        let predict = t.elapsed().as_secs_f64();
        let pred: Vec<&str> = pred.iter().map(String::as_str).collect();
        let acc = accuracy(&gold, &pred).expect("accuracy");
        println!(
            "embedding-lr ({}): accuracy {acc:.4}; fit {fit:.1} s, predict {predict:.1} s \
             (first scaling includes embedding every text); {}",
            scaling.name(),
            m.info().description
        );
        results.push((scaling, acc));
    }
    for (scaling, acc) in results {
        // Measured here (seed 42): l2 0.7539, standardize 0.7426, none 0.7539, hardly moved by
        // C (l2: 0.7524 at C=10, 0.7466 at C=100). A small sentence encoder with a linear probe
        // lands near the bag-of-words baseline (0.7501) on these lower-cased, tokenised
        // snippets. The band guards the encoder and the features against regressions.
        // The 500 + 500 subset measured 0.712 (l2), 0.672 (standardize), 0.712 (none);
        // chance is 0.5 and one standard error about 0.02.
        let band = if subset.is_some() {
            0.66..0.88
        } else {
            0.73..0.85
        };
        assert!(band.contains(&acc), "{}: accuracy {acc}", scaling.name());
    }
}
