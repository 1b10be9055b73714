//! Text (and image) classification: accuracy and macro-F1.
//!
//! Macro-F1 follows scikit-learn's `f1_score(average="macro", zero_division=0)` with its default
//! label set, the union of the gold and the predicted labels:
//! - a class that is in gold but never predicted has precision 0/0, taken as 0, so F1 = 0;
//! - a class that is predicted but absent from gold has recall 0/0, taken as 0, so F1 = 0,
//!   and it counts in the mean (predicting a label that does not exist is penalised);
//! - a class in neither does not count.

use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// A metric of a task: a name and a score over aligned gold and predicted answers.
pub trait Metric: Send + Sync {
    fn name(&self) -> &'static str;
    fn score(&self, gold: &[&str], pred: &[&str]) -> Result<f64>;
}

pub struct Accuracy;
pub struct MacroF1;

impl Metric for Accuracy {
    fn name(&self) -> &'static str {
        "accuracy"
    }
    fn score(&self, gold: &[&str], pred: &[&str]) -> Result<f64> {
        accuracy(gold, pred)
    }
}

impl Metric for MacroF1 {
    fn name(&self) -> &'static str {
        "macro_f1"
    }
    fn score(&self, gold: &[&str], pred: &[&str]) -> Result<f64> {
        macro_f1(gold, pred)
    }
}

/// The metrics of text classification, in report order.
pub fn classification_metrics() -> Vec<Box<dyn Metric>> {
    vec![Box::new(Accuracy), Box::new(MacroF1)]
}

/// Every metric of the list, as (name, value).
pub fn score_all(
    metrics: &[Box<dyn Metric>],
    gold: &[&str],
    pred: &[&str],
) -> Result<Vec<(String, f64)>> {
    metrics
        .iter()
        .map(|m| Ok((m.name().to_string(), m.score(gold, pred)?)))
        .collect()
}

fn check(gold: &[&str], pred: &[&str]) -> Result<()> {
    if gold.len() != pred.len() {
        bail!(
            "cannot score {} predictions against {} gold labels",
            pred.len(),
            gold.len()
        );
    }
    if gold.is_empty() {
        bail!("cannot score an empty set of predictions");
    }
    Ok(())
}

/// Fraction of predictions equal to the gold label.
pub fn accuracy(gold: &[&str], pred: &[&str]) -> Result<f64> {
    check(gold, pred)?;
    let right = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    Ok(right as f64 / gold.len() as f64)
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold examples of this class.
    pub support: usize,
}

/// Per-class scores over the union of gold and predicted labels, sorted by label; 0/0 is 0.
pub fn per_class(gold: &[&str], pred: &[&str]) -> Result<Vec<ClassScore>> {
    check(gold, pred)?;
    // label -> (true positives, predicted, gold)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (g, p) in gold.iter().zip(pred) {
        counts.entry(g).or_default().2 += 1;
        counts.entry(p).or_default().1 += 1;
        if g == p {
            counts.entry(g).or_default().0 += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(counts
        .into_iter()
        .map(|(label, (tp, predicted, support))| {
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            // F1 = 2tp / (predicted + gold): equal to 2PR/(P+R), and 0 when both are 0.
            let f1 = ratio(2 * tp, predicted + support);
            ClassScore {
                label: label.to_string(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect())
}

/// Unweighted mean of the per-class F1 (see the module docs for the label set and 0/0).
pub fn macro_f1(gold: &[&str], pred: &[&str]) -> Result<f64> {
    let classes = per_class(gold, pred)?;
    Ok(classes.iter().map(|c| c.f1).sum::<f64>() / classes.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<String> {
        s.chars().map(String::from).collect()
    }

    fn score(gold: &str, pred: &str) -> (f64, f64, Vec<ClassScore>) {
        let (g, p) = (chars(gold), chars(pred));
        let g: Vec<&str> = g.iter().map(String::as_str).collect();
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        (
            accuracy(&g, &p).expect("accuracy"),
            macro_f1(&g, &p).expect("f1"),
            per_class(&g, &p).expect("per class"),
        )
    }

    #[test]
    fn class_never_predicted() {
        // gold a a a b b c / pred a a b b a a. Confusion (rows gold, cols pred):
        //   a: [2 1 0]  b: [1 1 0]  c: [1 0 0]
        // a: P 2/4 R 2/3 F1 4/7; b: P 1/2 R 1/2 F1 1/2; c: never predicted, F1 0.
        let (acc, f1, classes) = score("aaabbc", "aabbaa");
        assert!((acc - 0.5).abs() < 1e-15);
        assert!((f1 - (4.0 / 7.0 + 0.5 + 0.0) / 3.0).abs() < 1e-15);
        assert!((classes[0].precision - 0.5).abs() < 1e-15);
        assert!((classes[0].recall - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(classes[2].precision, 0.0);
        assert_eq!(classes[2].support, 1);
    }

    #[test]
    fn class_absent_from_gold_counts_as_zero() {
        // gold a a b b / pred a d b b: a F1 2/3, b F1 1, d (predicted, not in gold) F1 0.
        // scikit-learn f1_score(average="macro", zero_division=0) gives 5/9 as well.
        let (acc, f1, classes) = score("aabb", "adbb");
        assert!((acc - 0.75).abs() < 1e-15);
        assert!((f1 - 5.0 / 9.0).abs() < 1e-15);
        assert_eq!(classes.len(), 3);
        assert_eq!(classes[2].label, "d");
        assert_eq!(classes[2].support, 0);
    }

    #[test]
    fn perfect_and_mismatched_inputs() {
        let (acc, f1, _) = score("abc", "abc");
        assert_eq!((acc, f1), (1.0, 1.0));
        assert!(accuracy(&["a"], &[]).is_err());
        assert!(macro_f1(&[], &[]).is_err());
        let all = score_all(&classification_metrics(), &["a", "b"], &["a", "a"]).expect("scores");
        assert_eq!(all[0], ("accuracy".to_string(), 0.5));
        // a: P 1/2 R 1 F1 2/3; b: F1 0 -> 1/3.
        assert_eq!(all[1].0, "macro_f1");
        assert!((all[1].1 - 1.0 / 3.0).abs() < 1e-15);
    }
}
