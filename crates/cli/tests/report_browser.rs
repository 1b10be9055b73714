//! The HTML report in a real headless Chromium: the page loads with no console message at all
//! (errors, warnings, SVG attribute parse errors), every chart has its data points drawn inside
//! the chart, and a screenshot is written for a person to look at (path printed).
//!
//! Needs `chromium` (Debian packages chromium and chromium-driver). Missing: the test fails
//! when CI=true and is skipped, loudly, otherwise. See tests/browser/README.md.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    powerhungry_testkit::missing(
        "chromium",
        "`apt-get install -y chromium chromium-driver` (.ci/run does)",
    )
}

/// Run Chromium headless with a fresh profile; returns (stdout, stderr). Killed after 120 s.
fn headless(bin: &Path, extra: &[String], url: &str) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = std::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Read the pipes on threads so a full pipe can't stall the browser.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (t_out.join().expect("stdout"), t_err.join().expect("stderr"))
}

/// Load `html` in Chromium: no console messages, every chart drawn; screenshot to `png`.
/// Returns the self-check's chart ids.
fn check_page(bin: &Path, html: &Path, png: &Path) -> Vec<String> {
    let url = format!(
        "file://{}",
        html.canonicalize().expect("html path").display()
    );
    let (dom, log) = headless(bin, &["--dump-dom".into()], &format!("{url}#selfcheck"));
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console messages on {}:\n{}",
        html.display(),
        console.join("\n")
    );
    let start = dom
        .find("<pre id=\"selfcheck\">")
        .expect("self-check output in the DOM")
        + 20;
    let end = start + dom[start..].find("</pre>").expect("end of self-check");
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let check: Value = serde_json::from_str(&text).expect("self-check JSON");
    assert_eq!(check["errors"], json!([]), "script errors: {check}");
    let charts = check["charts"].as_object().expect("charts");
    assert!(!charts.is_empty(), "no charts on the page");
    for (id, c) in charts {
        let (drawn, expected, outside) = (&c["drawn"], &c["expected"], &c["outside"]);
        assert!(
            expected.as_u64().unwrap_or(0) > 0,
            "{id}: a chart without data points: {c}"
        );
        assert_eq!(drawn, expected, "{id}: not every data point was drawn: {c}");
        assert_eq!(
            outside.as_u64(),
            Some(0),
            "{id}: points outside the chart: {c}"
        );
    }
    headless(
        bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,9000".into(),
        ],
        &url,
    );
    let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "screenshot {} missing or blank ({size} bytes)",
        png.display()
    );
    eprintln!("screenshot: {}", png.display());
    charts.keys().cloned().collect()
}

fn rep(i: u32, joules: f64, secs: f64, acc: f64, tokens: Option<u64>) -> Value {
    json!({
        "index": i, "inferences": 100, "duration_s": secs,
        "components": [
            {"component": "cpu", "method": "measured:rapl", "joules": joules * 0.8, "idle_joules": joules * 0.2},
            {"component": "ram", "method": "estimated:ram", "joules": joules * 0.2, "idle_joules": joules * 0.2}
        ],
        "metrics": {"accuracy": acc}, "output_tokens": tokens,
        "latency_p50_ms": 3.0, "latency_p95_ms": 5.0
    })
}

/// A report input touching every chart: two tasks, metrics, parameters, several GPU counts,
/// a generative task with output lengths, one single-repetition series.
fn rich_input() -> Value {
    let mut series = Vec::new();
    // "bloated" costs more than "medium" and is less accurate: off the Pareto front.
    let models = [
        ("small", 4e6, 1.0),
        ("medium", 3e7, 3.0),
        ("large", 3e8, 9.0),
        ("bloated", 1e8, 5.0),
    ];
    for (d, ds) in ["sst2", "imdb"].iter().enumerate() {
        for (k, (m, params, scale)) in models.iter().enumerate() {
            let reps: Vec<Value> = (0..4)
                .map(|i| {
                    let j = 360.0 * scale * (1.0 + 0.05 * i as f64) * (1.0 + d as f64 * 0.3);
                    rep(
                        i,
                        j,
                        j / 30.0,
                        if *m == "bloated" {
                            0.72
                        } else {
                            0.7 + 0.08 * k as f64
                        } - 0.01 * i as f64,
                        None,
                    )
                })
                .collect();
            series.push(json!({
                "suite": "demo", "task": "text-classification", "model": m, "dataset": ds,
                "parameters": *params as u64, "gpus": 0, "intensity_g_per_kwh": 56.0, "pue": 1.0,
                "primary_metric": "accuracy", "repetitions": reps
            }));
        }
    }
    for (k, (m, gpus)) in [("t5-small", 1), ("t5-large", 2), ("bart", 2)]
        .iter()
        .enumerate()
    {
        let reps: Vec<Value> = (0..3)
            .map(|i| {
                let j = 20_000.0 * (k + 1) as f64 * (1.0 + 0.03 * i as f64);
                rep(
                    i,
                    j,
                    j / (150.0 * *gpus as f64),
                    0.2 + 0.05 * k as f64,
                    Some(1500 * (k as u64 + 1) + 10 * i as u64),
                )
            })
            .collect();
        series.push(json!({
            "suite": "demo", "task": "summarization", "model": m, "dataset": "xsum",
            "parameters": 6e7 as u64 * (k as u64 + 1), "gpus": gpus, "intensity_g_per_kwh": 380.0,
            "pue": 1.2, "primary_metric": "accuracy", "generative": true, "repetitions": reps
        }));
    }
    series.push(json!({
        "task": "fill-mask", "model": "bert", "dataset": "wikitext", "gpus": 0,
        "repetitions": [rep(0, 500.0, 20.0, 0.5, None)]
    }));
    json!({"source": "browser test fixture", "series": series})
}

#[test]
fn html_report_renders_in_chromium() {
    let Some(bin) = chromium() else { return };
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("in.json"), rich_input().to_string()).expect("write");
    let out = Command::cargo_bin("powerhungry")
        .expect("binary")
        .current_dir(d)
        .args(["report", "in.json", "--quiet", "--html"])
        .arg(out_dir.join("rich.html"))
        .args(["--training-kwh", "large=50+5"])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = check_page(&bin, &out_dir.join("rich.html"), &out_dir.join("rich.png"));
    for want in [
        "task-means",
        "models-text-classification",
        "models-summarization",
        "models-fill-mask",
        "size-co2",
        "front-text-classification-sst2",
        "front-text-classification-imdb",
        "front-summarization-xsum",
        "energy-duration",
        "output-length",
        "parity",
    ] {
        assert!(
            ids.iter().any(|i| i == want),
            "chart {want} missing from {ids:?}"
        );
    }
}

#[test]
fn imported_power_hungry_logs_render_in_chromium() {
    let Some(bin) = chromium() else { return };
    let Some(php) = powerhungry_testkit::shared("reference-data/co2_inference/data") else {
        return;
    };
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (f, task) in [
        ("text_classif_sst2", "text-classification"),
        ("tti_sd_prompts", "text-to-image"),
    ] {
        let out = Command::cargo_bin("powerhungry")
            .expect("binary")
            .current_dir(d)
            .args(["import", "codecarbon"])
            .arg(php.join(format!("emissions/complete/{f}.csv")))
            .args([
                "--task",
                task,
                "--dataset",
                f,
                "--inferences",
                "1000",
                "--store",
                "s.sqlite",
            ])
            .arg("--parameters")
            .arg(php.join("model_parameters.csv"))
            .output()
            .expect("import");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::cargo_bin("powerhungry")
        .expect("binary")
        .current_dir(d)
        .args(["report", "s.sqlite", "--quiet", "--html"])
        .arg(out_dir.join("php.html"))
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = check_page(&bin, &out_dir.join("php.html"), &out_dir.join("php.png"));
    assert!(
        ids.iter().any(|i| i == "size-co2") && ids.iter().any(|i| i == "energy-duration"),
        "{ids:?}"
    );
}
