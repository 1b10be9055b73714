//! Tests of location resolution.
