//! Figures other tools reported that the harness's schema has no column for: the emissions
//! CodeCarbon logged per row, kept per imported repetition so a report shows them exactly
//! (energy x one run-wide intensity would differ from them in the 9th digit). The table is
//! created on first write; stores that never imported anything don't have it.

use crate::db::{params, Conn};
use crate::Store;
use anyhow::{anyhow, Context, Result};
use powerhungry_bench::sink::RunId;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS reported_emissions (
    repetition_id INTEGER PRIMARY KEY REFERENCES repetitions (id),
    g_co2e REAL NOT NULL,
    source TEXT NOT NULL
)";

/// A run made by importing a file, found by the file's content hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    pub id: RunId,
    pub suite_name: String,
    /// The path the file was imported from then.
    pub suite_path: String,
}

/// Emissions a source reported for one repetition.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedEmissions {
    pub model: String,
    pub dataset: String,
    pub index: u32,
    pub g_co2e: f64,
    /// Where the figure came from, e.g. "codecarbon emissions column".
    pub source: String,
}

impl Store {
    /// Attach reported emissions to a stored repetition (which must exist).
    pub fn record_reported_emissions(&mut self, run: RunId, e: &ReportedEmissions) -> Result<()> {
        let path = self.path.display().to_string();
        self.conn
            .execute_batch(CREATE)
            .with_context(|| format!("{path}: cannot create reported_emissions"))?;
        let rep: i64 = self
            .conn
            .query_opt(
                "SELECT r.id FROM repetitions r JOIN models m ON m.id = r.model_id
                 JOIN datasets d ON d.id = r.dataset_id
                 WHERE r.run_id = ?1 AND m.name = ?2 AND d.name = ?3 AND r.idx = ?4",
                params![run, e.model, e.dataset, e.index],
                |r| r.get(0),
            )?
            .ok_or_else(|| {
                anyhow!(
                    "{path}: run {run} has no repetition {} of {} on {}",
                    e.index,
                    e.model,
                    e.dataset
                )
            })?;
        self.conn.execute(
            "INSERT INTO reported_emissions (repetition_id, g_co2e, source) VALUES (?1, ?2, ?3)
             ON CONFLICT (repetition_id) DO UPDATE SET g_co2e = excluded.g_co2e,
                source = excluded.source",
            params![rep, e.g_co2e, e.source],
        )?;
        Ok(())
    }

    /// Record the content hash (SHA-256, hex) of the file a run was imported from.
    pub fn set_source_hash(&mut self, run: RunId, sha256: &str) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE runs SET source_sha256 = ?2 WHERE id = ?1",
                params![run, sha256],
            )
            .with_context(|| format!("{}: cannot record the file hash", self.path.display()))?;
        if n != 1 {
            return Err(anyhow!("{}: no run {run}", self.path.display()));
        }
        Ok(())
    }

    /// Runs imported from a file with this content hash (SHA-256, hex), oldest first.
    pub fn runs_from_source(&self, sha256: &str) -> Result<Vec<ImportedRun>> {
        self.conn
            .query_map(
                "SELECT id, suite_name, suite_path FROM runs WHERE source_sha256 = ?1 ORDER BY id",
                params![sha256],
                |r| {
                    Ok(ImportedRun {
                        id: r.get(0)?,
                        suite_name: r.get(1)?,
                        suite_path: r.get(2)?,
                    })
                },
            )
            .with_context(|| format!("{}: cannot read the runs", self.path.display()))
    }

    /// Delete a run and everything stored under it (`import --replace`).
    pub fn delete_run(&mut self, run: RunId) -> Result<()> {
        let path = self.path.display().to_string();
        self.writing(|tx| delete_run_rows(tx, run))
            .with_context(|| format!("{path}: cannot delete run {run}"))
    }

    /// Reported emissions of a run's repetitions (empty when none were imported).
    pub fn reported_emissions(&self, run: RunId) -> Result<Vec<ReportedEmissions>> {
        self.conn.query_map(
            "SELECT m.name, d.name, r.idx, e.g_co2e, e.source FROM reported_emissions e
             JOIN repetitions r ON r.id = e.repetition_id JOIN models m ON m.id = r.model_id
             JOIN datasets d ON d.id = r.dataset_id WHERE r.run_id = ?1",
            params![run],
            |r| {
                Ok(ReportedEmissions {
                    model: r.get(0)?,
                    dataset: r.get(1)?,
                    index: r.get(2)?,
                    g_co2e: r.get(3)?,
                    source: r.get(4)?,
                })
            },
        )
    }
}

/// Delete every row of a run, children first (inside the caller's transaction).
pub(crate) fn delete_run_rows(tx: &Conn, run: RunId) -> Result<()> {
    let reps = "SELECT id FROM repetitions WHERE run_id = ?1";
    let windows = format!("SELECT id FROM windows WHERE repetition_id IN ({reps})");
    let statements = [
        format!("DELETE FROM window_energy WHERE window_id IN ({windows})"),
        format!("DELETE FROM windows WHERE repetition_id IN ({reps})"),
        format!("DELETE FROM inferences WHERE repetition_id IN ({reps})"),
        format!("DELETE FROM metrics WHERE repetition_id IN ({reps})"),
        format!("DELETE FROM reported_emissions WHERE repetition_id IN ({reps})"),
        format!("DELETE FROM request_stats WHERE repetition_id IN ({reps})"),
        "DELETE FROM repetitions WHERE run_id = ?1".to_string(),
        "DELETE FROM model_fits WHERE model_id IN (SELECT id FROM models WHERE run_id = ?1)"
            .to_string(),
        "DELETE FROM samples WHERE dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)"
            .to_string(),
        "DELETE FROM split_samples WHERE dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)"
            .to_string(),
        "DELETE FROM run_shards WHERE run_id = ?1".to_string(),
        "DELETE FROM models WHERE run_id = ?1".to_string(),
        "DELETE FROM datasets WHERE run_id = ?1".to_string(),
        "DELETE FROM idle_power WHERE run_id = ?1".to_string(),
        "DELETE FROM skipped_models WHERE run_id = ?1".to_string(),
        "DELETE FROM runs WHERE id = ?1".to_string(),
    ];
    for sql in &statements {
        tx.execute(sql, params![run])?;
    }
    Ok(())
}
