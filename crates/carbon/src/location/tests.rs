//! Tests of location resolution: precedence, config file, env variables, cloud mapping, errors.

use super::*;
use crate::cloud::{cloud_regions, mapped_grid};
use std::collections::HashMap;

fn q() -> LocationQuery {
    LocationQuery::default()
}

fn layer(origin: Origin, query: LocationQuery) -> Layer {
    Layer { origin, query }
}

fn config(path: &str) -> Origin {
    Origin::Config(PathBuf::from(path))
}

#[test]
fn flag_beats_env_beats_config() {
    let flag = LocationQuery {
        country: Some("FRA".into()),
        ..q()
    };
    let env = LocationQuery {
        country: Some("DEU".into()),
        pue: Some(1.2),
        ..q()
    };
    let cfg = LocationQuery {
        country: Some("IND".into()),
        pue: Some(1.5),
        ..q()
    };
    let layers = |f: &LocationQuery, e: &LocationQuery| {
        vec![
            layer(Origin::Flag, f.clone()),
            layer(Origin::Env, e.clone()),
            layer(config("/c.toml"), cfg.clone()),
        ]
    };
    let r = resolve_layers(&layers(&flag, &env)).unwrap();
    assert_eq!(
        (r.code.as_str(), r.location_from.as_str()),
        ("FRA", "--country")
    );
    assert_eq!((r.pue, r.pue_from.as_str()), (1.2, "POWERHUNGRY_PUE"));
    let r = resolve_layers(&layers(&q(), &env)).unwrap();
    assert_eq!(
        (r.code.as_str(), r.location_from.as_str()),
        ("DEU", "POWERHUNGRY_COUNTRY")
    );
    let r = resolve_layers(&layers(&q(), &q())).unwrap();
    assert_eq!((r.code.as_str(), r.pue), ("IND", 1.5));
    assert_eq!(r.location_from, "`country` in /c.toml");
    assert!(r.warning.is_none());
}

#[test]
fn location_is_taken_whole_from_one_layer() {
    // An env region must not be combined with a flag country.
    let flag = LocationQuery {
        country: Some("FRA".into()),
        ..q()
    };
    let env = LocationQuery {
        region: Some("oregon".into()),
        ..q()
    };
    let r = resolve_layers(&[layer(Origin::Flag, flag), layer(Origin::Env, env)]).unwrap();
    assert_eq!(r.code, "FRA");
    // A flag intensity beats a config country.
    let flag = LocationQuery {
        intensity: Some(42.0),
        ..q()
    };
    let cfg = LocationQuery {
        country: Some("IND".into()),
        ..q()
    };
    let r = resolve_layers(&[layer(Origin::Flag, flag), layer(config("/c"), cfg)]).unwrap();
    assert_eq!(
        (r.g_per_kwh, r.code.as_str(), r.year),
        (42.0, "explicit", None)
    );
}

#[test]
fn nothing_given_is_the_world_average_with_a_warning() {
    let r = resolve_layers(&[layer(Origin::Flag, q()), layer(Origin::Env, q())]).unwrap();
    assert_eq!((r.g_per_kwh, r.pue, r.year), (475.0, 1.0, Some(2019)));
    assert_eq!(
        (r.location_from.as_str(), r.pue_from.as_str()),
        ("default", "default")
    );
    assert!(r.warning.as_deref().unwrap().contains("world average 475"));
}

#[test]
fn country_and_region_together() {
    let query = LocationQuery {
        country: Some("usa".into()),
        region: Some("oregon".into()),
        ..q()
    };
    let r = locate(&query, &Origin::Flag).unwrap();
    assert_eq!(
        (r.code.as_str(), r.year, r.location_from.as_str()),
        ("US-OR", Some(2023), "--region")
    );
    assert!(r.source.contains("eGRID2023"));
}

#[test]
fn cloud_regions_map_to_their_grid() {
    let aws = LocationQuery {
        cloud: Some("AWS:us-west-2".into()),
        ..q()
    };
    let r = locate(&aws, &Origin::Flag).unwrap();
    assert_eq!(r.label, "AWS us-west-2 (Oregon) -> US Oregon (US-OR)");
    assert_eq!((r.code.as_str(), r.year), ("aws:us-west-2", Some(2023)));
    let oregon = locate(
        &LocationQuery {
            region: Some("oregon".into()),
            ..q()
        },
        &Origin::Flag,
    )
    .unwrap();
    assert_eq!(r.g_per_kwh, oregon.g_per_kwh);
    let azure = locate(
        &LocationQuery {
            cloud: Some("azure:eastus".into()),
            ..q()
        },
        &Origin::Flag,
    )
    .unwrap();
    assert!(
        azure.label.ends_with("US Virginia (US-VA)"),
        "{}",
        azure.label
    );
    let gcp = locate(
        &LocationQuery {
            cloud: Some("gcp:europe-west9".into()),
            ..q()
        },
        &Origin::Flag,
    )
    .unwrap();
    assert_eq!((gcp.g_per_kwh, gcp.year), (34.0, None));
    // CodeCarbon's impact.csv misspells me-central1; the real name resolves.
    let doha = locate(
        &LocationQuery {
            cloud: Some("gcp:me-central1".into()),
            ..q()
        },
        &Origin::Flag,
    )
    .unwrap();
    assert_eq!(doha.g_per_kwh, 575.0);
}

#[test]
fn every_cloud_region_maps_to_an_existing_grid_entry() {
    let g = crate::grid::grid().unwrap();
    let all = cloud_regions().unwrap();
    assert_eq!(all.iter().filter(|c| c.provider == "gcp").count(), 40);
    for c in &all {
        match &c.intensity {
            CloudIntensity::Grid { .. } => {
                assert!(
                    mapped_grid(g, c).unwrap().is_some(),
                    "{}:{}",
                    c.provider,
                    c.region
                )
            }
            CloudIntensity::Published { country, .. } => {
                assert!(
                    g.country(country, "t").is_ok(),
                    "{}:{} country {country}",
                    c.provider,
                    c.region
                )
            }
        }
        let given = format!("{}:{}", c.provider, c.region);
        assert!(
            locate(
                &LocationQuery {
                    cloud: Some(given.clone()),
                    ..q()
                },
                &Origin::Flag
            )
            .is_ok(),
            "{given}"
        );
    }
}

#[test]
fn cloud_errors() {
    let err = cloud::find("aws:us-west-9", "--cloud")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown cloud region 'aws:us-west-9' (--cloud)"),
        "{err}"
    );
    assert!(err.contains("aws:us-west-2"), "{err}");
    for bad in ["us-west-2", "ibm:us-south"] {
        let err = cloud::find(bad, "--cloud").unwrap_err().to_string();
        assert!(err.contains("expected PROVIDER:REGION"), "{err}");
    }
}

#[test]
fn conflicts_within_one_layer_are_errors() {
    let both = LocationQuery {
        intensity: Some(10.0),
        country: Some("FRA".into()),
        ..q()
    };
    let err = locate(&both, &Origin::Env).unwrap_err().to_string();
    assert!(
        err.contains("conflicting location (environment variables)"),
        "{err}"
    );
    let both = LocationQuery {
        cloud: Some("aws:us-west-2".into()),
        region: Some("oregon".into()),
        ..q()
    };
    let err = locate(&both, &config("/p.toml")).unwrap_err().to_string();
    assert!(
        err.contains("config file /p.toml") && err.contains("cloud region excludes"),
        "{err}"
    );
}

#[test]
fn invalid_numbers_name_their_source() {
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let err = locate(
            &LocationQuery {
                intensity: Some(bad),
                ..q()
            },
            &Origin::Flag,
        )
        .unwrap_err();
        assert!(err.to_string().contains("(--intensity)"), "{err}");
    }
    for bad in [0.9, f64::NAN] {
        let err = resolve_layers(&[layer(
            Origin::Env,
            LocationQuery {
                pue: Some(bad),
                ..q()
            },
        )])
        .unwrap_err();
        assert!(
            err.to_string().contains("invalid PUE") && err.to_string().contains("POWERHUNGRY_PUE"),
            "{err}"
        );
    }
    let err = resolve_layers(&[layer(
        Origin::Flag,
        LocationQuery {
            country: Some("Narnia".into()),
            ..q()
        },
    )])
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown country 'Narnia' (--country)"),
        "{err}"
    );
}

fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn env_variables_are_read_and_checked() {
    let m = env_of(&[(ENV_COUNTRY, " SWE "), (ENV_PUE, "1.1"), (ENV_REGION, "")]);
    let got = env_query(&|k| m.get(k).cloned()).unwrap();
    assert_eq!(
        got,
        LocationQuery {
            country: Some("SWE".into()),
            pue: Some(1.1),
            ..q()
        }
    );
    let m = env_of(&[(ENV_INTENSITY, "lots")]);
    let err = env_query(&|k| m.get(k).cloned()).unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid intensity 'lots' (POWERHUNGRY_INTENSITY): not a number"
    );
}

#[test]
fn config_file_location_table() {
    let p = Path::new("/x/powerhungry.toml");
    let text = "[bench]\nrepeat = 10\n\n[location]\ncloud = \"aws:eu-west-1\"\npue = 1.2\n";
    let got = parse_config(text, p).unwrap();
    assert_eq!(
        got,
        LocationQuery {
            cloud: Some("aws:eu-west-1".into()),
            pue: Some(1.2),
            ..q()
        }
    );
    assert_eq!(parse_config("", p).unwrap(), q());
    let err = parse_config("[location]\ncontry = \"FRA\"\n", p)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config file /x/powerhungry.toml:") && err.contains("contry"),
        "{err}"
    );
    let err = parse_config("[location]\npue = \"high\"\n", p)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2"), "{err}");
    let err = load_config(Path::new("/nonexistent/ph.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("config file /nonexistent/ph.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn config_path_search_order() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cwd = dir.path().join("work");
    std::fs::create_dir_all(home.join(".config/powerhungry")).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let home_s = home.display().to_string();
    let env = env_of(&[("HOME", &home_s)]);
    let get = |k: &str| env.get(k).cloned();
    assert_eq!(config_path(&get, &cwd), None);
    let user = home.join(".config/powerhungry/config.toml");
    std::fs::write(&user, "").unwrap();
    assert_eq!(config_path(&get, &cwd), Some((user, false)));
    let local = cwd.join("powerhungry.toml");
    std::fs::write(&local, "").unwrap();
    assert_eq!(config_path(&get, &cwd), Some((local, false)));
    let env = env_of(&[("HOME", &home_s), (ENV_CONFIG, "/explicit.toml")]);
    let get = |k: &str| env.get(k).cloned();
    assert_eq!(
        config_path(&get, &cwd),
        Some((PathBuf::from("/explicit.toml"), true))
    );
}

#[test]
fn emissions_through_a_resolved_intensity() {
    let r = resolve_layers(&[layer(
        Origin::Flag,
        LocationQuery {
            intensity: Some(500.0),
            pue: Some(1.5),
            ..q()
        },
    )])
    .unwrap();
    // 300 W x 100 h = 30 kWh; x 1.5 PUE = 45 kWh; x 500 g = 22.5 kg.
    let e = r.emissions(300.0 * 100.0 * 3600.0);
    assert!((e.co2e_kg - 22.5).abs() < 1e-9);
}
