//! The task readers on small files written here: what each reads, and every bad input as an
//! error naming the file and the record (never a panic). Random bytes never panic a reader.

use powerhungry_datasets::{load_dataset, load_task_dataset, DatasetSpec};
use powerhungry_tasks::{Gold, Input, TaskName};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, bytes).expect("write");
    p
}

fn spec(path: &Path, rest: &str) -> DatasetSpec {
    let src = format!("path = {:?}\n{rest}", path.display().to_string());
    toml::from_str(&src).expect("spec parses")
}

fn err(task: TaskName, path: &Path, rest: &str) -> String {
    format!(
        "{:#}",
        load_task_dataset(task, &spec(path, rest)).expect_err("should fail")
    )
}

/// A real 2x2 PNG, encoded here.
fn png() -> Vec<u8> {
    let img = image_bytes();
    assert!(img.starts_with(b"\x89PNG"));
    img
}

fn image_bytes() -> Vec<u8> {
    // A 2x2 RGB PNG made with Python's zlib and struct (IHDR, one IDAT, IEND).
    let hex = "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a\
               730000001149444154789c63f8cfc0c0f01f8c8018001df003fdd3d07d260000\
               000049454e44ae426082";
    let clean: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn squad_json_reads_every_answer_and_names_the_bad_question() {
    let d = tempfile::tempdir().expect("tmp");
    let good = write(
        d.path(),
        "dev.json",
        br#"{"version":"1.1","data":[{"title":"T","paragraphs":[{"context":"Paris is in France.",
        "qas":[{"id":"q1","question":"Where is Paris?","answers":[{"text":"France","answer_start":12},
        {"text":"in France","answer_start":9}]}]}]}]}"#,
    );
    let data = load_task_dataset(TaskName::ExtractiveQa, &spec(&good, "")).expect("loads");
    assert_eq!(data.examples.len(), 1);
    assert_eq!(data.examples[0].id, "q1");
    assert_eq!(
        data.examples[0].gold,
        Some(Gold::Answers(vec!["France".into(), "in France".into()]))
    );
    // `load_dataset` with the format reads it for its task too.
    let via = load_dataset(&spec(&good, "format = \"squad-json\"")).expect("loads");
    assert_eq!(via.examples, data.examples);

    let no_answers = write(
        d.path(),
        "bad.json",
        br#"{"data":[{"paragraphs":[{"context":"c","qas":[{"id":"q1","question":"q","answers":[{"text":"a"}]},
        {"id":"q2","question":"q"}]}]}]}"#,
    );
    let e = err(TaskName::ExtractiveQa, &no_answers, "");
    assert!(
        e.contains("bad.json") && e.contains("\"q2\"") && e.contains("answers"),
        "{e}"
    );
    assert!(e.contains("data[0].paragraphs[0].qas[1]"), "{e}");

    let squad2 = write(
        d.path(),
        "v2.json",
        br#"{"data":[{"paragraphs":[{"context":"c","qas":[{"id":"x","question":"q","answers":[],"is_impossible":true}]}]}]}"#,
    );
    let e = err(TaskName::ExtractiveQa, &squad2, "");
    assert!(e.contains("\"x\"") && e.contains("SQuAD 2.0"), "{e}");

    let not_squad = write(d.path(), "other.json", br#"{"rows":[]}"#);
    let e = err(TaskName::ExtractiveQa, &not_squad, "");
    assert!(e.contains("other.json") && e.contains("`data`"), "{e}");
    let broken = write(d.path(), "broken.json", b"{\"data\": [");
    assert!(err(TaskName::ExtractiveQa, &broken, "").contains("broken.json"));
}

#[test]
fn qa_rows_with_empty_context_are_skipped_and_counted() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "sciq.csv",
        b"question,correct_answer,support\nWhat?,this,this is it\nWhy?,that,\nWho?,,someone\n",
    );
    let data = load_task_dataset(TaskName::ExtractiveQa, &spec(&p, "")).expect("loads");
    assert_eq!(data.examples.len(), 1);
    assert_eq!(data.report.skipped_for.get("empty context"), Some(&1));
    assert_eq!(data.report.skipped_for.get("no gold answer"), Some(&1));
    assert!(data.report.summary().contains("1 skipped: empty context"));
    // JSON Lines answers: an array, or Hugging Face's {"text": [...]}.
    let j = write(
        d.path(),
        "qa.jsonl",
        br#"{"id":"a","question":"q","context":"c","answers":{"text":["x","y"],"answer_start":[0,0]}}
{"id":"b","question":"q","context":"c","answers":["z"]}
"#,
    );
    let data =
        load_task_dataset(TaskName::ExtractiveQa, &spec(&j, "id_column = \"id\"")).expect("loads");
    assert_eq!(
        data.examples[0].gold,
        Some(Gold::Answers(vec!["x".into(), "y".into()]))
    );
    assert_eq!(data.examples[1].id, "b");
    // A key naming a missing column names the key.
    let e = err(TaskName::ExtractiveQa, &p, "context_column = \"passage\"");
    assert!(
        e.contains("context_column") && e.contains("passage") && e.contains("sciq.csv"),
        "{e}"
    );
    let e = err(
        TaskName::ExtractiveQa,
        &j,
        "answers_column = \"question\"\nquestion_column = \"nope\"",
    );
    assert!(e.contains("question_column"), "{e}");
}

#[test]
fn conll_ragged_columns_and_bad_tags_name_the_line() {
    let d = tempfile::tempdir().expect("tmp");
    let good = write(
        d.path(),
        "ok.conll",
        b"-DOCSTART- -X- -X- O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\nPeter NNP I-NP I-PER\n",
    );
    let data = load_task_dataset(TaskName::TokenClassification, &spec(&good, "")).expect("ok");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(data.examples[0].id, "ok.conll:3");
    assert_eq!(
        data.examples[0].input,
        Input::Tokens(vec!["EU".into(), "rejects".into()])
    );
    assert_eq!(
        data.examples[0].gold,
        Some(Gold::Tags(vec!["B-ORG".into(), "O".into()]))
    );
    // The POS column instead of NER: `tag_column`.
    let e = err(TaskName::TokenClassification, &good, "tag_column = 1");
    assert!(e.contains("ok.conll:3") && e.contains("\"NNP\""), "{e}");
    let e = err(TaskName::TokenClassification, &good, "tag_column = 7");
    assert!(e.contains("tag_column"), "{e}");

    let ragged = write(
        d.path(),
        "ragged.conll",
        b"EU NNP I-NP I-ORG\nrejects VBZ I-VP\n",
    );
    let e = err(TaskName::TokenClassification, &ragged, "");
    assert!(e.contains("ragged.conll:2") && e.contains("ragged"), "{e}");
    let e = err(TaskName::TokenClassification, &good, "tag_scheme = \"bio\"");
    assert!(e.contains("tag_scheme"), "{e}");
    // `max_rows` counts sentences.
    let one =
        load_task_dataset(TaskName::TokenClassification, &spec(&good, "max_rows = 1")).expect("ok");
    assert_eq!(one.examples.len(), 1);
}

#[test]
fn masked_and_generation_inputs() {
    let d = tempfile::tempdir().expect("tmp");
    let long: Vec<String> = (1..=25).map(|i| format!("w{i}")).collect();
    let text = format!(
        " = Heading = \n\n{}\n short row \n \n{}\n",
        long.join(" "),
        long[..20].join(" ")
    );
    let p = write(d.path(), "wiki.txt", text.as_bytes());
    let m = load_task_dataset(TaskName::MaskedLanguageModelling, &spec(&p, "")).expect("ok");
    assert_eq!(m.examples.len(), 2);
    assert_eq!(m.examples[0].id, "wiki.txt:3");
    assert_eq!(
        m.examples[0].input,
        Input::Masked {
            words: long[..20].to_vec(),
            masked: 19
        }
    );
    assert_eq!(m.examples[0].gold, Some(Gold::Word("w20".into())));
    assert_eq!(m.report.skipped_empty, 2);
    assert_eq!(m.report.skipped_for.get("fewer than 20 words"), Some(&2));
    let m5 = load_task_dataset(
        TaskName::MaskedLanguageModelling,
        &spec(&p, "mask_word = 5"),
    )
    .expect("ok");
    assert_eq!(m5.examples[0].gold, Some(Gold::Word("w5".into())));

    let g = load_task_dataset(TaskName::TextGeneration, &spec(&p, "")).expect("ok");
    assert_eq!(g.examples.len(), 4);
    assert_eq!(g.examples[0].input, Input::Text("= Heading =".into()));
    assert_eq!(g.examples[0].gold, Some(Gold::References(vec![])));
    assert_eq!(g.examples[1].input, Input::Text(long[..20].join(" ")));
    assert_eq!(
        g.examples[1].gold,
        Some(Gold::References(vec!["w21 w22 w23 w24 w25".into()]))
    );
    let capped =
        load_task_dataset(TaskName::TextGeneration, &spec(&p, "max_rows = 3")).expect("ok");
    assert_eq!(
        capped.examples.len(),
        2,
        "3 rows read, the empty one dropped"
    );
    // Keys of another task are refused, naming the key.
    let e = err(TaskName::TextGeneration, &p, "mask_word = 3");
    assert!(
        e.contains("`mask_word`") && e.contains("masked-language-modelling"),
        "{e}"
    );
    let e = err(TaskName::TextGeneration, &p, "format = \"conll\"");
    assert!(e.contains("`format`") && e.contains("conll"), "{e}");
    let e = err(TaskName::MaskedLanguageModelling, &p, "prompt_words = 0");
    assert!(e.contains("prompt_words"), "{e}");
}

#[test]
fn summarization_rows() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(
        d.path(),
        "dial.csv",
        b"id,summary,dialogue\n1,A greets B.,\"A: hi\nB: hello\"\n2,,\"A: bye\"\n\n3,C.,\"C: x\"\n",
    );
    let data =
        load_task_dataset(TaskName::Summarization, &spec(&p, "id_column = \"id\"")).expect("ok");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(
        data.examples[0].input,
        Input::Text("A: hi\nB: hello".into())
    );
    assert_eq!(
        data.examples[0].gold,
        Some(Gold::References(vec!["A greets B.".into()]))
    );
    assert_eq!(
        data.report.skipped_for.get("empty reference summary"),
        Some(&1)
    );
    assert_eq!(data.report.skipped_empty, 1, "the blank line");
    let e = err(
        TaskName::Summarization,
        &p,
        "reference_column = \"abstract\"",
    );
    assert!(
        e.contains("reference_column") && e.contains("dial.csv"),
        "{e}"
    );
    let dup = write(d.path(), "dup.csv", b"id,summary,text\n1,s,t\n1,s,u\n");
    let e = err(TaskName::Summarization, &dup, "id_column = \"id\"");
    assert!(e.contains("dup.csv") && e.contains("twice"), "{e}");
}

#[test]
fn prompt_files_with_empty_lines_or_prompts_are_errors() {
    let d = tempfile::tempdir().expect("tmp");
    let long: Vec<String> = (1..=60).map(|i| format!("p{i}")).collect();
    let ok = write(
        d.path(),
        "prompts.tsv",
        format!(
            "Prompt\tCategory\nbond\tAbstract\n{}\tPeople\n",
            long.join(" ")
        )
        .as_bytes(),
    );
    let data = load_task_dataset(TaskName::ImageGeneration, &spec(&ok, "")).expect("ok");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(data.examples[1].input, Input::Text(long[..50].join(" ")));
    assert_eq!(data.examples[1].gold, None);
    assert_eq!(
        data.report
            .tallies
            .get("prompts cut to their first 50 words"),
        Some(&1)
    );
    for (name, body, line) in [
        (
            "blank.tsv",
            "Prompt\tCategory\nbond\tAbstract\n\nelement\tAbstract\n",
            3,
        ),
        (
            "spaces.tsv",
            "Prompt\tCategory\nbond\tAbstract\n   \nelement\tAbstract\n",
            3,
        ),
        (
            "emptycell.tsv",
            "Prompt\tCategory\nbond\tAbstract\n\tPeople\n",
            3,
        ),
        ("trailing.tsv", "Prompt\tCategory\nbond\tAbstract\n\n", 3),
    ] {
        let p = write(d.path(), name, body.as_bytes());
        let e = err(TaskName::ImageGeneration, &p, "");
        assert!(e.contains(&format!("{name}:{line}")), "{name}: {e}");
    }
    let txt = write(d.path(), "prompts.txt", b"a cat\n\na dog\n");
    let e = err(TaskName::ImageGeneration, &txt, "");
    assert!(
        e.contains("prompts.txt:2") && e.contains("empty line"),
        "{e}"
    );
}

#[test]
fn image_folder_decode_check_names_the_file() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "set/README.md", b"about");
    write(d.path(), "set/cat/0.png", &png());
    write(d.path(), "set/dog/0.png", &png());
    write(d.path(), "set/dog/.hidden", b"x");
    let data = load_task_dataset(
        TaskName::ImageClassification,
        &spec(&d.path().join("set"), ""),
    )
    .expect("ok");
    assert_eq!(data.examples.len(), 2);
    assert_eq!(data.labels, vec!["cat".to_string(), "dog".to_string()]);
    assert_eq!(data.examples[1].id, "dog/0.png");
    let renamed = load_task_dataset(
        TaskName::ImageClassification,
        &spec(&d.path().join("set"), "label_map = { cat = \"kitty\" }"),
    )
    .expect("ok");
    assert_eq!(renamed.examples[0].label.as_deref(), Some("kitty"));

    let mut truncated = png();
    truncated.truncate(40);
    write(d.path(), "set/dog/1.png", &truncated);
    let e = err(TaskName::ImageClassification, &d.path().join("set"), "");
    assert!(
        e.contains("dog/1.png") && e.contains("does not decode"),
        "{e}"
    );
    std::fs::remove_file(d.path().join("set/dog/1.png")).expect("rm");
    write(d.path(), "set/dog/2.jpg", b"not a jpeg at all");
    let e = err(TaskName::ImageClassification, &d.path().join("set"), "");
    assert!(
        e.contains("dog/2.jpg") && e.contains("does not decode"),
        "{e}"
    );
    std::fs::remove_file(d.path().join("set/dog/2.jpg")).expect("rm");
    write(d.path(), "set/dog/notes.txt", b"x");
    let e = err(TaskName::ImageClassification, &d.path().join("set"), "");
    assert!(e.contains("notes.txt") && e.contains("not an image"), "{e}");
    let e = err(TaskName::ImageClassification, d.path(), "split = \"nope\"");
    assert!(e.contains("split"), "{e}");
}

fn coco(images: &str, anns: &str) -> String {
    format!(
        r#"{{"images":[{images}],"annotations":[{anns}],
        "categories":[{{"id":1,"name":"person"}},{{"id":18,"name":"dog"}}]}}"#
    )
}

#[test]
fn coco_missing_image_undecodable_image_and_bad_annotations() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "val2017/a.png", &png());
    let img = r#"{"id":7,"file_name":"a.png"},{"id":8,"file_name":"b.png"}"#;
    let ann = r#"{"id":1,"image_id":7,"category_id":18,"bbox":[1,2,3,4],"area":12,"iscrowd":0},
                 {"id":2,"image_id":8,"category_id":1,"bbox":[0,0,1,1],"area":1,"iscrowd":1}"#;
    let json = write(
        d.path(),
        "annotations/instances_val2017.json",
        coco(img, ann).as_bytes(),
    );
    let e = err(TaskName::ObjectDetection, &json, "");
    assert!(
        e.contains("instances_val2017.json") && e.contains("image id 8") && e.contains("b.png"),
        "{e}"
    );
    let data = load_task_dataset(
        TaskName::ObjectDetection,
        &spec(&json, "missing_images = \"skip\""),
    )
    .expect("ok");
    assert_eq!(data.examples.len(), 1);
    assert_eq!(data.examples[0].id, "7");
    let Some(Gold::Boxes(b)) = &data.examples[0].gold else {
        panic!()
    };
    assert_eq!(b[0].category, "dog");
    assert_eq!(b[0].bbox, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(data.report.skipped_for.get("image file missing"), Some(&1));

    // An annotation of an image the JSON does not list.
    let orphan = r#"{"id":5,"image_id":99,"category_id":1,"bbox":[0,0,1,1],"area":1}"#;
    let j = write(
        d.path(),
        "annotations/instances_orphan.json",
        coco(r#"{"id":7,"file_name":"a.png"}"#, orphan).as_bytes(),
    );
    let e = err(TaskName::ObjectDetection, &j, "image_dir = \"val2017\"");
    assert!(
        e.contains("image_dir"),
        "a relative image_dir is the caller's to resolve: {e}"
    );
    let e = err(
        TaskName::ObjectDetection,
        &j,
        &format!(
            "image_dir = {:?}",
            d.path().join("val2017").display().to_string()
        ),
    );
    assert!(
        e.contains("instances_orphan.json") && e.contains("annotation id 5") && e.contains("99"),
        "{e}"
    );

    for (name, a, want) in [
        (
            "bbox",
            r#"{"id":3,"image_id":7,"category_id":1,"bbox":[0,0,1],"area":1}"#,
            "bbox",
        ),
        (
            "cat",
            r#"{"id":3,"image_id":7,"category_id":4,"bbox":[0,0,1,1],"area":1}"#,
            "category id 4",
        ),
        (
            "area",
            r#"{"id":3,"image_id":7,"category_id":1,"bbox":[0,0,1,1]}"#,
            "area",
        ),
    ] {
        let j = write(
            d.path(),
            &format!("annotations/instances_{name}.json"),
            coco(r#"{"id":7,"file_name":"a.png"}"#, a).as_bytes(),
        );
        let e = err(
            TaskName::ObjectDetection,
            &j,
            &format!(
                "image_dir = {:?}",
                d.path().join("val2017").display().to_string()
            ),
        );
        assert!(
            e.contains("annotation id 3") && e.contains(want),
            "{name}: {e}"
        );
    }

    // An image that does not decode, named with the JSON and the image id.
    write(d.path(), "val2017/c.png", b"\x89PNG\r\n\x1a\nbroken");
    let j = write(
        d.path(),
        "annotations/captions_val2017.json",
        br#"{"images":[{"id":3,"file_name":"c.png"}],"annotations":[{"id":1,"image_id":3,"caption":"A dog."}]}"#,
    );
    let e = err(TaskName::ImageCaptioning, &j, "");
    assert!(
        e.contains("c.png") && e.contains("does not decode") && e.contains("image id 3"),
        "{e}"
    );
    // Captions read.
    let j = write(
        d.path(),
        "annotations/captions_val2017.json",
        br#"{"images":[{"id":7,"file_name":"a.png"}],"annotations":[{"id":1,"image_id":7,"caption":"A dog. "},{"id":2,"image_id":7,"caption":"Two."}]}"#,
    );
    let data = load_task_dataset(TaskName::ImageCaptioning, &spec(&j, "")).expect("ok");
    assert_eq!(
        data.examples[0].gold,
        Some(Gold::References(vec!["A dog.".into(), "Two.".into()]))
    );
    // A captions file read for detection is not a COCO instances file.
    let e = err(TaskName::ObjectDetection, &j, "");
    assert!(
        e.contains("captions_val2017.json") && e.contains("categories"),
        "{e}"
    );
}

#[test]
fn formats_and_keys_that_do_not_fit_the_task() {
    let d = tempfile::tempdir().expect("tmp");
    let p = write(d.path(), "t.csv", b"text,label\na,b\n");
    let e = err(TaskName::Summarization, &p, "label_column = \"label\"");
    assert!(
        e.contains("`label_column`") && e.contains("summarization"),
        "{e}"
    );
    let e = err(TaskName::ObjectDetection, &p, "");
    assert!(e.contains("t.csv") && e.contains("coco-instances"), "{e}");
    let e = err(TaskName::ExtractiveQa, &p, "missing_images = \"maybe\"");
    assert!(e.contains("missing_images"), "{e}");
    // Text classification goes through the classic reader unchanged.
    let c = load_task_dataset(TaskName::TextClassification, &spec(&p, "")).expect("ok");
    assert_eq!(c.examples[0].label.as_deref(), Some("b"));
    let e = format!(
        "{:#}",
        load_dataset(&spec(&p, "format = \"text-lines\"")).expect_err("no task")
    );
    assert!(e.contains("text-lines"), "{e}");
}

fn all_task_readers(dir: &Path, bytes: &[u8]) {
    let cases: [(TaskName, &str, &str); 12] = [
        (TaskName::ExtractiveQa, "f.json", ""),
        (TaskName::ExtractiveQa, "f.csv", ""),
        (TaskName::ExtractiveQa, "f.jsonl", ""),
        (TaskName::TokenClassification, "f.conll", ""),
        (TaskName::MaskedLanguageModelling, "f.txt", ""),
        (TaskName::MaskedLanguageModelling, "f.jsonl", ""),
        (TaskName::TextGeneration, "f.tsv", ""),
        (TaskName::Summarization, "f.csv", ""),
        (TaskName::ImageGeneration, "f.tsv", ""),
        (
            TaskName::ObjectDetection,
            "annotations/instances_x.json",
            "missing_images = \"skip\"",
        ),
        (TaskName::ImageCaptioning, "annotations/captions_x.json", ""),
        (TaskName::ImageClassification, "imgs/c/0.png", ""),
    ];
    std::fs::create_dir_all(dir.join("x")).expect("mkdir");
    for (task, name, rest) in cases {
        let p = write(dir, name, bytes);
        let path = if task == TaskName::ImageClassification {
            dir.join("imgs")
        } else {
            p
        };
        let _ = load_task_dataset(task, &spec(&path, rest));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_bytes_never_panic_a_reader(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let d = tempfile::tempdir().expect("tmp");
        all_task_readers(d.path(), &bytes);
    }

    #[test]
    fn random_text_never_panics_a_reader(text in "[a-z \\t\\n,\"{}:\\[\\]0-9IBO-]{0,300}") {
        let d = tempfile::tempdir().expect("tmp");
        all_task_readers(d.path(), text.as_bytes());
    }
}
