//! Helpers shared by the meter's integration tests: copy a testdata tree to a temp dir and
//! rewrite its counters.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

pub fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A temp copy of `testdata/<rel>`; returns the guard and the copy's root.
pub fn temp_tree(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    copy_tree(&testdata(rel), &root);
    (dir, root)
}

/// Write a counter value into `<sysfs>/class/powercap/<zone>/energy_uj`.
pub fn set_uj(sysfs: &Path, zone: &str, value: u64) {
    let p = sysfs.join("class/powercap").join(zone).join("energy_uj");
    fs::write(p, format!("{value}\n")).unwrap();
}

pub fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: got {actual}, expected {expected}"
    );
}
