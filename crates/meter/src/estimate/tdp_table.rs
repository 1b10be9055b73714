//! The embedded CPU TDP table (`data/cpu_tdp.csv`, built from CodeCarbon's `cpu_power.csv`
//! and the Intel ARK / AMD scrapes by `data/build_cpu_table.py`; MIT, see
//! `data/LICENSE-codecarbon`) and the brand-string matching rules of docs/power-model.md.

use std::collections::BTreeSet;
use std::sync::OnceLock;

const TABLE_CSV: &str = include_str!("../../data/cpu_tdp.csv");

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TdpEntry {
    pub name: String,
    /// Thermal design power of one package, watts.
    pub tdp_watts: f64,
    pub cores: Option<u32>,
    pub threads: Option<u32>,
}

/// How a brand string was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// Same normalised name (or the same words in another order).
    Exact,
    /// Every word of the table name is in the brand string and the brand's extra words
    /// hold no digit (so a version such as `v3` or a model number is never ignored).
    Approximate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TdpMatch {
    pub entry: TdpEntry,
    pub kind: MatchKind,
}

struct Row {
    entry: TdpEntry,
    norm: String,
    words: BTreeSet<String>,
}

fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| parse_table(TABLE_CSV))
}

/// Parse the embedded CSV. It is generated and checked by a unit test, so a malformed row
/// is skipped here rather than failing at run time.
fn parse_table(text: &str) -> Vec<Row> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        // Names hold no commas (the builder keeps vendor-prefixed names only).
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 4 {
            continue;
        }
        let Ok(tdp_watts) = f[1].parse::<f64>() else {
            continue;
        };
        let entry = TdpEntry {
            name: f[0].to_string(),
            tdp_watts,
            cores: f[2].parse().ok(),
            threads: f[3].parse().ok(),
        };
        let norm = normalize(&entry.name);
        let words = norm.split(' ').map(str::to_string).collect();
        out.push(Row { entry, norm, words });
    }
    out
}

/// Number of rows in the embedded table.
pub fn table_len() -> usize {
    rows().len()
}

/// Normalise a `/proc/cpuinfo` brand string or a table name: lower case; `(R)`, `(TM)`, `®`
/// and `™` dropped; everything from `@` on (the clock) dropped; the words `cpu`, `processor`,
/// `n-core`, `nth gen` and a trailing `with radeon ... graphics` dropped; spaces collapsed.
pub fn normalize(brand: &str) -> String {
    let mut s = brand.to_lowercase();
    for mark in ["(r)", "(tm)", "(c)", "®", "™"] {
        s = s.replace(mark, " ");
    }
    if let Some(at) = s.find('@') {
        s.truncate(at);
    }
    if let Some(w) = s.find(" with radeon") {
        s.truncate(w);
    }
    // Anything but letters, digits and `-+.` separates words (this also drops the
    // zero-width spaces a few scraped names carry).
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-+.".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut kept = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let is_ordinal = ["th", "st", "nd", "rd"].iter().any(|suffix| {
            w.strip_suffix(suffix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        });
        if is_ordinal && words.get(i + 1) == Some(&"gen") {
            i += 2;
            continue;
        }
        let n_core = w
            .strip_suffix("-core")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !(w == "cpu" || w == "processor" || n_core) {
            kept.push(w);
        }
        i += 1;
    }
    kept.join(" ")
}

/// The core count AMD writes into its brand strings ("AMD EPYC 7763 64-Core Processor").
pub fn cores_in_brand(brand: &str) -> Option<u32> {
    brand.split_whitespace().find_map(|w| {
        let n = w
            .strip_suffix("-Core")
            .or_else(|| w.strip_suffix("-core"))?;
        n.parse().ok()
    })
}

/// Look a brand string up: exact normalised name first, then the same words in any order,
/// then the conservative superset rule of [`MatchKind::Approximate`], which must single out
/// one TDP (the longest matching names; if they disagree on TDP there is no match).
pub fn lookup(brand: &str) -> Option<TdpMatch> {
    let norm = normalize(brand);
    if norm.is_empty() {
        return None;
    }
    let rows = rows();
    if let Some(r) = rows.iter().find(|r| r.norm == norm) {
        return Some(TdpMatch {
            entry: r.entry.clone(),
            kind: MatchKind::Exact,
        });
    }
    let words: BTreeSet<String> = norm.split(' ').map(str::to_string).collect();
    if let Some(r) = rows.iter().find(|r| r.words == words) {
        return Some(TdpMatch {
            entry: r.entry.clone(),
            kind: MatchKind::Exact,
        });
    }
    let candidates: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            r.words.len() >= 2
                && r.words.is_subset(&words)
                && words
                    .difference(&r.words)
                    .all(|extra| !extra.chars().any(|c| c.is_ascii_digit()))
                // the table name must carry a model number, not just "intel xeon"
                && r.words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()))
        })
        .collect();
    let longest = candidates.iter().map(|r| r.words.len()).max()?;
    let best: Vec<&&Row> = candidates
        .iter()
        .filter(|r| r.words.len() == longest)
        .collect();
    let first = best.first()?;
    if best
        .iter()
        .any(|r| r.entry.tdp_watts != first.entry.tdp_watts)
    {
        return None;
    }
    Some(TdpMatch {
        entry: first.entry.clone(),
        kind: MatchKind::Approximate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_row_parses() {
        let lines = TABLE_CSV.lines().count() - 1;
        assert_eq!(
            table_len(),
            lines,
            "a row of data/cpu_tdp.csv did not parse"
        );
        assert!(lines > 4000);
    }

    #[test]
    fn normalizes_real_brand_strings() {
        assert_eq!(
            normalize("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"),
            "intel xeon platinum 8370c"
        );
        assert_eq!(
            normalize("AMD EPYC 7763 64-Core Processor"),
            "amd epyc 7763"
        );
        assert_eq!(
            normalize("12th Gen Intel(R) Core(TM) i7-1260P"),
            "intel core i7-1260p"
        );
        assert_eq!(
            normalize("AMD Ryzen 7 5800H with Radeon Graphics"),
            "amd ryzen 7 5800h"
        );
        assert_eq!(normalize("Intel(R) Xeon(R) Processor"), "intel xeon");
        // non-ASCII never panics and never glues words together
        assert_eq!(
            normalize("AMD Ryzen 5 6600HS\u{200b}"),
            "amd ryzen 5 6600hs"
        );
        assert_eq!(normalize("Ünknown 1st"), "ünknown 1st");
    }

    fn tdp(brand: &str) -> Option<(String, f64, MatchKind)> {
        lookup(brand).map(|m| (m.entry.name, m.entry.tdp_watts, m.kind))
    }

    #[test]
    fn finds_the_calibration_cpus_and_cloud_cpus() {
        // Values read from cpu_power.csv (CodeCarbon 3.3.2).
        let exact = |b: &str, name: &str, w: f64| {
            assert_eq!(tdp(b), Some((name.to_string(), w, MatchKind::Exact)), "{b}");
        };
        exact(
            "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz",
            "Intel Xeon E5-2620 v3",
            85.0,
        );
        exact(
            "Intel(R) Xeon(R) CPU E3-1240 V2 @ 3.40GHz",
            "Intel Xeon E3-1240 v2",
            69.0,
        );
        exact("AMD EPYC 8024P 8-Core Processor", "AMD EPYC 8024P", 90.0);
        exact(
            "AMD Ryzen Threadripper 1950X 16-Core Processor",
            "AMD Ryzen Threadripper 1950X",
            180.0,
        );
        exact(
            "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz",
            "Intel Xeon Platinum 8370C",
            205.0,
        );
        exact("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763", 280.0);
    }

    #[test]
    fn versions_and_bare_families_never_match_loosely() {
        // "v9" is not in the table for this model: the v1 row must not be taken instead.
        assert_eq!(tdp("Intel(R) Xeon(R) CPU E5-2620 v9 @ 2.40GHz"), None);
        // This machine's VM brand string names no model.
        assert_eq!(tdp("Intel(R) Xeon(R) Processor"), None);
        assert_eq!(tdp(""), None);
        assert_eq!(tdp("QEMU Virtual CPU version 2.5+"), None);
    }

    #[test]
    fn extra_words_without_digits_give_an_approximate_match() {
        let m = lookup("AMD EPYC 7763 64-Core Processor Engineering Sample").unwrap();
        assert_eq!(m.entry.name, "AMD EPYC 7763");
        assert_eq!(m.kind, MatchKind::Approximate);
    }

    #[test]
    fn core_count_from_amd_brand() {
        assert_eq!(cores_in_brand("AMD EPYC 7763 64-Core Processor"), Some(64));
        assert_eq!(cores_in_brand("Intel(R) Xeon(R) Processor"), None);
    }
}
