//! Cloud regions. GCP regions carry Google's own published grid intensity (CodeCarbon
//! impact.csv); AWS and Azure regions are mapped to the grid they sit on (our mapping, from each
//! provider's published region locations; documented in docs/carbon.md).

use crate::error::CarbonError;
use crate::grid::{Grid, GridEntry};
use crate::suggest::close_matches;
use serde::{Deserialize, Serialize};

const IMPACT_CSV: &str = include_str!("../data/impact.csv");

/// AWS region -> (where it is, grid code in `Grid`). Locations from AWS's "Regions and
/// Availability Zones" documentation.
pub const AWS_REGIONS: &[(&str, &str, &str)] = &[
    ("us-east-1", "N. Virginia", "US-VA"),
    ("us-east-2", "Ohio", "US-OH"),
    ("us-west-1", "N. California", "US-CA"),
    ("us-west-2", "Oregon", "US-OR"),
    ("ca-central-1", "Montreal", "CA-QC"),
    ("ca-west-1", "Calgary", "CA-AB"),
    ("sa-east-1", "Sao Paulo", "BRA"),
    ("eu-west-1", "Ireland", "IRL"),
    ("eu-west-2", "London", "GBR"),
    ("eu-west-3", "Paris", "FRA"),
    ("eu-central-1", "Frankfurt", "DEU"),
    ("eu-central-2", "Zurich", "CHE"),
    ("eu-north-1", "Stockholm", "SE3"),
    ("eu-south-1", "Milan", "ITA"),
    ("eu-south-2", "Aragon, Spain", "ESP"),
    ("ap-northeast-1", "Tokyo", "JPN"),
    ("ap-northeast-2", "Seoul", "KOR"),
    ("ap-northeast-3", "Osaka", "JPN"),
    ("ap-southeast-1", "Singapore", "SGP"),
    ("ap-southeast-2", "Sydney", "AUS"),
    ("ap-southeast-3", "Jakarta", "IDN"),
    ("ap-southeast-4", "Melbourne", "AUS"),
    ("ap-south-1", "Mumbai", "IND"),
    ("ap-south-2", "Hyderabad", "IND"),
    ("ap-east-1", "Hong Kong", "HKG"),
    ("me-south-1", "Bahrain", "BHR"),
    ("me-central-1", "UAE", "ARE"),
    ("il-central-1", "Tel Aviv", "ISR"),
    ("af-south-1", "Cape Town", "ZAF"),
    ("cn-north-1", "Beijing", "CN-BJ"),
    ("cn-northwest-1", "Ningxia", "CN-NX"),
    ("mx-central-1", "Queretaro", "MEX"),
    ("ap-southeast-5", "Malaysia", "MYS"),
    ("ap-southeast-7", "Thailand", "THA"),
];

/// Azure region -> (where it is, grid code). Locations from Azure's "Azure geographies" page.
pub const AZURE_REGIONS: &[(&str, &str, &str)] = &[
    ("eastus", "Virginia", "US-VA"),
    ("eastus2", "Virginia", "US-VA"),
    ("centralus", "Iowa", "US-IA"),
    ("northcentralus", "Illinois", "US-IL"),
    ("southcentralus", "Texas", "US-TX"),
    ("westcentralus", "Wyoming", "US-WY"),
    ("westus", "California", "US-CA"),
    ("westus2", "Washington", "US-WA"),
    ("westus3", "Arizona", "US-AZ"),
    ("canadacentral", "Toronto", "CA-ON"),
    ("canadaeast", "Quebec City", "CA-QC"),
    ("brazilsouth", "Sao Paulo State", "BRA"),
    ("mexicocentral", "Queretaro", "MEX"),
    ("northeurope", "Ireland", "IRL"),
    ("westeurope", "Netherlands", "NLD"),
    ("uksouth", "London", "GBR"),
    ("ukwest", "Cardiff", "GBR"),
    ("francecentral", "Paris", "FRA"),
    ("germanywestcentral", "Frankfurt", "DEU"),
    ("switzerlandnorth", "Zurich", "CHE"),
    ("norwayeast", "Oslo", "NO1"),
    ("swedencentral", "Gavle", "SE3"),
    ("polandcentral", "Warsaw", "POL"),
    ("italynorth", "Milan", "ITA"),
    ("spaincentral", "Madrid", "ESP"),
    ("eastasia", "Hong Kong", "HKG"),
    ("southeastasia", "Singapore", "SGP"),
    ("japaneast", "Tokyo, Saitama", "JPN"),
    ("japanwest", "Osaka", "JPN"),
    ("koreacentral", "Seoul", "KOR"),
    ("centralindia", "Pune", "IND"),
    ("southindia", "Chennai", "IND"),
    ("australiaeast", "New South Wales", "AUS"),
    ("australiasoutheast", "Victoria", "AUS"),
    ("southafricanorth", "Johannesburg", "ZAF"),
    ("uaenorth", "Dubai", "ARE"),
    ("qatarcentral", "Doha", "QAT"),
    ("israelcentral", "Israel", "ISR"),
    ("australiacentral", "Canberra", "AUS"),
    ("koreasouth", "Busan", "KOR"),
    ("westindia", "Mumbai", "IND"),
    ("francesouth", "Marseille", "FRA"),
    ("germanynorth", "Berlin", "DEU"),
    ("norwaywest", "Stavanger", "NO2"),
    ("switzerlandwest", "Geneva", "CHE"),
    ("uaecentral", "Abu Dhabi", "ARE"),
    ("southafricawest", "Cape Town", "ZAF"),
    ("brazilsoutheast", "Rio de Janeiro", "BRA"),
    ("newzealandnorth", "Auckland", "NZL"),
];

/// One cloud region and how its intensity is found.
#[derive(Debug, Clone, Serialize)]
pub struct CloudRegion {
    /// "aws", "azure" or "gcp".
    pub provider: &'static str,
    pub region: String,
    /// Where the region is (city or state).
    pub place: String,
    pub intensity: CloudIntensity,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CloudIntensity {
    /// The provider's own published grid figure (GCP, via impact.csv).
    Published {
        g_per_kwh: f64,
        country: String,
        source: String,
    },
    /// The region takes the intensity of the grid with this code.
    Grid { code: String },
}

#[derive(Deserialize)]
struct ImpactRow {
    provider: String,
    region: String,
    country_name: String,
    #[serde(rename = "countryIsoCode")]
    country_iso: String,
    city: String,
    impact: f64,
    source: String,
}

/// GCP rows of impact.csv. CodeCarbon's file spells one region `me-cenrtal1`; we list it under
/// Google's real name `me-central1`.
fn gcp_regions() -> Result<Vec<CloudRegion>, CarbonError> {
    let text = IMPACT_CSV.strip_prefix('\u{feff}').unwrap_or(IMPACT_CSV);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, row) in reader.deserialize::<ImpactRow>().enumerate() {
        let row = row.map_err(|e| CarbonError::EmbeddedData {
            file: "impact.csv".into(),
            message: format!("row {}: {e}", i + 2),
        })?;
        if row.provider != "gcp" {
            continue;
        }
        let region = if row.region == "me-cenrtal1" {
            "me-central1".to_string()
        } else {
            row.region
        };
        out.push(CloudRegion {
            provider: "gcp",
            region,
            place: format!("{}, {}", row.city, row.country_name),
            intensity: CloudIntensity::Published {
                g_per_kwh: row.impact,
                country: row.country_iso,
                source: format!(
                    "Google Cloud region grid carbon intensity ({}), via CodeCarbon impact.csv; year not stated in the file",
                    row.source
                ),
            },
        });
    }
    Ok(out)
}

/// Every cloud region known: GCP from impact.csv, then AWS and Azure.
pub fn cloud_regions() -> Result<Vec<CloudRegion>, CarbonError> {
    let mut out = gcp_regions()?;
    for (provider, table) in [("aws", AWS_REGIONS), ("azure", AZURE_REGIONS)] {
        out.extend(table.iter().map(|(region, place, code)| CloudRegion {
            provider,
            region: (*region).to_string(),
            place: (*place).to_string(),
            intensity: CloudIntensity::Grid {
                code: (*code).to_string(),
            },
        }));
    }
    Ok(out)
}

/// Display name of a provider: "AWS", "Azure", "GCP".
pub fn provider_name(provider: &str) -> &'static str {
    match provider {
        "aws" => "AWS",
        "azure" => "Azure",
        _ => "GCP",
    }
}

/// Parse "aws:us-west-2" and find the region. `origin` names the flag, variable or file.
pub fn find(given: &str, origin: &str) -> Result<CloudRegion, CarbonError> {
    let bad = || CarbonError::BadCloudSyntax {
        given: given.to_string(),
        origin: origin.to_string(),
    };
    let (provider, region) = given.trim().split_once(':').ok_or_else(bad)?;
    let provider = match provider.trim().to_lowercase().as_str() {
        "aws" => "aws",
        "azure" => "azure",
        "gcp" | "google" => "gcp",
        _ => return Err(bad()),
    };
    let region = region.trim().to_lowercase();
    let all = cloud_regions()?;
    if let Some(found) = all
        .iter()
        .find(|c| c.provider == provider && c.region == region)
    {
        return Ok(found.clone());
    }
    let keys: Vec<String> = all
        .iter()
        .map(|c| format!("{}:{}", c.provider, c.region))
        .collect();
    let needle = format!("{provider}:{region}");
    Err(CarbonError::UnknownCloudRegion {
        given: given.to_string(),
        origin: origin.to_string(),
        suggestions: close_matches(&needle, keys.iter().map(|k| (k.as_str(), k.clone())), 5),
    })
}

/// The grid entry a mapped region points at (None for regions with a published figure).
pub fn mapped_grid<'g>(
    grid: &'g Grid,
    region: &CloudRegion,
) -> Result<Option<&'g GridEntry>, CarbonError> {
    match &region.intensity {
        CloudIntensity::Published { .. } => Ok(None),
        CloudIntensity::Grid { code } => {
            grid.by_code(code)
                .map(Some)
                .ok_or_else(|| CarbonError::EmbeddedData {
                    file: "cloud.rs".into(),
                    message: format!(
                        "{}:{} maps to unknown grid {code}",
                        region.provider, region.region
                    ),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/carbon.md documents the mapping; keep it in step with the code.
    #[test]
    fn docs_list_every_aws_and_azure_mapping() {
        let docs = include_str!("../../../docs/carbon.md");
        for (region, place, code) in AWS_REGIONS.iter().chain(AZURE_REGIONS) {
            let row = format!("| `{region}` | {place} | `{code}` |");
            assert!(docs.contains(&row), "docs/carbon.md lacks {row}");
        }
    }

    #[test]
    fn region_names_are_unique_per_provider() {
        for table in [AWS_REGIONS, AZURE_REGIONS] {
            let mut seen = std::collections::HashSet::new();
            for (region, _, _) in table {
                assert!(seen.insert(region), "{region} twice");
            }
        }
    }
}
