//! powerhungry-report: see the crate description and ../shared/DESIGN.md.

pub mod fit;
pub mod input;
pub mod pareto;
pub mod rating;
pub mod stats;
pub mod analysis;
pub mod codecarbon;
pub mod parity;
pub mod tables;
