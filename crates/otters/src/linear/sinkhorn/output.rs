//! [`SinkhornOutput`]: the potentials of a Sinkhorn solve and everything derived from them.
//!
//! Costs follow the KL-to-`a⊗b` convention of ALGORITHMS.md L3/L7: the dual objective
//! `Σ −φ*(−f) + Σ −φ*(−g) − ε(ΣP − Σa·Σb)` is [`reg_ot_cost`](SinkhornOutput::reg_ot_cost)
//! (OTT's `reg_ot_cost`), `⟨C, P⟩` is [`linear_cost`](SinkhornOutput::linear_cost) (POT's
//! `sinkhorn2`). Gradients use the envelope theorem (ALGORITHMS.md X1); the entropic map is
//! Pooladian & Niles-Weed (2021), ALGORITHMS.md M1.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{Axis, CostFn, Geometry, LogPlan, PointCloud};
use crate::linear::{LinearProblem, MarginalPenalty};
use crate::validate::{DEFAULT_MEMORY_LIMIT, compensated_sum};

/// The result of [`Sinkhorn::solve`](super::Sinkhorn::solve).
///
/// It owns numbers only; queries that need the cost take the problem (or the point cloud)
/// again and check its shape.
#[derive(Debug, Clone)]
pub struct SinkhornOutput {
    f: Array1<f64>,
    g: Array1<f64>,
    a: Array1<f64>,
    b: Array1<f64>,
    penalty_a: MarginalPenalty,
    penalty_b: MarginalPenalty,
    /// `P1 / a` and `Pᵀ1 / b` for the returned potentials.
    ratio_a: Array1<f64>,
    ratio_b: Array1<f64>,
    /// `log a + f/ε` and `log b + g/ε`.
    log_row: Array1<f64>,
    log_col: Array1<f64>,
    epsilon: f64,
    converged: bool,
    errors: Vec<f64>,
    threshold: f64,
    mass_rescale: Option<f64>,
}

impl SinkhornOutput {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        problem: &LinearProblem<'_>,
        f: Array1<f64>,
        g: Array1<f64>,
        ratio_a: Array1<f64>,
        ratio_b: Array1<f64>,
        epsilon: f64,
        converged: bool,
        errors: Vec<f64>,
        threshold: f64,
    ) -> Self {
        let log_factor = |w: ArrayView1<'_, f64>, p: &Array1<f64>| {
            Array1::from_iter(w.iter().zip(p).map(|(&w, &p)| {
                if w > 0.0 {
                    w.ln() + p / epsilon
                } else {
                    f64::NEG_INFINITY
                }
            }))
        };
        let (penalty_a, penalty_b) = problem.penalties();
        SinkhornOutput {
            log_row: log_factor(problem.a(), &f),
            log_col: log_factor(problem.b(), &g),
            a: problem.a().to_owned(),
            b: problem.b().to_owned(),
            f,
            g,
            penalty_a,
            penalty_b,
            ratio_a,
            ratio_b,
            epsilon,
            converged,
            errors,
            threshold,
            mass_rescale: problem.mass_rescale(),
        }
    }

    /// Source potential `f` (length `n`), in cost units. For a point of zero weight it is
    /// the c-transform of `g` (so the entropic map and gradients are defined there too).
    pub fn f(&self) -> ArrayView1<'_, f64> {
        self.f.view()
    }

    /// Target potential `g` (length `m`), in cost units.
    pub fn g(&self) -> ArrayView1<'_, f64> {
        self.g.view()
    }

    /// `P1 / a` for the returned potentials (1 where a hard marginal is met).
    pub(crate) fn ratio_a(&self) -> ArrayView1<'_, f64> {
        self.ratio_a.view()
    }

    /// `Pᵀ1 / b` for the returned potentials.
    pub(crate) fn ratio_b(&self) -> ArrayView1<'_, f64> {
        self.ratio_b.view()
    }

    /// Whether the marginal error reached the threshold at the target ε.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Iterations done (each one updates both potentials).
    pub fn iterations(&self) -> usize {
        self.errors.len()
    }

    /// The marginal L1 error after every iteration.
    pub fn errors(&self) -> &[f64] {
        &self.errors
    }

    /// The marginal L1 error of the returned potentials.
    pub fn marginal_error(&self) -> f64 {
        self.errors.last().copied().unwrap_or(f64::INFINITY)
    }

    /// The ε of the returned potentials (the target ε unless ε-scaling was cut short).
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The threshold the solve was run with.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// `Some(Σa/Σb)` when the problem rescaled `b` to match masses within tolerance.
    pub fn mass_rescale(&self) -> Option<f64> {
        self.mass_rescale
    }

    /// `Ok(self)` if converged, else [`Error::NotConverged`].
    ///
    /// # Errors
    /// [`Error::NotConverged`] with the iteration count and the error reached.
    pub fn require_converged(&self) -> Result<&Self> {
        if self.converged {
            Ok(self)
        } else {
            Err(Error::NotConverged {
                solver: "sinkhorn",
                iterations: self.iterations(),
                error: self.marginal_error(),
                threshold: self.threshold,
            })
        }
    }

    /// The marginals of the plan, `(P1, Pᵀ1)`.
    pub fn marginals(&self) -> (Array1<f64>, Array1<f64>) {
        (&self.a * &self.ratio_a, &self.b * &self.ratio_b)
    }

    /// The plan in log form, `P_ij = exp(log a_i + f_i/ε + log b_j + g_j/ε − C_ij/ε)`.
    pub fn log_plan(&self) -> LogPlan<'_> {
        LogPlan {
            log_row: self.log_row.view(),
            log_col: self.log_col.view(),
            epsilon: self.epsilon,
        }
    }

    /// Total mass of the plan, `ΣP`.
    pub fn plan_mass(&self) -> f64 {
        compensated_sum(self.a.iter().zip(&self.ratio_a).map(|(a, r)| a * r))
    }

    /// The regularized cost: the dual objective
    /// `Σ_i −φ_a*(−f_i) + Σ_j −φ_b*(−g_j) − ε(ΣP − Σa·Σb)`, where `−φ*(−f) = a·f` for a hard
    /// marginal and `−ρ·a·(e^{−f/ρ} − 1)` for a KL one. For balanced problems at convergence,
    /// `⟨a, f⟩ + ⟨b, g⟩`.
    pub fn reg_ot_cost(&self) -> f64 {
        let dual = |w: &Array1<f64>, p: &Array1<f64>, penalty: MarginalPenalty| {
            compensated_sum(
                w.iter()
                    .zip(p)
                    .filter(|(w, _)| **w > 0.0)
                    .map(|(&w, &f)| penalty.dual_term(w, f)),
            )
        };
        let (mass_a, mass_b) = (self.a.sum(), self.b.sum());
        dual(&self.a, &self.f, self.penalty_a) + dual(&self.b, &self.g, self.penalty_b)
            - self.epsilon * (self.plan_mass() - mass_a * mass_b)
    }

    /// The primal objective `⟨C, P⟩ + ε·KL(P | a⊗b) + D_a(P1 | a) + D_b(Pᵀ1 | b)` of the plan
    /// of the returned potentials (computed from the marginals, without a sweep). It is
    /// `≥` [`reg_ot_cost`](Self::reg_ot_cost) up to the marginal error of hard sides.
    pub fn primal_cost(&self) -> f64 {
        let side =
            |w: &Array1<f64>, r: &Array1<f64>, pot: &Array1<f64>, penalty: MarginalPenalty| {
                compensated_sum(
                    w.iter()
                        .zip(r)
                        .zip(pot)
                        .filter(|((w, _), _)| **w > 0.0)
                        .map(|((&w, &r), &f)| {
                            let p = w * r;
                            f * p + penalty.divergence(p, w)
                        }),
                )
            };
        let (mass_a, mass_b) = (self.a.sum(), self.b.sum());
        side(&self.a, &self.ratio_a, &self.f, self.penalty_a)
            + side(&self.b, &self.ratio_b, &self.g, self.penalty_b)
            - self.epsilon * (self.plan_mass() - mass_a * mass_b)
    }

    fn check_geometry(&self, geom: &dyn Geometry) -> Result<()> {
        let want = (self.f.len(), self.g.len());
        if geom.shape() == want {
            Ok(())
        } else {
            Err(Error::Shape {
                arg: "problem",
                expected: format!("a {} x {} cost (the solved problem)", want.0, want.1),
                got: format!("{} x {}", geom.shape().0, geom.shape().1),
            })
        }
    }

    /// `⟨C, P⟩`, the transport cost of the plan without the entropy (POT's `sinkhorn2`).
    ///
    /// # Errors
    /// [`Error::Shape`] if `problem` does not have the solved shape.
    pub fn linear_cost(&self, problem: &LinearProblem<'_>) -> Result<f64> {
        self.check_geometry(problem.geom())?;
        problem.geom().plan_dot_cost(&self.log_plan())
    }

    /// The plan `P` as a dense matrix (at most [`DEFAULT_MEMORY_LIMIT`] bytes).
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the limit (use [`apply_plan`](Self::apply_plan) instead);
    /// [`Error::Shape`] for a problem of another shape.
    pub fn plan(&self, problem: &LinearProblem<'_>) -> Result<Array2<f64>> {
        self.plan_within(problem, DEFAULT_MEMORY_LIMIT)
    }

    /// The plan `P` as a dense matrix, refused above `limit_bytes`.
    ///
    /// # Errors
    /// As [`plan`](Self::plan).
    pub fn plan_within(
        &self,
        problem: &LinearProblem<'_>,
        limit_bytes: usize,
    ) -> Result<Array2<f64>> {
        self.check_geometry(problem.geom())?;
        problem.geom().plan_matrix(&self.log_plan(), limit_bytes)
    }

    /// `P·V` (`Axis::Rows`, `V` is `m × k`) or `Pᵀ·V` (`Axis::Cols`, `V` is `n × k`), without
    /// materializing `P`.
    ///
    /// # Errors
    /// [`Error::Shape`] for mismatched shapes.
    pub fn apply_plan(
        &self,
        problem: &LinearProblem<'_>,
        axis: Axis,
        v: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        self.check_geometry(problem.geom())?;
        let rows = match axis {
            Axis::Rows => self.f.len(),
            Axis::Cols => self.g.len(),
        };
        let mut out = Array2::zeros((rows, v.ncols()));
        problem
            .geom()
            .apply_plan(axis, &self.log_plan(), v, out.view_mut())?;
        Ok(out)
    }

    /// The entropic map `T(x) = Σ_j w_j(x)·y_j` with
    /// `w_j(x) = softmax_j(log b_j + (g_j − c(x, y_j))/ε)`, evaluated at new points `x`
    /// (`k × d`); `cloud` is the geometry that was solved. For the squared Euclidean cost this
    /// estimates the Brenier map; for other costs it is the barycentric projection.
    ///
    /// # Errors
    /// [`Error::Shape`] when `cloud` is not the solved geometry's shape or `x` has another
    /// dimension; the point errors of [`PointCloud::new`].
    pub fn entropic_map<C: CostFn>(
        &self,
        cloud: &PointCloud<C>,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        self.check_geometry(cloud)?;
        let new = cloud.with_source(x)?;
        let mut f_new = Array1::zeros(x.nrows());
        new.softmin(
            Axis::Rows,
            self.epsilon,
            self.log_col.view(),
            f_new.view_mut(),
        )?;
        let log_row = f_new.mapv(|f| f / self.epsilon);
        let plan = LogPlan {
            log_row: log_row.view(),
            log_col: self.log_col.view(),
            epsilon: self.epsilon,
        };
        let mut out = Array2::zeros((x.nrows(), cloud.y().ncols()));
        new.apply_plan(Axis::Rows, &plan, cloud.y(), out.view_mut())?;
        Ok(out)
    }

    /// Gradient of [`reg_ot_cost`](Self::reg_ot_cost) with respect to the source weights:
    /// `∂/∂a_i = −φ_a*'(…) − ε(r_i − Σb)` with `r = P1/a`. For a balanced problem the weights
    /// live on a simplex, so the gradient is projected onto it (centered).
    pub fn grad_a(&self) -> Array1<f64> {
        self.weight_gradient(&self.f, &self.ratio_a, self.penalty_a, self.b.sum())
    }

    /// Gradient of [`reg_ot_cost`](Self::reg_ot_cost) with respect to the target weights
    /// (see [`grad_a`](Self::grad_a)).
    pub fn grad_b(&self) -> Array1<f64> {
        self.weight_gradient(&self.g, &self.ratio_b, self.penalty_b, self.a.sum())
    }

    fn weight_gradient(
        &self,
        pot: &Array1<f64>,
        ratio: &Array1<f64>,
        penalty: MarginalPenalty,
        other_mass: f64,
    ) -> Array1<f64> {
        let mut grad = Array1::from_iter(
            pot.iter()
                .zip(ratio)
                .map(|(&f, &r)| penalty.weight_gradient(f) - self.epsilon * (r - other_mass)),
        );
        if self.penalty_a.is_hard() && self.penalty_b.is_hard() {
            let mean = grad.mean().unwrap_or(0.0);
            grad -= mean;
        }
        grad
    }

    /// Gradient of [`reg_ot_cost`](Self::reg_ot_cost) with respect to the source points,
    /// `∂/∂x_i = Σ_j P_ij·∇ₓc(x_i, y_j)` (envelope theorem; the cost scale is held fixed).
    ///
    /// # Errors
    /// [`Error::Shape`] for another geometry; [`Error::InvalidParameter`] for a cost
    /// without gradient.
    pub fn grad_x<C: CostFn>(&self, cloud: &PointCloud<C>) -> Result<Array2<f64>> {
        self.check_geometry(cloud)?;
        cloud.plan_weighted_gradient(Axis::Rows, &self.log_plan())
    }

    /// Gradient of [`reg_ot_cost`](Self::reg_ot_cost) with respect to the target points.
    ///
    /// # Errors
    /// As [`grad_x`](Self::grad_x).
    pub fn grad_y<C: CostFn>(&self, cloud: &PointCloud<C>) -> Result<Array2<f64>> {
        self.check_geometry(cloud)?;
        cloud.plan_weighted_gradient(Axis::Cols, &self.log_plan())
    }
}
