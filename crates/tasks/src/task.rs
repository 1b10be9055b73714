//! The task kinds a suite names (`task = "text-classification"`): the ten of "Power Hungry
//! Processing", with the Hugging Face pipeline each ran through.

use serde::{Deserialize, Serialize};

/// Tasks the harness knows; each brings its input shape, gold shape and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskName {
    TextClassification,
    /// Extractive question answering (`question-answering`).
    ExtractiveQa,
    /// Masked language modelling (`fill-mask`).
    MaskedLanguageModelling,
    TokenClassification,
    TextGeneration,
    Summarization,
    ImageClassification,
    ObjectDetection,
    /// Image captioning (`image-to-text`).
    ImageCaptioning,
    /// Text-to-image generation (diffusers `DiffusionPipeline`).
    ImageGeneration,
}

impl TaskName {
    /// Every task, in the study's order.
    pub const ALL: [TaskName; 10] = [
        TaskName::TextClassification,
        TaskName::ExtractiveQa,
        TaskName::MaskedLanguageModelling,
        TaskName::TokenClassification,
        TaskName::TextGeneration,
        TaskName::Summarization,
        TaskName::ImageClassification,
        TaskName::ObjectDetection,
        TaskName::ImageCaptioning,
        TaskName::ImageGeneration,
    ];

    /// The name a suite uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskName::TextClassification => "text-classification",
            TaskName::ExtractiveQa => "extractive-qa",
            TaskName::MaskedLanguageModelling => "masked-language-modelling",
            TaskName::TokenClassification => "token-classification",
            TaskName::TextGeneration => "text-generation",
            TaskName::Summarization => "summarization",
            TaskName::ImageClassification => "image-classification",
            TaskName::ObjectDetection => "object-detection",
            TaskName::ImageCaptioning => "image-captioning",
            TaskName::ImageGeneration => "image-generation",
        }
    }

    /// The task a suite names, or None.
    pub fn parse(name: &str) -> Option<TaskName> {
        TaskName::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The transformers pipeline task the study ran it with (diffusers for image generation).
    pub fn pipeline(self) -> &'static str {
        match self {
            TaskName::TextClassification => "text-classification",
            TaskName::ExtractiveQa => "question-answering",
            TaskName::MaskedLanguageModelling => "fill-mask",
            TaskName::TokenClassification => "token-classification",
            TaskName::TextGeneration => "text-generation",
            TaskName::Summarization => "summarization",
            TaskName::ImageClassification => "image-classification",
            TaskName::ObjectDetection => "object-detection",
            TaskName::ImageCaptioning => "image-to-text",
            TaskName::ImageGeneration => "diffusers:DiffusionPipeline",
        }
    }

    /// Whether the task's gold is a class label (`Example::label`) rather than `Example::gold`.
    pub fn gold_is_label(self) -> bool {
        matches!(
            self,
            TaskName::TextClassification | TaskName::ImageClassification
        )
    }

    /// The metric a report puts on its quality axis for this task (accuracy against energy,
    /// the Pareto front): one of the names `metrics::score_task` returns for it. `None` for
    /// the tasks without a quality metric (text and image generation), as in the study.
    /// Summaries are ranked by ROUGE-L and captions by CIDEr-D, the figures their fields
    /// usually lead with; the other metrics stay in the tables.
    pub fn headline_metric(self) -> Option<&'static str> {
        match self {
            TaskName::TextClassification | TaskName::ImageClassification => Some("accuracy"),
            TaskName::ExtractiveQa => Some("f1"),
            TaskName::MaskedLanguageModelling => Some("top1_accuracy"),
            TaskName::TokenClassification => Some("entity_f1"),
            TaskName::Summarization => Some("rougeL"),
            TaskName::ObjectDetection => Some("map"),
            TaskName::ImageCaptioning => Some("cider_d"),
            TaskName::TextGeneration | TaskName::ImageGeneration => None,
        }
    }

    /// Whether outputs are generated text, whose length a report plots against energy.
    pub fn generates_text(self) -> bool {
        matches!(
            self,
            TaskName::TextGeneration | TaskName::Summarization | TaskName::ImageCaptioning
        )
    }

    /// Whether inputs are images (the dataset holds image files).
    pub fn takes_images(self) -> bool {
        matches!(
            self,
            TaskName::ImageClassification | TaskName::ObjectDetection | TaskName::ImageCaptioning
        )
    }
}

impl std::fmt::Display for TaskName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for t in TaskName::ALL {
            let json = serde_json::to_string(&t).expect("serialises");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<TaskName>(&json).ok(), Some(t));
            assert_eq!(TaskName::parse(t.as_str()), Some(t));
        }
        assert_eq!(TaskName::parse("no-such-task"), None);
    }
}
