//! Limited-memory BFGS (Nocedal and Wright, algorithm 7.4 with the two-loop recursion) with a
//! backtracking Armijo line search, for smooth convex objectives. Deterministic: no threads,
//! no randomness.

/// Why the optimizer stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub iterations: usize,
    /// The largest absolute gradient component at the end.
    pub gradient_max: f64,
    pub value: f64,
    /// True when the gradient or the decrease fell under tolerance before `max_iter`.
    pub converged: bool,
}

/// Minimise `f` from `x` in place. `f(x, grad)` returns the value and writes the gradient.
/// Stops when max |grad| <= `gtol`, or the relative decrease falls under 1e-15 (no further
/// progress is possible in f64), or after `max_iter` iterations.
pub fn minimize(
    x: &mut [f64],
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    gtol: f64,
    max_iter: usize,
) -> Outcome {
    const MEMORY: usize = 10;
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut dir = vec![0.0; n];
    let max_abs = |v: &[f64]| v.iter().fold(0.0f64, |m, a| m.max(a.abs()));

    for iter in 0..max_iter {
        if max_abs(&g) <= gtol {
            return Outcome {
                iterations: iter,
                gradient_max: max_abs(&g),
                value: fx,
                converged: true,
            };
        }
        // Two-loop recursion: dir = -H g.
        dir.copy_from_slice(&g);
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        for i in (0..k).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &dir);
            axpy(-alpha[i], &y_hist[i], &mut dir);
        }
        let gamma = match k {
            0 => 1.0 / norm(&g).max(1e-300), // first step: unit length
            _ => dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1]),
        };
        dir.iter_mut().for_each(|d| *d *= gamma);
        for i in 0..k {
            let beta = rho[i] * dot(&y_hist[i], &dir);
            axpy(alpha[i] - beta, &s_hist[i], &mut dir);
        }
        dir.iter_mut().for_each(|d| *d = -*d);
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let scale = 1.0 / norm(&g).max(1e-300);
            for (d, gi) in dir.iter_mut().zip(&g) {
                *d = -gi * scale;
            }
            slope = dot(&g, &dir);
        }
        // Backtracking line search with the Armijo condition.
        let mut step = 1.0;
        let mut f_new;
        loop {
            for i in 0..n {
                x_new[i] = x[i] + step * dir[i];
            }
            f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * step * slope || step < 1e-20 {
                break;
            }
            step *= 0.5;
        }
        let decrease = fx - f_new;
        if decrease < 0.0 {
            // The line search found no lower point: we are at the optimum to f64 precision.
            let gm = max_abs(&g);
            return Outcome {
                iterations: iter,
                gradient_max: gm,
                value: fx,
                converged: gm <= gtol.max(1e-6),
            };
        }
        // Curvature pair; skipped when it would break positive definiteness.
        let s: Vec<f64> = x_new.iter().zip(x.iter()).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(g.iter()).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).max(1e-300) {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho.push(1.0 / sy);
        }
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        fx = f_new;
        if decrease.abs() <= 1e-15 * fx.abs().max(1.0) {
            return Outcome {
                iterations: iter + 1,
                gradient_max: max_abs(&g),
                value: fx,
                converged: true,
            };
        }
    }
    Outcome {
        iterations: max_iter,
        gradient_max: max_abs(&g),
        value: fx,
        converged: max_abs(&g) <= gtol,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        // Minimum at (1, 1), value 0.
        let mut x = vec![-1.2, 1.0];
        let out = minimize(
            &mut x,
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            1e-8,
            1000,
        );
        assert!(out.converged, "{out:?}");
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{x:?}"
        );
    }
}
