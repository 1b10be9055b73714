//! The read side, for reports: list the runs of a store and load one run whole, as the same
//! records the harness wrote (`powerhungry_bench::sink`).

use crate::db::{params, Conn, Row};
use crate::Store;
use anyhow::{anyhow, Context, Result};
use powerhungry_bench::sink::{
    latency_percentiles, ComponentEnergy, DatasetRecord, HardwareInfo, IdlePower, InferenceRecord,
    LocationRecord, MetricValue, ModelFit, ModelRecord, Phase, RepetitionRecord, RequestStats,
    RunId, RunStart, SplitIds, WindowRecord,
};

/// One line per run, for listings.
#[derive(Debug, Clone, PartialEq)]
pub struct RunListing {
    pub id: RunId,
    pub suite_name: String,
    pub suite_hash: String,
    pub started_at: f64,
    /// None while running, or when the run was killed and not resumed to its end.
    pub ended_at: Option<f64>,
    pub repetitions: u64,
    /// The name the shards of a sharded run share (`--run-name`, a Slurm array); None for a
    /// run of one process.
    pub run_name: Option<String>,
}

/// One shard of a sharded run: where it ran and whether it has ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardListing {
    /// From 0 (`--shard 1/n` is 0).
    pub index: u32,
    pub count: u32,
    pub host: String,
    pub pid: u32,
    pub started_at: f64,
    pub ended_at: Option<f64>,
}

/// A run as stored: what it started with, its models, datasets (with samples) and every
/// committed repetition (windows, per-inference records, metrics), ordered by model, dataset
/// and repetition index.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub id: RunId,
    pub start: RunStart,
    pub ended_at: Option<f64>,
    pub models: Vec<ModelRecord>,
    pub datasets: Vec<DatasetRecord>,
    pub repetitions: Vec<RepetitionRecord>,
    /// Fitted sizes per model x dataset (models that learn; one per pair).
    pub fits: Vec<ModelFit>,
    /// Models the run skipped (files missing), with why: the run is finished for the others.
    pub skipped: Vec<(String, String)>,
}

/// Aggregates of a repetition's per-inference records, computed in SQL (see
/// [`Store::load_run_summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct InferenceTotals {
    pub inferences: u64,
    pub output_tokens: u64,
}

/// How much of a run to read.
#[derive(Clone, Copy, PartialEq)]
enum Depth {
    /// Everything, every inference record and sample id.
    Whole,
    /// No per-inference records and no sample ids: memory flat in the run's length.
    Summary,
}

impl StoredRun {
    /// The repetitions of one model on one dataset, in index order.
    pub fn repetitions_of<'a>(
        &'a self,
        model: &'a str,
        dataset: &'a str,
    ) -> impl Iterator<Item = &'a RepetitionRecord> + 'a {
        self.repetitions
            .iter()
            .filter(move |r| r.model == model && r.dataset == dataset)
    }
}

impl Store {
    /// Splits 1.. of dataset `name` of `run` (protocol `splits` > 1; empty for one split).
    pub fn splits(&self, run: RunId, name: &str) -> Result<Vec<SplitIds>> {
        dataset_splits(&self.conn, run, name)
    }

    /// Every run in the store, oldest first.
    pub fn list_runs(&self) -> Result<Vec<RunListing>> {
        self.list_runs_inner()
            .with_context(|| format!("{}: cannot list the runs", self.path.display()))
    }

    fn list_runs_inner(&self) -> Result<Vec<RunListing>> {
        self.conn.query_map(
            "SELECT r.id, r.suite_name, r.suite_hash, r.started_at, r.ended_at,
                (SELECT COUNT(*) FROM repetitions p WHERE p.run_id = r.id), r.run_name
             FROM runs r ORDER BY r.id",
            params![],
            |r| {
                Ok(RunListing {
                    id: r.get(0)?,
                    suite_name: r.get(1)?,
                    suite_hash: r.get(2)?,
                    started_at: r.get(3)?,
                    ended_at: r.get(4)?,
                    repetitions: r.get::<i64>(5)? as u64,
                    run_name: r.get(6)?,
                })
            },
        )
    }

    /// The shards that have joined a run, by index (empty for a run of one process).
    pub fn shards(&self, run: RunId) -> Result<Vec<ShardListing>> {
        let read = || -> Result<Vec<ShardListing>> {
            self.conn.query_map(
                "SELECT shard, shard_count, host, pid, started_at, ended_at FROM run_shards
                 WHERE run_id = ?1 ORDER BY shard",
                params![run],
                |r| {
                    Ok(ShardListing {
                        index: r.get(0)?,
                        count: r.get(1)?,
                        host: r.get(2)?,
                        pid: r.get(3)?,
                        started_at: r.get(4)?,
                        ended_at: r.get(5)?,
                    })
                },
            )
        };
        read().with_context(|| {
            format!(
                "{}: cannot read the shards of run {run}",
                self.path.display()
            )
        })
    }

    /// The id of the most recent run, if any.
    pub fn latest_run(&self) -> Result<Option<RunId>> {
        self.conn
            .query_row("SELECT MAX(id) FROM runs", params![], |r| r.get(0))
    }

    /// Load one run whole.
    pub fn load_run(&self, id: RunId) -> Result<StoredRun> {
        self.load(id, Depth::Whole)
            .with_context(|| format!("{}: cannot read run {id}", self.path.display()))
    }

    /// Load a run without its per-inference records and sample ids (each repetition keeps
    /// its windows, metrics and latency percentiles): what summaries and reports need, in
    /// memory that does not grow with the number of inferences. Datasets come with empty id
    /// lists; [`Store::inference_totals`] has the per-repetition counts.
    pub fn load_run_summary(&self, id: RunId) -> Result<StoredRun> {
        self.load(id, Depth::Summary)
            .with_context(|| format!("{}: cannot read run {id}", self.path.display()))
    }

    /// Inferences and output tokens per repetition of a run, summed in SQL:
    /// (model, dataset, repetition index) -> totals.
    pub fn inference_totals(
        &self,
        run: RunId,
    ) -> Result<std::collections::HashMap<(String, String, u32), InferenceTotals>> {
        let rows = self
            .conn
            .query_map(
                "SELECT m.name, d.name, r.idx, COUNT(i.position), COALESCE(SUM(i.output_tokens), 0)
                 FROM repetitions r JOIN models m ON m.id = r.model_id
                 JOIN datasets d ON d.id = r.dataset_id
                 LEFT JOIN inferences i ON i.repetition_id = r.id
                 WHERE r.run_id = ?1 GROUP BY r.id, m.name, d.name, r.idx",
                params![run],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?),
                        InferenceTotals {
                            inferences: r.get::<i64>(3)? as u64,
                            output_tokens: r.get::<i64>(4)? as u64,
                        },
                    ))
                },
            )
            .with_context(|| format!("{}: cannot read run {run}", self.path.display()))?;
        Ok(rows.into_iter().collect())
    }

    /// Whether a dataset of a run has a recorded sample (bench runs: every repetition infers
    /// on the same sample).
    pub fn has_sample(&self, run: RunId, dataset: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM samples s JOIN datasets d ON d.id = s.dataset_id
                 WHERE d.run_id = ?1 AND d.name = ?2 AND s.role = 'inference')",
                params![run, dataset],
                |r| r.get(0),
            )
            .with_context(|| format!("{}: cannot read run {run}", self.path.display()))
    }

    fn load(&self, id: RunId, depth: Depth) -> Result<StoredRun> {
        let c = &self.conn;
        let (start, ended_at) = c
            .query_opt("SELECT * FROM runs WHERE id = ?1", params![id], run_start)?
            .ok_or_else(|| anyhow!("{}: no run {id}", self.path.display()))?;
        let mut start = start;
        start.idle = query(
            c,
            "SELECT component, method, watts FROM idle_power WHERE run_id = ?1 ORDER BY component",
            id,
            |r| {
                Ok(IdlePower {
                    component: r.get(0)?,
                    method: r.get(1)?,
                    watts: r.get(2)?,
                })
            },
        )?;
        let model_names: Vec<String> = query(
            c,
            "SELECT name FROM models WHERE run_id = ?1 ORDER BY id",
            id,
            |r| r.get(0),
        )?;
        let mut models = Vec::new();
        for name in &model_names {
            models.extend(model(c, id, name)?);
        }
        let dataset_names: Vec<String> = query(
            c,
            "SELECT name FROM datasets WHERE run_id = ?1 ORDER BY id",
            id,
            |r| r.get(0),
        )?;
        let mut datasets = Vec::new();
        for name in &dataset_names {
            datasets.extend(dataset_at(c, id, name, depth)?);
        }
        let repetitions = repetitions(c, id, depth)?;
        let fits = query(
            c,
            "SELECT m.name, d.name, f.parameters, f.description FROM model_fits f
             JOIN models m ON m.id = f.model_id JOIN datasets d ON d.id = f.dataset_id
             WHERE m.run_id = ?1 ORDER BY m.id, d.id",
            id,
            |r| {
                Ok(ModelFit {
                    model: r.get(0)?,
                    dataset: r.get(1)?,
                    parameters: r.get::<Option<i64>>(2)?.map(|p| p as u64),
                    description: r.get(3)?,
                })
            },
        )?;
        let skipped = query(
            c,
            "SELECT name, reason FROM skipped_models WHERE run_id = ?1 ORDER BY name",
            id,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(StoredRun {
            id,
            start,
            ended_at,
            models,
            datasets,
            repetitions,
            fits,
            skipped,
        })
    }
}

fn query<T>(c: &Conn, sql: &str, id: i64, f: impl FnMut(&Row) -> Result<T>) -> Result<Vec<T>> {
    c.query_map(sql, params![id], f)
}

fn run_start(r: &Row) -> Result<(RunStart, Option<f64>)> {
    let gpus: String = r.get("gpus_json")?;
    let gpus = serde_json::from_str(&gpus).context("column `gpus_json` is not valid JSON")?;
    let start = RunStart {
        suite_name: r.get("suite_name")?,
        suite_path: r.get("suite_path")?,
        suite_text: r.get("suite_text")?,
        suite_hash: r.get("suite_hash")?,
        started_at: r.get("started_at")?,
        git_revision: r.get("git_revision")?,
        tool_version: r.get("tool_version")?,
        hardware: HardwareInfo {
            cpu_model: r.get("cpu_model")?,
            cpu_cores: r.get("cpu_cores")?,
            ram_bytes: r.get::<i64>("ram_bytes")? as u64,
            gpus,
            os: r.get("os")?,
            kernel: r.get("kernel")?,
        },
        location: LocationRecord {
            location: r.get("location")?,
            intensity_g_per_kwh: r.get("intensity_g_per_kwh")?,
            source: r.get("intensity_source")?,
            year: r.get("intensity_year")?,
            pue: r.get("pue")?,
        },
        idle: Vec::new(),
    };
    Ok((start, r.get("ended_at")?))
}

pub(crate) fn model(c: &Conn, run: RunId, name: &str) -> Result<Option<ModelRecord>> {
    c.query_opt(
        "SELECT name, backend, kind, model, options_json, parameters, description
         FROM models WHERE run_id = ?1 AND name = ?2",
        params![run, name],
        |r| {
            Ok(ModelRecord {
                name: r.get(0)?,
                backend: r.get(1)?,
                kind: r.get(2)?,
                model: r.get(3)?,
                options_json: r.get(4)?,
                parameters: r.get::<Option<i64>>(5)?.map(|p| p as u64),
                description: r.get(6)?,
            })
        },
    )
}

pub(crate) fn dataset(c: &Conn, run: RunId, name: &str) -> Result<Option<DatasetRecord>> {
    dataset_at(c, run, name, Depth::Whole)
}

fn dataset_at(c: &Conn, run: RunId, name: &str, depth: Depth) -> Result<Option<DatasetRecord>> {
    let Some((id, mut rec)) = c.query_opt(
        "SELECT id, name, task, spec_json, examples, undecodable
             FROM datasets WHERE run_id = ?1 AND name = ?2",
        params![run, name],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                DatasetRecord {
                    name: r.get(1)?,
                    task: r.get(2)?,
                    spec_json: r.get(3)?,
                    examples: r.get::<i64>(4)? as u64,
                    undecodable: r.get::<i64>(5)? as u64,
                    train_ids: Vec::new(),
                    sample_ids: Vec::new(),
                },
            ))
        },
    )?
    else {
        return Ok(None);
    };
    if depth == Depth::Summary {
        return Ok(Some(rec));
    }
    let sql =
        "SELECT example_id FROM samples WHERE dataset_id = ?1 AND role = ?2 ORDER BY position";
    rec.train_ids = c.query_map(sql, params![id, "train"], |r| r.get(0))?;
    rec.sample_ids = c.query_map(sql, params![id, "inference"], |r| r.get(0))?;
    Ok(Some(rec))
}

/// Splits 1.. of a stored dataset (protocol `splits` > 1), in split order; empty for a run of
/// one split.
pub fn splits_of(c: &Conn, dataset_id: i64) -> Result<Vec<SplitIds>> {
    let rows = c.query_map(
        "SELECT split, role, example_id FROM split_samples WHERE dataset_id = ?1
         ORDER BY split, role, position",
        params![dataset_id],
        |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
    )?;
    let mut out: Vec<SplitIds> = Vec::new();
    for (split, role, id) in rows {
        if out.last().is_none_or(|s| s.split != split) {
            out.push(SplitIds {
                split,
                train_ids: Vec::new(),
                sample_ids: Vec::new(),
            });
        }
        if let Some(s) = out.last_mut() {
            if role == "train" {
                s.train_ids.push(id);
            } else {
                s.sample_ids.push(id);
            }
        }
    }
    Ok(out)
}

/// Splits 1.. of dataset `name` of `run` (empty when the run had one split).
pub fn dataset_splits(c: &Conn, run: RunId, name: &str) -> Result<Vec<SplitIds>> {
    let id: Option<i64> = c.query_opt(
        "SELECT id FROM datasets WHERE run_id = ?1 AND name = ?2",
        params![run, name],
        |r| r.get(0),
    )?;
    match id {
        Some(id) => splits_of(c, id),
        None => Ok(Vec::new()),
    }
}

fn repetitions(c: &Conn, run: RunId, depth: Depth) -> Result<Vec<RepetitionRecord>> {
    let heads = query(
        c,
        "SELECT r.id, m.name, d.name, r.idx, r.started_at, r.ended_at, r.latency_p50_s,
            r.latency_p95_s FROM repetitions r
         JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id
         WHERE r.run_id = ?1 ORDER BY m.id, d.id, r.idx",
        run,
        |r| {
            Ok((
                r.get::<i64>(0)?,
                RepetitionRecord {
                    model: r.get(1)?,
                    dataset: r.get(2)?,
                    index: r.get(3)?,
                    started_at: r.get(4)?,
                    ended_at: r.get(5)?,
                    windows: Vec::new(),
                    inferences: Vec::new(),
                    metrics: Vec::new(),
                    latency_p50_s: r.get(6)?,
                    latency_p95_s: r.get(7)?,
                },
            ))
        },
    )?;
    let mut out = Vec::with_capacity(heads.len());
    for (rep_id, mut rep) in heads {
        rep.windows = windows(c, rep_id)?;
        rep.metrics = metrics(c, rep_id)?;
        if depth == Depth::Summary {
            out.push(rep);
            continue;
        }
        rep.inferences = query(
            c,
            "SELECT position, example_id, latency_s, input_tokens, output_tokens, prediction, gold
             FROM inferences WHERE repetition_id = ?1 ORDER BY position",
            rep_id,
            |r| {
                Ok(InferenceRecord {
                    position: r.get(0)?,
                    example_id: r.get(1)?,
                    latency_s: r.get(2)?,
                    input_tokens: r.get(3)?,
                    output_tokens: r.get(4)?,
                    prediction: r.get(5)?,
                    gold: r.get(6)?,
                    request: None,
                })
            },
        )?;
        for (position, stats) in request_stats(c, rep_id)? {
            if let Some(i) = rep.inferences.iter_mut().find(|i| i.position == position) {
                i.request = Some(stats);
            }
        }
        out.push(rep);
    }
    Ok(out)
}

/// The per-request stats of a served model's inferences, by position.
fn request_stats(c: &Conn, rep_id: i64) -> Result<Vec<(u32, RequestStats)>> {
    query(
        c,
        "SELECT position, e2e_s, ttft_s, inter_token_json, tokens_from, retries, error
         FROM request_stats WHERE repetition_id = ?1 ORDER BY position",
        rep_id,
        |r| {
            let gaps: String = r.get(3)?;
            Ok((
                r.get(0)?,
                RequestStats {
                    e2e_s: r.get(1)?,
                    ttft_s: r.get(2)?,
                    inter_token_s: serde_json::from_str(&gaps)
                        .context("column `inter_token_json` is not valid JSON")?,
                    tokens_from: r.get(4)?,
                    retries: r.get(5)?,
                    error: r.get(6)?,
                },
            ))
        },
    )
}

fn metrics(c: &Conn, rep_id: i64) -> Result<Vec<MetricValue>> {
    query(
        c,
        "SELECT name, value FROM metrics WHERE repetition_id = ?1 ORDER BY name",
        rep_id,
        |r| {
            Ok(MetricValue {
                name: r.get(0)?,
                value: r.get(1)?,
            })
        },
    )
}

/// Schema 3 keeps each repetition's latency percentiles; fill them in for repetitions stored
/// before, one repetition's latencies at a time.
pub(crate) fn backfill_latency(c: &Conn) -> Result<()> {
    let ids: Vec<i64> = c.query_map(
        "SELECT id FROM repetitions WHERE latency_p50_s IS NULL",
        params![],
        |r| r.get(0),
    )?;
    for id in ids {
        let lat: Vec<f64> = query(
            c,
            "SELECT latency_s FROM inferences WHERE repetition_id = ?1",
            id,
            |r| r.get(0),
        )?;
        let (p50, p95) = latency_percentiles(lat.into_iter());
        c.execute(
            "UPDATE repetitions SET latency_p50_s = ?2, latency_p95_s = ?3 WHERE id = ?1",
            params![id, p50, p95],
        )?;
    }
    Ok(())
}

fn windows(c: &Conn, rep_id: i64) -> Result<Vec<WindowRecord>> {
    type Head = (i64, String, f64, i64, Option<String>, i64);
    let heads: Vec<Head> = query(
        c,
        "SELECT id, phase, duration_s, items, uncounted, nothing_measured FROM windows
         WHERE repetition_id = ?1 ORDER BY id",
        rep_id,
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let mut out = Vec::with_capacity(heads.len());
    for (id, phase, duration_s, items, uncounted, nothing) in heads {
        let uncounted: Vec<String> = match uncounted {
            Some(j) => serde_json::from_str(&j)
                .with_context(|| format!("window {id}: uncounted devices {j:?} unreadable"))?,
            None => Vec::new(),
        };
        let phase = Phase::parse(&phase)
            .ok_or_else(|| anyhow!("window {id} has an unknown phase `{phase}`"))?;
        let components = query(
            c,
            "SELECT component, method, joules, above_idle_joules FROM window_energy
             WHERE window_id = ?1 ORDER BY rowid",
            id,
            |r| {
                Ok(ComponentEnergy {
                    component: r.get(0)?,
                    method: r.get(1)?,
                    joules: r.get(2)?,
                    above_idle_joules: r.get(3)?,
                })
            },
        )?;
        out.push(WindowRecord {
            phase,
            duration_s,
            items: items as u64,
            components,
            uncounted,
            nothing_measured: nothing != 0,
        });
    }
    Ok(out)
}
