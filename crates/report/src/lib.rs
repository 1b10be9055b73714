//! powerhungry-report: see the crate description and ../shared/DESIGN.md.

pub mod analysis;
pub mod build;
pub mod charts;
pub mod codecarbon;
pub mod export;
pub mod fit;
pub mod from_store;
pub mod html;
pub mod import;
pub mod input;
pub mod pareto;
pub mod parity;
pub mod predictions;
pub mod rating;
pub use powerhungry_stats as stats;
pub mod svg;
pub mod tables;
