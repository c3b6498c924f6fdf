//! The KL projection of low-rank OT's mirror step onto the coupled constraints
//! `{Q1 = a, R1 = b, Qᵀ1 = Rᵀ1 = g, g ≥ g_min}` (Scetbon, Cuturi, Peyré 2021, §3), solved by
//! damped Newton ascent on its `2r`-dimensional dual instead of Dykstra's alternating
//! scalings. The row constraints may instead be KL penalties (unbalanced low-rank OT;
//! see [`Kernels::kappa_a`]).
//!
//! With column log-scalings `h₁, h₂ ∈ ℝʳ`, the row constraints are met in closed form
//! (`Q_ik = a_i·K_ik e^{h₁k} / Σ_l K_il e^{h₁l}`) and `g` is `max(g_min, ξ_g e^{−h₁−h₂})`, so
//! the dual is the concave function
//!
//! `Φ(h₁, h₂) = −Σ_i a_i log(K_Q e^{h₁})_i − Σ_j b_j log(K_R e^{h₂})_j + ψ(h₁ + h₂)`,
//! `ψ(s) = min_{g ≥ g_min} KL(g | ξ_g) + ⟨s, g⟩`,
//!
//! whose gradient is `(g − Qᵀ1, g − Rᵀ1)`: the column errors. Its Hessian costs one
//! `r × r` Gram product per factor (`O(n r²)`), and Newton's method reaches machine
//! precision in a handful of steps where the alternating scalings need hundreds once the
//! factors sharpen. The dual is flat along `(1, −1)` (a common shift of `h₁` against `h₂`),
//! which the gradient never has a component on; a ridge keeps the solve defined.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, s};
use rayon::prelude::*;

use crate::kernels::exp::CLAMP;
use crate::kernels::gemm::mul_transposed;
use crate::kernels::lse::exp_row;

/// Rows per block of the passes over the kernels.
const BLOCK: usize = 256;
/// Kernels with fewer entries are processed on one thread (a parallel dispatch costs more).
pub(super) const PARALLEL: usize = 1 << 14;
/// Sufficient-increase constant of the backtracking line search.
const ARMIJO: f64 = 1e-4;
/// Halvings of the Newton step before the line search gives up.
const MAX_HALVINGS: usize = 40;

/// A factor with its entrywise log (kept exactly, so no `log` is ever taken of a factor).
pub(super) struct Factor {
    pub value: Array2<f64>,
    pub log: Array2<f64>,
}

/// The projected factors, and whether the marginals reached the tolerance.
pub(super) struct Projection {
    pub q: Factor,
    pub r: Factor,
    pub g: Array1<f64>,
    /// The column log-scalings `(h₁, h₂)` found.
    pub duals: (Array1<f64>, Array1<f64>),
    pub reached: bool,
}

/// A mirror-step kernel `exp(log ξ)`, each row shifted to a maximum of 0 (a row's scale
/// leaves the projection unchanged: the row constraints fix it), exponents clamped at −700
/// so no entry underflows to zero.
pub(super) struct Kernel {
    k: Array2<f64>,
    log: Array2<f64>,
    /// The shift taken off each row (`log ξ_i = log K_i + shift_i`): irrelevant for hard
    /// row constraints, part of the row's mass for soft ones.
    shift: Vec<f64>,
}

impl Kernel {
    /// The kernel of `log` (shifted and clamped in place), written into `k` (any contents;
    /// a buffer of the same shape is reused, so the solve allocates no `n × r` array per
    /// iteration).
    pub(super) fn from_log(mut log: Array2<f64>, mut k: Array2<f64>) -> Self {
        let r = log.ncols().max(1);
        if k.dim() != log.dim() || !k.is_standard_layout() {
            k = Array2::zeros(log.dim());
        }
        let mut shift = vec![0.0; log.nrows()];
        let src = log.as_slice_mut().expect("standard layout");
        let dst = k.as_slice_mut().expect("standard layout");
        let chunk = |((x, out), sh): ((&mut [f64], &mut [f64]), &mut [f64])| {
            for (row, sh) in x.chunks_mut(r).zip(sh) {
                let mx = row.iter().fold(f64::NEG_INFINITY, |acc, &v| acc.max(v));
                row.iter_mut().for_each(|v| *v = (*v - mx).max(-CLAMP));
                *sh = mx;
            }
            exp_row(0.0, x, x, 0.0, out);
        };
        let rows = BLOCK * r;
        if src.len() < PARALLEL {
            src.chunks_mut(rows)
                .zip(dst.chunks_mut(rows))
                .zip(shift.chunks_mut(BLOCK))
                .for_each(chunk);
        } else {
            src.par_chunks_mut(rows)
                .zip(dst.par_chunks_mut(rows))
                .zip(shift.par_chunks_mut(BLOCK))
                .for_each(chunk);
        }
        Kernel { k, log, shift }
    }
}

/// The mirror step's kernels with the weights they must meet.
pub(super) struct Kernels<'a> {
    pub kq: Kernel,
    pub kr: Kernel,
    /// `ξ_g`. With hard row constraints any positive scale gives the same projection
    /// (`Σ g = Σ a` is implied), and summing to 1 keeps the column log-scalings of
    /// successive projections comparable; with soft ones its scale matters.
    pub xg: Array1<f64>,
    pub a: ArrayView1<'a, f64>,
    pub b: ArrayView1<'a, f64>,
    /// `κ = 1/(1 + γρ)` for a row constraint relaxed to `ρ·KL(Q1 | a)` (unbalanced low-rank
    /// OT, Scetbon et al. 2023; the projection's KL terms carry the weight `1/γ`), 0 for a
    /// hard one. A row's mass is then `a_i^{1−κ}·s_i^κ` with `s_i = (K e^h)_i`.
    pub kappa_a: f64,
    /// As `kappa_a`, for `R1` and `b`.
    pub kappa_b: f64,
    pub min_g: f64,
}

/// The mass of a row with weight `w` and kernel sum `s·e^{shift}` (`s` the sum with the
/// scalings shifted by `−shift`): `w` for a hard constraint (`κ = 0`), else
/// `w^{1−κ}·(s·e^{shift})^κ`.
fn row_mass(w: f64, s: f64, shift: f64, kappa: f64) -> f64 {
    if kappa == 0.0 {
        w
    } else {
        (w.ln() * (1.0 - kappa) + (s.ln() + shift) * kappa).exp()
    }
}

/// What a pass over a factor's kernel computes at column log-scalings `h`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The row terms of the dual's value only (for the line search): `Σ_i w_i log s_i`
    /// for hard rows, `Σ_i m_i / κ` for soft ones (`m_i` the row masses).
    Value,
    /// The column sums `Qᵀ1 = Σ_i m_i p_i` and `(1 − κ)·Σ_i m_i p_i p_iᵀ` (`p_i` the
    /// normalized row): the gradient and Hessian. No logarithm is taken for hard rows.
    Derivatives,
}

/// The column sums and Gram matrix of one factor ([`Pass::Derivatives`]).
struct Moments {
    col: Array1<f64>,
    gram: Array2<f64>,
}

/// One pass over `k` in blocks of rows (in parallel for large kernels, reduced in a fixed
/// order). Returns the value (for [`Pass::Value`]) or the moments.
fn factor_pass(
    kernel: &Kernel,
    w: &[f64],
    kappa: f64,
    h: &Array1<f64>,
    pass: Pass,
) -> (f64, Moments) {
    let (n, r) = kernel.k.dim();
    let hmax = h.fold(f64::NEG_INFINITY, |x, &y| x.max(y));
    let v: Vec<f64> = h.iter().map(|&x| (x - hmax).exp()).collect();
    let kdata = kernel.k.as_slice().expect("kernels are standard layout");
    let derivatives = pass == Pass::Derivatives;
    let block = |blk: usize| {
        let i0 = blk * BLOCK;
        let len = BLOCK.min(n - i0);
        let mut value = 0.0;
        let mut col = vec![0.0; r];
        // Transposed `√w_i·p_i` of this block, for the Gram product.
        let mut st = if derivatives {
            vec![0.0; r * len]
        } else {
            Vec::new()
        };
        for t in 0..len {
            let wi = w[i0 + t];
            if wi <= 0.0 {
                continue;
            }
            let row = &kdata[(i0 + t) * r..(i0 + t + 1) * r];
            let s: f64 = row.iter().zip(&v).map(|(x, y)| x * y).sum();
            let mass = row_mass(wi, s, hmax + kernel.shift[i0 + t], kappa);
            if !derivatives {
                value += if kappa == 0.0 {
                    wi * s.ln()
                } else {
                    mass / kappa
                };
                continue;
            }
            let (scale, root) = (mass / s, ((1.0 - kappa) * mass).sqrt() / s);
            for (kk, ((c, &x), &vk)) in col.iter_mut().zip(row).zip(&v).enumerate() {
                let p = x * vk;
                *c += scale * p;
                st[kk * len + t] = root * p;
            }
        }
        let gram = derivatives.then(|| {
            let mut out = vec![0.0; r * r];
            mul_transposed(&st, &st, len, &mut out, r, r);
            out
        });
        (value, col, gram)
    };
    let blocks = n.div_ceil(BLOCK);
    let partials: Vec<_> = if n * r < PARALLEL {
        (0..blocks).map(block).collect()
    } else {
        (0..blocks).into_par_iter().map(block).collect()
    };
    let mut value = 0.0;
    let mut moments = Moments {
        col: Array1::zeros(r),
        gram: Array2::zeros((r, r)),
    };
    for (v_, c, g) in partials {
        value += v_;
        moments.col += &Array1::from(c);
        if let Some(g) = g {
            moments.gram += &Array2::from_shape_vec((r, r), g).expect("r × r");
        }
    }
    if kappa == 0.0 {
        value += w.iter().sum::<f64>() * hmax;
    }
    (value, moments)
}

/// `g = max(g_min, ξ e^{−s})`, `ψ(s)` and which entries are free (not at the floor).
fn marginal_g(xg: &Array1<f64>, s: &Array1<f64>, min_g: f64) -> (Array1<f64>, f64, Vec<bool>) {
    let mut psi = 0.0;
    let mut free = Vec::with_capacity(s.len());
    let g = ndarray::Zip::from(xg).and(s).map_collect(|&x, &sk| {
        let unclamped = x * (-sk).exp();
        if unclamped >= min_g {
            psi += x - unclamped;
            free.push(true);
            unclamped
        } else {
            psi += min_g * (min_g / x).ln() - min_g + x + sk * min_g;
            free.push(false);
            min_g
        }
    });
    (g, psi, free)
}

/// The dual's value `Φ(h₁, h₂)`.
fn dual_value(k: &Kernels<'_>, w: (&[f64], &[f64]), h1: &Array1<f64>, h2: &Array1<f64>) -> f64 {
    let (vq, _) = factor_pass(&k.kq, w.0, k.kappa_a, h1, Pass::Value);
    let (vr, _) = factor_pass(&k.kr, w.1, k.kappa_b, h2, Pass::Value);
    let (_, psi, _) = marginal_g(&k.xg, &(h1 + h2), k.min_g);
    -vq - vr + psi
}

/// The dual's derivatives at `(h₁, h₂)`.
struct Dual {
    q: Moments,
    r: Moments,
    g: Array1<f64>,
    free: Vec<bool>,
}

impl Dual {
    fn at(k: &Kernels<'_>, w: (&[f64], &[f64]), h1: &Array1<f64>, h2: &Array1<f64>) -> Self {
        let (_, q) = factor_pass(&k.kq, w.0, k.kappa_a, h1, Pass::Derivatives);
        let (_, r) = factor_pass(&k.kr, w.1, k.kappa_b, h2, Pass::Derivatives);
        let (g, _, free) = marginal_g(&k.xg, &(h1 + h2), k.min_g);
        Dual { q, r, g, free }
    }

    /// `∇Φ = (g − Qᵀ1, g − Rᵀ1)` and its L1 norm (the column errors).
    fn gradient(&self) -> (Array1<f64>, f64) {
        let r = self.g.len();
        let mut grad = Array1::zeros(2 * r);
        for k in 0..r {
            grad[k] = self.g[k] - self.q.col[k];
            grad[r + k] = self.g[k] - self.r.col[k];
        }
        let l1 = grad.iter().map(|v: &f64| v.abs()).sum();
        (grad, l1)
    }

    /// The Newton direction: `J d = ∇Φ` with `J = −∇²Φ` (positive semi-definite) plus a
    /// ridge.
    fn newton_direction(&self, grad: &Array1<f64>) -> Option<Array1<f64>> {
        let r = self.g.len();
        let d = |k: usize| if self.free[k] { self.g[k] } else { 0.0 };
        let jac = |i: usize, j: usize| -> f64 {
            let (bi, ki) = (i / r, i % r);
            let (bj, kj) = (j / r, j % r);
            let coupling = if ki == kj { d(ki) } else { 0.0 };
            if bi != bj {
                return coupling;
            }
            let side = if bi == 0 { &self.q } else { &self.r };
            let diag = if ki == kj { side.col[ki] } else { 0.0 };
            diag - side.gram[[ki, kj]] + coupling
        };
        let scale = (0..2 * r).map(|i| jac(i, i)).fold(0.0f64, f64::max);
        let mut ridge = 1e-12 * scale.max(f64::MIN_POSITIVE);
        for _ in 0..6 {
            let m = Mat::<f64>::from_fn(2 * r, 2 * r, |i, j| {
                jac(i, j) + if i == j { ridge } else { 0.0 }
            });
            if let Ok(llt) = m.llt(Side::Lower) {
                let rhs = Mat::<f64>::from_fn(2 * r, 1, |i, _| grad[i]);
                let x = llt.solve(rhs);
                let dir: Array1<f64> = (0..2 * r).map(|i| x[(i, 0)]).collect();
                if dir.iter().all(|v| v.is_finite()) {
                    return Some(dir);
                }
            }
            ridge *= 100.0;
        }
        None
    }
}

/// Projects the kernels onto the coupled constraints to an L1 marginal error `tol`, in at
/// most `max_iterations` Newton steps from the column log-scalings `start` (the last
/// projection's, which successive mirror steps nearly share). The returned factors meet
/// `Qᵀ1 = Rᵀ1 = g` exactly; their row marginals are within the final column error.
pub(super) fn project(
    kernels: Kernels<'_>,
    start: (Array1<f64>, Array1<f64>),
    tol: f64,
    max_iterations: usize,
) -> Projection {
    let rank = kernels.xg.len();
    let (a, b) = (
        kernels.a.as_standard_layout(),
        kernels.b.as_standard_layout(),
    );
    let w = (
        a.as_slice().expect("contiguous"),
        b.as_slice().expect("contiguous"),
    );
    let (mut h1, mut h2) = start;
    let k = &kernels;
    let mut dual = Dual::at(k, w, &h1, &h2);
    let mut reached = false;
    for _ in 0..max_iterations {
        let (grad, err) = dual.gradient();
        if err <= tol {
            reached = true;
            break;
        }
        let Some(dir) = dual.newton_direction(&grad) else {
            break;
        };
        let shifted = |t: f64| {
            (
                &h1 + &(&dir.slice(s![..rank]) * t),
                &h2 + &(&dir.slice(s![rank..]) * t),
            )
        };
        // The full step, kept when it shrinks the column errors (no dual value needed).
        let (n1, n2) = shifted(1.0);
        let full = Dual::at(k, w, &n1, &n2);
        if full.gradient().1 < err {
            (h1, h2, dual) = (n1, n2, full);
            continue;
        }
        // Otherwise backtracking on the dual value (Armijo), from half a step.
        let phi = dual_value(k, w, &h1, &h2);
        let slope = grad.dot(&dir);
        // Rounding in Φ near the optimum: accept steps within a few ulps of no change.
        let slack = 1e-14 * (1.0 + phi.abs());
        let mut t = 0.5;
        let mut accepted = None;
        for _ in 0..MAX_HALVINGS {
            let (n1, n2) = shifted(t);
            let trial = dual_value(k, w, &n1, &n2);
            if trial.is_finite() && trial >= phi + ARMIJO * t * slope - slack {
                accepted = Some((n1, n2));
                break;
            }
            t *= 0.5;
        }
        let Some((n1, n2)) = accepted else {
            break;
        };
        dual = Dual::at(k, w, &n1, &n2);
        (h1, h2) = (n1, n2);
    }
    let (kappa_a, kappa_b) = (kernels.kappa_a, kernels.kappa_b);
    let Kernels { kq, kr, .. } = kernels;
    let q = factors(kq, w.0, kappa_a, &h1, &dual.g, &dual.q.col);
    let r = factors(kr, w.1, kappa_b, &h2, &dual.g, &dual.r.col);
    Projection {
        q,
        r,
        g: dual.g,
        duals: (h1, h2),
        reached,
    }
}

/// A block of rows of a factor and of its log, with their weights and kernel row shifts.
type RowBlock<'a> = (((&'a mut [f64], &'a mut [f64]), &'a [f64]), &'a [f64]);

/// `Q_ik = m_i p_ik · g_k/(Qᵀ1)_k` (`m_i` the row's mass): the primal factor with its columns rescaled to `g`, and
/// its log `log K_ik + c_k + log(w_i/s_i)` (`log f64::MIN_POSITIVE` where it is exactly 0).
fn factors(
    k: Kernel,
    w: &[f64],
    kappa: f64,
    h: &Array1<f64>,
    g: &Array1<f64>,
    col: &Array1<f64>,
) -> Factor {
    let hmax = h.fold(f64::NEG_INFINITY, |x, &y| x.max(y));
    let v: Vec<f64> = h.iter().map(|&x| (x - hmax).exp()).collect();
    // Column factors `v_k·g_k/(Qᵀ1)_k` and their logs (`None` for an empty column).
    let fix: Vec<Option<(f64, f64)>> = h
        .iter()
        .zip(g)
        .zip(col)
        .map(|((&hk, &gk), &ck)| {
            (ck > 0.0).then(|| ((hk - hmax).exp() * gk / ck, hk - hmax + (gk / ck).ln()))
        })
        .collect();
    let Kernel {
        k: mut value,
        mut log,
        shift,
    } = k;
    let floor = f64::MIN_POSITIVE.ln();
    let r = v.len().max(1);
    let chunk = |(((vals, logs), w), shift): RowBlock<'_>| {
        let rows = vals.chunks_mut(r).zip(logs.chunks_mut(r));
        for ((row, lrow), (&wi, &sh)) in rows.zip(w.iter().zip(shift)) {
            let s: f64 = row.iter().zip(&v).map(|(x, y)| x * y).sum();
            if wi <= 0.0 || s.is_nan() || s <= 0.0 {
                row.fill(0.0);
                lrow.fill(floor);
                continue;
            }
            let scale = row_mass(wi, s, hmax + sh, kappa) / s;
            let lscale = scale.ln();
            for ((x, lx), f) in row.iter_mut().zip(lrow.iter_mut()).zip(&fix) {
                match f {
                    Some((f, lf)) => {
                        *x *= scale * f;
                        *lx += lscale + lf;
                    }
                    None => {
                        *x = 0.0;
                        *lx = floor;
                    }
                }
            }
        }
    };
    let vals = value.as_slice_mut().expect("standard layout");
    let logs = log.as_slice_mut().expect("standard layout");
    if vals.len() < PARALLEL {
        vals.chunks_mut(BLOCK * r)
            .zip(logs.chunks_mut(BLOCK * r))
            .zip(w.chunks(BLOCK))
            .zip(shift.chunks(BLOCK))
            .for_each(chunk);
    } else {
        vals.par_chunks_mut(BLOCK * r)
            .zip(logs.par_chunks_mut(BLOCK * r))
            .zip(w.par_chunks(BLOCK))
            .zip(shift.par_chunks(BLOCK))
            .for_each(chunk);
    }
    Factor { value, log }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn kernels(
        n: usize,
        m: usize,
        r: usize,
        seed: u64,
        spread: f64,
    ) -> (Array2<f64>, Array2<f64>, Array1<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = |rows: usize| {
            Array2::from_shape_fn((rows, r), |_| spread * (rng.random::<f64>() - 0.5))
        };
        let (lq, lr) = (draw(n), draw(m));
        let lg = Array1::from_shape_fn(r, |k| 0.3 * k as f64);
        (lq, lr, lg)
    }

    fn weights(n: usize, seed: u64) -> Array1<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w = Array::from_shape_fn(n, |_| rng.random::<f64>() + 0.1);
        &w / w.sum()
    }

    /// The projection is feasible, and `log(Q/K)`, `log(R/K)` are sums of a row term and a
    /// column term `h₁`, `h₂` with `g = ξ_g·e^{−h₁−h₂}` off the floor: the KKT conditions of
    /// the KL projection, so it is the projection.
    #[test]
    fn newton_projection_meets_the_kkt_conditions() {
        for (seed, spread) in [(1, 2.0), (2, 30.0), (3, 200.0)] {
            let (n, m, r) = (40, 30, 5);
            let (lq, lr, lg) = kernels(n, m, r, seed, spread);
            let (a, b) = (weights(n, seed + 10), weights(m, seed + 20));
            let mut xg = lg.mapv(f64::exp);
            xg /= xg.sum();
            let kq = Kernel::from_log(lq.clone(), Array2::zeros((n, r)));
            let kr = Kernel::from_log(lr.clone(), Array2::zeros((m, r)));
            let out = project(
                Kernels {
                    kq,
                    kr,
                    xg: xg.clone(),
                    a: a.view(),
                    b: b.view(),
                    kappa_a: 0.0,
                    kappa_b: 0.0,
                    min_g: 1e-10,
                },
                (Array1::zeros(r), Array1::zeros(r)),
                1e-13,
                100,
            );
            assert!(out.reached, "seed {seed}");
            let (q, rr, g) = (&out.q.value, &out.r.value, &out.g);
            for (f, w) in [(q, &a), (rr, &b)] {
                let rows = f.sum_axis(ndarray::Axis(1));
                let cols = f.sum_axis(ndarray::Axis(0));
                assert!(
                    (&rows - w).mapv(f64::abs).sum() < 1e-12,
                    "rows, seed {seed}"
                );
                assert!(
                    (&cols - g).mapv(f64::abs).sum() < 1e-14,
                    "cols, seed {seed}"
                );
            }
            // Additive structure: log Q_ik − log K_ik − (log Q_i0 − log K_i0) = c_k − c_0.
            let mut h = Vec::new();
            for (f, l) in [(&out.q, &lq), (&out.r, &lr)] {
                let ratio = &f.log - l;
                let col = ratio.row(0).to_owned() - ratio[[0, 0]];
                for row in ratio.outer_iter() {
                    let shifted = &row - row[0];
                    assert!(
                        (&shifted - &col)
                            .mapv(f64::abs)
                            .fold(0.0f64, |x, &y| x.max(y))
                            < 1e-9
                    );
                }
                // The logs are those of the values.
                for (&v, &lv) in f.value.iter().zip(&f.log) {
                    assert!((v.ln() - lv).abs() < 1e-9);
                }
                h.push(col);
            }
            // g_k ∝ ξ_k·e^{−h₁k−h₂k}: log(g/ξ) + h₁ + h₂ is constant.
            let t = g.mapv(f64::ln) - xg.mapv(f64::ln) + &h[0] + &h[1];
            let spread = t.fold(f64::NEG_INFINITY, |x, &y| x.max(y))
                - t.fold(f64::INFINITY, |x, &y| x.min(y));
            assert!(spread < 1e-9, "g relation, seed {seed}: {spread:e}");
            assert!((g.sum() - 1.0).abs() < 1e-12);
        }
    }

    /// An entry of `ξ_g` far below the floor ends at the floor, and the rest still meets the
    /// constraints.
    #[test]
    fn the_floor_on_g_holds() {
        let (n, m, r) = (25, 20, 4);
        let (lq, lr, _) = kernels(n, m, r, 7, 3.0);
        let (a, b) = (weights(n, 8), weights(m, 9));
        let xg = Array1::from(vec![1.0, 1.0, 1.0, 1e-30]);
        let min_g = 1e-3;
        let out = project(
            Kernels {
                kq: Kernel::from_log(lq, Array2::zeros((n, r))),
                kr: Kernel::from_log(lr, Array2::zeros((m, r))),
                xg,
                a: a.view(),
                b: b.view(),
                kappa_a: 0.0,
                kappa_b: 0.0,
                min_g,
            },
            (Array1::zeros(r), Array1::zeros(r)),
            1e-12,
            100,
        );
        assert!(out.reached);
        assert!(out.g.iter().all(|&v| v >= min_g * (1.0 - 1e-12)));
        assert!(out.g[3] < 1.01 * min_g, "{}", out.g[3]);
        let cols = out.q.value.sum_axis(ndarray::Axis(0));
        assert!((&cols - &out.g).mapv(f64::abs).sum() < 1e-13);
    }
}
