//! The suite TOML parser: any bytes give a suite or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = powerhungry_bench::suite::parse(text, "fuzz.toml");
    }
});
