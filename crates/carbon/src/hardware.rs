//! Hardware power for after-the-fact estimates: GPUs and TPUs (our table, vendor figures) and
//! CPUs (CodeCarbon's cpu_power.csv, 4,918 models). TDP / board power at full load is an upper
//! bound on what the part draws.

use crate::error::CarbonError;
use crate::suggest::close_matches;
use serde::Serialize;

const CPU_CSV: &str = include_str!("../data/cpu_power.csv");

const NV_V100: &str = "NVIDIA V100 datasheet (Tesla V100 SXM2 300 W, PCIe 250 W)";
const NV_A100: &str = "NVIDIA A100 datasheet (SXM4 400 W; PCIe 40GB 250 W; PCIe 80GB 300 W)";
const NV_H100: &str = "NVIDIA H100 datasheet (SXM5 up to 700 W; PCIe 300-350 W)";

/// (accepted names, display name, kind, watts, source). Names are compared after
/// `squash` (lower-case, spaces, '-' and '_' removed).
const ACCELERATORS: &[(&[&str], &str, HardwareKind, f64, &str)] = &[
    (&["v100", "v100-sxm2", "tesla-v100"], "NVIDIA V100 SXM2", HardwareKind::Gpu, 300.0, NV_V100),
    (&["v100-pcie"], "NVIDIA V100 PCIe", HardwareKind::Gpu, 250.0, NV_V100),
    (&["a100", "a100-sxm4", "a100-sxm"], "NVIDIA A100 SXM4", HardwareKind::Gpu, 400.0, NV_A100),
    (&["a100-pcie", "a100-pcie-40gb"], "NVIDIA A100 PCIe 40GB", HardwareKind::Gpu, 250.0, NV_A100),
    (&["a100-pcie-80gb"], "NVIDIA A100 PCIe 80GB", HardwareKind::Gpu, 300.0, NV_A100),
    (&["h100", "h100-sxm", "h100-sxm5"], "NVIDIA H100 SXM5", HardwareKind::Gpu, 700.0, NV_H100),
    (&["h100-pcie"], "NVIDIA H100 PCIe", HardwareKind::Gpu, 350.0, NV_H100),
    (&["h200", "h200-sxm"], "NVIDIA H200 SXM", HardwareKind::Gpu, 700.0, "NVIDIA H200 datasheet (SXM up to 700 W)"),
    (&["a30"], "NVIDIA A30", HardwareKind::Gpu, 165.0, "NVIDIA A30 datasheet (165 W)"),
    (&["a40"], "NVIDIA A40", HardwareKind::Gpu, 300.0, "NVIDIA A40 datasheet (300 W)"),
    (&["a10"], "NVIDIA A10", HardwareKind::Gpu, 150.0, "NVIDIA A10 datasheet (150 W)"),
    (
        &["a10g"],
        "NVIDIA A10G",
        HardwareKind::Gpu,
        300.0,
        "no NVIDIA datasheet (AWS-only part, EC2 G5); 300 W is the default power limit nvidia-smi reports on G5, unverified here; the A10 datasheet part is 150 W",
    ),
    (&["l4"], "NVIDIA L4", HardwareKind::Gpu, 72.0, "NVIDIA L4 datasheet (72 W)"),
    (&["l40s"], "NVIDIA L40S", HardwareKind::Gpu, 350.0, "NVIDIA L40S datasheet (350 W)"),
    (&["t4", "tesla-t4"], "NVIDIA T4", HardwareKind::Gpu, 70.0, "NVIDIA T4 datasheet (70 W)"),
    (&["p100", "tesla-p100"], "NVIDIA Tesla P100 PCIe", HardwareKind::Gpu, 250.0, "NVIDIA Tesla P100 datasheet (PCIe 250 W)"),
    (&["k80", "tesla-k80"], "NVIDIA Tesla K80", HardwareKind::Gpu, 300.0, "NVIDIA Tesla K80 datasheet (300 W)"),
    (&["m40", "tesla-m40"], "NVIDIA Tesla M40", HardwareKind::Gpu, 250.0, "NVIDIA Tesla M40 datasheet (250 W)"),
    (&["gtx-1080"], "NVIDIA GeForce GTX 1080", HardwareKind::Gpu, 180.0, "NVIDIA GTX 1080 specifications (graphics card power 180 W)"),
    (&["gtx-1080-ti"], "NVIDIA GeForce GTX 1080 Ti", HardwareKind::Gpu, 250.0, "NVIDIA GTX 1080 Ti specifications (250 W)"),
    (&["rtx-2080-ti", "2080-ti"], "NVIDIA GeForce RTX 2080 Ti", HardwareKind::Gpu, 250.0, "NVIDIA RTX 2080 Ti specifications (reference 250 W; Founders Edition 260 W)"),
    (&["rtx-3090", "3090"], "NVIDIA GeForce RTX 3090", HardwareKind::Gpu, 350.0, "NVIDIA RTX 3090 specifications (350 W)"),
    (&["rtx-4090", "4090"], "NVIDIA GeForce RTX 4090", HardwareKind::Gpu, 450.0, "NVIDIA RTX 4090 specifications (total graphics power 450 W)"),
    (&["mi250x"], "AMD Instinct MI250X", HardwareKind::Gpu, 560.0, "AMD Instinct MI250X specifications (total board power 500 W, 560 W peak; OAM)"),
    (&["mi300x"], "AMD Instinct MI300X", HardwareKind::Gpu, 750.0, "AMD Instinct MI300X specifications (total board power 750 W peak; OAM)"),
    (
        &["tpu-v3"],
        "Google TPU v3 (per chip)",
        HardwareKind::Tpu,
        450.0,
        "Google publishes no TPU TDP; 450 W is the value the project's issue gives for Counting Carbon's estimates (not verified against the paper); Patterson et al. 2021 measured 283 W mean per chip",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HardwareKind {
    Gpu,
    Tpu,
    Cpu,
}

/// A piece of hardware with its power at full load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hardware {
    pub name: String,
    pub kind: HardwareKind,
    pub tdp_w: f64,
    pub source: String,
}

fn squash(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .collect()
}

fn accelerators() -> impl Iterator<Item = (&'static [&'static str], Hardware)> {
    ACCELERATORS.iter().map(|(keys, name, kind, w, src)| {
        (
            *keys,
            Hardware {
                name: (*name).into(),
                kind: *kind,
                tdp_w: *w,
                source: (*src).into(),
            },
        )
    })
}

/// CPUs from CodeCarbon's cpu_power.csv (Name,TDP).
pub fn cpus() -> Result<Vec<Hardware>, CarbonError> {
    let mut reader = csv::Reader::from_reader(CPU_CSV.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let bad = |m: String| CarbonError::EmbeddedData {
            file: "cpu_power.csv".into(),
            message: format!("row {}: {m}", i + 2),
        };
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let (Some(name), Some(tdp)) = (rec.get(0), rec.get(1)) else {
            return Err(bad("expected Name,TDP".into()));
        };
        // Four old Celerons carry ranges like "27.29.5" (a scrape artefact): left out, not guessed.
        let Ok(tdp_w) = tdp.trim().parse::<f64>() else {
            continue;
        };
        out.push(Hardware {
            name: name.trim().to_string(),
            kind: HardwareKind::Cpu,
            tdp_w,
            source: "CPU TDP from CodeCarbon cpu_power.csv (Intel ARK / AMD product pages)".into(),
        });
    }
    Ok(out)
}

/// All hardware: the accelerator table, then the CPUs.
pub fn all_hardware() -> Result<Vec<Hardware>, CarbonError> {
    let mut out: Vec<Hardware> = accelerators().map(|(_, h)| h).collect();
    out.extend(cpus()?);
    Ok(out)
}

/// Find hardware by name: an accelerator key or display name ("A100", "nvidia a100 sxm4",
/// "rtx-4090"), or a CPU name as in cpu_power.csv ("AMD EPYC 7763", case-insensitive).
pub fn lookup_hardware(given: &str) -> Result<Hardware, CarbonError> {
    let needle = squash(given);
    let needle_short = needle
        .trim_start_matches("nvidia")
        .trim_start_matches("amd")
        .trim_start_matches("google");
    for (keys, hw) in accelerators() {
        if keys
            .iter()
            .any(|k| squash(k) == needle || squash(k) == needle_short)
            || squash(&hw.name) == needle
        {
            return Ok(hw);
        }
    }
    let cpus = cpus()?;
    if let Some(cpu) = cpus.iter().find(|c| squash(&c.name) == needle) {
        return Ok(cpu.clone());
    }
    let mut names: Vec<(String, String)> = accelerators()
        .flat_map(|(keys, hw)| {
            keys.iter()
                .map(move |k| ((*k).to_string(), format!("{k} ({})", hw.name)))
        })
        .collect();
    names.extend(cpus.iter().map(|c| (c.name.clone(), c.name.clone())));
    Err(CarbonError::UnknownHardware {
        given: given.to_string(),
        suggestions: close_matches(given, names.iter().map(|(k, s)| (k.as_str(), s.clone())), 6),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_list_resolves_with_vendor_figures() {
        let expect = [
            ("V100", 300.0),
            ("A100", 400.0),
            ("H100", 700.0),
            ("A30", 165.0),
            ("TPU v3", 450.0),
            ("RTX 2080 Ti", 250.0),
            ("M40", 250.0),
            ("GTX 1080", 180.0),
            ("T4", 70.0),
            ("L4", 72.0),
            ("A10G", 300.0),
            ("RTX 4090", 450.0),
            ("MI250X", 560.0),
            ("MI300X", 750.0),
            ("nvidia a100-pcie-80gb", 300.0),
            ("NVIDIA V100 PCIe", 250.0),
        ];
        for (name, w) in expect {
            let hw = lookup_hardware(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(hw.tdp_w, w, "{name}");
            assert!(!hw.source.is_empty());
        }
    }

    #[test]
    fn cpus_come_from_the_codecarbon_table() {
        let cpus = cpus().unwrap();
        // 4,918 rows less the four Celerons whose TDP is not a number ("27.29.5").
        assert_eq!(cpus.len(), 4914);
        assert!(lookup_hardware("Intel Celeron 1000A").is_err());
        let epyc = lookup_hardware("amd epyc 7763").unwrap();
        assert_eq!((epyc.kind, epyc.tdp_w), (HardwareKind::Cpu, 280.0));
        assert_eq!(
            lookup_hardware("Intel Xeon Platinum 8380").unwrap().tdp_w,
            270.0
        );
    }

    #[test]
    fn unknown_hardware_suggests() {
        let err = lookup_hardware("A1000").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown hardware 'A1000'; did you mean:"),
            "{err}"
        );
        assert!(err.contains("a100 (NVIDIA A100 SXM4)"), "{err}");
    }

    #[test]
    fn every_accelerator_key_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for (keys, _) in accelerators() {
            for k in keys {
                assert!(seen.insert(squash(k)), "duplicate key {k}");
            }
        }
    }
}
