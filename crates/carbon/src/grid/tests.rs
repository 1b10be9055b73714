//! Tests of the grid tables.
