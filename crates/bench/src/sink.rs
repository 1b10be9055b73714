//! Where results go. The harness describes what it measured with the plain records below and
//! hands them to a `ResultSink`; the store crate implements the sink over SQL, so this crate
//! never sees a query. Energy is joules, durations seconds, times Unix seconds (UTC).

use crate::shard::Shard;
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// Identifies a run inside a sink (the store's row id).
pub type RunId = i64;

/// Everything known about a run when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    /// The suite's `name`.
    pub suite_name: String,
    /// Path the suite was read from, as given.
    pub suite_path: String,
    /// The suite file's exact text.
    pub suite_text: String,
    /// SHA-256 (hex) of `suite_text` plus any command-line overrides; `--resume` matches on it.
    pub suite_hash: String,
    pub started_at: f64,
    /// `git rev-parse HEAD` of the working directory, when it is a git repository.
    pub git_revision: Option<String>,
    /// Version of the powerhungry binary.
    pub tool_version: String,
    pub hardware: HardwareInfo,
    pub location: LocationRecord,
    /// Idle baseline measured before the run (empty when `--idle-seconds 0`).
    pub idle: Vec<IdlePower>,
}

/// The machine and software a run used.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HardwareInfo {
    pub cpu_model: String,
    /// Logical CPUs the OS reports.
    pub cpu_cores: u32,
    pub ram_bytes: u64,
    /// GPUs the workload could use, as "name (driver X)" where known.
    pub gpus: Vec<String>,
    /// OS name and version (from /etc/os-release), e.g. "Debian GNU/Linux 12 (bookworm)".
    pub os: String,
    /// Kernel release (uname -r).
    pub kernel: String,
}

/// The grid location and intensity the carbon figures use.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LocationRecord {
    /// What the user asked for, e.g. "country FRA", "cloud aws:us-west-2", "world average".
    pub location: String,
    pub intensity_g_per_kwh: f64,
    /// Where the figure comes from (table and source) and its year.
    pub source: String,
    pub year: Option<i32>,
    pub pue: f64,
}

/// Mean idle power of one component, measured before the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdlePower {
    pub component: String,
    pub method: String,
    pub watts: f64,
}

/// A model of the suite as loaded (written once per run, before its first repetition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// The suite's name for the model (unique within the suite).
    pub name: String,
    pub backend: String,
    pub kind: String,
    /// Model id or local path, where the model has one.
    pub model: Option<String>,
    /// The model's options from the suite, as JSON.
    pub options_json: String,
    pub parameters: Option<u64>,
    pub description: String,
}

impl ModelRecord {
    /// Same model as configured: name, backend, kind, model id or path, options.
    pub fn same_model(&self, other: &ModelRecord) -> bool {
        self.name == other.name
            && self.backend == other.backend
            && self.kind == other.kind
            && self.model == other.model
            && self.options_json == other.options_json
    }
}

/// A dataset of the suite and the sample drawn from it (written once per run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// The suite's name for the dataset.
    pub name: String,
    /// Task name, e.g. "text-classification".
    pub task: String,
    /// The dataset spec from the suite, as JSON.
    pub spec_json: String,
    /// Examples in the dataset after loading.
    pub examples: u64,
    /// Lines or rows that could not be decoded (reported, never dropped silently).
    pub undecodable: u64,
    /// Example ids used for fitting (models that learn), in order.
    pub train_ids: Vec<String>,
    /// Example ids inferred on, in order: the recorded sample.
    pub sample_ids: Vec<String>,
}

/// The ids of one more train/test split of a dataset (protocol `splits` > 1): split `split`
/// (>= 1; split 0 is the `DatasetRecord`'s) and its sample, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitIds {
    pub split: u32,
    pub train_ids: Vec<String>,
    pub sample_ids: Vec<String>,
}

/// Measurement phases of one repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Load,
    Fit,
    Warmup,
    Inference,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Load => "load",
            Phase::Fit => "fit",
            Phase::Warmup => "warmup",
            Phase::Inference => "inference",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        [Phase::Load, Phase::Fit, Phase::Warmup, Phase::Inference]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Energy of one component over one window, with how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentEnergy {
    /// e.g. "cpu", "package-0", "dram-0", "ram", "gpu:0 NVIDIA A100".
    pub component: String,
    /// e.g. "measured:rapl", "estimated:cpu-load".
    pub method: String,
    pub joules: f64,
    /// Joules above the idle baseline, when a baseline was measured.
    pub above_idle_joules: Option<f64>,
}

/// One measured window of a repetition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    pub phase: Phase,
    pub duration_s: f64,
    /// Inputs processed in the window (inferences, warm-up inputs, training examples; 0 for load).
    pub items: u64,
    pub components: Vec<ComponentEnergy>,
    /// Devices the workload needed that this meter did not count (another meter on the
    /// machine held them): the window's total leaves them out, so it is incomplete.
    #[serde(default)]
    pub uncounted: Vec<String>,
    /// No component was counted at all: the total is "nothing measured", not 0 J.
    #[serde(default)]
    pub nothing_measured: bool,
}

impl WindowRecord {
    pub fn total_joules(&self) -> f64 {
        self.components.iter().map(|c| c.joules).sum()
    }

    /// Why this window's total is not the whole energy, if it is not.
    pub fn incomplete(&self) -> Option<String> {
        if self.nothing_measured {
            return Some("nothing measured (no component was counted)".into());
        }
        (!self.uncounted.is_empty()).then(|| {
            format!(
                "incomplete: {} not counted (held by another meter)",
                self.uncounted.join(", ")
            )
        })
    }
}

pub use powerhungry_tasks::RequestStats;

/// One measured inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceRecord {
    /// Position in the sample (0-based).
    pub position: u32,
    pub example_id: String,
    /// Wall time of the batch this input was in, divided by the batch size (monotonic clock).
    pub latency_s: f64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// The prediction as text (a class label for classification).
    pub prediction: String,
    pub gold: Option<String>,
    /// The request's own timings and tokens' source, for a served model (table
    /// `request_stats`); None for models run in process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<powerhungry_tasks::RequestStats>,
}

/// A metric of a repetition, scored on that repetition's own predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub name: String,
    pub value: f64,
}

/// One model x dataset x repetition, complete. A sink stores it atomically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepetitionRecord {
    pub model: String,
    pub dataset: String,
    /// 0-based repetition index.
    pub index: u32,
    pub started_at: f64,
    pub ended_at: f64,
    pub windows: Vec<WindowRecord>,
    pub inferences: Vec<InferenceRecord>,
    pub metrics: Vec<MetricValue>,
    /// Median and 95th percentile of this repetition's per-inference latencies, seconds
    /// (linear interpolation), computed when the repetition ends. A run's latency figure is
    /// the mean of these over its repetitions, in the bench summary and the report alike.
    #[serde(default)]
    pub latency_p50_s: Option<f64>,
    #[serde(default)]
    pub latency_p95_s: Option<f64>,
}

impl RepetitionRecord {
    /// The inference window.
    pub fn inference_window(&self) -> Option<&WindowRecord> {
        self.windows.iter().find(|w| w.phase == Phase::Inference)
    }

    /// Why this repetition's energy is not whole (a window with a device uncounted, or
    /// nothing measured), if it is not.
    pub fn incomplete(&self) -> Option<String> {
        self.inference_window()
            .and_then(WindowRecord::incomplete)
            .or_else(|| self.windows.iter().find_map(WindowRecord::incomplete))
    }
}

/// p50 and p95 (seconds, linear interpolation) of per-inference latencies.
pub fn latency_percentiles(latencies_s: impl Iterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    let mut v: Vec<f64> = latencies_s.collect();
    v.sort_by(f64::total_cmp);
    (
        powerhungry_stats::quantile_sorted(&v, 0.5),
        powerhungry_stats::quantile_sorted(&v, 0.95),
    )
}

/// What a model learnt on one dataset: its fitted size (vocabulary, parameters) belongs to
/// the model x dataset, not to the model (a model fitted on English and on Hindi differs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFit {
    pub model: String,
    pub dataset: String,
    pub parameters: Option<u64>,
    pub description: String,
}

/// SHA-256 of some bytes, lower-case hex (imports record their file's content hash).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Which repetition of which model on which dataset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepetitionKey {
    pub model: String,
    pub dataset: String,
    pub index: u32,
}

/// Destination of a run's results. Implementations must make `record_repetition` atomic: after
/// a crash a repetition is either fully stored or absent.
pub trait ResultSink {
    /// Start a new run; returns its id.
    fn begin_run(&mut self, run: &RunStart) -> Result<RunId>;
    /// The latest run of this suite hash that has not ended, or that ended with skipped
    /// models, if any.
    fn find_unfinished_run(&mut self, suite_hash: &str) -> Result<Option<RunId>>;
    /// Repetitions already stored for a run.
    fn committed_repetitions(&mut self, run: RunId) -> Result<Vec<RepetitionKey>>;
    /// Record a model once per run. A second call with the same name is a no-op when the
    /// identity (`ModelRecord::same_model`) matches, and an error otherwise; the first call's
    /// parameters and description are kept (a fitted model's description can vary, e.g. its
    /// solver's iteration count).
    fn record_model(&mut self, run: RunId, model: &ModelRecord) -> Result<()>;
    /// Record what a model learnt on a dataset (fitted size and description), once per run,
    /// model and dataset: the first repetition's is kept.
    fn record_fit(&mut self, run: RunId, fit: &ModelFit) -> Result<()>;
    /// Record that a model was skipped (its files were missing): the run is finished for the
    /// models it ran, and `--resume` can add the skipped one later.
    fn record_skipped(&mut self, run: RunId, model: &str, reason: &str) -> Result<()>;
    /// Record a dataset and its sample once per run; same rules as `record_model`. On resume
    /// this is how a changed sample is caught.
    fn record_dataset(&mut self, run: RunId, dataset: &DatasetRecord) -> Result<()>;
    /// Record splits 1.. of a dataset (protocol `splits` > 1) once per run, after
    /// `record_dataset`; on resume the stored ones must be the same, as for the sample. The
    /// default keeps nothing (a sink that cannot store them only for runs of one split).
    fn record_splits(&mut self, run: RunId, dataset: &str, splits: &[SplitIds]) -> Result<()> {
        let _ = run;
        if splits.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("this results sink cannot record the splits of dataset `{dataset}`")
        }
    }
    /// Store one repetition atomically.
    fn record_repetition(&mut self, run: RunId, rep: &RepetitionRecord) -> Result<()>;
    /// Mark the run ended.
    fn end_run(&mut self, run: RunId, ended_at: f64) -> Result<()>;
    /// Join the run `shard.run_name` of this suite hash, starting it if no shard has yet (the
    /// first shard's `run` facts are kept). Must be atomic across processes: shards that start
    /// together find one run. Returns the run and whether it existed. A shard count other than
    /// the run's is an error.
    fn join_sharded_run(&mut self, run: &RunStart, shard: &Shard) -> Result<(RunId, bool)> {
        let _ = run;
        anyhow::bail!("this results sink cannot hold sharded runs ({shard})")
    }
    /// Mark one shard of a sharded run done; the run ends when its last shard does. Returns
    /// whether the run has ended.
    fn end_shard(&mut self, run: RunId, shard: &Shard, ended_at: f64) -> Result<bool> {
        let _ = (run, ended_at);
        anyhow::bail!("this results sink cannot hold sharded runs ({shard})")
    }
}

/// A sink that keeps everything in memory: for tests and for runs without a store.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub runs: Vec<(RunStart, Option<f64>)>,
    pub models: Vec<(RunId, ModelRecord)>,
    pub datasets: Vec<(RunId, DatasetRecord)>,
    /// Splits 1.. per (run, dataset).
    pub splits: Vec<(RunId, String, Vec<SplitIds>)>,
    pub repetitions: Vec<(RunId, RepetitionRecord)>,
    pub fits: Vec<(RunId, ModelFit)>,
    pub skipped: Vec<(RunId, String, String)>,
    /// Sharded runs: (run, run name, shard, whether that shard has ended).
    pub shards: Vec<(RunId, String, Shard, bool)>,
}

impl ResultSink for MemorySink {
    fn begin_run(&mut self, run: &RunStart) -> Result<RunId> {
        self.runs.push((run.clone(), None));
        Ok(self.runs.len() as RunId)
    }

    fn find_unfinished_run(&mut self, suite_hash: &str) -> Result<Option<RunId>> {
        Ok(self
            .runs
            .iter()
            .enumerate()
            .rev()
            .find(|(i, (r, end))| {
                r.suite_hash == suite_hash
                    && (end.is_none() || self.skipped.iter().any(|s| s.0 == *i as RunId + 1))
            })
            .map(|(i, _)| i as RunId + 1))
    }

    fn committed_repetitions(&mut self, run: RunId) -> Result<Vec<RepetitionKey>> {
        Ok(self
            .repetitions
            .iter()
            .filter(|(id, _)| *id == run)
            .map(|(_, r)| RepetitionKey {
                model: r.model.clone(),
                dataset: r.dataset.clone(),
                index: r.index,
            })
            .collect())
    }

    fn record_model(&mut self, run: RunId, model: &ModelRecord) -> Result<()> {
        match self
            .models
            .iter()
            .find(|(id, m)| *id == run && m.name == model.name)
        {
            Some((_, m)) if m.same_model(model) => Ok(()),
            Some(_) => anyhow::bail!(
                "model `{}` differs from the one stored for this run",
                model.name
            ),
            None => {
                self.models.push((run, model.clone()));
                Ok(())
            }
        }
    }

    fn record_dataset(&mut self, run: RunId, dataset: &DatasetRecord) -> Result<()> {
        match self
            .datasets
            .iter()
            .find(|(id, d)| *id == run && d.name == dataset.name)
        {
            Some((_, d)) if d == dataset => Ok(()),
            Some(_) => anyhow::bail!(
                "dataset `{}` or its sample differs from the one stored for this run",
                dataset.name
            ),
            None => {
                self.datasets.push((run, dataset.clone()));
                Ok(())
            }
        }
    }

    fn record_splits(&mut self, run: RunId, dataset: &str, splits: &[SplitIds]) -> Result<()> {
        match self
            .splits
            .iter()
            .find(|(id, d, _)| *id == run && d == dataset)
        {
            Some((_, _, s)) if s == splits => Ok(()),
            Some(_) => anyhow::bail!(
                "the splits of dataset `{dataset}` differ from the ones stored for this run"
            ),
            None => {
                self.splits
                    .push((run, dataset.to_string(), splits.to_vec()));
                Ok(())
            }
        }
    }

    fn record_repetition(&mut self, run: RunId, rep: &RepetitionRecord) -> Result<()> {
        self.repetitions.push((run, rep.clone()));
        Ok(())
    }

    fn record_fit(&mut self, run: RunId, fit: &ModelFit) -> Result<()> {
        if !self
            .fits
            .iter()
            .any(|(id, f)| *id == run && f.model == fit.model && f.dataset == fit.dataset)
        {
            self.fits.push((run, fit.clone()));
        }
        self.skipped.retain(|s| !(s.0 == run && s.1 == fit.model));
        Ok(())
    }

    fn record_skipped(&mut self, run: RunId, model: &str, reason: &str) -> Result<()> {
        if !self.skipped.iter().any(|s| s.0 == run && s.1 == model) {
            self.skipped
                .push((run, model.to_string(), reason.to_string()));
        }
        Ok(())
    }

    fn end_run(&mut self, run: RunId, ended_at: f64) -> Result<()> {
        let slot = self
            .runs
            .get_mut((run - 1) as usize)
            .ok_or_else(|| anyhow::anyhow!("no run {run}"))?;
        slot.1 = Some(ended_at);
        Ok(())
    }

    fn join_sharded_run(&mut self, run: &RunStart, shard: &Shard) -> Result<(RunId, bool)> {
        let existing = self.shards.iter().find(|(id, name, _, _)| {
            *name == shard.run_name && self.runs[(*id - 1) as usize].0.suite_hash == run.suite_hash
        });
        let (id, existed) = match existing {
            Some((_, _, other, _)) if other.count != shard.count => anyhow::bail!(
                "run `{}` has {} shards, not {}",
                shard.run_name,
                other.count,
                shard.count
            ),
            Some((id, ..)) => (*id, true),
            None => (self.begin_run(run)?, false),
        };
        self.shards
            .retain(|(r, _, s, _)| !(*r == id && s.index == shard.index));
        self.shards
            .push((id, shard.run_name.clone(), shard.clone(), false));
        self.runs[(id - 1) as usize].1 = None;
        Ok((id, existed))
    }

    fn end_shard(&mut self, run: RunId, shard: &Shard, ended_at: f64) -> Result<bool> {
        for s in self.shards.iter_mut() {
            if s.0 == run && s.2.index == shard.index {
                s.3 = true;
            }
        }
        let ended = self.shards.iter().filter(|s| s.0 == run && s.3).count();
        let all = ended == shard.count as usize;
        if all {
            self.end_run(run, ended_at)?;
        }
        Ok(all)
    }
}
