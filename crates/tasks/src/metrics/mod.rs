//! Scores of a task's outputs against its gold answers. One file per family of metrics, each
//! tested against the package that defines it (numbers committed with the script that made
//! them). [`score_task`] is what the harness calls: it picks the task's metrics and scores
//! typed outputs, so every backend is scored by the same code.
//!
//! Zero-shot outputs that parsed to no answer ([`Output::Unparsed`]) are scored as wrong,
//! never dropped, and counted in the `unparsed_fraction` metric whenever any occur.

mod bleu;
mod captioning;
mod cider;
mod classification;
mod coco_map;
mod fill_mask;
mod labels;
mod porter;
mod ptb;
mod rouge;
mod seqeval;
mod squad;
#[cfg(test)]
mod text_reference_tests;

pub use bleu::bleu;
pub use cider::{cider_d, cider_d_per_image};
pub use classification::*;
pub use coco_map::{bbox_iou, coco_map, CocoScores, ImageBoxes, IOU_THRESHOLDS, MAX_DETECTIONS};
pub use fill_mask::{fill_mask_accuracy, in_top_k, normalize_word};
pub use labels::map_labels;
pub use porter::porter_stem;
pub use ptb::ptb_tokenize;
pub use rouge::{
    rouge, rouge_l_f, rouge_mean, rouge_multi, rouge_n_f, rouge_tokenize, RougeScores,
};
pub use seqeval::{entities_to_tags, get_entities, iob1_to_iob2, seqeval_scores, EntityScores};
pub use squad::{exact_match, normalize_answer, qa_scores, squad_v1, token_f1};

use crate::{Example, Output, TaskName};
use anyhow::{bail, Result};

/// The label an unparsed answer counts as in classification: never a gold label, so it is
/// wrong, and (like any predicted label absent from gold) an F1-0 class in macro-F1.
pub const UNPARSED_LABEL: &str = "<unparsed>";

/// The task's metrics over aligned examples and outputs, as (name, value) in report order.
/// Empty when the sample has no gold answers (an unlabelled dataset); an error when an output
/// has a shape the task does not produce (a backend bug, named).
pub fn score_task(task: TaskName, pairs: &[(&Example, &Output)]) -> Result<Vec<(String, f64)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = match task {
        TaskName::TextClassification | TaskName::ImageClassification => {
            let gold: Option<Vec<&str>> = pairs.iter().map(|(e, _)| e.label.as_deref()).collect();
            let Some(gold) = gold else {
                return Ok(Vec::new());
            };
            let pred = pairs
                .iter()
                .map(|(e, o)| match o {
                    Output::Label(l) => Ok(l.as_str()),
                    Output::Unparsed(_) => Ok(UNPARSED_LABEL),
                    other => bail!(
                        "example {}: a {task} backend answered {}, not a label",
                        e.id,
                        shape(other)
                    ),
                })
                .collect::<Result<Vec<&str>>>()?;
            score_all(&classification_metrics(), &gold, &pred)?
        }
        TaskName::ObjectDetection => coco_map::score_detection(task, pairs)?,
        TaskName::ImageCaptioning => captioning::score_captions(task, pairs)?,
        TaskName::ExtractiveQa => squad::score_qa(task, pairs)?,
        TaskName::TokenClassification => seqeval::score_entities(task, pairs)?,
        TaskName::Summarization => rouge::score_summaries(task, pairs)?,
        TaskName::MaskedLanguageModelling => fill_mask::score_fill_mask(task, pairs)?,
        // No quality metric, as in the study: tokens out (text) and images, steps and sizes
        // (image generation) are recorded per inference instead.
        TaskName::TextGeneration | TaskName::ImageGeneration => Vec::new(),
    };
    let unparsed = pairs
        .iter()
        .filter(|(_, o)| matches!(o, Output::Unparsed(_)))
        .count();
    if unparsed > 0 {
        out.push((
            "unparsed_fraction".into(),
            unparsed as f64 / pairs.len() as f64,
        ));
    }
    Ok(out)
}

/// The shape of an output, for errors.
pub fn shape(o: &Output) -> &'static str {
    match o {
        Output::Label(_) => "a label",
        Output::Answer { .. } => "an answer span",
        Output::Words(_) => "a list of words",
        Output::Entities(_) => "entities",
        Output::Text(_) => "a text",
        Output::Detections(_) => "detections",
        Output::Image(_) => "an image",
        Output::Unparsed(_) => "an unparsed answer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Input;

    fn ex(id: &str, label: &str) -> Example {
        Example {
            id: id.into(),
            input: Input::Text("t".into()),
            label: Some(label.into()),
            gold: None,
        }
    }

    #[test]
    fn unparsed_answers_are_wrong_and_counted() {
        let (a, b) = (ex("0", "pos"), ex("1", "neg"));
        let (pa, pb) = (
            Output::Label("pos".into()),
            Output::Unparsed("maybe?".into()),
        );
        let s = score_task(TaskName::TextClassification, &[(&a, &pa), (&b, &pb)]).expect("ok");
        assert_eq!(s[0], ("accuracy".into(), 0.5));
        // pos F1 1, neg F1 0 (never predicted), <unparsed> F1 0 (absent from gold): 1/3.
        assert!((s[1].1 - 1.0 / 3.0).abs() < 1e-15, "{s:?}");
        assert_eq!(s[2], ("unparsed_fraction".into(), 0.5));
    }

    #[test]
    fn a_wrong_output_shape_is_an_error_naming_the_example() {
        let a = ex("7", "pos");
        let o = Output::Text("pos".into());
        let e = score_task(TaskName::TextClassification, &[(&a, &o)]).unwrap_err();
        assert!(e.to_string().contains("example 7") && e.to_string().contains("a text"));
    }

    /// Every task's headline metric is a metric its scorer returns, and a perfect answer
    /// scores its maximum on it (1 for fractions; CIDEr-D of one image is 0 by construction,
    /// there being no other image to weigh n-grams against, so only its presence is checked).
    #[test]
    fn each_headline_metric_is_scored_and_a_perfect_answer_tops_it() {
        use crate::{Detection, Entity, Gold, GoldBox};
        let with = |input: Input, label: Option<&str>, gold: Option<Gold>| Example {
            id: "0".into(),
            input,
            label: label.map(str::to_string),
            gold,
        };
        let text = || Input::Text("the film".into());
        let cases: Vec<(TaskName, Example, Output)> = vec![
            (
                TaskName::TextClassification,
                with(text(), Some("pos"), None),
                Output::Label("pos".into()),
            ),
            (
                TaskName::ImageClassification,
                with(Input::Image("a.jpg".into()), Some("cat"), None),
                Output::Label("cat".into()),
            ),
            (
                TaskName::ExtractiveQa,
                with(
                    Input::QuestionContext {
                        question: "who?".into(),
                        context: "Ada wrote it".into(),
                    },
                    None,
                    Some(Gold::Answers(vec!["Ada".into()])),
                ),
                Output::Answer {
                    text: "Ada".into(),
                    start: Some(0),
                    end: Some(3),
                },
            ),
            (
                TaskName::MaskedLanguageModelling,
                with(
                    Input::Masked {
                        words: vec!["a".into(), "cat".into()],
                        masked: 1,
                    },
                    None,
                    Some(Gold::Word("cat".into())),
                ),
                Output::Words(vec!["cat".into(), "dog".into()]),
            ),
            (
                TaskName::TokenClassification,
                with(
                    Input::Tokens(vec!["Ada".into(), "wrote".into()]),
                    None,
                    Some(Gold::Tags(vec!["B-PER".into(), "O".into()])),
                ),
                Output::Entities(vec![Entity {
                    label: "PER".into(),
                    start: 0,
                    end: 3,
                }]),
            ),
            (
                TaskName::Summarization,
                with(
                    text(),
                    None,
                    Some(Gold::References(vec!["a short summary".into()])),
                ),
                Output::Text("a short summary".into()),
            ),
            (
                TaskName::ObjectDetection,
                with(
                    Input::Image("a.jpg".into()),
                    None,
                    Some(Gold::Boxes(vec![GoldBox {
                        category: "dog".into(),
                        bbox: [0.0, 0.0, 10.0, 10.0],
                        area: 100.0,
                        iscrowd: false,
                    }])),
                ),
                Output::Detections(vec![Detection {
                    label: "dog".into(),
                    score: 0.9,
                    bbox: [0.0, 0.0, 10.0, 10.0],
                }]),
            ),
            (
                TaskName::ImageCaptioning,
                with(
                    Input::Image("a.jpg".into()),
                    None,
                    Some(Gold::References(vec!["a dog on a couch".into()])),
                ),
                Output::Text("a dog on a couch".into()),
            ),
        ];
        let mut covered: Vec<TaskName> = Vec::new();
        for (task, example, output) in &cases {
            let headline = task.headline_metric().expect("a headline metric");
            let scores = score_task(*task, &[(example, output)]).expect("scored");
            let value = scores
                .iter()
                .find(|(n, _)| n == headline)
                .unwrap_or_else(|| panic!("{task}: {headline} not among {scores:?}"))
                .1;
            if *task != TaskName::ImageCaptioning {
                assert!((value - 1.0).abs() < 1e-12, "{task}: {headline} = {value}");
            }
            covered.push(*task);
        }
        for task in TaskName::ALL {
            assert_eq!(
                task.headline_metric().is_some(),
                covered.contains(&task),
                "{task}"
            );
        }
    }
}
