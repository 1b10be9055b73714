//! Every shipped suite (`suites/*.toml`) runs end to end through the real binary at small n:
//! its datasets load from `data/`, each model either runs (a summary row per dataset, with the
//! task's metrics) or is skipped with the reason said plainly — for a Hub model not in the
//! cache (or a diffusers folder without model_index.json), that it is not — and the run
//! is stored. Needs the real MiniLM and SmolLM2
//! files (scripts/test.sh fetches them; crates/testkit has the rule for a missing one).

mod llama_server;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The served model's name in suites/zschache-hartwig-served.toml, and its base URL there
/// (the test points the suite at the real server's port instead).
const SERVED_ALIAS: &str = "smollm2-135m-instruct";
const SUITE_BASE_URL: &str = "http://127.0.0.1:8080/v1";

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
    // A suite of served models runs against llama.cpp's real server, started here on a free
    // port (the suite's copy points there; its data path made absolute), on 10 inputs.
    let (models, _) = suite_parts(path);
    let served = models.iter().any(|(_, b)| b == "openai");
    let mut server = None;
    let mut path = path.to_path_buf();
    if served {
        let Some(s) = llama_server::start(&smollm2, SERVED_ALIAS, d) else {
            return;
        };
        let text = std::fs::read_to_string(&path).expect("suite reads");
        assert!(text.contains(SUITE_BASE_URL), "{}", path.display());
        let data = repo().join("data");
        let text = text
            .replace(SUITE_BASE_URL, &s.base_url)
            .replace("\"../data/", &format!("\"{}/", data.display()));
        path = d.join(path.file_name().expect("file name"));
        std::fs::write(&path, text).expect("suite copy");
        server = Some(s);
    }
    let path = path.as_path();
    let n = if served { 10 } else { 2 };
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
            &n.to_string(),
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
                // No Hub here: the pipeline or diffusers model is not in the (empty) cache,
                // and says so.
                assert!(
                    stdout.contains("Hugging Face cache"),
                    "{name}: `{model}` must say why it cannot run\n{stdout}"
                );
            }
            continue;
        }
        // A model that runs answers every dataset of the suite, each with its metrics (or,
        // for the tasks without a quality metric, none), energy labelled.
        assert_eq!(ran.len(), datasets.len(), "{name}: `{model}`\n{stdout}");
        for r in ran {
            assert_eq!(r["inferences"], n, "{name}: {r}");
            assert!(
                r["methods"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}: {r}"
            );
        }
    }
    if let Some(s) = server {
        check_served_store(&d.join("r.sqlite"), n);
        drop(s);
    }
}

/// A served run's store: every request's stats, tokens (from `usage` when not streamed,
/// counted chunks when streamed, as llama.cpp's stream has no usage), TTFT for streams,
/// accuracy, and the inference window's energy.
fn check_served_store(store: &Path, n: usize) {
    let store = powerhungry_store::Store::open_read_only(store).expect("store opens");
    let run = store.latest_run().expect("runs").expect("a run");
    let run = store.load_run(run).expect("run loads");
    assert_eq!(
        run.repetitions.len(),
        3,
        "three served models, one repetition"
    );
    for rep in &run.repetitions {
        let model = &rep.model;
        assert_eq!(rep.inferences.len(), n, "{model}");
        let streamed = model != "served-not-streamed";
        for i in &rep.inferences {
            let r = i
                .request
                .as_ref()
                .unwrap_or_else(|| panic!("{model}: no request stats"));
            assert_eq!(r.error, None, "{model}: {i:?}");
            assert!(
                i.output_tokens >= 1 && i.output_tokens <= 16,
                "{model}: {i:?}"
            );
            assert!(r.e2e_s > 0.0, "{model}: {r:?}");
            if streamed {
                assert_eq!(r.tokens_from, "stream-chunks", "{model}");
                let ttft = r
                    .ttft_s
                    .unwrap_or_else(|| panic!("{model}: no TTFT: {r:?}"));
                assert!(ttft > 0.0 && ttft <= r.e2e_s, "{model}: {r:?}");
                assert_eq!(
                    r.inter_token_s.len() + 1,
                    i.output_tokens as usize,
                    "{model}"
                );
            } else {
                assert_eq!(r.tokens_from, "usage", "{model}");
                // The dspy prompt through SmolLM2's chat template is well over 100 tokens.
                assert!(i.input_tokens > 100, "{model}: {i:?}");
            }
        }
        let accuracy = rep
            .metrics
            .iter()
            .find(|m| m.name == "accuracy")
            .unwrap_or_else(|| panic!("{model}: no accuracy: {:?}", rep.metrics));
        assert!((0.0..=1.0).contains(&accuracy.value), "{model}");
        let w = rep.inference_window().expect("inference window");
        assert!(
            !w.components.is_empty() && w.components.iter().all(|c| c.joules > 0.0),
            "{model}: inference energy {w:?}"
        );
        eprintln!(
            "{model}: accuracy {:.2}, {} J, TTFT {:?}",
            accuracy.value,
            w.components.iter().map(|c| c.joules).sum::<f64>(),
            rep.inferences
                .iter()
                .map(|i| i.request.as_ref().and_then(|r| r.ttft_s))
                .collect::<Vec<_>>()
        );
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
    zschache_hartwig_served => "zschache-hartwig-served.toml",
}
