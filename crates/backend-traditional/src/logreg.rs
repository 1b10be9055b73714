//! L2-regularised logistic regression on sparse features, as sklearn's
//! `LogisticRegression(C=1.0, solver="lbfgs")`: two classes use one weight vector (binomial,
//! the positive class is the second label in sorted order), more use the multinomial (softmax)
//! model; intercepts are not penalised. The objective, scaled by 1/n as sklearn does, is
//! `mean(log-loss) + ||W||^2 / (2 C n)`, minimised with L-BFGS to a tight tolerance so the
//! optimum (unique: the problem is strictly convex in W) is reached, not an early stop.

use super::lbfgs::{self, Outcome};
use super::sparse::Csr;
use anyhow::{bail, Result};
use serde::Deserialize;

/// Options of the classifier, from the suite's model options.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRegOptions {
    /// Inverse regularisation strength (sklearn's C). Default 1.0.
    #[serde(default = "default_c")]
    pub c: f64,
    /// L-BFGS iterations at most. Default 1000.
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Stop when the largest gradient component is under this. Default 1e-6.
    #[serde(default = "default_tol")]
    pub tol: f64,
}

fn default_c() -> f64 {
    1.0
}
fn default_max_iter() -> usize {
    1000
}
fn default_tol() -> f64 {
    1e-6
}

impl Default for LogRegOptions {
    fn default() -> Self {
        LogRegOptions {
            c: default_c(),
            max_iter: default_max_iter(),
            tol: default_tol(),
        }
    }
}

/// A fitted model: `outputs` score vectors of `features` weights plus an intercept each.
#[derive(Debug, Clone)]
pub struct LogReg {
    pub classes: Vec<String>,
    features: usize,
    /// Score vectors: 1 for two classes, otherwise one per class.
    outputs: usize,
    /// Feature-major weights: `w[j * outputs + k]`, then `outputs` intercepts.
    params: Vec<f64>,
    pub outcome: Outcome,
}

impl LogReg {
    /// Fit on rows of `x` with labels `y` (any strings; the classes are their sorted set).
    pub fn fit(x: &Csr, y: &[&str], opts: &LogRegOptions) -> Result<LogReg> {
        if x.rows() != y.len() {
            bail!("{} feature rows for {} labels", x.rows(), y.len());
        }
        if !(opts.c > 0.0 && opts.c.is_finite()) {
            bail!(
                "model option `c`: expected a positive number, got {}",
                opts.c
            );
        }
        let mut classes: Vec<String> = y.iter().map(|s| s.to_string()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            bail!(
                "logistic regression needs at least two classes in the training set, found {:?}",
                classes
            );
        }
        let target: Vec<usize> = y
            .iter()
            .map(|l| classes.binary_search_by(|c| c.as_str().cmp(l)).unwrap_or(0))
            .collect();
        let outputs = if classes.len() == 2 { 1 } else { classes.len() };
        let d = x.cols;
        let mut params = vec![0.0; d * outputs + outputs];
        let n = x.rows() as f64;
        let penalty = 1.0 / (opts.c * n);
        let mut z = vec![0.0; outputs];
        let outcome = lbfgs::minimize(
            &mut params,
            |w, grad| {
                grad.iter_mut().for_each(|g| *g = 0.0);
                let (weights, bias) = w.split_at(d * outputs);
                let mut loss = 0.0;
                for (i, &yi) in target.iter().enumerate() {
                    let (idx, val) = x.row(i);
                    z.copy_from_slice(bias);
                    for (&j, &v) in idx.iter().zip(val) {
                        let row = &weights[j as usize * outputs..(j as usize + 1) * outputs];
                        for (zk, wk) in z.iter_mut().zip(row) {
                            *zk += v * wk;
                        }
                    }
                    // Residuals (probability minus target) overwrite z.
                    if outputs == 1 {
                        let s = if yi == 1 { 1.0 } else { -1.0 };
                        loss += softplus(-s * z[0]);
                        z[0] = sigmoid(z[0]) - if yi == 1 { 1.0 } else { 0.0 };
                    } else {
                        let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
                        let lse = m + sum.ln();
                        loss += lse - z[yi];
                        for (k, zk) in z.iter_mut().enumerate() {
                            *zk = (*zk - lse).exp() - if k == yi { 1.0 } else { 0.0 };
                        }
                    }
                    let (gw, gb) = grad.split_at_mut(d * outputs);
                    for (&j, &v) in idx.iter().zip(val) {
                        let row = &mut gw[j as usize * outputs..(j as usize + 1) * outputs];
                        for (gk, rk) in row.iter_mut().zip(&z) {
                            *gk += v * rk;
                        }
                    }
                    for (gk, rk) in gb.iter_mut().zip(&z) {
                        *gk += rk;
                    }
                }
                // Scale by 1/n and add the penalty on the weights (not the intercepts).
                let mut reg = 0.0;
                for (g, wv) in grad[..d * outputs].iter_mut().zip(weights) {
                    *g = *g / n + penalty * wv;
                    reg += wv * wv;
                }
                for g in grad[d * outputs..].iter_mut() {
                    *g /= n;
                }
                loss / n + 0.5 * penalty * reg
            },
            opts.tol,
            opts.max_iter,
        );
        Ok(LogReg {
            classes,
            features: d,
            outputs,
            params,
            outcome,
        })
    }

    /// Number of fitted parameters (weights and intercepts).
    pub fn parameters(&self) -> u64 {
        self.params.len() as u64
    }

    /// Weight of feature `j` for score vector `k` (tests compare with sklearn's `coef_`).
    pub fn weight(&self, k: usize, j: usize) -> f64 {
        self.params[j * self.outputs + k]
    }

    pub fn intercept(&self, k: usize) -> f64 {
        self.params[self.features * self.outputs + k]
    }

    /// Class probabilities of each row, in `classes` order.
    pub fn predict_proba(&self, x: &Csr) -> Vec<Vec<f64>> {
        (0..x.rows())
            .map(|i| {
                let (idx, val) = x.row(i);
                let mut z: Vec<f64> = self.params[self.features * self.outputs..].to_vec();
                for (&j, &v) in idx.iter().zip(val) {
                    if (j as usize) < self.features {
                        let row = &self.params
                            [j as usize * self.outputs..(j as usize + 1) * self.outputs];
                        for (zk, wk) in z.iter_mut().zip(row) {
                            *zk += v * wk;
                        }
                    }
                }
                if self.outputs == 1 {
                    let p = sigmoid(z[0]);
                    vec![1.0 - p, p]
                } else {
                    let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
                    let s: f64 = e.iter().sum();
                    e.into_iter().map(|v| v / s).collect()
                }
            })
            .collect()
    }

    /// The most probable class of each row (ties: the first class, as numpy's argmax).
    pub fn predict(&self, x: &Csr) -> Vec<&str> {
        self.predict_proba(x)
            .iter()
            .map(|p| {
                let mut best = 0;
                for (k, v) in p.iter().enumerate() {
                    if *v > p[best] {
                        best = k;
                    }
                }
                self.classes[best].as_str()
            })
            .collect()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}
