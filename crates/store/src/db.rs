//! One connection, two databases: the store's SQL runs on SQLite (the embedded default) or
//! PostgreSQL (a shared store for many machines) through this facade. Statements are written
//! once, in the dialect both accept (`?N` placeholders, `ON CONFLICT`, `RETURNING id`); the
//! PostgreSQL side rewrites placeholders and the schema's types (`postgres.rs`). Values cross
//! as [`Value`], so the rest of the crate never sees either driver.

use crate::postgres::PgConn;
use anyhow::{anyhow, bail, Context, Result};
use std::cell::RefCell;

/// A value as the store keeps it: the four types its schema uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A Rust value that can be bound to a statement parameter.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// A Rust value that can be read from a column.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self>;
}

/// Bind parameters: `params![a, b]` is a slice of `&dyn ToValue`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::ToValue),+] as &[&dyn $crate::db::ToValue] };
}
pub(crate) use params;

/// One result row: its values and the statement's column names.
pub struct Row<'a> {
    names: &'a [String],
    values: Vec<Value>,
}

/// A column by position or by name.
pub trait ColumnIndex {
    fn position(&self, names: &[String]) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, names: &[String]) -> Result<usize> {
        if *self < names.len() {
            Ok(*self)
        } else {
            bail!("column {self} out of range ({} columns)", names.len())
        }
    }
}

impl ColumnIndex for &str {
    fn position(&self, names: &[String]) -> Result<usize> {
        names
            .iter()
            .position(|n| n == self)
            .ok_or_else(|| anyhow!("no column `{self}`"))
    }
}

impl<'a> Row<'a> {
    pub fn new(names: &'a [String], values: Vec<Value>) -> Row<'a> {
        Row { names, values }
    }

    /// The value of a column, converted.
    pub fn get<T: FromValue>(&self, col: impl ColumnIndex) -> Result<T> {
        let i = col.position(self.names)?;
        T::from_value(&self.values[i]).with_context(|| format!("column `{}`", self.names[i]))
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        self.names
    }

    /// Every value of the row, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

enum Engine {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<PgConn>>),
}

/// A connection to the store's database.
pub struct Conn {
    engine: Engine,
}

impl Conn {
    pub fn sqlite(c: rusqlite::Connection) -> Conn {
        Conn {
            engine: Engine::Sqlite(c),
        }
    }

    pub fn postgres(c: PgConn) -> Conn {
        Conn {
            engine: Engine::Postgres(Box::new(RefCell::new(c))),
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, read-only opening).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.engine {
            Engine::Sqlite(c) => Some(c),
            Engine::Postgres(_) => None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// Run one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<usize> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &self.engine {
            Engine::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(values.iter()))?)
            }
            Engine::Postgres(c) => pg(c)?.execute(sql, &values),
        }
    }

    /// Insert many rows into `head` (`"table (col, ...)"`), a hundred per statement: one
    /// round trip per hundred rows to PostgreSQL instead of one per row (a repetition's
    /// thousand inferences), and fewer statements for SQLite. Each row has `columns` values.
    pub fn insert_rows(
        &self,
        head: &str,
        columns: usize,
        rows: impl IntoIterator<Item = Vec<Value>>,
    ) -> Result<()> {
        const ROWS_PER_STATEMENT: usize = 100;
        let mut chunk: Vec<Value> = Vec::with_capacity(columns * ROWS_PER_STATEMENT);
        let flush = |chunk: &mut Vec<Value>| -> Result<()> {
            if chunk.is_empty() {
                return Ok(());
            }
            let n = chunk.len() / columns;
            let groups: Vec<String> = (0..n)
                .map(|r| {
                    let marks: Vec<String> = (1..=columns)
                        .map(|c| format!("?{}", r * columns + c))
                        .collect();
                    format!("({})", marks.join(", "))
                })
                .collect();
            let sql = format!("INSERT INTO {head} VALUES {}", groups.join(", "));
            let params: Vec<&dyn ToValue> = chunk.iter().map(|v| v as &dyn ToValue).collect();
            self.execute(&sql, &params)?;
            chunk.clear();
            Ok(())
        };
        for row in rows {
            if row.len() != columns {
                bail!(
                    "internal: a row of {} values for {columns} columns",
                    row.len()
                );
            }
            chunk.extend(row);
            if chunk.len() == columns * ROWS_PER_STATEMENT {
                flush(&mut chunk)?;
            }
        }
        flush(&mut chunk)
    }

    /// Run a statement that ends `RETURNING id` and give the id.
    pub fn insert_id(&self, sql: &str, params: &[&dyn ToValue]) -> Result<i64> {
        self.query_row(sql, params, |r| r.get(0))
    }

    /// Every row of a query, each through `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        match &self.engine {
            Engine::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let names: Vec<String> =
                    stmt.column_names().iter().map(|s| s.to_string()).collect();
                let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(names.len());
                    for i in 0..names.len() {
                        vals.push(sqlite_value(r.get_ref(i)?)?);
                    }
                    out.push(f(&Row::new(&names, vals))?);
                }
                Ok(out)
            }
            Engine::Postgres(c) => {
                // `f` must not use this connection: its rows are still arriving.
                let mut conn = pg(c)?;
                let mut out = Vec::new();
                conn.query_each(sql, &values, |names, vals| {
                    out.push(f(&Row::new(names, vals))?);
                    Ok(())
                })?;
                Ok(out)
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        // Queries passed here select by key: at most one row, so reading them all is cheap.
        self.query_map(sql, params, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query; no row is an error.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| anyhow!("the query returned no row"))
    }

    /// Run statements separated by `;`, without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Engine::Postgres(c) => pg(c)?.batch(sql),
        }
    }

    /// Apply one schema migration (written for SQLite; PostgreSQL gets its types).
    pub fn migrate_batch(&self, sql: &str) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Engine::Postgres(c) => {
                let ddl = crate::postgres::schema_ddl(sql);
                pg(c)?.batch(&ddl)
            }
        }
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        match &self.engine {
            Engine::Sqlite(c) => c.is_autocommit(),
            Engine::Postgres(c) => c.try_borrow().is_ok_and(|c| !c.in_transaction),
        }
    }

    /// Open a write transaction that excludes every other writer of the store until it ends:
    /// SQLite's `BEGIN IMMEDIATE`; on PostgreSQL a transaction holding the store's advisory
    /// lock, so that writers that read then write (a shard finding its run) never collide.
    pub fn begin_write(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch("BEGIN IMMEDIATE")?),
            Engine::Postgres(c) => pg(c)?.begin_write(),
        }
    }

    /// Open the transaction a schema migration runs in: SQLite's deferred `BEGIN` (its first
    /// write takes the lock; readers of an up-to-date store never wait for a writer), the
    /// write lock on PostgreSQL (concurrent DDL there fails instead of waiting).
    pub fn begin_migration(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch("BEGIN")?),
            Engine::Postgres(c) => pg(c)?.begin_write(),
        }
    }

    pub fn commit(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch("COMMIT")?),
            Engine::Postgres(c) => pg(c)?.end("COMMIT"),
        }
    }

    pub fn rollback(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch("ROLLBACK")?),
            Engine::Postgres(c) => pg(c)?.end("ROLLBACK"),
        }
    }

    /// The tables of the store (not the schema bookkeeping), sorted.
    pub fn tables(&self) -> Result<Vec<String>> {
        let sql = if self.is_postgres() {
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name <> 'schema_version'
             ORDER BY table_name"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_version'
             ORDER BY name"
        };
        self.query_map(sql, params![], |r| r.get(0))
    }
}

/// The PostgreSQL connection, mutably: an error, not a panic, if a caller nests a statement
/// inside a query's rows.
fn pg(c: &RefCell<PgConn>) -> Result<std::cell::RefMut<'_, PgConn>> {
    c.try_borrow_mut()
        .map_err(|_| anyhow!("internal: a statement inside another query's rows"))
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Result<Value> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .context("a text value is not UTF-8")?
                .to_string(),
        ),
        ValueRef::Blob(_) => bail!("a blob where the schema has none"),
    })
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

// ---- conversions ----

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
        impl FromValue for $t {
            fn from_value(v: &Value) -> Result<Self> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i)
                        .map_err(|_| anyhow!("{i} does not fit a {}", stringify!($t))),
                    // PostgreSQL's SUM and AVG of integers are NUMERIC: whole ones are fine.
                    Value::Real(f) if f.fract() == 0.0 => {
                        let i = *f as i64;
                        <$t>::try_from(i).map_err(|_| anyhow!("{f} does not fit a {}", stringify!($t)))
                    }
                    other => bail!("expected an integer, found {other:?}"),
                }
            }
        }
    )*};
}
int_values!(i64, i32, u32, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self> {
        Ok(i64::from_value(v)? != 0)
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Real(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => bail!("expected a number, found {other:?}"),
        }
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => bail!("expected text, found {other:?}"),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Result<Self> {
        Ok(v.clone())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}
