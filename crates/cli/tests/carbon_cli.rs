//! Binary tests of `powerhungry intensity`, `estimate` and `parity`. Each runs with a cleared
//! environment, HOME and the working directory in a fresh temp dir, so no real config is read.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn ph(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("powerhungry").expect("binary builds");
    c.env_clear().env("HOME", dir).current_dir(dir);
    c
}

fn json_of(c: &mut Command) -> Value {
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn estimate_counting_carbon_worked_example() {
    let d = tmp();
    let v = json_of(ph(d.path()).args([
        "estimate",
        "--hardware",
        "V100",
        "--hours",
        "100",
        "--intensity",
        "500",
        "--format",
        "json",
    ]));
    assert_eq!(v["method"], "estimated:tdp");
    assert!((v["emissions"]["energy_kwh"].as_f64().unwrap() - 30.0).abs() < 1e-9);
    assert!((v["emissions"]["co2e_kg"].as_f64().unwrap() - 15.0).abs() < 1e-9);
    let v = json_of(ph(d.path()).args([
        "estimate",
        "--power",
        "300",
        "--hours",
        "100",
        "--intensity",
        "100",
        "--format",
        "json",
    ]));
    assert_eq!(v["method"], "estimated:power");
    assert!((v["emissions"]["co2e_kg"].as_f64().unwrap() - 3.0).abs() < 1e-9);
}

#[test]
fn estimate_text_and_model_card() {
    let d = tmp();
    ph(d.path())
        .args([
            "estimate",
            "--hardware",
            "A100",
            "--count",
            "8",
            "--hours",
            "10",
            "--utilization",
            "0.5",
            "--pue",
            "1.1",
            "--intensity",
            "400",
        ])
        .assert()
        .success()
        // 8 x 400 W x 10 h x 0.5 = 16 kWh; x 1.1 = 17.6 kWh; x 400 g = 7.04 kg.
        .stdout(predicate::str::contains(
            "energy:     16 kWh [estimated:tdp]",
        ))
        .stdout(predicate::str::contains(
            "emissions:  7.04 kg CO2e (7040 g)",
        ))
        .stdout(predicate::str::contains("upper bound"));
    ph(d.path())
        .args([
            "estimate",
            "--hardware",
            "V100",
            "--hours",
            "100",
            "--country",
            "FRA",
            "--format",
            "model-card",
            "--training-type",
            "fine-tuning",
        ])
        .assert()
        .success()
        // 30 kWh x 56.039 g/kWh = 1681.17 g.
        .stdout(predicate::str::starts_with(
            "co2_eq_emissions:\n  emissions: 1681.17\n",
        ))
        .stdout(predicate::str::contains(
            "  training_type: \"fine-tuning\"\n",
        ))
        .stdout(predicate::str::contains(
            "  geographical_location: \"France (FRA)\"\n",
        ))
        .stdout(predicate::str::contains(
            "  hardware_used: \"1 x NVIDIA V100 SXM2\"\n",
        ));
}

#[test]
fn estimate_errors() {
    let d = tmp();
    ph(d.path())
        .args([
            "estimate",
            "--hardware",
            "A1000",
            "--hours",
            "1",
            "--intensity",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown hardware 'A1000'; did you mean:",
        ));
    ph(d.path())
        .args([
            "estimate",
            "--power",
            "300",
            "--hours",
            "1",
            "--utilization",
            "2",
            "--intensity",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--utilization must be in (0, 1]"));
    ph(d.path())
        .args(["estimate", "--power", "300"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--hours"));
    ph(d.path())
        .args([
            "estimate",
            "--power",
            "300",
            "--hardware",
            "T4",
            "--hours",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn intensity_lookups() {
    let d = tmp();
    let v = json_of(ph(d.path()).args(["intensity", "--country", "FRA", "--json"]));
    assert_eq!(
        (v["g_per_kwh"].as_f64(), v["year"].as_u64()),
        (Some(56.039), Some(2023))
    );
    assert_eq!(v["label"], "France (FRA)");
    assert!(v["warning"].is_null());
    ph(d.path())
        .args(["intensity", "--cloud", "aws:us-west-2"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "location:  AWS us-west-2 (Oregon) -> US Oregon (US-OR)",
        ))
        .stdout(predicate::str::contains("eGRID2023"));
    ph(d.path())
        .arg("intensity")
        .assert()
        .success()
        .stdout(predicate::str::contains("intensity: 475 gCO2e/kWh (2019)"))
        .stderr(predicate::str::contains("warning: no location given"));
}

#[test]
fn intensity_list() {
    let d = tmp();
    let v = json_of(ph(d.path()).args(["intensity", "--list", "--json"]));
    let rows = v.as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["code"] == "azure:eastus" && r["maps_to"] == "US-VA"));
    assert_eq!(rows.iter().filter(|r| r["kind"] == "country").count(), 213);
    ph(d.path())
        .args(["intensity", "--list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nordic_zone      SE3"));
}

#[test]
fn intensity_errors_list_close_matches() {
    let d = tmp();
    ph(d.path())
        .args(["intensity", "--country", "Frnace"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown country 'Frnace' (--country); did you mean: France (FRA)?",
        ));
    ph(d.path())
        .args(["intensity", "--region", "oregn"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("US Oregon (US-OR)"));
    ph(d.path())
        .args(["intensity", "--cloud", "aws:us-west-9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown cloud region 'aws:us-west-9' (--cloud); did you mean: aws:us-west-1, aws:us-west-2,",
        ));
    ph(d.path())
        .args(["intensity", "--cloud", "us-west-2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected PROVIDER:REGION"));
    ph(d.path())
        .args(["intensity", "--intensity", "-3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid intensity '-3' (--intensity)",
        ));
    ph(d.path())
        .args(["intensity", "--pue", "0.5", "--country", "FRA"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid PUE '0.5' (--pue)"));
}

#[test]
fn precedence_flag_over_env_over_config() {
    let d = tmp();
    std::fs::write(
        d.path().join("powerhungry.toml"),
        "[location]\ncountry = \"IND\"\npue = 1.5\n",
    )
    .unwrap();
    let code = |c: &mut Command| json_of(c)["code"].as_str().unwrap().to_string();
    // Config only.
    let v = json_of(ph(d.path()).args(["intensity", "--json"]));
    assert_eq!(
        (v["code"].as_str(), v["pue"].as_f64()),
        (Some("IND"), Some(1.5))
    );
    // Env beats config (location and PUE separately).
    let v = json_of(
        ph(d.path())
            .env("POWERHUNGRY_COUNTRY", "DEU")
            .args(["intensity", "--json"]),
    );
    assert_eq!(
        (v["code"].as_str(), v["pue"].as_f64()),
        (Some("DEU"), Some(1.5))
    );
    assert_eq!(v["location_from"], "POWERHUNGRY_COUNTRY");
    // Flag beats env.
    let c = code(ph(d.path()).env("POWERHUNGRY_COUNTRY", "DEU").args([
        "intensity",
        "--country",
        "FRA",
        "--json",
    ]));
    assert_eq!(c, "FRA");
    let v = json_of(ph(d.path()).env("POWERHUNGRY_PUE", "1.2").args([
        "intensity",
        "--pue",
        "1.3",
        "--json",
    ]));
    assert_eq!(v["pue"].as_f64(), Some(1.3));
    // The user config under $HOME is found when there is no local file.
    let e = tmp();
    std::fs::create_dir_all(e.path().join(".config/powerhungry")).unwrap();
    std::fs::write(
        e.path().join(".config/powerhungry/config.toml"),
        "[location]\nregion = \"SE3\"\n",
    )
    .unwrap();
    assert_eq!(code(ph(e.path()).args(["intensity", "--json"])), "SE3");
}

#[test]
fn env_and_config_errors_name_their_source() {
    let d = tmp();
    ph(d.path())
        .env("POWERHUNGRY_INTENSITY", "lots")
        .arg("intensity")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid intensity 'lots' (POWERHUNGRY_INTENSITY): not a number",
        ));
    let missing = d.path().join("nope.toml");
    ph(d.path())
        .env("POWERHUNGRY_CONFIG", &missing)
        .arg("intensity")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "config file {}: cannot read",
            missing.display()
        )));
    std::fs::write(
        d.path().join("powerhungry.toml"),
        "[location]\ncontry = \"FRA\"\n",
    )
    .unwrap();
    ph(d.path()).arg("intensity").assert().code(2).stderr(
        predicate::str::contains("powerhungry.toml").and(predicate::str::contains("contry")),
    );
    std::fs::write(
        d.path().join("powerhungry.toml"),
        "[location]\ncountry = \"FRA\"\nintensity = 5\n",
    )
    .unwrap();
    ph(d.path())
        .arg("intensity")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "conflicting location (config file",
        ));
}

#[test]
fn parity_as_in_power_hungry_processing() {
    let d = tmp();
    ph(d.path())
        .args([
            "parity",
            "--training-kwh",
            "51686",
            "--finetune-kwh",
            "7571",
            "--inference-kwh",
            "0.0001",
            "--per-day",
            "1000000",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "parity after 592,570,000 inferences",
        ))
        .stdout(predicate::str::contains(
            "= 592.6 days at 1,000,000 inferences a day",
        ));
    // The same per 1,000 inferences (0.1 kWh per 1,000).
    let v = json_of(ph(d.path()).args([
        "parity",
        "--training-kwh",
        "51686",
        "--finetune-kwh",
        "7571",
        "--inference-kwh-per-1000",
        "0.1",
        "--json",
    ]));
    assert!((v["inferences"].as_f64().unwrap() - 592_570_000.0).abs() < 1e-3);
    assert!(v["days"].is_null());
}

#[test]
fn parity_errors_and_help() {
    let d = tmp();
    ph(d.path())
        .args(["parity", "--training-kwh", "1"])
        .assert()
        .code(2);
    ph(d.path())
        .args([
            "parity",
            "--training-kwh",
            "1",
            "--inference-kwh",
            "1",
            "--inference-kwh-per-1000",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    ph(d.path())
        .args(["parity", "--training-kwh", "-5", "--inference-kwh", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--training-kwh must be a finite number of kWh from 0 to",
        ));
    ph(d.path())
        .args(["parity", "--training-kwh", "5", "--inference-kwh", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--inference-kwh must be a finite number of kWh from 1.0e-15 to",
        ));
    ph(d.path())
        .args(["parity", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Energy of ONE inference, kWh"));
}

/// Every numeric flag of estimate / parity / intensity: NaN, inf, negative, overflow and
/// underflow are refused with the flag's name and its range, exit 2, no panic and no NaN/inf
/// printed.
#[test]
fn numbers_at_the_edges_are_refused_naming_the_flag() {
    let d = tmp();
    let estimate = |extra: &[&str]| {
        let mut a = vec!["estimate", "--power", "300", "--intensity", "100"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let parity = |extra: &[&str]| {
        let mut a = vec!["parity", "--training-kwh", "10", "--inference-kwh", "0.001"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (estimate(&["--hours", "1e-320"]), "--hours", "114 years"),
        (
            estimate(&["--hours", "1e308", "--format", "model-card"]),
            "--hours",
            "114 years",
        ),
        (estimate(&["--hours", "NaN"]), "--hours", "114 years"),
        (estimate(&["--hours", "inf"]), "--hours", "114 years"),
        (estimate(&["--hours", "-1"]), "--hours", "114 years"),
        (
            s(&[
                "estimate",
                "--power",
                "1e300",
                "--hours",
                "1",
                "--intensity",
                "100",
            ]),
            "--power",
            "1000000",
        ),
        (
            s(&[
                "estimate",
                "--power",
                "-5",
                "--hours",
                "1",
                "--intensity",
                "100",
            ]),
            "--power",
            "(0,",
        ),
        (
            estimate(&["--hours", "1", "--count", "4294967295"]),
            "--count",
            "1 to 1000000",
        ),
        (
            estimate(&["--hours", "1", "--utilization", "NaN"]),
            "--utilization",
            "(0, 1]",
        ),
        (
            s(&[
                "estimate",
                "--power",
                "300",
                "--hours",
                "1",
                "--intensity",
                "1e308",
            ]),
            "intensity",
            "0 to 10000",
        ),
        (
            estimate(&["--hours", "1", "--pue", "inf"]),
            "pue",
            "1.0 to 10",
        ),
        (
            estimate(&["--hours", "1", "--pue", "0.5"]),
            "pue",
            "1.0 to 10",
        ),
        (parity(&["--per-day", "1.5"]), "--per-day", "whole number"),
        (parity(&["--per-day", "-3"]), "--per-day", "whole number"),
        (parity(&["--per-day", "inf"]), "--per-day", "whole number"),
        (
            s(&[
                "parity",
                "--training-kwh",
                "1e308",
                "--finetune-kwh",
                "1e308",
                "--inference-kwh",
                "1",
            ]),
            "--training-kwh",
            "0 to 1.0e+15",
        ),
        (
            s(&["parity", "--training-kwh", "1", "--inference-kwh", "1e-320"]),
            "--inference-kwh",
            "1.0e-15 to",
        ),
        (
            s(&[
                "parity",
                "--training-kwh",
                "1",
                "--inference-kwh-per-1000",
                "NaN",
            ]),
            "--inference-kwh-per-1000",
            "1.0e-12 to",
        ),
        (
            s(&["intensity", "--intensity", "-1"]),
            "intensity",
            "0 to 10000",
        ),
        (
            s(&["intensity", "--intensity", "1", "--pue", "1e308"]),
            "pue",
            "1.0 to 10",
        ),
    ];
    for (args, flag, range) in cases {
        let out = ph(d.path()).args(&args).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(flag) && err.contains(range) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        assert!(
            !stdout.contains("nan") && !stdout.contains("inf"),
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn tiny_and_huge_accepted_numbers_render_as_numbers() {
    let d = tmp();
    let out = ph(d.path())
        .args([
            "estimate",
            "--power",
            "300",
            "--hours",
            "1e-9",
            "--intensity",
            "100",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("energy:     3.0e-10 kWh"), "{text}");
    assert!(text.contains("duration:   1.0e-9 h"), "{text}");
    let out = ph(d.path())
        .args([
            "parity",
            "--training-kwh",
            "1e15",
            "--inference-kwh",
            "1e-15",
        ])
        .args(["--per-day", "1000000"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("parity after 1.0e+30 inferences"), "{text}");
    assert!(text.contains("at 1,000,000 inferences a day"), "{text}");
}
