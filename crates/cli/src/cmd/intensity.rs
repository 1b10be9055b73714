//! `powerhungry intensity`: the grid carbon intensity of a location, with its source and year.

use super::location::LocationFlags;
use powerhungry_carbon::list::table;
use powerhungry_carbon::ResolvedIntensity;

#[derive(clap::Args)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  powerhungry intensity --country FRA\n  \
powerhungry intensity --cloud aws:us-west-2 --json\n  powerhungry intensity --list"
)]
pub struct Args {
    #[command(flatten)]
    pub location: LocationFlags,
    /// Print the whole embedded table (countries, US states, Canadian provinces, Nordic zones,
    /// Chinese provinces, cloud regions) instead of one location
    #[arg(long)]
    pub list: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.list {
        let rows = table()?;
        if args.json {
            print_out(&format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
        } else {
            let mut out = format!(
                "{:<16} {:<26} {:>10} {:>5}  name\n",
                "kind", "code", "gCO2e/kWh", "year"
            );
            for r in rows {
                let year = r.year.map_or("-".to_string(), |y| y.to_string());
                let name = match &r.maps_to {
                    Some(m) => format!("{} -> {m}", r.name),
                    None => r.name,
                };
                out.push_str(&format!(
                    "{:<16} {:<26} {:>10.1} {:>5}  {name}\n",
                    r.kind, r.code, r.g_per_kwh, year
                ));
            }
            print_out(&out)?;
        }
        return Ok(0);
    }
    let resolved = args.location.resolve()?;
    if let Some(w) = &resolved.warning {
        eprintln!("powerhungry: warning: {w}");
    }
    if args.json {
        print_out(&format!("{}\n", serde_json::to_string_pretty(&resolved)?))?;
    } else {
        print_out(&text(&resolved))?;
    }
    Ok(0)
}

/// Write to stdout; a closed pipe (`| head`) ends output quietly instead of panicking.
pub fn print_out(s: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn text(r: &ResolvedIntensity) -> String {
    let year = r
        .year
        .map_or("year not stated".to_string(), |y| y.to_string());
    format!(
        "location:  {}\nintensity: {} gCO2e/kWh ({year})\nsource:    {}\nchosen by: {}\nPUE:       {} ({})\n",
        r.label, r.g_per_kwh, r.source, r.location_from, r.pue, r.pue_from
    )
}
