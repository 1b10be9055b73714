//! The real GPU backend: NVML through nvml-wrapper, which loads libnvidia-ml at run time, so
//! a machine without the driver gets an error here rather than a binary that won't start.

use super::{GpuBackend, GpuInfo};
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;

pub struct NvmlBackend {
    nvml: Nvml,
}

impl NvmlBackend {
    /// Load libnvidia-ml and initialise it. The error says why (library not found, driver
    /// not loaded, ...), for `powerhungry sensors`.
    pub fn init() -> Result<Self, String> {
        Nvml::init()
            .map(|nvml| Self { nvml })
            .map_err(|e| format!("NVML unavailable: {e}"))
    }
}

fn err(e: NvmlError) -> String {
    e.to_string()
}

impl GpuBackend for NvmlBackend {
    fn device_count(&self) -> Result<u32, String> {
        self.nvml.device_count().map_err(err)
    }

    fn info(&self, index: u32) -> Result<GpuInfo, String> {
        let d = self.nvml.device_by_index(index).map_err(err)?;
        Ok(GpuInfo {
            index,
            name: d.name().map_err(err)?,
            uuid: d.uuid().map_err(err)?,
        })
    }

    fn total_energy_mj(&self, index: u32) -> Result<Option<u64>, String> {
        let d = self.nvml.device_by_index(index).map_err(err)?;
        match d.total_energy_consumption() {
            Ok(mj) => Ok(Some(mj)),
            Err(NvmlError::NotSupported) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    fn power_mw(&self, index: u32) -> Result<u32, String> {
        let d = self.nvml.device_by_index(index).map_err(err)?;
        d.power_usage().map_err(err)
    }

    fn driver_version(&self) -> Result<Option<String>, String> {
        self.nvml.sys_driver_version().map(Some).map_err(err)
    }

    fn utilization_percent(&self, index: u32) -> Result<Option<u32>, String> {
        let d = self.nvml.device_by_index(index).map_err(err)?;
        match d.utilization_rates() {
            Ok(u) => Ok(Some(u.gpu)),
            Err(NvmlError::NotSupported) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }
}
