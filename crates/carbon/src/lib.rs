//! powerhungry-carbon: see the crate description and ../shared/DESIGN.md.
