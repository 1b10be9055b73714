//! What the meter hands back: per-window energy per component with its method, samples,
//! baseline and warnings. Everything here is serialisable and in SI units (J, W, s).

use crate::component::{Component, ComponentClass, Method};
use crate::config::Scope;
use serde::{Deserialize, Serialize};

/// Energy of one component over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentEnergy {
    pub component: Component,
    pub method: Method,
    /// Energy the component used over the window, machine-wide.
    pub energy_j: f64,
    /// Whether this figure is part of the window's total. False for devices the workload may
    /// not use (GPUs outside CUDA_VISIBLE_DEVICES / --gpus) and for RAPL psys when packages are
    /// read (psys contains them).
    pub counted: bool,
    /// Idle power of this component from the baseline, when one was measured.
    pub idle_power_w: Option<f64>,
    /// `energy_j - idle_power_w x duration` (may be slightly negative from noise).
    pub above_idle_j: Option<f64>,
    /// In process scope, the CPU energy billed to the process tree (see `ProcessShare`).
    pub process_j: Option<f64>,
    /// Why it is not counted, or anything else a reader must know about this figure.
    pub note: Option<String>,
}

impl ComponentEnergy {
    /// The figure billed to the workload: the process share in process scope, else the total.
    pub fn billed_j(&self) -> f64 {
        self.process_j.unwrap_or(self.energy_j)
    }
}

/// Power of one component over the interval ending at a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentPower {
    pub component: Component,
    pub method: Method,
    pub watts: f64,
    pub counted: bool,
}

/// Mean power per component over the interval `(t_s - dt_s, t_s]`, time since meter start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_s: f64,
    pub dt_s: f64,
    /// Sum of the counted components.
    pub total_w: f64,
    pub components: Vec<ComponentPower>,
}

/// The process-scope attribution of a window (Kepler's rule): the tree is billed
/// `share x max(0, cpu_energy - idle_energy)`, with `share = tree CPU time / machine busy CPU time`,
/// and `ram_share x ram_energy`, with `ram_share = tree RSS / machine RAM in use`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessShare {
    pub pid: u32,
    pub tree_cpu_s: f64,
    pub machine_busy_cpu_s: f64,
    pub share: f64,
    /// CPU idle energy over the window, kept apart (not billed to the tree).
    pub cpu_idle_j: f64,
    /// Where the idle power came from: "baseline", "power model", or "none".
    pub idle_source: String,
    /// The tree's share of the RAM in use over the window: its mean resident set (sum over the
    /// tree of `<pid>/statm` RSS) over the machine's mean `MemTotal - MemAvailable`, both
    /// time-weighted over the polls, capped at 1. The tree is billed this share of every
    /// counted RAM component (estimate or DRAM RAPL). `None`: not readable, RAM stays
    /// machine-wide (a warning says why).
    #[serde(default)]
    pub ram_share: Option<f64>,
    /// The tree's mean resident memory over the window, bytes.
    #[serde(default)]
    pub tree_ram_bytes: Option<f64>,
    /// The machine's mean RAM in use over the window, bytes.
    #[serde(default)]
    pub machine_ram_used_bytes: Option<f64>,
    /// RAM energy over the window not billed to the tree (the rest of the machine's), kept
    /// apart like `cpu_idle_j`.
    #[serde(default)]
    pub ram_apart_j: f64,
}

/// Idle power per component, measured before the workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub duration_s: f64,
    pub components: Vec<ComponentPower>,
}

/// Energy over one named window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    pub name: String,
    /// Seconds since the meter started, monotonic clock.
    pub start_s: f64,
    pub duration_s: f64,
    pub scope: Scope,
    pub components: Vec<ComponentEnergy>,
    pub process: Option<ProcessShare>,
    pub samples: Vec<Sample>,
    pub warnings: Vec<String>,
    /// Machine CPU utilisation over the window in percent: Δbusy / Δtotal of `/proc/stat`
    /// between the window's edges (`None`: unreadable, or no clock tick elapsed).
    #[serde(default)]
    pub cpu_utilization_percent: Option<f64>,
    /// RAM in use when the window closed (`None`: meminfo unreadable).
    #[serde(default)]
    pub ram: Option<RamUse>,
    /// Mean utilisation of the counted GPUs over the window in percent (NVML), averaged over
    /// the GPUs that report one; `None` when none does.
    #[serde(default)]
    pub gpu_utilization_percent: Option<f64>,
    /// Devices this meter needed but did not count because another meter holds them (their
    /// energy is shown, not counted). Non-empty: the window's total is incomplete and must be
    /// marked so (never rated, never compared as if whole).
    #[serde(default)]
    pub incomplete: Vec<String>,
}

/// RAM in use (`MemTotal - MemAvailable` of `/proc/meminfo`) and installed, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RamUse {
    pub used_bytes: u64,
    pub total_bytes: u64,
}

impl RamUse {
    pub fn percent(&self) -> f64 {
        100.0 * self.used_bytes as f64 / self.total_bytes.max(1) as f64
    }
}

impl WindowReport {
    /// How many components are counted in `total_j()`.
    pub fn counted_components(&self) -> usize {
        self.components.iter().filter(|c| c.counted).count()
    }

    /// No component counted: `total_j()` is 0 because nothing was measured, not because
    /// nothing was used. Show "nothing measured", never "0 Wh".
    pub fn is_nothing_measured(&self) -> bool {
        self.counted_components() == 0
    }

    /// Some needed device went uncounted (see `incomplete`), or nothing was measured at all.
    pub fn is_incomplete(&self) -> bool {
        !self.incomplete.is_empty() || self.is_nothing_measured()
    }

    /// Total energy billed to the workload: counted components only.
    pub fn total_j(&self) -> f64 {
        self.components
            .iter()
            .filter(|c| c.counted)
            .map(|c| c.billed_j())
            // Not `sum()`: Rust's f64 sum of nothing is -0.0 ("-0.000 J" when all is claimed).
            .fold(0.0, |a, b| a + b)
    }

    /// Counted energy of one class (CPU, GPU, RAM).
    pub fn class_j(&self, class: ComponentClass) -> f64 {
        self.components
            .iter()
            .filter(|c| c.counted && c.component.class() == class)
            .map(|c| c.billed_j())
            .fold(0.0, |a, b| a + b)
    }

    /// Total above idle, when every counted component has a baseline.
    pub fn above_idle_j(&self) -> Option<f64> {
        self.components
            .iter()
            .filter(|c| c.counted)
            .map(|c| c.above_idle_j)
            .try_fold(0.0, |a, b| b.map(|b| a + b))
    }

    /// The distinct methods behind the counted figures, e.g. "measured:rapl+estimated:ram".
    pub fn methods_label(&self) -> String {
        let mut methods: Vec<Method> = self
            .components
            .iter()
            .filter(|c| c.counted)
            .map(|c| c.method)
            .collect();
        methods.sort();
        methods.dedup();
        let parts: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
        parts.join("+")
    }
}

/// What one sensor is and what it reads, as found when the meter started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorInfo {
    pub name: String,
    pub description: String,
}

/// Everything the meter saw from start to finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterReport {
    /// The interval the samples were taken at (see `requested_interval_s`).
    pub interval_s: f64,
    /// The interval asked for; `interval_s` is longer when no sensor changes that often (the
    /// estimators alone: 50 ms), and a warning says so.
    #[serde(default)]
    pub requested_interval_s: f64,
    pub sensors: Vec<SensorInfo>,
    pub baseline: Option<Baseline>,
    /// The whole run, from `Meter::start` (after the baseline) to `finish`.
    pub total: WindowReport,
    /// Windows closed during the run, in closing order.
    pub windows: Vec<WindowReport>,
    pub warnings: Vec<String>,
}

impl MeterReport {
    /// Devices needed but counted by another meter over the run (see `WindowReport::incomplete`).
    pub fn incomplete(&self) -> &[String] {
        &self.total.incomplete
    }
}
