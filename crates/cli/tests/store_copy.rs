//! `powerhungry store copy` and `report` on PostgreSQL, with real processes: a run benched
//! into SQLite and copied to PostgreSQL reports the same figures from either store; copied
//! back, the same again; copying twice copies once; and a password never reaches the output.

use assert_cmd::cargo::CommandCargoExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write_suite(dir: &Path) -> PathBuf {
    let data = repo().join("data/rt-polarity");
    let suite = format!(
        r#"name = "copy-test"

[protocol]
inferences = 40
repetitions = 2
warmup = 1
max_train = 300

[[models]]
name = "bow"
backend = "traditional"
kind = "bow-lr"

[[datasets]]
name = "rt"
task = "text-classification"
[datasets.source]
path = "{}"
format = "label-files"
encoding = "latin-1"
"#,
        data.display()
    );
    let path = dir.join("copy.toml");
    std::fs::write(&path, suite).expect("write suite");
    path
}

fn powerhungry(args: &[&std::ffi::OsStr]) -> Output {
    Command::cargo_bin("powerhungry")
        .expect("binary")
        .args(args)
        .output()
        .expect("run powerhungry")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The report's JSON export without what names where and when it was read (its source, the
/// time it was generated).
fn report_json(store: &str, dir: &Path, name: &str) -> serde_json::Value {
    let out = dir.join(name);
    ok(&powerhungry(&[
        "report".as_ref(),
        store.as_ref(),
        "--json".as_ref(),
        out.as_os_str(),
    ]));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("json")).expect("parse");
    v.pointer_mut("/generated").map(|g| g.take());
    assert!(
        !v.to_string().contains("powerhungry-test"),
        "no password in the export"
    );
    for at in ["/analysis/source", "/input/source"] {
        let source = v.pointer_mut(at).map(|s| s.take());
        assert!(
            source.is_some_and(|s| s.to_string().contains("store ")),
            "{at} names the store"
        );
    }
    v
}

#[test]
fn a_run_copied_to_postgres_and_back_reports_the_same() {
    let Some(url) = powerhungry_testkit::postgres_database("store_copy") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = write_suite(dir.path());
    let sqlite = dir.path().join("local.sqlite");
    let sqlite_s = sqlite.to_str().expect("utf-8 path").to_string();
    ok(&powerhungry(&[
        "bench".as_ref(),
        suite.as_os_str(),
        "--store".as_ref(),
        sqlite.as_os_str(),
        "--quiet".as_ref(),
        "--intensity".as_ref(),
        "100".as_ref(),
    ]));

    let first = ok(&powerhungry(&[
        "store".as_ref(),
        "copy".as_ref(),
        sqlite.as_os_str(),
        url.as_ref(),
    ]));
    assert!(
        first.contains("1 copied, 0 replaced, 0 already there"),
        "{first}"
    );
    assert!(
        !first.contains("powerhungry-test"),
        "password printed: {first}"
    );
    assert!(first.contains("***"), "{first}");
    let again = ok(&powerhungry(&[
        "store".as_ref(),
        "copy".as_ref(),
        sqlite.as_os_str(),
        url.as_ref(),
    ]));
    assert!(
        again.contains("0 copied, 0 replaced, 1 already there"),
        "{again}"
    );

    let from_sqlite = report_json(&sqlite_s, dir.path(), "sqlite.json");
    let from_postgres = report_json(&url, dir.path(), "postgres.json");
    assert_eq!(from_sqlite, from_postgres);

    let back = dir.path().join("back.sqlite");
    ok(&powerhungry(&[
        "store".as_ref(),
        "copy".as_ref(),
        url.as_ref(),
        back.as_os_str(),
    ]));
    let from_back = report_json(back.to_str().expect("utf-8"), dir.path(), "back.json");
    assert_eq!(from_sqlite, from_back);

    // The terminal report reads PostgreSQL too, and names it without the password.
    let text = ok(&powerhungry(&["report".as_ref(), url.as_ref()]));
    assert!(text.contains("bow"), "{text}");
    assert!(!text.contains("powerhungry-test"), "{text}");
}

#[test]
fn store_copy_errors_name_the_store_and_not_the_password() {
    let Some(url) = powerhungry_testkit::postgres_database("copy_errors") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing.sqlite");
    let out = powerhungry(&[
        "store".as_ref(),
        "copy".as_ref(),
        missing.as_os_str(),
        url.as_ref(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nothing.sqlite") && err.contains("no results store there"),
        "{err}"
    );
    let wrong = url.replacen(":powerhungry-test@", ":wrong-secret-7@", 1);
    let out = powerhungry(&[
        "store".as_ref(),
        "copy".as_ref(),
        wrong.as_ref(),
        dir.path().join("x.sqlite").as_os_str(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("wrong-secret-7"), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
