//! Sinkhorn divergences, balanced and unbalanced, and the kernel discrepancies they
//! interpolate: energy distance and Gaussian MMD. ALGORITHMS.md D1.
//!
//! `S_ε(α, β) = OT_ε(α, β) − ½·OT_ε(α, α) − ½·OT_ε(β, β) + ε/2·(m(α) − m(β))²`, where `OT_ε`
//! is the dual objective of [`SinkhornOutput::reg_ot_cost`] (the KL-to-`a⊗b` convention,
//! which makes `S_ε ≥ 0` and `S_ε(α, α) = 0`; Ramdas, García Trillos, Cuturi 2017; Genevay,
//! Peyré, Cuturi 2018; Feydy et al. 2019). The mass term is zero for balanced problems; with
//! KL-relaxed marginals it is the unbalanced divergence of Séjourné, Feydy, Vialard, Trouvé,
//! Peyré (2019), whose mass terms it cancels. The two symmetric terms are solved with the
//! averaged update `f ← ½(f + T(f))` on one potential (Feydy et al. 2019), which converges in
//! a few sweeps where the asymmetric iteration oscillates.
//!
//! The kernel discrepancies `½⟨α − β, k ⋆ (α − β)⟩` use GeomLoss's conventions:
//! `k(x, y) = −‖x − y‖` (energy distance) and `k(x, y) = exp(−‖x − y‖²/(2σ²))` (Gaussian MMD).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{Axis, CostFn, Euclidean, Geometry, LogPlan, PointCloud, SqEuclidean};
use crate::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn, SinkhornOutput};
use crate::observe::{Observer, Progress};
use crate::validate::{self, compensated_sum};

/// The Sinkhorn divergence solver: the settings of the cross term's [`Sinkhorn`] solve; the
/// two symmetric terms use the same ε (resolved once, on the cross cost), threshold and
/// iteration budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SinkhornDivergence {
    /// Settings of the three solves. A relative ε is resolved on the cross cost `C(x, y)`
    /// and the absolute value is used for all three terms.
    pub sinkhorn: Sinkhorn,
}

impl SinkhornDivergence {
    /// Default [`Sinkhorn`] settings with the given ε.
    pub fn new(epsilon: Epsilon) -> Self {
        SinkhornDivergence {
            sinkhorn: Sinkhorn::new(epsilon),
        }
    }

    /// `S_ε(α, β)` for the cross problem `xy` (its weights and marginal penalties) and the
    /// symmetric costs `xx` (`n × n`, `C(x_i, x_j)`) and `yy` (`m × m`). The costs must be
    /// symmetric (as every ground cost of otters is between a cloud and itself).
    ///
    /// # Errors
    /// [`Error::Shape`] naming `xx` or `yy` for a cost of the wrong shape;
    /// [`Error::InvalidParameter`] naming `problem` when the two marginal penalties differ
    /// (the divergence needs one penalty for both measures); the errors of
    /// [`Sinkhorn::solve`].
    pub fn solve(
        &self,
        xy: &LinearProblem<'_>,
        xx: &dyn Geometry,
        yy: &dyn Geometry,
    ) -> Result<DivergenceOutput> {
        self.solve_with(xy, xx, yy, &Observer::new())
    }

    /// [`solve`](Self::solve) reporting progress to `observer` (the cross solve, then the two
    /// symmetric ones) and stopping when it asks to.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        xy: &LinearProblem<'_>,
        xx: &dyn Geometry,
        yy: &dyn Geometry,
        observer: &Observer<'_>,
    ) -> Result<DivergenceOutput> {
        self.sinkhorn.check()?;
        let (n, m) = xy.geom().shape();
        check_square("xx", xx, n)?;
        check_square("yy", yy, m)?;
        let (penalty_a, penalty_b) = xy.penalties();
        if penalty_a != penalty_b {
            return Err(Error::invalid(
                "problem",
                "the Sinkhorn divergence needs the same marginal penalty on both sides",
                format!("{penalty_a:?} and {penalty_b:?}"),
            ));
        }
        let epsilon = self.sinkhorn.epsilon.resolve(|| xy.geom().summary())?;
        let settings = Sinkhorn {
            epsilon: Epsilon::Absolute(epsilon),
            ..self.sinkhorn
        };
        let cross = settings.solve_with(xy, None, observer)?;
        let sym = |geom: &dyn Geometry, w: ArrayView1<'_, f64>| {
            SymmetricSinkhorn {
                epsilon,
                threshold: settings.threshold,
                max_iterations: settings.max_iterations,
            }
            .solve(geom, w, penalty_a, observer)
        };
        let xx = sym(xx, xy.a())?;
        let yy = sym(yy, xy.b())?;
        let (mass_a, mass_b) = xy.masses();
        let value = cross.reg_ot_cost() - 0.5 * (xx.reg_ot_cost + yy.reg_ot_cost)
            + 0.5 * epsilon * (mass_a - mass_b).powi(2);
        Ok(DivergenceOutput {
            value,
            cross,
            xx,
            yy,
            penalty: penalty_a,
        })
    }

    /// `S_ε` between two point clouds with weights `a`, `b` (`None`: uniform), the ground
    /// cost of `cloud` (whose cost scale is reused for the symmetric terms), and one
    /// marginal `penalty` for both sides (`Hard` for the balanced divergence).
    ///
    /// # Errors
    /// As [`LinearProblem::unbalanced`] and [`solve`](Self::solve).
    pub fn solve_clouds<C: CostFn>(
        &self,
        cloud: &PointCloud<C>,
        a: Option<ArrayView1<'_, f64>>,
        b: Option<ArrayView1<'_, f64>>,
        penalty: MarginalPenalty,
    ) -> Result<DivergenceOutput> {
        let (n, m) = cloud.shape();
        let a = a.map_or_else(|| Array1::from_elem(n, 1.0 / n as f64), |a| a.to_owned());
        let b = b.map_or_else(|| Array1::from_elem(m, 1.0 / m as f64), |b| b.to_owned());
        let problem = LinearProblem::unbalanced(cloud, a, b, penalty, penalty)?;
        let xx = cloud.with_points(cloud.x(), cloud.x())?;
        let yy = cloud.with_points(cloud.y(), cloud.y())?;
        self.solve(&problem, &xx, &yy)
    }
}

fn check_square(arg: &'static str, geom: &dyn Geometry, n: usize) -> Result<()> {
    if geom.shape() == (n, n) {
        Ok(())
    } else {
        Err(Error::Shape {
            arg,
            expected: format!("a {n} x {n} cost"),
            got: format!("{} x {}", geom.shape().0, geom.shape().1),
        })
    }
}

/// The result of [`SinkhornDivergence::solve`]: the value and the three solves behind it.
#[derive(Debug, Clone)]
pub struct DivergenceOutput {
    value: f64,
    cross: SinkhornOutput,
    xx: SymmetricOutput,
    yy: SymmetricOutput,
    penalty: MarginalPenalty,
}

impl DivergenceOutput {
    /// `S_ε(α, β)`.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Whether all three solves met the threshold.
    pub fn converged(&self) -> bool {
        self.cross.converged() && self.xx.converged && self.yy.converged
    }

    /// The cross solve `OT_ε(α, β)`.
    pub fn cross(&self) -> &SinkhornOutput {
        &self.cross
    }

    /// The symmetric solve `OT_ε(α, α)`.
    pub fn xx(&self) -> &SymmetricOutput {
        &self.xx
    }

    /// The symmetric solve `OT_ε(β, β)`.
    pub fn yy(&self) -> &SymmetricOutput {
        &self.yy
    }

    /// Gradient of `S_ε` with respect to the source points `x` of `cloud` (the cross
    /// geometry that was solved): `∇ₓOT_ε(α, β) − ∇ₓOT_ε(α, α)/2`, where the symmetric term
    /// moves both of its arguments (envelope theorem; the cost scale is held fixed). For the
    /// squared Euclidean cost this is the gradient flow field of GeomLoss.
    ///
    /// # Errors
    /// [`Error::Shape`] for another geometry; [`Error::InvalidParameter`] for a cost without
    /// gradient.
    pub fn grad_x<C: CostFn>(&self, cloud: &PointCloud<C>) -> Result<Array2<f64>> {
        let mut grad = self.cross.grad_x(cloud)?;
        grad -= &self.xx.grad(&cloud.with_points(cloud.x(), cloud.x())?)?;
        Ok(grad)
    }

    /// Gradient of `S_ε` with respect to the source weights `a` (envelope theorem, every
    /// term's weights moving): `∂/∂a_i = φ'(f^{αβ}_i) − φ'(f^{αα}_i) − ε(r^{αβ}_i − r^{αα}_i)`,
    /// with `φ'(f) = f` for hard marginals (`ρ(1 − e^{−f/ρ})` for KL) and `r = P1/a` of each
    /// plan; the mass terms cancel. For the balanced divergence (defined on equal masses)
    /// the gradient is projected on the simplex (it sums to zero), as
    /// [`SinkhornOutput::grad_a`] does; at convergence it is then `f^{αβ} − f^{αα}` centred.
    pub fn grad_a(&self) -> Array1<f64> {
        self.weight_gradient(self.cross.f(), self.cross.ratio_a(), &self.xx)
    }

    /// Gradient of `S_ε` with respect to the target weights `b` (see [`grad_a`](Self::grad_a)).
    pub fn grad_b(&self) -> Array1<f64> {
        self.weight_gradient(self.cross.g(), self.cross.ratio_b(), &self.yy)
    }

    fn weight_gradient(
        &self,
        f: ArrayView1<'_, f64>,
        ratio: ArrayView1<'_, f64>,
        sym: &SymmetricOutput,
    ) -> Array1<f64> {
        let eps = sym.epsilon;
        let pen = self.penalty;
        let mut grad = Array1::from_iter((0..f.len()).map(|i| {
            pen.weight_gradient(f[i])
                - pen.weight_gradient(sym.f[i])
                - eps * (ratio[i] - sym.ratio[i])
        }));
        if pen.is_hard() {
            let mean = grad.mean().unwrap_or(0.0);
            grad -= mean;
        }
        grad
    }

    /// Gradient of `S_ε` with respect to the target points (see [`grad_x`](Self::grad_x)).
    ///
    /// # Errors
    /// As [`grad_x`](Self::grad_x).
    pub fn grad_y<C: CostFn>(&self, cloud: &PointCloud<C>) -> Result<Array2<f64>> {
        let mut grad = self.cross.grad_y(cloud)?;
        grad -= &self.yy.grad(&cloud.with_points(cloud.y(), cloud.y())?)?;
        Ok(grad)
    }
}

/// `OT_ε(α, α)` solved with one potential `f` (the plan `a_i a_j e^{(f_i + f_j − C_ij)/ε}`).
#[derive(Debug, Clone)]
pub struct SymmetricOutput {
    f: Array1<f64>,
    /// `P1 / a` of the symmetric plan.
    ratio: Array1<f64>,
    /// `log a + f/ε`.
    log_w: Array1<f64>,
    epsilon: f64,
    reg_ot_cost: f64,
    converged: bool,
    iterations: usize,
    error: f64,
}

impl SymmetricOutput {
    /// The potential (the same on both sides).
    pub fn f(&self) -> ArrayView1<'_, f64> {
        self.f.view()
    }

    /// `OT_ε(α, α)`, the dual objective (see [`SinkhornOutput::reg_ot_cost`]).
    pub fn reg_ot_cost(&self) -> f64 {
        self.reg_ot_cost
    }

    /// Whether the marginal error met the threshold.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Number of averaged updates.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The final L1 marginal error (same measure as [`Sinkhorn`]'s threshold).
    pub fn marginal_error(&self) -> f64 {
        self.error
    }

    /// `⟨C, P⟩` of the symmetric plan, the transport cost without the entropy (what POT's
    /// `empirical_sinkhorn_divergence` combines); `geom` is the symmetric cost that was solved.
    ///
    /// # Errors
    /// [`Error::Shape`] for a cost of another shape.
    pub fn linear_cost(&self, geom: &dyn Geometry) -> Result<f64> {
        check_square("geom", geom, self.f.len())?;
        geom.plan_dot_cost(&self.log_plan())
    }

    fn log_plan(&self) -> LogPlan<'_> {
        LogPlan {
            log_row: self.log_w.view(),
            log_col: self.log_w.view(),
            epsilon: self.epsilon,
        }
    }

    /// `Σ_j P_ij·∇ₓc(x_i, x_j)` for the symmetric plan, which is half the gradient of
    /// `OT_ε(α, α)` when both arguments move.
    fn grad<C: CostFn>(&self, cloud: &PointCloud<C>) -> Result<Array2<f64>> {
        cloud.plan_weighted_gradient(Axis::Rows, &self.log_plan())
    }
}

/// Entropic OT between a measure and itself by the averaged fixed-point iteration
/// `f ← ½(f + T(f))`, `T(f) = update(softmin_rows(log a + f/ε))`.
pub(crate) struct SymmetricSinkhorn {
    pub(crate) epsilon: f64,
    pub(crate) threshold: f64,
    pub(crate) max_iterations: usize,
}

impl SymmetricSinkhorn {
    pub(crate) fn solve(
        &self,
        geom: &dyn Geometry,
        a: ArrayView1<'_, f64>,
        penalty: MarginalPenalty,
        observer: &Observer<'_>,
    ) -> Result<SymmetricOutput> {
        let eps = self.epsilon;
        let n = a.len();
        let log_a = a.mapv(|w| if w > 0.0 { w.ln() } else { f64::NEG_INFINITY });
        // From f = 0, the first update is a full step f = T(0) (the c-transform of zero).
        let mut f: Array1<f64> = Array1::zeros(n);
        let mut first = true;
        let mut s = Array1::zeros(n);
        let mut h = Array1::zeros(n);
        let mut iterations = 0;
        let error = loop {
            h.zip_mut_with(&f, |h, f| *h = f / eps);
            h += &log_a;
            geom.softmin(Axis::Rows, eps, h.view(), s.view_mut())?;
            // Row marginal of the plan of (f, f): a_i·exp((f_i − s_i)/ε).
            let error = compensated_sum(
                a.iter()
                    .zip(&f)
                    .zip(&s)
                    .filter(|((w, _), _)| **w > 0.0)
                    .map(|((&w, &f), &s)| penalty.residual(w * ((f - s) / eps).exp(), w, f)),
            );
            if error.is_nan() || s.iter().any(|s| s.is_nan() || *s == f64::NEG_INFINITY) {
                return Err(Error::Numerical {
                    solver: "symmetric Sinkhorn",
                    iteration: iterations,
                    epsilon: eps,
                    detail:
                        "a potential is not finite (a point with no finite cost to the others?)"
                            .into(),
                });
            }
            observer.step(&Progress {
                iteration: iterations,
                max_iterations: self.max_iterations,
                error,
                epsilon: eps,
            })?;
            if error <= self.threshold || iterations == self.max_iterations {
                break error;
            }
            let weight = if first { 1.0 } else { 0.5 };
            first = false;
            f.zip_mut_with(&s, |f, &s| {
                *f += weight * (penalty.update(s, 0.0, eps) - *f);
            });
            iterations += 1;
        };
        let mass = compensated_sum(
            a.iter()
                .zip(&f)
                .zip(&s)
                .filter(|((w, _), _)| **w > 0.0)
                .map(|((&w, &f), &s)| w * ((f - s) / eps).exp()),
        );
        let dual = compensated_sum(
            a.iter()
                .zip(&f)
                .filter(|(w, _)| **w > 0.0)
                .map(|(&w, &f)| penalty.dual_term(w, f)),
        );
        let total = a.sum();
        let reg_ot_cost = 2.0 * dual - eps * (mass - total * total);
        let ratio = Array1::from_iter(f.iter().zip(&s).map(|(f, s)| ((f - s) / eps).exp()));
        Ok(SymmetricOutput {
            ratio,
            log_w: &log_a + &f.mapv(|f| f / eps),
            f,
            epsilon: eps,
            reg_ot_cost,
            converged: error <= self.threshold,
            iterations,
            error,
        })
    }
}

/// Energy distance `½⟨α − β, k ⋆ (α − β)⟩` with `k(x, y) = −‖x − y‖`, i.e.
/// `Σ a_i b_j ‖x_i − y_j‖ − ½Σ a_i a_j ‖x_i − x_j‖ − ½Σ b_i b_j ‖y_i − y_j‖` (GeomLoss's
/// `"energy"` loss; the limit of `S_ε` as ε → ∞ for the cost `‖x − y‖`). O(nm·d) time, no
/// matrix stored.
///
/// # Errors
/// [`Error::Shape`] / [`Error::NonFinite`] for bad points or weights, naming the argument.
pub fn energy_distance(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let (a, b) = kernel_weights(x, y, a, b)?;
    let cross = PointCloud::new(x, y, Euclidean)?;
    let quad = |geom: &PointCloud<Euclidean>, u: &Array1<f64>, v: &Array1<f64>| -> Result<f64> {
        let mut cv = Array2::zeros((u.len(), 1));
        let col = v.view().insert_axis(ndarray::Axis(1));
        geom.apply_cost(Axis::Rows, col, cv.view_mut())?;
        Ok(compensated_sum(
            u.iter().zip(cv.column(0)).map(|(u, c)| u * c),
        ))
    };
    let xy = quad(&cross, &a, &b)?;
    let xx = quad(&cross.with_points(x, x)?, &a, &a)?;
    let yy = quad(&cross.with_points(y, y)?, &b, &b)?;
    Ok(xy - 0.5 * (xx + yy))
}

/// Gaussian MMD `½⟨α − β, k ⋆ (α − β)⟩` with `k(x, y) = exp(−‖x − y‖²/(2σ²))` (GeomLoss's
/// `"gaussian"` loss with `blur = σ`; half the squared MMD of Gretton et al. 2012). The
/// kernel sums are log-sum-exp sweeps of the squared Euclidean cost at `ε = 2σ²`, so no
/// matrix is stored and tiny kernel values do not underflow into wrong sums.
///
/// # Errors
/// As [`energy_distance`], plus [`Error::InvalidParameter`] naming `sigma` unless it is
/// finite and `> 0`.
pub fn gaussian_mmd(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    sigma: f64,
) -> Result<f64> {
    validate::positive("sigma", sigma)?;
    let (a, b) = kernel_weights(x, y, a, b)?;
    let eps = 2.0 * sigma * sigma;
    let cross = PointCloud::<SqEuclidean>::sq_euclidean(x, y)?;
    // ⟨u, K v⟩ = Σ_i u_i exp(−softmin_i/ε) with h = log v.
    let quad = |geom: &PointCloud<SqEuclidean>, u: &Array1<f64>, v: &Array1<f64>| -> Result<f64> {
        let h = v.mapv(|w| if w > 0.0 { w.ln() } else { f64::NEG_INFINITY });
        let mut s = Array1::zeros(u.len());
        geom.softmin(Axis::Rows, eps, h.view(), s.view_mut())?;
        Ok(compensated_sum(
            u.iter().zip(&s).map(|(u, s)| u * (-s / eps).exp()),
        ))
    };
    let xy = quad(&cross, &a, &b)?;
    let xx = quad(&cross.with_points(x, x)?, &a, &a)?;
    let yy = quad(&cross.with_points(y, y)?, &b, &b)?;
    Ok(0.5 * (xx + yy) - xy)
}

fn kernel_weights(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
) -> Result<(Array1<f64>, Array1<f64>)> {
    validate::points("x", x)?;
    validate::points("y", y)?;
    if x.ncols() != y.ncols() {
        return Err(Error::Shape {
            arg: "y",
            expected: format!("points of dimension {} (as x)", x.ncols()),
            got: format!("dimension {}", y.ncols()),
        });
    }
    let weights = |arg: &'static str, w: Option<ArrayView1<'_, f64>>, n: usize| -> Result<_> {
        match w {
            None => Ok(Array1::from_elem(n, 1.0 / n as f64)),
            Some(w) => {
                crate::geometry::check_len(arg, w.len(), n, "one weight per point")?;
                validate::weights(arg, w)?;
                Ok(w.to_owned())
            }
        }
    };
    Ok((weights("a", a, x.nrows())?, weights("b", b, y.nrows())?))
}
