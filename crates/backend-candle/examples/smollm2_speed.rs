//! Time SmolLM2 zero-shot on Rotten Tomatoes sentences with each `weights` format, in one run:
//! seconds per inference (prefill + greedy generation, as the backend runs it), prefill and
//! decode tokens per second, and whether the greedy tokens equal the as-stored model's.
//!
//! Usage: smollm2_speed GGUF N [study|dspy-chat] [REPO_ROOT] [FORMATS] [IDS_OUT.json]
//! FORMATS: comma-separated `weights` values (default "as-stored,q8_0,f32"). IDS_OUT: the
//! prompts' token ids, the stop ids and the as-stored greedy tokens, for
//! scripts/smollm2_llama_cpp_speed.py to time llama.cpp on the same input.
//! scripts/bench-smollm2.sh runs both and prints the ratios.

use anyhow::{Context, Result};
use powerhungry_backend_candle::causal_lm::GenerateOptions;
use powerhungry_backend_candle::chat_template::messages;
use powerhungry_backend_candle::{GgufLm, WeightFormat};
use powerhungry_tasks::prompts::{build_prompt, PromptStyle};
use powerhungry_tasks::{Input, TaskName};
use std::time::Instant;

const USAGE: &str = "usage: smollm2_speed GGUF N [study|dspy-chat] [ROOT] [FORMATS] [IDS_OUT]";

/// Rotten Tomatoes sentences 300.. of the .pos file (Latin-1), the prompts' ids.
fn prompt_ids(
    lm: &GgufLm,
    root: &std::path::Path,
    n: usize,
    style: &PromptStyle,
) -> Result<Vec<Vec<u32>>> {
    let file = root.join("data/rt-polarity/rt-polarity.pos");
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let labels = vec!["negative".to_string(), "positive".to_string()];
    let mut out = Vec::with_capacity(n);
    for l in bytes.split(|&b| b == b'\n').skip(300).take(n) {
        let text: String = l.iter().map(|&b| b as char).collect();
        let p = build_prompt(
            TaskName::TextClassification,
            style,
            &Input::Text(text),
            &labels,
        )?;
        out.push(
            lm.tokenizer
                .encode(&lm.render_messages(&messages(&p), true)?)?,
        );
    }
    Ok(out)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = std::path::Path::new(args.first().context(USAGE)?);
    let n: usize = args.get(1).map_or(Ok(10), |s| s.parse()).context(USAGE)?;
    let style = match args.get(2).map(String::as_str) {
        Some("dspy-chat") => PromptStyle::DspyChat,
        _ => PromptStyle::Study,
    };
    let root = std::path::PathBuf::from(args.get(3).map_or(".", |s| s.as_str()));
    let formats: Vec<WeightFormat> = args
        .get(4)
        .map_or("as-stored,q8_0,f32", |s| s.as_str())
        .split(',')
        .map(str::parse)
        .collect::<Result<_>>()?;
    let opts = GenerateOptions {
        max_new_tokens: 16,
        ..Default::default()
    };
    let mut reference: Option<Vec<Vec<u32>>> = None;
    let mut prompts: Vec<Vec<u32>> = Vec::new();
    let mut stop_ids = Vec::new();
    println!(
        "format\tload_s\ts_per_inference\tprompt_tokens\tprefill_tok_s\tdecode_tok_s\tgreedy_equal"
    );
    for format in formats {
        let t = Instant::now();
        let mut lm = GgufLm::load_with(path, format)?;
        let load_s = t.elapsed().as_secs_f64();
        if prompts.is_empty() {
            prompts = prompt_ids(&lm, &root, n, &style)?;
            stop_ids = lm.stop_ids.clone();
        }
        let (mut prefill_s, mut total_s, mut gen_tok) = (0.0, 0.0, 0usize);
        let mut greedy = Vec::with_capacity(prompts.len());
        for ids in &prompts {
            let t0 = Instant::now();
            lm.prompt_logits(ids)?;
            let t1 = Instant::now();
            let g = lm.generate(ids, &opts)?;
            prefill_s += (t1 - t0).as_secs_f64();
            total_s += t1.elapsed().as_secs_f64();
            gen_tok += g.tokens.len().saturating_sub(1);
            greedy.push(g.tokens);
        }
        // generate = one prefill (timed apart above) + (tokens - 1) decode steps; "n/a" when
        // that prefill took longer than the whole inference (a loaded machine).
        let decode_s = total_s - prefill_s;
        let decode = if decode_s > 0.0 {
            format!("{:.1}", gen_tok as f64 / decode_s)
        } else {
            "n/a".to_string()
        };
        let prompt_tok: usize = prompts.iter().map(Vec::len).sum();
        let equal = match &reference {
            None => "reference".to_string(),
            Some(r) => format!(
                "{}/{}",
                r.iter().zip(&greedy).filter(|(a, b)| a == b).count(),
                r.len()
            ),
        };
        println!(
            "{format}\t{load_s:.2}\t{:.3}\t{:.1}\t{:.0}\t{decode}\t{equal}",
            total_s / n as f64,
            prompt_tok as f64 / n as f64,
            prompt_tok as f64 / prefill_s,
        );
        if reference.is_none() {
            reference = Some(greedy);
        }
    }
    if let Some(out) = args.get(5) {
        let json = serde_json::json!({
            "prompts": prompts, "stop_ids": stop_ids, "max_new_tokens": opts.max_new_tokens,
            "first_format_greedy": reference,
        });
        std::fs::write(out, serde_json::to_string(&json)?)
            .with_context(|| format!("writing {out}"))?;
    }
    Ok(())
}
