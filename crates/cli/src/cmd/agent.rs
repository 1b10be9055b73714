//! `powerhungry agent --listen ADDR --token-file FILE`: hold this node's meter and serve it over
//! HTTP for benches on other machines (powerhungry-agent). Wiring only.

use anyhow::{Context, Result};
use powerhungry_agent::server::{serve, termination, AgentOptions};
use powerhungry_meter::claim::{default_claim_dir, ClaimPolicy};
use powerhungry_meter::{GpuSelection, MeterConfig};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. `0.0.0.0:9464` (the cluster network) or `127.0.0.1:0` (any
    /// free port; the address chosen is printed on stdout).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// File holding the bearer token every request must carry (one word; keep it mode 0600).
    #[arg(long, value_name = "FILE")]
    pub token_file: PathBuf,
    /// The node's name in replies and component names [default: the hostname].
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,
    /// GPUs to count: `all` (CUDA_VISIBLE_DEVICES applies), `none`, or indices `0,2`.
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub gpus: String,
    /// Power sampling interval in milliseconds (window edges are read exactly regardless).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub interval_ms: u64,
    /// CPU TDP in watts for the CPU-load estimate, overriding the embedded table.
    #[arg(long, value_name = "WATTS")]
    pub cpu_tdp: Option<f64>,
    /// Directory of device claims shared with other meters on this node.
    #[arg(long, value_name = "DIR")]
    pub claim_dir: Option<PathBuf>,
    /// Root of the sysfs tree to read RAPL from (a test tree, or a host's tree in a container).
    #[arg(long, default_value = "/sys", value_name = "DIR")]
    pub sysfs_root: PathBuf,
    /// Root of the procfs tree to read utilisation, memory and the hostname from.
    #[arg(long, default_value = "/proc", value_name = "DIR")]
    pub procfs_root: PathBuf,
    /// Read the GPUs from a directory tree instead of NVML (gpu0/total_energy_mj, power_mw,
    /// name, uuid; see crates/meter/src/gpu/tree.rs): for tests, or a device recorded elsewhere.
    /// Its figures are labelled as NVML's would be.
    #[arg(long, value_name = "DIR")]
    pub gpu_tree: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<u8> {
    if args.interval_ms == 0 {
        anyhow::bail!("--interval-ms must be at least 1");
    }
    let token = powerhungry_agent::read_token_file(&args.token_file)?;
    let gpus = match args.gpus.as_str() {
        "all" => GpuSelection::All,
        "none" => GpuSelection::None,
        list => GpuSelection::Indices(
            list.split(',')
                .map(|i| i.trim().parse::<u32>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    anyhow::anyhow!("--gpus: expected all, none or indices like 0,2; got `{list}`")
                })?,
        ),
    };
    let node = match args.node_name {
        Some(n) if !n.trim().is_empty() => n,
        _ => powerhungry_bench::hardware::hostname(&args.procfs_root)
            .context("cannot read the hostname: give --node-name")?,
    };
    let listener = std::net::TcpListener::bind(&args.listen)
        .with_context(|| format!("--listen {}: cannot listen there", args.listen))?;
    let config = MeterConfig {
        interval: Duration::from_millis(args.interval_ms),
        sysfs_root: args.sysfs_root,
        procfs_root: args.procfs_root,
        gpus,
        cpu_tdp: args.cpu_tdp,
        claim_dir: Some(args.claim_dir.unwrap_or_else(default_claim_dir)),
        // The agent meters the whole node: another meter on it would split the devices.
        claim_policy: ClaimPolicy::Refuse,
        // A long-lived process: windows hand their figures to the bench and keep nothing.
        window_samples: false,
        keep_closed_windows: false,
        ..MeterConfig::default()
    };
    let meter = match &args.gpu_tree {
        None => powerhungry_meter::Meter::start(config),
        Some(dir) => {
            let tree = powerhungry_meter::gpu::tree::TreeBackend::open(dir)
                .map_err(|e| anyhow::anyhow!("--gpu-tree: {e}"))?;
            let backend = Box::new(tree) as Box<dyn powerhungry_meter::gpu::GpuBackend>;
            let found = powerhungry_meter::setup::build_sensors_with(&config, Some(Ok(backend)));
            powerhungry_meter::Meter::start_with_sensors(config, found.sensors, found.warnings)
        }
    }
    .context("starting the meter")?;
    for w in meter.startup_warnings() {
        eprintln!("powerhungry agent: meter: {w}");
    }
    let addr = listener.local_addr()?;
    println!("powerhungry agent: node {node} listening on http://{addr}");
    std::io::stdout().flush()?;
    serve(meter, listener, AgentOptions { token, node }, termination())?;
    eprintln!("powerhungry agent: stopped");
    Ok(0)
}
