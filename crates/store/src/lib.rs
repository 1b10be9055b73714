//! powerhungry-store: the results schema on SQLite (embedded, bundled). `Store` implements the
//! bench crate's `ResultSink` (write side, one transaction per repetition) and offers a read
//! API for reports (`list_runs`, `load_run`). The schema is documented in docs/bench.md.

mod import;
mod read;
mod schema;
mod write;

pub use import::ReportedEmissions;
pub use read::{RunListing, StoredRun};

use anyhow::{bail, Context, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Default store file, relative to the working directory.
pub const DEFAULT_STORE: &str = "powerhungry.sqlite";

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = schema::MIGRATIONS.len() as i64;

/// A results store backed by one SQLite file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating if needed) the store at `path` and bring its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path)
            .with_context(|| format!("{}: cannot open the results store", path.display()))?;
        let mut store = Store { conn, path };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Open a store that must already exist (for readers: a report of a missing file is an
    /// error, not a new empty store).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if !path.is_file() {
            bail!(
                "{}: no results store there (run `powerhungry bench SUITE --store {}` first)",
                path.display(),
                path.display()
            );
        }
        Store::open(path)
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> Result<()> {
        // WAL: readers (a report, a polling test) never block the writer; a killed process
        // leaves committed transactions intact and the one in flight rolled back.
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| self.conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|_| self.conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| self.conn.busy_timeout(std::time::Duration::from_secs(10)))
            .with_context(|| {
                format!(
                    "{}: cannot configure the results store",
                    self.path.display()
                )
            })
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.display().to_string();
        let tx = self
            .conn
            .transaction()
            .with_context(|| format!("{path}: cannot start a transaction"))?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .with_context(|| format!("{path}: not a powerhungry results store (or unreadable)"))?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .with_context(|| format!("{path}: cannot read the schema version"))?;
        if current > SCHEMA_VERSION {
            bail!(
                "{path}: the store has schema version {current}, newer than this powerhungry \
                 understands ({SCHEMA_VERSION}); use a newer powerhungry"
            );
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            tx.execute_batch(sql)
                .with_context(|| format!("{path}: migration to schema version {version} failed"))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )
            .with_context(|| format!("{path}: cannot record schema version {version}"))?;
        }
        tx.commit()
            .with_context(|| format!("{path}: cannot commit the schema"))
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?)
    }
}
