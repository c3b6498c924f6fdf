//! Sinkhorn divergence, energy distance and Gaussian MMD between point clouds.

use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::divergence::{self as div, SinkhornDivergence};
use otters::geometry::{CostFn, Geometry, PointCloud as Cloud};
use otters::linear::{EpsilonScaling, LinearProblem, MarginalPenalty};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert;
use crate::errors::invalid_input;
use crate::geometry::{PointCloud, with_cloud};
use crate::linear::parse_epsilon;
use crate::run;

/// The value of a Sinkhorn divergence and the three solves behind it.
#[pyclass(module = "otters._core", frozen, get_all)]
pub struct DivergenceOutput {
    /// `S_ε(α, β)`.
    value: f64,
    /// Whether all three solves met the threshold.
    converged: bool,
    /// The absolute ε used for the three terms.
    epsilon: f64,
    /// `OT_ε(α, β)`, `OT_ε(α, α)`, `OT_ε(β, β)` (dual objectives).
    reg_ot_costs: (f64, f64, f64),
    /// `⟨C, P⟩` of the three plans (POT's `sinkhorn2` values).
    linear_costs: (f64, f64, f64),
    /// Iterations of the three solves.
    iterations: (usize, usize, usize),
    /// Potentials `(f, g)` of the cross solve.
    potentials_xy: (Py<PyArray1<f64>>, Py<PyArray1<f64>>),
    /// The potential of the symmetric solve on `x`.
    potential_xx: Py<PyArray1<f64>>,
    /// The potential of the symmetric solve on `y`.
    potential_yy: Py<PyArray1<f64>>,
    /// `∇ₓS` (`n × d`), when gradients were asked for.
    grad_x: Option<Py<PyArray2<f64>>>,
    /// `∇_yS` (`m × d`), when gradients were asked for.
    grad_y: Option<Py<PyArray2<f64>>>,
    /// `∂S/∂a` (projected on the simplex when balanced), when gradients were asked for.
    grad_a: Option<Py<PyArray1<f64>>>,
    /// `∂S/∂b`, when gradients were asked for.
    grad_b: Option<Py<PyArray1<f64>>>,
}

struct Solved {
    out: div::DivergenceOutput,
    epsilon: f64,
    linear: (f64, f64, f64),
    grads: Option<Gradients>,
}

struct Gradients {
    x: Array2<f64>,
    y: Array2<f64>,
    a: Array1<f64>,
    b: Array1<f64>,
}

fn solve_cloud<C: CostFn>(
    cloud: &Cloud<C>,
    solver: &SinkhornDivergence,
    a: Array1<f64>,
    b: Array1<f64>,
    penalty: MarginalPenalty,
    gradients: bool,
    observer: &otters::Observer<'_>,
) -> otters::Result<Solved> {
    let problem = LinearProblem::unbalanced(cloud, a, b, penalty, penalty)?;
    let xx = cloud.with_points(cloud.x(), cloud.x())?;
    let yy = cloud.with_points(cloud.y(), cloud.y())?;
    let out = solver.solve_with(&problem, &xx, &yy, observer)?;
    let linear = (
        out.cross().linear_cost(&problem)?,
        out.xx().linear_cost(&xx as &dyn Geometry)?,
        out.yy().linear_cost(&yy as &dyn Geometry)?,
    );
    let grads = if gradients {
        Some(Gradients {
            x: out.grad_x(cloud)?,
            y: out.grad_y(cloud)?,
            a: out.grad_a(),
            b: out.grad_b(),
        })
    } else {
        None
    };
    Ok(Solved {
        epsilon: out.cross().epsilon(),
        out,
        linear,
        grads,
    })
}

/// Sinkhorn divergence between the two clouds of `geom` (a `PointCloud`).
#[pyfunction]
#[pyo3(signature = (geom, a = None, b = None, epsilon = None, relative_to = None, rho = None,
    threshold = 1e-6, max_iterations = 2000, scaling_decay = None, gradients = false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_divergence(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    rho: Option<f64>,
    threshold: f64,
    max_iterations: usize,
    scaling_decay: Option<f64>,
    gradients: bool,
) -> PyResult<DivergenceOutput> {
    let Ok(cloud) = geom.cast::<PointCloud>() else {
        return Err(PyTypeError::new_err(
            "geom must be an otters.PointCloud (the divergence needs the cost of each cloud \
             with itself)",
        ));
    };
    let mut solver = SinkhornDivergence::new(parse_epsilon(py, epsilon, relative_to)?);
    solver.sinkhorn.threshold = threshold;
    solver.sinkhorn.max_iterations = max_iterations;
    solver.sinkhorn.scaling =
        scaling_decay.map_or(EpsilonScaling::None, EpsilonScaling::from_max_cost);
    let penalty = match rho {
        None => MarginalPenalty::Hard,
        Some(rho) if rho.is_infinite() && rho > 0.0 => MarginalPenalty::Hard,
        Some(rho) if rho > 0.0 => MarginalPenalty::Kl { rho },
        Some(rho) => {
            return Err(invalid_input(
                py,
                "rho",
                &format!("rho must be > 0 (or None for the balanced divergence), got {rho}"),
            ));
        }
    };
    let inner = &cloud.get().inner;
    let (n, m) = inner.geometry().shape();
    let weights = |w: Option<&Bound<'_, PyAny>>, arg: &'static str, n: usize| -> PyResult<_> {
        match w {
            Some(w) if !w.is_none() => {
                Ok(convert::vector(w, arg)?.readonly().as_array().to_owned())
            }
            _ => Ok(Array1::from_elem(n, 1.0 / n as f64)),
        }
    };
    let (a, b) = (weights(a, "a", n)?, weights(b, "b", m)?);
    let solved = run::detached(
        py,
        |obs| with_cloud!(inner, c => solve_cloud(c, &solver, a, b, penalty, gradients, obs)),
    )?;
    let out = &solved.out;
    let arr = |v: ndarray::ArrayView1<'_, f64>| v.to_owned().into_pyarray(py).unbind();
    let (grad_x, grad_y, grad_a, grad_b) = match solved.grads {
        Some(g) => (
            Some(g.x.into_pyarray(py).unbind()),
            Some(g.y.into_pyarray(py).unbind()),
            Some(g.a.into_pyarray(py).unbind()),
            Some(g.b.into_pyarray(py).unbind()),
        ),
        None => (None, None, None, None),
    };
    Ok(DivergenceOutput {
        value: out.value(),
        converged: out.converged(),
        epsilon: solved.epsilon,
        reg_ot_costs: (
            out.cross().reg_ot_cost(),
            out.xx().reg_ot_cost(),
            out.yy().reg_ot_cost(),
        ),
        linear_costs: solved.linear,
        iterations: (
            out.cross().iterations(),
            out.xx().iterations(),
            out.yy().iterations(),
        ),
        potentials_xy: (arr(out.cross().f()), arr(out.cross().g())),
        potential_xx: arr(out.xx().f()),
        potential_yy: arr(out.yy().f()),
        grad_x,
        grad_y,
        grad_a,
        grad_b,
    })
}

type KernelInputs = (
    Array2<f64>,
    Array2<f64>,
    Option<Array1<f64>>,
    Option<Array1<f64>>,
);

fn kernel_inputs<'py>(
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    b: Option<&Bound<'py, PyAny>>,
) -> PyResult<KernelInputs> {
    let x = convert::points(x, "x")?.readonly().as_array().to_owned();
    let y = convert::points(y, "y")?.readonly().as_array().to_owned();
    let w = |w: Option<&Bound<'py, PyAny>>, arg: &'static str| -> PyResult<_> {
        match w {
            Some(w) if !w.is_none() => Ok(Some(
                convert::vector(w, arg)?.readonly().as_array().to_owned(),
            )),
            _ => Ok(None),
        }
    };
    Ok((x, y, w(a, "a")?, w(b, "b")?))
}

/// Energy distance `½⟨α − β, −‖·‖ ⋆ (α − β)⟩` between weighted point clouds.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None))]
pub(crate) fn energy_distance(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
) -> PyResult<f64> {
    let (x, y, a, b) = kernel_inputs(x, y, a, b)?;
    run::detached(py, |_| {
        div::energy_distance(
            x.view(),
            y.view(),
            a.as_ref().map(|a| a.view()),
            b.as_ref().map(|b| b.view()),
        )
    })
}

/// Gaussian MMD `½⟨α − β, k ⋆ (α − β)⟩`, `k = exp(−‖x − y‖²/(2σ²))`.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, sigma = 1.0))]
pub(crate) fn gaussian_mmd(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
    sigma: f64,
) -> PyResult<f64> {
    let (x, y, a, b) = kernel_inputs(x, y, a, b)?;
    run::detached(py, |_| {
        div::gaussian_mmd(
            x.view(),
            y.view(),
            a.as_ref().map(|a| a.view()),
            b.as_ref().map(|b| b.view()),
            sigma,
        )
    })
}
