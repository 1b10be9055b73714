//! powerhungry-carbon: grid intensity tables, location resolution, PUE, emissions, equivalents,
//! training estimates and parity. Knows nothing of sensors or models (see shared DESIGN.md).
//!
//! Entry points: [`location::resolve`] (flags > env > config > world average) gives a
//! [`ResolvedIntensity`]; [`ResolvedIntensity::emissions`] or [`emissions_g`] turn joules into
//! gCO2e; [`estimate::estimate`] and [`parity::parity`] serve the `estimate` and `parity` commands.

pub mod cloud;
pub mod emissions;
pub mod error;
pub mod estimate;
pub mod grid;
pub mod hardware;
pub mod list;
pub mod location;
pub mod parity;
pub mod suggest;
pub mod units;

pub use emissions::{emissions_g, emissions_kg, Emissions, Equivalents};
pub use error::CarbonError;
pub use estimate::{estimate, model_card_yaml, round_sig, Estimate, EstimateInput, TrainingType};
pub use hardware::{lookup_hardware, Hardware};
pub use location::{resolve, LocationQuery, ResolvedIntensity};
pub use parity::{days_at, parity, parity_inferences, Parity};
