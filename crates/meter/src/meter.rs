//! The meter: a sampler thread polling every sensor at an interval, plus a poll at every
//! window boundary so a window's energy comes from counter reads at its exact edges.

use crate::claim::{ClaimPolicy, Claims, ForeignClaim, WAIT_NOTICE_EVERY, WAIT_RETRY_EVERY};
use crate::component::ComponentClass;
use crate::config::{MeterConfig, Scope};
use crate::estimators::STAT_MIN_INTERVAL;
use crate::procfs;
use crate::report::{
    Baseline, ComponentEnergy, ComponentPower, MeterReport, ProcessShare, RamUse, Sample,
    SensorInfo, WindowReport,
};
use crate::sensor::{Reading, Sensor};
use crate::setup;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Handle of an open window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WindowId(pub u64);

#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    #[error("window {0:?} is not open (closed twice, or never opened)")]
    UnknownWindow(WindowId),
    #[error("invalid meter configuration: {0}")]
    Config(String),
    #[error("the sampler thread panicked")]
    SamplerPanicked,
    /// `ClaimPolicy::Refuse`: a device this meter needs is counted by another meter.
    #[error("{}", refusal(.0))]
    DeviceClaimed(Vec<ForeignClaim>),
    /// `ClaimPolicy::Refuse` or `Wait`: the claim directory is unsafe or unusable.
    #[error("device claims: {0}")]
    ClaimDir(String),
}

fn refusal(held: &[ForeignClaim]) -> String {
    let list: Vec<String> = held.iter().map(|f| f.to_string()).collect();
    format!(
        "cannot start the meter: {}. Counting beside it would split or double the figures; \
         wait for it to finish (--wait-for-devices), or measure only your command's process \
         tree (--scope process, which shares the CPU and RAM by attribution with other \
         process-scope meters)",
        list.join("; ")
    )
}

/// Every sensor's readings at one instant (plus the process tree's CPU time).
#[derive(Clone)]
struct Snapshot {
    t_s: f64,
    /// Indexed like `State::sensors`.
    readings: Vec<Vec<Reading>>,
    proc: Option<ProcPoint>,
    /// Machine CPU times, read at window edges only (for the window's utilisation).
    cpu: Option<procfs::CpuTimes>,
}

impl Snapshot {
    fn find(&self, r: &Reading) -> Option<f64> {
        self.readings
            .iter()
            .flatten()
            .find(|o| o.component == r.component && o.method == r.method)
            .map(|o| o.energy_j)
    }
    fn busy_s(&self, r: &Reading) -> Option<f64> {
        self.readings
            .iter()
            .flatten()
            .find(|o| o.component == r.component && o.method == r.method)
            .and_then(|o| o.busy_s)
    }
    fn primaries(&self) -> impl Iterator<Item = &Reading> {
        self.readings.iter().flatten().filter(|r| r.primary)
    }
}

#[derive(Clone, Copy)]
struct ProcPoint {
    tree_ticks: u64,
    busy_ticks: u64,
    /// Integral of the tree's RSS over time (byte-seconds) since tracking began.
    tree_rss_byte_s: f64,
    /// Integral of the machine's RAM in use (`MemTotal - MemAvailable`) over time.
    used_byte_s: f64,
    /// Seconds covered by both integrals (intervals where both were known).
    mem_covered_s: f64,
}

/// Process-tree CPU time, accumulated so that a tree member reaped by a process outside the
/// tree (its ticks vanish) never makes the total go down; and the tree's share of the RAM in
/// use, integrated over time so that a window's share is its time-weighted mean.
struct ProcTracker {
    procfs_root: PathBuf,
    pid: u32,
    acc: u64,
    last: Option<u64>,
    last_busy: u64,
    warned: bool,
    /// Time of the previous point, and the memory figures read then (held over the interval
    /// that follows: the value at the start of an interval, so that the tree's last interval
    /// is billed with its living RSS, not the zombie's zero read at the window's close).
    last_t: Option<f64>,
    last_mem: Option<(u64, u64)>,
    rss_byte_s: f64,
    used_byte_s: f64,
    mem_covered_s: f64,
    mem_warned: bool,
    /// The tree's `<pid>/stat` and `statm`, kept open between polls.
    files: procfs::FileCache,
    stat: procfs::CachedFile,
    meminfo: procfs::CachedFile,
}

impl ProcTracker {
    fn new(procfs_root: PathBuf, pid: u32) -> Self {
        Self {
            pid,
            acc: 0,
            last: None,
            last_busy: 0,
            warned: false,
            last_t: None,
            last_mem: None,
            rss_byte_s: 0.0,
            used_byte_s: 0.0,
            mem_covered_s: 0.0,
            mem_warned: false,
            files: procfs::FileCache::default(),
            stat: procfs::CachedFile::new(procfs_root.join("stat")),
            meminfo: procfs::CachedFile::new(procfs_root.join("meminfo")),
            procfs_root,
        }
    }

    /// The tree's accumulated ticks and the machine's busy ticks now; a warning the first time
    /// the root process can't be read (wrong pid, or reaped before the window closed), and
    /// the first time its memory can't.
    fn point(&mut self, t_s: f64) -> (ProcPoint, Vec<String>) {
        let mut warnings = Vec::new();
        if let (Some(lt), Some((rss, used))) = (self.last_t, self.last_mem) {
            let dt = (t_s - lt).max(0.0);
            self.rss_byte_s += rss as f64 * dt;
            self.used_byte_s += used as f64 * dt;
            self.mem_covered_s += dt;
        }
        self.last_t = Some(t_s);
        let usage = procfs::tree_usage_cached(&mut self.files, &self.procfs_root, self.pid, true);
        self.files.sweep();
        let used = self.meminfo.parse(procfs::parse_mem_used);
        let mem = match &usage {
            Ok(u) => match (u.rss_bytes, used) {
                (Some(rss), Ok((used, _))) => Ok((rss, used)),
                (None, _) => Err(format!(
                    "{}/{}/statm unreadable",
                    self.procfs_root.display(),
                    self.pid
                )),
                (_, Err(e)) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        match mem {
            Ok(m) => self.last_mem = Some(m),
            Err(e) => {
                // Before the first good read this is a standing condition; after it, the
                // tree has exited (its last known figures are not carried past its end).
                if !self.mem_warned && self.last_mem.is_none() && usage.is_ok() {
                    self.mem_warned = true;
                    warnings.push(format!(
                        "process scope: {e}; RAM energy stays machine-wide, not attributed"
                    ));
                }
                self.last_mem = None;
            }
        }
        match usage {
            Ok(cur) => {
                let cur = cur.ticks;
                if let Some(last) = self.last {
                    self.acc += cur.saturating_sub(last);
                }
                self.last = Some(cur);
            }
            Err(e) if !self.warned => {
                self.warned = true;
                warnings.push(format!(
                    "process scope: {e}; the tree's CPU time is counted up to its last read"
                ));
            }
            Err(_) => {}
        }
        if let Ok(t) = self.stat.parse(procfs::parse_stat) {
            self.last_busy = t.busy;
        }
        let point = ProcPoint {
            tree_ticks: self.acc,
            busy_ticks: self.last_busy,
            tree_rss_byte_s: self.rss_byte_s,
            used_byte_s: self.used_byte_s,
            mem_covered_s: self.mem_covered_s,
        };
        (point, warnings)
    }
}

struct OpenWindow {
    name: String,
    at: Snapshot,
    /// Whether this window returns its samples when it closes (they are kept until then).
    keeps_samples: bool,
}

struct State {
    config: MeterConfig,
    /// The sampler's interval: the one asked, or longer when no sensor changes that often
    /// (`sampling_interval`).
    interval: Duration,
    sensors: Vec<Box<dyn Sensor>>,
    infos: Vec<SensorInfo>,
    start: Instant,
    last: Snapshot,
    /// Samples in time order: those taken since the oldest sample-keeping open window opened,
    /// and at least the latest `recent_samples` (the ring for `live_watts` and plots). Nothing
    /// older is kept: memory is bounded by the open windows, not by the run's length.
    history: VecDeque<Sample>,
    /// Start of the oldest open window that keeps samples (`None`: no such window).
    keep_from: Option<f64>,
    /// A dropped sample's component buffer, reused by the next sample (no allocation per
    /// sample in the steady state).
    spare: Vec<ComponentPower>,
    /// False during start-up (the first poll has nothing before it: it is not a sample).
    sampling: bool,
    /// The sample sink failed once: no more samples go to it.
    sink_failed: bool,
    events: Vec<(f64, String)>,
    startup_warnings: Vec<String>,
    open: HashMap<WindowId, OpenWindow>,
    next_id: u64,
    closed: Vec<WindowReport>,
    baseline: Option<Baseline>,
    proc: Option<ProcTracker>,
    ticks_per_s: f64,
    /// Devices this meter holds, and those another meter on this machine counts.
    claims: Claims,
    /// `<procfs>/stat` (window edges) and `meminfo` (window closes), kept open.
    stat: procfs::CachedFile,
    meminfo: procfs::CachedFile,
}

impl State {
    /// Read every sensor now and record the sample since the previous poll (`self.last` is
    /// the snapshot).
    fn poll(&mut self) {
        self.poll_sensors(false)
    }

    /// `edge`: a window edge (every source read, none held).
    fn poll_sensors(&mut self, edge: bool) {
        let now = Instant::now();
        let t_s = now.duration_since(self.start).as_secs_f64();
        let mut readings = Vec::with_capacity(self.sensors.len());
        for (i, s) in self.sensors.iter_mut().enumerate() {
            let polled = if edge { s.poll_edge(now) } else { s.poll(now) };
            match polled {
                Ok(p) => {
                    for w in p.warnings {
                        self.events.push((t_s, w));
                    }
                    let mut rs = p.readings;
                    exclude_foreign(&self.claims, &mut rs);
                    readings.push(rs);
                }
                Err(e) => {
                    self.events
                        .push((t_s, format!("{}: {e}; previous readings kept", s.name())));
                    readings.push(self.last.readings.get(i).cloned().unwrap_or_default());
                }
            }
        }
        // The tree is walked at every window edge (where its figures are used) and at most
        // every STAT_MIN_INTERVAL between them (for the RAM integral and to catch members
        // before they are reaped): a 10 ms sampler does not walk /proc 100 times a second.
        let due = |p: &ProcTracker| {
            edge || p
                .last_t
                .is_none_or(|lt| t_s - lt >= STAT_MIN_INTERVAL.as_secs_f64())
        };
        let polled = match self.proc.as_mut() {
            Some(p) if due(p) => Some(p.point(t_s)),
            Some(_) => self.last.proc.map(|pt| (pt, Vec::new())),
            None => None,
        };
        let proc = match polled {
            Some((point, warnings)) => {
                // A standing condition, not an event: every later window carries it.
                self.startup_warnings.extend(warnings);
                Some(point)
            }
            None => None,
        };
        let snap = Snapshot {
            t_s,
            readings,
            proc,
            cpu: None,
        };
        let dt = snap.t_s - self.last.t_s;
        if dt > 0.0 && self.sampling {
            let mut components = std::mem::take(&mut self.spare);
            components.clear();
            components.extend(snap.primaries().filter_map(|r| {
                self.last.find(r).map(|before| ComponentPower {
                    component: r.component.clone(),
                    method: r.method,
                    watts: (r.energy_j - before) / dt,
                    counted: r.counted,
                })
            }));
            let total_w = components
                .iter()
                .filter(|c| c.counted)
                .map(|c| c.watts)
                .fold(0.0, |a, b| a + b);
            let sample = Sample {
                t_s,
                dt_s: dt,
                total_w,
                components,
            };
            if let (Some(sink), false) = (&self.config.sample_sink, self.sink_failed) {
                if let Err(e) = sink.write(&sample) {
                    self.sink_failed = true;
                    self.events.push((
                        t_s,
                        format!("sample sink: {e}; later samples are not streamed"),
                    ));
                }
            }
            self.history.push_back(sample);
            self.trim_history();
        }
        self.last = snap;
    }

    /// The samples in `(from, to]` for a closing window (already removed from `open`, with
    /// `keep_from` updated). Those no other open window needs, beyond the ring, are moved out
    /// rather than copied, so closing a long window does not hold its samples twice.
    fn take_samples(&mut self, from: f64, to: f64) -> Vec<Sample> {
        let first = self.history.partition_point(|s| s.t_s <= from);
        let last = self.history.partition_point(|s| s.t_s <= to);
        let needed_by_others = self.keep_from.is_some_and(|k| k < to);
        let ring_start = self
            .history
            .len()
            .saturating_sub(self.config.recent_samples);
        let cut = if needed_by_others {
            first
        } else {
            last.min(ring_start).max(first)
        };
        let mut out = Vec::with_capacity(last - first);
        if cut > first {
            // Older than this window and wanted by no open window: gone anyway.
            self.history.drain(..first);
            out.extend(self.history.drain(..cut - first));
            let (first, last) = (0, last - cut);
            out.extend(self.history.range(first..last).cloned());
        } else {
            out.extend(self.history.range(first..last).cloned());
        }
        out
    }

    /// Drop the samples no open window needs, beyond the ring of the latest ones.
    fn trim_history(&mut self) {
        let ring = self.config.recent_samples;
        while self.history.len() > ring {
            let Some(front) = self.history.front() else {
                break;
            };
            if self.keep_from.is_some_and(|t| front.t_s > t) {
                break;
            }
            if let Some(old) = self.history.pop_front() {
                self.spare = old.components;
            }
        }
    }

    fn update_keep_from(&mut self) {
        self.keep_from = self
            .open
            .values()
            .filter(|w| w.keeps_samples)
            .map(|w| w.at.t_s)
            .reduce(f64::min);
    }

    /// A poll at a window edge: also the machine's CPU times, for the window's utilisation.
    fn edge_poll(&mut self) -> Snapshot {
        self.poll_sensors(true);
        let mut snap = self.last.clone();
        snap.cpu = self.stat.parse(procfs::parse_stat).ok();
        snap
    }

    /// Claim the devices the first poll counts (see `claim`), following the claim policy:
    /// `Exclude` warns about what could not be claimed, `Refuse` fails, `Wait` blocks until
    /// every holder is gone (then polls again, so the run starts after the wait).
    fn claim_devices(&mut self) -> Result<(), MeterError> {
        let Some(dir) = self.config.claim_dir.clone() else {
            return Ok(());
        };
        let policy = self.config.claim_policy;
        let mut counted: Vec<_> = self
            .last
            .primaries()
            .filter(|r| r.counted)
            .map(|r| r.component.clone())
            .collect();
        counted.sort();
        counted.dedup();
        let mut waited: Option<Instant> = None;
        let mut last_notice: Option<Instant> = None;
        loop {
            let claims = match Claims::acquire(&dir, &counted, self.config.claim_cpu_shared) {
                Ok(c) => c,
                Err(e) if policy == ClaimPolicy::Exclude => {
                    self.startup_warnings.push(format!(
                        "device claims unavailable ({e}): another meter running now on this \
                         machine may count the same devices"
                    ));
                    return Ok(());
                }
                Err(e) => return Err(MeterError::ClaimDir(e)),
            };
            let foreign = claims.foreign();
            if foreign.is_empty() || policy == ClaimPolicy::Exclude {
                self.claims = claims;
                break;
            }
            if policy == ClaimPolicy::Refuse {
                return Err(MeterError::DeviceClaimed(foreign));
            }
            // Wait: release what we got (so two waiting meters cannot deadlock), retry.
            drop(claims);
            let now = Instant::now();
            if last_notice.is_none_or(|t| now.duration_since(t) >= WAIT_NOTICE_EVERY) {
                let since = waited.map_or(0, |t| now.duration_since(t).as_secs());
                let list: Vec<String> = foreign.iter().map(|f| f.to_string()).collect();
                eprintln!(
                    "powerhungry: waiting for devices ({}s so far): {}",
                    since,
                    list.join("; ")
                );
                last_notice = Some(now);
            }
            waited.get_or_insert(now);
            std::thread::sleep(WAIT_RETRY_EVERY);
        }
        if let Some(t) = waited {
            self.startup_warnings.push(format!(
                "waited {:.1} s for other meters to release their devices",
                t.elapsed().as_secs_f64()
            ));
            // The run starts now, not before the wait.
            self.poll();
            self.history.clear();
        }
        for c in &counted {
            if let Some(note) = self.claims.foreign_note(c) {
                self.startup_warnings
                    .push(format!("{c}: {note}; excluded from this meter's totals"));
            }
        }
        let mut last = std::mem::take(&mut self.last.readings);
        for rs in &mut last {
            exclude_foreign(&self.claims, rs);
        }
        self.last.readings = last;
        Ok(())
    }

    fn report(
        &mut self,
        name: String,
        open: &Snapshot,
        close: &Snapshot,
        keeps_samples: bool,
    ) -> WindowReport {
        let duration = close.t_s - open.t_s;
        // RAM in use is read at window edges only (here, at the close), never per sample.
        let ram_use = self.meminfo.parse(procfs::parse_mem_used).ok();
        let mut warnings = self.startup_warnings.clone();
        // Events and samples are in time order: the window's are found by bisection, so a
        // close costs what is inside the window, not what came before it.
        let first_event = self.events.partition_point(|(t, _)| *t <= open.t_s);
        warnings.extend(
            self.events[first_event..]
                .iter()
                .take_while(|(t, _)| *t <= close.t_s)
                .map(|(_, w)| w.clone()),
        );
        let mut components = Vec::new();
        for r in close.primaries() {
            let Some(before) = open.find(r) else {
                warnings.push(format!("{}: no reading at the window start", r.component));
                continue;
            };
            let idle_power_w = self.baseline.as_ref().and_then(|b| {
                b.components
                    .iter()
                    .find(|c| c.component == r.component)
                    .map(|c| c.watts)
            });
            let energy_j = r.energy_j - before;
            components.push(ComponentEnergy {
                component: r.component.clone(),
                method: r.method,
                energy_j,
                counted: r.counted,
                idle_power_w,
                above_idle_j: idle_power_w.map(|w| energy_j - w * duration),
                process_j: None,
                note: r.note.clone(),
            });
        }
        let process = match (self.config.scope, open.proc, close.proc) {
            (Scope::Process { pid }, Some(a), Some(b)) => {
                Some(self.attribute(pid, a, b, duration, close, &mut components, &mut warnings))
            }
            _ => None,
        };
        let gpu_utils: Vec<f64> = close
            .primaries()
            .filter(|r| r.counted && r.component.class() == ComponentClass::Gpu)
            .filter_map(|r| Some(r.busy_s? - open.busy_s(r)?))
            .filter(|_| duration > 0.0)
            .map(|busy| 100.0 * busy / duration)
            .collect();
        let samples = if keeps_samples {
            self.take_samples(open.t_s, close.t_s)
        } else {
            Vec::new()
        };
        // A window opened before `track_process` has no process figures: machine scope.
        let scope = if process.is_some() {
            self.config.scope
        } else {
            Scope::Machine
        };
        let mut incomplete: Vec<String> = components
            .iter()
            .filter(|c| self.claims.is_foreign(&c.component))
            .map(|c| c.component.to_string())
            .collect();
        incomplete.dedup();
        WindowReport {
            incomplete,
            name,
            start_s: open.t_s,
            duration_s: duration,
            scope,
            components,
            process,
            samples,
            warnings,
            cpu_utilization_percent: open
                .cpu
                .zip(close.cpu)
                .and_then(|(a, b)| a.load_until(&b))
                .map(|load| 100.0 * load),
            gpu_utilization_percent: (!gpu_utils.is_empty())
                .then(|| gpu_utils.iter().sum::<f64>() / gpu_utils.len() as f64),
            ram: ram_use.map(|(used_bytes, total_bytes)| RamUse {
                used_bytes,
                total_bytes,
            }),
        }
    }

    /// Kepler's rule: the tree is billed `share x max(0, E_cpu - P_idle x duration)` per CPU
    /// component; the idle part stays with the machine.
    #[allow(clippy::too_many_arguments)]
    fn attribute(
        &self,
        pid: u32,
        a: ProcPoint,
        b: ProcPoint,
        duration: f64,
        close: &Snapshot,
        components: &mut [ComponentEnergy],
        warnings: &mut Vec<String>,
    ) -> ProcessShare {
        let tree = b.tree_ticks.saturating_sub(a.tree_ticks) as f64;
        let busy = b.busy_ticks.saturating_sub(a.busy_ticks) as f64;
        let share = if busy > 0.0 {
            (tree / busy).min(1.0)
        } else {
            0.0
        };
        let mut idle_total = 0.0;
        let mut sources = Vec::new();
        for c in components.iter_mut() {
            if !c.counted || c.component.class() != ComponentClass::Cpu {
                continue;
            }
            let model_idle = close
                .primaries()
                .find(|r| r.component == c.component)
                .and_then(|r| r.model_idle_w);
            let (idle_w, source) = match (c.idle_power_w, model_idle) {
                (Some(w), _) => (w, "baseline"),
                (None, Some(w)) => (w, "power model"),
                (None, None) => (0.0, "none"),
            };
            if !sources.contains(&source) {
                sources.push(source);
            }
            let idle_j = (idle_w * duration).min(c.energy_j);
            idle_total += idle_j;
            c.process_j = Some(share * (c.energy_j - idle_j).max(0.0));
        }
        // RAM: the tree's time-weighted share of the memory in use; the rest is kept apart
        // (like the idle CPU), billed to no one.
        let d_rss = b.tree_rss_byte_s - a.tree_rss_byte_s;
        let d_used = b.used_byte_s - a.used_byte_s;
        let d_cov = b.mem_covered_s - a.mem_covered_s;
        let ram_share = (d_cov > 0.0 && d_used > 0.0).then(|| (d_rss / d_used).clamp(0.0, 1.0));
        let mut ram_apart_j = 0.0;
        if let Some(rs) = ram_share {
            for c in components.iter_mut() {
                if c.counted && c.component.class() == ComponentClass::Ram {
                    let billed = rs * c.energy_j;
                    c.process_j = Some(billed);
                    ram_apart_j += c.energy_j - billed;
                }
            }
        }
        if sources.contains(&"none") {
            warnings.push(
                "process scope without an idle baseline for a measured CPU: the tree is billed \
                 its share of all CPU energy, idle included (use --idle-seconds)"
                    .into(),
            );
        }
        ProcessShare {
            pid,
            tree_cpu_s: tree / self.ticks_per_s,
            machine_busy_cpu_s: busy / self.ticks_per_s,
            share,
            cpu_idle_j: idle_total,
            idle_source: sources.join("+"),
            ram_share,
            tree_ram_bytes: ram_share.map(|_| d_rss / d_cov),
            machine_ram_used_bytes: ram_share.map(|_| d_used / d_cov),
            ram_apart_j,
        }
    }
}

/// Devices claimed by another meter are reported, never added to this meter's totals.
fn exclude_foreign(claims: &Claims, readings: &mut [Reading]) {
    if !claims.has_foreign() {
        return;
    }
    for r in readings {
        if let Some(note) = claims.foreign_note(&r.component) {
            r.counted = false;
            r.note = Some(note);
        }
    }
}

struct Shared {
    state: Mutex<State>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a sensor must not take every later window down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running energy meter. `Send + Sync`: share it by reference or in an `Arc`.
pub struct Meter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    total: WindowId,
}

impl Meter {
    /// Find the sensors the configuration allows (falling back to estimates with warnings),
    /// measure the idle baseline if `idle_seconds > 0`, and start sampling.
    pub fn start(config: MeterConfig) -> Result<Meter, MeterError> {
        let found = setup::build_sensors(&config);
        Self::start_with_sensors(config, found.sensors, found.warnings)
    }

    /// A meter that keeps time only: no sensors, so no device is claimed and every window is
    /// "nothing measured". For the processes of a job that must not meter the node (another
    /// local rank does: [`crate::ranks`]); `reason` is its first warning.
    pub fn timing_only(config: MeterConfig, reason: String) -> Result<Meter, MeterError> {
        Self::start_with_sensors(config, Vec::new(), vec![reason])
    }

    /// Start with the given sensors (tests, or callers with their own backends).
    pub fn start_with_sensors(
        config: MeterConfig,
        sensors: Vec<Box<dyn Sensor>>,
        warnings: Vec<String>,
    ) -> Result<Meter, MeterError> {
        if config.interval.is_zero() {
            return Err(MeterError::Config(
                "the sampling interval must be > 0".into(),
            ));
        }
        if !(config.idle_seconds >= 0.0 && config.idle_seconds.is_finite()) {
            return Err(MeterError::Config(format!(
                "idle seconds must be >= 0, got {}",
                config.idle_seconds
            )));
        }
        let infos = sensors
            .iter()
            .map(|s| SensorInfo {
                name: s.name(),
                description: s.describe(),
            })
            .collect();
        let proc = match config.scope {
            Scope::Process { pid } => Some(ProcTracker::new(config.procfs_root.clone(), pid)),
            Scope::Machine => None,
        };
        let n = sensors.len();
        let mut warnings = warnings;
        let interval = sampling_interval(config.interval, &sensors);
        if interval != config.interval {
            warnings.push(format!(
                "sampling every {} ms, not the {} ms asked: no sensor here changes more often \
                 (the estimators read /proc at most every {} ms, so finer samples would repeat \
                 each figure); window edges are still read exactly",
                interval.as_millis(),
                config.interval.as_secs_f64() * 1e3,
                interval.as_millis()
            ));
        }
        let mut state = State {
            config: config.clone(),
            interval,
            sensors,
            infos,
            start: Instant::now(),
            last: Snapshot {
                t_s: 0.0,
                readings: vec![Vec::new(); n],
                proc: None,
                cpu: None,
            },
            history: VecDeque::new(),
            keep_from: None,
            spare: Vec::new(),
            sampling: false,
            sink_failed: false,
            events: Vec::new(),
            startup_warnings: warnings,
            open: HashMap::new(),
            next_id: 0,
            closed: Vec::new(),
            baseline: None,
            proc,
            ticks_per_s: procfs::clock_ticks_per_second(),
            claims: Claims::default(),
            stat: procfs::CachedFile::new(config.procfs_root.join("stat")),
            meminfo: procfs::CachedFile::new(config.procfs_root.join("meminfo")),
        };
        state.poll();
        state.claim_devices()?;
        // The first poll has nothing before it: it is not a sample. From here on, polls are.
        state.sampling = true;
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("powerhungry-sampler".into())
                .spawn(move || sampler(shared, interval))
                .map_err(|e| MeterError::Config(format!("cannot start the sampler thread: {e}")))?
        };
        let mut meter = Meter {
            shared,
            thread: Some(thread),
            total: WindowId(u64::MAX),
        };
        if config.idle_seconds > 0.0 {
            meter.measure_idle(Duration::from_secs_f64(config.idle_seconds));
        }
        meter.total = meter.open_window_keeping("total", Some(config.total_samples));
        Ok(meter)
    }

    /// Measure idle power for `duration` (nothing else should run) and keep it as the
    /// baseline for every window closed afterwards. Returns it.
    pub fn measure_idle(&self, duration: Duration) -> Baseline {
        let a = {
            let mut st = self.shared.lock();
            st.poll();
            st.last.clone()
        };
        std::thread::sleep(duration);
        let mut st = self.shared.lock();
        st.poll();
        let b = st.last.clone();
        let dt = b.t_s - a.t_s;
        let components = b
            .primaries()
            .filter_map(|r| {
                a.find(r).map(|before| ComponentPower {
                    component: r.component.clone(),
                    method: r.method,
                    watts: if dt > 0.0 {
                        (r.energy_j - before) / dt
                    } else {
                        0.0
                    },
                    counted: r.counted,
                })
            })
            .collect();
        let baseline = Baseline {
            duration_s: dt,
            components,
        };
        st.baseline = Some(baseline.clone());
        baseline
    }

    /// Open a named window now (counters are read at this instant). Windows may nest/overlap.
    pub fn open_window(&self, name: &str) -> WindowId {
        self.open_window_keeping(name, None)
    }

    /// `keeps`: whether the window returns its samples (`None`: `config.window_samples`).
    fn open_window_keeping(&self, name: &str, keeps: Option<bool>) -> WindowId {
        let mut st = self.shared.lock();
        let at = st.edge_poll();
        let id = WindowId(st.next_id);
        st.next_id += 1;
        let keeps_samples = keeps.unwrap_or(st.config.window_samples);
        st.open.insert(
            id,
            OpenWindow {
                name: name.to_string(),
                at,
                keeps_samples,
            },
        );
        st.update_keep_from();
        id
    }

    /// Close a window now and return its energy.
    pub fn close_window(&self, id: WindowId) -> Result<WindowReport, MeterError> {
        let mut st = self.shared.lock();
        let open = st.open.remove(&id).ok_or(MeterError::UnknownWindow(id))?;
        // The closing poll first (this window still keeps its samples), then forget it.
        let close = st.edge_poll();
        st.update_keep_from();
        let report = st.report(open.name, &open.at, &close, open.keeps_samples);
        st.trim_history();
        if id != self.total && st.config.keep_closed_windows {
            // Kept for `finish` without its samples: they went to the caller just now.
            let mut kept = report.clone();
            kept.samples = Vec::new();
            st.closed.push(kept);
        }
        Ok(report)
    }

    /// A window's energy so far, read now, leaving it open (a node agent's `/metrics` and its
    /// reads of open windows). Its samples are not returned.
    pub fn read_window(&self, id: WindowId) -> Result<WindowReport, MeterError> {
        let mut st = self.shared.lock();
        let (name, at) = match st.open.get(&id) {
            Some(open) => (open.name.clone(), open.at.clone()),
            None => return Err(MeterError::UnknownWindow(id)),
        };
        let now = st.edge_poll();
        Ok(st.report(name, &at, &now, false))
    }

    /// The window the meter opened at its start and closes at `finish`: the run so far.
    pub fn total_window(&self) -> WindowId {
        self.total
    }

    /// Attribute CPU energy to the process tree rooted at `pid` in every window opened from
    /// now on (process scope, for a process started after the meter and its baseline).
    pub fn track_process(&self, pid: u32) {
        let mut st = self.shared.lock();
        st.config.scope = Scope::Process { pid };
        st.proc = Some(ProcTracker::new(st.config.procfs_root.clone(), pid));
    }

    /// Total power of the counted components over the latest sample interval, in watts.
    pub fn live_watts(&self) -> f64 {
        self.shared.lock().history.back().map_or(0.0, |s| s.total_w)
    }

    /// The latest samples (up to `MeterConfig::recent_samples`), oldest first, for plots.
    pub fn recent_samples(&self) -> Vec<Sample> {
        let st = self.shared.lock();
        let n = st.history.len().min(st.config.recent_samples);
        st.history.range(st.history.len() - n..).cloned().collect()
    }

    /// How many samples the meter holds now (open windows' and the ring), for tests and
    /// benchmarks of its memory.
    pub fn held_samples(&self) -> usize {
        self.shared.lock().history.len()
    }

    /// The sensors in use.
    pub fn sensors(&self) -> Vec<SensorInfo> {
        self.shared.lock().infos.clone()
    }

    /// Warnings from start-up (fallbacks to estimates, unreadable sensors).
    pub fn startup_warnings(&self) -> Vec<String> {
        self.shared.lock().startup_warnings.clone()
    }

    /// Stop sampling and return everything: the whole run as the "total" window, every window
    /// closed so far, the baseline and all warnings.
    pub fn finish(mut self) -> Result<MeterReport, MeterError> {
        let total = self.close_window(self.total)?;
        // Windows are read at their edges, so a dead sampler only costs samples: report it.
        let sampler = self.stop_thread();
        let st = self.shared.lock();
        let mut warnings = st.startup_warnings.clone();
        if let (Some(sink), false) = (&st.config.sample_sink, st.sink_failed) {
            if let Err(e) = sink.flush() {
                warnings.push(format!("sample sink: {e} (flushing at the end of the run)"));
            }
        }
        if let Err(e) = sampler {
            warnings.push(format!(
                "{e}: samples stop where it died; window energies are intact"
            ));
        }
        warnings.extend(st.events.iter().map(|(_, w)| w.clone()));
        for w in st.open.values() {
            warnings.push(format!("window {:?} was never closed", w.name));
        }
        Ok(MeterReport {
            interval_s: st.interval.as_secs_f64(),
            requested_interval_s: st.config.interval.as_secs_f64(),
            sensors: st.infos.clone(),
            baseline: st.baseline.clone(),
            total,
            windows: st.closed.clone(),
            warnings,
        })
    }

    fn stop_thread(&mut self) -> Result<(), MeterError> {
        *self.shared.stop.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| MeterError::SamplerPanicked),
            None => Ok(()),
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = self.stop_thread();
    }
}

/// The sampler's interval: the one asked, stretched to the fastest sensor's cadence when every
/// sensor changes less often than that (see `Sensor::cadence`). With no sensor (a timing-only
/// meter) there is nothing to read: the interval asked.
fn sampling_interval(asked: Duration, sensors: &[Box<dyn Sensor>]) -> Duration {
    match sensors.iter().map(|s| s.cadence()).min() {
        Some(fastest) => asked.max(fastest),
        None => asked,
    }
}

fn sampler(shared: Arc<Shared>, interval: Duration) {
    let mut next = Instant::now() + interval;
    loop {
        {
            let mut stop = shared.stop.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if *stop {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                stop = shared
                    .wake
                    .wait_timeout(stop, next - now)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        }
        shared.lock().poll();
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now + interval;
        }
    }
}
