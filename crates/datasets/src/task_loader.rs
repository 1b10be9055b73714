//! `load_task_dataset`: a dataset read for one task, with the study's input preparation
//! (protocols.md) applied: the masked 20th word, 20-word text prompts, 50-word image prompts.
//! The spec is checked against the task first: a key or a format another task uses is an
//! error naming it.

use super::decode::TextDecoder;
use super::rows::{after_words, first_words, read_table, value_text, Blank, Row, Table};
use super::spec::{Column, DatasetSpec, Format};
use super::{
    coco, conll, images, labels, load_dataset, resolve_hub_dataset, squad, LoadReport,
    LoadedDataset,
};
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Gold, Input, TaskName};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// The formats a task reads (the first is the default for a file whose extension says
/// nothing, where there is one).
pub fn formats_for(task: TaskName) -> &'static [Format] {
    use Format::*;
    match task {
        TaskName::TextClassification => &[Csv, Tsv, Jsonl, Parquet, LabelFiles, LabelDirs],
        TaskName::ExtractiveQa => &[SquadJson, Csv, Tsv, Jsonl],
        TaskName::MaskedLanguageModelling
        | TaskName::TextGeneration
        | TaskName::ImageGeneration => &[TextLines, Csv, Tsv, Jsonl],
        TaskName::TokenClassification => &[Conll],
        TaskName::Summarization => &[Csv, Tsv, Jsonl],
        TaskName::ImageClassification => &[ImageFolder],
        TaskName::ObjectDetection => &[CocoInstances],
        TaskName::ImageCaptioning => &[CocoCaptions],
    }
}

/// The tasks whose keys these are (keys not listed apply to every task).
fn key_tasks(key: &str) -> Option<&'static [TaskName]> {
    use TaskName::*;
    Some(match key {
        "label_column" | "label_names" | "label_names_file" | "label_index_base" => {
            &[TextClassification]
        }
        "label_map" => &[TextClassification, ImageClassification],
        "question_column" | "context_column" | "answers_column" => &[ExtractiveQa],
        "reference_column" => &[Summarization],
        "token_column" | "tag_column" | "tag_scheme" => &[TokenClassification],
        "image_dir" | "missing_images" => &[ObjectDetection, ImageCaptioning],
        "mask_word" => &[MaskedLanguageModelling],
        "max_rows" => &[
            ExtractiveQa,
            MaskedLanguageModelling,
            TokenClassification,
            TextGeneration,
            Summarization,
            ImageGeneration,
        ],
        "prompt_words" => &[TextGeneration, ImageGeneration],
        "text_column" | "text_separator" => &[
            TextClassification,
            MaskedLanguageModelling,
            TextGeneration,
            Summarization,
            ImageGeneration,
        ],
        _ => return None,
    })
}

/// Check the spec's keys and format against the task, naming the first that does not fit.
pub fn validate_for_task(task: TaskName, spec: &DatasetSpec) -> Result<()> {
    spec.validate()?;
    let given = [
        ("label_column", spec.label_column.is_some()),
        ("label_names", spec.label_names.is_some()),
        ("label_names_file", spec.label_names_file.is_some()),
        ("label_index_base", spec.label_index_base.is_some()),
        ("label_map", spec.label_map.is_some()),
        ("question_column", spec.question_column.is_some()),
        ("context_column", spec.context_column.is_some()),
        ("answers_column", spec.answers_column.is_some()),
        ("reference_column", spec.reference_column.is_some()),
        ("token_column", spec.token_column.is_some()),
        ("tag_column", spec.tag_column.is_some()),
        ("tag_scheme", spec.tag_scheme.is_some()),
        ("image_dir", spec.image_dir.is_some()),
        ("missing_images", spec.missing_images.is_some()),
        ("mask_word", spec.mask_word.is_some()),
        ("prompt_words", spec.prompt_words.is_some()),
        ("text_column", spec.text_column.is_some()),
        ("text_separator", spec.text_separator.is_some()),
        ("max_rows", spec.max_rows.is_some()),
    ];
    for (key, set) in given {
        if !set {
            continue;
        }
        if let Some(tasks) = key_tasks(key) {
            if !tasks.contains(&task) {
                bail!(
                    "dataset key `{key}` does not apply to task {task} (it is for {})",
                    tasks
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    if let Some(f) = spec.format {
        let ok = formats_for(task);
        if !ok.contains(&f) {
            bail!(
                "dataset key `format`: {} is not read for task {task} (it reads {})",
                f.name(),
                ok.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(())
}

/// The task whose only format `format` is (SQuAD JSON -> extractive QA), for `load_dataset`.
pub(crate) fn task_of_format(format: Format) -> Option<TaskName> {
    match format {
        Format::SquadJson => Some(TaskName::ExtractiveQa),
        Format::Conll => Some(TaskName::TokenClassification),
        Format::CocoInstances => Some(TaskName::ObjectDetection),
        Format::CocoCaptions => Some(TaskName::ImageCaptioning),
        Format::ImageFolder => Some(TaskName::ImageClassification),
        _ => None,
    }
}

/// The format of a file for `task`: `format`, else its extension where it fits the task,
/// else the task's own file format (`.json` for SQuAD and COCO, anything for CoNLL).
fn file_format(task: TaskName, file: &Path, spec: &DatasetSpec) -> Result<Format> {
    if let Some(f) = spec.format {
        return Ok(f);
    }
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let by_ext = Format::for_extension(file);
    let f = match (task, ext.as_str(), by_ext) {
        (TaskName::ExtractiveQa, "json", _) => Format::SquadJson,
        (TaskName::ObjectDetection, "json", _) => Format::CocoInstances,
        (TaskName::ImageCaptioning, "json", _) => Format::CocoCaptions,
        (TaskName::TokenClassification, _, _) => Format::Conll,
        (
            TaskName::MaskedLanguageModelling
            | TaskName::TextGeneration
            | TaskName::ImageGeneration,
            "txt" | "tokens" | "raw",
            _,
        ) => Format::TextLines,
        (_, _, Some(f)) if formats_for(task).contains(&f) => f,
        _ => bail!(
            "dataset file {}: cannot tell its format for task {task}; set `format` to one of {}",
            file.display(),
            formats_for(task)
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Ok(f)
}

/// Load a dataset for `task`: the spec is checked against the task, the files read with the
/// task's reader, and the inputs prepared as the study did (docs/datasets.md). Every error
/// names the file and the record.
pub fn load_task_dataset(task: TaskName, spec: &DatasetSpec) -> Result<LoadedDataset> {
    validate_for_task(task, spec)?;
    if task == TaskName::TextClassification {
        return load_dataset(spec);
    }
    let root = match (&spec.path, &spec.hub_id) {
        (Some(p), None) => p.clone(),
        (None, Some(id)) => {
            resolve_hub_dataset(id, spec.revision.as_deref(), spec.cache_dir.as_deref())?
        }
        _ => bail!("dataset: give exactly one of `path` or `hub_id`"),
    };
    let meta = std::fs::metadata(&root)
        .with_context(|| format!("dataset path {}: cannot read it", root.display()))?;
    let decoder = TextDecoder::new(spec.encoding()?);
    let mut report = LoadReport {
        encoding: decoder.encoding().name().to_string(),
        ..LoadReport::default()
    };
    let mut examples = Vec::new();
    let mut labels = Vec::new();

    if task == TaskName::ImageClassification {
        if meta.is_file() {
            bail!(
                "{}: an image-classification dataset is a folder of class folders",
                root.display()
            );
        }
        let dir = match spec.split.as_deref() {
            Some(s) if root.join(s).is_dir() => root.join(s),
            Some(s) => bail!(
                "{}: dataset key `split` = {s:?} names no sub-folder here",
                root.display()
            ),
            None => root.clone(),
        };
        report.format = Some(Format::ImageFolder);
        report.encoding = "binary".into();
        let classes = images::load_image_folder(&dir, &mut examples, &mut report)?;
        let names = labels::LabelNames::from_spec(spec)?;
        names.rename_folder_labels(&mut examples)?;
        labels = names.label_set(&examples, None);
        report.files = classes;
        report.rows = examples.len();
        return Ok(LoadedDataset {
            examples,
            labels,
            report,
        });
    }

    let (format, files) = if meta.is_dir() {
        match super::label_folder::data_files(&root, spec.format, spec.split.as_deref())? {
            Some((f, files)) if formats_for(task).contains(&f) => (f, files),
            Some((f, _)) => bail!(
                "{}: holds {} files, which task {task} does not read; point `path` at the file",
                root.display(),
                f.name()
            ),
            None => bail!(
                "{}: a folder without data files; point `path` at the dataset file",
                root.display()
            ),
        }
    } else {
        (file_format(task, &root, spec)?, vec![root.clone()])
    };
    report.format = Some(format);
    for file in &files {
        match format {
            Format::SquadJson => squad::load(file, &mut examples, &mut report)?,
            Format::Conll => conll::load(file, spec, &decoder, &mut examples, &mut report)?,
            Format::CocoInstances | Format::CocoCaptions => {
                let kind = if format == Format::CocoInstances {
                    coco::Kind::Instances
                } else {
                    coco::Kind::Captions
                };
                coco::load(file, kind, spec, &mut examples, &mut report)?;
            }
            Format::Parquet => bail!(
                "{}: Parquet is read for text classification only so far; convert it to JSON \
                 Lines",
                file.display()
            ),
            Format::Csv | Format::Tsv | Format::Jsonl | Format::TextLines => {
                let blank = match (task, format) {
                    (TaskName::ImageGeneration, _) => Blank::Error,
                    (_, Format::TextLines) => Blank::Keep,
                    _ => Blank::Skip,
                };
                let table = read_table(file, format, spec, &decoder, blank, &mut report)?;
                from_rows(task, spec, &table, &mut examples, &mut report)?;
            }
            Format::LabelFiles | Format::LabelDirs | Format::ImageFolder => {
                bail!("format {} is not read for task {task}", format.name())
            }
        }
    }
    let mut seen = HashSet::new();
    for e in &examples {
        if !seen.insert(e.id.as_str()) {
            bail!(
                "{}: example id {:?} occurs twice (ids must be unique; check `id_column`)",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                e.id
            );
        }
    }
    if examples.is_empty() {
        bail!(
            "{}: no examples for task {task} ({})",
            root.display(),
            report.summary()
        );
    }
    if matches!(
        format,
        Format::SquadJson | Format::CocoInstances | Format::CocoCaptions
    ) {
        report.encoding = "utf-8".into();
    }
    report.files = files;
    report.rows = examples.len();
    labels.clear();
    Ok(LoadedDataset {
        examples,
        labels,
        report,
    })
}

/// The column for `key`: what the spec gives, else the first of `defaults` the file has
/// (the first default is named in the error when none is there).
fn pick(table: &Table, given: Option<&Column>, key: &str, defaults: &[&str]) -> Result<Column> {
    if given.is_none() {
        if let Some(d) = defaults
            .iter()
            .map(|d| Column::Name(d.to_string()))
            .find(|c| table.has(c))
        {
            return Ok(d);
        }
    }
    table.column(given, key, defaults.first().copied().unwrap_or("text"))
}

/// The text of a row's text column(s), joined with `text_separator`.
fn row_text(spec: &DatasetSpec, row: &Row, cols: &[Column]) -> Result<String> {
    let parts = cols
        .iter()
        .map(|c| row.text(c, "text_column"))
        .collect::<Result<Vec<_>>>()?;
    Ok(parts.join(spec.text_separator.as_deref().unwrap_or(" ")))
}

fn row_id(row: &Row, id_col: Option<&Column>) -> Result<String> {
    match id_col {
        None => Ok(row.id.clone()),
        Some(c) => {
            let id = row.text(c, "id_column")?;
            if id.trim().is_empty() {
                bail!("{}: the id ({c}) is empty", row.at);
            }
            Ok(id)
        }
    }
}

/// Gold answers from a cell: a string is one answer; an array of strings, or an object with
/// a `text` array (Hugging Face `squad`), several.
fn answers(row: &Row, c: &Column) -> Result<Vec<String>> {
    let Some(v) = row.get(c) else {
        bail!(
            "{}: the row has no {c} (dataset key `answers_column`)",
            row.at
        );
    };
    let bad = |why: &str| anyhow::anyhow!("{}: {c} (dataset key `answers_column`): {why}", row.at);
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("text") {
            Some(Value::Array(a)) => a.clone(),
            Some(t @ Value::String(_)) => vec![t.clone()],
            _ => return Err(bad("an object without a `text` array of answers")),
        },
        other => vec![other.clone()],
    };
    let mut out = Vec::new();
    for a in &list {
        let t = value_text(a).map_err(|why| bad(&why))?;
        if !t.trim().is_empty() {
            out.push(t);
        }
    }
    Ok(out)
}

fn from_rows(
    task: TaskName,
    spec: &DatasetSpec,
    table: &Table,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    let id_col = match &spec.id_column {
        Some(c) => Some(table.column(Some(c), "id_column", "id")?),
        None => None,
    };
    let text_cols = |defaults: &[&str]| -> Result<Vec<Column>> {
        match &spec.text_column {
            Some(cs) => cs
                .as_slice()
                .iter()
                .map(|c| table.column(Some(c), "text_column", "text"))
                .collect(),
            None => Ok(vec![pick(table, None, "text_column", defaults)?]),
        }
    };
    match task {
        TaskName::ExtractiveQa => {
            let q = pick(
                table,
                spec.question_column.as_ref(),
                "question_column",
                &["question"],
            )?;
            let c = pick(
                table,
                spec.context_column.as_ref(),
                "context_column",
                &["context", "support"],
            )?;
            let a = pick(
                table,
                spec.answers_column.as_ref(),
                "answers_column",
                &["answers", "answer", "correct_answer"],
            )?;
            for row in &table.rows {
                let question = row.text(&q, "question_column")?;
                let context = row.text(&c, "context_column")?;
                let gold = answers(row, &a)?;
                if question.trim().is_empty() {
                    report.skip("empty question");
                } else if context.trim().is_empty() {
                    report.skip("empty context");
                } else if gold.is_empty() {
                    report.skip("no gold answer");
                } else {
                    out.push(Example {
                        id: row_id(row, id_col.as_ref())?,
                        input: Input::QuestionContext { question, context },
                        label: None,
                        gold: Some(Gold::Answers(gold)),
                    });
                }
            }
        }
        TaskName::Summarization => {
            let t = text_cols(&["text", "document", "dialogue", "article"])?;
            let r = pick(
                table,
                spec.reference_column.as_ref(),
                "reference_column",
                &["summary", "highlights"],
            )?;
            for row in &table.rows {
                let text = row_text(spec, row, &t)?;
                let reference = row.text(&r, "reference_column")?;
                if text.trim().is_empty() {
                    report.skipped_empty += 1;
                } else if reference.trim().is_empty() {
                    report.skip("empty reference summary");
                } else {
                    out.push(Example {
                        id: row_id(row, id_col.as_ref())?,
                        input: Input::Text(text),
                        label: None,
                        gold: Some(Gold::References(vec![reference])),
                    });
                }
            }
        }
        TaskName::MaskedLanguageModelling => {
            let t = text_cols(&["text", "sentence"])?;
            let n = spec.mask_word.unwrap_or(20);
            for row in &table.rows {
                let text = row_text(spec, row, &t)?;
                if text.trim().is_empty() {
                    report.skipped_empty += 1;
                    continue;
                }
                let (words, _) = first_words(&text, n);
                if words.len() < n {
                    report.skip(&format!("fewer than {n} words"));
                    continue;
                }
                out.push(Example {
                    id: row_id(row, id_col.as_ref())?,
                    gold: Some(Gold::Word(words[n - 1].clone())),
                    input: Input::Masked {
                        words,
                        masked: n - 1,
                    },
                    label: None,
                });
            }
        }
        TaskName::TextGeneration => {
            let t = text_cols(&["text", "sentence"])?;
            let n = spec.prompt_words.unwrap_or(20);
            for row in &table.rows {
                let text = row_text(spec, row, &t)?;
                if text.trim().is_empty() {
                    report.skipped_empty += 1;
                    continue;
                }
                let (words, _) = first_words(&text, n);
                let rest = after_words(&text, n);
                let refs = if rest.is_empty() {
                    report.tally(&format!("rows with nothing after the first {n} words"));
                    Vec::new()
                } else {
                    vec![rest]
                };
                out.push(Example {
                    id: row_id(row, id_col.as_ref())?,
                    input: Input::Text(words.join(" ")),
                    label: None,
                    gold: Some(Gold::References(refs)),
                });
            }
        }
        TaskName::ImageGeneration => {
            let t = text_cols(&["text", "prompt", "Prompt"])?;
            let n = spec.prompt_words.unwrap_or(50);
            for row in &table.rows {
                let text = row_text(spec, row, &t)?;
                if text.trim().is_empty() {
                    bail!("{}: empty prompt", row.at);
                }
                let (words, more) = first_words(&text, n);
                if more {
                    report.tally(&format!("prompts cut to their first {n} words"));
                }
                out.push(Example {
                    id: row_id(row, id_col.as_ref())?,
                    input: Input::Text(words.join(" ")),
                    label: None,
                    gold: None,
                });
            }
        }
        other => bail!("{}: task {other} is not read from rows", table.file),
    }
    Ok(())
}
