//! One file per subcommand: its clap `Args` and a `run` returning the process exit code.

pub mod agent;
pub mod bench;
pub mod estimate;
pub mod import;
pub mod intensity;
pub mod location;
pub mod measure;
pub mod node_rank;
pub mod parity;
pub mod report;
pub mod sensors;
pub mod store;
