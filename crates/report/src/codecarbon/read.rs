//! Reading CodeCarbon `emissions.csv` files (2.x: 31 columns, 3.x: 38) and its task files
//! (`emissions_<experiment>_<run_id>.csv`, one row per `start_task`/`stop_task`, recognised by
//! their `task_name` column), columns matched by name, into typed rows; CPU and RAM power that
//! CodeCarbon guessed rather than measured are labelled (see [`Provenance`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::guess::{label_cpu, label_ram, Provenance};
use super::row::EmissionsRow;
use super::timestamp::Timestamp;
use super::write::V3_COLUMNS;
use super::CodecarbonError;

/// CodeCarbon 2.x's header (e.g. 2.3.1, the "Power Hungry Processing" logs).
pub const V2_COLUMNS: [&str; 31] = [
    "timestamp",
    "project_name",
    "run_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "on_cloud",
    "pue",
];

const REQUIRED: [&str; 5] = [
    "timestamp",
    "project_name",
    "duration",
    "emissions",
    "energy_consumed",
];

/// The column that marks a CodeCarbon task file (CodeCarbon 2.x and 3.x write it first).
const TASK_COLUMN: &str = "task_name";

/// Which header the file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Exactly CodeCarbon 2.x's 31 columns.
    V2,
    /// Exactly CodeCarbon 3.x's 38 columns.
    V3,
    /// A CodeCarbon task file (it has a `task_name` column); the number of columns. CodeCarbon
    /// drops the columns that are empty in every task row, so the count varies.
    Tasks(usize),
    /// Another set of columns (read by name); the number of columns.
    Other(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRow {
    /// 1-based line of the row in its file.
    pub line: u64,
    /// The task's name, for rows of a task file ([`Format::Tasks`]); `None` otherwise.
    pub task_name: Option<String>,
    pub row: EmissionsRow,
    pub cpu: Provenance,
    pub ram: Provenance,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFile {
    pub path: PathBuf,
    pub format: Format,
    pub rows: Vec<ImportedRow>,
}

struct Cells<'a> {
    path: &'a Path,
    line: u64,
    rec: &'a csv::StringRecord,
    idx: &'a HashMap<String, usize>,
}

impl Cells<'_> {
    fn raw(&self, col: &str) -> Option<&str> {
        let v = self.rec.get(*self.idx.get(col)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn err(&self, col: &str, value: &str, what: &str) -> CodecarbonError {
        CodecarbonError::Value {
            path: self.path.to_path_buf(),
            line: self.line,
            column: col.to_string(),
            value: value.to_string(),
            what: what.to_string(),
        }
    }

    fn text(&self, col: &str) -> Option<String> {
        self.raw(col).map(str::to_string)
    }

    fn float(&self, col: &str) -> Result<Option<f64>, CodecarbonError> {
        let Some(v) = self.raw(col) else {
            return Ok(None);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(self.err(col, v, "is not a finite number")),
        }
    }

    fn required_float(&self, col: &str) -> Result<f64, CodecarbonError> {
        self.float(col)?
            .ok_or_else(|| self.err(col, "", "is empty but required"))
    }

    /// A count no larger than `max` (a column whose value sizes what the reader allocates).
    fn count_at_most(&self, col: &str, max: u32) -> Result<Option<u32>, CodecarbonError> {
        let n = self.count(col)?;
        if n.is_some_and(|n| n > max) {
            let v = self.raw(col).unwrap_or_default();
            return Err(self.err(
                col,
                v,
                &format!("is more than {max}, not a machine's count"),
            ));
        }
        Ok(n)
    }

    fn count(&self, col: &str) -> Result<Option<u32>, CodecarbonError> {
        let Some(x) = self.float(col)? else {
            return Ok(None);
        };
        if x < 0.0 || x.fract() != 0.0 || x > f64::from(u32::MAX) {
            let v = self.raw(col).unwrap_or_default();
            return Err(self.err(col, v, "is not a whole non-negative count"));
        }
        Ok(Some(x as u32))
    }

    fn yes_no(&self, col: &str) -> Result<Option<bool>, CodecarbonError> {
        match self.raw(col) {
            None => Ok(None),
            Some("Y" | "y" | "True" | "true") => Ok(Some(true)),
            Some("N" | "n" | "False" | "false") => Ok(Some(false)),
            Some(v) => Err(self.err(col, v, "is not Y or N")),
        }
    }

    fn row(&self) -> Result<EmissionsRow, CodecarbonError> {
        let ts_raw = self.raw("timestamp").unwrap_or_default();
        let timestamp = Timestamp::parse(ts_raw).map_err(|e| self.err("timestamp", ts_raw, &e))?;
        let project_name = self
            .text("project_name")
            .ok_or_else(|| self.err("project_name", "", "is empty but required"))?;
        Ok(EmissionsRow {
            timestamp,
            project_name,
            run_id: self.text("run_id"),
            experiment_id: self.text("experiment_id"),
            duration_s: self.required_float("duration")?,
            emissions_kg: self.required_float("emissions")?,
            emissions_rate_kg_s: self.float("emissions_rate")?.unwrap_or(0.0),
            cpu_power_w: self.float("cpu_power")?,
            gpu_power_w: self.float("gpu_power")?,
            ram_power_w: self.float("ram_power")?,
            cpu_energy_kwh: self.float("cpu_energy")?,
            gpu_energy_kwh: self.float("gpu_energy")?,
            ram_energy_kwh: self.float("ram_energy")?,
            energy_consumed_kwh: self.required_float("energy_consumed")?,
            water_consumed_l: self.float("water_consumed")?,
            country_name: self.text("country_name"),
            country_iso_code: self.text("country_iso_code"),
            region: self.text("region"),
            cloud_provider: self.text("cloud_provider"),
            cloud_region: self.text("cloud_region"),
            os: self.text("os"),
            python_version: self.text("python_version"),
            codecarbon_version: self.text("codecarbon_version"),
            cpu_count: self.count("cpu_count")?,
            cpu_model: self.text("cpu_model"),
            gpu_count: self.count_at_most("gpu_count", MAX_GPUS)?,
            gpu_model: self.text("gpu_model"),
            longitude: self.float("longitude")?,
            latitude: self.float("latitude")?,
            ram_total_size_gb: self.float("ram_total_size")?,
            tracking_mode: self.text("tracking_mode"),
            cpu_utilization_percent: self.float("cpu_utilization_percent")?,
            gpu_utilization_percent: self.float("gpu_utilization_percent")?,
            ram_utilization_percent: self.float("ram_utilization_percent")?,
            ram_used_gb: self.float("ram_used_gb")?,
            on_cloud: self.yes_no("on_cloud")?,
            pue: self.float("pue")?,
            wue: self.float("wue")?,
        })
    }
}

/// Read one CodeCarbon `emissions.csv`. Errors name the file and line.
pub fn read_file(path: &Path) -> Result<ImportedFile, CodecarbonError> {
    let bytes = std::fs::read(path).map_err(|cause| CodecarbonError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    read_bytes(path, &bytes)
}

/// Read CodeCarbon CSV text; `path` is only used in messages and in the result.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<ImportedFile, CodecarbonError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().from_reader(bytes);
    let csv_err = |line: u64, cause| CodecarbonError::Csv {
        path: path.to_path_buf(),
        line,
        cause,
    };
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| csv_err(1, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let idx: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    for col in REQUIRED {
        if !idx.contains_key(col) {
            return Err(CodecarbonError::MissingColumn {
                path: path.to_path_buf(),
                column: col.to_string(),
            });
        }
    }
    let tasks = idx.contains_key(TASK_COLUMN);
    let format = if tasks {
        Format::Tasks(header.len())
    } else if header.iter().map(String::as_str).eq(V3_COLUMNS) {
        Format::V3
    } else if header.iter().map(String::as_str).eq(V2_COLUMNS) {
        Format::V2
    } else {
        Format::Other(header.len())
    };
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            csv_err(line, e)
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let cells = Cells {
            path,
            line,
            rec: &rec,
            idx: &idx,
        };
        let task_name = if tasks {
            let name = cells.text(TASK_COLUMN);
            Some(name.ok_or_else(|| cells.err(TASK_COLUMN, "", "is empty but required"))?)
        } else {
            None
        };
        rows.push((line, task_name, cells.row()?));
    }
    let cpu = label_cpu(&rows.iter().map(|(_, _, r)| r).collect::<Vec<_>>());
    let ram = label_ram(&rows.iter().map(|(_, _, r)| r).collect::<Vec<_>>());
    let rows = rows
        .into_iter()
        .zip(cpu.into_iter().zip(ram))
        .map(|((line, task_name, row), (cpu, ram))| ImportedRow {
            line,
            task_name,
            row,
            cpu,
            ram,
        })
        .collect();
    Ok(ImportedFile {
        path: path.to_path_buf(),
        format,
        rows,
    })
}

/// The most GPUs a CodeCarbon row may say one machine has (the largest nodes hold 16 today).
pub const MAX_GPUS: u32 = 1024;
