//! The GPU sensor: per GPU, the NVML total-energy counter where there is one, and power
//! samples integrated with the trapezoid rule always (the fallback, and the cross-check that
//! catches a counter stuck while the GPU draws power).

use super::{visible_to_workload, GpuBackend, GpuInfo, Visibility};
use crate::component::{Component, Method};
use crate::config::GpuSelection;
use crate::sensor::{Poll, Reading, Sensor};
use std::time::Instant;

/// Mean power above which a flat energy counter is suspicious.
pub const STUCK_WATTS: f64 = 5.0;
/// Seconds a counter may stay flat under load before it is declared stuck (NVML counters
/// update every few tens of ms; one flat 100 ms interval is not proof).
pub const STUCK_AFTER_S: f64 = 1.0;

struct GpuState {
    info: GpuInfo,
    component: Component,
    counted: bool,
    note: Option<String>,
    /// The counter's last value, when the GPU has one.
    last_mj: Option<u64>,
    counter_j: f64,
    last_power_w: f64,
    power_j: f64,
    flat_s: f64,
    stuck: bool,
    /// Utilisation integrated over time (seconds busy), once the driver has given one.
    busy_s: Option<f64>,
    last_util: f64,
}

pub struct GpuSensor {
    backend: Box<dyn GpuBackend>,
    /// Driver version, for the record; a driver that can't say is not an error.
    driver: Option<String>,
    gpus: Vec<GpuState>,
    last_poll: Instant,
}

impl GpuSensor {
    /// Enumerate the GPUs, decide which ones the workload may use, take the first readings
    /// (as at `now`).
    pub fn open(
        backend: Box<dyn GpuBackend>,
        cuda_visible_devices: Option<&str>,
        selection: &GpuSelection,
        now: Instant,
    ) -> Result<Self, String> {
        let n = backend.device_count()?;
        let infos: Vec<GpuInfo> = (0..n).map(|i| backend.info(i)).collect::<Result<_, _>>()?;
        let mut gpus = Vec::new();
        for info in &infos {
            let (counted, note) =
                match visible_to_workload(info, &infos, cuda_visible_devices, selection) {
                    Visibility::Counted => (true, None),
                    Visibility::Apart(why) => (false, Some(why)),
                };
            let last_mj = backend.total_energy_mj(info.index)?;
            let last_power_w = backend.power_mw(info.index)? as f64 / 1000.0;
            gpus.push(GpuState {
                component: Component::Gpu {
                    index: info.index,
                    name: info.name.clone(),
                },
                info: info.clone(),
                counted,
                note,
                last_mj,
                counter_j: 0.0,
                last_power_w,
                power_j: 0.0,
                flat_s: 0.0,
                stuck: false,
                busy_s: None,
                last_util: 0.0,
            });
        }
        let driver = backend.driver_version().ok().flatten();
        Ok(Self {
            backend,
            driver,
            gpus,
            last_poll: now,
        })
    }

    pub fn gpu_count(&self) -> usize {
        self.gpus.len()
    }
}

impl Sensor for GpuSensor {
    fn name(&self) -> String {
        "nvml".into()
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .gpus
            .iter()
            .map(|g| {
                let how = if g.last_mj.is_some() {
                    "energy counter"
                } else {
                    "power samples"
                };
                let apart = g
                    .note
                    .as_deref()
                    .map(|n| format!(", apart: {n}"))
                    .unwrap_or_default();
                format!("gpu{} {} ({how}{apart})", g.info.index, g.info.name)
            })
            .collect();
        match &self.driver {
            Some(v) => format!("NVML (driver {v}): {}", parts.join("; ")),
            None => format!("NVML: {}", parts.join("; ")),
        }
    }

    fn poll(&mut self, now: Instant) -> Result<Poll, String> {
        let dt = now.saturating_duration_since(self.last_poll).as_secs_f64();
        self.last_poll = now;
        let mut poll = Poll::default();
        for g in self.gpus.iter_mut() {
            let idx = g.info.index;
            let interval_power_j = match self.backend.power_mw(idx) {
                Ok(mw) => {
                    let w = mw as f64 / 1000.0;
                    let j = (g.last_power_w + w) / 2.0 * dt;
                    g.last_power_w = w;
                    j
                }
                Err(e) => {
                    poll.warnings.push(format!(
                        "gpu{idx}: power read failed ({e}); the last power is held for {dt:.3} s"
                    ));
                    g.last_power_w * dt
                }
            };
            g.power_j += interval_power_j;
            // NVML's utilisation describes the recent past: it stands for this interval. A
            // failed read holds the last value, as for power.
            match self.backend.utilization_percent(idx) {
                Ok(Some(p)) => {
                    g.busy_s = Some(g.busy_s.map_or(0.0, |b| b + f64::from(p) / 100.0 * dt));
                    g.last_util = f64::from(p) / 100.0;
                }
                Ok(None) => {}
                Err(_) => g.busy_s = g.busy_s.map(|b| b + g.last_util * dt),
            }
            if let Some(last) = g.last_mj {
                match self.backend.total_energy_mj(idx) {
                    Ok(Some(cur)) if cur >= last => {
                        let j = (cur - last) as f64 / 1000.0;
                        g.counter_j += j;
                        g.last_mj = Some(cur);
                        if j == 0.0 && dt > 0.0 && interval_power_j / dt > STUCK_WATTS {
                            g.flat_s += dt;
                        } else if j > 0.0 {
                            g.flat_s = 0.0;
                        }
                        if !g.stuck && g.flat_s >= STUCK_AFTER_S {
                            g.stuck = true;
                            poll.warnings.push(format!(
                                "gpu{idx}: energy counter flat for {:.1} s while drawing {:.1} W: \
                                 using integrated power (measured:nvml-power) instead",
                                g.flat_s, g.last_power_w
                            ));
                        }
                    }
                    Ok(Some(cur)) => {
                        poll.warnings.push(format!(
                            "gpu{idx}: energy counter went down from {last} to {cur} mJ (driver \
                             reload?); {dt:.3} s bridged with integrated power, {interval_power_j:.3} J"
                        ));
                        g.counter_j += interval_power_j;
                        g.last_mj = Some(cur);
                    }
                    Ok(None) | Err(_) => {
                        poll.warnings.push(format!(
                            "gpu{idx}: energy counter unreadable; {dt:.3} s bridged with \
                             integrated power, {interval_power_j:.3} J"
                        ));
                        g.counter_j += interval_power_j;
                    }
                }
            }
            let use_counter = g.last_mj.is_some() && !g.stuck;
            if g.last_mj.is_some() {
                poll.readings.push(Reading {
                    component: g.component.clone(),
                    method: Method::NvmlEnergy,
                    energy_j: g.counter_j,
                    primary: use_counter,
                    counted: g.counted,
                    model_idle_w: None,
                    busy_s: g.busy_s,
                    note: g.note.clone(),
                });
            }
            let note = match (&g.note, g.stuck) {
                (Some(n), _) => Some(n.clone()),
                (None, true) => Some("energy counter stuck: integrated power used".into()),
                (None, false) if g.last_mj.is_none() => {
                    Some("no energy counter on this GPU: integrated power".into())
                }
                _ => None,
            };
            poll.readings.push(Reading {
                component: g.component.clone(),
                method: Method::NvmlPower,
                energy_j: g.power_j,
                primary: !use_counter,
                counted: g.counted,
                model_idle_w: None,
                busy_s: g.busy_s,
                note,
            });
        }
        Ok(poll)
    }
}
