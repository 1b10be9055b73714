//! The write side: `Store` as the bench crate's `ResultSink`. Each repetition is one
//! transaction, so a killed process loses at most the repetition in flight.

use crate::db::{params, Conn, ToValue};
use crate::Store;
use anyhow::{anyhow, bail, Context, Result};
use powerhungry_bench::shard::Shard;
use powerhungry_bench::sink::{
    DatasetRecord, ModelFit, ModelRecord, RepetitionKey, RepetitionRecord, ResultSink, RunId,
    RunStart, SplitIds,
};
use std::path::Path;

impl ResultSink for Store {
    fn begin_run(&mut self, run: &RunStart) -> Result<RunId> {
        let path = self.path.display().to_string();
        self.writing(|tx| {
            insert_run(tx, run, None).with_context(|| format!("{path}: cannot record the run"))
        })
    }

    fn join_sharded_run(&mut self, run: &RunStart, shard: &Shard) -> Result<(RunId, bool)> {
        let path = self.path.display().to_string();
        self.writing(|tx| {
            let found: Option<RunId> = tx.query_opt(
                "SELECT id FROM runs WHERE suite_hash = ?1 AND run_name = ?2",
                params![run.suite_hash, shard.run_name],
                |r| r.get(0),
            )?;
            let existed = found.is_some();
            let id = match found {
                Some(id) => id,
                None => insert_run(tx, run, Some(&shard.run_name))
                    .with_context(|| format!("{path}: cannot record the run"))?,
            };
            let counts: Option<u32> = tx.query_row(
                "SELECT MAX(shard_count) FROM run_shards WHERE run_id = ?1 AND shard_count <> ?2",
                params![id, shard.count],
                |r| r.get(0),
            )?;
            if let Some(other) = counts {
                bail!(
                    "{path}: run {id} (`{}`) was started with {other} shards, not {}: every \
                     shard of one run gives the same count",
                    shard.run_name,
                    shard.count
                );
            }
            tx.execute(
                "INSERT INTO run_shards (run_id, shard, shard_count, host, pid, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (run_id, shard) DO UPDATE SET host = excluded.host,
                    pid = excluded.pid, ended_at = NULL",
                params![
                    id,
                    shard.index,
                    shard.count,
                    powerhungry_bench::hardware::hostname(Path::new("/proc")).unwrap_or_default(),
                    std::process::id(),
                    run.started_at
                ],
            )?;
            // A shard rerun reopens a run that had ended.
            tx.execute("UPDATE runs SET ended_at = NULL WHERE id = ?1", params![id])?;
            Ok((id, existed))
        })
    }

    fn end_shard(&mut self, run: RunId, shard: &Shard, ended_at: f64) -> Result<bool> {
        let path = self.path.display().to_string();
        self.writing(|tx| {
            let n = tx.execute(
                "UPDATE run_shards SET ended_at = ?3 WHERE run_id = ?1 AND shard = ?2",
                params![run, shard.index, ended_at],
            )?;
            if n != 1 {
                bail!("{path}: run {run} has no {shard} to end");
            }
            let ended: u32 = tx.query_row(
                "SELECT COUNT(*) FROM run_shards WHERE run_id = ?1 AND ended_at IS NOT NULL",
                params![run],
                |r| r.get(0),
            )?;
            let all = ended >= shard.count;
            if all {
                tx.execute(
                    "UPDATE runs SET ended_at = ?2 WHERE id = ?1",
                    params![run, ended_at],
                )?;
            }
            Ok(all)
        })
    }

    fn find_unfinished_run(&mut self, suite_hash: &str) -> Result<Option<RunId>> {
        self.conn.query_opt(
            "SELECT id FROM runs WHERE suite_hash = ?1 AND run_name IS NULL AND (ended_at IS NULL
                    OR EXISTS (SELECT 1 FROM skipped_models s WHERE s.run_id = runs.id))
                 ORDER BY id DESC LIMIT 1",
            params![suite_hash],
            |r| r.get(0),
        )
    }

    fn committed_repetitions(&mut self, run: RunId) -> Result<Vec<RepetitionKey>> {
        self.conn.query_map(
            "SELECT m.name, d.name, r.idx FROM repetitions r
             JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id
             WHERE r.run_id = ?1 ORDER BY m.name, d.name, r.idx",
            params![run],
            |r| {
                Ok(RepetitionKey {
                    model: r.get(0)?,
                    dataset: r.get(1)?,
                    index: r.get(2)?,
                })
            },
        )
    }

    fn record_model(&mut self, run: RunId, model: &ModelRecord) -> Result<()> {
        // Checked and written in one write transaction: shards of one run record the same
        // model at the same moment, and the second must find the first's row.
        self.writing(|conn| {
            if let Some(stored) = crate::read::model(conn, run, &model.name)? {
                if stored.same_model(model) {
                    return Ok(());
                }
                bail!(
                    "model `{}` differs from the one stored for run {run} \
                 (stored: {stored:?}; now: {model:?})",
                    model.name
                );
            }
            conn.execute(
                "INSERT INTO models (run_id, name, backend, kind, model, options_json, parameters,
                description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    run,
                    model.name,
                    model.backend,
                    model.kind,
                    model.model,
                    model.options_json,
                    model.parameters.map(|p| p as i64),
                    model.description,
                ],
            )?;
            Ok(())
        })
    }

    fn record_dataset(&mut self, run: RunId, dataset: &DatasetRecord) -> Result<()> {
        self.writing(|tx| {
            if let Some(stored) = crate::read::dataset(tx, run, &dataset.name)? {
                if &stored == dataset {
                    return Ok(());
                }
                bail!(
                "dataset `{}` of run {run} was stored with another sample or spec; the data or \
                 the suite changed since the run started, so it cannot be resumed",
                dataset.name
            );
            }
            let id = tx.insert_id(
                "INSERT INTO datasets (run_id, name, task, spec_json, examples, undecodable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 RETURNING id",
                params![
                    run,
                    dataset.name,
                    dataset.task,
                    dataset.spec_json,
                    dataset.examples as i64,
                    dataset.undecodable as i64,
                ],
            )?;
            let rows = [
                ("train", &dataset.train_ids),
                ("inference", &dataset.sample_ids),
            ]
            .into_iter()
            .flat_map(|(role, ids)| {
                ids.iter().enumerate().map(move |(pos, ex)| {
                    vec![
                        id.to_value(),
                        role.to_value(),
                        pos.to_value(),
                        ex.to_value(),
                    ]
                })
            });
            tx.insert_rows("samples (dataset_id, role, position, example_id)", 4, rows)?;
            Ok(())
        })
    }

    fn record_splits(&mut self, run: RunId, dataset: &str, splits: &[SplitIds]) -> Result<()> {
        let path = self.path.display().to_string();
        self.writing(|tx| {
            let id: i64 = tx
                .query_opt(
                    "SELECT id FROM datasets WHERE run_id = ?1 AND name = ?2",
                    params![run, dataset],
                    |r| r.get(0),
                )?
                .ok_or_else(|| {
                    anyhow!(
                    "{path}: dataset `{dataset}` of run {run} must be recorded before its splits"
                )
                })?;
            let stored = crate::read::splits_of(tx, id)?;
            if !stored.is_empty() {
                if stored == splits {
                    return Ok(());
                }
                bail!(
                "{path}: the splits of dataset `{dataset}` of run {run} were stored otherwise; \
                 the data or the suite changed since the run started, so it cannot be resumed"
            );
            }
            for s in splits {
                let rows = [("train", &s.train_ids), ("inference", &s.sample_ids)]
                    .into_iter()
                    .flat_map(|(role, ids)| {
                        ids.iter().enumerate().map(move |(pos, ex)| {
                            vec![
                                id.to_value(),
                                s.split.to_value(),
                                role.to_value(),
                                pos.to_value(),
                                ex.to_value(),
                            ]
                        })
                    });
                tx.insert_rows(
                    "split_samples (dataset_id, split, role, position, example_id)",
                    5,
                    rows,
                )
                .with_context(|| {
                    format!("{path}: cannot store split {} of `{dataset}`", s.split)
                })?;
            }
            Ok(())
        })
    }

    fn record_repetition(&mut self, run: RunId, rep: &RepetitionRecord) -> Result<()> {
        let path = self.path.display().to_string();
        self.writing(|tx| {
            insert_repetition(tx, run, rep).with_context(|| {
                format!(
                    "{path}: cannot store repetition {} of model `{}` on dataset `{}`",
                    rep.index + 1,
                    rep.model,
                    rep.dataset
                )
            })
        })
    }

    fn record_fit(&mut self, run: RunId, fit: &ModelFit) -> Result<()> {
        let path = self.path.display().to_string();
        self.writing(|sp| {
            let ids: Option<(i64, i64)> = sp.query_opt(
                "SELECT m.id, d.id FROM models m, datasets d
                 WHERE m.run_id = ?1 AND d.run_id = ?1 AND m.name = ?2 AND d.name = ?3",
                params![run, fit.model, fit.dataset],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((model_id, dataset_id)) = ids else {
                bail!(
                    "{path}: run {run} has no model `{}` or no dataset `{}` to record a fit for",
                    fit.model,
                    fit.dataset
                );
            };
            sp.execute(
                "INSERT INTO model_fits (model_id, dataset_id, parameters, description)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (model_id, dataset_id) DO NOTHING",
                params![
                    model_id,
                    dataset_id,
                    fit.parameters.map(|p| p as i64),
                    fit.description
                ],
            )?;
            // The model ran: it is no longer skipped in this run.
            sp.execute(
                "DELETE FROM skipped_models WHERE run_id = ?1 AND name = ?2",
                params![run, fit.model],
            )?;
            Ok(())
        })
        .with_context(|| format!("{path}: cannot record the fit of `{}`", fit.model))
    }

    fn record_skipped(&mut self, run: RunId, model: &str, reason: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO skipped_models (run_id, name, reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (run_id, name) DO UPDATE SET reason = excluded.reason",
                params![run, model, reason],
            )
            .with_context(|| {
                format!(
                    "{}: cannot record skipped model `{model}`",
                    self.path.display()
                )
            })?;
        Ok(())
    }

    fn end_run(&mut self, run: RunId, ended_at: f64) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE runs SET ended_at = ?2 WHERE id = ?1",
            params![run, ended_at],
        )?;
        if n != 1 {
            bail!("{}: no run {run} to end", self.path.display());
        }
        Ok(())
    }
}

fn insert_repetition(tx: &Conn, run: RunId, rep: &RepetitionRecord) -> Result<()> {
    let model_id: i64 = tx
        .query_opt(
            "SELECT id FROM models WHERE run_id = ?1 AND name = ?2",
            params![run, rep.model],
            |r| r.get(0),
        )?
        .ok_or_else(|| anyhow!("model `{}` was not recorded for run {run}", rep.model))?;
    let dataset_id: i64 = tx
        .query_opt(
            "SELECT id FROM datasets WHERE run_id = ?1 AND name = ?2",
            params![run, rep.dataset],
            |r| r.get(0),
        )?
        .ok_or_else(|| anyhow!("dataset `{}` was not recorded for run {run}", rep.dataset))?;
    let rep_id = tx.insert_id(
        "INSERT INTO repetitions (run_id, model_id, dataset_id, idx, started_at, ended_at,
            latency_p50_s, latency_p95_s)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         RETURNING id",
        params![
            run,
            model_id,
            dataset_id,
            rep.index,
            rep.started_at,
            rep.ended_at,
            rep.latency_p50_s,
            rep.latency_p95_s,
        ],
    )?;
    for w in &rep.windows {
        let window_id = tx.insert_id(
            "INSERT INTO windows (repetition_id, phase, duration_s, items, uncounted,
                nothing_measured) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             RETURNING id",
            params![
                rep_id,
                w.phase.as_str(),
                w.duration_s,
                w.items as i64,
                (!w.uncounted.is_empty())
                    .then(|| serde_json::to_string(&w.uncounted))
                    .transpose()?,
                w.nothing_measured as i64,
            ],
        )?;
        let stmt_sql =
            "INSERT INTO window_energy (window_id, component, method, joules, above_idle_joules)
             VALUES (?1, ?2, ?3, ?4, ?5)";
        for c in &w.components {
            if !c.joules.is_finite() {
                bail!(
                    "window {} component {}: energy {} J is not a number",
                    w.phase.as_str(),
                    c.component,
                    c.joules
                );
            }
            tx.execute(
                stmt_sql,
                params![
                    window_id,
                    c.component,
                    c.method,
                    c.joules,
                    c.above_idle_joules
                ],
            )?;
        }
    }
    let rows = rep.inferences.iter().map(|i| {
        vec![
            rep_id.to_value(),
            i.position.to_value(),
            i.example_id.to_value(),
            i.latency_s.to_value(),
            i.input_tokens.to_value(),
            i.output_tokens.to_value(),
            i.prediction.to_value(),
            i.gold.to_value(),
        ]
    });
    tx.insert_rows(
        "inferences (repetition_id, position, example_id, latency_s, input_tokens, output_tokens,
            prediction, gold)",
        8,
        rows,
    )?;
    let stmt_sql =
        "INSERT INTO request_stats (repetition_id, position, e2e_s, ttft_s, inter_token_json,
            tokens_from, retries, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    for i in &rep.inferences {
        let Some(r) = &i.request else { continue };
        tx.execute(
            stmt_sql,
            params![
                rep_id,
                i.position,
                r.e2e_s,
                r.ttft_s,
                serde_json::to_string(&r.inter_token_s)?,
                r.tokens_from,
                r.retries,
                r.error,
            ],
        )?;
    }
    let stmt_sql = "INSERT INTO metrics (repetition_id, name, value) VALUES (?1, ?2, ?3)";
    for m in &rep.metrics {
        tx.execute(stmt_sql, params![rep_id, m.name, m.value])?;
    }
    Ok(())
}

/// The `runs` row and its idle baseline; `name` for a sharded run.
fn insert_run(tx: &Conn, run: &RunStart, name: Option<&str>) -> Result<RunId> {
    let h = &run.hardware;
    let l = &run.location;
    let id = tx.insert_id(
            "INSERT INTO runs (suite_name, suite_path, suite_text, suite_hash, started_at,
                git_revision, tool_version, cpu_model, cpu_cores, ram_bytes, gpus_json, os, kernel,
                location, intensity_g_per_kwh, intensity_source, intensity_year, pue, run_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                ?19)
             RETURNING id",
            params![
                run.suite_name,
                run.suite_path,
                run.suite_text,
                run.suite_hash,
                run.started_at,
                run.git_revision,
                run.tool_version,
                h.cpu_model,
                h.cpu_cores,
                h.ram_bytes as i64,
                serde_json::to_string(&h.gpus)?,
                h.os,
                h.kernel,
                l.location,
                l.intensity_g_per_kwh,
                l.source,
                l.year,
                l.pue,
                name,
            ],
        )?;
    for idle in &run.idle {
        tx.execute(
            "INSERT INTO idle_power (run_id, component, method, watts) VALUES (?1, ?2, ?3, ?4)",
            params![id, idle.component, idle.method, idle.watts],
        )?;
    }
    Ok(id)
}
