//! Linear OT: `solve_sinkhorn` / `solve_exact` and their output classes.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::DEFAULT_MEMORY_LIMIT;
use otters::geometry::{Axis, Geometry};
use otters::linear::{
    self as lin, Acceleration, Anderson, AssignmentFastPath, Epsilon, EpsilonScaling, ExactMethod,
    LinearProblem, LinearProblemBatch, MarginalPenalty, NetworkSimplex, Potentials, Sinkhorn,
    UnbalancedUpdates,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::{convert, run};

/// Two float64 arrays returned together.
type ArrayPair<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>);
/// The (rows, cols, values) of a sparse plan.
type Triplets<'py> = (
    Bound<'py, PyArray1<usize>>,
    Bound<'py, PyArray1<usize>>,
    Bound<'py, PyArray1<f64>>,
);
use crate::errors::invalid_input;
use crate::geometry::{with_cloud, with_geometry};

pub(crate) fn penalty(
    py: Python<'_>,
    rho: Option<f64>,
    kind: &str,
    arg: &'static str,
) -> PyResult<MarginalPenalty> {
    match (rho, kind) {
        (None, _) => Ok(MarginalPenalty::Hard),
        (Some(rho), "kl") => Ok(MarginalPenalty::Kl { rho }),
        (Some(rho), "tv") => Ok(MarginalPenalty::TotalVariation { rho }),
        (Some(_), other) => Err(invalid_input(
            py,
            arg,
            &format!("unknown penalty '{other}'; use 'kl' or 'tv'"),
        )),
    }
}

/// ε from `epsilon` (absolute, or a factor when `relative_to` names a cost statistic).
pub(crate) fn parse_epsilon(
    py: Python<'_>,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
) -> PyResult<Epsilon> {
    Ok(match (epsilon, relative_to) {
        (None, None) => Epsilon::default(),
        (Some(e), None) => Epsilon::Absolute(e),
        (e, Some(rel)) => {
            let x = e.unwrap_or(0.05);
            match rel {
                "mean" => Epsilon::RelativeToMean(x),
                "max" => Epsilon::RelativeToMax(x),
                "std" => Epsilon::RelativeToStd(x),
                other => {
                    return Err(invalid_input(
                        py,
                        "relative_to",
                        &format!("unknown relative_to '{other}'; use 'mean', 'max' or 'std'"),
                    ));
                }
            }
        }
    })
}

/// Starting source potential for Sinkhorn on a point cloud (`otters.Sinkhorn(initializer=...)`):
/// "gaussian" (squared Euclidean clouds), "sorting" (1-D squared Euclidean clouds) or
/// "subsample" (any cost; `size` points, `seed`).
#[pyfunction]
#[pyo3(signature = (geom, a, b, method, *, epsilon = None, relative_to = None, size = 256, seed = 0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sinkhorn_init<'py>(
    py: Python<'py>,
    geom: &Bound<'py, PyAny>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    method: &str,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    size: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let Ok(cloud) = geom.cast::<crate::geometry::PointCloud>() else {
        return Err(invalid_input(
            py,
            "initializer",
            "initializers need a PointCloud geometry",
        ));
    };
    let eps = parse_epsilon(py, epsilon, relative_to)?;
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (av, bv) = (ag.as_array(), bg.as_array());
    let inner = &cloud.get().inner;
    let f = match method {
        "gaussian" => {
            let crate::geometry::Cloud::SqEuclidean(c) = inner else {
                return Err(invalid_input(
                    py,
                    "initializer",
                    "the gaussian initializer needs the sqeuclidean cost",
                ));
            };
            run::detached(py, |_| {
                otters::gaussian::gaussian_init(c.x(), c.y(), av, bv, c.scale())
            })?
        }
        "sorting" => {
            let crate::geometry::Cloud::SqEuclidean(c) = inner else {
                return Err(invalid_input(
                    py,
                    "initializer",
                    "the sorting initializer needs the sqeuclidean cost",
                ));
            };
            run::detached(py, |_| lin::sorting_init(c.x(), c.y(), av, bv, c.scale()))?
        }
        "subsample" => run::detached(py, |_| {
            crate::geometry::with_cloud!(inner, c => {
                let e = eps.resolve(|| c.summary())?;
                lin::subsample_init(c, bv, e, size, seed)
            })
        })?,
        other => {
            return Err(invalid_input(
                py,
                "initializer",
                &format!("unknown initializer '{other}'; use 'gaussian', 'sorting' or 'subsample'"),
            ));
        }
    };
    Ok(f.into_pyarray(py))
}

/// Log-domain Sinkhorn on a geometry (see `otters.Sinkhorn`).
#[pyfunction]
#[pyo3(signature = (geom, a, b, *, epsilon = None, relative_to = None, rho_a = None, rho_b = None, penalty_kind = "kl",
    threshold = 1e-6, max_iterations = 2000, min_iterations = 0, scaling_decay = None, translation_invariant = true,
    acceleration = "anderson", omega = None, anderson_memory = 8, init_f = None, init_g = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_sinkhorn(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    rho_a: Option<f64>,
    rho_b: Option<f64>,
    penalty_kind: &str,
    threshold: f64,
    max_iterations: usize,
    min_iterations: usize,
    scaling_decay: Option<f64>,
    translation_invariant: bool,
    acceleration: &str,
    omega: Option<f64>,
    anderson_memory: usize,
    init_f: Option<&Bound<'_, PyAny>>,
    init_g: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<SinkhornOutput>> {
    let eps = parse_epsilon(py, epsilon, relative_to)?;
    let solver = Sinkhorn {
        epsilon: eps,
        threshold,
        max_iterations,
        min_iterations,
        scaling: scaling_decay.map_or(EpsilonScaling::None, EpsilonScaling::from_max_cost),
        unbalanced_updates: if translation_invariant {
            UnbalancedUpdates::TranslationInvariant
        } else {
            UnbalancedUpdates::Standard
        },
        acceleration: match (acceleration, omega) {
            ("anderson", _) => Acceleration::Anderson(Anderson::new(anderson_memory)),
            ("adaptive", _) => Acceleration::AdaptiveRelaxation,
            ("none", _) => Acceleration::None,
            ("relaxation", Some(w)) => Acceleration::Relaxation(w),
            (other, _) => {
                return Err(invalid_input(
                    py,
                    "acceleration",
                    &format!(
                        "unknown acceleration '{other}'; use 'anderson', 'adaptive', 'none' or 'relaxation' with omega"
                    ),
                ));
            }
        },
    };
    let (pa, pb) = (
        penalty(py, rho_a, penalty_kind, "rho_a")?,
        penalty(py, rho_b, penalty_kind, "rho_b")?,
    );
    let (a, b) = (convert::rows(a, "a")?, convert::rows(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (av, bv) = (ag.as_array(), bg.as_array());
    let init = match (init_f, init_g) {
        (Some(f), Some(g)) if !f.is_none() && !g.is_none() => {
            Some((convert::rows(f, "init_f")?, convert::rows(g, "init_g")?))
        }
        (None, None) => None,
        (Some(f), Some(g)) if f.is_none() && g.is_none() => None,
        _ => {
            return Err(invalid_input(
                py,
                "init",
                "give both init_f and init_g, or neither",
            ));
        }
    };
    let init_guards = init.as_ref().map(|(f, g)| (f.readonly(), g.readonly()));
    let init_views = init_guards
        .as_ref()
        .map(|(f, g)| (f.as_array(), g.as_array()));
    let outputs = with_geometry(py, geom, None, |g, _, obs| {
        let batch = LinearProblemBatch::new(g, av, bv, pa, pb)?;
        let starts: Option<Vec<Potentials<'_>>> = init_views.map(|(f, g)| {
            fn pick<'v>(v: ndarray::ArrayView2<'v, f64>, p: usize) -> ndarray::ArrayView1<'v, f64> {
                let r = if v.nrows() == 1 {
                    0
                } else {
                    p.min(v.nrows() - 1)
                };
                v.index_axis_move(ndarray::Axis(0), r)
            }
            (0..batch.len())
                .map(|p| Potentials {
                    f: pick(f, p),
                    g: pick(g, p),
                })
                .collect()
        });
        if let Some((f, g)) = init_views {
            for (arg, rows) in [("init_f", f.nrows()), ("init_g", g.nrows())] {
                if rows != 1 && rows != batch.len() {
                    return Err(otters::Error::Shape {
                        arg,
                        expected: format!("1 or {} rows", batch.len()),
                        got: format!("{rows} rows"),
                    });
                }
            }
        }
        solver.solve_batch_with(&batch, starts.as_deref(), obs)
    })?;
    Ok(outputs
        .into_iter()
        .map(|inner| SinkhornOutput {
            inner,
            geom: geom.clone().unbind(),
        })
        .collect())
}

/// The result of a Sinkhorn solve; queries that need the cost use the geometry it was
/// solved on.
#[pyclass(module = "otters._core", frozen)]
pub struct SinkhornOutput {
    inner: lin::SinkhornOutput,
    geom: Py<PyAny>,
}

#[pymethods]
impl SinkhornOutput {
    /// Source potential f (in cost units).
    #[getter]
    fn f<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.f().to_owned().into_pyarray(py)
    }

    /// Target potential g.
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.g().to_owned().into_pyarray(py)
    }

    /// Whether the marginal error reached the threshold.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// Marginal L1 error after each iteration.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.errors().to_vec().into_pyarray(py)
    }

    /// The final marginal L1 error.
    #[getter]
    fn marginal_error(&self) -> f64 {
        self.inner.marginal_error()
    }

    /// The threshold the solve ran with.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.threshold()
    }

    /// The absolute ε of the potentials.
    #[getter]
    fn epsilon(&self) -> f64 {
        self.inner.epsilon()
    }

    /// The dual objective (OTT's `reg_ot_cost`).
    #[getter]
    fn reg_ot_cost(&self) -> f64 {
        self.inner.reg_ot_cost()
    }

    /// The primal objective ⟨C,P⟩ + ε KL(P|a⊗b) + marginal penalties.
    #[getter]
    fn primal_cost(&self) -> f64 {
        self.inner.primal_cost()
    }

    /// Total mass of the plan.
    #[getter]
    fn plan_mass(&self) -> f64 {
        self.inner.plan_mass()
    }

    /// (P1, Pᵀ1).
    #[getter]
    fn marginals<'py>(
        &self,
        py: Python<'py>,
    ) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>) {
        let (r, c) = self.inner.marginals();
        (r.into_pyarray(py), c.into_pyarray(py))
    }

    /// ⟨C, P⟩ (POT's `sinkhorn2`); one sweep over the cost.
    #[getter]
    fn linear_cost(&self, py: Python<'_>) -> PyResult<f64> {
        let out = &self.inner;
        with_geometry(py, self.geom.bind(py), None, |g, _, _| {
            g.plan_dot_cost(&out.log_plan())
        })
    }

    /// The plan as a dense (n, m) array (refused above `max_bytes`).
    #[pyo3(signature = (max_bytes = DEFAULT_MEMORY_LIMIT))]
    fn plan<'py>(&self, py: Python<'py>, max_bytes: usize) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let out = &self.inner;
        Ok(with_geometry(py, self.geom.bind(py), None, |g, _, _| {
            g.plan_matrix(&out.log_plan(), max_bytes)
        })?
        .into_pyarray(py))
    }

    /// `Pᵀ v` (axis=0: from the source side to the target side) or `P v` (axis=1), for a
    /// vector or a matrix `v`, without materializing P.
    #[pyo3(signature = (v, axis = 0))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        v: &Bound<'py, PyAny>,
        axis: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let axis = match axis {
            0 => Axis::Cols,
            1 => Axis::Rows,
            other => {
                return Err(invalid_input(
                    py,
                    "axis",
                    &format!("axis must be 0 or 1, got {other}"),
                ));
            }
        };
        let ndim: usize = py.import("numpy")?.call_method1("ndim", (v,))?.extract()?;
        let matrix = if ndim == 1 {
            convert::vector(v, "v")?
                .call_method1("reshape", ((-1i64, 1i64),))?
                .cast_into::<PyArray2<f64>>()?
        } else {
            convert::matrix(v, "v")?
        };
        let guard = matrix.readonly();
        let view = guard.as_array();
        let out = &self.inner;
        let result = with_geometry(py, self.geom.bind(py), None, |g, _, _| {
            let (n, m) = g.shape();
            let rows = if axis == Axis::Rows { n } else { m };
            let mut dst = ndarray::Array2::zeros((rows, view.ncols()));
            g.apply_plan(axis, &out.log_plan(), view, dst.view_mut())?;
            Ok(dst)
        })?
        .into_pyarray(py);
        if ndim == 1 {
            result.call_method0("ravel")
        } else {
            Ok(result.into_any())
        }
    }

    /// The entropic map T(x) at new points (point clouds only).
    fn transport<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let out = &self.inner;
        let mapped = with_geometry(py, self.geom.bind(py), None, |_, cloud, _| match cloud {
            Some(c) => with_cloud!(c, pc => out.entropic_map(pc, view)).map(Some),
            None => Ok(None),
        })?;
        mapped.map(|m| m.into_pyarray(py)).ok_or_else(|| {
            PyTypeError::new_err(
                "transport() needs a PointCloud geometry (the map is defined on points)",
            )
        })
    }

    /// Gradient of `reg_ot_cost` w.r.t. the source weights.
    #[getter]
    fn grad_a<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.grad_a().into_pyarray(py)
    }

    /// Gradient of `reg_ot_cost` w.r.t. the target weights.
    #[getter]
    fn grad_b<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.grad_b().into_pyarray(py)
    }

    /// Gradients of `reg_ot_cost` w.r.t. the source and target points (point clouds only).
    fn grad_points<'py>(&self, py: Python<'py>) -> PyResult<ArrayPair<'py>> {
        let out = &self.inner;
        let grads = with_geometry(py, self.geom.bind(py), None, |_, cloud, _| match cloud {
            Some(c) => with_cloud!(c, pc => Ok(Some((out.grad_x(pc)?, out.grad_y(pc)?)))),
            None => Ok(None),
        })?;
        let (gx, gy) = grads
            .ok_or_else(|| PyTypeError::new_err("grad_points() needs a PointCloud geometry"))?;
        Ok((gx.into_pyarray(py), gy.into_pyarray(py)))
    }

    fn __repr__(&self) -> String {
        format!(
            "SinkhornOutput(converged={}, iterations={}, marginal_error={:.3e}, reg_ot_cost={})",
            self.inner.converged(),
            self.inner.iterations(),
            self.inner.marginal_error(),
            self.inner.reg_ot_cost()
        )
    }
}

/// Exact OT by the network simplex (see `otters.NetworkSimplex`).
#[pyfunction]
#[pyo3(signature = (geom, a, b, *, max_iterations = None, assignment = "auto"))]
pub(crate) fn solve_exact(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    max_iterations: Option<usize>,
    assignment: &str,
) -> PyResult<Vec<ExactOutput>> {
    let fast_path = match assignment {
        "auto" => AssignmentFastPath::Auto,
        "always" => AssignmentFastPath::Always,
        "off" => AssignmentFastPath::Off,
        other => {
            return Err(invalid_input(
                py,
                "assignment",
                &format!("unknown assignment '{other}'; use 'auto', 'always' or 'off'"),
            ));
        }
    };
    let solver = NetworkSimplex {
        max_iterations: max_iterations.unwrap_or(NetworkSimplex::default().max_iterations),
        assignment: fast_path,
        ..NetworkSimplex::default()
    };
    let (a, b) = (convert::rows(a, "a")?, convert::rows(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (av, bv) = (ag.as_array(), bg.as_array());
    let outputs = with_geometry(py, geom, None, |g, _, obs| {
        let batch =
            LinearProblemBatch::new(g, av, bv, MarginalPenalty::Hard, MarginalPenalty::Hard)?;
        solver.solve_batch_with(&batch, obs)
    })?;
    Ok(outputs
        .into_iter()
        .map(|inner| ExactOutput { inner })
        .collect())
}

/// The result of an exact solve.
#[pyclass(module = "otters._core", frozen)]
pub struct ExactOutput {
    inner: lin::ExactOutput,
}

#[pymethods]
impl ExactOutput {
    /// ⟨C, P⟩ at the optimum (POT's `emd2`).
    #[getter]
    fn cost(&self) -> f64 {
        self.inner.cost()
    }

    /// ⟨a, f⟩ + ⟨b, g⟩ (equal to `cost` at optimality).
    #[getter]
    fn dual_cost(&self) -> f64 {
        self.inner.dual_cost()
    }

    /// Source potential (centered so that ⟨a, f⟩ = ⟨b, g⟩).
    #[getter]
    fn f<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.f().to_owned().into_pyarray(py)
    }

    /// Target potential.
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.g().to_owned().into_pyarray(py)
    }

    /// Whether the plan is certified optimal.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// "optimal" or "max_iterations_reached".
    #[getter]
    fn status(&self) -> &'static str {
        if self.inner.converged() {
            "optimal"
        } else {
            "max_iterations_reached"
        }
    }

    /// "network_simplex" or "assignment".
    #[getter]
    fn method(&self) -> &'static str {
        match self.inner.method() {
            ExactMethod::NetworkSimplex => "network_simplex",
            ExactMethod::Assignment => "assignment",
        }
    }

    /// Pivots of the network simplex.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// L1 marginal error of the plan.
    #[getter]
    fn marginal_error(&self) -> f64 {
        self.inner.marginal_error()
    }

    /// (n, m).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        self.inner.plan().shape()
    }

    /// The nonzero entries of the plan: (rows, cols, values).
    fn plan_sparse<'py>(&self, py: Python<'py>) -> Triplets<'py> {
        let p = self.inner.plan();
        (
            p.rows().to_vec().into_pyarray(py),
            p.cols().to_vec().into_pyarray(py),
            p.values().to_vec().into_pyarray(py),
        )
    }

    /// The plan as a dense (n, m) array (refused above `max_bytes`).
    #[pyo3(signature = (max_bytes = DEFAULT_MEMORY_LIMIT))]
    fn plan<'py>(&self, py: Python<'py>, max_bytes: usize) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let dense = self
            .inner
            .plan_dense(max_bytes)
            .map_err(|e| crate::errors::to_py(py, &e))?;
        Ok(dense.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "ExactOutput(cost={}, status={}, method={})",
            self.inner.cost(),
            self.status(),
            self.method()
        )
    }
}

/// Validates a problem's data against a geometry (lengths, weights, penalties, masses).
#[pyfunction]
#[pyo3(signature = (geom, a, b, *, rho_a = None, rho_b = None, penalty_kind = "kl"))]
pub(crate) fn check_problem(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rho_a: Option<f64>,
    rho_b: Option<f64>,
    penalty_kind: &str,
) -> PyResult<(f64, f64)> {
    let (pa, pb) = (
        penalty(py, rho_a, penalty_kind, "rho_a")?,
        penalty(py, rho_b, penalty_kind, "rho_b")?,
    );
    let (a, b) = (convert::vector(a, "a")?, convert::vector(b, "b")?);
    let (ag, bg) = (a.readonly(), b.readonly());
    let (av, bv) = (ag.as_array(), bg.as_array());
    with_geometry(py, geom, None, |g, _, _| {
        Ok(LinearProblem::unbalanced(g, av, bv, pa, pb)?.masses())
    })
}
