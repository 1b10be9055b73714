//! The `powerhungry` binary: argument parsing and wiring only. Each subcommand lives in
//! `cmd/<name>.rs` with its own `Args` and `run`; business logic lives in the room crates.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "powerhungry",
    version,
    about = "Measure the energy and carbon of machine-learning inference, beside accuracy",
    long_about = "Measure the energy and carbon of machine-learning inference, beside accuracy.\n\n\
Every figure is labelled with how it was obtained (measured:rapl, measured:nvml-energy, \
measured:nvml-power, estimated:cpu-load, estimated:ram, ...), so a report never mixes a \
measurement with a guess silently."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command and measure the energy it used: `powerhungry measure -- CMD ARGS...`
    Measure(cmd::measure::Args),
    /// Show what this machine can measure, how, and why not where it can't
    Sensors(cmd::sensors::Args),
    /// Look up the carbon intensity of a grid location
    Intensity(cmd::intensity::Args),
    /// Estimate the energy and carbon of compute after the fact (training, as in "Counting Carbon")
    Estimate(cmd::estimate::Args),
    /// Inferences after which inference energy equals training (+ fine-tuning) energy
    Parity(cmd::parity::Args),
    /// Run a benchmark suite: models x datasets, repetitions, energy and accuracy
    Bench(cmd::bench::Args),
    /// Build a report (terminal tables, HTML with plots, CSV, JSON) from a results store
    Report(cmd::report::Args),
    /// Import other tools' logs (CodeCarbon emissions.csv) into a results store
    Import(cmd::import::Args),
    /// Serve this node's meter over HTTP for benches that span several machines
    Agent(cmd::agent::Args),
    /// Work on results stores: copy runs between SQLite files and PostgreSQL databases
    Store(cmd::store::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Measure(args) => cmd::measure::run(args),
        Command::Sensors(args) => cmd::sensors::run(args),
        Command::Intensity(args) => cmd::intensity::run(args),
        Command::Estimate(args) => cmd::estimate::run(args),
        Command::Parity(args) => cmd::parity::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Store(args) => cmd::store::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Agent(args) => cmd::agent::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("powerhungry: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
