//! powerhungry-bench: suite specs, datasets, tasks and metrics, backends, the run plan,
//! repetitions and per-inference timing. Knows nothing of SQL or HTML: results leave through
//! the `ResultSink` trait (implemented by the store crate).

pub mod backend;
pub mod backends;
pub mod datasets;
pub mod hardware;
pub mod metrics;
pub mod plan;
pub mod registry;
pub mod runner;
pub mod sink;
pub mod stats;
pub mod suite;
pub mod summary;
