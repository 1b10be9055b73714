//! The self-contained HTML report: inline CSS, inline SVG charts, the tables, and a tiny inline
//! script that checks every chart drew its points (results visible at `report.html#selfcheck`,
//! used by the browser test). Nothing is fetched at view time.

use crate::analysis::Analysis;
use crate::charts::{all_charts, Chart};
use crate::parity::ParityRow;
use crate::rating::BANDS_VERSION;
use crate::svg::esc;
use crate::tables::{all_tables, sig, Table};
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;\
margin:24px auto;max-width:1100px;color:#222;padding:0 16px}h1{font-size:24px}h2{font-size:19px;\
margin-top:36px;border-bottom:1px solid #ddd}figure{margin:24px 0}figcaption{color:#444;\
max-width:820px;font-size:13px}table{border-collapse:collapse;font-size:12px;margin:8px 0 20px}\
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;white-space:nowrap}th{background:#f3f3f3}\
.tick{font-size:11px;fill:#555}.axis{font-size:12px;fill:#222}.legend{font-size:12px;fill:#222}\
.rowlabel{font-size:11px;fill:#222}.band{font-size:12px;fill:#7a7a7a;font-weight:bold}\
.plain{background:#f6f8fa;border-left:4px solid #0072B2;padding:8px 12px}.note{color:#555}\
.tablewrap{overflow-x:auto}";

const SELF_CHECK: &str = r#"(function(){var out={charts:{},errors:[]};
try{document.querySelectorAll('figure[data-chart]').forEach(function(f){
var svg=f.querySelector('svg');var vb=svg.viewBox.baseVal;var n=0,bad=0;
svg.querySelectorAll('.pt').forEach(function(el){var b=el.getBBox();
var ok=isFinite(b.x)&&isFinite(b.y)&&b.width>0&&b.height>0&&b.x>=-1&&b.y>=-1&&
b.x+b.width<=vb.width+1&&b.y+b.height<=vb.height+1;if(ok){n++}else{bad++}});
out.charts[f.getAttribute('data-chart')]={drawn:n,outside:bad,expected:+f.getAttribute('data-points')};});
}catch(e){out.errors.push(String(e))}
var pre=document.createElement('pre');pre.id='selfcheck';pre.textContent=JSON.stringify(out);
if(location.hash!=='#selfcheck'){pre.hidden=true}document.body.appendChild(pre);})();"#;

/// Render the whole report. `generated` is a human-readable timestamp placed in the header.
pub fn render(a: &Analysis, parity: &[ParityRow], generated: &str) -> String {
    let charts = all_charts(a, parity);
    let tables = all_tables(a, parity);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>powerhungry report</title><style>{STYLE}</style></head><body>\
         <h1>powerhungry report</h1><p class=\"note\">Source: {} · generated {} · {} model x \
         dataset series · rating bands {BANDS_VERSION}</p>",
        esc(&a.source),
        esc(generated),
        a.series.len()
    );
    h.push_str(&plain_words(a));
    h.push_str(&method_notes());
    if !a.notes.is_empty() {
        h.push_str("<h2>Shown apart</h2><ul>");
        for s in &a.notes {
            let _ = write!(h, "<li>{}</li>", esc(s));
        }
        h.push_str("</ul>");
    }
    if !a.skipped.is_empty() {
        h.push_str("<h2>Left out</h2><ul>");
        for s in &a.skipped {
            let _ = write!(h, "<li>{}</li>", esc(s));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Charts</h2>");
    if charts.is_empty() {
        h.push_str("<p>No data to chart.</p>");
    }
    for c in &charts {
        h.push_str(&figure(c));
    }
    h.push_str("<h2>Tables</h2>");
    for t in &tables {
        h.push_str(&table_html(t));
    }
    let _ = write!(h, "<script>{SELF_CHECK}</script></body></html>");
    h
}

fn figure(c: &Chart) -> String {
    let mut s = format!(
        "<figure id=\"{}\" data-chart=\"{}\" data-points=\"{}\"><h3>{}</h3>{}<figcaption>{}",
        esc(&c.id),
        esc(&c.id),
        c.points,
        esc(&c.title),
        c.svg,
        esc(&c.caption)
    );
    for n in &c.notes {
        let _ = write!(s, "<br>{}", esc(n));
    }
    s.push_str("</figcaption></figure>");
    s
}

fn table_html(full: &Table) -> String {
    let (t, methods) = crate::tables::narrowed(full);
    let t = &t;
    let mut s = format!(
        "<h3>{}</h3><div class=\"tablewrap\"><table><tr>",
        esc(&t.title)
    );
    for hd in &t.headers {
        let _ = write!(s, "<th>{}</th>", esc(hd));
    }
    s.push_str("</tr>");
    for r in &t.rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    if t.rows.is_empty() {
        let _ = write!(
            s,
            "<tr><td colspan=\"{}\">(nothing to show)</td></tr>",
            t.headers.len()
        );
    }
    s.push_str("</table></div>");
    for m in methods {
        let _ = write!(s, "<p class=\"note\">Methods: {}</p>", esc(&m));
    }
    s.push_str("<p class=\"note\">Columns empty for every row are left out here; the CSV and JSON exports have them all.</p>");
    s
}

/// Totals and equivalents in plain words.
pub fn plain_words(a: &Analysis) -> String {
    let t = &a.totals;
    let mut s = format!(
        "<div class=\"plain\"><p>The {} repetitions in this report ran {} inferences and used \
         {} kWh of energy",
        thousands(t.repetitions as u64),
        thousands(t.inferences),
        sig(t.kwh)
    );
    if (t.facility_kwh - t.kwh).abs() > 1e-12 {
        let _ = write!(
            s,
            " ({} kWh with the data centre's overhead, PUE)",
            sig(t.facility_kwh)
        );
    }
    let charges = t.smartphone_charges;
    let _ = if charges >= 10.0 {
        write!(
            s,
            ": about as much as {} smartphone charges.",
            thousands(charges.round() as u64)
        )
    } else {
        write!(s, ": {} of one smartphone charge.", sig(charges))
    };
    match (t.g_co2e, t.miles_driven) {
        (Some(g), Some(m)) => {
            let _ = write!(
                s,
                " Their emissions, {}, are about what an average gasoline car emits \
                 driving {} miles ({} km).",
                mass(g),
                sig(m),
                sig(m * 1.609_344)
            );
        }
        _ => s.push_str(" Emissions are not shown: some series have no grid intensity."),
    }
    s.push_str("</p>");
    for task in &a.tasks {
        let of_task: Vec<_> = a.series.iter().filter(|x| x.task == task.task).collect();
        let lo = of_task
            .iter()
            .min_by(|x, y| x.wh_per_1000.mean.total_cmp(&y.wh_per_1000.mean));
        let hi = of_task
            .iter()
            .max_by(|x, y| x.wh_per_1000.mean.total_cmp(&y.wh_per_1000.mean));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if of_task.len() > 1 && lo.wh_per_1000.mean > 0.0 {
                let _ = write!(
                    s,
                    "<p>{}: 1,000 inferences took from {} Wh ({} on {}) to {} Wh ({} on {}), \
                     {}x as much.</p>",
                    esc(&task.task),
                    sig(lo.wh_per_1000.mean),
                    esc(&lo.model),
                    esc(&lo.dataset),
                    sig(hi.wh_per_1000.mean),
                    esc(&hi.model),
                    esc(&hi.dataset),
                    sig(hi.wh_per_1000.mean / lo.wh_per_1000.mean)
                );
            }
        }
    }
    s.push_str(
        "<p class=\"note\">A smartphone charge is 0.012 kWh and a mile driven 400 g CO2 (US EPA \
         figures, as used in \"Power Hungry Processing\").</p></div>",
    );
    s
}

fn method_notes() -> String {
    "<h2>How to read this</h2><ul>\
     <li>Energy is per 1,000 inferences unless said otherwise; totals include idle power of the \
     components, and the tables also give energy above the idle baseline where one was measured.</li>\
     <li>Means over repetitions carry 95 % intervals from Student's t distribution with n - 1 \
     degrees of freedom (n is shown); with one repetition there is no interval.</li>\
     <li>Outliers are repetitions beyond Tukey's fences (1.5 x IQR outside the quartiles, \
     4 or more repetitions): flagged in the table, never dropped from a mean.</li>\
     <li>Every energy figure names its method: measured:* came from a sensor, estimated:* from a \
     model or a constant. Captions say which.</li>\
     <li>Rating bands are fixed per task and versioned: a model's letter only changes if its own \
     energy does. See the bands table.</li></ul>"
        .into()
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Grams of CO2e in the unit that reads best.
pub fn mass(g: f64) -> String {
    if g.abs() >= 1e6 {
        format!("{} t CO2e", sig(g / 1e6))
    } else if g.abs() >= 1e3 {
        format!("{} kg CO2e", sig(g / 1e3))
    } else {
        format!("{} g CO2e", sig(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(mass(0.5), "0.5000 g CO2e");
        assert_eq!(mass(111_244.0), "111.2 kg CO2e");
        assert_eq!(mass(2.5e6), "2.500 t CO2e");
    }
}
