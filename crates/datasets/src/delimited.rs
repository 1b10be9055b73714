//! CSV and TSV (any one-byte delimiter), with or without a header.

use super::decode::TextDecoder;
use super::labels::{Cell, RowContext};
use super::spec::{Column, DatasetSpec, Format};
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::Example;
use std::path::Path;

pub(crate) fn load(
    file: &Path,
    format: Format,
    spec: &DatasetSpec,
    ctx: &RowContext<'_>,
    decoder: &TextDecoder,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let decoded = decoder.decode(&bytes);
    report.note_encoding(decoded.encoding);
    for line in &decoded.bad_lines {
        report.note_undecodable(file, *line);
    }
    let delimiter = match (&spec.delimiter, format) {
        (Some(d), _) => d.as_bytes()[0],
        (None, Format::Tsv) => b'\t',
        (None, _) => b',',
    };
    let quoting = spec.quoting.unwrap_or(format != Format::Tsv);
    let has_header = spec.has_header.unwrap_or(true);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(has_header)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());
    let name = file.display().to_string();
    let short = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());

    let header: Vec<String> = if has_header {
        report.header_lines += 1;
        reader
            .headers()
            .with_context(|| format!("{name}:1: cannot read the header"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let mut records = reader.records().peekable();
    // Without a header, the first record tells how many columns there are.
    let width = match records.peek() {
        Some(Ok(r)) if !has_header => r.len(),
        _ => header.len(),
    };
    let index_of = |c: &Column| -> Option<usize> {
        match c {
            Column::Index(i) => (*i < width).then_some(*i),
            Column::Name(n) => header.iter().position(|h| h == n),
        }
    };
    let wanted = ctx.wanted(|c| index_of(c).is_some(), &name)?;
    let text_idx: Vec<(usize, &Column)> = wanted
        .text
        .iter()
        .map(|c| (index_of(c).unwrap_or(0), c))
        .collect();
    let label_idx = wanted.label.as_ref().map(|c| (index_of(c).unwrap_or(0), c));
    let id_idx = wanted.id.as_ref().map(|c| (index_of(c).unwrap_or(0), c));

    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            anyhow::anyhow!("{name}:{line}: malformed {} row: {e}", format.name())
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = format!("{name}:{line}");
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            report.skipped_empty += 1; // a blank line
            continue;
        }
        let cell = |(i, c): (usize, &Column)| -> Result<Cell> {
            match record.get(i) {
                Some(v) => Ok(Cell::Text(v.to_string())),
                None => bail!(
                    "{at}: the row has {} field(s), so no {c} (check `delimiter` and `quoting`)",
                    record.len()
                ),
            }
        };
        let text = text_idx
            .iter()
            .map(|&(i, c)| cell((i, c)))
            .collect::<Result<Vec<_>>>()?;
        let label = label_idx.map(cell).transpose()?;
        let id = id_idx.map(cell).transpose()?;
        if let Some(e) = ctx.example(&at, format!("{short}:{line}"), text, label, id, report)? {
            out.push(e);
        }
    }
    Ok(())
}
