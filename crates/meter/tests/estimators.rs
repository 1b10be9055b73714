//! The CPU-load estimate driven by a fake /proc/stat sequence with known utilisation, checked
//! against the power model's formula; the RAM estimate against installed memory.

mod common;

use common::{assert_close, temp_tree};
use powerhungry_meter::estimate::cpu::{DYNAMIC_FRACTION, EXPONENT, IDLE_FRACTION};
use powerhungry_meter::estimate::{CpuPowerModel, RamPowerModel};
use powerhungry_meter::estimators::{CpuLoadSensor, RamSensor};
use powerhungry_meter::sensor::Sensor;
use powerhungry_meter::{Component, Method};
use std::fs;
use std::time::{Duration, Instant};

fn stat(user: u64, system: u64, idle: u64, iowait: u64, steal: u64) -> String {
    format!("cpu  {user} 0 {system} {idle} {iowait} 0 0 {steal} 0 0\nintr 1\n")
}

/// The formula the power model documents: TDP x (idle + dynamic x load^exponent).
fn formula(tdp: f64, load: f64) -> f64 {
    tdp * (IDLE_FRACTION + DYNAMIC_FRACTION * load.powf(EXPONENT))
}

#[test]
fn cpu_estimate_follows_utilisation() {
    let (_g, proc_root) = temp_tree("procfs/basic");
    let model = CpuPowerModel {
        tdp_watts: 100.0,
        tdp_source: "--cpu-tdp".into(),
    };
    fs::write(proc_root.join("stat"), stat(100, 100, 800, 0, 0)).unwrap();
    let t0 = Instant::now();
    let mut s = CpuLoadSensor::open(proc_root.clone(), model, 1, t0).unwrap();

    // Interval 1 (1 s): busy +150 (user 100 + system 50), idle +50 -> load 150/200 = 0.75.
    fs::write(proc_root.join("stat"), stat(200, 150, 850, 0, 0)).unwrap();
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    let e1 = formula(100.0, 0.75);
    assert_eq!(p.readings[0].component, Component::CpuPackage { index: 0 });
    assert_eq!(p.readings[0].method, Method::CpuLoad);
    assert_close(p.readings[0].energy_j, e1, "load 0.75 for 1 s");

    // Interval 2 (2 s): busy +0, idle +300, iowait +100 -> load 0: idle power for 2 s.
    fs::write(proc_root.join("stat"), stat(200, 150, 1150, 100, 0)).unwrap();
    let p = s.poll(t0 + Duration::from_secs(3)).unwrap();
    assert_close(
        p.readings[0].energy_j,
        e1 + 2.0 * formula(100.0, 0.0),
        "idle 2 s",
    );
    assert_close(
        p.readings[0].model_idle_w.unwrap(),
        100.0 * IDLE_FRACTION,
        "model idle power",
    );

    // Interval 3 (0.5 s): busy +40, steal +60 -> load 40/100 = 0.4 (steal is not ours).
    fs::write(proc_root.join("stat"), stat(240, 150, 1150, 100, 60)).unwrap();
    let p = s.poll(t0 + Duration::from_millis(3500)).unwrap();
    let e3 = e1 + 2.0 * formula(100.0, 0.0) + 0.5 * formula(100.0, 0.4);
    assert_close(p.readings[0].energy_j, e3, "load 0.4 for 0.5 s");

    // Interval 4 (0.1 s): no tick elapsed: the previous load (0.4) is held.
    let p = s.poll(t0 + Duration::from_millis(3600)).unwrap();
    assert_close(
        p.readings[0].energy_j,
        e3 + 0.1 * formula(100.0, 0.4),
        "held load",
    );
}

#[test]
fn unreadable_stat_is_a_warning_not_a_crash() {
    let (_g, proc_root) = temp_tree("procfs/basic");
    let model = CpuPowerModel {
        tdp_watts: 50.0,
        tdp_source: "--cpu-tdp".into(),
    };
    let t0 = Instant::now();
    let mut s = CpuLoadSensor::open(proc_root.clone(), model, 1, t0).unwrap();
    fs::write(proc_root.join("stat"), "cpu 1 two 3 4\n").unwrap();
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert!(p.warnings[0].contains("stat"), "{:?}", p.warnings);
    // Load held at its initial 0: idle power for 1 s.
    assert_close(p.readings[0].energy_j, formula(50.0, 0.0), "held idle");
}

#[test]
fn ram_estimate_is_constant_power() {
    let model = RamPowerModel::for_machine(16 << 30);
    let w = model.watts();
    assert!(w > 0.0);
    let t0 = Instant::now();
    let mut s = RamSensor::new(model, t0);
    let p = s.poll(t0 + Duration::from_secs(10)).unwrap();
    assert_eq!(p.readings[0].method, Method::Ram);
    assert_close(p.readings[0].energy_j, 10.0 * w, "10 s of RAM");
}
