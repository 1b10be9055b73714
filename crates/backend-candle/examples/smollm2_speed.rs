//! Time SmolLM2 zero-shot on Rotten Tomatoes sentences: ms per inference, prefill and decode
//! tokens per second. Usage: smollm2_speed GGUF N [study|dspy-chat] [REPO_ROOT]

use anyhow::{Context, Result};
use powerhungry_backend_candle::causal_lm::GenerateOptions;
use powerhungry_backend_candle::chat_template::messages;
use powerhungry_backend_candle::GgufLm;
use powerhungry_tasks::prompts::{build_prompt, PromptStyle};
use powerhungry_tasks::{Input, TaskName};
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .context("usage: smollm2_speed GGUF N [study|dspy-chat] [ROOT]")?;
    let n: usize = args.get(1).map_or(Ok(10), |s| s.parse())?;
    let style = match args.get(2).map(String::as_str) {
        Some("dspy-chat") => PromptStyle::DspyChat,
        _ => PromptStyle::Study,
    };
    let root = std::path::PathBuf::from(args.get(3).map_or(".", |s| s.as_str()));
    let t = Instant::now();
    let mut lm = GgufLm::load(std::path::Path::new(path))?;
    eprintln!("load {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let file = root.join("data/rt-polarity/rt-polarity.pos");
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let labels = vec!["negative".to_string(), "positive".to_string()];
    let opts = GenerateOptions {
        max_new_tokens: 16,
        ..Default::default()
    };
    let (mut prefill_s, mut decode_s, mut prompt_tok, mut gen_tok) = (0.0, 0.0, 0usize, 0usize);
    let total = Instant::now();
    for l in bytes.split(|&b| b == b'\n').skip(300).take(n) {
        let text: String = l.iter().map(|&b| b as char).collect();
        let p = build_prompt(
            TaskName::TextClassification,
            &style,
            &Input::Text(text),
            &labels,
        )?;
        let rendered = lm.render_messages(&messages(&p), true)?;
        let ids = lm.tokenizer.encode(&rendered)?;
        let t0 = Instant::now();
        lm.prompt_logits(&ids)?;
        let t1 = Instant::now();
        let g = lm.generate(&ids, &opts)?;
        let t2 = Instant::now();
        prefill_s += (t1 - t0).as_secs_f64();
        // generate = one prefill + (tokens - 1) decode steps
        decode_s += ((t2 - t1).as_secs_f64() - (t1 - t0).as_secs_f64()).max(0.0);
        prompt_tok += ids.len();
        gen_tok += g.tokens.len().saturating_sub(1);
    }
    let _ = total;
    println!(
        "{n} inputs ({style:?}): {:.0} ms per inference (prefill + generation); prompt {:.1} tokens \
         on average, prefill {:.0} tokens/s, decode {:.1} tokens/s",
        (prefill_s + decode_s) / n as f64 * 1e3,
        prompt_tok as f64 / n as f64,
        prompt_tok as f64 / prefill_s,
        gen_tok as f64 / decode_s
    );
    Ok(())
}
