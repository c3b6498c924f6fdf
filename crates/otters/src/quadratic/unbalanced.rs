//! Unbalanced (fused) Gromov–Wasserstein by alternate minimization of its bi-convex
//! relaxation (Séjourné, Vialard, Peyré 2021, *The Unbalanced Gromov Wasserstein Distance:
//! Conic Formulation and Relaxation*; ALGORITHMS.md Q3). With `KL⊗(μ, ν | α) = KL(μ⊗ν | α⊗α)`:
//!
//! `F(π, γ) = α·Σ L(Cx_ik, Cy_jl)·π_ij·γ_kl + (1−α)·½⟨M, π + γ⟩ + ρ_a·KL⊗(π1, γ1 | a)
//!           + ρ_b·KL⊗(πᵀ1, γᵀ1 | b) + ε·KL⊗(π, γ | a⊗b)`.
//!
//! For a fixed `γ` of mass `m`, `F` is an entropic unbalanced OT problem in `π`: cost
//! `α·L⊗γ + (1−α)/2·M + κ(γ)` (with the scalar `κ` below), penalties `m·ρ_a`, `m·ρ_b` and
//! regularization `m·ε`. Each half-step is therefore one warm-started [`Sinkhorn`] solve on
//! that cost (the problem's KL marginals, ALGORITHMS.md L7/L8), whose `L⊗γ` comes from
//! [`GwTensor`]; the new plan is then rescaled by `√(m(γ)/m(π))` so both plans keep one mass.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};

use super::gromov_wasserstein::linearization_failed;
use super::problem::QuadraticProblem;
use super::tensor::{Assembly, GwTensor, MarginalMaps, frobenius_dot};
use crate::error::{Error, Result};
use crate::geometry::{DenseCost, Geometry};
use crate::linear::{Epsilon, LinearProblem, MarginalPenalty, Potentials, Sinkhorn};
use crate::observe::{Observer, Progress};
use crate::validate::{self, DEFAULT_MEMORY_LIMIT};

/// Unbalanced GW: alternate minimization of `F(π, γ)` (module docs), starting from
/// `π = γ = a⊗bᵀ` (or a given plan), each half-step one unbalanced [`Sinkhorn`] solve with
/// `ρ` and `ε` multiplied by the mass of the other plan, followed by the mass rescaling.
/// The iteration is POT's `fused_unbalanced_gromov_wasserstein` with
/// `unbalanced_solver="sinkhorn"`: first `γ` from `π`, then `π` from `γ`, stopping on the
/// L1 change of `π`.
///
/// The fused weight `α` is the problem's [`fused_penalty`](QuadraticProblem::fused_penalty)
/// (1 without a linear cost). POT's FUGW weights the terms `GW + (α_POT/2)⟨M, π+γ⟩ + ρ… + ε…`
/// instead; it is this objective divided by `α = 1/(1 + α_POT)`, with `ρ = ρ_POT·α` and
/// `ε = ε_POT·α`.
///
/// As `ρ → ∞` the marginals become hard (`ρ = ∞` is allowed and is exactly that) and, for
/// weights of equal mass, the two plans coincide at the balanced entropic GW fixed point of
/// `α·GW(P) + (1−α)⟨M, P⟩ + 2ε·KL(P | a⊗b)`, i.e. [`EntropicGw`](super::EntropicGw) with
/// `epsilon = 2ε`, because `KL⊗(P, P | a⊗b) = 2·KL(P | a⊗b)` for unit masses.
///
/// Only `ε > 0` is supported (POT's `unbalanced_solver="mm"` for `ε = 0` is not).
#[derive(Debug, Clone, PartialEq)]
pub struct UnbalancedGw {
    /// KL penalty `ρ_a > 0` on the source marginals (`∞`: a hard constraint).
    pub rho_a: f64,
    /// KL penalty `ρ_b > 0` on the target marginals (`∞`: a hard constraint).
    pub rho_b: f64,
    /// Entropic regularization `ε > 0` of the joint plan `π⊗γ`.
    pub epsilon: f64,
    /// Stop once `‖π_{k+1} − π_k‖₁` is at most this.
    pub threshold: f64,
    /// Outer iterations (each two Sinkhorn solves) at most.
    pub max_iterations: usize,
    /// The inner solver; its `epsilon` is replaced by `m·ε` at every step. Far from the
    /// fixed point a step is solved only to a tenth of the last plan change (never tighter
    /// than `sinkhorn.threshold`), as in [`EntropicGw`](super::EntropicGw).
    pub sinkhorn: Sinkhorn,
    /// Largest dense matrix (bytes) the solver may hold: costs, plans, linearized cost.
    pub memory_limit: usize,
    /// Factor costs that are exactly low rank (as in [`EntropicGw`](super::EntropicGw)).
    pub low_rank_costs: bool,
}

impl Default for UnbalancedGw {
    fn default() -> Self {
        UnbalancedGw {
            rho_a: 1.0,
            rho_b: 1.0,
            epsilon: 0.1,
            threshold: 1e-9,
            max_iterations: 1000,
            sinkhorn: Sinkhorn {
                threshold: 1e-10,
                max_iterations: 100_000,
                ..Sinkhorn::default()
            },
            memory_limit: DEFAULT_MEMORY_LIMIT,
            low_rank_costs: true,
        }
    }
}

/// The result of an unbalanced GW solve: both plans and the parts of `F(π, γ)`.
#[derive(Debug, Clone)]
pub struct UgwOutput {
    plan: Array2<f64>,
    second_plan: Array2<f64>,
    alpha: f64,
    gw_loss: f64,
    linear_loss: Option<f64>,
    marginal_penalty: f64,
    entropic_penalty: f64,
    converged: bool,
    iterations: usize,
    trace: Vec<f64>,
    potentials: (Array1<f64>, Array1<f64>),
    inner_epsilon: f64,
}

impl UgwOutput {
    /// The plan `π` (`n × m`), the one to use as the UGW coupling.
    pub fn plan(&self) -> ArrayView2<'_, f64> {
        self.plan.view()
    }

    /// The second plan `γ` of the relaxation (same mass as `π`; equal to it at the fixed
    /// point for symmetric costs).
    pub fn second_plan(&self) -> ArrayView2<'_, f64> {
        self.second_plan.view()
    }

    /// Takes `(π, γ)` out.
    pub fn into_plans(self) -> (Array2<f64>, Array2<f64>) {
        (self.plan, self.second_plan)
    }

    /// The relaxed objective `F(π, γ) = α·GW(π, γ) + (1−α)·½⟨M, π+γ⟩ + ρ_a·KL⊗(π1, γ1 | a)
    /// + ρ_b·KL⊗(πᵀ1, γᵀ1 | b) + ε·KL⊗(π, γ | a⊗b)` (POT's `fugw_cost` times `α`).
    pub fn loss(&self) -> f64 {
        let lin = self.linear_loss.map_or(0.0, |l| (1.0 - self.alpha) * l);
        self.alpha * self.gw_loss + lin + self.marginal_penalty + self.entropic_penalty
    }

    /// `GW(π, γ) = Σ L(Cx_ik, Cy_jl)·π_ij·γ_kl` (what POT's log calls `linear_cost`).
    pub fn gw_loss(&self) -> f64 {
        self.gw_loss
    }

    /// `½⟨M, π + γ⟩` for a fused problem (unweighted).
    pub fn linear_loss(&self) -> Option<f64> {
        self.linear_loss
    }

    /// `ρ_a·KL⊗(π1, γ1 | a) + ρ_b·KL⊗(πᵀ1, γᵀ1 | b)` (0 for an infinite `ρ`).
    pub fn marginal_penalty(&self) -> f64 {
        self.marginal_penalty
    }

    /// `ε·KL⊗(π, γ | a⊗b) = ε·KL(π⊗γ | (a⊗b)⊗(a⊗b))`.
    pub fn entropic_penalty(&self) -> f64 {
        self.entropic_penalty
    }

    /// Whether the plan change reached the threshold and the last inner Sinkhorn solve
    /// converged.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Outer iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// `‖π_{k+1} − π_k‖₁` after every outer iteration (POT's `log["error"]`).
    pub fn trace(&self) -> &[f64] {
        &self.trace
    }

    /// The potentials `(f, g)` of the last `π` step (cost units); POT's `log["duals"]` are
    /// `(f, g) / inner_epsilon`.
    pub fn potentials(&self) -> (ArrayView1<'_, f64>, ArrayView1<'_, f64>) {
        (self.potentials.0.view(), self.potentials.1.view())
    }

    /// The regularization `m(γ)·ε` of the last `π` step.
    pub fn inner_epsilon(&self) -> f64 {
        self.inner_epsilon
    }
}

/// `Σ μ log(μ/α)` over the pairs (`0 log 0 = 0`): KL without its mass terms.
fn relative_entropy(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    validate::compensated_sum(
        pairs
            .filter(|(mu, _)| *mu > 0.0)
            .map(|(mu, alpha)| mu * (mu / alpha).ln()),
    )
}

/// `Σ π_ij log(π_ij / (a_i b_j))`, rows in parallel and summed in row order.
fn plan_relative_entropy(
    p: ArrayView2<'_, f64>,
    a: ArrayView1<'_, f64>,
    b: ArrayView1<'_, f64>,
) -> f64 {
    let mut per_row = vec![0.0; p.nrows()];
    Zip::from(&mut per_row[..])
        .and(p.rows())
        .and(a)
        .par_for_each(|s, row, &ai| {
            *s = relative_entropy(row.iter().zip(b).map(|(&v, &bj)| (v, ai * bj)));
        });
    validate::compensated_sum(per_row.into_iter())
}

/// A measure `μ` (a marginal or a plan) summarized against its reference `α`, enough for
/// the tensorized KL without forming `μ⊗ν`:
/// `KL(μ⊗ν | α⊗β) = m(ν)·KL(μ|α) + m(μ)·KL(ν|β) + (m(μ) − m(α))(m(ν) − m(β))`,
/// with `KL(μ|α) = Σ μ log(μ/α) − m(μ) + m(α)`.
#[derive(Debug, Clone, Copy)]
struct Measure {
    /// `Σ μ log(μ/α)`.
    entropy: f64,
    /// `m(μ)`.
    mass: f64,
    /// `m(α)`.
    reference: f64,
}

impl Measure {
    fn kl(self) -> f64 {
        self.entropy - self.mass + self.reference
    }

    fn kl_tensor(self, other: Measure) -> f64 {
        other.mass * self.kl()
            + self.mass * other.kl()
            + (self.mass - self.reference) * (other.mass - other.reference)
    }
}

/// The marginals, masses and relative entropies of one plan.
struct PlanStats {
    rows: Array1<f64>,
    cols: Array1<f64>,
    source: Measure,
    target: Measure,
    joint: Measure,
}

impl PlanStats {
    fn new(p: ArrayView2<'_, f64>, a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> Self {
        let rows = p.sum_axis(Axis(1));
        let cols = p.sum_axis(Axis(0));
        let mass = validate::compensated_sum(rows.iter().copied());
        let (mass_a, mass_b) = (
            validate::compensated_sum(a.iter().copied()),
            validate::compensated_sum(b.iter().copied()),
        );
        let source = Measure {
            entropy: relative_entropy(rows.iter().copied().zip(a.iter().copied())),
            mass,
            reference: mass_a,
        };
        let target = Measure {
            entropy: relative_entropy(cols.iter().copied().zip(b.iter().copied())),
            mass,
            reference: mass_b,
        };
        let joint = Measure {
            entropy: plan_relative_entropy(p, a, b),
            mass,
            reference: mass_a * mass_b,
        };
        PlanStats {
            rows,
            cols,
            source,
            target,
            joint,
        }
    }
}

/// `ρ·x`, or 0 for the hard constraint `ρ = ∞` (whose KL term is then 0 by constraint).
fn penalized(rho: f64, x: f64) -> f64 {
    if rho.is_finite() { rho * x } else { 0.0 }
}

/// The state of the alternation: the two plans, their warm starts and the fixed data.
struct Alternation<'p, 's> {
    solver: &'s UnbalancedGw,
    tensor: GwTensor<'p>,
    maps: MarginalMaps,
    linear: Option<Array2<f64>>,
    alpha: f64,
    a: ArrayView1<'p, f64>,
    b: ArrayView1<'p, f64>,
}

/// The result of one half-step.
struct Step {
    plan: Array2<f64>,
    potentials: (Array1<f64>, Array1<f64>),
    epsilon: f64,
    converged: bool,
}

impl Alternation<'_, '_> {
    /// `argmin_π F(π, other)` (or `argmin_γ F(other, γ)` when `transposed`), rescaled to
    /// the mass `√(m(other)·m(new))`.
    fn step(
        &self,
        other: ArrayView2<'_, f64>,
        transposed: bool,
        warm: Option<&(Array1<f64>, Array1<f64>)>,
        inner_threshold: f64,
        k: usize,
        observer: &Observer<'_>,
    ) -> Result<Step> {
        let s = self.solver;
        let stats = PlanStats::new(other, self.a, self.b);
        let mass = stats.source.mass;
        if !(mass.is_finite() && mass > 0.0) {
            return Err(Error::Numerical {
                solver: "unbalanced GW",
                iteration: k + 1,
                epsilon: s.epsilon,
                detail: format!(
                    "the plan mass is {mass}; all mass was destroyed (raise rho or lower epsilon)"
                ),
            });
        }
        let prod = self.tensor.products(other)?;
        let (mu, nu) = self
            .maps
            .apply(stats.rows.view(), stats.cols.view(), transposed);
        // κ: the part of the penalties linear in the new plan's mass.
        let kappa = penalized(s.rho_a, stats.source.entropy)
            + penalized(s.rho_b, stats.target.entropy)
            + s.epsilon * stats.joint.entropy;
        let rows: Vec<f64> = mu.iter().map(|v| self.alpha * v + kappa).collect();
        let cols: Vec<f64> = nu.iter().map(|v| self.alpha * v).collect();
        let (h_weight, ht_weight) = if transposed {
            (0.0, self.alpha)
        } else {
            (self.alpha, 0.0)
        };
        let cost = self.tensor.assemble(
            &prod,
            &Assembly {
                rows: &rows,
                cols: &cols,
                linear: self.linear.as_ref().map(|m| (m, 0.5 * (1.0 - self.alpha))),
                h_weight,
                ht_weight,
            },
        );
        let epsilon = mass * s.epsilon;
        let geom = DenseCost::new(cost.view()).map_err(|e| linearization_failed(k, epsilon, e))?;
        let lp = LinearProblem::unbalanced(
            &geom,
            self.a,
            self.b,
            MarginalPenalty::Kl {
                rho: mass * s.rho_a,
            },
            MarginalPenalty::Kl {
                rho: mass * s.rho_b,
            },
        )?;
        let inner = Sinkhorn {
            epsilon: Epsilon::Absolute(epsilon),
            threshold: inner_threshold,
            ..s.sinkhorn
        };
        let warm = warm.map(|(f, g)| Potentials {
            f: f.view(),
            g: g.view(),
        });
        let out = inner.solve_with(&lp, warm, &observer.cancel_only())?;
        let mut plan = geom.plan_matrix(&out.log_plan(), s.memory_limit)?;
        let new_mass = validate::compensated_sum(plan.iter().copied());
        if !(new_mass.is_finite() && new_mass > 0.0) {
            return Err(Error::Numerical {
                solver: "unbalanced GW",
                iteration: k + 1,
                epsilon,
                detail: format!("the new plan has mass {new_mass} (raise rho or epsilon)"),
            });
        }
        plan *= (mass / new_mass).sqrt();
        Ok(Step {
            plan,
            potentials: (out.f().to_owned(), out.g().to_owned()),
            epsilon,
            converged: out.converged(),
        })
    }
}

/// A starting plan: the right shape, finite, non-negative, with positive mass.
fn checked_init(n: usize, m: usize, p: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
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
    let mass = validate::compensated_sum(p.iter().copied());
    if mass <= 0.0 {
        return Err(Error::invalid("init", "a plan with positive mass", mass));
    }
    Ok(p.to_owned())
}

impl UnbalancedGw {
    /// Settings with `ρ_a = ρ_b = rho` and the given `epsilon`, defaults otherwise.
    pub fn new(rho: f64, epsilon: f64) -> Self {
        UnbalancedGw {
            rho_a: rho,
            rho_b: rho,
            epsilon,
            ..UnbalancedGw::default()
        }
    }

    fn check(&self) -> Result<()> {
        for (arg, rho) in [("rho_a", self.rho_a), ("rho_b", self.rho_b)] {
            if rho.is_nan() || rho <= 0.0 {
                return Err(Error::invalid(
                    arg,
                    "must be > 0 (infinity: a hard marginal)",
                    rho,
                ));
            }
        }
        validate::positive("epsilon", self.epsilon)?;
        if self.threshold.is_nan() || self.threshold < 0.0 {
            return Err(Error::invalid("threshold", "must be >= 0", self.threshold));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        if self.memory_limit == 0 {
            return Err(Error::invalid("memory_limit", "must be > 0", 0));
        }
        self.sinkhorn.check()
    }

    /// Solves `problem` from `π = γ = a⊗bᵀ`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings (naming `rho_a`, `rho_b`, `epsilon`,
    /// ...); [`Error::TooLarge`] when a cost or a plan does not fit in `memory_limit`;
    /// [`Error::Numerical`] when the plans lose all their mass or become non-finite.
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use otters::geometry::DenseCost;
    /// use otters::quadratic::{QuadraticProblem, UnbalancedGw};
    ///
    /// let cx = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]])?;
    /// let cy = DenseCost::new(array![[0.0, 1.0, 4.0], [1.0, 0.0, 1.0], [4.0, 1.0, 0.0]])?;
    /// // Masses 1 and 1.5: only unbalanced GW compares them without normalizing.
    /// let problem = QuadraticProblem::unbalanced(&cx, &cy, array![0.5, 0.5], array![0.5, 0.5, 0.5])?;
    /// let out = UnbalancedGw::new(1.0, 0.1).solve(&problem)?;
    /// assert!(out.converged());
    /// assert!(out.plan().sum() < 1.5);
    /// # Ok::<(), otters::Error>(())
    /// ```
    pub fn solve(&self, problem: &QuadraticProblem<'_>) -> Result<UgwOutput> {
        self.solve_with(problem, None, &Observer::new())
    }

    /// [`solve`](Self::solve) from `π = γ = init` (POT's `init_pi`), reporting each outer
    /// iteration to `observer` (the error is `‖π_{k+1} − π_k‖₁`).
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Shape`], [`Error::NonFinite`] and
    /// [`Error::InvalidParameter`] (arg `init`) for a bad start, [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        problem: &QuadraticProblem<'_>,
        init: Option<ArrayView2<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<UgwOutput> {
        self.check()?;
        let (n, m) = problem.shape();
        validate::matrix_bytes(
            "UGW plan",
            n,
            m,
            self.memory_limit,
            "unbalanced GW needs dense n x m plans",
        )?;
        let mut pi = match init {
            Some(p) => checked_init(n, m, p)?,
            None => {
                let (a, b) = (problem.a(), problem.b());
                Array2::from_shape_fn((n, m), |(i, j)| a[i] * b[j])
            }
        };
        let (tensor, maps) =
            GwTensor::with_marginal_maps(problem, self.memory_limit, self.low_rank_costs)?;
        let linear = match problem.geom_xy() {
            Some(g) => Some(g.cost_matrix(self.memory_limit)?),
            None => None,
        };
        if let Some(lin) = &linear {
            validate::finite_matrix("geom_xy", lin.view())?;
        }
        let state = Alternation {
            solver: self,
            tensor,
            maps,
            linear,
            alpha: problem.fused_penalty(),
            a: problem.a(),
            b: problem.b(),
        };
        let mut gamma = pi.clone();
        let (mut warm_pi, mut warm_gamma) = (None, None);
        let mut trace: Vec<f64> = Vec::new();
        let (mut converged, mut inner_converged) = (false, true);
        let mut inner_epsilon = self.epsilon;
        for k in 0..self.max_iterations {
            // Inexact steps: far from the fixed point, solve to a tenth of the last change.
            let inner_threshold = self
                .sinkhorn
                .threshold
                .max(0.1 * trace.last().copied().unwrap_or(0.0));
            let g = state.step(
                pi.view(),
                true,
                warm_gamma.as_ref(),
                inner_threshold,
                k,
                observer,
            )?;
            gamma = g.plan;
            warm_gamma = Some(g.potentials);
            let p = state.step(
                gamma.view(),
                false,
                warm_pi.as_ref(),
                inner_threshold,
                k,
                observer,
            )?;
            inner_converged = g.converged && p.converged;
            inner_epsilon = p.epsilon;
            warm_pi = Some(p.potentials);
            let change = validate::compensated_sum(
                p.plan.iter().zip(&pi).map(|(new, old)| (new - old).abs()),
            );
            pi = p.plan;
            trace.push(change);
            observer.step(&Progress {
                iteration: k + 1,
                max_iterations: self.max_iterations,
                error: change,
                epsilon: self.epsilon,
            })?;
            if !change.is_finite() {
                return Err(Error::Numerical {
                    solver: "unbalanced GW",
                    iteration: k + 1,
                    epsilon: self.epsilon,
                    detail: format!("the plan change is {change}"),
                });
            }
            if change <= self.threshold {
                converged = true;
                break;
            }
        }
        let potentials = warm_pi.unwrap_or_else(|| (Array1::zeros(n), Array1::zeros(m)));
        let iterations = trace.len();
        let (a, b) = (problem.a(), problem.b());
        let (sp, sg) = (
            PlanStats::new(pi.view(), a, b),
            PlanStats::new(gamma.view(), a, b),
        );
        let prod_gamma = state.tensor.products(gamma.view())?;
        let gw_loss = state
            .tensor
            .cross_loss(&state.maps, pi.view(), gamma.view(), &prod_gamma);
        let linear_loss = state.linear.as_ref().map(|lin| {
            0.5 * (frobenius_dot(lin.view(), pi.view()) + frobenius_dot(lin.view(), gamma.view()))
        });
        let marginal_penalty = penalized(self.rho_a, sp.source.kl_tensor(sg.source))
            + penalized(self.rho_b, sp.target.kl_tensor(sg.target));
        let entropic_penalty = self.epsilon * sp.joint.kl_tensor(sg.joint);
        let out = UgwOutput {
            plan: pi,
            second_plan: gamma,
            alpha: state.alpha,
            gw_loss,
            linear_loss,
            marginal_penalty,
            entropic_penalty,
            converged: converged && inner_converged,
            iterations,
            trace,
            potentials,
            inner_epsilon,
        };
        if !out.loss().is_finite() {
            return Err(Error::Numerical {
                solver: "unbalanced GW",
                iteration: iterations,
                epsilon: self.epsilon,
                detail: format!("the objective is {}", out.loss()),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{Measure, relative_entropy};

    fn measure(mu: &[f64], alpha: &[f64]) -> Measure {
        Measure {
            entropy: relative_entropy(mu.iter().copied().zip(alpha.iter().copied())),
            mass: mu.iter().sum(),
            reference: alpha.iter().sum(),
        }
    }

    #[test]
    fn tensorized_kl_equals_the_kl_of_the_products() {
        let (mu, alpha) = ([0.3, 0.0, 1.1], [0.5, 0.2, 0.4]);
        let (nu, beta) = ([0.7, 0.25], [0.3, 0.9]);
        let mut brute = 0.0f64;
        for (&m, &a) in mu.iter().zip(&alpha) {
            for (&n, &b) in nu.iter().zip(&beta) {
                let p: f64 = m * n;
                let plogp = if p > 0.0 { p * (p / (a * b)).ln() } else { 0.0 };
                brute += plogp - p + a * b;
            }
        }
        let got = measure(&mu, &alpha).kl_tensor(measure(&nu, &beta));
        assert!((got - brute).abs() < 1e-14, "{got} vs {brute}");
        // Same measure and reference: zero.
        assert!(
            measure(&alpha, &alpha)
                .kl_tensor(measure(&beta, &beta))
                .abs()
                < 1e-15
        );
    }
}
