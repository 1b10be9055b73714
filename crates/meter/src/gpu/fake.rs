//! A scripted GPU for tests: energy counter and power are set by the test between polls.

use super::{GpuBackend, GpuInfo};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct FakeGpu {
    pub info: GpuInfo,
    /// `None` = no energy counter on this GPU.
    pub energy_mj: Option<u64>,
    pub power_mw: u32,
}

/// A fake driver whose GPUs the test mutates through the shared handle.
#[derive(Clone, Default)]
pub struct FakeBackend {
    pub gpus: Arc<Mutex<Vec<FakeGpu>>>,
    /// Utilisation percent per GPU index; absent = the driver does not say.
    pub utilization: Arc<Mutex<HashMap<u32, u32>>>,
    /// The driver version the fake reports; `None` = the driver does not say.
    pub driver: Option<String>,
}

impl FakeBackend {
    pub fn new(gpus: Vec<FakeGpu>) -> Self {
        Self {
            gpus: Arc::new(Mutex::new(gpus)),
            utilization: Arc::default(),
            driver: None,
        }
    }

    /// Set one GPU's utilisation percent (from then on it reports one).
    pub fn set_utilization(&self, index: u32, percent: u32) {
        let mut u = self.utilization.lock().unwrap_or_else(|p| p.into_inner());
        u.insert(index, percent);
    }

    /// Change one GPU's state.
    pub fn set(&self, index: usize, energy_mj: Option<u64>, power_mw: u32) {
        let mut g = self.gpus.lock().unwrap_or_else(|p| p.into_inner());
        g[index].energy_mj = energy_mj;
        g[index].power_mw = power_mw;
    }

    fn with<T>(&self, index: u32, f: impl FnOnce(&FakeGpu) -> T) -> Result<T, String> {
        let g = self.gpus.lock().unwrap_or_else(|p| p.into_inner());
        g.get(index as usize)
            .map(f)
            .ok_or_else(|| format!("no GPU {index}"))
    }
}

impl GpuBackend for FakeBackend {
    fn device_count(&self) -> Result<u32, String> {
        Ok(self.gpus.lock().unwrap_or_else(|p| p.into_inner()).len() as u32)
    }
    fn info(&self, index: u32) -> Result<GpuInfo, String> {
        self.with(index, |g| g.info.clone())
    }
    fn driver_version(&self) -> Result<Option<String>, String> {
        Ok(self.driver.clone())
    }
    fn total_energy_mj(&self, index: u32) -> Result<Option<u64>, String> {
        self.with(index, |g| g.energy_mj)
    }
    fn power_mw(&self, index: u32) -> Result<u32, String> {
        self.with(index, |g| g.power_mw)
    }
    fn utilization_percent(&self, index: u32) -> Result<Option<u32>, String> {
        self.with(index, |_| ())?;
        let u = self.utilization.lock().unwrap_or_else(|p| p.into_inner());
        Ok(u.get(&index).copied())
    }
}
