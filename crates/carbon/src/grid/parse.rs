//! Parsing of the embedded CodeCarbon data files into `GridEntry` rows.

use super::{normalise, Grid, GridEntry, GridKind};
use crate::units::lbs_per_mwh_to_g_per_kwh;
use serde::Deserialize;
use std::collections::BTreeMap;

const GLOBAL_MIX: &str = include_str!("../../data/global_energy_mix.json");
const USA: &str = include_str!("../../data/usa_emissions_2023.json");
const CANADA: &str = include_str!("../../data/canada_energy_mix_2023.json");
const NORDIC: &str = include_str!("../../data/nordic_emissions.json");
const CHINA: &str = include_str!("../../data/china_provincial_emissions_2023.json");
const PER_SOURCE: &str = include_str!("../../data/carbon_intensity_per_source.json");

type Res<T> = Result<T, String>;

fn json<'a, T: Deserialize<'a>>(file: &str, text: &'a str) -> Res<T> {
    serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))
}

pub(super) fn load_all() -> Res<Grid> {
    let per_source: PerSourceFactors = json("carbon_intensity_per_source.json", PER_SOURCE)?;
    let world = GridEntry {
        kind: GridKind::World,
        code: "WORLD".into(),
        name: "World average".into(),
        country: String::new(),
        g_per_kwh: per_source.world_average,
        year: Some(2019),
        source: format!(
            "IEA Global Energy & CO2 Status Report 2019 ({}), via CodeCarbon carbon_intensity_per_source.json",
            per_source.world_average_source
        ),
        aliases: vec!["world".into()],
    };
    let mut regions = usa()?;
    regions.extend(canada(&per_source)?);
    regions.extend(nordic()?);
    regions.extend(china()?);
    Ok(Grid {
        countries: countries()?,
        regions,
        world,
        per_source,
    })
}

#[derive(Deserialize)]
struct CountryRow {
    carbon_intensity: f64,
    country_name: String,
    iso_code: String,
    year: u16,
}

/// Common names people type that are neither the ISO-3 code nor Our World in Data's name.
const COUNTRY_ALIASES: [(&str, &str); 5] = [
    ("us", "USA"),
    ("united states of america", "USA"),
    ("uk", "GBR"),
    ("great britain", "GBR"),
    ("korea", "KOR"),
];

fn countries() -> Res<Vec<GridEntry>> {
    let rows: BTreeMap<String, CountryRow> = json("global_energy_mix.json", GLOBAL_MIX)?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, r) in rows {
        if key != r.iso_code {
            return Err(format!(
                "global_energy_mix.json: key {key} has iso_code {}",
                r.iso_code
            ));
        }
        let mut aliases = vec![key.to_lowercase(), normalise(&r.country_name)];
        aliases.extend(
            COUNTRY_ALIASES
                .iter()
                .filter(|(_, iso)| *iso == key)
                .map(|(a, _)| a.to_string()),
        );
        out.push(GridEntry {
            kind: GridKind::Country,
            aliases,
            code: key,
            name: r.country_name,
            country: r.iso_code,
            g_per_kwh: r.carbon_intensity,
            year: Some(r.year),
            source: "Our World in Data / Ember (life-cycle gCO2e/kWh), via CodeCarbon global_energy_mix.json".into(),
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UsaValue {
    State {
        emissions: f64,
        #[serde(rename = "regionCode")]
        region_code: String,
    },
    // `_unit` and `_source` metadata objects.
    Meta(serde::de::IgnoredAny),
}

fn usa() -> Res<Vec<GridEntry>> {
    let rows: BTreeMap<String, UsaValue> = json("usa_emissions_2023.json", USA)?;
    let mut out = Vec::new();
    for (name, v) in rows {
        // `_unit`/`_source` are metadata; `usa` is the national eGRID rate, not a state
        // (the country figure comes from global_energy_mix.json like every other country's).
        if name.starts_with('_') || name == "usa" {
            continue;
        }
        let UsaValue::State {
            emissions,
            region_code,
        } = v
        else {
            return Err(format!(
                "usa_emissions_2023.json: '{name}' has no emissions/regionCode"
            ));
        };
        out.push(GridEntry {
            kind: GridKind::UsState,
            code: format!("US-{region_code}"),
            aliases: vec![name.clone(), region_code.to_lowercase(), format!("us-{}", region_code.to_lowercase())],
            name: title_case(&name),
            country: "USA".into(),
            g_per_kwh: lbs_per_mwh_to_g_per_kwh(emissions),
            year: Some(2023),
            source: format!(
                "US EPA eGRID2023, state CO2e total output emission rate (STC2ERTA) {emissions} lbs/MWh x 0.45359237, via CodeCarbon usa_emissions.json"
            ),
        });
    }
    Ok(out)
}

/// Per-source life-cycle factors, g/kWh (CodeCarbon carbon_intensity_per_source.json).
#[derive(Debug, Deserialize)]
pub struct PerSourceFactors {
    pub world_average: f64,
    pub world_average_source: String,
    pub coal: f64,
    pub petroleum: f64,
    pub natural_gas: f64,
    pub hydroelectricity: f64,
    pub nuclear: f64,
    pub solar: f64,
    pub wind: f64,
    pub biomass: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CanadaMix {
    pub natural_gas: f64,
    pub nuclear: f64,
    pub petroleum: f64,
    pub biomass: f64,
    pub coal: f64,
    pub other: f64,
    pub solar: f64,
    pub tidal: f64,
    pub wind: f64,
    pub hydro: f64,
}

/// ISO 3166-2:CA codes of the provinces and territories in the file.
const CANADA_CODES: [(&str, &str); 13] = [
    ("alberta", "AB"),
    ("british columbia", "BC"),
    ("manitoba", "MB"),
    ("new brunswick", "NB"),
    ("newfoundland and labrador", "NL"),
    ("nova scotia", "NS"),
    ("northwest territories", "NT"),
    ("nunavut", "NU"),
    ("ontario", "ON"),
    ("prince edward island", "PE"),
    ("quebec", "QC"),
    ("saskatchewan", "SK"),
    ("yukon", "YT"),
];

/// Intensity of a generation mix (shares in %): the share-weighted mean of the per-source
/// life-cycle factors, over the sum of the shares (the file's `total` is 99.9-100.2 from rounding).
/// Tidal and "other" have no factor and count as 0 (a lower bound for those shares).
pub(crate) fn mix_intensity(m: &CanadaMix, f: &PerSourceFactors) -> Res<f64> {
    let weighted = m.coal * f.coal
        + m.petroleum * f.petroleum
        + m.natural_gas * f.natural_gas
        + m.hydro * f.hydroelectricity
        + m.nuclear * f.nuclear
        + m.solar * f.solar
        + m.wind * f.wind
        + m.biomass * f.biomass;
    let shares = m.coal
        + m.petroleum
        + m.natural_gas
        + m.hydro
        + m.nuclear
        + m.solar
        + m.wind
        + m.biomass
        + m.tidal
        + m.other;
    if shares <= 0.0 {
        return Err("canada_energy_mix_2023.json: a province has no generation shares".into());
    }
    Ok(weighted / shares)
}

fn canada(f: &PerSourceFactors) -> Res<Vec<GridEntry>> {
    let rows: BTreeMap<String, CanadaMix> = json("canada_energy_mix_2023.json", CANADA)?;
    let mut out = Vec::new();
    for (name, mix) in rows {
        let code = CANADA_CODES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| *c)
            .ok_or_else(|| format!("canada_energy_mix_2023.json: unknown province '{name}'"))?;
        out.push(GridEntry {
            kind: GridKind::CanadaProvince,
            code: format!("CA-{code}"),
            aliases: vec![name.clone(), code.to_lowercase(), format!("ca-{}", code.to_lowercase())],
            name: title_case(&name),
            country: "CAN".into(),
            g_per_kwh: mix_intensity(&mix, f)?,
            year: Some(2023),
            source: "generation mix (CodeCarbon 2023/canada_energy_mix.json; year as filed by CodeCarbon, the file does not state it) x life-cycle factors per source (CodeCarbon carbon_intensity_per_source.json)".into(),
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ZoneFile {
    data: BTreeMap<String, Zone>,
    metadata: serde_json::Value,
}

#[derive(Deserialize)]
struct Zone {
    emission_factor: f64,
    description: String,
    year: u16,
    #[serde(default)]
    names: Vec<String>,
}

fn meta_source(meta: &serde_json::Value) -> String {
    meta.get("source")
        .and_then(|s| s.as_str())
        .unwrap_or("source not stated")
        .to_string()
}

fn nordic() -> Res<Vec<GridEntry>> {
    let file: ZoneFile = json("nordic_emissions.json", NORDIC)?;
    let source = format!(
        "{} (via CodeCarbon 3.3.2 nordic_emissions.json)",
        meta_source(&file.metadata)
    );
    let mut out = Vec::new();
    for (code, z) in file.data {
        let country = match &code[..2] {
            "SE" => "SWE",
            "NO" => "NOR",
            "FI" => "FIN",
            other => {
                return Err(format!(
                    "nordic_emissions.json: unknown zone prefix {other}"
                ))
            }
        };
        out.push(GridEntry {
            kind: GridKind::NordicZone,
            aliases: vec![code.to_lowercase()],
            name: if code == "FI" {
                "Finland zone FI".into()
            } else {
                format!(
                    "{} bidding zone {code}",
                    if country == "SWE" { "Sweden" } else { "Norway" }
                )
            },
            code,
            country: country.into(),
            g_per_kwh: z.emission_factor,
            year: Some(z.year),
            source: format!("{source}; {}", z.description),
        });
    }
    Ok(out)
}

fn china() -> Res<Vec<GridEntry>> {
    let file: ZoneFile = json("china_provincial_emissions_2023.json", CHINA)?;
    let source = format!(
        "{} CO2 only, not CO2e (via CodeCarbon 3.3.2 china_provincial_emissions.json)",
        meta_source(&file.metadata)
    );
    let mut out = Vec::new();
    for (code, z) in file.data {
        let mut aliases: Vec<String> = z.names.iter().map(|n| normalise(n)).collect();
        aliases.push(code.to_lowercase());
        aliases.push(normalise(&z.description));
        aliases.dedup();
        out.push(GridEntry {
            kind: GridKind::ChinaProvince,
            code,
            name: z.description,
            country: "CHN".into(),
            g_per_kwh: z.emission_factor,
            year: Some(z.year),
            source: source.clone(),
            aliases,
        });
    }
    Ok(out)
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            if matches!(w, "of" | "and") {
                return w.to_string();
            }
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
