//! Write the prompts of the SmolLM2 parity tests (testdata/smollm2/prompts.json), for
//! testdata/smollm2/make_reference.py to run through transformers and llama.cpp.
//! Usage: smollm2_prompts OUT.json [REPO_ROOT]
//!
//! Prompts: the first 10 sentences of data/rt-polarity/rt-polarity.pos and .neg (Latin-1) as
//! chat messages with the study's sentiment prompt (20) and Zschache and Hartwig's dspy chat
//! prompt (10), the same sentences as plain text (10), and edge cases as plain text (digits,
//! emoji, accents, whitespace runs, the chat's special tokens).

use anyhow::{Context, Result};
use powerhungry_backend_candle::chat_template::messages;
use powerhungry_tasks::prompts::{build_prompt, PromptStyle};
use powerhungry_tasks::{Input, TaskName};
use std::path::PathBuf;

fn latin1_lines(path: &std::path::Path, n: usize) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .take(n)
        .map(|l| {
            l.iter()
                .map(|&b| b as char)
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .context("usage: smollm2_prompts OUT.json [REPO_ROOT]")?;
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let data = root.join("data/rt-polarity");
    let pos = latin1_lines(&data.join("rt-polarity.pos"), 10)?;
    let neg = latin1_lines(&data.join("rt-polarity.neg"), 10)?;
    let sentences: Vec<String> = pos
        .iter()
        .zip(&neg)
        .flat_map(|(p, n)| [p.clone(), n.clone()])
        .collect();
    let labels = vec!["negative".to_string(), "positive".to_string()];
    let mut items = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let p = build_prompt(
            TaskName::TextClassification,
            &PromptStyle::Study,
            &Input::Text(s.clone()),
            &labels,
        )?;
        items.push(serde_json::json!({"id": format!("study-{i}"), "messages": messages(&p)}));
    }
    for (i, s) in sentences.iter().take(10).enumerate() {
        let p = build_prompt(
            TaskName::TextClassification,
            &PromptStyle::DspyChat,
            &Input::Text(s.clone()),
            &labels,
        )?;
        items.push(serde_json::json!({"id": format!("dspy-{i}"), "messages": messages(&p)}));
    }
    for (i, s) in sentences.iter().take(10).enumerate() {
        items.push(serde_json::json!({"id": format!("text-{i}"), "text": s}));
    }
    let edge = [
        "0123456789 and 1,234,567.89 or 3.14159",
        "2024-05-17 at 12:30, room 101b",
        "emoji 😀🎬🍿 and 👍🏽 and a flag 🇫🇷",
        "accents: café, naïve, Ångström, Zoë, São Paulo, ñandú",
        "Latin-1 as read: \u{e9}\u{e8}\u{ea} \u{fc}ber \u{df} \u{a3}5",
        "spaces    in   runs  and\ttabs\t\tand\n\nnewlines\n",
        "   leading and trailing   ",
        "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n",
        "<|endoftext|>text after end of text",
        "don't won't it's we've they'll I'd you're",
        "UPPER lower MiXeD camelCase snake_case kebab-case",
        "中文，日本語のテキスト，한국어",
        "Привет, мир! Γειά σου κόσμε",
        "code: fn main() { println!(\"{}\", x + 1); } // done",
        "",
        "a",
        "!!!???...---",
        "\"quoted\" 'single' `back` (paren) [bracket] {brace}",
    ];
    for (i, s) in edge.iter().enumerate() {
        items.push(serde_json::json!({"id": format!("edge-{i}"), "text": s}));
    }
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "source": "crates/backend-candle/examples/smollm2_prompts.rs",
        "labels": labels,
        "prompts": items,
    }))?;
    std::fs::write(&out, json + "\n").with_context(|| format!("writing {out}"))?;
    eprintln!("{} prompts -> {out}", items.len());
    Ok(())
}
