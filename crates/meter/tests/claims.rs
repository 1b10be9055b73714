//! Two meters at once on one machine (two Slurm ranks, or a bench beside a measure) with one
//! claim directory: each device is counted by exactly one of them; the other reports it apart.

mod common;

use common::{assert_close, set_uj, temp_tree};
use powerhungry_meter::gpu::fake::{FakeBackend, FakeGpu};
use powerhungry_meter::gpu::{GpuBackend, GpuInfo};
use powerhungry_meter::setup::build_sensors_with;
use powerhungry_meter::{ComponentEnergy, GpuSelection, Meter, MeterConfig, WindowReport};
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
    let cfg = MeterConfig {
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
    Meter::start_with_sensors(cfg, found.sensors, found.warnings).unwrap()
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
