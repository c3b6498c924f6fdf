//! Low-rank OT bindings: `solve_lowrank` over any geometry and its output.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::DEFAULT_MEMORY_LIMIT;
use otters::geometry::Axis;
use otters::linear::{self as lin, LinearProblem, LowRankInit, LowRankSinkhorn, LowRankStart};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::invalid_input;
use crate::geometry::with_geometry;
use crate::linear::penalty;

/// Low-rank Sinkhorn (see `otters.LowRankSinkhorn`).
#[pyfunction]
#[pyo3(signature = (geom, a, b, *, rank, rho_a = None, rho_b = None, penalty_kind = "kl", epsilon = 0.0,
    gamma = 10.0, threshold = 1e-5, max_iterations = 1000, min_iterations = 10, inner_threshold = 1e-5,
    inner_max_iterations = 10_000, min_g = 1e-10, init = "random", seed = 0, start = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_lowrank(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rank: usize,
    rho_a: Option<f64>,
    rho_b: Option<f64>,
    penalty_kind: &str,
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
) -> PyResult<LowRankOutput> {
    let (pa, pb) = (
        penalty(py, rho_a, penalty_kind, "rho_a")?,
        penalty(py, rho_b, penalty_kind, "rho_b")?,
    );
    let start = start_arrays(start.as_ref())?;
    let start_views = start
        .as_ref()
        .map(|(q, r, g)| (q.readonly(), r.readonly(), g.readonly()));
    let solver = LowRankSinkhorn {
        rank,
        epsilon,
        gamma,
        threshold,
        max_iterations,
        min_iterations,
        inner_threshold,
        inner_max_iterations,
        min_g,
        init: low_rank_init(py, init, seed)?,
    };
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (av, bv) = (ag.as_array(), bg.as_array());
    let start = start_views.as_ref().map(|(q, r, g)| LowRankStart {
        q: q.as_array(),
        r: r.as_array(),
        g: g.as_array(),
    });
    let inner = with_geometry(py, geom, None, |g, _, obs| {
        let problem = LinearProblem::unbalanced(g, av, bv, pa, pb)?;
        solver.solve_from(&problem, start, obs)
    })?;
    Ok(LowRankOutput { inner })
}

/// The starting factors `(q, r, g)` as arrays (errors name `init`).
#[allow(clippy::type_complexity)]
pub(crate) fn start_arrays<'py>(
    start: Option<&(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> PyResult<
    Option<(
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray1<f64>>,
    )>,
> {
    start
        .map(|(q, r, g)| {
            Ok((
                convert::matrix(q, "init")?,
                convert::matrix(r, "init")?,
                convert::vector(g, "init")?,
            ))
        })
        .transpose()
}

/// The start named by `init` (`"random"`, `"rank2"`/`"deterministic"`, `"kmeans"`).
pub(crate) fn low_rank_init(py: Python<'_>, init: &str, seed: u64) -> PyResult<LowRankInit> {
    match init {
        "random" => Ok(LowRankInit::Random { seed }),
        "rank2" | "deterministic" => Ok(LowRankInit::Rank2),
        "kmeans" => Ok(LowRankInit::KMeans { seed }),
        other => Err(invalid_input(
            py,
            "init",
            &format!("unknown init '{other}'; use 'random', 'rank2' or 'kmeans'"),
        )),
    }
}

/// A low-rank coupling P = Q diag(1/g) Rᵀ.
#[pyclass(module = "otters._core", frozen)]
pub struct LowRankOutput {
    pub(crate) inner: lin::LowRankOutput,
}

#[pymethods]
impl LowRankOutput {
    /// Q, shape (n, r): Q1 = a, Qᵀ1 = g.
    #[getter]
    fn q<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.q().to_owned().into_pyarray(py)
    }

    /// R, shape (m, r): R1 = b, Rᵀ1 = g.
    #[getter]
    fn r<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.r().to_owned().into_pyarray(py)
    }

    /// g, shape (r,).
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.g().to_owned().into_pyarray(py)
    }

    /// The objective at the factors: ⟨C, P⟩ for low-rank OT, the (fused) GW loss for
    /// low-rank GW; linear time for factored costs.
    #[getter]
    fn cost(&self) -> f64 {
        self.inner.cost()
    }

    /// Whether the iterates stopped moving and the marginals reached their target.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Outer iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// The convergence criterion after each outer iteration.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.errors().to_vec().into_pyarray(py)
    }

    /// ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁.
    #[getter]
    fn marginal_error(&self) -> f64 {
        self.inner.marginal_error()
    }

    /// The dense plan (refused above the memory limit).
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let plan = self
            .inner
            .plan(DEFAULT_MEMORY_LIMIT)
            .map_err(|e| crate::errors::to_py(py, &e))?;
        Ok(plan.into_pyarray(py))
    }

    /// P·v (axis=0) or Pᵀ·v (axis=1) for v of shape (m, k) / (n, k), without forming P.
    #[pyo3(signature = (v, axis = 0))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        v: &Bound<'py, PyAny>,
        axis: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let axis = match axis {
            0 => Axis::Rows,
            1 => Axis::Cols,
            _ => return Err(invalid_input(py, "axis", "axis must be 0 or 1")),
        };
        let v = convert::matrix(v, "v")?;
        let guard = v.readonly();
        let out = self
            .inner
            .apply(axis, guard.as_array())
            .map_err(|e| crate::errors::to_py(py, &e))?;
        Ok(out.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "LowRankOutput(rank={}, cost={}, converged={}, iterations={})",
            self.inner.g().len(),
            self.inner.cost(),
            self.inner.converged(),
            self.inner.iterations()
        )
    }
}
