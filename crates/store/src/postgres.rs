//! The PostgreSQL side of the store: connecting (password from the URL, `PGPASSWORD` or a
//! `.pgpass` file, never printed), the dialect (the crate's SQL uses `?N` placeholders and
//! SQLite's type names; PostgreSQL gets `$N`, BIGINT, DOUBLE PRECISION and identity ids), and
//! values to and from the wire. No TLS: a store on another machine is reached over a network
//! the user trusts, or through an SSH tunnel (docs/store.md).

use crate::db::Value;
use anyhow::{anyhow, Context, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether a `--store` value names a PostgreSQL database rather than an SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// A store location fit to print: the password of a PostgreSQL URL replaced by `***`. The
/// user part ends at the last `@` (a host has none), so a password holding `/`, `?` or `@`
/// is hidden whole; a stray `@` later in the URL hides more, never less.
pub fn redacted(location: &str) -> String {
    if !is_postgres_url(location) {
        return location.to_string();
    }
    let Some(scheme_end) = location.find("://").map(|i| i + 3) else {
        return location.to_string();
    };
    let rest = &location[scheme_end..];
    let (userinfo, after) = match rest.rfind('@') {
        Some(at) => {
            let (user, after) = rest.split_at(at);
            let user = match user.find(':') {
                Some(colon) => format!("{}:***", &user[..colon]),
                None => user.to_string(),
            };
            (user, after)
        }
        None => (String::new(), rest),
    };
    // `?password=...` among the query parameters.
    let after = match after.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k == "password" => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => after.to_string(),
    };
    format!("{}{userinfo}{after}", &location[..scheme_end])
}

/// An open PostgreSQL connection with its prepared statements.
pub struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    pub(crate) in_transaction: bool,
}

/// Connect to the database a `postgres://` URL names.
pub fn connect(url: &str) -> Result<PgConn> {
    let shown = redacted(url);
    let mut config: Config = url
        .parse()
        .map_err(|e| anyhow!("{shown}: not a PostgreSQL URL ({e})"))?;
    if config.get_password().is_none() {
        if let Some(pw) = password_from_environment(&config)? {
            config.password(pw);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("powerhungry");
    }
    let client = config
        .connect(NoTls)
        .map_err(|e| anyhow!("{shown}: cannot connect to PostgreSQL: {}", error_text(&e)))?;
    Ok(PgConn {
        client,
        statements: HashMap::new(),
        in_transaction: false,
    })
}

/// The server's own message where there is one (it names the table, the constraint).
fn error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match e.source() {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

/// The advisory lock every writer of one store database takes for its transaction
/// (pg_advisory_xact_lock keys are per database).
const WRITE_LOCK_KEY: i64 = 0x706f_7765_7268_756e; // "powerhun"

impl PgConn {
    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let translated = dialect(sql);
        let stmt = self
            .client
            .prepare(&translated)
            .map_err(|e| anyhow!("{}", error_text(&e)))
            .with_context(|| format!("cannot prepare: {}", one_line(&translated)))?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&mut self, sql: &str, values: &[Value]) -> Result<usize> {
        let stmt = self.prepared(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = self
            .client
            .execute(&stmt, &refs)
            .map_err(|e| anyhow!("{}", error_text(&e)))?;
        Ok(n as usize)
    }

    /// Run a query and hand each row to `f` as it arrives (rows are not collected first).
    pub fn query_each(
        &mut self,
        sql: &str,
        values: &[Value],
        mut f: impl FnMut(&[String], Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let stmt = self.prepared(sql)?;
        let names: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let mut rows = self
            .client
            .query_raw(&stmt, values.iter())
            .map_err(|e| anyhow!("{}", error_text(&e)))?;
        while let Some(row) = rows.next().map_err(|e| anyhow!("{}", error_text(&e)))? {
            let mut vals = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                vals.push(
                    row.try_get::<_, Value>(i)
                        .map_err(|e| anyhow!("column `{name}`: {e}"))?,
                );
            }
            f(&names, vals)?;
        }
        Ok(())
    }

    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| anyhow!("{}", error_text(&e)))
    }

    pub fn begin_write(&mut self) -> Result<()> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
        ))?;
        self.in_transaction = true;
        Ok(())
    }

    /// COMMIT or ROLLBACK: the transaction is over either way.
    pub fn end(&mut self, command: &str) -> Result<()> {
        self.in_transaction = false;
        self.batch(command)
    }
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The crate's SQL in PostgreSQL's dialect: `?N` placeholders become `$N` (outside quoted
/// text), and insertion order (`ORDER BY rowid`, SQLite's row id) becomes `ctid`, the row's
/// place in its table, which follows insertion for rows never updated (window energies).
pub fn dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_quote = false;
    let mut next_bare = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '?' if !in_quote => {
                out.push('$');
                if chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        out.push(*d);
                        chars.next();
                    }
                } else {
                    out.push_str(&next_bare.to_string());
                    next_bare += 1;
                }
            }
            _ => out.push(c),
        }
    }
    out.replace("ORDER BY rowid", "ORDER BY ctid")
}

/// A migration written for SQLite, for PostgreSQL: `id INTEGER PRIMARY KEY` (SQLite's row id)
/// becomes an identity column; INTEGER becomes BIGINT (SQLite's integers are 64-bit) and REAL
/// DOUBLE PRECISION (PostgreSQL's REAL is 32-bit).
pub fn schema_ddl(sql: &str) -> String {
    let sql = sql.replace(
        "id INTEGER PRIMARY KEY,",
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,",
    );
    let mut out = String::with_capacity(sql.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.as_str() {
            "INTEGER" => out.push_str("BIGINT"),
            "REAL" => out.push_str("DOUBLE PRECISION"),
            w => out.push_str(w),
        }
        word.clear();
    };
    for c in sql.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

// ---- passwords: PGPASSWORD, then the password file, as libpq looks them up ----

fn password_from_environment(config: &Config) -> Result<Option<String>> {
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        return Ok(Some(pw));
    }
    let file = match std::env::var_os("PGPASSFILE") {
        Some(f) => PathBuf::from(f),
        None => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(".pgpass"),
            None => return Ok(None),
        },
    };
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    if group_or_world_readable(&file) {
        // libpq ignores such a file too, and says so.
        eprintln!(
            "warning: {}: password file has group or world access; ignored (chmod 0600 it)",
            file.display()
        );
        return Ok(None);
    }
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = match config.get_user() {
        Some(u) => u.to_string(),
        None => std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_default(),
    };
    let dbname = config.get_dbname().unwrap_or(&user).to_string();
    pgpass_lookup(&text, [&host, &port, &dbname, &user])
        .with_context(|| format!("{}: unreadable password file", file.display()))
}

#[cfg(unix)]
fn group_or_world_readable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn group_or_world_readable(_: &Path) -> bool {
    false
}

/// The password of the first `.pgpass` line matching host, port, database and user (`*`
/// matches anything; `\:` and `\\` are a literal colon and backslash).
pub fn pgpass_lookup(text: &str, want: [&str; 4]) -> Result<Option<String>> {
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split_pgpass_line(line);
        if fields.len() != 5 {
            continue; // libpq skips malformed lines
        }
        let matches = fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w);
        if matches {
            return Ok(Some(fields[4].clone()));
        }
    }
    Ok(None)
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

// ---- values on the wire ----

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().as_str().to_sql(ty, out)
                }
                _ => Err(format!("an integer cannot be stored in a {ty} column").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a number cannot be stored in a {ty} column").into()),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.as_str().to_sql(ty, out)
                }
                _ => Err(format!("text cannot be stored in a {ty} column").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                Value::Text(String::from_sql(ty, raw)?)
            }
            _ => return Err(format!("the store has no {ty} values").into()),
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Value, Box<dyn StdError + Sync + Send>> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// PostgreSQL's binary NUMERIC (what SUM and AVG of integers give): a whole number as an
/// integer, anything else as a float.
fn numeric(raw: &[u8]) -> std::result::Result<Value, Box<dyn StdError + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<i16, Box<dyn StdError + Sync + Send>> {
        raw.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a truncated NUMERIC".into())
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i32;
    let sign = word(4)? as u16;
    let dscale = word(6)?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(Value::Real(f64::NAN)),
        0xD000 => return Ok(Value::Real(f64::INFINITY)),
        0xF000 => return Ok(Value::Real(f64::NEG_INFINITY)),
        s => return Err(format!("a NUMERIC with sign word {s:#x}").into()),
    }
    let mut value = 0f64;
    for k in 0..ndigits {
        let digit = f64::from(word(8 + 2 * k)?);
        value += digit * 10000f64.powi(weight - k as i32);
    }
    if sign == 0x4000 {
        value = -value;
    }
    if dscale == 0 && value.abs() < 9.0e15 {
        Ok(Value::Int(value as i64))
    } else {
        Ok(Value::Real(value))
    }
}

#[cfg(test)]
mod tests;
