//! Every shipped suite (`suites/*.toml`) runs end to end through the real binary at small n:
//! its datasets load from `data/`, each model either runs (a summary row per dataset, with the
//! task's metrics) or is skipped with the reason said plainly — for a Hub model not in the
//! cache, that it is not; for a backend that has not landed yet, that it has not — and the run
//! is stored. Needs the real MiniLM and SmolLM2
//! files (scripts/test.sh fetches them; crates/testkit has the rule for a missing one).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The suite's models and datasets, as (name, backend) and names.
fn suite_parts(path: &Path) -> (Vec<(String, String)>, Vec<String>) {
    let text = std::fs::read_to_string(path).expect("suite reads");
    let t: toml::Table = toml::from_str(&text).expect("suite is TOML");
    let list = |key: &str| {
        t.get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let models = list("models")
        .iter()
        .map(|m| {
            let s = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            (s("name"), s("backend"))
        })
        .collect();
    let datasets = list("datasets")
        .iter()
        .map(|d| d["name"].as_str().unwrap_or("").to_string())
        .collect();
    (models, datasets)
}

fn run_suite(path: &Path) {
    let (Some(minilm), Some(smollm2)) = (
        powerhungry_testkit::minilm_dir(),
        powerhungry_testkit::smollm2_gguf(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = Command::cargo_bin("powerhungry")
        .expect("binary")
        .current_dir(d)
        .env("POWERHUNGRY_MINILM_DIR", minilm)
        .env("POWERHUNGRY_SMOLLM2_GGUF", smollm2)
        .env("HF_HUB_CACHE", d.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        .env("POWERHUNGRY_CLAIM_DIR", d.join("claims"))
        .arg("bench")
        .arg(path)
        .args([
            "--inferences",
            "2",
            "--repetitions",
            "1",
            "--warmup",
            "0",
            "--quiet",
        ])
        .args([
            "--intensity",
            "100",
            "--store",
            "r.sqlite",
            "--json",
            "s.json",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = path.display();
    assert!(
        out.status.success(),
        "{name}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).expect("summary JSON"))
            .expect("JSON parses");
    let rows = json["rows"].as_array().cloned().unwrap_or_default();
    let (models, datasets) = suite_parts(path);
    for (model, backend) in &models {
        let ran: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| r["model"].as_str() == Some(model))
            .collect();
        if ran.is_empty() {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("skipped: model `{model}`")));
            assert!(
                line.is_some(),
                "{name}: model `{model}` neither ran nor was skipped with a reason\n{stdout}"
            );
            if backend == "transformers" {
                // No Hub here: the pipeline model is not in the (empty) cache, and says so;
                // diffusers pipelines have not landed.
                assert!(
                    stdout.contains("Hugging Face cache") || stdout.contains("not landed"),
                    "{name}: `{model}` must say why it cannot run\n{stdout}"
                );
            }
            continue;
        }
        // A model that runs answers every dataset of the suite, each with its metrics (or,
        // for the tasks without a quality metric, none), energy labelled.
        assert_eq!(ran.len(), datasets.len(), "{name}: `{model}`\n{stdout}");
        for r in ran {
            assert_eq!(r["inferences"], 2, "{name}: {r}");
            assert!(
                r["methods"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}: {r}"
            );
        }
    }
}

macro_rules! suite_tests {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_suite(&repo().join("suites").join($file));
            }
        )*

        /// Every file in suites/ has a test above: a new suite cannot ship untested.
        #[test]
        fn every_shipped_suite_has_an_end_to_end_test() {
            let tested: Vec<&str> = vec![$($file),*];
            let mut shipped: Vec<String> = std::fs::read_dir(repo().join("suites"))
                .expect("suites/")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml"))
                .collect();
            shipped.sort();
            for s in &shipped {
                assert!(tested.contains(&s.as_str()), "suites/{s} has no end-to-end test here");
            }
        }
    };
}

suite_tests! {
    rt_polarity => "rt-polarity.toml",
    rt_polarity_zero_shot => "rt-polarity-zero-shot.toml",
    extractive_qa => "extractive-qa.toml",
    masked_language_modelling => "masked-language-modelling.toml",
    token_classification => "token-classification.toml",
    text_generation => "text-generation.toml",
    summarization => "summarization.toml",
    image_classification => "image-classification.toml",
    object_detection => "object-detection.toml",
    image_captioning => "image-captioning.toml",
    image_generation => "image-generation.toml",
    zschache_hartwig => "zschache-hartwig.toml",
}
