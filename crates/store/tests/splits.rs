//! Splits 1.. of a dataset (protocol `splits` > 1) are stored (schema 4, `split_samples`), read
//! back in order, accepted again when the same, refused when they differ.

use powerhungry_bench::sink::*;
use powerhungry_store::Store;

fn start() -> RunStart {
    RunStart {
        suite_name: "s".into(),
        suite_path: "s.toml".into(),
        suite_text: "name = \"s\"".into(),
        suite_hash: "h".into(),
        started_at: 1.0,
        git_revision: None,
        tool_version: "test".into(),
        hardware: HardwareInfo::default(),
        location: LocationRecord {
            location: "test".into(),
            intensity_g_per_kwh: 1.0,
            source: "test".into(),
            year: None,
            pue: 1.0,
        },
        idle: vec![],
    }
}

#[test]
fn splits_round_trip_and_must_match_on_resume() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("s.sqlite");
    let mut store = Store::open(&path)?;
    assert_eq!(store.schema_version()?, powerhungry_store::SCHEMA_VERSION);
    let run = store.begin_run(&start())?;
    let d = DatasetRecord {
        name: "d".into(),
        task: "text-classification".into(),
        spec_json: "{}".into(),
        examples: 4,
        undecodable: 0,
        train_ids: vec!["a".into(), "b".into()],
        sample_ids: vec!["c".into(), "d".into()],
    };
    let splits = vec![
        SplitIds {
            split: 1,
            train_ids: vec!["c".into(), "a".into()],
            sample_ids: vec!["d".into(), "b".into()],
        },
        SplitIds {
            split: 2,
            train_ids: vec!["d".into(), "b".into()],
            sample_ids: vec!["a".into(), "c".into()],
        },
    ];
    assert!(
        store.record_splits(run, "d", &splits).is_err(),
        "dataset first"
    );
    store.record_dataset(run, &d)?;
    store.record_splits(run, "d", &splits)?;
    drop(store);
    let mut store = Store::open(&path)?;
    assert_eq!(store.splits(run, "d")?, splits);
    store.record_splits(run, "d", &splits)?;
    let mut other = splits.clone();
    other[1].sample_ids.reverse();
    let err = store.record_splits(run, "d", &other).unwrap_err();
    assert!(err.to_string().contains("splits of dataset `d`"), "{err}");
    assert!(store.splits(run, "nope")?.is_empty());
    Ok(())
}
