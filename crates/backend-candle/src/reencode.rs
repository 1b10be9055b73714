//! Re-encoding a GGUF file's weights at load, for speed: the `weights` option of the causal LM.
//!
//! Why: candle 0.9.2's CPU kernels for quantized matmul are scalar for Q4_1 (its `vec_dot`
//! is `vec_dot_unopt`), and its SIMD paths for the other types are chosen at compile time
//! (`#[cfg(target_feature = "avx2")]`), which our default build (x86-64 baseline) does not
//! enable. SmolLM2's file is Q4_1, so every matmul ran the scalar loop (about 3/4 of the time
//! under `perf`; docs/candle.md has the figures). Dense F32 weights go through `gemm`, which
//! picks AVX2/AVX-512 at run time.
//!
//! How: every tensor of another type is dequantized to f32 and quantized again to the target
//! type (Q8_0 has 8-bit codes per 32 values, finer than Q4_1's 4-bit codes, so Q4_1 -> Q8_0
//! loses little; F32 loses nothing), written into an in-memory GGUF with the file's metadata,
//! and candle builds the model from that. The model's description says what was re-encoded.

use anyhow::{anyhow, bail, Context, Result};
use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::Device;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

/// What the weights run as (the suite option `weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightFormat {
    /// The file's types, as candle reads them.
    AsStored,
    /// Every other type re-encoded to Q8_0 (candle's quantized matmul, 8-bit codes).
    Q8_0,
    /// Every tensor dequantized to F32 (dense matmul through `gemm`); the default: the
    /// fastest on x86 CPUs for SmolLM2 (docs/candle.md), exact w.r.t. the file's values.
    #[default]
    F32,
}

/// The accepted values of the option, in the order of [`WeightFormat`].
pub const WEIGHT_FORMATS: &str = "\"as-stored\", \"q8_0\", \"f32\"";

impl WeightFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WeightFormat::AsStored => "as-stored",
            WeightFormat::Q8_0 => "q8_0",
            WeightFormat::F32 => "f32",
        }
    }

    /// The GGUF type tensors are re-encoded to (None: none are).
    fn target(self) -> Option<GgmlDType> {
        match self {
            WeightFormat::AsStored => None,
            WeightFormat::Q8_0 => Some(GgmlDType::Q8_0),
            WeightFormat::F32 => Some(GgmlDType::F32),
        }
    }
}

impl std::str::FromStr for WeightFormat {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<WeightFormat> {
        match s {
            "as-stored" => Ok(WeightFormat::AsStored),
            "q8_0" => Ok(WeightFormat::Q8_0),
            "f32" => Ok(WeightFormat::F32),
            _ => bail!("weights = {s:?}: expected one of {WEIGHT_FORMATS}"),
        }
    }
}

impl std::fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a tensor of `from` is re-encoded to `to`. Q8_0 leaves the float types alone
/// (1-D norms are F32, and re-quantizing floats would only lose precision).
fn converts(from: GgmlDType, to: GgmlDType) -> bool {
    if from == to {
        return false;
    }
    match to {
        GgmlDType::Q8_0 => !matches!(from, GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16),
        _ => true,
    }
}

/// Weights re-encoded into an in-memory GGUF file.
pub struct Reencoded {
    /// The header of `file`, with the original file's metadata.
    pub content: Content,
    pub file: Cursor<Vec<u8>>,
    /// What was done, for the model's description ("weights re-encoded at load: 210 Q4_1 +
    /// 1 Q8_0 -> F32").
    pub what: String,
}

/// The weights of `ct` (read from `path`) re-encoded to `format`. `AsStored` returns None:
/// read the file itself.
pub fn reencode(
    ct: &Content,
    path: &Path,
    format: WeightFormat,
    device: &Device,
) -> Result<Option<Reencoded>> {
    let Some(to) = format.target() else {
        return Ok(None);
    };
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the GGUF file {}", path.display()))?;
    let mut names: Vec<&String> = ct.tensor_infos.keys().collect();
    names.sort();
    let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
    let mut done = BTreeMap::<String, usize>::new();
    for name in names {
        let q = ct
            .tensor(&mut f, name, device)
            .map_err(|e| anyhow!("{}: reading tensor `{name}`: {e}", path.display()))?;
        let from = q.dtype();
        let q = if converts(from, to) {
            let dense = q
                .dequantize(device)
                .map_err(|e| anyhow!("{}: dequantizing `{name}`: {e}", path.display()))?;
            *done.entry(format!("{from:?}")).or_default() += 1;
            QTensor::quantize(&dense, to).map_err(|e| {
                anyhow!(
                    "{}: re-encoding `{name}` ({from:?}, shape {:?}) to {to:?}: {e}",
                    path.display(),
                    dense.dims()
                )
            })?
        } else {
            q
        };
        tensors.push((name.clone(), q));
    }
    let mut buf = Cursor::new(Vec::new());
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    gguf_file::write(&mut buf, &[], &refs)
        .map_err(|e| anyhow!("{}: writing the re-encoded weights: {e}", path.display()))?;
    drop(tensors);
    buf.set_position(0);
    let mut out = Content::read(&mut buf)
        .map_err(|e| anyhow!("{}: reading the re-encoded weights: {e}", path.display()))?;
    out.metadata = ct.metadata.clone();
    let what: Vec<String> = done.iter().map(|(t, n)| format!("{n} {t}")).collect();
    let what = if what.is_empty() {
        format!("weights {format}: none needed re-encoding")
    } else {
        format!("weights re-encoded at load: {} -> {to:?}", what.join(" + "))
    };
    Ok(Some(Reencoded {
        content: out,
        file: buf,
        what,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_formats_parse_and_bad_values_name_the_choices() {
        for f in [
            WeightFormat::AsStored,
            WeightFormat::Q8_0,
            WeightFormat::F32,
        ] {
            assert_eq!(f.as_str().parse::<WeightFormat>().expect("parses"), f);
        }
        for bad in ["Q8_0", "f16", "", "as stored"] {
            let e = bad.parse::<WeightFormat>().expect_err(bad).to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
            assert!(e.contains(WEIGHT_FORMATS), "{e}");
        }
    }

    #[test]
    fn only_other_types_are_converted() {
        assert!(converts(GgmlDType::Q4_1, GgmlDType::Q8_0));
        assert!(converts(GgmlDType::Q4K, GgmlDType::Q8_0));
        assert!(!converts(GgmlDType::F32, GgmlDType::Q8_0));
        assert!(!converts(GgmlDType::Q8_0, GgmlDType::Q8_0));
        assert!(converts(GgmlDType::Q8_0, GgmlDType::F32));
        assert!(converts(GgmlDType::F16, GgmlDType::F32));
        assert!(!converts(GgmlDType::F32, GgmlDType::F32));
    }
}
