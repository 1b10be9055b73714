//! A BERT forward pass written for CPU inference speed, on the same weights (read through
//! candle's `VarBuilder`) and with the same arithmetic as Hugging Face's `BertModel`:
//! exact (erf) GELU, post-layer-norm, absolute positions.
//!
//! Why it exists: candle's generic BERT runs one thread-pool hand-off per (sequence, head)
//! matrix product and computes padded positions. Here
//! - the texts of a batch are packed end to end: dense layers see only real tokens, so
//!   padding costs nothing and cannot change any result;
//! - query, key and value are one fused matrix product, with the bias pre-loaded into the
//!   output (gemm's read-dst), weights stored pre-transposed;
//! - attention runs one task per (text, head) on the rayon pool, each single-threaded;
//! - GELU and layer norm run in parallel chunks, in place.

use super::fast_math::{self, map_in_place};
use super::packed::Packed;
use anyhow::{bail, Result};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct};
use gemm::Parallelism;
use rayon::prelude::*;

/// A dense layer `y = x W^T + b` with `W^T` stored row-major as `(n_in, n_out)`.
struct Dense {
    w_t: Vec<f32>,
    b: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

struct Norm {
    g: Vec<f32>,
    b: Vec<f32>,
    eps: f32,
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    ln1: Norm,
    inter: Dense,
    out: Dense,
    ln2: Norm,
}

pub struct FastBert {
    word: Vec<f32>,
    pos: Vec<f32>,
    types: Vec<f32>,
    emb_ln: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    act: HiddenAct,
    vocab: usize,
    max_pos: usize,
    type_vocab: usize,
}

fn flat(vb: &VarBuilder, shape: &[usize], name: &str) -> candle_core::Result<Vec<f32>> {
    vb.get(shape, name)?.flatten_all()?.to_vec1::<f32>()
}

fn dense(vbs: &[VarBuilder], n_in: usize, n_out_each: usize) -> candle_core::Result<Dense> {
    // Stack the weights of `vbs` (each (n_out_each, n_in)) as one (n_in, n_out) matrix.
    let mut ws = Vec::new();
    let mut b = Vec::new();
    for vb in vbs {
        ws.push(vb.get((n_out_each, n_in), "weight")?);
        b.extend(flat(vb, &[n_out_each], "bias")?);
    }
    let w = candle_core::Tensor::cat(&ws, 0)?;
    let w_t = w.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
    Ok(Dense {
        w_t,
        b,
        n_in,
        n_out: n_out_each * vbs.len(),
    })
}

fn norm(vb: &VarBuilder, n: usize, eps: f64) -> candle_core::Result<Norm> {
    Ok(Norm {
        g: flat(vb, &[n], "weight")?,
        b: flat(vb, &[n], "bias")?,
        eps: eps as f32,
    })
}

impl FastBert {
    /// `vb` points at the base model (its `embeddings.` and `encoder.` children).
    pub fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        let h = cfg.hidden_size;
        if cfg.num_attention_heads == 0 || !h.is_multiple_of(cfg.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {h} is not a multiple of num_attention_heads {}",
                cfg.num_attention_heads
            );
        }
        let e = vb.pp("embeddings");
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            let s = a.pp("self");
            layers.push(Layer {
                qkv: dense(&[s.pp("query"), s.pp("key"), s.pp("value")], h, h)?,
                attn_out: dense(&[a.pp("output.dense")], h, h)?,
                ln1: norm(&a.pp("output.LayerNorm"), h, cfg.layer_norm_eps)?,
                inter: dense(&[l.pp("intermediate.dense")], h, cfg.intermediate_size)?,
                out: dense(&[l.pp("output.dense")], cfg.intermediate_size, h)?,
                ln2: norm(&l.pp("output.LayerNorm"), h, cfg.layer_norm_eps)?,
            });
        }
        Ok(Self {
            word: flat(&e, &[cfg.vocab_size, h], "word_embeddings.weight")?,
            pos: flat(
                &e,
                &[cfg.max_position_embeddings, h],
                "position_embeddings.weight",
            )?,
            types: flat(
                &e,
                &[cfg.type_vocab_size, h],
                "token_type_embeddings.weight",
            )?,
            emb_ln: norm(&e.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            layers,
            hidden: h,
            heads: cfg.num_attention_heads,
            act: cfg.hidden_act,
            vocab: cfg.vocab_size,
            max_pos: cfg.max_position_embeddings,
            type_vocab: cfg.type_vocab_size,
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// Last hidden states of packed texts, `(total tokens, hidden)` row-major.
    pub fn forward_packed(&self, p: &Packed) -> Result<Vec<f32>> {
        let h = self.hidden;
        let t = p.ids.len();
        let mut x = vec![0f32; t * h];
        for (s, range) in p.ranges().enumerate() {
            if range.len() > self.max_pos {
                bail!(
                    "text {s} has {} tokens, more than the model's {} positions",
                    range.len(),
                    self.max_pos
                );
            }
            for (pos, tok) in range.enumerate() {
                let (id, ty) = (p.ids[tok] as usize, p.type_ids[tok] as usize);
                if id >= self.vocab || ty >= self.type_vocab {
                    bail!("token id {id} / type {ty} outside the model's vocabulary");
                }
                let row = &mut x[tok * h..(tok + 1) * h];
                let (w, ps, ty) = (
                    &self.word[id * h..(id + 1) * h],
                    &self.pos[pos * h..(pos + 1) * h],
                    &self.types[ty * h..(ty + 1) * h],
                );
                for c in 0..h {
                    row[c] = w[c] + ps[c] + ty[c];
                }
            }
        }
        layer_norm(&mut x, None, &self.emb_ln, h);
        for layer in &self.layers {
            let qkv = linear(&x, t, &layer.qkv);
            let ctx = attention(&qkv, p, self.heads, h);
            let mut a = linear(&ctx, t, &layer.attn_out);
            layer_norm(&mut a, Some(&x), &layer.ln1, h);
            let mut inter = linear(&a, t, &layer.inter);
            activate(&mut inter, self.act);
            let mut o = linear(&inter, t, &layer.out);
            layer_norm(&mut o, Some(&a), &layer.ln2, h);
            x = o;
        }
        Ok(x)
    }
}

/// Below this many multiply-adds a matrix product stays on one thread: handing tiny
/// products to the pool costs more than it saves.
const PARALLEL_MIN_FLOPS: usize = 1 << 18;

fn linear(x: &[f32], rows: usize, d: &Dense) -> Vec<f32> {
    debug_assert_eq!(x.len(), rows * d.n_in);
    let mut y = Vec::with_capacity(rows * d.n_out);
    for _ in 0..rows {
        y.extend_from_slice(&d.b);
    }
    let work = rows * d.n_in * d.n_out;
    let threads = rayon::current_num_threads();
    let par = if work >= PARALLEL_MIN_FLOPS && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the three buffers have exactly the sizes the strides describe
    // (rows x n_out, rows x n_in, n_in x n_out, all row-major) and `y` is not aliased.
    unsafe {
        gemm::gemm(
            rows,
            d.n_out,
            d.n_in,
            y.as_mut_ptr(),
            1,
            d.n_out as isize,
            true,
            x.as_ptr(),
            1,
            d.n_in as isize,
            d.w_t.as_ptr(),
            1,
            d.n_out as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
    y
}

/// `x = LayerNorm(x + residual)` per row of width `h`.
fn layer_norm(x: &mut [f32], residual: Option<&[f32]>, n: &Norm, h: usize) {
    let rows = x.len() / h;
    let row_task = |(r, row): (usize, &mut [f32])| {
        if let Some(res) = residual {
            for (v, r) in row.iter_mut().zip(&res[r * h..(r + 1) * h]) {
                *v += r;
            }
        }
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + n.eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&n.g).zip(&n.b) {
            *v = (*v - mean) * inv * g + b;
        }
    };
    if rows >= 64 {
        x.par_chunks_mut(h).enumerate().for_each(row_task);
    } else {
        x.chunks_mut(h).enumerate().for_each(row_task);
    }
}

fn activate(x: &mut [f32], act: HiddenAct) {
    x.par_chunks_mut(16 * 1024).for_each(|c| match act {
        HiddenAct::Gelu => map_in_place(c, fast_math::gelu_erf),
        HiddenAct::GeluApproximate => c.iter_mut().for_each(|v| *v = gelu_tanh(*v)),
        HiddenAct::Relu => c.iter_mut().for_each(|v| *v = v.max(0.0)),
    });
}

fn gelu_tanh(v: f32) -> f32 {
    let c = (2.0f32 / std::f32::consts::PI).sqrt();
    0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh())
}

/// Scaled dot-product attention within each text (no mask needed: texts are packed, a token
/// only ever sees the tokens of its own text). `qkv` rows are `[q | k | v]`, each `h` wide.
/// One task per (text, head); its two small products run single-threaded in the task.
fn attention(qkv: &[f32], p: &Packed, heads: usize, h: usize) -> Vec<f32> {
    let d = h / heads;
    let scale = 1.0 / (d as f32).sqrt();
    let tasks: Vec<(std::ops::Range<usize>, usize)> = p
        .ranges()
        .flat_map(|r| (0..heads).map(move |hd| (r.clone(), hd)))
        .collect();
    let mut ctx = vec![0f32; p.ids.len() * h];
    let out = SharedOut(ctx.as_mut_ptr());
    let row = 3 * h as isize;
    tasks.par_iter().for_each(|(range, hd)| {
        let len = range.len();
        let base = range.start * 3 * h;
        let (q, k, v) = (
            qkv[base + hd * d..].as_ptr(),
            qkv[base + h + hd * d..].as_ptr(),
            qkv[base + 2 * h + hd * d..].as_ptr(),
        );
        // scores (len x len) = Q (len x d, row stride 3h) . K^T (d x len, column stride 3h)
        let mut scores = vec![0f32; len * len];
        // SAFETY: every pointer/stride pair stays inside its buffer: rows range.start..end
        // of `qkv` (3h wide) at column offsets < 3h, `scores` is len x len.
        unsafe {
            gemm::gemm(
                len,
                len,
                d,
                scores.as_mut_ptr(),
                1,
                len as isize,
                false,
                q,
                1,
                row,
                k,
                row,
                1,
                0.0,
                scale,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
        for r in scores.chunks_mut(len) {
            let max = r.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
            r.iter_mut().for_each(|v| *v = fast_math::exp(*v - max));
            let inv = 1.0 / r.iter().sum::<f32>();
            r.iter_mut().for_each(|v| *v *= inv);
        }
        // context rows range, columns hd*d.. (row stride h) = P (len x len) . V (len x d)
        let dst = out.at(range.start * h + hd * d);
        // SAFETY: tasks write disjoint (token, head) blocks of `ctx`: rows of this text only,
        // columns hd*d..(hd+1)*d only; `ctx` outlives the parallel loop.
        unsafe {
            gemm::gemm(
                len,
                d,
                len,
                dst,
                1,
                h as isize,
                false,
                scores.as_ptr(),
                1,
                len as isize,
                v,
                1,
                row,
                0.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    });
    ctx
}

/// The context buffer, written by attention tasks at disjoint places.
struct SharedOut(*mut f32);

impl SharedOut {
    fn at(&self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}
// SAFETY: see `attention`: each task writes only its own (token, head) block.
unsafe impl Sync for SharedOut {}
unsafe impl Send for SharedOut {}
