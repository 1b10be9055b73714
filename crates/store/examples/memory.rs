//! Memory of the two readers of a long run (issue 14, item 12), measured, never asserted:
//!
//!     cargo run -p powerhungry-store --example memory -- write N STORE   # N inferences
//!     cargo run -p powerhungry-store --example memory -- summary STORE   # bench's closing read
//!     cargo run -p powerhungry-store --example memory -- whole STORE     # the old one: load_run
//!
//! `write` runs a backend that does nothing (1,000 inferences per repetition, N / 1,000
//! repetitions) into STORE through the real runner; `summary` reads it back as the bench's
//! closing summary does now (no per-inference records; percentiles stored per repetition),
//! `whole` as it did before (every inference record). Each prints its peak RSS (VmHWM).
//! `scripts/bench-memory.sh` runs them with `powerhungry report` at 1e4, 1e5 and 1e6.

use anyhow::{bail, Context, Result};
use powerhungry_bench::registry::BackendFactory;
use powerhungry_bench::runner::{run, EnergyMeter, Quiet, RunOptions, RunParts, WindowEnergy};
use powerhungry_bench::sink::*;
use powerhungry_bench::suite::{LoadedSuite, ModelSpec};
use powerhungry_bench::summary::summarize_run;
use powerhungry_store::Store;
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, Prediction};
use std::time::Instant;

struct Nothing;
impl Backend for Nothing {
    fn info(&self) -> ModelInfo {
        ModelInfo::default()
    }
    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        Ok(batch
            .iter()
            .map(|_| Prediction {
                output: Output::Label("pos".into()),
                input_tokens: 0,
                output_tokens: 0,
                request: None,
            })
            .collect())
    }
}

struct Factory;
impl BackendFactory for Factory {
    fn missing(&self, _: &ModelSpec) -> Option<String> {
        None
    }
    fn load(&self, _: &ModelSpec) -> Result<Box<dyn Backend>> {
        Ok(Box::new(Nothing))
    }
}

/// Times windows with the monotonic clock and reports no energy.
#[derive(Default)]
struct ClockOnly {
    open: Option<Instant>,
    inference_s: f64,
    name: String,
}
impl EnergyMeter for ClockOnly {
    fn open_window(&mut self, name: &str) -> Result<()> {
        self.name = name.to_string();
        self.open = Some(Instant::now());
        Ok(())
    }
    fn close_window(&mut self) -> Result<WindowEnergy> {
        let d = self.open.take().map_or(0.0, |t| t.elapsed().as_secs_f64());
        if self.name == "inference" {
            self.inference_s += d;
        }
        Ok(WindowEnergy {
            duration_s: d,
            components: vec![],
            warnings: vec![],
            uncounted: vec![],
            nothing_measured: false,
        })
    }
    fn live_watts(&self) -> Option<f64> {
        None
    }
    fn idle(&self) -> Vec<IdlePower> {
        vec![]
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn write(n: u64, store: &std::path::Path) -> Result<()> {
    let inferences = 1000u64.min(n);
    let repetitions = (n / inferences).max(1);
    let dir = tempfile::tempdir()?;
    let mut data = String::new();
    for i in 0..2 * inferences {
        let label = if i % 2 == 0 { "pos" } else { "neg" };
        data.push_str(&format!(
            "{{\"text\": \"example number {i}\", \"label\": \"{label}\"}}\n"
        ));
    }
    std::fs::write(dir.path().join("d.jsonl"), data)?;
    let suite_path = dir.path().join("s.toml");
    std::fs::write(
        &suite_path,
        format!(
            "name = \"memory\"\n[protocol]\ninferences = {inferences}\nrepetitions = {repetitions}\nwarmup = 0\n\
             [[models]]\nname = \"nothing\"\nbackend = \"traditional\"\nkind = \"bow-lr\"\n\
             [[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n[datasets.source]\npath = \"d.jsonl\"\n"
        ),
    )?;
    let suite = LoadedSuite::load(&suite_path)?;
    let opts = RunOptions {
        protocol: suite.suite.protocol.clone(),
        resume: false,
        shard: None,
        git_revision: None,
        tool_version: "memory".into(),
        hardware: HardwareInfo::default(),
        location: LocationRecord::default(),
    };
    let mut s = Store::open(store)?;
    run(
        &suite,
        &opts,
        RunParts {
            factory: &Factory,
            meter: &mut ClockOnly::default(),
            sink: &mut s,
            progress: &mut Quiet,
        },
    )?;
    println!(
        "write: {} inferences, peak RSS {} KiB",
        inferences * repetitions,
        peak_rss_kib()
    );
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let t0 = Instant::now();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", n, path] => {
            let n: f64 = n
                .parse()
                .with_context(|| format!("N: {n:?} is not a number"))?;
            write(n as u64, path.as_ref())?;
        }
        [mode @ ("summary" | "whole"), path] => {
            let store = Store::open(path)?;
            let id = store.latest_run()?.context("the store has no run")?;
            let run = if mode == "summary" {
                store.load_run_summary(id)?
            } else {
                store.load_run(id)?
            };
            let s = summarize_run(id, "memory", &run.start.location, &run.repetitions);
            println!(
                "{mode}: {} repetitions, p95 {:?} ms, peak RSS {} KiB, {:.2} s",
                s.rows[0].repetitions,
                s.rows[0].latency_p95_ms,
                peak_rss_kib(),
                t0.elapsed().as_secs_f64()
            );
        }
        _ => bail!("usage: memory write N STORE | summary STORE | whole STORE"),
    }
    Ok(())
}
