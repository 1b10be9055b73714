//! Column defaults, label naming (integer ids to names, renames) and the assembly of one row
//! into an `Example`, shared by the CSV, JSON Lines and Parquet readers.

use super::spec::{Column, DatasetSpec};
use super::LoadReport;
use anyhow::{bail, Context, Result};
use powerhungry_tasks::{Example, Input};
use std::collections::{BTreeMap, BTreeSet};

/// One cell as a reader found it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell {
    fn as_string(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(f.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
        }
    }
}

/// How label values become label names.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelNames {
    names: Option<Vec<String>>,
    base: i64,
    map: BTreeMap<String, String>,
}

impl LabelNames {
    pub fn from_spec(spec: &DatasetSpec) -> Result<Self> {
        let names = match (&spec.label_names, &spec.label_names_file) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "dataset key `label_names_file`: cannot read {}",
                        path.display()
                    )
                })?;
                let names: Vec<String> = text
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect();
                if names.is_empty() {
                    bail!(
                        "dataset key `label_names_file`: {} holds no label names",
                        path.display()
                    );
                }
                Some(names)
            }
            (None, None) => None,
        };
        Ok(LabelNames {
            names,
            base: spec.label_index_base.unwrap_or(0),
            map: spec.label_map.clone().unwrap_or_default(),
        })
    }

    pub fn has_names(&self) -> bool {
        self.names.is_some()
    }

    /// The same renames with a names list found in the file itself (Parquet ClassLabel).
    pub fn with_names(&self, names: Vec<String>) -> Self {
        LabelNames {
            names: Some(names),
            base: 0,
            map: self.map.clone(),
        }
    }

    /// The label name for a raw cell; `Err` holds what was wrong, for the caller to locate.
    fn name(&self, cell: &Cell) -> std::result::Result<String, String> {
        let raw = match cell {
            Cell::Float(f) if f.fract() == 0.0 => Cell::Int(*f as i64),
            c => c.clone(),
        };
        let named = match (&self.names, &raw) {
            (Some(names), Cell::Int(i)) => lookup(names, self.base, *i)?,
            (Some(names), Cell::Text(s)) => match s.trim().parse::<i64>() {
                Ok(i) => lookup(names, self.base, i)?,
                Err(_) if names.iter().any(|n| n == s) => s.clone(),
                Err(_) => {
                    return Err(format!(
                        "label {s:?} is neither an integer id nor one of `label_names`"
                    ))
                }
            },
            (_, Cell::Null) => return Err("the label is empty (null)".into()),
            (_, c) => c.as_string().unwrap_or_default(),
        };
        if named.is_empty() {
            return Err("the label is empty".into());
        }
        Ok(self.map.get(&named).cloned().unwrap_or(named))
    }

    /// Label folders name labels by file; only `label_map` applies there.
    pub fn rename_folder_labels(&self, examples: &mut [Example]) -> Result<()> {
        if self.names.is_some() {
            bail!(
                "dataset keys `label_names`/`label_names_file` name integer labels; a label folder's \
                 labels are its file names: rename them with `label_map`"
            );
        }
        for e in examples {
            if let Some(l) = &e.label {
                if let Some(new) = self.map.get(l) {
                    e.label = Some(new.clone());
                }
            }
        }
        Ok(())
    }

    /// The dataset's label set (see `LoadedDataset::labels`).
    pub fn label_set(&self, examples: &[Example], from_file: Option<&Vec<String>>) -> Vec<String> {
        if let Some(names) = self.names.as_ref().or(from_file) {
            return names
                .iter()
                .map(|n| self.map.get(n).cloned().unwrap_or_else(|| n.clone()))
                .collect();
        }
        let seen: BTreeSet<&str> = examples.iter().filter_map(|e| e.label.as_deref()).collect();
        let mut labels: Vec<String> = seen.into_iter().map(str::to_string).collect();
        if labels.iter().all(|l| l.parse::<i64>().is_ok()) {
            labels.sort_by_key(|l| l.parse::<i64>().unwrap_or(0));
        }
        labels
    }
}

fn lookup(names: &[String], base: i64, i: i64) -> std::result::Result<String, String> {
    usize::try_from(i - base)
        .ok()
        .and_then(|k| names.get(k))
        .cloned()
        .ok_or_else(|| {
            format!(
                "label id {i} is outside `label_names` ({} names, first id {base})",
                names.len()
            )
        })
}

/// The per-file view of a spec: which columns to read and how to turn them into an example.
pub(crate) struct RowContext<'a> {
    spec: &'a DatasetSpec,
    names: &'a LabelNames,
}

/// The columns a reader must fetch for each row, resolved against the file's columns.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub text: Vec<Column>,
    pub label: Option<Column>,
    pub id: Option<Column>,
}

impl<'a> RowContext<'a> {
    pub fn new(spec: &'a DatasetSpec, names: &'a LabelNames) -> Self {
        RowContext { spec, names }
    }

    /// Decide the columns given what the file has (`has(name)`); defaults: text `text` or
    /// else `sentence`, label `label` if present (else unlabelled).
    pub fn wanted(&self, has: impl Fn(&Column) -> bool, file: &str) -> Result<Wanted> {
        let text = match &self.spec.text_column {
            Some(c) => c.as_slice().to_vec(),
            None => {
                let pick = ["text", "sentence"]
                    .into_iter()
                    .map(|n| Column::Name(n.to_string()))
                    .find(|c| has(c));
                match pick {
                    Some(c) => vec![c],
                    None => bail!(
                        "{file}: no column \"text\" or \"sentence\"; set `text_column` to the column \
                         holding the text"
                    ),
                }
            }
        };
        for c in &text {
            if !has(c) {
                bail!("{file}: dataset key `text_column`: the file has no {c}");
            }
        }
        let label = match &self.spec.label_column {
            Some(c) if has(c) => Some(c.clone()),
            Some(c) => bail!("{file}: dataset key `label_column`: the file has no {c}"),
            None => Some(Column::Name("label".into())).filter(|c| has(c)),
        };
        let id = match &self.spec.id_column {
            Some(c) if has(c) => Some(c.clone()),
            Some(c) => bail!("{file}: dataset key `id_column`: the file has no {c}"),
            None => None,
        };
        Ok(Wanted { text, label, id })
    }

    /// Assemble one row. `at` locates it (`file:line`); `default_id` is used without an id
    /// column. Returns `None` (and counts it) when the text is empty.
    pub fn example(
        &self,
        at: &str,
        default_id: String,
        text: Vec<Cell>,
        label: Option<Cell>,
        id: Option<Cell>,
        report: &mut LoadReport,
    ) -> Result<Option<Example>> {
        let sep = self.spec.text_separator.as_deref().unwrap_or(" ");
        let parts: Vec<String> = text.iter().filter_map(Cell::as_string).collect();
        let joined = parts.join(sep);
        if joined.trim().is_empty() {
            report.skipped_empty += 1;
            return Ok(None);
        }
        let label = match label {
            None => None,
            Some(cell) => Some(
                self.names
                    .name(&cell)
                    .map_err(|why| anyhow::anyhow!("{at}: label column: {why}"))?,
            ),
        };
        let id = match id.and_then(|c| c.as_string()) {
            Some(id) => id,
            None => default_id,
        };
        Ok(Some(Example {
            id,
            input: Input::Text(joined),
            label,
            gold: None,
        }))
    }
}
