//! The candle backend: transformer encoders in pure Rust (candle, pinned in the workspace).
//! - [`CandleEmbedder`]: sentence embeddings (BERT and XLM-RoBERTa families; pooling and
//!   normalisation from the folder's modules.json, as sentence-transformers; all-MiniLM-L6-v2,
//!   paraphrase-multilingual-mpnet-base-v2), a [`powerhungry_tasks::TextEmbedder`];
//! - [`SequenceClassifier`]: BERT / DistilBERT / RoBERTa `...ForSequenceClassification`
//!   with Hugging Face's head weights, a [`powerhungry_tasks::Backend`];
//! - [`CausalLm`]: a GGUF decoder (Llama architecture, quantized; SmolLM2) answering tasks
//!   zero-shot through a prompt and the file's chat template, a [`powerhungry_tasks::Backend`];
//!   its weights re-encoded at load by default ([`reencode`]: candle's Q4_1 matmul is scalar).
//!
//! Models come from a local folder or the Hugging Face cache ([`files`]).
//!
//! Must not know about: the meter, the store, dataset formats, other backends.

pub mod causal_lm;
pub mod chat_template;
pub mod classifier;
pub mod config;
pub mod embedder;
pub mod encoder;
pub mod fast_bert;
pub mod fast_math;
pub mod files;
pub mod gguf_tokenizer;
pub mod packed;
pub mod reencode;
pub mod st_modules;
pub mod tiny;
pub mod tiny_xlmr;
pub mod tokenize;

pub use causal_lm::{CausalLm, CausalLmOptions, GgufLm};
pub use classifier::SequenceClassifier;
pub use embedder::CandleEmbedder;
pub use files::{resolve, ModelFiles, ResolveOptions};
pub use reencode::WeightFormat;
