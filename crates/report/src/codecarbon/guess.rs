//! Telling CodeCarbon's guesses from its readings. A CodeCarbon file does not say how a
//! power was obtained, but its fallbacks leave marks:
//! - CPU "constant" mode: `cpu_power` = TDP x 50 %, the same on every row (42.5 W when the
//!   CPU is unknown: 85 W x 0.5). A RAPL reading is never identical across runs.
//! - RAM: 2.x writes 3 W per 8 GB of `ram_total_size`; 3.x writes 5 W per guessed DIMM
//!   (x86) from the total size; both are constant across a file's rows.

use super::row::EmissionsRow;

/// How trustworthy a power column is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// The column is empty (or zero energy with no power).
    NotReported,
    /// A value CodeCarbon reported; its method is unknown (RAPL, load model, ...).
    Reported,
    /// A guess, with the rule that identified it.
    Estimated { reason: String },
}

impl Provenance {
    /// The method label of a CPU figure: `estimated:tdp` for a constant guess.
    pub fn cpu_method(&self) -> Option<&'static str> {
        match self {
            Provenance::NotReported => None,
            Provenance::Reported => Some("reported:codecarbon"),
            Provenance::Estimated { .. } => Some("estimated:tdp"),
        }
    }

    /// The method label of a RAM figure: `estimated:ram` for a guess.
    pub fn ram_method(&self) -> Option<&'static str> {
        match self {
            Provenance::NotReported => None,
            Provenance::Reported => Some("reported:codecarbon"),
            Provenance::Estimated { .. } => Some("estimated:ram"),
        }
    }

    pub fn is_estimated(&self) -> bool {
        matches!(self, Provenance::Estimated { .. })
    }
}

/// CodeCarbon's default when the CPU is unknown in constant mode: 85 W x 0.5.
const UNKNOWN_CPU_CONSTANT_W: f64 = 42.5;

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn constant_across(values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let first = *present.first()?;
    (present.len() >= 2 && present.len() == values.len() && present.iter().all(|v| same(*v, first)))
        .then_some(first)
}

/// Labels for the `cpu_power` of each row of one file.
pub fn label_cpu(rows: &[&EmissionsRow]) -> Vec<Provenance> {
    let powers: Vec<Option<f64>> = rows.iter().map(|r| r.cpu_power_w).collect();
    let constant = constant_across(&powers).filter(|w| *w > 0.0);
    rows.iter()
        .map(|r| match r.cpu_power_w {
            None => Provenance::NotReported,
            Some(w) if same(w, UNKNOWN_CPU_CONSTANT_W) => Provenance::Estimated {
                reason:
                    "cpu_power is 42.5 W, CodeCarbon's constant for an unknown CPU (85 W x 50 %)"
                        .into(),
            },
            Some(w) if constant.is_some() => Provenance::Estimated {
                reason: format!(
                    "cpu_power is {w} W on all {} rows: CodeCarbon's constant TDP x 50 % mode",
                    rows.len()
                ),
            },
            Some(_) => Provenance::Reported,
        })
        .collect()
}

/// CodeCarbon 3.x's x86 RAM rule as documented in its methodology: 5 W per DIMM, the DIMM
/// count guessed from the total size, less per DIMM beyond 4, 8 and 16 DIMMs, at least 10 W.
fn codecarbon3_ram_watts(total_gb: f64) -> f64 {
    let dimms: f64 = if total_gb <= 2.0 {
        1.0
    } else if total_gb <= 16.0 {
        2.0
    } else if total_gb <= 64.0 {
        4.0
    } else if total_gb <= 128.0 {
        8.0
    } else {
        [128.0, 64.0, 32.0, 16.0, 8.0, 4.0]
            .iter()
            .find(|size| **size <= total_gb / 8.0)
            .map_or(8.0, |size| (total_gb / size).ceil().min(32.0))
    };
    let w = 5.0;
    let p = if dimms <= 4.0 {
        w * dimms
    } else if dimms <= 8.0 {
        4.0 * w + 0.9 * w * (dimms - 4.0)
    } else if dimms <= 16.0 {
        4.0 * w + 3.6 * w + 0.8 * w * (dimms - 8.0)
    } else {
        4.0 * w + 3.6 * w + 6.4 * w + 0.7 * w * (dimms - 16.0)
    };
    p.max(2.0 * w)
}

/// Labels for the `ram_power` of each row of one file.
pub fn label_ram(rows: &[&EmissionsRow]) -> Vec<Provenance> {
    let powers: Vec<Option<f64>> = rows.iter().map(|r| r.ram_power_w).collect();
    let constant = constant_across(&powers).is_some();
    rows.iter()
        .map(|r| {
            let Some(w) = r.ram_power_w else {
                return Provenance::NotReported;
            };
            let total = r.ram_total_size_gb;
            let reason = if total.is_some_and(|gb| same(w, gb * 3.0 / 8.0)) {
                format!(
                    "ram_power {w} W = 3 W per 8 GB of ram_total_size (CodeCarbon 2.x estimate)"
                )
            } else if total.is_some_and(|gb| same(w, codecarbon3_ram_watts(gb))) {
                format!(
                    "ram_power {w} W = CodeCarbon 3.x's 5 W-per-DIMM estimate for ram_total_size"
                )
            } else if constant {
                format!("ram_power is {w} W on all {} rows", rows.len())
            } else {
                return Provenance::Reported;
            };
            Provenance::Estimated { reason }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cpu: Option<f64>, ram: Option<f64>, total: Option<f64>) -> EmissionsRow {
        EmissionsRow {
            cpu_power_w: cpu,
            ram_power_w: ram,
            ram_total_size_gb: total,
            ..EmissionsRow::default()
        }
    }

    #[test]
    fn cpu_constant_and_default_are_estimated_varying_is_reported() {
        let a = row(Some(60.0), None, None);
        let b = row(Some(60.0), None, None);
        assert!(label_cpu(&[&a, &b]).iter().all(Provenance::is_estimated));
        let c = row(Some(61.3), None, None);
        assert_eq!(
            label_cpu(&[&a, &c]),
            vec![Provenance::Reported, Provenance::Reported]
        );
        // one row: only the known unknown-CPU constant gives it away
        assert!(label_cpu(&[&row(Some(42.5), None, None)])[0].is_estimated());
        assert_eq!(label_cpu(&[&a]), vec![Provenance::Reported]);
        assert_eq!(
            label_cpu(&[&row(None, None, None)]),
            vec![Provenance::NotReported]
        );
    }

    #[test]
    fn ram_rules() {
        // 2.x: 1,148.738 GB x 3/8 = 430.77675 W (the Power Hungry Processing node)
        let r = row(None, Some(430.77675), Some(1148.738));
        let p = &label_ram(&[&r])[0];
        assert!(matches!(p, Provenance::Estimated { reason } if reason.contains("2.x")));
        assert_eq!(p.ram_method(), Some("estimated:ram"));
        // 3.x: 23.54 GB -> 4 DIMMs x 5 W = 20 W (this machine, codecarbon 3.3.2)
        assert_eq!(codecarbon3_ram_watts(23.54016876220703), 20.0);
        // 1,148 GB -> 128 GB DIMMs, ceil(1148/128) = 9 -> 20 + 18 + 4 = 42 W
        assert!((codecarbon3_ram_watts(1148.0) - 42.0).abs() < 1e-9);
        assert_eq!(codecarbon3_ram_watts(1.0), 10.0);
        let r = row(None, Some(20.0), Some(23.54016876220703));
        assert!(
            matches!(&label_ram(&[&r])[0], Provenance::Estimated { reason } if reason.contains("3.x"))
        );
        let r = row(None, Some(7.1), Some(23.5));
        assert_eq!(label_ram(&[&r]), vec![Provenance::Reported]);
    }
}
