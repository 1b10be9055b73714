//! Seeded, stratified samples and splits: sizes and class shares computed by hand,
//! determinism, and the rules for asking more than there is.

use powerhungry_datasets::{stratified_sample, train_test_split};
use powerhungry_tasks::{Example, Input};
use std::collections::BTreeMap;

fn dataset(classes: &[(&str, usize)]) -> Vec<Example> {
    let mut out = Vec::new();
    for (label, n) in classes {
        for i in 0..*n {
            out.push(Example {
                id: format!("{label}{i}"),
                input: Input::Text(format!("{label} {i}")),
                label: Some(label.to_string()),
                gold: None,
            });
        }
    }
    out
}

fn shares(data: &[Example], idx: &[usize]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for &i in idx {
        *m.entry(data[i].label.clone().unwrap_or_default())
            .or_default() += 1;
    }
    m
}

#[test]
fn sample_is_stratified_by_largest_remainder() {
    // 60 / 30 / 10 of 100; n = 15 -> exact shares 9, 4.5, 1.5: floors 9, 4, 1 and the one
    // left goes to the first of the tied remainders (label order: a, b, c) -> b.
    let data = dataset(&[("a", 60), ("b", 30), ("c", 10)]);
    let s = stratified_sample(&data, 15, 1).expect("sample");
    assert_eq!(s.indices.len(), 15);
    assert_eq!(
        shares(&data, &s.indices),
        BTreeMap::from([("a".into(), 9), ("b".into(), 5), ("c".into(), 1)])
    );
    assert!(
        s.indices.windows(2).all(|w| w[0] < w[1]),
        "ascending, no repeats"
    );
    assert!(s.warning.is_none());
}

#[test]
fn same_seed_same_sample_other_seed_other_sample() {
    let data = dataset(&[("pos", 500), ("neg", 500)]);
    let a = stratified_sample(&data, 100, 42).expect("sample");
    let b = stratified_sample(&data, 100, 42).expect("sample");
    let c = stratified_sample(&data, 100, 43).expect("sample");
    assert_eq!(a, b);
    assert_ne!(a.indices, c.indices);
    assert_eq!(
        shares(&data, &a.indices),
        BTreeMap::from([("neg".into(), 50), ("pos".into(), 50)])
    );
}

#[test]
fn asking_for_more_than_there_is_takes_all_with_a_warning() {
    let data = dataset(&[("x", 3), ("y", 2)]);
    let s = stratified_sample(&data, 1000, 7).expect("sample");
    assert_eq!(s.indices, vec![0, 1, 2, 3, 4]);
    assert_eq!(s.requested, 1000);
    let w = s.warning.expect("warning");
    assert!(w.contains("1000") && w.contains('5'), "{w}");
    // Exactly all: no warning.
    assert!(stratified_sample(&data, 5, 7)
        .expect("sample")
        .warning
        .is_none());
    assert!(stratified_sample(&data, 0, 7).is_err());
    assert!(stratified_sample(&[], 1, 7).is_err());
}

#[test]
fn unlabelled_examples_are_sampled_too() {
    let mut data = dataset(&[("x", 4)]);
    for e in data.iter_mut() {
        e.label = None;
    }
    let s = stratified_sample(&data, 2, 3).expect("sample");
    assert_eq!(s.indices.len(), 2);
}

#[test]
fn split_halves_each_class() {
    // 7 pos + 5 neg, half to test: 6 in test. In label order (neg, pos) the shares are 2.5 and
    // 3.5: floors 2 and 3, equal remainders, the one left goes to neg -> 3 + 3.
    let data = dataset(&[("pos", 7), ("neg", 5)]);
    let s = train_test_split(&data, 0.5, 9, true).expect("split");
    assert_eq!(s.test.len(), 6);
    assert_eq!(s.train.len(), 6);
    assert_eq!(
        shares(&data, &s.test),
        BTreeMap::from([("neg".into(), 3), ("pos".into(), 3)])
    );
    let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..12).collect::<Vec<_>>(), "disjoint and complete");
    assert_eq!(s, train_test_split(&data, 0.5, 9, true).expect("split"));

    let u = train_test_split(&data, 0.25, 9, false).expect("split");
    assert_eq!(u.test.len(), 3);
    assert_eq!(u.train.len(), 9);
}

#[test]
fn split_rejects_impossible_fractions() {
    let data = dataset(&[("a", 3)]);
    assert!(train_test_split(&data, 0.0, 1, true).is_err());
    assert!(train_test_split(&data, 1.0, 1, true).is_err());
    assert!(
        train_test_split(&data, 0.1, 1, true).is_err(),
        "0.3 rounds to no test example"
    );
    assert!(train_test_split(&data, f64::NAN, 1, true).is_err());
}

proptest::proptest! {
    /// Any class sizes and any n: exactly min(n, N) distinct in-range indices, each class
    /// within one example of its proportional share, and train/test a partition.
    #[test]
    fn samples_and_splits_keep_their_promises(
        sizes in proptest::collection::vec(1usize..40, 1..6),
        n in 1usize..150,
        seed in 0u64..1000,
        frac in 0.05f64..0.95,
    ) {
        let names = ["a", "b", "c", "d", "e", "f"];
        let classes: Vec<(&str, usize)> = names.iter().copied().zip(sizes.iter().copied()).collect();
        let data = dataset(&classes);
        let total = data.len();
        let s = stratified_sample(&data, n, seed).expect("sample");
        proptest::prop_assert_eq!(s.indices.len(), n.min(total));
        proptest::prop_assert!(s.indices.windows(2).all(|w| w[0] < w[1]));
        proptest::prop_assert!(s.indices.iter().all(|&i| i < total));
        let got = shares(&data, &s.indices);
        for (label, size) in &classes {
            let share = n.min(total) as f64 * *size as f64 / total as f64;
            let k = *got.get(*label).unwrap_or(&0) as f64;
            proptest::prop_assert!((k - share).abs() < 1.0 + 1e-9, "{} {} vs {}", label, k, share);
        }
        if let Ok(split) = train_test_split(&data, frac, seed, true) {
            let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
            all.sort_unstable();
            proptest::prop_assert_eq!(all, (0..total).collect::<Vec<_>>());
            proptest::prop_assert_eq!(split.test.len(), (total as f64 * frac).round() as usize);
        }
    }
}
