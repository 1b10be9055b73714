//! Meter configuration: where the sensors look, what they count, how often they sample.

use crate::claim::ClaimPolicy;
use crate::sink::SampleSink;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Whose energy a window reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum Scope {
    /// Everything the counted devices used.
    #[default]
    Machine,
    /// CPU energy attributed to the process tree rooted at `pid` by its share of CPU time
    /// (dynamic part only; the idle part is reported apart). GPU and RAM stay machine-wide.
    Process { pid: u32 },
}

/// Which GPUs the workload may use (NVML indices), besides CUDA_VISIBLE_DEVICES.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GpuSelection {
    /// Every GPU that CUDA_VISIBLE_DEVICES allows (all, when it is unset).
    #[default]
    All,
    /// Only these NVML indices (intersected with CUDA_VISIBLE_DEVICES).
    Indices(Vec<u32>),
    /// Don't open NVML at all.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterConfig {
    /// Power sampling interval of the background thread (counters are also read at every
    /// window boundary, whatever this is).
    pub interval: Duration,
    /// Root of the sysfs tree (`/sys`); powercap zones are read under `<root>/class/powercap`.
    pub sysfs_root: PathBuf,
    /// Root of the procfs tree (`/proc`): `stat`, `meminfo`, `cpuinfo`, `<pid>/stat`.
    pub procfs_root: PathBuf,
    pub gpus: GpuSelection,
    /// The workload's CUDA_VISIBLE_DEVICES (indices or UUIDs); `None` = unset = all visible.
    pub cuda_visible_devices: Option<String>,
    /// CPU TDP override in watts for the CPU-load estimate (`--cpu-tdp`).
    pub cpu_tdp: Option<f64>,
    pub scope: Scope,
    /// Seconds of idle measurement taken by `Meter::start` before it returns (0 = no baseline).
    pub idle_seconds: f64,
    /// Power above which a per-interval RAPL delta is treated as impossible (a reset or a
    /// corrupt read), in watts per zone.
    pub max_zone_watts: f64,
    /// Where to claim the counted devices so that concurrent meters on this machine never
    /// count one twice (`claim::default_claim_dir()`); `None` = don't claim (the library
    /// default, so tests on fake trees stay independent; `measure` claims by default).
    pub claim_dir: Option<PathBuf>,
    /// Take CPU and RAM claims shared, for a meter that will bill only a process tree's share
    /// of them (process scope).
    pub claim_cpu_shared: bool,
    /// What to do when another meter holds a device this one needs (only with `claim_dir`).
    /// The default, `Exclude`, is the historical library rule; see `ClaimPolicy`.
    #[serde(default)]
    pub claim_policy: ClaimPolicy,
    /// Whether a closed window (other than the run's total) carries the samples taken while
    /// it was open. Memory: the samples since the oldest open window opened. `false` (with a
    /// `sample_sink` to stream them) keeps memory flat however long a window stays open.
    #[serde(default = "default_true")]
    pub window_samples: bool,
    /// Whether `MeterReport::total` (the whole run) carries every sample: memory grows with the
    /// run. Off by default: stream them with `sample_sink` instead.
    #[serde(default)]
    pub total_samples: bool,
    /// How many of the latest samples the meter keeps for `live_watts` and
    /// `Meter::recent_samples` (a ring), whatever the windows keep.
    #[serde(default = "default_recent")]
    pub recent_samples: usize,
    /// Whether `finish` returns every closed window (`MeterReport::windows`, without their
    /// samples). `false` for callers that keep each `close_window` result themselves (a bench
    /// of a million windows).
    #[serde(default = "default_true")]
    pub keep_closed_windows: bool,
    /// Receives every sample as it is taken (e.g. `SampleSink::json_lines(file)`).
    #[serde(skip)]
    pub sample_sink: Option<SampleSink>,
}

fn default_true() -> bool {
    true
}

fn default_recent() -> usize {
    DEFAULT_RECENT_SAMPLES
}

/// Default of `MeterConfig::recent_samples`: a minute at the default 100 ms.
pub const DEFAULT_RECENT_SAMPLES: usize = 600;

impl Default for MeterConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(100),
            sysfs_root: PathBuf::from("/sys"),
            procfs_root: PathBuf::from("/proc"),
            gpus: GpuSelection::All,
            cuda_visible_devices: std::env::var("CUDA_VISIBLE_DEVICES").ok(),
            cpu_tdp: None,
            scope: Scope::Machine,
            idle_seconds: 0.0,
            max_zone_watts: 10_000.0,
            claim_dir: None,
            claim_cpu_shared: false,
            claim_policy: ClaimPolicy::Exclude,
            window_samples: true,
            total_samples: false,
            recent_samples: DEFAULT_RECENT_SAMPLES,
            keep_closed_windows: true,
            sample_sink: None,
        }
    }
}
