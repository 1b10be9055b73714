//! Masked language modelling: top-1 and top-5 accuracy of the masked word.
//!
//! No package defines this metric, so the rule is ours, applied alike to the gold word and to
//! each candidate ([`normalize_word`]):
//! 1. trim surrounding whitespace;
//! 2. drop the tokenizers' word-piece markers: leading `Ġ` (byte-level BPE), `▁`
//!    (SentencePiece), `##` (WordPiece continuation), trailing `</w>` (CLIP-style BPE), then
//!    trim again;
//! 3. lower case (Unicode);
//! 4. trim non-alphanumeric characters at both ends when a letter or digit remains (the
//!    study's gold is the 20th whitespace word, which may carry punctuation, `said,`; a
//!    word that is punctuation only, `,` or `@-@`, is kept as it is).
//!
//! Top-k: the gold word equals one of the first k candidates (best first). No candidates, or
//! an answer that did not parse, is wrong.

use super::shape;
use crate::{Example, Gold, Output, TaskName};
use anyhow::{bail, Result};

/// The normalised form a gold word and a candidate are compared in (module docs).
pub fn normalize_word(word: &str) -> String {
    let mut w = word.trim();
    loop {
        let before = w;
        for marker in ["Ġ", "▁", "##"] {
            w = w.strip_prefix(marker).unwrap_or(w);
        }
        w = w.strip_suffix("</w>").unwrap_or(w);
        w = w.trim();
        if w == before {
            break;
        }
    }
    let lower = w.to_lowercase();
    let inner = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if inner.is_empty() {
        lower
    } else {
        inner.to_string()
    }
}

/// Whether `gold` is among the first `k` candidates, after normalisation.
pub fn in_top_k(gold: &str, candidates: &[String], k: usize) -> bool {
    let g = normalize_word(gold);
    candidates.iter().take(k).any(|c| normalize_word(c) == g)
}

/// Top-1 and top-5 accuracy over examples; `None` candidates is an answer that did not parse
/// (wrong). (0, 0) for an empty set.
pub fn fill_mask_accuracy(pairs: &[(&str, Option<&[String]>)]) -> (f64, f64) {
    if pairs.is_empty() {
        return (0.0, 0.0);
    }
    let (mut top1, mut top5) = (0usize, 0usize);
    for (gold, cands) in pairs {
        if let Some(c) = cands {
            top1 += usize::from(in_top_k(gold, c, 1));
            top5 += usize::from(in_top_k(gold, c, 5));
        }
    }
    let n = pairs.len() as f64;
    (top1 as f64 / n, top5 as f64 / n)
}

/// The masked-LM arm of [`super::score_task`]: `top1_accuracy`, `top5_accuracy`. Empty when
/// an example has no gold; an error naming the example for a gold that is not a word or an
/// output that is not a list of words.
pub(super) fn score_fill_mask(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let gold = match &e.gold {
            None => return Ok(Vec::new()),
            Some(Gold::Word(w)) => w.as_str(),
            Some(_) => bail!(
                "example {}: the gold of a {task} example is not a word",
                e.id
            ),
        };
        let cands = match o {
            Output::Words(w) => Some(w.as_slice()),
            Output::Unparsed(_) => None,
            other => bail!(
                "example {}: a {task} backend answered {}, not a list of words",
                e.id,
                shape(other)
            ),
        };
        rows.push((gold, cands));
    }
    let (t1, t5) = fill_mask_accuracy(&rows);
    Ok(vec![
        ("top1_accuracy".into(), t1),
        ("top5_accuracy".into(), t5),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split('|').map(String::from).collect()
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_word(" ĠParis"), "paris");
        assert_eq!(normalize_word("▁the"), "the");
        assert_eq!(normalize_word("##ing"), "ing");
        assert_eq!(normalize_word("city</w>"), "city");
        assert_eq!(normalize_word("said,"), "said");
        assert_eq!(normalize_word("\"Valkyria"), "valkyria");
        assert_eq!(normalize_word(","), ",");
        assert_eq!(normalize_word("@-@"), "@-@");
        assert_eq!(normalize_word("don't"), "don't");
        assert_eq!(normalize_word(""), "");
    }

    #[test]
    fn top_k() {
        let c = words("Ġthe|Ġa|Ġhis|Ġher|Ġits|Ġtheir");
        assert!(in_top_k("The", &c, 1));
        assert!(in_top_k("its", &c, 5));
        assert!(!in_top_k("their", &c, 5));
        assert!(!in_top_k("x", &[], 5));
        let (t1, t5) = fill_mask_accuracy(&[
            ("the", Some(&c[..])),
            ("its", Some(&c[..])),
            ("their", Some(&c[..])),
            ("the", None),
        ]);
        assert_eq!((t1, t5), (0.25, 0.5));
        assert_eq!(fill_mask_accuracy(&[]), (0.0, 0.0));
    }
}
