//! LLMs where people serve them: a client for OpenAI-compatible servers (vLLM, TGI, llama.cpp,
//! Ollama, `transformers serve`) as a powerhungry `Backend`.
//!
//! - [`config`]: the suite's options (base URL, API, streaming, key variable, load, limits).
//! - [`sse`]: the server-sent-events parser of streamed answers.
//! - [`client`]: one timed request (TTFT, inter-token gaps, end-to-end), retries, failures.
//! - [`load`]: sequential or N-in-flight over a batch.
//! - [`backend`]: prompts in, parsed answers out, per-request stats on each prediction.

pub mod arrivals;
pub mod backend;
pub mod client;
pub mod config;
pub mod load;
pub mod sse;

pub use backend::{preflight, OpenAiBackend, TASKS};
pub use config::{Api, Config};
