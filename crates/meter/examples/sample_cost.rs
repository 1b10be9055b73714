//! What the meter itself costs: run it for a while and print its own CPU time and memory.
//!
//! ```sh
//! # real sensors (this machine's /sys and /proc), one window open for the whole run, as `measure`:
//! cargo run --release -p powerhungry-meter --example sample_cost -- --seconds 20 --interval-ms 10
//! # a simulated long run: a fake sensor polled as fast as possible (864 000 samples = a day at 100 ms)
//! cargo run --release -p powerhungry-meter --example sample_cost -- --simulate 864000
//! ```
//!
//! Flags: `--process` (process scope on this process), `--stream FILE` (samples streamed to FILE
//! as JSON lines, windows keep none), `--windows N` (with --simulate: also open and close a short
//! window every N samples, as the bench harness does), `--sysfs-root DIR` (read powercap zones
//! under DIR, e.g. a fake RAPL tree, to cost a machine with counters). Output: one JSON line.

use powerhungry_meter::sensor::{Poll, Reading, Sensor};
use powerhungry_meter::{Component, GpuSelection, Meter, MeterConfig, Method, Scope};
use std::time::{Duration, Instant};

struct FakeCounter {
    energy_j: f64,
}

impl Sensor for FakeCounter {
    fn name(&self) -> String {
        "fake".into()
    }
    fn describe(&self) -> String {
        "a counter that grows by 1 J per poll".into()
    }
    fn poll(&mut self, _now: Instant) -> Result<Poll, String> {
        self.energy_j += 1.0;
        let reading = |component, energy_j| Reading {
            component,
            method: Method::Rapl,
            energy_j,
            primary: true,
            counted: true,
            model_idle_w: None,
            busy_s: None,
            note: None,
        };
        Ok(Poll {
            readings: vec![
                reading(Component::CpuPackage { index: 0 }, self.energy_j),
                reading(Component::Dram { index: 0 }, self.energy_j / 10.0),
            ],
            warnings: vec![],
        })
    }
}

/// (user + system CPU seconds, max RSS in KiB) of this process.
fn rusage() -> (f64, i64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (s(ru.ru_utime) + s(ru.ru_stime), ru.ru_maxrss)
}

/// Current RSS in KiB, from /proc/self/statm.
fn rss_now_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    pages * page / 1024
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut seconds, mut interval_ms, mut simulate, mut process) = (20.0, 10.0, 0u64, false);
    let mut windows = 0u64;
    let mut stream: Option<String> = None;
    let mut sysfs_root: Option<String> = None;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => seconds = val()?.parse()?,
            "--interval-ms" => interval_ms = val()?.parse()?,
            "--simulate" => simulate = val()?.parse()?,
            "--windows" => windows = val()?.parse()?,
            "--process" => process = true,
            "--stream" => stream = Some(val()?),
            "--sysfs-root" => sysfs_root = Some(val()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    #[allow(unused_mut)]
    let mut config = MeterConfig {
        interval: Duration::from_secs_f64(interval_ms / 1000.0),
        gpus: GpuSelection::None,
        scope: if process {
            Scope::Process {
                pid: std::process::id(),
            }
        } else {
            Scope::Machine
        },
        ..MeterConfig::default()
    };
    if let Some(root) = &sysfs_root {
        config.sysfs_root = root.into();
    }
    // STREAM-BEGIN (new API: not in the "before" build)
    if let Some(path) = &stream {
        let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
        config.sample_sink = Some(powerhungry_meter::SampleSink::json_lines(
            std::io::BufWriter::new(file),
        ));
        config.window_samples = false;
    }
    // STREAM-END
    if stream.is_some() && config.interval.is_zero() {
        return Err("unreachable".into());
    }
    let (cpu0, _) = rusage();
    let rss0 = rss_now_kib();
    let t0 = Instant::now();
    let (meter, n_samples, rss_open) = if simulate > 0 {
        config.interval = Duration::from_secs(3600);
        let sensors: Vec<Box<dyn Sensor>> = vec![Box::new(FakeCounter { energy_j: 0.0 })];
        let meter = Meter::start_with_sensors(config, sensors, vec![])?;
        let w = meter.open_window("command");
        // measure_idle(0) polls twice without sleeping: two samples, in either version of
        // the meter.
        let mut i = 0;
        while i < simulate {
            meter.measure_idle(Duration::ZERO);
            i += 2;
            if windows > 0 && i % windows == 0 {
                let s = meter.open_window("short");
                meter.close_window(s)?;
                i += 2;
            }
        }
        let rss_open = rss_now_kib();
        let r = meter.close_window(w)?;
        (meter, r.samples.len(), rss_open)
    } else {
        let meter = Meter::start(config)?;
        let w = meter.open_window("command");
        std::thread::sleep(Duration::from_secs_f64(seconds));
        let rss_open = rss_now_kib();
        let r = meter.close_window(w)?;
        (meter, r.samples.len(), rss_open)
    };
    let report = meter.finish()?;
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, maxrss) = rusage();
    println!(
        "{{\"mode\":\"{}\",\"interval_ms\":{interval_ms},\"wall_s\":{wall:.3},\"meter_cpu_s\":{:.4},\
\"window_samples\":{n_samples},\"total_window_samples\":{},\"rss_start_kib\":{rss0},\
\"rss_before_close_kib\":{rss_open},\"max_rss_kib\":{maxrss},\"stream\":{}}}",
        if simulate > 0 { "simulated" } else { "real" },
        cpu1 - cpu0,
        report.total.samples.len(),
        stream.is_some()
    );
    Ok(())
}
