//! RAPL energy counters through Linux powercap: `<sysfs>/class/powercap/{intel-rapl,
//! intel-rapl-mmio,amd-rapl}:*`.
//!
//! Counted zones: every `package-N` and every `dram` zone (DRAM is a separate RAPL domain,
//! not part of the package even though sysfs nests it under one). Not counted: `core` and
//! `uncore` subzones (inside their package) and `psys` (the whole SoC, which contains the
//! packages) — psys is reported apart, or counted alone when no package zone exists.
//! An `intel-rapl-mmio` package that duplicates an `intel-rapl` package of the same name is
//! skipped (both interfaces expose the same counter on recent Intel laptops).

use crate::component::{Component, Method};
use crate::counter::{self, CounterStep};
use crate::procfs::{CachedFile, ProcError};
use crate::sensor::{FileSource, Poll, Reading, RealFiles, Sensor};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The control types we read, in order of preference when the same zone appears twice.
const CONTROL_TYPES: [&str; 3] = ["intel-rapl", "amd-rapl", "intel-rapl-mmio"];

/// How to grant read access, shown whenever a counter is root-only.
pub const GRANT_HINT: &str = "RAPL counters are root-only since Linux 5.10; grant read access \
with `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj` (until reboot; see docs/meter.md \
for a persistent tmpfiles rule) or run as root";

#[derive(Debug, thiserror::Error)]
pub enum RaplError {
    #[error("no powercap directory at {0} (no RAPL driver, or a VM/container that hides it)")]
    NoPowercap(PathBuf),
    #[error("no RAPL zones (intel-rapl:*, intel-rapl-mmio:*, amd-rapl:*) under {0}")]
    NoZones(PathBuf),
    #[error("cannot read {path}: permission denied. {GRANT_HINT}")]
    PermissionDenied { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: expected an unsigned integer, found {text:?}")]
    Parse { path: PathBuf, text: String },
}

/// One powercap zone as found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneInfo {
    /// Directory name, e.g. `intel-rapl:0:2`.
    pub id: String,
    pub dir: PathBuf,
    /// Contents of `name`: `package-0`, `dram`, `core`, `uncore`, `psys`.
    pub name: String,
    /// `None` for a subzone we don't read (core, uncore) or a duplicate.
    pub component: Option<Component>,
    pub counted: bool,
    pub max_range_uj: Option<u64>,
    pub note: Option<String>,
}

/// Read `<zone>/energy_uj` once (for `powerhungry sensors`).
pub fn read_zone_energy(zone_dir: &Path) -> Result<u64, RaplError> {
    read_u64(&RealFiles, &zone_dir.join("energy_uj"))
}

/// Read a whole zone file and parse it as an unsigned integer.
fn read_u64(files: &dyn FileSource, path: &Path) -> Result<u64, RaplError> {
    parse_u64(&read_text(files, path)?, path)
}

fn parse_u64(text: &str, path: &Path) -> Result<u64, RaplError> {
    text.trim().parse::<u64>().map_err(|_| RaplError::Parse {
        path: path.to_path_buf(),
        text: text.trim().chars().take(40).collect(),
    })
}

fn read_text(files: &dyn FileSource, path: &Path) -> Result<String, RaplError> {
    files.read_to_string(path).map_err(|source| {
        if source.kind() == io::ErrorKind::PermissionDenied {
            RaplError::PermissionDenied {
                path: path.to_path_buf(),
            }
        } else {
            RaplError::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// `intel-rapl:0:2` -> ("intel-rapl", [0, 2]).
fn parse_zone_id(id: &str) -> Option<(&str, Vec<u32>)> {
    let (ctl, rest) = id.split_once(':')?;
    if !CONTROL_TYPES.contains(&ctl) {
        return None;
    }
    let nums: Option<Vec<u32>> = rest.split(':').map(|s| s.parse().ok()).collect();
    nums.filter(|n| !n.is_empty() && n.len() <= 2)
        .map(|n| (ctl, n))
}

/// Find every RAPL zone under `<sysfs>/class/powercap` and decide what each one counts for.
/// Reads `name` and `max_energy_range_uj` (which may be missing: then a counter decrease can't
/// be told from a reset, and is reported as an anomaly).
pub fn discover(sysfs_root: &Path, files: &dyn FileSource) -> Result<Vec<ZoneInfo>, RaplError> {
    let base = sysfs_root.join("class").join("powercap");
    let entries = fs::read_dir(&base).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RaplError::NoPowercap(base.clone()),
        io::ErrorKind::PermissionDenied => RaplError::PermissionDenied { path: base.clone() },
        _ => RaplError::Read {
            path: base.clone(),
            source: e,
        },
    })?;
    let mut ids: Vec<(usize, Vec<u32>, String)> = Vec::new();
    for entry in entries.flatten() {
        let id = entry.file_name().to_string_lossy().into_owned();
        if let Some((ctl, nums)) = parse_zone_id(&id) {
            let rank = CONTROL_TYPES.iter().position(|c| *c == ctl).unwrap_or(0);
            ids.push((rank, nums, id));
        }
    }
    ids.sort();
    if ids.is_empty() {
        return Err(RaplError::NoZones(base));
    }
    let mut zones = Vec::new();
    let mut packages_seen: Vec<String> = Vec::new();
    for (_, nums, id) in &ids {
        let dir = base.join(id);
        let name = read_text(files, &dir.join("name"))?.trim().to_string();
        let range_path = dir.join("max_energy_range_uj");
        let max_range_uj = match read_u64(files, &range_path) {
            Ok(v) => Some(v),
            Err(RaplError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let top = nums.len() == 1;
        let (component, counted, note) = if let Some(idx) = name.strip_prefix("package-") {
            let index = idx.parse::<u32>().unwrap_or(nums[0]);
            if packages_seen.contains(&name) {
                (
                    None,
                    false,
                    Some(format!("duplicate of an earlier {name} zone: skipped")),
                )
            } else {
                packages_seen.push(name.clone());
                (Some(Component::CpuPackage { index }), true, None)
            }
        } else if name == "dram" {
            // Under a package (intel-rapl:P:n) it belongs to socket P; at top level it is
            // numbered by its own zone index.
            (Some(Component::Dram { index: nums[0] }), true, None)
        } else if name == "psys" && top {
            (Some(Component::Psys), true, None)
        } else {
            (
                None,
                false,
                Some(format!("{name}: contained in its package, not read")),
            )
        };
        zones.push(ZoneInfo {
            id: id.clone(),
            dir,
            name,
            component,
            counted,
            max_range_uj,
            note,
        });
    }
    // psys contains the packages: count it only when there is no package zone.
    let has_package = zones
        .iter()
        .any(|z| matches!(z.component, Some(Component::CpuPackage { .. })));
    for z in zones.iter_mut() {
        if z.component == Some(Component::Psys) && has_package {
            z.counted = false;
            z.note = Some("whole platform, contains the packages: reported apart".into());
        }
        if z.component.is_some() && z.max_range_uj.is_none() {
            z.note = Some(
                "no max_energy_range_uj: a counter decrease can't be told from a reset and is \
                 bridged with the previous power and reported"
                    .into(),
            );
        }
    }
    Ok(zones)
}

struct ZoneState {
    info: ZoneInfo,
    component: Component,
    path: PathBuf,
    last_uj: u64,
    /// When `last_uj` was read (a failed read leaves it, so the next read covers the gap).
    last_ok: Instant,
    energy_j: f64,
    last_power_w: Option<f64>,
    /// `energy_uj` kept open (real files only, `FileSource::may_keep_open`): a 10 ms sampler
    /// otherwise pays a path lookup, an open and a close per zone per poll.
    cached: Option<CachedFile>,
}

impl ZoneState {
    fn read_uj(&mut self, files: &dyn FileSource) -> Result<u64, RaplError> {
        let Some(cached) = self.cached.as_mut() else {
            return read_u64(files, &self.path);
        };
        let text = cached.read().map_err(|e| match e {
            ProcError::Read { path, source }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                RaplError::PermissionDenied { path }
            }
            ProcError::Read { path, source } => RaplError::Read { path, source },
            ProcError::Parse { path, what } => RaplError::Parse { path, text: what },
        })?;
        parse_u64(text, &self.path)
    }
}

/// The RAPL sensor: reads `energy_uj` of every counted-or-reported zone at each poll.
pub struct RaplSensor {
    zones: Vec<ZoneState>,
    files: Arc<dyn FileSource>,
    max_zone_watts: f64,
}

impl RaplSensor {
    /// Open every zone under `<sysfs_root>/class/powercap` and take the first reading.
    pub fn open(sysfs_root: &Path, max_zone_watts: f64) -> Result<Self, RaplError> {
        Self::open_with(
            sysfs_root,
            max_zone_watts,
            Arc::new(RealFiles),
            Instant::now(),
        )
    }

    /// As `open`, reading file contents through `files`, the first reading taken as at `now`.
    pub fn open_with(
        sysfs_root: &Path,
        max_zone_watts: f64,
        files: Arc<dyn FileSource>,
        now: Instant,
    ) -> Result<Self, RaplError> {
        let infos = discover(sysfs_root, files.as_ref())?;
        let mut zones = Vec::new();
        for info in infos {
            let Some(component) = info.component.clone() else {
                continue;
            };
            let path = info.dir.join("energy_uj");
            let last_uj = read_u64(files.as_ref(), &path)?;
            let cached = files.may_keep_open().then(|| CachedFile::new(path.clone()));
            zones.push(ZoneState {
                info,
                component,
                path,
                last_uj,
                last_ok: now,
                energy_j: 0.0,
                last_power_w: None,
                cached,
            });
        }
        if zones.is_empty() {
            return Err(RaplError::NoZones(sysfs_root.join("class/powercap")));
        }
        Ok(Self {
            zones,
            files,
            max_zone_watts,
        })
    }

    pub fn zones(&self) -> Vec<ZoneInfo> {
        self.zones.iter().map(|z| z.info.clone()).collect()
    }
}

impl Sensor for RaplSensor {
    fn name(&self) -> String {
        "rapl".into()
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .zones
            .iter()
            .map(|z| {
                let counted = if z.info.counted { "" } else { ", not counted" };
                format!("{} ({}{counted})", z.info.id, z.info.name)
            })
            .collect();
        format!("RAPL powercap: {}", parts.join(", "))
    }

    fn poll(&mut self, now: Instant) -> Result<Poll, String> {
        let mut poll = Poll::default();
        for z in self.zones.iter_mut() {
            let elapsed = now.saturating_duration_since(z.last_ok).as_secs_f64();
            match z.read_uj(self.files.as_ref()) {
                Ok(cur) => {
                    z.last_ok = now;
                    // Floor of 1 ms: counters tick at ~1 kHz, so tinier intervals still move.
                    let max_step_uj = self.max_zone_watts * elapsed.max(1e-3) * 1e6;
                    let step = counter::step(z.last_uj, cur, z.info.max_range_uj, max_step_uj);
                    z.last_uj = cur;
                    let joules = match step {
                        CounterStep::Normal(d) | CounterStep::Wrapped(d) => d as f64 / 1e6,
                        CounterStep::Anomaly(why) => {
                            let bridged = z.last_power_w.map(|w| w * elapsed);
                            poll.warnings.push(match bridged {
                                Some(j) => format!(
                                    "{}: {why} (reset or corrupt read); {elapsed:.3} s bridged \
                                     with the previous power, {:.3} J",
                                    z.path.display(),
                                    j
                                ),
                                None => format!(
                                    "{}: {why} (reset or corrupt read); {elapsed:.3} s \
                                     could not be bridged (no previous power) and count 0 J",
                                    z.path.display()
                                ),
                            });
                            bridged.unwrap_or(0.0)
                        }
                    };
                    if elapsed > 0.0 {
                        z.last_power_w = Some(joules / elapsed);
                    }
                    z.energy_j += joules;
                }
                Err(e) => poll.warnings.push(format!(
                    "{e}; {} is counted again from the next successful read",
                    z.component
                )),
            }
            poll.readings.push(Reading {
                component: z.component.clone(),
                method: Method::Rapl,
                energy_j: z.energy_j,
                primary: true,
                counted: z.info.counted,
                model_idle_w: None,
                busy_s: None,
                note: z.info.note.clone(),
            });
        }
        Ok(poll)
    }
}
