//! The PostgreSQL store: the same schema as SQLite, a run round-trips exactly, writers from
//! many processes share one run safely, a failed repetition leaves nothing, `store copy` moves
//! runs both ways without loss (and copies once when run twice), and credentials never reach
//! an error message. Each test gets its own database on the test server
//! (`scripts/test-postgres.sh`; missing, the tests fail, see crates/testkit).

use powerhungry_bench::shard::Shard;
use powerhungry_bench::sink::*;
use powerhungry_store::{copy_runs, Store};

use std::collections::BTreeMap;

mod common;
use common::*;

fn database(label: &str) -> Option<String> {
    powerhungry_testkit::postgres_database(label)
}

/// A run with every kind of row: fits, a skipped model, splits, two repetitions (energies,
/// inferences with a served request's stats, metrics) and reported emissions.
fn write_full_run(store: &mut Store, hash: &str) -> anyhow::Result<RunId> {
    let run = store.begin_run(&run_start(hash))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    store.record_splits(
        run,
        "rt",
        &[SplitIds {
            split: 1,
            train_ids: vec!["neg:2".into()],
            sample_ids: vec!["pos:3".into()],
        }],
    )?;
    store.record_fit(
        run,
        &ModelFit {
            model: "bow".into(),
            dataset: "rt".into(),
            parameters: Some(20_001),
            description: "vocabulary".into(),
        },
    )?;
    store.record_skipped(run, "minilm-lr", "weights not found")?;
    store.record_repetition(run, &repetition(0))?;
    store.record_repetition(run, &repetition(1))?;
    store.record_reported_emissions(
        run,
        &powerhungry_store::ReportedEmissions {
            model: "bow".into(),
            dataset: "rt".into(),
            index: 0,
            g_co2e: 0.125,
            source: "codecarbon".into(),
        },
    )?;
    store.end_run(run, 1_700_000_009.0)?;
    Ok(run)
}

#[test]
fn a_run_round_trips_through_postgres() -> anyhow::Result<()> {
    let Some(url) = database("roundtrip") else {
        return Ok(());
    };
    let mut store = Store::open(&url)?;
    assert!(store.is_postgres());
    assert_eq!(store.schema_version()?, powerhungry_store::SCHEMA_VERSION);
    let run = write_full_run(&mut store, "h1")?;
    drop(store);
    // Reopened (the schema is not migrated twice), everything is as written.
    let store = Store::open_read_only(&url)?;
    let loaded = store.load_run(run)?;
    assert_eq!(loaded.start, run_start("h1"));
    assert_eq!(loaded.ended_at, Some(1_700_000_009.0));
    assert_eq!(loaded.models, vec![model()]);
    assert_eq!(loaded.datasets, vec![dataset()]);
    assert_eq!(loaded.repetitions, vec![repetition(0), repetition(1)]);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(store.splits(run, "rt")?.len(), 1);
    assert_eq!(store.reported_emissions(run)?.len(), 1);
    let totals = store.inference_totals(run)?;
    assert_eq!(totals[&("bow".into(), "rt".into(), 1)].inferences, 2);
    let listing = store.list_runs()?;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].repetitions, 2);
    Ok(())
}

/// Column names and type classes per table, as each database reports them.
fn sqlite_columns(
    path: &std::path::Path,
) -> anyhow::Result<BTreeMap<String, Vec<(String, String)>>> {
    let c = rusqlite::Connection::open(path)?;
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = BTreeMap::new();
    for t in tables {
        let cols: Vec<(String, String)> = c
            .prepare(&format!(
                "SELECT name, type FROM pragma_table_info('{t}') ORDER BY cid"
            ))?
            .query_map([], |r| {
                let ty: String = r.get(1)?;
                let class = match ty.as_str() {
                    "INTEGER" => "integer",
                    "REAL" => "float",
                    "TEXT" => "text",
                    other => panic!("unexpected SQLite type {other}"),
                };
                Ok((r.get(0)?, class.to_string()))
            })?
            .collect::<Result<_, _>>()?;
        out.insert(t, cols);
    }
    Ok(out)
}

fn postgres_columns(url: &str) -> anyhow::Result<BTreeMap<String, Vec<(String, String)>>> {
    let mut c = postgres::Client::connect(url, postgres::NoTls)?;
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in c.query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
        &[],
    )? {
        let ty: String = row.get(2);
        let class = match ty.as_str() {
            "bigint" => "integer",
            "double precision" => "float",
            "text" => "text",
            other => panic!("unexpected PostgreSQL type {other}"),
        };
        out.entry(row.get(0))
            .or_default()
            .push((row.get(1), class.to_string()));
    }
    Ok(out)
}

#[test]
fn the_postgres_schema_is_the_sqlite_schema() -> anyhow::Result<()> {
    let Some(url) = database("schema") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let sqlite = dir.path().join("s.sqlite");
    let s = Store::open(&sqlite)?;
    let p = Store::open(&url)?;
    assert_eq!(s.tables()?, p.tables()?);
    // Every table a run owns is copied by `store copy` (a new table must be added there).
    let mut copied: Vec<String> = powerhungry_store::copied_tables()
        .into_iter()
        .map(String::from)
        .collect();
    copied.sort();
    assert_eq!(copied, s.tables()?);
    assert_eq!(sqlite_columns(&sqlite)?, postgres_columns(&url)?);
    Ok(())
}

/// Everything of a run, ids aside: what `store copy` must keep.
fn run_content(store: &Store, run: RunId) -> anyhow::Result<impl PartialEq + std::fmt::Debug> {
    let mut loaded = store.load_run(run)?;
    loaded.id = 0;
    let mut splits = store.splits(run, "rt")?;
    splits.sort_by_key(|s| s.split);
    let mut emissions: Vec<_> = store
        .reported_emissions(run)?
        .into_iter()
        .map(|e| (e.model, e.dataset, e.index, e.g_co2e.to_bits(), e.source))
        .collect();
    emissions.sort();
    Ok((loaded, splits, emissions))
}

#[test]
fn store_copy_moves_runs_both_ways_without_loss_and_copies_once() -> anyhow::Result<()> {
    let Some(url) = database("copy") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let first = dir.path().join("first.sqlite");
    let back = dir.path().join("back.sqlite");
    let mut src = Store::open(&first)?;
    write_full_run(&mut src, "h1")?;
    // A second run still running: one repetition so far.
    let running = src.begin_run(&run_start("h2"))?;
    src.record_model(running, &model())?;
    src.record_dataset(running, &dataset())?;
    src.record_repetition(running, &repetition(0))?;

    let mut pg = Store::open(&url)?;
    let out = copy_runs(&src, &mut pg, &[])?;
    assert_eq!(out.copied.len(), 2);
    let mut back_store = Store::open(&back)?;
    let out_back = copy_runs(&pg, &mut back_store, &[])?;
    assert_eq!(out_back.copied.len(), 2);
    for ((orig, in_pg), (_, in_back)) in out.copied.iter().zip(&out_back.copied) {
        let want = run_content(&src, *orig)?;
        assert_eq!(run_content(&pg, *in_pg)?, want, "SQLite -> PostgreSQL");
        assert_eq!(run_content(&back_store, *in_back)?, want, "and back");
    }

    // Run twice: nothing new. The running run then goes on; copied again, its part is replaced.
    let again = copy_runs(&src, &mut pg, &[])?;
    assert!(again.copied.is_empty() && again.replaced.is_empty());
    assert_eq!(again.unchanged.len(), 2);
    src.record_repetition(running, &repetition(1))?;
    src.end_run(running, 1_700_000_020.0)?;
    let later = copy_runs(&src, &mut pg, &[running])?;
    assert_eq!(later.replaced.len(), 1);
    let runs = pg.list_runs()?;
    assert_eq!(runs.len(), 2, "replaced, not added: {runs:?}");
    assert_eq!(
        run_content(&pg, later.replaced[0].1)?,
        run_content(&src, running)?
    );
    // A run that is not there is named.
    let err = copy_runs(&src, &mut pg, &[99]).unwrap_err().to_string();
    assert!(err.contains("no run 99"), "{err}");
    Ok(())
}

#[test]
fn a_failed_repetition_leaves_nothing_in_postgres() -> anyhow::Result<()> {
    let Some(url) = database("atomic") else {
        return Ok(());
    };
    let mut store = Store::open(&url)?;
    let run = store.begin_run(&run_start("h"))?;
    store.record_model(run, &model())?;
    store.record_dataset(run, &dataset())?;
    let mut bad = repetition(0);
    // The second window's energy is not a number: the repetition is refused after its
    // repetition row, first window and inferences were written.
    bad.windows[1].components[1].joules = f64::NAN;
    assert!(store.record_repetition(run, &bad).is_err());
    assert!(store.committed_repetitions(run)?.is_empty());
    let loaded = store.load_run(run)?;
    assert!(loaded.repetitions.is_empty());
    // The connection is usable after the rollback.
    store.record_repetition(run, &repetition(0))?;
    assert_eq!(store.committed_repetitions(run)?.len(), 1);
    Ok(())
}

#[test]
fn four_writers_share_one_sharded_run() -> anyhow::Result<()> {
    let Some(url) = database("shards") else {
        return Ok(());
    };
    // Four connections (as four shard processes would open) join one run at the same moment
    // and write their repetitions; the run's row, model and dataset are written once.
    let handles: Vec<_> = (0..4u32)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || -> anyhow::Result<RunId> {
                let mut store = Store::open(&url)?;
                let shard = Shard {
                    index: i,
                    count: 4,
                    run_name: "sweep".into(),
                };
                let (run, _) = store.join_sharded_run(&run_start("h"), &shard)?;
                store.record_model(run, &model())?;
                store.record_dataset(run, &dataset())?;
                for k in 0..3 {
                    store.record_repetition(run, &repetition(i * 3 + k))?;
                }
                store.end_shard(run, &shard, 1_700_000_100.0)?;
                Ok(run)
            })
        })
        .collect();
    let runs: Vec<RunId> = handles
        .into_iter()
        .map(|h| h.join().expect("writer thread"))
        .collect::<anyhow::Result<_>>()?;
    assert!(runs.iter().all(|r| *r == runs[0]), "{runs:?}");
    let store = Store::open_read_only(&url)?;
    let listing = store.list_runs()?;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].repetitions, 12);
    assert_eq!(
        listing[0].ended_at,
        Some(1_700_000_100.0),
        "ended with its last shard"
    );
    assert_eq!(store.shards(runs[0])?.len(), 4);
    assert_eq!(store.load_run(runs[0])?.models.len(), 1);
    Ok(())
}

#[test]
fn credentials_never_reach_an_error_message() -> anyhow::Result<()> {
    let Some(url) = database("creds") else {
        return Ok(());
    };
    let wrong = url.replacen(":powerhungry-test@", ":not-the-password-42@", 1);
    assert_ne!(wrong, url, "the test server's URL carries its password");
    let err = format!(
        "{:#}",
        Store::open(&wrong).err().expect("a wrong password fails")
    );
    assert!(!err.contains("not-the-password-42"), "{err}");
    assert!(err.contains("***"), "the URL is named, redacted: {err}");
    assert!(err.contains("password authentication failed"), "{err}");
    // A store opened with the right one names itself without it.
    let store = Store::open(&url)?;
    assert!(!store
        .path()
        .display()
        .to_string()
        .contains("powerhungry-test"));
    // A database with no store in it is not created by a reader.
    let empty = database("empty").expect("server is up");
    let err = format!(
        "{:#}",
        Store::open_read_only(&empty).err().expect("no store")
    );
    assert!(err.contains("no results store there"), "{err}");
    Ok(())
}

#[test]
fn a_reader_with_select_rights_only_can_report() -> anyhow::Result<()> {
    let Some(url) = database("reader") else {
        return Ok(());
    };
    let mut store = Store::open(&url)?;
    let run = write_full_run(&mut store, "h")?;
    drop(store);
    // A role that may read the tables and nothing else (roles are server-wide: a unique name).
    let role = format!("reader_{}", std::process::id());
    let dbname = url
        .rsplit('/')
        .next()
        .expect("database in the URL")
        .to_string();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)?;
    admin.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role};
         CREATE ROLE {role} LOGIN PASSWORD 'read-only-pw';
         GRANT CONNECT ON DATABASE {dbname} TO {role};
         GRANT USAGE ON SCHEMA public TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))?;
    let (scheme_user, host) = url.split_once('@').expect("user@host");
    let scheme = &scheme_user[..scheme_user.find("://").expect("scheme") + 3];
    let reader_url = format!("{scheme}{role}:read-only-pw@{host}");
    let reader = Store::open_read_only(&reader_url)?;
    assert_eq!(reader.load_run(run)?.repetitions.len(), 2);
    // It cannot write: a bench with these credentials fails, and says why.
    let mut as_writer = Store::open(&reader_url)?;
    let err = format!("{:#}", as_writer.begin_run(&run_start("x")).unwrap_err());
    assert!(err.contains("permission denied"), "{err}");
    drop((reader, as_writer));
    admin.batch_execute(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
         REVOKE ALL ON SCHEMA public FROM {role};
         REVOKE ALL ON DATABASE {dbname} FROM {role}; DROP ROLE {role};"
    ))?;
    Ok(())
}
