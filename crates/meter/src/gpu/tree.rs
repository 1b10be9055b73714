//! GPUs read from a directory tree instead of NVML, as the RAPL sensor reads a powercap tree:
//! for tests of whole processes (an agent in a network namespace whose GPU must draw a known
//! power) and for replaying a device recorded elsewhere. The layout:
//!
//! ```text
//! DIR/driver_version            optional, e.g. "550.54.15"
//! DIR/gpu0/name                 e.g. "NVIDIA A100-SXM4-80GB"
//! DIR/gpu0/uuid                 e.g. "GPU-8d3f..."
//! DIR/gpu0/total_energy_mj      NVML's total energy counter, millijoules (absent: no counter)
//! DIR/gpu0/power_mw             current power, milliwatts
//! DIR/gpu0/utilization_percent  optional
//! ```
//!
//! GPUs are `gpu0`, `gpu1`, ... without gaps. Every value is reread on every poll.

use super::{GpuBackend, GpuInfo};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct TreeBackend {
    dir: PathBuf,
    count: u32,
}

impl TreeBackend {
    /// Open a GPU tree; it must hold at least `gpu0`.
    pub fn open(dir: &Path) -> Result<TreeBackend, String> {
        let mut count = 0;
        while dir.join(format!("gpu{count}")).is_dir() {
            count += 1;
        }
        if count == 0 {
            return Err(format!("{}: no gpu0/ in this GPU tree", dir.display()));
        }
        Ok(TreeBackend {
            dir: dir.to_path_buf(),
            count,
        })
    }

    fn file(&self, index: u32, name: &str) -> PathBuf {
        self.dir.join(format!("gpu{index}")).join(name)
    }

    fn read(&self, index: u32, name: &str) -> Result<Option<String>, String> {
        if index >= self.count {
            return Err(format!("no GPU {index}"));
        }
        let path = self.file(index, name);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn number<T: std::str::FromStr>(&self, index: u32, name: &str) -> Result<Option<T>, String> {
        match self.read(index, name)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| format!("{}: not a number: {s:?}", self.file(index, name).display())),
        }
    }
}

impl GpuBackend for TreeBackend {
    fn device_count(&self) -> Result<u32, String> {
        Ok(self.count)
    }

    fn info(&self, index: u32) -> Result<GpuInfo, String> {
        Ok(GpuInfo {
            index,
            name: self.read(index, "name")?.unwrap_or_else(|| "GPU".into()),
            uuid: self
                .read(index, "uuid")?
                .unwrap_or_else(|| format!("GPU-tree-{index}")),
        })
    }

    fn total_energy_mj(&self, index: u32) -> Result<Option<u64>, String> {
        self.number(index, "total_energy_mj")
    }

    fn power_mw(&self, index: u32) -> Result<u32, String> {
        self.number(index, "power_mw")?
            .ok_or_else(|| format!("{}: missing", self.file(index, "power_mw").display()))
    }

    fn utilization_percent(&self, index: u32) -> Result<Option<u32>, String> {
        self.number(index, "utilization_percent")
    }

    fn driver_version(&self) -> Result<Option<String>, String> {
        match std::fs::read_to_string(self.dir.join("driver_version")) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_reads_like_a_driver() {
        let d = tempfile::tempdir().unwrap();
        assert!(TreeBackend::open(d.path()).unwrap_err().contains("no gpu0"));
        let g0 = d.path().join("gpu0");
        std::fs::create_dir_all(&g0).unwrap();
        std::fs::write(g0.join("name"), "NVIDIA A100\n").unwrap();
        std::fs::write(g0.join("total_energy_mj"), "123456\n").unwrap();
        std::fs::write(g0.join("power_mw"), "250000\n").unwrap();
        std::fs::create_dir_all(d.path().join("gpu1")).unwrap();
        std::fs::write(d.path().join("gpu1/power_mw"), "x").unwrap();
        let t = TreeBackend::open(d.path()).unwrap();
        assert_eq!(t.device_count().unwrap(), 2);
        assert_eq!(t.info(0).unwrap().name, "NVIDIA A100");
        assert_eq!(t.total_energy_mj(0).unwrap(), Some(123_456));
        assert_eq!(t.power_mw(0).unwrap(), 250_000);
        assert_eq!(t.total_energy_mj(1).unwrap(), None, "gpu1 has no counter");
        assert!(t.power_mw(1).unwrap_err().contains("not a number"));
        assert!(t.info(2).is_err());
    }
}
