//! The contracts every backend and task share. Later tasks extend `Input`/`Output` with their
//! own variants; the harness only moves them around and hands outputs to the task's metric.

use anyhow::Result;

/// One example of a dataset, as the harness hands it to a backend.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Example {
    /// Stable identifier within the dataset (row number or the dataset's own id), recorded
    /// with every prediction so a sample can be reproduced.
    pub id: String,
    pub input: Input,
    /// Gold class label where the dataset has one (text and image classification). It is
    /// also what samples are stratified by.
    pub label: Option<String>,
    /// Gold answer of the other tasks (answers, tags, references, boxes); `None` for
    /// classification (whose gold is `label`) and for tasks without a quality metric.
    pub gold: Option<Gold>,
}

impl Example {
    /// The gold answer as the results store keeps it: the class label as is, any other gold
    /// as JSON (`{"answers": [...]}`).
    pub fn gold_text(&self) -> Option<String> {
        match (&self.label, &self.gold) {
            (Some(l), _) => Some(l.clone()),
            (None, Some(g)) => serde_json::to_string(g).ok(),
            (None, None) => None,
        }
    }
}

/// What a backend is asked, one variant per input shape of the ten tasks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A text: a sentence to classify, a prompt to continue, a document to summarise, a
    /// prompt for an image.
    Text(String),
    /// Extractive question answering: the answer is a span of `context`.
    QuestionContext { question: String, context: String },
    /// Masked language modelling: `words` with `words[masked]` to be predicted; the backend
    /// puts its tokenizer's mask token there (the study: the 20th of the first 20 words).
    Masked { words: Vec<String>, masked: usize },
    /// Token classification: a sentence as tokens (the pipeline gets them joined by spaces).
    Tokens(Vec<String>),
    /// An image file (image classification, object detection, captioning).
    Image(std::path::PathBuf),
}

impl Input {
    /// The text of a plain-text input.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Input::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The input as one string, for backends that take text (a token list joined by spaces,
    /// as the study's pipelines got it; the masked word as `mask`).
    pub fn to_text(&self, mask: &str) -> Option<String> {
        match self {
            Input::Text(t) => Some(t.clone()),
            Input::Tokens(t) => Some(t.join(" ")),
            Input::Masked { words, masked } => Some(
                words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| if i == *masked { mask } else { w.as_str() })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Input::QuestionContext { .. } | Input::Image(_) => None,
        }
    }
}

/// Gold answers of the tasks other than classification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gold {
    /// Extractive QA: every acceptable answer text (SQuAD has several); the score is the
    /// best over them.
    Answers(Vec<String>),
    /// Masked language modelling: the word that was masked.
    Word(String),
    /// Token classification: one IOB2 tag per input token (IOB1 files are converted when
    /// read).
    Tags(Vec<String>),
    /// Summaries, captions, a text's continuation: one or more references.
    References(Vec<String>),
    /// Object detection: the image's gold boxes.
    Boxes(Vec<GoldBox>),
}

/// A gold object of a detection dataset (COCO's `annotations`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoldBox {
    /// Category name (COCO's `categories[].name`).
    pub category: String,
    /// `[x, y, width, height]` in pixels, COCO's convention.
    pub bbox: [f64; 4],
    /// Segment area (COCO's `area`, which its evaluation uses for the size ranges).
    pub area: f64,
    /// Crowd regions match any number of detections and are never counted as misses.
    pub iscrowd: bool,
}

/// What a backend answered, one variant per output shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// A class label, spelled as in the dataset's label set.
    Label(String),
    /// An answer span (extractive QA), with character offsets into the context where the
    /// backend gives them.
    Answer {
        text: String,
        start: Option<usize>,
        end: Option<usize>,
    },
    /// Fill-mask: candidate words, best first (the pipeline's top-k).
    Words(Vec<String>),
    /// Token classification: entities with character offsets into the space-joined tokens
    /// (the pipeline's `aggregation_strategy="simple"`).
    Entities(Vec<Entity>),
    /// Generated text: a continuation, a summary, a caption.
    Text(String),
    /// Object detection: boxes with their label and score.
    Detections(Vec<Detection>),
    /// A generated image, written to a file in the run's folder (never through a pipe).
    Image(GeneratedImage),
    /// A zero-shot answer that parsed to nothing the task accepts: kept, counted, shown, and
    /// scored as wrong, never dropped.
    Unparsed(String),
}

impl Output {
    /// The output as the results store keeps it: a label as is (the classification tables
    /// read it), any other output as JSON (`{"text": "..."}`), which `--predictions` exports.
    pub fn record_text(&self) -> String {
        match self {
            Output::Label(l) => l.clone(),
            other => serde_json::to_string(other).unwrap_or_else(|e| format!("<{e}>")),
        }
    }
}

/// One entity of token classification.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entity {
    /// Entity type without the IOB prefix (`PER`, `LOC`).
    pub label: String,
    /// Character offsets into the tokens joined by single spaces, end exclusive.
    pub start: usize,
    pub end: usize,
}

/// One detected object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detection {
    pub label: String,
    pub score: f64,
    /// `[x, y, width, height]` in pixels (COCO's convention; the transformers pipeline's
    /// xmin/ymin/xmax/ymax are converted by the backend).
    pub bbox: [f64; 4],
}

/// An image a model generated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GeneratedImage {
    pub path: std::path::PathBuf,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// Diffusion steps run.
    pub steps: u32,
}

/// What one inference produced, with the sizes the studies relate energy to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Prediction {
    pub output: Output,
    /// Tokens the model read (0 where the model has no tokenizer, e.g. bag-of-words counts words).
    pub input_tokens: u32,
    /// Tokens the model produced (0 for classifiers).
    pub output_tokens: u32,
    /// How the request went, for a model behind a server (None for models run in process).
    pub request: Option<RequestStats>,
}

/// One request to a served model (the OpenAI-compatible backend): its own timings, where its
/// token counts came from, and its error if it failed (a failed request is still a
/// prediction, scored as wrong, so nothing already measured is dropped).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct RequestStats {
    /// From sending the request to its last byte, retries and their waits included, seconds.
    pub e2e_s: f64,
    /// Time to first token: from sending to the first streamed content, seconds (None
    /// without streaming, or when no content came).
    pub ttft_s: Option<f64>,
    /// Gaps between successive streamed content chunks, seconds.
    pub inter_token_s: Vec<f64>,
    /// Where the token counts came from: `usage` (the server's own counts), `stream-chunks`
    /// (no usage: output tokens counted as streamed content chunks, input tokens unknown and
    /// recorded as 0), or `unknown` (no usage, no stream: both recorded as 0).
    pub tokens_from: String,
    /// Times the server asked for a retry (429/503 with Retry-After) and got one.
    pub retries: u32,
    /// Why the request failed, if it did.
    pub error: Option<String>,
}

/// Static facts about a loaded model, for the results store and the reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelInfo {
    /// Number of parameters where known (from the config or the fitted model).
    pub parameters: Option<u64>,
    /// Free-form description: architecture, features, classifier.
    pub description: String,
}

/// Where the next predictions belong in a run, told by the runner before each repetition's
/// warm-up and before its measured inferences. A backend that writes a file per inference (a
/// generated image) names the file from it (and counts positions from 0 after each call);
/// the others ignore it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictionScope {
    /// The run's id in the results store.
    pub run: i64,
    /// The model's and the dataset's names in the suite.
    pub model: String,
    pub dataset: String,
    /// The repetition's index as the store keeps it (from 0).
    pub repetition: u32,
    /// True for the warm-up (predictions not stored), false for the measured inferences.
    pub warmup: bool,
}

/// A loaded model that answers inputs. `fit` is called once per repetition, before warm-up,
/// only when `needs_fit()` is true (traditional models); it is measured as its own window.
pub trait Backend: Send {
    fn info(&self) -> ModelInfo;
    /// Told once after loading, before fit and warm-up: the task it answers and the
    /// dataset's label set (a zero-shot model builds its prompts and parses its answers with
    /// them). Refuse here, with a clear error, a task the model cannot answer.
    fn prepare(&mut self, _task: crate::TaskName, _labels: &[String]) -> Result<()> {
        Ok(())
    }
    fn needs_fit(&self) -> bool {
        false
    }
    fn fit(&mut self, _train: &[Example]) -> Result<()> {
        Ok(())
    }
    /// The run, repetition and phase the next predictions belong to (see `PredictionScope`).
    fn begin(&mut self, _scope: &PredictionScope) -> Result<()> {
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
