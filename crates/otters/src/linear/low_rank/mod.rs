//! Low-rank OT (ALGORITHMS.md L10; Scetbon, Cuturi, Peyré 2021, *Low-rank Sinkhorn
//! factorization*): couplings `P = Q·diag(1/g)·Rᵀ` with `Q ∈ Π(a, g)`, `R ∈ Π(b, g)`,
//! `g ∈ Δ_r`, found by mirror descent on `⟨C, P⟩` (optionally `− ε·(H(Q) + H(R) + H(g))`)
//! with the adaptive step of Scetbon & Cuturi 2022 (`γ = γ₀ / max‖∇‖²_∞`, OTT-JAX's
//! `gamma_rescale`), each step a KL projection onto the coupled constraints solved by Newton's
//! method on its `2r`-dimensional dual (`projection.rs`). Unbalanced low-rank OT (Scetbon,
//! Klein, Palla, Cuturi 2023) relaxes `Q1 = a`, `R1 = b` to `ρ·KL` penalties inside the same
//! projection.
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

mod kmeans;
mod objective;
mod projection;

use self::objective::LinearCost;
pub(crate) use self::objective::{GradientTerms, Marginals, Objective, plan_dot};
use self::projection::{Factor, Kernel, Kernels};
use super::problem::{LinearProblem, MarginalPenalty};
use crate::error::{Error, Result};
use crate::geometry::Axis;
use crate::observe::{Observer, Progress};
use crate::validate;

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
    /// Entropic plans from each point cloud to `r` of its k-means centroids (k-means++
    /// seeded by `seed`; OTT-JAX's `KMeansInitializer`), the target's components matched to
    /// the source's by an assignment between centroids. Needs a geometry built from points.
    KMeans {
        /// The seed of the k-means++ seeding.
        seed: u64,
    },
}

/// Low-rank Sinkhorn (mirror descent with exact KL projections). Settings only.
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
    /// L1 marginal error at which each projection stops (Newton converges quadratically,
    /// so tight targets cost a step or two more).
    pub inner_threshold: f64,
    /// Newton steps at most per projection.
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

/// Starting factors given by the caller (see [`LowRankSinkhorn::solve_from`]).
#[derive(Debug, Clone, Copy)]
pub struct LowRankStart<'a> {
    /// `Q` (`n × r`), `Q1 = a`, `Qᵀ1 = g`.
    pub q: ArrayView2<'a, f64>,
    /// `R` (`m × r`), `R1 = b`, `Rᵀ1 = g`.
    pub r: ArrayView2<'a, f64>,
    /// `g` (length `r`, positive).
    pub g: ArrayView1<'a, f64>,
}

impl LowRankStart<'_> {
    /// Owned copies, after checking shapes, signs and marginals (`L1 ≤ 1e-6`; the row
    /// marginals only where they are hard constraints, `a`/`b` given).
    fn checked(
        &self,
        hard_a: Option<ArrayView1<'_, f64>>,
        hard_b: Option<ArrayView1<'_, f64>>,
        (n, m, rank): (usize, usize, usize),
    ) -> Result<(Array2<f64>, Array2<f64>, Array1<f64>)> {
        const TOL: f64 = 1e-6;
        let shape = |what: &str, dim: (usize, usize), want: (usize, usize)| {
            if dim == want {
                Ok(())
            } else {
                Err(Error::Shape {
                    arg: "init",
                    expected: format!("{what} of shape {} × {}", want.0, want.1),
                    got: format!("{} × {}", dim.0, dim.1),
                })
            }
        };
        shape("q", self.q.dim(), (n, rank))?;
        shape("r", self.r.dim(), (m, rank))?;
        shape("g", (1, self.g.len()), (1, rank))?;
        validate::finite_matrix("init", self.q)?;
        validate::finite_matrix("init", self.r)?;
        let bad = |requirement: &'static str, value: String| {
            Err(Error::InvalidParameter {
                arg: "init",
                requirement,
                value,
            })
        };
        if let Some(v) = self.q.iter().chain(self.r.iter()).find(|v| **v < 0.0) {
            return bad("non-negative factors q and r", format!("{v}"));
        }
        if let Some(v) = self.g.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return bad("g finite and > 0", format!("{v}"));
        }
        let l1 = |x: Array1<f64>, y: ArrayView1<'_, f64>| (&x - &y).mapv(f64::abs).sum();
        let rows = |f: ArrayView2<'_, f64>, w: Option<ArrayView1<'_, f64>>| {
            w.map_or(0.0, |w| l1(f.sum_axis(NdAxis(1)), w))
        };
        let err = rows(self.q, hard_a)
            + rows(self.r, hard_b)
            + l1(self.q.sum_axis(NdAxis(0)), self.g)
            + l1(self.r.sum_axis(NdAxis(0)), self.g);
        if err > TOL {
            return bad(
                "factors with Q1 = a, R1 = b, Qᵀ1 = Rᵀ1 = g (L1 error <= 1e-6)",
                format!("L1 error {err:e}"),
            );
        }
        Ok((self.q.to_owned(), self.r.to_owned(), self.g.to_owned()))
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

    /// Solves `problem`: balanced, or with KL-relaxed marginals (`ρ·KL(Q1 | a)`,
    /// `ρ·KL(R1 | b)`: unbalanced low-rank OT, Scetbon, Klein, Palla, Cuturi 2023, without
    /// their translation-invariant variant), which each projection handles exactly.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings or a marginal penalty other than KL;
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
        self.solve_from(problem, None, observer)
    }

    /// [`solve_with`](Self::solve_with) from the factors `start` (`Q`, `R`, `g`: a point of
    /// the constraint set, as OTT-JAX's `init`) instead of [`init`](Self::init).
    ///
    /// # Errors
    /// As [`solve_with`](Self::solve_with); `start` with the wrong shapes, non-finite or
    /// negative entries, a non-positive `g`, or marginals off by more than `1e-6` (L1) is
    /// [`Error::InvalidParameter`] / [`Error::Shape`] naming `init`.
    pub fn solve_from(
        &self,
        problem: &LinearProblem<'_>,
        start: Option<LowRankStart<'_>>,
        observer: &Observer<'_>,
    ) -> Result<LowRankOutput> {
        // ρ of each relaxed marginal (None: hard).
        let strength = |p: MarginalPenalty| match p {
            MarginalPenalty::Hard => Ok(None),
            MarginalPenalty::Kl { rho } => Ok(Some(rho)),
            other => Err(Error::invalid(
                "problem",
                "low-rank OT takes hard or KL marginal penalties",
                format!("{other:?}"),
            )),
        };
        let (pa, pb) = problem.penalties();
        let marginals = Marginals {
            a: problem.a(),
            b: problem.b(),
            rho_a: strength(pa)?,
            rho_b: strength(pb)?,
        };
        self.descend(
            &mut LinearCost {
                geom: problem.geom(),
            },
            marginals,
            start,
            observer,
        )
    }

    /// Mirror descent on `(Q, R, g)` for any [`Objective`]: the loop shared by low-rank OT
    /// and low-rank GW.
    pub(crate) fn descend(
        &self,
        objective: &mut dyn Objective,
        marginals: Marginals<'_>,
        start: Option<LowRankStart<'_>>,
        observer: &Observer<'_>,
    ) -> Result<LowRankOutput> {
        let Marginals { a, b, rho_a, rho_b } = marginals;
        let balanced = rho_a.is_none() && rho_b.is_none();
        let (n, m) = (a.len(), b.len());
        self.check(n, m)?;
        let solver = objective.name();
        let per_step = objective.error_per_step();
        let numerical = |iteration: usize, detail: &str| Error::Numerical {
            solver,
            iteration,
            epsilon: self.epsilon,
            detail: detail.into(),
        };
        let (q0, r0, mut g) = match start {
            Some(start) => start.checked(
                rho_a.is_none().then_some(a),
                rho_b.is_none().then_some(b),
                (n, m, self.rank),
            )?,
            None => self.initial(objective.points(), a, b)?,
        };
        let with_log = |x: Array2<f64>| Factor {
            log: x.mapv(slog),
            value: x,
        };
        let (mut q, mut r) = (with_log(q0), with_log(r0));
        let mut cr = Array2::zeros((n, self.rank));
        let mut ctq = Array2::zeros((m, self.rank));
        // Buffers for the kernels, recycled from the factors each iteration replaces.
        let mut spare = (Array2::zeros((n, self.rank)), Array2::zeros((m, self.rank)));
        let mut errors = Vec::new();
        let mut converged = false;
        let mut duals = (Array1::zeros(self.rank), Array1::zeros(self.rank));
        for it in 0..self.max_iterations {
            let terms = objective.gradient(&q.value, &r.value, &g, &mut cr, &mut ctq)?;
            // Gradients of the objective − ε(H(Q) + H(R) + H(g)), in place of G_Q and G_R
            // (which the objective writes anew each iteration).
            let eps = self.epsilon;
            let log_g = g.mapv(slog);
            let omega = column_dots(&q.value, &cr);
            let mut grad_g = -&omega / &(&g * &g) + terms.shift_g;
            let inv_g = g.mapv(f64::recip);
            let gradient = |c: &mut Array2<f64>, log: &Array2<f64>, rows: Option<&Array1<f64>>| {
                par_rows(c, log, |i, row, lrow| {
                    let shift = rows.map_or(0.0, |u| u[i]);
                    let mut sup = 0.0f64;
                    for ((x, &l), &ig) in row.iter_mut().zip(lrow).zip(&inv_g) {
                        *x = *x * ig + shift + eps * l;
                        // A non-finite entry makes the norm infinite (`max` skips NaN).
                        sup = if x.is_finite() {
                            sup.max(x.abs())
                        } else {
                            f64::INFINITY
                        };
                    }
                    sup
                })
            };
            let sup_q = gradient(&mut cr, &q.log, terms.rows_q.as_ref());
            let sup_r = gradient(&mut ctq, &r.log, terms.rows_r.as_ref());
            if eps > 0.0 {
                grad_g.scaled_add(eps, &log_g);
            }
            let sup_g = grad_g.iter().fold(0.0f64, |acc, v| {
                if v.is_finite() {
                    acc.max(v.abs())
                } else {
                    f64::INFINITY
                }
            });
            let norm = sup_q.max(sup_r).max(sup_g).powi(2);
            if !norm.is_finite() {
                return Err(numerical(it, "the gradient is not finite"));
            }
            let mut gamma = self.gamma / norm.max(f64::MIN_POSITIVE);
            let damp = 1.0 / (eps * gamma + 1.0);
            gamma *= damp;
            // Log-kernels of the mirror step: log ξ = −γ∇ + damp·log(current).
            let step = |mut grad: Array2<f64>, spare: Array2<f64>, log: &Array2<f64>| {
                par_rows(&mut grad, log, |_, row, lrow| {
                    row.iter_mut()
                        .zip(lrow)
                        .for_each(|(d, &l)| *d = -gamma * *d + damp * l);
                    0.0
                });
                Kernel::from_log(grad, spare)
            };
            let kq = step(
                std::mem::take(&mut cr),
                std::mem::take(&mut spare.0),
                &q.log,
            );
            let kr = step(
                std::mem::take(&mut ctq),
                std::mem::take(&mut spare.1),
                &r.log,
            );
            let log_xg = Zip::from(&grad_g)
                .and(&log_g)
                .map_collect(|&d, &l| -gamma * d + damp * l);
            let gmax = log_xg.fold(f64::NEG_INFINITY, |x, &y| x.max(y));
            // Hard rows: the scale of ξ_g is irrelevant (normalized); soft rows: it is kept.
            let xg = if balanced {
                let xg = log_xg.mapv(|v| (v - gmax).max(-700.0).exp());
                &xg / xg.sum()
            } else {
                log_xg.mapv(|v| v.clamp(-700.0, 700.0).exp())
            };
            // A KL-relaxed row constraint weighs `ρ` against the projection's `1/γ`.
            let kappa = |rho: Option<f64>| rho.map_or(0.0, |rho| 1.0 / (1.0 + gamma * rho));
            let next = projection::project(
                Kernels {
                    kq,
                    kr,
                    xg,
                    a,
                    b,
                    kappa_a: kappa(rho_a),
                    kappa_b: kappa(rho_b),
                    min_g: self.min_g,
                },
                duals,
                self.inner_threshold,
                self.inner_max_iterations,
            );
            duals = next.duals.clone();
            let finite = |f: &Factor| f.value.iter().chain(f.log.iter()).all(|v| v.is_finite());
            if !(finite(&next.q) && finite(&next.r) && next.g.iter().all(|v| v.is_finite())) {
                return Err(numerical(
                    it + 1,
                    "the projection produced non-finite factors",
                ));
            }
            let err = sym_kl(&next.q, &q) + sym_kl(&next.r, &r) + {
                let next_log_g = next.g.mapv(slog);
                Zip::from(&next.g)
                    .and(&g)
                    .and(&next_log_g)
                    .and(&log_g)
                    .fold(0.0, |acc, &x, &y, &lx, &ly| acc + (x - y) * (lx - ly))
            };
            let err = if per_step { err / (gamma * gamma) } else { err };
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
            // Below the threshold and not growing: leaving a saddle (a start near the
            // product coupling, for GW) the change is small but grows, which is not
            // convergence (OTT-JAX's low-rank GW rule).
            let growing = errors.len() >= 2 && err > errors[errors.len() - 2];
            if err <= self.threshold && !growing && it + 1 >= self.min_iterations {
                converged = true;
            }
            // Converged only if the final marginals are as asked.
            converged &= next.reached;
            // The replaced factors' arrays become next iteration's G_Q / G_R and kernels.
            let old_q = std::mem::replace(&mut q, next.q);
            let old_r = std::mem::replace(&mut r, next.r);
            g = next.g;
            (cr, spare.0) = (old_q.value, old_q.log);
            (ctq, spare.1) = (old_r.value, old_r.log);
            if converged || last {
                break;
            }
        }
        let (q, r) = (q.value, r.value);
        let cost = objective.value(&q, &r, &g)?;
        if !cost.is_finite() {
            return Err(numerical(errors.len(), "the objective is not finite"));
        }
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
        points: Option<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)>,
        a: ArrayView1<'_, f64>,
        b: ArrayView1<'_, f64>,
    ) -> Result<(Array2<f64>, Array2<f64>, Array1<f64>)> {
        let r = self.rank;
        Ok(match self.init {
            LowRankInit::KMeans { seed } => {
                let Some((x, y)) = points else {
                    return Err(Error::invalid(
                        "init",
                        "the k-means start needs a geometry built from points (a PointCloud)",
                        "KMeans",
                    ));
                };
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                kmeans::start((x, y), (a, b), r, &mut rng)?
            }
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
        })
    }
}

/// `ω_k = Σ_i x_ik y_ik` (the diagonal of `xᵀy`) for two `n × r` arrays, in one pass.
fn column_dots(x: &Array2<f64>, y: &Array2<f64>) -> Array1<f64> {
    let r = x.ncols().max(1);
    let xs = x.as_slice().expect("standard layout");
    let ys = y.as_slice().expect("standard layout");
    let chunk = |(xc, yc): (&[f64], &[f64])| {
        let mut acc = vec![0.0; r];
        for (row, other) in xc.chunks(r).zip(yc.chunks(r)) {
            for ((a, &u), &v) in acc.iter_mut().zip(row).zip(other) {
                *a += u * v;
            }
        }
        Array1::from(acc)
    };
    let rows = 256 * r;
    let parts: Vec<Array1<f64>> = if xs.len() < projection::PARALLEL {
        xs.chunks(rows).zip(ys.chunks(rows)).map(chunk).collect()
    } else {
        xs.par_chunks(rows)
            .zip(ys.par_chunks(rows))
            .map(chunk)
            .collect()
    };
    parts
        .into_iter()
        .fold(Array1::zeros(x.ncols()), |acc, p| acc + p)
}

/// Applies `f(i, row_i(x), row_i(y))` to the matching rows of two `n × r` arrays, in
/// parallel blocks for large ones; returns the largest value `f` returned.
fn par_rows(
    x: &mut Array2<f64>,
    y: &Array2<f64>,
    f: impl Fn(usize, &mut [f64], &[f64]) -> f64 + Sync,
) -> f64 {
    let r = x.ncols().max(1);
    let xs = x.as_slice_mut().expect("standard layout");
    let ys = y.as_slice().expect("standard layout");
    const ROWS: usize = 256;
    let chunk = |(c, (xc, yc)): (usize, (&mut [f64], &[f64]))| {
        xc.chunks_mut(r)
            .zip(yc.chunks(r))
            .enumerate()
            .fold(0.0f64, |acc, (i, (row, lrow))| {
                acc.max(f(c * ROWS + i, row, lrow))
            })
    };
    if xs.len() < projection::PARALLEL {
        xs.chunks_mut(ROWS * r)
            .zip(ys.chunks(ROWS * r))
            .enumerate()
            .map(chunk)
            .fold(0.0, f64::max)
    } else {
        xs.par_chunks_mut(ROWS * r)
            .zip(ys.par_chunks(ROWS * r))
            .enumerate()
            .map(chunk)
            .reduce(|| 0.0, f64::max)
    }
}

/// `log x`, with `log 0` replaced by the log of the smallest positive double (OTT's `slog`).
fn slog(x: f64) -> f64 {
    x.max(f64::MIN_POSITIVE).ln()
}

/// Symmetric generalized KL `Σ (p − q)(log p − log q)` between two factors, in parallel
/// over rows.
fn sym_kl(p: &Factor, q: &Factor) -> f64 {
    fn slice(x: &Array2<f64>) -> &[f64] {
        x.as_slice().expect("standard layout")
    }
    let (x, y, lx, ly) = (
        slice(&p.value),
        slice(&q.value),
        slice(&p.log),
        slice(&q.log),
    );
    let part = |range: std::ops::Range<usize>| -> f64 {
        range.map(|i| (x[i] - y[i]) * (lx[i] - ly[i])).sum::<f64>()
    };
    const CHUNK: usize = 1 << 14;
    if x.len() < projection::PARALLEL {
        part(0..x.len())
    } else {
        let parts: Vec<f64> = (0..x.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| part(c * CHUNK..((c + 1) * CHUNK).min(x.len())))
            .collect();
        parts.into_iter().sum()
    }
}
