//! `powerhungry parity`: inferences after which inference energy equals training + fine-tuning
//! energy, as in "Power Hungry Processing".

use super::intensity::print_out;
use powerhungry_carbon::parity;
use powerhungry_carbon::units::fmt_sig;
use std::fmt::Write;

#[derive(clap::Args)]
#[command(
    allow_negative_numbers = true,
    group = clap::ArgGroup::new("inference").required(true).args(["inference_kwh", "inference_kwh_per_1000"]),
    after_help = "Example (BLOOMz-7B in Power Hungry Processing):\n  \
powerhungry parity --training-kwh 51686 --finetune-kwh 7571 --inference-kwh 0.0001 --per-day 1000000"
)]
pub struct Args {
    /// Energy of training (pre-training) the model, kWh
    #[arg(long, value_name = "KWH")]
    pub training_kwh: f64,
    /// Energy of fine-tuning, kWh (default 0)
    #[arg(long, value_name = "KWH", default_value_t = 0.0)]
    pub finetune_kwh: f64,
    /// Energy of ONE inference, kWh (not per 1,000: use --inference-kwh-per-1000 for that)
    #[arg(long, value_name = "KWH")]
    pub inference_kwh: Option<f64>,
    /// Energy of 1,000 inferences, kWh (the unit the studies report)
    #[arg(long, value_name = "KWH")]
    pub inference_kwh_per_1000: Option<f64>,
    /// Queries per day, to also express parity in days
    #[arg(long, value_name = "N")]
    pub per_day: Option<f64>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let per_inference = match (args.inference_kwh, args.inference_kwh_per_1000) {
        (Some(z), _) => z,
        (None, Some(z)) => {
            powerhungry_carbon::parity::check_range(
                "--inference-kwh-per-1000",
                z,
                parity::MIN_INFERENCE_KWH * 1000.0,
                parity::MAX_KWH,
                "kWh",
            )?;
            z / 1000.0
        }
        (None, None) => anyhow::bail!("give --inference-kwh or --inference-kwh-per-1000"),
    };
    let p = parity::parity(
        args.training_kwh,
        args.finetune_kwh,
        per_inference,
        args.per_day,
    )?;
    if args.json {
        print_out(&format!("{}\n", serde_json::to_string_pretty(&p)?))?;
        return Ok(0);
    }
    let mut out = String::new();
    writeln!(
        out,
        "training {} kWh + fine-tuning {} kWh = {} kWh",
        fmt_sig(p.training_kwh),
        fmt_sig(p.finetune_kwh),
        fmt_sig(p.training_kwh + p.finetune_kwh)
    )?;
    writeln!(
        out,
        "inference {} kWh each ({} kWh per 1,000)",
        fmt_sig(p.inference_kwh),
        fmt_sig(p.inference_kwh * 1000.0)
    )?;
    writeln!(
        out,
        "parity after {} inferences",
        group_thousands(p.inferences)
    )?;
    if let (Some(d), Some(per_day)) = (p.days, p.per_day) {
        writeln!(
            out,
            "  = {:.1} days at {} inferences a day ({:.2} years)",
            d,
            group_thousands(per_day),
            d / 365.25
        )?;
    }
    print_out(&out)?;
    Ok(0)
}

/// 592570000 -> "592,570,000" (rounded to a whole number).
fn group_thousands(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e18 {
        return fmt_sig(x);
    }
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}
