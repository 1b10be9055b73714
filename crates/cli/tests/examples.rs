//! The deployment examples stay true: `examples/slurm/array-postgres.sbatch` runs, with bash,
//! as four array tasks at once (the SLURM_ARRAY_* variables as Slurm sets them) against the
//! test PostgreSQL server and fills one run; the other Slurm script and the Kubernetes
//! manifests parse (bash -n, Python's yaml) and pass only flags the commands accept.

use assert_cmd::cargo::cargo_bin;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn small_suite(dir: &Path) -> PathBuf {
    let data = repo().join("data/rt-polarity");
    let path = dir.join("array.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"array\"\n[protocol]\ninferences = 30\nrepetitions = 4\nwarmup = 0\n\
             max_train = 300\n[[models]]\nname = \"bow\"\nbackend = \"traditional\"\n\
             kind = \"bow-lr\"\n[[datasets]]\nname = \"rt\"\ntask = \"text-classification\"\n\
             [datasets.source]\npath = \"{}\"\nformat = \"label-files\"\nencoding = \"latin-1\"\n",
            data.display()
        ),
    )
    .expect("suite");
    path
}

#[test]
fn the_slurm_array_example_runs_as_four_tasks_into_postgres() {
    let Some(url) = powerhungry_testkit::postgres_database("slurm_example") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = small_suite(dir.path());
    let script = repo().join("examples/slurm/array-postgres.sbatch");
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            Command::new("bash")
                .arg(&script)
                .env("POWERHUNGRY", cargo_bin("powerhungry"))
                .env("POWERHUNGRY_STORE", &url)
                .env("SUITE", &suite)
                .env("POWERHUNGRY_CLAIM_DIR", dir.path().join("claims"))
                .env("SLURM_ARRAY_JOB_ID", "4711")
                .env("SLURM_ARRAY_TASK_ID", task.to_string())
                .env("SLURM_ARRAY_TASK_MIN", "0")
                .env("SLURM_ARRAY_TASK_COUNT", "4")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn task")
        })
        .collect();
    for (task, child) in tasks.into_iter().enumerate() {
        let out = child.wait_with_output().expect("task");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "task {task}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // What the header says a task's log shows: the store named without its password.
        assert!(
            stdout.contains("stored in postgres://powerhungry:***@"),
            "{stdout}"
        );
    }
    let store = powerhungry_store::Store::open_read_only(&url).expect("store");
    let runs = store.list_runs().expect("runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].run_name.as_deref(), Some("slurm-array-4711"));
    assert_eq!(runs[0].repetitions, 4);
    assert!(
        runs[0].ended_at.is_some(),
        "the run ends with its last task"
    );
}

/// The `--flags` a command's `--help` lists.
fn help_flags(command: &str) -> Vec<String> {
    let out = Command::new(cargo_bin("powerhungry"))
        .args([command, "--help"])
        .output()
        .expect("help");
    String::from_utf8_lossy(&out.stdout)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.split('=').next().unwrap_or(w).to_string())
        .collect()
}

/// Every `--flag` in `text` after the word `command`.
fn flags_after(text: &str, command: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(at) = words.iter().position(|w| *w == command) else {
        panic!("no `{command}` in {text}");
    };
    words[at..]
        .iter()
        .filter(|w| w.starts_with("--"))
        .map(|w| {
            w.trim_matches('"')
                .split('=')
                .next()
                .unwrap_or(w)
                .to_string()
        })
        .collect()
}

fn assert_flags_exist(used: &[String], command: &str, file: &str) {
    let known = help_flags(command);
    assert!(!used.is_empty(), "{file}: no flags found for {command}");
    for flag in used {
        assert!(
            known.contains(flag),
            "{file}: `powerhungry {command} {flag}` is not a flag ({known:?})"
        );
    }
}

#[test]
fn the_other_examples_parse_and_pass_only_flags_that_exist() {
    // Slurm: shell syntax, and the flags of each powerhungry command line.
    for script in ["array-postgres.sbatch", "two-nodes-agents.sbatch"] {
        let path = repo().join("examples/slurm").join(script);
        let status = Command::new("bash")
            .arg("-n")
            .arg(&path)
            .status()
            .expect("bash");
        assert!(status.success(), "{script}: bash -n");
        let text = std::fs::read_to_string(&path)
            .expect("script")
            .replace("\\\n", " ");
        for line in text.lines().filter(|l| l.contains("\"$powerhungry\"")) {
            let command = if line.contains("\"$powerhungry\" agent") {
                "agent"
            } else {
                "bench"
            };
            assert_flags_exist(&flags_after(line, command), command, script);
        }
    }
    // Kubernetes: Python's yaml reads each manifest; the containers' arguments come out.
    let dump = r#"
import json, sys, yaml
out = {}
for f in sys.argv[1:]:
    for doc in yaml.safe_load_all(open(f)):
        for c in doc["spec"]["template"]["spec"]["containers"]:
            out[f] = " ".join(c.get("command", [])[:1] + c["args"])
print(json.dumps(out))
"#;
    let files = ["agent-daemonset.yaml", "bench-job.yaml"];
    let out = Command::new("python3")
        .arg("-c")
        .arg(dump)
        .args(files.iter().map(|f| repo().join("examples/k8s").join(f)))
        .output()
        .expect("python3 (with PyYAML, which transformers installs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(args.len(), 2, "{args:?}");
    for (file, line) in &args {
        let command = if file.ends_with("agent-daemonset.yaml") {
            "agent"
        } else {
            "bench"
        };
        assert_flags_exist(&flags_after(line, command), command, file);
    }
}
