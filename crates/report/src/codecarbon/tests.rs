//! Tests on real CodeCarbon output: the committed 3.3.2 fixture and the "Power Hungry
//! Processing" 2.3.1 logs in ../shared/reference-data/co2_inference.

use std::path::{Path, PathBuf};

use super::*;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/codecarbon/emissions.csv")
}

/// The shared reference logs (POWERHUNGRY_SHARED or ../shared); missing fails (crates/testkit).
fn php_logs() -> PathBuf {
    powerhungry_testkit::shared("reference-data/co2_inference/data/emissions/complete")
        .unwrap_or_default()
}

#[test]
fn floats_are_written_as_python_repr() {
    // Left: f64 values; right: how CodeCarbon (Python repr) wrote them in the fixture.
    let cases = [
        (2.005032528999891, "2.005032528999891"),
        (8.556923478183505e-07, "8.556923478183505e-07"),
        (20.0, "20.0"),
        (0.0, "0.0"),
        (23.54016876220703, "23.54016876220703"),
        (1e16, "1e+16"),
        (1.5e-5, "1.5e-05"),
        (0.0001, "0.0001"),
        (-42.5, "-42.5"),
        (1.234e-100, "1.234e-100"),
    ];
    for (v, want) in cases {
        assert_eq!(format_float(v), want);
        assert_eq!(want.parse::<f64>().unwrap(), v, "round trip of {want}");
    }
}

#[test]
fn codecarbon_fixture_imports_exactly() {
    let f = read_file(&fixture()).unwrap();
    assert_eq!(f.format, Format::V3);
    assert_eq!(f.rows.len(), 2);
    let r = &f.rows[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.row.project_name, "fixture-busy-a");
    assert_eq!(r.row.timestamp.to_string(), "2026-11-22T00:40:04");
    // Exactly the decimal text CodeCarbon wrote, parsed as f64.
    assert_eq!(r.row.duration_s, 2.005032528999891);
    assert_eq!(r.row.emissions_kg, 8.556923478183505e-07);
    assert_eq!(r.row.emissions_rate_kg_s, 4.2677230191630323e-07);
    assert_eq!(r.row.cpu_energy_kwh, Some(4.362824587234464e-06));
    assert_eq!(r.row.gpu_energy_kwh, Some(0.0));
    assert_eq!(r.row.ram_energy_kwh, Some(1.0906761733334253e-05));
    assert_eq!(r.row.energy_consumed_kwh, 1.5269586320568718e-05);
    assert_eq!(r.row.water_consumed_l, Some(0.0));
    assert_eq!(r.row.cpu_count, Some(2));
    assert_eq!(r.row.gpu_count, Some(0));
    assert_eq!(r.row.gpu_model, None);
    assert_eq!(r.row.on_cloud, Some(false));
    assert_eq!(r.row.wue, Some(0.0));
    // RAM 20 W for 23.5 GB is CodeCarbon 3.x's DIMM guess; the CPU varies between rows.
    assert!(r.ram.is_estimated(), "{:?}", r.ram);
    assert_eq!(r.cpu, Provenance::Reported);
    assert_eq!(f.rows[1].row.project_name, "fixture-busy-b");
}

#[test]
fn writer_reproduces_codecarbon_lines() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), V3_COLUMNS.join(","));
    let f = read_file(&fixture()).unwrap();
    let gpu_util = V3_COLUMNS
        .iter()
        .position(|c| *c == "gpu_utilization_percent")
        .unwrap();
    for (line, imported) in lines.zip(&f.rows) {
        let ours = record(&imported.row);
        let theirs: Vec<&str> = line.split(',').collect();
        assert_eq!(ours.len(), 38);
        assert_eq!(theirs.len(), 38);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            if i == gpu_util {
                // CodeCarbon writes this one as a Python int ("0"); we write 0.0.
                assert_eq!(a.parse::<f64>().unwrap(), b.parse::<f64>().unwrap());
            } else {
                assert_eq!(a, b, "column {}", V3_COLUMNS[i]);
            }
        }
    }
}

fn sample_row() -> EmissionsRow {
    let e = RunEnergy {
        duration_s: 12.5,
        cpu_j: Some(250.0),
        gpu_j: None,
        ram_j: Some(110.0),
        emissions_kg: 3.1e-5,
    };
    let mut r =
        EmissionsRow::from_energy(Timestamp::from_unix(1_763_770_000), "bert, \"quoted\"", &e);
    r.run_id = Some("7f1c".into());
    r.country_iso_code = Some("FRA".into());
    r.cpu_count = Some(2);
    r.on_cloud = Some(false);
    r.pue = Some(1.0);
    r
}

#[test]
fn append_creates_then_appends_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emissions.csv");
    let row = sample_row();
    assert_eq!(append(&path, &row, OnHeaderMismatch::Error).unwrap(), path);
    let mut second = row.clone();
    second.project_name = "second".into();
    append(&path, &second, OnHeaderMismatch::Error).unwrap();
    let f = read_file(&path).unwrap();
    assert_eq!(f.format, Format::V3);
    assert_eq!(f.rows.len(), 2);
    assert_eq!(f.rows[0].row, row);
    assert_eq!(f.rows[1].row, second);
    assert_eq!(f.rows[1].line, 3);
    // every record has 38 fields, header included
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&path)
        .unwrap();
    let n: Vec<usize> = rdr.records().map(|r| r.unwrap().len()).collect();
    assert_eq!(n, vec![38, 38, 38]);
}

#[test]
fn append_after_a_missing_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emissions.csv");
    let text = std::fs::read_to_string(fixture()).unwrap();
    std::fs::write(&path, text.trim_end()).unwrap();
    append(&path, &sample_row(), OnHeaderMismatch::Error).unwrap();
    assert_eq!(read_file(&path).unwrap().rows.len(), 3);
}

#[test]
fn other_header_is_an_error_naming_the_file_or_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emissions.csv");
    let v2 = php_logs().join("text_classif_imdb.csv");
    std::fs::copy(&v2, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let checked = check_appendable(&path).unwrap_err().to_string();
    let err = append(&path, &sample_row(), OnHeaderMismatch::Error).unwrap_err();
    assert_eq!(checked, err.to_string());
    assert!(check_appendable(&fixture()).is_ok());
    assert!(check_appendable(&dir.path().join("missing.csv")).is_ok());
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("31 columns"), "{msg}");
    assert!(
        msg.contains("column 4 is \"duration\", expected \"experiment_id\""),
        "{msg}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
    let written = append(&path, &sample_row(), OnHeaderMismatch::NewFile).unwrap();
    assert_eq!(written, dir.path().join("emissions-1.csv"));
    assert_eq!(read_file(&written).unwrap().rows.len(), 1);
    // the next call finds emissions-1.csv compatible and appends there
    let again = append(&path, &sample_row(), OnHeaderMismatch::NewFile).unwrap();
    assert_eq!(again, written);
    assert_eq!(read_file(&written).unwrap().rows.len(), 2);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn bad_values_name_file_line_and_column() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let broken = text.replacen("2.0011333180000292", "2.0O11", 1);
    let err = read_bytes(Path::new("runs/emissions.csv"), broken.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "runs/emissions.csv:3: column `duration`: \"2.0O11\" is not a finite number"
    );
    let no_energy = text.replacen("energy_consumed", "energy", 1);
    let err = read_bytes(Path::new("e.csv"), no_energy.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "e.csv: no `energy_consumed` column in the header"
    );
    let ragged = format!("{}\n1,2\n", text.trim_end());
    let err = read_bytes(Path::new("e.csv"), ragged.as_bytes()).unwrap_err();
    assert!(
        err.to_string().starts_with("e.csv:4: malformed CSV"),
        "{err}"
    );
    let err = read_file(Path::new("/nonexistent/emissions.csv")).unwrap_err();
    assert!(
        err.to_string().starts_with("/nonexistent/emissions.csv: "),
        "{err}"
    );
}

#[test]
fn power_hungry_processing_logs_import_with_guesses_labelled() {
    let dir = php_logs();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 56);
    let mut rows = 0;
    for path in &files {
        let f = read_file(path).unwrap();
        assert_eq!(f.format, Format::V2, "{}", path.display());
        for r in &f.rows {
            rows += 1;
            assert_eq!(r.row.cpu_power_w, Some(42.5));
            assert_eq!(r.cpu.cpu_method(), Some("estimated:tdp"));
            assert_eq!(
                r.ram.ram_method(),
                Some("estimated:ram"),
                "{}",
                path.display()
            );
            assert_eq!(r.row.codecarbon_version.as_deref(), Some("2.3.1"));
        }
    }
    // 4,170 rows, counted with Python's csv module over the same files.
    assert_eq!(rows, 4170);
    // First row of text_classif_imdb.csv, compared with the text of the file.
    let f = read_file(&dir.join("text_classif_imdb.csv")).unwrap();
    let r = &f.rows[0].row;
    assert_eq!(
        r.project_name,
        "cardiffnlp/twitter-roberta-base-sentiment-latest"
    );
    assert_eq!(r.duration_s, 8.72979474067688);
    assert_eq!(r.emissions_kg, 0.0005925089484032);
    assert_eq!(r.emissions_rate_kg_s, 6.78720366290452e-05); // written "6.78720366290452E-05"
    assert_eq!(r.energy_consumed_kwh, 0.0042703401907793);
    assert_eq!(r.gpu_energy_kwh, Some(0.002317940743211));
    assert_eq!(r.ram_power_w, Some(430.77675));
    assert_eq!(r.ram_total_size_gb, Some(1148.738));
    assert_eq!(r.gpu_count, Some(8));
    assert_eq!(r.latitude, Some(45.8234));
    assert_eq!(r.experiment_id, None);
}

fn task_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/codecarbon/emissions_tasks.csv")
}

#[test]
fn codecarbon_task_file_reads_exactly() {
    let f = read_file(&task_fixture()).unwrap();
    // CodeCarbon 3.3.2 drops columns empty in every task row (region, longitude, latitude).
    assert_eq!(f.format, Format::Tasks(33));
    assert_eq!(f.rows.len(), 2);
    let (a, b) = (&f.rows[0], &f.rows[1]);
    assert_eq!((a.line, a.task_name.as_deref()), (2, Some("tokenize")));
    assert_eq!((b.line, b.task_name.as_deref()), (3, Some("forward")));
    assert_eq!(a.row.project_name, "fixture-tasks");
    assert_eq!(a.row.timestamp.to_string(), "2026-11-22T02:04:32");
    assert_eq!(a.row.duration_s, 2.000788375999946);
    assert_eq!(a.row.emissions_kg, 8.71895429253039e-07);
    assert_eq!(a.row.cpu_energy_kwh, Some(4.446005651110075e-06));
    assert_eq!(a.row.ram_energy_kwh, Some(1.1112720044441934e-05));
    assert_eq!(a.row.energy_consumed_kwh, 1.5558725695552007e-05);
    assert_eq!(b.row.emissions_kg, 8.702272509521163e-07);
    assert_eq!(b.row.energy_consumed_kwh, 1.552895752872314e-05);
    assert_eq!((a.row.region.as_deref(), a.row.pue), (None, None));
    assert_eq!(a.row.country_iso_code.as_deref(), Some("FRA"));
    // The plain emissions.csv has no task names.
    assert!(read_file(&fixture()).unwrap().rows[0].task_name.is_none());
}

#[test]
fn task_file_with_2x_columns_reads_by_name() {
    // A CodeCarbon 2.x task file: task_name then 2.x's columns (no water, no utilisation).
    let mut text = format!("task_name,{}\n", V2_COLUMNS.join(","));
    let cells: Vec<&str> = V2_COLUMNS
        .iter()
        .map(|c| match *c {
            "timestamp" => "2024-03-01T10:00:00",
            "project_name" => "bert",
            "duration" => "10.0",
            "emissions" => "0.00025",
            "energy_consumed" => "0.0009",
            "cpu_energy" => "0.0006",
            "ram_energy" => "0.0003",
            _ => "",
        })
        .collect();
    text += &format!("preprocess,{}\n", cells.join(","));
    let f = read_bytes(Path::new("t.csv"), text.as_bytes()).unwrap();
    assert_eq!(f.format, Format::Tasks(32));
    let r = &f.rows[0];
    assert_eq!(r.task_name.as_deref(), Some("preprocess"));
    assert_eq!(
        (r.row.emissions_kg, r.row.energy_consumed_kwh),
        (0.00025, 0.0009)
    );
}

#[test]
fn malformed_task_file_names_file_and_line() {
    let text = std::fs::read_to_string(task_fixture()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 3 loses its task name.
    lines[2] = lines[2].replacen("forward", "", 1);
    let e = read_bytes(Path::new("tasks.csv"), lines.join("\n").as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tasks.csv:3: column `task_name`: \"\" is empty but required"
    );
    // Line 2's energy_consumed is not a number.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen("1.5558725695552007e-05", "lots", 1);
    let e = read_bytes(Path::new("tasks.csv"), lines.join("\n").as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tasks.csv:2: column `energy_consumed`: \"lots\" is not a finite number"
    );
    // A task file missing a required column.
    let cut = text.replacen(",energy_consumed,", ",energy,", 1);
    let e = read_bytes(Path::new("tasks.csv"), cut.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tasks.csv: no `energy_consumed` column in the header"
    );
}

#[test]
fn an_absurd_gpu_count_is_refused_naming_the_column() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let col = lines[0]
        .split(',')
        .position(|c| c == "gpu_count")
        .expect("gpu_count column");
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[col] = "4294967295".into();
    lines[1] = cells.join(",");
    let err = read_bytes(Path::new("e.csv"), lines.join("\n").as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("e.csv:2: column `gpu_count`: \"4294967295\" is more than 1024"),
        "{err}"
    );
}
