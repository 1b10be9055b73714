//! powerhungry-report: see the crate description and ../shared/DESIGN.md.
