//! RAPL powercap sensor on fake trees: steady counters, a wrap, a reset, a missing range,
//! garbage text, unreadable files. Expected joules are worked out in the comments.

mod common;

use common::{assert_close, set_uj, temp_tree, testdata};
use powerhungry_meter::rapl::{discover, RaplError, RaplSensor};
use powerhungry_meter::sensor::{FileSource, Poll, RealFiles, Sensor};
use powerhungry_meter::{Component, Method};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn energy(poll: &Poll, c: &Component) -> f64 {
    poll.readings
        .iter()
        .find(|r| &r.component == c)
        .unwrap_or_else(|| panic!("no reading for {c}"))
        .energy_j
}

fn open(sys: &Path, t0: Instant) -> RaplSensor {
    RaplSensor::open_with(sys, 10_000.0, Arc::new(RealFiles), t0).unwrap()
}

const PKG: Component = Component::CpuPackage { index: 0 };
const DRAM: Component = Component::Dram { index: 0 };

#[test]
fn discovers_zones_and_avoids_double_counting() {
    let zones = discover(&testdata("powercap/desktop"), &RealFiles).unwrap();
    let by_id = |id: &str| zones.iter().find(|z| z.id == id).unwrap();
    // package and dram are counted; dram is a separate domain, not inside the package.
    assert_eq!(by_id("intel-rapl:0").component, Some(PKG));
    assert!(by_id("intel-rapl:0").counted);
    assert_eq!(by_id("intel-rapl:0:1").component, Some(DRAM));
    assert!(by_id("intel-rapl:0:1").counted);
    // core is inside its package: not read.
    assert_eq!(by_id("intel-rapl:0:0").component, None);
    // psys contains the package: read but not counted.
    assert_eq!(by_id("intel-rapl:1").component, Some(Component::Psys));
    assert!(!by_id("intel-rapl:1").counted);
    // The mmio interface's package-0 duplicates intel-rapl:0.
    assert_eq!(by_id("intel-rapl-mmio:0").component, None);
    assert!(zones.iter().all(|z| z.id != "unrelated-zone"));
    // AMD naming.
    let amd = discover(&testdata("powercap/amd"), &RealFiles).unwrap();
    assert_eq!(amd[0].component, Some(PKG));
    assert_eq!(amd[0].max_range_uj, Some(65532610987));
}

#[test]
fn steady_counters() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    // package 1 000 000 -> 51 000 000 uJ: 50 J; dram 200 000 -> 5 200 000 uJ: 5 J;
    // psys 3 000 000 -> 103 000 000 uJ: 100 J (reported, not counted).
    set_uj(&sys, "intel-rapl:0", 51_000_000);
    set_uj(&sys, "intel-rapl:0:1", 5_200_000);
    set_uj(&sys, "intel-rapl:1", 103_000_000);
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_close(energy(&p, &PKG), 50.0, "package");
    assert_close(energy(&p, &DRAM), 5.0, "dram");
    assert_close(energy(&p, &Component::Psys), 100.0, "psys");
    assert!(p.readings.iter().all(|r| r.method == Method::Rapl));
    assert_eq!(
        p.readings.len(),
        3,
        "core and the mmio duplicate are not read"
    );
    // A second interval adds: package 51 000 000 -> 81 000 000: +30 J.
    set_uj(&sys, "intel-rapl:0", 81_000_000);
    let p = s.poll(t0 + Duration::from_secs(2)).unwrap();
    assert_close(energy(&p, &PKG), 80.0, "package after two intervals");
}

#[test]
fn counter_wraps_mid_window() {
    let (_g, sys) = temp_tree("powercap/desktop");
    set_uj(&sys, "intel-rapl:0", 262_140_000_000);
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    // Wrap at 262 143 328 850: (262 143 328 850 - 262 140 000 000) + 2 000 000
    // = 3 328 850 + 2 000 000 = 5 328 850 uJ = 5.32885 J.
    set_uj(&sys, "intel-rapl:0", 2_000_000);
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert!(p.warnings.is_empty(), "a wrap is normal: {:?}", p.warnings);
    assert_close(energy(&p, &PKG), 5.328_85, "wrapped package");
}

#[test]
fn reset_is_reported_and_bridged() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    // First second: 1 000 000 -> 31 000 000 uJ = 30 J (30 W).
    set_uj(&sys, "intel-rapl:0", 31_000_000);
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert_close(energy(&p, &PKG), 30.0, "before reset");
    // Reset to 1 000: as a wrap it would be (262 143 328 850 - 31 000 000) + 1 000 uJ
    // = 262 112 329 850 uJ, i.e. 262 kJ in 1 s = 262 kW > 10 kW: a reset. The second is
    // bridged with the previous power: 30 W x 1 s = 30 J, so 60 J in all.
    set_uj(&sys, "intel-rapl:0", 1_000);
    let p = s.poll(t0 + Duration::from_secs(2)).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("reset"), "{}", p.warnings[0]);
    assert!(
        p.warnings[0].contains("intel-rapl:0/energy_uj"),
        "{}",
        p.warnings[0]
    );
    assert_close(energy(&p, &PKG), 60.0, "bridged");
    // Counting resumes from the new value: 1 000 -> 20 001 000 uJ = 20 J; 80 J in all.
    set_uj(&sys, "intel-rapl:0", 20_001_000);
    let p = s.poll(t0 + Duration::from_secs(3)).unwrap();
    assert!(p.warnings.is_empty());
    assert_close(energy(&p, &PKG), 80.0, "after reset");
}

#[test]
fn impossible_jump_is_not_a_spike() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    // +20 000 J in 1 s is 20 kW, beyond 10 kW per zone; no previous power: counted as 0 J
    // and reported.
    set_uj(&sys, "intel-rapl:0", 20_001_000_000);
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].contains("could not be bridged"),
        "{}",
        p.warnings[0]
    );
    assert_close(energy(&p, &PKG), 0.0, "no spike");
}

#[test]
fn missing_max_energy_range() {
    let (_g, sys) = temp_tree("powercap/no-max-range");
    let zones = discover(&sys, &RealFiles).unwrap();
    assert_eq!(zones[0].max_range_uj, None);
    assert!(zones[0]
        .note
        .as_deref()
        .unwrap_or("")
        .contains("max_energy_range_uj"));
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    // Increases are read normally: 1 000 000 -> 11 000 000 uJ = 10 J (10 W).
    set_uj(&sys, "intel-rapl:0", 11_000_000);
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert_close(energy(&p, &PKG), 10.0, "increase");
    // A decrease can't be told from a reset without the range: bridged with 10 W x 2 s = 20 J.
    set_uj(&sys, "intel-rapl:0", 500);
    let p = s.poll(t0 + Duration::from_secs(3)).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].contains("unknown"), "{}", p.warnings[0]);
    assert_close(energy(&p, &PKG), 30.0, "bridged decrease");
}

#[test]
fn garbage_text_names_the_file() {
    let err = RaplSensor::open(&testdata("powercap/garbage"), 10_000.0)
        .err()
        .expect("garbage must not parse");
    let msg = err.to_string();
    assert!(matches!(err, RaplError::Parse { .. }), "{msg}");
    assert!(msg.contains("intel-rapl:0/energy_uj"), "{msg}");
    assert!(msg.contains("n/a"), "{msg}");
}

#[test]
fn garbage_appearing_later_is_a_warning_then_recovers() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let t0 = Instant::now();
    let mut s = open(&sys, t0);
    std::fs::write(
        sys.join("class/powercap/intel-rapl:0/energy_uj"),
        "garbage\n",
    )
    .unwrap();
    let p = s.poll(t0 + Duration::from_secs(1)).unwrap();
    assert!(
        p.warnings[0].contains("intel-rapl:0/energy_uj"),
        "{:?}",
        p.warnings
    );
    assert_close(energy(&p, &PKG), 0.0, "nothing yet");
    // The next good read covers both seconds: 1 000 000 -> 41 000 000 uJ = 40 J.
    set_uj(&sys, "intel-rapl:0", 41_000_000);
    let p = s.poll(t0 + Duration::from_secs(2)).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_close(energy(&p, &PKG), 40.0, "recovered");
}

#[test]
fn a_directory_where_a_file_is_expected() {
    // Tests run as root, which reads anything: make the file unreadable another way.
    let (_g, sys) = temp_tree("powercap/desktop");
    let f = sys.join("class/powercap/intel-rapl:0/energy_uj");
    std::fs::remove_file(&f).unwrap();
    std::fs::create_dir(&f).unwrap();
    let msg = RaplSensor::open(&sys, 10_000.0).err().unwrap().to_string();
    assert!(msg.contains("intel-rapl:0/energy_uj"), "{msg}");
}

/// The real filesystem, except that one path answers EACCES, as energy_uj does for a
/// non-root user since Linux 5.10.
struct Denied(PathBuf);

impl FileSource for Denied {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        if path == self.0 {
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        } else {
            std::fs::read_to_string(path)
        }
    }
}

#[test]
fn permission_denied_explains_how_to_grant_access() {
    let sys = testdata("powercap/desktop");
    let denied = sys.join("class/powercap/intel-rapl:0/energy_uj");
    let err = RaplSensor::open_with(&sys, 10_000.0, Arc::new(Denied(denied)), Instant::now())
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(matches!(err, RaplError::PermissionDenied { .. }));
    assert!(msg.contains("intel-rapl:0/energy_uj"), "{msg}");
    assert!(msg.contains("chmod a+r"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn no_powercap_or_no_zones() {
    let dir = tempfile::tempdir().unwrap();
    let e = RaplSensor::open(dir.path(), 10_000.0).err().unwrap();
    assert!(matches!(e, RaplError::NoPowercap(_)), "{e}");
    let e = RaplSensor::open(&testdata("powercap/empty"), 10_000.0)
        .err()
        .unwrap();
    assert!(matches!(e, RaplError::NoZones(_)), "{e}");
}
