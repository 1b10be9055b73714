//! Speed of the candle all-MiniLM-L6-v2 embedder: wall and CPU time per sentence at given
//! batch sizes, median of repeated passes. Driven by scripts/minilm_speed.sh, which runs
//! sentence-transformers on the same sentences in the same run.
//!
//! Usage: minilm_speed [--candle-bert] MODEL_DIR SENTENCES_FILE [BATCH ...]
//! (one sentence per line, UTF-8; --candle-bert: candle-transformers' BERT, not our fast one)
//! Threads: RAYON_NUM_THREADS (the script sets 2). Prints one JSON object per batch size.

use anyhow::{bail, Context, Result};
use powerhungry_backend_candle::{resolve, CandleEmbedder, ResolveOptions};
use powerhungry_tasks::TextEmbedder;
use std::time::Instant;

const REPEATS: usize = 3;

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().collect();
    let fast = !args.iter().any(|a| a == "--candle-bert");
    args.retain(|a| a != "--candle-bert");
    if args.len() < 3 {
        bail!("usage: minilm_speed MODEL_DIR SENTENCES_FILE [BATCH ...]");
    }
    let files = resolve(&args[1], &ResolveOptions::default())?;
    let text = std::fs::read_to_string(&args[2]).with_context(|| format!("reading {}", args[2]))?;
    let sentences: Vec<&str> = text.lines().collect();
    let batches: Vec<usize> = if args.len() > 3 {
        args[3..]
            .iter()
            .map(|b| {
                b.parse()
                    .with_context(|| format!("batch size {b:?} is not a number"))
            })
            .collect::<Result<_>>()?
    } else {
        vec![1, 32]
    };
    let mut model = CandleEmbedder::load_with(&files, fast)?;
    let name = if fast {
        "candle (powerhungry fast BERT)"
    } else {
        "candle (candle-transformers BERT)"
    };
    for &batch in &batches {
        if batch == 0 {
            bail!("batch size must be at least 1");
        }
        // Warm-up pass over a few batches (page in weights, start the thread pool).
        for chunk in sentences.chunks(batch).take(4) {
            model.embed(chunk)?;
        }
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        let mut tokens = 0u64;
        for _ in 0..REPEATS {
            let (t0, c0) = (Instant::now(), cpu_seconds());
            tokens = 0;
            for chunk in sentences.chunks(batch) {
                tokens += model
                    .embed(chunk)?
                    .iter()
                    .map(|(_, n)| *n as u64)
                    .sum::<u64>();
            }
            walls.push(t0.elapsed().as_secs_f64());
            cpus.push(cpu_seconds() - c0);
        }
        let n = sentences.len() as f64;
        println!(
            "{{\"impl\": \"{name}\", \"batch\": {batch}, \"sentences\": {}, \"tokens\": {tokens}, \"wall_ms_per_sentence\": {:.3}, \"cpu_s_total\": {:.3}, \"cpu_ms_per_sentence\": {:.3}, \"threads\": {}}}",
            sentences.len(),
            median(walls) * 1e3 / n,
            median(cpus.clone()),
            median(cpus) * 1e3 / n,
            rayon::current_num_threads()
        );
    }
    Ok(())
}
