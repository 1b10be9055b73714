//! The readers of the tasks other than text classification on a file of fuzzed bytes: the
//! first byte picks the task and its format (SQuAD JSON, CoNLL, COCO instances, COCO captions,
//! text lines, JSON Lines) and the encoding; the rest is the file. Examples or an error, never
//! a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use powerhungry_datasets::{load_task_dataset, DatasetSpec, Format};
use powerhungry_tasks::TaskName;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("powerhungry-fuzz-tasks-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz temp dir");
        d
    })
}

const CASES: [(TaskName, Format, &str); 8] = [
    (TaskName::ExtractiveQa, Format::SquadJson, "json"),
    (TaskName::TokenClassification, Format::Conll, "txt"),
    (TaskName::ObjectDetection, Format::CocoInstances, "json"),
    (TaskName::ImageCaptioning, Format::CocoCaptions, "json"),
    (TaskName::TextGeneration, Format::TextLines, "tokens"),
    (TaskName::MaskedLanguageModelling, Format::TextLines, "tokens"),
    (TaskName::Summarization, Format::Jsonl, "jsonl"),
    (TaskName::ImageGeneration, Format::Tsv, "tsv"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (task, format, ext) = CASES[(selector & 7) as usize];
    let path = dir().join(format!("data.{ext}"));
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let mut spec = DatasetSpec::from_path(path);
    spec.format = Some(format);
    spec.encoding =
        Some(["utf-8", "latin-1", "auto", "utf-8"][((selector >> 3) & 3) as usize].into());
    let _ = load_task_dataset(task, &spec);
});
