//! Image captioning: corpus BLEU as pycocoevalcap 1.2 computes it (`Bleu(4)`, which is David
//! Chiang's `bleu_scorer.py` with `option='closest'`), on captions tokenised by
//! [`ptb_tokenize`](super::ptb_tokenize):
//!
//! - per caption: clipped n-gram matches (each n-gram counted at most as often as in the
//!   reference where it is most frequent), the number of n-grams of the caption
//!   (`max(0, len - n + 1)`), and the *closest* reference length (smallest `|ref - len|`, the
//!   shorter on a tie);
//! - corpus: the sums of those; BLEU-n is the geometric mean of `(matches + 1e-15) /
//!   (ngrams + 1e-9)` over orders 1..n, computed as pycocoevalcap does (a running product,
//!   then the `1/n`-th power); times the brevity penalty `exp(1 - 1/r)` where `r = (len +
//!   1e-15) / (ref_len + 1e-9) < 1`. No other smoothing: a corpus with no matching 4-gram scores
//!   about 1e-9 to 1e-13, not 0, exactly as the reference does.

use std::collections::HashMap;

/// BLEU-1..4 of tokenised captions against their tokenised references (one list of
/// references per caption). Captions without a reference are not scored (pycocoevalcap
/// refuses them; [`score_captions`](super::score_task) names them as errors first).
pub fn bleu(hyps: &[Vec<String>], refs: &[Vec<Vec<String>>]) -> [f64; 4] {
    const N: usize = 4;
    let small = 1e-9;
    let tiny = 1e-15;
    let (mut testlen, mut reflen) = (0usize, 0usize);
    let mut guess = [0usize; N];
    let mut correct = [0usize; N];
    for (hyp, rs) in hyps.iter().zip(refs) {
        if rs.is_empty() {
            continue;
        }
        let mut maxcounts: HashMap<&[String], usize> = HashMap::new();
        let mut lens = Vec::with_capacity(rs.len());
        for r in rs {
            lens.push(r.len());
            for (ng, c) in ngram_counts(r, N) {
                let e = maxcounts.entry(ng).or_insert(0);
                *e = (*e).max(c);
            }
        }
        let tl = hyp.len();
        // min((abs(l - testlen), l) for l in reflen)[1]
        let closest = lens
            .iter()
            .map(|&l| (l.abs_diff(tl), l))
            .min()
            .map_or(0, |(_, l)| l);
        testlen += tl;
        reflen += closest;
        for (k, g) in guess.iter_mut().enumerate() {
            *g += (tl + 1).saturating_sub(k + 1);
        }
        for (ng, c) in ngram_counts(hyp, N) {
            correct[ng.len() - 1] += c.min(maxcounts.get(ng).copied().unwrap_or(0));
        }
    }
    let mut bleus = [0.0; N];
    let mut b = 1.0f64;
    for k in 0..N {
        b *= (correct[k] as f64 + tiny) / (guess[k] as f64 + small);
        bleus[k] = b.powf(1.0 / (k + 1) as f64);
    }
    let ratio = (testlen as f64 + tiny) / (reflen as f64 + small);
    if ratio < 1.0 {
        for v in bleus.iter_mut() {
            *v *= (1.0 - 1.0 / ratio).exp();
        }
    }
    bleus
}

/// N-gram counts of orders 1..=n, in order of first occurrence within each order (the order a
/// Python dict filled by `precook` iterates in, which CIDEr's sums depend on).
pub(crate) fn ngram_counts(words: &[String], n: usize) -> Vec<(&[String], usize)> {
    let mut out: Vec<(&[String], usize)> = Vec::new();
    let mut index: HashMap<&[String], usize> = HashMap::new();
    for k in 1..=n {
        if words.len() < k {
            break;
        }
        for i in 0..=(words.len() - k) {
            let ng = &words[i..i + k];
            match index.get(ng) {
                Some(&j) => out[j].1 += 1,
                None => {
                    index.insert(ng, out.len());
                    out.push((ng, 1));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn identical_caption_is_one_and_empty_is_zero() {
        let refs = vec![vec![w("a man riding a horse on a beach")]];
        let b = bleu(&[w("a man riding a horse on a beach")], &refs);
        assert!((b[3] - 1.0).abs() < 1e-9, "{b:?}");
        let b = bleu(&[Vec::new()], &refs);
        assert!(b[3] < 1e-20 && b[3] >= 0.0, "{b:?}");
        assert_eq!(bleu(&[], &[]), [bleu(&[], &[])[0]; 4]);
        assert!(bleu(&[], &[]).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn closest_reference_length_prefers_the_shorter_on_a_tie() {
        // caption of 4 words, references of 3 and 5: reflen 3 (no brevity penalty)
        let refs = vec![vec![w("a b c"), w("a b c d e")]];
        let b = bleu(&[w("a b c d")], &refs);
        let b3 = bleu(&[w("a b c d")], &[vec![w("a b c d e"), w("a b c")]]);
        assert_eq!(b, b3);
        assert!(b[0] > 0.99, "{b:?}");
    }
}
