//! Energy per task (mean +- SD over models) and per model (bars on a log axis, with the task's
//! rating bands behind them).

use super::{label, methods_caption, slug, task_colour, Chart};
use crate::analysis::Analysis;
use crate::rating::{bands_for, BANDS_VERSION, LETTERS};
use crate::svg::{esc, tick_label, Plot, Scale};
use crate::tables::sig;
use std::fmt::Write;

const WIDTH: f64 = 1000.0;
const ROW: f64 = 20.0;
/// Row labels are cut to this many characters (the full text is in the tooltip).
const LABEL_CHARS: usize = 72;
/// Approximate width of one label character at the 11 px label font.
const CHAR_PX: f64 = 6.0;

/// A plot of horizontal rows, its left margin wide enough for the longest label.
pub(crate) fn row_plot(id: &str, labels: &[String], x: Scale, x_label: &str) -> Plot {
    let rows = labels.len();
    let longest = labels
        .iter()
        .map(|l| l.chars().count().min(LABEL_CHARS))
        .max()
        .unwrap_or(0);
    let left = (longest as f64 * CHAR_PX + 16.0).clamp(80.0, 460.0);
    let height = 80.0 + ROW * rows as f64;
    let y = Scale::Linear {
        min: 0.0,
        max: rows as f64,
    };
    let mut p = Plot::new(id, WIDTH, height, x, y);
    p.margin = (left, 20.0, 22.0, 50.0);
    p.y_ticks = false;
    p.labels(x_label, "")
}

pub(crate) fn row_label(p: &mut Plot, row: f64, text: &str) {
    let y = p.py(row) + 4.0;
    let x = p.margin.0 - 6.0;
    let shown: String = if text.chars().count() > LABEL_CHARS {
        text.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    } else {
        text.to_string()
    };
    let _ = write!(
        p.raw_string(),
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end" class="rowlabel">{}<title>{}</title></text>"#,
        esc(&shown),
        esc(text)
    );
}

/// Per task: mean and SD over the models' mean Wh per 1,000 inferences, log axis.
pub fn task_means(a: &Analysis) -> Option<Chart> {
    if a.tasks.is_empty() {
        return None;
    }
    let mut values = Vec::new();
    for t in &a.tasks {
        values.push(t.wh_per_1000.mean);
        values.push(t.wh_per_1000.mean + t.wh_per_1000.sd.unwrap_or(0.0));
        values.push(t.min_wh_per_1000);
    }
    let n = a.tasks.len();
    let labels: Vec<String> = a.tasks.iter().map(|t| t.task.clone()).collect();
    let mut p = row_plot(
        "task-means",
        &labels,
        Scale::log(&values),
        "Wh per 1,000 inferences (log)",
    );
    let mut clipped = false;
    for (i, t) in a.tasks.iter().enumerate() {
        let row = n as f64 - i as f64 - 0.5;
        let c = task_colour(a, &t.task);
        row_label(&mut p, row, &t.task);
        if let Some(sd) = t.wh_per_1000.sd {
            let lo = t.wh_per_1000.mean - sd;
            clipped |= lo <= 0.0;
            let lo = if lo > 0.0 { lo } else { p.x.bounds().0 };
            p.xerr(lo, t.wh_per_1000.mean + sd, row, c);
        }
        let tip = format!(
            "{}: mean {} Wh per 1,000 inferences, SD {}, over {} model x dataset series",
            t.task,
            sig(t.wh_per_1000.mean),
            t.wh_per_1000.sd.map_or("n/a (one series)".into(), sig),
            t.series
        );
        p.point(t.wh_per_1000.mean, row, c, &tip);
    }
    let mut caption = "Mean (dot) and standard deviation (whiskers) of Wh per 1,000 inferences \
        over the model x dataset series of each task, as in the studies' headline table. "
        .to_string();
    if clipped {
        caption.push_str("Where mean - SD is below zero the whisker stops at the axis. ");
    }
    caption.push_str(&methods_caption(&a.series));
    Some(Chart {
        id: "task-means".into(),
        title: "Energy per task".into(),
        svg: p.render(),
        caption,
        notes: Vec::new(),
        points: n,
    })
}

/// Per task: one bar per model x dataset on a log axis, 95 % interval whiskers, rating bands.
pub fn model_bars(a: &Analysis) -> Vec<Chart> {
    let mut out = Vec::new();
    for t in &a.tasks {
        let rows: Vec<_> = a.series.iter().filter(|s| s.task == t.task).collect();
        let mut values: Vec<f64> = rows.iter().map(|s| s.wh_per_1000.mean).collect();
        values.extend(
            rows.iter()
                .map(|s| s.wh_per_1000.mean + s.wh_per_1000.ci95_half.unwrap_or(0.0)),
        );
        let n = rows.len();
        let id = format!("models-{}", slug(&t.task));
        let labels: Vec<String> = rows.iter().map(|s| label(s)).collect();
        let mut p = row_plot(
            &id,
            &labels,
            Scale::log(&values),
            "Wh per 1,000 inferences (log)",
        );
        let bands = bands_for(&t.task);
        if let Some(b) = bands {
            shade_bands(&mut p, &b.edges_wh_per_1000);
        }
        let c = task_colour(a, &t.task);
        for (i, s) in rows.iter().enumerate() {
            let row = n as f64 - i as f64 - 0.5;
            row_label(&mut p, row, &label(s));
            let (x0, x1) = (p.px(p.x.bounds().0), p.px(s.wh_per_1000.mean));
            let (y0, h) = (p.py(row) - ROW * 0.35, ROW * 0.7);
            let tip = format!(
                "{}: {} Wh per 1,000 inferences (n = {}{}), rating {}",
                label(s),
                sig(s.wh_per_1000.mean),
                s.repetitions,
                s.wh_per_1000
                    .ci95_half
                    .map_or(String::new(), |h| format!(", 95% CI +- {}", sig(h))),
                s.rating.as_deref().unwrap_or("unrated")
            );
            let _ = write!(
                p.raw_string(),
                r#"<rect class="pt" x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{h:.1}" fill="{c}" fill-opacity="0.85"><title>{}</title></rect>"#,
                (x1 - x0).max(1.0),
                esc(&tip)
            );
            if let Some(h) = s.wh_per_1000.ci95_half {
                let lo = s.wh_per_1000.mean - h;
                let lo = if lo > 0.0 { lo } else { p.x.bounds().0 };
                p.xerr(lo, s.wh_per_1000.mean + h, row, "#333");
            }
        }
        let mut caption = String::from(
            "Bars: mean Wh per 1,000 inferences of each model on each dataset; whiskers: 95 % \
             interval over the repetitions (t distribution; none with one repetition). ",
        );
        match bands {
            Some(b) => {
                let e = b.edges_wh_per_1000;
                let _ = write!(
                    caption,
                    "Shaded: rating bands {BANDS_VERSION} for {} (A below {}, B from {}, C from \
                     {}, D from {}, E from {} Wh), fixed and independent of the models shown. ",
                    b.task,
                    tick_label(e[0]),
                    tick_label(e[0]),
                    tick_label(e[1]),
                    tick_label(e[2]),
                    tick_label(e[3])
                );
            }
            None => caption.push_str("No rating bands exist for this task in this version. "),
        }
        caption.push_str(&methods_caption(rows.iter().copied()));
        out.push(Chart {
            id,
            title: format!("Energy per model: {}", t.task),
            svg: p.render(),
            caption,
            notes: Vec::new(),
            points: n,
        });
    }
    out
}

fn shade_bands(p: &mut Plot, edges: &[f64; 4]) {
    let (lo, hi) = p.x.bounds();
    let mut bounds = vec![lo];
    bounds.extend(edges.iter().copied());
    bounds.push(hi);
    let top = p.margin.2;
    let bottom = p.height - p.margin.3;
    for (i, w) in bounds.windows(2).enumerate() {
        let (a, b) = (w[0].max(lo), w[1].min(hi));
        if b <= a {
            continue;
        }
        let (x0, x1) = (p.px(a), p.px(b));
        let fill = if i % 2 == 0 { "#eef3ee" } else { "#f7f2e8" };
        let _ = write!(
            p.raw_string(),
            r##"<rect x="{x0:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{fill}" fill-opacity="0.7"/><text x="{:.1}" y="{:.1}" text-anchor="middle" class="band">{}</text>"##,
            x1 - x0,
            bottom - top,
            (x0 + x1) / 2.0,
            top - 6.0,
            LETTERS[i]
        );
    }
}
