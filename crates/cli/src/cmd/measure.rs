//! `powerhungry measure [options] -- CMD ARGS...`: run a command under the meter, pass its exit
//! code through, print energy per component with its method, CO2e, append a CodeCarbon row.
//!
//! Wiring only: flags are checked here, signals are forwarded by `measure/signals.rs`, the
//! summary is `measure/summary.rs`, and the CodeCarbon row and its locked append are the report
//! room's (`powerhungry_report::codecarbon::csv_row`).

mod signals;
mod summary;

use super::location::LocationFlags;
use anyhow::{bail, Context};
use powerhungry_meter::claim::default_claim_dir;
use powerhungry_meter::{GpuSelection, MeterConfig, MeterReport, WindowReport};
use powerhungry_report::codecarbon::{csv_row, OnHeaderMismatch};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    /// Everything the counted devices used while the command ran.
    Machine,
    /// CPU energy billed to the command's process tree by its share of CPU time (idle part
    /// kept apart); GPU and RAM stay machine-wide.
    Process,
}

#[derive(clap::Args)]
pub struct Args {
    /// Power sampling interval in milliseconds (energy counters are also read exactly when the
    /// command starts and ends, whatever this is) Where only estimates are available (no RAPL, no
    /// GPU) samples are taken at most every 50 ms, as often as the estimates change; a note
    /// says so.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub interval_ms: u64,
    /// Measure idle power for N seconds before running the command, so energy is also shown
    /// above idle.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub idle_seconds: f64,
    /// Whose energy to report: the machine, or the command's process tree (see docs/meter.md).
    #[arg(long, value_enum, default_value_t = ScopeArg::Machine)]
    pub scope: ScopeArg,
    /// NVIDIA GPUs (NVML indices) the command may use, e.g. `0,1`, or `none` to skip NVML.
    /// Intersected with CUDA_VISIBLE_DEVICES; other GPUs are reported apart, never summed.
    #[arg(long, value_name = "LIST")]
    pub gpus: Option<String>,
    /// CPU TDP in watts for the CPU-load estimate, overriding the embedded table.
    #[arg(long, value_name = "WATTS")]
    pub cpu_tdp: Option<f64>,
    /// Root of the sysfs tree to read RAPL from (a host's tree exposed to a VM, or a test tree).
    #[arg(long, default_value = "/sys", value_name = "DIR")]
    pub sysfs_root: PathBuf,
    /// Root of the procfs tree to read utilisation, memory and processes from.
    #[arg(long, default_value = "/proc", value_name = "DIR")]
    pub procfs_root: PathBuf,
    /// Directory of the device claims shared by every meter on this machine, so that meters
    /// running at once (Slurm ranks, a bench beside a measure) count each device once
    /// [default: $POWERHUNGRY_CLAIM_DIR, else $XDG_RUNTIME_DIR/powerhungry, else
    /// /tmp/powerhungry-locks-<uid>].
    #[arg(long, value_name = "DIR")]
    pub claim_dir: Option<PathBuf>,
    /// Don't claim devices: count everything even if another meter counts it too.
    #[arg(long, conflicts_with = "claim_dir")]
    pub no_claim: bool,
    /// CodeCarbon-compatible CSV to append a row to.
    #[arg(long, default_value = "emissions.csv", value_name = "FILE")]
    pub output: PathBuf,
    /// Don't write the CSV row.
    #[arg(long, conflicts_with = "output")]
    pub no_csv: bool,
    /// If the CSV exists with another header, write to a new file next to it
    /// (`emissions-1.csv`, `emissions-2.csv`, ...) instead of failing.
    #[arg(long)]
    pub new_file_on_mismatch: bool,
    /// `project_name` column of the CSV row.
    #[arg(long, default_value = "powerhungry", value_name = "NAME")]
    pub project_name: String,
    /// `experiment_id` column of the CSV row.
    #[arg(long, value_name = "ID")]
    pub experiment_id: Option<String>,
    /// Write the full detail (per-component energy, methods, samples, baseline) as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub location: LocationFlags,
    /// The command to run and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `--gpus` of `measure` and `bench`: absent or `all`, `none`, or NVML indices `0,2`.
pub(crate) fn parse_gpus(s: Option<&str>) -> anyhow::Result<GpuSelection> {
    let Some(s) = s else {
        return Ok(GpuSelection::All);
    };
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(GpuSelection::None);
    }
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(GpuSelection::All);
    }
    let list = s
        .split(',')
        .map(|p| {
            p.trim().parse::<u32>().with_context(|| {
                format!("--gpus {s:?}: {p:?} is not a GPU index (expected e.g. 0,1 or none)")
            })
        })
        .collect::<anyhow::Result<Vec<u32>>>()?;
    Ok(GpuSelection::Indices(list))
}

/// What `--json` writes.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    command: &'a [String],
    /// The shell convention: the command's exit code, or 128 + the signal that killed it.
    exit_code: u8,
    /// "exited with 3", "was killed by signal 15 (SIGTERM)".
    ended: &'a str,
    /// Set when powerhungry got a signal and forwarded it to the command: the figures cover
    /// the run up to the command's exit, not a finished run.
    interrupted: Option<Interrupted>,
    /// The command's window: what the summary and the CSV row report.
    window: &'a WindowReport,
    /// None when nothing was counted (a timing-only rank): no figure, never 0 g.
    emissions: Option<powerhungry_carbon::Emissions>,
    location: &'a powerhungry_carbon::ResolvedIntensity,
    meter: &'a MeterReport,
    /// Set when this process kept time only (a local rank other than 0 of a multi-process
    /// job: rank 0 meters the node): why. `window` then has no components.
    #[serde(skip_serializing_if = "Option::is_none")]
    timing_only: Option<&'a str>,
    /// What measuring cost: this process's own CPU time and peak RSS (the command excluded).
    meter_cost: SelfCost,
}

#[derive(serde::Serialize)]
struct Interrupted {
    signal: i32,
    name: String,
}

impl Interrupted {
    fn new(signal: i32) -> Self {
        Self {
            signal,
            name: signals::name(signal),
        }
    }
}

#[derive(serde::Serialize)]
struct SelfCost {
    cpu_s: f64,
    peak_rss_mib: f64,
}

fn self_cost() -> SelfCost {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    SelfCost {
        cpu_s: secs(r.ru_utime) + secs(r.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mib: r.ru_maxrss as f64 / 1024.0,
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.interval_ms == 0 {
        bail!("--interval-ms must be at least 1");
    }
    if !(args.idle_seconds >= 0.0 && args.idle_seconds <= 86_400.0) {
        bail!(
            "--idle-seconds must be a number of seconds from 0 to 86400 (a day), got {}",
            args.idle_seconds
        );
    }
    if let Some(w) = args.cpu_tdp {
        if !(w > 0.0 && w <= 100_000.0) {
            bail!("--cpu-tdp must be a number of watts in (0, 100000], got {w}");
        }
    }
    let gpus = parse_gpus(args.gpus.as_deref())?;
    // Resolve the location and check the outputs before running anything: a typo or a missing
    // directory must not cost a whole run.
    let location = args.location.resolve()?;
    if let Some(path) = &args.json {
        check_writable(path, "--json")?;
    }
    if !args.no_csv {
        check_writable(&args.output, "--output")?;
        csv_row::precheck(&args.output, on_mismatch(&args)).context(
            "the CSV row could not be appended: pass --output with another file, or \
             --new-file-on-mismatch, or --no-csv",
        )?;
    }
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after `--`")?;

    // Before the meter starts its threads and before the command exists (see signals.rs).
    let signals = signals::Forwarder::block().context("blocking signals")?;

    let config = MeterConfig {
        interval: Duration::from_millis(args.interval_ms),
        sysfs_root: args.sysfs_root.clone(),
        procfs_root: args.procfs_root.clone(),
        gpus,
        cpu_tdp: args.cpu_tdp,
        idle_seconds: args.idle_seconds,
        claim_dir: (!args.no_claim)
            .then(|| args.claim_dir.clone().unwrap_or_else(default_claim_dir)),
        // Process-scope runs each bill their own share of the CPU: they may share it.
        claim_cpu_shared: args.scope == ScopeArg::Process,
        ..MeterConfig::default()
    };
    if args.idle_seconds > 0.0 {
        eprintln!(
            "powerhungry: measuring idle power for {} s",
            args.idle_seconds
        );
    }
    let (meter, timing_only) =
        super::node_rank::start_meter(config).context("starting the meter")?;
    if let Some(sig) = signals.pending() {
        eprintln!(
            "powerhungry: got {} before the command started; not running it",
            signals::name(sig)
        );
        return Ok((128 + sig).min(255) as u8);
    }

    // Machine scope: the window opens before the command exists, so none of its energy is
    // missed. Process scope needs the pid first; the window opens right after the spawn.
    let early = (args.scope == ScopeArg::Machine).then(|| meter.open_window("command"));
    let mut command = Command::new(program);
    command.args(rest);
    signals.prepare(&mut command);
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("command not found: {program:?}"),
        std::io::ErrorKind::PermissionDenied => {
            anyhow::anyhow!("command {program:?} is not executable (permission denied)")
        }
        _ => anyhow::anyhow!("cannot run {program:?}: {e}"),
    })?;
    let pid = child.id();
    let window = match early {
        Some(w) => w,
        None => {
            meter.track_process(pid);
            meter.open_window("command")
        }
    };
    // Returns once the command has exited, not reaped, so the process tree's final CPU times
    // are still readable when the window closes.
    let waited = signals.wait(pid);
    let report = meter.close_window(window)?;
    let status = child.wait().context("waiting for the command")?;
    let meter_report = meter.finish()?;
    let exit_code = exit_code(status);
    let ended = summary::how_it_ended(status);
    let interrupted_name = waited.interrupted_by.map(signals::name);

    let total_j = report.total_j();
    let emissions = location.emissions(total_j);
    summary::print(
        &args.command,
        &ended,
        waited.interrupted_by,
        &report,
        &emissions,
        &location,
        timing_only.as_deref(),
    );
    // From here on a failure is reported, and the command's exit code is still ours.
    if let Some(path) = &args.json {
        let out = JsonOut {
            command: &args.command,
            exit_code,
            ended: &ended,
            interrupted: waited.interrupted_by.map(Interrupted::new),
            window: &report,
            emissions: (!report.components.is_empty()).then_some(emissions),
            location: &location,
            meter: &meter_report,
            meter_cost: self_cost(),
            timing_only: timing_only.as_deref(),
        };
        // Streamed: a long run's samples never sit in memory as one big string.
        let write = || -> anyhow::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            serde_json::to_writer_pretty(&mut f, &out)?;
            std::io::Write::flush(&mut f)?;
            Ok(())
        };
        if let Err(e) = write() {
            eprintln!("powerhungry: error: writing {}: {e:#}", path.display());
        }
    }
    if let (false, Some(reason)) = (args.no_csv, &timing_only) {
        // A row of zeros would be summed as if it were a measurement.
        eprintln!("  no CSV row: this process measured no energy ({reason})");
    } else if !args.no_csv {
        let ctx = csv_row::RowContext {
            project_name: &args.project_name,
            experiment_id: args.experiment_id.as_deref(),
            scope: match args.scope {
                ScopeArg::Machine => "machine",
                ScopeArg::Process => "process",
            },
            procfs_root: &args.procfs_root,
            interrupted_by: interrupted_name.as_deref(),
        };
        let row = csv_row::row(
            &report,
            &emissions,
            &location,
            &ctx,
            std::time::SystemTime::now(),
        );
        match csv_row::append_locked(&args.output, &row, on_mismatch(&args)) {
            Ok(written) => eprintln!("  CSV row appended to {}", written.display()),
            Err(e) => eprintln!(
                "powerhungry: error: appending the CSV row to {}: {e:#}",
                args.output.display()
            ),
        }
    }
    Ok(exit_code)
}

fn on_mismatch(args: &Args) -> OnHeaderMismatch {
    if args.new_file_on_mismatch {
        OnHeaderMismatch::NewFile
    } else {
        OnHeaderMismatch::Error
    }
}

/// Fail before the run if `path` cannot be written: its directory missing or not writable,
/// or it is a directory itself.
fn check_writable(path: &Path, flag: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!(
            "{flag} {}: {} is not a directory",
            path.display(),
            dir.display()
        ),
        Err(e) => bail!(
            "{flag} {}: directory {} cannot be used: {e}",
            path.display(),
            dir.display()
        ),
    }
    if path.is_dir() {
        bail!("{flag} {}: is a directory", path.display());
    }
    let target = if path.exists() { path } else { dir };
    let c = std::ffi::CString::new(target.as_os_str().as_bytes())
        .with_context(|| format!("{flag} {}: invalid path", path.display()))?;
    // SAFETY: access only reads the NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
        bail!(
            "{flag} {}: {} is not writable: {}",
            path.display(),
            target.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// The shell convention: the exit code, or 128 + signal number.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(sig)) => (128 + sig).min(255) as u8,
        _ => 1,
    }
}
