//! The task readers on the real datasets of ../shared/datasets: counts and known records as the
//! folders' READMEs state them (and as a Python reading of the same files gives). A missing
//! shared folder fails (crates/testkit has the rule).

use powerhungry_datasets::{load_task_dataset, DatasetSpec, LoadedDataset};
use powerhungry_tasks::{Example, Gold, Input, TaskName};
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    powerhungry_testkit::shared("datasets")
}

fn load(task: TaskName, path: PathBuf, rest: &str) -> LoadedDataset {
    let src = format!("path = {:?}\n{rest}", path.display().to_string());
    let spec: DatasetSpec = toml::from_str(&src).expect("spec");
    load_task_dataset(task, &spec).unwrap_or_else(|e| panic!("{src}: {e:#}"))
}

fn by_id<'a>(data: &'a LoadedDataset, id: &str) -> &'a Example {
    data.examples
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no example {id}"))
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[test]
fn xquad_en_squad_json() {
    let Some(s) = shared() else { return };
    let data = load(TaskName::ExtractiveQa, s.join("xquad-en/xquad.en.json"), "");
    assert_eq!(data.examples.len(), 1190);
    assert_eq!(data.report.format.map(|f| f.name()), Some("squad-json"));
    let e = &data.examples[0];
    assert_eq!(e.id, "56beb4343aeaaa14008c925b");
    match &e.input {
        Input::QuestionContext { question, context } => {
            assert_eq!(
                question,
                "How many points did the Panthers defense surrender?"
            );
            assert!(context.contains("308"), "{context}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.gold, Some(Gold::Answers(vec!["308".into()])));
    assert_eq!(
        by_id(&data, "5737a25ac3c5551400e51f54").gold,
        Some(Gold::Answers(vec!["formalism".into()]))
    );
    assert!(data.labels.is_empty());
    assert!(!data.report.has_notes(), "{}", data.report.summary());
}

#[test]
fn sciq_csv_support_as_context() {
    let Some(s) = shared() else { return };
    let data = load(TaskName::ExtractiveQa, s.join("sciq/test.csv"), "");
    // Defaults pick `question`, `support` and `correct_answer`; the same with explicit keys.
    let explicit = load(
        TaskName::ExtractiveQa,
        s.join("sciq/test.csv"),
        "question_column = \"question\"\ncontext_column = \"support\"\n\
         answers_column = \"correct_answer\"",
    );
    assert_eq!(data.examples, explicit.examples);
    assert_eq!(data.examples.len(), 884);
    assert!(data.report.skipped_for.is_empty());
    let e = &data.examples[0];
    assert_eq!(e.id, "test.csv:2");
    match &e.input {
        Input::QuestionContext { question, context } => {
            assert_eq!(
                question,
                "Compounds that are capable of accepting electrons, such as o 2 or f2, are \
                 called what?"
            );
            assert!(!context.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.gold, Some(Gold::Answers(vec!["oxidants".into()])));
}

#[test]
fn conll2003_testb_iob1_becomes_iob2() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::TokenClassification,
        s.join("conll2003/eng.testb"),
        "",
    );
    assert_eq!(data.examples.len(), 3453);
    let tokens: usize = data
        .examples
        .iter()
        .map(|e| match &e.input {
            Input::Tokens(t) => t.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(tokens, 46_435);
    assert_eq!(data.report.header_lines, 231, "-DOCSTART- lines");
    let e = &data.examples[0];
    assert_eq!(e.id, "eng.testb:1");
    assert_eq!(
        e.input,
        Input::Tokens(words(
            "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT ."
        ))
    );
    // IOB1 `I-LOC` after `O` opens an entity: `B-LOC` in IOB2 (CHINA is I-PER in the file).
    assert_eq!(
        e.gold,
        Some(Gold::Tags(words("O O B-LOC O O O O B-PER O O O O")))
    );
    // Two touching ORG entities: IOB1 `I-ORG I-ORG B-ORG I-ORG` -> `B-ORG I-ORG B-ORG I-ORG`.
    let real = by_id(&data, "eng.testb:8513");
    assert_eq!(
        real.gold,
        Some(Gold::Tags(words("O B-ORG I-ORG B-ORG I-ORG")))
    );
    // No I- tag follows O or another type any more.
    for e in &data.examples {
        let Some(Gold::Tags(tags)) = &e.gold else {
            panic!()
        };
        let mut prev = "O".to_string();
        for t in tags {
            if let Some(k) = t.strip_prefix("I-") {
                assert!(prev.ends_with(k) && prev != "O", "{}: {prev} {t}", e.id);
            }
            prev = t.clone();
        }
    }
}

#[test]
fn wikiann_en_tsv_iob2() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::TokenClassification,
        s.join("wikiann-en/test-en.tsv"),
        "tag_scheme = \"iob2\"",
    );
    assert_eq!(data.examples.len(), 10_000);
    let e = &data.examples[0];
    assert_eq!(e.id, "test-en.tsv:1");
    match (&e.input, &e.gold) {
        (Input::Tokens(t), Some(Gold::Tags(g))) => {
            assert_eq!(t.len(), 20);
            assert_eq!(t[11], "India");
            assert_eq!(g[11], "B-LOC");
            assert_eq!(g[16], "B-LOC");
        }
        other => panic!("{other:?}"),
    }
    // The default (iob1, converted) leaves valid IOB2 unchanged.
    let converted = load(
        TaskName::TokenClassification,
        s.join("wikiann-en/test-en.tsv"),
        "",
    );
    assert_eq!(converted.examples, data.examples);
}

#[test]
fn wikitext2_masked_20th_word() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::MaskedLanguageModelling,
        s.join("wikitext-2/test.txt"),
        "",
    );
    // 4,358 lines: 1,467 empty, 1,055 with fewer than 20 words (headings among them).
    assert_eq!(data.examples.len(), 1836);
    assert_eq!(data.report.skipped_empty, 4358 - 2891);
    assert_eq!(
        data.report.skipped_for.get("fewer than 20 words"),
        Some(&(2891 - 1836))
    );
    let e = &data.examples[0];
    assert_eq!(e.id, "test.txt:4");
    match &e.input {
        Input::Masked { words, masked } => {
            assert_eq!(words.len(), 20);
            assert_eq!(*masked, 19);
            assert_eq!(words[0], "Robert");
            assert_eq!(e.gold, Some(Gold::Word(words[19].clone())));
            assert_eq!(words[19], "on");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bookcorpus_sample_masked_and_generation() {
    let Some(s) = shared() else { return };
    let file = s.join("bookcorpus-sample/test.jsonl");
    let masked = load(
        TaskName::MaskedLanguageModelling,
        file.clone(),
        "text_column = \"gold_ref\"",
    );
    assert_eq!(masked.examples.len(), 500);
    assert_eq!(masked.examples[0].gold, Some(Gold::Word("the".into())));
    let gen = load(TaskName::TextGeneration, file, "text_column = \"gold_ref\"");
    assert_eq!(gen.examples.len(), 500);
    let e = &gen.examples[0];
    assert_eq!(e.id, "test.jsonl:1");
    assert_eq!(
        e.input,
        Input::Text(
            "He moved cautiously forward. Another change in the gestalt shape of their bulk \
             behaviour. He quickened his pace towards the"
                .into()
        )
    );
    match &e.gold {
        Some(Gold::References(r)) => {
            assert_eq!(r.len(), 1);
            assert!(r[0].starts_with("trio of fixed clouds"), "{}", r[0]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wikitext2_generation_reads_2500_rows_and_drops_empties() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::TextGeneration,
        s.join("wikitext-2/test.txt"),
        "max_rows = 2500",
    );
    assert_eq!(data.examples.len(), 1661);
    assert_eq!(data.report.skipped_empty, 2500 - 1661);
    // The study keeps headings: ` = Robert <unk> = ` is a prompt with nothing after it.
    let e = &data.examples[0];
    assert_eq!(e.id, "test.txt:2");
    assert_eq!(e.input, Input::Text("= Robert <unk> =".into()));
    assert_eq!(e.gold, Some(Gold::References(vec![])));
    let e = &data.examples[1];
    match (&e.input, &e.gold) {
        (Input::Text(t), Some(Gold::References(r))) => {
            assert_eq!(t.split(' ').count(), 20);
            assert!(t.starts_with("Robert <unk> is an English film"));
            assert!(
                r[0].starts_with("the television series The Bill"),
                "{}",
                r[0]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn samsum_and_xsum_summaries() {
    let Some(s) = shared() else { return };
    let samsum = load(
        TaskName::Summarization,
        s.join("samsum/test.csv"),
        "id_column = \"id\"",
    );
    assert_eq!(samsum.examples.len(), 819);
    let e = by_id(&samsum, "13862856");
    match &e.input {
        Input::Text(t) => assert!(t.contains('\n'), "a multi-line dialogue"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.gold,
        Some(Gold::References(vec![
            "Hannah needs Betty's number but Amanda doesn't have it. She needs to contact Larry."
                .into()
        ]))
    );
    assert_eq!(samsum.examples[818].id, "13818810");

    let xsum = load(
        TaskName::Summarization,
        s.join("xsum-test-sample/test.jsonl"),
        "text_column = \"document\"\nreference_column = \"summary\"\nid_column = \"id\"",
    );
    assert_eq!(xsum.examples.len(), 1000);
    let e = by_id(&xsum, "34268361");
    match &e.gold {
        Some(Gold::References(r)) => {
            assert!(r[0].starts_with("Proposals for an indoor water park"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cifar10_image_folder() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::ImageClassification,
        s.join("cifar10-test-sample"),
        "split = \"test\"",
    );
    assert_eq!(data.examples.len(), 500);
    assert_eq!(
        data.labels,
        words("airplane automobile bird cat deer dog frog horse ship truck")
    );
    let e = &data.examples[0];
    assert_eq!(e.id, "airplane/0000.jpg");
    assert_eq!(e.label.as_deref(), Some("airplane"));
    assert!(matches!(&e.input, Input::Image(p) if p.ends_with("test/airplane/0000.jpg")));
    for l in &data.labels {
        let n = data
            .examples
            .iter()
            .filter(|e| e.label.as_ref() == Some(l))
            .count();
        assert_eq!(n, 50, "{l}");
    }
}

#[test]
fn coco_instances_of_the_images_present() {
    let Some(s) = shared() else { return };
    let json = s.join("coco2017-val-mini/annotations/instances_val2017.json");
    // The JSON lists 79 images, 30 of which are on disk: an error unless told to skip.
    let src = format!("path = {:?}", json.display().to_string());
    let spec: DatasetSpec = toml::from_str(&src).expect("spec");
    let err = format!(
        "{:#}",
        load_task_dataset(TaskName::ObjectDetection, &spec).expect_err("missing images")
    );
    assert!(err.contains("instances_val2017.json"), "{err}");
    assert!(err.contains("image id 397133"), "{err}");
    assert!(err.contains("000000397133.jpg"), "{err}");

    let data = load(TaskName::ObjectDetection, json, "missing_images = \"skip\"");
    assert_eq!(data.examples.len(), 30);
    assert_eq!(data.report.skipped_for.get("image file missing"), Some(&49));
    let boxes: usize = data
        .examples
        .iter()
        .map(|e| match &e.gold {
            Some(Gold::Boxes(b)) => b.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(boxes, 232);
    assert_eq!(data.examples[0].id, "11813");
    let e = by_id(&data, "139");
    let Some(Gold::Boxes(b)) = &e.gold else {
        panic!()
    };
    assert_eq!(b.len(), 20);
    assert_eq!(b[0].category, "potted plant");
    assert_eq!(b[0].bbox, [236.98, 142.51, 24.7, 69.5]);
    assert!((b[0].area - 531.8071).abs() < 1e-6);
    assert!(!b[0].iscrowd);
    assert!(matches!(&e.input, Input::Image(p) if p.ends_with("val2017/000000000139.jpg")));
}

#[test]
fn coco_captions_of_the_images_present() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::ImageCaptioning,
        s.join("coco2017-val-mini/annotations/captions_val2017.json"),
        "missing_images = \"skip\"",
    );
    assert_eq!(data.examples.len(), 30);
    let refs: usize = data
        .examples
        .iter()
        .map(|e| match &e.gold {
            Some(Gold::References(r)) => r.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(refs, 150);
    let Some(Gold::References(r)) = &by_id(&data, "139").gold else {
        panic!()
    };
    assert_eq!(r[0], "A woman stands in the dining area at the table.");
}

#[test]
fn parti_prompts_first_50_words() {
    let Some(s) = shared() else { return };
    let data = load(
        TaskName::ImageGeneration,
        s.join("parti-prompts/PartiPrompts.tsv"),
        "text_column = \"Prompt\"",
    );
    assert_eq!(data.examples.len(), 1632);
    assert_eq!(data.examples[0].id, "PartiPrompts.tsv:2");
    assert_eq!(data.examples[0].input, Input::Text("bond".into()));
    assert_eq!(data.examples[0].gold, None);
    assert_eq!(
        data.report
            .tallies
            .get("prompts cut to their first 50 words"),
        Some(&4)
    );
    for e in &data.examples {
        let Input::Text(t) = &e.input else { panic!() };
        assert!(t.split(' ').count() <= 50 && !t.is_empty(), "{}", e.id);
    }
}
