//! The dataset readers on a file of fuzzed bytes: the first byte picks the format (CSV, TSV,
//! JSON Lines, Parquet) and the encoding; the rest is the file. Examples or an error, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use powerhungry_datasets::{load_dataset, DatasetSpec};
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("powerhungry-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz temp dir");
        d
    })
}

/// The loader turns the parquet crate's panics on malformed pages into errors (catch_unwind);
/// libFuzzer's panic hook would abort on those caught panics, so this target restores the
/// default hook once. A panic that escapes the loader still fails the run (libfuzzer-sys
/// aborts on it).
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ext = ["csv", "tsv", "jsonl", "parquet"][(selector & 3) as usize];
    let path = dir().join(format!("data.{ext}"));
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let mut spec = DatasetSpec::from_path(path);
    spec.encoding = Some(["utf-8", "latin-1", "auto", "utf-8"][((selector >> 2) & 3) as usize].into());
    let _ = load_dataset(&spec);
});
