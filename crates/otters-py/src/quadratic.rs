//! Gromov–Wasserstein bindings: `solve_gw` (balanced), `solve_ugw` (unbalanced) and
//! `solve_gw_barycenter`, over geometries that are each an `otters.DenseCost`, an
//! `otters.PointCloud` or a plain float64 matrix.

use ndarray::ArrayView2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2};
use otters::geometry::{self as geo, Geometry, ScaleCost};
use otters::linear::{LowRankSinkhorn, LowRankStart, Sinkhorn};
use otters::quadratic::{
    self as quad, BarycenterInit, BarycenterStop, ConditionalGradientGw, EntropicGw, GwBarycenter,
    GwBarycenterInput, GwLoss, GwPlanSolver, LowRankGw, QuadraticProblem, UnbalancedGw,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert;
use crate::errors::invalid_input;
use crate::geometry::{Cloud, DenseCost, PointCloud};
use crate::run;

/// A geometry argument held for the duration of a solve.
enum Held<'py> {
    Dense(PyReadonlyArray2<'py, f64>, f64),
    Cloud(Bound<'py, PointCloud>),
}

/// What a held geometry lends to the engine (built inside the detached solve).
enum Lent<'a> {
    Dense(ArrayView2<'a, f64>, f64),
    Cloud(&'a Cloud),
}

fn hold<'py>(geom: &Bound<'py, PyAny>, arg: &'static str) -> PyResult<Held<'py>> {
    let py = geom.py();
    if let Ok(dense) = geom.cast::<DenseCost>() {
        let d = dense.get();
        return Ok(Held::Dense(d.array(py)?.readonly(), d.scale_value()));
    }
    if let Ok(cloud) = geom.cast::<PointCloud>() {
        return Ok(Held::Cloud(cloud.clone()));
    }
    if geom.hasattr("shape")? || geom.is_instance_of::<pyo3::types::PyList>() {
        let mut array = convert::matrix(geom, arg)?;
        if !convert::is_contiguous(&array) {
            array = py
                .import("numpy")?
                .call_method1("ascontiguousarray", (array,))?
                .cast_into()?;
        }
        return Ok(Held::Dense(array.readonly(), 1.0));
    }
    Err(PyTypeError::new_err(format!(
        "{arg} must be an otters.DenseCost, an otters.PointCloud or a 2-D array"
    )))
}

impl<'py> Held<'py> {
    fn lend(&self) -> Lent<'_> {
        match self {
            Held::Dense(a, s) => Lent::Dense(a.as_array(), *s),
            Held::Cloud(c) => Lent::Cloud(&c.get().inner),
        }
    }
}

/// A geometry built from a loan: owned (stored costs) or borrowed (point clouds).
enum Built<'a> {
    Dense(geo::DenseCost<'a>),
    Borrowed(&'a dyn Geometry),
}

impl<'a> Lent<'a> {
    fn build(&self) -> otters::Result<Built<'a>> {
        Ok(match *self {
            Lent::Dense(view, scale) => {
                let scale = if scale == 1.0 {
                    ScaleCost::None
                } else {
                    ScaleCost::By(scale)
                };
                Built::Dense(geo::DenseCost::new(view)?.with_scale(scale)?)
            }
            Lent::Cloud(c) => Built::Borrowed(c.geometry()),
        })
    }
}

impl Built<'_> {
    fn geom(&self) -> &dyn Geometry {
        match self {
            Built::Dense(d) => d,
            Built::Borrowed(g) => *g,
        }
    }
}

/// The GW loss named by a Python string (otters' or POT's spelling).
fn gw_loss(py: Python<'_>, loss: &str) -> PyResult<GwLoss> {
    match loss {
        "square" | "square_loss" => Ok(GwLoss::Square),
        "kl" | "kl_loss" => Ok(GwLoss::Kl),
        other => Err(invalid_input(
            py,
            "loss_fun",
            &format!("unknown loss '{other}'; use 'square_loss' or 'kl_loss'"),
        )),
    }
}

/// Unbalanced Gromov–Wasserstein (fused when `geom_xy` is given): alternate minimization
/// of the bi-convex relaxation, each half-step an unbalanced Sinkhorn solve. `a` and `b`
/// may have different masses.
#[pyfunction]
#[pyo3(signature = (
    geom_xx, geom_yy, a, b, *, rho_a, rho_b, epsilon, geom_xy = None, alpha = 1.0,
    loss = "square", threshold = 1e-9, max_iterations = 1000, inner_threshold = 1e-10,
    inner_max_iterations = 100_000, init = None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_ugw(
    py: Python<'_>,
    geom_xx: &Bound<'_, PyAny>,
    geom_yy: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rho_a: f64,
    rho_b: f64,
    epsilon: f64,
    geom_xy: Option<&Bound<'_, PyAny>>,
    alpha: f64,
    loss: &str,
    threshold: f64,
    max_iterations: usize,
    inner_threshold: f64,
    inner_max_iterations: usize,
    init: Option<&Bound<'_, PyAny>>,
) -> PyResult<UgwOutput> {
    let loss = gw_loss(py, loss)?;
    let (hx, hy) = (hold(geom_xx, "geom_xx")?, hold(geom_yy, "geom_yy")?);
    let hxy = match geom_xy {
        Some(g) if !g.is_none() => Some(hold(g, "geom_xy")?),
        _ => None,
    };
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let init = match init {
        Some(p) if !p.is_none() => Some(convert::matrix(p, "init")?),
        _ => None,
    };
    let init_guard = init.as_ref().map(|p| p.readonly());
    let init_view = init_guard.as_ref().map(|g| g.as_array());
    let (lx, ly, lxy) = (hx.lend(), hy.lend(), hxy.as_ref().map(|h| h.lend()));
    let (av, bv) = (ag.as_array(), bg.as_array());
    let inner = run::detached(py, |obs| {
        let (gx, gy) = (lx.build()?, ly.build()?);
        let gxy = lxy.as_ref().map(|l| l.build()).transpose()?;
        let mut problem =
            QuadraticProblem::unbalanced(gx.geom(), gy.geom(), av, bv)?.with_loss(loss);
        if let Some(gxy) = &gxy {
            problem = problem.fused(gxy.geom(), alpha)?;
        }
        let solver = UnbalancedGw {
            rho_a,
            rho_b,
            epsilon,
            threshold,
            max_iterations,
            sinkhorn: Sinkhorn {
                threshold: inner_threshold,
                max_iterations: inner_max_iterations,
                ..UnbalancedGw::default().sinkhorn
            },
            ..UnbalancedGw::default()
        };
        solver.solve_with(&problem, init_view, obs)
    })?;
    Ok(UgwOutput { inner })
}

/// Low-rank GW (square loss; fused when `geom_xy` is given; unbalanced for finite `rho`).
#[pyfunction]
#[pyo3(signature = (
    geom_xx, geom_yy, a, b, *, rank, rho_a = f64::INFINITY, rho_b = f64::INFINITY, geom_xy = None,
    alpha = 1.0, loss = "square", epsilon = 0.0, gamma = 10.0, threshold = 1e-8,
    max_iterations = 1000, min_iterations = 10, inner_threshold = 1e-5,
    inner_max_iterations = 10_000, min_g = 1e-10, init = "random", seed = 0, start = None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_lrgw(
    py: Python<'_>,
    geom_xx: &Bound<'_, PyAny>,
    geom_yy: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rank: usize,
    rho_a: f64,
    rho_b: f64,
    geom_xy: Option<&Bound<'_, PyAny>>,
    alpha: f64,
    loss: &str,
    epsilon: f64,
    gamma: f64,
    threshold: f64,
    max_iterations: usize,
    min_iterations: usize,
    inner_threshold: f64,
    inner_max_iterations: usize,
    min_g: f64,
    init: &str,
    seed: u64,
    start: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>, Bound<'_, PyAny>)>,
) -> PyResult<crate::low_rank::LowRankOutput> {
    let loss = gw_loss(py, loss)?;
    let solver = LowRankGw {
        low_rank: LowRankSinkhorn {
            rank,
            epsilon,
            gamma,
            threshold,
            max_iterations,
            min_iterations,
            inner_threshold,
            inner_max_iterations,
            min_g,
            init: crate::low_rank::low_rank_init(py, init, seed)?,
        },
        rho_a,
        rho_b,
    };
    let start = crate::low_rank::start_arrays(start.as_ref())?;
    let start_guard = start
        .as_ref()
        .map(|(q, r, g)| (q.readonly(), r.readonly(), g.readonly()));
    let (hx, hy) = (hold(geom_xx, "geom_xx")?, hold(geom_yy, "geom_yy")?);
    let hxy = match geom_xy {
        Some(g) if !g.is_none() => Some(hold(g, "geom_xy")?),
        _ => None,
    };
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (lx, ly, lxy) = (hx.lend(), hy.lend(), hxy.as_ref().map(|h| h.lend()));
    let (av, bv) = (ag.as_array(), bg.as_array());
    let start = start_guard.as_ref().map(|(q, r, g)| LowRankStart {
        q: q.as_array(),
        r: r.as_array(),
        g: g.as_array(),
    });
    let inner = run::detached(py, |obs| {
        let (gx, gy) = (lx.build()?, ly.build()?);
        let gxy = lxy.as_ref().map(|l| l.build()).transpose()?;
        let mut problem =
            QuadraticProblem::unbalanced(gx.geom(), gy.geom(), av, bv)?.with_loss(loss);
        if let Some(gxy) = &gxy {
            problem = problem.fused(gxy.geom(), alpha)?;
        }
        solver.solve_from(&problem, start, obs)
    })?;
    Ok(crate::low_rank::LowRankOutput { inner })
}

/// The settings of a GW solver, as the Python keywords give them.
struct GwSettings {
    epsilon: f64,
    threshold: f64,
    max_iterations: Option<usize>,
    tol_rel: f64,
    tol_abs: f64,
    inner_threshold: f64,
    inner_max_iterations: usize,
    inexact_steps: bool,
    check_every: usize,
}

impl GwSettings {
    /// Conditional gradient (`"cg"`) or entropic mirror descent (`"entropic"`).
    fn solver(&self, py: Python<'_>, solver: &str) -> PyResult<GwPlanSolver> {
        match solver {
            "cg" => Ok(GwPlanSolver::ConditionalGradient(ConditionalGradientGw {
                max_iterations: self.max_iterations.unwrap_or(10_000),
                tol_rel: self.tol_rel,
                tol_abs: self.tol_abs,
                ..ConditionalGradientGw::default()
            })),
            "entropic" => Ok(GwPlanSolver::Entropic(EntropicGw {
                epsilon: self.epsilon,
                threshold: self.threshold,
                max_iterations: self.max_iterations.unwrap_or(1000),
                sinkhorn: Sinkhorn {
                    threshold: self.inner_threshold,
                    max_iterations: self.inner_max_iterations,
                    ..EntropicGw::default().sinkhorn
                },
                inexact_steps: self.inexact_steps,
                check_every: self.check_every,
                ..EntropicGw::default()
            })),
            other => Err(invalid_input(
                py,
                "solver",
                &format!("unknown solver '{other}'; use 'cg' or 'entropic'"),
            )),
        }
    }
}

/// Gromov–Wasserstein (fused when `geom_xy` is given), by conditional gradient
/// (`solver="cg"`) or entropic mirror descent (`solver="entropic"`).
#[pyfunction]
#[pyo3(signature = (
    geom_xx, geom_yy, a, b, *, geom_xy = None, alpha = 1.0, loss = "square", solver = "cg",
    epsilon = 0.1, threshold = 1e-9, max_iterations = None, tol_rel = 1e-9, tol_abs = 1e-9,
    inner_threshold = 1e-9, inner_max_iterations = 100_000, init = None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_gw(
    py: Python<'_>,
    geom_xx: &Bound<'_, PyAny>,
    geom_yy: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    geom_xy: Option<&Bound<'_, PyAny>>,
    alpha: f64,
    loss: &str,
    solver: &str,
    epsilon: f64,
    threshold: f64,
    max_iterations: Option<usize>,
    tol_rel: f64,
    tol_abs: f64,
    inner_threshold: f64,
    inner_max_iterations: usize,
    init: Option<&Bound<'_, PyAny>>,
) -> PyResult<GwOutput> {
    let loss = gw_loss(py, loss)?;
    let solver = GwSettings {
        epsilon,
        threshold,
        max_iterations,
        tol_rel,
        tol_abs,
        inner_threshold,
        inner_max_iterations,
        inexact_steps: true,
        check_every: 1,
    }
    .solver(py, solver)?;
    let (hx, hy) = (hold(geom_xx, "geom_xx")?, hold(geom_yy, "geom_yy")?);
    let hxy = match geom_xy {
        Some(g) if !g.is_none() => Some(hold(g, "geom_xy")?),
        _ => None,
    };
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let init = match init {
        Some(p) if !p.is_none() => Some(convert::matrix(p, "init")?),
        _ => None,
    };
    let init_guard = init.as_ref().map(|p| p.readonly());
    let init_view = init_guard.as_ref().map(|g| g.as_array());
    let (lx, ly, lxy) = (hx.lend(), hy.lend(), hxy.as_ref().map(|h| h.lend()));
    let (av, bv) = (ag.as_array(), bg.as_array());
    let inner = run::detached(py, |obs| {
        let (gx, gy) = (lx.build()?, ly.build()?);
        let gxy = lxy.as_ref().map(|l| l.build()).transpose()?;
        let mut problem = QuadraticProblem::new(gx.geom(), gy.geom(), av, bv)?.with_loss(loss);
        if let Some(gxy) = &gxy {
            problem = problem.fused(gxy.geom(), alpha)?;
        }
        solver.solve_with(&problem, init_view, obs)
    })?;
    Ok(GwOutput { inner })
}

/// The result of a Gromov–Wasserstein solve.
#[pyclass(module = "otters._core", frozen)]
pub struct GwOutput {
    inner: quad::GwOutput,
}

#[pymethods]
impl GwOutput {
    /// The coupling, shape (n, m).
    #[getter]
    fn plan<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.plan().to_owned().into_pyarray(py)
    }

    /// (1 − α)⟨M, P⟩ + α·GW(P) (GW(P) when not fused), without entropy.
    #[getter]
    fn loss(&self) -> f64 {
        self.inner.loss()
    }

    /// GW(P) = Σ L(Cx_ik, Cy_jl) P_ij P_kl.
    #[getter]
    fn gw_loss(&self) -> f64 {
        self.inner.gw_loss()
    }

    /// ⟨M, P⟩ for a fused problem, else None.
    #[getter]
    fn linear_loss(&self) -> Option<f64> {
        self.inner.linear_loss()
    }

    /// Whether the stopping criterion was met.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Outer iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// Per iteration: the plan change (entropic) or the objective (conditional gradient).
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.trace().to_vec().into_pyarray(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "GwOutput(loss={}, converged={}, iterations={})",
            self.inner.loss(),
            self.inner.converged(),
            self.inner.iterations()
        )
    }
}

/// A Gromov–Wasserstein barycenter of the costs `costs[s]` with weights `weights[s]`: `size`
/// points of weights `barycenter_weights` (uniform when None), plans by conditional gradient
/// (`solver="cg"`) or entropic mirror descent (`solver="entropic"`), stopped on the change
/// of the costs (`stop="barycenter"`) or the relative change of the loss (`stop="loss"`).
/// `inexact_steps=False` solves every entropic step to `inner_threshold`; `check_every=k`
/// tests the entropic solves' stopping rule after iterations 1, 1 + k, … only.
#[pyfunction]
#[pyo3(signature = (
    costs, weights, size, *, barycenter_weights = None, lambdas = None, loss = "square",
    solver = "cg", epsilon = 0.1, threshold = 1e-9, inner_iterations = None, tol_rel = 1e-9,
    tol_abs = 1e-9, inner_threshold = 1e-9, inner_max_iterations = 100_000,
    inexact_steps = true, check_every = 1, max_iterations = 1000, tolerance = 1e-9, stop = "barycenter",
    init = None, seed = 0, warm_start = false, features = None, alpha = 0.5, init_features = None,
    fixed_structure = false, fixed_features = false
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_gw_barycenter(
    py: Python<'_>,
    costs: Vec<Bound<'_, PyAny>>,
    weights: Vec<Bound<'_, PyAny>>,
    size: usize,
    barycenter_weights: Option<&Bound<'_, PyAny>>,
    lambdas: Option<Vec<f64>>,
    loss: &str,
    solver: &str,
    epsilon: f64,
    threshold: f64,
    inner_iterations: Option<usize>,
    tol_rel: f64,
    tol_abs: f64,
    inner_threshold: f64,
    inner_max_iterations: usize,
    inexact_steps: bool,
    check_every: usize,
    max_iterations: usize,
    tolerance: f64,
    stop: &str,
    init: Option<&Bound<'_, PyAny>>,
    seed: u64,
    warm_start: bool,
    features: Option<Vec<Bound<'_, PyAny>>>,
    alpha: f64,
    init_features: Option<&Bound<'_, PyAny>>,
    fixed_structure: bool,
    fixed_features: bool,
) -> PyResult<GwBarycenterOutput> {
    let loss = gw_loss(py, loss)?;
    let solver = GwSettings {
        epsilon,
        threshold,
        max_iterations: inner_iterations,
        tol_rel,
        tol_abs,
        inner_threshold,
        inner_max_iterations,
        inexact_steps,
        check_every,
    }
    .solver(py, solver)?;
    let stop = match stop {
        "barycenter" => BarycenterStop::CostChange,
        "loss" => BarycenterStop::LossChange,
        other => {
            return Err(invalid_input(
                py,
                "stop_criterion",
                &format!("unknown stop criterion '{other}'; use 'barycenter' or 'loss'"),
            ));
        }
    };
    if costs.len() != weights.len() {
        return Err(invalid_input(
            py,
            "weights",
            &format!(
                "one weight vector per cost is needed: {} costs, {} weight vectors",
                costs.len(),
                weights.len()
            ),
        ));
    }
    let held = costs
        .iter()
        .map(|c| hold(c, "costs"))
        .collect::<PyResult<Vec<_>>>()?;
    let weights = weights
        .iter()
        .map(|w| convert::vector(w, "weights"))
        .collect::<PyResult<Vec<_>>>()?;
    let weight_guards: Vec<_> = weights.iter().map(|w| w.readonly()).collect();
    let barycenter_weights = match barycenter_weights {
        Some(w) if !w.is_none() => Some(
            convert::vector(w, "barycenter_weights")?
                .readonly()
                .as_array()
                .to_owned(),
        ),
        _ => None,
    };
    let features = match features {
        Some(f) if f.len() != costs.len() => {
            return Err(invalid_input(
                py,
                "Ys",
                &format!(
                    "one feature matrix per cost is needed: {} costs, {} feature matrices",
                    costs.len(),
                    f.len()
                ),
            ));
        }
        Some(f) => Some(
            f.iter()
                .map(|y| convert::matrix(y, "Ys"))
                .collect::<PyResult<Vec<_>>>()?,
        ),
        None => None,
    };
    let feature_guards: Option<Vec<_>> = features
        .as_ref()
        .map(|f| f.iter().map(|y| y.readonly()).collect());
    let init_features = match init_features {
        Some(x) if !x.is_none() => Some(
            convert::matrix(x, "init_features")?
                .readonly()
                .as_array()
                .to_owned(),
        ),
        _ => None,
    };
    let init = match init {
        Some(c) if !c.is_none() => {
            BarycenterInit::Cost(convert::matrix(c, "init")?.readonly().as_array().to_owned())
        }
        _ => BarycenterInit::Random { seed },
    };
    let settings = GwBarycenter {
        size,
        weights: barycenter_weights,
        lambdas,
        loss,
        solver,
        max_iterations,
        tolerance,
        stop,
        init,
        warm_start,
        alpha,
        init_features,
        fixed_structure,
        fixed_features,
    };
    let lent: Vec<Lent<'_>> = held.iter().map(|h| h.lend()).collect();
    let views: Vec<_> = weight_guards.iter().map(|g| g.as_array()).collect();
    let feature_views: Option<Vec<_>> = feature_guards
        .as_ref()
        .map(|g| g.iter().map(|y| y.as_array()).collect());
    let inner = run::detached(py, |obs| {
        let built = lent
            .iter()
            .map(|l| l.build())
            .collect::<otters::Result<Vec<_>>>()?;
        let inputs: Vec<GwBarycenterInput<'_>> = built
            .iter()
            .zip(&views)
            .enumerate()
            .map(|(s, (g, w))| {
                let input = GwBarycenterInput::new(g.geom(), w.view());
                match &feature_views {
                    Some(ys) => input.with_features(ys[s].view()),
                    None => input,
                }
            })
            .collect();
        settings.solve_with(&inputs, obs)
    })?;
    Ok(GwBarycenterOutput { inner })
}

/// The result of a Gromov–Wasserstein barycenter solve.
#[pyclass(module = "otters._core", frozen)]
pub struct GwBarycenterOutput {
    inner: quad::GwBarycenterOutput,
}

#[pymethods]
impl GwBarycenterOutput {
    /// The barycenter costs C, shape (N, N), defined up to a permutation of its points.
    #[getter]
    fn cost<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.cost().to_owned().into_pyarray(py)
    }

    /// The barycenter features X, shape (N, d), of a fused barycenter (None otherwise).
    #[getter]
    fn features<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray2<f64>>> {
        self.inner.features().map(|x| x.to_owned().into_pyarray(py))
    }

    /// The barycenter weights p, shape (N,).
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.weights().to_owned().into_pyarray(py)
    }

    /// The plans T_s of the last iteration, each of shape (N, n_s).
    #[getter]
    fn plans<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray2<f64>>> {
        self.inner
            .plans()
            .iter()
            .map(|t| t.clone().into_pyarray(py))
            .collect()
    }

    /// GW_s for the returned costs and plans, per input.
    #[getter]
    fn gw_losses<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.gw_losses().to_owned().into_pyarray(py)
    }

    /// The objective Σ_s λ_s·GW_s.
    #[getter]
    fn loss(&self) -> f64 {
        self.inner.loss()
    }

    /// Whether the stopping rule was met and the last plan solves converged.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Outer iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// Per iteration, the stopping rule's value (‖ΔC‖_F, or the loss's relative change).
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.trace().to_vec().into_pyarray(py)
    }

    /// Per iteration (rows) and input (columns), the GW (fused: FGW) loss of that iteration's
    /// plan.
    #[getter]
    fn loss_trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.loss_trace().to_owned().into_pyarray(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "GwBarycenterOutput(loss={}, converged={}, iterations={})",
            self.inner.loss(),
            self.inner.converged(),
            self.inner.iterations()
        )
    }
}

/// The result of an unbalanced Gromov–Wasserstein solve.
#[pyclass(module = "otters._core", frozen)]
pub struct UgwOutput {
    inner: quad::UgwOutput,
}

#[pymethods]
impl UgwOutput {
    /// The coupling π, shape (n, m).
    #[getter]
    fn plan<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.plan().to_owned().into_pyarray(py)
    }

    /// The second coupling γ of the relaxation (same mass as π).
    #[getter]
    fn second_plan<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.second_plan().to_owned().into_pyarray(py)
    }

    /// α·GW(π, γ) + (1 − α)·½⟨M, π + γ⟩ + ρ_a·KL⊗(π1, γ1 | a) + ρ_b·KL⊗(πᵀ1, γᵀ1 | b)
    /// + ε·KL⊗(π, γ | a⊗b).
    #[getter]
    fn loss(&self) -> f64 {
        self.inner.loss()
    }

    /// GW(π, γ) = Σ L(Cx_ik, Cy_jl) π_ij γ_kl.
    #[getter]
    fn gw_loss(&self) -> f64 {
        self.inner.gw_loss()
    }

    /// ½⟨M, π + γ⟩ for a fused problem, else None.
    #[getter]
    fn linear_loss(&self) -> Option<f64> {
        self.inner.linear_loss()
    }

    /// ρ_a·KL⊗(π1, γ1 | a) + ρ_b·KL⊗(πᵀ1, γᵀ1 | b).
    #[getter]
    fn marginal_penalty(&self) -> f64 {
        self.inner.marginal_penalty()
    }

    /// ε·KL(π⊗γ | (a⊗b)⊗(a⊗b)).
    #[getter]
    fn entropic_penalty(&self) -> f64 {
        self.inner.entropic_penalty()
    }

    /// Whether the plan change reached the threshold (and the last inner solve converged).
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Outer iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// The L1 change of π after every outer iteration.
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.trace().to_vec().into_pyarray(py)
    }

    /// The potentials (f, g) of the last π step, in cost units.
    #[getter]
    fn potentials<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>) {
        let (f, g) = self.inner.potentials();
        (f.to_owned().into_pyarray(py), g.to_owned().into_pyarray(py))
    }

    /// The regularization m(γ)·ε of the last π step.
    #[getter]
    fn inner_epsilon(&self) -> f64 {
        self.inner.inner_epsilon()
    }

    fn __repr__(&self) -> String {
        format!(
            "UgwOutput(loss={}, mass={}, converged={}, iterations={})",
            self.inner.loss(),
            self.inner.plan().sum(),
            self.inner.converged(),
            self.inner.iterations()
        )
    }
}
