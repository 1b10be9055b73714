//! SQuAD v1.1 JSON (`{"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
//! "question", "answers": [{"text", "answer_start"}]}]}]}]}`): one example per question, the
//! qa id as the example id, every answer text as gold (the official evaluation takes the
//! best over them).

use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Gold, Input};
use serde_json::Value;
use std::path::Path;

pub(crate) fn load(file: &Path, out: &mut Vec<Example>, report: &mut LoadReport) -> Result<()> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    let root: Value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{name}: not valid JSON (SQuAD JSON expected): {e}"))?;
    let Some(data) = root.get("data").and_then(Value::as_array) else {
        bail!("{name}: no `data` array at the top level: not a SQuAD JSON file");
    };
    for (a, article) in data.iter().enumerate() {
        let at_a = format!("data[{a}]");
        let Some(paragraphs) = article.get("paragraphs").and_then(Value::as_array) else {
            bail!("{name}: {at_a}: no `paragraphs` array");
        };
        for (p, para) in paragraphs.iter().enumerate() {
            let at_p = format!("{at_a}.paragraphs[{p}]");
            let Some(context) = para.get("context").and_then(Value::as_str) else {
                bail!("{name}: {at_p}: no `context` string");
            };
            let Some(qas) = para.get("qas").and_then(Value::as_array) else {
                bail!("{name}: {at_p}: no `qas` array");
            };
            for (q, qa) in qas.iter().enumerate() {
                let at_q = format!("{at_p}.qas[{q}]");
                let id = match qa.get("id") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => bail!("{name}: {at_q}: no `id`"),
                };
                let at = format!("{name}: question \"{id}\" ({at_q})");
                let Some(question) = qa.get("question").and_then(Value::as_str) else {
                    bail!("{at}: no `question` string");
                };
                let answers = match qa.get("answers") {
                    Some(Value::Array(a)) => a,
                    Some(_) => bail!("{at}: `answers` is not an array"),
                    None => {
                        bail!("{at}: no `answers` (SQuAD v1.1 gives every question its answers)")
                    }
                };
                if answers.is_empty() {
                    let impossible = qa.get("is_impossible").and_then(Value::as_bool) == Some(true);
                    if impossible {
                        bail!(
                            "{at}: an unanswerable question (SQuAD 2.0): only SQuAD v1.1, where \
                             every question has an answer, is read"
                        );
                    }
                    bail!("{at}: `answers` is empty");
                }
                let mut texts = Vec::with_capacity(answers.len());
                for (k, ans) in answers.iter().enumerate() {
                    match ans.get("text") {
                        Some(Value::String(t)) => texts.push(t.clone()),
                        Some(Value::Number(n)) => texts.push(n.to_string()),
                        _ => bail!("{at}: answers[{k}] has no `text` string"),
                    }
                }
                if question.trim().is_empty() || context.trim().is_empty() {
                    report.skip("empty question or context");
                    continue;
                }
                out.push(Example {
                    id,
                    input: Input::QuestionContext {
                        question: question.to_string(),
                        context: context.to_string(),
                    },
                    label: None,
                    gold: Some(Gold::Answers(texts)),
                });
            }
        }
    }
    Ok(())
}
