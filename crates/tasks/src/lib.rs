//! powerhungry-tasks: what a task is, independent of who answers it and where its data comes
//! from. Owns the task kinds ([`TaskName`]), the `Input`/`Output` types every backend speaks,
//! the metrics that score outputs against gold answers, and the [`Backend`] trait.
//!
//! Must not know about: dataset file formats (crate `datasets`), any ML library (the
//! `backend-*` crates), the meter, the store or the report.

pub mod backend;
pub mod metrics;
pub mod prompts;
pub mod task;

pub use backend::{
    Backend, Detection, Entity, Example, GeneratedImage, Gold, GoldBox, Input, ModelInfo, Output,
    Prediction, PredictionScope, RequestStats, TextEmbedder,
};
pub use task::TaskName;
