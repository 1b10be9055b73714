//! `powerhungry report` end to end on a store written by a real `powerhungry bench` run of the
//! shipped suite at small n, checked against the bench's own summary (computed by other code),
//! plus the exports and the errors a user can make.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ph(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    cmd.current_dir(cwd)
        .env_remove("POWERHUNGRY_MINILM_DIR")
        .env("HF_HUB_CACHE", cwd.join("empty-hf-cache"))
        .env_remove("POWERHUNGRY_CONFIG")
        // Tests run in parallel: each gets its own device claims.
        .env("POWERHUNGRY_CLAIM_DIR", cwd.join("claims"));
    cmd
}

fn run_ok(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).expect("csv");
    let headers = rdr.headers().expect("headers").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn report_on_a_real_bench_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    run_ok(
        ph(d)
            .arg("bench")
            .arg(repo().join("suites/rt-polarity.toml"))
            .args([
                "--inferences",
                "60",
                "--repetitions",
                "3",
                "--quiet",
                "--intensity",
                "100",
                "--store",
                "r.sqlite",
                "--json",
                "bench.json",
            ]),
    );
    let (stdout, _) = run_ok(ph(d).args([
        "report",
        "r.sqlite",
        "--html",
        "r.html",
        "--csv",
        "csv",
        "--json",
        "r.json",
        "--training-kwh",
        "bow-lr=0.5",
    ]));
    assert!(stdout.contains("Energy per task"), "{stdout}");
    assert!(
        stdout.contains("methods: "),
        "every energy figure names its method:\n{stdout}"
    );

    // The report's per-model figures agree with the bench's own summary (separate code).
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("bench.json")).expect("read"))
            .expect("json");
    let models = csv_rows(&d.join("csv/models.csv"));
    assert_eq!(
        models.len(),
        2,
        "bow-lr and tfidf-char-lr (MiniLM absent): {models:?}"
    );
    for row in bench["rows"].as_array().expect("rows") {
        let name = row["model"].as_str().expect("model");
        let m = models
            .iter()
            .find(|m| m["model"] == name)
            .expect("model in report");
        assert_eq!(m["n"], "3");
        assert_eq!(m["inferences"], "60");
        assert_eq!(m["task"], "text-classification");
        let ours: f64 = m["wh_per_1000"].parse().expect("number");
        let theirs = row["wh_per_1000_mean"].as_f64().expect("wh");
        // The CSV holds 4 significant figures.
        assert!(
            (ours - theirs).abs() <= 5e-4 * theirs,
            "{name}: {ours} vs {theirs}"
        );
        let acc: f64 = m["metric_mean"].parse().expect("accuracy");
        assert_eq!(m["metric"], "accuracy");
        assert!((0.5..=1.0).contains(&acc), "{name}: accuracy {acc}");
        assert!(m["methods"].contains("estimated:") || m["methods"].contains("measured:"));
        assert!(m["rating"].ends_with("(phb-v1)"), "{m:?}");
        // One latency definition: the mean of each repetition's own p50 / p95, in the bench
        // summary and in the report alike (4 significant figures in the CSV).
        for (col, key) in [("p50_ms", "latency_p50_ms"), ("p95_ms", "latency_p95_ms")] {
            let ours: f64 = m[col].parse().expect("latency");
            let theirs = row[key].as_f64().expect("bench latency");
            assert!(
                (ours - theirs).abs() <= 5e-4 * theirs,
                "{name} {col}: report {ours} vs bench {theirs}"
            );
        }
        // Every repetition inferred on the same sample: no spread of the metric to show.
        assert_eq!(
            m["metric_sd"], "n/a (same sample every repetition)",
            "{m:?}"
        );
    }
    // Every table is in Wh per 1,000 inferences, the first one too.
    let tasks = csv_rows(&d.join("csv/tasks.csv"));
    assert!(tasks[0].contains_key("mean_wh_per_1000"), "{tasks:?}");
    let task_wh: f64 = tasks[0]["min"].parse().expect("min");
    let model_min = models
        .iter()
        .map(|m| m["wh_per_1000"].parse::<f64>().expect("wh"))
        .fold(f64::INFINITY, f64::min);
    assert!(
        (task_wh - model_min).abs() <= 5e-4 * model_min,
        "{task_wh} vs {model_min}"
    );

    // A store in a read-only place (file 0444, directory 0555) is reported, and not changed.
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = d.join("ro");
        std::fs::create_dir(&ro).expect("mkdir");
        std::fs::copy(d.join("r.sqlite"), ro.join("r.sqlite")).expect("copy");
        let before = std::fs::read(ro.join("r.sqlite")).expect("read");
        std::fs::set_permissions(ro.join("r.sqlite"), std::fs::Permissions::from_mode(0o444))
            .expect("chmod");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let out = ph(d)
            .args(["report", "ro/r.sqlite"])
            .output()
            .expect("report");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(ro.join("r.sqlite")).expect("read"), before);
    }

    // Pareto front, fit, bands and parity tables exist and say something.
    let front = csv_rows(&d.join("csv/pareto.csv"));
    assert!(!front.is_empty() && front[0]["rank"] == "1");
    let fit = csv_rows(&d.join("csv/energy_vs_duration.csv"));
    assert_eq!(fit.len(), 1);
    assert_eq!(fit[0]["points"], "6", "2 models x 3 repetitions");
    let bands = csv_rows(&d.join("csv/bands.csv"));
    assert!(bands
        .iter()
        .any(|b| b["task"] == "text-classification" && b["B_from"] == "6.1"));
    let parity = csv_rows(&d.join("csv/parity.csv"));
    assert_eq!(parity.len(), 1);
    let p: f64 = parity[0]["inferences_to_parity"].parse().expect("n");
    let wh: f64 = parity[0]["wh_per_1000"].parse().expect("wh");
    assert!((p - 0.5 * 1000.0 * 1000.0 / (wh / 1000.0) / 1000.0).abs() <= 1e-3 * p);

    // The HTML is one self-contained file with the charts the data allows.
    let html = std::fs::read_to_string(d.join("r.html")).expect("html");
    for id in [
        "task-means",
        "models-text-classification",
        "front-text-classification",
        "energy-duration",
        "parity",
    ] {
        assert!(
            html.contains(&format!("data-chart=\"{id}")),
            "chart {id} missing"
        );
    }
    assert!(
        !html.contains("data-chart=\"output-length\""),
        "no generative task, no length chart"
    );
    // Nothing is fetched at view time: no linked files, no external scripts, images or fonts.
    for external in ["<link", " src=", "url(", "@import", "https://"] {
        assert!(!html.contains(external), "{external} in the HTML");
    }

    // The JSON export reads back as a report input and gives the same tables.
    let (again, _) = run_ok(ph(d).args([
        "report",
        "r.json",
        "--csv",
        "csv2",
        "--training-kwh",
        "bow-lr=0.5",
    ]));
    assert!(again.contains("Energy per task"));
    for t in [
        "tasks",
        "models",
        "pareto",
        "energy_vs_duration",
        "bands",
        "parity",
    ] {
        let a = std::fs::read_to_string(d.join(format!("csv/{t}.csv"))).expect("a");
        let b = std::fs::read_to_string(d.join(format!("csv2/{t}.csv"))).expect("b");
        assert_eq!(a, b, "{t}.csv differs after the JSON round trip");
    }

    // Filters.
    run_ok(ph(d).args([
        "report", "r.sqlite", "--model", "bow-lr", "--quiet", "--csv", "one",
    ]));
    assert_eq!(csv_rows(&d.join("one/models.csv")).len(), 1);
}

#[test]
fn a_damaged_store_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0x5a_u8, 8192));
    std::fs::write(d.join("damaged.sqlite"), &bytes).expect("write");
    let out = ph(d)
        .args(["report", "damaged.sqlite"])
        .output()
        .expect("report");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("damaged.sqlite"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn report_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fails = |args: &[&str], want: &str| {
        let out = ph(d).arg("report").args(args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{args:?}: expected {want:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    fails(&["missing.sqlite"], "missing.sqlite: cannot read");
    std::fs::write(d.join("notes.txt"), "hello").expect("write");
    fails(
        &["notes.txt"],
        "neither a SQLite results store nor a JSON report export",
    );
    std::fs::write(d.join("bad.json"), "{\"series\": 3}").expect("write");
    fails(&["bad.json"], "bad.json: at `series`: invalid type");
    std::fs::write(d.join("empty.json"), "{\"series\": []}").expect("write");
    fails(&["empty.json"], "holds no results yet");
    fails(
        &["empty.json", "--training-kwh", "bert"],
        "expected MODEL=KWH",
    );
    // A store with data, filters that match nothing: the error lists what exists.
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let out = ph(d)
        .args(["import", "codecarbon"])
        .arg(&fixture)
        .args([
            "--task",
            "text-classification",
            "--dataset",
            "busy",
            "--store",
            "s.sqlite",
        ])
        .output()
        .expect("import");
    assert!(out.status.success());
    fails(
        &["s.sqlite", "--task", "summarization"],
        "Tasks: text-classification",
    );
    fails(
        &["s.sqlite", "--training-kwh", "nobody=3"],
        "no model \"nobody\"",
    );
}
