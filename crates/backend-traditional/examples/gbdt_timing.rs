//! Fit and predict time of our gradient boosting on the splits `tests/gbdt_xgboost.rs` writes
//! (`POWERHUNGRY_WRITE_GBDT_SPLITS=DIR`), with 1 and 2 threads; scripts/bench-gbdt.sh runs it
//! beside xgboost on the same features.
//!
//!     cargo run --release -p powerhungry-backend-traditional --example gbdt_timing -- DIR

use anyhow::{anyhow, Context, Result};
use powerhungry_backend_traditional::{GbdtOptions, TraditionalBackend};
use powerhungry_tasks::{Backend, Example, Input};
use std::time::Instant;

fn part(v: &serde_json::Value, key: &str, file: &str) -> Result<Vec<Example>> {
    v[key]
        .as_array()
        .ok_or_else(|| anyhow!("{file}: no `{key}` array"))?
        .iter()
        .map(|r| {
            let field = |k: &str| {
                r[k].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("{file}: a `{key}` row has no `{k}`"))
            };
            Ok(Example {
                id: field("id")?,
                input: Input::Text(field("text")?),
                label: Some(field("label")?),
                gold: None,
            })
        })
        .collect()
}

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow!("usage: gbdt_timing DIR (the test's split files)"))?;
    println!("case\tthreads\tfit_s\tpredict_s");
    for (name, features) in [
        ("rt-polarity", "bow"),
        ("ag_news", "bow"),
        ("emotion", "bow"),
        ("rt-polarity", "tfidf_char"),
    ] {
        let file = format!("{dir}/{name}.json");
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{file}: not JSON"))?;
        let train = part(&v, "train", &file)?;
        let test = part(&v, "test", &file)?;
        let test: Vec<&Example> = test.iter().collect();
        for threads in [1, 2] {
            let opts = GbdtOptions {
                threads,
                ..GbdtOptions::default()
            };
            let mut m = match features {
                "bow" => TraditionalBackend::bag_of_words(opts),
                _ => TraditionalBackend::tfidf_char(opts),
            };
            let t = Instant::now();
            m.fit(&train)?;
            let fit = t.elapsed().as_secs_f64();
            let t = Instant::now();
            m.predict(&test)?;
            let pred = t.elapsed().as_secs_f64();
            println!("{name}/{features}\t{threads}\t{fit:.3}\t{pred:.4}");
        }
    }
    Ok(())
}
