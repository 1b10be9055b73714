//! `powerhungry import codecarbon FILE...`: other tools' logs into the results store, so
//! `powerhungry report` covers measurements people already have.

use anyhow::{Context, Result};
use powerhungry_report::codecarbon::read_file;
use powerhungry_report::import::{import_codecarbon, read_parameters, ImportOptions, ModelFrom};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(clap::Subcommand)]
pub enum Source {
    /// CodeCarbon emissions.csv files, or its task files (emissions_<experiment>_<run_id>.csv,
    /// written for tracker.start_task()/stop_task()), 2.x or 3.x headers matched by column
    /// name: one model per project_name (or task_name, see --model-from), one repetition per
    /// row; CPU/RAM powers that are CodeCarbon's constant guesses are labelled estimated
    Codecarbon(CodecarbonArgs),
}

#[derive(clap::Args)]
pub struct CodecarbonArgs {
    /// CodeCarbon CSV files to import
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Task the rows measured, e.g. text-classification (sets the rating bands and charts)
    #[arg(long, value_name = "TASK")]
    pub task: String,
    /// Name of the dataset the rows ran on
    #[arg(long, value_name = "NAME")]
    pub dataset: String,
    /// Inferences each row covers (the Power Hungry Processing logs: 1000). Without it each
    /// row counts as one, and per-1,000 figures are per 1,000 rows
    #[arg(long, value_name = "N")]
    pub inferences: Option<u64>,
    /// CSV of parameter counts (columns model or model_name, and parameters or num_parameters)
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// Which column names the models: `project` (project_name, any file) or `task`
    /// (task_name; every FILE must then be a CodeCarbon task file)
    #[arg(long, value_enum, default_value_t = ModelColumn::Project, value_name = "COLUMN")]
    pub model_from: ModelColumn,
    /// Replace an earlier import of the same file (same content) instead of refusing it
    #[arg(long)]
    pub replace: bool,
    /// Results store to add to (created if missing): an SQLite file or a postgres:// URL
    #[arg(long, default_value = powerhungry_store::DEFAULT_STORE, value_name = "STORE")]
    pub store: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ModelColumn {
    /// project_name
    Project,
    /// task_name (CodeCarbon task files only)
    Task,
}

pub fn run(args: Args) -> Result<u8> {
    let Source::Codecarbon(a) = args.source;
    let mut opts = ImportOptions {
        task: a.task,
        dataset: a.dataset,
        inferences: a.inferences,
        parameters: Default::default(),
        model_from: match a.model_from {
            ModelColumn::Project => ModelFrom::Project,
            ModelColumn::Task => ModelFrom::Task,
        },
        replace: a.replace,
    };
    opts.validate()?;
    if let Some(p) = &a.parameters {
        opts.parameters = read_parameters(p)?;
    }
    // Read everything before touching the store: a bad file imports nothing.
    let files = a
        .files
        .iter()
        .map(|f| read_file(f))
        .collect::<Result<Vec<_>, _>>()?;
    opts.check_files(&files)?;
    let mut store = powerhungry_store::Store::open(&a.store)?;
    let sum = import_codecarbon(&mut store, &files, &opts)
        .with_context(|| format!("importing into {}", store.path().display()))?;
    for w in &sum.warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "imported {} rows of {} models from {} file(s) into {} ({} run(s){})",
        sum.repetitions,
        sum.models,
        files.len(),
        store.path().display(),
        sum.runs,
        if sum.replaced > 0 {
            format!(", replacing {} run(s) of an earlier import", sum.replaced)
        } else {
            String::new()
        }
    );
    Ok(0)
}
