//! The meter's memory is bounded by its open windows, not by the run's length: closed windows
//! drop their samples, the run's total keeps none unless asked, and a sink streams them.

use powerhungry_meter::sensor::{Poll, Reading, Sensor};
use powerhungry_meter::{Component, Meter, MeterConfig, Method, Sample, SampleSink};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A package counter growing 2 J per poll, and a DRAM one growing 0.5 J.
struct Counter(f64);

impl Sensor for Counter {
    fn name(&self) -> String {
        "counter".into()
    }
    fn describe(&self) -> String {
        "test counter".into()
    }
    fn poll(&mut self, _now: Instant) -> Result<Poll, String> {
        self.0 += 1.0;
        let r = |component, energy_j| Reading {
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
                r(Component::CpuPackage { index: 0 }, 2.0 * self.0),
                r(Component::Dram { index: 0 }, 0.5 * self.0),
            ],
            warnings: vec![],
        })
    }
}

/// A meter whose sampler never fires (1 h): the test polls it, two samples at a time.
fn meter(cfg: MeterConfig) -> Meter {
    let cfg = MeterConfig {
        interval: Duration::from_secs(3600),
        ..cfg
    };
    Meter::start_with_sensors(cfg, vec![Box::new(Counter(0.0))], vec![]).unwrap()
}

fn polls(m: &Meter, n: usize) {
    for _ in 0..n {
        m.measure_idle(Duration::ZERO); // two polls, two samples
    }
}

fn energy_of(samples: &[Sample]) -> f64 {
    samples
        .iter()
        .flat_map(|s| s.components.iter().map(move |c| c.watts * s.dt_s))
        .sum()
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn closed_windows_drop_their_samples_and_memory_follows_the_open_windows() {
    let m = meter(MeterConfig {
        recent_samples: 10,
        ..MeterConfig::default()
    });
    // No window open (the run's total keeps no samples): only the ring is held.
    polls(&m, 500);
    assert!(m.held_samples() <= 10, "{}", m.held_samples());
    let outer = m.open_window("outer");
    polls(&m, 100);
    let inner = m.open_window("inner");
    polls(&m, 50);
    let ri = m.close_window(inner).unwrap();
    // inner: 100 samples + its closing edge; all still held for the open outer window.
    assert_eq!(ri.samples.len(), 101);
    assert_close(
        energy_of(&ri.samples),
        2.5 * 101.0,
        "inner samples integrate",
    );
    assert!(m.held_samples() >= 302, "{}", m.held_samples());
    let ro = m.close_window(outer).unwrap();
    assert_eq!(ro.samples.len(), 2 * 150 + 3);
    let total: f64 = ro.components.iter().map(|c| c.energy_j).sum();
    assert_close(energy_of(&ro.samples), total, "outer samples integrate");
    // Closed and reported: dropped, back to the ring.
    assert!(m.held_samples() <= 10, "{}", m.held_samples());
    assert!(m.live_watts() > 0.0);
    assert_eq!(m.recent_samples().len(), 10);
    let report = m.finish().unwrap();
    assert_eq!(report.windows.len(), 2);
    assert!(report.windows.iter().all(|w| w.samples.is_empty()));
    assert!(
        report.total.samples.is_empty(),
        "the total keeps none by default"
    );
    assert_close(
        report.total.total_j(),
        2.5 * (2.0 * 650.0 + 5.0),
        "total energy intact",
    );
}

#[test]
fn the_total_keeps_every_sample_only_when_asked() {
    let m = meter(MeterConfig {
        total_samples: true,
        recent_samples: 0,
        ..MeterConfig::default()
    });
    polls(&m, 20);
    let report = m.finish().unwrap();
    assert_eq!(report.total.samples.len(), 41);
    assert_close(
        energy_of(&report.total.samples),
        report.total.total_j(),
        "samples integrate to the run",
    );
}

#[test]
fn a_sink_streams_every_sample_and_windows_need_keep_none() {
    let seen: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let sink = {
        let seen = Arc::clone(&seen);
        SampleSink::from_fn(move |s| {
            seen.lock().unwrap().push(s.clone());
            Ok(())
        })
    };
    let m = meter(MeterConfig {
        sample_sink: Some(sink),
        window_samples: false,
        recent_samples: 4,
        keep_closed_windows: false,
        ..MeterConfig::default()
    });
    let w = m.open_window("command");
    polls(&m, 1000);
    // A window open all along holds nothing: memory is flat however long it stays open.
    assert!(m.held_samples() <= 4, "{}", m.held_samples());
    let r = m.close_window(w).unwrap();
    assert!(r.samples.is_empty());
    let report = m.finish().unwrap();
    assert!(report.windows.is_empty(), "keep_closed_windows: false");
    let seen = seen.lock().unwrap();
    let inside: Vec<Sample> = seen
        .iter()
        .filter(|s| s.t_s > r.start_s && s.t_s <= r.start_s + r.duration_s)
        .cloned()
        .collect();
    assert_eq!(inside.len(), 2001);
    assert_close(
        energy_of(&inside),
        r.total_j(),
        "streamed samples integrate",
    );
    // The run's total starts one poll after the meter (the poll before it is start-up).
    let run: Vec<Sample> = seen
        .iter()
        .filter(|s| s.t_s > report.total.start_s)
        .cloned()
        .collect();
    assert_close(
        energy_of(&run),
        report.total.total_j(),
        "whole run streamed",
    );
}

#[test]
fn json_lines_sink_writes_a_file_and_a_failing_sink_is_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samples.jsonl");
    let file = std::fs::File::create(&path).unwrap();
    let m = meter(MeterConfig {
        sample_sink: Some(SampleSink::json_lines(std::io::BufWriter::new(file))),
        ..MeterConfig::default()
    });
    polls(&m, 5);
    let report = m.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let samples: Vec<Sample> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Every sample: the one before the run's total opened, 10 polls, the total's close.
    assert_eq!(samples.len(), 12);
    assert_close(
        energy_of(&samples[1..]),
        report.total.total_j(),
        "file integrates",
    );

    let calls = Arc::new(Mutex::new(0));
    let sink = {
        let calls = Arc::clone(&calls);
        SampleSink::from_fn(move |_| {
            *calls.lock().unwrap() += 1;
            Err("disk full".into())
        })
    };
    let m = meter(MeterConfig {
        sample_sink: Some(sink),
        ..MeterConfig::default()
    });
    polls(&m, 5);
    let report = m.finish().unwrap();
    assert_eq!(*calls.lock().unwrap(), 1, "not called again after failing");
    let n = report
        .warnings
        .iter()
        .filter(|w| w.contains("sample sink: disk full"))
        .count();
    assert_eq!(n, 1, "{:?}", report.warnings);
}
