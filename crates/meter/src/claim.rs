//! Device claims: when several meters run at once on one machine (Slurm ranks each under
//! `powerhungry measure`, a bench beside a measure), each device is counted by one of them.
//!
//! A claim is an advisory `flock` on `<dir>/<device>.lock`, taken without waiting when the
//! meter starts and held until it is dropped; the kernel releases it if the process dies. The
//! file holds the holder's pid, for the message the other meters print. Process-scope meters
//! take CPU claims shared: each bills only its own tree's share, so several may run together,
//! but never beside a machine-scope meter that counts the whole CPU.

use crate::component::{Component, ComponentClass};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

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

/// The claims one meter holds, and the devices another meter holds.
#[derive(Debug, Default)]
pub struct Claims {
    /// Open lock files; closing them (drop) releases the locks.
    held: Vec<File>,
    /// Claim key -> the other holder's pid (None when the file does not say).
    foreign: HashMap<String, Option<u32>>,
}

impl Claims {
    /// Try to claim every device in `components`, without waiting. `shared_cpu`: take CPU
    /// claims shared (process scope). Fails only when the directory or a lock file is unusable.
    pub fn acquire(
        dir: &Path,
        components: &[Component],
        shared_cpu: bool,
    ) -> Result<Claims, String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("claim directory {}: {e}", dir.display()))?;
        let mut claims = Claims::default();
        let mut keys: Vec<(String, bool)> = components
            .iter()
            .map(|c| (claim_key(c), shared_cpu && c.class() == ComponentClass::Cpu))
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
                .open(&path)
                .map_err(|e| format!("claim file {}: {e}", path.display()))?;
            let op = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
            // SAFETY: flock on a descriptor we own; no memory is passed.
            if unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
                // Not fatal if this fails: the lock is what counts, the pid is for messages.
                let _ = write_pid(&mut file);
                claims.held.push(file);
                continue;
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(format!("claim file {}: flock: {err}", path.display()));
            }
            claims.foreign.insert(key, read_pid(&mut file));
        }
        Ok(claims)
    }

    /// Why `c` must not be counted here, when another meter holds it.
    pub fn foreign_note(&self, c: &Component) -> Option<String> {
        self.foreign.get(&claim_key(c)).map(|pid| match pid {
            Some(pid) => format!("counted by another meter (pid {pid})"),
            None => "counted by another meter (pid unknown)".to_string(),
        })
    }

    /// Devices this meter holds.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }
}

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
}
