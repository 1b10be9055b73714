//! `powerhungry sensors` on fake trees: what it finds and why not.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/testdata")
        .join(rel)
}

#[test]
fn reports_rapl_zones_cpu_and_ram() {
    let out = Command::cargo_bin("powerhungry")
        .unwrap()
        .args(["sensors", "--sysfs-root"])
        .arg(testdata("powercap/desktop"))
        .arg("--procfs-root")
        .arg(testdata("procfs/basic"))
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("intel-rapl:0 ") && text.contains("package-0"),
        "{text}"
    );
    assert!(
        text.contains("psys") && text.contains("not counted"),
        "{text}"
    );
    assert!(text.contains("Xeon(R) Gold 6148"), "{text}");
    assert!(text.contains("16.0 GiB"), "{text}");
    assert!(text.contains("RAPL powercap"), "{text}");
}

#[test]
fn says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("powerhungry")
        .unwrap()
        .args(["sensors", "--json", "--sysfs-root"])
        .arg(dir.path())
        .arg("--procfs-root")
        .arg(testdata("procfs/basic"))
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let why = v["rapl"]["Err"].as_str().unwrap();
    assert!(why.contains("no powercap directory"), "{why}");
    // Without a driver, NVML's load error is the reason (on a GPU machine, the GPUs).
    assert!(
        v["gpus"]["Err"].is_string() || v["gpus"]["Ok"].is_array(),
        "{v}"
    );
    assert_eq!(v["cpu"]["Ok"]["logical_cpus"], 2);
    let sensors = v["sensors"].as_array().unwrap();
    assert!(
        sensors.iter().any(|s| s["name"] == "cpu-load estimate"),
        "{v}"
    );
}
