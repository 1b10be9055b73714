//! `srun` with four tasks on one node, simulated with four real processes whose SLURM_LOCALID
//! is 0-3, all measuring at once with one claim directory and one CSV file: the node is
//! metered once (rank 0), the other ranks keep time only, say so, and write no CSV row. A bench
//! on a rank other than 0 stores "nothing measured" windows, never 0 Wh.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn powerhungry(dir: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("powerhungry"));
    c.current_dir(dir)
        .env("HOME", dir)
        .env("POWERHUNGRY_CLAIM_DIR", dir.join("claims"))
        .env_remove("LOCAL_RANK")
        .env_remove("OMPI_COMM_WORLD_LOCAL_RANK");
    c
}

#[test]
fn four_local_ranks_meter_the_node_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let children: Vec<_> = (0..4)
        .map(|rank| {
            powerhungry(dir.path())
                .env("SLURM_LOCALID", rank.to_string())
                .args(["measure", "--gpus", "none", "--country", "FRA"])
                .args([
                    "--output",
                    "emissions.csv",
                    "--json",
                    &format!("rank{rank}.json"),
                ])
                .arg("--sysfs-root")
                .arg(dir.path().join("no-sys"))
                .args(["--", "sleep", "0.3"])
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut stderrs = Vec::new();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        stderrs.push(err);
    }
    for (rank, err) in stderrs.iter().enumerate() {
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("rank{rank}.json"))).expect("json"),
        )
        .expect("valid json");
        let components = json["window"]["components"].as_array().expect("components");
        if rank == 0 {
            assert!(json.get("timing_only").is_none(), "{json}");
            assert!(!components.is_empty(), "rank 0 meters the node");
            assert!(components
                .iter()
                .all(|c| c["energy_j"].as_f64() > Some(0.0)));
        } else {
            assert!(components.is_empty(), "rank {rank} counts nothing: {json}");
            assert!(json["emissions"].is_null(), "no figure, not 0 g: {json}");
            let why = json["timing_only"].as_str().expect("timing_only says why");
            assert!(why.starts_with(&format!("SLURM_LOCALID={rank}: local rank 0")));
            assert!(
                json["window"]["duration_s"].as_f64() >= Some(0.3),
                "time is kept"
            );
            assert!(
                err.contains("energy: not measured (SLURM_LOCALID="),
                "{err}"
            );
            assert!(err.contains("no CSV row"), "{err}");
            assert!(!err.contains(" 0.000 J"), "no zero figure: {err}");
        }
    }
    let mut csv = csv::Reader::from_path(dir.path().join("emissions.csv")).expect("csv");
    assert_eq!(csv.records().count(), 1, "one row: the node's");
}

#[test]
fn a_bench_on_another_rank_stores_nothing_measured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rt-polarity");
    let suite = dir.path().join("s.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"rank\"\n[protocol]\ninferences = 10\nrepetitions = 1\nwarmup = 0\n\
             max_train = 200\n[[models]]\nname = \"bow\"\nbackend = \"traditional\"\n\
             kind = \"bow-lr\"\n[[datasets]]\nname = \"rt\"\ntask = \"text-classification\"\n\
             [datasets.source]\npath = \"{}\"\nformat = \"label-files\"\nencoding = \"latin-1\"\n",
            data.display()
        ),
    )
    .expect("suite");
    let out = powerhungry(dir.path())
        .env("SLURM_LOCALID", "2")
        .arg("bench")
        .arg(&suite)
        .args(["--store", "r.sqlite", "--intensity", "100"])
        .output()
        .expect("bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("SLURM_LOCALID=2: local rank 0"), "{stderr}");
    assert!(stdout.contains("nothing measured"), "{stdout}");
    let store = powerhungry_store::Store::open(dir.path().join("r.sqlite")).expect("store");
    let run = store.load_run(1).expect("run");
    let w = run.repetitions[0]
        .inference_window()
        .expect("inference window");
    assert!(w.nothing_measured && w.components.is_empty(), "{w:?}");
}
