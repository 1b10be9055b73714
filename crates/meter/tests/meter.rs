//! The meter end to end on fake trees: windows read counters at their edges, nest, carry
//! methods; GPUs outside CUDA_VISIBLE_DEVICES stay apart; baseline; process scope.

mod common;

use common::{assert_close, set_uj, temp_tree};
use powerhungry_meter::estimate::cpu::IDLE_FRACTION;
use powerhungry_meter::gpu::fake::{FakeBackend, FakeGpu};
use powerhungry_meter::gpu::{GpuBackend, GpuInfo};
use powerhungry_meter::sensor::FileSource;
use powerhungry_meter::setup::{build_sensors_with, build_sensors_with_files};
use powerhungry_meter::{
    Component, ComponentClass, GpuSelection, Meter, MeterConfig, Method, Scope, WindowReport,
};
use std::fs;
use std::path::Path;
use std::time::Duration;

fn config(sys: &Path, proc_root: &Path) -> MeterConfig {
    MeterConfig {
        interval: Duration::from_millis(5),
        sysfs_root: sys.to_path_buf(),
        procfs_root: proc_root.to_path_buf(),
        gpus: GpuSelection::None,
        cuda_visible_devices: None,
        cpu_tdp: Some(100.0),
        ..MeterConfig::default()
    }
}

fn energy(w: &WindowReport, c: &Component) -> f64 {
    w.components
        .iter()
        .find(|e| &e.component == c)
        .unwrap()
        .energy_j
}

const PKG: Component = Component::CpuPackage { index: 0 };
const DRAM: Component = Component::Dram { index: 0 };

#[test]
fn nested_windows_read_counters_at_their_edges() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let meter = Meter::start(config(&sys, &proc_root)).unwrap();
    // package starts at 1 000 000 uJ, dram at 200 000 uJ.
    let outer = meter.open_window("outer");
    set_uj(&sys, "intel-rapl:0", 2_000_000); // +1 J
    set_uj(&sys, "intel-rapl:0:1", 700_000); // dram +0.5 J
    let inner = meter.open_window("inner");
    set_uj(&sys, "intel-rapl:0", 4_000_000); // +2 J
    let w_inner = meter.close_window(inner).unwrap();
    set_uj(&sys, "intel-rapl:0", 7_000_000); // +3 J
    set_uj(&sys, "intel-rapl:1", 9_000_000); // psys +6 J, apart
    let w_outer = meter.close_window(outer).unwrap();

    assert_eq!(w_inner.name, "inner");
    assert_close(energy(&w_inner, &PKG), 2.0, "inner package");
    assert_close(energy(&w_inner, &DRAM), 0.0, "inner dram");
    // Outer: package 1 + 2 + 3 = 6 J, dram 0.5 J; psys 6 J reported but not counted.
    assert_close(energy(&w_outer, &PKG), 6.0, "outer package");
    assert_close(energy(&w_outer, &DRAM), 0.5, "outer dram");
    assert_close(energy(&w_outer, &Component::Psys), 6.0, "psys");
    assert_close(w_outer.total_j(), 6.5, "total without psys");
    assert_close(w_outer.class_j(ComponentClass::Ram), 0.5, "ram class");
    assert_eq!(w_outer.methods_label(), "measured:rapl");
    assert!(w_outer.duration_s >= w_inner.duration_s);
    assert!(w_outer.above_idle_j().is_none(), "no baseline");
    // With RAPL package and DRAM there is no estimate at all.
    assert!(w_outer.components.iter().all(|c| c.method == Method::Rapl));

    // Closing twice is an error, not a panic.
    assert!(meter.close_window(inner).is_err());

    let report = meter.finish().unwrap();
    assert_eq!(report.windows.len(), 2);
    // The whole run covers both windows: 6 J package, 0.5 J dram.
    assert_close(energy(&report.total, &PKG), 6.0, "total window");
    // Samples add up to the window's energy (each sample is energy/dt over its interval).
    // The closed window returned them; the report keeps none (memory stays bounded).
    assert!(report.total.samples.is_empty() && report.windows[1].samples.is_empty());
    let from_samples: f64 = w_outer
        .samples
        .iter()
        .flat_map(|s| {
            s.components
                .iter()
                .filter(|c| c.component == PKG)
                .map(move |c| c.watts * s.dt_s)
        })
        .sum();
    assert_close(from_samples, 6.0, "samples integrate to the window");
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"measured:rapl\""));
}

#[test]
fn meter_is_send_and_sync_and_reports_live_power() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Meter>();
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let meter = std::sync::Arc::new(Meter::start(config(&sys, &proc_root)).unwrap());
    // Used from another thread, as the harness does.
    let m = std::sync::Arc::clone(&meter);
    let r = std::thread::spawn(move || {
        let w = m.open_window("from another thread");
        m.close_window(w)
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(r.name, "from another thread");
    // live_watts is the latest sample's counted total: 0 W while counters don't move.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(meter.live_watts(), 0.0);
}

#[test]
fn process_scope_with_a_missing_pid_warns() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let meter = Meter::start(config(&sys, &proc_root)).unwrap();
    meter.track_process(4_000_000);
    let w = meter.open_window("w");
    let r = meter.close_window(w).unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("process scope") && w.contains("4000000")),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.process.as_ref().unwrap().share, 0.0);
}

#[test]
fn idle_baseline_gives_energy_above_idle() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let meter = Meter::start(config(&sys, &proc_root)).unwrap();
    let writer = {
        let sys = sys.clone();
        std::thread::spawn(move || {
            // Well inside the 1 s idle measurement, even on a loaded machine.
            std::thread::sleep(Duration::from_millis(50));
            set_uj(&sys, "intel-rapl:0", 3_000_000); // +2 J during the idle measurement
        })
    };
    let base = meter.measure_idle(Duration::from_secs(1));
    writer.join().unwrap();
    let pkg_idle = base.components.iter().find(|c| c.component == PKG).unwrap();
    // 2 J over the baseline's duration.
    assert_close(pkg_idle.watts * base.duration_s, 2.0, "idle energy");

    let w = meter.open_window("work");
    set_uj(&sys, "intel-rapl:0", 13_000_000); // +10 J
    let r = meter.close_window(w).unwrap();
    let c = r.components.iter().find(|c| c.component == PKG).unwrap();
    assert_close(c.energy_j, 10.0, "work");
    let expected = 10.0 - pkg_idle.watts * r.duration_s;
    assert_close(c.above_idle_j.unwrap(), expected, "above idle");
    assert!(r.above_idle_j().is_some());
}

fn fake_gpu(index: u32) -> FakeGpu {
    FakeGpu {
        info: GpuInfo {
            index,
            name: "Fake H100".into(),
            uuid: format!("GPU-{index}abc"),
        },
        energy_mj: Some(0),
        power_mw: 1_000,
    }
}

#[test]
fn gpus_outside_cuda_visible_devices_are_not_summed() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let mut cfg = config(&sys, &proc_root);
    cfg.gpus = GpuSelection::All;
    cfg.cuda_visible_devices = Some("0".into());
    let fake = FakeBackend::new(vec![fake_gpu(0), fake_gpu(1)]);
    let backend: Box<dyn GpuBackend> = Box::new(fake.clone());
    let found = build_sensors_with(&cfg, Some(Ok(backend)));
    let meter = Meter::start_with_sensors(cfg, found.sensors, found.warnings).unwrap();
    let w = meter.open_window("w");
    fake.set(0, Some(100_000), 1_000); // gpu0 +100 J
    fake.set(1, Some(50_000), 1_000); // gpu1 +50 J, not visible
    set_uj(&sys, "intel-rapl:0", 2_000_000); // +1 J
    let r = meter.close_window(w).unwrap();
    let gpu = |i: u32| {
        r.components
            .iter()
            .find(|c| matches!(c.component, Component::Gpu { index, .. } if index == i))
            .unwrap()
    };
    assert!(gpu(0).counted);
    assert_eq!(gpu(0).method, Method::NvmlEnergy);
    assert_close(gpu(0).energy_j, 100.0, "gpu0");
    assert!(!gpu(1).counted);
    assert_close(gpu(1).energy_j, 50.0, "gpu1 apart");
    // 100 J gpu0 + 1 J package + 0 J dram; gpu1 not added.
    assert_close(r.total_j(), 101.0, "total");
    assert_close(r.class_j(ComponentClass::Gpu), 100.0, "gpu class");
    assert_eq!(r.methods_label(), "measured:rapl+measured:nvml-energy");
}

#[test]
fn falls_back_to_estimates_with_warnings() {
    let (_p, proc_root) = temp_tree("procfs/basic");
    let sys = common::testdata("powercap/garbage");
    let meter = Meter::start(config(&sys, &proc_root)).unwrap();
    let warnings = meter.startup_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("intel-rapl:0/energy_uj") && w.contains("estimated")),
        "{warnings:?}"
    );
    let w = meter.open_window("w");
    std::thread::sleep(Duration::from_millis(20));
    let r = meter.close_window(w).unwrap();
    let methods: Vec<Method> = r.components.iter().map(|c| c.method).collect();
    assert_eq!(methods, vec![Method::CpuLoad, Method::Ram]);
    assert_eq!(r.methods_label(), "estimated:cpu-load+estimated:ram");
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("intel-rapl:0/energy_uj")));
}

fn pid_stat(pid: u32, ppid: u32, utime: u64, stime: u64) -> String {
    format!("{pid} (worker thread) S {ppid} {pid} {pid} 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 100")
}

#[test]
fn process_scope_bills_the_tree_its_share_of_dynamic_cpu_energy() {
    let dir = tempfile::tempdir().unwrap();
    let empty_sys = dir.path().join("sys"); // no powercap: CPU estimated
    let (_p, proc_root) = temp_tree("procfs/basic");
    let write = |rel: &str, text: &str| {
        let p = proc_root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    // Tree: 4242 -> 4243. 999 is a busy neighbour outside the tree.
    write("4242/stat", &pid_stat(4242, 1, 10, 0));
    write("4242/task/4242/children", "4243");
    write("4243/stat", &pid_stat(4243, 4242, 5, 0));
    write("4243/task/4243/children", "");
    write("999/stat", &pid_stat(999, 1, 500, 0));
    let mut cfg = config(&empty_sys, &proc_root);
    cfg.scope = Scope::Process { pid: 4242 };
    let meter = Meter::start(cfg).unwrap();
    let w = meter.open_window("w");
    // Machine busy +120 ticks (user 100 -> 220); tree +30 (4242 +20, 4243 +10); the
    // neighbour +90. Share = 30 / 120 = 0.25.
    write("stat", "cpu  220 0 100 880 0 0 0 0 0 0\n");
    write("4242/stat", &pid_stat(4242, 1, 25, 5));
    write("4243/stat", &pid_stat(4243, 4242, 12, 3));
    write("999/stat", &pid_stat(999, 1, 590, 0));
    std::thread::sleep(Duration::from_millis(30));
    let r = meter.close_window(w).unwrap();
    let p = r.process.as_ref().unwrap();
    assert_eq!(p.pid, 4242);
    assert_close(p.share, 0.25, "share");
    assert_eq!(p.idle_source, "power model");
    let cpu = r.components.iter().find(|c| c.component == PKG).unwrap();
    assert_eq!(cpu.method, Method::CpuLoad);
    // Kepler's rule: share x (E - P_idle x duration), P_idle = 100 W x IDLE_FRACTION.
    let idle_j = 100.0 * IDLE_FRACTION * r.duration_s;
    assert_close(p.cpu_idle_j, idle_j, "idle kept apart");
    assert_close(
        cpu.process_j.unwrap(),
        0.25 * (cpu.energy_j - idle_j),
        "billed",
    );
    // No `<pid>/statm` in this tree: RAM stays machine-wide, with a warning saying so; the
    // total bills the process share for the CPU.
    assert!(p.ram_share.is_none());
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("statm") && w.contains("RAM energy stays machine-wide")),
        "{:?}",
        r.warnings
    );
    let ram = r
        .components
        .iter()
        .find(|c| c.component == Component::Ram)
        .unwrap();
    assert!(ram.process_j.is_none());
    assert_close(r.total_j(), cpu.process_j.unwrap() + ram.energy_j, "total");
}

/// The real files, except that every `energy_uj` answers EACCES, as for a non-root user since
/// Linux 5.10 (tests run as root, who could read a chmod 000 file).
struct NoEnergyAccess;

impl FileSource for NoEnergyAccess {
    fn read_to_string(&self, path: &Path) -> std::io::Result<String> {
        if path.ends_with("energy_uj") {
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        } else {
            fs::read_to_string(path)
        }
    }
}

#[test]
fn rapl_permission_denied_falls_back_to_estimates_with_the_fix() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let cfg = config(&sys, &proc_root);
    let found = build_sensors_with_files(&cfg, None, std::sync::Arc::new(NoEnergyAccess));
    let meter = Meter::start_with_sensors(cfg, found.sensors, found.warnings).unwrap();
    let w = meter.open_window("w");
    let r = meter.close_window(w).unwrap();
    let methods: Vec<Method> = r.components.iter().map(|c| c.method).collect();
    assert_eq!(methods, vec![Method::CpuLoad, Method::Ram]);
    let warning = r
        .warnings
        .iter()
        .find(|w| w.contains("permission denied"))
        .expect("a permission warning");
    assert!(warning.contains("intel-rapl:0"), "{warning}");
    assert!(warning.contains("sudo chmod a+r"), "{warning}");
    assert!(warning.contains("estimated"), "{warning}");
}

#[test]
fn windows_carry_machine_cpu_and_ram_utilisation() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let meter = Meter::start(config(&sys, &proc_root)).unwrap();
    // stat starts at busy 100 + 100 = 200 of 1000 ticks.
    let w = meter.open_window("w");
    // +150 user +50 system = +200 busy, +200 idle: 200 / 400 = 50 %.
    fs::write(proc_root.join("stat"), "cpu  250 0 150 1000 0 0 0 0 0 0\n").unwrap();
    let r = meter.close_window(w).unwrap();
    assert_close(r.cpu_utilization_percent.unwrap(), 50.0, "cpu utilisation");
    // meminfo: 16 777 216 kB total, 12 000 000 kB available.
    let ram = r.ram.unwrap();
    assert_eq!(ram.used_bytes, (16_777_216 - 12_000_000) * 1024);
    assert_eq!(ram.total_bytes, 16_777_216 * 1024);
    assert_close(ram.percent(), 100.0 * 4_777_216.0 / 16_777_216.0, "ram %");
    // No tick elapsed in the next window: unknown, not 0 %.
    let w = meter.open_window("still");
    let r = meter.close_window(w).unwrap();
    assert!(r.cpu_utilization_percent.is_none());
    // meminfo unparsable: no RAM figure, no panic. (The meter keeps meminfo open and rereads
    // it in place, as procfs files never go away; a rewritten file is what a test can fake.)
    fs::write(proc_root.join("meminfo"), "MemTotal: lots\n").unwrap();
    let w = meter.open_window("no-meminfo");
    assert!(meter.close_window(w).unwrap().ram.is_none());
}

#[test]
fn gpu_utilisation_is_the_mean_over_counted_gpus_and_the_window() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let mut cfg = config(&sys, &proc_root);
    cfg.gpus = GpuSelection::All;
    cfg.cuda_visible_devices = Some("0,1".into());
    let fake = FakeBackend::new(vec![fake_gpu(0), fake_gpu(1), fake_gpu(2)]);
    let backend: Box<dyn GpuBackend> = Box::new(fake.clone());
    let found = build_sensors_with(&cfg, Some(Ok(backend)));
    let meter = Meter::start_with_sensors(cfg, found.sensors, found.warnings).unwrap();
    // No utilisation from the driver: no figure (an empty CSV field), not 0 %.
    let w = meter.open_window("none");
    assert!(meter
        .close_window(w)
        .unwrap()
        .gpu_utilization_percent
        .is_none());
    // Constant 40 % and 80 % on the counted GPUs; gpu2 (not visible) at 100 % is left out.
    fake.set_utilization(0, 40);
    fake.set_utilization(1, 80);
    fake.set_utilization(2, 100);
    let w = meter.open_window("busy");
    std::thread::sleep(Duration::from_millis(30));
    let r = meter.close_window(w).unwrap();
    assert_close(
        r.gpu_utilization_percent.unwrap(),
        60.0,
        "mean of 40 and 80",
    );
}

#[test]
fn process_scope_bills_the_tree_its_share_of_the_ram_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let empty_sys = dir.path().join("sys"); // no powercap: CPU and RAM estimated
    let (_p, proc_root) = temp_tree("procfs/basic");
    let write = |rel: &str, text: &str| {
        let p = proc_root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    // Tree 4242 -> 4243 resident 300 + 100 pages; neighbour 999 holds 10 000 pages.
    write("4242/stat", &pid_stat(4242, 1, 10, 0));
    write("4242/statm", "5000 300 50 10 0 400 0\n");
    write("4242/task/4242/children", "4243");
    write("4243/stat", &pid_stat(4243, 4242, 5, 0));
    write("4243/statm", "2000 100 20 10 0 150 0\n");
    write("4243/task/4243/children", "");
    write("999/stat", &pid_stat(999, 1, 500, 0));
    write("999/statm", "90000 10000 0 0 0 0 0\n");
    let mut cfg = config(&empty_sys, &proc_root);
    cfg.scope = Scope::Process { pid: 4242 };
    // No sampler poll inside the window: its edges alone decide (deterministic).
    cfg.interval = Duration::from_secs(3600);
    let meter = Meter::start(cfg).unwrap();
    let w = meter.open_window("w");
    std::thread::sleep(Duration::from_millis(20));
    // The tree exits before the window closes (a zombie's statm reads zero): its last
    // interval is still billed with the memory it held while alive.
    write("4242/statm", "0 0 0 0 0 0 0\n");
    write("4243/statm", "0 0 0 0 0 0 0\n");
    let r = meter.close_window(w).unwrap();
    let p = r.process.as_ref().unwrap();
    // meminfo: MemTotal 16 777 216 kB - MemAvailable 12 000 000 kB in use.
    let used = (16_777_216u64 - 12_000_000) * 1024;
    let rss = 400 * powerhungry_meter::procfs::page_size();
    let share = rss as f64 / used as f64;
    assert_close(p.ram_share.unwrap(), share, "ram share");
    assert_close(p.tree_ram_bytes.unwrap(), rss as f64, "tree rss");
    assert_close(p.machine_ram_used_bytes.unwrap(), used as f64, "ram in use");
    let ram = r
        .components
        .iter()
        .find(|c| c.component == Component::Ram)
        .unwrap();
    assert!(ram.energy_j > 0.0);
    assert_close(ram.process_j.unwrap(), share * ram.energy_j, "ram billed");
    assert_close(
        p.ram_apart_j,
        ram.energy_j - ram.process_j.unwrap(),
        "ram kept apart",
    );
    let cpu = r.components.iter().find(|c| c.component == PKG).unwrap();
    assert_close(
        r.total_j(),
        cpu.process_j.unwrap() + ram.process_j.unwrap(),
        "total bills both shares",
    );
    assert!(r.total_j() < cpu.energy_j + ram.energy_j);
}

#[test]
fn estimators_alone_are_sampled_at_their_cadence_and_the_report_says_so() {
    // No powercap zone: the CPU-load and RAM estimators only, which read /proc at most every
    // 50 ms. A 10 ms sampler would repeat each figure five times at five times the cost.
    let empty_sys = tempfile::tempdir().unwrap();
    let (_p, proc_root) = temp_tree("procfs/basic");
    let mut cfg = config(empty_sys.path(), &proc_root);
    cfg.interval = Duration::from_millis(10);
    let meter = Meter::start(cfg).unwrap();
    let w = meter.open_window("w");
    std::thread::sleep(Duration::from_millis(600));
    let r = meter.close_window(w).unwrap();
    let report = meter.finish().unwrap();
    assert_eq!(report.interval_s, 0.05);
    assert_eq!(report.requested_interval_s, 0.01);
    let note = report
        .warnings
        .iter()
        .find(|w| w.contains("sampling every 50 ms, not the 10 ms asked"))
        .unwrap_or_else(|| panic!("no note of the stretched interval in {:?}", report.warnings));
    assert!(
        note.contains("window edges are still read exactly"),
        "{note}"
    );
    // 600 ms at 50 ms is 12 sampler polls (plus the edges); at 10 ms it would be ~60.
    assert!(
        r.samples.len() <= 16,
        "{} samples in 600 ms: sampled faster than the estimators change",
        r.samples.len()
    );
}

#[test]
fn a_counter_is_sampled_at_the_interval_asked() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let mut cfg = config(&sys, &proc_root);
    cfg.interval = Duration::from_millis(10);
    let meter = Meter::start(cfg).unwrap();
    let report = meter.finish().unwrap();
    assert_eq!(report.interval_s, 0.01);
    assert_eq!(report.requested_interval_s, 0.01);
    assert!(
        !report.warnings.iter().any(|w| w.contains("sampling every")),
        "{:?}",
        report.warnings
    );
}
