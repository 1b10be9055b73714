//! Texts packed end to end, without padding: the input of the fast BERT path.

use anyhow::{bail, Result};
use candle_core::{Device, Tensor};
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
pub struct Packed {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// Start of each text in `ids`, plus the total at the end.
    pub offsets: Vec<usize>,
}

impl Packed {
    /// Pack encoded texts (token ids, type ids).
    pub fn new(texts: &[&(Vec<u32>, Vec<u32>)]) -> Result<Self> {
        let mut p = Packed {
            ids: Vec::new(),
            type_ids: Vec::new(),
            offsets: vec![0],
        };
        for (i, (ids, types)) in texts.iter().enumerate() {
            if ids.is_empty() || ids.len() != types.len() {
                bail!("text {i}: {} ids and {} type ids", ids.len(), types.len());
            }
            p.ids.extend_from_slice(ids);
            p.type_ids.extend_from_slice(types);
            p.offsets.push(p.ids.len());
        }
        Ok(p)
    }

    /// Pack a right-padded batch, using Hugging Face's mask (1 = real token) for lengths.
    pub fn from_padded(ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Result<Self> {
        let ids = ids.to_vec2::<u32>()?;
        let types = type_ids.to_vec2::<u32>()?;
        let mask = mask.to_vec2::<u32>()?;
        let mut rows = Vec::with_capacity(ids.len());
        for (r, m) in mask.iter().enumerate() {
            let len = m.iter().take_while(|&&v| v == 1).count();
            if m[len..].iter().any(|&v| v != 0) {
                bail!("row {r} of the attention mask is not right-padded 1s then 0s");
            }
            rows.push((ids[r][..len].to_vec(), types[r][..len].to_vec()));
        }
        Self::new(&rows.iter().collect::<Vec<_>>())
    }

    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.offsets.windows(2).map(|w| w[0]..w[1])
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Mean of each text's rows of `hidden` (`(tokens, h)` row-major).
    pub fn mean_pool(&self, hidden: &[f32], h: usize) -> Vec<Vec<f32>> {
        self.ranges()
            .map(|r| {
                let mut acc = vec![0f32; h];
                for tok in r.clone() {
                    for (a, v) in acc.iter_mut().zip(&hidden[tok * h..(tok + 1) * h]) {
                        *a += v;
                    }
                }
                let n = r.len().max(1) as f32;
                acc.iter_mut().for_each(|a| *a /= n);
                acc
            })
            .collect()
    }

    /// Each text's first row ([CLS]).
    pub fn first_token(&self, hidden: &[f32], h: usize) -> Vec<Vec<f32>> {
        self.ranges()
            .map(|r| hidden[r.start * h..(r.start + 1) * h].to_vec())
            .collect()
    }

    /// Scatter packed rows back to a zero-padded `(texts, longest, h)` tensor.
    pub fn unpack(&self, hidden: &[f32], h: usize, device: &Device) -> Result<Tensor> {
        let width = self.ranges().map(|r| r.len()).max().unwrap_or(0);
        let mut out = vec![0f32; self.len() * width * h];
        for (s, r) in self.ranges().enumerate() {
            let dst = s * width * h;
            out[dst..dst + r.len() * h].copy_from_slice(&hidden[r.start * h..r.end * h]);
        }
        Ok(Tensor::from_vec(out, (self.len(), width, h), device)?)
    }
}
