//! `powerhungry bench SUITE`: run a benchmark suite into the results store, then print the
//! summary table. Wiring only: the suite, runner and summary live in powerhungry-bench, the
//! store in powerhungry-store.

use super::location::LocationFlags;
use anyhow::{Context, Result};
use powerhungry_agent::{AgentEndpoint, RemoteMeters};
use powerhungry_bench::hardware;
use powerhungry_bench::registry::Registry;
use powerhungry_bench::runner::EnergyMeter;
use powerhungry_bench::runner::{
    self, meter::MeterAdapter, Bars, Progress, Quiet, RunOptions, RunParts,
};
use powerhungry_bench::shard;
use powerhungry_bench::sink::LocationRecord;
use powerhungry_bench::sink::ResultSink;
use powerhungry_bench::suite::{LoadedSuite, SuiteLocation};
use powerhungry_bench::summary::summarize_run;
use powerhungry_carbon::location::{layers_from_environment, resolve_layers, Layer, Origin};
use powerhungry_carbon::{LocationQuery, ResolvedIntensity};
use powerhungry_meter::claim::{default_claim_dir, ClaimPolicy};
use powerhungry_meter::{GpuSelection, MeterConfig, Scope};
use powerhungry_report::predictions::{check_writable, write_run_predictions};
use powerhungry_store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The suite file (TOML): models, datasets, protocol, location. See docs/bench.md.
    #[arg(value_name = "SUITE")]
    pub suite: PathBuf,
    /// Results store, created if missing; runs are appended, never overwritten. An SQLite
    /// file, or a PostgreSQL database shared by many machines:
    /// `postgres://USER@HOST:PORT/DB` (password in the URL, PGPASSWORD or ~/.pgpass; never
    /// printed). See docs/store.md.
    #[arg(long, default_value = powerhungry_store::DEFAULT_STORE, value_name = "PATH|URL")]
    pub store: PathBuf,
    /// Continue the latest unfinished run of this suite (same suite file and protocol) in the
    /// store, skipping the repetitions already stored.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard I of N of the suite's plan (model x dataset x repetition units, split
    /// by position, the same on every machine), e.g. `--shard 2/4`. Every shard of one
    /// invocation gives the same --run-name and joins one run in the store; the run ends when
    /// its last shard does, and a shard that failed is rerun alone. Under a Slurm job array
    /// (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) the shard and the run name
    /// (slurm-array-<SLURM_ARRAY_JOB_ID>) come from Slurm's variables.
    #[arg(long, value_name = "I/N", help_heading = "Sharding")]
    pub shard: Option<String>,
    /// The name that the shards of one invocation share (needed with --shard).
    #[arg(long, value_name = "NAME", help_heading = "Sharding")]
    pub run_name: Option<String>,
    /// Meter a job that spans several machines through their node agents (`powerhungry agent`
    /// on each): every window is opened and closed on every agent; energy is the sum over
    /// nodes, duration the longest, each node's part kept. No local meter is started.
    #[arg(long, value_name = "URL,URL", help_heading = "Meter")]
    pub agents: Option<String>,
    /// File with the bearer token of the agents of --agents.
    #[arg(long, value_name = "FILE", requires = "agents", help_heading = "Meter")]
    pub agent_token_file: Option<PathBuf>,
    /// Override the suite's measured inferences per model, dataset and repetition.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub inferences: Option<u32>,
    /// Override the suite's warm-up inferences (run before the measured ones, not counted).
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,
    /// Override the suite's number of repetitions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repetitions: Option<u32>,
    /// Measure idle power for N seconds before the run, so energy is also shown above idle.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub idle_seconds: f64,
    /// No progress bars or notes on stderr (the summary table still goes to stdout).
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the summary as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write every prediction of the run to FILE as JSON Lines (model, dataset,
    /// repetition, input id, prediction, gold, tokens, latency), read back from the store when
    /// the run ends; `report --predictions DIR` exports them again at any time.
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
    /// Let models missing from the local Hugging Face cache be downloaded from the hub
    /// (off by default: runs never touch the network unless asked).
    #[arg(long)]
    pub allow_download: bool,
    /// The Python that runs `transformers` models (over a model's `python` option and
    /// POWERHUNGRY_PYTHON; default python3).
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,
    /// Power sampling interval of the meter in milliseconds (counters are read exactly at
    /// every window boundary whatever this is) Where only estimates are available (no RAPL, no
    /// GPU) samples are taken at most every 50 ms, as often as the estimates change; a note
    /// says so.
    #[arg(long, default_value_t = 100, value_name = "MS", help_heading = "Meter")]
    pub interval_ms: u64,
    /// Directory of the device claims shared by every meter on this machine, so that a bench
    /// beside a `measure` (or Slurm ranks) count each device once [default:
    /// $POWERHUNGRY_CLAIM_DIR, else $XDG_RUNTIME_DIR/powerhungry, else /tmp/powerhungry-locks-<uid>].
    #[arg(long, value_name = "DIR", help_heading = "Meter")]
    pub claim_dir: Option<PathBuf>,
    /// Don't claim devices: count everything even if another meter counts it too.
    #[arg(long, conflicts_with = "claim_dir", help_heading = "Meter")]
    pub no_claim: bool,
    /// When another meter holds a device this run needs, wait until it is released instead
    /// of refusing to start (the default refuses, naming the device and the holder's pid).
    #[arg(long, conflicts_with = "no_claim", help_heading = "Meter")]
    pub wait_for_devices: bool,
    /// Whose energy is counted: `machine` (everything the counted devices use; needs the
    /// devices to itself) or `process` (this bench's process tree's share of the CPU, by
    /// attribution; CPU and RAM are shared with other process-scope meters).
    #[arg(long, value_enum, default_value_t = ScopeArg::Machine, help_heading = "Meter")]
    pub scope: ScopeArg,
    /// CPU TDP in watts for the CPU-load estimate, overriding the embedded table.
    #[arg(long, value_name = "WATTS", help_heading = "Meter")]
    pub cpu_tdp: Option<f64>,
    /// GPUs the run uses and the meter counts: `all` (default: every GPU this process sees,
    /// CUDA_VISIBLE_DEVICES applies), `none`, or NVML indices `0,2`. The Python worker is
    /// started with CUDA_VISIBLE_DEVICES set to the same GPUs (numbered as NVML numbers them,
    /// CUDA_DEVICE_ORDER=PCI_BUS_ID), so the GPUs measured are the GPUs the model runs on.
    #[arg(long, value_name = "LIST", help_heading = "Meter")]
    pub gpus: Option<String>,
    /// Root of the sysfs tree to read RAPL from (a host's tree exposed to a VM, or a test tree).
    #[arg(
        long,
        default_value = "/sys",
        value_name = "DIR",
        help_heading = "Meter"
    )]
    pub sysfs_root: PathBuf,
    /// Root of the procfs tree to read utilisation, memory and CPU facts from.
    #[arg(
        long,
        default_value = "/proc",
        value_name = "DIR",
        help_heading = "Meter"
    )]
    pub procfs_root: PathBuf,
    #[command(flatten)]
    pub location: LocationFlags,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeArg {
    Machine,
    Process,
}

pub fn run(args: Args) -> Result<u8> {
    let suite = LoadedSuite::load(&args.suite)?;
    let mut protocol = suite.suite.protocol.clone();
    if let Some(n) = args.inferences {
        protocol.inferences = n;
    }
    if let Some(n) = args.repetitions {
        protocol.repetitions = n;
    }
    if let Some(n) = args.warmup {
        protocol.warmup = n;
    }
    // Checked before anything is opened or run.
    super::measure::parse_gpus(args.gpus.as_deref())?;
    if !args.idle_seconds.is_finite() || args.idle_seconds < 0.0 {
        anyhow::bail!(
            "--idle-seconds: expected a number of seconds >= 0, got {}",
            args.idle_seconds
        );
    }
    // Output files are checked before anything runs, not found unwritable at the end.
    for (flag, path) in [
        ("--json", &args.json),
        ("--csv", &args.csv),
        ("--predictions", &args.predictions),
    ] {
        if let Some(path) = path {
            check_writable(path, flag)?;
        }
    }
    let shard = shard::resolve(args.shard.as_deref(), args.run_name.as_deref(), &|k| {
        std::env::var(k).ok()
    })?;
    let mut progress: Box<dyn Progress> = if args.quiet {
        Box::new(Quiet)
    } else {
        Box::new(Bars::new())
    };

    let intensity = resolve_location(&args.location, suite.suite.location.as_ref(), &args.suite)?;
    if let Some(w) = &intensity.warning {
        progress.note(&format!("carbon: {w}"));
    }
    let mut store = Store::open(&args.store)?;

    let mut hw = hardware::detect(&args.procfs_root, Path::new("/etc"));
    let mut meter: Box<dyn EnergyMeter> = if let Some(list) = &args.agents {
        // A job over several nodes: every node's agent meters it; nothing local is started.
        let endpoints = agent_endpoints(list, args.agent_token_file.as_deref())?;
        let mut remote = RemoteMeters::connect(&endpoints, Duration::from_secs(30))
            .context("connecting to the agents (nothing was run or stored)")?;
        progress.note(&format!(
            "energy from {} node agent(s): {} (summed over nodes, duration the longest)",
            remote.nodes().len(),
            remote.nodes().join(", ")
        ));
        if args.idle_seconds > 0.0 {
            if !args.quiet {
                eprintln!(
                    "powerhungry: measuring every node's idle power for {} s (keep the nodes \
                     quiet)",
                    args.idle_seconds
                );
            }
            remote
                .measure_idle(args.idle_seconds)
                .context("measuring idle power on the agents (nothing was run or stored)")?;
        }
        Box::new(remote)
    } else {
        let (adapter, gpus) = local_meter(&args, progress.as_mut())?;
        hw.gpus = gpus;
        Box::new(adapter)
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let opts = RunOptions {
        protocol,
        resume: args.resume,
        shard,
        git_revision: hardware::git_revision(&cwd),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        hardware: hw,
        location: location_record(&intensity),
    };
    let mut registry = Registry::new(suite.base_dir());
    registry.allow_download = args.allow_download;
    registry.python = args.python.clone();
    registry.images_dir = Some(images_dir(&args.store)?);
    // The Python workers' whole stderr, one file per worker, beside the images.
    registry.logs_dir = Some(sibling_dir(&args.store, "logs")?);
    registry.cuda_visible_devices = match super::measure::parse_gpus(args.gpus.as_deref())? {
        GpuSelection::All => None,
        GpuSelection::None => Some(String::new()),
        GpuSelection::Indices(list) => Some(
            list.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
    };
    let hash = suite.hash(&opts.protocol);
    let latest_before = store.latest_run()?;
    let outcome = runner::run(
        &suite,
        &opts,
        RunParts {
            factory: &registry,
            meter: meter.as_mut(),
            sink: &mut store,
            progress: progress.as_mut(),
        },
    );
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if opts.shard.is_some() => {
            // A shard's run is shared: what any shard stored stays; the same command again
            // does only what this shard still lacks.
            return Err(e.context(format!(
                "what is stored stays in {}; the same command again (same --shard and \
                 --run-name, or the same Slurm array task) runs only what this shard still lacks",
                store.path().display()
            )));
        }
        Err(e) => {
            // Say that something is kept only when something was: the run this invocation
            // wrote to (or resumed) holds at least one repetition.
            let stored = store
                .find_unfinished_run(&hash)
                .ok()
                .flatten()
                .filter(|id| args.resume || latest_before.is_none_or(|l| *id > l))
                .and_then(|id| store.list_runs().ok()?.into_iter().find(|r| r.id == id))
                .filter(|r| r.repetitions > 0);
            return Err(match stored {
                Some(r) => e.context(format!(
                    "the {} repetition(s) finished so far are kept in {} (run {}); \
                     `powerhungry bench {} --resume` continues where this stopped",
                    r.repetitions,
                    store.path().display(),
                    r.id,
                    args.suite.display()
                )),
                None => e,
            });
        }
    };

    // Summarised from the store without its per-inference records (memory flat in the run's
    // length), with the location stored when the run started (a resumed run keeps it).
    let stored = store.load_run_summary(outcome.run)?;
    if outcome.resumed && stored.start.location != opts.location && !args.quiet {
        eprintln!(
            "powerhungry: resumed run {} keeps the location it started with ({}, {} g CO2e/kWh), \
             not the one given now ({}, {} g CO2e/kWh)",
            outcome.run,
            stored.start.location.location,
            stored.start.location.intensity_g_per_kwh,
            opts.location.location,
            opts.location.intensity_g_per_kwh
        );
    }
    let summary = summarize_run(
        outcome.run,
        &suite.suite.name,
        &stored.start.location,
        &stored.repetitions,
    );
    print!("{}", summary.table());
    for (model, why) in &outcome.skipped {
        println!("skipped: model `{model}`: {why}");
    }
    println!(
        "run {} stored in {} ({} repetition(s) run now{})",
        outcome.run,
        store.path().display(),
        outcome.ran,
        if outcome.resumed {
            format!(", {} before", outcome.already)
        } else {
            String::new()
        }
    );
    if let Some(path) = &args.json {
        std::fs::write(path, summary.to_json()?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, summary.to_csv()?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.predictions {
        let n = write_run_predictions(&store, outcome.run, path)
            .with_context(|| format!("--predictions {}", path.display()))?;
        if !args.quiet {
            eprintln!("wrote {n} prediction(s) to {}", path.display());
        }
    }
    Ok(0)
}

/// Where generated images go: `<store file>.images` beside the store (absolute, so the paths
/// the store records stay valid from any working directory); each run has its own
/// `run-<id>/` in it (docs/python-worker.md). A PostgreSQL store has no file to sit beside:
/// `powerhungry.images` in the working directory.
fn images_dir(store: &Path) -> Result<PathBuf> {
    sibling_dir(store, "images")
}

/// `<store file>.<what>` beside the store, absolute; for a PostgreSQL store,
/// `powerhungry.<what>` in the working directory.
fn sibling_dir(store: &Path, what: &str) -> Result<PathBuf> {
    if store
        .to_str()
        .is_some_and(powerhungry_store::is_postgres_url)
    {
        return std::path::absolute(format!("powerhungry.{what}"))
            .with_context(|| format!("cannot make the {what} folder's path absolute"));
    }
    let store = std::path::absolute(store)
        .with_context(|| format!("--store {}: cannot make the path absolute", store.display()))?;
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}"));
    Ok(store.with_file_name(name))
}

/// Flags > environment > the suite's `[location]` > config file > world average.
fn resolve_location(
    flags: &LocationFlags,
    suite: Option<&SuiteLocation>,
    suite_path: &Path,
) -> Result<ResolvedIntensity> {
    let mut layers = layers_from_environment(&flags.to_query())?;
    if let Some(l) = suite {
        let query = LocationQuery {
            country: l.country.clone(),
            region: l.region.clone(),
            cloud: l.cloud.clone(),
            intensity: l.intensity,
            pue: l.pue,
        };
        let at = layers.len().min(2);
        layers.insert(
            at,
            Layer {
                origin: Origin::Config(suite_path.to_path_buf()),
                query,
            },
        );
    }
    Ok(resolve_layers(&layers)?)
}

fn location_record(r: &ResolvedIntensity) -> LocationRecord {
    LocationRecord {
        location: format!("{} (from {})", r.label, r.location_from),
        intensity_g_per_kwh: r.g_per_kwh,
        source: r.source.clone(),
        year: r.year.map(i32::from),
        pue: r.pue,
    }
}

/// This machine's meter (or, on a local rank other than 0, one that keeps time only), with the
/// descriptions of the GPUs it counts for the run's hardware record.
fn local_meter(args: &Args, progress: &mut dyn Progress) -> Result<(MeterAdapter, Vec<String>)> {
    let config = MeterConfig {
        interval: Duration::from_millis(args.interval_ms.max(1)),
        sysfs_root: args.sysfs_root.clone(),
        procfs_root: args.procfs_root.clone(),
        cpu_tdp: args.cpu_tdp,
        gpus: super::measure::parse_gpus(args.gpus.as_deref())?,
        claim_dir: (!args.no_claim)
            .then(|| args.claim_dir.clone().unwrap_or_else(default_claim_dir)),
        // A device another meter holds would leave this run's figures partial: refuse (or
        // wait) rather than store an incomplete series.
        claim_policy: if args.wait_for_devices {
            ClaimPolicy::Wait
        } else {
            ClaimPolicy::Refuse
        },
        scope: match args.scope {
            ScopeArg::Machine => Scope::Machine,
            ScopeArg::Process => Scope::Process {
                pid: std::process::id(),
            },
        },
        claim_cpu_shared: args.scope == ScopeArg::Process,
        // The bench reads each window's energy when it closes and keeps no samples: memory
        // stays flat however long the run.
        window_samples: false,
        keep_closed_windows: false,
        ..MeterConfig::default()
    };
    // Before any run is created: a refusal leaves the store as it was.
    let (meter, _timing_only) = super::node_rank::start_meter(config)
        .context("starting the meter (nothing was run or stored)")?;
    for w in meter.startup_warnings() {
        progress.note(&format!("meter: {w}"));
    }
    if args.idle_seconds > 0.0 && !args.quiet {
        eprintln!(
            "powerhungry: measuring idle power for {} s (keep the machine quiet)",
            args.idle_seconds
        );
    }
    let meter = MeterAdapter::new(meter, args.idle_seconds);

    let gpus = meter
        .meter()
        .sensors()
        .into_iter()
        .filter(|s| s.name == "nvml" || s.name.to_ascii_lowercase().contains("gpu"))
        .map(|s| s.description)
        .collect();
    Ok((meter, gpus))
}

/// `--agents URL,URL` with the token of `--agent-token-file` (one token for the job's agents).
fn agent_endpoints(list: &str, token_file: Option<&Path>) -> Result<Vec<AgentEndpoint>> {
    let Some(file) = token_file else {
        anyhow::bail!(
            "--agents needs --agent-token-file FILE (the token the agents were started with)"
        );
    };
    let token = powerhungry_agent::read_token_file(file).map_err(|e| {
        anyhow::anyhow!(
            "{}",
            format!("{e:#}").replace("--token-file", "--agent-token-file")
        )
    })?;
    let urls: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        anyhow::bail!("--agents: give one or more agent URLs separated by commas");
    }
    Ok(urls
        .into_iter()
        .map(|url| AgentEndpoint {
            url: url.to_string(),
            token: token.clone(),
        })
        .collect())
}
