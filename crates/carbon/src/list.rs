//! The whole intensity table as rows, for `powerhungry intensity --list`.

use crate::cloud::{cloud_regions, mapped_grid, provider_name, CloudIntensity};
use crate::error::CarbonError;
use crate::grid::{grid, GridEntry, GridKind};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    /// "country", "us_state", "canada_province", "nordic_zone", "china_province", "world",
    /// "cloud".
    pub kind: String,
    /// What to pass: the ISO-3 code for --country, the code for --region, PROVIDER:REGION for
    /// --cloud.
    pub code: String,
    pub name: String,
    pub g_per_kwh: f64,
    pub year: Option<u16>,
    /// For AWS/Azure regions: the grid code they take their intensity from.
    pub maps_to: Option<String>,
    pub source: String,
}

fn kind_name(k: GridKind) -> &'static str {
    match k {
        GridKind::Country => "country",
        GridKind::UsState => "us_state",
        GridKind::CanadaProvince => "canada_province",
        GridKind::NordicZone => "nordic_zone",
        GridKind::ChinaProvince => "china_province",
        GridKind::World => "world",
    }
}

fn row(e: &GridEntry) -> TableRow {
    TableRow {
        kind: kind_name(e.kind).into(),
        code: e.code.clone(),
        name: e.name.clone(),
        g_per_kwh: e.g_per_kwh,
        year: e.year,
        maps_to: None,
        source: e.source.clone(),
    }
}

/// Every entry: world average, countries, sub-national grids, cloud regions.
pub fn table() -> Result<Vec<TableRow>, CarbonError> {
    let g = grid()?;
    let mut out = vec![row(&g.world)];
    out.extend(g.countries.iter().map(row));
    out.extend(g.regions.iter().map(row));
    for c in cloud_regions()? {
        let code = format!("{}:{}", c.provider, c.region);
        let name = format!("{} {} ({})", provider_name(c.provider), c.region, c.place);
        out.push(match (&c.intensity, mapped_grid(g, &c)?) {
            (_, Some(e)) => TableRow {
                kind: "cloud".into(),
                code,
                name,
                g_per_kwh: e.g_per_kwh,
                year: e.year,
                maps_to: Some(e.code.clone()),
                source: e.source.clone(),
            },
            (
                CloudIntensity::Published {
                    g_per_kwh, source, ..
                },
                None,
            ) => TableRow {
                kind: "cloud".into(),
                code,
                name,
                g_per_kwh: *g_per_kwh,
                year: None,
                maps_to: None,
                source: source.clone(),
            },
            (CloudIntensity::Grid { code: target }, None) => {
                return Err(CarbonError::EmbeddedData {
                    file: "cloud.rs".into(),
                    message: format!("{code} maps to unknown grid {target}"),
                })
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_section() {
        let t = table().unwrap();
        let count = |k: &str| t.iter().filter(|r| r.kind == k).count();
        assert_eq!(count("world"), 1);
        assert_eq!(count("country"), 213);
        assert_eq!(count("us_state"), 51);
        assert_eq!(count("canada_province"), 13);
        assert_eq!(count("nordic_zone"), 10);
        assert_eq!(count("china_province"), 30);
        let aws = t.iter().find(|r| r.code == "aws:us-west-2").unwrap();
        assert_eq!(aws.maps_to.as_deref(), Some("US-OR"));
    }
}
