//! The store keeps what the harness wrote: a run round-trips exactly through SQLite, runs
//! append, resume finds the right run, and a changed sample is refused.

use powerhungry_bench::sink::*;
use powerhungry_store::Store;

mod common;
use common::*;

#[test]
fn a_run_round_trips_and_runs_append() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    let start = run_start("h1");
    {
        let mut store = Store::open(&path)?;
        assert_eq!(store.schema_version()?, powerhungry_store::SCHEMA_VERSION);
        let run = store.begin_run(&start)?;
        store.record_model(run, &model())?;
        store.record_dataset(run, &dataset())?;
        // Recording the same model/dataset again (as a resumed run does) is a no-op.
        store.record_model(run, &model())?;
        store.record_dataset(run, &dataset())?;
        store.record_repetition(run, &repetition(0))?;
        store.record_repetition(run, &repetition(1))?;
        assert_eq!(store.find_unfinished_run("h1")?, Some(run));
        store.end_run(run, 1_700_000_009.0)?;
        assert_eq!(store.find_unfinished_run("h1")?, None);
    }
    // Reopen: everything is as written, and a second run appends.
    let mut store = Store::open(&path)?;
    let loaded = store.load_run(1)?;
    assert_eq!(loaded.start, start);
    assert_eq!(loaded.ended_at, Some(1_700_000_009.0));
    assert_eq!(loaded.models, vec![model()]);
    assert_eq!(loaded.datasets, vec![dataset()]);
    assert_eq!(loaded.repetitions, vec![repetition(0), repetition(1)]);
    assert_eq!(loaded.repetitions_of("bow", "rt").count(), 2);

    let run2 = store.begin_run(&run_start("h1"))?;
    assert_eq!(run2, 2);
    let runs = store.list_runs()?;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].repetitions, 2);
    assert_eq!(runs[1].repetitions, 0);
    assert_eq!(runs[1].ended_at, None);
    assert_eq!(store.latest_run()?, Some(2));
    assert_eq!(store.find_unfinished_run("h1")?, Some(2));
    assert_eq!(store.find_unfinished_run("other")?, None);
    Ok(())
}

#[test]
fn committed_repetitions_are_listed_and_not_stored_twice() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    store.record_repetition(run, &repetition(0))?;
    store.record_repetition(run, &repetition(2))?;
    let keys = store.committed_repetitions(run)?;
    let idx: Vec<u32> = keys.iter().map(|k| k.index).collect();
    assert_eq!(idx, vec![0, 2]);
    // The same repetition again violates the unique key, and the failed transaction leaves
    // nothing behind (no orphan windows or inferences).
    let err = store.record_repetition(run, &repetition(0)).unwrap_err();
    assert!(
        format!("{err:#}").contains("repetition 1 of model `bow`"),
        "{err:#}"
    );
    assert_eq!(
        store.load_run(run)?.repetitions,
        vec![repetition(0), repetition(2)]
    );
    Ok(())
}

#[test]
fn a_changed_sample_or_model_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    let mut other = dataset();
    other.sample_ids.reverse();
    let err = store.record_dataset(run, &other).unwrap_err();
    assert!(err.to_string().contains("cannot be resumed"), "{err}");
    // The same model with another description (a solver's iteration count) is the same model:
    // the first record stays.
    let mut m = model();
    m.parameters = Some(1);
    m.description = "converged in 12 iterations".into();
    store.record_model(run, &m)?;
    assert_eq!(store.load_run(run)?.models, vec![model()]);
    // Another kind or options under the same name is refused.
    let mut m = model();
    m.kind = "tfidf-char-lr".into();
    assert!(store.record_model(run, &m).is_err());
    let mut m = model();
    m.options_json = "{\"c\":2.0}".into();
    assert!(store.record_model(run, &m).is_err());
    // A repetition for a model never recorded is an error, not a silent insert.
    let mut rep = repetition(0);
    rep.model = "ghost".into();
    let err = store.record_repetition(run, &rep).unwrap_err();
    assert!(
        format!("{err:#}").contains("`ghost` was not recorded"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "this is not a database, just some text that is long enough to read",
    )?;
    let err = Store::open(&path)
        .err()
        .expect("opening a text file must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("notes.txt"), "{msg}");
    Ok(())
}

#[test]
fn an_older_store_is_migrated_and_a_newer_one_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    {
        let mut store = Store::open(&path)?;
        let run = store.begin_run(&run_start("h"))?;
        store.record_model(run, &model())?;
    }
    // Make it a version-1 store, as an older powerhungry left it.
    {
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch(
            "DROP TABLE run_shards; DROP INDEX runs_by_name; ALTER TABLE runs DROP COLUMN run_name;
             DROP TABLE reported_emissions; DROP TABLE model_fits; DROP TABLE skipped_models;
             DROP INDEX runs_by_source; ALTER TABLE runs DROP COLUMN source_sha256;
             ALTER TABLE windows DROP COLUMN uncounted;
             ALTER TABLE windows DROP COLUMN nothing_measured;
             ALTER TABLE repetitions DROP COLUMN latency_p50_s;
             ALTER TABLE repetitions DROP COLUMN latency_p95_s;
             DELETE FROM schema_version WHERE version > 1;",
        )?;
    }
    let store = Store::open(&path)?;
    assert_eq!(store.schema_version()?, powerhungry_store::SCHEMA_VERSION);
    assert_eq!(store.load_run(1)?.models, vec![model()]);
    assert!(store.reported_emissions(1)?.is_empty());
    drop(store);

    {
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])?;
    }
    let err = Store::open(&path)
        .err()
        .expect("a newer store must be refused");
    assert!(
        format!("{err:#}").contains("schema version 99, newer than this powerhungry understands"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn migration_3_fills_in_each_repetitions_latency_percentiles() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    {
        let mut store = Store::open(&path)?;
        let run = store.begin_run(&run_start("h"))?;
        store.record_model(run, &model())?;
        store.record_dataset(run, &dataset())?;
        store.record_repetition(run, &repetition(0))?;
    }
    {
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch(
            "DROP TABLE run_shards; DROP INDEX runs_by_name; ALTER TABLE runs DROP COLUMN run_name;
             DROP TABLE model_fits; DROP TABLE skipped_models;
             DROP INDEX runs_by_source; ALTER TABLE runs DROP COLUMN source_sha256;
             ALTER TABLE windows DROP COLUMN uncounted;
             ALTER TABLE windows DROP COLUMN nothing_measured;
             ALTER TABLE repetitions DROP COLUMN latency_p50_s;
             ALTER TABLE repetitions DROP COLUMN latency_p95_s;
             DELETE FROM schema_version WHERE version > 2;",
        )?;
    }
    let store = Store::open(&path)?;
    let rep = &store.load_run(1)?.repetitions[0];
    // Latencies 1 ms and 2 ms: p50 1.5 ms, p95 1.95 ms (linear interpolation).
    assert!((rep.latency_p50_s.expect("p50") - 0.0015).abs() < 1e-12);
    assert!((rep.latency_p95_s.expect("p95") - 0.00195).abs() < 1e-12);
    Ok(())
}

#[test]
fn fitted_sizes_are_kept_per_model_and_dataset() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    let mut hindi = dataset();
    hindi.name = "hi".into();
    store.record_dataset(run, &dataset())?;
    store.record_dataset(run, &hindi)?;
    let fit = |dataset: &str, parameters| ModelFit {
        model: "bow".into(),
        dataset: dataset.into(),
        parameters: Some(parameters),
        description: format!("vocabulary of {dataset}"),
    };
    store.record_fit(run, &fit("rt", 20_001))?;
    store.record_fit(run, &fit("hi", 8_210))?;
    // A later repetition's fit of the same pair keeps the first.
    store.record_fit(run, &fit("hi", 1))?;
    let loaded = store.load_run(run)?;
    assert_eq!(loaded.fits, vec![fit("rt", 20_001), fit("hi", 8_210)]);
    assert!(store.record_fit(run, &fit("nowhere", 3)).is_err());
    Ok(())
}

#[test]
fn incomplete_windows_and_nothing_measured_round_trip() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    let mut partial = repetition(0);
    partial.windows[1].uncounted = vec!["cpu-package0".into()];
    let mut nothing = repetition(1);
    nothing.windows[1].components.clear();
    nothing.windows[1].nothing_measured = true;
    store.record_repetition(run, &partial)?;
    store.record_repetition(run, &nothing)?;
    let loaded = store.load_run(run)?;
    assert_eq!(loaded.repetitions, vec![partial, nothing]);
    assert!(loaded.repetitions[0]
        .incomplete()
        .expect("incomplete")
        .contains("cpu-package0 not counted"));
    assert!(loaded.repetitions[1]
        .incomplete()
        .expect("nothing")
        .contains("nothing measured"));
    // A non-number energy is refused, naming the component, and stores nothing.
    let mut nan = repetition(2);
    nan.windows[1].components[0].joules = f64::NAN;
    let err = store.record_repetition(run, &nan).unwrap_err();
    assert!(format!("{err:#}").contains("cpu: energy NaN J"), "{err:#}");
    assert_eq!(store.load_run(run)?.repetitions.len(), 2);
    Ok(())
}

#[test]
fn the_summary_load_reads_no_inference_records() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    store.record_repetition(run, &repetition(0))?;
    let light = store.load_run_summary(run)?;
    let mut want = repetition(0);
    want.inferences.clear();
    assert_eq!(light.repetitions, vec![want]);
    assert!(light.datasets[0].sample_ids.is_empty());
    let totals = store.inference_totals(run)?;
    assert_eq!(totals[&("bow".into(), "rt".into(), 0)].inferences, 2);
    assert!(store.has_sample(run, "rt")?);
    Ok(())
}

#[test]
fn a_run_that_skipped_a_model_is_finished_and_resumable_for_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_skipped(run, "minilm", "files not found")?;
    store.end_run(run, 1_700_000_009.0)?;
    assert_eq!(
        store.load_run(run)?.skipped,
        vec![("minilm".to_string(), "files not found".to_string())]
    );
    // Finished, but `--resume` may add the skipped model to it.
    assert_eq!(store.find_unfinished_run("h")?, Some(run));
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    let mut m = ModelFit {
        model: "minilm".into(),
        dataset: "rt".into(),
        parameters: None,
        description: String::new(),
    };
    assert!(
        store.record_fit(run, &m).is_err(),
        "no model minilm recorded"
    );
    m.model = "bow".into();
    store.record_fit(run, &m)?;
    let mut minilm = model();
    minilm.name = "minilm".into();
    store.record_model(run, &minilm)?;
    m.model = "minilm".into();
    store.record_fit(run, &m)?;
    assert!(store.load_run(run)?.skipped.is_empty());
    assert_eq!(store.find_unfinished_run("h")?, None);
    Ok(())
}

#[test]
fn a_store_opened_read_only_is_not_written() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro)?;
    let path = ro.join("s.sqlite");
    {
        let mut store = Store::open(&path)?;
        let run = store.begin_run(&run_start("h"))?;
        store.record_model(run, &model())?;
    }
    let before = std::fs::read(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444))?;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555))?;
    let result = (|| -> anyhow::Result<()> {
        let store = Store::open_read_only(&path)?;
        assert_eq!(store.list_runs()?.len(), 1);
        assert_eq!(store.load_run(1)?.models, vec![model()]);
        Ok(())
    })();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755))?;
    result?;
    assert_eq!(
        std::fs::read(&path)?,
        before,
        "a read-only open changed the file"
    );
    // SQLite may leave an empty WAL beside it where it can (we run as root here, which
    // ignores the modes), but never writes one.
    let wal = ro.join("s.sqlite-wal");
    if wal.exists() {
        assert_eq!(
            std::fs::metadata(&wal)?.len(),
            0,
            "a read-only open wrote to the WAL"
        );
    }
    Ok(())
}

#[test]
fn a_corrupt_store_names_its_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("damaged.sqlite");
    {
        let mut store = Store::open(&path)?;
        let run = store.begin_run(&run_start("h"))?;
        store.record_model(run, &model())?;
    }
    // Keep the header, overwrite the pages after it.
    let mut bytes = std::fs::read(&path)?;
    for b in bytes.iter_mut().skip(100) {
        *b = 0x5a;
    }
    std::fs::write(&path, &bytes)?;
    for err in [
        Store::open_read_only(&path).and_then(|s| s.list_runs().map(|_| ())),
        Store::open(&path).and_then(|s| s.list_runs().map(|_| ())),
    ] {
        let msg = format!("{:#}", err.expect_err("a damaged store must fail"));
        assert!(msg.contains("damaged.sqlite"), "{msg}");
    }
    Ok(())
}

#[test]
fn atomically_commits_all_or_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let err = store
        .atomically(|s| -> anyhow::Result<()> {
            let run = s.begin_run(&run_start("h"))?;
            s.record_model(run, &model())?;
            s.record_dataset(run, &dataset())?;
            s.record_repetition(run, &repetition(0))?;
            anyhow::bail!("the last row is bad")
        })
        .unwrap_err();
    assert!(err.to_string().contains("last row"));
    assert!(
        store.list_runs()?.is_empty(),
        "a failed batch left a run behind"
    );
    store.atomically(|s| s.begin_run(&run_start("h")).map(|_| ()))?;
    assert_eq!(store.list_runs()?.len(), 1);
    Ok(())
}

#[test]
fn predictions_export_labels_as_strings_and_other_outputs_as_objects() -> anyhow::Result<()> {
    use powerhungry_tasks::{Gold, Output};
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("s.sqlite"))?;
    let run = store.begin_run(&run_start("h1"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    let mut qa = dataset();
    qa.name = "xquad".into();
    qa.task = "extractive-qa".into();
    store.record_dataset(run, &qa)?;
    store.record_repetition(run, &repetition(0))?;
    // An extractive-QA repetition: outputs and golds as the runner stores them.
    let mut rep = repetition(0);
    rep.dataset = "xquad".into();
    let answer = Output::Answer {
        text: "Denver Broncos".into(),
        start: Some(177),
        end: Some(191),
    };
    let gold = Gold::Answers(vec!["Denver Broncos".into(), "the Broncos".into()]);
    rep.inferences[0].prediction = answer.record_text();
    rep.inferences[0].gold = serde_json::to_string(&gold).ok();
    rep.inferences[1].prediction = Output::Unparsed("no idea".into()).record_text();
    store.record_repetition(run, &rep)?;

    let sets = store.prediction_sets(run)?;
    let names: Vec<(&str, &str, u64)> = sets
        .iter()
        .map(|s| (s.dataset.as_str(), s.task.as_str(), s.inferences))
        .collect();
    assert_eq!(
        names,
        [
            ("rt", "text-classification", 2),
            ("xquad", "extractive-qa", 2)
        ]
    );
    let mut out = Vec::new();
    assert_eq!(store.write_predictions(run, &sets[1], &mut out)?, 2);
    let records: Vec<serde_json::Value> = String::from_utf8(out)?
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(
        records[0]["prediction"],
        serde_json::json!({"answer": {"text": "Denver Broncos", "start": 177, "end": 191}})
    );
    assert_eq!(
        records[0]["gold"],
        serde_json::json!({"answers": ["Denver Broncos", "the Broncos"]})
    );
    assert_eq!(
        records[1]["prediction"],
        serde_json::json!({"unparsed": "no idea"})
    );
    assert_eq!(records[1]["gold"], serde_json::Value::Null);
    assert_eq!(records[1]["example_id"], "neg:4");
    assert_eq!(records[1]["latency_s"], 0.002);

    let mut out = Vec::new();
    store.write_predictions(run, &sets[0], &mut out)?;
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(out)?.lines().next().expect("a line"))?;
    assert_eq!(first["prediction"], "pos");
    assert_eq!(first["gold"], "pos");
    Ok(())
}
