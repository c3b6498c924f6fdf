//! 1-D, sliced and cost-matrix entry points.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::convert;
use crate::run;

fn optional_vector<'py>(
    w: Option<&Bound<'py, PyAny>>,
    arg: &'static str,
) -> PyResult<Option<Bound<'py, PyArray1<f64>>>> {
    match w {
        Some(w) if !w.is_none() => Ok(Some(convert::vector(w, arg)?)),
        _ => Ok(None),
    }
}

/// `W_p^p` and the monotone plan `(rows, cols, values)` between weighted 1-D samples.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, p = 1.0))]
#[allow(clippy::type_complexity)]
pub(crate) fn ot_1d<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    b: Option<&Bound<'py, PyAny>>,
    p: f64,
) -> PyResult<(
    f64,
    Bound<'py, PyArray1<usize>>,
    Bound<'py, PyArray1<usize>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let (x, y) = (convert::vector(x, "x")?, convert::vector(y, "y")?);
    let (a, b) = (optional_vector(a, "a")?, optional_vector(b, "b")?);
    let (xg, yg) = (x.readonly(), y.readonly());
    let (ag, bg) = (
        a.as_ref().map(|a| a.readonly()),
        b.as_ref().map(|b| b.readonly()),
    );
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let (av, bv) = (
        ag.as_ref().map(|a| a.as_array()),
        bg.as_ref().map(|b| b.as_array()),
    );
    let out = run::detached(py, |_| otters::linear::ot_1d(xv, yv, av, bv, p))?;
    let plan = out.plan;
    Ok((
        out.cost,
        plan.rows().to_vec().into_pyarray(py),
        plan.cols().to_vec().into_pyarray(py),
        plan.values().to_vec().into_pyarray(py),
    ))
}

/// `W_p^p` between weighted 1-D samples.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, p = 1.0))]
pub(crate) fn wasserstein_1d(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
    p: f64,
) -> PyResult<f64> {
    let (x, y) = (convert::vector(x, "x")?, convert::vector(y, "y")?);
    let (a, b) = (optional_vector(a, "a")?, optional_vector(b, "b")?);
    let (xg, yg) = (x.readonly(), y.readonly());
    let (ag, bg) = (
        a.as_ref().map(|a| a.readonly()),
        b.as_ref().map(|b| b.readonly()),
    );
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let (av, bv) = (
        ag.as_ref().map(|a| a.as_array()),
        bg.as_ref().map(|b| b.as_array()),
    );
    run::detached(py, |_| otters::linear::wasserstein_1d(xv, yv, av, bv, p))
}

/// `W_p^p` for every column of `x` (n × k) against the same column of `y` (m × k).
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, p = 1.0))]
pub(crate) fn wasserstein_1d_batch<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    b: Option<&Bound<'py, PyAny>>,
    p: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (x, y) = (convert::matrix(x, "x")?, convert::matrix(y, "y")?);
    let (a, b) = (optional_vector(a, "a")?, optional_vector(b, "b")?);
    let (xg, yg) = (x.readonly(), y.readonly());
    let (ag, bg) = (
        a.as_ref().map(|a| a.readonly()),
        b.as_ref().map(|b| b.readonly()),
    );
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let (av, bv) = (
        ag.as_ref().map(|a| a.as_array()),
        bg.as_ref().map(|b| b.as_array()),
    );
    Ok(run::detached(py, |_| {
        otters::linear::wasserstein_1d_batch(xv, yv, av, bv, p)
    })?
    .into_pyarray(py))
}

/// `count` seeded directions on the unit sphere of ℝᵈ.
#[pyfunction]
pub(crate) fn random_directions(
    py: Python<'_>,
    count: usize,
    d: usize,
    seed: u64,
) -> PyResult<Bound<'_, PyArray2<f64>>> {
    Ok(run::detached(py, |_| otters::linear::random_directions(count, d, seed))?.into_pyarray(py))
}

/// Sliced and max-sliced `W_p` along the given directions: (sliced, max_sliced, argmax,
/// per-direction W_p^p).
#[pyfunction]
#[pyo3(signature = (x, y, directions, a = None, b = None, p = 2.0))]
#[allow(clippy::type_complexity)]
pub(crate) fn sliced_wasserstein<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    directions: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    b: Option<&Bound<'py, PyAny>>,
    p: f64,
) -> PyResult<(f64, f64, usize, Bound<'py, PyArray1<f64>>)> {
    let (x, y, d) = (
        convert::points(x, "x")?,
        convert::points(y, "y")?,
        convert::matrix(directions, "projections")?,
    );
    let (a, b) = (optional_vector(a, "a")?, optional_vector(b, "b")?);
    let (xg, yg, dg) = (x.readonly(), y.readonly(), d.readonly());
    let (ag, bg) = (
        a.as_ref().map(|a| a.readonly()),
        b.as_ref().map(|b| b.readonly()),
    );
    let (xv, yv, dv) = (xg.as_array(), yg.as_array(), dg.as_array());
    let (av, bv) = (
        ag.as_ref().map(|a| a.as_array()),
        bg.as_ref().map(|b| b.as_array()),
    );
    let out = run::detached(py, |_| {
        otters::linear::sliced_wasserstein(xv, yv, av, bv, p, dv)
    })?;
    Ok((
        out.sliced,
        out.max_sliced,
        out.argmax,
        out.projected.into_pyarray(py),
    ))
}

/// 1-D unbalanced OT by Frank–Wolfe: `(cost, linear_cost, dual_cost, f, g, marginal_a,
/// marginal_b, rows, cols, values, iterations, converged)`.
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, rho_a = 1.0, rho_b = 1.0, p = 2.0, threshold = 1e-6,
    max_iterations = 10000))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn uot_1d<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    b: Option<&Bound<'py, PyAny>>,
    rho_a: f64,
    rho_b: f64,
    p: f64,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let (x, y) = (convert::vector(x, "x")?, convert::vector(y, "y")?);
    let (a, b) = (optional_vector(a, "a")?, optional_vector(b, "b")?);
    let (xg, yg) = (x.readonly(), y.readonly());
    let (ag, bg) = (
        a.as_ref().map(|a| a.readonly()),
        b.as_ref().map(|b| b.readonly()),
    );
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let (av, bv) = (
        ag.as_ref().map(|a| a.as_array()),
        bg.as_ref().map(|b| b.as_array()),
    );
    let solver = otters::linear::UnbalancedFrankWolfe {
        threshold,
        max_iterations,
    };
    let out = run::detached(py, |obs| {
        solver.solve_with(xv, yv, av, bv, rho_a, rho_b, p, obs)
    })?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("cost", out.cost)?;
    d.set_item("linear_cost", out.linear_cost)?;
    d.set_item("dual_cost", out.dual_cost)?;
    d.set_item("f", out.f.into_pyarray(py))?;
    d.set_item("g", out.g.into_pyarray(py))?;
    d.set_item("marginal_a", out.marginal_a.into_pyarray(py))?;
    d.set_item("marginal_b", out.marginal_b.into_pyarray(py))?;
    d.set_item("rows", out.plan.rows().to_vec().into_pyarray(py))?;
    d.set_item("cols", out.plan.cols().to_vec().into_pyarray(py))?;
    d.set_item("values", out.plan.values().to_vec().into_pyarray(py))?;
    d.set_item("iterations", out.iterations)?;
    d.set_item("converged", out.converged)?;
    Ok(d)
}

/// 1-D unbalanced barycenter by Frank–Wolfe: a dict with `support`, `weights`, `cost`,
/// `dual_cost`, `potentials`, `marginals`, `iterations`, `converged`.
#[pyfunction]
#[pyo3(signature = (values, weights, lambdas, rho, threshold = 1e-6, max_iterations = 10000))]
pub(crate) fn uot_barycenter_1d<'py>(
    py: Python<'py>,
    values: Vec<Bound<'py, PyAny>>,
    weights: Vec<Option<Bound<'py, PyAny>>>,
    lambdas: &Bound<'py, PyAny>,
    rho: f64,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    if weights.len() != values.len() {
        return Err(crate::errors::invalid_input(
            py,
            "weights",
            &format!(
                "weights needs one entry (an array or None) per measure: {} values, {} weights",
                values.len(),
                weights.len()
            ),
        ));
    }
    let xs = values
        .iter()
        .map(|v| convert::vector(v, "values"))
        .collect::<PyResult<Vec<_>>>()?;
    let ws = weights
        .iter()
        .map(|w| optional_vector(w.as_ref(), "weights"))
        .collect::<PyResult<Vec<_>>>()?;
    let lambdas = convert::vector(lambdas, "lambdas")?;
    let x_guards: Vec<_> = xs.iter().map(|x| x.readonly()).collect();
    let w_guards: Vec<_> = ws
        .iter()
        .map(|w| w.as_ref().map(|w| w.readonly()))
        .collect();
    let l_guard = lambdas.readonly();
    let inputs: Vec<_> = x_guards
        .iter()
        .zip(&w_guards)
        .map(|(x, w)| (x.as_array(), w.as_ref().map(|w| w.as_array())))
        .collect();
    let lv = l_guard.as_array();
    let solver = otters::linear::UnbalancedFrankWolfe {
        threshold,
        max_iterations,
    };
    let out = run::detached(py, |obs| solver.barycenter_with(&inputs, lv, rho, obs))?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("support", out.support.into_pyarray(py))?;
    d.set_item("weights", out.weights.into_pyarray(py))?;
    d.set_item("cost", out.cost)?;
    d.set_item("dual_cost", out.dual_cost)?;
    let pots: Vec<_> = out
        .potentials
        .into_iter()
        .map(|f| f.into_pyarray(py))
        .collect();
    let margs: Vec<_> = out
        .marginals
        .into_iter()
        .map(|f| f.into_pyarray(py))
        .collect();
    d.set_item("potentials", pots)?;
    d.set_item("marginals", margs)?;
    d.set_item("iterations", out.iterations)?;
    d.set_item("converged", out.converged)?;
    Ok(d)
}
