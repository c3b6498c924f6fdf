//! Maps and semi-discrete OT: `solve_semi_discrete`, `monge_gap_from_samples`,
//! `solve_elastic` and their output classes (conversion and GIL release only).

use std::sync::Mutex;

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::geometry::{Cosine, Euclidean, Lp, PointCloud, SqEuclidean};
use otters::linear::{
    self as lin, Epsilon, LinearProblem, SemiDiscrete, SemiDiscreteProblem, Sinkhorn,
};
use otters::maps::{self, Elastic, ElasticRegularizer, ProgOt, StepSchedule};
use pyo3::prelude::*;

use crate::errors::invalid_input;
use crate::{convert, run};

/// ε from `epsilon` (absolute, or a factor of a cost statistic named by `relative_to`).
fn parse_epsilon(
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
                        "relative_epsilon",
                        &format!("unknown relative_epsilon '{other}'; use 'mean', 'max' or 'std'"),
                    ));
                }
            }
        }
    })
}

fn sinkhorn(
    py: Python<'_>,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<Sinkhorn> {
    Ok(Sinkhorn {
        threshold,
        max_iterations,
        ..Sinkhorn::new(parse_epsilon(py, epsilon, relative_to)?)
    })
}

fn elastic(py: Python<'_>, regularizer: &str, gamma: f64) -> PyResult<Elastic> {
    let kind = match regularizer {
        "l1" => ElasticRegularizer::L1,
        "sq_l2" => ElasticRegularizer::SqL2,
        other => {
            return Err(invalid_input(
                py,
                "regularizer",
                &format!("unknown regularizer '{other}'; use 'l1' or 'sq_l2'"),
            ));
        }
    };
    Elastic::new(gamma, kind).map_err(|e| crate::errors::to_py(py, &e))
}

/// Renames the `argument` of an exception (the library's names → the Python keywords).
fn rename_argument(py: Python<'_>, err: PyErr, names: &[(&str, &str)]) -> PyErr {
    let value = err.value(py);
    let current = value
        .getattr("argument")
        .ok()
        .and_then(|a| a.extract::<String>().ok());
    if let Some(current) = current
        && let Some((_, new)) = names.iter().find(|(old, _)| *old == current)
    {
        let _ = value.setattr("argument", *new);
    }
    err
}

/// A semi-discrete problem for one of the costs `solve_semi_discrete` accepts.
enum AnyProblem {
    SqEuclidean(SemiDiscreteProblem<SqEuclidean>),
    Euclidean(SemiDiscreteProblem<Euclidean>),
    Lp(SemiDiscreteProblem<Lp>),
    Cosine(SemiDiscreteProblem<Cosine>),
    Elastic(SemiDiscreteProblem<Elastic>),
}

/// Runs `$body` with `$q` bound to the problem, whatever its cost.
macro_rules! with_problem {
    ($problem:expr, $q:ident => $body:expr) => {
        match $problem {
            AnyProblem::SqEuclidean($q) => $body,
            AnyProblem::Euclidean($q) => $body,
            AnyProblem::Lp($q) => $body,
            AnyProblem::Cosine($q) => $body,
            AnyProblem::Elastic($q) => $body,
        }
    };
}

/// Semi-discrete OT by averaged SGD on the semi-dual (see `otters.maps.SemiDiscrete`).
/// Exactly one of `sampler` (a callable `k -> (k, d) array`) and `samples` (a fixed
/// `(n, d)` sample, resampled with replacement) is given.
/// `cost_fn` is one of `sqeuclidean`, `euclidean`, `cityblock`, `minkowski` (with `p`),
/// `cosine`, `elastic_l1` and `elastic_sq_l2` (with `gamma`).
#[pyfunction]
#[pyo3(signature = (y, b, *, sampler = None, samples = None, cost_fn = "sqeuclidean", p = 2.0,
    gamma = 0.0, epsilon = 0.0, batch_size = 256, max_iterations = 2000, learning_rate = 1.0,
    eval_size = 65536, threshold = 0.05, seed = 0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_semi_discrete(
    py: Python<'_>,
    y: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    sampler: Option<&Bound<'_, PyAny>>,
    samples: Option<&Bound<'_, PyAny>>,
    cost_fn: &str,
    p: f64,
    gamma: f64,
    epsilon: f64,
    batch_size: usize,
    max_iterations: usize,
    learning_rate: f64,
    eval_size: usize,
    threshold: f64,
    seed: u64,
) -> PyResult<SemiDiscreteOutput> {
    let ya = convert::points(y, "y")?;
    let ba = convert::vector(b, "b")?;
    let (yg, bg) = (ya.readonly(), ba.readonly());
    let (yv, bv) = (yg.as_array(), bg.as_array());
    let solver = SemiDiscrete {
        epsilon,
        batch_size,
        max_iterations,
        learning_rate,
        eval_size,
        threshold,
        seed,
    };
    let problem = match cost_fn {
        "sqeuclidean" => run::detached(py, |_| {
            SemiDiscreteProblem::new(yv, bv, SqEuclidean).map(AnyProblem::SqEuclidean)
        })?,
        "euclidean" => run::detached(py, |_| {
            SemiDiscreteProblem::new(yv, bv, Euclidean).map(AnyProblem::Euclidean)
        })?,
        "cityblock" | "minkowski" => {
            let p = if cost_fn == "cityblock" { 1.0 } else { p };
            let lp = Lp::new(p).map_err(|e| crate::errors::to_py(py, &e))?;
            run::detached(py, |_| {
                SemiDiscreteProblem::new(yv, bv, lp).map(AnyProblem::Lp)
            })?
        }
        "cosine" => run::detached(py, |_| {
            SemiDiscreteProblem::new(yv, bv, Cosine).map(AnyProblem::Cosine)
        })?,
        "elastic_l1" | "elastic_sq_l2" => {
            let cost = elastic(py, &cost_fn["elastic_".len()..], gamma)?;
            run::detached(py, |_| {
                SemiDiscreteProblem::new(yv, bv, cost).map(AnyProblem::Elastic)
            })?
        }
        other => {
            return Err(invalid_input(
                py,
                "cost_fn",
                &format!(
                    "unknown cost_fn '{other}'; use 'sqeuclidean', 'euclidean', 'cityblock', \
                     'minkowski', 'cosine', 'elastic_l1' or 'elastic_sq_l2'"
                ),
            ));
        }
    };
    let sampler = sampler.filter(|s| !s.is_none());
    let samples = samples.filter(|s| !s.is_none());
    let inner = match (sampler, samples) {
        (Some(callable), None) => {
            if !callable.is_callable() {
                return Err(invalid_input(
                    py,
                    "sampler",
                    "`sampler` must be a callable returning a (k, d) array of samples",
                ));
            }
            let callable = callable.clone().unbind();
            // A Python exception inside the sampler ends the solve; it is re-raised as is.
            let raised: Mutex<Option<PyErr>> = Mutex::new(None);
            let result = run::detached(py, |obs| {
                let draw = |k: usize| {
                    Python::attach(|py| -> PyResult<ndarray::Array2<f64>> {
                        let batch = callable.bind(py).call1((k,))?;
                        let array = convert::points(&batch, "sampler")?;
                        Ok(array.readonly().as_array().to_owned())
                    })
                    .map_err(|err| {
                        *raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                        otters::Error::Interrupted { iteration: 0 }
                    })
                };
                with_problem!(&problem, q => solver.solve_with(q, |_, k| draw(k), obs))
            });
            if let Some(err) = raised.into_inner().unwrap_or_else(|e| e.into_inner()) {
                return Err(err);
            }
            result?
        }
        (None, Some(x)) => {
            let xa = convert::points(x, "samples")?;
            let xg = xa.readonly();
            let xv = xg.as_array();
            run::detached(
                py,
                |obs| with_problem!(&problem, q => solver.solve_empirical(q, xv, obs)),
            )
            .map_err(|e| rename_argument(py, e, &[("x", "samples")]))?
        }
        _ => {
            return Err(invalid_input(
                py,
                "sampler",
                "give exactly one of `sampler` (a callable) and `samples` (an array)",
            ));
        }
    };
    Ok(SemiDiscreteOutput { inner, problem })
}

/// The result of a semi-discrete solve.
#[pyclass(module = "otters._core", frozen)]
pub struct SemiDiscreteOutput {
    inner: lin::SemiDiscreteOutput,
    problem: AnyProblem,
}

#[pymethods]
impl SemiDiscreteOutput {
    /// The averaged dual potential g (``-inf`` for targets of zero weight).
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.g().to_owned().into_pyarray(py)
    }

    /// The target weights b (normalized).
    #[getter]
    fn b<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        with_problem!(&self.problem, q => q.b().to_owned().into_pyarray(py))
    }

    /// The regularization ε (0: hard assignments).
    #[getter]
    fn epsilon(&self) -> f64 {
        self.inner.epsilon()
    }

    /// Iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// The batch estimate of ``sum_j |mean assignment_j - b_j|`` at every iteration.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.errors().to_vec().into_pyarray(py)
    }

    /// The mean assignment of the returned g, measured on fresh samples.
    #[getter]
    fn frequencies<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.frequencies().to_owned().into_pyarray(py)
    }

    /// ``sum_j |frequencies_j - b_j|``.
    #[getter]
    fn marginal_error(&self) -> f64 {
        self.inner.marginal_error()
    }

    /// ``max_j |frequencies_j - b_j|``.
    #[getter]
    fn max_deviation(&self) -> f64 {
        self.inner.max_deviation()
    }

    /// Whether the marginal error is at most the threshold.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// The semi-dual objective estimated on the evaluation samples (≈ the OT cost).
    #[getter]
    fn dual_cost(&self) -> f64 {
        self.inner.dual_cost()
    }

    /// Hard assignment ``argmin_j c(x, y_j) - g_j - ε log b_j`` of new points.
    fn assign<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<usize>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let labels = run::detached(
            py,
            |_| with_problem!(&self.problem, q => self.inner.assign(q, view)),
        )?;
        Ok(labels.into_pyarray(py))
    }

    /// Assignment weights (k, m) of new points: soft for ε > 0, one-hot for ε = 0.
    fn assignment_weights<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let w = run::detached(
            py,
            |_| with_problem!(&self.problem, q => self.inner.assignment_weights(q, view)),
        )?;
        Ok(w.into_pyarray(py))
    }

    /// The map ``sum_j w_j(x) y_j`` of new points (``y_{assign(x)}`` at ε = 0).
    fn transport<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let t = run::detached(
            py,
            |_| with_problem!(&self.problem, q => self.inner.transport(q, view)),
        )?;
        Ok(t.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "SemiDiscreteOutput(m={}, epsilon={}, iterations={}, marginal_error={:.3e}, converged={})",
            self.inner.g().len(),
            self.inner.epsilon(),
            self.inner.iterations(),
            self.inner.marginal_error(),
            self.inner.converged()
        )
    }
}

/// `(value, displacement_cost, ent_reg_cost, gradient, converged)` of a Monge gap.
type MongeGapParts<'py> = (f64, f64, f64, Bound<'py, PyArray2<f64>>, bool);

/// The Monge gap and its gradient in the target points: returns
/// ``(value, displacement_cost, ent_reg_cost, gradient, converged)``.
#[pyfunction]
#[pyo3(signature = (source, target, *, cost_fn = "sqeuclidean", gamma = 0.0, epsilon = None,
    relative_to = None, threshold = 1e-6, max_iterations = 2000))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn monge_gap_from_samples<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    cost_fn: &str,
    gamma: f64,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<MongeGapParts<'py>> {
    let solver = sinkhorn(py, epsilon, relative_to, threshold, max_iterations)?;
    let cost = match cost_fn {
        "sqeuclidean" => None,
        "elastic_l1" => Some(elastic(py, "l1", gamma)?),
        "elastic_sq_l2" => Some(elastic(py, "sq_l2", gamma)?),
        other => {
            return Err(invalid_input(
                py,
                "cost_fn",
                &format!(
                    "unknown cost_fn '{other}'; use 'sqeuclidean', 'elastic_l1' or 'elastic_sq_l2'"
                ),
            ));
        }
    };
    let (xa, ta) = (
        convert::points(source, "source")?,
        convert::points(target, "target")?,
    );
    let (xg, tg) = (xa.readonly(), ta.readonly());
    let (xv, tv) = (xg.as_array(), tg.as_array());
    let gap = run::detached(py, |_| match cost {
        None => maps::monge_gap_from_samples(xv, tv, SqEuclidean, &solver),
        Some(c) => maps::monge_gap_from_samples(xv, tv, c, &solver),
    })
    .map_err(|e| rename_argument(py, e, &[("x", "source"), ("y", "target")]))?;
    Ok((
        gap.value,
        gap.displacement_cost,
        gap.ent_reg_cost,
        gap.gradient.into_pyarray(py),
        gap.output.converged(),
    ))
}

/// Entropic OT under an elastic cost ``h(x - y)``, ``h = ½|z|² + τ(z)``, whose output maps
/// new points (see `otters.maps.elastic_map`).
#[pyfunction]
#[pyo3(signature = (x, y, a = None, b = None, *, gamma = 1.0, regularizer = "l1", epsilon = None,
    relative_to = None, threshold = 1e-6, max_iterations = 2000))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_elastic(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    a: Option<&Bound<'_, PyAny>>,
    b: Option<&Bound<'_, PyAny>>,
    gamma: f64,
    regularizer: &str,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<ElasticMapOutput> {
    let solver = sinkhorn(py, epsilon, relative_to, threshold, max_iterations)?;
    let cost = elastic(py, regularizer, gamma)?;
    let (xa, ya) = (convert::points(x, "x")?, convert::points(y, "y")?);
    let (xg, yg) = (xa.readonly(), ya.readonly());
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let weights = |w: Option<&Bound<'_, PyAny>>, arg: &'static str, len: usize| match w
        .filter(|w| !w.is_none())
    {
        Some(w) => Ok(convert::vector(w, arg)?.readonly().as_array().to_owned()),
        None => Ok::<_, PyErr>(ndarray::Array1::from_elem(len, 1.0 / len.max(1) as f64)),
    };
    let (av, bv) = (weights(a, "a", xv.nrows())?, weights(b, "b", yv.nrows())?);
    let (cloud, inner) = run::detached(py, |obs| {
        let cloud = PointCloud::new(xv, yv, cost)?;
        let problem = LinearProblem::new(&cloud, av, bv)?;
        let out = solver.solve_with(&problem, None, obs)?;
        Ok((cloud, out))
    })?;
    Ok(ElasticMapOutput { cloud, inner })
}

/// Entropic OT under an elastic cost; ``transport(x)`` is its entropic map
/// ``x - prox_τ(sum_j w_j(x) ∇h(x - y_j))``.
#[pyclass(module = "otters._core", frozen)]
pub struct ElasticMapOutput {
    cloud: PointCloud<Elastic>,
    inner: lin::SinkhornOutput,
}

#[pymethods]
impl ElasticMapOutput {
    /// Source potential f.
    #[getter]
    fn f<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.f().to_owned().into_pyarray(py)
    }

    /// Target potential g.
    #[getter]
    fn g<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.g().to_owned().into_pyarray(py)
    }

    /// The ε used.
    #[getter]
    fn epsilon(&self) -> f64 {
        self.inner.epsilon()
    }

    /// The strength γ of the regularizer.
    #[getter]
    fn gamma(&self) -> f64 {
        self.cloud.cost_fn().gamma()
    }

    /// Whether Sinkhorn reached its threshold.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// Sinkhorn iterations done.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }

    /// The regularized OT cost (KL convention, as ``SinkhornOutput.reg_ot_cost``).
    #[getter]
    fn reg_ot_cost(&self) -> f64 {
        self.inner.reg_ot_cost()
    }

    /// The elastic entropic map at new points x (k, d).
    fn transport<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let t = run::detached(py, |_| maps::elastic_map(&self.inner, &self.cloud, view))?;
        Ok(t.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        let (n, m) = otters::geometry::Geometry::shape(&self.cloud);
        format!(
            "ElasticMapOutput({n} x {m}, gamma={}, epsilon={}, converged={})",
            self.gamma(),
            self.inner.epsilon(),
            self.inner.converged()
        )
    }
}

/// ProgOT (progressive entropic maps, squared Euclidean cost): `steps` stages, each moving
/// the points by `alphas[k]` (constant speed `1/(K - k)` when `None`) along its entropic map.
#[pyfunction]
#[pyo3(signature = (x, y, *, steps = 4, alphas = None, epsilon = None, relative_to = None,
    threshold = 1e-6, max_iterations = 2000))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_progot(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    steps: usize,
    alphas: Option<Vec<f64>>,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<ProgOtOutput> {
    let solver = ProgOt {
        steps,
        schedule: alphas.map_or(StepSchedule::ConstantSpeed, StepSchedule::Given),
        sinkhorn: sinkhorn(py, epsilon, relative_to, threshold, max_iterations)?,
    };
    let (xa, ya) = (convert::points(x, "x")?, convert::points(y, "y")?);
    let (xg, yg) = (xa.readonly(), ya.readonly());
    let (xv, yv) = (xg.as_array(), yg.as_array());
    let inner = run::detached(py, |_| solver.solve(xv, yv))
        .map_err(|e| rename_argument(py, e, &[("schedule", "alphas")]))?;
    Ok(ProgOtOutput { inner })
}

/// The stages of a ProgOT run: final points, out-of-sample map, last coupling.
#[pyclass(module = "otters._core", frozen)]
pub struct ProgOtOutput {
    inner: maps::ProgOtOutput,
}

#[pymethods]
impl ProgOtOutput {
    /// Where each source point went, (n, d).
    #[getter]
    fn points<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.points().clone().into_pyarray(py)
    }

    /// Whether every stage's Sinkhorn solve converged.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.converged()
    }

    /// The ProgOT map at new points (k, d): the same stages.
    fn transport<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let xa = convert::points(x, "x")?;
        let guard = xa.readonly();
        let view = guard.as_array();
        let t = run::detached(py, |_| self.inner.transport(view))?;
        Ok(t.into_pyarray(py))
    }

    /// The coupling of the last stage between the source points and y, (n, m).
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p = run::detached(py, |_| self.inner.plan())?;
        Ok(p.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        format!(
            "ProgOtOutput(n={}, stages={}, converged={})",
            self.inner.points().nrows(),
            self.inner.stage_outputs().count(),
            self.inner.converged()
        )
    }
}
