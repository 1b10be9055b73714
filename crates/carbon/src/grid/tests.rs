//! Tests of the grid tables against figures read by hand from the data files.

use super::*;
use crate::units::lbs_per_mwh_to_g_per_kwh;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn every_country_resolves_by_code_and_by_name() {
    let g = grid().expect("embedded tables parse");
    assert_eq!(
        g.countries.len(),
        213,
        "global_energy_mix.json has 213 ISO-3 keys"
    );
    for c in &g.countries {
        assert_eq!(g.country(&c.code, "test").unwrap().code, c.code);
        assert_eq!(
            g.country(&c.name.to_uppercase(), "test").unwrap().code,
            c.code,
            "{}",
            c.name
        );
        assert!(c.g_per_kwh.is_finite() && c.g_per_kwh >= 0.0, "{}", c.code);
        assert!(
            c.year.is_some_and(|y| (2009..=2023).contains(&y)),
            "{}",
            c.code
        );
    }
}

#[test]
fn known_country_figures() {
    let g = grid().unwrap();
    let fra = g.country("fra", "t").unwrap();
    assert_eq!(
        (fra.g_per_kwh, fra.year, fra.label().as_str()),
        (56.039, Some(2023), "France (FRA)")
    );
    let usa = g.country("United States", "t").unwrap();
    assert_eq!((usa.code.as_str(), usa.g_per_kwh), ("USA", 369.473));
    assert_eq!(g.country("UK", "t").unwrap().code, "GBR");
    assert_eq!(
        g.country("united states of america", "t").unwrap().code,
        "USA"
    );
    // Western Sahara's figure is from 2009: the year travels with it.
    assert_eq!(g.country("ESH", "t").unwrap().year, Some(2009));
    assert_eq!(g.world.g_per_kwh, 475.0);
}

#[test]
fn us_states_are_egrid_converted_to_grams() {
    let g = grid().unwrap();
    let states: Vec<_> = g
        .regions
        .iter()
        .filter(|r| r.kind == GridKind::UsState)
        .collect();
    assert_eq!(
        states.len(),
        51,
        "50 states + DC; the national 'usa' row is not a state"
    );
    let ca = g.region("california", None, "t").unwrap();
    assert_eq!(ca.code, "US-CA");
    assert!(
        close(ca.g_per_kwh, 179.0636, 1e-3),
        "394.769 lbs/MWh = 179.06 g/kWh"
    );
    let or = g.region("OR", None, "t").unwrap();
    assert!(close(
        or.g_per_kwh,
        lbs_per_mwh_to_g_per_kwh(or_lbs()),
        1e-9
    ));
    assert_eq!(or.label(), "US Oregon (US-OR)");
    assert_eq!(
        g.region("District_of_Columbia", None, "t").unwrap().code,
        "US-DC"
    );
}

/// Oregon's eGRID2023 rate as written in the file.
fn or_lbs() -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../../data/usa_emissions_2023.json")).unwrap();
    v["oregon"]["emissions"].as_f64().unwrap()
}

#[test]
fn canadian_provinces_from_mix_and_factors() {
    let g = grid().unwrap();
    // British Columbia by hand: gas 2.8 x 743 + petroleum 0.1 x 816 + biomass 6.7 x 230
    // + solar 0.6 x 48 + wind 2.9 x 26 + hydro 86.8 x 26 = 6064.0, over 99.9 % = 60.70 g/kWh.
    let bc = g.region("british columbia", None, "t").unwrap();
    assert!(close(bc.g_per_kwh, 60.70, 0.01), "{}", bc.g_per_kwh);
    let canada = g.country("CAN", "t").unwrap();
    assert_eq!(g.region("QC", Some(canada), "t").unwrap().name, "Quebec");
    assert_eq!(
        g.regions
            .iter()
            .filter(|r| r.kind == GridKind::CanadaProvince)
            .count(),
        13
    );
}

#[test]
fn nordic_zones_and_chinese_provinces() {
    let g = grid().unwrap();
    assert_eq!(g.region("se3", None, "t").unwrap().g_per_kwh, 27.0);
    assert_eq!(g.region("NO4", None, "t").unwrap().g_per_kwh, 51.7);
    assert_eq!(g.region("FI", None, "t").unwrap().country, "FIN");
    let bj = g.region("Beijing", None, "t").unwrap();
    assert_eq!(
        (bj.code.as_str(), bj.g_per_kwh, bj.year),
        ("CN-BJ", 555.4, Some(2023))
    );
    assert_eq!(g.region("nei mongol", None, "t").unwrap().code, "CN-NM");
    assert_eq!(
        g.regions
            .iter()
            .filter(|r| r.kind == GridKind::ChinaProvince)
            .count(),
        30
    );
}

#[test]
fn region_aliases_are_unambiguous() {
    let g = grid().unwrap();
    for r in &g.regions {
        for a in &r.aliases {
            assert_eq!(g.region(a, None, "t").unwrap().code, r.code, "alias {a}");
        }
    }
}

#[test]
fn unknown_country_suggests_close_names() {
    let g = grid().unwrap();
    let err = g.country("Frnace", "--country").unwrap_err().to_string();
    assert!(
        err.contains("unknown country 'Frnace' (--country)"),
        "{err}"
    );
    assert!(err.contains("France (FRA)"), "{err}");
    let err = g.country("qqqqqqqq", "--country").unwrap_err().to_string();
    assert!(err.contains("no close match"), "{err}");
}

#[test]
fn unknown_region_is_scoped_to_the_country() {
    let g = grid().unwrap();
    let err = g.region("oregn", None, "--region").unwrap_err().to_string();
    assert!(err.contains("US Oregon (US-OR)"), "{err}");
    let fra = g.country("FRA", "t").unwrap();
    let err = g
        .region("oregon", Some(fra), "--region")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown region 'oregon' in France (FRA)"),
        "{err}"
    );
}

#[test]
fn a_name_in_two_tables_is_ambiguous_without_a_country() {
    // The embedded tables have no shared alias (tested above), so build a small grid that does.
    let real = grid().unwrap();
    let mut a = real.region("georgia", None, "t").unwrap().clone();
    a.aliases.push("x1".into());
    let mut b = real.region("SE1", None, "t").unwrap().clone();
    b.aliases.push("x1".into());
    let g = Grid {
        countries: real.countries.clone(),
        regions: vec![a, b],
        world: real.world.clone(),
        per_source: parse::load_all().unwrap().per_source,
    };
    let err = g.region("X1", None, "--region").unwrap_err().to_string();
    assert!(err.contains("region 'X1' (--region) is ambiguous: it matches US Georgia (US-GA), Sweden bidding zone SE1"), "{err}");
    let swe = g.country("SWE", "t").unwrap();
    assert_eq!(g.region("X1", Some(swe), "--region").unwrap().code, "SE1");
}
