//! Write the tiny random XLM-RoBERTa sentence-transformers folder of the parity test
//! (tests/candle_xlmr.rs) into DIR, for crates/backend-candle/testdata/xlmr/make_reference.py.
//! Usage: tiny_xlmr DIR [SEED] (default: the reference's seed).

use anyhow::{bail, Context, Result};
use powerhungry_backend_candle::tiny_xlmr;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        bail!("usage: tiny_xlmr DIR [SEED]");
    };
    let seed = match args.next() {
        Some(s) => s
            .parse()
            .with_context(|| format!("SEED `{s}`: expected a whole number"))?,
        None => tiny_xlmr::REFERENCE_SEED,
    };
    tiny_xlmr::write(std::path::Path::new(&dir), seed)?;
    println!("{dir} (seed {seed})");
    Ok(())
}
