//! powerhungry-meter: sensors (RAPL powercap, NVML GPU, estimators), the sampler, energy
//! windows and the idle baseline. Knows nothing of tasks, models or storage.
//!
//! ```no_run
//! use powerhungry_meter::{Meter, MeterConfig};
//! let meter = Meter::start(MeterConfig::default())?;
//! let w = meter.open_window("inference");
//! // ... work ...
//! let report = meter.close_window(w)?;
//! println!("{:.3} J ({})", report.total_j(), report.methods_label());
//! let all = meter.finish()?;
//! # Ok::<(), powerhungry_meter::MeterError>(())
//! ```

pub mod claim;
pub mod component;
pub mod config;
pub mod counter;
pub mod detect;
pub mod estimate;
pub mod estimators;
pub mod gpu;
mod meter;
pub mod procfs;
pub mod ranks;
pub mod rapl;
pub mod report;
pub mod sensor;
pub mod setup;
pub mod sink;

pub use claim::{ClaimPolicy, ForeignClaim};
pub use component::{Component, ComponentClass, Method};
pub use config::{GpuSelection, MeterConfig, Scope};
pub use meter::{Meter, MeterError, WindowId};
pub use report::{
    Baseline, ComponentEnergy, ComponentPower, MeterReport, ProcessShare, RamUse, Sample,
    SensorInfo, WindowReport,
};
pub use sensor::{FileSource, Poll, Reading, RealFiles, Sensor};
pub use sink::{JsonLines, SampleSink, SampleWriter};
