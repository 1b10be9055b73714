//! Hand-written SVG plotting: linear and log scales with readable ticks, and a plot frame that
//! collects marks and renders one `<svg>` element. Data marks carry class `pt` so the page's
//! self-check (and the browser test) can count what was drawn.

use std::fmt::Write;

/// Escape text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Colour-blind-safe palette (Okabe and Ito, plus two greys-blues), cycled by index.
pub const PALETTE: [&str; 10] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000",
    "#7F7F7F", "#8C564B",
];

pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear {
        min: f64,
        max: f64,
    },
    /// Both bounds > 0.
    Log {
        min: f64,
        max: f64,
    },
}

impl Scale {
    /// A linear scale covering `values` with 5 % padding (and `with_zero` forcing 0 in).
    pub fn linear(values: &[f64], with_zero: bool) -> Scale {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if with_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            (lo, hi) = (lo - pad, hi + pad);
        }
        let pad = (hi - lo) * 0.05;
        let lo = if with_zero && lo >= 0.0 { lo } else { lo - pad };
        Scale::Linear {
            min: lo,
            max: hi + pad,
        }
    }

    /// A log scale from the decade below the smallest positive value to the decade above the
    /// largest. Non-positive values cannot be placed on it and are ignored here.
    pub fn log(values: &[f64]) -> Scale {
        let pos = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = pos.fold((f64::INFINITY, 0.0_f64), |(a, b), v| (a.min(v), b.max(v)));
        if !lo.is_finite() {
            return Scale::Log {
                min: 1.0,
                max: 10.0,
            };
        }
        let lo = 10f64.powf(lo.log10().floor());
        let mut hi = 10f64.powf(hi.log10().ceil());
        if hi <= lo {
            hi = lo * 10.0;
        }
        Scale::Log { min: lo, max: hi }
    }

    /// Position of `v` as a fraction 0..1 of the axis (values outside are clamped by callers).
    pub fn frac(&self, v: f64) -> f64 {
        match *self {
            Scale::Linear { min, max } => (v - min) / (max - min),
            Scale::Log { min, max } => {
                if v <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                (v.log10() - min.log10()) / (max.log10() - min.log10())
            }
        }
    }

    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Scale::Linear { min, max } | Scale::Log { min, max } => (min, max),
        }
    }

    /// Tick values inside the scale.
    pub fn ticks(&self) -> Vec<f64> {
        match *self {
            Scale::Linear { min, max } => {
                let raw = (max - min) / 5.0;
                let mag = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * mag)
                    .find(|s| *s >= raw)
                    .unwrap_or(10.0 * mag);
                let mut t = (min / step).ceil() * step;
                let mut out = Vec::new();
                while t <= max + step * 1e-9 {
                    out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
                    t += step;
                }
                out
            }
            Scale::Log { min, max } => {
                let (a, b) = (min.log10().round() as i32, max.log10().round() as i32);
                let few = b - a <= 2;
                let mut out = Vec::new();
                for k in a..=b {
                    let p = 10f64.powi(k);
                    out.push(p);
                    if few && k < b {
                        out.push(2.0 * p);
                        out.push(5.0 * p);
                    }
                }
                out
            }
        }
    }
}

/// Tick label: plain decimals for everyday magnitudes, `1e6` style beyond.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        if (m - m.round()).abs() < 1e-9 && m.round() == 1.0 {
            return format!("1e{e}");
        }
        return format!("{}e{e}", trim(format!("{m:.2}")));
    }
    trim(format!("{v:.4}"))
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A plot area with two scales; marks are appended as SVG text and rendered inside a frame.
pub struct Plot {
    pub id: String,
    pub width: f64,
    pub height: f64,
    /// left, right, top, bottom margins.
    pub margin: (f64, f64, f64, f64),
    pub x: Scale,
    pub y: Scale,
    pub x_label: String,
    pub y_label: String,
    /// Draw y tick labels (off for charts that label rows themselves).
    pub y_ticks: bool,
    body: String,
    legend: Vec<(String, String)>,
}

impl Plot {
    pub fn new(id: &str, width: f64, height: f64, x: Scale, y: Scale) -> Plot {
        Plot {
            id: id.to_string(),
            width,
            height,
            margin: (70.0, 20.0, 20.0, 50.0),
            x,
            y,
            x_label: String::new(),
            y_label: String::new(),
            y_ticks: true,
            body: String::new(),
            legend: Vec::new(),
        }
    }

    pub fn labels(mut self, x: &str, y: &str) -> Plot {
        self.x_label = x.to_string();
        self.y_label = y.to_string();
        self
    }

    /// Pixel x of a data value, clamped to the plot area.
    pub fn px(&self, v: f64) -> f64 {
        let (l, r, _, _) = self.margin;
        let f = self.x.frac(v);
        let f = if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        };
        l + f * (self.width - l - r)
    }

    /// Pixel y of a data value, clamped to the plot area.
    pub fn py(&self, v: f64) -> f64 {
        let (_, _, t, b) = self.margin;
        let f = self.y.frac(v);
        let f = if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.height - b - f * (self.height - t - b)
    }

    /// Append raw SVG.
    pub fn raw(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// The SVG text collected so far, to append marks the helpers don't cover.
    pub fn raw_string(&mut self) -> &mut String {
        &mut self.body
    }

    /// A data point with a hover tooltip.
    pub fn point(&mut self, x: f64, y: f64, colour: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<circle class="pt" cx="{:.1}" cy="{:.1}" r="4" fill="{colour}" fill-opacity="0.8"><title>{}</title></circle>"#,
            self.px(x),
            self.py(y),
            esc(tip)
        );
    }

    /// Horizontal error bar from x0 to x1 at y.
    pub fn xerr(&mut self, x0: f64, x1: f64, y: f64, colour: &str) {
        let (a, b, py) = (self.px(x0), self.px(x1), self.py(y));
        let _ = write!(
            self.body,
            r#"<path d="M{a:.1},{py:.1}H{b:.1}M{a:.1},{:.1}V{:.1}M{b:.1},{:.1}V{:.1}" stroke="{colour}" fill="none"/>"#,
            py - 3.0,
            py + 3.0,
            py - 3.0,
            py + 3.0
        );
    }

    /// Vertical error bar from y0 to y1 at x.
    pub fn yerr(&mut self, x: f64, y0: f64, y1: f64, colour: &str) {
        let (px, a, b) = (self.px(x), self.py(y0), self.py(y1));
        let _ = write!(
            self.body,
            r#"<path d="M{px:.1},{a:.1}V{b:.1}M{:.1},{a:.1}H{:.1}M{:.1},{b:.1}H{:.1}" stroke="{colour}" fill="none"/>"#,
            px - 3.0,
            px + 3.0,
            px - 3.0,
            px + 3.0
        );
    }

    /// A polyline through data points.
    pub fn line(&mut self, pts: &[(f64, f64)], colour: &str, dash: bool) {
        if pts.len() < 2 {
            return;
        }
        let d: Vec<String> = pts
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", self.px(*x), self.py(*y)))
            .collect();
        let dash = if dash {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = write!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
            d.join(" ")
        );
    }

    /// Set the legend, drawn above the plot area: call before drawing marks, since it makes
    /// the chart taller by the room the legend needs (the plot area keeps its size, and no
    /// legend hides a point). Short labels go in columns, long ones one per line.
    pub fn set_legend(&mut self, entries: Vec<(String, String)>) {
        let (rows, _) = self.legend_layout(&entries);
        let room = 16.0 * rows as f64 + 6.0;
        self.margin.2 += room;
        self.height += room;
        self.legend = entries;
    }

    /// Rows needed and column width for `entries`.
    fn legend_layout(&self, entries: &[(String, String)]) -> (usize, f64) {
        let longest = entries
            .iter()
            .map(|e| e.1.chars().count())
            .max()
            .unwrap_or(0);
        let col = (longest as f64 * 6.5 + 30.0).max(120.0);
        let usable = self.width - self.margin.0 - self.margin.1;
        let cols = ((usable / col).floor() as usize).max(1);
        (entries.len().div_ceil(cols), col)
    }

    fn axes(&self) -> String {
        let (l, r, t, b) = self.margin;
        let (x0, x1, y0, y1) = (l, self.width - r, self.height - b, t);
        let mut s = format!(
            r##"<rect x="{x0:.1}" y="{y1:.1}" width="{:.1}" height="{:.1}" fill="#fbfbfb" stroke="#999"/>"##,
            x1 - x0,
            y0 - y1
        );
        for v in self.x.ticks() {
            let px = self.px(v);
            let _ = write!(
                s,
                r##"<line x1="{px:.1}" x2="{px:.1}" y1="{y1:.1}" y2="{y0:.1}" stroke="#e4e4e4"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"##,
                y0 + 14.0,
                tick_label(v)
            );
        }
        for v in self.y.ticks().into_iter().filter(|_| self.y_ticks) {
            let py = self.py(v);
            let _ = write!(
                s,
                r##"<line x1="{x0:.1}" x2="{x1:.1}" y1="{py:.1}" y2="{py:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
                x0 - 4.0,
                py + 4.0,
                tick_label(v)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text><text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle" class="axis">{}</text>"#,
            (x0 + x1) / 2.0,
            self.height - 8.0,
            esc(&self.x_label),
            (y0 + y1) / 2.0,
            esc(&self.y_label)
        );
        s
    }

    fn legend_svg(&self) -> String {
        let mut s = String::new();
        let (rows, col) = self.legend_layout(&self.legend);
        let l = self.margin.0;
        for (i, (c, label)) in self.legend.iter().enumerate() {
            let (r, k) = if rows == 0 {
                (0, 0)
            } else {
                (i % rows, i / rows)
            };
            let x = l + k as f64 * col;
            let y = 14.0 + 16.0 * r as f64;
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{c}"/><text x="{:.1}" y="{y:.1}" class="legend">{}</text>"#,
                y - 9.0,
                x + 14.0,
                esc(label)
            );
        }
        s
    }

    pub fn render(&self) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">{axes}{body}{legend}</svg>"#,
            id = esc(&self.id),
            w = self.width,
            h = self.height,
            axes = self.axes(),
            body = self.body,
            legend = self.legend_svg()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_ticks() {
        let s = Scale::log(&[0.003, 0.4, 0.0, -1.0]);
        assert_eq!(
            s,
            Scale::Log {
                min: 0.001,
                max: 1.0
            }
        );
        assert_eq!(s.ticks(), vec![0.001, 0.01, 0.1, 1.0]);
        assert!((s.frac(0.01) - 1.0 / 3.0).abs() < 1e-12);
        let narrow = Scale::log(&[2.0, 3.0]);
        assert_eq!(narrow.ticks(), vec![1.0, 2.0, 5.0, 10.0]);
        let lin = Scale::Linear {
            min: 0.0,
            max: 10.0,
        };
        assert_eq!(lin.ticks(), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            Scale::linear(&[5.0, 5.0], false),
            Scale::Linear {
                min: 4.45,
                max: 5.55
            }
        );
        assert_eq!(tick_label(0.001), "0.001");
        assert_eq!(tick_label(1e6), "1e6");
        assert_eq!(tick_label(2.5e-5), "2.5e-5");
        assert_eq!(tick_label(250.0), "250");
    }

    #[test]
    fn escaping_and_clamping() {
        assert_eq!(esc(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
        let p = Plot::new(
            "c",
            400.0,
            300.0,
            Scale::Log {
                min: 1.0,
                max: 100.0,
            },
            Scale::Linear { min: 0.0, max: 1.0 },
        );
        assert_eq!(p.px(1.0), 70.0);
        assert_eq!(p.px(100.0), 380.0);
        assert_eq!(p.px(1e9), 380.0, "clamped");
        assert_eq!(
            p.px(-5.0),
            70.0,
            "non-positive on a log axis goes to the edge, not NaN"
        );
        assert_eq!(p.py(0.0), 250.0);
        assert!(p.render().starts_with("<svg"));
    }
}
