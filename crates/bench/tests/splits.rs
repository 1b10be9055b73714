//! The protocol's `splits`: N seeded train/test splits, one per repetition (`r mod N`), the
//! same N for every model, recorded, reused on resume; accuracy then varies over splits.

use anyhow::Result;
use powerhungry_bench::registry::BackendFactory;
use powerhungry_bench::runner::{run, EnergyMeter, Progress, RunOptions, RunParts, WindowEnergy};
use powerhungry_bench::sink::*;
use powerhungry_bench::suite::{LoadedSuite, ModelSpec};
use powerhungry_tasks::Backend;
use std::collections::HashSet;
use std::path::Path;

/// The real traditional models (bag-of-words + logistic regression, etc.).
struct Traditional;

impl BackendFactory for Traditional {
    fn missing(&self, _: &ModelSpec) -> Option<String> {
        None
    }
    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        powerhungry_backend_traditional::build(&spec.kind, &spec.options, None)
    }
}

struct Meter;
impl EnergyMeter for Meter {
    fn open_window(&mut self, _: &str) -> Result<()> {
        Ok(())
    }
    fn close_window(&mut self) -> Result<WindowEnergy> {
        Ok(WindowEnergy {
            duration_s: 0.1,
            components: vec![ComponentEnergy {
                component: "cpu-package0".into(),
                method: "estimated:cpu-load".into(),
                joules: 1.0,
                above_idle_joules: None,
            }],
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

struct Quiet;
impl Progress for Quiet {}

fn options(suite: &LoadedSuite, resume: bool) -> RunOptions {
    RunOptions {
        protocol: suite.suite.protocol.clone(),
        resume,
        shard: None,
        git_revision: None,
        tool_version: "test".into(),
        hardware: HardwareInfo::default(),
        location: LocationRecord {
            location: "test".into(),
            intensity_g_per_kwh: 100.0,
            source: "test".into(),
            year: None,
            pue: 1.0,
        },
    }
}

/// A suite of two models on `data`, `splits` splits and `repetitions` repetitions.
fn suite(dir: &Path, data: &str, splits: u32, repetitions: u32, inferences: u32) -> LoadedSuite {
    let text = format!(
        r#"name = "splits"

[protocol]
inferences = {inferences}
repetitions = {repetitions}
batch_size = 50
warmup = 0
seed = 42
splits = {splits}

[[models]]
name = "bow-lr"
backend = "traditional"
kind = "bow-lr"

[[models]]
name = "tfidf-char-lr"
backend = "traditional"
kind = "tfidf-char-lr"

[[datasets]]
name = "d"
task = "text-classification"
[datasets.source]
{data}
"#
    );
    let path = dir.join("suite.toml");
    std::fs::write(&path, text).expect("suite written");
    LoadedSuite::load(&path).expect("suite loads")
}

fn tiny_data(dir: &Path) -> String {
    let mut data = String::new();
    for i in 0..40 {
        let (label, word) = if i % 2 == 0 {
            ("pos", "good")
        } else {
            ("neg", "bad")
        };
        data.push_str(&format!(
            "{{\"id\": \"{i}\", \"text\": \"a {word} film number {i}\", \"label\": \"{label}\"}}\n"
        ));
    }
    std::fs::write(dir.join("tiny.jsonl"), data).expect("data written");
    "path = \"tiny.jsonl\"\nid_column = \"id\"".to_string()
}

fn sample_of(sink: &MemorySink, model: &str, index: u32) -> Vec<String> {
    sink.repetitions
        .iter()
        .find(|(_, r)| r.model == model && r.index == index)
        .map(|(_, r)| r.inferences.iter().map(|i| i.example_id.clone()).collect())
        .unwrap_or_else(|| panic!("repetition {index} of {model} is stored"))
}

#[test]
fn two_models_see_the_same_n_splits_repetition_r_on_split_r_mod_n() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tiny_data(dir.path());
    let s = suite(dir.path(), &data, 3, 6, 10);
    let mut sink = MemorySink::default();
    run(
        &s,
        &options(&s, false),
        RunParts {
            factory: &Traditional,
            meter: &mut Meter,
            sink: &mut sink,
            progress: &mut Quiet,
        },
    )?;
    // Split 0 is the dataset record's sample; splits 1 and 2 are recorded beside it.
    let d = &sink.datasets[0].1;
    assert_eq!(sink.splits.len(), 1);
    let extra = &sink.splits[0].2;
    assert_eq!(extra.iter().map(|s| s.split).collect::<Vec<_>>(), [1, 2]);
    let stored: Vec<&Vec<String>> = std::iter::once(&d.sample_ids)
        .chain(extra.iter().map(|s| &s.sample_ids))
        .collect();
    let distinct: HashSet<&Vec<String>> = stored.iter().copied().collect();
    assert_eq!(distinct.len(), 3, "three different samples");
    for s in extra {
        let train: HashSet<&String> = s.train_ids.iter().collect();
        assert!(s.sample_ids.iter().all(|id| !train.contains(id)));
        assert_eq!(s.train_ids.len() + 20, 40, "a 50:50 split");
    }
    for r in 0..6u32 {
        let a = sample_of(&sink, "bow-lr", r);
        let b = sample_of(&sink, "tfidf-char-lr", r);
        assert_eq!(a, b, "repetition {r}: both models see the same sample");
        assert_eq!(
            &a,
            stored[(r % 3) as usize],
            "repetition {r} uses split {}",
            r % 3
        );
    }
    Ok(())
}

#[test]
fn one_split_is_todays_behaviour() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tiny_data(dir.path());
    let s = suite(dir.path(), &data, 1, 3, 10);
    assert!(!serde_json::to_string(&s.suite.protocol)?.contains("splits"));
    let mut sink = MemorySink::default();
    run(
        &s,
        &options(&s, false),
        RunParts {
            factory: &Traditional,
            meter: &mut Meter,
            sink: &mut sink,
            progress: &mut Quiet,
        },
    )?;
    assert!(sink.splits[0].2.is_empty());
    let first = sample_of(&sink, "bow-lr", 0);
    assert_eq!(first, sink.datasets[0].1.sample_ids);
    for r in 1..3 {
        assert_eq!(sample_of(&sink, "bow-lr", r), first);
    }
    Ok(())
}

#[test]
fn a_resumed_run_reuses_the_splits() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tiny_data(dir.path());
    let s = suite(dir.path(), &data, 4, 4, 10);
    let mut sink = MemorySink::default();
    let parts = |sink: &mut MemorySink, resume: bool| -> Result<()> {
        run(
            &s,
            &options(&s, resume),
            RunParts {
                factory: &Traditional,
                meter: &mut Meter,
                sink,
                progress: &mut Quiet,
            },
        )
        .map(|_| ())
    };
    parts(&mut sink, false)?;
    let before: Vec<Vec<String>> = (0..4).map(|r| sample_of(&sink, "bow-lr", r)).collect();
    // Killed after two repetitions of the first model.
    sink.repetitions.truncate(2);
    sink.runs[0].1 = None;
    parts(&mut sink, true)?;
    for (r, b) in before.iter().enumerate() {
        assert_eq!(&sample_of(&sink, "bow-lr", r as u32), b, "repetition {r}");
    }
    // A stored split that differs from the one drawn now stops the resume.
    sink.splits[0].2[0].sample_ids.reverse();
    sink.repetitions.truncate(2);
    sink.runs[0].1 = None;
    let err = parts(&mut sink, true).unwrap_err();
    assert!(
        format!("{err:#}").contains("splits of dataset `d` differ"),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn accuracy_varies_over_splits_on_real_data() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rt-polarity");
    let data = format!(
        "path = {:?}\nformat = \"label-files\"\nencoding = \"latin-1\"",
        root.display().to_string()
    );
    let s = suite(dir.path(), &data, 3, 3, 200);
    let mut sink = MemorySink::default();
    run(
        &s,
        &options(&s, false),
        RunParts {
            factory: &Traditional,
            meter: &mut Meter,
            sink: &mut sink,
            progress: &mut Quiet,
        },
    )?;
    for model in ["bow-lr", "tfidf-char-lr"] {
        let acc: Vec<f64> = sink
            .repetitions
            .iter()
            .filter(|(_, r)| r.model == model)
            .map(|(_, r)| {
                r.metrics
                    .iter()
                    .find(|m| m.name == "accuracy")
                    .map(|m| m.value)
                    .expect("accuracy")
            })
            .collect();
        let sd = powerhungry_stats::Summary::of(&acc)
            .and_then(|s| s.sd)
            .unwrap_or(0.0);
        println!("{model}: accuracy over 3 splits {acc:?}, SD {sd:.4}");
        assert_eq!(acc.len(), 3);
        assert!(
            sd > 0.0,
            "{model}: accuracy {acc:?} does not vary over splits"
        );
    }
    Ok(())
}
