//! Bag-of-words and char-TF-IDF logistic regression on Rotten Tomatoes (the project's copy in
//! data/rt-polarity), seeded stratified 50/50 split, against scikit-learn on the same split.
//! Reference: testdata/traditional/rt_polarity_sklearn.json (made by make_reference.py).

use powerhungry_backend_traditional::{LogRegOptions, TraditionalBackend};
use powerhungry_datasets::{load_dataset, train_test_split, DatasetSpec};
use powerhungry_tasks::metrics::accuracy;
use powerhungry_tasks::{Backend, Example, Output};
use std::path::PathBuf;

const SEED: u64 = 42;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fnv1a(ids: &[&str]) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in ids.join("\n").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    format!("{h:016x}")
}

fn reference() -> serde_json::Value {
    let path = root().join("testdata/traditional/rt_polarity_sklearn.json");
    let text = std::fs::read_to_string(&path).expect("reference file is committed");
    serde_json::from_str(&text).expect("reference is JSON")
}

fn run(backend: &mut TraditionalBackend, train: &[Example], test: &[&Example]) -> Vec<String> {
    // Timings are printed, not asserted (see docs/datasets.md for the release-build figures).
    let t = std::time::Instant::now();
    backend.fit(train).expect("fit");
    let fit = t.elapsed();
    let t = std::time::Instant::now();
    let out = backend.predict(test).expect("predict");
    println!(
        "fit on {} examples: {:.2} s; predict {} examples in one batch: {:.2} s",
        train.len(),
        fit.as_secs_f64(),
        test.len(),
        t.elapsed().as_secs_f64()
    );
    out.into_iter()
        .map(|p| match p.output {
            Output::Label(l) => l,
            other => panic!("a classifier answered {other:?}"),
        })
        .collect()
}

#[test]
fn rt_polarity_matches_sklearn_on_the_same_split() {
    let spec = DatasetSpec {
        encoding: Some("latin-1".into()),
        ..DatasetSpec::from_path(root().join("../../data/rt-polarity"))
    };
    let data = load_dataset(&spec).expect("rt-polarity loads");
    assert_eq!(data.examples.len(), 10_662);
    assert_eq!(data.report.undecodable_lines, 0);
    let split = train_test_split(&data.examples, 0.5, SEED, true).expect("split");
    let train: Vec<Example> = split
        .train
        .iter()
        .map(|&i| data.examples[i].clone())
        .collect();
    let test: Vec<&Example> = split.test.iter().map(|&i| &data.examples[i]).collect();
    let train_ids: Vec<&str> = train.iter().map(|e| e.id.as_str()).collect();
    let test_ids: Vec<&str> = test.iter().map(|e| e.id.as_str()).collect();

    if let Some(out) = std::env::var_os("POWERHUNGRY_WRITE_SPLIT") {
        let mut s = String::new();
        for id in &train_ids {
            s.push_str(&format!("train\t{id}\n"));
        }
        for id in &test_ids {
            s.push_str(&format!("test\t{id}\n"));
        }
        std::fs::write(&out, s).expect("write split");
    }

    let reference = reference();
    // The split is the one sklearn was given: same seed, same ids, on every platform.
    assert_eq!(reference["train_fingerprint"], fnv1a(&train_ids));
    assert_eq!(reference["test_fingerprint"], fnv1a(&test_ids));
    assert_eq!(test.len(), 5331);

    let gold: Vec<&str> = test
        .iter()
        .map(|e| e.label.as_deref().unwrap_or(""))
        .collect();
    let opts = LogRegOptions::default();
    for (key, mut backend) in [
        ("bow", TraditionalBackend::bag_of_words(opts)),
        ("tfidf_char", TraditionalBackend::tfidf_char(opts)),
    ] {
        let pred = run(&mut backend, &train, &test);
        let pred_ref: Vec<&str> = reference[key]["predictions"]
            .as_str()
            .expect("predictions")
            .chars()
            .map(|c| if c == '1' { "pos" } else { "neg" })
            .collect();
        let pred_s: Vec<&str> = pred.iter().map(String::as_str).collect();
        let ours = accuracy(&gold, &pred_s).expect("accuracy");
        let theirs = reference[key]["accuracy"].as_f64().expect("accuracy");
        let agree = accuracy(&pred_ref, &pred_s).expect("agreement");
        let info = backend.info();
        println!(
            "{key}: accuracy {ours:.4} (sklearn {theirs:.4}), agreement with sklearn {agree:.4}; {}",
            info.description
        );
        // Both reach the same convex optimum: docs/datasets.md claims identical predictions
        // (100 % agreement), and that is what is checked, naming the first differing sentences.
        let differ: Vec<&str> = test
            .iter()
            .zip(pred_s.iter().zip(&pred_ref))
            .filter(|(_, (a, b))| a != b)
            .map(|(e, _)| e.id.as_str())
            .collect();
        assert!(
            differ.is_empty(),
            "{key}: {} of {} predictions differ from sklearn's (agreement {agree}), first {:?}",
            differ.len(),
            test.len(),
            &differ[..differ.len().min(10)]
        );
        assert_eq!(ours, theirs, "{key}: accuracy {ours} vs sklearn {theirs}");
        assert!((0.72..0.82).contains(&ours), "{key}: accuracy {ours}");
        let vocab = reference[key]["vocabulary"].as_u64().expect("vocabulary");
        assert!(
            info.description.contains(&format!("vocabulary {vocab}")),
            "{}",
            info.description
        );
    }
}
