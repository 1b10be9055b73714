//! Where the energy was used, and so which grid intensity applies. Never guessed over the network.
//!
//! Each of country / region / cloud / intensity / PUE can come from a flag, an environment variable
//! or the config file. Precedence: flag > environment > config file > default (world average with
//! a warning, PUE 1.0). The location (country, region, cloud, intensity) is taken as a whole from
//! the highest layer that gives any part of it, so `--country FRA` is never combined with a
//! `POWERHUNGRY_REGION` from the environment. PUE is resolved on its own.

use crate::cloud::{self, provider_name, CloudIntensity};
use crate::emissions::Emissions;
use crate::error::CarbonError;
use crate::grid::{grid, GridEntry};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_COUNTRY: &str = "POWERHUNGRY_COUNTRY";
pub const ENV_REGION: &str = "POWERHUNGRY_REGION";
pub const ENV_CLOUD: &str = "POWERHUNGRY_CLOUD";
pub const ENV_INTENSITY: &str = "POWERHUNGRY_INTENSITY";
pub const ENV_PUE: &str = "POWERHUNGRY_PUE";
/// Path of the config file; when set, the file must exist.
pub const ENV_CONFIG: &str = "POWERHUNGRY_CONFIG";

/// A location as given by one layer (flags, environment or config file). All fields optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationQuery {
    /// ISO 3166 alpha-3 code or English name ("FRA", "France").
    pub country: Option<String>,
    /// Sub-national grid: US state, Canadian province, Nordic zone, Chinese province.
    pub region: Option<String>,
    /// "PROVIDER:REGION", e.g. "aws:us-west-2", "gcp:europe-west9", "azure:eastus".
    pub cloud: Option<String>,
    /// Explicit grid intensity, gCO2e/kWh.
    pub intensity: Option<f64>,
    /// Power usage effectiveness of the data centre (>= 1.0).
    pub pue: Option<f64>,
}

impl LocationQuery {
    fn has_location(&self) -> bool {
        self.country.is_some()
            || self.region.is_some()
            || self.cloud.is_some()
            || self.intensity.is_some()
    }
}

/// Which layer a value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Flag,
    Env,
    Config(PathBuf),
    Default,
}

impl Origin {
    /// How to name one field of this layer in a message: "--country", "POWERHUNGRY_COUNTRY",
    /// "`country` in /etc/x.toml".
    pub fn field(&self, field: &str) -> String {
        match self {
            Origin::Flag => format!("--{field}"),
            Origin::Env => format!("POWERHUNGRY_{}", field.to_uppercase()),
            Origin::Config(p) => format!("`{field}` in {}", p.display()),
            Origin::Default => "default".to_string(),
        }
    }
}

/// One layer of input.
#[derive(Debug, Clone)]
pub struct Layer {
    pub origin: Origin,
    pub query: LocationQuery,
}

/// The intensity and PUE to use, and where they came from. Serialised into JSON outputs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResolvedIntensity {
    /// Grid intensity, gCO2e/kWh (CO2 only for Chinese provinces: see `source`).
    pub g_per_kwh: f64,
    pub pue: f64,
    /// Human label: "France (FRA)", "AWS us-west-2 (Oregon) -> US Oregon (US-OR)".
    pub label: String,
    /// Canonical code: "FRA", "US-OR", "aws:us-west-2", "explicit", "WORLD".
    pub code: String,
    /// The data source of the intensity.
    pub source: String,
    /// The year the intensity figure describes, where known.
    pub year: Option<u16>,
    /// Which input chose the location: "--country", "POWERHUNGRY_CLOUD", "`country` in PATH", "default".
    pub location_from: String,
    /// Which input chose the PUE ("default" = 1.0).
    pub pue_from: String,
    /// Set when the figure is a fallback the user should know about.
    pub warning: Option<String>,
}

impl ResolvedIntensity {
    /// Emissions of `energy_joules` of IT energy on this grid, with this PUE.
    pub fn emissions(&self, energy_joules: f64) -> Emissions {
        Emissions::new(energy_joules, self.pue, self.g_per_kwh)
    }
}

/// The location from `POWERHUNGRY_*` variables. `get` reads a variable (std::env::var in
/// production, a map in tests). Empty values count as unset.
pub fn env_query(get: &dyn Fn(&str) -> Option<String>) -> Result<LocationQuery, CarbonError> {
    let text = |name: &str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let number = |name: &str, what: &str| -> Result<Option<f64>, CarbonError> {
        match text(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| CarbonError::InvalidValue {
                    what: what.into(),
                    value: v.clone(),
                    origin: name.into(),
                    reason: "not a number".into(),
                }),
        }
    };
    Ok(LocationQuery {
        country: text(ENV_COUNTRY),
        region: text(ENV_REGION),
        cloud: text(ENV_CLOUD),
        intensity: number(ENV_INTENSITY, "intensity")?,
        pue: number(ENV_PUE, "PUE")?,
    })
}

/// The config file to read, if any: `$POWERHUNGRY_CONFIG` (must exist), else `./powerhungry.toml`,
/// else `$XDG_CONFIG_HOME/powerhungry/config.toml` (XDG default `~/.config`). Returns the path
/// and whether it was named explicitly.
pub fn config_path(get: &dyn Fn(&str) -> Option<String>, cwd: &Path) -> Option<(PathBuf, bool)> {
    if let Some(p) = get(ENV_CONFIG).filter(|p| !p.trim().is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let local = cwd.join("powerhungry.toml");
    if local.is_file() {
        return Some((local, false));
    }
    let base = get("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            get("HOME")
                .filter(|p| !p.is_empty())
                .map(|h| Path::new(&h).join(".config"))
        })?;
    let user = base.join("powerhungry").join("config.toml");
    user.is_file().then_some((user, false))
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    location: Option<LocationQuery>,
}

/// Parse the `[location]` table of a config file. Other top-level tables belong to other
/// commands and are ignored; unknown keys inside `[location]` are an error.
pub fn parse_config(text: &str, path: &Path) -> Result<LocationQuery, CarbonError> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| CarbonError::Config {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(file.location.unwrap_or_default())
}

pub fn load_config(path: &Path) -> Result<LocationQuery, CarbonError> {
    let text = std::fs::read_to_string(path).map_err(|e| CarbonError::Config {
        path: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })?;
    parse_config(&text, path)
}

/// The layers in precedence order, reading the process environment and the config file.
pub fn layers_from_environment(flags: &LocationQuery) -> Result<Vec<Layer>, CarbonError> {
    let get = |k: &str| std::env::var(k).ok();
    let mut layers = vec![
        Layer {
            origin: Origin::Flag,
            query: flags.clone(),
        },
        Layer {
            origin: Origin::Env,
            query: env_query(&get)?,
        },
    ];
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some((path, _explicit)) = config_path(&get, &cwd) {
        layers.push(Layer {
            query: load_config(&path)?,
            origin: Origin::Config(path),
        });
    }
    Ok(layers)
}

/// Resolve flags + environment + config file. The usual entry point.
pub fn resolve(flags: &LocationQuery) -> Result<ResolvedIntensity, CarbonError> {
    resolve_layers(&layers_from_environment(flags)?)
}

/// Resolve layers given in precedence order (first wins).
pub fn resolve_layers(layers: &[Layer]) -> Result<ResolvedIntensity, CarbonError> {
    let (pue, pue_from) = match layers.iter().find(|l| l.query.pue.is_some()) {
        Some(l) => {
            let pue = l.query.pue.unwrap_or(1.0);
            check_pue(pue, &l.origin.field("pue"))?;
            (pue, l.origin.field("pue"))
        }
        None => (1.0, Origin::Default.field("pue")),
    };
    let mut resolved = match layers.iter().find(|l| l.query.has_location()) {
        Some(l) => locate(&l.query, &l.origin)?,
        None => world_default()?,
    };
    resolved.pue = pue;
    resolved.pue_from = pue_from;
    Ok(resolved)
}

/// The largest PUE accepted: the worst facilities measured are near 3; 10 leaves room for
/// odd cases and refuses typos (a PUE of 130 for 1.30).
pub const MAX_PUE: f64 = 10.0;
/// The largest grid intensity accepted, gCO2e/kWh: the dirtiest grids (lignite) are ~1,100.
pub const MAX_INTENSITY: f64 = 10_000.0;

pub fn check_pue(pue: f64, origin: &str) -> Result<(), CarbonError> {
    if pue.is_finite() && (1.0..=MAX_PUE).contains(&pue) {
        Ok(())
    } else {
        Err(CarbonError::InvalidValue {
            what: "PUE".into(),
            value: pue.to_string(),
            origin: origin.into(),
            reason: format!("must be a number from 1.0 to {MAX_PUE} (facility energy / IT energy)"),
        })
    }
}

fn world_default() -> Result<ResolvedIntensity, CarbonError> {
    let w = &grid()?.world;
    let mut r = from_entry(w, Origin::Default.field("location"), w.label());
    r.warning = Some(format!(
        "no location given (--country/--region/--cloud/--intensity, POWERHUNGRY_* variables or a config file): \
         using the world average {} gCO2e/kWh (IEA 2019); carbon figures are only indicative",
        w.g_per_kwh
    ));
    Ok(r)
}

fn from_entry(e: &GridEntry, location_from: String, label: String) -> ResolvedIntensity {
    ResolvedIntensity {
        g_per_kwh: e.g_per_kwh,
        pue: 1.0,
        label,
        code: e.code.clone(),
        source: e.source.clone(),
        year: e.year,
        location_from,
        pue_from: Origin::Default.field("pue"),
        warning: None,
    }
}

/// Resolve one layer's location (ignores its PUE).
pub fn locate(q: &LocationQuery, origin: &Origin) -> Result<ResolvedIntensity, CarbonError> {
    let conflict = |message: &str| CarbonError::Conflict {
        origin: match origin {
            Origin::Flag => "flags".into(),
            Origin::Env => "environment variables".into(),
            Origin::Config(p) => format!("config file {}", p.display()),
            Origin::Default => "default".into(),
        },
        message: message.into(),
    };
    if let Some(g) = q.intensity {
        if q.country.is_some() || q.region.is_some() || q.cloud.is_some() {
            return Err(conflict(
                "an explicit intensity excludes country, region and cloud; give one",
            ));
        }
        let from = origin.field("intensity");
        if !(g.is_finite() && (0.0..=MAX_INTENSITY).contains(&g)) {
            return Err(CarbonError::InvalidValue {
                what: "intensity".into(),
                value: g.to_string(),
                origin: from,
                reason: format!("must be a number of gCO2e/kWh from 0 to {MAX_INTENSITY}"),
            });
        }
        return Ok(ResolvedIntensity {
            g_per_kwh: g,
            pue: 1.0,
            label: format!("explicit {g} gCO2e/kWh"),
            code: "explicit".into(),
            source: format!("given by {from}"),
            year: None,
            location_from: from,
            pue_from: Origin::Default.field("pue"),
            warning: None,
        });
    }
    let grid = grid()?;
    if let Some(c) = &q.cloud {
        if q.country.is_some() || q.region.is_some() {
            return Err(conflict(
                "a cloud region excludes country and region; give one",
            ));
        }
        let from = origin.field("cloud");
        let region = cloud::find(c, &from)?;
        let head = format!(
            "{} {} ({})",
            provider_name(region.provider),
            region.region,
            region.place
        );
        let code = format!("{}:{}", region.provider, region.region);
        return Ok(match &region.intensity {
            CloudIntensity::Published {
                g_per_kwh, source, ..
            } => ResolvedIntensity {
                g_per_kwh: *g_per_kwh,
                pue: 1.0,
                label: head,
                code,
                source: source.clone(),
                year: None,
                location_from: from,
                pue_from: Origin::Default.field("pue"),
                warning: None,
            },
            CloudIntensity::Grid { .. } => {
                let entry = cloud::mapped_grid(grid, &region)?
                    .ok_or_else(|| conflict("unmapped cloud region"))?;
                let mut r = from_entry(entry, from, format!("{head} -> {}", entry.label()));
                r.code = code;
                r.source = format!(
                    "{}; region mapped to this grid by powerhungry (docs/carbon.md)",
                    entry.source
                );
                r
            }
        });
    }
    let country = match &q.country {
        Some(c) => Some(grid.country(c, &origin.field("country"))?),
        None => None,
    };
    if let Some(r) = &q.region {
        let from = origin.field("region");
        let entry = grid.region(r, country, &from)?;
        return Ok(from_entry(entry, from, entry.label()));
    }
    match country {
        Some(c) => Ok(from_entry(c, origin.field("country"), c.label())),
        None => world_default(),
    }
}

#[cfg(test)]
mod tests;
