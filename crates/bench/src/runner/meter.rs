//! What the runner needs from an energy meter: open a window, close it, read live power.
//! The powerhungry meter implements it (see `MeterAdapter`); tests can use a meter on a fake
//! sysfs/procfs tree, or a deterministic fake of this trait at the hardware boundary.

use crate::sink::{ComponentEnergy, IdlePower};
use anyhow::Result;

/// Energy of a closed window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEnergy {
    /// Duration the meter measured (monotonic clock).
    pub duration_s: f64,
    pub components: Vec<ComponentEnergy>,
    /// Anything the meter wants the user to know about this window.
    pub warnings: Vec<String>,
    /// Devices needed but counted by another meter: the total leaves them out.
    pub uncounted: Vec<String>,
    /// No component counted at all: "nothing measured", not 0 J.
    pub nothing_measured: bool,
}

pub trait EnergyMeter {
    /// Open a window; windows the runner opens never overlap.
    fn open_window(&mut self, name: &str) -> Result<()>;
    /// Close the open window and return its energy per component.
    fn close_window(&mut self) -> Result<WindowEnergy>;
    /// Latest total power of the counted components, for the progress display.
    fn live_watts(&self) -> Option<f64>;
    /// The idle baseline, when one was measured.
    fn idle(&self) -> Vec<IdlePower>;
}

/// The powerhungry meter as the runner's `EnergyMeter`. Only the components the meter counts
/// for the workload are recorded (devices it may not use are the meter's to report apart).
pub struct MeterAdapter {
    meter: powerhungry_meter::Meter,
    open: Option<powerhungry_meter::WindowId>,
    idle: Vec<IdlePower>,
}

impl MeterAdapter {
    /// Wrap a started meter; with `idle_seconds > 0`, measure the idle baseline first (nothing
    /// else should run meanwhile) so every window also reports energy above idle.
    pub fn new(meter: powerhungry_meter::Meter, idle_seconds: f64) -> MeterAdapter {
        let mut idle = Vec::new();
        if idle_seconds > 0.0 {
            let b = meter.measure_idle(std::time::Duration::from_secs_f64(idle_seconds));
            idle = b
                .components
                .iter()
                .filter(|c| c.counted)
                .map(|c| IdlePower {
                    component: c.component.to_string(),
                    method: c.method.as_str().to_string(),
                    watts: c.watts,
                })
                .collect();
        }
        MeterAdapter {
            meter,
            open: None,
            idle,
        }
    }

    pub fn meter(&self) -> &powerhungry_meter::Meter {
        &self.meter
    }
}

impl EnergyMeter for MeterAdapter {
    fn open_window(&mut self, name: &str) -> Result<()> {
        if self.open.is_some() {
            anyhow::bail!("internal: window {name:?} opened while another is open");
        }
        self.open = Some(self.meter.open_window(name));
        Ok(())
    }

    fn close_window(&mut self) -> Result<WindowEnergy> {
        let id = self
            .open
            .take()
            .ok_or_else(|| anyhow::anyhow!("internal: no window is open"))?;
        let r = self.meter.close_window(id)?;
        // Start-up warnings are shown once by the caller, not with every window.
        Ok(window_energy(&r, &self.meter.startup_warnings(), ""))
    }

    fn live_watts(&self) -> Option<f64> {
        Some(self.meter.live_watts())
    }

    fn idle(&self) -> Vec<IdlePower> {
        self.idle.clone()
    }
}

/// What the harness keeps of a meter's window: the counted components (named with `prefix`,
/// e.g. a node's `host/` when several nodes' windows are summed), the warnings that are not the
/// meter's start-up ones, and the devices left uncounted.
pub fn window_energy(
    r: &powerhungry_meter::WindowReport,
    startup_warnings: &[String],
    prefix: &str,
) -> WindowEnergy {
    let warnings: Vec<String> = r
        .warnings
        .iter()
        .filter(|w| !startup_warnings.contains(w))
        .cloned()
        .collect();
    let components = r
        .components
        .iter()
        .filter(|c| c.counted)
        .map(|c| ComponentEnergy {
            component: format!("{prefix}{}", c.component),
            method: c.method.as_str().to_string(),
            joules: c.billed_j(),
            above_idle_joules: c.above_idle_j,
        })
        .collect();
    WindowEnergy {
        duration_s: r.duration_s,
        components,
        warnings,
        uncounted: r
            .incomplete
            .iter()
            .map(|d| format!("{prefix}{d}"))
            .collect(),
        nothing_measured: r.is_nothing_measured(),
    }
}
