//! Low-rank OT (ALGORITHMS.md L10; Scetbon, Cuturi, Peyré 2021, *Low-rank Sinkhorn
//! factorization*): couplings `P = Q·diag(1/g)·Rᵀ` with `Q ∈ Π(a, g)`, `R ∈ Π(b, g)`,
//! `g ∈ Δ_r`, found by mirror descent on `⟨C, P⟩` (optionally `− ε·(H(Q) + H(R) + H(g))`)
//! with the adaptive step of Scetbon & Cuturi 2022 (`γ = γ₀ / max‖∇‖²_∞`, OTT-JAX's
//! `gamma_rescale`), each step a Dykstra projection onto the coupled constraints.
//!
//! The cost enters only through `C·R` and `Cᵀ·Q` (the geometry's
//! [`apply_cost`](crate::geometry::Geometry::apply_cost)), so a factored cost — a squared-Euclidean
//! [`PointCloud`](crate::geometry::PointCloud) is `[‖x‖², 1, −2x]·[1, ‖y‖², y]ᵀ` — makes
//! every step `O((n + m)·r·d)`: linear in the number of points.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::problem::LinearProblem;
use crate::error::{Error, Result};
use crate::geometry::Axis;
use crate::observe::{Observer, Progress};
use crate::validate;

/// L1 marginal error at which the intermediate projections stop.
const INTERMEDIATE_TOLERANCE: f64 = 1e-3;

/// How the factors start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowRankInit {
    /// `g = (U + 1)/Σ`, `Q_ik ∝ |N(0,1)|` with rows summing to `a_i` (same for `R`);
    /// ChaCha8 with this seed, so a seed gives the same start everywhere (OTT's default).
    Random {
        /// The seed.
        seed: u64,
    },
    /// The deterministic rank-2 mixture of Scetbon et al. 2021 (POT's `"deterministic"`).
    Rank2,
}

/// Low-rank Sinkhorn (mirror descent with Dykstra projections). Settings only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowRankSinkhorn {
    /// The rank `r` of the coupling (`1 ≤ r ≤ min(n, m)`).
    pub rank: usize,
    /// Entropic regularization of the factors (0: none, OTT's default).
    pub epsilon: f64,
    /// The step `γ₀`; each step uses `γ = γ₀ / max(‖∇_Q‖²_∞, ‖∇_R‖²_∞, ‖∇_g‖²_∞)`.
    pub gamma: f64,
    /// Stop once `KLs(Q, Q⁻) + KLs(R, R⁻) + KLs(g, g⁻) ≤ threshold` (symmetric KL between
    /// successive iterates, OTT-JAX's criterion).
    pub threshold: f64,
    /// Outer (mirror-descent) iterations at most.
    pub max_iterations: usize,
    /// Never stop before this many outer iterations.
    pub min_iterations: usize,
    /// L1 marginal error of the returned factors (the last Dykstra projection's target;
    /// earlier ones stop at 1e-3, OTT-JAX's default).
    /// Projections slow down as the factors sharpen, so very tight targets cost many
    /// inner iterations.
    pub inner_threshold: f64,
    /// Dykstra iterations at most per projection.
    pub inner_max_iterations: usize,
    /// The smallest entry of `g` (keeps `diag(1/g)` bounded; OTT-JAX uses 1e-6).
    pub min_g: f64,
    /// The starting factors.
    pub init: LowRankInit,
}

impl LowRankSinkhorn {
    /// Default settings at the given rank.
    pub fn new(rank: usize) -> Self {
        LowRankSinkhorn {
            rank,
            epsilon: 0.0,
            gamma: 10.0,
            threshold: 1e-5,
            max_iterations: 1000,
            min_iterations: 10,
            inner_threshold: 1e-5,
            inner_max_iterations: 10_000,
            min_g: 1e-10,
            init: LowRankInit::Random { seed: 0 },
        }
    }
}

/// A low-rank coupling `P = Q·diag(1/g)·Rᵀ` and how it was found.
#[derive(Debug, Clone)]
pub struct LowRankOutput {
    q: Array2<f64>,
    r: Array2<f64>,
    g: Array1<f64>,
    cost: f64,
    converged: bool,
    iterations: usize,
    errors: Vec<f64>,
    marginal_error: f64,
}

impl LowRankOutput {
    /// `Q` (`n × r`), with `Q1 = a`, `Qᵀ1 = g`.
    pub fn q(&self) -> ArrayView2<'_, f64> {
        self.q.view()
    }

    /// `R` (`m × r`), with `R1 = b`, `Rᵀ1 = g`.
    pub fn r(&self) -> ArrayView2<'_, f64> {
        self.r.view()
    }

    /// `g` (length `r`).
    pub fn g(&self) -> ArrayView1<'_, f64> {
        self.g.view()
    }

    /// `⟨C, P⟩ = Σ_k (Qᵀ·C·R)_kk / g_k`, in linear time for factored costs.
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// Whether the iterates stopped moving (see [`LowRankSinkhorn::threshold`]) and the
    /// final marginals reached [`LowRankSinkhorn::inner_threshold`].
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Outer iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The criterion after each outer iteration.
    pub fn errors(&self) -> &[f64] {
        &self.errors
    }

    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of the returned factors.
    pub fn marginal_error(&self) -> f64 {
        self.marginal_error
    }

    /// `P·V` (`axis = Rows`, `V` is `m × k`) or `Pᵀ·V` (`Cols`) without forming `P`.
    ///
    /// # Errors
    /// [`Error::Shape`] when `v` has the wrong number of rows.
    pub fn apply(&self, axis: Axis, v: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let (left, right) = match axis {
            Axis::Rows => (&self.q, &self.r),
            Axis::Cols => (&self.r, &self.q),
        };
        if v.nrows() != right.nrows() {
            return Err(Error::Shape {
                arg: "v",
                expected: format!("{} rows", right.nrows()),
                got: format!("{} rows", v.nrows()),
            });
        }
        let mut inner = right.t().dot(&v);
        for (mut row, &gk) in inner.outer_iter_mut().zip(&self.g) {
            row /= gk;
        }
        Ok(left.dot(&inner))
    }

    /// The plan `Q·diag(1/g)·Rᵀ`, refused above `limit_bytes`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the limit.
    pub fn plan(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        let (n, m) = (self.q.nrows(), self.r.nrows());
        validate::matrix_bytes(
            "low-rank plan",
            n,
            m,
            limit_bytes,
            "use apply() or the factors q, r, g",
        )?;
        let scaled = &self.q / &self.g.view().insert_axis(NdAxis(0));
        Ok(scaled.dot(&self.r.t()))
    }
}

impl LowRankSinkhorn {
    fn check(&self, n: usize, m: usize) -> Result<()> {
        if self.rank == 0 || self.rank > n.min(m) {
            return Err(Error::invalid(
                "rank",
                "must be in 1..=min(n, m)",
                format!("{} (n = {n}, m = {m})", self.rank),
            ));
        }
        let positive = |arg: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(arg, "must be finite and > 0", v))
            }
        };
        positive("gamma", self.gamma)?;
        positive("inner_threshold", self.inner_threshold)?;
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(Error::invalid(
                "epsilon",
                "must be finite and >= 0",
                self.epsilon,
            ));
        }
        if self.threshold.is_nan() || self.threshold < 0.0 {
            return Err(Error::invalid("threshold", "must be >= 0", self.threshold));
        }
        if !(self.min_g > 0.0 && self.min_g * (self.rank as f64) < 1.0) {
            return Err(Error::invalid(
                "min_g",
                "must be > 0 and below 1/rank",
                self.min_g,
            ));
        }
        if self.max_iterations == 0 || self.inner_max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        Ok(())
    }

    /// Solves a balanced `problem`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings or an unbalanced problem;
    /// [`Error::Numerical`] if the iterates stop being finite.
    pub fn solve(&self, problem: &LinearProblem<'_>) -> Result<LowRankOutput> {
        self.solve_with(problem, &Observer::new())
    }

    /// [`solve`](Self::solve), reporting each outer iteration to `observer`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        problem: &LinearProblem<'_>,
        observer: &Observer<'_>,
    ) -> Result<LowRankOutput> {
        if !problem.is_balanced() {
            return Err(Error::invalid(
                "problem",
                "low-rank OT needs hard marginals (unbalanced low-rank OT is not available yet)",
                format!("{:?}", problem.penalties()),
            ));
        }
        let geom = problem.geom();
        let (n, m) = geom.shape();
        self.check(n, m)?;
        let (a, b) = (problem.a(), problem.b());
        let (mut q, mut r, mut g) = self.initial(a, b);
        let mut cr = Array2::zeros((n, self.rank));
        let mut ctq = Array2::zeros((m, self.rank));
        let mut errors = Vec::new();
        let mut converged = false;
        for it in 0..self.max_iterations {
            geom.apply_cost(Axis::Rows, r.view(), cr.view_mut())?;
            geom.apply_cost(Axis::Cols, q.view(), ctq.view_mut())?;
            // Gradients of ⟨C, Q diag(1/g) Rᵀ⟩ − ε(H(Q) + H(R) + H(g)).
            let eps = self.epsilon;
            let mut grad_q = &cr / &g.view().insert_axis(NdAxis(0));
            let mut grad_r = &ctq / &g.view().insert_axis(NdAxis(0));
            let omega = (&q * &cr).sum_axis(NdAxis(0));
            let mut grad_g = -&omega / &(&g * &g);
            if eps > 0.0 {
                grad_q.zip_mut_with(&q, |d, &x| *d += eps * slog(x));
                grad_r.zip_mut_with(&r, |d, &x| *d += eps * slog(x));
                grad_g.zip_mut_with(&g, |d, &x| *d += eps * slog(x));
            }
            let sup = |x: &Array2<f64>| x.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
            let norm = sup(&grad_q).powi(2).max(sup(&grad_r).powi(2)).max(
                grad_g
                    .iter()
                    .fold(0.0f64, |acc, v| acc.max(v.abs()))
                    .powi(2),
            );
            if !norm.is_finite() {
                return Err(numerical(it, "the gradient is not finite"));
            }
            let mut gamma = self.gamma / norm.max(f64::MIN_POSITIVE);
            let damp = 1.0 / (eps * gamma + 1.0);
            gamma *= damp;
            // Log-kernels of the mirror step: log ξ = −γ∇ + damp·log(current).
            let log_xq = Zip::from(&grad_q)
                .and(&q)
                .map_collect(|&d, &x| -gamma * d + damp * slog(x));
            let log_xr = Zip::from(&grad_r)
                .and(&r)
                .map_collect(|&d, &x| -gamma * d + damp * slog(x));
            let log_xg = Zip::from(&grad_g)
                .and(&g)
                .map_collect(|&d, &x| -gamma * d + damp * slog(x));
            // Inexact projections while the iterates move (OTT-JAX's Dykstra tolerance); the
            // last one is redone to `inner_threshold`.
            let tol = INTERMEDIATE_TOLERANCE.max(self.inner_threshold);
            let mut next = self.project(&log_xq, &log_xr, &log_xg, a, b, tol)?;
            let err = sym_kl(next.q.iter(), q.iter())
                + sym_kl(next.r.iter(), r.iter())
                + sym_kl(next.g.iter(), g.iter());
            if !err.is_finite() {
                return Err(numerical(it + 1, "the factors are not finite"));
            }
            errors.push(err);
            observer.step(&Progress {
                iteration: it + 1,
                max_iterations: self.max_iterations,
                error: err,
                epsilon: eps,
            })?;
            let last = it + 1 == self.max_iterations;
            if err <= self.threshold && it + 1 >= self.min_iterations {
                converged = true;
            }
            if converged || last {
                if tol > self.inner_threshold {
                    next = self.project(&log_xq, &log_xr, &log_xg, a, b, self.inner_threshold)?;
                }
                // Converged only if the final marginals are as asked.
                converged &= next.reached;
                (q, r, g) = (next.q, next.r, next.g);
                break;
            }
            (q, r, g) = (next.q, next.r, next.g);
        }
        geom.apply_cost(Axis::Rows, r.view(), cr.view_mut())?;
        let cost = ((&q * &cr).sum_axis(NdAxis(0)) / &g).sum();
        let p_rows = q.sum_axis(NdAxis(1));
        let p_cols = r.sum_axis(NdAxis(1));
        let marginal_error =
            (&p_rows - &a).mapv(f64::abs).sum() + (&p_cols - &b).mapv(f64::abs).sum();
        Ok(LowRankOutput {
            q,
            r,
            g,
            cost,
            converged,
            iterations: errors.len(),
            errors,
            marginal_error,
        })
    }

    /// The starting `(Q, R, g)`.
    fn initial(
        &self,
        a: ArrayView1<'_, f64>,
        b: ArrayView1<'_, f64>,
    ) -> (Array2<f64>, Array2<f64>, Array1<f64>) {
        let r = self.rank;
        match self.init {
            LowRankInit::Random { seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut g: Array1<f64> = (0..r).map(|_| rng.random::<f64>() + 1.0).collect();
                g /= g.sum();
                let mut factor = |w: ArrayView1<'_, f64>| {
                    let mut f = Array2::from_shape_fn((w.len(), r), |_| {
                        rng.sample::<f64, _>(StandardNormal).abs() + 1e-3
                    });
                    for (mut row, &wi) in f.outer_iter_mut().zip(w) {
                        let s = row.sum();
                        row *= wi / s;
                    }
                    f
                };
                let q = factor(a);
                let rr = factor(b);
                (q, rr, g)
            }
            LowRankInit::Rank2 => {
                let g = Array1::from_elem(r, 1.0 / r as f64);
                let lambda = 0.5
                    * a.iter()
                        .chain(b)
                        .chain(&g)
                        .fold(f64::INFINITY, |x, &y| x.min(y));
                let ramp = |len: usize| {
                    let v: Array1<f64> = (1..=len).map(|k| k as f64).collect();
                    let s = v.sum();
                    v / s
                };
                let g1 = ramp(r);
                let g2 = (&g - &(&g1 * lambda)) / (1.0 - lambda);
                let factor = |w: ArrayView1<'_, f64>| {
                    let x1 = ramp(w.len());
                    let x2 = (&w - &(&x1 * lambda)) / (1.0 - lambda);
                    Array2::from_shape_fn((w.len(), r), |(i, k)| {
                        lambda * x1[i] * g1[k] + (1.0 - lambda) * x2[i] * g2[k]
                    })
                };
                (factor(a), factor(b), g)
            }
        }
    }

    /// Dykstra's projection (kernel form, rows stabilized) of `(ξ_Q, ξ_R, ξ_g)` onto
    /// `{Q1 = a, R1 = b, Qᵀ1 = Rᵀ1 = g, g ≥ min_g}` in KL (Scetbon et al. 2021, Alg. 2).
    /// Stops when the row marginals are within `tol` in L1 (the column constraints hold
    /// exactly after each step).
    fn project(
        &self,
        log_xq: &Array2<f64>,
        log_xr: &Array2<f64>,
        log_xg: &Array1<f64>,
        a: ArrayView1<'_, f64>,
        b: ArrayView1<'_, f64>,
        tol: f64,
    ) -> Result<Projection> {
        let r = self.rank;
        // Scaling a row of ξ_Q (or all of ξ_g) by a constant leaves the projection
        // unchanged (the constraints fix Q1 and Σg), so each is shifted to a maximum of 0.
        let kq = stabilized_exp(log_xq);
        let kr = stabilized_exp(log_xr);
        let (kqt, krt) = (
            kq.t().as_standard_layout().into_owned(),
            kr.t().as_standard_layout().into_owned(),
        );
        let gmax = log_xg.fold(f64::NEG_INFINITY, |x, &y| x.max(y));
        let mut g_t = log_xg.mapv(|v| (v - gmax).max(-700.0).exp());
        let (mut q3_1, mut q3_2) = (Array1::ones(r), Array1::ones(r));
        let (mut q1, mut q2) = (Array1::ones(r), Array1::ones(r));
        let (mut v1, mut v2) = (Array1::ones(r), Array1::ones(r));
        // Contiguous weights once, for the row passes.
        let (a, b) = (a.as_standard_layout(), b.as_standard_layout());
        let (mut u1, mut u2) = (Array1::zeros(a.len()), Array1::zeros(b.len()));
        let (mut next1, mut next2) = (u1.clone(), u2.clone());
        let mut g = g_t.clone();
        let mut reached = false;
        for it in 0..self.inner_max_iterations {
            // One pass per factor: u ← w/(K·v) into `next`, s = Kᵀ·u_next, and the row error
            // of the current state (u, v), whose columns are exactly g.
            let (s1, err1) = scale_rows(&kqt, v1.view(), a.view(), u1.view(), next1.view_mut());
            let (s2, err2) = scale_rows(&krt, v2.view(), b.view(), u2.view(), next2.view_mut());
            if it > 0 && it % 10 == 0 {
                let err = err1 + err2;
                if !err.is_finite() {
                    return Err(numerical(0, "the Dykstra projection diverged"));
                }
                if err <= tol {
                    reached = true;
                    break;
                }
            }
            std::mem::swap(&mut u1, &mut next1);
            std::mem::swap(&mut u2, &mut next2);
            // g ≥ min_g (with its Dykstra correction q3_1).
            let floored = (&g_t * &q3_1).mapv(|v| v.max(self.min_g));
            q3_1 = &(&g_t * &q3_1) / &floored;
            g_t = floored;
            g = Zip::from(&g_t)
                .and(&q3_2)
                .and(&v1)
                .and(&q1)
                .and(&s1)
                .map_collect(|&gt: &f64, &c: &f64, &v: &f64, &qq: &f64, &s: &f64| {
                    (gt * c * v * qq * s).cbrt()
                });
            g.zip_mut_with(&(&(&v2 * &q2) * &s2), |x, &y| *x *= y.cbrt());
            let v1_new = &g / &s1;
            let v2_new = &g / &s2;
            q1 = &(&v1 * &q1) / &v1_new;
            q2 = &(&v2 * &q2) / &v2_new;
            q3_2 = &(&g_t * &q3_2) / &g;
            v1 = v1_new;
            v2 = v2_new;
            g_t = g.clone();
        }
        let factor = |k: &Array2<f64>, u: &Array1<f64>, v: &Array1<f64>| {
            let mut f = k.clone();
            Zip::from(f.rows_mut()).and(u).for_each(|mut row, &ui| {
                row.zip_mut_with(v, |x, &vk| *x *= ui * vk);
            });
            f
        };
        let q = factor(&kq, &u1, &v1);
        let rr = factor(&kr, &u2, &v2);
        if q.iter()
            .chain(rr.iter())
            .chain(g.iter())
            .any(|v| !v.is_finite())
        {
            return Err(numerical(
                0,
                "the Dykstra projection produced non-finite factors",
            ));
        }
        Ok(Projection {
            q,
            r: rr,
            g,
            reached,
        })
    }
}

/// The projected factors, and whether the row marginals reached the tolerance.
struct Projection {
    q: Array2<f64>,
    r: Array2<f64>,
    g: Array1<f64>,
    reached: bool,
}

/// For a row-scaled kernel given transposed, `kt = Kᵀ` (`r × n`, each component
/// contiguous): `next_i = w_i/(K·v)_i` (0 for a zero weight), `s = Kᵀ·next`, and the row
/// error `Σ_i |u_i·(K·v)_i − w_i|` of the current scaling `u`. One pass over `K` in blocks
/// of rows (vectorized along the rows), in parallel for large kernels, reduced in a fixed
/// order.
fn scale_rows(
    kt: &Array2<f64>,
    v: ArrayView1<'_, f64>,
    w: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    mut next: ndarray::ArrayViewMut1<'_, f64>,
) -> (Array1<f64>, f64) {
    const BLOCK: usize = 512;
    let (r, n) = kt.dim();
    let kdata = kt.as_slice().expect("kernels are standard layout");
    let v = v.as_slice().expect("contiguous");
    let (w, u) = (
        w.as_slice().expect("contiguous"),
        u.as_slice().expect("contiguous"),
    );
    let next = next.as_slice_mut().expect("contiguous");
    let block = |(blk, out): (usize, &mut [f64])| {
        let i0 = blk * BLOCK;
        let len = out.len();
        let mut kv = [0.0f64; BLOCK];
        let kv = &mut kv[..len];
        for (k, &vk) in v.iter().enumerate() {
            let col = &kdata[k * n + i0..k * n + i0 + len];
            kv.iter_mut().zip(col).for_each(|(acc, &x)| *acc += vk * x);
        }
        let mut err = 0.0;
        for (t, o) in out.iter_mut().enumerate() {
            let (wi, ui) = (w[i0 + t], u[i0 + t]);
            err += (ui * kv[t] - wi).abs();
            *o = if wi > 0.0 { wi / kv[t] } else { 0.0 };
        }
        let s: Vec<f64> = (0..r)
            .map(|k| {
                let col = &kdata[k * n + i0..k * n + i0 + len];
                col.iter().zip(out.iter()).map(|(x, y)| x * y).sum()
            })
            .collect();
        (s, err)
    };
    // Small kernels stay on one thread: a parallel dispatch costs more than the pass.
    let partials: Vec<(Vec<f64>, f64)> = if kdata.len() < 1 << 16 {
        next.chunks_mut(BLOCK).enumerate().map(block).collect()
    } else {
        next.par_chunks_mut(BLOCK).enumerate().map(block).collect()
    };
    let mut s = Array1::zeros(r);
    let mut err = 0.0;
    for (p, e) in partials {
        s += &Array1::from(p);
        err += e;
    }
    (s, err)
}

/// `exp(x − max of its row)`, exponents clamped at −700 so no entry underflows to zero.
fn stabilized_exp(x: &Array2<f64>) -> Array2<f64> {
    let mut out = x.clone();
    Zip::from(out.rows_mut()).par_for_each(|mut row| {
        let mx = row.fold(f64::NEG_INFINITY, |acc, &v| acc.max(v));
        row.mapv_inplace(|v| (v - mx).max(-700.0).exp());
    });
    out
}

/// `log x`, with `log 0` replaced by the log of the smallest positive double (OTT's `slog`).
fn slog(x: f64) -> f64 {
    x.max(f64::MIN_POSITIVE).ln()
}

/// Symmetric generalized KL `Σ (p − q)(log p − log q)`.
fn sym_kl<'a>(p: impl Iterator<Item = &'a f64>, q: impl Iterator<Item = &'a f64>) -> f64 {
    p.zip(q).map(|(&x, &y)| (x - y) * (slog(x) - slog(y))).sum()
}

fn numerical(iteration: usize, detail: &str) -> Error {
    Error::Numerical {
        solver: "low-rank sinkhorn",
        iteration,
        epsilon: 0.0,
        detail: detail.into(),
    }
}
