//! Location flags shared by `measure`, `bench`, `intensity` and `estimate`. Flatten them into a
//! command's Args with `#[command(flatten)] pub location: LocationFlags`, then call `resolve()`.

use powerhungry_carbon::{LocationQuery, ResolvedIntensity};

/// Where the energy is used. Precedence: these flags > POWERHUNGRY_* environment variables >
/// config file ($POWERHUNGRY_CONFIG, ./powerhungry.toml, ~/.config/powerhungry/config.toml) >
/// world average 475 gCO2e/kWh with a warning.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LocationFlags {
    /// Country of the grid: ISO 3166 alpha-3 code or English name (FRA, "United States").
    /// Env: POWERHUNGRY_COUNTRY. Location precedence: these flags > POWERHUNGRY_* variables >
    /// config file [location] ($POWERHUNGRY_CONFIG, ./powerhungry.toml,
    /// ~/.config/powerhungry/config.toml) > world average 475 gCO2e/kWh with a warning
    #[arg(long, value_name = "ISO3|NAME", help_heading = "Location")]
    pub country: Option<String>,
    /// Sub-national grid: US state (oregon, OR), Canadian province (quebec, QC), Nordic bidding
    /// zone (SE3, NO1), Chinese province (beijing, CN-BJ). Env: POWERHUNGRY_REGION
    #[arg(long, value_name = "REGION", help_heading = "Location")]
    pub region: Option<String>,
    /// Cloud region as PROVIDER:REGION, PROVIDER = aws, azure or gcp (aws:us-west-2,
    /// azure:eastus, gcp:europe-west9). Env: POWERHUNGRY_CLOUD
    #[arg(long, value_name = "PROVIDER:REGION", help_heading = "Location", conflicts_with_all = ["country", "region"])]
    pub cloud: Option<String>,
    /// Explicit grid carbon intensity in gCO2e/kWh; overrides any table.
    /// Env: POWERHUNGRY_INTENSITY
    #[arg(long, value_name = "G_PER_KWH", help_heading = "Location", allow_negative_numbers = true, conflicts_with_all = ["country", "region", "cloud"])]
    pub intensity: Option<f64>,
    /// Data-centre power usage effectiveness (facility / IT energy, >= 1.0; default 1.0).
    /// Env: POWERHUNGRY_PUE
    #[arg(
        long,
        value_name = "PUE",
        help_heading = "Location",
        allow_negative_numbers = true
    )]
    pub pue: Option<f64>,
}

impl LocationFlags {
    pub fn to_query(&self) -> LocationQuery {
        LocationQuery {
            country: self.country.clone(),
            region: self.region.clone(),
            cloud: self.cloud.clone(),
            intensity: self.intensity,
            pue: self.pue,
        }
    }

    /// Resolve flags + environment + config file into an intensity and PUE. Callers should
    /// print `warning` (if any) to stderr.
    pub fn resolve(&self) -> anyhow::Result<ResolvedIntensity> {
        Ok(powerhungry_carbon::resolve(&self.to_query())?)
    }
}
