//! What this machine can measure and how, and why not where it can't: the data behind
//! `powerhungry sensors`.

use crate::config::MeterConfig;
use crate::estimate::{CpuPowerModel, RamPowerModel};
use crate::gpu::{nvml::NvmlBackend, visible_to_workload, GpuBackend, GpuInfo, Visibility};
use crate::procfs;
use crate::rapl;
use crate::report::SensorInfo;
use crate::sensor::RealFiles;
use crate::setup;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RaplZoneStatus {
    pub id: String,
    pub name: String,
    pub counted: bool,
    pub max_energy_range_uj: Option<u64>,
    /// `energy_uj` now, or why it can't be read.
    pub energy_uj: Result<u64, String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GpuStatus {
    pub index: u32,
    pub name: String,
    pub uuid: String,
    pub energy_counter: bool,
    pub counted: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CpuStatus {
    pub brand: String,
    pub sockets: u32,
    pub logical_cpus: u32,
    pub virtualized: bool,
    pub tdp_watts: f64,
    pub tdp_source: String,
    pub tdp_warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub sysfs_root: String,
    pub procfs_root: String,
    /// RAPL zones found, or why none.
    pub rapl: Result<Vec<RaplZoneStatus>, String>,
    /// NVIDIA GPUs found, or why none (the NVML load error).
    pub gpus: Result<Vec<GpuStatus>, String>,
    pub cpu: Result<CpuStatus, String>,
    pub ram_total_bytes: Result<u64, String>,
    pub ram_model_watts: Option<f64>,
    /// What `measure` would use with this configuration.
    pub sensors: Vec<SensorInfo>,
    pub warnings: Vec<String>,
}

/// Probe everything (with the real NVML).
pub fn detect(config: &MeterConfig) -> Detection {
    detect_with(
        config,
        NvmlBackend::init().map(|b| Box::new(b) as Box<dyn GpuBackend>),
        || NvmlBackend::init().map(|b| Box::new(b) as Box<dyn GpuBackend>),
    )
}

/// Probe with a given GPU backend; `again` makes a second one for the sensor plan.
pub fn detect_with(
    config: &MeterConfig,
    gpu: Result<Box<dyn GpuBackend>, String>,
    again: impl FnOnce() -> Result<Box<dyn GpuBackend>, String>,
) -> Detection {
    let files = RealFiles;
    let rapl = rapl::discover(&config.sysfs_root, &files)
        .map(|zones| {
            zones
                .into_iter()
                .map(|z| RaplZoneStatus {
                    energy_uj: rapl::read_zone_energy(&z.dir).map_err(|e| e.to_string()),
                    id: z.id,
                    name: z.name,
                    counted: z.counted,
                    max_energy_range_uj: z.max_range_uj,
                    note: z.note,
                })
                .collect()
        })
        .map_err(|e| e.to_string());

    let gpus = gpu.and_then(|b| {
        let n = b.device_count()?;
        let infos: Vec<GpuInfo> = (0..n).map(|i| b.info(i)).collect::<Result<_, _>>()?;
        Ok(infos
            .iter()
            .map(|g| {
                let vis = visible_to_workload(
                    g,
                    &infos,
                    config.cuda_visible_devices.as_deref(),
                    &config.gpus,
                );
                let (counted, note) = match vis {
                    Visibility::Counted => (true, None),
                    Visibility::Apart(why) => (false, Some(why)),
                };
                GpuStatus {
                    index: g.index,
                    name: g.name.clone(),
                    uuid: g.uuid.clone(),
                    energy_counter: matches!(b.total_energy_mj(g.index), Ok(Some(_))),
                    counted,
                    note,
                }
            })
            .collect())
    });

    let cpu = procfs::cpu_topology(&config.procfs_root)
        .map(|(brand, topo)| {
            let (model, warn) = CpuPowerModel::for_machine(&brand, &topo, config.cpu_tdp);
            CpuStatus {
                brand,
                sockets: topo.sockets,
                logical_cpus: topo.logical_cpus,
                virtualized: topo.virtualized,
                tdp_watts: model.tdp_watts,
                tdp_source: model.tdp_source,
                tdp_warning: warn,
            }
        })
        .map_err(|e| e.to_string());
    let ram_total_bytes = procfs::mem_total_bytes(&config.procfs_root).map_err(|e| e.to_string());
    let ram_model_watts = ram_total_bytes
        .as_ref()
        .ok()
        .map(|b| RamPowerModel::for_machine(*b).watts());

    let found = setup::build_sensors_with(config, Some(again()));
    Detection {
        sysfs_root: config.sysfs_root.display().to_string(),
        procfs_root: config.procfs_root.display().to_string(),
        rapl,
        gpus,
        cpu,
        ram_total_bytes,
        ram_model_watts,
        sensors: found
            .sensors
            .iter()
            .map(|s| SensorInfo {
                name: s.name(),
                description: s.describe(),
            })
            .collect(),
        warnings: found.warnings,
    }
}
