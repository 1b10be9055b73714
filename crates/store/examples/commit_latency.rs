//! How long one repetition takes to commit, SQLite against PostgreSQL, one writer against four
//! at once (the shards of a job). Each writer records `--reps` repetitions of `--inferences`
//! per-inference rows (the size of a study repetition: 1,000) into one sharded run and times
//! every `record_repetition` call; prints p50/p95/max and the wall time per configuration.
//!
//!     cargo run --release -p powerhungry-store --example commit_latency -- \
//!         --postgres "$(bash scripts/test-postgres.sh)" --reps 40 --inferences 1000
//!
//! A benchmark, not a test: the figures go to docs/store.md with the command.

use anyhow::{bail, Context, Result};
use powerhungry_bench::shard::Shard;
use powerhungry_bench::sink::*;
use powerhungry_store::Store;
use std::time::Instant;

fn start() -> RunStart {
    RunStart {
        suite_name: "commit-latency".into(),
        suite_path: "commit-latency.toml".into(),
        suite_text: String::new(),
        suite_hash: "commit-latency".into(),
        started_at: 1.0,
        git_revision: None,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        hardware: HardwareInfo {
            cpu_model: "bench".into(),
            cpu_cores: 2,
            ram_bytes: 1,
            gpus: vec![],
            os: "linux".into(),
            kernel: "6".into(),
        },
        location: LocationRecord {
            location: "world".into(),
            intensity_g_per_kwh: 475.0,
            source: "bench".into(),
            year: None,
            pue: 1.0,
        },
        idle: vec![],
    }
}

fn repetition(index: u32, inferences: u32) -> RepetitionRecord {
    let window = |phase, items| WindowRecord {
        phase,
        uncounted: vec![],
        nothing_measured: false,
        duration_s: 1.0,
        items,
        components: ["cpu-package0", "ram"]
            .iter()
            .map(|c| ComponentEnergy {
                component: c.to_string(),
                method: "estimated:cpu-load".into(),
                joules: 1.5,
                above_idle_joules: None,
            })
            .collect(),
    };
    RepetitionRecord {
        model: "m".into(),
        dataset: "d".into(),
        index,
        started_at: 2.0,
        ended_at: 3.0,
        latency_p50_s: Some(0.001),
        latency_p95_s: Some(0.002),
        windows: vec![
            window(Phase::Load, 0),
            window(Phase::Warmup, 1),
            window(Phase::Inference, inferences as u64),
        ],
        inferences: (0..inferences)
            .map(|p| InferenceRecord {
                position: p,
                example_id: format!("ex:{p}"),
                latency_s: 0.001,
                input_tokens: 20,
                output_tokens: 0,
                prediction: "positive".into(),
                gold: Some("negative".into()),
                request: None,
            })
            .collect(),
        metrics: vec![MetricValue {
            name: "accuracy".into(),
            value: 0.5,
        }],
    }
}

/// One writer: join the run as `shard` of `count`, record its repetitions; each commit's time.
fn writer(store: &str, shard: u32, count: u32, reps: u32, inferences: u32) -> Result<Vec<f64>> {
    let mut s = Store::open(store)?;
    let shard = Shard {
        index: shard,
        count,
        run_name: "bench".into(),
    };
    let (run, _) = s.join_sharded_run(&start(), &shard)?;
    s.record_model(
        run,
        &ModelRecord {
            name: "m".into(),
            backend: "traditional".into(),
            kind: "bow-lr".into(),
            model: None,
            options_json: "{}".into(),
            parameters: None,
            description: String::new(),
        },
    )?;
    s.record_dataset(
        run,
        &DatasetRecord {
            name: "d".into(),
            task: "text-classification".into(),
            spec_json: "{}".into(),
            examples: 0,
            undecodable: 0,
            train_ids: vec![],
            sample_ids: vec![],
        },
    )?;
    let mut times = Vec::new();
    for k in 0..reps {
        let rep = repetition(shard.index + k * count, inferences);
        let t = Instant::now();
        s.record_repetition(run, &rep)?;
        times.push(t.elapsed().as_secs_f64());
    }
    s.end_shard(run, &shard, 4.0)?;
    Ok(times)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn measure(label: &str, store: &str, writers: u32, reps: u32, inferences: u32) -> Result<()> {
    let t = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|i| {
            let store = store.to_string();
            std::thread::spawn(move || writer(&store, i, writers, reps / writers, inferences))
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        match h.join() {
            Ok(r) => all.extend(r?),
            Err(_) => bail!("a writer thread panicked"),
        }
    }
    let wall = t.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    println!(
        "{label:<28} {writers} writer(s) {:>4} reps  wall {wall:>6.2} s  commit p50 {:>6.1} ms  p95 {:>6.1} ms  max {:>6.1} ms",
        all.len(),
        quantile(&all, 0.5) * 1e3,
        quantile(&all, 0.95) * 1e3,
        all.last().copied().unwrap_or(0.0) * 1e3
    );
    Ok(())
}

fn main() -> Result<()> {
    let mut postgres = None;
    let mut reps = 40u32;
    let mut inferences = 1000u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--postgres" => postgres = Some(value()?),
            "--reps" => reps = value()?.parse().context("--reps")?,
            "--inferences" => inferences = value()?.parse().context("--inferences")?,
            other => bail!("unknown argument {other} (see the example's doc comment)"),
        }
    }
    if reps < 4 || inferences == 0 {
        bail!("--reps must be at least 4 (four writers share them) and --inferences at least 1");
    }
    let Some(pg) = postgres else {
        bail!("--postgres URL is required (bash scripts/test-postgres.sh prints one)");
    };
    let dir = std::env::temp_dir().join(format!("commit-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for writers in [1u32, 4] {
        let file = dir.join(format!("w{writers}.sqlite"));
        measure(
            "sqlite (WAL, synchronous=NORMAL)",
            file.to_str().context("path")?,
            writers,
            reps,
            inferences,
        )?;
        // A fresh database per configuration.
        let db = format!("commit_latency_{}_{writers}", std::process::id());
        let mut admin = postgres::Client::connect(&pg, postgres::NoTls)?;
        // Separate statements: CREATE DATABASE refuses to run inside a multi-statement batch.
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))?;
        admin.batch_execute(&format!("CREATE DATABASE {db}"))?;
        let url = match pg.rfind('/') {
            Some(i) => format!("{}/{db}", &pg[..i]),
            None => bail!("--postgres URL has no database part"),
        };
        measure("postgres (loopback)", &url, writers, reps, inferences)?;
        admin.batch_execute(&format!("DROP DATABASE {db}"))?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
