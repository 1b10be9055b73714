//! `powerhungry report`: tables in the terminal, and on request one self-contained HTML file,
//! CSV tables and a JSON export. The work is in `powerhungry_report`.

use anyhow::{Context, Result};
use powerhungry_report::build::{build, load_input, ReportOptions};
use powerhungry_report::codecarbon::Timestamp;
use powerhungry_report::predictions::{write_predictions_dir, PredictionFilter};
use powerhungry_report::{export, html, parity, tables};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Results store written by `powerhungry bench` or `powerhungry import` (an SQLite file
    /// or a postgres:// URL), or a report exported earlier with --json
    #[arg(default_value = powerhungry_store::DEFAULT_STORE, value_name = "STORE_OR_JSON")]
    pub input: PathBuf,
    /// Only runs of this suite (repeatable; matches any)
    #[arg(long, value_name = "NAME")]
    pub suite: Vec<String>,
    /// Only this task, e.g. text-classification (repeatable)
    #[arg(long, value_name = "TASK")]
    pub task: Vec<String>,
    /// Only this model, by its name in the suite or CodeCarbon project_name (repeatable)
    #[arg(long, value_name = "NAME")]
    pub model: Vec<String>,
    /// Write the report as one self-contained HTML file (inline SVG charts, no network needed)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write every table as DIR/<table>.csv (tasks, models, pareto, energy_vs_duration, bands,
    /// parity)
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Write the tables, the analysis and the input as JSON (readable back by `report`)
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write every stored prediction as JSON Lines, one file per run, model and dataset:
    /// DIR/run-<id>/<model>--<dataset>.jsonl (input id, prediction, gold, tokens, latency;
    /// for rescoring with your own tools). Needs a results store; --suite, --task and
    /// --model filter it.
    #[arg(long, value_name = "DIR")]
    pub predictions: Option<PathBuf>,
    /// Training (+ fine-tuning) energy of a model in kWh, e.g. `bert=1500` or `bert=1500+20`,
    /// to show after how many inferences inference energy equals it (repeatable)
    #[arg(long = "training-kwh", value_name = "MODEL=KWH")]
    pub training_kwh: Vec<String>,
    /// Print no tables (still writes --html/--csv/--json)
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> Result<u8> {
    let training = args
        .training_kwh
        .iter()
        .map(|t| parity::parse_training(t))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    if let Some(dir) = &args.predictions {
        // Before the report itself: the export streams from the store, whatever the report
        // would hold in memory.
        let filter = PredictionFilter {
            suites: args.suite.clone(),
            tasks: args.task.clone(),
            models: args.model.clone(),
        };
        let written = write_predictions_dir(&args.input, dir, &filter)
            .with_context(|| format!("--predictions {}", dir.display()))?;
        let n: u64 = written.iter().map(|w| w.predictions).sum();
        eprintln!(
            "wrote {n} prediction(s) in {} file(s) under {}",
            written.len(),
            dir.display()
        );
    }
    let input = load_input(&args.input)?;
    let opts = ReportOptions {
        suites: args.suite,
        tasks: args.task,
        models: args.model,
        training,
    };
    let report = build(&input, &opts)?;
    let generated = format!("{} UTC", Timestamp::now_utc());
    if !args.quiet {
        // A closed pipe (`| head`) ends the printing, not the command: files still get written.
        let mut out = std::io::stdout().lock();
        let text = report
            .tables
            .iter()
            .map(tables::render_text)
            .collect::<Vec<_>>()
            .join("\n");
        let skipped: String = report
            .analysis
            .notes
            .iter()
            .map(|s| format!("note: {s}\n"))
            .chain(
                report
                    .analysis
                    .skipped
                    .iter()
                    .map(|s| format!("left out: {s}\n")),
            )
            .collect();
        let _ = out
            .write_all(text.as_bytes())
            .and_then(|_| out.write_all(skipped.as_bytes()));
        let _ = out.flush();
    }
    if let Some(path) = &args.html {
        let page = html::render(&report.analysis, &report.parity, &generated);
        std::fs::write(path, page)
            .map_err(|e| anyhow::anyhow!("--html {}: cannot write: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &args.csv {
        let files = export::write_csv_dir(dir, &report.tables)?;
        eprintln!("wrote {} CSV files to {}", files.len(), dir.display());
    }
    if let Some(path) = &args.json {
        export::write_json(
            path,
            &generated,
            &report.input,
            &report.analysis,
            &report.parity,
            &report.tables,
        )?;
        eprintln!("wrote {}", path.display());
    }
    Ok(0)
}
