//! The "Power Hungry Processing" reproduction suites (suites/php/<task>.toml, written by
//! scripts/php-suites.py): one per task, each listing exactly the models the study's logs name
//! for it, and each parses and plans (its datasets load, split and sample). They cannot run
//! here (no GPU, no Hub): every model must say so — not in the Hugging Face cache — before
//! anything is measured.

use powerhungry_bench::plan::prepare_dataset;
use powerhungry_bench::registry::{BackendFactory, Registry};
use powerhungry_bench::suite::LoadedSuite;
use std::collections::BTreeSet;
use std::path::Path;

/// The study's log-file prefix of each task.
const PREFIXES: [(&str, &str); 10] = [
    ("text-classification", "text_classif"),
    ("extractive-qa", "qa"),
    ("masked-language-modelling", "fillmask"),
    ("token-classification", "token_classif"),
    ("text-generation", "textgen"),
    ("summarization", "summarize"),
    ("image-classification", "image_class"),
    ("object-detection", "obj_detection"),
    ("image-captioning", "itt"),
    ("image-generation", "tti"),
];

/// Every project_name in the task's (non-zero-shot) logs.
fn logged_models(logs: &Path, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(logs).expect("logs folder") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(file.starts_with(&format!("{prefix}_")) && file.ends_with(".csv")) {
            continue;
        }
        let mut r = csv::Reader::from_path(&path).expect("log reads");
        let col = r
            .headers()
            .expect("header")
            .iter()
            .position(|h| h == "project_name")
            .expect("project_name column");
        for row in r.records() {
            names.insert(row.expect("row")[col].to_string());
        }
    }
    names
}

#[test]
fn php_suites_name_the_logged_models_parse_plan_and_say_why_they_cannot_run_here() {
    let Some(logs) =
        powerhungry_testkit::shared("reference-data/co2_inference/data/emissions/complete")
    else {
        return;
    };
    let repo = powerhungry_testkit::repo_root();
    let empty_cache = tempfile::tempdir().expect("tempdir");
    // SAFETY: nextest runs each test in its own process; nothing else reads the variable.
    unsafe { std::env::set_var("HF_HUB_CACHE", empty_cache.path()) };
    for (task, prefix) in PREFIXES {
        let path = repo.join("suites/php").join(format!("{task}.toml"));
        let suite = LoadedSuite::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let s = &suite.suite;
        assert_eq!(
            (s.protocol.inferences, s.protocol.repetitions),
            (1000, 10),
            "{task}"
        );
        let listed: BTreeSet<String> = s.models.iter().filter_map(|m| m.model.clone()).collect();
        let logged = logged_models(&logs, prefix);
        assert!(logged.len() >= 8, "{task}: {logged:?}");
        assert_eq!(
            listed, logged,
            "{task}: the suite's models are the logs' project_names"
        );

        // Plans: every dataset loads, splits and samples.
        for (i, d) in s.datasets.iter().enumerate() {
            assert_eq!(d.task.as_str(), task, "{}", d.name);
            let p = prepare_dataset(d, suite.source_json(i), &s.protocol, &suite.base_dir())
                .unwrap_or_else(|e| panic!("{task}: dataset {}: {e:#}", d.name));
            assert!(!p.split_for(0).sample.is_empty(), "{task}: {}", d.name);
        }

        // Cannot run here, and says why before anything is measured.
        let registry = Registry::new(suite.base_dir());
        for m in &s.models {
            let why = registry
                .missing(m)
                .unwrap_or_else(|| panic!("{task}: {} would run", m.name));
            assert!(
                why.contains("Hugging Face cache"),
                "{task}: {}: {why}",
                m.name
            );
        }
    }
}
