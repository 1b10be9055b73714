//! Several processes of one job on one node (`srun` with several tasks per node, `torchrun`,
//! `mpirun`): only the node's first local rank meters the node's devices; the others keep time
//! only. Every rank metering the whole node counts it once per rank (CodeCarbon's #1390).

use std::fmt;

/// The launchers' local-rank variables, in the order they are consulted.
pub const LOCAL_RANK_VARIABLES: [&str; 3] =
    ["SLURM_LOCALID", "LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"];

/// This process's rank among the job's processes on this node, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRank {
    pub variable: &'static str,
    pub rank: u32,
}

impl LocalRank {
    /// Rank 0 meters the node; the others must not.
    pub fn meters_the_node(&self) -> bool {
        self.rank == 0
    }

    /// What a rank that does not meter says, for warnings and reports.
    pub fn timing_only_reason(&self) -> String {
        format!(
            "{}={}: local rank 0 of this node meters its devices; this process records timing \
             only (no energy), so the node is counted once",
            self.variable, self.rank
        )
    }
}

impl fmt::Display for LocalRank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.variable, self.rank)
    }
}

/// The first local-rank variable that is set, or None outside a multi-process launch. A value
/// that is not a whole number is an error naming the variable.
pub fn local_rank(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<LocalRank>, String> {
    for variable in LOCAL_RANK_VARIABLES {
        if let Some(v) = env(variable) {
            let rank = v.trim().parse::<u32>().map_err(|_| {
                format!("{variable}={v}: expected a local rank (a whole number >= 0)")
            })?;
            return Ok(Some(LocalRank { variable, rank }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_variable_set_decides() {
        let env = |k: &str| match k {
            "LOCAL_RANK" => Some("3".to_string()),
            "OMPI_COMM_WORLD_LOCAL_RANK" => Some("0".to_string()),
            _ => None,
        };
        let r = local_rank(&env).unwrap().unwrap();
        assert_eq!(
            (r.variable, r.rank, r.meters_the_node()),
            ("LOCAL_RANK", 3, false)
        );
        assert!(r
            .timing_only_reason()
            .starts_with("LOCAL_RANK=3: local rank 0"));
        let slurm = |k: &str| (k == "SLURM_LOCALID").then(|| "0".to_string());
        assert!(local_rank(&slurm).unwrap().unwrap().meters_the_node());
        assert_eq!(local_rank(&|_| None).unwrap(), None);
    }

    #[test]
    fn garbage_names_the_variable() {
        let env = |k: &str| (k == "SLURM_LOCALID").then(|| "first".to_string());
        let e = local_rank(&env).unwrap_err();
        assert!(
            e.starts_with("SLURM_LOCALID=first: expected a local rank"),
            "{e}"
        );
    }
}
