//! A real SIGKILL in the middle of `powerhungry bench`, then `--resume`: the repetitions stored
//! before the kill are kept as they were, the one in flight is redone, none is lost or counted
//! twice, and the run ends as one run.

use assert_cmd::cargo::CommandCargoExt;
use powerhungry_store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const REPETITIONS: u32 = 40;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Rotten Tomatoes with bag-of-words + LR on a capped training set: a repetition takes a
/// fraction of a second, so the kill lands between the first and the last.
fn write_suite(dir: &Path) -> PathBuf {
    let data = repo().join("data/rt-polarity");
    let suite = format!(
        r#"name = "kill-test"

[protocol]
inferences = 50
repetitions = {REPETITIONS}
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
        data.display()
    );
    let path = dir.join("kill.toml");
    std::fs::write(&path, suite).expect("write suite");
    path
}

fn bench(suite: &Path, store: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    // Tests run in parallel: each gets its own device claims.
    cmd.env("POWERHUNGRY_CLAIM_DIR", store.with_extension("claims"))
        .arg("bench")
        .arg(suite)
        .arg("--store")
        .arg(store)
        .arg("--quiet");
    cmd.args(extra);
    // The location of the run's start, unless the caller gives another.
    if !extra.contains(&"--intensity") {
        cmd.args(["--intensity", "100"]);
    }
    cmd
}

fn committed(store: &Path) -> u64 {
    // The writer may be mid-transaction; WAL lets us read the last committed state.
    match Store::open(store).and_then(|s| s.list_runs()) {
        Ok(runs) => runs.first().map_or(0, |r| r.repetitions),
        Err(_) => 0,
    }
}

#[test]
fn sigkill_then_resume_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path());
    let store = dir.path().join("results.sqlite");

    let mut child = bench(&suite, &store, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn powerhungry bench");
    let deadline = Instant::now() + Duration::from_secs(300);
    while committed(&store) < 3 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("bench exited ({status}) before it could be killed");
        }
        assert!(
            Instant::now() < deadline,
            "no repetition committed within 300 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    child.wait().expect("reap");

    let before = Store::open(&store)
        .expect("open store")
        .load_run(1)
        .expect("run 1");
    let k = before.repetitions.len();
    assert!(
        before.ended_at.is_none(),
        "a killed run must stay unfinished"
    );
    assert!(
        (3..REPETITIONS as usize).contains(&k),
        "the kill should land mid-run; {k} of {REPETITIONS} were stored"
    );
    // Every stored repetition is whole: its four windows and all 50 inferences.
    for r in &before.repetitions {
        assert_eq!(r.windows.len(), 4, "repetition {} is partial", r.index);
        assert_eq!(r.inferences.len(), 50, "repetition {} is partial", r.index);
    }

    // A report of the killed run shows it unfinished, with its repetition count, and keeps it
    // out of the task mean.
    let report = Command::cargo_bin("powerhungry")
        .expect("binary")
        .arg("report")
        .arg(&store)
        .output()
        .expect("report");
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(
        text.contains(&format!("unfinished run ({k} repetition(s) stored)")),
        "{text}"
    );
    assert!(
        text.contains("never rated, on a Pareto front or in a task mean"),
        "{text}"
    );

    // Resumed with another location: the one stored when the run started is used.
    let out = bench(
        &suite,
        &store,
        &["--resume", "--intensity", "700", "--json", "s.json"],
    )
    .current_dir(dir.path())
    .output()
    .expect("resume");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("carbon: 100 g CO2e/kWh"), "{stdout}");
    assert!(!stdout.contains("carbon: 700"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("s.json")).expect("summary json"),
    )
    .expect("json");
    assert_eq!(json["location"]["intensity_g_per_kwh"], 100.0);
    let row = &json["rows"][0];
    let (wh, g) = (
        row["wh_per_1000_mean"].as_f64().expect("wh"),
        row["g_co2e_per_1000"].as_f64().expect("g"),
    );
    assert!(
        (g - wh / 1000.0 * 100.0).abs() <= 1e-9 * g.abs().max(1e-12),
        "{row}"
    );
    assert!(
        out.status.success(),
        "resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ran_now = REPETITIONS as usize - k;
    assert!(
        stdout.contains(&format!("({ran_now} repetition(s) run now, {k} before)")),
        "{stdout}"
    );

    let store_ = Store::open(&store).expect("open store");
    assert_eq!(
        store_.list_runs().expect("runs").len(),
        1,
        "resume must not start a new run"
    );
    let after = store_.load_run(1).expect("run 1");
    assert!(after.ended_at.is_some(), "the resumed run must end");
    let idx: Vec<u32> = after.repetitions.iter().map(|r| r.index).collect();
    assert_eq!(
        idx,
        (0..REPETITIONS).collect::<Vec<_>>(),
        "each repetition exactly once"
    );
    // The repetitions stored before the kill are untouched.
    assert_eq!(&after.repetitions[..k], &before.repetitions[..]);
    // Same sample every time (it is recorded once and checked on resume).
    let sample = &after.datasets[0].sample_ids;
    for r in &after.repetitions {
        let ids: Vec<&String> = r.inferences.iter().map(|i| &i.example_id).collect();
        assert_eq!(ids, sample.iter().collect::<Vec<_>>());
    }

    // Nothing left to resume: a clear error, not a new run.
    let out = bench(&suite, &store, &["--resume"])
        .output()
        .expect("resume again");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no unfinished run of suite `kill-test`"),
        "{stderr}"
    );
}
