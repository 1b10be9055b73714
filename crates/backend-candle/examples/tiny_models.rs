//! Write the tiny random sequence classifiers the candle tests use (BERT, DistilBERT,
//! RoBERTa) into DIR/{bert,distilbert,roberta}, for scripts/minilm_tiny_classifiers.py to
//! run through Python transformers. Usage: tiny_models DIR

use anyhow::{bail, Result};
use powerhungry_backend_candle::config::Family;
use powerhungry_backend_candle::tiny::{self, TinySpec};

fn main() -> Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        bail!("usage: tiny_models DIR");
    };
    for family in [Family::Bert, Family::DistilBert, Family::Roberta] {
        let spec: TinySpec = tiny::reference_spec(family);
        let out = std::path::Path::new(&dir).join(family.name());
        tiny::write(&out, &spec)?;
        println!("{}", out.display());
    }
    Ok(())
}
