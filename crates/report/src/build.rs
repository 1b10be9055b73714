//! One call from input path to every output, so the CLI only parses flags.

use crate::analysis::{analyse, Analysis};
use crate::input::ReportInput;
use crate::parity::{parity_rows, ParityRow};
use crate::tables::{all_tables, Table};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// Read a store (SQLite) or an exported JSON report, told apart by their first bytes.
pub fn load_input(path: &Path) -> Result<ReportInput> {
    if path
        .to_str()
        .is_some_and(powerhungry_store::is_postgres_url)
    {
        return crate::from_store::read_store(path);
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .with_context(|| {
            format!(
                "{}: cannot read (expected a results store or an exported report JSON)",
                path.display()
            )
        })?;
    if head[..n].starts_with(b"SQLite format 3") {
        return crate::from_store::read_store(path);
    }
    if head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return crate::export::read_json(path);
    }
    if n == 0 {
        bail!(
            "{}: empty file (expected a results store or an exported report JSON)",
            path.display()
        );
    }
    bail!(
        "{}: neither a SQLite results store nor a JSON report export",
        path.display()
    )
}

/// Filters and extra inputs of a report.
#[derive(Debug, Default, Clone)]
pub struct ReportOptions {
    pub suites: Vec<String>,
    pub tasks: Vec<String>,
    pub models: Vec<String>,
    /// (model, training + fine-tuning kWh) for parity.
    pub training: Vec<(String, f64)>,
}

/// Everything a report shows.
pub struct Report {
    pub input: ReportInput,
    pub analysis: Analysis,
    pub parity: Vec<ParityRow>,
    pub tables: Vec<Table>,
}

/// Filter, analyse, and tabulate. Fails when the filters leave nothing, naming what exists.
pub fn build(all: &ReportInput, opts: &ReportOptions) -> Result<Report> {
    let input = all.filtered(&opts.suites, &opts.tasks, &opts.models);
    if input.series.is_empty() {
        let list = |f: &dyn Fn(&crate::input::Series) -> Option<String>| {
            let mut v: Vec<String> = all.series.iter().filter_map(f).collect();
            v.sort();
            v.dedup();
            v.join(", ")
        };
        if all.series.is_empty() {
            bail!("{}: holds no results yet", all.source);
        }
        bail!(
            "no results match the filters. Suites: {}. Tasks: {}. Models: {}",
            list(&|s| s.suite.clone()),
            list(&|s| Some(s.task.clone())),
            list(&|s| Some(s.model.clone()))
        );
    }
    for (model, _) in &opts.training {
        if !input.series.iter().any(|s| &s.model == model) {
            bail!("--training-kwh {model}=...: no model {model:?} in the report");
        }
    }
    let analysis = analyse(&input);
    let parity = parity_rows(&analysis, &opts.training);
    let tables = all_tables(&analysis, &parity);
    Ok(Report {
        input,
        analysis,
        parity,
        tables,
    })
}
