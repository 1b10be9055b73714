//! Device claims: when several meters run at once on one machine (Slurm ranks each under
//! `powerhungry measure`, a bench beside a measure), each device is counted by one of them.
//!
//! A claim is an advisory `flock` on `<dir>/<device>.lock`, taken without waiting when the
//! meter starts and held until it is dropped; the kernel releases it if the process dies. The
//! file holds the holder's pid, for the message the other meters print. Process-scope meters
//! take CPU claims shared: each bills only its own tree's share, so several may run together,
//! but never beside a machine-scope meter that counts the whole CPU.

use crate::component::{Component, ComponentClass};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable overriding the default claim directory.
pub const CLAIM_DIR_ENV: &str = "POWERHUNGRY_CLAIM_DIR";

/// `$POWERHUNGRY_CLAIM_DIR`, else `$XDG_RUNTIME_DIR/powerhungry`, else
/// `/tmp/powerhungry-locks-<uid>`. Every meter of one user on one machine meets there.
pub fn default_claim_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(CLAIM_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("powerhungry");
    }
    // SAFETY: getuid has no failure mode and touches no memory.
    let uid = unsafe { libc::getuid() };
    PathBuf::from(format!("/tmp/powerhungry-locks-{uid}"))
}

/// The lock file name of a device: GPUs by NVML index (stable on a node: PCI order), CPU
/// packages and DRAM by socket, the RAM estimate and psys once per machine.
pub fn claim_key(c: &Component) -> String {
    match c {
        Component::Gpu { index, .. } => format!("gpu{index}"),
        other => other.to_string(),
    }
}

/// What a meter does when a device it needs is held by another meter.
///
/// `MeterConfig::default()` keeps the library's historical rule (`Exclude`) so that callers
/// that do not opt in behave as before; `measure` and `bench` should opt in to `Refuse` (the
/// documented default of the tool) or `Wait` (`--wait-for-devices`). Process scope shares the
/// CPU and RAM claims by attribution (`MeterConfig::claim_cpu_shared`) under any policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClaimPolicy {
    /// Count what is free; a device another meter holds is read and reported "NOT COUNTED",
    /// and every window lists it in `WindowReport::incomplete`.
    #[default]
    Exclude,
    /// Refuse to start (`MeterError::DeviceClaimed`), naming the device and the holder's pid.
    /// An unsafe or unusable claim directory is also an error instead of a warning.
    Refuse,
    /// Block in `Meter::start` until every holder has released its claim, printing a line to
    /// stderr at once and every `WAIT_NOTICE_EVERY` while waiting.
    Wait,
}

/// How often a waiting meter repeats its "waiting for" line.
pub const WAIT_NOTICE_EVERY: Duration = Duration::from_secs(10);
/// How often a waiting meter retries its claims.
pub const WAIT_RETRY_EVERY: Duration = Duration::from_millis(100);

/// A device another meter holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignClaim {
    /// Claim key, e.g. `cpu-package0`, `ram`, `gpu3`.
    pub key: String,
    /// The holder's pid, from the lock file (None when the file does not say).
    pub pid: Option<u32>,
    pub lock_file: PathBuf,
}

impl ForeignClaim {
    fn holder(&self) -> String {
        match self.pid {
            Some(pid) => format!("pid {pid}"),
            None => "pid unknown".to_string(),
        }
    }
}

impl std::fmt::Display for ForeignClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is held by another meter ({}, lock file {})",
            self.key,
            self.holder(),
            self.lock_file.display()
        )
    }
}

/// Create the claim directory (mode 0700) if needed and check that it is safe to use: owned by
/// us and writable by nobody else. Another user who pre-creates `/tmp/powerhungry-locks-<uid>`
/// could otherwise hold (or fake) every claim of ours.
pub fn prepare_dir(dir: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("claim directory {}: {e}", dir.display()))?;
    let meta =
        std::fs::metadata(dir).map_err(|e| format!("claim directory {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "claim directory {}: not a directory",
            dir.display()
        ));
    }
    // SAFETY: getuid has no failure mode and touches no memory.
    let me = unsafe { libc::getuid() };
    check_dir_owner_mode(dir, meta.uid(), meta.mode(), me)
}

/// The ownership and mode rule of `prepare_dir`, apart so that it can be tested without root.
pub fn check_dir_owner_mode(dir: &Path, owner: u32, mode: u32, me: u32) -> Result<(), String> {
    let fix = format!(
        "remove it (`rm -r {0}`) and let the meter create it (mode 0700), or choose a directory \
         of your own with --claim-dir or ${CLAIM_DIR_ENV}",
        dir.display()
    );
    if owner != me {
        return Err(format!(
            "claim directory {} is owned by uid {owner}, not by you (uid {me}), mode {:04o}: \
             its owner could hold or fake every device claim; {fix}",
            dir.display(),
            mode & 0o7777
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "claim directory {} (owner uid {owner}) has mode {:04o}, writable by group or \
             others: anyone could hold or fake every device claim; `chmod 700 {}`, or {fix}",
            dir.display(),
            mode & 0o7777,
            dir.display()
        ));
    }
    Ok(())
}

/// The claims one meter holds, and the devices another meter holds.
#[derive(Debug, Default)]
pub struct Claims {
    /// Open lock files; closing them (drop) releases the locks.
    held: Vec<File>,
    /// Claim key -> the other holder.
    foreign: HashMap<String, ForeignClaim>,
}

impl Claims {
    /// Try to claim every device in `components`, without waiting. `shared_cpu`: take CPU
    /// and RAM claims shared (process scope, where both are billed by the tree's share). Fails
    /// only when the directory (see `prepare_dir`) or a lock file is unusable.
    pub fn acquire(
        dir: &Path,
        components: &[Component],
        shared_cpu: bool,
    ) -> Result<Claims, String> {
        prepare_dir(dir)?;
        let mut claims = Claims::default();
        let mut keys: Vec<(String, bool)> = components
            .iter()
            .map(|c| (claim_key(c), shared_cpu && shareable(c)))
            .collect();
        keys.sort();
        keys.dedup();
        for (key, shared) in keys {
            let path = dir.join(format!("{key}.lock"));
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)
                .map_err(|e| format!("claim file {}: {e}", path.display()))?;
            let op = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
            // SAFETY: flock on a descriptor we own; no memory is passed.
            if unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
                write_pid(&mut file)
                    .map_err(|e| format!("claim file {}: writing our pid: {e}", path.display()))?;
                claims.held.push(file);
                continue;
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(format!("claim file {}: flock: {err}", path.display()));
            }
            let pid = read_pid(&mut file);
            claims.foreign.insert(
                key.clone(),
                ForeignClaim {
                    key,
                    pid,
                    lock_file: path,
                },
            );
        }
        Ok(claims)
    }

    /// Why `c` must not be counted here, when another meter holds it.
    pub fn foreign_note(&self, c: &Component) -> Option<String> {
        self.foreign
            .get(&claim_key(c))
            .map(|f| format!("counted by another meter ({})", f.holder()))
    }

    /// Whether another meter holds any device this one needed.
    pub fn has_foreign(&self) -> bool {
        !self.foreign.is_empty()
    }

    /// Whether another meter holds `c`.
    pub fn is_foreign(&self, c: &Component) -> bool {
        self.foreign.contains_key(&claim_key(c))
    }

    /// The devices other meters hold, sorted by key.
    pub fn foreign(&self) -> Vec<ForeignClaim> {
        let mut v: Vec<ForeignClaim> = self.foreign.values().cloned().collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Devices this meter holds.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }
}

/// CPU and RAM are billed by share in process scope, so process-scope meters may share them;
/// GPUs (restricted by CUDA_VISIBLE_DEVICES instead) and psys stay exclusive.
fn shareable(c: &Component) -> bool {
    matches!(c.class(), ComponentClass::Cpu | ComponentClass::Ram)
}

/// Record the holder's pid (shared holders overwrite each other: the file names one of them,
/// which is all a message needs).
fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    file.flush()
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut s).ok()?;
    s.lines().next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Component {
        Component::CpuPackage { index: 0 }
    }

    #[test]
    fn a_second_claim_in_the_same_process_conflicts_and_names_the_holder() {
        // flock locks belong to the open file description, so two opens conflict even in one
        // process: this is what lets the tests run two meters side by side.
        let dir = tempfile::tempdir().unwrap();
        let devs = [cpu(), Component::Ram];
        let first = Claims::acquire(dir.path(), &devs, false).unwrap();
        assert_eq!(first.held_count(), 2);
        let second = Claims::acquire(dir.path(), &devs, false).unwrap();
        assert_eq!(second.held_count(), 0);
        let me = std::process::id();
        assert_eq!(
            second.foreign_note(&Component::Ram).unwrap(),
            format!("counted by another meter (pid {me})")
        );
        drop(first);
        let third = Claims::acquire(dir.path(), &devs, false).unwrap();
        assert_eq!(third.held_count(), 2);
        assert!(third.foreign_note(&cpu()).is_none());
    }

    #[test]
    fn process_scope_meters_share_the_cpu_but_not_against_machine_scope() {
        let dir = tempfile::tempdir().unwrap();
        let a = Claims::acquire(dir.path(), &[cpu()], true).unwrap();
        let b = Claims::acquire(dir.path(), &[cpu()], true).unwrap();
        assert_eq!((a.held_count(), b.held_count()), (1, 1));
        let machine = Claims::acquire(dir.path(), &[cpu()], false).unwrap();
        assert!(machine.foreign_note(&cpu()).is_some());
        // GPUs and RAM stay exclusive in process scope: they are machine-wide figures.
        let gpu = [Component::Gpu {
            index: 3,
            name: "A100".into(),
        }];
        let c = Claims::acquire(dir.path(), &gpu, true).unwrap();
        let d = Claims::acquire(dir.path(), &gpu, true).unwrap();
        assert_eq!((c.held_count(), d.held_count()), (1, 0));
        assert!(dir.path().join("gpu3.lock").exists());
    }

    #[test]
    fn an_unusable_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let e = Claims::acquire(&file.join("sub"), &[cpu()], false).unwrap_err();
        assert!(e.contains("not-a-dir"), "{e}");
    }

    #[test]
    fn the_claim_dir_is_created_0700_and_the_lock_file_names_the_holder() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("locks");
        let held = Claims::acquire(&dir, &[cpu()], false).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        let text = std::fs::read_to_string(dir.join("cpu-package0.lock")).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(held);
    }

    #[test]
    fn a_claim_dir_writable_by_others_is_refused_naming_owner_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Claims::acquire(dir.path(), &[cpu()], false).unwrap_err();
        let shown = dir.path().display().to_string();
        assert!(e.contains(&shown), "{e}");
        assert!(e.contains("0777") && e.contains("owner uid"), "{e}");
        assert!(e.contains("chmod 700"), "{e}");
        // Group-writable alone is refused too; 0755 is fine.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(Claims::acquire(dir.path(), &[cpu()], false).is_err());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(Claims::acquire(dir.path(), &[cpu()], false).is_ok());
    }

    #[test]
    fn a_claim_dir_owned_by_another_user_is_refused() {
        let dir = Path::new("/tmp/powerhungry-locks-1000");
        let e = check_dir_owner_mode(dir, 1001, 0o40700, 1000).unwrap_err();
        assert!(e.contains("/tmp/powerhungry-locks-1000"), "{e}");
        assert!(
            e.contains("owned by uid 1001") && e.contains("uid 1000"),
            "{e}"
        );
        assert!(e.contains("0700") && e.contains("rm -r"), "{e}");
        assert!(check_dir_owner_mode(dir, 1000, 0o40700, 1000).is_ok());
        // For real, where we may chown (root): a directory handed to nobody is refused.
        // SAFETY: getuid has no failure mode.
        if unsafe { libc::getuid() } == 0 {
            let d = tempfile::tempdir().unwrap();
            std::os::unix::fs::chown(d.path(), Some(65534), None).unwrap();
            let e = Claims::acquire(d.path(), &[cpu()], false).unwrap_err();
            assert!(e.contains("owned by uid 65534"), "{e}");
        }
    }
}
