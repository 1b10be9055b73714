//! The harness's own cost per inference, measured (never asserted): a backend that does
//! nothing, a meter that only reads the monotonic clock, and either a sink that keeps nothing
//! or the real SQLite store, over 1,000,000 inferences (1,000 inferences x 1,000 repetitions,
//! the studies' shape). Prints wall time and peak memory per inference.
//!
//!     cargo run --release -p powerhungry-store --example overhead [-- --store]

use anyhow::Result;
use powerhungry_bench::registry::BackendFactory;
use powerhungry_bench::runner::{run, EnergyMeter, Quiet, RunOptions, RunParts, WindowEnergy};
use powerhungry_bench::sink::*;
use powerhungry_bench::suite::{LoadedSuite, ModelSpec};
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

/// Keeps only counts, so memory reflects the harness, not the sink.
#[derive(Default)]
struct CountingSink {
    reps: Vec<RepetitionKey>,
    inferences: u64,
}
impl ResultSink for CountingSink {
    fn begin_run(&mut self, _: &RunStart) -> Result<RunId> {
        Ok(1)
    }
    fn find_unfinished_run(&mut self, _: &str) -> Result<Option<RunId>> {
        Ok(None)
    }
    fn committed_repetitions(&mut self, _: RunId) -> Result<Vec<RepetitionKey>> {
        Ok(self.reps.clone())
    }
    fn record_model(&mut self, _: RunId, _: &ModelRecord) -> Result<()> {
        Ok(())
    }
    fn record_dataset(&mut self, _: RunId, _: &DatasetRecord) -> Result<()> {
        Ok(())
    }
    fn record_repetition(&mut self, _: RunId, rep: &RepetitionRecord) -> Result<()> {
        self.inferences += rep.inferences.len() as u64;
        Ok(())
    }
    fn record_fit(&mut self, _: RunId, _: &ModelFit) -> Result<()> {
        Ok(())
    }
    fn record_skipped(&mut self, _: RunId, _: &str, _: &str) -> Result<()> {
        Ok(())
    }
    fn end_run(&mut self, _: RunId, _: f64) -> Result<()> {
        Ok(())
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

fn main() -> Result<()> {
    let use_store = std::env::args().any(|a| a == "--store");
    let (inferences, repetitions) = (1000u32, 1000u32);
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
            "name = \"overhead\"\n[protocol]\ninferences = {inferences}\nrepetitions = {repetitions}\nwarmup = 0\n\
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
        tool_version: "overhead".into(),
        hardware: HardwareInfo::default(),
        location: LocationRecord::default(),
    };
    let mut meter = ClockOnly::default();
    let rss0 = peak_rss_kib();
    let t0 = Instant::now();
    let total = inferences as f64 * repetitions as f64;
    if use_store {
        let mut store = powerhungry_store_path(dir.path())?;
        run(
            &suite,
            &opts,
            RunParts {
                factory: &Factory,
                meter: &mut meter,
                sink: &mut store,
                progress: &mut Quiet,
            },
        )?;
    } else {
        let mut sink = CountingSink::default();
        run(
            &suite,
            &opts,
            RunParts {
                factory: &Factory,
                meter: &mut meter,
                sink: &mut sink,
                progress: &mut Quiet,
            },
        )?;
        assert_eq!(sink.inferences as f64, total);
    }
    let wall = t0.elapsed().as_secs_f64();
    let rss1 = peak_rss_kib();
    println!(
        "sink: {}\ninferences: {total} ({inferences} x {repetitions} repetitions)\n\
         wall: {wall:.3} s = {:.0} ns per inference (everything: plan, records, metrics, sink)\n\
         inference windows: {:.3} s = {:.0} ns per inference (the measured loop alone)\n\
         peak RSS: {} KiB before the run, {} KiB after = {:.0} bytes per inference of one repetition",
        if use_store {
            "SQLite store (temp file)"
        } else {
            "counting (keeps nothing)"
        },
        wall / total * 1e9,
        meter.inference_s,
        meter.inference_s / total * 1e9,
        rss0,
        rss1,
        (rss1.saturating_sub(rss0) * 1024) as f64 / inferences as f64,
    );
    Ok(())
}

/// The SQLite store in `dir`.
fn powerhungry_store_path(dir: &std::path::Path) -> Result<powerhungry_store::Store> {
    powerhungry_store::Store::open(dir.join("overhead.sqlite"))
}
