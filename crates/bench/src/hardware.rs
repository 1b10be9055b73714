//! The machine and software a run used, read from procfs and /etc/os-release (roots are
//! parameters so tests read fake trees), and the git revision of the working directory.

use crate::sink::HardwareInfo;
use std::path::Path;
use std::process::Command;

/// What this machine is. Unreadable facts stay empty ("unknown") rather than failing a run.
pub fn detect(procfs_root: &Path, etc_root: &Path) -> HardwareInfo {
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read(&procfs_root.join("cpuinfo"));
    let cpu_model = field(&cpuinfo, "model name")
        .or_else(|| field(&cpuinfo, "Model"))
        .or_else(|| field(&cpuinfo, "Hardware"))
        .unwrap_or_else(|| "unknown".into());
    let from_cpuinfo = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count() as u32;
    let cpu_cores = if from_cpuinfo > 0 {
        from_cpuinfo
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(0)
    };
    // The meter's meminfo reader; 0 = unknown (a fact for the record, not a reason to fail).
    let ram_bytes = powerhungry_meter::procfs::mem_total_bytes(procfs_root).unwrap_or(0);
    let os = os_name(&read(&etc_root.join("os-release")))
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let kernel = read(&procfs_root.join("sys/kernel/osrelease"))
        .trim()
        .to_string();
    HardwareInfo {
        cpu_model,
        cpu_cores,
        ram_bytes,
        gpus: Vec::new(),
        os,
        kernel,
    }
}

/// Value of the first `key : value` line.
fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn os_name(os_release: &str) -> Option<String> {
    let get = |key: &str| {
        os_release.lines().find_map(|l| {
            let v = l.strip_prefix(key)?.strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_string())
        })
    };
    get("PRETTY_NAME").or_else(|| get("NAME"))
}

/// This machine's name (`<procfs>/sys/kernel/hostname`), if it can be read and is not empty:
/// which node ran a shard, and a node agent's default name.
pub fn hostname(procfs_root: &Path) -> Option<String> {
    std::fs::read_to_string(procfs_root.join("sys/kernel/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// `git rev-parse HEAD` in `dir`, with "-dirty" when the tree has uncommitted changes; None
/// when `dir` is not in a git repository or git is not installed.
pub fn git_revision(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let rev = String::from_utf8(out.stdout).ok()?.trim().to_string();
    let dirty = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| o.status.success() && !o.stdout.is_empty());
    Some(if dirty { format!("{rev}-dirty") } else { rev })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fake_tree() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let proc_ = dir.path().join("proc");
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(proc_.join("sys/kernel"))?;
        std::fs::create_dir_all(&etc)?;
        std::fs::write(
            proc_.join("cpuinfo"),
            "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n",
        )?;
        std::fs::write(
            proc_.join("meminfo"),
            "MemTotal:       24596012 kB\nMemFree: 1 kB\n",
        )?;
        std::fs::write(proc_.join("sys/kernel/osrelease"), "6.1.0-27-cloud-amd64\n")?;
        std::fs::write(
            etc.join("os-release"),
            "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )?;
        let h = detect(&proc_, &etc);
        assert_eq!(h.cpu_model, "Intel(R) Xeon(R) CPU @ 2.20GHz");
        assert_eq!(h.cpu_cores, 2);
        assert_eq!(h.ram_bytes, 24_596_012 * 1024);
        assert_eq!(h.os, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(h.kernel, "6.1.0-27-cloud-amd64");
        Ok(())
    }

    #[test]
    fn an_empty_tree_gives_unknowns_not_errors() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let h = detect(dir.path(), dir.path());
        assert_eq!(h.cpu_model, "unknown");
        assert_eq!(h.ram_bytes, 0);
        assert!(h.kernel.is_empty());
        Ok(())
    }
}
