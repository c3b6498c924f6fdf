//! Gaussian and Gaussian-mixture closed forms (`otters::gaussian`): conversion and error
//! mapping only. Means come as `k × d` stacks and covariances as `k × d × d` stacks; the
//! Python layer turns single Gaussians into stacks of one.

use ndarray::{Array1, Array2, Array3, Axis};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyUntypedArrayMethods};
use otters::gaussian::{
    BuresBarycenter, Gaussian, GaussianBridge, GaussianMixture, bures_wasserstein_cost_matrix,
    bures_wasserstein_map, bures_wasserstein_paired, entropic_gaussian_ot, gmm_barycentric_map,
    gmm_ot,
};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{invalid_input, to_py};
use crate::run;

/// The argument names the Python layer may pass (error messages need `&'static str`).
const NAMES: &[&str] = &[
    "ms", "mt", "Cs", "Ct", "m_s", "m_t", "C_s", "C_t", "w_s", "w_t", "m", "C", "w", "x", "xs",
    "xt", "ws", "wt", "X", "weights", "m0", "m1", "C0", "C1", "plan",
];

fn name(given: &str) -> &'static str {
    NAMES
        .iter()
        .find(|n| **n == given)
        .copied()
        .unwrap_or("argument")
}

// Empty arrays are rebuilt from their shape: a view of an empty slice of a larger array
// (`x[:0]`) can carry strides that ndarray refuses.
fn matrix(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<Array2<f64>> {
    let array = convert::matrix(obj, arg)?;
    if array.len() == 0 {
        let shape = array.shape();
        return Ok(Array2::zeros((shape[0], shape[1])));
    }
    Ok(array.readonly().as_array().to_owned())
}

fn vector(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<Array1<f64>> {
    let array = convert::vector(obj, arg)?;
    if array.len() == 0 {
        return Ok(Array1::zeros(0));
    }
    Ok(array.readonly().as_array().to_owned())
}

/// A `k × d × d` float64 stack.
fn stack(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<Array3<f64>> {
    let py = obj.py();
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    let array = py
        .import("numpy")?
        .call_method("asarray", (obj,), Some(&kwargs))
        .map_err(|e| invalid_input(py, arg, &format!("`{arg}` must hold real numbers: {e}")))?;
    let array = array.cast_into::<PyArray3<f64>>().map_err(|_| {
        invalid_input(
            py,
            arg,
            &format!("`{arg}` must be a (k, d, d) stack of matrices"),
        )
    })?;
    if array.len() == 0 {
        let shape = array.shape();
        return Ok(Array3::zeros((shape[0], shape[1], shape[2])));
    }
    Ok(array.readonly().as_array().to_owned())
}

/// One Gaussian per row of `means` and matrix of `covs`.
fn gaussians(
    py: Python<'_>,
    (mean_arg, means): (&'static str, &Array2<f64>),
    (cov_arg, covs): (&'static str, &Array3<f64>),
) -> PyResult<Vec<Gaussian>> {
    if means.nrows() != covs.shape()[0] {
        return Err(invalid_input(
            py,
            cov_arg,
            &format!(
                "`{cov_arg}` holds {} covariances but `{mean_arg}` {} means",
                covs.shape()[0],
                means.nrows()
            ),
        ));
    }
    means
        .rows()
        .into_iter()
        .zip(covs.outer_iter())
        .map(|(m, c)| Gaussian::new_named(mean_arg, m, cov_arg, c))
        .collect::<otters::Result<Vec<_>>>()
        .map_err(|e| to_py(py, &e))
}

/// Squared Bures–Wasserstein distances between stacks: `k × l`, or `k` when `paired`.
#[pyfunction]
#[pyo3(signature = (ms, mt, Cs, Ct, paired = false, names = ("ms".to_owned(), "mt".to_owned(), "Cs".to_owned(), "Ct".to_owned())))]
#[allow(non_snake_case)]
pub(crate) fn gaussian_bures<'py>(
    py: Python<'py>,
    ms: &Bound<'py, PyAny>,
    mt: &Bound<'py, PyAny>,
    Cs: &Bound<'py, PyAny>,
    Ct: &Bound<'py, PyAny>,
    paired: bool,
    names: (String, String, String, String),
) -> PyResult<Bound<'py, PyAny>> {
    let (nms, nmt, ncs, nct) = (
        name(&names.0),
        name(&names.1),
        name(&names.2),
        name(&names.3),
    );
    let (ms, mt) = (matrix(ms, nms)?, matrix(mt, nmt)?);
    let (cs, ct) = (stack(Cs, ncs)?, stack(Ct, nct)?);
    let sources = gaussians(py, (nms, &ms), (ncs, &cs))?;
    let targets = gaussians(py, (nmt, &mt), (nct, &ct))?;
    if paired {
        let out = run::detached(py, |_| bures_wasserstein_paired(&sources, &targets))?;
        Ok(out.into_pyarray(py).into_any())
    } else {
        let out = run::detached(py, |_| bures_wasserstein_cost_matrix(&sources, &targets))?;
        Ok(out.into_pyarray(py).into_any())
    }
}

/// Symmetric square roots of a stack of covariances (validated as covariances).
#[pyfunction]
#[pyo3(signature = (C, name = "C"))]
#[allow(non_snake_case)]
pub(crate) fn gaussian_cov_sqrt<'py>(
    py: Python<'py>,
    C: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<Bound<'py, PyArray3<f64>>> {
    let arg = self::name(name);
    let c = stack(C, arg)?;
    let (k, d) = (c.shape()[0], c.shape()[1]);
    let mut out = Array3::zeros((k, d, d));
    for (i, ci) in c.outer_iter().enumerate() {
        let g = Gaussian::new_named(arg, Array1::zeros(ci.nrows()).view(), arg, ci)
            .map_err(|e| to_py(py, &e))?;
        out.index_axis_mut(Axis(0), i).assign(&g.cov_sqrt());
    }
    Ok(out.into_pyarray(py))
}

/// The Monge map `(A, b)` from `N(ms, Cs)` to `N(mt, Ct)`: `T(x) = A x + b`.
#[pyfunction]
#[pyo3(signature = (ms, mt, Cs, Ct))]
#[allow(non_snake_case)]
#[allow(clippy::type_complexity)]
pub(crate) fn gaussian_bures_map<'py>(
    py: Python<'py>,
    ms: &Bound<'py, PyAny>,
    mt: &Bound<'py, PyAny>,
    Cs: &Bound<'py, PyAny>,
    Ct: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)> {
    let (ms, mt) = (vector(ms, "ms")?, vector(mt, "mt")?);
    let (cs, ct) = (matrix(Cs, "Cs")?, matrix(Ct, "Ct")?);
    let map = run::detached(py, |_| {
        let s = Gaussian::new_named("ms", ms.view(), "Cs", cs.view())?;
        let t = Gaussian::new_named("mt", mt.view(), "Ct", ct.view())?;
        bures_wasserstein_map(&s, &t)
    })?;
    Ok((map.linear.into_pyarray(py), map.offset.into_pyarray(py)))
}

/// Weighted mean and covariance of samples (POT's `empirical_*` estimator).
#[pyfunction]
#[pyo3(signature = (x, w = None, reg = 0.0, bias = true, names = ("xs".to_owned(), "ws".to_owned())))]
#[allow(clippy::type_complexity)]
pub(crate) fn gaussian_fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    w: Option<&Bound<'py, PyAny>>,
    reg: f64,
    bias: bool,
    names: (String, String),
) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>)> {
    let (nx, nw) = (name(&names.0), name(&names.1));
    let x = convert::points(x, nx)?;
    let x = if x.len() == 0 {
        Array2::zeros((x.shape()[0], x.shape()[1]))
    } else {
        x.readonly().as_array().to_owned()
    };
    let w = match w {
        Some(w) if !w.is_none() => Some(vector(w, nw)?),
        _ => None,
    };
    let g = run::detached(py, |_| {
        Gaussian::from_samples_named(nx, x.view(), nw, w.as_ref().map(|w| w.view()), reg, bias)
    })?;
    Ok((
        g.mean().to_owned().into_pyarray(py),
        g.cov().to_owned().into_pyarray(py),
    ))
}

/// The Bures barycenter: `(mean, cov, converged, iterations, last_change)`.
#[pyfunction]
#[pyo3(signature = (m, C, weights = None, max_iterations = 1000, tolerance = 1e-9))]
#[allow(non_snake_case, clippy::type_complexity)]
pub(crate) fn gaussian_barycenter<'py>(
    py: Python<'py>,
    m: &Bound<'py, PyAny>,
    C: &Bound<'py, PyAny>,
    weights: Option<&Bound<'py, PyAny>>,
    max_iterations: usize,
    tolerance: f64,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray2<f64>>,
    bool,
    usize,
    f64,
)> {
    let (m, c) = (matrix(m, "m")?, stack(C, "C")?);
    let weights = match weights {
        Some(w) if !w.is_none() => Some(vector(w, "weights")?),
        _ => None,
    };
    let gs = gaussians(py, ("m", &m), ("C", &c))?;
    let solver = BuresBarycenter {
        max_iterations,
        tolerance,
    };
    let out = run::detached(py, |_| {
        solver.solve(&gs, weights.as_ref().map(|w| w.view()))
    })?;
    Ok((
        out.mean.into_pyarray(py),
        out.cov.into_pyarray(py),
        out.converged,
        out.iterations,
        out.last_change,
    ))
}

/// Entropic OT between two Gaussians: `(cost, linear_cost, cross_covariance)`.
#[pyfunction]
#[pyo3(signature = (ms, mt, Cs, Ct, epsilon))]
#[allow(non_snake_case)]
pub(crate) fn gaussian_entropic_ot<'py>(
    py: Python<'py>,
    ms: &Bound<'py, PyAny>,
    mt: &Bound<'py, PyAny>,
    Cs: &Bound<'py, PyAny>,
    Ct: &Bound<'py, PyAny>,
    epsilon: f64,
) -> PyResult<(f64, f64, Bound<'py, PyArray2<f64>>)> {
    let (ms, mt) = (vector(ms, "ms")?, vector(mt, "mt")?);
    let (cs, ct) = (matrix(Cs, "Cs")?, matrix(Ct, "Ct")?);
    let out = run::detached(py, |_| {
        let s = Gaussian::new_named("ms", ms.view(), "Cs", cs.view())?;
        let t = Gaussian::new_named("mt", mt.view(), "Ct", ct.view())?;
        entropic_gaussian_ot(&s, &t, epsilon)
    })?;
    Ok((
        out.cost(),
        out.linear_cost(),
        out.cross_covariance().clone().into_pyarray(py),
    ))
}

/// The Gaussian Schrödinger bridge at the times `t`: means `T × d`, covariances `T × d × d`.
#[pyfunction]
#[pyo3(signature = (m0, m1, C0, C1, sigma, t))]
#[allow(non_snake_case)]
#[allow(clippy::type_complexity)]
pub(crate) fn gaussian_bridge<'py>(
    py: Python<'py>,
    m0: &Bound<'py, PyAny>,
    m1: &Bound<'py, PyAny>,
    C0: &Bound<'py, PyAny>,
    C1: &Bound<'py, PyAny>,
    sigma: f64,
    t: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray3<f64>>)> {
    let (m0, m1) = (vector(m0, "m0")?, vector(m1, "m1")?);
    let (c0, c1) = (matrix(C0, "C0")?, matrix(C1, "C1")?);
    let times = vector(t, "t")?;
    let (means, covs) = run::detached(py, |_| {
        let s = Gaussian::new_named("m0", m0.view(), "C0", c0.view())?;
        let e = Gaussian::new_named("m1", m1.view(), "C1", c1.view())?;
        let bridge = GaussianBridge::new(&s, &e, sigma)?;
        let d = s.dim();
        let mut means = Array2::zeros((times.len(), d));
        let mut covs = Array3::zeros((times.len(), d, d));
        for (k, &tk) in times.iter().enumerate() {
            let (m, c) = bridge.marginal(tk)?;
            means.row_mut(k).assign(&m);
            covs.index_axis_mut(Axis(0), k).assign(&c);
        }
        Ok((means, covs))
    })?;
    Ok((means.into_pyarray(py), covs.into_pyarray(py)))
}

fn mixture(
    py: Python<'_>,
    (m_arg, m): (&'static str, &Bound<'_, PyAny>),
    (c_arg, c): (&'static str, &Bound<'_, PyAny>),
    (w_arg, w): (&'static str, &Bound<'_, PyAny>),
) -> PyResult<GaussianMixture> {
    let (m, c, w) = (matrix(m, m_arg)?, stack(c, c_arg)?, vector(w, w_arg)?);
    GaussianMixture::new_named(m_arg, m.view(), c_arg, c.view(), w_arg, w.view())
        .map_err(|e| to_py(py, &e))
}

/// GMM-OT: `(loss, plan, cost_matrix, u, v, converged)`.
#[pyfunction]
#[pyo3(signature = (m_s, m_t, C_s, C_t, w_s, w_t))]
#[allow(non_snake_case, clippy::type_complexity)]
pub(crate) fn gmm_ot_solve<'py>(
    py: Python<'py>,
    m_s: &Bound<'py, PyAny>,
    m_t: &Bound<'py, PyAny>,
    C_s: &Bound<'py, PyAny>,
    C_t: &Bound<'py, PyAny>,
    w_s: &Bound<'py, PyAny>,
    w_t: &Bound<'py, PyAny>,
) -> PyResult<(
    f64,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    bool,
)> {
    let s = mixture(py, ("m_s", m_s), ("C_s", C_s), ("w_s", w_s))?;
    let t = mixture(py, ("m_t", m_t), ("C_t", C_t), ("w_t", w_t))?;
    let out = run::detached(py, |_| gmm_ot(&s, &t))?;
    Ok((
        out.loss(),
        out.plan().into_pyarray(py),
        out.cost_matrix().clone().into_pyarray(py),
        out.exact().f().to_owned().into_pyarray(py),
        out.exact().g().to_owned().into_pyarray(py),
        out.exact().converged(),
    ))
}

/// The barycentric GMM-OT map applied to the rows of `x`.
#[pyfunction]
#[pyo3(signature = (x, m_s, m_t, C_s, C_t, w_s, w_t, plan))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub(crate) fn gmm_map<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    m_s: &Bound<'py, PyAny>,
    m_t: &Bound<'py, PyAny>,
    C_s: &Bound<'py, PyAny>,
    C_t: &Bound<'py, PyAny>,
    w_s: &Bound<'py, PyAny>,
    w_t: &Bound<'py, PyAny>,
    plan: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let s = mixture(py, ("m_s", m_s), ("C_s", C_s), ("w_s", w_s))?;
    let t = mixture(py, ("m_t", m_t), ("C_t", C_t), ("w_t", w_t))?;
    let (x, plan) = (matrix(x, "x")?, matrix(plan, "plan")?);
    let out = run::detached(py, |_| gmm_barycentric_map(&s, &t, plan.view(), x.view()))?;
    Ok(out.into_pyarray(py))
}

/// Log-densities of each component (`n × k`, weights not included) at the rows of `x`.
#[pyfunction]
#[pyo3(signature = (x, m, C, names = ("m".to_owned(), "C".to_owned())))]
#[allow(non_snake_case)]
pub(crate) fn gaussian_logpdf<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    m: &Bound<'py, PyAny>,
    C: &Bound<'py, PyAny>,
    names: (String, String),
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (nm, nc) = (name(&names.0), name(&names.1));
    let (x, m, c) = (matrix(x, "x")?, matrix(m, nm)?, stack(C, nc)?);
    let gs = gaussians(py, (nm, &m), (nc, &c))?;
    let out = run::detached(py, |_| {
        let mut out = Array2::zeros((x.nrows(), gs.len()));
        for (k, g) in gs.iter().enumerate() {
            out.column_mut(k).assign(&g.log_pdf(x.view())?);
        }
        Ok(out)
    })?;
    Ok(out.into_pyarray(py))
}
