//! `--csv DIR` (one CSV per table) and `--json FILE` (the input, the analysis and the tables).
//! An exported JSON file can be read back as a report's input.

use crate::analysis::Analysis;
use crate::input::ReportInput;
use crate::parity::ParityRow;
use crate::tables::Table;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::Path;

/// Identifies our JSON export; checked when one is read back.
pub const JSON_FORMAT: &str = "powerhungry-report/1";

#[derive(Serialize)]
struct Export<'a> {
    format: &'static str,
    generated: &'a str,
    input: &'a ReportInput,
    analysis: &'a Analysis,
    parity: &'a [ParityRow],
    tables: &'a [Table],
}

/// Write every table as `DIR/<name>.csv` (the directory is created); returns the paths.
pub fn write_csv_dir(dir: &Path, tables: &[Table]) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--csv {}: cannot create", dir.display()))?;
    let mut written = Vec::new();
    for t in tables {
        let path = dir.join(format!("{}.csv", t.name));
        let mut w = csv::Writer::from_path(&path)
            .with_context(|| format!("{}: cannot create", path.display()))?;
        w.write_record(&t.headers)
            .with_context(|| format!("{}: write failed", path.display()))?;
        for r in &t.rows {
            w.write_record(r)
                .with_context(|| format!("{}: write failed", path.display()))?;
        }
        w.flush()
            .with_context(|| format!("{}: write failed", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Write the JSON export.
pub fn write_json(
    path: &Path,
    generated: &str,
    input: &ReportInput,
    analysis: &Analysis,
    parity: &[ParityRow],
    tables: &[Table],
) -> Result<()> {
    let e = Export {
        format: JSON_FORMAT,
        generated,
        input,
        analysis,
        parity,
        tables,
    };
    let text = serde_json::to_string_pretty(&e).context("cannot serialise the report")?;
    std::fs::write(path, text).with_context(|| format!("--json {}: cannot write", path.display()))
}

/// Read a report input from our JSON export (its `input`), or from a bare [`ReportInput`].
pub fn read_json(path: &Path) -> Result<ReportInput> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let expected = format!(
        "expected our export {{\"format\": \"{JSON_FORMAT}\", \"input\": {{\"series\": [...]}}}} \
         or a bare {{\"series\": [...]}}; see docs/report.md"
    );
    let wrapped = match value.get("format") {
        Some(f) if f == JSON_FORMAT => true,
        Some(f) => bail!("{}: format {f} is not {JSON_FORMAT}", path.display()),
        None => false,
    };
    // Parse the text again as the typed struct so a mistake is reported with its line and
    // column, and the JSON path of the offending field.
    #[derive(serde::Deserialize)]
    struct Wrapped {
        input: ReportInput,
    }
    let de = &mut serde_json::Deserializer::from_str(&text);
    let parsed = if wrapped {
        serde_path_to_error::deserialize::<_, Wrapped>(de).map(|w| w.input)
    } else {
        serde_path_to_error::deserialize::<_, ReportInput>(de)
    };
    let mut input = parsed.map_err(|e| {
        anyhow::anyhow!(
            "{}: at `{}`: {} ({expected})",
            path.display(),
            e.path(),
            e.inner()
        )
    })?;
    if input.source.is_empty() {
        input.source = format!("json {}", path.display());
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_the_field_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in.json");
        std::fs::write(
            &p,
            "{\"series\": [{\"task\": \"t\", \"model\": \"m\", \"dataset\": \"d\",\n \"repetitions\": [{\"index\": 0, \"inferences\": -5}]}]}",
        )
        .unwrap();
        let e = read_json(&p).unwrap_err().to_string();
        assert!(e.contains("series[0].repetitions[0].inferences"), "{e}");
        assert!(e.contains("line 2"), "{e}");
        std::fs::write(&p, "{\"format\": \"other/9\"}").unwrap();
        assert!(read_json(&p)
            .unwrap_err()
            .to_string()
            .contains("is not powerhungry-report/1"));
        std::fs::write(&p, "{\"series\": []}").unwrap();
        let ok = read_json(&p).unwrap();
        assert!(ok.series.is_empty() && ok.source.starts_with("json "));
    }
}
