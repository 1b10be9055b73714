//! RAM power for machines without a DRAM RAPL zone (docs/power-model.md, "RAM").
//!
//! DRAM draws most of its power refreshing and holding every installed row, used or not, so
//! the estimate is a constant on the total memory visible (in a VM: its allocation, which is
//! the tenant's share of the host's DIMMs), not on the memory in use:
//! - the first 64 GiB at 3 W per 8 GiB (0.375 W/GiB): small desktop/server DIMMs; Tom's
//!   Hardware measured 2.98 W for one 8 GB DDR4-2133 module under load;
//! - beyond, 5 W per 64 GiB (CodeCarbon 3.x's 5 W per x86 DIMM, on the large RDIMMs such
//!   machines carry), so a 1,148 GB node is ~109 W, not the 430 W of the flat 3 W/8 GB rule
//!   that made RAM ~40 % of every total in the "Power Hungry Processing" logs.

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Watts per GiB for the first [`SMALL_GIB`] GiB.
pub const SMALL_WATTS_PER_GIB: f64 = 3.0 / 8.0;
/// Capacity covered at [`SMALL_WATTS_PER_GIB`].
pub const SMALL_GIB: f64 = 64.0;
/// Watts per GiB beyond [`SMALL_GIB`]: 5 W per 64 GiB RDIMM.
pub const LARGE_WATTS_PER_GIB: f64 = 5.0 / 64.0;

/// RAM power estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct RamPowerModel {
    pub total_bytes: u64,
}

impl RamPowerModel {
    /// `total_bytes`: the machine's (or VM's) total memory, `MemTotal` of `/proc/meminfo`.
    pub fn for_machine(total_bytes: u64) -> Self {
        Self { total_bytes }
    }

    /// Estimated RAM power in watts, constant over the run.
    pub fn watts(&self) -> f64 {
        let gib = self.total_bytes as f64 / GIB;
        let small = gib.min(SMALL_GIB);
        let large = (gib - SMALL_GIB).max(0.0);
        small * SMALL_WATTS_PER_GIB + large * LARGE_WATTS_PER_GIB
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(gib: f64) -> f64 {
        RamPowerModel::for_machine((gib * GIB) as u64).watts()
    }

    #[test]
    fn hand_computed_values() {
        assert!((w(8.0) - 3.0).abs() < 1e-9);
        assert!((w(24.0) - 9.0).abs() < 1e-9);
        assert!((w(64.0) - 24.0).abs() < 1e-9);
        // 128 GiB: 24 W + 64 x 5/64 = 29 W
        assert!((w(128.0) - 29.0).abs() < 1e-9);
        // the Power Hungry Processing node: 1,148 GiB -> 24 + 1084 x 5/64 = 108.6875 W
        assert!((w(1148.0) - 108.6875).abs() < 1e-9);
        assert_eq!(w(0.0), 0.0);
    }
}
