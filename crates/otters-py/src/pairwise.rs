//! `otters.pairwise`: the k × k matrices of entropic OT costs, Sinkhorn divergences or exact
//! OT costs between k histograms on one support or k point clouds, computed in Rust
//! (`otters::pairwise`).

use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use otters::geometry::{Cosine, Euclidean, Lp, SqEuclidean};
use otters::linear::Sinkhorn;
use otters::pairwise::{Pairwise, PairwiseCost, PairwiseOutput};
use pyo3::prelude::*;

use crate::errors::invalid_input;
use crate::geometry::with_geometry;
use crate::linear::parse_epsilon;
use crate::{convert, run};

/// The values, convergence flags and iteration counts of a pairwise matrix.
type Matrices<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<bool>>,
    Bound<'py, PyArray2<usize>>,
);

#[allow(clippy::too_many_arguments)]
fn settings(
    py: Python<'_>,
    cost: &str,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
    group: usize,
) -> PyResult<Pairwise> {
    let kind: PairwiseCost = cost
        .parse()
        .map_err(|e: otters::Error| invalid_input(py, "cost", &e.to_string()))?;
    let mut sinkhorn = Sinkhorn::new(parse_epsilon(py, epsilon, relative_to)?);
    sinkhorn.threshold = threshold;
    sinkhorn.max_iterations = max_iterations;
    let mut pairwise = Pairwise::new(kind, sinkhorn);
    pairwise.group = group;
    Ok(pairwise)
}

fn matrices(py: Python<'_>, out: PairwiseOutput) -> Matrices<'_> {
    (
        out.values().to_owned().into_pyarray(py),
        out.converged().to_owned().into_pyarray(py),
        out.iterations().to_owned().into_pyarray(py),
    )
}

/// Pairwise matrix between the rows of `measures` (k × n histograms) on the support of
/// `geom` (an n × n `DenseCost` or `PointCloud`).
#[pyfunction]
#[pyo3(signature = (geom, measures, *, cost = "sinkhorn_divergence", epsilon = None, relative_to = None,
    threshold = 1e-6, max_iterations = 2000, group = 64))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pairwise_histograms<'py>(
    py: Python<'py>,
    geom: &Bound<'py, PyAny>,
    measures: &Bound<'py, PyAny>,
    cost: &str,
    epsilon: Option<f64>,
    relative_to: Option<&str>,
    threshold: f64,
    max_iterations: usize,
    group: usize,
) -> PyResult<Matrices<'py>> {
    let pairwise = settings(
        py,
        cost,
        epsilon,
        relative_to,
        threshold,
        max_iterations,
        group,
    )?;
    let h = convert::rows(measures, "measures")?;
    let guard = h.readonly();
    let view = guard.as_array();
    let out = with_geometry(py, geom, None, |g, _, obs| {
        pairwise.histograms(g, view, obs)
    })?;
    Ok(matrices(py, out))
}

/// Pairwise matrix between the point clouds `clouds` (a list of (n_i, d) arrays) with
/// `weights` (None: uniform), for an unscaled ground cost.
#[pyfunction]
#[pyo3(signature = (clouds, weights = None, *, cost = "sinkhorn_divergence", cost_fn = "sqeuclidean", p = 2.0,
    epsilon = None, threshold = 1e-6, max_iterations = 2000))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pairwise_clouds<'py>(
    py: Python<'py>,
    clouds: Vec<Bound<'py, PyAny>>,
    weights: Option<Vec<Bound<'py, PyAny>>>,
    cost: &str,
    cost_fn: &str,
    p: f64,
    epsilon: Option<f64>,
    threshold: f64,
    max_iterations: usize,
) -> PyResult<Matrices<'py>> {
    let pairwise = settings(py, cost, epsilon, None, threshold, max_iterations, 1)?;
    let arrays = clouds
        .iter()
        .map(|c| convert::points(c, "clouds"))
        .collect::<PyResult<Vec<_>>>()?;
    let guards: Vec<_> = arrays.iter().map(|a| a.readonly()).collect();
    let views: Vec<_> = guards.iter().map(|g| g.as_array()).collect();
    let weight_arrays = weights
        .map(|ws| {
            ws.iter()
                .map(|w| convert::vector(w, "weights"))
                .collect::<PyResult<Vec<_>>>()
        })
        .transpose()?;
    let weight_guards: Option<Vec<_>> = weight_arrays
        .as_ref()
        .map(|ws| ws.iter().map(|w| w.readonly()).collect());
    let weight_views: Option<Vec<_>> = weight_guards
        .as_ref()
        .map(|gs| gs.iter().map(|g| g.as_array()).collect());
    let wv = weight_views.as_deref();
    let out = run::detached(py, |obs| match cost_fn {
        "sqeuclidean" => pairwise.point_clouds(&views, wv, &SqEuclidean, obs),
        "euclidean" => pairwise.point_clouds(&views, wv, &Euclidean, obs),
        "cityblock" => pairwise.point_clouds(&views, wv, &Lp::new(1.0)?, obs),
        "minkowski" => pairwise.point_clouds(&views, wv, &Lp::new(p)?, obs),
        "cosine" => pairwise.point_clouds(&views, wv, &Cosine, obs),
        other => Err(otters::Error::InvalidParameter {
            arg: "cost_fn",
            requirement: "one of 'sqeuclidean', 'euclidean', 'cityblock', 'minkowski', 'cosine'",
            value: other.to_string(),
        }),
    })?;
    Ok(matrices(py, out))
}
