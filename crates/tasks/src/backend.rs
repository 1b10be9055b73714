//! The contracts every backend and task share. Later tasks extend `Input`/`Output` with their
//! own variants; the harness only moves them around and hands outputs to the task's metric.

use anyhow::Result;

/// One example of a dataset, as the harness hands it to a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Stable identifier within the dataset (row number or the dataset's own id), recorded
    /// with every prediction so a sample can be reproduced.
    pub id: String,
    pub input: Input,
    /// Gold answer where the dataset has one (a class label for text classification).
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Text(String),
}

impl Input {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Input::Text(t) => Some(t),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A class label, spelled as in the dataset's label set.
    Label(String),
}

/// What one inference produced, with the sizes the studies relate energy to.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub output: Output,
    /// Tokens the model read (0 where the model has no tokenizer, e.g. bag-of-words counts words).
    pub input_tokens: u32,
    /// Tokens the model produced (0 for classifiers).
    pub output_tokens: u32,
}

/// Static facts about a loaded model, for the results store and the reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelInfo {
    /// Number of parameters where known (from the config or the fitted model).
    pub parameters: Option<u64>,
    /// Free-form description: architecture, features, classifier.
    pub description: String,
}

/// A loaded model that answers inputs. `fit` is called once per repetition, before warm-up,
/// only when `needs_fit()` is true (traditional models); it is measured as its own window.
pub trait Backend: Send {
    fn info(&self) -> ModelInfo;
    fn needs_fit(&self) -> bool {
        false
    }
    fn fit(&mut self, _train: &[Example]) -> Result<()> {
        Ok(())
    }
    /// Answer a batch of inputs, one prediction per input, in order.
    fn predict(&mut self, batch: &[&Example]) -> Result<Vec<Prediction>>;
}

/// Dense sentence embeddings, as produced by the candle embedding model and consumed by the
/// traditional "embedding features + logistic regression" classifier.
pub trait TextEmbedder: Send {
    /// Embedding width.
    fn dimension(&self) -> usize;
    /// One vector per text, in order, with the number of tokens each text used.
    fn embed(&mut self, texts: &[&str]) -> Result<Vec<(Vec<f32>, u32)>>;
    fn info(&self) -> ModelInfo;
}
