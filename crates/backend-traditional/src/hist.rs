//! Histogram cut points per feature, as xgboost's `tree_method="hist"` makes them
//! (`HostSketchContainer::MakeCuts` and `AddCutPoint` in xgboost 3.x, `max_bin = 256`).
//!
//! Only the entries stored in the sparse matrix are sketched: an absent entry is *missing*, as
//! it is for xgboost given a scipy CSR matrix (a dense row stores every column, so nothing is
//! missing there). Per feature the sorted values with their counts form an exact weighted
//! quantile summary (every row weighs 1; `hist` does not weigh by the hessian); it is pruned
//! to `min(entries, 8 * max_bin)` and then to `min(entries, max_bin) + 1` entries by
//! `WQSummary::SetPrune`, and the cut points are the pruned values after the first, then the
//! largest value plus `|largest| + 1e-5`. A feature with at most `max_bin` distinct values
//! therefore gets one bin per distinct value, exactly as xgboost does.
//!
//! Where ours can differ: xgboost builds its summary in a streaming sketch that is exact only
//! while a feature has at most about `2 * (8 * max_bin + 1)` = 4,098 entries; past that its
//! summary is an approximation (error at most `1 / (8 * max_bin)` of the rank) and ours is
//! exact, so the cut points of a feature with more than 256 distinct values and more than
//! 4,098 entries may differ slightly.

use super::sparse::Csr;

/// xgboost's `WQSketch::kFactor`: the intermediate summary keeps this many entries per bin.
const K_FACTOR: usize = 8;

/// One entry of a weighted quantile summary (ranks as xgboost keeps them, in `f32`).
#[derive(Debug, Clone, Copy)]
struct Entry {
    rmin: f32,
    rmax: f32,
    wmin: f32,
    value: f32,
}

impl Entry {
    fn rmin_next(&self) -> f32 {
        self.rmin + self.wmin
    }
    fn rmax_prev(&self) -> f32 {
        self.rmax - self.wmin
    }
}

/// `WQSummary::SetPrune`: keep at most `maxsize` entries at evenly spaced ranks.
fn prune(src: &[Entry], maxsize: usize) -> Vec<Entry> {
    if src.len() <= maxsize {
        return src.to_vec();
    }
    let begin = src[0].rmax;
    let range = src[src.len() - 1].rmin - src[0].rmax;
    let n = maxsize - 1;
    let mut out = Vec::with_capacity(maxsize);
    out.push(src[0]);
    let (mut i, mut lastidx) = (1usize, 0usize);
    for k in 1..n {
        let dx2 = 2.0 * ((k as f32 * range) / n as f32 + begin);
        while i < src.len() - 1 && dx2 >= src[i + 1].rmax + src[i + 1].rmin {
            i += 1;
        }
        if i == src.len() - 1 {
            break;
        }
        if dx2 < src[i].rmin_next() + src[i + 1].rmax_prev() {
            if i != lastidx {
                out.push(src[i]);
                lastidx = i;
            }
        } else if i + 1 != lastidx {
            out.push(src[i + 1]);
            lastidx = i + 1;
        }
    }
    if lastidx != src.len() - 1 {
        out.push(src[src.len() - 1]);
    }
    out
}

/// The exact summary of sorted values: one entry per distinct value, weighted by its count.
fn exact_summary(sorted: &[f32]) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut rank = 0.0f32;
    let mut i = 0;
    while i < sorted.len() {
        let v = sorted[i];
        let mut j = i;
        while j < sorted.len() && sorted[j] == v {
            j += 1;
        }
        let w = (j - i) as f32;
        out.push(Entry {
            rmin: rank,
            rmax: rank + w,
            wmin: w,
            value: v,
        });
        rank += w;
        i = j;
    }
    out
}

/// Cut points of every feature: feature `f`'s bins are `ptr[f]..ptr[f + 1]` (global bin
/// indices); bin `b` holds the values `v` with `values[b - 1] <= v < values[b]`.
#[derive(Debug, Clone)]
pub(crate) struct Cuts {
    pub ptr: Vec<u32>,
    pub values: Vec<f32>,
    /// Below every value of the feature: the split value of "all present values go right".
    pub min_values: Vec<f32>,
}

impl Cuts {
    /// Sketch the stored entries of `x` (NaN entries are missing too).
    pub fn build(x: &Csr, max_bin: usize) -> Cuts {
        let mut cols: Vec<Vec<f32>> = vec![Vec::new(); x.cols];
        for i in 0..x.rows() {
            let (idx, val) = x.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                let v = v as f32;
                if !v.is_nan() {
                    cols[j as usize].push(v);
                }
            }
        }
        let mut ptr = Vec::with_capacity(x.cols + 1);
        ptr.push(0u32);
        let mut values: Vec<f32> = Vec::new();
        let mut min_values = Vec::with_capacity(x.cols);
        for mut col in cols {
            col.sort_by(f32::total_cmp);
            let count = col.len();
            if count == 0 {
                // xgboost's empty column: min 1e-5 and one bin above it.
                let m = 1e-5f32;
                min_values.push(m);
                values.push(m + (m.abs() + 1e-5));
                ptr.push(values.len() as u32);
                continue;
            }
            let num_cuts = count.min(max_bin * K_FACTOR);
            let reduced = prune(&exact_summary(&col), num_cuts);
            let max_num_bins = num_cuts.min(max_bin);
            let a = prune(&reduced, max_num_bins + 1);
            let mval = a[0].value;
            min_values.push(mval - mval.abs() - 1e-5);
            let required = a.len().min(max_num_bins);
            let first = values.len();
            for (i, e) in a.iter().enumerate().take(required).skip(1) {
                if i == 1 || values.len() == first || e.value > values[values.len() - 1] {
                    values.push(e.value);
                }
            }
            let cpt = a[a.len() - 1].value;
            values.push(cpt + (cpt.abs() + 1e-5));
            ptr.push(values.len() as u32);
        }
        Cuts {
            ptr,
            values,
            min_values,
        }
    }

    /// Number of bins over all features.
    pub fn total_bins(&self) -> usize {
        self.values.len()
    }

    /// The global bin of value `v` of feature `f` (xgboost's `SearchBin`: the first cut above
    /// `v`, the last bin for a value past every cut).
    pub fn bin(&self, f: usize, v: f32) -> u32 {
        let (lo, hi) = (self.ptr[f] as usize, self.ptr[f + 1] as usize);
        let idx = self.values[lo..hi].partition_point(|&c| c <= v);
        (lo + idx.min(hi - lo - 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let mut x = Csr::new(2);
        for v in [1.0, 2.0, 2.0, 5.0] {
            x.push_row([(0u32, v)]);
        }
        x.push_row([(1u32, -3.0)]);
        let c = Cuts::build(&x, 256);
        assert_eq!(&c.values[0..3], &[2.0, 5.0, 5.0 + 5.0 + 1e-5]);
        assert_eq!(c.ptr, vec![0, 3, 4]);
        assert_eq!(c.bin(0, 1.0), 0);
        assert_eq!(c.bin(0, 2.0), 1);
        assert_eq!(c.bin(0, 4.9), 1);
        assert_eq!(c.bin(0, 5.0), 2);
        assert_eq!(c.bin(0, 99.0), 2);
        assert_eq!(c.bin(1, -3.0), 3);
        assert!((c.min_values[0] - (1.0 - 1.0 - 1e-5)).abs() < 1e-9);
    }

    #[test]
    fn many_distinct_values_are_pruned_to_max_bin() {
        let mut x = Csr::new(1);
        for i in 0..1000 {
            x.push_row([(0u32, f64::from(i))]);
        }
        let c = Cuts::build(&x, 256);
        assert!(c.total_bins() <= 256, "{}", c.total_bins());
        assert!(c.total_bins() >= 250, "{}", c.total_bins());
        let mut prev = f32::MIN;
        for &v in &c.values {
            assert!(v > prev);
            prev = v;
        }
    }
}
