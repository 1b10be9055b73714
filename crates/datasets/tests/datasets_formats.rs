//! Every dataset format, its column mapping and its errors, on small files written here
//! (and one Parquet file written by pyarrow: testdata/datasets/make_parquet.py).

use powerhungry_datasets::{load_dataset, Column, DatasetSpec, Format};
use powerhungry_tasks::{Example, Input};
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, bytes).expect("write");
    p
}

fn text(e: &Example) -> &str {
    match &e.input {
        Input::Text(t) => t,
        other => panic!("not a text input: {other:?}"),
    }
}

fn spec_toml(path: &Path, rest: &str) -> DatasetSpec {
    let src = format!("path = {:?}\n{rest}", path.display().to_string());
    toml::from_str(&src).expect("spec parses")
}

fn err(spec: &DatasetSpec) -> String {
    format!("{:#}", load_dataset(spec).expect_err("should fail"))
}

#[test]
fn csv_with_header_quotes_and_label_names() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "reviews.csv",
        b"id,sentence,label\nr1,\"good, really \"\"good\"\"\",1\nr2,\"two\nlines\",0\nr3,,1\n",
    );
    let spec = spec_toml(
        &p,
        "id_column = \"id\"\nlabel_names = [\"negative\", \"positive\"]",
    );
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(text(&data.examples[0]), "good, really \"good\"");
    assert_eq!(data.examples[0].id, "r1");
    assert_eq!(data.examples[0].label.as_deref(), Some("positive"));
    assert_eq!(text(&data.examples[1]), "two\nlines");
    assert_eq!(data.labels, ["negative", "positive"]);
    assert_eq!(data.report.skipped_empty, 1, "r3 has no text");
    assert_eq!(data.report.format, Some(Format::Csv));
}

#[test]
fn csv_without_header_by_position_with_joined_columns() {
    // AG News layout: class index 1-4, title, description; names in classes.txt.
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "test.csv",
        b"\"3\",\"Fears\",\"Unions say\"\n\"4\",\"Race\",\"Team sets date\"\n",
    );
    let names = write(
        d.path(),
        "classes.txt",
        b"World\nSports\nBusiness\nSci/Tech\n",
    );
    let spec = spec_toml(
        &p,
        &format!(
            "has_header = false\ntext_column = [1, 2]\ntext_separator = \". \"\nlabel_column = 0\n\
             label_names_file = {:?}\nlabel_index_base = 1",
            names.display().to_string()
        ),
    );
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(text(&data.examples[0]), "Fears. Unions say");
    assert_eq!(data.examples[0].label.as_deref(), Some("Business"));
    assert_eq!(data.examples[1].label.as_deref(), Some("Sci/Tech"));
    assert_eq!(data.examples[1].id, "test.csv:2");
    assert_eq!(data.labels, ["World", "Sports", "Business", "Sci/Tech"]);
    assert_eq!(
        spec.text_column.as_ref().map(|c| c.as_slice().to_vec()),
        Some(vec![Column::Index(1), Column::Index(2)])
    );
}

#[test]
fn semicolon_and_tab_files_with_bare_quotes() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "test.txt",
        b"text;label_name\ni feel \"fine\";joy\n",
    );
    let spec = spec_toml(
        &p,
        "format = \"csv\"\ndelimiter = \";\"\nquoting = false\nlabel_column = \"label_name\"",
    );
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(text(&data.examples[0]), "i feel \"fine\"");
    assert_eq!(data.examples[0].label.as_deref(), Some("joy"));
    assert_eq!(data.report.header_lines, 1);

    // TSV defaults: tab, no quoting (GLUE sentences hold bare quotes).
    let p = write(
        d.path(),
        "dev.tsv",
        b"sentence\tlabel\n\"quoted\" start \t1\n",
    );
    let data = load_dataset(&DatasetSpec::from_path(p)).expect("loads");
    assert_eq!(text(&data.examples[0]), "\"quoted\" start ");
    assert_eq!(data.examples[0].label.as_deref(), Some("1"));
}

#[test]
fn jsonl_with_integer_labels_and_errors_naming_line_and_key() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "data.jsonl",
        b"{\"text\": \"nice\", \"label\": 1, \"idx\": 7}\n\n{\"text\": \"meh\", \"label\": 0, \"idx\": 8}\n",
    );
    let spec = spec_toml(
        &p,
        "id_column = \"idx\"\nlabel_map = { \"0\" = \"neg\", \"1\" = \"pos\" }",
    );
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(data.examples[1].id, "8");
    assert_eq!(data.examples[1].label.as_deref(), Some("neg"));
    assert_eq!(data.report.skipped_empty, 1);

    let bad = write(
        d.path(),
        "bad.jsonl",
        b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n",
    );
    let e = err(&DatasetSpec::from_path(&bad));
    assert!(e.contains("bad.jsonl:2") && e.contains("\"label\""), "{e}");
    let bad = write(
        d.path(),
        "bad2.jsonl",
        b"{\"text\": \"a\"}\n{\"text\": \"b\"\n",
    );
    let e = err(&DatasetSpec::from_path(&bad));
    assert!(
        e.contains("bad2.jsonl:2") && e.contains("invalid JSON"),
        "{e}"
    );
}

#[test]
fn parquet_written_by_pyarrow_with_class_label_names() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/datasets/tiny_hf.parquet");
    let data = load_dataset(&spec_toml(&p, "id_column = \"idx\"")).expect("loads");
    // Row 13 has an empty text: skipped and counted.
    assert_eq!(data.examples.len(), 4);
    assert_eq!(data.report.skipped_empty, 1);
    assert_eq!(text(&data.examples[2]), "café crème — très bien");
    assert_eq!(data.examples[2].id, "12");
    // Names from the file's ClassLabel feature.
    assert_eq!(data.examples[0].label.as_deref(), Some("positive"));
    assert_eq!(data.examples[1].label.as_deref(), Some("negative"));
    assert_eq!(data.labels, ["negative", "positive"]);
    // A names list in the spec wins over the file's.
    let spec = spec_toml(&p, "label_names = [\"bad\", \"good\"]");
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(data.examples[0].label.as_deref(), Some("good"));
    assert_eq!(data.examples[0].id, "tiny_hf.parquet#0");

    let e = err(&spec_toml(&p, "text_column = \"review\""));
    assert!(
        e.contains("tiny_hf.parquet") && e.contains("`text_column`") && e.contains("review"),
        "{e}"
    );
}

#[test]
fn hub_cache_layout_with_split() {
    let cache = tempfile::tempdir().expect("tmp");
    let repo = cache.path().join("datasets--org--tiny");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    write(&repo, "refs/main", commit.as_bytes());
    let parquet = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/datasets/tiny_hf.parquet"),
    )
    .expect("fixture");
    let snap = repo.join("snapshots").join(commit);
    write(&snap, "data/test-00000-of-00001.parquet", &parquet);
    write(&snap, "data/train-00000-of-00002.parquet", b"not read");
    write(&snap, "data/train-00001-of-00002.parquet", b"not read");
    write(&snap, "README.md", b"card");
    let src = format!(
        "hub_id = \"org/tiny\"\ncache_dir = {:?}\nsplit = \"test\"",
        cache.path().display().to_string()
    );
    let spec: DatasetSpec = toml::from_str(&src).expect("spec");
    let data = load_dataset(&spec).expect("loads from the cache");
    assert_eq!(data.examples.len(), 4);
    assert!(data.report.files[0].ends_with("data/test-00000-of-00001.parquet"));

    // No split in a folder of several splits: say so.
    let spec = DatasetSpec {
        split: None,
        ..spec.clone()
    };
    let e = err(&spec);
    assert!(e.contains("set `split`"), "{e}");
    // An unknown split lists what exists.
    let e = err(&DatasetSpec {
        split: Some("validation".into()),
        ..spec.clone()
    });
    assert!(
        e.contains("validation") && e.contains("test-00000-of-00001.parquet"),
        "{e}"
    );
    // A dataset that is not cached: where we looked and how to get it.
    let e = err(&DatasetSpec {
        hub_id: Some("org/absent".into()),
        ..spec
    });
    assert!(
        e.contains("datasets--org--absent") && e.contains("huggingface-cli download"),
        "{e}"
    );
}

#[test]
fn latin1_label_files_decode_and_count_undecodable_lines() {
    let d = tempfile::tempdir().expect("tmp");
    // 0xE9 é, 0x85 …, 0x97 —; 0x81 is undefined in Windows-1252.
    write(
        d.path(),
        "reviews.pos",
        b"caf\xE9 au lait \x85 superb\n\nbold \x97 and bright\n",
    );
    write(d.path(), "reviews.neg", b"flat\nbroken \x81 byte\n");
    write(d.path(), "README.md", b"not a label");
    let spec = spec_toml(d.path(), "encoding = \"latin-1\"");
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(data.report.format, Some(Format::LabelFiles));
    let texts: Vec<&str> = data.examples.iter().map(text).collect();
    assert_eq!(
        texts,
        [
            "flat",
            "broken \u{FFFD} byte",
            "café au lait … superb",
            "bold — and bright"
        ]
    );
    let labels: Vec<&str> = data
        .examples
        .iter()
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert_eq!(labels, ["neg", "neg", "pos", "pos"]);
    assert_eq!(data.examples[3].id, "reviews.pos:3");
    assert_eq!(data.report.undecodable_lines, 1);
    assert!(
        data.report.undecodable_at[0].ends_with("reviews.neg:2"),
        "{:?}",
        data.report.undecodable_at
    );
    assert_eq!(data.report.skipped_empty, 1);
    assert!(data
        .report
        .summary()
        .contains("1 line(s) with undecodable bytes"));

    // Read as UTF-8 instead, the Latin-1 lines are kept, counted and located.
    let data = load_dataset(&DatasetSpec::from_path(d.path())).expect("loads");
    assert_eq!(data.report.undecodable_lines, 3);
    assert_eq!(data.examples.len(), 4);

    // `auto` says what it chose.
    let data = load_dataset(&spec_toml(d.path(), "encoding = \"auto\"")).expect("loads");
    assert_eq!(data.report.encoding, "auto (windows-1252)");
    assert_eq!(data.report.undecodable_lines, 1);

    // Renaming folder labels.
    let spec = spec_toml(
        d.path(),
        "encoding = \"latin-1\"\nlabel_map = { pos = \"positive\", neg = \"negative\" }",
    );
    assert_eq!(
        load_dataset(&spec).expect("loads").labels,
        ["negative", "positive"]
    );
}

#[test]
fn label_dirs_one_text_per_file_and_split_subfolder() {
    let d = tempfile::tempdir().expect("tmp");
    write(
        d.path(),
        "test/pos/0_9.txt",
        b"A fine film.<br />Loved it.\n",
    );
    write(d.path(), "test/neg/0_2.txt", b"Awful.");
    write(d.path(), "test/neg/1_1.txt", b"Dreadful.\n");
    let spec = spec_toml(d.path(), "split = \"test\"");
    let data = load_dataset(&spec).expect("loads");
    assert_eq!(data.report.format, Some(Format::LabelDirs));
    let ids: Vec<&str> = data.examples.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["neg/0_2.txt", "neg/1_1.txt", "pos/0_9.txt"]);
    assert_eq!(text(&data.examples[1]), "Dreadful.");
    assert_eq!(data.labels, ["neg", "pos"]);
    let e = err(&spec_toml(d.path(), "split = \"train\""));
    assert!(e.contains("`split`") && e.contains("train"), "{e}");
}

#[test]
fn malformed_input_gives_located_errors() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "short.csv",
        b"text,label\nfine,1\nno label here\n",
    );
    let e = err(&DatasetSpec::from_path(&p));
    assert!(
        e.contains("short.csv:3") && e.contains("column \"label\""),
        "{e}"
    );

    let p = write(d.path(), "ids.csv", b"text,label\nok,0\nbad,7\n");
    let e = err(&spec_toml(&p, "label_names = [\"a\", \"b\"]"));
    assert!(e.contains("ids.csv:3") && e.contains("label id 7"), "{e}");

    let p = write(d.path(), "nolabel.csv", b"text,label\nok,\n");
    let e = err(&DatasetSpec::from_path(&p));
    assert!(e.contains("nolabel.csv:2") && e.contains("empty"), "{e}");

    let p = write(d.path(), "cols.csv", b"review,stars\nok,1\n");
    let e = err(&DatasetSpec::from_path(&p));
    assert!(e.contains("cols.csv") && e.contains("text_column"), "{e}");
    let e = err(&spec_toml(
        &p,
        "text_column = \"review\"\nlabel_column = \"label\"",
    ));
    assert!(
        e.contains("`label_column`") && e.contains("\"label\""),
        "{e}"
    );

    let p = write(d.path(), "data.xlsx", b"??");
    let e = err(&DatasetSpec::from_path(&p));
    assert!(e.contains("data.xlsx") && e.contains("`format`"), "{e}");

    let e = err(&DatasetSpec::from_path(d.path().join("missing.csv")));
    assert!(e.contains("missing.csv"), "{e}");

    let e = err(&spec_toml(&p, "encoding = \"ebcdic\""));
    assert!(e.contains("`encoding`"), "{e}");

    let p = write(d.path(), "fake.parquet", b"PAR1 not really");
    let e = err(&DatasetSpec::from_path(&p));
    assert!(e.contains("fake.parquet") && e.contains("Parquet"), "{e}");

    // Unknown keys in the suite's dataset table are refused by name.
    let bad: Result<DatasetSpec, _> = toml::from_str("path = \"x\"\ntext_col = \"t\"");
    assert!(bad
        .expect_err("unknown key")
        .to_string()
        .contains("text_col"));
}

#[test]
fn unlabelled_files_load_without_labels() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "prompts.jsonl",
        b"{\"text\": \"a cat\"}\n{\"text\": \"a dog\"}\n",
    );
    let data = load_dataset(&DatasetSpec::from_path(p)).expect("loads");
    assert!(data.examples.iter().all(|e| e.label.is_none()));
    assert!(data.labels.is_empty());
}
