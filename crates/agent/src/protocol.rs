//! What the agent and the bench exchange, as JSON. Paths: `POST /v1/windows/{name}/open`,
//! `POST /v1/windows/{name}/close`, `GET /v1/windows/{name}`, `GET /v1/sensors`,
//! `GET /metrics` (Prometheus text).

use powerhungry_meter::report::{SensorInfo, WindowReport};
use serde::{Deserialize, Serialize};

/// Version of this protocol, sent in every reply; a bench refuses an agent of another.
pub const PROTOCOL_VERSION: u32 = 1;

/// The answer to opening a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    pub protocol: u32,
    /// The node's name (its hostname, or `--node-name`), which prefixes its components.
    pub node: String,
    pub window: String,
}

/// A window, closed or read while open: the node's meter report (without samples) and the
/// meter's start-up warnings, so the bench can tell them from the window's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub protocol: u32,
    pub node: String,
    /// True when the window is still open (a read, not a close).
    pub open: bool,
    pub report: WindowReport,
    pub startup_warnings: Vec<String>,
}

/// What the node can measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensors {
    pub protocol: u32,
    pub node: String,
    pub sensors: Vec<SensorInfo>,
    pub startup_warnings: Vec<String>,
}

/// Any refusal: the HTTP status says which, this says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
}
