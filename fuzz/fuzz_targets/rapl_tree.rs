//! RAPL through a fake powercap tree whose files hold fuzzed text, read twice (so the counter
//! step runs on fuzzed pairs), plus the wrap-safe step on arbitrary values: readings, notes
//! or errors, never a panic and never a negative or non-finite energy.
#![no_main]
use libfuzzer_sys::fuzz_target;
use powerhungry_meter::counter::step;
use powerhungry_meter::rapl::RaplSensor;
use powerhungry_meter::Sensor;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

fn root() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("powerhungry-fuzz-rapl-{}", std::process::id()));
        let zone = d.join("class/powercap/intel-rapl:0");
        std::fs::create_dir_all(&zone).expect("fuzz tree");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    // Four fields separated by 0xff: name, max range, first energy, second energy.
    let mut parts = data.split(|b| *b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or(b"")).into_owned();
    let (name, range, first, second) = (next(), next(), next(), next());
    if let (Ok(a), Ok(b)) = (first.trim().parse::<u64>(), second.trim().parse::<u64>()) {
        let s = step(a, b, range.trim().parse().ok(), 1e9);
        let _ = format!("{s:?}");
    }
    let zone = root().join("class/powercap/intel-rapl:0");
    let write = |f: &str, v: &str| std::fs::write(zone.join(f), v).is_ok();
    if !(write("name", &name) && write("max_energy_range_uj", &range) && write("energy_uj", &first)) {
        return;
    }
    let Ok(mut sensor) = RaplSensor::open(root(), 10_000.0) else {
        return;
    };
    let _ = sensor.poll(Instant::now());
    if write("energy_uj", &second) {
        if let Ok(poll) = sensor.poll(Instant::now()) {
            for r in poll.readings {
                assert!(r.energy_j.is_finite() && r.energy_j >= 0.0, "{r:?}");
            }
        }
    }
});
