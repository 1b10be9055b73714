//! powerhungry-meter: see the crate description and ../shared/DESIGN.md.
