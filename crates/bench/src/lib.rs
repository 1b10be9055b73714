//! powerhungry-bench: the harness. Owns suite specs, the run plan (models x datasets x
//! repetitions), the measured windows per phase, repetitions and resume, progress, and the
//! closing summary. The backends are wired in by [`registry`]; results leave through the
//! `ResultSink` trait ([`sink`], implemented by the store crate).
//!
//! Must not know about: SQL, HTML, or how a backend computes its answers (that is behind
//! `powerhungry_tasks::Backend`).

pub mod hardware;
pub mod plan;
pub mod registry;
pub mod runner;
pub mod shard;
pub mod sink;
pub mod suite;
pub mod summary;
