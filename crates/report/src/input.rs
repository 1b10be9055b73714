//! What a report is made from, independent of where it came from: the results store, an
//! exported JSON file (this struct, serialised), or imported CodeCarbon logs are all adapters
//! onto these types. Energy is joules; durations seconds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything one report covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// Where the data came from ("store /path/results.sqlite", "json export.json"...).
    #[serde(default)]
    pub source: String,
    pub series: Vec<Series>,
    /// Things the report must say about its input (models a run skipped...).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One model on one dataset in one run: the unit the studies report (a row of their tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    #[serde(default)]
    pub suite: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    pub task: String,
    pub model: String,
    pub dataset: String,
    /// Number of parameters where known (from the model's config).
    #[serde(default)]
    pub parameters: Option<u64>,
    /// GPUs the model ran on (0 on CPU).
    #[serde(default)]
    pub gpus: u32,
    /// Grid carbon intensity used for this run, g CO2e per kWh, and where it came from.
    #[serde(default)]
    pub intensity_g_per_kwh: Option<f64>,
    #[serde(default)]
    pub intensity_source: Option<String>,
    /// Facility overhead applied to energy before emissions (1.0 when unknown).
    #[serde(default = "one")]
    pub pue: f64,
    /// The task's headline metric (e.g. "accuracy"), a key of each repetition's `metrics`.
    #[serde(default)]
    pub primary_metric: Option<String>,
    /// Whether the task generates text or images (output length is then plotted).
    #[serde(default)]
    pub generative: bool,
    /// The run never ended (killed, not resumed to its end): shown marked, with its
    /// repetition count, never mixed into a task mean.
    #[serde(default)]
    pub unfinished: bool,
    /// Every repetition inferred on the same sample (bench runs).
    #[serde(default)]
    pub same_sample: bool,
    /// How a zero-shot model answered ("zero-shot (generate)", "zero-shot (log-likelihood)");
    /// `None` for a task-specific model, or where the source does not say (an import).
    #[serde(default)]
    pub approach: Option<String>,
    pub repetitions: Vec<Repetition>,
}

fn one() -> f64 {
    1.0
}

/// One measured repetition: `inferences` inferences in one inference window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repetition {
    pub index: u32,
    pub inferences: u64,
    pub duration_s: f64,
    pub components: Vec<ComponentEnergy>,
    /// Metrics scored on this repetition's own predictions (accuracy, macro-F1...).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Tokens produced over the whole repetition (generative tasks).
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Emissions as the source recorded them (CodeCarbon's `emissions`), grams CO2e. When
    /// absent, emissions are energy x the series' intensity.
    #[serde(default)]
    pub emissions_g: Option<f64>,
    /// Per-inference latency percentiles, milliseconds, where recorded.
    #[serde(default)]
    pub latency_p50_ms: Option<f64>,
    #[serde(default)]
    pub latency_p95_ms: Option<f64>,
    /// Why the energy is not whole (a needed device went uncounted), if it is not.
    #[serde(default)]
    pub incomplete: Option<String>,
    /// No component was counted: no energy figure at all.
    #[serde(default)]
    pub nothing_measured: bool,
}

/// Energy of one component over a repetition, with how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentEnergy {
    /// "cpu-package-0", "gpu0 NVIDIA A100", "ram", "psys"...
    pub component: String,
    /// "measured:rapl", "measured:nvml-energy", "estimated:cpu-load", "estimated:ram"...
    pub method: String,
    pub joules: f64,
    /// Energy the component would have used idle over the same time (idle power x duration);
    /// `None` when no idle baseline was taken.
    #[serde(default)]
    pub idle_joules: Option<f64>,
}

impl Repetition {
    pub fn total_joules(&self) -> f64 {
        self.components.iter().map(|c| c.joules).sum()
    }

    /// Energy above idle, when every component has a baseline.
    pub fn above_idle_joules(&self) -> Option<f64> {
        self.components
            .iter()
            .map(|c| c.idle_joules.map(|i| c.joules - i))
            .sum()
    }

    pub fn is_estimated(&self) -> bool {
        self.components
            .iter()
            .any(|c| c.method.starts_with("estimated"))
    }
}

/// Joules to kWh and Wh (edges only).
pub const J_PER_KWH: f64 = 3.6e6;
pub const J_PER_WH: f64 = 3600.0;

impl ReportInput {
    /// Keep only the series matching every given filter (exact match, case-insensitive;
    /// a filter may be given several times and matches any of its values).
    pub fn filtered(&self, suites: &[String], tasks: &[String], models: &[String]) -> ReportInput {
        let ok = |wanted: &[String], have: Option<&str>| {
            wanted.is_empty()
                || have.is_some_and(|h| wanted.iter().any(|w| w.eq_ignore_ascii_case(h)))
        };
        ReportInput {
            source: self.source.clone(),
            notes: self.notes.clone(),
            series: self
                .series
                .iter()
                .filter(|s| ok(suites, s.suite.as_deref()))
                .filter(|s| ok(tasks, Some(&s.task)))
                .filter(|s| ok(models, Some(&s.model)))
                .cloned()
                .collect(),
        }
    }
}
