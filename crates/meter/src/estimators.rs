//! Sensors for machines without counters: CPU power from /proc/stat utilisation through
//! `estimate::CpuPowerModel`, RAM power from installed memory through `estimate::RamPowerModel`.

use crate::component::{Component, Method};
use crate::estimate::{CpuPowerModel, RamPowerModel};
use crate::procfs::{self, CpuTimes};
use crate::sensor::{Poll, Reading, Sensor};
use std::path::PathBuf;
use std::time::Instant;

/// CPU energy = sum over intervals of `model.watts(load) x dt`, where `load` is the machine's
/// busy fraction over that interval from `<procfs>/stat` (the model's TDP already covers every
/// socket). One component, `cpu-package0`, stands for all sockets. With no readable
/// `/proc/stat` the sensor cannot exist (the meter then falls back to `estimated:tdp`).
pub struct CpuLoadSensor {
    procfs_root: PathBuf,
    /// `<procfs>/stat`, kept open and reread at every poll.
    stat: procfs::CachedFile,
    /// When `stat` was last read (it is read at most every `STAT_MIN_INTERVAL` between
    /// window edges, and at every edge).
    last_read: Instant,
    model: CpuPowerModel,
    sockets: u32,
    last_times: CpuTimes,
    last_poll: Instant,
    energy_j: f64,
    last_load: f64,
}

impl CpuLoadSensor {
    pub fn open(
        procfs_root: PathBuf,
        model: CpuPowerModel,
        sockets: u32,
        now: Instant,
    ) -> Result<Self, procfs::ProcError> {
        let mut stat = procfs::CachedFile::new(procfs_root.join("stat"));
        let last_times = procfs::parse_stat(stat.read()?, &procfs_root.join("stat"))?;
        let sockets = sockets.max(1);
        Ok(Self {
            procfs_root,
            stat,
            last_read: now,
            model,
            sockets,
            last_times,
            last_poll: now,
            energy_j: 0.0,
            last_load: 0.0,
        })
    }

    pub fn model(&self) -> &CpuPowerModel {
        &self.model
    }
}

impl Sensor for CpuLoadSensor {
    fn name(&self) -> String {
        "cpu-load estimate".into()
    }

    fn describe(&self) -> String {
        format!(
            "CPU power model from {}/stat utilisation: {} socket(s), TDP {:.1} W ({})",
            self.procfs_root.display(),
            self.sockets,
            self.model.tdp_watts,
            self.model.tdp_source
        )
    }

    fn poll(&mut self, now: Instant) -> Result<Poll, String> {
        Ok(self.poll_at(now, false))
    }

    fn poll_edge(&mut self, now: Instant) -> Result<Poll, String> {
        Ok(self.poll_at(now, true))
    }

    /// `/proc/stat` is read at most this often between edges (see `STAT_MIN_INTERVAL`).
    fn cadence(&self) -> std::time::Duration {
        STAT_MIN_INTERVAL
    }
}

/// `/proc/stat` counts CPU time in clock ticks (10 ms at USER_HZ 100, per CPU), and the kernel
/// formats every CPU's and every interrupt's counters each time it is read (tens of
/// microseconds): between window edges the CPU-load estimate reads it at most this often and
/// holds the load in between, so 10 ms sampling stays cheap. Window edges always read it.
pub const STAT_MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

impl CpuLoadSensor {
    fn poll_at(&mut self, now: Instant, edge: bool) -> Poll {
        let dt = now.saturating_duration_since(self.last_poll).as_secs_f64();
        self.last_poll = now;
        let mut poll = Poll::default();
        if !edge && now.saturating_duration_since(self.last_read) < STAT_MIN_INTERVAL {
            self.energy_j += self.model.watts(self.last_load) * dt;
            poll.readings.push(self.reading());
            return poll;
        }
        self.last_read = now;
        let times = self.stat.parse(procfs::parse_stat);
        match times {
            Ok(times) => {
                // No tick elapsed (interval shorter than 1/USER_HZ): keep the previous load.
                if let Some(load) = self.last_times.load_until(&times) {
                    self.last_load = load;
                    self.last_times = times;
                }
            }
            Err(e) => poll.warnings.push(format!(
                "{e}; the previous load {:.2} is held",
                self.last_load
            )),
        }
        self.energy_j += self.model.watts(self.last_load) * dt;
        poll.readings.push(self.reading());
        poll
    }

    fn reading(&self) -> Reading {
        Reading {
            component: Component::CpuPackage { index: 0 },
            method: Method::CpuLoad,
            energy_j: self.energy_j,
            primary: true,
            counted: true,
            model_idle_w: Some(self.model.idle_watts()),
            busy_s: None,
            note: (self.sockets > 1).then(|| format!("all {} sockets", self.sockets)),
        }
    }
}

/// CPU at full TDP for every socket: the last resort when no utilisation can be read.
pub struct TdpSensor {
    model: CpuPowerModel,
    sockets: u32,
    last_poll: Instant,
    energy_j: f64,
}

impl TdpSensor {
    pub fn new(model: CpuPowerModel, sockets: u32, now: Instant) -> Self {
        Self {
            model,
            sockets: sockets.max(1),
            last_poll: now,
            energy_j: 0.0,
        }
    }
}

impl Sensor for TdpSensor {
    fn name(&self) -> String {
        "tdp estimate".into()
    }
    fn describe(&self) -> String {
        format!(
            "CPU at TDP {:.1} W ({} socket(s), {}), no utilisation available",
            self.model.tdp_watts, self.sockets, self.model.tdp_source
        )
    }
    /// A constant power: any interval shows the same figure, so this sensor never asks the
    /// sampler to wake more often than the estimators beside it do.
    fn cadence(&self) -> std::time::Duration {
        STAT_MIN_INTERVAL
    }
    fn poll(&mut self, now: Instant) -> Result<Poll, String> {
        let dt = now.saturating_duration_since(self.last_poll).as_secs_f64();
        self.last_poll = now;
        self.energy_j += self.model.tdp_watts * dt;
        Ok(Poll {
            readings: vec![Reading {
                component: Component::CpuPackage { index: 0 },
                method: Method::Tdp,
                energy_j: self.energy_j,
                primary: true,
                counted: true,
                model_idle_w: None,
                busy_s: None,
                note: Some(format!("all {} socket(s) at TDP", self.sockets)),
            }],
            warnings: vec![],
        })
    }
}

/// RAM energy = `model.watts() x elapsed` (a constant power for installed memory).
pub struct RamSensor {
    model: RamPowerModel,
    last_poll: Instant,
    energy_j: f64,
}

impl RamSensor {
    pub fn new(model: RamPowerModel, now: Instant) -> Self {
        Self {
            model,
            last_poll: now,
            energy_j: 0.0,
        }
    }
}

impl Sensor for RamSensor {
    fn name(&self) -> String {
        "ram estimate".into()
    }
    fn describe(&self) -> String {
        format!(
            "RAM power model: {:.1} GiB installed -> {:.2} W",
            self.model.total_bytes as f64 / (1u64 << 30) as f64,
            self.model.watts()
        )
    }
    /// A constant power: any interval shows the same figure, so this sensor never asks the
    /// sampler to wake more often than the estimators beside it do.
    fn cadence(&self) -> std::time::Duration {
        STAT_MIN_INTERVAL
    }
    fn poll(&mut self, now: Instant) -> Result<Poll, String> {
        let dt = now.saturating_duration_since(self.last_poll).as_secs_f64();
        self.last_poll = now;
        self.energy_j += self.model.watts() * dt;
        Ok(Poll {
            readings: vec![Reading {
                component: Component::Ram,
                method: Method::Ram,
                energy_j: self.energy_j,
                primary: true,
                counted: true,
                model_idle_w: Some(self.model.watts()),
                busy_s: None,
                note: None,
            }],
            warnings: vec![],
        })
    }
}
