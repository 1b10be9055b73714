//! The human summary of a measured command, on stderr (stdout belongs to the command).

use super::signals;
use powerhungry_carbon::{Emissions, ResolvedIntensity};
use powerhungry_meter::WindowReport;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// How the command ended, as a person would say it: "exited with 3", "killed by signal 15
/// (SIGTERM)".
pub fn how_it_ended(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with {c}"),
        (None, Some(sig)) => format!("was killed by signal {sig} ({})", signals::name(sig)),
        _ => format!("ended ({status})"),
    }
}

/// The command as a shell would take it back: words with spaces or quotes single-quoted.
fn shell_words(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

/// Human summary on stderr (stdout belongs to the command).
pub fn print(
    command: &[String],
    ended: &str,
    interrupted_by: Option<i32>,
    w: &WindowReport,
    e: &Emissions,
    loc: &ResolvedIntensity,
    timing_only: Option<&str>,
) {
    eprintln!();
    eprintln!(
        "powerhungry: `{}` {ended} after {:.3} s",
        shell_words(command),
        w.duration_s
    );
    if let Some(sig) = interrupted_by {
        eprintln!(
            "  interrupted: powerhungry got {} and forwarded it to the command; the figures \
             cover the run up to its exit",
            signals::name(sig)
        );
    }
    for c in &w.components {
        let mut extra = String::new();
        if let Some(p) = c.process_j {
            extra.push_str(&format!("  process tree: {p:.3} J"));
        }
        if let Some(a) = c.above_idle_j {
            extra.push_str(&format!("  above idle: {a:.3} J"));
        }
        if !c.counted {
            extra.push_str("  NOT COUNTED");
        }
        if let Some(n) = &c.note {
            extra.push_str(&format!(" ({n})"));
        }
        eprintln!(
            "  {:<28} {:>12.3} J  {}{extra}",
            c.component.to_string(),
            c.energy_j,
            c.method
        );
    }
    if let Some(p) = &w.process {
        eprintln!(
            "  process tree {}: {:.2} CPU-s of {:.2} busy CPU-s = {:.1} % share; CPU idle {:.3} J \
             kept apart (idle from {})",
            p.pid,
            p.tree_cpu_s,
            p.machine_busy_cpu_s,
            p.share * 100.0,
            p.cpu_idle_j,
            p.idle_source
        );
    }
    if w.components.is_empty() {
        // No figure, never "0 J": nothing was counted by this process.
        eprintln!(
            "  energy: not measured ({})",
            timing_only.unwrap_or("no component could be counted")
        );
        for warn in &w.warnings {
            eprintln!("  warning: {warn}");
        }
        return;
    }
    let total = w.total_j();
    let above = w
        .above_idle_j()
        .map(|a| format!("; above idle {a:.3} J"))
        .unwrap_or_default();
    let methods = match w.methods_label() {
        m if m.is_empty() => "nothing counted here".to_string(),
        m => m,
    };
    eprintln!(
        "  total {:.3} J = {:.6} Wh ({methods}){above}",
        total,
        total / 3600.0,
    );
    eprintln!(
        "  CO2e {:.4} g at {} ({:.1} gCO2e/kWh, PUE {:.2}, {})",
        e.co2e_g, loc.label, loc.g_per_kwh, loc.pue, loc.source
    );
    if let Some(warn) = &loc.warning {
        eprintln!("  warning: {warn}");
    }
    for warn in &w.warnings {
        eprintln!("  warning: {warn}");
    }
}
