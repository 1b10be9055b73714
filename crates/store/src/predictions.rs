//! Every stored prediction of a run, as JSON Lines, so anyone can rescore a run with their
//! own tools (SQuAD's script, seqeval, rouge-score, pycocotools). Rows are streamed from
//! the database one at a time: memory does not grow with the run's length.

use crate::db::params;
use crate::Store;
use anyhow::{Context, Result};
use powerhungry_bench::sink::RunId;
use serde_json::{json, Value};
use std::io::Write;

/// One (model, dataset) pair of a run that holds predictions, with how many.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionSet {
    pub model: String,
    pub dataset: String,
    pub task: String,
    pub inferences: u64,
}

impl Store {
    /// The (model, dataset) pairs of `run` with at least one stored inference, in suite order.
    pub fn prediction_sets(&self, run: RunId) -> Result<Vec<PredictionSet>> {
        self.conn
            .query_map(
                "SELECT m.name, d.name, d.task, COUNT(*) FROM inferences i
                 JOIN repetitions r ON r.id = i.repetition_id
                 JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id
                 WHERE r.run_id = ?1 GROUP BY m.id, d.id ORDER BY m.id, d.id",
                params![run],
                |r| {
                    Ok(PredictionSet {
                        model: r.get(0)?,
                        dataset: r.get(1)?,
                        task: r.get(2)?,
                        inferences: r.get::<i64>(3)? as u64,
                    })
                },
            )
            .with_context(|| {
                format!(
                    "{}: cannot list the predictions of run {run}",
                    self.path.display()
                )
            })
    }

    /// Write the predictions of `run` for one (model, dataset) pair as JSON Lines, one object
    /// per inference in repetition and position order. Returns how many were written.
    ///
    /// A record: `run`, `model`, `dataset`, `task`, `repetition`, `position`, `example_id`,
    /// `prediction`, `gold`, `input_tokens`, `output_tokens`, `latency_s`. A class label (and
    /// a gold label) is a JSON string; every other output is the JSON object the store keeps
    /// (`{"text": ...}`, `{"answer": ...}`, `{"unparsed": ...}` for a zero-shot answer that
    /// parsed to nothing), so a rescoring script reads structure, not escaped text.
    pub fn write_predictions(
        &self,
        run: RunId,
        set: &PredictionSet,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let what = || {
            format!(
                "{}: predictions of run {run}, model {}, dataset {}",
                self.path.display(),
                set.model,
                set.dataset
            )
        };
        let mut written = 0u64;
        // The callback writes each row as it comes: the Vec it collects is of `()`.
        self.conn
            .query_map(
                "SELECT r.idx, i.position, i.example_id, i.prediction, i.gold, i.input_tokens,
                    i.output_tokens, i.latency_s FROM inferences i
                 JOIN repetitions r ON r.id = i.repetition_id
                 JOIN models m ON m.id = r.model_id JOIN datasets d ON d.id = r.dataset_id
                 WHERE r.run_id = ?1 AND m.name = ?2 AND d.name = ?3
                 ORDER BY r.idx, i.position",
                params![run, set.model, set.dataset],
                |r| {
                    let prediction: String = r.get(3)?;
                    let gold: Option<String> = r.get(4)?;
                    let record = json!({
                        "run": run,
                        "model": set.model,
                        "dataset": set.dataset,
                        "task": set.task,
                        "repetition": r.get::<i64>(0)?,
                        "position": r.get::<i64>(1)?,
                        "example_id": r.get::<String>(2)?,
                        "prediction": stored_value(&prediction),
                        "gold": gold.as_deref().map(stored_value),
                        "input_tokens": r.get::<i64>(5)?,
                        "output_tokens": r.get::<i64>(6)?,
                        "latency_s": r.get::<f64>(7)?,
                    });
                    serde_json::to_writer(&mut *out, &record)?;
                    out.write_all(b"\n")?;
                    written += 1;
                    Ok(())
                },
            )
            .with_context(what)?;
        Ok(written)
    }
}

/// A stored prediction or gold: the store keeps a class label as plain text and every other
/// output as a JSON object (`Output::record_text`, `Example::gold_text`). Only an object is
/// taken as structure, so a label such as `1` or `true` stays the string it was.
fn stored_value(text: &str) -> Value {
    if text.starts_with('{') {
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text) {
            return v;
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::stored_value;
    use serde_json::json;

    #[test]
    fn labels_stay_strings_and_outputs_become_objects() {
        assert_eq!(stored_value("positive"), json!("positive"));
        assert_eq!(stored_value("1"), json!("1"));
        assert_eq!(stored_value("true"), json!("true"));
        assert_eq!(stored_value("[1, 2]"), json!("[1, 2]"));
        assert_eq!(stored_value("{not json"), json!("{not json"));
        assert_eq!(
            stored_value(r#"{"text":"a summary"}"#),
            json!({"text": "a summary"})
        );
    }
}
