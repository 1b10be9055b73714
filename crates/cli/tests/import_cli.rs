//! `powerhungry import codecarbon` on real CodeCarbon output: the logs of "Power Hungry
//! Processing" (CodeCarbon 2.3.1) and a file written by CodeCarbon 3.3.2 in this repository.
//! Energy and emissions must come out of `report --json` exactly as CodeCarbon wrote them.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The study's CodeCarbon logs in the shared folder; missing fails the test (crates/testkit).
fn php_logs() -> Option<PathBuf> {
    powerhungry_testkit::shared("reference-data/co2_inference")
}

fn ph(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("powerhungry").expect("binary");
    cmd.current_dir(cwd).env_remove("POWERHUNGRY_CONFIG");
    cmd
}

/// (project_name, energy_consumed kWh, emissions kg) of every row, parsed here with the csv
/// crate, independently of the importer's reader.
fn csv_rows(path: &Path) -> Vec<(String, f64, f64)> {
    csv_rows_by(path, "project_name")
}

/// As [`csv_rows`], the model named by column `name_col`.
fn csv_rows_by(path: &Path, name_col: &str) -> Vec<(String, f64, f64)> {
    let mut rdr = csv::Reader::from_path(path).expect("csv");
    let h = rdr.headers().expect("headers").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect("column");
    let (p, e, g) = (col(name_col), col("energy_consumed"), col("emissions"));
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            (
                r[p].to_string(),
                r[e].parse().expect("kWh"),
                r[g].parse().expect("kg"),
            )
        })
        .collect()
}

/// Every repetition of the exported report: (dataset, model, joules, grams).
fn exported(json: &Path) -> Vec<(String, String, f64, f64)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read")).expect("json");
    let mut out = Vec::new();
    for s in v["input"]["series"].as_array().expect("series") {
        for r in s["repetitions"].as_array().expect("reps") {
            let j: f64 = r["components"]
                .as_array()
                .expect("components")
                .iter()
                .map(|c| c["joules"].as_f64().expect("J"))
                .sum();
            out.push((
                s["dataset"].as_str().expect("d").to_string(),
                s["model"].as_str().expect("m").to_string(),
                j,
                r["emissions_g"].as_f64().expect("g"),
            ));
        }
    }
    out
}

fn check_exact(csv: &[(String, f64, f64)], got: &[(String, String, f64, f64)], dataset: &str) {
    let mine: Vec<_> = got.iter().filter(|g| g.0 == dataset).collect();
    assert_eq!(mine.len(), csv.len(), "{dataset}: one repetition per row");
    for (model, kwh, kg) in csv {
        let hit = mine
            .iter()
            .find(|g| &g.1 == model && g.3 == kg * 1000.0)
            .unwrap_or_else(|| panic!("{dataset} {model}: no repetition with {} g", kg * 1000.0));
        let back = hit.2 / 3.6e6;
        assert!(
            (back - kwh).abs() <= 1e-15 * kwh.abs().max(1e-300) * 4.0,
            "{model}: {back} vs {kwh} kWh"
        );
    }
}

#[test]
fn power_hungry_processing_logs_import_and_report() {
    let Some(php) = php_logs() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let files = [
        "text_classif_sst2",
        "text_classif_tomatoes",
        "summarize_xsum_15",
    ];
    for f in files {
        let task = if f.starts_with("text") {
            "text-classification"
        } else {
            "summarization"
        };
        let out = ph(d)
            .args(["import", "codecarbon"])
            .arg(php.join(format!("data/emissions/complete/{f}.csv")))
            .args([
                "--task",
                task,
                "--dataset",
                f,
                "--inferences",
                "1000",
                "--store",
                "php.sqlite",
            ])
            .arg("--parameters")
            .arg(php.join("data/model_parameters.csv"))
            .output()
            .expect("import");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("imported 80 rows of 8 models"), "{stdout}");
    }
    let out = ph(d)
        .args(["report", "php.sqlite", "--json", "r.json", "--csv", "csv"])
        .output()
        .expect("report");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // CodeCarbon's constant guesses are labelled as such.
    assert!(
        stdout.contains("cpu=estimated:tdp") && stdout.contains("ram=estimated:ram"),
        "{stdout}"
    );
    assert!(
        stdout.contains("gpu (all 8 of the machine)=reported:codecarbon"),
        "{stdout}"
    );
    let got = exported(&d.join("r.json"));
    for f in files {
        check_exact(
            &csv_rows(&php.join(format!("data/emissions/complete/{f}.csv"))),
            &got,
            f,
        );
    }
    // The paper's headline figure for distilbert on SST-2, by hand from the file: the mean of
    // its 10 energy_consumed values x 1,000 (Wh per 1,000 inferences).
    let rows = csv_rows(&php.join("data/emissions/complete/text_classif_sst2.csv"));
    let model = "distilbert-base-uncased-finetuned-sst-2-english";
    let mine: Vec<f64> = rows
        .iter()
        .filter(|r| r.0 == model)
        .map(|r| r.1 * 1000.0)
        .collect();
    assert_eq!(mine.len(), 10);
    let mean = mine.iter().sum::<f64>() / 10.0;
    let models = std::fs::read_to_string(d.join("csv/models.csv")).expect("models.csv");
    let line = models
        .lines()
        .find(|l| l.contains(model) && l.contains("text_classif_sst2"))
        .expect("row");
    let cells: Vec<&str> = line.split(',').collect();
    let wh: f64 = cells[5].parse().expect("wh");
    assert!((wh - mean).abs() <= 5e-4 * mean, "{wh} vs {mean}");
    // Parameters came from the study's table.
    assert!(line.contains(",10,1000,"), "{line}");
}

#[test]
fn codecarbon_3_file_imports_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let out = ph(d)
        .args(["import", "codecarbon"])
        .arg(&fixture)
        .args([
            "--task",
            "text-classification",
            "--dataset",
            "busy",
            "--store",
            "s.sqlite",
        ])
        .output()
        .expect("import");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no --inferences"),
        "warns that rows count as one inference: {stderr}"
    );
    let out = ph(d)
        .args(["report", "s.sqlite", "--json", "r.json", "--quiet"])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_exact(&csv_rows(&fixture), &exported(&d.join("r.json")), "busy");
}

/// Importing a file twice would count every row twice: refused, naming the earlier run,
/// unless --replace; a file whose last row is bad imports nothing of it.
#[test]
fn a_file_is_imported_once_and_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let import = |file: &Path, extra: &[&str]| {
        ph(d)
            .args(["import", "codecarbon"])
            .arg(file)
            .args(["--task", "text-classification", "--dataset", "busy"])
            .args(["--inferences", "1000", "--store", "s.sqlite"])
            .args(extra)
            .output()
            .expect("import")
    };
    let rows_in_report = || {
        let out = ph(d)
            .args(["report", "s.sqlite", "--json", "r.json", "--quiet"])
            .output()
            .expect("report");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        exported(&d.join("r.json")).len()
    };
    assert!(import(&fixture, &[]).status.success());
    assert_eq!(rows_in_report(), 2);
    let again = import(&fixture, &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is already in s.sqlite: run 1"), "{stderr}");
    assert!(stderr.contains("--replace"), "{stderr}");
    assert_eq!(rows_in_report(), 2, "a refused import adds nothing");
    // The same content under another name is the same file.
    std::fs::copy(&fixture, d.join("copy.csv")).expect("copy");
    assert_eq!(import(&d.join("copy.csv"), &[]).status.code(), Some(2));
    let replaced = import(&fixture, &["--replace"]);
    let stdout = String::from_utf8_lossy(&replaced.stdout);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    assert!(stdout.contains("replacing 1 run(s)"), "{stdout}");
    assert_eq!(rows_in_report(), 2, "replaced, not added");

    // One transaction per file: its last row is bad, so none of its rows is imported.
    let text = std::fs::read_to_string(&fixture).expect("read");
    let last = text.lines().last().expect("a row").to_string();
    let cells: Vec<&str> = last.split(',').collect();
    let mut bad_cells: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
    bad_cells[1] = "fixture-busy-c".into();
    bad_cells[13] = "-1.0".into(); // energy_consumed
    let bad = format!("{}{}\n", text, bad_cells.join(","));
    std::fs::write(d.join("bad.csv"), bad).expect("write");
    let out = import(&d.join("bad.csv"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.csv:4: column energy_consumed is negative"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing of this file was imported"),
        "{stderr}"
    );
    assert_eq!(rows_in_report(), 2, "none of bad.csv's rows is stored");
}

/// The real CodeCarbon 3.3.2 task file, models named by task.
#[test]
fn codecarbon_task_file_imports_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions_tasks.csv");
    let out = ph(d)
        .args(["import", "codecarbon"])
        .arg(&fixture)
        .args(["--task", "text-classification", "--dataset", "busy"])
        .args([
            "--inferences",
            "10",
            "--model-from",
            "task",
            "--store",
            "s.sqlite",
        ])
        .output()
        .expect("import");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported 2 rows of 2 models"), "{stdout}");
    let out = ph(d)
        .args(["report", "s.sqlite", "--json", "r.json", "--quiet"])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = csv_rows_by(&fixture, "task_name");
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["tokenize", "forward"]);
    check_exact(&rows, &exported(&d.join("r.json")), "busy");
}

#[test]
fn task_file_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions_tasks.csv");
    let text = std::fs::read_to_string(&fixture).expect("read");
    let bad = text.replacen("forward,", "forward,yesterday-ish,", 1);
    std::fs::write(d.join("tasks.csv"), bad).expect("write");
    let args = [
        "--task",
        "text-classification",
        "--dataset",
        "d",
        "--store",
        "s.sqlite",
    ];
    let out = ph(d)
        .args(["import", "codecarbon", "tasks.csv"])
        .args(args)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("tasks.csv:3:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // --model-from task on a file without task names.
    let plain = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let out = ph(d)
        .args(["import", "codecarbon"])
        .arg(&plain)
        .args(args)
        .args(["--model-from", "task"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("emissions.csv: --model-from task needs a CodeCarbon task file"),
        "{stderr}"
    );
    assert!(!d.join("s.sqlite").exists(), "nothing imported");
}

#[test]
fn import_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fails = |args: &[&str], want: &str| {
        let out = ph(d)
            .args(["import", "codecarbon"])
            .args(args)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            stderr.contains(want),
            "{args:?}: expected {want:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    fails(
        &[
            "nope.csv",
            "--task",
            "text-classification",
            "--dataset",
            "d",
        ],
        "nope.csv",
    );
    std::fs::write(d.join("bad.csv"), "project_name,duration\nx,1\n").expect("write");
    fails(
        &["bad.csv", "--task", "text-classification", "--dataset", "d"],
        "bad.csv",
    );
    let fixture = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let f = fixture.to_str().expect("utf-8 path");
    fails(&[f, "--dataset", "d"], "--task");
    fails(
        &[
            f,
            "--task",
            "text-classification",
            "--dataset",
            "d",
            "--inferences",
            "0",
        ],
        "--inferences 0",
    );
    std::fs::write(d.join("p.csv"), "model,parameters\nx,many\n").expect("write");
    fails(
        &[
            f,
            "--task",
            "text-classification",
            "--dataset",
            "d",
            "--parameters",
            "p.csv",
        ],
        "p.csv:2",
    );
    // Nothing was written by the failed imports.
    assert!(!d.join("powerhungry.sqlite").exists());
}

#[test]
fn an_unknown_task_is_refused_before_anything_is_imported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let plain = repo().join("crates/report/testdata/codecarbon/emissions.csv");
    let out = ph(d)
        .args(["import", "codecarbon"])
        .arg(&plain)
        .args([
            "--task",
            "no-such-task",
            "--dataset",
            "d",
            "--store",
            "s.sqlite",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("--task \"no-such-task\": not a task powerhungry knows"),
        "{stderr}"
    );
    assert!(!d.join("s.sqlite").exists(), "nothing may be imported");
}
