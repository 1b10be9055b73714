//! Inputs the fuzzer found (fuzz/fuzz_targets/dataset_files.rs), kept as regression tests: each
//! is a clear error naming the file, never a panic.

use powerhungry_datasets::{load_dataset, DatasetSpec};
use std::path::Path;

#[test]
fn parquet_pages_past_their_buffer_are_an_error_not_a_crash() {
    for name in ["page-past-end.parquet", "page-past-end-2.parquet"] {
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
}
