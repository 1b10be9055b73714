//! Summarization: ROUGE-1, ROUGE-2 and ROUGE-L F-measure as `rouge-score` 0.1.2 computes them
//! with `RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)`.
//!
//! - Tokenizer (`rouge_score/tokenize.py`): lower case (Python's `str.lower`), every run of
//!   characters other than `[a-z0-9]` becomes a space, split on spaces, tokens longer than 3
//!   characters stemmed by NLTK's Porter stemmer ([`porter_stem`]), empty tokens dropped.
//! - ROUGE-N: clipped n-gram overlap; precision = overlap / max(predicted n-grams, 1), recall =
//!   overlap / max(reference n-grams, 1). ROUGE-L: longest common subsequence of the token
//!   lists (0 when either is empty). F = 2PR/(P+R), 0 when P+R is 0. So an empty prediction
//!   (or one of punctuation only) scores 0.
//! - Several references (`score_multi`): per ROUGE type, the reference with the highest F.
//! - A set of summaries: the plain mean of the per-summary F (rouge-score's
//!   `BootstrapAggregator` reports a bootstrap estimate near it; we do not resample).
//!
//! Reference: `testdata/metrics/make_text_references.py` runs rouge-score 0.1.2 on the same
//! texts.

use super::porter::porter_stem;
use super::shape;
use crate::{Example, Gold, Output, TaskName};
use anyhow::{bail, Result};
use std::collections::HashMap;

/// rouge-score's default tokenizer with `use_stemmer=True`.
pub fn rouge_tokenize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.len() > 3 {
                porter_stem(t)
            } else {
                t.to_string()
            }
        })
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .collect()
}

/// rouge-score's `scoring.fmeasure`.
fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    if n > 0 && tokens.len() >= n {
        for w in tokens.windows(n) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// ROUGE-N F-measure of tokenised texts (`_score_ngrams`).
pub fn rouge_n_f(target: &[String], prediction: &[String], n: usize) -> f64 {
    let t = ngrams(target, n);
    let p = ngrams(prediction, n);
    let overlap: usize = t
        .iter()
        .map(|(g, c)| (*c).min(p.get(g).copied().unwrap_or(0)))
        .sum();
    let t_count: usize = t.values().sum();
    let p_count: usize = p.values().sum();
    let precision = overlap as f64 / p_count.max(1) as f64;
    let recall = overlap as f64 / t_count.max(1) as f64;
    fmeasure(precision, recall)
}

/// Length of the longest common subsequence (two rows of the DP table).
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// ROUGE-L F-measure of tokenised texts (`_score_lcs`).
pub fn rouge_l_f(target: &[String], prediction: &[String]) -> f64 {
    if target.is_empty() || prediction.is_empty() {
        return 0.0;
    }
    let lcs = lcs_len(target, prediction) as f64;
    fmeasure(lcs / prediction.len() as f64, lcs / target.len() as f64)
}

/// ROUGE-1, ROUGE-2 and ROUGE-L F-measure of one summary.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RougeScores {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
}

/// `RougeScorer(..., use_stemmer=True).score(target, prediction)`, F-measures.
pub fn rouge(target: &str, prediction: &str) -> RougeScores {
    let t = rouge_tokenize(target);
    let p = rouge_tokenize(prediction);
    RougeScores {
        rouge1: rouge_n_f(&t, &p, 1),
        rouge2: rouge_n_f(&t, &p, 2),
        rouge_l: rouge_l_f(&t, &p),
    }
}

/// `score_multi(targets, prediction)`: per type, the F of the best reference; all 0 without
/// references.
pub fn rouge_multi(targets: &[String], prediction: &str) -> RougeScores {
    targets
        .iter()
        .map(|t| rouge(t, prediction))
        .fold(RougeScores::default(), |best, s| RougeScores {
            rouge1: best.rouge1.max(s.rouge1),
            rouge2: best.rouge2.max(s.rouge2),
            rouge_l: best.rouge_l.max(s.rouge_l),
        })
}

/// Mean ROUGE F-measures over summaries; `None` is an output that did not parse (scores 0).
/// All 0 for an empty set.
pub fn rouge_mean(pairs: &[(Option<&str>, &[String])]) -> RougeScores {
    if pairs.is_empty() {
        return RougeScores::default();
    }
    let mut sum = RougeScores::default();
    for (pred, refs) in pairs {
        if let Some(p) = pred {
            let s = rouge_multi(refs, p);
            sum.rouge1 += s.rouge1;
            sum.rouge2 += s.rouge2;
            sum.rouge_l += s.rouge_l;
        }
    }
    let n = pairs.len() as f64;
    RougeScores {
        rouge1: sum.rouge1 / n,
        rouge2: sum.rouge2 / n,
        rouge_l: sum.rouge_l / n,
    }
}

/// The summarization arm of [`super::score_task`]: `rouge1`, `rouge2`, `rougeL` (mean F).
/// Empty when an example has no gold; an error naming the example for a gold that is not
/// references or an output that is not a text.
pub(super) fn score_summaries(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let refs = match &e.gold {
            None => return Ok(Vec::new()),
            Some(Gold::References(r)) => r.as_slice(),
            Some(_) => bail!(
                "example {}: the gold of a {task} example is not a list of references",
                e.id
            ),
        };
        let pred = match o {
            Output::Text(t) => Some(t.as_str()),
            Output::Unparsed(_) => None,
            other => bail!(
                "example {}: a {task} backend answered {}, not a text",
                e.id,
                shape(other)
            ),
        };
        rows.push((pred, refs));
    }
    let s = rouge_mean(&rows);
    Ok(vec![
        ("rouge1".into(), s.rouge1),
        ("rouge2".into(), s.rouge2),
        ("rougeL".into(), s.rouge_l),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_follows_rouge_score() {
        assert_eq!(
            rouge_tokenize("The quick-brown FOXES jumped, über 3 dogs!"),
            vec!["the", "quick", "brown", "fox", "jump", "ber", "3", "dog"]
        );
        assert!(rouge_tokenize("?!...").is_empty());
    }

    #[test]
    fn scores_known_pair() {
        // rouge-score's README example, as rouge-score 0.1.2 scores it.
        let s = rouge(
            "The quick brown fox jumps over the lazy dog",
            "The quick brown dog jumps on the log.",
        );
        assert_eq!(s.rouge1, 0.7058823529411765, "{s:?}");
        assert_eq!(s.rouge2, 0.26666666666666666, "{s:?}");
        assert_eq!(s.rouge_l, 0.5882352941176471, "{s:?}");
        assert_eq!(rouge("a b", ""), RougeScores::default());
        assert_eq!(rouge_multi(&[], "x"), RougeScores::default());
        assert_eq!(rouge_mean(&[]), RougeScores::default());
    }
}
