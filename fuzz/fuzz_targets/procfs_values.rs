//! The procfs parsers (/proc/stat, /proc/meminfo, /proc/<pid>/stat, statm, cpuinfo) on any
//! text: a value or an error naming the file, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use powerhungry_meter::procfs;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let p = Path::new("/proc/fuzz");
    let _ = procfs::parse_stat(text, p);
    let _ = procfs::parse_mem_used(text, p);
    let _ = procfs::parse_pid_stat(text, p);
    let _ = procfs::parse_statm_rss(text, p);
    let _ = powerhungry_meter::estimate::cpu::CpuTopology::parse_cpuinfo(text);
});
