//! Parquet, as Hugging Face datasets ship it: flat string / integer columns. A `ClassLabel`
//! column's names come from the file's `huggingface` metadata when the spec gives none.

use super::labels::{Cell, LabelNames, RowContext};
use super::spec::{Column, DatasetSpec};
use super::LoadReport;
use anyhow::{bail, Context, Result};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use powerhungry_tasks::Example;
use std::path::Path;

/// Read one Parquet file. The parquet crate panics on some malformed pages (a slice past the
/// end of a page's buffer, found by fuzzing): that becomes an error naming the file, never a
/// crash, and nothing of the file is kept.
pub(crate) fn load(
    file: &Path,
    spec: &DatasetSpec,
    names: &LabelNames,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    let kept = out.len();
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        load_unguarded(file, spec, names, out, report)
    }));
    match read {
        Ok(result) => result,
        Err(panic) => {
            out.truncate(kept);
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            bail!(
                "{}: the Parquet reader failed on malformed data ({why}); the file is damaged \
                 or not what its footer says",
                file.display()
            )
        }
    }
}

fn load_unguarded(
    file: &Path,
    spec: &DatasetSpec,
    names: &LabelNames,
    out: &mut Vec<Example>,
    report: &mut LoadReport,
) -> Result<()> {
    let name = file.display().to_string();
    let short = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.clone());
    let mut handle = std::fs::File::open(file).with_context(|| format!("cannot read {name}"))?;
    let len = handle
        .metadata()
        .with_context(|| format!("cannot read {name}"))?
        .len();
    // Before the parquet crate sizes its buffers from what the footer declares.
    super::parquet_footer::check(&mut handle, len)
        .with_context(|| format!("{name}: not a readable Parquet file"))?;
    let reader = SerializedFileReader::new(handle)
        .with_context(|| format!("{name}: not a readable Parquet file"))?;
    let meta = reader.metadata().file_metadata();
    let columns: Vec<String> = meta
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let hf_features = meta.key_value_metadata().and_then(|kv| {
        kv.iter()
            .find(|k| k.key == "huggingface")
            .and_then(|k| k.value.clone())
    });

    let col_name = |c: &Column| -> Option<String> {
        match c {
            Column::Name(n) => columns.contains(n).then(|| n.clone()),
            Column::Index(i) => columns.get(*i).cloned(),
        }
    };
    let probe = RowContext::new(spec, names);
    let wanted = probe.wanted(|c| col_name(c).is_some(), &name)?;

    // Names from the file's ClassLabel feature, when the spec gives none.
    let file_names = match (&wanted.label, names.has_names()) {
        (Some(c), false) => hf_features
            .as_deref()
            .and_then(|json| class_label_names(json, &col_name(c).unwrap_or_default())),
        _ => None,
    };
    let local;
    let ctx = match &file_names {
        Some(list) => {
            local = names.with_names(list.clone());
            if report.label_names_from_file.is_none() {
                report.label_names_from_file = Some(list.clone());
            }
            RowContext::new(spec, &local)
        }
        None => probe,
    };

    let text_cols: Vec<String> = wanted.text.iter().filter_map(col_name).collect();
    let label_col = wanted.label.as_ref().and_then(col_name);
    let id_col = wanted.id.as_ref().and_then(col_name);
    let rows = reader
        .get_row_iter(None)
        .with_context(|| format!("{name}: cannot read rows"))?;
    for (i, row) in rows.enumerate() {
        let at = format!("{name}: row {i}");
        let row = row.with_context(|| format!("{at}: cannot decode the row"))?;
        let get = |col: &str| -> Result<Cell> {
            let field = row
                .get_column_iter()
                .find(|(n, _)| n.as_str() == col)
                .map(|(_, f)| f);
            match field {
                None => bail!("{at}: no column \"{col}\""),
                Some(f) => {
                    to_cell(f).map_err(|why| anyhow::anyhow!("{at}: column \"{col}\": {why}"))
                }
            }
        };
        let text = text_cols
            .iter()
            .map(|c| get(c))
            .collect::<Result<Vec<_>>>()?;
        let label = label_col.as_deref().map(get).transpose()?;
        let id = id_col.as_deref().map(get).transpose()?;
        if let Some(e) = ctx.example(&at, format!("{short}#{i}"), text, label, id, report)? {
            out.push(e);
        }
    }
    Ok(())
}

fn to_cell(f: &Field) -> std::result::Result<Cell, String> {
    Ok(match f {
        Field::Null => Cell::Null,
        Field::Bool(b) => Cell::Bool(*b),
        Field::Byte(v) => Cell::Int(i64::from(*v)),
        Field::Short(v) => Cell::Int(i64::from(*v)),
        Field::Int(v) => Cell::Int(i64::from(*v)),
        Field::Long(v) => Cell::Int(*v),
        Field::UByte(v) => Cell::Int(i64::from(*v)),
        Field::UShort(v) => Cell::Int(i64::from(*v)),
        Field::UInt(v) => Cell::Int(i64::from(*v)),
        Field::ULong(v) => Cell::Int(i64::try_from(*v).map_err(|_| "integer too large")?),
        Field::Float(v) => Cell::Float(f64::from(*v)),
        Field::Double(v) => Cell::Float(*v),
        Field::Str(s) => Cell::Text(s.clone()),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => Cell::Text(s.to_string()),
            Err(_) => return Err("binary column that is not UTF-8 text".into()),
        },
        other => return Err(format!("unsupported value type ({other})")),
    })
}

/// The `names` of a ClassLabel feature in Hugging Face's `huggingface` Parquet metadata:
/// `{"info": {"features": {"label": {"names": [...], "_type": "ClassLabel"}}}}`.
fn class_label_names(json: &str, column: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let feature = v.get("info")?.get("features")?.get(column)?;
    if feature.get("_type")?.as_str()? != "ClassLabel" {
        return None;
    }
    feature
        .get("names")?
        .as_array()?
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::class_label_names;

    #[test]
    fn reads_class_label_names_from_hf_metadata() {
        let json = r#"{"info": {"features": {"text": {"dtype": "string", "_type": "Value"},
            "label": {"names": ["neg", "pos"], "_type": "ClassLabel"}}}}"#;
        assert_eq!(
            class_label_names(json, "label"),
            Some(vec!["neg".to_string(), "pos".to_string()])
        );
        assert_eq!(class_label_names(json, "text"), None);
    }
}
