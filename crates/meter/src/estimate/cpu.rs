//! CPU power from utilisation for machines without RAPL.
//!
//! `P = TDP_eff x (IDLE_FRACTION + DYNAMIC_FRACTION x load^EXPONENT)`, fitted on CodeCarbon's
//! load-vs-RAPL calibration runs by `scripts/fit_power_model.py`; the fit, its
//! leave-one-CPU-out errors and the comparison with CodeCarbon's `TDP x (0.1 + 0.9 x load^3)`
//! are in docs/power-model.md. `TDP_eff` is the table TDP scaled to what this machine (or
//! this VM's share of its host) can draw; see [`CpuPowerModel::for_machine`].

use super::tdp_table::{self, MatchKind};

/// Fraction of TDP drawn at zero load (docs/power-model.md, "Fitted model").
pub const IDLE_FRACTION: f64 = 0.0995;
/// Fraction of TDP added between zero and full load.
pub const DYNAMIC_FRACTION: f64 = 0.7285;
/// Exponent of the load: below 1 because the first busy cores raise clocks and wake the
/// uncore, so power rises fastest at low load.
pub const EXPONENT: f64 = 0.58;
/// Watts per logical CPU for a CPU missing from the table: the median TDP per thread of the
/// Xeon and EPYC rows of the table (4.46 W, printed by data/build_cpu_table.py), rounded.
pub const DEFAULT_WATTS_PER_THREAD: f64 = 4.5;

/// What the estimator needs to know of the machine, read from `/proc/cpuinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuTopology {
    /// Logical CPUs visible (`processor` entries).
    pub logical_cpus: u32,
    /// Distinct `physical id` values (at least 1).
    pub sockets: u32,
    /// The `hypervisor` CPU flag: a VM, whose vCPUs are a share of a host's threads.
    pub virtualized: bool,
}

impl CpuTopology {
    /// Parse the text of `/proc/cpuinfo`. Returns the first `model name` (brand) too.
    pub fn parse_cpuinfo(text: &str) -> (Option<String>, Self) {
        let mut brand = None;
        let mut ids = std::collections::BTreeSet::new();
        let mut logical = 0u32;
        let mut virtualized = false;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key.trim() {
                "processor" => logical += 1,
                "model name" if brand.is_none() => brand = Some(value.trim().to_string()),
                "physical id" => {
                    ids.insert(value.trim().to_string());
                }
                "flags" => virtualized |= value.split_whitespace().any(|f| f == "hypervisor"),
                _ => {}
            }
        }
        let topo = Self {
            logical_cpus: logical.max(1),
            sockets: (ids.len() as u32).max(1),
            virtualized,
        };
        (brand, topo)
    }
}

/// CPU power as a function of utilisation.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuPowerModel {
    /// Effective TDP of the CPUs measured, watts (after sockets / VM share scaling).
    pub tdp_watts: f64,
    /// Where the TDP came from: "table: <name> ...", "--cpu-tdp", or "default: ...".
    pub tdp_source: String,
}

impl CpuPowerModel {
    /// Look the brand up for one bare-metal socket; `override_tdp` wins. Returns a warning
    /// when the CPU was not found (default: [`DEFAULT_WATTS_PER_THREAD`] x the logical CPUs
    /// of this machine) or matched only approximately. Prefer [`Self::for_machine`].
    pub fn for_cpu(brand: &str, override_tdp: Option<f64>) -> (Self, Option<String>) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let topo = CpuTopology {
            logical_cpus: threads,
            sockets: 1,
            virtualized: false,
        };
        Self::for_machine(brand, &topo, override_tdp)
    }

    /// The model for this machine:
    /// - `--cpu-tdp W` (`override_tdp`) is used as the effective TDP as given.
    /// - CPU in the table, bare metal: table TDP x sockets.
    /// - CPU in the table, VM (`hypervisor` flag): table TDP x visible logical CPUs / threads
    ///   of one host socket (threads from the table; else 2 x cores from the table or from
    ///   AMD's "n-Core" brand; else [`DEFAULT_WATTS_PER_THREAD`] x visible CPUs, capped at
    ///   the TDP), so 2 vCPUs of a 64-core host are not billed the whole socket.
    /// - CPU not in the table: [`DEFAULT_WATTS_PER_THREAD`] x visible logical CPUs.
    ///
    /// The warning (if any) says what was assumed and how to override it.
    pub fn for_machine(
        brand: &str,
        topo: &CpuTopology,
        override_tdp: Option<f64>,
    ) -> (Self, Option<String>) {
        if let Some(w) = override_tdp {
            let model = Self {
                tdp_watts: w,
                tdp_source: "--cpu-tdp".into(),
            };
            return (model, None);
        }
        let visible = topo.logical_cpus.max(1);
        let Some(m) = tdp_table::lookup(brand) else {
            let w = DEFAULT_WATTS_PER_THREAD * f64::from(visible);
            let model = Self {
                tdp_watts: w,
                tdp_source: format!(
                    "default: {DEFAULT_WATTS_PER_THREAD} W x {visible} logical CPUs"
                ),
            };
            let warn = format!(
                "CPU {brand:?} is not in the TDP table: assuming {DEFAULT_WATTS_PER_THREAD} W per \
                 logical CPU, {w} W at full load for {visible} CPUs; pass --cpu-tdp W to set it"
            );
            return (model, Some(warn));
        };
        let e = &m.entry;
        let mut warnings = Vec::new();
        if m.kind == MatchKind::Approximate {
            warnings.push(format!(
                "CPU {brand:?} matched the TDP table approximately as {:?} ({} W); pass \
                 --cpu-tdp W if that is wrong",
                e.name, e.tdp_watts
            ));
        }
        let (tdp_watts, how) = if !topo.virtualized {
            (
                e.tdp_watts * f64::from(topo.sockets),
                format!("x {} socket(s)", topo.sockets),
            )
        } else {
            let host_threads = e
                .threads
                .or(e.cores.map(|c| 2 * c))
                .or(tdp_table::cores_in_brand(brand).map(|c| 2 * c));
            match host_threads {
                Some(t) if t > 0 => (
                    e.tdp_watts * f64::from(visible) / f64::from(t),
                    format!("x {visible}/{t} threads of a host socket (VM)"),
                ),
                _ => {
                    let w = (DEFAULT_WATTS_PER_THREAD * f64::from(visible)).min(e.tdp_watts);
                    warnings.push(format!(
                        "VM on a {:?} whose thread count is unknown: assuming \
                         {DEFAULT_WATTS_PER_THREAD} W per vCPU ({w} W); pass --cpu-tdp W to set it",
                        e.name
                    ));
                    (
                        w,
                        format!("VM, host threads unknown: {DEFAULT_WATTS_PER_THREAD} W x {visible} vCPUs"),
                    )
                }
            }
        };
        let kind = match m.kind {
            MatchKind::Exact => "table",
            MatchKind::Approximate => "table (approximate)",
        };
        let model = Self {
            tdp_watts,
            tdp_source: format!("{kind}: {} {} W {how}", e.name, e.tdp_watts),
        };
        let warn = (!warnings.is_empty()).then(|| warnings.join("; "));
        (model, warn)
    }

    /// Estimated power in watts at `load` (0.0..=1.0, fraction of the visible CPUs busy).
    pub fn watts(&self, load: f64) -> f64 {
        let l = if load.is_nan() {
            0.0
        } else {
            load.clamp(0.0, 1.0)
        };
        self.tdp_watts * (IDLE_FRACTION + DYNAMIC_FRACTION * l.powf(EXPONENT))
    }

    /// Estimated power at zero load, watts.
    pub fn idle_watts(&self) -> f64 {
        self.watts(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    fn bare(sockets: u32, cpus: u32) -> CpuTopology {
        CpuTopology {
            logical_cpus: cpus,
            sockets,
            virtualized: false,
        }
    }

    #[test]
    fn formula_against_hand_computed_values() {
        let m = CpuPowerModel {
            tdp_watts: 100.0,
            tdp_source: "test".into(),
        };
        close(m.watts(0.0), 9.95);
        close(m.watts(1.0), 82.8);
        // 0.25^0.58 = exp(0.58 ln 0.25) = 0.44751...; 100 (0.0995 + 0.7285 x 0.44751)
        close(
            m.watts(0.25),
            100.0 * (0.0995 + 0.7285 * 0.25f64.powf(0.58)),
        );
        assert!((m.watts(0.25) - 42.552).abs() < 0.01, "{}", m.watts(0.25));
        // out-of-range loads are clamped, NaN counts as idle
        close(m.watts(1.7), m.watts(1.0));
        close(m.watts(-0.2), m.watts(0.0));
        close(m.watts(f64::NAN), m.watts(0.0));
        close(m.idle_watts(), 9.95);
    }

    #[test]
    fn bare_metal_multiplies_sockets() {
        let (m, w) = CpuPowerModel::for_machine(
            "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz",
            &bare(2, 24),
            None,
        );
        assert_eq!(w, None);
        close(m.tdp_watts, 170.0);
        assert!(m
            .tdp_source
            .starts_with("table: Intel Xeon E5-2620 v3 85 W"));
    }

    #[test]
    fn vm_is_billed_its_share_of_the_host_socket() {
        let vm = CpuTopology {
            logical_cpus: 2,
            sockets: 1,
            virtualized: true,
        };
        // EPYC 7763: 280 W, 128 threads in the AMD scrape -> 2/128 of 280 W.
        let (m, w) = CpuPowerModel::for_machine("AMD EPYC 7763 64-Core Processor", &vm, None);
        assert_eq!(w, None);
        close(m.tdp_watts, 280.0 * 2.0 / 128.0);
        // Xeon E5-2620 v3: ARK gives 6 cores only -> 12 threads assumed.
        let (m, _) =
            CpuPowerModel::for_machine("Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", &vm, None);
        close(m.tdp_watts, 85.0 * 2.0 / 12.0);
        // Platinum 8370C: no cores anywhere -> 4.5 W per vCPU, with a warning.
        let (m, w) =
            CpuPowerModel::for_machine("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", &vm, None);
        close(m.tdp_watts, 9.0);
        assert!(w.unwrap().contains("thread count is unknown"));
    }

    #[test]
    fn unknown_cpu_gets_the_default_and_a_warning() {
        // This machine's own brand string (a VM that hides the model).
        let (m, w) = CpuPowerModel::for_machine("Intel(R) Xeon(R) Processor", &bare(1, 2), None);
        close(m.tdp_watts, 9.0);
        assert_eq!(m.tdp_source, "default: 4.5 W x 2 logical CPUs");
        let w = w.expect("a warning");
        assert!(
            w.contains("not in the TDP table") && w.contains("--cpu-tdp"),
            "{w}"
        );
    }

    #[test]
    fn override_wins() {
        let (m, w) = CpuPowerModel::for_machine("anything", &bare(4, 64), Some(42.0));
        assert_eq!(
            m,
            CpuPowerModel {
                tdp_watts: 42.0,
                tdp_source: "--cpu-tdp".into()
            }
        );
        assert_eq!(w, None);
        let (m, _) = CpuPowerModel::for_cpu("AMD EPYC 8024P 8-Core Processor", None);
        close(m.tdp_watts, 90.0);
    }

    #[test]
    fn parses_this_machines_cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) \
                    Processor\nphysical id\t: 0\nflags\t\t: fpu vme hypervisor avx2\n\n\
                    processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\nphysical id\t: 0\n\
                    flags\t\t: fpu vme hypervisor avx2\n";
        let (brand, topo) = CpuTopology::parse_cpuinfo(text);
        assert_eq!(brand.as_deref(), Some("Intel(R) Xeon(R) Processor"));
        assert_eq!(
            topo,
            CpuTopology {
                logical_cpus: 2,
                sockets: 1,
                virtualized: true
            }
        );
        let (_, topo) = CpuTopology::parse_cpuinfo("processor : 0\nflags : fpu\n");
        assert!(!topo.virtualized);
    }
}
