//! The GPU sensor against a fake driver: energy counter, no counter, a counter stuck at zero
//! while power is drawn, and a GPU the workload may not use.

mod common;

use common::assert_close;
use powerhungry_meter::gpu::fake::{FakeBackend, FakeGpu};
use powerhungry_meter::gpu::{GpuInfo, GpuSensor};
use powerhungry_meter::sensor::{Poll, Reading, Sensor};
use powerhungry_meter::{GpuSelection, Method};
use std::time::{Duration, Instant};

fn gpu(index: u32, energy_mj: Option<u64>, power_mw: u32) -> FakeGpu {
    FakeGpu {
        info: GpuInfo {
            index,
            name: "Fake A100".into(),
            uuid: format!("GPU-{index}0000000-aaaa"),
        },
        energy_mj,
        power_mw,
    }
}

fn primary(p: &Poll, index: u32) -> &Reading {
    p.readings
        .iter()
        .find(|r| r.primary && matches!(r.component, powerhungry_meter::Component::Gpu { index: i, .. } if i == index))
        .unwrap()
}

fn at(t0: Instant, s: f64) -> Instant {
    t0 + Duration::from_secs_f64(s)
}

#[test]
fn energy_counter_is_used_where_present() {
    let fake = FakeBackend::new(vec![gpu(0, Some(1_000), 50_000)]);
    let t0 = Instant::now();
    let mut s = GpuSensor::open(Box::new(fake.clone()), None, &GpuSelection::All, t0).unwrap();
    // Counter 1 000 -> 61 000 mJ = 60 J in 1 s.
    fake.set(0, Some(61_000), 70_000);
    let p = s.poll(at(t0, 1.0)).unwrap();
    let r = primary(&p, 0);
    assert_eq!(r.method, Method::NvmlEnergy);
    assert_close(r.energy_j, 60.0, "counter");
    assert!(r.counted);
    // The power path runs alongside (trapezoid (50 + 70) / 2 x 1 s = 60 J), not primary.
    let pw = p
        .readings
        .iter()
        .find(|r| r.method == Method::NvmlPower)
        .unwrap();
    assert!(!pw.primary);
    assert_close(pw.energy_j, 60.0, "power path");
}

#[test]
fn power_is_integrated_without_a_counter() {
    let fake = FakeBackend::new(vec![gpu(0, None, 100_000)]);
    let t0 = Instant::now();
    let mut s = GpuSensor::open(Box::new(fake.clone()), None, &GpuSelection::All, t0).unwrap();
    // Trapezoid: (100 W + 200 W) / 2 x 1 s = 150 J; then (200 + 200) / 2 x 0.5 s = 100 J.
    fake.set(0, None, 200_000);
    let p = s.poll(at(t0, 1.0)).unwrap();
    assert_eq!(p.readings.len(), 1, "no counter reading without a counter");
    assert_eq!(primary(&p, 0).method, Method::NvmlPower);
    assert_close(primary(&p, 0).energy_j, 150.0, "first interval");
    let p = s.poll(at(t0, 1.5)).unwrap();
    assert_close(primary(&p, 0).energy_j, 250.0, "two intervals");
    assert!(p.warnings.is_empty());
}

#[test]
fn counter_stuck_at_zero_while_drawing_power_switches_to_power() {
    let fake = FakeBackend::new(vec![gpu(0, Some(0), 80_000)]);
    let t0 = Instant::now();
    let mut s = GpuSensor::open(Box::new(fake.clone()), None, &GpuSelection::All, t0).unwrap();
    // Flat for 0.5 s at 80 W: suspicious, not yet proof.
    let p = s.poll(at(t0, 0.5)).unwrap();
    assert_eq!(primary(&p, 0).method, Method::NvmlEnergy);
    assert!(p.warnings.is_empty());
    // Flat for 1.0 s (STUCK_AFTER_S) at 80 W (> STUCK_WATTS): the power path takes over.
    let p = s.poll(at(t0, 1.0)).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].contains("flat"), "{}", p.warnings[0]);
    let r = primary(&p, 0);
    assert_eq!(r.method, Method::NvmlPower);
    // 80 W x 1 s, integrated from the first reading.
    assert_close(r.energy_j, 80.0, "power path");
    // It stays on the power path even if the counter moves later.
    fake.set(0, Some(5_000), 80_000);
    let p = s.poll(at(t0, 2.0)).unwrap();
    assert_eq!(primary(&p, 0).method, Method::NvmlPower);
    assert_close(primary(&p, 0).energy_j, 160.0, "power path continues");
}

#[test]
fn idle_gpu_with_flat_counter_is_not_stuck() {
    // 2 W is below STUCK_WATTS: a flat counter at idle is plausible.
    let fake = FakeBackend::new(vec![gpu(0, Some(10), 2_000)]);
    let t0 = Instant::now();
    let mut s = GpuSensor::open(Box::new(fake), None, &GpuSelection::All, t0).unwrap();
    let p = s.poll(at(t0, 3.0)).unwrap();
    assert_eq!(primary(&p, 0).method, Method::NvmlEnergy);
    assert!(p.warnings.is_empty());
}

#[test]
fn gpu_not_visible_to_the_workload_is_reported_apart() {
    let fake = FakeBackend::new(vec![gpu(0, Some(0), 300_000), gpu(1, Some(0), 60_000)]);
    let t0 = Instant::now();
    let mut s = GpuSensor::open(Box::new(fake.clone()), Some("1"), &GpuSelection::All, t0).unwrap();
    fake.set(0, Some(300_000), 300_000);
    fake.set(1, Some(60_000), 60_000);
    let p = s.poll(at(t0, 1.0)).unwrap();
    let g0 = primary(&p, 0);
    assert!(!g0.counted);
    assert!(g0.note.as_deref().unwrap().contains("CUDA_VISIBLE_DEVICES"));
    assert_close(g0.energy_j, 300.0, "gpu0 still read, apart");
    let g1 = primary(&p, 1);
    assert!(g1.counted);
    assert_close(g1.energy_j, 60.0, "gpu1");
    // --gpus selects by NVML index too.
    let s = GpuSensor::open(Box::new(fake), None, &GpuSelection::Indices(vec![0]), t0).unwrap();
    assert!(
        s.describe().contains("apart: not selected by --gpus"),
        "{}",
        s.describe()
    );
}

#[test]
fn the_driver_version_is_part_of_the_description_when_the_driver_gives_it() {
    let mut fake = FakeBackend::new(vec![gpu(0, Some(1_000), 50_000)]);
    let t0 = Instant::now();
    let silent = GpuSensor::open(Box::new(fake.clone()), None, &GpuSelection::All, t0).unwrap();
    assert!(
        silent.describe().starts_with("NVML: gpu0 Fake A100"),
        "{}",
        silent.describe()
    );
    fake.driver = Some("550.54.15".into());
    let s = GpuSensor::open(Box::new(fake), None, &GpuSelection::All, t0).unwrap();
    assert!(
        s.describe()
            .starts_with("NVML (driver 550.54.15): gpu0 Fake A100"),
        "{}",
        s.describe()
    );
}
