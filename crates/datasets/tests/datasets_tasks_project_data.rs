//! The project's own copies in data/ (what the shipped suites read), loaded with exactly the
//! `[datasets.source]` tables docs/datasets.md gives for the suites, resolved from `suites/`
//! as the bench does. Counts are the folders' READMEs'. Every copied example is also checked
//! against the full dataset in ../shared/datasets.

use powerhungry_datasets::{load_task_dataset, DatasetSpec, LoadedDataset};
use powerhungry_tasks::{Gold, Input, TaskName};
use std::collections::HashMap;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A suite's `[datasets.source]` table, read from `suites/` as the bench resolves it.
fn suite_source(task: TaskName, toml_src: &str) -> LoadedDataset {
    let spec: DatasetSpec = toml::from_str(toml_src).expect("spec");
    load_task_dataset(task, &spec.resolved(&repo().join("suites")))
        .unwrap_or_else(|e| panic!("{toml_src}: {e:#}"))
}

/// The same source read from ../shared/datasets (missing fails: crates/testkit's rule).
fn shared_same(task: TaskName, toml_src: &str, extra: &str) -> Option<LoadedDataset> {
    let s = powerhungry_testkit::shared("datasets")?;
    let src = toml_src.replace("../data/", &format!("{}/", s.display()));
    let src = format!("{src}\n{extra}");
    let spec: DatasetSpec = toml::from_str(&src).expect("spec");
    Some(load_task_dataset(task, &spec).unwrap_or_else(|e| panic!("{src}: {e:#}")))
}

fn assert_subset(copy: &LoadedDataset, full: Option<LoadedDataset>) {
    let Some(full) = full else { return };
    let by_id: HashMap<&str, _> = full.examples.iter().map(|e| (e.id.as_str(), e)).collect();
    for e in &copy.examples {
        let f = by_id
            .get(e.id.as_str())
            .unwrap_or_else(|| panic!("{} not in the shared dataset", e.id));
        // Images live in different folders; compare the rest.
        match (&e.input, &f.input) {
            (Input::Image(a), Input::Image(b)) => assert_eq!(a.file_name(), b.file_name()),
            (a, b) => assert_eq!(a, b, "{}", e.id),
        }
        assert_eq!(e.gold, f.gold, "{}", e.id);
        assert_eq!(e.label, f.label, "{}", e.id);
    }
}

pub const XQUAD: &str = "path = \"../data/xquad-en/xquad.en.json\"\nformat = \"squad-json\"\n";
pub const SCIQ: &str = "path = \"../data/sciq/test.csv\"\ncontext_column = \"support\"\n\
                        answers_column = \"correct_answer\"\n";
pub const CONLL: &str = "path = \"../data/conll2003/eng.testb\"\nformat = \"conll\"\n\
                         tag_scheme = \"iob1\"\n";
pub const WIKIANN: &str = "path = \"../data/wikiann-en/test-en.tsv\"\nformat = \"conll\"\n\
                           tag_scheme = \"iob2\"\n";
pub const WIKITEXT_MLM: &str = "path = \"../data/wikitext-2/test.txt\"\nformat = \"text-lines\"\n";
pub const WIKITEXT_GEN: &str =
    "path = \"../data/wikitext-2/test.txt\"\nformat = \"text-lines\"\nmax_rows = 2500\n";
pub const BOOK: &str =
    "path = \"../data/bookcorpus-sample/test.jsonl\"\ntext_column = \"gold_ref\"\n";
pub const SAMSUM: &str = "path = \"../data/samsum/test.csv\"\ntext_column = \"dialogue\"\n\
                          reference_column = \"summary\"\nid_column = \"id\"\n";
pub const XSUM: &str =
    "path = \"../data/xsum-test-sample/test.jsonl\"\ntext_column = \"document\"\n\
                        reference_column = \"summary\"\nid_column = \"id\"\n";
pub const CIFAR: &str =
    "path = \"../data/cifar10-test-sample\"\nformat = \"image-folder\"\nsplit = \"test\"\n";
pub const COCO_BOXES: &str =
    "path = \"../data/coco2017-val-mini/annotations/instances_val2017.json\"\n\
                              format = \"coco-instances\"\n";
pub const COCO_CAPTIONS: &str =
    "path = \"../data/coco2017-val-mini/annotations/captions_val2017.json\"\n\
     format = \"coco-captions\"\n";
pub const PARTI: &str =
    "path = \"../data/parti-prompts/PartiPrompts.tsv\"\ntext_column = \"Prompt\"\n";

#[test]
fn extractive_qa_copies() {
    let x = suite_source(TaskName::ExtractiveQa, XQUAD);
    assert_eq!(x.examples.len(), 250);
    assert_subset(&x, shared_same(TaskName::ExtractiveQa, XQUAD, ""));
    let s = suite_source(TaskName::ExtractiveQa, SCIQ);
    assert_eq!(s.examples.len(), 300);
    assert!(!s.report.has_notes(), "{}", s.report.summary());
    assert_subset(&s, shared_same(TaskName::ExtractiveQa, SCIQ, ""));
}

#[test]
fn token_classification_copies() {
    let c = suite_source(TaskName::TokenClassification, CONLL);
    assert_eq!(c.examples.len(), 314);
    let tokens: usize = c
        .examples
        .iter()
        .map(|e| match &e.input {
            Input::Tokens(t) => t.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(tokens, 4390);
    assert_subset(&c, shared_same(TaskName::TokenClassification, CONLL, ""));
    let w = suite_source(TaskName::TokenClassification, WIKIANN);
    assert_eq!(w.examples.len(), 300);
    assert_subset(&w, shared_same(TaskName::TokenClassification, WIKIANN, ""));
}

#[test]
fn masked_lm_and_generation_copies() {
    let m = suite_source(TaskName::MaskedLanguageModelling, WIKITEXT_MLM);
    assert_eq!(m.examples.len(), 217);
    assert_eq!(m.report.skipped_empty, 530 - 345);
    assert_subset(
        &m,
        shared_same(TaskName::MaskedLanguageModelling, WIKITEXT_MLM, ""),
    );
    let g = suite_source(TaskName::TextGeneration, WIKITEXT_GEN);
    assert_eq!(g.examples.len(), 345);
    assert_subset(&g, shared_same(TaskName::TextGeneration, WIKITEXT_GEN, ""));
    let bm = suite_source(TaskName::MaskedLanguageModelling, BOOK);
    assert_eq!(bm.examples.len(), 300);
    let bg = suite_source(TaskName::TextGeneration, BOOK);
    assert_eq!(bg.examples.len(), 300);
    assert_subset(&bg, shared_same(TaskName::TextGeneration, BOOK, ""));
    assert!(bg
        .examples
        .iter()
        .all(|e| matches!(&e.gold, Some(Gold::References(r)) if r.len() == 1)));
}

#[test]
fn summarization_copies() {
    let s = suite_source(TaskName::Summarization, SAMSUM);
    assert_eq!(s.examples.len(), 300);
    assert_eq!(s.examples[0].id, "13862856");
    assert_subset(&s, shared_same(TaskName::Summarization, SAMSUM, ""));
    let x = suite_source(TaskName::Summarization, XSUM);
    assert_eq!(x.examples.len(), 200);
    assert_subset(&x, shared_same(TaskName::Summarization, XSUM, ""));
}

#[test]
fn image_copies() {
    let c = suite_source(TaskName::ImageClassification, CIFAR);
    assert_eq!(c.examples.len(), 200);
    assert_eq!(c.labels.len(), 10);
    assert_subset(&c, shared_same(TaskName::ImageClassification, CIFAR, ""));
    let b = suite_source(TaskName::ObjectDetection, COCO_BOXES);
    assert_eq!(b.examples.len(), 10);
    assert!(b.report.skipped_for.is_empty());
    let boxes: usize = b
        .examples
        .iter()
        .map(|e| match &e.gold {
            Some(Gold::Boxes(v)) => v.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(boxes, 98);
    assert_subset(
        &b,
        shared_same(
            TaskName::ObjectDetection,
            COCO_BOXES,
            "missing_images = \"skip\"",
        ),
    );
    let k = suite_source(TaskName::ImageCaptioning, COCO_CAPTIONS);
    assert_eq!(k.examples.len(), 10);
    assert_subset(
        &k,
        shared_same(
            TaskName::ImageCaptioning,
            COCO_CAPTIONS,
            "missing_images = \"skip\"",
        ),
    );
}

#[test]
fn image_generation_copy() {
    let p = suite_source(TaskName::ImageGeneration, PARTI);
    assert_eq!(p.examples.len(), 327);
    assert_eq!(
        p.report.tallies.get("prompts cut to their first 50 words"),
        Some(&1)
    );
    // Ids are line numbers, so they differ from the full file's; the prompts are its own.
    assert_eq!(p.examples[0].input, Input::Text("bond".into()));
}
