//! Parsing the procfs files the estimators and the process scope need: `stat`, `meminfo`,
//! `cpuinfo`, `<pid>/stat`, `<pid>/task/<tid>/children`. Every function takes the procfs root.

use crate::estimate::CpuTopology;
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Parse { path: PathBuf, what: String },
}

/// A small text file kept open and reread from offset 0 (`pread`) into a reused buffer: one
/// system call per read, no path lookup, no allocation once the buffer has grown. What the
/// sampler uses for files it reads at every poll (`/proc/stat`, `<pid>/stat`, `energy_uj`).
#[derive(Debug)]
pub struct CachedFile {
    path: PathBuf,
    file: Option<fs::File>,
    buf: Vec<u8>,
    len: usize,
}

impl CachedFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            file: None,
            buf: Vec::new(),
            len: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file and parse it with `f(text, path)`.
    pub fn parse<T>(
        &mut self,
        f: impl FnOnce(&str, &Path) -> Result<T, ProcError>,
    ) -> Result<T, ProcError> {
        self.read()?;
        let n = self.len;
        let text = std::str::from_utf8(&self.buf[..n]).map_err(|_| ProcError::Parse {
            path: self.path.clone(),
            what: "not UTF-8 text".into(),
        })?;
        f(text, &self.path)
    }

    /// The file's whole text now. A failed read closes the handle, so the next read opens the
    /// path again (a process that exited and whose pid was reused, a zone that reappeared).
    pub fn read(&mut self) -> Result<&str, ProcError> {
        let err = |path: &Path, source| ProcError::Read {
            path: path.to_path_buf(),
            source,
        };
        if self.file.is_none() {
            self.file = Some(fs::File::open(&self.path).map_err(|e| err(&self.path, e))?);
        }
        if self.buf.is_empty() {
            self.buf.resize(4096, 0);
        }
        let n = loop {
            let Some(file) = self.file.as_ref() else {
                unreachable!("opened above")
            };
            match std::os::unix::fs::FileExt::read_at(file, &mut self.buf, 0) {
                // A full buffer may be a truncated read: grow and read again from 0. (procfs
                // and sysfs fill the buffer in one read: a short read is the whole file.)
                Ok(n) if n == self.buf.len() => {
                    let len = self.buf.len() * 2;
                    self.buf.resize(len, 0);
                }
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.file = None;
                    return Err(err(&self.path, e));
                }
            }
        };
        self.len = n;
        std::str::from_utf8(&self.buf[..n]).map_err(|_| ProcError::Parse {
            path: self.path.clone(),
            what: "not UTF-8 text".into(),
        })
    }
}

/// Open `CachedFile`s by path, for a set of files that changes slowly (a process tree's
/// members): `sweep` closes those not read since the previous sweep.
#[derive(Debug, Default)]
pub struct FileCache {
    files: HashMap<PathBuf, (CachedFile, bool)>,
}

impl FileCache {
    pub fn read(&mut self, path: &Path) -> Result<&str, ProcError> {
        if !self.files.contains_key(path) {
            self.files.insert(
                path.to_path_buf(),
                (CachedFile::new(path.to_path_buf()), true),
            );
        }
        let Some((file, used)) = self.files.get_mut(path) else {
            unreachable!("inserted above")
        };
        *used = true;
        file.read()
    }

    /// Close every file not read since the last sweep.
    pub fn sweep(&mut self) {
        self.files.retain(|_, (_, used)| std::mem::take(used));
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn read(path: &Path) -> Result<String, ProcError> {
    fs::read_to_string(path).map_err(|source| ProcError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Aggregate CPU time of the machine, in clock ticks (USER_HZ), from the `cpu` line of
/// `/proc/stat`: `user nice system idle iowait irq softirq steal ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    /// user + nice + system + irq + softirq (guest time is already inside user/nice).
    pub busy: u64,
    /// busy + idle + iowait + steal.
    pub total: u64,
}

impl CpuTimes {
    /// Fraction of CPU time busy between `self` (earlier) and `later`; `None` if no time passed.
    pub fn load_until(&self, later: &CpuTimes) -> Option<f64> {
        let dt = later.total.checked_sub(self.total)?;
        if dt == 0 {
            return None;
        }
        let db = later.busy.saturating_sub(self.busy);
        Some((db as f64 / dt as f64).clamp(0.0, 1.0))
    }
}

pub fn parse_stat(text: &str, path: &Path) -> Result<CpuTimes, ProcError> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("cpu"))
        .ok_or_else(|| ProcError::Parse {
            path: path.to_path_buf(),
            what: "no aggregate `cpu` line".into(),
        })?;
    // Up to 10 fields today (user .. guest_nice); no allocation per read.
    let mut v = [0u64; 16];
    let mut len = 0;
    for (i, field) in line.split_whitespace().skip(1).enumerate() {
        let n = field.parse::<u64>().map_err(|_| ProcError::Parse {
            path: path.to_path_buf(),
            what: format!(
                "field {} of the `cpu` line is not a number: {field:?}",
                i + 1
            ),
        })?;
        if let Some(slot) = v.get_mut(i) {
            *slot = n;
        }
        len = i + 1;
    }
    if len < 4 {
        return Err(ProcError::Parse {
            path: path.to_path_buf(),
            what: format!("the `cpu` line has {len} fields, expected at least 4"),
        });
    }
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6);
    let total = busy + get(3) + get(4) + get(7);
    Ok(CpuTimes { busy, total })
}

pub fn read_cpu_times(procfs: &Path) -> Result<CpuTimes, ProcError> {
    let path = procfs.join("stat");
    parse_stat(&read(&path)?, &path)
}

/// `MemTotal` from `meminfo`, in bytes.
pub fn mem_total_bytes(procfs: &Path) -> Result<u64, ProcError> {
    let path = procfs.join("meminfo");
    meminfo_field(&read(&path)?, "MemTotal", &path)
}

/// RAM in use and installed, in bytes: `MemTotal - MemAvailable` (what psutil calls
/// `total - available`, the basis of its `percent`), and `MemTotal`.
pub fn mem_used_bytes(procfs: &Path) -> Result<(u64, u64), ProcError> {
    let path = procfs.join("meminfo");
    parse_mem_used(&read(&path)?, &path)
}

/// `mem_used_bytes` from a `meminfo` text.
pub fn parse_mem_used(text: &str, path: &Path) -> Result<(u64, u64), ProcError> {
    let total = meminfo_field(text, "MemTotal", path)?;
    let available = meminfo_field(text, "MemAvailable", path)?;
    Ok((total.saturating_sub(available), total))
}

/// One `Key:   N kB` line of `meminfo`, in bytes.
fn meminfo_field(text: &str, key: &str, path: &Path) -> Result<u64, ProcError> {
    let path = path.to_path_buf();
    for line in text.lines() {
        let Some((k, rest)) = line.split_once(':') else {
            continue;
        };
        if k == key {
            let mut it = rest.split_whitespace();
            let n = it.next().and_then(|s| s.parse::<u64>().ok());
            let unit = it.next().unwrap_or("");
            return match (n, unit) {
                (Some(n), "kB") => Ok(n * 1024),
                _ => Err(ProcError::Parse {
                    path,
                    what: format!("unexpected {key} line {line:?}"),
                }),
            };
        }
    }
    Err(ProcError::Parse {
        path,
        what: format!("no {key} line"),
    })
}

/// The CPU brand (`model name`, "unknown CPU" if absent) and topology from `<procfs>/cpuinfo`.
pub fn cpu_topology(procfs: &Path) -> Result<(String, CpuTopology), ProcError> {
    let path = procfs.join("cpuinfo");
    let (brand, topo) = CpuTopology::parse_cpuinfo(&read(&path)?);
    Ok((brand.unwrap_or_else(|| "unknown CPU".into()), topo))
}

/// The fields of `<pid>/stat` the process scope needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidStat {
    pub ppid: u32,
    /// utime + stime + cutime + cstime, clock ticks: the process's own CPU time plus that of
    /// the children it has waited for.
    pub ticks: u64,
}

/// Parse `<pid>/stat`. The command name (field 2) is in parentheses and may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_pid_stat(text: &str, path: &Path) -> Result<PidStat, ProcError> {
    let bad = |what: &str| ProcError::Parse {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
    let close = text
        .rfind(')')
        .ok_or_else(|| bad("no `)` after the command name"))?;
    // Fields 3 (state) to 17 (cstime), without allocating: field n is fields[n - 3].
    let mut fields = [""; 15];
    for (slot, f) in fields.iter_mut().zip(text[close + 1..].split_whitespace()) {
        *slot = f;
    }
    let num = |n: usize| -> Result<u64, ProcError> {
        fields
            .get(n - 3)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad(&format!("field {n} missing or not a number")))
    };
    let ppid = num(4)? as u32;
    let ticks = num(14)? + num(15)? + num(16)? + num(17)?;
    Ok(PidStat { ppid, ticks })
}

pub fn read_pid_stat(procfs: &Path, pid: u32) -> Result<PidStat, ProcError> {
    let path = procfs.join(pid.to_string()).join("stat");
    parse_pid_stat(&read(&path)?, &path)
}

/// Children of `pid` from `<pid>/task/*/children` (needs CONFIG_PROC_CHILDREN). `None` when
/// those files don't exist, so the caller scans parent ids instead.
fn children_from_task_files(procfs: &Path, pid: u32) -> Option<Vec<u32>> {
    let task_dir = procfs.join(pid.to_string()).join("task");
    let entries = fs::read_dir(&task_dir).ok()?;
    let mut kids = Vec::new();
    let mut found_any = false;
    for entry in entries.flatten() {
        if let Ok(text) = fs::read_to_string(entry.path().join("children")) {
            found_any = true;
            kids.extend(
                text.split_whitespace()
                    .filter_map(|s| s.parse::<u32>().ok()),
            );
        }
    }
    found_any.then_some(kids)
}

/// Map of every process to its parent, by scanning `<procfs>/<pid>/stat`.
fn parent_map(procfs: &Path) -> HashMap<u32, Vec<u32>> {
    let mut kids: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(entries) = fs::read_dir(procfs) else {
        return kids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(st) = read_pid_stat(procfs, pid) {
            kids.entry(st.ppid).or_default().push(pid);
        }
    }
    kids
}

/// Sum of `ticks` over the live process tree rooted at `root` (root included). Processes that
/// vanish between listing and reading are skipped. Errors only if the root can't be read.
pub fn tree_ticks(procfs: &Path, root: u32) -> Result<u64, ProcError> {
    Ok(tree_usage(procfs, root, false)?.ticks)
}

/// What a process tree uses now: CPU ticks (see `PidStat::ticks`) and resident memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeUsage {
    pub ticks: u64,
    /// Sum of the members' resident set sizes (`<pid>/statm` field 2 x page size), bytes;
    /// `None` when the root's `statm` cannot be read (or was not asked for).
    pub rss_bytes: Option<u64>,
}

/// Resident set size of one process from `<pid>/statm`, in bytes.
pub fn read_pid_rss(procfs: &Path, pid: u32) -> Result<u64, ProcError> {
    let path = procfs.join(pid.to_string()).join("statm");
    parse_statm_rss(&read(&path)?, &path)
}

/// Field 2 (resident pages) of a `statm` text, in bytes.
pub fn parse_statm_rss(text: &str, path: &Path) -> Result<u64, ProcError> {
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u64>().ok())
        .map(|pages| pages.saturating_mul(page_size()))
        .ok_or_else(|| ProcError::Parse {
            path: path.to_path_buf(),
            what: format!(
                "field 2 (resident pages) missing or not a number: {:?}",
                text.trim()
            ),
        })
}

/// The page size, the unit of `statm`.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// CPU ticks and (with `rss`) resident memory of the live tree rooted at `root`.
pub fn tree_usage(procfs: &Path, root: u32, rss: bool) -> Result<TreeUsage, ProcError> {
    tree_usage_cached(&mut FileCache::default(), procfs, root, rss)
}

/// `tree_usage`, reading every member's `stat` and `statm` through `cache` (kept open between
/// polls; call `cache.sweep()` after each poll to close the files of members gone).
pub fn tree_usage_cached(
    cache: &mut FileCache,
    procfs: &Path,
    root: u32,
    rss: bool,
) -> Result<TreeUsage, ProcError> {
    let pid_path = |pid: u32, file: &str| procfs.join(pid.to_string()).join(file);
    let stat = |cache: &mut FileCache, pid: u32| -> Result<PidStat, ProcError> {
        let path = pid_path(pid, "stat");
        parse_pid_stat(cache.read(&path)?, &path)
    };
    let statm = |cache: &mut FileCache, pid: u32| -> Result<u64, ProcError> {
        let path = pid_path(pid, "statm");
        parse_statm_rss(cache.read(&path)?, &path)
    };
    let mut total = stat(cache, root)?.ticks;
    let mut rss_total = if rss { statm(cache, root).ok() } else { None };
    let mut scanned: Option<HashMap<u32, Vec<u32>>> = None;
    let mut stack = vec![root];
    let mut seen = BTreeSet::from([root]);
    while let Some(pid) = stack.pop() {
        let kids = match children_from_task_files(procfs, pid) {
            Some(k) => k,
            None => scanned
                .get_or_insert_with(|| parent_map(procfs))
                .get(&pid)
                .cloned()
                .unwrap_or_default(),
        };
        for kid in kids {
            if !seen.insert(kid) {
                continue;
            }
            if let Ok(st) = stat(cache, kid) {
                total += st.ticks;
                stack.push(kid);
                if let Some(r) = rss_total.as_mut() {
                    // A member gone between the two reads holds no memory any more.
                    *r += statm(cache, kid).unwrap_or(0);
                }
            }
        }
    }
    Ok(TreeUsage {
        ticks: total,
        rss_bytes: rss_total,
    })
}

/// Clock ticks per second (USER_HZ), the unit of `/proc/stat` and `<pid>/stat` times.
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_busy_and_total() {
        let text = "cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 1 2 3 4\n";
        let t = parse_stat(text, Path::new("stat")).unwrap();
        // busy = user 100 + nice 5 + system 50 + irq 3 + softirq 2 = 160
        // total = 160 + idle 1000 + iowait 20 + steal 7 = 1187
        assert_eq!(
            t,
            CpuTimes {
                busy: 160,
                total: 1187
            }
        );
    }

    #[test]
    fn stat_garbage_names_file() {
        let err = parse_stat("cpu 1 x 3 4", Path::new("/fake/stat")).unwrap_err();
        assert!(err.to_string().contains("/fake/stat"), "{err}");
        assert!(parse_stat("intr 5", Path::new("s")).is_err());
    }

    #[test]
    fn pid_stat_with_parens_in_name() {
        let text = "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 11 22 33 44 20 0 1 0";
        let st = parse_pid_stat(text, Path::new("p")).unwrap();
        assert_eq!(st.ppid, 7);
        assert_eq!(st.ticks, 11 + 22 + 33 + 44);
    }

    #[test]
    fn meminfo_total() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("meminfo"),
            "MemTotal:       16384 kB\nMemFree: 1 kB\n",
        )
        .unwrap();
        assert_eq!(mem_total_bytes(dir.path()).unwrap(), 16384 * 1024);
        // No MemAvailable (kernels before 3.14): an error naming the key and the file.
        let e = mem_used_bytes(dir.path()).unwrap_err().to_string();
        assert!(e.contains("MemAvailable") && e.contains("meminfo"), "{e}");
        fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 16384 kB\nMemFree: 1 kB\nMemAvailable:  4096 kB\n",
        )
        .unwrap();
        assert_eq!(
            mem_used_bytes(dir.path()).unwrap(),
            (12288 * 1024, 16384 * 1024)
        );
    }

    #[test]
    fn a_cached_file_rereads_in_place_grows_and_reopens_after_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stat");
        fs::write(&path, "cpu  1 0 1 8 0 0 0 0 0 0\n").unwrap();
        let mut f = CachedFile::new(path.clone());
        assert_eq!(
            f.parse(parse_stat).unwrap(),
            CpuTimes { busy: 2, total: 10 }
        );
        // Rewritten in place (as the kernel's files change): the open handle sees it.
        fs::write(&path, "cpu  5 0 5 10 0 0 0 0 0 0\n").unwrap();
        assert_eq!(
            f.parse(parse_stat).unwrap(),
            CpuTimes {
                busy: 10,
                total: 20
            }
        );
        // Longer than the first buffer: read whole.
        let long = format!("cpu  1 0 1 8 0 0 0 0 0 0\nintr {}\n", "7 ".repeat(5000));
        fs::write(&path, &long).unwrap();
        assert_eq!(f.read().unwrap(), long);
        // Gone: an error naming the file; back: read again.
        fs::remove_file(&path).unwrap();
        let mut g = CachedFile::new(path.clone());
        let e = g.read().unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        fs::write(&path, "x").unwrap();
        assert_eq!(g.read().unwrap(), "x");
    }

    #[test]
    fn a_file_cache_closes_what_was_not_read_since_the_last_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "1").unwrap();
        fs::write(&b, "2").unwrap();
        let mut c = FileCache::default();
        assert_eq!(c.read(&a).unwrap(), "1");
        assert_eq!(c.read(&b).unwrap(), "2");
        c.sweep();
        assert_eq!(c.len(), 2);
        assert_eq!(c.read(&a).unwrap(), "1");
        c.sweep();
        assert_eq!(c.len(), 1, "b was not read: closed");
    }
}
