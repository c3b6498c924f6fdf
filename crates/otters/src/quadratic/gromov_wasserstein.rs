//! Gromov–Wasserstein solvers (ALGORITHMS.md Q1, Q2): entropic mirror descent, each step a
//! warm-started [`Sinkhorn`] solve on the linearized cost (Peyré, Cuturi, Solomon 2016;
//! Solomon et al. 2016), and conditional gradient (Frank–Wolfe) with the exact OT direction
//! from the network simplex (each solve started from the last one's basis) and an exact
//! line search on the quadratic objective (Vayer et al. 2019; POT's `gromov_wasserstein`). Both handle fused GW through the problem's
//! linear term.

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;

use super::problem::QuadraticProblem;
use super::tensor::{Cores, GwTensor, Products, frobenius_dot};
use crate::error::{Error, Result};
use crate::geometry::{DenseCost, LogPlan};
use crate::kernels::lse;
use crate::linear::{
    Epsilon, ExactWarmStart, LinearProblem, NetworkSimplex, Potentials, Sinkhorn, SparsePlan,
};
use crate::observe::{Observer, Progress};
use crate::validate::{self, DEFAULT_MEMORY_LIMIT};

/// Entropic GW: `P_{k+1} = argmin_{P ∈ Π(a,b)} ⟨∇E(P_k), P⟩ − ε·H(P)` with
/// `E = (1−α)⟨M, ·⟩ + α·GW` (POT's `entropic_gromov_wasserstein` with `solver="PGD"`, OTT's
/// `GromovWasserstein`). Each step is one [`Sinkhorn`] solve, started from the previous
/// step's potentials; with [`inexact_steps`](Self::inexact_steps), until the stopping rule
/// is first met each step is solved only to an L1 marginal error of 3% of the last step's
/// L1 plan change (never tighter than `sinkhorn.threshold`), so the early steps cost a few
/// Sinkhorn iterations each; that step and all later ones are solved to
/// `sinkhorn.threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntropicGw {
    /// The entropic regularization ε (absolute, in the units of the linearized cost).
    pub epsilon: f64,
    /// Stop once `‖P_{k+1} − P_k‖_F` is at most this.
    pub threshold: f64,
    /// Outer iterations (Sinkhorn solves) at most.
    pub max_iterations: usize,
    /// The inner solver; its `epsilon` is replaced by [`epsilon`](Self::epsilon).
    pub sinkhorn: Sinkhorn,
    /// Largest dense matrix (bytes) the solver may hold: costs, plan, linearized cost.
    pub memory_limit: usize,
    /// Factor costs that are exactly low rank (e.g. squared Euclidean, rank `d + 2`), so
    /// that `L⊗P` costs `O(nmr)` instead of `O(n²m)`; the results agree to rounding.
    pub low_rank_costs: bool,
    /// Solve the early steps only to 3% of the last step's change (the default). The
    /// fixed point is the same; turn it off when a loose [`threshold`](Self::threshold)
    /// stops the solve far from it and the iterate itself must be reproduced (POT solves
    /// every step to the Sinkhorn threshold).
    pub inexact_steps: bool,
    /// Test the stopping rule after iterations `1, 1 + k, 1 + 2k, …` only (default 1: after
    /// every iteration). POT tests every 10th; with a loose threshold, reproducing its
    /// iterate needs `10` (and no [`inexact_steps`](Self::inexact_steps)).
    pub check_every: usize,
}

impl Default for EntropicGw {
    fn default() -> Self {
        EntropicGw {
            epsilon: 0.1,
            threshold: 1e-9,
            max_iterations: 1000,
            sinkhorn: Sinkhorn {
                threshold: 1e-9,
                max_iterations: 100_000,
                ..Sinkhorn::default()
            },
            memory_limit: DEFAULT_MEMORY_LIMIT,
            low_rank_costs: true,
            inexact_steps: true,
            check_every: 1,
        }
    }
}

/// Conditional-gradient GW: Frank–Wolfe steps towards the exact OT plan of the linearized
/// cost, with the exact minimizer of the (quadratic) objective on the segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalGradientGw {
    /// Iterations at most.
    pub max_iterations: usize,
    /// Stop when the objective changes by at most this, relative to its value.
    pub tol_rel: f64,
    /// Stop when the objective changes by at most this.
    pub tol_abs: f64,
    /// The exact solver of each direction.
    pub exact: NetworkSimplex,
    /// Largest dense matrix (bytes) the solver may hold.
    pub memory_limit: usize,
    /// As [`EntropicGw::low_rank_costs`].
    pub low_rank_costs: bool,
}

impl Default for ConditionalGradientGw {
    fn default() -> Self {
        ConditionalGradientGw {
            max_iterations: 10_000,
            tol_rel: 1e-9,
            tol_abs: 1e-9,
            exact: NetworkSimplex::default(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            low_rank_costs: true,
        }
    }
}

/// The result of a GW solve.
#[derive(Debug, Clone)]
pub struct GwOutput {
    plan: Array2<f64>,
    gw_loss: f64,
    linear_loss: Option<f64>,
    alpha: f64,
    converged: bool,
    iterations: usize,
    trace: Vec<f64>,
    potentials: Option<(Array1<f64>, Array1<f64>)>,
}

impl GwOutput {
    /// The coupling `P` (`n × m`).
    pub fn plan(&self) -> ArrayView2<'_, f64> {
        self.plan.view()
    }

    /// Takes the coupling out.
    pub fn into_plan(self) -> Array2<f64> {
        self.plan
    }

    /// The objective `(1−α)⟨M, P⟩ + α·GW(P)` (`GW(P)` without a linear term); no entropy
    /// term (POT's `gw_dist` / `fgw_dist`).
    pub fn loss(&self) -> f64 {
        match self.linear_loss {
            Some(lin) => (1.0 - self.alpha) * lin + self.alpha * self.gw_loss,
            None => self.gw_loss,
        }
    }

    /// `GW(P) = Σ L(Cx_ik, Cy_jl) P_ij P_kl`.
    pub fn gw_loss(&self) -> f64 {
        self.gw_loss
    }

    /// `⟨M, P⟩` for a fused problem.
    pub fn linear_loss(&self) -> Option<f64> {
        self.linear_loss
    }

    /// Whether the stopping criterion was met (for the entropic solver, also that the last
    /// inner Sinkhorn solve reached its threshold).
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Outer iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Per iteration: `‖P_{k+1} − P_k‖_F` (entropic) or the objective (conditional
    /// gradient, starting with the initial plan's).
    pub fn trace(&self) -> &[f64] {
        &self.trace
    }

    /// The last inner Sinkhorn potentials `(f, g)` (entropic solver only).
    pub fn potentials(&self) -> Option<(&Array1<f64>, &Array1<f64>)> {
        self.potentials.as_ref().map(|(f, g)| (f, g))
    }
}

/// State shared by both solvers: the tensor, the linear term and the starting plan.
struct Setup<'p> {
    tensor: GwTensor<'p>,
    linear: Option<Array2<f64>>,
    alpha: f64,
    plan: Array2<f64>,
}

impl<'p> Setup<'p> {
    fn new(
        problem: &QuadraticProblem<'p>,
        init: Option<ArrayView2<'_, f64>>,
        memory_limit: usize,
        factorize: bool,
    ) -> Result<Self> {
        let (n, m) = problem.shape();
        validate::matrix_bytes(
            "GW plan",
            n,
            m,
            memory_limit,
            "GW needs the dense n x m plan; use low-rank GW for large problems",
        )?;
        let tensor = GwTensor::new(problem, memory_limit, factorize)?;
        let linear = match problem.geom_xy() {
            Some(g) => Some(g.cost_matrix(memory_limit)?),
            None => None,
        };
        if let Some(lin) = &linear {
            validate::finite_matrix("geom_xy", lin.view())?;
        }
        let plan = match init {
            Some(p) => checked_init(problem, p)?,
            None => {
                let (a, b) = (problem.a(), problem.b());
                Array2::from_shape_fn((n, m), |(i, j)| a[i] * b[j])
            }
        };
        Ok(Setup {
            tensor,
            linear,
            alpha: problem.fused_penalty(),
            plan,
        })
    }

    /// Writes the linearized cost `(1−α)M + α·∇GW(P)` into `out` (`n × m`).
    fn linearized(&self, prod: &Products, out: &mut Array2<f64>) {
        self.tensor
            .linearized(prod, self.alpha, self.linear.as_ref(), out);
    }

    fn output(
        self,
        converged: bool,
        iterations: usize,
        trace: Vec<f64>,
        potentials: Option<(Array1<f64>, Array1<f64>)>,
    ) -> Result<GwOutput> {
        let prod = self.tensor.products(self.plan.view())?;
        let gw_loss = self.tensor.loss(self.plan.view(), &prod);
        let linear_loss = self
            .linear
            .as_ref()
            .map(|lin| frobenius_dot(lin.view(), self.plan.view()));
        Ok(GwOutput {
            plan: self.plan,
            gw_loss,
            linear_loss,
            alpha: self.alpha,
            converged,
            iterations,
            trace,
            potentials,
        })
    }
}

/// Inexact steps are solved to an L1 marginal error of this fraction of the last step's L1
/// plan change `‖P_k − P_{k−1}‖₁` (both in units of mass), so that a step's inexactness is
/// small next to the move it makes, whatever the problem's size. Measured on W7 (n = 1000):
/// 0.03 takes 3× fewer Sinkhorn iterations in all than a tenth of the Frobenius change did,
/// for the same outer iterations (78 vs 79) and loss to 1e-8 relative.
const INEXACT_FRACTION: f64 = 0.03;

/// A user's starting plan: the right shape, finite, non-negative, with the problem's
/// marginals to 1e-6 (relative to the mass).
fn checked_init(problem: &QuadraticProblem<'_>, p: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let (n, m) = problem.shape();
    if p.dim() != (n, m) {
        return Err(Error::Shape {
            arg: "init",
            expected: format!("{n} × {m} (source × target points)"),
            got: format!("{} × {}", p.nrows(), p.ncols()),
        });
    }
    validate::finite_matrix("init", p)?;
    if let Some(((i, j), &value)) = p.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(Error::InvalidParameter {
            arg: "init",
            requirement: "a non-negative plan",
            value: format!("{value} at [{i}, {j}]"),
        });
    }
    let mass = problem.a().sum();
    let err = (&p.sum_axis(ndarray::Axis(1)) - &problem.a())
        .mapv(f64::abs)
        .sum()
        + (&p.sum_axis(ndarray::Axis(0)) - &problem.b())
            .mapv(f64::abs)
            .sum();
    if err > 1e-6 * mass {
        return Err(Error::InvalidParameter {
            arg: "init",
            requirement: "a plan with marginals a and b (L1 error <= 1e-6 * mass)",
            value: format!("L1 marginal error {err:e}"),
        });
    }
    Ok(p.to_owned())
}

fn check_common(max_iterations: usize, memory_limit: usize) -> Result<()> {
    if max_iterations == 0 {
        return Err(Error::invalid("max_iterations", "must be >= 1", 0));
    }
    if memory_limit == 0 {
        return Err(Error::invalid("memory_limit", "must be > 0", 0));
    }
    Ok(())
}

impl EntropicGw {
    /// Solves `problem` from the product plan `a·bᵀ`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings; [`Error::TooLarge`] when a cost or the
    /// plan does not fit in `memory_limit`; the errors of the inner [`Sinkhorn`].
    pub fn solve(&self, problem: &QuadraticProblem<'_>) -> Result<GwOutput> {
        self.solve_with(problem, None, &Observer::new())
    }

    /// [`solve`](Self::solve) from the plan `init` (POT's `G0`), reporting each outer
    /// iteration to `observer` (the error is `‖P_{k+1} − P_k‖_F`).
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Shape`], [`Error::NonFinite`] and
    /// [`Error::InvalidParameter`] (arg `init`) for a bad start, [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        problem: &QuadraticProblem<'_>,
        init: Option<ArrayView2<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<GwOutput> {
        check_common(self.max_iterations, self.memory_limit)?;
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid(
                "epsilon",
                "must be finite and > 0",
                self.epsilon,
            ));
        }
        if self.threshold.is_nan() || self.threshold < 0.0 {
            return Err(Error::invalid("threshold", "must be >= 0", self.threshold));
        }
        if self.check_every == 0 {
            return Err(Error::invalid("check_every", "must be >= 1", 0));
        }
        let mut setup = Setup::new(problem, init, self.memory_limit, self.low_rank_costs)?;
        let inner = Sinkhorn {
            epsilon: Epsilon::Absolute(self.epsilon),
            ..self.sinkhorn
        };
        let quiet = observer.cancel_only();
        let (a, b) = (problem.a(), problem.b());
        let mut potentials: Option<(Array1<f64>, Array1<f64>)> = None;
        let mut trace = Vec::new();
        let (mut converged, mut inner_converged) = (false, true);
        let mut cost = Array2::zeros(setup.plan.dim());
        // Inexact steps until the stopping rule is first met (or half the budget is spent);
        // exact ones from then on, so that the end of the path is that of exact steps.
        let mut inexact = self.inexact_steps;
        let mut last_l1_change = None;
        for k in 0..self.max_iterations {
            let prod = setup.tensor.products(setup.plan.view())?;
            setup.linearized(&prod, &mut cost);
            let geom = DenseCost::new(cost.view())
                .map_err(|e| linearization_failed(k, self.epsilon, e))?;
            let lp = LinearProblem::new(&geom, a.view(), b.view())?;
            let warm = potentials.as_ref().map(|(f, g)| Potentials {
                f: f.view(),
                g: g.view(),
            });
            // Inexact steps: far from the fixed point, solve to a fraction of the last change.
            let inner = Sinkhorn {
                threshold: inner
                    .threshold
                    .max(INEXACT_FRACTION * last_l1_change.filter(|_| inexact).unwrap_or(0.0)),
                ..inner
            };
            let mut out = inner.solve_with(&lp, warm, &quiet)?;
            let (mut change, l1_change) = replace_plan(&mut setup.plan, &cost, &out.log_plan());
            last_l1_change = Some(l1_change);
            let stopping = k % self.check_every == 0 && change <= self.threshold;
            let loose = inner.threshold > self.sinkhorn.threshold;
            if stopping || 2 * (k + 1) >= self.max_iterations {
                inexact = false;
            }
            if stopping && loose {
                // The step was solved loosely: finish it at the requested threshold, and stop
                // only if that moves the plan by no more than the threshold either.
                let tight = Sinkhorn {
                    threshold: self.sinkhorn.threshold,
                    ..inner
                };
                let warm = Potentials {
                    f: out.f(),
                    g: out.g(),
                };
                out = tight.solve_with(&lp, Some(warm), &quiet)?;
                change = change.max(replace_plan(&mut setup.plan, &cost, &out.log_plan()).0);
            }
            inner_converged = out.converged();
            potentials = Some((out.f().to_owned(), out.g().to_owned()));
            trace.push(change);
            observer.step(&Progress {
                iteration: k + 1,
                max_iterations: self.max_iterations,
                error: change,
                epsilon: self.epsilon,
            })?;
            if !change.is_finite() {
                return Err(Error::Numerical {
                    solver: "entropic GW",
                    iteration: k + 1,
                    epsilon: self.epsilon,
                    detail: format!("the plan change is {change}"),
                });
            }
            if k % self.check_every == 0 && change <= self.threshold {
                converged = true;
                break;
            }
        }
        let iterations = trace.len();
        setup.output(converged && inner_converged, iterations, trace, potentials)
    }
}

impl ConditionalGradientGw {
    /// Solves `problem` from the product plan `a·bᵀ`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings; [`Error::TooLarge`] when a cost or the
    /// plan does not fit in `memory_limit`; the errors of the exact solver.
    pub fn solve(&self, problem: &QuadraticProblem<'_>) -> Result<GwOutput> {
        self.solve_with(problem, None, &Observer::new())
    }

    /// [`solve`](Self::solve) from the plan `init` (POT's `G0`), reporting each iteration
    /// to `observer` (the error is the objective's change).
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus bad-start errors (arg `init`) and
    /// [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        problem: &QuadraticProblem<'_>,
        init: Option<ArrayView2<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<GwOutput> {
        check_common(self.max_iterations, self.memory_limit)?;
        for (arg, v) in [("tol_rel", self.tol_rel), ("tol_abs", self.tol_abs)] {
            if v.is_nan() || v < 0.0 {
                return Err(Error::invalid(arg, "must be >= 0", v));
            }
        }
        let mut setup = Setup::new(problem, init, self.memory_limit, self.low_rank_costs)?;
        let alpha = setup.alpha;
        let (a, b) = (problem.a(), problem.b());
        let quiet = observer.cancel_only();
        let mut iterate = Iterate::new(&setup.tensor, setup.plan.view())?;
        // ⟨M, P⟩, kept up to date along the steps.
        let mut linear_value = setup
            .linear
            .as_ref()
            .map_or(0.0, |m| frobenius_dot(m.view(), setup.plan.view()));
        let mut value =
            (1.0 - alpha) * linear_value + alpha * iterate.loss(&setup.tensor, setup.plan.view());
        let mut trace = vec![value];
        let mut converged = false;
        // From the product plan (symmetric costs, no linear term) the first linearized cost
        // is `rows_i + cols_j − 2·x_i·y_j`: the monotone coupling of x and y solves it.
        let mut warm = if init.is_none() && setup.linear.is_none() && setup.tensor.symmetric() {
            let (x, y) = setup.tensor.product_plan_factors(a.view(), b.view())?;
            ExactWarmStart::monotone(a.view(), b.view(), x.view(), y.view())
        } else {
            ExactWarmStart::default()
        };
        let mut cost = Array2::zeros(setup.plan.dim());
        for k in 0..self.max_iterations {
            setup.linearized(&iterate.products(&setup.tensor), &mut cost);
            let geom = DenseCost::new(cost.view()).map_err(|e| linearization_failed(k, 0.0, e))?;
            let lp = LinearProblem::new(&geom, a.view(), b.view())?;
            let vertex = self
                .exact
                .solve_stored(&lp, cost.view(), Some(&mut warm), &quiet)?;
            let vertex = vertex.plan();
            let linear_slope = setup.linear.as_ref().map_or(0.0, |m| {
                vertex.iter().map(|(i, j, v)| v * m[[i, j]]).sum::<f64>() - linear_value
            });
            let step = iterate.step_towards(
                &setup.tensor,
                &mut setup.plan,
                vertex,
                |slope, curvature| {
                    // E(P + tΔ) = E(P) + slope·t + curvature·t².
                    quadratic_line_search(
                        -alpha * curvature,
                        (1.0 - alpha) * linear_slope + alpha * slope,
                    )
                },
                self.memory_limit,
            )?;
            linear_value += step * linear_slope;
            let old = value;
            value = (1.0 - alpha) * linear_value
                + alpha * iterate.loss(&setup.tensor, setup.plan.view());
            trace.push(value);
            let change = (value - old).abs();
            observer.step(&Progress {
                iteration: k + 1,
                max_iterations: self.max_iterations,
                error: change,
                epsilon: 0.0,
            })?;
            if !value.is_finite() {
                return Err(Error::Numerical {
                    solver: "conditional gradient GW",
                    iteration: k + 1,
                    epsilon: 0.0,
                    detail: format!("the objective is {value}"),
                });
            }
            if change <= self.tol_abs || change <= self.tol_rel * value.abs() {
                converged = true;
                break;
            }
        }
        let iterations = trace.len() - 1;
        setup.output(converged, iterations, trace, None)
    }
}

/// What conditional gradient keeps of its iterate `P` besides the plan itself: the
/// [`Cores`] when both costs are factored (the line search is then `O(r²)` and a step one
/// pass over `P`), the [`Products`] otherwise.
enum Iterate {
    Cores(Cores),
    Products(Products),
}

impl Iterate {
    fn new(tensor: &GwTensor<'_>, plan: ArrayView2<'_, f64>) -> Result<Self> {
        Ok(match tensor.cores(plan) {
            Some(cores) => Iterate::Cores(cores),
            None => Iterate::Products(tensor.products(plan)?),
        })
    }

    /// `H(P)` (and `Hᵀ(P)`) for the linearized cost.
    fn products(&self, tensor: &GwTensor<'_>) -> Cow<'_, Products> {
        match self {
            Iterate::Cores(cores) => Cow::Owned(tensor.products_of(cores)),
            Iterate::Products(prod) => Cow::Borrowed(prod),
        }
    }

    /// `GW(P)`.
    fn loss(&self, tensor: &GwTensor<'_>, plan: ArrayView2<'_, f64>) -> f64 {
        match self {
            Iterate::Cores(cores) => tensor.cores_loss(cores),
            Iterate::Products(prod) => tensor.loss(plan, prod),
        }
    }

    /// Moves `plan` to `P + t·(V − P)` with `t = search(slope, curvature)` of
    /// `t ↦ GW(P + t·(V − P))`, and returns `t`.
    fn step_towards(
        &mut self,
        tensor: &GwTensor<'_>,
        plan: &mut Array2<f64>,
        vertex: &SparsePlan,
        search: impl Fn(f64, f64) -> f64,
        memory_limit: usize,
    ) -> Result<f64> {
        match self {
            Iterate::Cores(cores) => {
                let delta = tensor
                    .sparse_cores(vertex)
                    .expect("cores exist for factored costs")
                    .minus(cores);
                let step = search(
                    tensor.cores_slope(cores, &delta),
                    tensor.cores_curvature(&delta),
                );
                cores.add_scaled(step, &delta);
                step_plan(plan, vertex, step);
                Ok(step)
            }
            Iterate::Products(prod) => {
                let mut delta = vertex.to_dense(memory_limit)?;
                delta -= &*plan;
                let dprod = tensor.products(delta.view())?;
                let step = search(
                    tensor.slope(delta.view(), prod),
                    tensor.curvature(delta.view(), &dprod),
                );
                plan.scaled_add(step, &delta);
                prod.add_scaled(step, &dprod);
                Ok(step)
            }
        }
    }
}

/// `P ← P + t·(V − P)` for a sparse `V`, entry by entry as with a dense `V`: one parallel
/// pass for the zeros of `V`, then its support.
fn step_plan(plan: &mut Array2<f64>, vertex: &SparsePlan, step: f64) {
    let support: Vec<(usize, usize, f64, f64)> = vertex
        .iter()
        .map(|(i, j, v)| (i, j, v, plan[[i, j]]))
        .collect();
    plan.par_mapv_inplace(|p| p + step * (0.0 - p));
    for (i, j, v, old) in support {
        plan[[i, j]] = old + step * (v - old);
    }
}

/// The minimizer over `[0, 1]` of `curvature·t² + slope·t`.
fn quadratic_line_search(curvature: f64, slope: f64) -> f64 {
    if curvature > 0.0 {
        (-slope / (2.0 * curvature)).clamp(0.0, 1.0)
    } else if curvature + slope < 0.0 {
        1.0
    } else {
        0.0
    }
}

/// Overwrites `plan` with the Sinkhorn plan `exp(log_row_i + log_col_j − C_ij/ε)` of the
/// stored `cost`, returning `(‖P_new − P_old‖_F, ‖P_new − P_old‖₁)`: one pass, rows in
/// parallel, the sums taken in row order (independent of the thread count).
fn replace_plan(plan: &mut Array2<f64>, cost: &Array2<f64>, log_plan: &LogPlan<'_>) -> (f64, f64) {
    let m = plan.ncols();
    let gamma = 1.0 / log_plan.epsilon;
    let log_col = log_plan.log_col.to_vec();
    let log_row = log_plan.log_row;
    let plan = plan.as_slice_mut().expect("owned plans are contiguous");
    let cost = cost.as_slice().expect("linearized costs are contiguous");
    let sums: Vec<(f64, f64)> = plan
        .par_chunks_mut(m)
        .zip(cost.par_chunks(m))
        .enumerate()
        .map_init(
            || vec![0.0; m],
            |row, (i, (p, c))| {
                lse::exp_row(log_row[i], &log_col, c, gamma, row);
                let (mut sq, mut abs) = (0.0, 0.0);
                for (old, &new) in p.iter_mut().zip(row.iter()) {
                    let d = new - *old;
                    sq += d * d;
                    abs += d.abs();
                    *old = new;
                }
                (sq, abs)
            },
        )
        .collect();
    let (sq, abs) = sums
        .iter()
        .fold((0.0, 0.0), |(s, a), &(x, y)| (s + x, a + y));
    (sq.sqrt(), abs)
}

/// A linearized cost that is not finite (overflow in the products).
pub(super) fn linearization_failed(k: usize, epsilon: f64, err: Error) -> Error {
    Error::Numerical {
        solver: "GW",
        iteration: k + 1,
        epsilon,
        detail: format!("the linearized cost is not finite ({err})"),
    }
}

#[cfg(test)]
mod tests {
    use super::quadratic_line_search;

    #[test]
    fn line_search_minimizes_on_the_unit_interval() {
        // Convex with interior minimum at 0.25.
        assert!((quadratic_line_search(2.0, -1.0) - 0.25).abs() < 1e-15);
        // Convex, minimum beyond 1 / before 0.
        assert_eq!(quadratic_line_search(1.0, -5.0), 1.0);
        assert_eq!(quadratic_line_search(1.0, 5.0), 0.0);
        // Concave or linear: the better end.
        assert_eq!(quadratic_line_search(-1.0, 0.5), 1.0);
        assert_eq!(quadratic_line_search(-1.0, 1.5), 0.0);
        assert_eq!(quadratic_line_search(0.0, -1e-3), 1.0);
    }
}
