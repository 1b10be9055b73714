//! Image captioning: CIDEr-D as pycocoevalcap 1.2 computes it (`Cider()`, Vedantam et al.
//! with the "D" changes), on captions tokenised by [`ptb_tokenize`](super::ptb_tokenize):
//!
//! - document frequencies: for each n-gram (orders 1..4), the number of *images* among those
//!   scored whose references contain it; idf = `ln(images) - ln(max(1, df))` (so the idf comes
//!   from the evaluated set itself: one image gives 0 everywhere, CIDEr 0);
//! - a sentence is a tf-idf vector per order; the score of a caption against one reference is,
//!   per order, the clipped cosine `sum min(c, r) * r / (|c| |r|)` times the Gaussian length
//!   penalty `e^(-delta^2 / (2 * 6^2))`, averaged over the 4 orders; averaged over the image's
//!   references; times 10; the corpus score is the mean over images.
//! - delta is pycocoevalcap's: the difference of the sentences' *bigram* counts (its `length`
//!   counts n-grams of index 1), which is the difference of lengths except when one side has
//!   no word and the other one word.
//!
//! Sums run in the order pycocoevalcap's dicts iterate (first occurrence), powers as Python's
//! `**`; the mean over images is numpy's pairwise mean.

use super::bleu::ngram_counts;
use super::coco_map::numpy_mean;
use std::collections::HashMap;

const N: usize = 4;
const SIGMA: f64 = 6.0;

/// CIDEr-D of tokenised captions against their tokenised references. Per-image scores are
/// finite; 0 for an empty corpus (pycocoevalcap fails on one, as on all-empty references).
pub fn cider_d(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> f64 {
    let scores = cider_d_per_image(hyps, refs);
    if scores.is_empty() {
        return 0.0;
    }
    numpy_mean(&scores)
}

/// The score of each image, in order.
pub fn cider_d_per_image(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> Vec<f64> {
    let n_images = hyps.len().min(refs.len());
    let mut df: HashMap<&[String], f64> = HashMap::new();
    for rs in &refs[..n_images] {
        let mut seen: std::collections::HashSet<&[String]> = Default::default();
        for r in rs {
            for (ng, _) in ngram_counts(r, N) {
                seen.insert(ng);
            }
        }
        for ng in seen {
            *df.entry(ng).or_insert(0.0) += 1.0;
        }
    }
    let ref_len = (n_images as f64).ln();
    let mut scores = Vec::with_capacity(n_images);
    for (hyp, rs) in hyps.iter().zip(refs) {
        if rs.is_empty() {
            scores.push(0.0);
            continue;
        }
        let h = to_vec(hyp, &df, ref_len);
        let mut score = [0.0f64; N];
        for r in rs {
            let r = to_vec(r, &df, ref_len);
            let lookup: [HashMap<&[String], f64>; N] =
                std::array::from_fn(|n| r.vec[n].iter().copied().collect());
            let delta = h.length as f64 - r.length as f64;
            for n in 0..N {
                let mut val = 0.0f64;
                for &(ng, vh) in &h.vec[n] {
                    let vr = lookup[n].get(ng).copied().unwrap_or(0.0);
                    val += vh.min(vr) * vr;
                }
                if h.norm[n] != 0.0 && r.norm[n] != 0.0 {
                    val /= h.norm[n] * r.norm[n];
                }
                val *= std::f64::consts::E.powf(-(delta.powf(2.0)) / (2.0 * SIGMA.powf(2.0)));
                score[n] += val;
            }
        }
        let mut avg = numpy_mean(&score);
        avg /= rs.len() as f64;
        avg *= 10.0;
        scores.push(if avg.is_finite() { avg } else { 0.0 });
    }
    scores
}

/// pycocoevalcap's `counts2vec`.
fn to_vec<'a>(words: &'a [String], df: &HashMap<&[String], f64>, ref_len: f64) -> Vec_<'a> {
    let mut vec: [Vec<(&[String], f64)>; N] = Default::default();
    let mut norm = [0.0f64; N];
    let mut length = 0usize;
    for (ng, tf) in ngram_counts(words, N) {
        let d = df.get(ng).copied().unwrap_or(0.0).max(1.0).ln();
        let n = ng.len() - 1;
        let v = tf as f64 * (ref_len - d);
        vec[n].push((ng, v));
        norm[n] += v.powf(2.0);
        if n == 1 {
            length += tf;
        }
    }
    Vec_ {
        vec,
        norm: norm.map(f64::sqrt),
        length,
    }
}

/// A sentence's tf-idf vectors per order, their norms, and its bigram count.
struct Vec_<'a> {
    vec: [Vec<(&'a [String], f64)>; N],
    norm: [f64; N],
    length: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn one_image_scores_zero_and_empty_corpus_zero() {
        assert_eq!(cider_d(&[w("a dog")], &[vec![w("a dog")]]), 0.0);
        assert_eq!(cider_d(&[], &[]), 0.0);
    }

    #[test]
    fn a_matching_caption_beats_a_wrong_one() {
        let refs = vec![
            vec![w("a dog on a couch")],
            vec![w("a red bus on the street")],
        ];
        let good = cider_d(&[w("a dog on a couch"), w("a red bus")], &refs);
        let bad = cider_d(&[w("a cat"), w("a kitchen")], &refs);
        assert!(good > bad && bad >= 0.0, "{good} {bad}");
    }
}
