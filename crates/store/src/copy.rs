//! `powerhungry store copy FROM TO`: move runs between stores (SQLite and PostgreSQL, either
//! way) without loss. Every row of every table a run owns is copied, in insertion order, with
//! its ids renumbered for the destination and the references between rows kept. A run the
//! destination already holds whole (same suite hash, start time and name, same repetitions,
//! same end) is left alone, so copying twice copies once; a run it holds in part (copied
//! while still running) is replaced by the whole. One transaction per run.

use crate::db::{params, Conn, Value};
use crate::Store;
use anyhow::{anyhow, bail, Context, Result};
use powerhungry_bench::sink::RunId;
use std::collections::HashMap;

/// One table a run owns: whether rows have their own `id`, which columns point at rows of
/// which (earlier) table, and which rows belong to run `?1`.
struct Table {
    name: &'static str,
    has_id: bool,
    parents: &'static [(&'static str, &'static str)],
    of_run: &'static str,
}

const REPS: &str = "repetition_id IN (SELECT id FROM repetitions WHERE run_id = ?1)";

/// Parents before children. A table added by a migration must be added here: a test checks
/// that this list covers the schema.
const TABLES: &[Table] = &[
    Table {
        name: "runs",
        has_id: true,
        parents: &[],
        of_run: "id = ?1",
    },
    Table {
        name: "idle_power",
        has_id: false,
        parents: &[("run_id", "runs")],
        of_run: "run_id = ?1",
    },
    Table {
        name: "models",
        has_id: true,
        parents: &[("run_id", "runs")],
        of_run: "run_id = ?1",
    },
    Table {
        name: "datasets",
        has_id: true,
        parents: &[("run_id", "runs")],
        of_run: "run_id = ?1",
    },
    Table {
        name: "samples",
        has_id: false,
        parents: &[("dataset_id", "datasets")],
        of_run: "dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)",
    },
    Table {
        name: "split_samples",
        has_id: false,
        parents: &[("dataset_id", "datasets")],
        of_run: "dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)",
    },
    Table {
        name: "model_fits",
        has_id: false,
        parents: &[("model_id", "models"), ("dataset_id", "datasets")],
        of_run: "model_id IN (SELECT id FROM models WHERE run_id = ?1)",
    },
    Table {
        name: "skipped_models",
        has_id: false,
        parents: &[("run_id", "runs")],
        of_run: "run_id = ?1",
    },
    Table {
        name: "run_shards",
        has_id: false,
        parents: &[("run_id", "runs")],
        of_run: "run_id = ?1",
    },
    Table {
        name: "repetitions",
        has_id: true,
        parents: &[
            ("run_id", "runs"),
            ("model_id", "models"),
            ("dataset_id", "datasets"),
        ],
        of_run: "run_id = ?1",
    },
    Table {
        name: "windows",
        has_id: true,
        parents: &[("repetition_id", "repetitions")],
        of_run: REPS,
    },
    Table {
        name: "window_energy",
        has_id: false,
        parents: &[("window_id", "windows")],
        of_run: "window_id IN (SELECT w.id FROM windows w
                  JOIN repetitions r ON r.id = w.repetition_id WHERE r.run_id = ?1)",
    },
    Table {
        name: "inferences",
        has_id: false,
        parents: &[("repetition_id", "repetitions")],
        of_run: REPS,
    },
    Table {
        name: "metrics",
        has_id: false,
        parents: &[("repetition_id", "repetitions")],
        of_run: REPS,
    },
    Table {
        name: "reported_emissions",
        has_id: false,
        parents: &[("repetition_id", "repetitions")],
        of_run: REPS,
    },
    Table {
        name: "request_stats",
        has_id: false,
        parents: &[("repetition_id", "repetitions")],
        of_run: REPS,
    },
];

/// The names of the tables `store copy` copies (for the test that they cover the schema).
pub fn copied_tables() -> Vec<&'static str> {
    TABLES.iter().map(|t| t.name).collect()
}

/// What a copy did, run by run: (source id, destination id).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CopyOutcome {
    pub copied: Vec<(RunId, RunId)>,
    /// Already in the destination whole: left as they were.
    pub unchanged: Vec<(RunId, RunId)>,
    /// In the destination in part (copied before they ended): replaced by the whole.
    pub replaced: Vec<(RunId, RunId)>,
}

/// Copy `runs` (every run when empty) from one store to another.
pub fn copy_runs(from: &Store, to: &mut Store, runs: &[RunId]) -> Result<CopyOutcome> {
    let listing = from.list_runs()?;
    let wanted: Vec<RunId> = if runs.is_empty() {
        listing.iter().map(|r| r.id).collect()
    } else {
        for id in runs {
            if !listing.iter().any(|r| r.id == *id) {
                bail!("{}: no run {id}", from.path().display());
            }
        }
        runs.to_vec()
    };
    let mut outcome = CopyOutcome::default();
    let from_path = from.path().display().to_string();
    let to_path = to.path().display().to_string();
    for id in wanted {
        let what = || format!("cannot copy run {id} of {from_path} to {to_path}");
        let fingerprint = fingerprint_of(&from.conn, id).with_context(what)?;
        let done = to
            .writing(|dst| {
                let existing = same_run(dst, &fingerprint)?;
                if let Some(existing) = existing {
                    if fingerprint_of(dst, existing)? == fingerprint {
                        return Ok((existing, Some(false)));
                    }
                    crate::import::delete_run_rows(dst, existing)?;
                    let new = copy_run(&from.conn, dst, id)?;
                    return Ok((new, Some(true)));
                }
                Ok((copy_run(&from.conn, dst, id)?, None))
            })
            .with_context(what)?;
        match done {
            (new, None) => outcome.copied.push((id, new)),
            (existing, Some(false)) => outcome.unchanged.push((id, existing)),
            (new, Some(true)) => outcome.replaced.push((id, new)),
        }
    }
    Ok(outcome)
}

/// What identifies a run across stores, and what says it is whole: suite hash, start, name,
/// end, repetition count.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    suite_hash: String,
    started_at: f64,
    run_name: Option<String>,
    ended_at: Option<f64>,
    repetitions: i64,
}

fn fingerprint_of(c: &Conn, run: RunId) -> Result<Fingerprint> {
    c.query_opt(
        "SELECT suite_hash, started_at, run_name, ended_at,
            (SELECT COUNT(*) FROM repetitions p WHERE p.run_id = runs.id) FROM runs WHERE id = ?1",
        params![run],
        |r| {
            Ok(Fingerprint {
                suite_hash: r.get(0)?,
                started_at: r.get(1)?,
                run_name: r.get(2)?,
                ended_at: r.get(3)?,
                repetitions: r.get(4)?,
            })
        },
    )?
    .ok_or_else(|| anyhow!("no run {run}"))
}

fn same_run(c: &Conn, f: &Fingerprint) -> Result<Option<RunId>> {
    let ids: Vec<(RunId, Option<String>)> = c.query_map(
        "SELECT id, run_name FROM runs WHERE suite_hash = ?1 AND started_at = ?2 ORDER BY id",
        params![f.suite_hash, f.started_at],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(ids
        .into_iter()
        .find(|(_, name)| *name == f.run_name)
        .map(|(id, _)| id))
}

/// Copy one run's rows, table by table, renumbering ids; the new run's id.
fn copy_run(src: &Conn, dst: &Conn, run: RunId) -> Result<RunId> {
    let mut new_ids: HashMap<&'static str, HashMap<i64, i64>> = HashMap::new();
    for table in TABLES {
        let order = if table.has_id { "id" } else { "rowid" };
        let sql = format!(
            "SELECT * FROM {} WHERE {} ORDER BY {order}",
            table.name, table.of_run
        );
        let mut names: Vec<String> = Vec::new();
        let rows: Vec<Vec<Value>> = src.query_map(&sql, params![run], |r| {
            if names.is_empty() {
                names = r.names().to_vec();
            }
            Ok(r.values().to_vec())
        })?;
        if rows.is_empty() {
            continue;
        }
        let id_col = names.iter().position(|n| n == "id");
        let kept: Vec<usize> = (0..names.len()).filter(|i| Some(*i) != id_col).collect();
        let columns: Vec<&str> = kept.iter().map(|i| names[*i].as_str()).collect();
        let placeholders: Vec<String> = (1..=kept.len()).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
            table.name,
            columns.join(", "),
            placeholders.join(", "),
        );
        let parent_cols: Vec<(usize, &'static str)> = table
            .parents
            .iter()
            .map(|(col, parent)| {
                names
                    .iter()
                    .position(|n| n == col)
                    .map(|i| (i, *parent))
                    .ok_or_else(|| anyhow!("table {} has no column {col}", table.name))
            })
            .collect::<Result<_>>()?;
        let mut mapped: HashMap<i64, i64> = HashMap::new();
        let mut plain_rows: Vec<Vec<Value>> = Vec::new();
        for mut row in rows {
            for (i, parent) in &parent_cols {
                if let Value::Int(old) = row[*i] {
                    let new = new_ids
                        .get(parent)
                        .and_then(|m| m.get(&old))
                        .ok_or_else(|| {
                            anyhow!(
                                "table {}: row refers to {parent} {old}, which is not in run {run}",
                                table.name
                            )
                        })?;
                    row[*i] = Value::Int(*new);
                }
            }
            let values: Vec<&dyn crate::db::ToValue> = kept
                .iter()
                .map(|i| &row[*i] as &dyn crate::db::ToValue)
                .collect();
            if let Some(id_col) = id_col {
                let new = dst.insert_id(&insert, &values)?;
                if let Value::Int(old) = row[id_col] {
                    mapped.insert(old, new);
                }
            } else {
                plain_rows.push(kept.iter().map(|i| row[*i].clone()).collect());
            }
        }
        // Rows without an id of their own (inferences, samples: the many) go a hundred per
        // statement.
        let head = format!("{} ({})", table.name, columns.join(", "));
        dst.insert_rows(&head, columns.len(), plain_rows)?;
        if table.has_id {
            new_ids.insert(table.name, mapped);
        }
    }
    new_ids
        .get("runs")
        .and_then(|m| m.get(&run))
        .copied()
        .ok_or_else(|| anyhow!("run {run} has no row"))
}
