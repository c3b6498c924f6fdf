//! Unbalanced OT on the line and 1-D unbalanced barycenters by Frank–Wolfe on the
//! translation-invariant dual (Séjourné, Vialard, Peyré 2022, *Faster unbalanced optimal
//! transport: translation invariant Sinkhorn and 1-D Frank–Wolfe*). ALGORITHMS.md L9.
//!
//! Both problems are one multi-marginal problem over `K` measures `α_k = Σ a_ki δ_{x_ki}`:
//! `min_{γ ≥ 0} ⟨C, γ⟩ + Σ_k r_k·KL(γ_k | α_k)`, with `γ_k` the k-th marginal of `γ`, `C` a
//! cost on `K`-tuples of points and `r_k ∈ (0, ∞]` (`∞`: the marginal is exact). Its dual is
//! `max Σ_k D_k(f_k)` subject to `Σ_k f_k(i_k) ≤ C(i_1, …, i_K)`, where
//! `D_k(f) = −r_k⟨a_k, e^{−f/r_k} − 1⟩` (`⟨a_k, f⟩` for `r_k = ∞`).
//!
//! Each Frank–Wolfe step first moves to the best translation `f_k + c_k` (`Σ c_k = 0`, in
//! closed form), which makes the reweighted measures `ã_k = a_k·e^{−f_k/r_k}` (the dual's
//! gradient) of equal mass; the linear oracle is then a *balanced* multi-marginal OT
//! between the `ã_k`, solved exactly in `O(Σ n_k)` by the north-west corner rule on the
//! sorted supports (optimal for the costs used here, which have the Monge property), whose
//! path also gives optimal potentials `d_k`. The step to `f + t(d − f)` takes the exact
//! line search (a one-dimensional concave maximization, Newton's method in a bracket).
//!
//! The oracle's plan `γ` has marginals exactly `ã_k`, and its primal value minus the dual
//! value is the Frank–Wolfe gap `Σ_k⟨ã_k, d_k − f_k⟩`, so every iterate comes with a
//! certificate: the solver stops when the gap is at most `threshold`.
//!
//! - [`UnbalancedFrankWolfe::solve`]: `K = 2`, `C = |x − y|^p` (p ≥ 1): 1-D UOT with KL
//!   penalties `ρ_a`, `ρ_b` (POT's `uot_1d` runs the same iteration with fixed steps).
//! - [`UnbalancedFrankWolfe::barycenter`]: `C(x_1, …, x_K) = Σ_k λ_k (x_k − x̄)²` with
//!   `x̄ = Σ_k λ_k x_k` and `r_k = ρ·λ_k`: the unbalanced barycenter `x̄#γ` (free support).

use ndarray::{Array1, ArrayView1};

use super::one_d::{check_p, check_side, ground, sorted};
use super::{MASS_TOLERANCE, SparsePlan};
use crate::error::{Error, Result};
use crate::kernels::lse::log_sum_exp;
use crate::observe::{Observer, Progress};
use crate::validate;

/// Frank–Wolfe settings of the 1-D unbalanced solvers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnbalancedFrankWolfe {
    /// Stop when the primal–dual gap (the Frank–Wolfe gap) is at most this (default 1e-6).
    /// Frank–Wolfe converges sublinearly: 10²–10⁴ steps for 1e-6 in the tests, where the
    /// primal value is usually far more accurate than the gap certifies.
    pub threshold: f64,
    /// Give up after this many steps (default 10000; a step is O(n + m) work).
    pub max_iterations: usize,
}

impl Default for UnbalancedFrankWolfe {
    fn default() -> Self {
        UnbalancedFrankWolfe {
            threshold: 1e-6,
            max_iterations: 10_000,
        }
    }
}

/// The result of [`UnbalancedFrankWolfe::solve`].
#[derive(Debug, Clone)]
pub struct Uot1dOutput {
    /// The primal value `⟨C, P⟩ + ρ_a KL(P1 | a) + ρ_b KL(Pᵀ1 | b)` of [`plan`](Self::plan).
    pub cost: f64,
    /// `⟨C, P⟩`.
    pub linear_cost: f64,
    /// The dual value of `(f, g)`: `cost − dual_cost` is the certified gap.
    pub dual_cost: f64,
    /// Source potential (original order).
    pub f: Array1<f64>,
    /// Target potential (original order).
    pub g: Array1<f64>,
    /// The plan (monotone, at most `n + m − 1` entries), original indices.
    pub plan: SparsePlan,
    /// `P1`, equal to `a·e^{−f/ρ_a}` (`a` itself when `ρ_a = ∞`).
    pub marginal_a: Array1<f64>,
    /// `Pᵀ1`.
    pub marginal_b: Array1<f64>,
    /// Frank–Wolfe steps taken.
    pub iterations: usize,
    /// Whether the gap met the threshold.
    pub converged: bool,
}

/// The result of [`UnbalancedFrankWolfe::barycenter`].
#[derive(Debug, Clone)]
pub struct Uot1dBarycenter {
    /// Support of the barycenter, increasing.
    pub support: Array1<f64>,
    /// Weights of the barycenter (its mass is that of every `γ_k`).
    pub weights: Array1<f64>,
    /// The primal value `⟨C, γ⟩ + Σ_k ρλ_k KL(γ_k | α_k)`.
    pub cost: f64,
    /// The dual value of [`potentials`](Self::potentials).
    pub dual_cost: f64,
    /// One potential per input (original order).
    pub potentials: Vec<Array1<f64>>,
    /// The marginals `γ_k` of the multi-marginal plan (original order).
    pub marginals: Vec<Array1<f64>>,
    /// Frank–Wolfe steps taken.
    pub iterations: usize,
    /// Whether the gap met the threshold.
    pub converged: bool,
}

/// One measure of the multi-marginal problem, sorted by position.
struct Side {
    /// Sorted positions.
    x: Vec<f64>,
    /// Original index of each sorted position.
    order: Vec<usize>,
    /// Weights, sorted.
    a: Vec<f64>,
    /// `log a` (`−∞` for zero weights).
    log_a: Vec<f64>,
    /// Penalty `r ∈ (0, ∞]`.
    r: f64,
    /// Current potential, sorted.
    f: Vec<f64>,
    /// Oracle potential, sorted.
    d: Vec<f64>,
}

impl Side {
    fn new(x: ArrayView1<'_, f64>, a: Option<ArrayView1<'_, f64>>, r: f64) -> Side {
        let order = sorted(x);
        let n = order.len();
        let weights: Vec<f64> = order
            .iter()
            .map(|&(_, i)| a.map_or(1.0 / n as f64, |a| a[i]))
            .collect();
        Side {
            x: order.iter().map(|p| p.0).collect(),
            order: order.iter().map(|p| p.1).collect(),
            log_a: weights
                .iter()
                .map(|&w| if w > 0.0 { w.ln() } else { f64::NEG_INFINITY })
                .collect(),
            a: weights,
            r,
            f: vec![0.0; n],
            d: vec![0.0; n],
        }
    }

    fn mass(&self) -> f64 {
        self.a.iter().sum()
    }

    /// `log ⟨a, e^{−f/r}⟩` (`log Σa` for `r = ∞`).
    fn log_mass(&self, f: &[f64]) -> f64 {
        if self.r.is_infinite() {
            return self.mass().ln();
        }
        log_sum_exp(self.log_a.iter().zip(f).map(|(l, f)| l - f / self.r))
    }

    /// `D_k(f)`.
    fn dual(&self, f: &[f64]) -> f64 {
        if self.r.is_infinite() {
            return self.a.iter().zip(f).map(|(a, f)| a * f).sum();
        }
        let reweighted: f64 = self.reweighted(f).iter().sum();
        -self.r * (reweighted - self.mass())
    }

    /// For the potential `f + t(d − f)`: its `log ⟨a, e^{−·/r}⟩` and the mean of `d − f`
    /// under the reweighted measure, `⟨ã, d − f⟩ / ⟨ã, 1⟩` (`ã = a` for `r = ∞`).
    fn tilted(&self, t: f64) -> (f64, f64) {
        let pairs = || self.f.iter().zip(&self.d);
        if self.r.is_infinite() {
            let mass = self.mass();
            let dot: f64 = self
                .a
                .iter()
                .zip(pairs())
                .map(|(a, (f, d))| a * (d - f))
                .sum();
            return (mass.ln(), dot / mass);
        }
        // Exponents `log a − (f + t(d − f))/r`, shifted by their maximum.
        let exponent = |l: f64, f: f64, d: f64| l - (f + t * (d - f)) / self.r;
        let max = self
            .log_a
            .iter()
            .zip(pairs())
            .map(|(&l, (&f, &d))| exponent(l, f, d))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut sum, mut dot) = (0.0, 0.0);
        for (&l, (&f, &d)) in self.log_a.iter().zip(pairs()) {
            let w = (exponent(l, f, d) - max).exp();
            sum += w;
            dot += w * (d - f);
        }
        (max + sum.ln(), dot / sum)
    }

    /// `ã = a·e^{−f/r}`, sorted.
    fn reweighted(&self, f: &[f64]) -> Vec<f64> {
        if self.r.is_infinite() {
            return self.a.clone();
        }
        self.log_a
            .iter()
            .zip(f)
            .map(|(l, f)| (l - f / self.r).exp())
            .collect()
    }

    fn unsort(&self, v: &[f64]) -> Array1<f64> {
        let mut out = Array1::zeros(v.len());
        for (&i, &value) in self.order.iter().zip(v) {
            out[i] = value;
        }
        out
    }
}

/// A cell of the multi-marginal north-west corner path: sorted indices and mass.
struct Cell {
    index: Vec<usize>,
    mass: f64,
}

/// `log M`, the common log-mass of the reweighted measures after the best translation, given
/// each side's `log ⟨a_k, e^{−f_k/r_k}⟩`: fixed by an exact side, otherwise the `r`-weighted
/// mean of the log masses.
fn common_log_mass(sides: &[Side], logs: &[f64]) -> f64 {
    match sides.iter().position(|s| s.r.is_infinite()) {
        Some(k) => logs[k],
        None => {
            let total: f64 = sides.iter().map(|s| s.r).sum();
            sides.iter().zip(logs).map(|(s, l)| s.r * l).sum::<f64>() / total
        }
    }
}

/// Moves the potentials `pots` (one per side) to their best translation `f_k + c_k`
/// (`Σ c_k = 0`): afterwards all reweighted measures have the same mass.
fn translate(sides: &[Side], pots: &mut [Vec<f64>]) {
    let logs: Vec<f64> = sides
        .iter()
        .zip(pots.iter())
        .map(|(s, f)| s.log_mass(f))
        .collect();
    let log_m = common_log_mass(sides, &logs);
    let mut shift_sum = 0.0;
    for ((side, f), &log_k) in sides.iter().zip(pots.iter_mut()).zip(&logs) {
        if side.r.is_finite() {
            let c = side.r * (log_k - log_m);
            f.iter_mut().for_each(|f| *f += c);
            shift_sum += c;
        }
    }
    // An exact side absorbs the opposite shift, keeping Σ f_k ≤ C.
    if let Some(k) = sides.iter().position(|s| s.r.is_infinite()) {
        pots[k].iter_mut().for_each(|f| *f -= shift_sum);
    }
}

fn dual_value(sides: &[Side], pots: &[Vec<f64>]) -> f64 {
    sides.iter().zip(pots).map(|(s, f)| s.dual(f)).sum()
}

/// The balanced multi-marginal OT between measures of equal mass `w_k` (sorted supports)
/// by the north-west corner rule: the cells (sorted indices and mass) and, written into each
/// side's `d`, potentials with `Σ_k d_k(i_k) = C(i)` on the path.
fn north_west(
    sides: &mut [Side],
    weights: &[Vec<f64>],
    cost: &dyn Fn(&[usize]) -> f64,
) -> Vec<Cell> {
    let k_count = sides.len();
    let totals: Vec<f64> = weights.iter().map(|w| w.iter().sum::<f64>()).collect();
    let mass = totals.iter().sum::<f64>() / k_count as f64;
    // Remaining mass of each side's current atom, in units of the common mass.
    let mut index = vec![0usize; k_count];
    let mut remaining: Vec<f64> = (0..k_count)
        .map(|k| weights[k][0] / totals[k] * mass)
        .collect();
    for side in sides.iter_mut() {
        side.d.iter_mut().for_each(|d| *d = 0.0);
    }
    sides[0].d[0] = cost(&index);
    let mut cells = Vec::with_capacity(weights.iter().map(Vec::len).sum());
    loop {
        let next = (0..k_count)
            .filter(|&k| index[k] + 1 < sides[k].x.len())
            .min_by(|&p, &q| remaining[p].total_cmp(&remaining[q]));
        let Some(k0) = next else {
            let last = remaining.iter().copied().fold(f64::INFINITY, f64::min);
            if last > 0.0 {
                cells.push(Cell {
                    index: index.clone(),
                    mass: last,
                });
            }
            return cells;
        };
        let step = remaining[k0].max(0.0);
        if step > 0.0 {
            cells.push(Cell {
                index: index.clone(),
                mass: step,
            });
        }
        remaining.iter_mut().for_each(|r| *r -= step);
        index[k0] += 1;
        remaining[k0] = weights[k0][index[k0]] / totals[k0] * mass;
        let others: f64 = (0..k_count)
            .filter(|&k| k != k0)
            .map(|k| sides[k].d[index[k]])
            .sum();
        sides[k0].d[index[k0]] = cost(&index) - others;
    }
}

/// The exact line search on the translation-invariant dual: `max_{t ∈ [0, 1]} H(f + t(d − f))`
/// with `H(f) = max_{Σc = 0} Σ_k D_k(f_k + c_k)`, concave. By the envelope theorem `H'(t)` is
/// `Σ_k ⟨ã_k, d_k − f_k⟩` at the translated point; its root is found by the Illinois variant
/// of regula falsi (bisection when that stalls).
///
/// The translation only rescales each `ã_k` to the common mass `M` (exact sides keep theirs),
/// so `H'(t) = Σ_k M·⟨ã_k, d_k − f_k⟩ / ⟨ã_k, 1⟩` with `ã_k` taken at the untranslated point
/// `f_k + t(d_k − f_k)`: an evaluation reads each side twice (maximum, then sums) and
/// allocates nothing.
fn line_search(sides: &[Side]) -> f64 {
    let (mut logs, mut means) = (vec![0.0; sides.len()], vec![0.0; sides.len()]);
    let mut slope = |t: f64| -> f64 {
        for (k, side) in sides.iter().enumerate() {
            (logs[k], means[k]) = side.tilted(t);
        }
        let log_m = common_log_mass(sides, &logs);
        sides
            .iter()
            .zip(logs.iter().zip(&means))
            // An exact side is not reweighted: it keeps its own mass.
            .map(|(side, (&log_k, &mean))| {
                let log_mass = if side.r.is_finite() { log_m } else { log_k };
                log_mass.exp() * mean
            })
            .sum()
    };
    let s1 = slope(1.0);
    if s1 >= 0.0 || s1.is_nan() {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    let (mut s_lo, mut s_hi) = (slope(0.0), s1);
    if s_lo <= 0.0 || s_lo.is_nan() {
        return 0.0;
    }
    let mut side = 0i8;
    for _ in 0..60 {
        let mut t = (lo * s_hi - hi * s_lo) / (s_hi - s_lo);
        if !(t > lo && t < hi) {
            t = 0.5 * (lo + hi);
        }
        let st = slope(t);
        if st > 0.0 {
            lo = t;
            s_lo = st;
            if side == 1 {
                s_hi *= 0.5;
            }
            side = 1;
        } else if st < 0.0 {
            hi = t;
            s_hi = st;
            if side == -1 {
                s_lo *= 0.5;
            }
            side = -1;
        } else {
            return t;
        }
        if hi - lo <= 1e-14 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Result of the shared Frank–Wolfe loop.
struct Solved {
    cells: Vec<Cell>,
    reweighted: Vec<Vec<f64>>,
    dual: f64,
    gap: f64,
    iterations: usize,
    converged: bool,
}

impl UnbalancedFrankWolfe {
    fn check(&self) -> Result<()> {
        validate::positive("threshold", self.threshold)?;
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        Ok(())
    }

    fn run(
        &self,
        sides: &mut [Side],
        cost: &dyn Fn(&[usize]) -> f64,
        observer: &Observer<'_>,
    ) -> Result<Solved> {
        let mut iterations = 0;
        let mut pots: Vec<Vec<f64>> = sides.iter().map(|s| s.f.clone()).collect();
        translate(sides, &mut pots);
        loop {
            for (side, f) in sides.iter_mut().zip(&pots) {
                side.f.clone_from(f);
            }
            let reweighted: Vec<Vec<f64>> = sides.iter().map(|s| s.reweighted(&s.f)).collect();
            if reweighted.iter().any(|w| {
                let mass: f64 = w.iter().sum();
                mass <= 0.0 || !mass.is_finite()
            }) {
                return Err(Error::Numerical {
                    solver: "1-D unbalanced Frank-Wolfe",
                    iteration: iterations,
                    epsilon: 0.0,
                    detail: "the reweighted marginals vanished or overflowed (rho too small for \
                             the scale of the cost?)"
                        .into(),
                });
            }
            let cells = north_west(sides, &reweighted, cost);
            let gap: f64 = sides
                .iter()
                .zip(&reweighted)
                .map(|(s, w)| {
                    w.iter()
                        .zip(s.d.iter().zip(&s.f))
                        .map(|(w, (d, f))| w * (d - f))
                        .sum::<f64>()
                })
                .sum();
            let dual = dual_value(sides, &pots);
            if !gap.is_finite() || !dual.is_finite() {
                return Err(Error::Numerical {
                    solver: "1-D unbalanced Frank-Wolfe",
                    iteration: iterations,
                    epsilon: 0.0,
                    detail: format!("non-finite gap {gap} or dual value {dual}"),
                });
            }
            observer.step(&Progress {
                iteration: iterations,
                max_iterations: self.max_iterations,
                error: gap,
                epsilon: 0.0,
            })?;
            let converged = gap <= self.threshold;
            if converged || iterations == self.max_iterations {
                return Ok(Solved {
                    cells,
                    reweighted,
                    dual,
                    gap: gap.max(0.0),
                    iterations,
                    converged,
                });
            }
            // The Frank–Wolfe step with exact line search, translated.
            let t = line_search(sides);
            let mut stepped: Vec<Vec<f64>> = sides
                .iter()
                .map(|s| s.f.iter().zip(&s.d).map(|(f, d)| f + t * (d - f)).collect())
                .collect();
            translate(sides, &mut stepped);
            // The oracle's own potentials, translated, are feasible too. Near the optimum they
            // approach the optimal dual (the balanced potentials of the optimal marginals),
            // where the averaged iterates converge only as O(1/k): keep the better point.
            let mut jump: Vec<Vec<f64>> = sides.iter().map(|s| s.d.clone()).collect();
            translate(sides, &mut jump);
            pots = if dual_value(sides, &jump) > dual_value(sides, &stepped) {
                jump
            } else {
                stepped
            };
            iterations += 1;
        }
    }

    /// Unbalanced OT between `Σ a_i δ_{x_i}` and `Σ b_j δ_{y_j}` on the line with cost
    /// `|x − y|^p` and KL penalties `ρ_a`, `ρ_b` (`f64::INFINITY`: that marginal is exact;
    /// both infinite is balanced 1-D OT, where the masses must agree). Missing weights are
    /// uniform with mass 1.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::NonFinite`] for the samples; the weight errors naming `a`
    /// or `b`; [`Error::InvalidParameter`] naming `rho_a`/`rho_b` unless `> 0`, `p` unless
    /// `≥ 1`, and the settings; [`Error::MassMismatch`] for a balanced problem of unequal
    /// masses; [`Error::Numerical`] if the reweighted marginals overflow.
    #[allow(clippy::too_many_arguments)]
    pub fn solve(
        &self,
        x: ArrayView1<'_, f64>,
        y: ArrayView1<'_, f64>,
        a: Option<ArrayView1<'_, f64>>,
        b: Option<ArrayView1<'_, f64>>,
        rho_a: f64,
        rho_b: f64,
        p: f64,
    ) -> Result<Uot1dOutput> {
        self.solve_with(x, y, a, b, rho_a, rho_b, p, &Observer::new())
    }

    /// [`solve`](Self::solve) with progress (the gap is the reported error) and cancellation.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    #[allow(clippy::too_many_arguments)]
    pub fn solve_with(
        &self,
        x: ArrayView1<'_, f64>,
        y: ArrayView1<'_, f64>,
        a: Option<ArrayView1<'_, f64>>,
        b: Option<ArrayView1<'_, f64>>,
        rho_a: f64,
        rho_b: f64,
        p: f64,
        observer: &Observer<'_>,
    ) -> Result<Uot1dOutput> {
        self.check()?;
        let p = check_p(p)?;
        let mass_a = check_side("x", x, "a", a)?;
        let mass_b = check_side("y", y, "b", b)?;
        let rho_a = check_rho("rho_a", rho_a)?;
        let rho_b = check_rho("rho_b", rho_b)?;
        let (ma, mb) = (
            if a.is_some() { mass_a } else { 1.0 },
            if b.is_some() { mass_b } else { 1.0 },
        );
        if rho_a.is_infinite()
            && rho_b.is_infinite()
            && (ma - mb).abs() > MASS_TOLERANCE * ma.max(mb)
        {
            return Err(Error::MassMismatch {
                sum_a: ma,
                sum_b: mb,
            });
        }
        let mut sides = [Side::new(x, a, rho_a), Side::new(y, b, rho_b)];
        let (xs, ys) = (sides[0].x.clone(), sides[1].x.clone());
        let cost = move |i: &[usize]| ground(xs[i[0]] - ys[i[1]], p);
        let solved = self.run(&mut sides, &cost, observer)?;
        let entries: Vec<(usize, usize, f64)> = solved
            .cells
            .iter()
            .map(|c| {
                (
                    sides[0].order[c.index[0]],
                    sides[1].order[c.index[1]],
                    c.mass,
                )
            })
            .collect();
        let linear_cost: f64 = solved.cells.iter().map(|c| c.mass * cost(&c.index)).sum();
        let [sa, sb] = &sides;
        Ok(Uot1dOutput {
            cost: solved.dual + solved.gap,
            linear_cost,
            dual_cost: solved.dual,
            f: sa.unsort(&sa.f),
            g: sb.unsort(&sb.f),
            plan: SparsePlan::from_triplets((x.len(), y.len()), entries),
            marginal_a: sa.unsort(&solved.reweighted[0]),
            marginal_b: sb.unsort(&solved.reweighted[1]),
            iterations: solved.iterations,
            converged: solved.converged,
        })
    }

    /// The unbalanced barycenter of 1-D measures `(x_k, a_k)` with weights `λ` (normalized to
    /// sum 1) for the squared distance: the multi-marginal problem (see `linear/unbalanced_1d.rs`)
    /// with `r_k = ρ·λ_k` (`ρ = ∞`: the balanced W2 barycenter, whose quantile function is
    /// `Σ λ_k F_k⁻¹`; the masses must then agree). The support is free: it is `x̄(i)` over the
    /// cells of the optimal plan, at most `Σ_k n_k − K + 1` points.
    ///
    /// # Errors
    /// [`Error::Empty`] naming `inputs` when there is none; the point and weight errors
    /// naming `inputs`; [`Error::InvalidParameter`] naming `lambdas` (one positive weight
    /// per input) or `rho`; [`Error::MassMismatch`] for `ρ = ∞` and unequal masses.
    pub fn barycenter(
        &self,
        inputs: &[(ArrayView1<'_, f64>, Option<ArrayView1<'_, f64>>)],
        lambdas: ArrayView1<'_, f64>,
        rho: f64,
    ) -> Result<Uot1dBarycenter> {
        self.barycenter_with(inputs, lambdas, rho, &Observer::new())
    }

    /// [`barycenter`](Self::barycenter) with progress and cancellation.
    ///
    /// # Errors
    /// As [`barycenter`](Self::barycenter), plus [`Error::Interrupted`].
    pub fn barycenter_with(
        &self,
        inputs: &[(ArrayView1<'_, f64>, Option<ArrayView1<'_, f64>>)],
        lambdas: ArrayView1<'_, f64>,
        rho: f64,
        observer: &Observer<'_>,
    ) -> Result<Uot1dBarycenter> {
        self.check()?;
        if inputs.is_empty() {
            return Err(Error::Empty {
                arg: "inputs",
                what: "list of measures",
            });
        }
        if lambdas.len() != inputs.len() {
            return Err(Error::Shape {
                arg: "lambdas",
                expected: format!("one weight per input ({})", inputs.len()),
                got: format!("length {}", lambdas.len()),
            });
        }
        if let Some(k) = lambdas.iter().position(|l| !(l.is_finite() && *l > 0.0)) {
            return Err(Error::invalid(
                "lambdas",
                "every barycentric weight must be finite and > 0",
                lambdas[k],
            ));
        }
        let rho = check_rho("rho", rho)?;
        let total: f64 = lambdas.sum();
        let lambdas: Vec<f64> = lambdas.iter().map(|l| l / total).collect();
        let mut masses = Vec::with_capacity(inputs.len());
        for &(x, a) in inputs {
            let m = check_side("inputs", x, "inputs", a)?;
            masses.push(if a.is_some() { m } else { 1.0 });
        }
        if rho.is_infinite() {
            let (lo, hi) = masses
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(l, h), &m| (l.min(m), h.max(m)));
            if hi - lo > MASS_TOLERANCE * hi {
                return Err(Error::MassMismatch {
                    sum_a: lo,
                    sum_b: hi,
                });
            }
        }
        let mut sides: Vec<Side> = inputs
            .iter()
            .zip(&lambdas)
            .map(|(&(x, a), &l)| Side::new(x, a, rho * l))
            .collect();
        let points: Vec<Vec<f64>> = sides.iter().map(|s| s.x.clone()).collect();
        let centre = |i: &[usize]| -> f64 {
            i.iter()
                .enumerate()
                .map(|(k, &ik)| lambdas[k] * points[k][ik])
                .sum()
        };
        let cost = |i: &[usize]| -> f64 {
            let bar = centre(i);
            i.iter()
                .enumerate()
                .map(|(k, &ik)| lambdas[k] * (points[k][ik] - bar).powi(2))
                .sum()
        };
        let solved = self.run(&mut sides, &cost, observer)?;
        let support: Vec<f64> = solved.cells.iter().map(|c| centre(&c.index)).collect();
        let weights: Vec<f64> = solved.cells.iter().map(|c| c.mass).collect();
        Ok(Uot1dBarycenter {
            support: Array1::from(support),
            weights: Array1::from(weights),
            cost: solved.dual + solved.gap,
            dual_cost: solved.dual,
            potentials: sides.iter().map(|s| s.unsort(&s.f)).collect(),
            marginals: sides
                .iter()
                .zip(&solved.reweighted)
                .map(|(s, w)| s.unsort(w))
                .collect(),
            iterations: solved.iterations,
            converged: solved.converged,
        })
    }
}

fn check_rho(arg: &'static str, rho: f64) -> Result<f64> {
    if rho > 0.0 && !rho.is_nan() {
        Ok(rho)
    } else {
        Err(Error::invalid(
            arg,
            "the marginal penalty must be > 0 (f64::INFINITY for an exact marginal)",
            rho,
        ))
    }
}
