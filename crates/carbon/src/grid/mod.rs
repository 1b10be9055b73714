//! Grid carbon-intensity tables, embedded in the binary and parsed once.
//!
//! Countries (ISO 3166 alpha-3), US states (eGRID2023), Canadian provinces (generation mix x
//! per-source factors), Nordic bidding zones, Chinese provinces. Cloud regions live in
//! `crate::cloud`. Data: `crates/carbon/data/` (CodeCarbon, MIT; see its README).

mod parse;

use crate::error::CarbonError;
use crate::suggest::close_matches;
use serde::Serialize;
use std::sync::OnceLock;

/// What kind of area a grid entry covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    Country,
    UsState,
    CanadaProvince,
    NordicZone,
    ChinaProvince,
    World,
}

/// One grid with its intensity, where the figure came from, and its year.
#[derive(Debug, Clone, Serialize)]
pub struct GridEntry {
    pub kind: GridKind,
    /// Canonical code: "FRA", "US-OR", "CA-QC", "SE3", "CN-BJ", "WORLD".
    pub code: String,
    /// Human name: "France", "Oregon", "Quebec", "Sweden bidding zone SE3", "Beijing".
    pub name: String,
    /// ISO 3166 alpha-3 of the country the grid is in ("" for the world average).
    pub country: String,
    pub g_per_kwh: f64,
    pub year: Option<u16>,
    /// The data source and the embedded file it was read from.
    pub source: String,
    /// Lower-case names accepted on input (code, name, variants).
    #[serde(skip)]
    pub aliases: Vec<String>,
}

impl GridEntry {
    /// Label for output: "France (FRA)", "US Oregon (US-OR)", "Canada Quebec (CA-QC)".
    pub fn label(&self) -> String {
        match self.kind {
            GridKind::Country => format!("{} ({})", self.name, self.code),
            GridKind::UsState => format!("US {} ({})", self.name, self.code),
            GridKind::CanadaProvince => format!("Canada {} ({})", self.name, self.code),
            GridKind::NordicZone => self.name.clone(),
            GridKind::ChinaProvince => format!("China {} ({})", self.name, self.code),
            GridKind::World => self.name.clone(),
        }
    }

    fn matches(&self, needle: &str) -> bool {
        self.aliases.iter().any(|a| a == needle)
    }
}

/// All embedded grid tables.
#[derive(Debug)]
pub struct Grid {
    pub countries: Vec<GridEntry>,
    /// Sub-national grids: US states, Canadian provinces, Nordic zones, Chinese provinces.
    pub regions: Vec<GridEntry>,
    /// The fallback when no location is given (IEA 2019, 475 g/kWh).
    pub world: GridEntry,
    /// Per-source life-cycle factors (g/kWh) used for the Canadian provinces.
    pub per_source: parse::PerSourceFactors,
}

static GRID: OnceLock<Result<Grid, String>> = OnceLock::new();

/// The embedded tables, parsed on first use.
pub fn grid() -> Result<&'static Grid, CarbonError> {
    GRID.get_or_init(|| parse::load_all().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|m| CarbonError::EmbeddedData {
            file: "crates/carbon/data".into(),
            message: m.clone(),
        })
}

/// Normalise user input for lookup: trim, lower-case, collapse inner whitespace, turn '_' into ' '.
pub(crate) fn normalise(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Grid {
    /// A country by ISO-3 code or name (case-insensitive).
    pub fn country(&self, given: &str, origin: &str) -> Result<&GridEntry, CarbonError> {
        let needle = normalise(given);
        self.countries
            .iter()
            .find(|c| c.matches(&needle))
            .ok_or_else(|| CarbonError::UnknownCountry {
                given: given.to_string(),
                origin: origin.to_string(),
                suggestions: close_matches(
                    &needle,
                    self.countries
                        .iter()
                        .flat_map(|c| c.aliases.iter().map(move |a| (a.as_str(), c.label()))),
                    5,
                ),
            })
    }

    /// A sub-national grid by code or name, optionally restricted to one country (ISO-3).
    pub fn region(
        &self,
        given: &str,
        country: Option<&GridEntry>,
        origin: &str,
    ) -> Result<&GridEntry, CarbonError> {
        let needle = normalise(given);
        let in_scope = |r: &&GridEntry| country.is_none_or(|c| c.code == r.country);
        let found: Vec<&GridEntry> = self
            .regions
            .iter()
            .filter(in_scope)
            .filter(|r| r.matches(&needle))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(CarbonError::UnknownRegion {
                given: given.to_string(),
                country: country.map(GridEntry::label),
                origin: origin.to_string(),
                suggestions: close_matches(
                    &needle,
                    self.regions
                        .iter()
                        .filter(in_scope)
                        .flat_map(|r| r.aliases.iter().map(move |a| (a.as_str(), r.label()))),
                    5,
                ),
            }),
            many => Err(CarbonError::AmbiguousRegion {
                given: given.to_string(),
                origin: origin.to_string(),
                matches: many.iter().map(|r| r.label()).collect(),
            }),
        }
    }

    /// A grid by its canonical code (countries and regions), for the cloud mapping.
    pub fn by_code(&self, code: &str) -> Option<&GridEntry> {
        self.countries
            .iter()
            .chain(self.regions.iter())
            .find(|e| e.code == code)
    }
}

#[cfg(test)]
mod tests;
