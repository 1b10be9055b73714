//! The runner end to end with a backend that does (almost) nothing and a scripted meter (the
//! hardware boundary): which windows each repetition gets, what is recorded per inference,
//! that the metrics come from the measured predictions, resume and skipped models.

use anyhow::Result;
use powerhungry_bench::registry::BackendFactory;
use powerhungry_bench::runner::{run, EnergyMeter, Progress, RunOptions, RunParts, WindowEnergy};
use powerhungry_bench::sink::*;
use powerhungry_bench::suite::{LoadedSuite, ModelSpec};
use powerhungry_bench::summary::summarize_run;
use powerhungry_tasks::{Backend, Example, ModelInfo, Output, Prediction};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Calls the fake backend saw.
#[derive(Default, Debug)]
struct Calls {
    fits: Vec<usize>,
    batches: Vec<usize>,
    loads: usize,
}

/// Says "pos" when the text contains "good", except for texts containing "7", which it gets
/// wrong on purpose, so the expected accuracy can be counted from the recorded sample.
struct Rule(Arc<Mutex<Calls>>);

impl Backend for Rule {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            parameters: Some(3),
            description: "rule".into(),
        }
    }
    fn needs_fit(&self) -> bool {
        true
    }
    fn fit(&mut self, train: &[Example]) -> Result<()> {
        self.0.lock().unwrap().fits.push(train.len());
        Ok(())
    }
    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        self.0.lock().unwrap().batches.push(batch.len());
        Ok(batch
            .iter()
            .map(|e| {
                let t = e.input.as_text().unwrap_or("");
                let good = t.contains("good") != t.contains('7');
                Prediction {
                    output: Output::Label(if good { "pos" } else { "neg" }.into()),
                    input_tokens: t.split_whitespace().count() as u32,
                    output_tokens: 0,
                    request: None,
                }
            })
            .collect())
    }
}

struct Factory {
    calls: Arc<Mutex<Calls>>,
    missing: HashSet<String>,
}

impl BackendFactory for Factory {
    fn missing(&self, spec: &ModelSpec) -> Option<String> {
        self.missing
            .contains(&spec.name)
            .then(|| "files not found in /nowhere".to_string())
    }
    fn load(&self, _spec: &ModelSpec) -> Result<Box<dyn Backend>> {
        self.calls.lock().unwrap().loads += 1;
        Ok(Box::new(Rule(self.calls.clone())))
    }
}

/// Scripted energies: load 1 J, fit 2 J, warm-up 3 J, inference 4 J, each over 0.5 s, with
/// 0.25 J of it above idle.
#[derive(Default)]
struct ScriptedMeter {
    open: Option<String>,
    names: Vec<String>,
}

impl EnergyMeter for ScriptedMeter {
    fn open_window(&mut self, name: &str) -> Result<()> {
        assert!(self.open.is_none(), "windows must not overlap");
        self.open = Some(name.to_string());
        Ok(())
    }
    fn close_window(&mut self) -> Result<WindowEnergy> {
        let name = self.open.take().expect("a window is open");
        let joules = match name.as_str() {
            "load" => 1.0,
            "fit" => 2.0,
            "warmup" => 3.0,
            "inference" => 4.0,
            other => panic!("unexpected window {other}"),
        };
        self.names.push(name);
        Ok(WindowEnergy {
            duration_s: 0.5,
            components: vec![ComponentEnergy {
                component: "cpu-package0".into(),
                method: "estimated:cpu-load".into(),
                joules,
                above_idle_joules: Some(0.25),
            }],
            warnings: vec![],
            uncounted: vec![],
            nothing_measured: false,
        })
    }
    fn live_watts(&self) -> Option<f64> {
        Some(8.0)
    }
    fn idle(&self) -> Vec<IdlePower> {
        vec![IdlePower {
            component: "cpu-package0".into(),
            method: "estimated:cpu-load".into(),
            watts: 7.5,
        }]
    }
}

#[derive(Default)]
struct Notes(Vec<String>);
impl Progress for Notes {
    fn note(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
}

fn write_suite(dir: &Path, extra_model: &str) -> Result<LoadedSuite> {
    let mut data = String::new();
    for i in 0..10 {
        let (g, b) = (2 * i, 2 * i + 1);
        data.push_str(&format!(
            "{{\"id\": \"{g}\", \"text\": \"good film {i}\", \"label\": \"pos\"}}\n"
        ));
        data.push_str(&format!(
            "{{\"id\": \"{b}\", \"text\": \"bad film {i}\", \"label\": \"neg\"}}\n"
        ));
    }
    std::fs::write(dir.join("tiny.jsonl"), data)?;
    let suite = format!(
        r#"name = "tiny"

[protocol]
inferences = 6
repetitions = 3
batch_size = 4
warmup = 2
seed = 7

[[models]]
name = "rule"
backend = "traditional"
kind = "bow-lr"
{extra_model}
[[datasets]]
name = "tiny"
task = "text-classification"
[datasets.source]
path = "tiny.jsonl"
id_column = "id"
"#
    );
    let path = dir.join("suite.toml");
    std::fs::write(&path, suite)?;
    Ok(LoadedSuite::load(&path)?)
}

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
            pue: 1.5,
        },
    }
}

#[test]
fn every_repetition_gets_its_windows_records_and_metrics() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let suite = write_suite(dir.path(), "")?;
    let calls = Arc::new(Mutex::new(Calls::default()));
    let factory = Factory {
        calls: calls.clone(),
        missing: HashSet::new(),
    };
    let mut meter = ScriptedMeter::default();
    let mut sink = MemorySink::default();
    let mut notes = Notes::default();
    let out = run(
        &suite,
        &options(&suite, false),
        RunParts {
            factory: &factory,
            meter: &mut meter,
            sink: &mut sink,
            progress: &mut notes,
        },
    )?;
    assert_eq!(
        (out.run, out.ran, out.already, out.resumed),
        (1, 3, 0, false)
    );

    // The run: started and ended, with the idle baseline.
    assert_eq!(sink.runs.len(), 1);
    assert!(sink.runs[0].1.is_some(), "run must be ended");
    assert_eq!(sink.runs[0].0.idle[0].watts, 7.5);

    // The dataset: 20 examples, half held out; 6 sampled from the test part, 3 per label.
    let d = &sink.datasets[0].1;
    assert_eq!(
        (d.examples, d.train_ids.len(), d.sample_ids.len()),
        (20, 10, 6)
    );
    let train: HashSet<&String> = d.train_ids.iter().collect();
    assert!(
        d.sample_ids.iter().all(|id| !train.contains(id)),
        "sample must avoid the train part"
    );
    let text_of = |id: &str| -> String {
        let row: usize = id.parse().expect("row-number ids");
        if row.is_multiple_of(2) {
            format!("good film {}", row / 2)
        } else {
            format!("bad film {}", row / 2)
        }
    };
    let pos = d
        .sample_ids
        .iter()
        .filter(|id| text_of(id).contains("good"))
        .count();
    assert_eq!(pos, 3, "stratified: 3 of each label");

    // The backend: loaded and fitted once per repetition on the 10 training examples; each
    // repetition predicts the 2 warm-up inputs, then 6 inputs in batches of 4 and 2.
    let c = calls.lock().unwrap();
    assert_eq!(c.loads, 3);
    assert_eq!(c.fits, vec![10, 10, 10]);
    assert_eq!(c.batches, [2, 4, 2].repeat(3));

    // The windows, in order, each with the scripted energy.
    assert_eq!(
        meter.names,
        ["load", "fit", "warmup", "inference"].repeat(3)
    );
    let expected_accuracy = 1.0
        - d.sample_ids
            .iter()
            .filter(|id| text_of(id).contains('7'))
            .count() as f64
            / 6.0;
    for (i, (_, rep)) in sink.repetitions.iter().enumerate() {
        assert_eq!(rep.index, i as u32);
        let phases: Vec<Phase> = rep.windows.iter().map(|w| w.phase).collect();
        assert_eq!(
            phases,
            [Phase::Load, Phase::Fit, Phase::Warmup, Phase::Inference]
        );
        let items: Vec<u64> = rep.windows.iter().map(|w| w.items).collect();
        assert_eq!(items, [0, 10, 2, 6]);
        assert_eq!(rep.windows[3].total_joules(), 4.0);
        // Per inference: the sample in order, gold labels, tokens, a latency.
        let ids: Vec<&String> = rep.inferences.iter().map(|r| &r.example_id).collect();
        assert_eq!(ids, d.sample_ids.iter().collect::<Vec<_>>());
        for r in &rep.inferences {
            let text = text_of(&r.example_id);
            assert_eq!(
                r.gold.as_deref(),
                Some(if text.contains("good") { "pos" } else { "neg" })
            );
            assert_eq!(r.input_tokens, 3);
            assert!(r.latency_s >= 0.0 && r.latency_s < 1.0);
        }
        // Metrics from these very predictions.
        let acc = rep
            .metrics
            .iter()
            .find(|m| m.name == "accuracy")
            .expect("accuracy");
        assert!((acc.value - expected_accuracy).abs() < 1e-12);
        assert!(rep.metrics.iter().any(|m| m.name == "macro_f1"));
    }

    // The summary: 4 J per 6 inferences = 4/6/3600*1000 Wh per 1,000, no spread; carbon at
    // 100 g/kWh and PUE 1.5.
    let reps: Vec<RepetitionRecord> = sink.repetitions.iter().map(|(_, r)| r.clone()).collect();
    let s = summarize_run(1, "tiny", &options(&suite, false).location, &reps);
    let row = &s.rows[0];
    let wh = 4.0 / 6.0 / 3600.0 * 1000.0;
    assert!((row.wh_per_1000_mean - wh).abs() < 1e-12);
    assert_eq!(row.wh_per_1000_sd, Some(0.0));
    assert!((row.wh_per_1000_above_idle_mean.unwrap() - 0.25 / 6.0 / 3.6).abs() < 1e-12);
    assert!((row.g_co2e_per_1000 - wh / 1000.0 * 1.5 * 100.0).abs() < 1e-12);
    assert_eq!(row.methods, "cpu-package0=estimated:cpu-load");
    assert!((row.metrics["accuracy"] - expected_accuracy).abs() < 1e-12);
    assert!(s.table().contains("rule"));
    assert!(s.to_csv()?.lines().count() == 2);
    Ok(())
}

#[test]
fn resume_runs_only_what_is_missing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let suite = write_suite(dir.path(), "")?;
    let calls = Arc::new(Mutex::new(Calls::default()));
    let factory = Factory {
        calls: calls.clone(),
        missing: HashSet::new(),
    };
    let mut sink = MemorySink::default();
    // A first run, complete; then pretend it was killed after repetition 1 (index 0).
    run(
        &suite,
        &options(&suite, false),
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut sink,
            progress: &mut Notes::default(),
        },
    )?;
    sink.repetitions.truncate(1);
    sink.runs[0].1 = None;
    let mut notes = Notes::default();
    let out = run(
        &suite,
        &options(&suite, true),
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut sink,
            progress: &mut notes,
        },
    )?;
    assert_eq!(
        (out.run, out.ran, out.already, out.resumed),
        (1, 2, 1, true)
    );
    let idx: Vec<u32> = sink.repetitions.iter().map(|(_, r)| r.index).collect();
    assert_eq!(idx, [0, 1, 2]);
    assert_eq!(sink.runs.len(), 1);
    assert!(sink.runs[0].1.is_some());
    assert!(notes
        .0
        .iter()
        .any(|n| n.contains("1 repetition(s) already stored, 2 to do")));

    // Nothing unfinished left: --resume says so instead of starting over.
    let err = run(
        &suite,
        &options(&suite, true),
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut sink,
            progress: &mut Notes::default(),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no unfinished run of suite `tiny`"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_missing_model_is_skipped_or_fails_as_the_suite_says() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let calls = Arc::new(Mutex::new(Calls::default()));
    let factory = Factory {
        calls,
        missing: ["absent".to_string()].into(),
    };
    let absent =
        "\n[[models]]\nname = \"absent\"\nbackend = \"traditional\"\nkind = \"embedding-lr\"\n";
    let suite = write_suite(dir.path(), &format!("{absent}if_missing = \"skip\"\n"))?;
    let mut sink = MemorySink::default();
    let mut notes = Notes::default();
    let out = run(
        &suite,
        &options(&suite, false),
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut sink,
            progress: &mut notes,
        },
    )?;
    assert_eq!(
        out.skipped,
        vec![(
            "absent".to_string(),
            "files not found in /nowhere".to_string()
        )]
    );
    assert!(notes
        .0
        .iter()
        .any(|n| n.contains("skipping model `absent`: files not found")));
    assert!(sink.repetitions.iter().all(|(_, r)| r.model == "rule"));
    assert_eq!(sink.repetitions.len(), 3);

    let suite = write_suite(dir.path(), absent)?;
    let err = run(
        &suite,
        &options(&suite, false),
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut MemorySink::default(),
            progress: &mut Notes::default(),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("model `absent`: files not found"),
        "{err}"
    );
    Ok(())
}

/// Fails on its `fail_at`-th call to `predict` (0-based, counting warm-up calls).
struct Flaky {
    calls: usize,
    fail_at: usize,
}

impl Backend for Flaky {
    fn info(&self) -> ModelInfo {
        ModelInfo::default()
    }
    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>> {
        self.calls += 1;
        if self.calls - 1 == self.fail_at {
            anyhow::bail!("out of memory (simulated)");
        }
        Ok(batch
            .iter()
            .map(|_| Prediction {
                output: Output::Label("pos".into()),
                input_tokens: 1,
                output_tokens: 0,
                request: None,
            })
            .collect())
    }
}

struct FlakyFactory {
    loads: Mutex<usize>,
}

impl BackendFactory for FlakyFactory {
    fn missing(&self, _: &ModelSpec) -> Option<String> {
        None
    }
    fn load(&self, _: &ModelSpec) -> Result<Box<dyn Backend>> {
        let mut n = self.loads.lock().unwrap();
        *n += 1;
        // The second repetition's backend fails on its 3rd call (warm-up is 1 call of 2 inputs,
        // then inference batches of 4 and 2): mid-inference.
        let fail_at = if *n == 2 { 2 } else { usize::MAX };
        Ok(Box::new(Flaky { calls: 0, fail_at }))
    }
}

#[test]
fn a_failure_mid_inference_closes_the_window_and_stores_nothing_of_that_repetition() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let suite = write_suite(dir.path(), "")?;
    let factory = FlakyFactory {
        loads: Mutex::new(0),
    };
    let mut meter = ScriptedMeter::default();
    let mut sink = MemorySink::default();
    let err = run(
        &suite,
        &options(&suite, false),
        RunParts {
            factory: &factory,
            meter: &mut meter,
            sink: &mut sink,
            progress: &mut Notes::default(),
        },
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("model `rule` on dataset `tiny`, repetition 2")
            && msg.contains("out of memory (simulated)"),
        "{msg}"
    );
    // The failing repetition's inference window was opened and closed (no window left open),
    // the first repetition is stored whole, the second not at all, and the run is unfinished.
    assert!(meter.open.is_none());
    assert_eq!(
        meter.names,
        ["load", "warmup", "inference", "load", "warmup", "inference"]
    );
    assert_eq!(sink.repetitions.len(), 1);
    assert_eq!(sink.repetitions[0].1.index, 0);
    assert!(sink.runs[0].1.is_none());
    Ok(())
}

#[test]
fn the_sample_depends_only_on_the_seed() -> Result<()> {
    use powerhungry_bench::plan::prepare_dataset;
    let dir = tempfile::tempdir()?;
    let suite = write_suite(dir.path(), "")?;
    let entry = &suite.suite.datasets[0];
    let mut p = suite.suite.protocol.clone();
    let a = prepare_dataset(entry, String::new(), &p, dir.path())?;
    let b = prepare_dataset(entry, String::new(), &p, dir.path())?;
    assert_eq!(
        (&a.sample, &a.train, &a.warmup),
        (&b.sample, &b.train, &b.warmup)
    );
    // Another seed draws another split or sample (20 examples: C(10,5)^2 ways to split).
    p.seed = 8;
    let c = prepare_dataset(entry, String::new(), &p, dir.path())?;
    assert!(c.sample != a.sample || c.train != a.train);
    // Warm-up inputs come from the training part, never from the measured sample.
    assert!(a
        .warmup
        .iter()
        .all(|i| a.train.contains(i) && !a.sample.contains(i)));
    Ok(())
}

#[test]
fn shards_split_the_plan_by_position_and_end_the_run_together() -> Result<()> {
    use powerhungry_bench::shard::Shard;
    let dir = tempfile::tempdir()?;
    // Two models x 3 repetitions: plan positions 0-2 are `rule`, 3-5 are `rule2`.
    let suite = write_suite(
        dir.path(),
        "\n[[models]]\nname = \"rule2\"\nbackend = \"traditional\"\nkind = \"bow-lr\"\n",
    )?;
    let factory = Factory {
        calls: Arc::new(Mutex::new(Calls::default())),
        missing: HashSet::new(),
    };
    let mut sink = MemorySink::default();
    let shard = |index| Shard {
        index,
        count: 2,
        run_name: "pair".into(),
    };
    let mut ran = Vec::new();
    for index in [1, 0] {
        let mut opts = options(&suite, false);
        opts.shard = Some(shard(index));
        let before = sink.repetitions.len();
        let out = run(
            &suite,
            &opts,
            RunParts {
                factory: &factory,
                meter: &mut ScriptedMeter::default(),
                sink: &mut sink,
                progress: &mut Notes::default(),
            },
        )?;
        assert_eq!((out.run, out.resumed), (1, index == 0), "shard {index}");
        let units: Vec<(String, u32)> = sink.repetitions[before..]
            .iter()
            .map(|(_, r)| (r.model.clone(), r.index))
            .collect();
        ran.push(units);
        // The run stays open until both shards have ended.
        assert_eq!(sink.runs[0].1.is_some(), index == 0, "after shard {index}");
    }
    let own = |v: &[(&str, u32)]| -> Vec<(String, u32)> {
        v.iter().map(|(m, i)| (m.to_string(), *i)).collect()
    };
    // Shard 1 (the second) owns odd positions, shard 0 even ones.
    assert_eq!(ran[0], own(&[("rule", 1), ("rule2", 0), ("rule2", 2)]));
    assert_eq!(ran[1], own(&[("rule", 0), ("rule", 2), ("rule2", 1)]));
    assert_eq!(sink.runs.len(), 1);

    // A shard count other than the run's is refused.
    let mut opts = options(&suite, false);
    opts.shard = Some(Shard {
        index: 0,
        count: 3,
        run_name: "pair".into(),
    });
    let err = run(
        &suite,
        &opts,
        RunParts {
            factory: &factory,
            meter: &mut ScriptedMeter::default(),
            sink: &mut sink,
            progress: &mut Notes::default(),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("has 2 shards, not 3"), "{err}");
    Ok(())
}
