//! The embedded CPU TDP table (`data/cpu_tdp.csv`, built from CodeCarbon's `cpu_power.csv`
//! and the Intel ARK / AMD scrapes by `data/build_cpu_table.py`; MIT, see
//! `data/LICENSE-codecarbon`) and the brand-string matching rules of docs/power-model.md.

use std::collections::BTreeSet;

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

/// The table's rows, parsed on the fly: a lookup runs once per measurement, and keeping
/// 4,660 parsed rows resident would cost the meter ~2 MB of heap for nothing. The CSV is
/// generated and checked by a unit test, so a malformed row is skipped here rather than
/// failing at run time.
fn entries() -> impl Iterator<Item = TdpEntry> {
    TABLE_CSV.lines().skip(1).filter_map(|line| {
        // Names hold no commas (the builder removes them).
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 4 {
            return None;
        }
        Some(TdpEntry {
            name: f[0].to_string(),
            tdp_watts: f[1].parse().ok()?,
            cores: f[2].parse().ok(),
            threads: f[3].parse().ok(),
        })
    })
}

/// Number of rows in the embedded table.
pub fn table_len() -> usize {
    entries().count()
}

fn word_set(norm: &str) -> BTreeSet<&str> {
    norm.split(' ').filter(|w| !w.is_empty()).collect()
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
    let words = word_set(&norm);
    let has_digit = |w: &str| w.chars().any(|c| c.is_ascii_digit());
    let mut same_words = None;
    // (number of words, entry) of the rows the approximate rule accepts
    let mut approx: Vec<(usize, TdpEntry)> = Vec::new();
    for entry in entries() {
        let row_norm = normalize(&entry.name);
        if row_norm == norm {
            return Some(TdpMatch {
                entry,
                kind: MatchKind::Exact,
            });
        }
        let row_words = word_set(&row_norm);
        if row_words == words {
            same_words.get_or_insert(entry);
            continue;
        }
        let accepted = row_words.len() >= 2
            && row_words.is_subset(&words)
            && words.difference(&row_words).all(|extra| !has_digit(extra))
            // the table name must carry a model number, not just "intel xeon"
            && row_words.iter().any(|w| has_digit(w));
        if accepted {
            approx.push((row_words.len(), entry));
        }
    }
    if let Some(entry) = same_words {
        return Some(TdpMatch {
            entry,
            kind: MatchKind::Exact,
        });
    }
    let longest = approx.iter().map(|(n, _)| *n).max()?;
    let mut best = approx.into_iter().filter(|(n, _)| *n == longest);
    let (_, first) = best.next()?;
    if best.any(|(_, e)| e.tdp_watts != first.tdp_watts) {
        return None;
    }
    Some(TdpMatch {
        entry: first,
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
