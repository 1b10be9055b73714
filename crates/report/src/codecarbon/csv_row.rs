//! The CodeCarbon 3.x row of one measured window (what `powerhungry measure` appends to
//! `emissions.csv`), and appending it safely: the header is checked and written under an
//! exclusive lock on the file, so two runs appending to one new file at once write one header.
//!
//! The lock is `flock(2)` on the CSV file itself (advisory, released when the file is closed or
//! the process dies): no lock file is left next to it. Every powerhungry writer takes it;
//! a writer that does not (CodeCarbon itself) is not held back.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use powerhungry_carbon::{Emissions, ResolvedIntensity};
use powerhungry_meter::{procfs, Component, ComponentClass, WindowReport};

use super::row::{EmissionsRow, RunEnergy};
use super::timestamp::Timestamp;
use super::write::{check_appendable, OnHeaderMismatch, V3_COLUMNS};
use super::CodecarbonError;

/// What the row says besides the window's figures.
#[derive(Debug, Clone)]
pub struct RowContext<'a> {
    pub project_name: &'a str,
    pub experiment_id: Option<&'a str>,
    /// `tracking_mode`: "machine" or "process".
    pub scope: &'a str,
    /// Where the OS release, CPU model and RAM size are read from (`/proc`, or a test tree).
    pub procfs_root: &'a Path,
    /// The signal (`SIGTERM`) the run was interrupted by, if it was.
    pub interrupted_by: Option<&'a str>,
}

/// `tracking_mode` of a row: the scope, and for an interrupted run `machine; interrupted by
/// SIGTERM`. CodeCarbon's 38 columns have no other place for it, and a filter on "machine" then
/// never takes a partial run for a finished one.
pub fn tracking_mode(scope: &str, interrupted_by: Option<&str>) -> String {
    match interrupted_by {
        None => scope.to_string(),
        Some(sig) => format!("{scope}; interrupted by {sig}"),
    }
}

/// Energy of one class over the window, `None` when no counted component of it exists
/// (an empty CSV field, not a misleading 0). RAPL psys counted alone goes under CPU.
fn class_energy(w: &WindowReport, classes: &[ComponentClass]) -> Option<f64> {
    let mut found = false;
    let mut sum = 0.0;
    for c in w.components.iter().filter(|c| c.counted) {
        if classes.contains(&c.component.class()) {
            found = true;
            sum += c.billed_j();
        }
    }
    found.then_some(sum)
}

/// A random RFC 4122 version-4 UUID, as CodeCarbon's run_id.
pub fn uuid4() -> String {
    let mut bytes = [0u8; 16];
    for half in bytes.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The row of one window that ended at `ended`.
pub fn row(
    w: &WindowReport,
    e: &Emissions,
    loc: &ResolvedIntensity,
    ctx: &RowContext,
    ended: SystemTime,
) -> EmissionsRow {
    let energy = RunEnergy {
        duration_s: w.duration_s,
        cpu_j: class_energy(w, &[ComponentClass::Cpu, ComponentClass::Platform]),
        gpu_j: class_energy(w, &[ComponentClass::Gpu]),
        ram_j: class_energy(w, &[ComponentClass::Ram]),
        emissions_kg: e.co2e_kg,
    };
    let secs = ended
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut row = EmissionsRow::from_energy(Timestamp::from_unix(secs), ctx.project_name, &energy);
    row.run_id = Some(uuid4());
    row.experiment_id = ctx.experiment_id.map(str::to_string);
    // Location: a cloud code is "provider:region"; a 3-letter code is a country.
    if let Some((provider, region)) = loc.code.split_once(':') {
        row.cloud_provider = Some(provider.to_string());
        row.cloud_region = Some(region.to_string());
        row.on_cloud = Some(true);
    } else {
        row.on_cloud = Some(false);
        if loc.code.len() == 3 && loc.code.chars().all(|c| c.is_ascii_uppercase()) {
            row.country_iso_code = Some(loc.code.clone());
            let name = loc
                .label
                .strip_suffix(&format!(" ({})", loc.code))
                .unwrap_or(&loc.label);
            row.country_name = Some(name.to_string());
        } else if loc.code.contains('-') {
            row.region = Some(loc.code.clone());
        }
    }
    row.pue = Some(loc.pue);
    let release = std::fs::read_to_string(ctx.procfs_root.join("sys/kernel/osrelease"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    row.os = Some(format!("Linux-{release}-{}", std::env::consts::ARCH));
    if let Ok((brand, topo)) = procfs::cpu_topology(ctx.procfs_root) {
        row.cpu_count = Some(topo.logical_cpus);
        row.cpu_model = Some(brand);
    }
    let mut gpus: BTreeMap<String, u32> = BTreeMap::new();
    for c in w.components.iter().filter(|c| c.counted) {
        if let Component::Gpu { name, .. } = &c.component {
            *gpus.entry(name.clone()).or_default() += 1;
        }
    }
    if !gpus.is_empty() {
        row.gpu_count = Some(gpus.values().sum());
        let models: Vec<String> = gpus.iter().map(|(n, k)| format!("{k} x {n}")).collect();
        row.gpu_model = Some(models.join(", "));
    }
    if let Ok(bytes) = procfs::mem_total_bytes(ctx.procfs_root) {
        row.ram_total_size_gb = Some(bytes as f64 / (1u64 << 30) as f64);
    }
    // Machine-wide, as in CodeCarbon: mean CPU utilisation over the window, RAM in use when it
    // closed; GPU: mean over the counted GPUs, empty when NVML gives none.
    row.cpu_utilization_percent = w.cpu_utilization_percent;
    row.gpu_utilization_percent = w.gpu_utilization_percent;
    if let Some(ram) = w.ram {
        row.ram_used_gb = Some(ram.used_bytes as f64 / (1u64 << 30) as f64);
        row.ram_utilization_percent = Some(ram.percent());
    }
    row.tracking_mode = Some(tracking_mode(ctx.scope, ctx.interrupted_by));
    row
}

/// Before a long run: fail now if the row could not be appended (the file exists with another
/// header and `on_mismatch` is [`OnHeaderMismatch::Error`]), so it is not lost after the run.
pub fn precheck(path: &Path, on_mismatch: OnHeaderMismatch) -> Result<(), CodecarbonError> {
    match on_mismatch {
        OnHeaderMismatch::NewFile => Ok(()),
        OnHeaderMismatch::Error => check_appendable(path),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CodecarbonError + '_ {
    move |cause| CodecarbonError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// The header of the open file, read from its start (`None` when it is empty).
fn header_of(file: &mut File, path: &Path) -> Result<Option<Vec<String>>, CodecarbonError> {
    file.seek(SeekFrom::Start(0)).map_err(io(path))?;
    // The header is the first record; 64 KiB is far more than 38 column names need.
    let mut head = Vec::new();
    Read::take(&mut *file, 64 * 1024)
        .read_to_end(&mut head)
        .map_err(io(path))?;
    if head.is_empty() {
        return Ok(None);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(head.as_slice());
    let mut rec = csv::StringRecord::new();
    match rdr.read_record(&mut rec) {
        Ok(true) => Ok(Some(
            rec.iter()
                .map(|f| f.trim_start_matches('\u{feff}').to_string())
                .collect(),
        )),
        Ok(false) => Ok(None),
        Err(e) => Err(CodecarbonError::Csv {
            path: path.to_path_buf(),
            line: 1,
            cause: e,
        }),
    }
}

fn header_matches(h: &[String]) -> bool {
    h.len() == V3_COLUMNS.len() && h.iter().zip(V3_COLUMNS).all(|(a, b)| a == b)
}

fn first_difference(h: &[String]) -> String {
    for (i, want) in V3_COLUMNS.iter().enumerate() {
        match h.get(i) {
            Some(got) if got == want => continue,
            Some(got) => return format!("column {} is {got:?}, expected {want:?}", i + 1),
            None => return format!("column {} ({want:?}) is missing", i + 1),
        }
    }
    format!(
        "{} extra column(s) after {:?}",
        h.len() - V3_COLUMNS.len(),
        V3_COLUMNS[37]
    )
}

fn sibling(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or("emissions".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Open `path` for appending (created if missing) and hold an exclusive lock on it.
fn open_locked(path: &Path) -> Result<File, CodecarbonError> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io(path))?;
    file.lock().map_err(io(path))?;
    Ok(file)
}

/// Append `row` to the CodeCarbon file at `path` under an exclusive lock: the header is written
/// only if the file is missing or empty *while locked*; appended if its header is CodeCarbon
/// 3.x's; otherwise per `on_mismatch` (the next free or matching `<stem>-N.<ext>`, also locked).
/// Returns the path written to.
pub fn append_locked(
    path: &Path,
    row: &EmissionsRow,
    on_mismatch: OnHeaderMismatch,
) -> Result<PathBuf, CodecarbonError> {
    append_locked_with(path, row, on_mismatch, || {})
}

/// [`append_locked`], calling `between` after the header check and before the write (tests
/// widen the race window with it).
fn append_locked_with(
    path: &Path,
    row: &EmissionsRow,
    on_mismatch: OnHeaderMismatch,
    between: impl Fn(),
) -> Result<PathBuf, CodecarbonError> {
    let mut target = path.to_path_buf();
    let mut n = 0;
    loop {
        let mut file = open_locked(&target)?;
        let needs_header = match header_of(&mut file, &target)? {
            None => true,
            Some(h) if header_matches(&h) => false,
            Some(h) => {
                if on_mismatch == OnHeaderMismatch::Error || n >= 1000 {
                    return Err(CodecarbonError::HeaderMismatch {
                        path: target,
                        found_columns: h.len(),
                        first_difference: first_difference(&h),
                    });
                }
                drop(file);
                n += 1;
                target = sibling(path, n);
                continue;
            }
        };
        between();
        super::write::write_row_to(&mut file, &target, row, needs_header)?;
        file.flush().map_err(io(&target))?;
        // The lock goes with the file.
        return Ok(target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::{Arc, Barrier};

    fn demo_row(project: &str) -> EmissionsRow {
        EmissionsRow {
            project_name: project.into(),
            duration_s: 1.0,
            ..EmissionsRow::default()
        }
    }

    fn header_lines(text: &str) -> usize {
        text.lines().filter(|l| l.starts_with("timestamp,")).count()
    }

    /// Many writers on one new file at once, each pausing between its header check and its
    /// write (where two unlocked writers would both decide the file needs a header): one
    /// header, every row.
    #[test]
    fn concurrent_appends_to_a_new_file_write_one_header() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..5 {
            let path = dir.path().join(format!("emissions-{round}.csv"));
            let writers = 8;
            let barrier = Arc::new(Barrier::new(writers));
            let handles: Vec<_> = (0..writers)
                .map(|i| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        append_locked_with(
                            &path,
                            &demo_row(&format!("p{i}")),
                            OnHeaderMismatch::Error,
                            || std::thread::sleep(std::time::Duration::from_millis(5)),
                        )
                        .unwrap()
                    })
                })
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), path);
            }
            let text = fs::read_to_string(&path).unwrap();
            assert_eq!(header_lines(&text), 1, "{text}");
            assert_eq!(text.lines().count(), 1 + writers, "{text}");
        }
    }

    #[test]
    fn appends_after_a_line_without_newline_and_keeps_one_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        append_locked(&path, &demo_row("a"), OnHeaderMismatch::Error).unwrap();
        let mut text = fs::read_to_string(&path).unwrap();
        text.pop(); // drop the final newline
        fs::write(&path, &text).unwrap();
        append_locked(&path, &demo_row("b"), OnHeaderMismatch::Error).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(header_lines(&text), 1);
        assert_eq!(text.lines().count(), 3, "{text}");
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let projects: Vec<String> = rdr.records().map(|r| r.unwrap()[1].to_string()).collect();
        assert_eq!(projects, ["a", "b"]);
    }

    #[test]
    fn another_header_is_refused_or_goes_to_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emissions.csv");
        fs::write(&path, "a,b,c\n1,2,3\n").unwrap();
        assert!(precheck(&path, OnHeaderMismatch::NewFile).is_ok());
        let err = precheck(&path, OnHeaderMismatch::Error).unwrap_err();
        assert!(err.to_string().contains("emissions.csv"), "{err}");
        let err = append_locked(&path, &demo_row("x"), OnHeaderMismatch::Error).unwrap_err();
        assert!(
            matches!(
                err,
                CodecarbonError::HeaderMismatch {
                    found_columns: 3,
                    ..
                }
            ),
            "{err}"
        );
        let written = append_locked(&path, &demo_row("x"), OnHeaderMismatch::NewFile).unwrap();
        assert_eq!(written, dir.path().join("emissions-1.csv"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "a,b,c\n1,2,3\n");
        // The next run finds emissions-1.csv's header and appends there.
        let again = append_locked(&path, &demo_row("y"), OnHeaderMismatch::NewFile).unwrap();
        assert_eq!(again, written);
        let text = fs::read_to_string(&written).unwrap();
        assert_eq!((header_lines(&text), text.lines().count()), (1, 3));
    }

    #[test]
    fn a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/e.csv");
        let err = append_locked(&path, &demo_row("x"), OnHeaderMismatch::Error).unwrap_err();
        assert!(err.to_string().contains("no/such/e.csv"), "{err}");
    }

    #[test]
    fn interrupted_runs_say_so_in_tracking_mode() {
        assert_eq!(tracking_mode("machine", None), "machine");
        assert_eq!(
            tracking_mode("process", Some("SIGINT")),
            "process; interrupted by SIGINT"
        );
        let id = uuid4();
        assert_eq!((id.len(), &id[14..15]), (36, "4"));
    }
}
