//! Writing CodeCarbon 3.x `emissions.csv` rows: the 38 columns in CodeCarbon's order, floats
//! as Python's `repr` writes them (shortest round-trip, `e-07` exponents), empty for `None`.

use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::row::EmissionsRow;
use super::CodecarbonError;

/// CodeCarbon 3.x's header, in order (checked against codecarbon 3.3.2's own output in
/// `testdata/codecarbon/emissions.csv`).
pub const V3_COLUMNS: [&str; 38] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
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
    "water_consumed",
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
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
];

/// What to do when the file exists with another header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHeaderMismatch {
    /// Return [`CodecarbonError::HeaderMismatch`]; the file is left untouched.
    Error,
    /// Write to the first free `<stem>-1.<ext>`, `<stem>-2.<ext>`, ... (or one whose header
    /// matches) instead.
    NewFile,
}

/// Format a float as Python's `repr` does, so files read the same as CodeCarbon's: `20.0`,
/// `2.0248154470000372`, `8.7688174963662e-07`, `1e+16`. Non-finite values are written as
/// Python writes them (`nan`, `inf`).
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's Debug is the shortest round-trip form and switches to an exponent at the same
    // thresholds as Python (< 1e-4, >= 1e16); only the exponent's spelling differs.
    let s = format!("{v:?}");
    match s.split_once('e') {
        None => s,
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}

fn opt_f(v: Option<f64>) -> String {
    v.map(format_float).unwrap_or_default()
}

fn opt_s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The 38 fields of a row, in [`V3_COLUMNS`] order.
pub fn record(r: &EmissionsRow) -> Vec<String> {
    vec![
        r.timestamp.to_string(),
        r.project_name.clone(),
        opt_s(&r.run_id),
        opt_s(&r.experiment_id),
        format_float(r.duration_s),
        format_float(r.emissions_kg),
        format_float(r.emissions_rate_kg_s),
        opt_f(r.cpu_power_w),
        opt_f(r.gpu_power_w),
        opt_f(r.ram_power_w),
        opt_f(r.cpu_energy_kwh),
        opt_f(r.gpu_energy_kwh),
        opt_f(r.ram_energy_kwh),
        format_float(r.energy_consumed_kwh),
        opt_f(r.water_consumed_l),
        opt_s(&r.country_name),
        opt_s(&r.country_iso_code),
        opt_s(&r.region),
        opt_s(&r.cloud_provider),
        opt_s(&r.cloud_region),
        opt_s(&r.os),
        opt_s(&r.python_version),
        opt_s(&r.codecarbon_version),
        r.cpu_count.map(|n| n.to_string()).unwrap_or_default(),
        opt_s(&r.cpu_model),
        r.gpu_count.map(|n| n.to_string()).unwrap_or_default(),
        opt_s(&r.gpu_model),
        opt_f(r.longitude),
        opt_f(r.latitude),
        opt_f(r.ram_total_size_gb),
        opt_s(&r.tracking_mode),
        opt_f(r.cpu_utilization_percent),
        opt_f(r.gpu_utilization_percent),
        opt_f(r.ram_utilization_percent),
        opt_f(r.ram_used_gb),
        r.on_cloud
            .map(|b| if b { "Y" } else { "N" }.to_string())
            .unwrap_or_default(),
        opt_f(r.pue),
        opt_f(r.wue),
    ]
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CodecarbonError + '_ {
    move |cause| CodecarbonError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// The header of an existing non-empty file, or `None` if the file is missing or empty.
fn existing_header(path: &Path) -> Result<Option<Vec<String>>, CodecarbonError> {
    let text = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    if text.is_empty() {
        return Ok(None);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut rec = csv::StringRecord::new();
    match rdr.read_record(&mut rec) {
        Ok(true) => Ok(Some(
            rec.iter()
                .map(|f| f.trim_start_matches('\u{feff}').to_string())
                .collect(),
        )),
        Ok(false) => Ok(None),
        Err(e) => Err(CodecarbonError::Csv {
            path: path.to_path_buf(),
            line: 1,
            cause: e,
        }),
    }
}

fn header_matches(h: &[String]) -> bool {
    h.len() == V3_COLUMNS.len() && h.iter().zip(V3_COLUMNS).all(|(a, b)| a == b)
}

fn sibling(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or("emissions".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Check, before a long run, that a row could be appended to `path` without
/// [`OnHeaderMismatch::NewFile`]: `Ok` if the file is missing, empty or has CodeCarbon 3.x's
/// header; otherwise the same [`CodecarbonError::HeaderMismatch`] [`append`] would return.
pub fn check_appendable(path: &Path) -> Result<(), CodecarbonError> {
    match existing_header(path)? {
        Some(h) if !header_matches(&h) => Err(CodecarbonError::HeaderMismatch {
            path: path.to_path_buf(),
            found_columns: h.len(),
            first_difference: first_difference(&h),
        }),
        _ => Ok(()),
    }
}

/// Append `row` to the CodeCarbon file at `path`: create it with the header if missing or
/// empty; append if its header is CodeCarbon 3.x's; otherwise per `on_mismatch`. Returns
/// the path written to.
pub fn append(
    path: &Path,
    row: &EmissionsRow,
    on_mismatch: OnHeaderMismatch,
) -> Result<PathBuf, CodecarbonError> {
    let mut target = path.to_path_buf();
    let mut n = 0;
    let needs_header = loop {
        match existing_header(&target)? {
            None => break true,
            Some(h) if header_matches(&h) => break false,
            Some(h) => {
                if on_mismatch == OnHeaderMismatch::Error || n >= 1000 {
                    return Err(CodecarbonError::HeaderMismatch {
                        path: target,
                        found_columns: h.len(),
                        first_difference: first_difference(&h),
                    });
                }
                n += 1;
                target = sibling(path, n);
            }
        }
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&target)
        .map_err(io(&target))?;
    write_row_to(&mut file, &target, row, needs_header)?;
    Ok(target)
}

fn first_difference(h: &[String]) -> String {
    for (i, want) in V3_COLUMNS.iter().enumerate() {
        match h.get(i) {
            Some(got) if got == want => continue,
            Some(got) => return format!("column {} is {got:?}, expected {want:?}", i + 1),
            None => return format!("column {} ({want:?}) is missing", i + 1),
        }
    }
    format!(
        "{} extra column(s) after {:?}",
        h.len() - V3_COLUMNS.len(),
        V3_COLUMNS[37]
    )
}

/// Append `row` (after the header when `needs_header`) to an open CSV file in one write,
/// adding the newline a last line without one would need. Shared by `append` and the
/// locked append of `measure` (csv_row.rs).
pub(crate) fn write_row_to(
    file: &mut fs::File,
    target: &Path,
    row: &EmissionsRow,
    needs_header: bool,
) -> Result<(), CodecarbonError> {
    let mut buf = Vec::new();
    if !needs_header {
        // A file whose last line lacks its newline would glue our row onto it.
        let len = file.seek(SeekFrom::End(0)).map_err(io(target))?;
        if len > 0 {
            file.seek(SeekFrom::Start(len - 1)).map_err(io(target))?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last).map_err(io(target))?;
            if last[0] != b'\n' {
                buf.push(b'\n');
            }
        }
    }
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(&mut buf);
        let csv_err = |e: csv::Error| CodecarbonError::Io {
            path: target.to_path_buf(),
            cause: std::io::Error::other(e),
        };
        if needs_header {
            w.write_record(V3_COLUMNS).map_err(csv_err)?;
        }
        w.write_record(record(row)).map_err(csv_err)?;
        w.flush().map_err(io(target))?;
    }
    file.write_all(&buf).map_err(io(target))?;
    Ok(())
}
