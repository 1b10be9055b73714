//! powerhungry-bench: see the crate description and ../shared/DESIGN.md.
