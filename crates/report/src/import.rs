//! `powerhungry import codecarbon`: CodeCarbon `emissions.csv` rows (or task-file rows, one per
//! `start_task`/`stop_task`) into the results store, through the same sink the harness writes
//! with. One model per `project_name` (or per `task_name`, [`ModelFrom::Task`]), one
//! repetition per row (an inference window covering `--inferences` inferences), one run per
//! file and grid location. Energy per component keeps CodeCarbon's figures; CPU and RAM
//! powers that are constant guesses carry `estimated:*` labels (see `codecarbon::Provenance`).
//!
//! Emissions: each row's `emissions` is stored with its repetition (the store's
//! `reported_emissions`), so the report shows CodeCarbon's own figure. The run's intensity,
//! for display, is its rows' total emissions over their total energy; its PUE is 1, since
//! CodeCarbon's `energy_consumed` already includes its PUE. Rows of another location (a
//! CodeCarbon file can mix regions) go to a run of their own.

use crate::codecarbon::{Format, ImportedFile, ImportedRow, Timestamp};
use crate::input::J_PER_KWH;
use anyhow::{bail, Context, Result};
use powerhungry_bench::sink::{
    sha256_hex, ComponentEnergy, DatasetRecord, HardwareInfo, LocationRecord, ModelRecord, Phase,
    RepetitionRecord, ResultSink, RunStart, WindowRecord,
};
use powerhungry_store::{ReportedEmissions, Store};
use std::collections::{BTreeMap, HashMap};

/// Which column names the imported models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelFrom {
    /// `project_name` (every file).
    #[default]
    Project,
    /// `task_name`: only CodeCarbon task files have it, e.g. one task per model benchmarked
    /// inside one tracker.
    Task,
}

pub struct ImportOptions {
    pub task: String,
    pub dataset: String,
    /// Inferences each row covers; `None`: each row counts as one (and a warning says so).
    pub inferences: Option<u64>,
    /// Parameter counts by model name (from `--parameters FILE`).
    pub parameters: HashMap<String, u64>,
    pub model_from: ModelFrom,
    /// A file already imported into the store (same content hash) replaces its earlier
    /// import instead of being refused.
    pub replace: bool,
}

#[derive(Debug, Default, PartialEq)]
pub struct ImportSummary {
    pub runs: usize,
    pub models: usize,
    pub repetitions: usize,
    pub warnings: Vec<String>,
    /// Runs of earlier imports of the same files that were replaced (`--replace`).
    pub replaced: usize,
}

fn location_of(r: &ImportedRow) -> String {
    let row = &r.row;
    let mut parts = Vec::new();
    if let Some(c) = row
        .country_name
        .as_deref()
        .or(row.country_iso_code.as_deref())
    {
        parts.push(format!("country {c}"));
    }
    if let Some(x) = &row.region {
        parts.push(format!("region {x}"));
    }
    if let (Some(p), Some(x)) = (&row.cloud_provider, &row.cloud_region) {
        parts.push(format!("cloud {p}:{x}"));
    }
    if parts.is_empty() {
        "not recorded".into()
    } else {
        parts.join(", ")
    }
}

/// Rows grouped into runs by location, in file order.
fn group_rows(file: &ImportedFile) -> Vec<(String, Vec<&ImportedRow>)> {
    let mut groups: Vec<(String, Vec<&ImportedRow>)> = Vec::new();
    for r in &file.rows {
        let loc = location_of(r);
        match groups.iter_mut().find(|g| g.0 == loc) {
            Some(g) => g.1.push(r),
            None => groups.push((loc, vec![r])),
        }
    }
    groups
}

/// Seconds since 1970 of a zone-less CodeCarbon timestamp, read as UTC.
pub fn unix_seconds(t: &Timestamp) -> f64 {
    // Days from civil (proleptic Gregorian), Howard Hinnant's algorithm.
    let (y, m, d) = (
        t.year as i64 - (t.month <= 2) as i64,
        t.month as i64,
        t.day as i64,
    );
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + t.hour as i64 * 3600 + t.minute as i64 * 60 + t.second as i64) as f64
        + t.micros as f64 / 1e6
}

fn components(r: &ImportedRow) -> Vec<ComponentEnergy> {
    let row = &r.row;
    let mut out = Vec::new();
    let mut push = |name: String, method: Option<&str>, kwh: Option<f64>| {
        if let Some(kwh) = kwh {
            out.push(ComponentEnergy {
                component: name,
                method: method.unwrap_or("reported:codecarbon").to_string(),
                joules: kwh * J_PER_KWH,
                above_idle_joules: None,
            });
        }
    };
    push("cpu".into(), r.cpu.cpu_method(), row.cpu_energy_kwh);
    // CodeCarbon sums every GPU of the machine, used or not: say so in the component's name.
    let gpu = match row.gpu_count {
        Some(n) if n > 1 => format!("gpu (all {n} of the machine)"),
        _ => "gpu".into(),
    };
    push(
        gpu,
        None,
        row.gpu_energy_kwh
            .filter(|e| *e > 0.0 || row.gpu_model.is_some()),
    );
    push("ram".into(), r.ram.ram_method(), row.ram_energy_kwh);
    // Keep CodeCarbon's total exactly. Its columns are printed rounded (10 significant digits
    // in 2.3.1 logs), so the parts may miss `energy_consumed` by ~1e-10: that rounding goes into
    // the largest part, below its printed precision. A real gap is kept, labelled.
    let parts: f64 = out.iter().map(|c| c.joules).sum();
    let total = row.energy_consumed_kwh * J_PER_KWH;
    let gap = total - parts;
    if gap != 0.0 {
        let largest = out.iter_mut().max_by(|a, b| a.joules.total_cmp(&b.joules));
        match largest {
            Some(c) if gap.abs() <= 1e-6 * total.abs() => c.joules += gap,
            _ => out.push(ComponentEnergy {
                component: "unattributed (energy_consumed minus its parts)".into(),
                method: "reported:codecarbon".into(),
                joules: gap,
                above_idle_joules: None,
            }),
        }
    }
    out
}

/// One entry per GPU, as the harness records them: CodeCarbon writes "8 x NVIDIA A100".
fn gpu_list(model: Option<&str>, count: Option<u32>) -> Vec<String> {
    let Some(model) = model else {
        return Vec::new();
    };
    let name = match model.split_once(" x ") {
        Some((n, rest)) if n.trim().parse::<u32>().is_ok() => rest.trim(),
        _ => model.trim(),
    };
    vec![name.to_string(); count.unwrap_or(1).max(1) as usize]
}

impl ImportOptions {
    /// Check the options before anything is read or written.
    pub fn validate(&self) -> Result<()> {
        if self.task.trim().is_empty() || self.dataset.trim().is_empty() {
            bail!("--task and --dataset must not be empty");
        }
        if self.inferences == Some(0) {
            bail!("--inferences 0: each row must cover at least one inference");
        }
        if crate::rating::canonical_task(&self.task).is_none() {
            bail!(
                "--task {:?}: not a task powerhungry knows; expected one of text-classification, \
                 extractive-qa (question-answering), fill-mask, token-classification, \
                 text-generation, summarization, image-classification, object-detection, \
                 image-captioning (image-to-text), image-generation (text-to-image)",
                self.task
            );
        }
        Ok(())
    }

    /// Check the files read fit the options (models by task need task files).
    pub fn check_files(&self, files: &[ImportedFile]) -> Result<()> {
        if self.model_from == ModelFrom::Task {
            if let Some(f) = files.iter().find(|f| !matches!(f.format, Format::Tasks(_))) {
                bail!(
                    "{}: --model-from task needs a CodeCarbon task file (a task_name column, as \
                     `tracker.start_task()` writes to emissions_<experiment>_<run_id>.csv); \
                     this file has none: name its models by project (the default)",
                    f.path.display()
                );
            }
        }
        Ok(())
    }
}

/// Import `files` into `sink` (the results store).
pub fn import_codecarbon(
    sink: &mut Store,
    files: &[ImportedFile],
    opts: &ImportOptions,
) -> Result<ImportSummary> {
    opts.validate()?;
    opts.check_files(files)?;
    let mut sum = ImportSummary::default();
    if opts.inferences.is_none() {
        sum.warnings.push(
            "no --inferences: each row counts as 1 inference, so \"per 1,000 inferences\" \
             figures are per 1,000 rows. Pass --inferences N (the Power Hungry Processing \
             logs: 1000)."
                .into(),
        );
    }
    let mut models_seen = std::collections::BTreeSet::new();
    for file in files {
        if file.rows.is_empty() {
            sum.warnings
                .push(format!("{}: no rows", file.path.display()));
            continue;
        }
        // One transaction per file: a failure (or a kill) midway imports nothing of it.
        sink.atomically(|sink| import_file(sink, file, opts, &mut sum, &mut models_seen))
            .with_context(|| {
                format!("{}: nothing of this file was imported", file.path.display())
            })?;
    }
    sum.models = models_seen.len();
    Ok(sum)
}

/// Import one file (inside the caller's transaction): refused when a file with the same
/// content was imported before, unless `opts.replace`.
fn import_file(
    sink: &mut Store,
    file: &ImportedFile,
    opts: &ImportOptions,
    sum: &mut ImportSummary,
    models_seen: &mut std::collections::BTreeSet<String>,
) -> Result<()> {
    let items = opts.inferences.unwrap_or(1);
    let bytes = std::fs::read(&file.path)
        .with_context(|| format!("{}: cannot read", file.path.display()))?;
    let sha = sha256_hex(&bytes);
    let earlier = sink.runs_from_source(&sha)?;
    if !earlier.is_empty() {
        let list: Vec<String> = earlier
            .iter()
            .map(|r| {
                format!(
                    "run {} ({}, imported from {})",
                    r.id, r.suite_name, r.suite_path
                )
            })
            .collect();
        if !opts.replace {
            bail!(
                "{}: this file (SHA-256 {}) is already in {}: {}; importing it again would count \
                 every row twice. Pass --replace to replace that import",
                file.path.display(),
                &sha[..12],
                sink.path().display(),
                list.join(", ")
            );
        }
        for r in &earlier {
            sink.delete_run(r.id)?;
        }
        sum.replaced += earlier.len();
    }
    let groups = group_rows(file);
    let many = groups.len() > 1;
    for (loc, rows) in &groups {
        let first = &rows[0].row;
        let energy: f64 = rows.iter().map(|r| r.row.energy_consumed_kwh).sum();
        let grams: f64 = rows.iter().map(|r| r.row.emissions_kg * 1000.0).sum();
        let intensity = if energy > 0.0 { grams / energy } else { 0.0 };
        let name = file.path.file_name().map_or_else(
            || file.path.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        let suite_name = if many {
            format!("{name} [{loc}]")
        } else {
            name.clone()
        };
        let run = RunStart {
            suite_name: format!("codecarbon: {suite_name}"),
            suite_path: file.path.display().to_string(),
            suite_text: String::new(),
            suite_hash: format!("codecarbon-import:{}:{loc}", file.path.display()),
            started_at: unix_seconds(&first.timestamp) - first.duration_s,
            git_revision: None,
            tool_version: format!(
                "CodeCarbon {} (imported by powerhungry {})",
                first.codecarbon_version.as_deref().unwrap_or("?"),
                env!("CARGO_PKG_VERSION")
            ),
            hardware: HardwareInfo {
                cpu_model: first.cpu_model.clone().unwrap_or_default(),
                cpu_cores: first.cpu_count.unwrap_or(0),
                ram_bytes: first
                    .ram_total_size_gb
                    .map_or(0, |g| (g * 1024f64.powi(3)) as u64),
                gpus: gpu_list(first.gpu_model.as_deref(), first.gpu_count),
                os: first.os.clone().unwrap_or_default(),
                kernel: String::new(),
            },
            location: LocationRecord {
                location: format!(
                    "{loc} (as CodeCarbon recorded it; its PUE {})",
                    first.pue.unwrap_or(1.0)
                ),
                intensity_g_per_kwh: intensity,
                source: "total emissions / total energy_consumed of the imported rows; \
                         each repetition keeps its own reported emissions"
                    .into(),
                year: Some(first.timestamp.year),
                pue: 1.0,
            },
            idle: Vec::new(),
        };
        let run_id = sink.begin_run(&run)?;
        sink.set_source_hash(run_id, &sha)?;
        sum.runs += 1;
        sink.record_dataset(
            run_id,
            &DatasetRecord {
                name: opts.dataset.clone(),
                task: opts.task.clone(),
                spec_json: serde_json::json!({
                    "imported_from": file.path.display().to_string(),
                    "inferences_per_row": opts.inferences,
                })
                .to_string(),
                examples: items,
                undecodable: 0,
                train_ids: Vec::new(),
                sample_ids: Vec::new(),
            },
        )?;
        let mut next_index: BTreeMap<&str, u32> = BTreeMap::new();
        for r in rows {
            let row = &r.row;
            let negative = [
                ("energy_consumed", Some(row.energy_consumed_kwh)),
                ("cpu_energy", row.cpu_energy_kwh),
                ("gpu_energy", row.gpu_energy_kwh),
                ("ram_energy", row.ram_energy_kwh),
                ("emissions", Some(row.emissions_kg)),
            ]
            .into_iter()
            .find_map(|(col, v)| v.filter(|v| *v < 0.0).map(|v| (col, v)));
            if let Some((col, v)) = negative {
                bail!(
                    "{}:{}: column {col} is negative ({v}); energy and emissions cannot be, so \
                     the file is damaged or was edited",
                    file.path.display(),
                    r.line
                );
            }
            let model = match (opts.model_from, &r.task_name) {
                (ModelFrom::Task, Some(t)) => t.as_str(),
                _ => r.row.project_name.as_str(),
            };
            if !next_index.contains_key(model) {
                sink.record_model(
                    run_id,
                    &ModelRecord {
                        name: model.to_string(),
                        backend: "codecarbon-import".into(),
                        kind: "imported".into(),
                        model: Some(model.to_string()),
                        options_json: "{}".into(),
                        parameters: opts.parameters.get(model).copied(),
                        description: format!("imported from {}", file.path.display()),
                    },
                )?;
                models_seen.insert(model.to_string());
            }
            let idx = next_index.entry(model).or_insert(0);
            let end = unix_seconds(&r.row.timestamp);
            sink.record_repetition(
                run_id,
                &RepetitionRecord {
                    model: model.to_string(),
                    dataset: opts.dataset.clone(),
                    index: *idx,
                    started_at: end - r.row.duration_s,
                    ended_at: end,
                    windows: vec![WindowRecord {
                        phase: Phase::Inference,
                        duration_s: r.row.duration_s,
                        items,
                        components: components(r),
                        uncounted: Vec::new(),
                        nothing_measured: false,
                    }],
                    inferences: Vec::new(),
                    metrics: Vec::new(),
                    latency_p50_s: None,
                    latency_p95_s: None,
                },
            )?;
            sink.record_reported_emissions(
                run_id,
                &ReportedEmissions {
                    model: model.to_string(),
                    dataset: opts.dataset.clone(),
                    index: *idx,
                    g_co2e: r.row.emissions_kg * 1000.0,
                    source: match &r.task_name {
                        Some(t) => {
                            format!("CodeCarbon emissions column, {name}:{} (task {t})", r.line)
                        }
                        None => format!("CodeCarbon emissions column, {name}:{}", r.line),
                    },
                },
            )?;
            *idx += 1;
            sum.repetitions += 1;
        }
        let last = rows.last().map_or(0.0, |r| unix_seconds(&r.row.timestamp));
        sink.end_run(run_id, last)?;
    }
    Ok(())
}

/// Parameter counts from a CSV with a model column and a parameter column (the header names
/// `model`/`model_name` and `parameters`/`num_parameters`; the Power Hungry Processing
/// `data/model_parameters.csv` reads as is).
pub fn read_parameters(path: &std::path::Path) -> Result<HashMap<String, u64>> {
    use anyhow::Context;
    let mut rdr = csv::Reader::from_path(path)
        .with_context(|| format!("--parameters {}: cannot read", path.display()))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("{}: no header", path.display()))?
        .clone();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.trim()));
    let (Some(mc), Some(pc)) = (
        find(&["model", "model_name", "model_id"]),
        find(&["parameters", "num_parameters"]),
    ) else {
        bail!(
            "{}: expected columns model (or model_name) and parameters (or num_parameters), found {:?}",
            path.display(),
            headers.iter().collect::<Vec<_>>()
        );
    };
    let mut out = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{}:{line}: malformed CSV", path.display()))?;
        let (m, p) = (
            rec.get(mc).unwrap_or("").trim(),
            rec.get(pc).unwrap_or("").trim(),
        );
        let n: u64 = p.parse().with_context(|| {
            format!(
                "{}:{line}: parameters {p:?} is not a whole number",
                path.display()
            )
        })?;
        out.insert(m.to_string(), n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
