//! The `Sensor` trait every energy source implements, and the file-reading boundary the
//! filesystem sensors go through (so tests can fake what even root cannot: EACCES).

use crate::component::{Component, Method};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// One cumulative energy figure from a sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub component: Component,
    pub method: Method,
    /// Joules since the sensor was created (monotonic: wraps and resets are handled inside).
    pub energy_j: f64,
    /// A component may be read by several methods (a GPU's energy counter and its integrated
    /// power); windows use the one marked primary when they close.
    pub primary: bool,
    /// False when the component must not be added to totals (see `ComponentEnergy::counted`).
    pub counted: bool,
    /// Idle power known from a model (the CPU-load estimate at 0 % load), for process scope.
    pub model_idle_w: Option<f64>,
    /// Cumulative seconds the device was busy (utilisation x time), where the source says;
    /// a window's mean utilisation is its increase over the window's duration.
    pub busy_s: Option<f64>,
    pub note: Option<String>,
}

/// The result of reading every counter of a sensor once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Poll {
    pub readings: Vec<Reading>,
    /// Things that went wrong in this interval (a wrap is fine; a reset is reported here).
    pub warnings: Vec<String>,
}

/// One source of energy figures. `poll` is called by the sampler thread at its interval and
/// at every window boundary.
pub trait Sensor: Send {
    /// Short name, e.g. "rapl", "nvml", "cpu-load estimate".
    fn name(&self) -> String;
    /// What it reads, for `powerhungry sensors` and the report.
    fn describe(&self) -> String;
    /// Read every counter now and return cumulative energies.
    fn poll(&mut self, now: Instant) -> Result<Poll, String>;
    /// Read every counter now, at a window's edge: a sensor that reads some source less often
    /// than the sampler polls (to keep fine sampling cheap) must read it here.
    fn poll_edge(&mut self, now: Instant) -> Result<Poll, String> {
        self.poll(now)
    }
    /// The interval below which polling this sensor shows nothing new. The sampler wakes no
    /// more often than the fastest of its sensors needs (but never less often than asked):
    /// counters that move continuously (RAPL, NVML) keep the default, zero, and are polled at
    /// the interval asked; estimators that read their source at most every 50 ms say so, and
    /// a meter made only of them samples every 50 ms, not at a 10 ms that would repeat each
    /// figure five times. Window edges read every sensor whatever this is.
    fn cadence(&self) -> Duration {
        Duration::ZERO
    }
}

/// Reads small text files (sysfs/procfs). The real one is `std::fs`; tests substitute one
/// that returns errors root would never see.
pub trait FileSource: Send + Sync {
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Whether a sensor may keep a file it reads at every poll open and reread it
    /// (`procfs::CachedFile`: one `pread`, no path lookup) instead of calling
    /// `read_to_string` each time. True for the real filesystem; a test source that injects
    /// errors keeps the default, so every read goes through it.
    fn may_keep_open(&self) -> bool {
        false
    }
}

/// `std::fs::read_to_string`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFiles;

impl FileSource for RealFiles {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn may_keep_open(&self) -> bool {
        true
    }
}
