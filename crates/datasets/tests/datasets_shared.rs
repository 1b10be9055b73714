//! The real datasets of ../shared/datasets load as their READMEs describe (counts per label,
//! label names, decoding). A missing shared folder fails (crates/testkit has the rule); the
//! project's own copy of rt-polarity (data/rt-polarity) is always checked.

use powerhungry_datasets::{load_dataset, DatasetSpec, LoadedDataset};
use powerhungry_tasks::{Example, Input};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// ../shared/datasets (or $POWERHUNGRY_SHARED/datasets): missing fails the test (testkit).
fn shared() -> Option<PathBuf> {
    powerhungry_testkit::shared("datasets")
}

fn load(src: &str) -> LoadedDataset {
    let spec: DatasetSpec = toml::from_str(src).expect("spec");
    load_dataset(&spec).unwrap_or_else(|e| panic!("{src}: {e:#}"))
}

fn counts(data: &LoadedDataset) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in &data.examples {
        *m.entry(e.label.clone().unwrap_or_default()).or_default() += 1;
    }
    m
}

fn text(e: &Example) -> &str {
    match &e.input {
        Input::Text(t) => t,
        other => panic!("not a text input: {other:?}"),
    }
}

fn path(p: PathBuf) -> String {
    format!("path = {:?}\n", p.display().to_string())
}

#[test]
fn rt_polarity_project_copy_decodes_as_windows_1252() {
    let data = load(&format!(
        "{}encoding = \"latin-1\"",
        path(repo().join("data/rt-polarity"))
    ));
    assert_eq!(
        counts(&data),
        BTreeMap::from([("neg".into(), 5331), ("pos".into(), 5331)])
    );
    assert_eq!(data.report.undecodable_lines, 0);
    assert_eq!(data.report.skipped_empty, 0);
    // Nothing became a C1 control character or U+FFFD.
    assert!(data.examples.iter().all(|e| !text(e)
        .chars()
        .any(|c| ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{FFFD}')));
    let all: String = data
        .examples
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join("\n");
    // 0x85, 0x96, 0x97 and 0xE9 of the file, as Windows-1252 means them.
    for (ch, n) in [('…', 23), ('–', 17), ('—', 13), ('é', 99)] {
        assert_eq!(all.matches(ch).count(), n, "{ch}");
    }
    assert_eq!(data.examples[0].id, "rt-polarity.neg:1");
    assert!(text(&data.examples[0]).starts_with("simplistic , silly and tedious"));

    // Read as UTF-8 by mistake: the 202 Latin-1 lines are kept, and counted.
    let utf8 = load(&path(repo().join("data/rt-polarity")));
    assert_eq!(utf8.examples.len(), 10_662);
    assert_eq!(utf8.report.undecodable_lines, 202);
}

#[test]
fn sst2_dev_tsv() {
    let Some(s) = shared() else { return };
    let data = load(&format!(
        "{}label_names = [\"negative\", \"positive\"]",
        path(s.join("sst2/dev.tsv"))
    ));
    assert_eq!(
        counts(&data),
        BTreeMap::from([("negative".into(), 428), ("positive".into(), 444)])
    );
    assert_eq!(
        text(&data.examples[0]),
        "it 's a charming and often affecting journey . "
    );
}

#[test]
fn imdb_label_dirs() {
    let Some(s) = shared() else { return };
    let data = load(&format!("{}split = \"test\"", path(s.join("imdb"))));
    assert_eq!(
        counts(&data),
        BTreeMap::from([("neg".into(), 250), ("pos".into(), 250)])
    );
    assert_eq!(data.report.undecodable_lines, 0);
}

#[test]
fn ag_news_csv_without_header() {
    let Some(s) = shared() else { return };
    let data = load(&format!(
        "{}has_header = false\ntext_column = [1, 2]\nlabel_column = 0\nlabel_names_file = {:?}\nlabel_index_base = 1",
        path(s.join("ag_news/test.csv")),
        s.join("ag_news/classes.txt").display().to_string()
    ));
    assert_eq!(data.examples.len(), 7600);
    assert!(counts(&data).values().all(|&n| n == 1900));
    assert_eq!(data.labels, ["World", "Sports", "Business", "Sci/Tech"]);
    assert_eq!(data.examples[0].label.as_deref(), Some("Business"));
    assert!(text(&data.examples[0])
        .starts_with("Fears for T N pension after talks Unions representing"));
}

#[test]
fn emotion_semicolon_file() {
    let Some(s) = shared() else { return };
    let data = load(&format!(
        "{}format = \"csv\"\ndelimiter = \";\"\nquoting = false\nlabel_column = \"label_name\"",
        path(s.join("emotion/test.txt"))
    ));
    let want: BTreeMap<String, usize> = [
        ("sadness", 581),
        ("joy", 695),
        ("love", 159),
        ("anger", 275),
        ("fear", 224),
        ("surprise", 66),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(counts(&data), want);
    assert_eq!(data.report.header_lines, 1);
    assert_eq!(
        text(&data.examples[0]),
        "im feeling rather rotten so im not very ambitious right now"
    );
}

#[test]
fn shared_rt_polarity_is_the_project_copy() {
    let Some(s) = shared() else { return };
    let a = load(&format!(
        "{}encoding = \"latin-1\"",
        path(s.join("rt-polarity"))
    ));
    let b = load(&format!(
        "{}encoding = \"latin-1\"",
        path(repo().join("data/rt-polarity"))
    ));
    assert_eq!(a.examples, b.examples);
}
