//! Errors of the carbon room. Every message names the flag, variable or file the bad value came from.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CarbonError {
    #[error("unknown country '{given}' ({origin}){}", suggest(.suggestions))]
    UnknownCountry {
        given: String,
        origin: String,
        suggestions: Vec<String>,
    },
    #[error("unknown region '{given}'{} ({origin}){}", in_country(.country), suggest(.suggestions))]
    UnknownRegion {
        given: String,
        country: Option<String>,
        origin: String,
        suggestions: Vec<String>,
    },
    #[error("region '{given}' ({origin}) is ambiguous: it matches {}; add a country (--country)", .matches.join(", "))]
    AmbiguousRegion {
        given: String,
        origin: String,
        matches: Vec<String>,
    },
    #[error("unknown cloud region '{given}' ({origin}){}", suggest(.suggestions))]
    UnknownCloudRegion {
        given: String,
        origin: String,
        suggestions: Vec<String>,
    },
    #[error("bad cloud location '{given}' ({origin}): expected PROVIDER:REGION with PROVIDER one of aws, azure, gcp (e.g. aws:us-west-2)")]
    BadCloudSyntax { given: String, origin: String },
    #[error("conflicting location ({origin}): {message}")]
    Conflict { origin: String, message: String },
    #[error("invalid {what} '{value}' ({origin}): {reason}")]
    InvalidValue {
        what: String,
        value: String,
        origin: String,
        reason: String,
    },
    #[error("config file {path}: {message}")]
    Config { path: String, message: String },
    #[error("unknown hardware '{given}'{}", suggest(.suggestions))]
    UnknownHardware {
        given: String,
        suggestions: Vec<String>,
    },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An embedded table failed to parse: a build defect, caught by the crate's tests.
    #[error("embedded data {file} is malformed: {message}")]
    EmbeddedData { file: String, message: String },
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        "; no close match (run `powerhungry intensity --list` for the table)".to_string()
    } else {
        format!("; did you mean: {}?", suggestions.join(", "))
    }
}

fn in_country(country: &Option<String>) -> String {
    match country {
        Some(c) => format!(" in {c}"),
        None => String::new(),
    }
}
