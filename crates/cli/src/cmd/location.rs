//! Location flags shared by `measure`, `bench` and `estimate` (being built by the carbon issue).

#[derive(clap::Args, Debug, Clone, Default)]
pub struct LocationFlags {}
