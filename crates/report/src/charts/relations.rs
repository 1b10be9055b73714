//! Charts relating energy to something else: model size, accuracy (with the Pareto front),
//! duration (with least-squares fits), output length, and training parity.

use super::{label, methods_caption, slug, task_colour, Chart};
use crate::analysis::Analysis;
use crate::parity::ParityRow;
use crate::svg::{colour, esc, Plot, Scale};
use crate::tables::sig;
use std::fmt::Write;

const W: f64 = 1000.0;
const H: f64 = 440.0;

/// Parameters against g CO2e per 1,000 inferences, log-log, coloured by task.
pub fn size_co2(a: &Analysis) -> Option<Chart> {
    let pts: Vec<_> = a
        .series
        .iter()
        .filter_map(|s| Some((s, s.parameters? as f64, s.g_co2e_per_1000.as_ref()?.mean)))
        .filter(|(_, p, g)| *p > 0.0 && *g > 0.0)
        .collect();
    if pts.is_empty() {
        return None;
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let mut p = Plot::new("size-co2", W, H, Scale::log(&xs), Scale::log(&ys))
        .labels("parameters (log)", "g CO2e per 1,000 inferences (log)");
    let mut tasks: Vec<&str> = pts.iter().map(|p| p.0.task.as_str()).collect();
    tasks.sort();
    tasks.dedup();
    p.set_legend(
        tasks
            .iter()
            .map(|t| (task_colour(a, t).to_string(), t.to_string()))
            .collect(),
    );
    for (s, x, y) in &pts {
        let tip = format!(
            "{}: {} parameters, {} g CO2e per 1,000",
            label(s),
            sig(*x),
            sig(*y)
        );
        p.point(*x, *y, task_colour(a, &s.task), &tip);
    }
    let caption = format!(
        "Model size (parameters, from the model's config) against emissions per 1,000 \
         inferences (energy x PUE x grid intensity of the run's location, or the emissions the \
         source recorded). One dot per model x dataset; {} of {} series have a parameter count. {}",
        pts.len(),
        a.series.len(),
        methods_caption(pts.iter().map(|p| p.0))
    );
    Some(Chart {
        id: "size-co2".into(),
        title: "Model size against emissions".into(),
        svg: p.render(),
        caption,
        notes: Vec::new(),
        points: pts.len(),
    })
}

/// Per task and dataset: the task's metric against Wh per 1,000 inferences, Pareto front drawn.
pub fn accuracy_fronts(a: &Analysis) -> Vec<Chart> {
    let mut out = Vec::new();
    for f in &a.fronts {
        let ss: Vec<_> = f.points.iter().map(|&i| &a.series[i]).collect();
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for s in &ss {
            let e = &s.wh_per_1000;
            xs.extend([e.mean, e.mean + e.ci95_half.unwrap_or(0.0)]);
            let m = s.metric.as_ref().map_or(f64::NAN, |m| m.mean);
            let sd = s.metric.as_ref().and_then(|m| m.sd).unwrap_or(0.0);
            ys.extend([m - sd, m + sd]);
        }
        let id = format!("front-{}-{}", slug(&f.task), slug(&f.dataset));
        let mut p = Plot::new(&id, W, H, Scale::log(&xs), Scale::linear(&ys, false))
            .labels("Wh per 1,000 inferences (log)", &f.metric);
        let c = task_colour(a, &f.task);
        p.set_legend(vec![
            ("#D55E00".into(), "on the Pareto front".into()),
            (c.into(), "dominated".into()),
        ]);
        for (s, &i) in ss.iter().zip(&f.points) {
            let Some(m) = &s.metric else { continue };
            let e = &s.wh_per_1000;
            if let Some(h) = e.ci95_half {
                let lo = if e.mean - h > 0.0 {
                    e.mean - h
                } else {
                    p.x.bounds().0
                };
                p.xerr(lo, e.mean + h, m.mean, "#888");
            }
            if let Some(sd) = m.sd {
                p.yerr(e.mean, m.mean - sd, m.mean + sd, "#888");
            }
            let member = f.members.contains(&i);
            let tip = format!(
                "{}: {} {} (n = {}), {} Wh per 1,000{}",
                label(s),
                f.metric,
                sig(m.mean),
                m.n,
                sig(e.mean),
                if member { ", on the Pareto front" } else { "" }
            );
            p.point(e.mean, m.mean, if member { "#D55E00" } else { c }, &tip);
        }
        // The front as a staircase: from each member, right to the next member's energy, then up.
        let mut stairs = Vec::new();
        for (k, &i) in f.members.iter().enumerate() {
            let s = &a.series[i];
            let (e, m) = (
                s.wh_per_1000.mean,
                s.metric.as_ref().map_or(f64::NAN, |m| m.mean),
            );
            if k > 0 {
                stairs.push((e, stairs.last().map_or(m, |l: &(f64, f64)| l.1)));
            }
            stairs.push((e, m));
        }
        p.line(&stairs, "#D55E00", true);
        let members: Vec<String> = f
            .members
            .iter()
            .map(|&i| {
                let s = &a.series[i];
                format!(
                    "{} ({} {}, {} Wh/1,000)",
                    s.model,
                    f.metric,
                    s.metric.as_ref().map_or("-".into(), |m| sig(m.mean)),
                    sig(s.wh_per_1000.mean)
                )
            })
            .collect();
        let caption = format!(
            "{} (scored on the very predictions whose energy was measured) against Wh per 1,000 \
             inferences on {}. Error bars: 95 % interval of the energy and one SD of the metric \
             over repetitions. The dashed staircase joins the Pareto front: models no other \
             model beats on both. {}",
            capitalised(&f.metric),
            f.dataset,
            methods_caption(ss.iter().copied())
        );
        out.push(Chart {
            id,
            title: format!(
                "{} against energy: {} on {}",
                capitalised(&f.metric),
                f.task,
                f.dataset
            ),
            svg: p.render(),
            caption,
            notes: vec![format!(
                "Pareto front, cheapest first: {}",
                members.join("; ")
            )],
            points: ss.len(),
        });
    }
    out
}

/// Energy against duration per repetition, with a least-squares line per GPU count.
pub fn energy_duration(a: &Analysis) -> Option<Chart> {
    let all: Vec<(f64, f64)> = a
        .duration_fits
        .iter()
        .flat_map(|d| d.points.iter().map(|p| (p.0, p.1)))
        .collect();
    if all.is_empty() {
        return None;
    }
    let xs: Vec<f64> = all.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = all.iter().map(|p| p.1).collect();
    let mut p = Plot::new(
        "energy-duration",
        W,
        H,
        Scale::linear(&xs, true),
        Scale::linear(&ys, true),
    )
    .labels("duration of the inference window (s)", "energy (Wh)");
    let notes: Vec<String> = a.duration_fits.iter().map(fit_text).collect();
    p.set_legend(
        notes
            .iter()
            .enumerate()
            .map(|(k, t)| (colour(k + 4).to_string(), t.clone()))
            .collect(),
    );
    for (k, d) in a.duration_fits.iter().enumerate() {
        let c = colour(k + 4);
        for (x, y, si) in &d.points {
            let tip = format!("{}: {} s, {} Wh", label(&a.series[*si]), sig(*x), sig(*y));
            p.point(*x, *y, c, &tip);
        }
        if let Ok(f) = &d.fit {
            let (x0, x1) = d
                .points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.0), b.max(p.0))
                });
            let ends = [
                (x0, f.intercept + f.slope * x0),
                (x1, f.intercept + f.slope * x1),
            ];
            p.line(&ends, c, false);
        }
    }
    let caption = format!(
        "Energy of each repetition's inference window against its duration, with an ordinary \
         least-squares line per number of GPUs. A high R² means duration is a good proxy for \
         energy on this hardware (Zschache and Hartwig found R² near 1 on theirs); the slope is \
         the average power. {}{}",
        methods_caption(&a.series),
        if a.series.iter().any(|s| s.estimated) {
            " Where energy is estimated, it was itself computed from time (a power model x \
             duration), so a high R² there holds by construction and says nothing about \
             duration as a proxy: only measured energy can show that."
        } else {
            ""
        }
    );
    Some(Chart {
        id: "energy-duration".into(),
        title: "Energy against duration".into(),
        svg: p.render(),
        caption,
        notes,
        points: all.len(),
    })
}

/// Output tokens per inference against Wh per 1,000 inferences, generative tasks only.
pub fn output_length(a: &Analysis) -> Option<Chart> {
    let pts: Vec<_> = a
        .series
        .iter()
        .filter(|s| s.generative)
        .filter_map(|s| {
            Some((
                s,
                s.output_tokens_per_inference.as_ref()?.mean,
                s.wh_per_1000.mean,
            ))
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let xs: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.2).collect();
    let mut p = Plot::new(
        "output-length",
        W,
        H,
        Scale::linear(&xs, true),
        Scale::log(&ys),
    )
    .labels(
        "output tokens per inference",
        "Wh per 1,000 inferences (log)",
    );
    for (s, x, y) in &pts {
        p.point(
            *x,
            *y,
            task_colour(a, &s.task),
            &format!("{}: {} tokens, {} Wh", label(s), sig(*x), sig(*y)),
        );
    }
    let caption = format!(
        "Generative tasks: mean tokens produced per inference (counted by the model's tokenizer) \
         against Wh per 1,000 inferences. {}",
        methods_caption(pts.iter().map(|p| p.0))
    );
    Some(Chart {
        id: "output-length".into(),
        title: "Output length against energy".into(),
        svg: p.render(),
        caption,
        notes: Vec::new(),
        points: pts.len(),
    })
}

/// Inferences to training parity, per model and dataset, log axis.
pub fn parity_bars(rows: &[ParityRow]) -> Option<Chart> {
    if rows.is_empty() {
        return None;
    }
    let xs: Vec<f64> = rows.iter().map(|r| r.inferences).collect();
    let n = rows.len();
    let labels: Vec<String> = rows
        .iter()
        .map(|r| format!("{} · {}", r.model, r.dataset))
        .collect();
    let mut p = super::energy::row_plot(
        "parity",
        &labels,
        Scale::log(&xs),
        "inferences until inference energy equals training energy (log)",
    );
    for (i, (r, l)) in rows.iter().zip(&labels).enumerate() {
        let row = n as f64 - i as f64 - 0.5;
        super::energy::row_label(&mut p, row, l);
        let (x0, x1, y) = (p.px(p.x.bounds().0), p.px(r.inferences), p.py(row));
        let tip = format!(
            "{l}: {} kWh of training / {} Wh per 1,000 inferences = {:.0} inferences",
            sig(r.training_kwh),
            sig(r.wh_per_1000),
            r.inferences
        );
        let _ = write!(
            p.raw_string(),
            r##"<rect class="pt" x="{x0:.1}" y="{:.1}" width="{:.1}" height="14" fill="#0072B2"><title>{}</title></rect>"##,
            y - 7.0,
            (x1 - x0).max(1.0),
            esc(&tip)
        );
    }
    Some(Chart {
        id: "parity".into(),
        title: "Training-inference parity".into(),
        svg: p.render(),
        caption: "Training (plus fine-tuning) energy given with --training-kwh, divided by the \
                  measured energy per inference: after this many inferences, inference has cost \
                  as much energy as training."
            .into(),
        notes: Vec::new(),
        points: n,
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// One line per GPU count: the fit in words, or why there is none.
fn fit_text(d: &crate::analysis::DurationFit) -> String {
    let gpus = match d.gpus {
        0 => "CPU only (0 GPUs)".to_string(),
        1 => "1 GPU".to_string(),
        n => format!("{n} GPUs"),
    };
    match &d.fit {
        Ok(f) => {
            let r2 =
                f.r2.map_or("undefined (energy constant)".into(), |r| format!("{r:.4}"));
            format!(
                "{gpus}: energy = {} Wh + {} Wh/s x duration (= {} W average), R² = {r2}, n = {}",
                sig(f.intercept),
                sig(f.slope),
                sig(f.slope * 3600.0),
                f.n
            )
        }
        Err(e) => format!("{gpus}: {e}"),
    }
}
