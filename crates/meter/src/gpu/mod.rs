//! NVIDIA GPUs: our own `GpuBackend` trait (NVML in production, a fake in tests, a file tree
//! for whole-process tests), which GPUs
//! the workload may use, and the GPU sensor (energy counter, or integrated power).

pub mod fake;
pub mod nvml;
mod sensor;
pub mod tree;
mod visibility;

pub use sensor::{GpuSensor, STUCK_AFTER_S, STUCK_WATTS};
pub use visibility::{visible_to_workload, Visibility};

use serde::{Deserialize, Serialize};

/// Identity of one GPU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpuInfo {
    /// NVML index.
    pub index: u32,
    pub name: String,
    /// `GPU-xxxxxxxx-...`, as CUDA_VISIBLE_DEVICES may name it.
    pub uuid: String,
}

/// What the meter needs from a GPU driver.
pub trait GpuBackend: Send {
    fn device_count(&self) -> Result<u32, String>;
    fn info(&self, index: u32) -> Result<GpuInfo, String>;
    /// Total energy since the driver loaded, in millijoules; `Ok(None)` when the GPU has no
    /// such counter (pre-Volta).
    fn total_energy_mj(&self, index: u32) -> Result<Option<u64>, String>;
    /// Current power draw in milliwatts.
    fn power_mw(&self, index: u32) -> Result<u32, String>;
    /// Percent of the last sample period during which a kernel ran (NVML's "GPU
    /// utilization"); `Ok(None)` when the driver does not say.
    fn utilization_percent(&self, _index: u32) -> Result<Option<u32>, String> {
        Ok(None)
    }
    /// The driver's version string (e.g. "550.54.15"), recorded with results because energy
    /// counters and power limits change between drivers; `Ok(None)` when unknown.
    fn driver_version(&self) -> Result<Option<String>, String> {
        Ok(None)
    }
}
