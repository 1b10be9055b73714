//! Energy rating per task on fixed, versioned bands of Wh per 1,000 inferences.
//!
//! A model's band depends only on its own measurement and the band table's version, never on
//! which other models were run (AI Energy Score re-cuts its stars whenever the leaderboard
//! changes). Bands are half a decade wide on a log scale, so each band costs about 3.16 times
//! the one before, and band C is centred on the middle of what "Power Hungry Processing"
//! measured for the task.
//!
//! Rule of version 1 (reproduced by `band_table_reproduces_from_the_logs` from
//! `shared/reference-data/co2_inference`): for each task, take every model's mean
//! `energy_consumed` over its repetitions in each `data/emissions/complete/*.csv` file (one row
//! = 1,000 inferences, so kWh x 1,000 = Wh per 1,000 inferences), task-specific and zero-shot
//! files alike; let `lo` and `hi` be the smallest and largest of those means and
//! `g = sqrt(lo * hi)` their geometric middle. The four edges are `g * 10^k` for
//! k = -0.75, -0.25, 0.25, 0.75, rounded to 2 significant figures.
//! A: below edge 1; B: [edge 1, edge 2); C: [edge 2, edge 3); D: [edge 3, edge 4); E: from edge 4.

use serde::Serialize;

/// Version of the band table; printed beside every rating.
pub const BANDS_VERSION: &str = "phb-v1";
pub const LETTERS: [&str; 5] = ["A", "B", "C", "D", "E"];

/// Band edges of one task, Wh per 1,000 inferences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskBands {
    pub task: &'static str,
    pub edges_wh_per_1000: [f64; 4],
    /// Smallest and largest model mean in the reference logs, Wh per 1,000 inferences.
    pub reference_range: (f64, f64),
    /// How many (model, dataset) means the range was taken over.
    pub reference_models: usize,
}

/// Version 1 of the bands, from the "Power Hungry Processing" logs (CodeCarbon 2.3.1 totals,
/// including its estimated RAM and all 8 GPUs of the node: see docs/report.md).
pub const BANDS_V1: [TaskBands; 10] = [
    band("fill-mask", [1.0, 3.2, 10.0, 32.0], (3.2383, 10.1992), 24),
    band(
        "image-classification",
        [1.2, 3.9, 12.0, 39.0],
        (4.1866, 11.2602),
        48,
    ),
    band(
        "image-to-text",
        [11.0, 35.0, 110.0, 350.0],
        (23.3335, 167.2849),
        40,
    ),
    band(
        "object-detection",
        [6.6, 21.0, 66.0, 210.0],
        (11.6667, 117.2878),
        48,
    ),
    band(
        "question-answering",
        [7.4, 23.0, 74.0, 230.0],
        (2.9106, 595.8333),
        60,
    ),
    band(
        "summarization",
        [22.0, 69.0, 220.0, 690.0],
        (27.5779, 553.6003),
        59,
    ),
    band(
        "text-classification",
        [6.1, 19.0, 61.0, 190.0],
        (2.6017, 448.2064),
        60,
    ),
    band(
        "text-generation",
        [7.8, 25.0, 78.0, 250.0],
        (15.9612, 122.0016),
        24,
    ),
    band(
        "text-to-image",
        [520.0, 1600.0, 5200.0, 16000.0],
        (746.9268, 11417.1125),
        30,
    ),
    band(
        "token-classification",
        [0.81, 2.6, 8.1, 26.0],
        (1.9384, 10.7878),
        24,
    ),
];

const fn band(
    task: &'static str,
    edges_wh_per_1000: [f64; 4],
    reference_range: (f64, f64),
    reference_models: usize,
) -> TaskBands {
    TaskBands {
        task,
        edges_wh_per_1000,
        reference_range,
        reference_models,
    }
}

/// Our task names, with the spellings other tools use for the same task.
pub fn canonical_task(task: &str) -> Option<&'static str> {
    let t = task.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    let name = match t.as_str() {
        "text-classification" | "sentiment-analysis" | "sentiment" | "text-classif" => {
            "text-classification"
        }
        "question-answering" | "extractive-qa" | "qa" => "question-answering",
        "summarization" | "summarisation" | "summarize" => "summarization",
        "fill-mask" | "fillmask" | "masked-lm" => "fill-mask",
        "token-classification" | "ner" | "token-classif" => "token-classification",
        "image-classification" | "image-class" => "image-classification",
        "object-detection" | "obj-detection" => "object-detection",
        "text-generation" | "textgen" => "text-generation",
        "image-to-text" | "image-captioning" | "itt" => "image-to-text",
        "text-to-image" | "image-generation" | "tti" => "text-to-image",
        _ => return None,
    };
    Some(name)
}

/// The bands for `task`, if version 1 has them.
pub fn bands_for(task: &str) -> Option<&'static TaskBands> {
    let name = canonical_task(task)?;
    BANDS_V1.iter().find(|b| b.task == name)
}

/// The band letter of `wh_per_1000` on `bands`; `None` for a non-finite or negative figure.
pub fn rate(bands: &TaskBands, wh_per_1000: f64) -> Option<&'static str> {
    if !wh_per_1000.is_finite() || wh_per_1000 < 0.0 {
        return None;
    }
    let i = bands
        .edges_wh_per_1000
        .iter()
        .filter(|e| wh_per_1000 >= **e)
        .count();
    Some(LETTERS[i])
}

/// The version-1 rule: edges from the smallest and largest reference means.
pub fn derive_edges(lo: f64, hi: f64) -> [f64; 4] {
    let g = (lo * hi).sqrt();
    [-0.75, -0.25, 0.25, 0.75].map(|k: f64| round_sig2(g * 10f64.powf(k)))
}

/// Round to two significant figures (2.6017 -> 2.6, 0.8149 -> 0.81, 15811 -> 16000).
pub fn round_sig2(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log10().floor() as i32 - 1;
    let p = 10f64.powi(e.abs());
    if e >= 0 {
        (x / p).round() * p
    } else {
        (x * p).round() / p
    }
}

#[cfg(test)]
pub(crate) mod tests;
