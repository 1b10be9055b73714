//! Image classification: how a dataset's label names map to a model's (`id2label`). Top-1
//! accuracy is then the classification arm of `score_task` (the backend answers the dataset's
//! spelling).

use anyhow::{bail, Result};
use std::collections::HashMap;

/// For each dataset label, the model label that answers it: matched case-insensitively (and
/// ignoring surrounding white space), so CIFAR-10's `airplane` is a model's `Airplane`. Every
/// dataset label must be found, else the run is refused with an error naming the missing
/// labels (and, when they are few, the model's labels). A model label that two dataset labels
/// would share, or two model labels equal but for case, is refused too: the mapping would be
/// ambiguous. Model labels absent from the dataset are allowed (an ImageNet model on
/// CIFAR-10 must contain the ten names; its other predictions are simply wrong).
///
/// The map goes dataset label -> model label; invert it to turn a model's answer into the
/// dataset's spelling.
pub fn map_labels<M, D>(model_labels: &[M], dataset_labels: &[D]) -> Result<HashMap<String, String>>
where
    M: AsRef<str>,
    D: AsRef<str>,
{
    let key = |s: &str| s.trim().to_lowercase();
    let mut by_key: HashMap<String, &str> = HashMap::new();
    for m in model_labels {
        let m = m.as_ref();
        if let Some(prev) = by_key.insert(key(m), m) {
            if prev != m {
                bail!("the model's labels {prev:?} and {m:?} differ only by case: cannot map dataset labels to them");
            }
        }
    }
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    let mut used: HashMap<&str, &str> = HashMap::new();
    for d in dataset_labels {
        let d = d.as_ref();
        match by_key.get(&key(d)) {
            Some(&m) => {
                if let Some(other) = used.insert(m, d) {
                    if other != d {
                        bail!("the dataset labels {other:?} and {d:?} both match the model's label {m:?}");
                    }
                }
                out.insert(d.to_string(), m.to_string());
            }
            None => missing.push(d),
        }
    }
    if !missing.is_empty() {
        let mut msg = format!(
            "the model's labels lack {} of the dataset's (matched case-insensitively): {}",
            missing.len(),
            missing
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if model_labels.len() <= 20 {
            msg.push_str(&format!(
                "; the model has {}",
                model_labels
                    .iter()
                    .map(|m| format!("{:?}", m.as_ref()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            msg.push_str(&format!("; the model has {} labels", model_labels.len()));
        }
        bail!(msg);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIFAR10: [&str; 10] = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];

    #[test]
    fn cifar10_names_map_case_insensitively() {
        let model: Vec<String> = CIFAR10
            .iter()
            .map(|l| {
                let mut c = l.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            })
            .collect();
        let m = map_labels(&model, &CIFAR10).expect("maps");
        assert_eq!(m.len(), 10);
        assert_eq!(m["airplane"], "Airplane");
        assert_eq!(m["truck"], "Truck");
    }

    #[test]
    fn extra_model_labels_are_allowed() {
        let mut model: Vec<&str> = CIFAR10.to_vec();
        model.extend(["tench", "goldfish"]);
        assert_eq!(map_labels(&model, &CIFAR10).expect("maps").len(), 10);
    }

    #[test]
    fn missing_names_refuse_the_run_naming_them() {
        let model = [
            "airplane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "lorry",
        ];
        let e = map_labels(&model, &CIFAR10).unwrap_err().to_string();
        assert!(
            e.contains("lack 2") && e.contains("\"automobile\"") && e.contains("\"truck\""),
            "{e}"
        );
    }

    #[test]
    fn image_classification_is_top1_accuracy_on_dataset_label_names() {
        use crate::{metrics::score_task, Example, Input, Output, TaskName};
        // the backend answers the model's label; the runner turns it into the dataset's name
        let model = [
            "Airplane",
            "Automobile",
            "Bird",
            "Cat",
            "Deer",
            "Dog",
            "Frog",
            "Horse",
            "Ship",
            "Truck",
        ];
        let map = map_labels(&model, &CIFAR10).expect("maps");
        let back: HashMap<&str, &str> = map.iter().map(|(d, m)| (m.as_str(), d.as_str())).collect();
        let gold = ["cat", "ship", "ship", "frog"];
        let answered = ["Cat", "Ship", "Airplane", "Frog"];
        let ex: Vec<Example> = gold
            .iter()
            .enumerate()
            .map(|(i, g)| Example {
                id: i.to_string(),
                input: Input::Image(format!("{i}.png").into()),
                label: Some(g.to_string()),
                gold: None,
            })
            .collect();
        let out: Vec<Output> = answered
            .iter()
            .map(|a| Output::Label(back[a].to_string()))
            .collect();
        let pairs: Vec<(&Example, &Output)> = ex.iter().zip(out.iter()).collect();
        let s = score_task(TaskName::ImageClassification, &pairs).expect("scores");
        assert_eq!(s[0], ("accuracy".to_string(), 0.75));
        assert_eq!(s[1].0, "macro_f1");
        let wrong = Output::Detections(vec![]);
        let e = score_task(TaskName::ImageClassification, &[(&ex[0], &wrong)]).unwrap_err();
        assert!(e.to_string().contains("example 0"), "{e}");
    }

    #[test]
    fn ambiguous_labels_are_refused() {
        assert!(map_labels(&["Cat", "cat"], &["cat"]).is_err());
        assert!(map_labels(&["cat"], &["cat", "CAT"]).is_err());
        assert!(map_labels::<&str, &str>(&[], &[])
            .expect("empty")
            .is_empty());
    }
}
