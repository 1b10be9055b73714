//! The sentence-transformers pipeline a model folder declares in `modules.json`: which
//! pooling (`1_Pooling/config.json`) and whether a `Normalize` module L2-normalises the
//! result (all-MiniLM-L6-v2 has one: `encode` returns unit vectors even with
//! `normalize_embeddings=False`). A folder without `modules.json` is a plain transformers
//! model, which sentence-transformers wraps with mean pooling and no normalisation.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the token vectors over the attention mask.
    Mean,
    /// The first token's vector ([CLS]).
    Cls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    pub pooling: Pooling,
    pub normalize: bool,
}

impl Pipeline {
    pub fn read(dir: &Path) -> Result<Self> {
        let mut p = Pipeline {
            pooling: Pooling::Mean,
            normalize: false,
        };
        let modules_path = dir.join("modules.json");
        if !modules_path.is_file() {
            return Ok(p);
        }
        let modules = read_json(&modules_path)?;
        let modules = modules
            .as_array()
            .with_context(|| format!("{}: expected a list of modules", modules_path.display()))?;
        for (i, m) in modules.iter().enumerate() {
            let ty = m
                .get("type")
                .and_then(Value::as_str)
                .with_context(|| format!("{}: module {i} has no `type`", modules_path.display()))?;
            let short = ty.rsplit('.').next().unwrap_or(ty);
            match short {
                "Transformer" => {}
                "Normalize" => p.normalize = true,
                "Pooling" => {
                    let sub = m.get("path").and_then(Value::as_str).unwrap_or("");
                    p.pooling = read_pooling(&dir.join(sub).join("config.json"))?;
                }
                _ => bail!(
                    "{}: module `{ty}` is not supported by the candle embedder (supported: \
                     Transformer, Pooling with mean or cls, Normalize)",
                    modules_path.display()
                ),
            }
        }
        Ok(p)
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))
}

fn read_pooling(path: &Path) -> Result<Pooling> {
    let cfg = read_json(path)?;
    let on = |k: &str| cfg.get(k).and_then(Value::as_bool).unwrap_or(false);
    let modes: Vec<&str> = [
        "pooling_mode_cls_token",
        "pooling_mode_mean_tokens",
        "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens",
        "pooling_mode_lasttoken",
    ]
    .into_iter()
    .filter(|k| on(k))
    .collect();
    match modes.as_slice() {
        ["pooling_mode_mean_tokens"] => Ok(Pooling::Mean),
        ["pooling_mode_cls_token"] => Ok(Pooling::Cls),
        other => bail!(
            "{}: pooling {other:?} is not supported (exactly one of pooling_mode_mean_tokens, \
             pooling_mode_cls_token)",
            path.display()
        ),
    }
}

/// The text as sentence-transformers' Transformer module hands it to the tokenizer: Python's
/// `str.strip()` (Unicode white space and the separators U+001C..U+001F, which Rust's
/// `trim` keeps), then lower-cased when `sentence_bert_config.json` says `do_lower_case`.
/// Stripping matters for SentencePiece tokenizers: a trailing space is a `▁` token.
pub fn st_text(text: &str, lowercase: bool) -> std::borrow::Cow<'_, str> {
    let stripped =
        text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    if lowercase {
        stripped.to_lowercase().into()
    } else {
        stripped.into()
    }
}

/// L2-normalise in place, as torch's `F.normalize` (norm floored at 1e-12).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(modules: &str, pooling: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("modules.json"), modules).unwrap();
        std::fs::create_dir(d.path().join("1_Pooling")).unwrap();
        std::fs::write(d.path().join("1_Pooling/config.json"), pooling).unwrap();
        d
    }

    const MODULES: &str = r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}"#;

    #[test]
    fn reads_pooling_and_normalize() {
        let none = tempfile::tempdir().unwrap();
        let p = Pipeline::read(none.path()).unwrap();
        assert_eq!((p.pooling, p.normalize), (Pooling::Mean, false));
        let norm = format!(
            "{MODULES},{{\"idx\":2,\"name\":\"2\",\"path\":\"2_Normalize\",\"type\":\"sentence_transformers.models.Normalize\"}}]"
        );
        let d = folder(
            &norm,
            r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        );
        let p = Pipeline::read(d.path()).unwrap();
        assert_eq!((p.pooling, p.normalize), (Pooling::Cls, true));
    }

    #[test]
    fn unsupported_modules_and_poolings_are_named() {
        let d = folder(
            &format!("{MODULES}]"),
            r#"{"pooling_mode_max_tokens": true}"#,
        );
        let e = format!("{:#}", Pipeline::read(d.path()).unwrap_err());
        assert!(
            e.contains("pooling_mode_max_tokens") && e.contains("1_Pooling"),
            "{e}"
        );
        let dense = format!(
            "{MODULES},{{\"idx\":2,\"path\":\"2_Dense\",\"type\":\"sentence_transformers.models.Dense\"}}]"
        );
        let d = folder(&dense, r#"{"pooling_mode_mean_tokens": true}"#);
        let e = format!("{:#}", Pipeline::read(d.path()).unwrap_err());
        assert!(e.contains("sentence_transformers.models.Dense"), "{e}");
    }

    #[test]
    fn texts_are_stripped_as_python_strips() {
        assert_eq!(st_text("  a b\t\n", false), "a b");
        assert_eq!(st_text("\u{1f}Film\u{1c}\u{3000}", false), "Film");
        assert_eq!(st_text("\u{200b}x", false), "\u{200b}x"); // not white space in Python either
        assert_eq!(st_text(" Straße ÄB ", true), "straße äb");
        assert_eq!(st_text("", false), "");
    }

    #[test]
    fn normalize_gives_unit_vectors() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        let mut z = vec![0.0, 0.0];
        l2_normalize(&mut z);
        assert_eq!(z, [0.0, 0.0]);
    }
}
