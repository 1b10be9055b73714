//! The backend registry: which (backend, kind) pairs exist, and how a suite's model spec
//! becomes a loaded `Backend`. This is where the backends' constructors are wired in.

use crate::backend::Backend;
use crate::suite::{BackendName, ModelSpec};
use anyhow::Result;

/// Kinds each backend builds.
pub const KINDS: &[(BackendName, &[&str])] = &[
    (
        BackendName::Traditional,
        &["bow-lr", "tfidf-char-lr", "embedding-lr"],
    ),
    (BackendName::Candle, &["sequence-classifier"]),
];

/// Whether `kind` exists for `backend`; the error says what would have been accepted.
pub fn check_kind(backend: BackendName, kind: &str) -> Result<(), String> {
    let kinds = KINDS
        .iter()
        .find(|(b, _)| *b == backend)
        .map(|(_, k)| *k)
        .unwrap_or(&[]);
    if kinds.contains(&kind) {
        return Ok(());
    }
    let list: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
    Err(format!(
        "\"{kind}\" is not a kind of the {} backend; expected one of {}",
        backend.as_str(),
        list.join(", ")
    ))
}

/// Turns model specs into backends. The runner calls `load` inside the measured load window
/// of every repetition; `missing` is asked once, before anything runs.
pub trait BackendFactory {
    /// None when the model's files are all there; otherwise what is missing and how to get it.
    fn missing(&self, spec: &ModelSpec) -> Option<String>;
    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn Backend>>;
}
