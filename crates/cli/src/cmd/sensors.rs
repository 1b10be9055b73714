//! `powerhungry sensors`: what this machine can measure and how, and why not where it can't.

use powerhungry_meter::detect::{self, Detection};
use powerhungry_meter::{GpuSelection, MeterConfig};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Root of the sysfs tree to look for RAPL in (a host's tree exposed to a VM, or a test tree).
    #[arg(long, default_value = "/sys", value_name = "DIR")]
    pub sysfs_root: PathBuf,
    /// Root of the procfs tree to read the CPU, memory and utilisation from.
    #[arg(long, default_value = "/proc", value_name = "DIR")]
    pub procfs_root: PathBuf,
    /// CPU TDP in watts, as `measure --cpu-tdp` would use it.
    #[arg(long, value_name = "WATTS")]
    pub cpu_tdp: Option<f64>,
    /// Print the findings as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let config = MeterConfig {
        sysfs_root: args.sysfs_root,
        procfs_root: args.procfs_root,
        cpu_tdp: args.cpu_tdp,
        gpus: GpuSelection::All,
        ..MeterConfig::default()
    };
    let d = detect::detect(&config);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print_text(&d);
    }
    Ok(0)
}

fn print_text(d: &Detection) {
    println!("RAPL (powercap under {}/class/powercap):", d.sysfs_root);
    match &d.rapl {
        Ok(zones) => {
            for z in zones {
                let state = match &z.energy_uj {
                    Ok(v) => format!("readable ({v} uJ)"),
                    Err(e) => format!("NOT READABLE: {e}"),
                };
                let counted = if z.counted { "counted" } else { "not counted" };
                let range = z
                    .max_energy_range_uj
                    .map_or("no max_energy_range_uj".into(), |r| {
                        format!("wraps at {r} uJ")
                    });
                let note = z
                    .note
                    .as_deref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                println!(
                    "  {:<20} {:<10} {counted}, {range}, {state}{note}",
                    z.id, z.name
                );
            }
        }
        Err(e) => println!("  none: {e}"),
    }
    println!("NVIDIA GPUs (NVML):");
    match &d.gpus {
        Ok(gpus) if gpus.is_empty() => println!("  none: NVML loaded but found no GPU"),
        Ok(gpus) => {
            for g in gpus {
                let how = if g.energy_counter {
                    "energy counter (measured:nvml-energy)"
                } else {
                    "no energy counter: power samples integrated (measured:nvml-power)"
                };
                let apart = g
                    .note
                    .as_deref()
                    .map(|n| format!("; apart: {n}"))
                    .unwrap_or_default();
                println!("  gpu{} {} {}: {how}{apart}", g.index, g.name, g.uuid);
            }
        }
        Err(e) => println!("  none: {e}"),
    }
    println!("CPU ({}/cpuinfo):", d.procfs_root);
    match &d.cpu {
        Ok(c) => {
            let vm = if c.virtualized {
                ", virtual machine"
            } else {
                ""
            };
            println!(
                "  {} — {} logical CPU(s), {} socket(s){vm}; TDP for the estimate {:.1} W ({})",
                c.brand, c.logical_cpus, c.sockets, c.tdp_watts, c.tdp_source
            );
            if let Some(w) = &c.tdp_warning {
                println!("  warning: {w}");
            }
        }
        Err(e) => println!("  unknown: {e}"),
    }
    println!("RAM ({}/meminfo):", d.procfs_root);
    match (&d.ram_total_bytes, d.ram_model_watts) {
        (Ok(b), Some(w)) => println!(
            "  {:.1} GiB; estimate {:.2} W if no DRAM RAPL domain is readable",
            *b as f64 / (1u64 << 30) as f64,
            w
        ),
        (Err(e), _) => println!("  unknown: {e}"),
        _ => {}
    }
    println!("`powerhungry measure` would use:");
    for s in &d.sensors {
        println!("  - {}", s.description);
    }
    for w in &d.warnings {
        println!("  warning: {w}");
    }
}
