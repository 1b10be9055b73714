//! Sharding a suite's plan over several processes or machines (`--shard i/n`, or a Slurm job
//! array's variables). Every shard of one invocation joins one named run in the store; each
//! runs the model x dataset x repetition units whose position in the full plan is its own
//! modulo `n`, so the split depends only on the suite and the shard, never on what has run.

use anyhow::{bail, Result};
use std::fmt;

/// One shard of a sharded run: `index` counts from 0 (`--shard 1/4` is index 0 of 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    /// The run all shards of one invocation join (with the suite hash).
    pub run_name: String,
}

impl Shard {
    /// Does unit `position` of the full plan belong to this shard?
    pub fn owns(&self, position: usize) -> bool {
        position % self.count as usize == self.index as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shard {}/{} of run `{}`",
            self.index + 1,
            self.count,
            self.run_name
        )
    }
}

/// Parse `--shard i/n` (1-based, like `cargo nextest --partition count:i/n`).
pub fn parse_shard_flag(text: &str) -> Result<(u32, u32)> {
    let bad = || {
        anyhow::anyhow!("--shard: expected i/n with 1 <= i <= n (e.g. `--shard 2/4`), got `{text}`")
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let i: u32 = i.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1, n))
}

/// The shard this process is: `--shard` (with `--run-name`) first, else a Slurm job array's
/// variables (`SLURM_ARRAY_TASK_ID` - `SLURM_ARRAY_TASK_MIN`, over `SLURM_ARRAY_TASK_STEP`, of
/// `SLURM_ARRAY_TASK_COUNT`; the run named after `SLURM_ARRAY_JOB_ID`), else none. `env` looks a
/// variable up (the process environment in the CLI, a table in tests).
pub fn resolve(
    flag: Option<&str>,
    run_name: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    if let Some(text) = flag {
        let (index, count) = parse_shard_flag(text)?;
        let Some(name) = run_name.map(str::trim).filter(|n| !n.is_empty()) else {
            bail!(
                "--shard {text} needs --run-name NAME: every shard of one invocation gives the \
                 same name, so that they join one run in the store"
            );
        };
        return Ok(Some(Shard {
            index,
            count,
            run_name: name.to_string(),
        }));
    }
    if env("SLURM_ARRAY_TASK_ID").is_none() {
        if run_name.is_some() {
            bail!("--run-name is for sharded runs: give --shard i/n too (or run under a Slurm job array)");
        }
        return Ok(None);
    }
    let number = |name: &str, default: Option<u64>| -> Result<u64> {
        match env(name) {
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                anyhow::anyhow!("{name}={v}: expected a whole number (Slurm job array variable)")
            }),
            None => default.ok_or_else(|| {
                anyhow::anyhow!(
                    "SLURM_ARRAY_TASK_ID is set but {name} is not: cannot tell which shard this is; \
                     give --shard i/n and --run-name NAME"
                )
            }),
        }
    };
    let id = number("SLURM_ARRAY_TASK_ID", None)?;
    let min = number("SLURM_ARRAY_TASK_MIN", Some(0))?;
    let step = number("SLURM_ARRAY_TASK_STEP", Some(1))?.max(1);
    let count = number("SLURM_ARRAY_TASK_COUNT", None)?;
    let job = env("SLURM_ARRAY_JOB_ID").unwrap_or_default();
    if id < min || (id - min) % step != 0 || (id - min) / step >= count || count > u32::MAX as u64 {
        bail!(
            "Slurm job array: task {id} is not one of {count} tasks from {min} in steps of \
             {step}; give --shard i/n and --run-name NAME instead"
        );
    }
    let name = match run_name {
        Some(n) => n.to_string(),
        None if !job.trim().is_empty() => format!("slurm-array-{}", job.trim()),
        None => bail!(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_JOB_ID is not: give --run-name NAME so \
             the shards join one run"
        ),
    };
    Ok(Some(Shard {
        index: ((id - min) / step) as u32,
        count: count as u32,
        run_name: name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_flag_is_one_based_and_needs_a_run_name() {
        let none = env(&[]);
        let s = resolve(Some("2/4"), Some("sweep"), &none).unwrap().unwrap();
        assert_eq!((s.index, s.count, s.run_name.as_str()), (1, 4, "sweep"));
        assert_eq!(s.to_string(), "shard 2/4 of run `sweep`");
        for bad in ["0/4", "5/4", "1/0", "x/4", "2", "2/4/1", "-1/4"] {
            let e = resolve(Some(bad), Some("r"), &none)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("--shard: expected i/n"), "{bad}: {e}");
            assert!(e.contains(bad), "{e}");
        }
        let e = resolve(Some("1/2"), None, &none).unwrap_err().to_string();
        assert!(e.contains("needs --run-name"), "{e}");
        let e = resolve(None, Some("r"), &none).unwrap_err().to_string();
        assert!(e.contains("give --shard"), "{e}");
        assert_eq!(resolve(None, None, &none).unwrap(), None);
    }

    #[test]
    fn a_slurm_array_shards_itself() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_JOB_ID", "1234"),
        ]);
        let s = resolve(None, None, &e).unwrap().unwrap();
        assert_eq!((s.index, s.count), (2, 4));
        assert_eq!(s.run_name, "slurm-array-1234");
        // --shard wins over the environment.
        let s = resolve(Some("1/2"), Some("mine"), &e).unwrap().unwrap();
        assert_eq!((s.index, s.count, s.run_name.as_str()), (0, 2, "mine"));
        // Steps: --array=0-9:3 is tasks 0, 3, 6, 9.
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_STEP", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_JOB_ID", "9"),
        ]);
        assert_eq!(resolve(None, None, &e).unwrap().unwrap().index, 2);
    }

    #[test]
    fn slurm_variables_that_do_not_add_up_are_refused() {
        for (vars, says) in [
            (
                vec![("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_JOB_ID", "1")],
                "SLURM_ARRAY_TASK_COUNT is not",
            ),
            (
                vec![
                    ("SLURM_ARRAY_TASK_ID", "x"),
                    ("SLURM_ARRAY_TASK_COUNT", "2"),
                ],
                "SLURM_ARRAY_TASK_ID=x",
            ),
            (
                vec![
                    ("SLURM_ARRAY_TASK_ID", "4"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                    ("SLURM_ARRAY_JOB_ID", "1"),
                ],
                "task 4 is not one of 4",
            ),
            (
                vec![
                    ("SLURM_ARRAY_TASK_ID", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ],
                "SLURM_ARRAY_JOB_ID is not",
            ),
        ] {
            let e = resolve(None, None, &env(&vars)).unwrap_err().to_string();
            assert!(e.contains(says), "{vars:?}: {e}");
        }
    }

    #[test]
    fn shards_partition_the_plan() {
        for count in 1..6u32 {
            let shards: Vec<Shard> = (0..count)
                .map(|index| Shard {
                    index,
                    count,
                    run_name: "r".into(),
                })
                .collect();
            for position in 0..50 {
                let owners = shards.iter().filter(|s| s.owns(position)).count();
                assert_eq!(owners, 1, "unit {position} of {count} shards");
            }
        }
    }
}
