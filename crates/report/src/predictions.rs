//! Per-inference predictions out of a results store as JSON Lines (`report --predictions DIR`,
//! `bench --predictions FILE`), so a run can be rescored with the reference tools. The record
//! format is `Store::write_predictions`'s; this module picks the runs and writes the files.

use anyhow::{Context, Result};
use powerhungry_store::{PredictionSet, Store};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Which predictions to export (empty lists match everything; several values match any).
#[derive(Debug, Default, Clone)]
pub struct PredictionFilter {
    pub suites: Vec<String>,
    pub tasks: Vec<String>,
    pub models: Vec<String>,
}

impl PredictionFilter {
    fn keeps(&self, suite: &str, set: &PredictionSet) -> bool {
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        any(&self.suites, suite) && any(&self.tasks, &set.task) && any(&self.models, &set.model)
    }
}

/// One file written: its path and how many predictions it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub path: PathBuf,
    pub predictions: u64,
}

/// Write `DIR/run-<id>/<model>--<dataset>.jsonl` for every (run, model, dataset) of the store
/// with stored predictions that the filter keeps. Unfinished runs are exported too (what they
/// stored is whole repetitions); each file says nothing of the run's state, the report does.
/// Running it twice writes the same files again.
pub fn write_predictions_dir(
    store: &Path,
    dir: &Path,
    filter: &PredictionFilter,
) -> Result<Vec<Written>> {
    let store = Store::open_read_only(store)?;
    let mut written: Vec<Written> = Vec::new();
    for run in store.list_runs()? {
        for set in store.prediction_sets(run.id)? {
            if !filter.keeps(&run.suite_name, &set) {
                continue;
            }
            let run_dir = dir.join(format!("run-{}", run.id));
            let stem = format!("{}--{}", file_safe(&set.model), file_safe(&set.dataset));
            // Two names that differ only in characters made safe (`a/b`, `a_b`) get
            // numbered files rather than one overwriting the other.
            let mut path = run_dir.join(format!("{stem}.jsonl"));
            let mut k = 2;
            while written.iter().any(|w| w.path == path) {
                path = run_dir.join(format!("{stem}-{k}.jsonl"));
                k += 1;
            }
            let n = write_atomically(&path, |out| store.write_predictions(run.id, &set, out))?;
            written.push(Written {
                path,
                predictions: n,
            });
        }
    }
    Ok(written)
}

/// Write every prediction of one run into `path` (all models and datasets, in suite order).
pub fn write_run_predictions(store: &Store, run: i64, path: &Path) -> Result<u64> {
    let sets = store.prediction_sets(run)?;
    write_atomically(path, |out| {
        let mut n = 0;
        for set in &sets {
            n += store.write_predictions(run, set, out)?;
        }
        Ok(n)
    })
}

/// Check before a run that `path` can be written later: its directory exists and is a
/// directory. (The run's results are in the store either way; this saves finding out at the
/// end.)
pub fn check_writable(path: &Path, flag: &str) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        anyhow::bail!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            parent.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!("{flag} {}: is a directory, expected a file", path.display());
    }
    Ok(())
}

/// Write through a `.<pid>.partial` file renamed into place: a kill or an error leaves no half
/// file under the real name.
fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<u64>) -> Result<u64> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the directory", parent.display()))?;
    }
    // The pid keeps two exports to one path (two benches, two reports) out of each other's
    // half-written file; the last rename wins, whole.
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", std::process::id()));
    let partial = PathBuf::from(partial);
    let file =
        File::create(&partial).with_context(|| format!("{}: cannot create", partial.display()))?;
    let mut out = BufWriter::new(file);
    let result = write(&mut out).and_then(|n| {
        out.flush()
            .with_context(|| format!("{}: cannot write", partial.display()))?;
        Ok(n)
    });
    let n = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, path)
        .with_context(|| format!("{}: cannot move into place", path.display()))?;
    Ok(n)
}

/// A model or dataset name as a file name: anything but letters, digits, `.`, `_` and `-`
/// becomes `_` (`org/model` -> `org_model`).
fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::file_safe;

    #[test]
    fn names_become_plain_file_names() {
        assert_eq!(file_safe("bow-lr"), "bow-lr");
        assert_eq!(file_safe("org/model v2"), "org_model_v2");
        assert_eq!(file_safe(".."), "_..");
        assert_eq!(file_safe(""), "_");
    }
}
