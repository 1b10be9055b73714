//! Which GPUs the workload may use: CUDA_VISIBLE_DEVICES (indices or UUIDs) and `--gpus`.

use super::GpuInfo;
use crate::config::GpuSelection;

/// Whether one GPU is counted, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Counted,
    Apart(String),
}

/// Apply CUDA's rules: entries are indices or UUIDs (a unique UUID prefix is allowed),
/// separated by commas; the list stops at the first invalid entry; an empty value hides every
/// GPU; unset shows all. Then `--gpus` (NVML indices) further restricts.
pub fn visible_to_workload(
    gpu: &GpuInfo,
    all: &[GpuInfo],
    cuda_visible_devices: Option<&str>,
    selection: &GpuSelection,
) -> Visibility {
    if let Some(cvd) = cuda_visible_devices {
        let mut allowed = Vec::new();
        for entry in cvd.split(',').map(str::trim) {
            if let Ok(i) = entry.parse::<i64>() {
                if i < 0 || i as usize >= all.len() {
                    break;
                }
                allowed.push(i as u32);
            } else if !entry.is_empty() {
                let want = entry.strip_prefix("GPU-").unwrap_or(entry);
                let matches: Vec<&GpuInfo> = all
                    .iter()
                    .filter(|g| {
                        g.uuid
                            .strip_prefix("GPU-")
                            .unwrap_or(&g.uuid)
                            .starts_with(want)
                    })
                    .collect();
                if matches.len() != 1 {
                    break;
                }
                allowed.push(matches[0].index);
            } else {
                break;
            }
        }
        if !allowed.contains(&gpu.index) {
            return Visibility::Apart(format!(
                "not in CUDA_VISIBLE_DEVICES={cvd:?}: the workload can't use it"
            ));
        }
    }
    match selection {
        GpuSelection::All => Visibility::Counted,
        GpuSelection::Indices(list) if list.contains(&gpu.index) => Visibility::Counted,
        GpuSelection::Indices(list) => {
            Visibility::Apart(format!("not selected by --gpus {list:?}"))
        }
        GpuSelection::None => Visibility::Apart("GPUs disabled".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpus() -> Vec<GpuInfo> {
        (0..4)
            .map(|i| GpuInfo {
                index: i,
                name: "A100".into(),
                uuid: format!("GPU-{i}{i}aa-bbbb"),
            })
            .collect()
    }

    fn counted(cvd: Option<&str>, sel: &GpuSelection) -> Vec<u32> {
        let all = gpus();
        all.iter()
            .filter(|g| visible_to_workload(g, &all, cvd, sel) == Visibility::Counted)
            .map(|g| g.index)
            .collect()
    }

    #[test]
    fn cuda_visible_devices_rules() {
        assert_eq!(counted(None, &GpuSelection::All), vec![0, 1, 2, 3]);
        assert_eq!(counted(Some("2"), &GpuSelection::All), vec![2]);
        assert_eq!(counted(Some(""), &GpuSelection::All), Vec::<u32>::new());
        assert_eq!(counted(Some("-1"), &GpuSelection::All), Vec::<u32>::new());
        // The list stops at the first invalid entry.
        assert_eq!(counted(Some("1,7,3"), &GpuSelection::All), vec![1]);
        assert_eq!(counted(Some("3,11"), &GpuSelection::All), vec![3]);
        // A prefix without "GPU-" works too.
        assert_eq!(counted(Some("22aa"), &GpuSelection::All), vec![2]);
        // UUIDs, full or a unique prefix. "11" alone would be an index (out of range: the list stops).
        assert_eq!(
            counted(Some("GPU-33aa-bbbb,GPU-11"), &GpuSelection::All),
            vec![1, 3]
        );
        // --gpus intersects.
        assert_eq!(
            counted(Some("0,1"), &GpuSelection::Indices(vec![1, 2])),
            vec![1]
        );
        assert_eq!(counted(None, &GpuSelection::Indices(vec![3])), vec![3]);
    }
}
