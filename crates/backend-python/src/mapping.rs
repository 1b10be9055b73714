//! Our inputs to what a pipeline is called with, what it returns to our outputs, and the
//! study's per-task call defaults (`../shared/protocols.md`: generation limits).

use anyhow::{anyhow, bail, Result};
use powerhungry_tasks::{Detection, Entity, Input, Output, TaskName};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The study's call arguments per task, which a suite's `call_kwargs` override key by key.
pub fn default_call_kwargs(task: TaskName) -> Map<String, Value> {
    let v = match task {
        // The study's limit; the continuation alone is our output (not the prompt again).
        TaskName::TextGeneration => json!({"max_new_tokens": 10, "return_full_text": false}),
        TaskName::Summarization => json!({"max_length": 15, "min_length": 10}),
        // Entities rather than word pieces: what Output::Entities holds.
        TaskName::TokenClassification => json!({"aggregation_strategy": "simple"}),
        _ => json!({}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The call arguments of a zero-shot model: the continuation alone, greedy, a short answer.
pub fn zero_shot_call_kwargs() -> Map<String, Value> {
    match json!({"max_new_tokens": 16, "return_full_text": false, "do_sample": false}) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A zero-shot input: the prompt for `input`, which the worker renders through the model's
/// chat template (or as one completion string where it has none).
pub fn prompt_input(
    task: TaskName,
    style: &powerhungry_tasks::prompts::PromptStyle,
    input: &Input,
    labels: &[String],
) -> Result<Value> {
    let p = powerhungry_tasks::prompts::build_prompt(task, style, input, labels)?;
    Ok(json!({"prompt": {"system": p.system, "user": p.user}}))
}

/// The generated text of a zero-shot answer, parsed as the task's output.
pub fn zero_shot_output(task: TaskName, raw: &Value, labels: &[String]) -> Result<Output> {
    let first = match raw {
        Value::Array(a) => a.first(),
        other => Some(other),
    };
    let text = first
        .and_then(|o| o.get("generated_text"))
        .and_then(|t| t.as_str())
        .ok_or_else(|| anyhow!("{task}: unexpected zero-shot output {}", short(raw)))?;
    Ok(powerhungry_tasks::prompts::parse_answer(task, text, labels))
}

/// One input as the worker passes it to the pipeline: a string (text, an image's path) or
/// keyword arguments (question answering). `mask` is the tokenizer's mask token.
pub fn pipeline_input(task: TaskName, input: &Input, mask: Option<&str>) -> Result<Value> {
    match input {
        Input::QuestionContext { question, context } => {
            Ok(json!({"question": question, "context": context}))
        }
        Input::Image(path) => Ok(json!(path.to_string_lossy())),
        Input::Masked { .. } => {
            let Some(mask) = mask else {
                bail!("{task}: the model's tokenizer has no mask token, so it cannot fill a mask")
            };
            Ok(json!(input.to_text(mask)))
        }
        Input::Text(_) | Input::Tokens(_) => Ok(json!(input.to_text(""))),
    }
}

/// The pipeline's answer to one input as our output. `labels` is the dataset's label set;
/// `label_map` the suite's model-label to dataset-label table.
pub fn output(
    task: TaskName,
    raw: &Value,
    labels: &[String],
    label_map: &BTreeMap<String, String>,
) -> Result<Output> {
    let bad = || anyhow!("{task}: unexpected pipeline output {}", short(raw));
    // Most pipelines answer one input with a list (top-k, entities); QA with one object.
    let first = match raw {
        Value::Array(a) => a.first(),
        other => Some(other),
    };
    let str_of = |v: Option<&Value>, key: &str| {
        v.and_then(|o| o.get(key))
            .and_then(|s| s.as_str())
            .map(String::from)
    };
    Ok(match task {
        TaskName::TextClassification | TaskName::ImageClassification => {
            let label = str_of(first, "label").ok_or_else(bad)?;
            dataset_label(&label, labels, label_map)
        }
        TaskName::ExtractiveQa => {
            let text = str_of(first, "answer").ok_or_else(bad)?;
            let pos = |k: &str| first.and_then(|o| o.get(k)).and_then(|v| v.as_u64());
            Output::Answer {
                text,
                start: pos("start").map(|v| v as usize),
                end: pos("end").map(|v| v as usize),
            }
        }
        TaskName::MaskedLanguageModelling => {
            let list = raw.as_array().ok_or_else(bad)?;
            let words = list
                .iter()
                .map(|c| str_of(Some(c), "token_str").map(|w| w.trim().to_string()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?;
            Output::Words(words)
        }
        TaskName::TokenClassification => {
            let list = raw.as_array().ok_or_else(bad)?;
            let mut entities = Vec::with_capacity(list.len());
            for e in list {
                let label = str_of(Some(e), "entity_group")
                    .or_else(|| str_of(Some(e), "entity"))
                    .ok_or_else(bad)?;
                let label = label
                    .strip_prefix("B-")
                    .or_else(|| label.strip_prefix("I-"))
                    .unwrap_or(&label)
                    .to_string();
                let pos = |k: &str| e.get(k).and_then(|v| v.as_u64()).map(|v| v as usize);
                let (Some(start), Some(end)) = (pos("start"), pos("end")) else {
                    bail!(
                        "{task}: an entity without character offsets (a slow tokenizer?): {}",
                        short(e)
                    )
                };
                entities.push(Entity { label, start, end });
            }
            Output::Entities(entities)
        }
        TaskName::TextGeneration | TaskName::Summarization | TaskName::ImageCaptioning => {
            let text = str_of(first, "generated_text")
                .or_else(|| str_of(first, "summary_text"))
                .ok_or_else(bad)?;
            Output::Text(text)
        }
        TaskName::ObjectDetection => {
            let list = raw.as_array().ok_or_else(bad)?;
            let mut out = Vec::with_capacity(list.len());
            for d in list {
                let b = d.get("box").ok_or_else(bad)?;
                let f = |k: &str| b.get(k).and_then(|v| v.as_f64()).ok_or_else(bad);
                let (x0, y0, x1, y1) = (f("xmin")?, f("ymin")?, f("xmax")?, f("ymax")?);
                out.push(Detection {
                    label: str_of(Some(d), "label").ok_or_else(bad)?,
                    score: d.get("score").and_then(|s| s.as_f64()).ok_or_else(bad)?,
                    bbox: [x0, y0, x1 - x0, y1 - y0],
                });
            }
            Output::Detections(out)
        }
        TaskName::ImageGeneration => bail!(
            "image generation runs on diffusers (kind \"diffusion-pipeline\"), not a \
             transformers pipeline"
        ),
    })
}

/// A model's label spelled as the dataset spells it: through the suite's map, the same name
/// (case aside), or `LABEL_i` as the dataset's i-th label (a model without label names);
/// anything else is kept unparsed and scored wrong.
fn dataset_label(label: &str, labels: &[String], map: &BTreeMap<String, String>) -> Output {
    if let Some(l) = map.get(label) {
        return Output::Label(l.clone());
    }
    if let Some(l) = labels.iter().find(|l| l.eq_ignore_ascii_case(label)) {
        return Output::Label(l.clone());
    }
    if let Some(i) = label
        .strip_prefix("LABEL_")
        .and_then(|i| i.parse::<usize>().ok())
    {
        if let Some(l) = labels.get(i) {
            return Output::Label(l.clone());
        }
    }
    Output::Unparsed(label.to_string())
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_of_each_pipeline_map_to_ours() {
        let labels = vec!["negative".to_string(), "positive".to_string()];
        let none = BTreeMap::new();
        let tc = |raw: Value| output(TaskName::TextClassification, &raw, &labels, &none).unwrap();
        assert_eq!(
            tc(json!([{"label": "POSITIVE", "score": 0.9}])),
            Output::Label("positive".into())
        );
        assert_eq!(
            tc(json!([{"label": "LABEL_0", "score": 0.9}])),
            Output::Label("negative".into())
        );
        assert_eq!(
            tc(json!([{"label": "LABEL_7", "score": 0.9}])),
            Output::Unparsed("LABEL_7".into())
        );
        let map = BTreeMap::from([("LABEL_7".to_string(), "positive".to_string())]);
        assert_eq!(
            output(
                TaskName::TextClassification,
                &json!([{"label": "LABEL_7"}]),
                &labels,
                &map
            )
            .unwrap(),
            Output::Label("positive".into())
        );
        let qa = json!({"score": 0.1, "start": 3, "end": 8, "answer": "Paris"});
        assert_eq!(
            output(TaskName::ExtractiveQa, &qa, &labels, &none).unwrap(),
            Output::Answer {
                text: "Paris".into(),
                start: Some(3),
                end: Some(8)
            }
        );
        let fm = json!([{"token_str": " cat", "score": 0.5}, {"token_str": "dog", "score": 0.2}]);
        assert_eq!(
            output(TaskName::MaskedLanguageModelling, &fm, &labels, &none).unwrap(),
            Output::Words(vec!["cat".into(), "dog".into()])
        );
        let ner = json!([{"entity_group": "PER", "start": 0, "end": 4}, {"entity": "I-LOC", "start": 9, "end": 14}]);
        assert_eq!(
            output(TaskName::TokenClassification, &ner, &labels, &none).unwrap(),
            Output::Entities(vec![
                Entity {
                    label: "PER".into(),
                    start: 0,
                    end: 4
                },
                Entity {
                    label: "LOC".into(),
                    start: 9,
                    end: 14
                }
            ])
        );
        let det = json!([{"score": 0.5, "label": "cat", "box": {"xmin": 1, "ymin": 2, "xmax": 11, "ymax": 7}}]);
        assert_eq!(
            output(TaskName::ObjectDetection, &det, &labels, &none).unwrap(),
            Output::Detections(vec![Detection {
                label: "cat".into(),
                score: 0.5,
                bbox: [1.0, 2.0, 10.0, 5.0]
            }])
        );
        let sum = json!([{"summary_text": "short"}]);
        assert_eq!(
            output(TaskName::Summarization, &sum, &labels, &none).unwrap(),
            Output::Text("short".into())
        );
        let e = output(TaskName::TextGeneration, &json!(42), &labels, &none).unwrap_err();
        assert!(
            format!("{e}").contains("unexpected pipeline output 42"),
            "{e}"
        );
    }

    #[test]
    fn inputs_become_pipeline_arguments() {
        let masked = Input::Masked {
            words: vec!["a".into(), "b".into()],
            masked: 1,
        };
        assert_eq!(
            pipeline_input(TaskName::MaskedLanguageModelling, &masked, Some("[MASK]")).unwrap(),
            json!("a [MASK]")
        );
        assert!(pipeline_input(TaskName::MaskedLanguageModelling, &masked, None).is_err());
        let qa = Input::QuestionContext {
            question: "q".into(),
            context: "c".into(),
        };
        assert_eq!(
            pipeline_input(TaskName::ExtractiveQa, &qa, None).unwrap(),
            json!({"question": "q", "context": "c"})
        );
        let toks = Input::Tokens(vec!["EU".into(), "rejects".into()]);
        assert_eq!(
            pipeline_input(TaskName::TokenClassification, &toks, None).unwrap(),
            json!("EU rejects")
        );
    }
}
