//! `/metrics` in the Prometheus text exposition format (version 0.0.4): energy counters since
//! the agent started (monotonic, joules), power over the latest sample interval, and the
//! agent's own CPU time and memory, each component labelled with its method, so that a
//! dashboard never mixes measured and estimated figures silently.

use powerhungry_meter::{Sample, WindowReport};
use std::fmt::Write;

/// What one scrape shows.
pub struct Snapshot<'a> {
    pub node: &'a str,
    /// The meter's window open since the agent started, read now.
    pub since_start: &'a WindowReport,
    /// The latest power sample, if the sampler has taken one.
    pub latest: Option<&'a Sample>,
    pub open_windows: usize,
    pub own: OwnUsage,
}

/// The agent process's own cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OwnUsage {
    pub cpu_s: f64,
    pub rss_bytes: Option<u64>,
}

/// This process's CPU time (getrusage) and resident memory (/proc/self/statm).
pub fn own_usage() -> OwnUsage {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) } == 0;
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu_s = if ok {
        secs(r.ru_utime) + secs(r.ru_stime)
    } else {
        0.0
    };
    let rss_bytes = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        // SAFETY: sysconf has no preconditions.
        .map(|pages| pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64);
    OwnUsage { cpu_s, rss_bytes }
}

/// The scrape's text.
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let node = escape(s.node);
    family(
        &mut out,
        "powerhungry_energy_joules_total",
        "counter",
        "Energy per component since the agent started (counted: part of the node's total).",
    );
    for c in &s.since_start.components {
        let _ = writeln!(
            out,
            "powerhungry_energy_joules_total{{node=\"{node}\",component=\"{}\",method=\"{}\",counted=\"{}\"}} {}",
            escape(&c.component.to_string()),
            escape(c.method.as_str()),
            c.counted,
            number(c.energy_j)
        );
    }
    family(
        &mut out,
        "powerhungry_power_watts",
        "gauge",
        "Mean power per component over the latest sample interval.",
    );
    if let Some(sample) = s.latest {
        for c in &sample.components {
            let _ = writeln!(
                out,
                "powerhungry_power_watts{{node=\"{node}\",component=\"{}\",method=\"{}\",counted=\"{}\"}} {}",
                escape(&c.component.to_string()),
                escape(c.method.as_str()),
                c.counted,
                number(c.watts)
            );
        }
    }
    family(
        &mut out,
        "powerhungry_uptime_seconds",
        "gauge",
        "Seconds since the agent's meter started.",
    );
    let _ = writeln!(
        out,
        "powerhungry_uptime_seconds{{node=\"{node}\"}} {}",
        number(s.since_start.duration_s)
    );
    family(
        &mut out,
        "powerhungry_open_windows",
        "gauge",
        "Windows a bench has opened on this agent and not closed.",
    );
    let _ = writeln!(
        out,
        "powerhungry_open_windows{{node=\"{node}\"}} {}",
        s.open_windows
    );
    family(
        &mut out,
        "powerhungry_agent_cpu_seconds_total",
        "counter",
        "CPU time the agent itself has used (user + system).",
    );
    let _ = writeln!(
        out,
        "powerhungry_agent_cpu_seconds_total{{node=\"{node}\"}} {}",
        number(s.own.cpu_s)
    );
    if let Some(rss) = s.own.rss_bytes {
        family(
            &mut out,
            "powerhungry_agent_resident_memory_bytes",
            "gauge",
            "The agent's resident memory.",
        );
        let _ = writeln!(
            out,
            "powerhungry_agent_resident_memory_bytes{{node=\"{node}\"}} {rss}"
        );
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A sample value: Prometheus spells the non-finite ones `NaN`, `+Inf`, `-Inf`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// A label value: backslash, double quote and newline escaped, as the format requires.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_numbers_follow_the_format() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(1.5), "1.5");
    }
}
