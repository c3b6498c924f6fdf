//! Linear OT entry points: numpy arrays in, a dict of numpy arrays and numbers out.

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use otters::geometry::DenseCost;
use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::run;

fn penalty(rho: Option<f64>) -> MarginalPenalty {
    rho.map_or(MarginalPenalty::Hard, |rho| MarginalPenalty::Kl { rho })
}

/// Log-domain Sinkhorn on a dense cost matrix.
///
/// Solves `min ⟨C, P⟩ + ε KL(P | a⊗b) + ρ_a KL(P1 | a) + ρ_b KL(Pᵀ1 | b)` (a missing ρ is a
/// hard marginal) and returns a dict with `f`, `g`, `plan`, `converged`, `iterations`,
/// `errors`, `marginal_error`, `reg_ot_cost` and `linear_cost`.
#[pyfunction]
#[pyo3(signature = (cost, a, b, epsilon, *, threshold = 1e-9, max_iterations = 1000, rho_a = None, rho_b = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sinkhorn<'py>(
    py: Python<'py>,
    cost: PyReadonlyArray2<'py, f64>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    epsilon: f64,
    threshold: f64,
    max_iterations: usize,
    rho_a: Option<f64>,
    rho_b: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let (cost, a, b) = (cost.as_array(), a.as_array(), b.as_array());
    let solved = run::detached(py, |observer| {
        let geom = DenseCost::new(cost)?;
        let problem = LinearProblem::unbalanced(&geom, a, b, penalty(rho_a), penalty(rho_b))?;
        let solver = Sinkhorn {
            threshold,
            max_iterations,
            ..Sinkhorn::new(Epsilon::Absolute(epsilon))
        };
        let out = solver.solve_with(&problem, None, observer)?;
        let plan = out.plan(&problem)?;
        let linear_cost = out.linear_cost(&problem)?;
        Ok((out, plan, linear_cost))
    })?;
    let (out, plan, linear_cost) = solved;
    let result = PyDict::new(py);
    result.set_item("f", out.f().to_owned().into_pyarray(py))?;
    result.set_item("g", out.g().to_owned().into_pyarray(py))?;
    result.set_item("plan", plan.into_pyarray(py))?;
    result.set_item("converged", out.converged())?;
    result.set_item("iterations", out.iterations())?;
    result.set_item("errors", out.errors().to_vec())?;
    result.set_item("marginal_error", out.marginal_error())?;
    result.set_item("reg_ot_cost", out.reg_ot_cost())?;
    result.set_item("linear_cost", linear_cost)?;
    Ok(result)
}
