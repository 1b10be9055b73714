//! What a figure is about (`Component`) and how it was obtained (`Method`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A device whose energy the meter reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Component {
    /// An NVIDIA GPU by its NVML index (physical, not the CUDA_VISIBLE_DEVICES-relative one).
    Gpu { index: u32, name: String },
    /// One CPU socket (RAPL `package-N`, or one socket of the CPU-load estimate).
    CpuPackage { index: u32 },
    /// The DRAM RAPL domain of one socket (not included in the package domain).
    Dram { index: u32 },
    /// The whole machine's RAM, estimated where no DRAM RAPL domain exists.
    Ram,
    /// RAPL `psys`: the whole platform (SoC), which contains the packages.
    Psys,
}

/// The hardware class a component belongs to, for CPU / GPU / RAM totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentClass {
    Cpu,
    Gpu,
    Ram,
    Platform,
}

impl Component {
    pub fn class(&self) -> ComponentClass {
        match self {
            Component::Gpu { .. } => ComponentClass::Gpu,
            Component::CpuPackage { .. } => ComponentClass::Cpu,
            Component::Dram { .. } | Component::Ram => ComponentClass::Ram,
            Component::Psys => ComponentClass::Platform,
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Component::Gpu { index, name } => write!(f, "gpu{index} ({name})"),
            Component::CpuPackage { index } => write!(f, "cpu-package{index}"),
            Component::Dram { index } => write!(f, "dram{index}"),
            Component::Ram => write!(f, "ram"),
            Component::Psys => write!(f, "psys"),
        }
    }
}

/// How an energy figure was obtained. Every figure leaving the meter carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Method {
    /// RAPL energy counter through Linux powercap.
    #[serde(rename = "measured:rapl")]
    Rapl,
    /// NVML total-energy counter (millijoules since driver load).
    #[serde(rename = "measured:nvml-energy")]
    NvmlEnergy,
    /// NVML power samples integrated over time (trapezoid rule).
    #[serde(rename = "measured:nvml-power")]
    NvmlPower,
    /// CPU power model driven by utilisation from /proc/stat.
    #[serde(rename = "estimated:cpu-load")]
    CpuLoad,
    /// RAM power model driven by installed memory.
    #[serde(rename = "estimated:ram")]
    Ram,
    /// Thermal design power, no utilisation available.
    #[serde(rename = "estimated:tdp")]
    Tdp,
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Rapl => "measured:rapl",
            Method::NvmlEnergy => "measured:nvml-energy",
            Method::NvmlPower => "measured:nvml-power",
            Method::CpuLoad => "estimated:cpu-load",
            Method::Ram => "estimated:ram",
            Method::Tdp => "estimated:tdp",
        }
    }

    pub fn is_measured(&self) -> bool {
        matches!(self, Method::Rapl | Method::NvmlEnergy | Method::NvmlPower)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_display_matches_serde() {
        for m in [
            Method::Rapl,
            Method::NvmlEnergy,
            Method::NvmlPower,
            Method::CpuLoad,
            Method::Ram,
            Method::Tdp,
        ] {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{m}\""));
            let back: Method = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m);
        }
        assert_eq!(Method::NvmlPower.to_string(), "measured:nvml-power");
    }

    #[test]
    fn component_classes() {
        assert_eq!(Component::Dram { index: 1 }.class(), ComponentClass::Ram);
        assert_eq!(Component::Ram.class(), ComponentClass::Ram);
        assert_eq!(Component::Psys.class(), ComponentClass::Platform);
        assert_eq!(
            Component::Gpu {
                index: 0,
                name: "A100".into()
            }
            .to_string(),
            "gpu0 (A100)"
        );
    }
}
