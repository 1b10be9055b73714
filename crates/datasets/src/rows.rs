//! Rows of columns from CSV/TSV, JSON Lines and plain text lines, for the task readers that
//! need more than a text and a label (QA, summarization, generation prompts, masked words).
//! Each row knows where it is (`file:line`) and cells are JSON values, so a JSON Lines cell
//! can hold an array (several gold answers).

use super::decode::TextDecoder;
use super::spec::{Column, DatasetSpec, Format};
use super::LoadReport;
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::path::Path;
use std::rc::Rc;

/// One row of a table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// `path:line`, for errors.
    pub at: String,
    /// `file-name:line`, the example id when the dataset has no id column.
    pub id: String,
    fields: Fields,
}

#[derive(Debug, Clone)]
enum Fields {
    Delimited {
        header: Rc<Vec<String>>,
        values: Vec<String>,
    },
    Json(Map<String, Value>),
    Line(String),
}

impl Row {
    /// The cell of column `c`; `None` when the row has no such column.
    pub fn get(&self, c: &Column) -> Option<Value> {
        match (&self.fields, c) {
            (Fields::Delimited { values, .. }, Column::Index(i)) => {
                values.get(*i).cloned().map(Value::String)
            }
            (Fields::Delimited { header, values }, Column::Name(n)) => header
                .iter()
                .position(|h| h == n)
                .and_then(|i| values.get(i))
                .cloned()
                .map(Value::String),
            (Fields::Json(obj), Column::Name(n)) => obj.get(n).cloned(),
            (Fields::Json(_), Column::Index(_)) => None,
            (Fields::Line(l), Column::Index(0)) => Some(Value::String(l.clone())),
            (Fields::Line(l), Column::Name(n)) if n == "text" => Some(Value::String(l.clone())),
            (Fields::Line(_), _) => None,
        }
    }

    /// The cell of `c` as text: a string as is, a number or boolean spelled out, null as
    /// empty. `key` names the dataset key the column came from, for the error.
    pub fn text(&self, c: &Column, key: &str) -> Result<String> {
        match self.get(c) {
            None => bail!("{}: the row has no {c} (dataset key `{key}`)", self.at),
            Some(v) => value_text(&v)
                .map_err(|why| anyhow::anyhow!("{}: {c} (dataset key `{key}`): {why}", self.at)),
        }
    }
}

/// A JSON value as one text.
pub(crate) fn value_text(v: &Value) -> std::result::Result<String, String> {
    Ok(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => {
            return Err("expected a string or a number, found an array or object".into())
        }
    })
}

/// Rows of one file, with what the file's columns are (the header, or the first JSON
/// object's keys) so a missing column is reported once, naming the key.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub rows: Vec<Row>,
    /// Column names (header or first object's keys); empty for files without a header.
    pub columns: Vec<String>,
    /// Columns of the first row (for positional columns).
    pub width: usize,
    pub file: String,
    format: Option<Format>,
}

impl Table {
    /// Whether the file has column `c`.
    pub fn has(&self, c: &Column) -> bool {
        match (self.format, c) {
            (Some(Format::TextLines), Column::Index(0)) => true,
            (Some(Format::TextLines), Column::Name(n)) => n == "text",
            (Some(Format::Jsonl), Column::Index(_)) => false,
            (_, Column::Index(i)) => *i < self.width,
            (_, Column::Name(n)) => self.columns.iter().any(|h| h == n),
        }
    }

    /// The column a key names (or its default), checked against the file: an error names
    /// the key and the columns the file has.
    pub fn column(&self, given: Option<&Column>, key: &str, default: &str) -> Result<Column> {
        let c = given
            .cloned()
            .unwrap_or_else(|| Column::Name(default.to_string()));
        if self.rows.is_empty() || self.has(&c) {
            return Ok(c);
        }
        let have = if self.columns.is_empty() {
            format!("{} column(s)", self.width)
        } else {
            format!("columns {}", self.columns.join(", "))
        };
        match given {
            Some(_) => bail!(
                "{}: dataset key `{key}`: the file has no {c} ({have})",
                self.file
            ),
            None => bail!(
                "{}: no {c}; set `{key}` to the column to use ({have})",
                self.file
            ),
        }
    }
}

/// What to do with blank lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Blank {
    /// Skip and count them (`skipped_empty`).
    Skip,
    /// Keep them as rows with an empty text (text lines only), for the task to decide.
    Keep,
    /// An error naming the file and line (prompt files).
    Error,
}

/// Read `file` as a table in `format` (CSV, TSV, JSON Lines or text lines).
pub(crate) fn read_table(
    file: &Path,
    format: Format,
    spec: &DatasetSpec,
    decoder: &TextDecoder,
    blank: Blank,
    report: &mut LoadReport,
) -> Result<Table> {
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
    let max = spec.max_rows.unwrap_or(usize::MAX);
    let text = decoded
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or(&decoded.text);
    let mut table = Table {
        file: name.clone(),
        format: Some(format),
        ..Table::default()
    };
    let blank_line = |line: usize, report: &mut LoadReport| -> Result<()> {
        match blank {
            Blank::Error => bail!("{name}:{line}: empty line (every line must hold a record)"),
            Blank::Skip | Blank::Keep => {
                report.skipped_empty += 1;
                Ok(())
            }
        }
    };
    match format {
        Format::TextLines => {
            table.width = 1;
            table.columns = vec!["text".into()];
            for (i, line) in text.lines().enumerate() {
                if table.rows.len() >= max {
                    break;
                }
                if line.trim().is_empty() && blank != Blank::Keep {
                    blank_line(i + 1, report)?;
                    continue;
                }
                table.rows.push(Row {
                    at: format!("{name}:{}", i + 1),
                    id: format!("{short}:{}", i + 1),
                    fields: Fields::Line(line.to_string()),
                });
            }
        }
        Format::Jsonl => {
            for (i, line) in text.lines().enumerate() {
                if table.rows.len() >= max {
                    break;
                }
                let at = format!("{name}:{}", i + 1);
                if line.trim().is_empty() {
                    blank_line(i + 1, report)?;
                    continue;
                }
                let obj = match serde_json::from_str(line) {
                    Ok(Value::Object(o)) => o,
                    Ok(_) => bail!("{at}: expected a JSON object per line"),
                    Err(e) => bail!("{at}: invalid JSON: {e}"),
                };
                if table.rows.is_empty() {
                    table.columns = obj.keys().cloned().collect();
                    table.width = obj.len();
                }
                table.rows.push(Row {
                    at,
                    id: format!("{short}:{}", i + 1),
                    fields: Fields::Json(obj),
                });
            }
        }
        Format::Csv | Format::Tsv => {
            let delimiter = match (&spec.delimiter, format) {
                (Some(d), _) => d.as_bytes().first().copied().unwrap_or(b','),
                (None, Format::Tsv) => b'\t',
                (None, _) => b',',
            };
            let quoting = spec.quoting.unwrap_or(format != Format::Tsv);
            let has_header = spec.has_header.unwrap_or(true);
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .quoting(quoting)
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            let mut header: Option<Rc<Vec<String>>> = (!has_header).then(|| Rc::new(Vec::new()));
            let mut lines = LineCounter::default();
            for record in reader.records() {
                let record = record.map_err(|e| {
                    let line = e
                        .position()
                        .map(|p| line_at(text, p.byte() as usize))
                        .unwrap_or(0);
                    anyhow::anyhow!("{name}:{line}: malformed {} row: {e}", format.name())
                })?;
                // The csv reader skips empty lines silently and reports the record as
                // starting at the first of them: find them, and the record's real line.
                let byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
                let mut line = lines.line_at(text, byte);
                let mut rest = text.get(byte..).unwrap_or("");
                loop {
                    let skip = if rest.starts_with("\r\n") {
                        2
                    } else if rest.starts_with('\n') {
                        1
                    } else {
                        break;
                    };
                    blank_line(line, report)?;
                    line += 1;
                    rest = &rest[skip..];
                }
                if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                    blank_line(line, report)?;
                    continue;
                }
                let Some(h) = &header else {
                    report.header_lines += 1;
                    let names: Vec<String> = record.iter().map(|h| h.trim().to_string()).collect();
                    table.columns = names.clone();
                    table.width = names.len();
                    header = Some(Rc::new(names));
                    continue;
                };
                if table.rows.len() >= max {
                    break;
                }
                if table.rows.is_empty() && !has_header {
                    table.width = record.len();
                }
                table.rows.push(Row {
                    at: format!("{name}:{line}"),
                    id: format!("{short}:{line}"),
                    fields: Fields::Delimited {
                        header: h.clone(),
                        values: record.iter().map(str::to_string).collect(),
                    },
                });
            }
            // Blank lines at the very end are skipped by the reader without a record.
            let trailing = text.trim_end_matches(['\n', '\r']);
            let extra = text[trailing.len()..].matches('\n').count();
            if extra > 1 {
                blank_line(line_at(text, trailing.len()) + 1, report)?;
                report.skipped_empty += extra - 2;
            }
        }
        other => bail!(
            "{name}: format {} holds no rows of columns (expected csv, tsv, jsonl or text-lines)",
            other.name()
        ),
    }
    Ok(table)
}

/// Line numbers of increasing byte offsets, counted once (a CSV file's records).
#[derive(Default)]
struct LineCounter {
    byte: usize,
    line: usize,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, byte: usize) -> usize {
        let end = byte.min(text.len());
        if end < self.byte {
            return line_at(text, end);
        }
        self.line += text.as_bytes()[self.byte..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.byte = end;
        self.line + 1
    }
}

/// The 1-based line of byte offset `byte`.
fn line_at(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The first `n` whitespace-separated words of `text`, and whether there were more.
pub(crate) fn first_words(text: &str, n: usize) -> (Vec<String>, bool) {
    let mut it = text.split_whitespace();
    let words: Vec<String> = it.by_ref().take(n).map(str::to_string).collect();
    (words, it.next().is_some())
}

/// The text after the first `n` whitespace words (trimmed), empty when there is none.
pub(crate) fn after_words(text: &str, n: usize) -> String {
    let mut rest = text.trim_start();
    for _ in 0..n {
        match rest.find(char::is_whitespace) {
            Some(i) => rest = rest[i..].trim_start(),
            None => return String::new(),
        }
    }
    rest.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_the_rest() {
        assert_eq!(
            first_words("  a b\tc  d ", 3),
            (vec!["a".into(), "b".into(), "c".into()], true)
        );
        assert!(!first_words("a b", 3).1);
        assert_eq!(after_words("  a b\tc  d e ", 3), "d e");
        assert_eq!(after_words("a b c", 3), "");
        assert_eq!(after_words("a b", 3), "");
    }

    #[test]
    fn line_numbers() {
        let mut c = LineCounter::default();
        assert_eq!(c.line_at("a\nb\nc", 0), 1);
        assert_eq!(c.line_at("a\nb\nc", 2), 2);
        assert_eq!(c.line_at("a\nb\nc", 4), 3);
        assert_eq!(c.line_at("a\nb\nc", 1), 1);
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 2), 2);
        assert_eq!(line_at("a\nb\nc", 99), 3);
    }
}
