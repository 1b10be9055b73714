//! `powerhungry measure` end to end with the real binary: exit codes, errors, the CodeCarbon
//! CSV, and joules measured on a fake powercap tree whose counters move while the command runs.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const V3: [&str; 38] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
];

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../meter/testdata")
        .join(rel)
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The binary in a temp dir, with no GPU probing, an empty sysfs (CPU estimated) and a fixed
/// location so no environment or config file changes the result.
fn measure(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("powerhungry").unwrap();
    c.current_dir(dir)
        .env_remove("POWERHUNGRY_CONFIG")
        .env_remove("POWERHUNGRY_COUNTRY")
        .env_remove("POWERHUNGRY_REGION")
        .env_remove("POWERHUNGRY_CLOUD")
        .env_remove("POWERHUNGRY_INTENSITY")
        .env_remove("POWERHUNGRY_PUE")
        .env("HOME", dir)
        // Tests run in parallel: each gets its own device claims.
        .env("POWERHUNGRY_CLAIM_DIR", dir.join("claims"))
        .args(["measure", "--gpus", "none", "--sysfs-root"])
        .arg(dir.join("no-sys"));
    c
}

#[test]
fn exit_code_is_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    measure(dir.path())
        .args(["--no-csv", "--country", "FRA", "--", "sh", "-c", "exit 3"])
        .assert()
        .code(3);
    // Killed by a signal: 128 + n (SIGTERM = 15).
    measure(dir.path())
        .args([
            "--no-csv",
            "--country",
            "FRA",
            "--",
            "sh",
            "-c",
            "kill -TERM $$",
        ])
        .assert()
        .code(143);
}

#[test]
fn missing_command_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = measure(dir.path())
        .args([
            "--no-csv",
            "--country",
            "FRA",
            "--",
            "/no/such/program-xyz",
            "arg",
        ])
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("command not found") && err.contains("/no/such/program-xyz"),
        "{err}"
    );
    assert!(
        !dir.path().join("emissions.csv").exists(),
        "no row for a run that never started"
    );
    // No command at all: a usage error.
    measure(dir.path()).args(["--no-csv"]).assert().failure();
}

#[test]
fn csv_has_codecarbons_38_columns_and_one_row_per_run() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        measure(dir.path())
            .args(["--project-name", "demo", "--country", "FRA", "--", "true"])
            .assert()
            .success();
    }
    let mut rdr = csv::Reader::from_path(dir.path().join("emissions.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, V3);
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let col = |r: &csv::StringRecord, name: &str| {
        r[V3.iter().position(|c| *c == name).unwrap()].to_string()
    };
    let num = |r: &csv::StringRecord, name: &str| col(r, name).parse::<f64>().unwrap();
    for r in &rows {
        assert_eq!(r.len(), 38);
        assert_eq!(col(r, "project_name"), "demo");
        assert_eq!(col(r, "tracking_mode"), "machine");
        assert_eq!(col(r, "country_iso_code"), "FRA");
        // No GPU: empty, not 0.
        assert_eq!(col(r, "gpu_energy"), "");
        // energy_consumed = cpu + ram (kWh); power = energy / duration.
        let (cpu, ram, total) = (
            num(r, "cpu_energy"),
            num(r, "ram_energy"),
            num(r, "energy_consumed"),
        );
        assert!(cpu > 0.0 && ram > 0.0);
        assert!(
            (cpu + ram - total).abs() <= 1e-12 * total.max(1e-30) * 10.0 + 1e-18,
            "{cpu}+{ram}!={total}"
        );
        let dur = num(r, "duration");
        assert!((num(r, "cpu_power") - cpu * 3.6e6 / dur).abs() < 1e-6 * num(r, "cpu_power"));
    }
    assert_ne!(col(&rows[0], "run_id"), col(&rows[1], "run_id"));
}

#[test]
fn csv_with_another_header_is_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("emissions.csv");
    fs::write(&csv, "a,b,c\n1,2,3\n").unwrap();
    let out = measure(dir.path())
        .args(["--country", "FRA", "--", "touch", "ran"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("emissions.csv") && err.contains("--new-file-on-mismatch"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&csv).unwrap(), "a,b,c\n1,2,3\n");
    assert!(
        !dir.path().join("ran").exists(),
        "checked before running the command"
    );
    // Asked for a new file: the row goes next to it.
    measure(dir.path())
        .args(["--country", "FRA", "--new-file-on-mismatch", "--", "true"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&csv).unwrap(), "a,b,c\n1,2,3\n");
    let mut rdr = csv::Reader::from_path(dir.path().join("emissions-1.csv")).unwrap();
    assert_eq!(rdr.headers().unwrap().len(), 38);
}

#[test]
fn no_location_uses_the_world_average_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = measure(dir.path())
        .args(["--no-csv", "--", "true"])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CO2e"), "{err}");
    assert!(err.to_lowercase().contains("world"), "{err}");
    assert!(err.contains("warning"), "{err}");
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn component<'a>(window: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    window["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {window}"))
}

#[test]
fn joules_from_a_fake_rapl_tree_advanced_while_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("sys");
    copy_tree(&testdata("powercap/desktop"), &sys);
    let pkg = sys.join("class/powercap/intel-rapl:0/energy_uj");
    let dram = sys.join("class/powercap/intel-rapl:0:1/energy_uj");
    let started = dir.path().join("started");
    let done = dir.path().join("done");
    // While the command runs, a thread moves the counters in 10 steps: package
    // 1 000 000 -> 6 000 000 uJ (+5 J), dram 200 000 -> 1 200 000 uJ (+1 J).
    let writer = {
        let (pkg, dram, started, done) = (pkg.clone(), dram.clone(), started.clone(), done.clone());
        std::thread::spawn(move || {
            while !started.exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            for i in 1..=10u64 {
                fs::write(&pkg, format!("{}\n", 1_000_000 + i * 500_000)).unwrap();
                fs::write(&dram, format!("{}\n", 200_000 + i * 100_000)).unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
            fs::write(&done, "").unwrap();
        })
    };
    let script = format!(
        "touch {}; while [ ! -f {} ]; do sleep 0.01; done",
        started.display(),
        done.display()
    );
    let mut cmd = Command::cargo_bin("powerhungry").unwrap();
    cmd.current_dir(dir.path())
        .env("HOME", dir.path())
        .env("POWERHUNGRY_CLAIM_DIR", dir.path().join("claims"))
        .args([
            "measure",
            "--gpus",
            "none",
            "--interval-ms",
            "10",
            "--country",
            "FRA",
            "--json",
            "out.json",
            "--sysfs-root",
        ])
        .arg(&sys)
        .args(["--", "sh", "-c", &script]);
    cmd.timeout(Duration::from_secs(60)).assert().success();
    writer.join().unwrap();
    let v = json(&dir.path().join("out.json"));
    let w = &v["window"];
    let p = component(w, "cpu_package");
    assert_eq!(p["method"], "measured:rapl");
    assert!((p["energy_j"].as_f64().unwrap() - 5.0).abs() < 1e-9, "{p}");
    let d = component(w, "dram");
    assert!((d["energy_j"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{d}");
    // psys did not move and is not counted.
    assert_eq!(component(w, "psys")["counted"], false);
    // Samples were taken in between and integrate to the same 6 J.
    let samples = w["samples"].as_array().unwrap();
    assert!(samples.len() >= 2, "{} samples", samples.len());
    let integrated: f64 = samples
        .iter()
        .map(|s| s["total_w"].as_f64().unwrap() * s["dt_s"].as_f64().unwrap())
        .sum();
    assert!((integrated - 6.0).abs() < 1e-6, "{integrated}");
    // The CSV row says the same in kWh: cpu 5 J, ram 1 J.
    let mut rdr = csv::Reader::from_path(dir.path().join("emissions.csv")).unwrap();
    let row = rdr.records().next().unwrap().unwrap();
    let cpu_kwh: f64 = row[10].parse().unwrap();
    let ram_kwh: f64 = row[12].parse().unwrap();
    assert!((cpu_kwh - 5.0 / 3.6e6).abs() < 1e-15, "{cpu_kwh}");
    assert!((ram_kwh - 1.0 / 3.6e6).abs() < 1e-15, "{ram_kwh}");
}

#[test]
fn process_scope_attributes_a_share_of_cpu() {
    let dir = tempfile::tempdir().unwrap();
    measure(dir.path())
        .args([
            "--no-csv",
            "--scope",
            "process",
            "--country",
            "FRA",
            "--json",
            "p.json",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done",
        ])
        .assert()
        .success();
    let v = json(&dir.path().join("p.json"));
    let p = &v["window"]["process"];
    let share = p["share"].as_f64().unwrap();
    assert!(share > 0.0 && share <= 1.0, "{p}");
    assert_eq!(p["idle_source"], "power model");
    let cpu = component(&v["window"], "cpu_package");
    assert!(cpu["process_j"].as_f64().unwrap() <= cpu["energy_j"].as_f64().unwrap());
}

#[test]
fn idle_baseline_and_exact_joules_when_the_command_moves_the_counter() {
    let dir = tempfile::tempdir().unwrap();
    let sys = dir.path().join("sys");
    copy_tree(&testdata("powercap/desktop"), &sys);
    let pkg = sys.join("class/powercap/intel-rapl:0/energy_uj");
    // Counters are still during the 0.2 s idle measurement (0 W idle), then the command itself
    // moves the package from 1 000 000 to 5 000 000 uJ: 4 J, all of it above idle.
    let script = format!("echo 5000000 > {}", pkg.display());
    Command::cargo_bin("powerhungry")
        .unwrap()
        .current_dir(dir.path())
        .env("POWERHUNGRY_CLAIM_DIR", dir.path().join("claims"))
        .args(["measure", "--gpus", "none", "--sysfs-root"])
        .arg(&sys)
        .args([
            "--idle-seconds",
            "0.2",
            "--country",
            "FRA",
            "--json",
            "i.json",
            "--no-csv",
        ])
        .args(["--", "sh", "-c", &script])
        .assert()
        .success();
    let v = json(&dir.path().join("i.json"));
    let p = component(&v["window"], "cpu_package");
    assert!((p["energy_j"].as_f64().unwrap() - 4.0).abs() < 1e-9, "{p}");
    assert_eq!(p["idle_power_w"].as_f64(), Some(0.0));
    assert!(
        (p["above_idle_j"].as_f64().unwrap() - 4.0).abs() < 1e-9,
        "{p}"
    );
    assert!(v["meter"]["baseline"]["duration_s"].as_f64().unwrap() >= 0.2);
    assert!(v["meter_cost"]["cpu_s"].as_f64().is_some());
}

#[test]
fn two_measures_at_once_count_each_device_once() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("shared-claims");
    let (started, release) = (dir.path().join("started"), dir.path().join("release"));
    // The first run holds the CPU and RAM until the second one has finished.
    let script = format!(
        "touch {}; while [ ! -f {} ]; do sleep 0.01; done",
        started.display(),
        release.display()
    );
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("powerhungry"))
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .args(["measure", "--gpus", "none", "--no-csv", "--country", "FRA"])
        .args(["--json", "first.json", "--sysfs-root"])
        .arg(dir.path().join("no-sys"))
        .arg("--claim-dir")
        .arg(&claims)
        .args(["--", "sh", "-c", &script])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    let t0 = std::time::Instant::now();
    while !started.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "first run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = measure(dir.path())
        .args(["--no-csv", "--country", "FRA", "--json", "second.json"])
        .arg("--claim-dir")
        .arg(&claims)
        .args(["--", "true"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .get_output()
        .clone();
    fs::write(&release, "").unwrap();
    assert!(first.wait().unwrap().success());

    let note = format!("counted by another meter (pid {first_pid})");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NOT COUNTED") && err.contains(&note), "{err}");
    assert!(
        err.contains("total 0.000 J") && err.contains("(nothing counted here)"),
        "{err}"
    );
    let second = json(&dir.path().join("second.json"));
    let first = json(&dir.path().join("first.json"));
    for kind in ["cpu_package", "ram"] {
        let c = component(&second["window"], kind);
        assert_eq!(c["counted"], false, "{c}");
        assert_eq!(c["note"], note.as_str(), "{c}");
        assert_eq!(component(&first["window"], kind)["counted"], true);
    }
    // Nothing counted twice: the second run's total is empty, the first run's is not.
    let total = |v: &serde_json::Value| {
        v["window"]["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["counted"] == true)
            .map(|c| c["energy_j"].as_f64().unwrap())
            .sum::<f64>()
    };
    assert_eq!(total(&second), 0.0);
    assert!(total(&first) > 0.0);

    // A claim held outside powerhungry (here: this test) in the default directory
    // ($POWERHUNGRY_CLAIM_DIR) is respected; --no-claim ignores it, knowingly.
    let default_dir = dir.path().join("claims");
    fs::create_dir_all(&default_dir).unwrap();
    let lock = default_dir.join("ram.lock");
    fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let held = fs::File::open(&lock).unwrap();
    // SAFETY: flock on a descriptor we own.
    let fd = std::os::fd::AsRawFd::as_raw_fd(&held);
    assert_eq!(unsafe { libc::flock(fd, libc::LOCK_EX) }, 0);
    let ram = |name: &str| component(&json(&dir.path().join(name))["window"], "ram").clone();
    for (flag, name) in [
        ("--interval-ms=100", "claimed.json"),
        ("--no-claim", "unclaimed.json"),
    ] {
        measure(dir.path())
            .args(["--no-csv", "--country", "FRA", "--json", name, flag])
            .args(["--", "true"])
            .assert()
            .success();
    }
    let me = format!("counted by another meter (pid {})", std::process::id());
    assert_eq!(ram("claimed.json")["note"], me.as_str());
    assert_eq!(ram("claimed.json")["counted"], false);
    assert_eq!(ram("unclaimed.json")["counted"], true);
    drop(held);
}

#[test]
fn csv_utilisation_columns_from_a_fake_procfs() {
    let dir = tempfile::tempdir().unwrap();
    let procfs = dir.path().join("proc");
    copy_tree(&testdata("procfs/basic"), &procfs);
    // stat goes from busy 200 / total 1000 ticks to busy 400 / total 1400 while the command
    // runs: 200 / 400 = 50 %. meminfo: 16 777 216 kB total, 12 000 000 kB available.
    let script = format!(
        "echo 'cpu  250 0 150 1000 0 0 0 0 0 0' > {}",
        procfs.join("stat").display()
    );
    measure(dir.path())
        .args(["--country", "FRA", "--procfs-root"])
        .arg(&procfs)
        .args(["--", "sh", "-c", &script])
        .assert()
        .success();
    let mut rdr = csv::Reader::from_path(dir.path().join("emissions.csv")).unwrap();
    let row = rdr.records().next().unwrap().unwrap();
    let col = |name: &str| row[V3.iter().position(|c| *c == name).unwrap()].to_string();
    let num = |name: &str| col(name).parse::<f64>().unwrap();
    assert!((num("cpu_utilization_percent") - 50.0).abs() < 1e-9);
    let used_kib = 16_777_216.0 - 12_000_000.0;
    assert!((num("ram_used_gb") - used_kib / 1_048_576.0).abs() < 1e-9);
    assert!((num("ram_utilization_percent") - 100.0 * used_kib / 16_777_216.0).abs() < 1e-9);
    // No GPU: no GPU utilisation, empty rather than 0.
    assert_eq!(col("gpu_utilization_percent"), "");
}

/// Start `measure` on a command that writes its pid to `pid` and then sleeps; wait until the
/// pid is there. Returns the powerhungry process and the command's pid.
fn start_sleeper(dir: &Path, extra: &[&str]) -> (std::process::Child, i32) {
    let pidfile = dir.join("pid");
    let script = format!(
        "echo $$ > {}.tmp; mv {0}.tmp {0}; exec sleep 30",
        pidfile.display()
    );
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("powerhungry"))
        .current_dir(dir)
        .env("HOME", dir)
        .env("POWERHUNGRY_CLAIM_DIR", dir.join("claims"))
        .args(["measure", "--gpus", "none", "--country", "FRA"])
        .args(["--json", "out.json", "--sysfs-root"])
        .arg(dir.join("no-sys"))
        .args(extra)
        .args(["--", "sh", "-c", &script])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let pid = loop {
        if let Ok(s) = fs::read_to_string(&pidfile) {
            break s.trim().parse::<i32>().unwrap();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "command never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    (child, pid)
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn signal_reaches_the_command_and_the_row_says_interrupted(sig: i32, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (ph, pid) = start_sleeper(dir.path(), &[]);
    // SAFETY: kill on the powerhungry process this test started.
    assert_eq!(unsafe { libc::kill(ph.id() as i32, sig) }, 0);
    let out = ph.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Exited (not killed), as the command did: 128 + n.
    assert_eq!(out.status.code(), Some(128 + sig), "{err}");
    // Forwarded, waited for and reaped: no orphan left running.
    if alive(pid) {
        // SAFETY: clean up the orphan this test's subject left.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("the command (pid {pid}) was left running: {err}");
    }
    assert!(
        err.contains(&format!("killed by signal {sig} ({name})")),
        "{err}"
    );
    assert!(err.contains("interrupted"), "{err}");
    let mut rdr = csv::Reader::from_path(dir.path().join("emissions.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let mode = &rows[0][V3.iter().position(|c| *c == "tracking_mode").unwrap()];
    assert_eq!(mode, format!("machine; interrupted by {name}"));
    let v = json(&dir.path().join("out.json"));
    assert_eq!(v["interrupted"]["name"], name, "{v}");
    assert_eq!(v["interrupted"]["signal"], sig);
    assert_eq!(v["exit_code"], 128 + sig);
}

#[test]
fn sigterm_is_forwarded_and_the_row_is_written() {
    signal_reaches_the_command_and_the_row_says_interrupted(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_to_powerhungry_alone_is_forwarded() {
    signal_reaches_the_command_and_the_row_says_interrupted(libc::SIGINT, "SIGINT");
}

#[test]
fn sighup_is_forwarded() {
    signal_reaches_the_command_and_the_row_says_interrupted(libc::SIGHUP, "SIGHUP");
}

#[test]
fn a_command_killed_by_a_signal_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let out = measure(dir.path())
        .args(["--no-csv", "--country", "FRA", "--json", "k.json"])
        .args(["--", "sh", "-c", "kill -TERM $$"])
        .assert()
        .code(143)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("killed by signal 15 (SIGTERM)"), "{err}");
    assert!(!err.contains("exited with 143"), "{err}");
    // Not interrupted: powerhungry itself got no signal.
    assert!(json(&dir.path().join("k.json"))["interrupted"].is_null());
}

#[test]
fn missing_output_directories_are_refused_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--json", "no/such/dir/out.json"),
        ("--output", "nope/e.csv"),
    ] {
        let out = measure(dir.path())
            .args(["--country", "FRA", flag, value, "--", "touch", "ran"])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag) && err.contains(value), "{err}");
        assert!(!dir.path().join("ran").exists(), "{flag}: the command ran");
    }
}

#[test]
fn a_failed_row_write_keeps_the_commands_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    // The directory disappears while the command runs.
    let out = measure(dir.path())
        .args([
            "--country",
            "FRA",
            "--json",
            "sub/out.json",
            "--output",
            "sub/e.csv",
        ])
        .args(["--", "sh", "-c", "rmdir sub; exit 7"])
        .assert()
        .code(7)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sub/out.json") && err.contains("sub/e.csv"),
        "{err}"
    );
}

#[test]
fn measures_appending_to_one_new_csv_at_once_write_one_header() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let name = format!("shared-{round}.csv");
        let runs: Vec<std::process::Child> = (0..6)
            .map(|i| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("powerhungry"))
                    .current_dir(dir.path())
                    .env("HOME", dir.path())
                    .args([
                        "measure",
                        "--gpus",
                        "none",
                        "--no-claim",
                        "--country",
                        "FRA",
                    ])
                    .args(["--output", &name, "--project-name", &format!("run{i}")])
                    .arg("--sysfs-root")
                    .arg(dir.path().join("no-sys"))
                    .args(["--", "true"])
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut r in runs {
            assert!(r.wait().unwrap().success());
        }
        let text = fs::read_to_string(dir.path().join(&name)).unwrap();
        let headers = text.lines().filter(|l| l.starts_with("timestamp,")).count();
        assert_eq!(headers, 1, "{text}");
        let mut rdr = csv::Reader::from_path(dir.path().join(&name)).unwrap();
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 6, "{text}");
    }
}

#[test]
fn measure_numeric_flags_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, range) in [
        ("--idle-seconds", "1e308", "0 to 86400"),
        ("--idle-seconds", "NaN", "0 to 86400"),
        ("--cpu-tdp", "inf", "(0, 100000]"),
        ("--cpu-tdp", "-1", "(0, 100000]"),
    ] {
        let out = measure(dir.path())
            .args(["--no-csv", "--country", "FRA", &format!("{flag}={value}")])
            .args(["--", "touch", "ran"])
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag) && err.contains(range), "{err}");
        assert!(!dir.path().join("ran").exists());
    }
}
