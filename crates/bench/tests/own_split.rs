//! Datasets with their own train and test files: the measured sample comes from the test file
//! only, the models learn from the train file only, nothing is split again, and the split used
//! is said. A `source` with `split = "..."` is still split by the harness, and says so.

use powerhungry_bench::plan::prepare_dataset;
use powerhungry_bench::suite::{parse, Suite};
use std::collections::HashSet;
use std::path::Path;

fn suite(datasets: &str) -> Result<Suite, String> {
    let text = format!(
        "name = \"s\"\n[protocol]\ninferences = 1000\nrepetitions = 1\nwarmup = 2\n\
         [[models]]\nname = \"bow\"\nbackend = \"traditional\"\nkind = \"bow-lr\"\n{datasets}"
    );
    parse(&text, "suites/x.toml").map_err(|e| e.to_string())
}

/// A folder with train.tsv (6 rows) and test.tsv (4 rows), each text naming its file.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, n: usize| {
        let mut s = String::from("text\tlabel\n");
        for i in 0..n {
            s.push_str(&format!("{name} row {i}\t{}\n", ["pos", "neg"][i % 2]));
        }
        std::fs::write(dir.path().join(format!("{name}.tsv")), s).expect("write");
    };
    write("train", 6);
    write("test", 4);
    dir
}

#[test]
fn own_train_and_test_files_are_used_as_they_are() {
    let dir = folder();
    let s = suite(
        "[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n\
         [datasets.train]\npath = \"train.tsv\"\n[datasets.test]\npath = \"test.tsv\"\n",
    )
    .expect("suite parses");
    let p = prepare_dataset(&s.datasets[0], "{}".into(), &s.protocol, dir.path()).expect("ok");
    let texts = |idx: &[usize]| -> Vec<String> {
        p.examples(idx)
            .iter()
            .map(|e| e.input.as_text().unwrap_or_default().to_string())
            .collect()
    };
    // Every test row is measured (1,000 asked, 4 there), none of the training rows.
    let sample = texts(&p.sample);
    assert_eq!(sample.len(), 4);
    assert!(
        sample.iter().all(|t| t.starts_with("test row")),
        "{sample:?}"
    );
    let train = texts(&p.train);
    assert_eq!(train.len(), 6);
    assert!(
        train.iter().all(|t| t.starts_with("train row")),
        "{train:?}"
    );
    // Warm-up on training rows; ids never collide between the files.
    assert!(texts(&p.warmup).iter().all(|t| t.starts_with("train row")));
    let ids: HashSet<String> = p.loaded.examples.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), 10);
    assert!(p.split.contains("own split"), "{}", p.split);
    assert!(p.split.contains("test.tsv") && p.split.contains("train.tsv"));
    assert_eq!(p.record().sample_ids.len(), 4);
}

#[test]
fn a_test_file_alone_warms_up_outside_the_sample_or_says_so() {
    let dir = folder();
    let s = suite(
        "[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n\
         [datasets.test]\npath = \"test.tsv\"\n",
    )
    .expect("suite parses");
    let p = prepare_dataset(&s.datasets[0], "{}".into(), &s.protocol, dir.path()).expect("ok");
    assert!(p.train.is_empty());
    assert_eq!(p.sample.len(), 4);
    // All four rows are sampled: the warm-up reuses them and a note says so.
    assert_eq!(p.warmup.len(), 2);
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("warm-up") && n.contains("reuse")),
        "{:?}",
        p.notes
    );
}

#[test]
fn a_source_with_a_split_name_is_split_again_and_says_so() {
    let dir = folder();
    let s = suite(
        "[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n\
         [datasets.source]\npath = \"test.tsv\"\nsplit = \"test\"\n",
    )
    .expect("suite parses");
    let p = prepare_dataset(
        &s.datasets[0],
        "{}".into(),
        &s.protocol,
        Path::new(dir.path()),
    )
    .expect("ok");
    assert_eq!(p.sample.len() + p.train.len(), 4);
    assert!(p.split.contains("split by the harness"), "{}", p.split);
    assert!(
        p.notes.iter().any(|n| n.contains("[datasets.train]")),
        "{:?}",
        p.notes
    );
}

#[test]
fn train_without_test_or_both_shapes_are_refused_naming_the_dataset() {
    let e = suite(
        "[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n\
         [datasets.train]\npath = \"train.tsv\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("datasets[0]") && e.contains("`train` without `test`"),
        "{e}"
    );
    let e = suite(
        "[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n\
         [datasets.source]\npath = \"a.tsv\"\n[datasets.test]\npath = \"test.tsv\"\n",
    )
    .unwrap_err();
    assert!(e.contains("not both"), "{e}");
    let e = suite("[[datasets]]\nname = \"d\"\ntask = \"text-classification\"\n").unwrap_err();
    assert!(e.contains("expected `source`"), "{e}");
}
