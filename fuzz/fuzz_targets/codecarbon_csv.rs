//! The CodeCarbon emissions.csv reader (import): rows or an error naming the file, never a
//! panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = powerhungry_report::codecarbon::read_bytes(std::path::Path::new("emissions.csv"), data);
});
