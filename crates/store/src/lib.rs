//! powerhungry-store: the results schema on SQLite (embedded, bundled) or PostgreSQL (a store
//! many machines share: `--store postgres://...`). `Store` implements the bench crate's
//! `ResultSink` (write side, one transaction per repetition) and offers a read API for reports
//! (`list_runs`, `load_run`); `copy` moves runs between stores. The schema is documented in
//! docs/bench.md. It knows nothing of tasks, backends or reports.

mod copy;
mod db;
mod import;
mod postgres;
mod predictions;
mod read;
mod schema;
mod write;

pub use copy::{copied_tables, copy_runs, CopyOutcome};
pub use postgres::{is_postgres_url, redacted};

pub use import::{ImportedRun, ReportedEmissions};
pub use predictions::PredictionSet;
pub use read::{InferenceTotals, RunListing, ShardListing, StoredRun};

use anyhow::{bail, Context, Result};
use db::{params, Conn};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Default store file, relative to the working directory.
pub const DEFAULT_STORE: &str = "powerhungry.sqlite";

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = schema::MIGRATIONS.len() as i64;

/// A results store: one SQLite file, or one PostgreSQL database.
pub struct Store {
    conn: Conn,
    /// The file, or the database URL without its password: what messages name.
    path: PathBuf,
}

/// The PostgreSQL URL a store location holds, if it is one.
fn postgres_url(path: &Path) -> Option<&str> {
    path.to_str().filter(|s| postgres::is_postgres_url(s))
}

impl Store {
    /// Open (creating if needed) the store at `path` (a file, or a `postgres://` URL) and
    /// bring its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if let Some(url) = postgres_url(path) {
            let mut store = Store {
                conn: Conn::postgres(postgres::connect(url)?),
                path: PathBuf::from(postgres::redacted(url)),
            };
            // Migrating needs the right to create tables; a store at the current schema is
            // opened without it (a role that may only insert rows can bench).
            if !store.postgres_schema_exists()? || store.schema_version()? != SCHEMA_VERSION {
                store.migrate()?;
            }
            return Ok(store);
        }
        let path = path.to_path_buf();
        let conn = Connection::open(&path)
            .with_context(|| format!("{}: cannot open the results store", path.display()))?;
        let mut store = Store {
            conn: Conn::sqlite(conn),
            path,
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Open a PostgreSQL store that must hold the schema already (readers).
    fn open_existing_postgres(url: &str) -> Result<Store> {
        let mut store = Store {
            conn: Conn::postgres(postgres::connect(url)?),
            path: PathBuf::from(postgres::redacted(url)),
        };
        if !store.postgres_schema_exists()? {
            bail!(
                "{}: no results store there (run `powerhungry bench SUITE --store URL` first)",
                store.path.display()
            );
        }
        // At the current schema a reader needs no more than read access (and takes no lock);
        // an older schema is brought up to date, which needs write access, as in SQLite.
        if store.schema_version()? != SCHEMA_VERSION {
            store.migrate()?;
        }
        Ok(store)
    }

    /// Whether the PostgreSQL database holds a store's schema (its version table).
    fn postgres_schema_exists(&self) -> Result<bool> {
        self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name = 'schema_version')",
            params![],
            |r| r.get(0),
        )
    }

    /// Open a store that must already exist (for readers: a report of a missing file is an
    /// error, not a new empty store).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if let Some(url) = postgres_url(path) {
            return Store::open_existing_postgres(url);
        }
        if !path.is_file() {
            bail!(
                "{}: no results store there (run `powerhungry bench SUITE --store {}` first)",
                path.display(),
                path.display()
            );
        }
        Store::open(path)
    }

    /// Open an existing store for reading only: nothing is created, migrated or written, so a
    /// store on a read-only filesystem, or a file of mode 0444 in a directory we cannot write,
    /// can be reported. A WAL reader needs the `-shm` file beside the store; where it cannot be
    /// created the file is opened `immutable=1` (SQLite then trusts that no one writes it,
    /// true of a read-only filesystem). A store of an older schema is upgraded only when it is
    /// writable; otherwise the error says how to upgrade it.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store> {
        if let Some(url) = postgres_url(path.as_ref()) {
            return Store::open_existing_postgres(url);
        }
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            bail!(
                "{}: no results store there (run `powerhungry bench SUITE --store {}` first)",
                path.display(),
                path.display()
            );
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let plain = Connection::open_with_flags(&path, flags)
            .and_then(|c| schema_version_of(&c).map(|v| (c, v)));
        let (conn, version) = match plain {
            Ok(cv) => cv,
            Err(first) => {
                let uri = format!("file:{}?immutable=1", uri_path(&path));
                Connection::open_with_flags(&uri, flags)
                    .and_then(|c| schema_version_of(&c).map(|v| (c, v)))
                    .map_err(|_| first)
                    .with_context(|| {
                        format!(
                            "{}: cannot read the results store (not a powerhungry store, or \
                             damaged)",
                            path.display()
                        )
                    })?
            }
        };
        if version > SCHEMA_VERSION {
            bail!(
                "{}: the store has schema version {version}, newer than this powerhungry \
                 understands ({SCHEMA_VERSION}); use a newer powerhungry",
                path.display()
            );
        }
        if version < SCHEMA_VERSION {
            drop(conn);
            // Older schema: upgrade in place when we may write it.
            return Store::open(&path).with_context(|| {
                format!(
                    "{}: the store has schema version {version} and this powerhungry reads \
                     {SCHEMA_VERSION}; it is read-only here, so it cannot be upgraded: copy it \
                     somewhere writable and report the copy",
                    path.display()
                )
            });
        }
        Ok(Store {
            conn: Conn::sqlite(conn),
            path,
        })
    }

    /// Run `f` as one transaction: everything it writes is committed together, or nothing is
    /// (an error, or a kill, leaves the store as it was). The sink's own per-call transactions
    /// nest inside it as savepoints.
    pub fn atomically<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let path = self.path.display().to_string();
        self.conn
            .begin_write()
            .with_context(|| format!("{path}: cannot start a transaction"))?;
        match f(self) {
            Ok(v) => {
                self.conn
                    .commit()
                    .with_context(|| format!("{path}: cannot commit"))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.rollback();
                Err(e)
            }
        }
    }

    /// Run `f` in a write transaction taken at once (`BEGIN IMMEDIATE`), so that another
    /// process writing the same store waits (the busy timeout) instead of both reading "not
    /// there yet" and then colliding, or failing to upgrade a read snapshot. Inside
    /// [`Store::atomically`] it is a savepoint of the transaction already held.
    pub(crate) fn writing<T>(&mut self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let path = self.path.display().to_string();
        let outermost = self.conn.is_autocommit();
        let begun = if outermost {
            self.conn.begin_write()
        } else {
            self.conn.execute_batch("SAVEPOINT writing")
        };
        begun.with_context(|| format!("{path}: cannot start a transaction"))?;
        match f(&self.conn) {
            Ok(v) => {
                let done = if outermost {
                    self.conn.commit()
                } else {
                    self.conn.execute_batch("RELEASE writing")
                };
                done.with_context(|| format!("{path}: cannot commit"))?;
                Ok(v)
            }
            Err(e) => {
                let _ = if outermost {
                    self.conn.rollback()
                } else {
                    self.conn
                        .execute_batch("ROLLBACK TO writing; RELEASE writing")
                };
                Err(e)
            }
        }
    }

    /// Path of the store file; for PostgreSQL, its URL without the password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tables of the store's schema (not its version bookkeeping), sorted.
    pub fn tables(&self) -> Result<Vec<String>> {
        self.conn.tables()
    }

    /// Whether the store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.conn.is_postgres()
    }

    fn configure(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_sqlite() else {
            return Ok(());
        };
        // WAL: readers (a report, a polling test) never block the writer; a killed process
        // leaves committed transactions intact and the one in flight rolled back.
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|_| conn.busy_timeout(std::time::Duration::from_secs(10)))
            .with_context(|| {
                format!(
                    "{}: cannot configure the results store",
                    self.path.display()
                )
            })
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.display().to_string();
        // One transaction; on PostgreSQL it holds the write lock, so two processes opening a
        // new store at once migrate it once.
        self.conn
            .begin_migration()
            .with_context(|| format!("{path}: cannot start a transaction"))?;
        let result = self.migrate_in_transaction(&path);
        match result {
            Ok(()) => self
                .conn
                .commit()
                .with_context(|| format!("{path}: cannot commit the schema")),
            Err(e) => {
                let _ = self.conn.rollback();
                Err(e)
            }
        }
    }

    fn migrate_in_transaction(&self, path: &str) -> Result<()> {
        let tx = &self.conn;
        tx.migrate_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .with_context(|| format!("{path}: not a powerhungry results store (or unreadable)"))?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                params![],
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
            tx.migrate_batch(sql)
                .with_context(|| format!("{path}: migration to schema version {version} failed"))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                params![version],
            )
            .with_context(|| format!("{path}: cannot record schema version {version}"))?;
        }
        if current < 3 && SCHEMA_VERSION >= 3 {
            read::backfill_latency(tx)
                .with_context(|| format!("{path}: cannot fill in per-repetition latencies"))?;
        }
        Ok(())
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            params![],
            |r| r.get(0),
        )
    }
}

fn schema_version_of(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )
}

/// A path as the path part of an SQLite URI: `%`, `?` and `#` percent-encoded.
fn uri_path(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = String::new();
    for ch in abs.to_string_lossy().chars() {
        match ch {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}
