//! Gradient-boosted decision trees equivalent to `xgboost.XGBClassifier()` with its defaults
//! (xgboost 3.x): 100 rounds, `max_depth = 6`, `learning_rate = 0.3`, `tree_method = "hist"`
//! with `max_bin = 256`, `min_child_weight = 1`, `reg_lambda = 1`, `reg_alpha = 0`,
//! `gamma = 0`, `subsample = 1`, depth-wise growth. Two classes use `binary:logistic` (one
//! tree a round), more use `multi:softprob` (one tree per class a round, all fitted to the
//! same round's gradients).
//!
//! What is reproduced, and how:
//!
//! - **Intercept** (xgboost >= 3.0 estimates `base_score`): `binary:logistic` starts every
//!   margin at `logit(mean(y))`; `multi:softprob` at `log(p_k) - mean_k(log(p_k))`, `p_k` the
//!   class frequencies (checked against xgboost 3.2.0's saved config).
//! - **Gradients**: `g = p - y`, `h = max(p (1 - p), 1e-16)` (logistic) and
//!   `h = max(2 p (1 - p), 1e-16)` (softmax), in `f32` as xgboost computes them.
//! - **Bins**: the cut points of `hist.rs`; an entry absent from the sparse matrix is missing.
//! - **Splits**: per node a histogram of (sum g, sum h) per bin; per feature a forward scan
//!   (missing values go right) and, when the node has rows missing that feature, a backward
//!   scan (missing go left), each candidate valid when both sides have hessian >=
//!   `min_child_weight`; gain `G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda)` in
//!   `f32`; the best is the largest gain, ties to the lower feature index, and within one
//!   feature the first found (xgboost's `SplitEntry::NeedReplace`). A node splits when its best
//!   gain exceeds 1e-6 and it is above depth 6; a leaf's value is
//!   `-learning_rate * G / (H + lambda)`.
//! - **Prediction**: a present value goes left when `value < split` (`f32`), a missing one the
//!   learnt default way; margins are summed in `f32`; the label is the arg-max (two classes:
//!   the second when its probability is above 0.5).
//!
//! Where it may differ from xgboost: cut points of features with more than 4,098 entries and
//! more than 256 distinct values (`hist.rs`); the order of floating-point sums (xgboost sums
//! histograms per thread and subtracts sibling histograms); so a rare split can go another
//! way. `tests/gbdt_xgboost.rs` measures the agreement on real data.
//!
//! Speed: a histogram touches only the bins a node's rows store (sparse rows), and a feature
//! none of the node's rows store is never scanned (no valid split can use it); the trees of
//! one round's classes grow on separate threads.

use super::hist::Cuts;
use super::sparse::Csr;
use anyhow::{bail, Result};

/// Options of the booster (xgboost's names where it has one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GbdtOptions {
    /// Boosting rounds (`n_estimators`). Default 100.
    pub rounds: usize,
    /// Default 6.
    pub max_depth: usize,
    /// `eta`. Default 0.3.
    pub learning_rate: f32,
    /// Default 256.
    pub max_bin: usize,
    /// Default 1.
    pub min_child_weight: f64,
    /// L2 regularisation of leaf values (`reg_lambda`). Default 1.
    pub lambda: f64,
    /// Threads for the trees of one round (0 = every available core). Default 0.
    pub threads: usize,
}

impl Default for GbdtOptions {
    fn default() -> Self {
        GbdtOptions {
            rounds: 100,
            max_depth: 6,
            learning_rate: 0.3,
            max_bin: 256,
            min_child_weight: 1.0,
            lambda: 1.0,
            threads: 0,
        }
    }
}

/// xgboost's `kRtEps`: the least gain that splits a node.
const RT_EPS: f32 = 1e-6;

/// A tree node: a leaf when `left == 0` (the root is never a child).
#[derive(Debug, Clone, Copy)]
struct Node {
    feature: u32,
    split: f32,
    default_left: bool,
    left: u32,
    right: u32,
    value: f32,
}

impl Node {
    fn leaf(value: f32) -> Node {
        Node {
            feature: 0,
            split: 0.0,
            default_left: false,
            left: 0,
            right: 0,
            value,
        }
    }
}

/// A fitted booster.
#[derive(Debug, Clone)]
pub struct Gbdt {
    pub classes: Vec<String>,
    /// Margins per row: 1 for two classes, otherwise one per class.
    outputs: usize,
    base_margin: Vec<f32>,
    /// Round-major: tree `round * outputs + k` adds to margin `k`.
    trees: Vec<Vec<Node>>,
    features: usize,
}

/// The training rows as sorted global bin indices.
struct Binned {
    indptr: Vec<usize>,
    bins: Vec<u32>,
}

impl Binned {
    fn row(&self, i: usize) -> &[u32] {
        &self.bins[self.indptr[i]..self.indptr[i + 1]]
    }
}

/// Sums of gradient and hessian.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    g: f64,
    h: f64,
}

impl Stats {
    fn sub(self, o: Stats) -> Stats {
        Stats {
            g: self.g - o.g,
            h: self.h - o.h,
        }
    }
}

/// The best split of a node so far.
#[derive(Debug, Clone, Copy)]
struct Split {
    loss: f32,
    feature: u32,
    value: f32,
    default_left: bool,
    /// A present value goes left when its global bin is below this.
    bin_below: u32,
    left: Stats,
    right: Stats,
}

impl Split {
    fn none() -> Split {
        Split {
            loss: 0.0,
            feature: 0,
            value: 0.0,
            default_left: false,
            bin_below: 0,
            left: Stats::default(),
            right: Stats::default(),
        }
    }

    /// xgboost's `SplitEntry::NeedReplace`.
    fn needs_replace(&self, loss: f32, feature: u32) -> bool {
        if loss.is_infinite() {
            false
        } else if self.feature <= feature {
            loss > self.loss
        } else {
            // Not `<=`: a NaN gain replaces too, as in xgboost.
            !matches!(
                self.loss.partial_cmp(&loss),
                Some(std::cmp::Ordering::Greater)
            )
        }
    }
}

/// What one tree's growth needs, shared by the threads.
struct Shared<'a> {
    binned: &'a Binned,
    cuts: &'a Cuts,
    bin_feature: &'a [u32],
    opts: &'a GbdtOptions,
}

impl Shared<'_> {
    fn gain(&self, s: Stats) -> f64 {
        if s.h < self.opts.min_child_weight || s.h <= 0.0 {
            0.0
        } else {
            s.g * s.g / (s.h + self.opts.lambda)
        }
    }

    fn weight(&self, s: Stats) -> f32 {
        if s.h < self.opts.min_child_weight || s.h <= 0.0 {
            0.0
        } else {
            (-s.g / (s.h + self.opts.lambda)) as f32
        }
    }

    fn valid(&self, l: Stats, r: Stats) -> bool {
        l.h >= self.opts.min_child_weight && r.h >= self.opts.min_child_weight
    }
}

/// Scratch buffers of one thread.
struct Scratch {
    hist: Vec<Stats>,
    count: Vec<u32>,
    touched: Vec<u32>,
    tmp: Vec<u32>,
}

impl Scratch {
    fn new(bins: usize) -> Scratch {
        Scratch {
            hist: vec![Stats::default(); bins],
            count: vec![0; bins],
            touched: Vec::new(),
            tmp: Vec::new(),
        }
    }
}

impl Gbdt {
    /// Fit on rows of `x` with labels `y` (any strings; the classes are their sorted set).
    pub fn fit(x: &Csr, y: &[&str], opts: &GbdtOptions) -> Result<Gbdt> {
        if x.rows() != y.len() {
            bail!("{} feature rows for {} labels", x.rows(), y.len());
        }
        if opts.max_bin < 2 {
            bail!("model option `max_bin`: expected at least 2");
        }
        let mut classes: Vec<String> = y.iter().map(|s| s.to_string()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            bail!(
                "gradient boosting needs at least two classes in the training set, found {:?}",
                classes
            );
        }
        let n = x.rows();
        let label: Vec<usize> = y
            .iter()
            .map(|l| classes.binary_search_by(|c| c.as_str().cmp(l)).unwrap_or(0))
            .collect();
        let outputs = if classes.len() == 2 { 1 } else { classes.len() };

        let cuts = Cuts::build(x, opts.max_bin);
        let mut bin_feature = vec![0u32; cuts.total_bins()];
        for f in 0..x.cols {
            for b in cuts.ptr[f]..cuts.ptr[f + 1] {
                bin_feature[b as usize] = f as u32;
            }
        }
        let mut binned = Binned {
            indptr: Vec::with_capacity(n + 1),
            bins: Vec::with_capacity(x.values.len()),
        };
        binned.indptr.push(0);
        for i in 0..n {
            let (idx, val) = x.row(i);
            let start = binned.bins.len();
            for (&j, &v) in idx.iter().zip(val) {
                let v = v as f32;
                if !v.is_nan() {
                    binned.bins.push(cuts.bin(j as usize, v));
                }
            }
            binned.bins[start..].sort_unstable();
            binned.indptr.push(binned.bins.len());
        }

        // The intercept xgboost 3.x estimates.
        let mut freq = vec![0f64; classes.len()];
        for &k in &label {
            freq[k] += 1.0;
        }
        let base_margin: Vec<f32> = if outputs == 1 {
            let p = freq[1] / n as f64;
            vec![(p / (1.0 - p)).ln() as f32]
        } else {
            let logs: Vec<f64> = freq.iter().map(|c| (c / n as f64).ln()).collect();
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            logs.iter().map(|l| (l - mean) as f32).collect()
        };

        let shared = Shared {
            binned: &binned,
            cuts: &cuts,
            bin_feature: &bin_feature,
            opts,
        };
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |t| t.get()),
            t => t,
        }
        .min(outputs)
        .max(1);
        let mut scratch: Vec<Scratch> = (0..threads)
            .map(|_| Scratch::new(cuts.total_bins()))
            .collect();
        let mut margin: Vec<f32> = (0..n).flat_map(|_| base_margin.clone()).collect();
        let mut trees = Vec::with_capacity(opts.rounds * outputs);
        let mut grad = vec![(0f32, 0f32); n * outputs];
        for _ in 0..opts.rounds {
            gradients(&margin, &label, outputs, &mut grad);
            // Tree k fits (g, h) of output k; the outputs are split among the threads.
            let per = outputs.div_ceil(threads);
            let grown: Vec<(usize, Vec<Node>, Vec<f32>)> = std::thread::scope(|s| {
                let handles: Vec<_> = scratch
                    .iter_mut()
                    .enumerate()
                    .map(|(t, sc)| {
                        let shared = &shared;
                        let grad = &grad;
                        s.spawn(move || {
                            let mut out = Vec::new();
                            for k in (t * per)..((t + 1) * per).min(outputs) {
                                let (tree, delta) = grow(shared, grad, outputs, k, sc);
                                out.push((k, tree, delta));
                            }
                            out
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            if grown.len() != outputs {
                bail!("gradient boosting: a tree-growing thread failed");
            }
            let mut grown = grown;
            grown.sort_by_key(|g| g.0);
            for (k, tree, delta) in grown {
                for i in 0..n {
                    margin[i * outputs + k] += delta[i];
                }
                trees.push(tree);
            }
        }
        Ok(Gbdt {
            classes,
            outputs,
            base_margin,
            trees,
            features: x.cols,
        })
    }

    /// Raw margins, `outputs` per row.
    pub fn margins(&self, x: &Csr) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.rows() * self.outputs);
        let mut dense = vec![f32::NAN; self.features];
        for i in 0..x.rows() {
            let (idx, val) = x.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                if (j as usize) < self.features {
                    dense[j as usize] = v as f32;
                }
            }
            let start = out.len();
            out.extend_from_slice(&self.base_margin);
            for (t, tree) in self.trees.iter().enumerate() {
                out[start + t % self.outputs] += leaf_value(tree, &dense);
            }
            for &j in idx {
                if (j as usize) < self.features {
                    dense[j as usize] = f32::NAN;
                }
            }
        }
        out
    }

    /// The predicted class of each row.
    pub fn predict(&self, x: &Csr) -> Vec<&str> {
        let m = self.margins(x);
        m.chunks(self.outputs)
            .map(|row| {
                let k = if self.outputs == 1 {
                    usize::from(sigmoid(row[0]) > 0.5)
                } else {
                    let mut best = 0;
                    for (k, &v) in row.iter().enumerate() {
                        if v > row[best] {
                            best = k;
                        }
                    }
                    best
                };
                self.classes[k].as_str()
            })
            .collect()
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Number of leaves over all trees (the fitted values).
    pub fn leaves(&self) -> usize {
        self.trees
            .iter()
            .map(|t| t.iter().filter(|n| n.left == 0).count())
            .sum()
    }

    /// Fitted parameters: every node's split (feature, value) or leaf value.
    pub fn parameters(&self) -> u64 {
        self.trees
            .iter()
            .map(|t| {
                t.iter()
                    .map(|n| if n.left == 0 { 1 } else { 2 })
                    .sum::<u64>()
            })
            .sum()
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn leaf_value(tree: &[Node], dense: &[f32]) -> f32 {
    let mut i = 0usize;
    loop {
        let n = &tree[i];
        if n.left == 0 {
            return n.value;
        }
        let v = dense[n.feature as usize];
        let left = if v.is_nan() {
            n.default_left
        } else {
            v < n.split
        };
        i = if left { n.left } else { n.right } as usize;
    }
}

/// One round's gradients at the current margins (xgboost's `binary:logistic` and
/// `multi:softprob`, in `f32`).
fn gradients(margin: &[f32], label: &[usize], outputs: usize, grad: &mut [(f32, f32)]) {
    const EPS: f32 = 1e-16;
    if outputs == 1 {
        for (i, &l) in label.iter().enumerate() {
            let p = sigmoid(margin[i]);
            let y = if l == 1 { 1.0 } else { 0.0 };
            grad[i] = (p - y, (p * (1.0 - p)).max(EPS));
        }
        return;
    }
    for (i, &l) in label.iter().enumerate() {
        let row = &margin[i * outputs..(i + 1) * outputs];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0f32;
        for &v in row {
            sum += (v - max).exp();
        }
        for (k, &v) in row.iter().enumerate() {
            let p = (v - max).exp() / sum;
            let g = if k == l { p - 1.0 } else { p };
            grad[i * outputs + k] = (g, (2.0 * p * (1.0 - p)).max(EPS));
        }
    }
}

/// A node waiting to be split or made a leaf: rows `begin..end` of the row list.
struct Open {
    node: usize,
    begin: usize,
    end: usize,
    depth: usize,
    stats: Stats,
}

/// Grow output `k`'s tree; returns it and its leaf value for every training row.
fn grow(
    sh: &Shared,
    grad: &[(f32, f32)],
    outputs: usize,
    k: usize,
    sc: &mut Scratch,
) -> (Vec<Node>, Vec<f32>) {
    let n = sh.binned.indptr.len() - 1;
    let gh = |i: usize| grad[i * outputs + k];
    let mut rows: Vec<u32> = (0..n as u32).collect();
    let mut root = Stats::default();
    for i in 0..n {
        let (g, h) = gh(i);
        root.g += f64::from(g);
        root.h += f64::from(h);
    }
    let mut nodes = vec![Node::leaf(0.0)];
    let mut delta = vec![0f32; n];
    let mut level = vec![Open {
        node: 0,
        begin: 0,
        end: n,
        depth: 0,
        stats: root,
    }];
    let eta = sh.opts.learning_rate;
    while !level.is_empty() {
        let mut next = Vec::new();
        for open in level {
            let split = if open.depth < sh.opts.max_depth {
                best_split(sh, &gh, &rows[open.begin..open.end], open.stats, sc)
            } else {
                None
            };
            let Some(s) = split else {
                let value = sh.weight(open.stats) * eta;
                nodes[open.node] = Node::leaf(value);
                for &r in &rows[open.begin..open.end] {
                    delta[r as usize] = value;
                }
                continue;
            };
            // Partition the node's rows: left first, order kept.
            let f = s.feature as usize;
            let (lo, hi) = (sh.cuts.ptr[f], sh.cuts.ptr[f + 1]);
            sc.tmp.clear();
            let mut w = open.begin;
            for i in open.begin..open.end {
                let r = rows[i];
                let bins = sh.binned.row(r as usize);
                let p = bins.partition_point(|&b| b < lo);
                let left = match bins.get(p) {
                    Some(&b) if b < hi => b < s.bin_below,
                    _ => s.default_left,
                };
                if left {
                    rows[w] = r;
                    w += 1;
                } else {
                    sc.tmp.push(r);
                }
            }
            rows[w..open.end].copy_from_slice(&sc.tmp);
            let (l, r) = (nodes.len(), nodes.len() + 1);
            nodes.push(Node::leaf(0.0));
            nodes.push(Node::leaf(0.0));
            nodes[open.node] = Node {
                feature: s.feature,
                split: s.value,
                default_left: s.default_left,
                left: l as u32,
                right: r as u32,
                value: 0.0,
            };
            next.push(Open {
                node: l,
                begin: open.begin,
                end: w,
                depth: open.depth + 1,
                stats: s.left,
            });
            next.push(Open {
                node: r,
                begin: w,
                end: open.end,
                depth: open.depth + 1,
                stats: s.right,
            });
        }
        level = next;
    }
    (nodes, delta)
}

/// The best valid split of a node, or `None` (it becomes a leaf).
fn best_split(
    sh: &Shared,
    gh: &impl Fn(usize) -> (f32, f32),
    rows: &[u32],
    parent: Stats,
    sc: &mut Scratch,
) -> Option<Split> {
    sc.touched.clear();
    for &r in rows {
        let (g, h) = gh(r as usize);
        for &b in sh.binned.row(r as usize) {
            let b = b as usize;
            if sc.count[b] == 0 {
                sc.touched.push(b as u32);
            }
            sc.count[b] += 1;
            sc.hist[b].g += f64::from(g);
            sc.hist[b].h += f64::from(h);
        }
    }
    sc.touched.sort_unstable();
    let root_gain = sh.gain(parent) as f32;
    let mut best = Split::none();
    let touched = std::mem::take(&mut sc.touched);
    let mut a = 0;
    while a < touched.len() {
        let f = sh.bin_feature[touched[a] as usize];
        let mut z = a;
        while z < touched.len() && sh.bin_feature[touched[z] as usize] == f {
            z += 1;
        }
        let group = &touched[a..z];
        // Forward: present bins up to b go left, missing right.
        let mut acc = Stats::default();
        for &b in group {
            let hb = sc.hist[b as usize];
            acc.g += hb.g;
            acc.h += hb.h;
            let right = parent.sub(acc);
            if sh.valid(acc, right) {
                let loss = (sh.gain(acc) + sh.gain(right)) as f32 - root_gain;
                if best.needs_replace(loss, f) {
                    best = Split {
                        loss,
                        feature: f,
                        value: sh.cuts.values[b as usize],
                        default_left: false,
                        bin_below: b + 1,
                        left: acc,
                        right,
                    };
                }
            }
        }
        // Backward, when some rows of the node miss this feature: present bins from b on go
        // right, missing left.
        if acc.g != parent.g || acc.h != parent.h {
            let imin = sh.cuts.ptr[f as usize];
            let mut acc = Stats::default();
            for &b in group.iter().rev() {
                let hb = sc.hist[b as usize];
                acc.g += hb.g;
                acc.h += hb.h;
                let left = parent.sub(acc);
                if sh.valid(left, acc) {
                    let loss = (sh.gain(acc) + sh.gain(left)) as f32 - root_gain;
                    if best.needs_replace(loss, f) {
                        let value = if b == imin {
                            sh.cuts.min_values[f as usize]
                        } else {
                            sh.cuts.values[b as usize - 1]
                        };
                        best = Split {
                            loss,
                            feature: f,
                            value,
                            default_left: true,
                            bin_below: b,
                            left,
                            right: acc,
                        };
                    }
                }
            }
        }
        a = z;
    }
    for &b in &touched {
        sc.hist[b as usize] = Stats::default();
        sc.count[b as usize] = 0;
    }
    sc.touched = touched;
    let ok = best.loss > RT_EPS && best.left.h != 0.0 && best.right.h != 0.0;
    ok.then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(rows: &[[f64; 2]]) -> Csr {
        let mut x = Csr::new(2);
        for r in rows {
            x.push_row([(0u32, r[0]), (1u32, r[1])]);
        }
        x
    }

    #[test]
    fn separable_binary_and_multiclass() {
        let x = dense(&[
            [0.0, 1.0],
            [1.0, 1.0],
            [2.0, 0.0],
            [3.0, 0.0],
            [4.0, 1.0],
            [5.0, 0.0],
            [6.0, 1.0],
            [7.0, 0.0],
        ]);
        let y = ["a", "a", "a", "a", "b", "b", "b", "b"];
        let m = Gbdt::fit(&x, &y, &GbdtOptions::default()).expect("fit");
        assert_eq!(m.predict(&x), y.to_vec());
        // Three classes: each row four times (a softmax hessian of two rows is below
        // min_child_weight = 1, so xgboost would not split them off either).
        let rows: Vec<[f64; 2]> = (0..8)
            .flat_map(|i| [[i as f64, (i % 2) as f64]; 4])
            .collect();
        let x = dense(&rows);
        let y3: Vec<&str> = (0..32)
            .map(|i| ["a", "a", "a", "b", "b", "b", "c", "c"][i / 4])
            .collect();
        let m = Gbdt::fit(&x, &y3, &GbdtOptions::default()).expect("fit");
        assert_eq!(m.trees(), 300);
        assert_eq!(m.predict(&x), y3);
    }

    #[test]
    fn missing_entries_learn_a_default_direction() {
        // Class "yes" iff feature 0 is present: only a split with missing values can tell.
        let mut x = Csr::new(2);
        let mut y = Vec::new();
        for i in 0..40 {
            if i % 2 == 0 {
                x.push_row([(0u32, 1.0), (1u32, f64::from(i % 3))]);
                y.push("yes");
            } else {
                x.push_row([(1u32, f64::from(i % 3))]);
                y.push("no");
            }
        }
        let m = Gbdt::fit(&x, &y, &GbdtOptions::default()).expect("fit");
        assert_eq!(m.predict(&x), y);
    }

    #[test]
    fn intercept_is_xgboosts() {
        let x = dense(&[[0.0, 0.0]; 4]);
        let opts = GbdtOptions {
            rounds: 0,
            ..GbdtOptions::default()
        };
        let m = Gbdt::fit(&x, &["a", "b", "b", "b"], &opts).expect("fit");
        assert!((m.base_margin[0] - 3f32.ln()).abs() < 1e-6);
        let m = Gbdt::fit(&x, &["a", "b", "b", "c"], &opts).expect("fit");
        let l = [0.25f32.ln(), 0.5f32.ln(), 0.25f32.ln()];
        let mean = l.iter().sum::<f32>() / 3.0;
        for (b, l) in m.base_margin.iter().zip(l) {
            assert!((b - (l - mean)).abs() < 1e-6);
        }
    }
}
