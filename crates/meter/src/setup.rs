//! Choosing the sensors for a configuration: RAPL where readable, NVML where loadable,
//! estimates for what is left, each fallback with a warning.

use crate::component::Component;
use crate::config::{GpuSelection, MeterConfig};
use crate::estimate::{CpuPowerModel, CpuTopology, RamPowerModel};
use crate::estimators::{CpuLoadSensor, RamSensor, TdpSensor};
use crate::gpu::{nvml::NvmlBackend, GpuBackend, GpuSensor};
use crate::procfs;
use crate::rapl::{RaplError, RaplSensor};
use crate::sensor::{FileSource, RealFiles, Sensor};
use std::sync::Arc;
use std::time::Instant;

/// The sensors found for a configuration.
pub struct Found {
    pub sensors: Vec<Box<dyn Sensor>>,
    /// Fallbacks and failures the user must know about (they go into every window).
    pub warnings: Vec<String>,
}

/// Build the sensors with the real NVML backend (if it loads).
pub fn build_sensors(config: &MeterConfig) -> Found {
    let gpu = match config.gpus {
        GpuSelection::None => None,
        _ => Some(NvmlBackend::init().map(|b| Box::new(b) as Box<dyn GpuBackend>)),
    };
    build_sensors_with(config, gpu)
}

/// Build the sensors with the given GPU backend (`None`: GPUs not wanted; `Some(Err)`: the
/// driver could not be loaded, with its reason).
pub fn build_sensors_with(
    config: &MeterConfig,
    gpu: Option<Result<Box<dyn GpuBackend>, String>>,
) -> Found {
    build_sensors_with_files(config, gpu, Arc::new(RealFiles))
}

/// As `build_sensors_with`, reading RAPL files through `files` (tests fake EACCES with it).
pub fn build_sensors_with_files(
    config: &MeterConfig,
    gpu: Option<Result<Box<dyn GpuBackend>, String>>,
    files: Arc<dyn FileSource>,
) -> Found {
    let mut sensors: Vec<Box<dyn Sensor>> = Vec::new();
    let mut warnings = Vec::new();

    let (mut cpu_measured, mut ram_measured) = (false, false);
    match RaplSensor::open_with(
        &config.sysfs_root,
        config.max_zone_watts,
        files,
        Instant::now(),
    ) {
        Ok(rapl) => {
            for z in rapl.zones().iter().filter(|z| z.counted) {
                match z.component {
                    Some(Component::CpuPackage { .. }) => cpu_measured = true,
                    Some(Component::Dram { .. }) => ram_measured = true,
                    // psys counted alone covers the SoC and its memory.
                    Some(Component::Psys) => {
                        cpu_measured = true;
                        ram_measured = true;
                    }
                    _ => {}
                }
            }
            sensors.push(Box::new(rapl));
        }
        Err(e @ (RaplError::NoPowercap(_) | RaplError::NoZones(_))) => {
            warnings.push(format!("RAPL: {e}; CPU energy is estimated"));
        }
        Err(e) => warnings.push(format!(
            "RAPL unusable: {e}; CPU energy is estimated instead"
        )),
    }

    if !cpu_measured {
        let (brand, topo) = match procfs::cpu_topology(&config.procfs_root) {
            Ok(bt) => bt,
            Err(e) => {
                warnings.push(format!("{e}; CPU model unknown, 1 socket assumed"));
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
                let topo = CpuTopology {
                    logical_cpus: threads,
                    sockets: 1,
                    virtualized: false,
                };
                ("unknown CPU".to_string(), topo)
            }
        };
        let sockets = topo.sockets;
        let (model, warn) = CpuPowerModel::for_machine(&brand, &topo, config.cpu_tdp);
        warnings.extend(warn);
        match CpuLoadSensor::open(
            config.procfs_root.clone(),
            model.clone(),
            sockets,
            Instant::now(),
        ) {
            Ok(s) => sensors.push(Box::new(s)),
            Err(e) => {
                warnings.push(format!("{e}; CPU assumed at full TDP (estimated:tdp)"));
                sensors.push(Box::new(TdpSensor::new(model, sockets, Instant::now())));
            }
        }
    }

    if !ram_measured {
        match procfs::mem_total_bytes(&config.procfs_root) {
            Ok(bytes) => sensors.push(Box::new(RamSensor::new(
                RamPowerModel::for_machine(bytes),
                Instant::now(),
            ))),
            Err(e) => warnings.push(format!("{e}; RAM energy not counted")),
        }
    }

    let gpus_expected = matches!(config.gpus, GpuSelection::Indices(_))
        || config
            .cuda_visible_devices
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty() && v.trim() != "-1");
    match gpu {
        None => {}
        Some(Ok(backend)) => match GpuSensor::open(
            backend,
            config.cuda_visible_devices.as_deref(),
            &config.gpus,
            Instant::now(),
        ) {
            Ok(s) if s.gpu_count() > 0 => sensors.push(Box::new(s)),
            Ok(_) if gpus_expected => {
                warnings.push("NVML found no GPU: GPU energy not counted".into());
            }
            Ok(_) => {}
            Err(e) => warnings.push(format!("NVML: {e}; GPU energy not counted")),
        },
        // No driver on a machine where no GPU was asked for is normal, not a warning.
        Some(Err(e)) if gpus_expected => warnings.push(format!("{e}; GPU energy not counted")),
        Some(Err(_)) => {}
    }
    Found { sensors, warnings }
}
