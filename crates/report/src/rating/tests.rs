use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn ratings_by_hand() {
    let b = bands_for("text-classification").unwrap();
    assert_eq!(rate(b, 0.01), Some("A"));
    assert_eq!(rate(b, 6.09), Some("A"));
    assert_eq!(
        rate(b, 6.1),
        Some("B"),
        "an edge belongs to the band above it"
    );
    assert_eq!(rate(b, 20.0), Some("C"));
    assert_eq!(rate(b, 100.0), Some("D"));
    assert_eq!(rate(b, 190.0), Some("E"));
    assert_eq!(rate(b, 1e9), Some("E"));
    assert_eq!(rate(b, f64::NAN), None);
    assert_eq!(rate(b, -1.0), None);
    assert_eq!(
        bands_for("sentiment-analysis").unwrap().task,
        "text-classification"
    );
    assert!(bands_for("speech-recognition").is_none());
}

#[test]
fn rounding_and_rule() {
    assert_eq!(round_sig2(2.6017), 2.6);
    assert_eq!(round_sig2(0.8149), 0.81);
    assert_eq!(round_sig2(15811.0), 16000.0);
    assert_eq!(round_sig2(190.4), 190.0);
    // lo 1, hi 100: g = 10, edges 10^0.25 = 1.778.., 10^0.75 = 5.62.., 10^1.25 = 17.78.., 10^1.75 = 56.2..
    assert_eq!(derive_edges(1.0, 100.0), [1.8, 5.6, 18.0, 56.0]);
    for b in &BANDS_V1 {
        assert_eq!(
            derive_edges(b.reference_range.0, b.reference_range.1),
            b.edges_wh_per_1000
        );
    }
}

pub(crate) fn task_of_file(stem: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 13] = [
        ("zeroshot_sentiment_", "text-classification"),
        ("zeroshot_qa_", "question-answering"),
        ("zeroshot_summarize_", "summarization"),
        ("text_classif_", "text-classification"),
        ("qa_", "question-answering"),
        ("summarize_", "summarization"),
        ("fillmask_", "fill-mask"),
        ("token_classif_", "token-classification"),
        ("image_class_", "image-classification"),
        ("obj_detection_", "object-detection"),
        ("textgen_", "text-generation"),
        ("itt_", "image-to-text"),
        ("tti_", "text-to-image"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| stem.starts_with(p))
        .map(|(_, t)| *t)
}

/// The shared reference logs; missing fails the test (crates/testkit has the rule).
pub(crate) fn php_logs_dir() -> Option<PathBuf> {
    powerhungry_testkit::shared("reference-data/co2_inference/data/emissions/complete")
}

#[test]
fn band_table_reproduces_from_the_logs() {
    let Some(dir) = php_logs_dir() else { return };
    let mut means: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let task = task_of_file(&stem).unwrap_or_else(|| panic!("unmapped file {stem}"));
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let headers = rdr.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (pc, ec) = (col("project_name"), col("energy_consumed"));
        let mut per_model: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let kwh: f64 = rec[ec].parse().unwrap();
            per_model
                .entry(rec[pc].to_string())
                .or_default()
                .push(kwh * 1000.0);
        }
        for v in per_model.values() {
            means
                .entry(task)
                .or_default()
                .push(v.iter().sum::<f64>() / v.len() as f64);
        }
        files += 1;
    }
    assert_eq!(files, 56);
    assert_eq!(means.len(), BANDS_V1.len());
    for b in &BANDS_V1 {
        let v = &means[b.task];
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(0.0, f64::max);
        assert_eq!(v.len(), b.reference_models, "{}", b.task);
        assert!(
            (lo - b.reference_range.0).abs() < 1e-4,
            "{}: lo {lo}",
            b.task
        );
        assert!(
            (hi - b.reference_range.1).abs() < 1e-4,
            "{}: hi {hi}",
            b.task
        );
        assert_eq!(derive_edges(lo, hi), b.edges_wh_per_1000, "{}", b.task);
    }
}
