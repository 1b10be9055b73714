//! `bench --shard i/n` and Slurm job arrays, with real processes on one store (SQLite, and
//! PostgreSQL on the test server): shards started together join one run, each runs its own
//! units exactly once, the run ends with its last shard, a killed shard is rerun alone, and
//! inconsistent shard flags are refused.

use assert_cmd::cargo::CommandCargoExt;
use powerhungry_store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Two quick models on Rotten Tomatoes: 2 x `repetitions` units.
fn write_suite(dir: &Path, repetitions: u32) -> PathBuf {
    let data = repo().join("data/rt-polarity");
    let suite = format!(
        r#"name = "shard-test"

[protocol]
inferences = 30
repetitions = {repetitions}
warmup = 1
max_train = 300

[[models]]
name = "bow"
backend = "traditional"
kind = "bow-lr"

[[models]]
name = "tfidf"
backend = "traditional"
kind = "tfidf-char-lr"

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
    let path = dir.join(format!("shards-{repetitions}.toml"));
    std::fs::write(&path, suite).expect("write suite");
    path
}

/// A shard's command. `--scope process`: shards on one machine share its CPU by attribution
/// instead of refusing each other's device claims.
fn bench(suite: &Path, store: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    // The claims sit beside the suite: one folder per test, for a file or a database store.
    cmd.env("POWERHUNGRY_CLAIM_DIR", suite.with_extension("claims"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .arg("bench")
        .arg(suite)
        .arg("--store")
        .arg(store)
        .args(["--quiet", "--intensity", "100", "--scope", "process"])
        .args(extra);
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// (model, repetition index) -> how many times it is stored, over every run of the store.
fn stored_units(store: &Path) -> (usize, BTreeMap<(String, u32), usize>) {
    let s = Store::open(store).expect("store");
    let runs = s.list_runs().expect("runs");
    let mut units = BTreeMap::new();
    for r in &runs {
        for rep in s.load_run(r.id).expect("run").repetitions {
            *units.entry((rep.model, rep.index)).or_insert(0) += 1;
        }
    }
    (runs.len(), units)
}

#[test]
fn four_shards_at_once_fill_one_run_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    four_shards_at_once(dir.path(), &dir.path().join("results.sqlite"));
}

#[test]
fn four_shards_at_once_fill_one_postgres_run_exactly_once() {
    let Some(url) = powerhungry_testkit::postgres_database("four_shards") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    four_shards_at_once(dir.path(), Path::new(&url));
}

fn four_shards_at_once(dir: &Path, store: &Path) {
    let suite = write_suite(dir, 6);
    let store = store.to_path_buf();
    let children: Vec<_> = (1..=4)
        .map(|i| {
            bench(
                &suite,
                &store,
                &["--shard", &format!("{i}/4"), "--run-name", "sweep"],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn shard")
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "shard {}: {}", i + 1, stderr(&out));
    }
    let (runs, units) = stored_units(&store);
    assert_eq!(runs, 1, "every shard joined one run");
    assert_eq!(units.len(), 12, "{units:?}");
    assert!(units.values().all(|&n| n == 1), "{units:?}");
    let s = Store::open(&store).expect("store");
    let run = &s.list_runs().expect("runs")[0];
    assert_eq!(run.run_name.as_deref(), Some("sweep"));
    assert!(run.ended_at.is_some(), "the run ends with its last shard");
    let shards = s.shards(run.id).expect("shards");
    assert_eq!(
        shards
            .iter()
            .map(|x| (x.index, x.count))
            .collect::<Vec<_>>(),
        vec![(0, 4), (1, 4), (2, 4), (3, 4)]
    );
    assert!(shards.iter().all(|x| x.ended_at.is_some()));
    // The report says the run was made by four shards, and where.
    let host = shards[0].host.clone();
    let out = Command::cargo_bin("powerhungry")
        .expect("binary")
        .arg("report")
        .arg(&store)
        .output()
        .expect("report");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout.contains(&format!(
            "note: run 1 `sweep` (shard-test): 4 of 4 shard(s) joined, on {host}"
        )),
        "{stdout}"
    );
}

#[test]
fn a_killed_shard_is_rerun_alone_and_the_run_ends_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    a_killed_shard_is_rerun_alone(dir.path(), &dir.path().join("results.sqlite"));
}

#[test]
fn a_killed_postgres_shard_is_rerun_alone_and_the_run_ends_with_it() {
    let Some(url) = powerhungry_testkit::postgres_database("killed_shard") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    a_killed_shard_is_rerun_alone(dir.path(), Path::new(&url));
}

fn a_killed_shard_is_rerun_alone(dir: &Path, store: &Path) {
    let suite = write_suite(dir, 30);
    let store = store.to_path_buf();
    let shard = |i: u32| {
        bench(
            &suite,
            &store,
            &["--shard", &format!("{i}/2"), "--run-name", "k"],
        )
    };
    let mut first = shard(1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill shard 1 once it has stored something and before it is done.
    let t0 = Instant::now();
    loop {
        let (_, units) = stored_units_or_empty(&store);
        if !units.is_empty() {
            break;
        }
        assert!(
            first.try_wait().expect("try_wait").is_none(),
            "shard 1 ended before it could be killed"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "shard 1 stored nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().expect("kill");
    first.wait().expect("wait");
    let (_, after_kill) = stored_units(&store);
    assert!(after_kill.len() < 30, "shard 1 was killed before its end");

    let out = shard(2).output().expect("shard 2");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = Store::open(&store).expect("store");
    let run = s.list_runs().expect("runs")[0].clone();
    assert_eq!(
        run.ended_at, None,
        "shard 1 has not finished: the run is open"
    );
    drop(s);

    let out = shard(1).output().expect("rerun shard 1");
    assert!(out.status.success(), "{}", stderr(&out));
    let (runs, units) = stored_units(&store);
    assert_eq!(runs, 1);
    assert_eq!(units.len(), 60, "every unit of both shards is stored");
    assert!(units.values().all(|&n| n == 1), "none twice: {units:?}");
    for (key, _) in after_kill {
        assert!(units.contains_key(&key), "{key:?} kept");
    }
    let s = Store::open(&store).expect("store");
    assert!(s.list_runs().expect("runs")[0].ended_at.is_some());
}

fn stored_units_or_empty(store: &Path) -> (usize, BTreeMap<(String, u32), usize>) {
    let database = store
        .to_str()
        .is_some_and(powerhungry_store::is_postgres_url);
    if !database && !store.exists() {
        return (0, BTreeMap::new());
    }
    std::panic::catch_unwind(|| stored_units(store)).unwrap_or_default()
}

#[test]
fn a_slurm_array_task_shards_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path(), 2);
    let store = dir.path().join("results.sqlite");
    for task in [10, 11] {
        let out = bench(&suite, &store, &[])
            .env("SLURM_ARRAY_JOB_ID", "77")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "10")
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .output()
            .expect("bench");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (runs, units) = stored_units(&store);
    assert_eq!(runs, 1);
    assert_eq!(units.len(), 4);
    let s = Store::open(&store).expect("store");
    let run = &s.list_runs().expect("runs")[0];
    assert_eq!(run.run_name.as_deref(), Some("slurm-array-77"));
    assert!(run.ended_at.is_some());
}

#[test]
fn inconsistent_shard_flags_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path(), 2);
    let store = dir.path().join("results.sqlite");
    let out = bench(&suite, &store, &["--shard", "3/2", "--run-name", "x"])
        .output()
        .expect("bench");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--shard: expected i/n"),
        "{}",
        stderr(&out)
    );
    let out = bench(&suite, &store, &["--shard", "1/2"])
        .output()
        .expect("bench");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs --run-name"),
        "{}",
        stderr(&out)
    );
    assert!(!store.exists(), "nothing was stored");

    let ok = bench(&suite, &store, &["--shard", "1/2", "--run-name", "x"])
        .output()
        .expect("bench");
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = bench(&suite, &store, &["--shard", "1/3", "--run-name", "x"])
        .output()
        .expect("bench");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("was started with 2 shards, not 3"),
        "{}",
        stderr(&out)
    );
    let (runs, units) = stored_units(&store);
    assert_eq!(
        (runs, units.len()),
        (1, 2),
        "the refused shard stored nothing"
    );
}
