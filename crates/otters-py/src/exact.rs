//! Exact and 1-D OT entry points.

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use otters::geometry::DenseCost;
use otters::linear::{AssignmentFastPath, ExactMethod, LinearProblem, NetworkSimplex};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::run;

/// Exact OT by the network simplex (assignment fast path for uniform square problems).
///
/// Returns a dict with the sparse plan (`rows`, `cols`, `values`), the centered potentials
/// `f`, `g`, the `cost`, `dual_cost`, `converged`, `iterations`, `marginal_error` and the
/// `method` used.
#[pyfunction]
#[pyo3(signature = (cost, a, b, *, max_iterations = 1usize << 40, assignment = true))]
pub(crate) fn emd<'py>(
    py: Python<'py>,
    cost: PyReadonlyArray2<'py, f64>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    max_iterations: usize,
    assignment: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (cost, a, b) = (cost.as_array(), a.as_array(), b.as_array());
    let fast_path = if assignment {
        AssignmentFastPath::Auto
    } else {
        AssignmentFastPath::Off
    };
    let out = run::detached(py, |observer| {
        let geom = DenseCost::new(cost)?;
        let problem = LinearProblem::new(&geom, a, b)?;
        NetworkSimplex {
            max_iterations,
            assignment: fast_path,
            ..NetworkSimplex::default()
        }
        .solve_with(&problem, observer)
    })?;
    let result = PyDict::new(py);
    let plan = out.plan();
    result.set_item("shape", plan.shape())?;
    result.set_item("rows", plan.rows().to_vec().into_pyarray(py))?;
    result.set_item("cols", plan.cols().to_vec().into_pyarray(py))?;
    result.set_item("values", plan.values().to_vec().into_pyarray(py))?;
    result.set_item("f", out.f().to_owned().into_pyarray(py))?;
    result.set_item("g", out.g().to_owned().into_pyarray(py))?;
    result.set_item("cost", out.cost())?;
    result.set_item("dual_cost", out.dual_cost())?;
    result.set_item("converged", out.converged())?;
    result.set_item("iterations", out.iterations())?;
    result.set_item("marginal_error", out.marginal_error())?;
    let method = match out.method() {
        ExactMethod::NetworkSimplex => "network_simplex",
        ExactMethod::Assignment => "assignment",
    };
    result.set_item("method", method)?;
    Ok(result)
}

/// `W_p^p` between weighted 1-D samples (weights default to uniform).
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, p = 1.0))]
pub(crate) fn wasserstein_1d<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    a: Option<PyReadonlyArray1<'py, f64>>,
    b: Option<PyReadonlyArray1<'py, f64>>,
    p: f64,
) -> PyResult<f64> {
    let (x, y) = (x.as_array(), y.as_array());
    let (a, b) = (
        a.as_ref().map(|a| a.as_array()),
        b.as_ref().map(|b| b.as_array()),
    );
    run::detached(py, |_| otters::linear::wasserstein_1d(x, y, a, b, p))
}
