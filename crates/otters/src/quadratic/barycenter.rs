//! Gromov–Wasserstein barycenters (ALGORITHMS.md Q5; Peyré, Cuturi, Solomon 2016,
//! "Gromov-Wasserstein averaging of kernel and distance matrices"):
//! `C* = argmin_{C ∈ ℝ^{N×N}} Σ_s λ_s·GW(C, C_s, p, p_s)` by block coordinate descent. With
//! `C` fixed, each plan `T_s` (`N × n_s`) is a GW solve ([`ConditionalGradientGw`] or
//! [`EntropicGw`]); with the plans fixed, `C` has a closed form: `Σ_s λ̂_s T_s C_s T_sᵀ ⊘ ppᵀ`
//! (square loss) or `exp(Σ_s λ̂_s T_s log(C_s) T_sᵀ ⊘ ppᵀ)` (KL loss), with `λ̂ = λ / Σλ`.
//!
//! **Fused** barycenters (Vayer, Chapel, Flamary, Tavenard, Courty 2019, "Optimal transport for
//! structured data with application on graphs", eq. 5): when the inputs carry features `Y_s`
//! (`n_s × d`), the barycenter has features `X` (`N × d`) too, each plan is a fused GW solve
//! `α·GW + (1 − α)·⟨M_s, T⟩` with `M_s = ‖x_i − y_j‖²`, and `X` has the closed form
//! `X = Σ_s λ̂_s diag(1/p) T_s Y_s`. Either part can be held fixed.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Zip};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::gromov_wasserstein::{ConditionalGradientGw, EntropicGw, GwOutput};
use super::problem::{GwLoss, QuadraticProblem};
use super::tensor::GwTensor;
use crate::error::{Error, Result};
use crate::geometry::{DenseCost, Geometry};
use crate::kernels::gemm;
use crate::linear::MASS_TOLERANCE;
use crate::observe::{Observer, Progress};
use crate::validate;

/// POT's floor under the costs in the KL update (`log(max(C_s, 1e-16))`), so that zero
/// costs (the diagonal of a distance matrix) give a finite logarithm.
const KL_FLOOR: f64 = 1e-16;

/// One measured similarity matrix to average: its costs `C_s` (`n_s × n_s`) and weights
/// `p_s`, whose mass must equal that of the barycenter weights; optionally features `Y_s`
/// (`n_s × d`) of its points, for a fused barycenter.
#[derive(Debug, Clone, Copy)]
pub struct GwBarycenterInput<'a> {
    /// The costs within the input space.
    pub cost: &'a dyn Geometry,
    /// The weights of its points.
    pub weights: ArrayView1<'a, f64>,
    /// Features of its points (one row per point), for a fused barycenter: all inputs
    /// have them, of one width `d`, or none does.
    pub features: Option<ArrayView2<'a, f64>>,
}

impl<'a> GwBarycenterInput<'a> {
    /// Pairs a cost with its weights (checked by the solve).
    pub fn new(cost: &'a dyn Geometry, weights: ArrayView1<'a, f64>) -> Self {
        GwBarycenterInput {
            cost,
            weights,
            features: None,
        }
    }

    /// Adds features `Y_s` (`n_s × d`) of the points: the barycenter becomes fused.
    pub fn with_features(mut self, features: ArrayView2<'a, f64>) -> Self {
        self.features = Some(features);
        self
    }
}

/// The GW solver that computes each plan `T_s` between the barycenter and an input.
#[derive(Debug, Clone, PartialEq)]
pub enum GwPlanSolver {
    /// Conditional gradient (POT's `gromov_barycenters`).
    ConditionalGradient(ConditionalGradientGw),
    /// Entropic mirror descent (POT's `entropic_gromov_barycenters`).
    Entropic(EntropicGw),
}

impl Default for GwPlanSolver {
    /// Conditional gradient stopped at a relative change of the objective of `1e-5` (the
    /// setting POT's `gromov_barycenters` uses for its inner solves).
    fn default() -> Self {
        GwPlanSolver::ConditionalGradient(ConditionalGradientGw {
            max_iterations: 1000,
            tol_rel: 1e-5,
            tol_abs: 0.0,
            ..ConditionalGradientGw::default()
        })
    }
}

impl GwPlanSolver {
    /// Solves `problem` with this solver, from the plan `init` (the product plan when
    /// `None`).
    ///
    /// # Errors
    /// Those of [`ConditionalGradientGw::solve_with`] or [`EntropicGw::solve_with`].
    pub fn solve_with(
        &self,
        problem: &QuadraticProblem<'_>,
        init: Option<ArrayView2<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<GwOutput> {
        match self {
            GwPlanSolver::ConditionalGradient(s) => s.solve_with(problem, init, observer),
            GwPlanSolver::Entropic(s) => s.solve_with(problem, init, observer),
        }
    }

    fn epsilon(&self) -> f64 {
        match self {
            GwPlanSolver::ConditionalGradient(_) => 0.0,
            GwPlanSolver::Entropic(s) => s.epsilon,
        }
    }

    fn memory_limit(&self) -> usize {
        match self {
            GwPlanSolver::ConditionalGradient(s) => s.memory_limit,
            GwPlanSolver::Entropic(s) => s.memory_limit,
        }
    }

    fn low_rank_costs(&self) -> bool {
        match self {
            GwPlanSolver::ConditionalGradient(s) => s.low_rank_costs,
            GwPlanSolver::Entropic(s) => s.low_rank_costs,
        }
    }
}

/// When the outer loop stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarycenterStop {
    /// `‖C_{k+1} − C_k‖_F ≤ tolerance` (POT's `stop_criterion="barycenter"`); for a fused
    /// barycenter, the larger of that and `‖X_{k+1} − X_k‖_F` (the parts not held fixed).
    #[default]
    CostChange,
    /// `|L_k − L_{k−1}| ≤ tolerance·|L_{k−1}|` for the objective `L_k = Σ_s λ_s GW_s` of the
    /// plans of iteration `k` (POT's `stop_criterion="loss"`); never at the first iteration.
    LossChange,
}

/// The barycenter costs the loop starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum BarycenterInit {
    /// Squared Euclidean distances between `N` standard Gaussian points of the plane,
    /// divided by their largest value (POT's random start, drawn from a seeded ChaCha8
    /// stream: the same seed gives the same start on every platform).
    Random {
        /// The seed of the stream.
        seed: u64,
    },
    /// The given `N × N` costs (POT's `init_C`).
    Cost(Array2<f64>),
}

impl Default for BarycenterInit {
    fn default() -> Self {
        BarycenterInit::Random { seed: 0 }
    }
}

/// A Gromov–Wasserstein barycenter of `S` inputs `(C_s, p_s)`: the `N × N` costs
/// `C* = argmin_C Σ_s λ_s GW(C, C_s, p, p_s)` (a local minimum, found by alternating the GW
/// plans and the closed-form update of `C`; Peyré, Cuturi, Solomon 2016).
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::DenseCost;
/// use otters::quadratic::{BarycenterInit, GwBarycenter, GwBarycenterInput};
///
/// // Two copies of the same 3-point space: their barycenter is that space again.
/// let c = array![[0.0, 1.0, 4.0], [1.0, 0.0, 1.0], [4.0, 1.0, 0.0]];
/// let geom = DenseCost::new(c.view())?;
/// let w = array![1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
/// let input = GwBarycenterInput::new(&geom, w.view());
/// let settings = GwBarycenter {
///     init: BarycenterInit::Cost(c.clone()),
///     ..GwBarycenter::new(3)
/// };
/// let out = settings.solve(&[input, input])?;
/// assert!(out.converged());
/// assert!(out.loss() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GwBarycenter {
    /// `N`, the number of points of the barycenter.
    pub size: usize,
    /// The barycenter weights `p` (uniform `1/N` when `None`); all positive.
    pub weights: Option<Array1<f64>>,
    /// The weights `λ_s` of the inputs (uniform `1/S` when `None`): finite, non-negative,
    /// with a positive sum. The update uses `λ / Σλ`, so only their ratios matter to `C`.
    pub lambdas: Option<Vec<f64>>,
    /// The loss comparing the barycenter's costs with each input's.
    pub loss: GwLoss,
    /// The solver of each plan.
    pub solver: GwPlanSolver,
    /// Outer iterations (plans, then update) at most.
    pub max_iterations: usize,
    /// The threshold of [`stop`](Self::stop).
    pub tolerance: f64,
    /// The stopping rule.
    pub stop: BarycenterStop,
    /// The starting costs.
    pub init: BarycenterInit,
    /// Start each plan's solve from that plan at the previous iteration (POT's
    /// `warmstartT`) instead of `p·p_sᵀ`.
    pub warm_start: bool,
    /// Fused barycenters (inputs with features): the weight `α ∈ [0, 1]` of the structure
    /// (GW) term; the features' squared distances have weight `1 − α`.
    pub alpha: f64,
    /// Fused barycenters: the starting features `X` (`N × d`; zeros when `None`, as POT).
    pub init_features: Option<Array2<f64>>,
    /// Keep the costs `C` at their start (which must then be given, [`BarycenterInit::Cost`]).
    pub fixed_structure: bool,
    /// Fused barycenters: keep the features at [`init_features`](Self::init_features)
    /// (which must be given).
    pub fixed_features: bool,
}

impl GwBarycenter {
    /// Default settings for a barycenter of `size` points: uniform weights and lambdas,
    /// square loss, [`GwPlanSolver::default`], 1000 iterations, `‖ΔC‖_F ≤ 1e-9`, random
    /// start with seed 0, no warm start; for fused barycenters `α = 0.5` and zero starting
    /// features, nothing held fixed (POT's defaults).
    pub fn new(size: usize) -> Self {
        GwBarycenter {
            size,
            weights: None,
            lambdas: None,
            loss: GwLoss::Square,
            solver: GwPlanSolver::default(),
            max_iterations: 1000,
            tolerance: 1e-9,
            stop: BarycenterStop::CostChange,
            init: BarycenterInit::default(),
            warm_start: false,
            alpha: 0.5,
            init_features: None,
            fixed_structure: false,
            fixed_features: false,
        }
    }

    /// The barycenter of `inputs`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (arg `size`, `weights`, `lambdas`, `init`,
    /// `max_iterations`, `tolerance`, `alpha`, `init_features`, `fixed_features`) for bad
    /// settings; arg `inputs` for an empty list or an input whose cost is not square and
    /// finite (non-negative for the KL loss), whose weights are invalid or of another mass
    /// than `weights`, or whose features are missing, of another width or not finite; [`Error::TooLarge`]
    /// when a cost does not fit in the solver's memory limit; [`Error::Numerical`] when
    /// the update overflows; the errors of the plan solver.
    pub fn solve(&self, inputs: &[GwBarycenterInput<'_>]) -> Result<GwBarycenterOutput> {
        self.solve_with(inputs, &Observer::new())
    }

    /// [`solve`](Self::solve), reporting each outer iteration to `observer` (the error is
    /// the stopping rule's value); the plan solves share its cancellation flag only.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        inputs: &[GwBarycenterInput<'_>],
        observer: &Observer<'_>,
    ) -> Result<GwBarycenterOutput> {
        let mut setup = self.checked(inputs)?;
        let geoms = setup
            .costs
            .iter()
            .map(|c| DenseCost::new(c.view()))
            .collect::<Result<Vec<_>>>()?;
        let quiet = observer.cancel_only();
        let epsilon = self.solver.epsilon();
        let mut cost = std::mem::take(&mut setup.start);
        let mut features = setup.start_features.take();
        let mut plans: Vec<Option<Array2<f64>>> = vec![None; inputs.len()];
        let mut trace = Vec::new();
        let mut loss_trace = Vec::new();
        let mut previous: Option<f64> = None;
        let (mut converged, mut inner_converged) = (false, true);
        for k in 0..self.max_iterations {
            let bary = DenseCost::new(cost.view())?;
            inner_converged = true;
            let mut objective = 0.0;
            for (s, (input, geom)) in inputs.iter().zip(&geoms).enumerate() {
                let mut problem =
                    QuadraticProblem::new(&bary, geom, setup.weights.view(), input.weights.view())?
                        .with_loss(self.loss);
                let distances = match (&features, &setup.features) {
                    (Some(x), Some(ys)) => Some(sq_distances(x, &ys[s])),
                    _ => None,
                };
                let linear = distances
                    .as_ref()
                    .map(|m| DenseCost::new(m.view()))
                    .transpose()?;
                if let Some(m) = &linear {
                    problem = problem.fused(m, self.alpha)?;
                }
                let start = plans[s].as_ref().filter(|_| self.warm_start);
                let out = self
                    .solver
                    .solve_with(&problem, start.map(|p| p.view()), &quiet)?;
                inner_converged &= out.converged();
                objective += setup.lambdas[s] * out.loss();
                loss_trace.push(out.loss());
                plans[s] = Some(out.into_plan());
            }
            let plans_now: Vec<&Array2<f64>> = plans.iter().flatten().collect();
            let mut error = 0.0f64;
            if !self.fixed_structure {
                let next = update(
                    self.loss,
                    &plans_now,
                    setup.update_costs(),
                    &setup.lambdas,
                    setup.weights.view(),
                );
                finite_update(&next, "cost", k, epsilon)?;
                error = error.max(frobenius_distance(&next, &cost));
                cost = next;
            }
            if let (Some(x), Some(ys), false) = (&features, &setup.features, self.fixed_features) {
                let next = feature_update(&plans_now, ys, &setup.lambdas, setup.weights.view());
                finite_update(&next, "features", k, epsilon)?;
                error = error.max(frobenius_distance(&next, x));
                features = Some(next);
            }
            let error = match self.stop {
                BarycenterStop::CostChange => error,
                BarycenterStop::LossChange => relative_change(previous, objective),
            };
            previous = Some(objective);
            trace.push(error);
            observer.step(&Progress {
                iteration: k + 1,
                max_iterations: self.max_iterations,
                error,
                epsilon,
            })?;
            if error <= self.tolerance {
                converged = true;
                break;
            }
        }
        let plans: Vec<Array2<f64>> = plans.into_iter().flatten().collect();
        let mut gw_losses = self.gw_losses(&cost, setup.weights.view(), inputs, &geoms, &plans)?;
        if let (Some(x), Some(ys)) = (&features, &setup.features) {
            for ((loss, plan), y) in gw_losses.iter_mut().zip(&plans).zip(ys) {
                let linear = (&sq_distances(x, y) * plan).sum();
                *loss = self.alpha * *loss + (1.0 - self.alpha) * linear;
            }
        }
        let loss = setup
            .lambdas
            .iter()
            .zip(&gw_losses)
            .map(|(l, g)| l * g)
            .sum();
        Ok(GwBarycenterOutput {
            cost,
            features,
            weights: setup.weights,
            plans,
            gw_losses,
            loss,
            converged: converged && inner_converged,
            iterations: trace.len(),
            trace,
            loss_trace,
        })
    }

    /// `GW(C, C_s)` for the given plans (those of the returned pair `(C, T_s)`, which the
    /// update can only have lowered).
    fn gw_losses(
        &self,
        cost: &Array2<f64>,
        weights: ArrayView1<'_, f64>,
        inputs: &[GwBarycenterInput<'_>],
        geoms: &[DenseCost<'_>],
        plans: &[Array2<f64>],
    ) -> Result<Array1<f64>> {
        let bary = DenseCost::new(cost.view())?;
        let mut losses = Array1::zeros(inputs.len());
        for (s, ((input, geom), plan)) in inputs.iter().zip(geoms).zip(plans).enumerate() {
            let problem = QuadraticProblem::new(&bary, geom, weights, input.weights.view())?
                .with_loss(self.loss);
            let tensor = GwTensor::new(
                &problem,
                self.solver.memory_limit(),
                self.solver.low_rank_costs(),
            )?;
            let prod = tensor.products(plan.view())?;
            losses[s] = tensor.loss(plan.view(), &prod);
        }
        Ok(losses)
    }

    /// Validates the settings and the inputs; materializes the costs once.
    fn checked(&self, inputs: &[GwBarycenterInput<'_>]) -> Result<Setup> {
        if self.size == 0 {
            return Err(Error::invalid("size", "must be >= 1", 0));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        if self.tolerance.is_nan() || self.tolerance < 0.0 {
            return Err(Error::invalid("tolerance", "must be >= 0", self.tolerance));
        }
        if inputs.is_empty() {
            return Err(Error::Empty {
                arg: "inputs",
                what: "input cost",
            });
        }
        let n = self.size;
        let weights = match &self.weights {
            Some(w) => {
                if w.len() != n {
                    return Err(Error::Shape {
                        arg: "weights",
                        expected: format!("length {n} (the barycenter size)"),
                        got: format!("length {}", w.len()),
                    });
                }
                validate::weights("weights", w.view())?;
                if let Some((i, &v)) = w.iter().enumerate().find(|(_, v)| **v <= 0.0) {
                    return Err(Error::InvalidParameter {
                        arg: "weights",
                        requirement: "positive barycenter weights (a point of weight 0 has no cost)",
                        value: format!("{v} at [{i}]"),
                    });
                }
                w.clone()
            }
            None => Array1::from_elem(n, 1.0 / n as f64),
        };
        let mass = validate::compensated_sum(weights.iter().copied());
        let lambdas = checked_lambdas(self.lambdas.as_deref(), inputs.len())?;
        let memory_limit = self.solver.memory_limit();
        let mut costs = Vec::with_capacity(inputs.len());
        for (s, input) in inputs.iter().enumerate() {
            let c = checked_input(s, input, self.loss, mass, memory_limit)?;
            costs.push(c);
        }
        let log_costs = (self.loss == GwLoss::Kl).then(|| {
            costs
                .iter()
                .map(|c| c.mapv(|v| v.max(KL_FLOOR).ln()))
                .collect()
        });
        let start = match &self.init {
            BarycenterInit::Random { seed } => random_cost(n, *seed),
            BarycenterInit::Cost(c) => {
                if c.dim() != (n, n) {
                    return Err(Error::Shape {
                        arg: "init",
                        expected: format!("{n} × {n} (the barycenter size)"),
                        got: format!("{} × {}", c.nrows(), c.ncols()),
                    });
                }
                validate::finite_matrix("init", c.view())?;
                if self.loss == GwLoss::Kl
                    && let Some(((i, j), &v)) = c.indexed_iter().find(|(_, v)| **v < 0.0)
                {
                    return Err(Error::InvalidParameter {
                        arg: "init",
                        requirement: "non-negative costs for the KL loss",
                        value: format!("{v} at [{i}, {j}]"),
                    });
                }
                c.clone()
            }
        };
        if self.fixed_structure && !matches!(self.init, BarycenterInit::Cost(_)) {
            return Err(Error::InvalidParameter {
                arg: "init",
                requirement: "the costs to keep (BarycenterInit::Cost) when fixed_structure is set",
                value: "a random start".into(),
            });
        }
        let (features, start_features) = self.checked_features(inputs)?;
        Ok(Setup {
            weights,
            lambdas,
            costs,
            log_costs,
            start,
            features,
            start_features,
        })
    }

    /// The inputs' features (all or none, of one width, finite) and the starting `X`.
    #[allow(clippy::type_complexity)]
    fn checked_features(
        &self,
        inputs: &[GwBarycenterInput<'_>],
    ) -> Result<(Option<Vec<Array2<f64>>>, Option<Array2<f64>>)> {
        let given = inputs.iter().filter(|i| i.features.is_some()).count();
        if given == 0 {
            if self.fixed_features {
                return Err(Error::InvalidParameter {
                    arg: "fixed_features",
                    requirement: "inputs with features (a fused barycenter)",
                    value: "true, but no input has features".into(),
                });
            }
            if self.init_features.is_some() {
                return Err(Error::InvalidParameter {
                    arg: "init_features",
                    requirement: "inputs with features (a fused barycenter)",
                    value: "given, but no input has features".into(),
                });
            }
            return Ok((None, None));
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(Error::invalid("alpha", "must be in [0, 1]", self.alpha));
        }
        let fail = |requirement: &'static str, value: String| Error::InvalidParameter {
            arg: "inputs",
            requirement,
            value,
        };
        let mut ys = Vec::with_capacity(inputs.len());
        let mut width = None;
        for (s, input) in inputs.iter().enumerate() {
            let Some(y) = input.features else {
                return Err(fail(
                    "features on every input or on none",
                    format!("input {s} has none, {given} of {} have", inputs.len()),
                ));
            };
            let n = input.cost.shape().0;
            if y.nrows() != n || y.ncols() == 0 {
                return Err(fail(
                    "one row of features per point",
                    format!(
                        "input {s}: {} × {} features for {n} points",
                        y.nrows(),
                        y.ncols()
                    ),
                ));
            }
            let d = *width.get_or_insert(y.ncols());
            if y.ncols() != d {
                return Err(fail(
                    "features of one width",
                    format!("input {s} has {} columns, input 0 has {d}", y.ncols()),
                ));
            }
            if let Some(((i, j), v)) = y.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(fail(
                    "finite features",
                    format!("input {s}: {v} at [{i}, {j}]"),
                ));
            }
            ys.push(y.to_owned());
        }
        let d = width.unwrap_or(0);
        let start = match &self.init_features {
            Some(x) => {
                if x.dim() != (self.size, d) {
                    return Err(Error::Shape {
                        arg: "init_features",
                        expected: format!("{} × {d} (barycenter size × feature width)", self.size),
                        got: format!("{} × {}", x.nrows(), x.ncols()),
                    });
                }
                validate::finite_matrix("init_features", x.view())?;
                x.clone()
            }
            None if self.fixed_features => {
                return Err(Error::InvalidParameter {
                    arg: "init_features",
                    requirement: "the features to keep when fixed_features is set",
                    value: "none".into(),
                });
            }
            None => Array2::zeros((self.size, d)),
        };
        Ok((Some(ys), Some(start)))
    }
}

/// Validated data of a solve.
struct Setup {
    weights: Array1<f64>,
    lambdas: Vec<f64>,
    /// `C_s`, materialized.
    costs: Vec<Array2<f64>>,
    /// `log max(C_s, 1e-16)`, what the KL update averages.
    log_costs: Option<Vec<Array2<f64>>>,
    start: Array2<f64>,
    /// `Y_s` of a fused barycenter.
    features: Option<Vec<Array2<f64>>>,
    /// The starting `X` of a fused barycenter.
    start_features: Option<Array2<f64>>,
}

impl Setup {
    /// What the update averages: `C_s` (square loss) or `log C_s` (KL loss).
    fn update_costs(&self) -> &[Array2<f64>] {
        self.log_costs.as_deref().unwrap_or(&self.costs)
    }
}

fn checked_lambdas(lambdas: Option<&[f64]>, count: usize) -> Result<Vec<f64>> {
    let Some(l) = lambdas else {
        return Ok(vec![1.0 / count as f64; count]);
    };
    if l.len() != count {
        return Err(Error::Shape {
            arg: "lambdas",
            expected: format!("length {count} (one per input)"),
            got: format!("length {}", l.len()),
        });
    }
    if let Some((s, &v)) = l
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
    {
        return Err(Error::InvalidParameter {
            arg: "lambdas",
            requirement: "finite and >= 0",
            value: format!("{v} at [{s}]"),
        });
    }
    if l.iter().sum::<f64>() <= 0.0 {
        return Err(Error::invalid("lambdas", "must have a positive sum", 0.0));
    }
    Ok(l.to_vec())
}

/// Input `s`'s costs, materialized, after checking them and its weights.
fn checked_input(
    s: usize,
    input: &GwBarycenterInput<'_>,
    loss: GwLoss,
    mass: f64,
    memory_limit: usize,
) -> Result<Array2<f64>> {
    let fail = |requirement: &'static str, detail: String| Error::InvalidParameter {
        arg: "inputs",
        requirement,
        value: format!("input {s}: {detail}"),
    };
    let (r, c) = input.cost.shape();
    if r != c {
        return Err(fail("square costs", format!("{r} × {c}")));
    }
    if input.weights.len() != r {
        return Err(fail(
            "one weight per point",
            format!("{} weights for {r} points", input.weights.len()),
        ));
    }
    let input_mass = validate::weights("inputs", input.weights)
        .map_err(|e| fail("valid weights", e.to_string()))?;
    if (input_mass - mass).abs() > MASS_TOLERANCE * input_mass.max(mass) {
        return Err(fail(
            "weights of the same mass as the barycenter weights",
            format!("mass {input_mass}, barycenter mass {mass}"),
        ));
    }
    let matrix = input.cost.cost_matrix(memory_limit)?;
    if let Some(((i, j), &v)) = matrix
        .indexed_iter()
        .find(|(_, v)| !v.is_finite() || (loss == GwLoss::Kl && **v < 0.0))
    {
        let requirement = if v.is_finite() {
            "non-negative costs for the KL loss"
        } else {
            "finite costs"
        };
        return Err(fail(requirement, format!("{v} at [{i}, {j}]")));
    }
    Ok(matrix)
}

/// `|L − L_prev| / |L_prev|` (`0` when both are `0`, `+∞` at the first iteration).
fn relative_change(previous: Option<f64>, current: f64) -> f64 {
    match previous {
        None => f64::INFINITY,
        Some(prev) if current == prev => 0.0,
        Some(prev) => (current - prev).abs() / prev.abs(),
    }
}

/// The minimizer over `C` of `Σ_s λ_s Σ_ijkl L(C_ij, C^s_kl) T^s_ik T^s_jl` for fixed plans:
/// `A = Σ_s λ̂_s T_s K_s T_sᵀ ⊘ ppᵀ` with `K_s = C_s` (square loss, `C = A`) or
/// `K_s = log C_s` (KL loss, `C = exp A`), `λ̂ = λ/Σλ`. Setting the derivative in `C_ij`
/// to zero gives `C_ij·Σ_s λ_s p_i p_j = Σ_s λ_s (T_s C_s T_sᵀ)_ij`, since `T_s 1 = p`.
fn update(
    loss: GwLoss,
    plans: &[&Array2<f64>],
    costs: &[Array2<f64>],
    lambdas: &[f64],
    p: ArrayView1<'_, f64>,
) -> Array2<f64> {
    let n = p.len();
    let total: f64 = lambdas.iter().sum();
    let mut acc = Array2::zeros((n, n));
    for ((t, k), &lambda) in plans.iter().zip(costs).zip(lambdas) {
        if lambda == 0.0 {
            continue;
        }
        // K_s·T_sᵀ (n_s × N), then T_s·(K_s·T_sᵀ) added into the sum.
        let mut kt = Array2::zeros((k.nrows(), n));
        gemm::matmul_par(kt.view_mut(), k.view(), t.t(), 1.0, false);
        gemm::matmul_par(acc.view_mut(), t.view(), kt.view(), lambda / total, true);
    }
    acc.indexed_iter_mut()
        .for_each(|((i, j), v)| *v /= p[i] * p[j]);
    if loss == GwLoss::Kl {
        acc.mapv_inplace(f64::exp);
    }
    acc
}

/// `X = Σ_s λ̂_s diag(1/p)·T_s·Y_s`, the minimizer over `X` of
/// `Σ_s λ_s Σ_ij ‖x_i − y^s_j‖² T^s_ij` for fixed plans (`T_s 1 = p`).
fn feature_update(
    plans: &[&Array2<f64>],
    features: &[Array2<f64>],
    lambdas: &[f64],
    p: ArrayView1<'_, f64>,
) -> Array2<f64> {
    let total: f64 = lambdas.iter().sum();
    let mut acc = Array2::zeros((p.len(), features[0].ncols()));
    for ((t, y), &lambda) in plans.iter().zip(features).zip(lambdas) {
        if lambda != 0.0 {
            gemm::matmul_par(acc.view_mut(), t.view(), y.view(), lambda / total, true);
        }
    }
    Zip::from(acc.rows_mut())
        .and(p)
        .for_each(|mut row, &w| row /= w);
    acc
}

/// `M_ij = ‖x_i − y_j‖²`, by differences (exact zeros for equal points).
fn sq_distances(x: &Array2<f64>, y: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn((x.nrows(), y.nrows()), |(i, j)| {
        x.row(i)
            .iter()
            .zip(y.row(j))
            .map(|(a, b)| (a - b) * (a - b))
            .sum()
    })
}

/// `‖A − B‖_F`.
fn frobenius_distance(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    Zip::from(a)
        .and(b)
        .fold(0.0, |acc, x, y| acc + (x - y) * (x - y))
        .sqrt()
}

/// [`Error::Numerical`] when an update overflowed.
fn finite_update(next: &Array2<f64>, what: &str, k: usize, epsilon: f64) -> Result<()> {
    match next.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), v)) => Err(Error::Numerical {
            solver: "GW barycenter",
            iteration: k + 1,
            epsilon,
            detail: format!("the updated barycenter {what} is {v} at [{i}, {j}]"),
        }),
        None => Ok(()),
    }
}

/// POT's random start: squared distances between `n` standard Gaussian points of the
/// plane, divided by the largest (all zero for `n = 1`).
fn random_cost(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, 2), || rng.sample::<f64, _>(StandardNormal));
    let mut c = Array2::from_shape_fn((n, n), |(i, j)| {
        (x[[i, 0]] - x[[j, 0]]).powi(2) + (x[[i, 1]] - x[[j, 1]]).powi(2)
    });
    let max = c.iter().fold(0.0f64, |m, &v| m.max(v));
    if max > 0.0 {
        c /= max;
    }
    c
}

/// The result of a GW barycenter solve.
#[derive(Debug, Clone)]
pub struct GwBarycenterOutput {
    cost: Array2<f64>,
    features: Option<Array2<f64>>,
    weights: Array1<f64>,
    plans: Vec<Array2<f64>>,
    gw_losses: Array1<f64>,
    loss: f64,
    converged: bool,
    iterations: usize,
    trace: Vec<f64>,
    loss_trace: Vec<f64>,
}

impl GwBarycenterOutput {
    /// The barycenter's costs `C` (`N × N`), defined up to a permutation of its points.
    pub fn cost(&self) -> ArrayView2<'_, f64> {
        self.cost.view()
    }

    /// Takes the costs out.
    pub fn into_cost(self) -> Array2<f64> {
        self.cost
    }

    /// The barycenter's features `X` (`N × d`) of a fused barycenter, in the order of the
    /// rows of [`cost`](Self::cost).
    pub fn features(&self) -> Option<ArrayView2<'_, f64>> {
        self.features.as_ref().map(|x| x.view())
    }

    /// The barycenter weights `p`.
    pub fn weights(&self) -> ArrayView1<'_, f64> {
        self.weights.view()
    }

    /// The plans `T_s` (`N × n_s`) of the last iteration, between the barycenter and each
    /// input.
    pub fn plans(&self) -> &[Array2<f64>] {
        &self.plans
    }

    /// `GW_s = Σ L(C_ij, C^s_kl) T^s_ik T^s_jl` for the returned `C` and plans, per input;
    /// for a fused barycenter `α·GW_s + (1 − α)·Σ ‖x_i − y^s_j‖² T^s_ij` with the returned `X`.
    pub fn gw_losses(&self) -> ArrayView1<'_, f64> {
        self.gw_losses.view()
    }

    /// The objective `Σ_s λ_s·GW_s` (with the lambdas as given; fused losses when fused).
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// Whether the stopping rule was met and every plan solve of the last iteration
    /// converged.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Outer iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Per iteration, the stopping rule's value: `‖C_{k+1} − C_k‖_F` or the objective's
    /// relative change (`+∞` at the first iteration).
    pub fn trace(&self) -> &[f64] {
        &self.trace
    }

    /// Per iteration (rows) and input (columns), the GW loss (fused: FGW loss) of the plan
    /// solved at that iteration, against the barycenter before its update.
    pub fn loss_trace(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.iterations, self.plans.len()), &self.loss_trace)
            .expect("one loss per input and iteration")
    }
}
