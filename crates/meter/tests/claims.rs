//! Two meters at once on one machine (two Slurm ranks, or a bench beside a measure) with one
//! claim directory: each device is counted by exactly one of them; the other reports it apart.

mod common;

use common::{assert_close, set_uj, temp_tree};
use powerhungry_meter::gpu::fake::{FakeBackend, FakeGpu};
use powerhungry_meter::gpu::{GpuBackend, GpuInfo};
use powerhungry_meter::setup::build_sensors_with;
use powerhungry_meter::{
    ClaimPolicy, ComponentEnergy, GpuSelection, Meter, MeterConfig, MeterError, WindowReport,
};
use std::path::Path;
use std::time::Duration;

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

/// A meter on the fake trees seeing GPUs 0 and 1 through `fake`, allowed `cuda` only.
fn start(sys: &Path, proc_root: &Path, claims: &Path, cuda: &str, fake: &FakeBackend) -> Meter {
    try_start(sys, proc_root, claims, cuda, fake, ClaimPolicy::Exclude).unwrap()
}

fn try_start(
    sys: &Path,
    proc_root: &Path,
    claims: &Path,
    cuda: &str,
    fake: &FakeBackend,
    claim_policy: ClaimPolicy,
) -> Result<Meter, MeterError> {
    let cfg = MeterConfig {
        claim_policy,
        interval: Duration::from_millis(5),
        sysfs_root: sys.to_path_buf(),
        procfs_root: proc_root.to_path_buf(),
        gpus: GpuSelection::All,
        cuda_visible_devices: Some(cuda.into()),
        claim_dir: Some(claims.to_path_buf()),
        ..MeterConfig::default()
    };
    let backend: Box<dyn GpuBackend> = Box::new(fake.clone());
    let found = build_sensors_with(&cfg, Some(Ok(backend)));
    Meter::start_with_sensors(cfg, found.sensors, found.warnings)
}

fn get<'a>(w: &'a WindowReport, name: &str) -> &'a ComponentEnergy {
    w.components
        .iter()
        .find(|c| c.component.to_string().starts_with(name))
        .unwrap_or_else(|| panic!("{name} missing from {:?}", w.components))
}

#[test]
fn two_ranks_share_the_node_each_device_counted_once() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let claims = tempfile::tempdir().unwrap();
    let fake = FakeBackend::new(vec![fake_gpu(0), fake_gpu(1)]);
    // Rank 0 uses GPU 0, rank 1 GPU 1; both see the same CPU package and DRAM.
    let rank0 = start(&sys, &proc_root, claims.path(), "0", &fake);
    let rank1 = start(&sys, &proc_root, claims.path(), "1", &fake);
    let (w0, w1) = (rank0.open_window("job"), rank1.open_window("job"));
    set_uj(&sys, "intel-rapl:0", 3_000_000); // package +2 J (starts at 1 000 000 uJ)
    set_uj(&sys, "intel-rapl:0:1", 700_000); // dram +0.5 J
    fake.set(0, Some(100_000), 1_000); // gpu0 +100 J
    fake.set(1, Some(40_000), 1_000); // gpu1 +40 J
    let (r0, r1) = (
        rank0.close_window(w0).unwrap(),
        rank1.close_window(w1).unwrap(),
    );

    // Rank 0 started first: package, DRAM and its GPU.
    assert_close(r0.total_j(), 2.0 + 0.5 + 100.0, "rank 0 total");
    assert!(get(&r0, "cpu-package0").counted && get(&r0, "gpu0").counted);
    // Rank 1: its own GPU only; the package and DRAM are shown with their energy, not summed.
    assert_close(r1.total_j(), 40.0, "rank 1 total");
    let me = std::process::id();
    for name in ["cpu-package0", "dram0"] {
        let c = get(&r1, name);
        assert!(!c.counted, "{name} counted twice");
        assert_eq!(
            c.note.as_deref(),
            Some(format!("counted by another meter (pid {me})").as_str())
        );
    }
    assert_close(get(&r1, "cpu-package0").energy_j, 2.0, "reported apart");
    assert!(
        r1.warnings
            .iter()
            .any(|w| w.starts_with("cpu-package0: counted by another meter")),
        "{:?}",
        r1.warnings
    );
    // Summed over the ranks: every joule once (2 + 0.5 + 100 + 40).
    assert_close(r0.total_j() + r1.total_j(), 142.5, "job total");

    // A third meter now finds every device taken: it counts nothing, a clean +0 J.
    let third = start(&sys, &proc_root, claims.path(), "0,1", &fake);
    let r3 = third.finish().unwrap().total;
    assert!(r3.components.iter().all(|c| !c.counted), "{r3:?}");
    assert!(r3.total_j() == 0.0 && r3.total_j().is_sign_positive());
    assert_eq!(r3.methods_label(), "");
    // ... and says so: nothing measured, every needed device named as uncounted.
    assert!(r3.is_nothing_measured() && r3.is_incomplete());
    assert_eq!(r3.counted_components(), 0);
    for dev in [
        "cpu-package0",
        "dram0",
        "gpu0 (Fake H100)",
        "gpu1 (Fake H100)",
    ] {
        assert!(
            r3.incomplete.iter().any(|d| d == dev),
            "{:?}",
            r3.incomplete
        );
    }
    // Rank 0 counted everything it needed; rank 1 lacks the package and DRAM.
    assert!(r0.incomplete.is_empty() && !r0.is_incomplete());
    assert_eq!(r1.incomplete, vec!["cpu-package0", "dram0"]);
    assert!(r1.is_incomplete() && !r1.is_nothing_measured());

    // Once rank 0 is gone, a new meter gets the package (and rank 1 keeps GPU 1).
    rank0.finish().unwrap();
    let next = start(&sys, &proc_root, claims.path(), "0,1", &fake);
    let w = next.open_window("next");
    set_uj(&sys, "intel-rapl:0", 4_000_000); // +1 J
    let r = next.close_window(w).unwrap();
    assert!(get(&r, "cpu-package0").counted && get(&r, "gpu0").counted);
    assert!(!get(&r, "gpu1").counted, "still rank 1's");
    assert_close(r.total_j(), 1.0, "next total");
    drop(rank1);
}

#[test]
fn without_a_claim_dir_nothing_is_claimed() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let cfg = MeterConfig {
        sysfs_root: sys.clone(),
        procfs_root: proc_root.clone(),
        gpus: GpuSelection::None,
        ..MeterConfig::default()
    };
    assert!(
        cfg.claim_dir.is_none(),
        "the library default does not claim"
    );
    let a = Meter::start(cfg.clone()).unwrap();
    let b = Meter::start(cfg).unwrap();
    let (ra, rb) = (a.finish().unwrap(), b.finish().unwrap());
    assert!(get(&ra.total, "cpu-package0").counted);
    assert!(get(&rb.total, "cpu-package0").counted);
}

#[test]
fn refuse_policy_names_the_device_and_the_holders_pid() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let claims = tempfile::tempdir().unwrap();
    let fake = FakeBackend::new(vec![fake_gpu(0), fake_gpu(1)]);
    let holder = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "0",
        &fake,
        ClaimPolicy::Refuse,
    )
    .expect("the first meter claims freely");
    // A second meter needing the package and DRAM (and GPU 1, which is free) refuses.
    let err = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "1",
        &fake,
        ClaimPolicy::Refuse,
    )
    .err()
    .expect("refused");
    let MeterError::DeviceClaimed(held) = &err else {
        panic!("{err}");
    };
    let keys: Vec<&str> = held.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["cpu-package0", "dram0"]);
    let me = std::process::id();
    assert!(held.iter().all(|f| f.pid == Some(me)), "{held:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("cpu-package0 is held by another meter (pid ")
            && msg.contains(&format!("pid {me}"))
            && msg.contains("cpu-package0.lock"),
        "{msg}"
    );
    // Refusing released what it had claimed: GPU 1 is still free for a meter that needs it.
    drop(err);
    let gpu1 = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "1",
        &fake,
        ClaimPolicy::Exclude,
    )
    .unwrap()
    .finish()
    .unwrap();
    assert!(get(&gpu1.total, "gpu1").counted);
    drop(holder);
    // Once the holder is gone, Refuse starts normally and counts everything.
    let after = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "0",
        &fake,
        ClaimPolicy::Refuse,
    )
    .unwrap()
    .finish()
    .unwrap();
    assert!(after.incomplete().is_empty());
    assert!(get(&after.total, "cpu-package0").counted);
}

#[test]
fn wait_policy_starts_once_the_holder_releases() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let claims = tempfile::tempdir().unwrap();
    let fake = FakeBackend::new(vec![fake_gpu(0)]);
    let holder = start(&sys, &proc_root, claims.path(), "0", &fake);
    let waiter = {
        let (sys, proc_root, dir, fake) = (
            sys.clone(),
            proc_root.clone(),
            claims.path().to_path_buf(),
            fake.clone(),
        );
        std::thread::spawn(move || {
            try_start(&sys, &proc_root, &dir, "0", &fake, ClaimPolicy::Wait)
                .map(|m| m.finish().unwrap())
        })
    };
    // Give the waiter time to find the devices taken (it retries every 100 ms).
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiter.is_finished(), "started while the devices were held");
    holder.finish().unwrap();
    let report = waiter.join().unwrap().unwrap();
    assert!(report.incomplete().is_empty(), "{:?}", report.incomplete());
    assert!(get(&report.total, "cpu-package0").counted);
    assert!(
        report.warnings.iter().any(|w| w.starts_with("waited ")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn an_unsafe_claim_dir_stops_a_refusing_meter_and_warns_an_excluding_one() {
    use std::os::unix::fs::PermissionsExt;
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let claims = tempfile::tempdir().unwrap();
    std::fs::set_permissions(claims.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let fake = FakeBackend::new(vec![]);
    let err = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "",
        &fake,
        ClaimPolicy::Refuse,
    )
    .err()
    .expect("refused");
    assert!(matches!(err, MeterError::ClaimDir(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&claims.path().display().to_string()) && msg.contains("0777"),
        "{msg}"
    );
    let m = try_start(
        &sys,
        &proc_root,
        claims.path(),
        "",
        &fake,
        ClaimPolicy::Exclude,
    )
    .unwrap();
    assert!(
        m.startup_warnings()
            .iter()
            .any(|w| w.contains("device claims unavailable") && w.contains("0777")),
        "{:?}",
        m.startup_warnings()
    );
}

#[test]
fn process_scope_meters_share_cpu_and_ram_under_refuse() {
    let (_g, sys) = temp_tree("powercap/desktop");
    let (_p, proc_root) = temp_tree("procfs/basic");
    let claims = tempfile::tempdir().unwrap();
    let cfg = MeterConfig {
        interval: Duration::from_millis(5),
        sysfs_root: sys.clone(),
        procfs_root: proc_root.clone(),
        gpus: GpuSelection::None,
        claim_dir: Some(claims.path().to_path_buf()),
        claim_cpu_shared: true,
        claim_policy: ClaimPolicy::Refuse,
        ..MeterConfig::default()
    };
    let a = Meter::start(cfg.clone()).unwrap();
    let b = Meter::start(cfg.clone()).expect("process-scope meters share CPU and RAM");
    // A machine-scope meter cannot count the CPU beside them.
    let machine = MeterConfig {
        claim_cpu_shared: false,
        ..cfg
    };
    let err = Meter::start(machine).err().expect("refused");
    assert!(err.to_string().contains("cpu-package0"), "{err}");
    drop((a, b));
}
