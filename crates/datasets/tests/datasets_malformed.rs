//! Inputs the fuzzer found (fuzz/fuzz_targets/dataset_files.rs), kept as regression tests: each
//! is a clear error naming the file, never a panic.

use powerhungry_datasets::{load_dataset, DatasetSpec};
use std::path::Path;

#[test]
fn malformed_parquet_is_an_error_not_a_crash_or_an_abort() {
    for name in [
        "page-past-end.parquet",
        "page-past-end-2.parquet",
        // The footer declares a list of ~60 GB of row groups: refused before any allocation.
        "footer-declares-huge-list.parquet",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/malformed")
            .join(name);
        let err = load_dataset(&DatasetSpec::from_path(path.clone()))
            .expect_err("a malformed file must not load");
        let msg = format!("{err:#}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(
            msg.contains("malformed") || msg.contains("not a readable Parquet file"),
            "{msg}"
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/malformed/footer-declares-huge-list.parquet");
    let msg = format!(
        "{:#}",
        load_dataset(&DatasetSpec::from_path(path)).expect_err("refused")
    );
    // Refused by our footer check, before the parquet crate reads (and sizes buffers from) it.
    assert!(
        msg.contains("not a readable Parquet file: the metadata")
            || msg.contains("not a readable Parquet file: a list declares"),
        "{msg}"
    );
}
