//! CodeCarbon's `emissions.csv`: writing 3.x rows (38 columns) so existing CodeCarbon
//! dashboards and scripts read powerhungry's runs, and reading 2.x/3.x files (and task files) for
//! `powerhungry import codecarbon`, with CodeCarbon's guessed CPU/RAM power labelled.

pub mod csv_row;
mod guess;
mod read;
mod row;
mod timestamp;
mod write;

pub use guess::Provenance;
pub use read::{read_bytes, read_file, Format, ImportedFile, ImportedRow, V2_COLUMNS};
pub use row::{EmissionsRow, RunEnergy};
pub use timestamp::Timestamp;
pub use write::{append, check_appendable, format_float, record, OnHeaderMismatch, V3_COLUMNS};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CodecarbonError {
    // `cause`, not `source`: the message already holds it, and a `source` would print twice.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}:{line}: malformed CSV: {cause}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        cause: csv::Error,
    },
    #[error(
        "{}: exists with a header that is not CodeCarbon 3.x's 38 columns ({found_columns} \
         columns; {first_difference}); not appending to it: choose another file or ask for a \
         new one",
        path.display()
    )]
    HeaderMismatch {
        path: PathBuf,
        found_columns: usize,
        first_difference: String,
    },
    #[error("{}: no `{column}` column in the header", path.display())]
    MissingColumn { path: PathBuf, column: String },
    #[error("{}:{line}: column `{column}`: {value:?} {what}", path.display())]
    Value {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        what: String,
    },
}

#[cfg(test)]
mod tests;
