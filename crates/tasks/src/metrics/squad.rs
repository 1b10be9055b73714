//! Extractive question answering: exact match and token F1 as the official SQuAD v1.1
//! evaluation script (`evaluate-v1.1.py`) computes them.
//!
//! - [`normalize_answer`]: lower case, remove ASCII punctuation (`string.punctuation`), remove
//!   the articles `a`/`an`/`the` (as whole words: `re.sub(r'\b(a|an|the)\b', ' ', text)` with
//!   Python's Unicode `\b`), collapse whitespace (`' '.join(text.split())`).
//! - [`exact_match`]: 1 when the normalised texts are equal.
//! - [`token_f1`]: F1 of the bag-of-tokens overlap (`Counter` intersection); 0 when no token
//!   is shared, so an answer that normalises to nothing scores F1 0 even against a gold that
//!   also normalises to nothing (v1.1's rule; SQuAD v2's script, and transformers'
//!   `squad_metrics.compute_f1`, give 1 there), while exact match gives 1.
//! - Each question scores the maximum over its gold answers; the set scores the mean over
//!   questions. The script multiplies by 100; we report fractions in 0..1.
//!
//! Reference: the script's functions, reproduced verbatim in
//! `testdata/metrics/make_text_references.py` (the script is not on PyPI as a package); the
//! committed numbers `testdata/metrics/text_references.json` are the test's oracle.
//!
//! Known divergence: Python's `\w` counts letters and numbers (`str.isalnum`); Rust's
//! `char::is_alphanumeric` also counts a few combining marks (Unicode `Other_Alphabetic`, e.g.
//! Indic vowel signs). Only an article written directly against such a mark is treated
//! differently.

use super::shape;
use crate::{Example, Gold, Output, TaskName};
use anyhow::{bail, Result};
use std::collections::HashMap;

/// Python's `str.isspace()`, which `str.split()` splits on: Unicode White_Space plus the
/// information separators U+001C..U+001F.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` without arguments.
pub(crate) fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(py_isspace).filter(|t| !t.is_empty())
}

/// A character Python's Unicode `\w` matches (see the module docs for the one divergence).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// SQuAD v1.1's `normalize_answer`.
pub fn normalize_answer(s: &str) -> String {
    let lower = s.to_lowercase();
    let no_punc: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    // Remove whole-word articles: a maximal run of word characters equal to a/an/the.
    let mut no_articles = String::with_capacity(no_punc.len());
    let mut rest = no_punc.as_str();
    while let Some(c) = rest.chars().next() {
        if is_word_char(c) {
            let end = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
            let word = &rest[..end];
            if matches!(word, "a" | "an" | "the") {
                no_articles.push(' ');
            } else {
                no_articles.push_str(word);
            }
            rest = &rest[end..];
        } else {
            no_articles.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    py_split(&no_articles).collect::<Vec<_>>().join(" ")
}

/// SQuAD v1.1's `exact_match_score`: 1.0 when the normalised texts are equal, else 0.0.
pub fn exact_match(prediction: &str, gold: &str) -> f64 {
    if normalize_answer(prediction) == normalize_answer(gold) {
        1.0
    } else {
        0.0
    }
}

/// SQuAD v1.1's `f1_score`: token F1 of the normalised texts (0 when no token is shared).
pub fn token_f1(prediction: &str, gold: &str) -> f64 {
    let (p, g) = (normalize_answer(prediction), normalize_answer(gold));
    let pred_tokens: Vec<&str> = py_split(&p).collect();
    let gold_tokens: Vec<&str> = py_split(&g).collect();
    let mut gold_counts: HashMap<&str, usize> = HashMap::new();
    for t in &gold_tokens {
        *gold_counts.entry(t).or_default() += 1;
    }
    let mut num_same = 0usize;
    for t in &pred_tokens {
        if let Some(n) = gold_counts.get_mut(t) {
            if *n > 0 {
                *n -= 1;
                num_same += 1;
            }
        }
    }
    if num_same == 0 {
        return 0.0;
    }
    let precision = num_same as f64 / pred_tokens.len() as f64;
    let recall = num_same as f64 / gold_tokens.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// Exact match and F1 of one question: the maximum over its gold answers
/// (`metric_max_over_ground_truths`); (0, 0) without gold answers (the script would fail).
pub fn qa_scores(prediction: &str, golds: &[String]) -> (f64, f64) {
    golds.iter().fold((0.0f64, 0.0f64), |(em, f1), g| {
        (
            em.max(exact_match(prediction, g)),
            f1.max(token_f1(prediction, g)),
        )
    })
}

/// Mean exact match and mean F1 over questions, as fractions (the script's numbers / 100).
/// `None` as a prediction is an answer that did not parse: it scores 0 on both. (0, 0) for an
/// empty set.
pub fn squad_v1(pairs: &[(Option<&str>, &[String])]) -> (f64, f64) {
    if pairs.is_empty() {
        return (0.0, 0.0);
    }
    let (mut em, mut f1) = (0.0, 0.0);
    for (pred, golds) in pairs {
        if let Some(p) = pred {
            let (e, f) = qa_scores(p, golds);
            em += e;
            f1 += f;
        }
    }
    let n = pairs.len() as f64;
    (em / n, f1 / n)
}

/// The extractive-QA arm of [`super::score_task`]: `exact_match` and `f1` (fractions).
/// Empty when an example has no gold; an error naming the example for an output that is not
/// an answer span, a gold that is not a list of answers, or an empty list of answers.
pub(super) fn score_qa(
    task: TaskName,
    pairs: &[(&Example, &Output)],
) -> Result<Vec<(String, f64)>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for (e, o) in pairs {
        let golds = match &e.gold {
            None => return Ok(Vec::new()),
            Some(Gold::Answers(a)) if a.is_empty() => {
                bail!("example {}: no gold answer to score against", e.id)
            }
            Some(Gold::Answers(a)) => a.as_slice(),
            Some(_) => bail!(
                "example {}: the gold of a {task} example is not a list of answers",
                e.id
            ),
        };
        let pred = match o {
            Output::Answer { text, .. } => Some(text.as_str()),
            Output::Unparsed(_) => None,
            other => bail!(
                "example {}: a {task} backend answered {}, not an answer span",
                e.id,
                shape(other)
            ),
        };
        rows.push((pred, golds));
    }
    let (em, f1) = squad_v1(&rows);
    Ok(vec![("exact_match".into(), em), ("f1".into(), f1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_the_script() {
        assert_eq!(normalize_answer("The  Denver Broncos!"), "denver broncos");
        assert_eq!(normalize_answer("an apple, a pear"), "apple pear");
        // Articles only as whole words; punctuation goes first ("the-end" -> "theend", "a.n" -> "an").
        assert_eq!(normalize_answer("theatre the-end a.n"), "theatre theend");
        assert_eq!(normalize_answer("...!?"), "");
        // Non-ASCII punctuation stays and is a word boundary.
        assert_eq!(normalize_answer("24–10 the–end"), "24–10 –end");
        assert_eq!(normalize_answer("x\u{1c}y\u{a0}z"), "x y z");
    }

    #[test]
    fn f1_and_em_edge_cases() {
        assert_eq!(token_f1("", "Denver"), 0.0);
        assert_eq!(exact_match("", ""), 1.0);
        // v1.1: no shared token -> 0, even when both normalise to nothing.
        assert_eq!(token_f1("the", "a"), 0.0);
        assert_eq!(exact_match("the", "a"), 1.0);
        let f = token_f1("Denver Broncos team", "the Denver Broncos");
        assert!((f - 0.8).abs() < 1e-15);
        let golds = vec!["Broncos".to_string(), "Denver Broncos".to_string()];
        assert_eq!(qa_scores("denver broncos.", &golds), (1.0, 1.0));
        assert_eq!(qa_scores("x", &[]), (0.0, 0.0));
        assert_eq!(squad_v1(&[]), (0.0, 0.0));
        assert_eq!(squad_v1(&[(None, &golds[..])]), (0.0, 0.0));
    }
}
