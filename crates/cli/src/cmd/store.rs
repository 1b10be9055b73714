//! `powerhungry store copy FROM TO`: move runs between results stores (an SQLite file, a
//! PostgreSQL database), either way. The work is in `powerhungry_store::copy_runs`.

use anyhow::{Context, Result};
use powerhungry_store::Store;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Copy runs from one store to another (SQLite to PostgreSQL, back, or between two of a
    /// kind), every row with its ids renumbered. A run TO holds whole already is left alone
    /// (copying twice copies once); a run TO holds in part (copied while it ran) is replaced
    /// by the whole. One transaction per run: an interrupted copy leaves whole runs only.
    Copy(CopyArgs),
}

#[derive(clap::Args)]
pub struct CopyArgs {
    /// The store to read: an SQLite file or a postgres:// URL (must exist)
    #[arg(value_name = "FROM")]
    pub from: PathBuf,
    /// The store to write: an SQLite file or a postgres:// URL (created if missing)
    #[arg(value_name = "TO")]
    pub to: PathBuf,
    /// Only this run of FROM, by id (repeatable; default every run)
    #[arg(long = "run", value_name = "ID")]
    pub runs: Vec<i64>,
}

pub fn run(args: Args) -> Result<u8> {
    match args.action {
        Action::Copy(a) => copy(a),
    }
}

fn copy(a: CopyArgs) -> Result<u8> {
    let from = Store::open_existing(&a.from).context("store copy: FROM")?;
    let mut to = Store::open(&a.to).context("store copy: TO")?;
    let outcome = powerhungry_store::copy_runs(&from, &mut to, &a.runs)?;
    let (src, dst) = (from.path().display(), to.path().display());
    for (old, new) in &outcome.copied {
        println!("run {old} of {src} copied to {dst} as run {new}");
    }
    for (old, new) in &outcome.replaced {
        println!("run {old} of {src} replaced the partial copy in {dst} (now run {new})");
    }
    for (old, new) in &outcome.unchanged {
        println!("run {old} of {src} is already in {dst} as run {new}: left as it is");
    }
    println!(
        "{} copied, {} replaced, {} already there",
        outcome.copied.len(),
        outcome.replaced.len(),
        outcome.unchanged.len()
    );
    Ok(0)
}
