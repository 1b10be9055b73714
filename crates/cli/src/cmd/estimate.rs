//! `powerhungry estimate`: energy and carbon of compute after the fact, as in "Counting Carbon":
//! power x hours x count x utilisation, x PUE, x grid intensity.

use super::intensity::print_out;
use super::location::LocationFlags;
use powerhungry_carbon::hardware::all_hardware;
use powerhungry_carbon::units::fmt_sig;
use powerhungry_carbon::{estimate, lookup_hardware, model_card_yaml, EstimateInput, TrainingType};
use std::fmt::Write;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Hugging Face model card `co2_eq_emissions` YAML block (emissions in grams)
    ModelCard,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Training {
    PreTraining,
    FineTuning,
}

#[derive(clap::Args)]
#[command(
    allow_negative_numbers = true,
    group = clap::ArgGroup::new("power_from").args(["hardware", "power"]),
    after_help = "Example (\"Counting Carbon\": 1 GPU x 300 W x 100 h on a 500 g grid = 15 kg):\n  \
powerhungry estimate --hardware V100 --hours 100 --intensity 500\n  \
powerhungry estimate --hardware A100 --count 8 --hours 72 --cloud aws:us-east-1 --format model-card"
)]
pub struct Args {
    /// Hardware name from the embedded table (V100, A100, H100, T4, TPU-v3, MI300X, a CPU name
    /// such as "AMD EPYC 7763"); its TDP is the power. See --list-hardware
    #[arg(long, value_name = "NAME", required_unless_present_any = ["power", "list_hardware"])]
    pub hardware: Option<String>,
    /// Power per device in watts, instead of --hardware
    #[arg(long, value_name = "WATTS")]
    pub power: Option<f64>,
    /// Number of devices
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u32,
    /// Wall-clock hours the devices ran
    #[arg(long, value_name = "H", required_unless_present = "list_hardware")]
    pub hours: Option<f64>,
    /// Average fraction of the power drawn, in (0, 1]. 1.0 = TDP at full load, an upper bound
    #[arg(long, value_name = "U", default_value_t = 1.0)]
    pub utilization: f64,
    /// training_type written in the model card
    #[arg(long, value_enum, default_value = "pre-training")]
    pub training_type: Training,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print the hardware table (name, kind, watts, source) and exit
    #[arg(long)]
    pub list_hardware: bool,
    #[command(flatten)]
    pub location: LocationFlags,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.list_hardware {
        let mut out = String::new();
        for h in all_hardware()? {
            let kind = format!("{:?}", h.kind).to_lowercase();
            writeln!(
                out,
                "{kind:<4} {:>7.1} W  {:<44} {}",
                h.tdp_w, h.name, h.source
            )?;
        }
        print_out(&out)?;
        return Ok(0);
    }
    let hardware = args.hardware.as_deref().map(lookup_hardware).transpose()?;
    let power_w = match (&hardware, args.power) {
        (Some(h), _) => h.tdp_w,
        (None, Some(p)) => p,
        (None, None) => anyhow::bail!("give --hardware NAME or --power WATTS"),
    };
    let hours = args
        .hours
        .ok_or_else(|| anyhow::anyhow!("--hours is required"))?;
    let intensity = args.location.resolve()?;
    if let Some(w) = &intensity.warning {
        eprintln!("powerhungry: warning: {w}");
    }
    let input = EstimateInput {
        hardware,
        power_w,
        count: args.count,
        hours,
        utilization: args.utilization,
    };
    let e = estimate(&input, &intensity)?;
    match args.format {
        Format::Json => print_out(&format!("{}\n", serde_json::to_string_pretty(&e)?))?,
        Format::ModelCard => {
            let t = match args.training_type {
                Training::PreTraining => TrainingType::PreTraining,
                Training::FineTuning => TrainingType::FineTuning,
            };
            print_out(&model_card_yaml(&e, t))?;
        }
        Format::Text => {
            let device = match &e.hardware {
                Some(h) => format!(
                    "{} x {}, {} W TDP ({})",
                    e.count,
                    h.name,
                    fmt_sig(h.tdp_w),
                    h.source
                ),
                None => format!("{} x {} W (--power)", e.count, fmt_sig(e.power_w)),
            };
            let m = &e.emissions;
            let mut out = String::new();
            writeln!(out, "hardware:   {device}")?;
            writeln!(
                out,
                "duration:   {} h at utilisation {}",
                fmt_sig(e.hours),
                fmt_sig(e.utilization)
            )?;
            writeln!(
                out,
                "energy:     {} kWh [{}]",
                fmt_sig(m.energy_kwh),
                e.method
            )?;
            writeln!(
                out,
                "facility:   {} kWh (PUE {}, {})",
                fmt_sig(m.facility_energy_kwh),
                fmt_sig(m.pue),
                intensity.pue_from
            )?;
            let year = intensity
                .year
                .map_or("year not stated".into(), |y| y.to_string());
            writeln!(
                out,
                "grid:       {} at {} gCO2e/kWh ({year}; chosen by {})",
                intensity.label,
                fmt_sig(m.g_per_kwh),
                intensity.location_from
            )?;
            writeln!(out, "source:     {}", intensity.source)?;
            writeln!(
                out,
                "emissions:  {} kg CO2e ({} g)",
                fmt_sig(m.co2e_kg),
                fmt_sig(m.co2e_g)
            )?;
            writeln!(
                out,
                "equivalent: {} smartphone charges (0.012 kWh each), {} miles by an average US car (400 g CO2/mile, EPA)",
                fmt_sig(m.equivalents.smartphone_charges),
                fmt_sig(m.equivalents.miles_driven)
            )?;
            writeln!(out, "note:       {}", e.note)?;
            print_out(&out)?;
        }
    }
    Ok(0)
}
