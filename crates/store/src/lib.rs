//! powerhungry-store: see the crate description and ../shared/DESIGN.md.
