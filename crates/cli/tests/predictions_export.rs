//! Per-inference predictions out of a run: `bench --predictions FILE` when the run ends and
//! `report --predictions DIR` at any time, with the real binary on the shipped Rotten
//! Tomatoes suite. The export is checked by rescoring it: the accuracy computed from the
//! exported predictions and golds must be the accuracy the run stored.

use assert_cmd::Command;
use powerhungry_store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn powerhungry(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    cmd.current_dir(cwd)
        .env_remove("POWERHUNGRY_MINILM_DIR")
        .env("HF_HUB_CACHE", cwd.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        .env("POWERHUNGRY_CLAIM_DIR", cwd.join("claims"));
    cmd
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn exported_predictions_rescore_to_the_stored_accuracy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = powerhungry(d)
        .arg("bench")
        .arg(repo().join("suites/rt-polarity.toml"))
        .args(["--inferences", "60", "--repetitions", "2", "--quiet"])
        .args(["--intensity", "100", "--store", "r.sqlite"])
        .args(["--predictions", "p.jsonl"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // bench --predictions: every inference of the run, 2 models x 1 dataset x 2 x 60.
    let records = lines(&d.join("p.jsonl"));
    assert_eq!(records.len(), 2 * 2 * 60);
    let mut by_rep: BTreeMap<(String, i64), (u32, u32)> = BTreeMap::new();
    for r in &records {
        assert_eq!(r["run"], 1);
        assert_eq!(r["dataset"], "rt-polarity");
        assert_eq!(r["task"], "text-classification");
        let prediction = r["prediction"].as_str().expect("a label is a string");
        let gold = r["gold"].as_str().expect("gold label");
        assert!(["positive", "negative"].contains(&gold), "{r}");
        assert!(
            r["example_id"].as_str().is_some_and(|s| !s.is_empty()),
            "{r}"
        );
        assert!(r["latency_s"].as_f64().is_some_and(|s| s >= 0.0), "{r}");
        let key = (
            r["model"].as_str().expect("model").to_string(),
            r["repetition"].as_i64().expect("repetition"),
        );
        let e = by_rep.entry(key).or_default();
        e.0 += u32::from(prediction == gold);
        e.1 += 1;
    }

    // Rescored from the export = stored by the run, for every model and repetition.
    let store = Store::open_read_only(d.join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run 1");
    assert_eq!(run.repetitions.len(), 4);
    for rep in &run.repetitions {
        let stored = rep
            .metrics
            .iter()
            .find(|m| m.name == "accuracy")
            .expect("accuracy stored")
            .value;
        let (right, n) = by_rep[&(rep.model.clone(), i64::from(rep.index))];
        assert_eq!(n, 60);
        assert!(
            (f64::from(right) / f64::from(n) - stored).abs() < 1e-12,
            "{} repetition {}: exported {right}/{n}, stored {stored}",
            rep.model,
            rep.index
        );
        // Same inputs, same order, as the store holds them.
        let ids: Vec<&str> = records
            .iter()
            .filter(|r| r["model"] == rep.model.as_str() && r["repetition"] == rep.index)
            .map(|r| r["example_id"].as_str().expect("id"))
            .collect();
        let stored_ids: Vec<&str> = rep
            .inferences
            .iter()
            .map(|i| i.example_id.as_str())
            .collect();
        assert_eq!(ids, stored_ids);
    }

    // report --predictions DIR: one file per run x model x dataset, the same records; twice
    // gives the same files (and no leftover .partial).
    for _ in 0..2 {
        let out = powerhungry(d)
            .args(["report", "r.sqlite", "--quiet", "--predictions", "export"])
            .output()
            .expect("report");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("wrote 240 prediction(s) in 2 file(s) under export"),
            "{stderr}"
        );
    }
    let mut files: Vec<String> = std::fs::read_dir(d.join("export/run-1"))
        .expect("run dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "bow-lr--rt-polarity.jsonl",
            "tfidf-char-lr--rt-polarity.jsonl"
        ]
    );
    let mut exported = lines(&d.join("export/run-1/bow-lr--rt-polarity.jsonl"));
    exported.extend(lines(
        &d.join("export/run-1/tfidf-char-lr--rt-polarity.jsonl"),
    ));
    assert_eq!(exported, records);

    // A filter that matches nothing writes nothing and says so.
    let out = powerhungry(d)
        .args(["report", "r.sqlite", "--quiet", "--predictions", "none"])
        .args(["--model", "no-such-model"])
        .output()
        .expect("report");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrote 0 prediction(s) in 0 file(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unwritable_predictions_path_is_refused_before_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (flag, path) in [
        ("--predictions", "missing/p.jsonl"),
        ("--json", "missing/s.json"),
        ("--csv", "missing/s.csv"),
    ] {
        let out = powerhungry(d)
            .arg("bench")
            .arg(repo().join("suites/rt-polarity.toml"))
            .args(["--inferences", "5", "--repetitions", "1", "--quiet"])
            .args(["--intensity", "100", "--store", "r.sqlite", flag, path])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{flag} {path}: the directory missing does not exist"
            )),
            "{flag}: {stderr}"
        );
        // Refused before anything ran: no store was even created.
        assert!(!d.join("r.sqlite").exists(), "{flag}: a store was written");
    }
}

#[test]
fn report_predictions_needs_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("r.json"), "{}").expect("json");
    let out = powerhungry(d)
        .args(["report", "r.json", "--predictions", "out"])
        .output()
        .expect("report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--predictions out"), "{stderr}");
    assert!(stderr.contains("r.json"), "{stderr}");
}
