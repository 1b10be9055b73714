//! Seeded samples and train/test splits, stratified by label.
//!
//! Randomness is ChaCha8 seeded with `seed` and our own Fisher-Yates shuffle on its `next_u64`
//! stream, so a seed gives the same indices on every platform and every `rand` version.
//! Class quotas use the largest-remainder method, so each class gets its share of `n` to
//! within one example and the total is exactly `n`.

use anyhow::{bail, Result};
use powerhungry_tasks::Example;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// A seeded sample of a dataset: indices into the examples, ascending (dataset order).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub indices: Vec<usize>,
    pub seed: u64,
    /// What was asked for; `indices.len()` is smaller only when the dataset is smaller.
    pub requested: usize,
    /// Set when fewer examples exist than were requested (all were taken).
    pub warning: Option<String>,
}

/// A seeded train/test split: indices into the examples, each ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
    pub seed: u64,
}

/// Draw `n` examples, stratified by gold label (unlabelled examples form one stratum of their
/// own). When `n` is at least the number of examples, all are taken and `warning` says so
/// when `n` was larger.
pub fn stratified_sample(examples: &[Example], n: usize, seed: u64) -> Result<Sample> {
    if n == 0 {
        bail!("sample size must be at least 1");
    }
    if examples.is_empty() {
        bail!("cannot sample from an empty dataset");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (indices, warning) = if n >= examples.len() {
        let warning = (n > examples.len()).then(|| {
            format!(
                "asked for {n} examples but the dataset has {}; all {} are used",
                examples.len(),
                examples.len()
            )
        });
        ((0..examples.len()).collect(), warning)
    } else {
        (draw(examples, n, &mut rng).0, None)
    };
    Ok(Sample {
        indices,
        seed,
        requested: n,
        warning,
    })
}

/// Split into train and test with `test_fraction` of the examples (rounded to the nearest
/// whole example) in test; stratified by label when `stratified`.
pub fn train_test_split(
    examples: &[Example],
    test_fraction: f64,
    seed: u64,
    stratified: bool,
) -> Result<Split> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        bail!("test fraction must be strictly between 0 and 1, got {test_fraction}");
    }
    let total = examples.len();
    let n_test = (total as f64 * test_fraction).round() as usize;
    if n_test == 0 || n_test == total {
        bail!(
            "a test fraction of {test_fraction} of {total} examples leaves an empty train or test set"
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (test, train) = if stratified {
        draw(examples, n_test, &mut rng)
    } else {
        let mut all: Vec<usize> = (0..total).collect();
        shuffle(&mut all, &mut rng);
        let mut test = all[..n_test].to_vec();
        let mut train = all[n_test..].to_vec();
        test.sort_unstable();
        train.sort_unstable();
        (test, train)
    };
    Ok(Split { train, test, seed })
}

/// Stratified draw of `n` of `examples`: (chosen, rest), each ascending.
fn draw(examples: &[Example], n: usize, rng: &mut ChaCha8Rng) -> (Vec<usize>, Vec<usize>) {
    // Strata in a fixed order (by label; unlabelled first) so the draw depends only on the seed.
    let mut strata: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        strata.entry(e.label.as_deref()).or_default().push(i);
    }
    let sizes: Vec<usize> = strata.values().map(Vec::len).collect();
    let quotas = largest_remainder(&sizes, n);
    let mut chosen = Vec::with_capacity(n);
    let mut rest = Vec::with_capacity(examples.len() - n);
    for (members, quota) in strata.into_values().zip(quotas) {
        let mut members = members;
        shuffle(&mut members, rng);
        chosen.extend_from_slice(&members[..quota]);
        rest.extend_from_slice(&members[quota..]);
    }
    chosen.sort_unstable();
    rest.sort_unstable();
    (chosen, rest)
}

/// Share `n` among groups proportionally to `sizes`: floors first, then one more to the groups
/// with the largest fractional parts (ties: the earlier group). Sum is exactly `n` when
/// `n <= sum(sizes)`.
pub(crate) fn largest_remainder(sizes: &[usize], n: usize) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return vec![0; sizes.len()];
    }
    // Exact integer arithmetic: share_i = n * size_i / total, remainder compared as integers.
    let mut quotas: Vec<usize> = sizes.iter().map(|&s| n * s / total).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((n * sizes[i]) % total));
    let mut left = n - quotas.iter().sum::<usize>();
    for i in order {
        if left == 0 {
            break;
        }
        if quotas[i] < sizes[i] {
            quotas[i] += 1;
            left -= 1;
        }
    }
    quotas
}

/// Fisher-Yates with an unbiased bounded draw (rejection sampling), on ChaCha8's u64 stream.
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    // Reject the top partial zone so every value is equally likely.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_hand_computed() {
        // 10 of [5, 3, 2] (total 10): exact.
        assert_eq!(largest_remainder(&[5, 3, 2], 10), vec![5, 3, 2]);
        // 4 of [5, 3, 2]: shares 2.0, 1.2, 0.8 -> floors 2,1,0, one left to the 0.8 group.
        assert_eq!(largest_remainder(&[5, 3, 2], 4), vec![2, 1, 1]);
        // 3 of [1, 1, 1, 1]: shares 0.75 each -> ties go to the earlier groups.
        assert_eq!(largest_remainder(&[1, 1, 1, 1], 3), vec![1, 1, 1, 0]);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut v, &mut rng);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
