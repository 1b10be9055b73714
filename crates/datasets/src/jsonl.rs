//! JSON Lines: one JSON object per line; columns are keys (the first object decides which
//! keys exist, every later row must have them).

use super::decode::TextDecoder;
use super::labels::{Cell, RowContext, Wanted};
use super::spec::Column;
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::Example;
use serde_json::{Map, Value};
use std::path::Path;

pub(crate) fn load(
    file: &Path,
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
    let name = file.display().to_string();
    let short = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let mut wanted: Option<Wanted> = None;
    for (i, line) in decoded.text.lines().enumerate() {
        let at = format!("{name}:{}", i + 1);
        if line.trim().is_empty() {
            report.skipped_empty += 1;
            continue;
        }
        let obj: Map<String, Value> = match serde_json::from_str(line) {
            Ok(Value::Object(o)) => o,
            Ok(_) => bail!("{at}: expected a JSON object per line"),
            Err(e) => bail!("{at}: invalid JSON: {e}"),
        };
        if wanted.is_none() {
            wanted = Some(ctx.wanted(
                |c| matches!(c, Column::Name(n) if obj.contains_key(n)),
                &name,
            )?);
        }
        let Some(w) = &wanted else { continue };
        let cell = |c: &Column| -> Result<Cell> {
            let key = match c {
                Column::Name(n) => n,
                Column::Index(_) => bail!("{at}: JSON Lines columns are keys, not positions ({c})"),
            };
            match obj.get(key) {
                None => bail!("{at}: the object has no key \"{key}\""),
                Some(v) => to_cell(v).map_err(|why| anyhow::anyhow!("{at}: key \"{key}\": {why}")),
            }
        };
        let text = w.text.iter().map(cell).collect::<Result<Vec<_>>>()?;
        let label = w.label.as_ref().map(cell).transpose()?;
        let id = w.id.as_ref().map(cell).transpose()?;
        if let Some(e) = ctx.example(&at, format!("{short}:{}", i + 1), text, label, id, report)? {
            out.push(e);
        }
    }
    Ok(())
}

fn to_cell(v: &Value) -> std::result::Result<Cell, String> {
    Ok(match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Array(_) | Value::Object(_) => {
            return Err("expected a string or a number, found an array or object".into())
        }
    })
}
