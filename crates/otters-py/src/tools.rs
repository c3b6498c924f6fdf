//! Tools: soft sorting, coupling sampling and sharpness, Sinkformer attention, anchor
//! distances (conversion and dispatch only; see `otters::tools`).

use ndarray::{Array1, ArrayView1};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::geometry::LogPlan;
use otters::linear::{Epsilon, EpsilonScaling};
use otters::tools::{
    self as tl, AnchorDistributions, EntropicCoupling, Sharpness, SinkformerStop, SoftOperator,
    SoftSort, Squashing,
};
use pyo3::prelude::*;

use crate::errors::invalid_input;
use crate::geometry::with_geometry;
use crate::{convert, run};

/// The six sharpness measures, as returned to Python.
type SharpnessTuple<'py> = (
    f64,
    f64,
    f64,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    f64,
);

fn sharpness_tuple(py: Python<'_>, s: Sharpness) -> SharpnessTuple<'_> {
    (
        s.entropy,
        s.conditional_entropy,
        s.normalized_entropy,
        s.effective_partners.into_pyarray(py),
        s.argmax_mass.into_pyarray(py),
        s.argmax_fraction,
    )
}

/// A soft sorting operator on every row of `x`: `(values, converged, marginal_error)`.
#[pyfunction]
#[pyo3(signature = (x, operator, *, epsilon = 1e-2, num_targets = None, k = None,
    target_weights = None, q = None, weight = None, squashing = "sigmoid", threshold = 1e-6,
    max_iterations = 2000, scaling_decay = Some(0.9)))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn soft_sort_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    operator: &str,
    epsilon: f64,
    num_targets: Option<usize>,
    k: Option<usize>,
    target_weights: Option<&Bound<'py, PyAny>>,
    q: Option<&Bound<'py, PyAny>>,
    weight: Option<f64>,
    squashing: &str,
    threshold: f64,
    max_iterations: usize,
    scaling_decay: Option<f64>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, bool, f64)> {
    let x = convert::matrix(x, "x")?;
    let squashing = match squashing {
        "sigmoid" => Squashing::Sigmoid,
        "identity" => Squashing::Identity,
        other => {
            return Err(invalid_input(
                py,
                "squashing",
                &format!("squashing must be 'sigmoid' or 'identity', got {other:?}"),
            ));
        }
    };
    let weights = match target_weights {
        Some(w) if !w.is_none() => Some(convert::vector(w, "target_weights")?),
        _ => None,
    };
    let levels = match q {
        Some(q) if !q.is_none() => Some(convert::vector(q, "q")?),
        _ => None,
    };
    let mut soft = SoftSort::new(epsilon);
    soft.squashing = squashing;
    soft.sinkhorn.epsilon = Epsilon::Absolute(epsilon);
    soft.sinkhorn.threshold = threshold;
    soft.sinkhorn.max_iterations = max_iterations;
    soft.sinkhorn.scaling = match scaling_decay {
        Some(decay) => EpsilonScaling::from_max_cost(decay),
        None => EpsilonScaling::None,
    };
    let xg = x.readonly();
    let wg = weights.as_ref().map(|w| w.readonly());
    let qg = levels.as_ref().map(|q| q.readonly());
    let xv = xg.as_array();
    let wv = wg.as_ref().map(|w| w.as_array());
    let qv = qg.as_ref().map(|q| q.as_array());
    let op = match operator {
        "sort" => SoftOperator::Sort { num_targets },
        "topk" => SoftOperator::TopK { k: k.unwrap_or(0) },
        "ranks" => SoftOperator::Ranks {
            num_targets,
            target_weights: wv,
        },
        "quantile" => match qv {
            Some(q) => SoftOperator::Quantiles { q, weight },
            None => return Err(invalid_input(py, "q", "quantile levels `q` are required")),
        },
        other => {
            return Err(invalid_input(
                py,
                "operator",
                &format!("operator must be 'sort', 'topk', 'ranks' or 'quantile', got {other:?}"),
            ));
        }
    };
    let out = run::detached(py, |_| soft.apply_rows(xv, op))?;
    Ok((
        out.values.into_pyarray(py),
        out.converged,
        out.marginal_error,
    ))
}

/// `log w + p/ε`, `−∞` where `w = 0`.
fn log_factor(w: ArrayView1<'_, f64>, p: ArrayView1<'_, f64>, eps: f64) -> Array1<f64> {
    w.iter()
        .zip(p)
        .map(|(&w, &p)| {
            if w > 0.0 {
                w.ln() + p / eps
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect()
}

/// Pairs drawn from the entropic plan `P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε)` on `geom`:
/// `count` i.i.d. pairs, or one target per entry of `rows` when given. Returns (rows, cols).
#[pyfunction]
#[pyo3(signature = (geom, a, b, f, g, epsilon, count = 0, seed = 0, rows = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn sample_coupling<'py>(
    py: Python<'py>,
    geom: &Bound<'py, PyAny>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    f: &Bound<'py, PyAny>,
    g: &Bound<'py, PyAny>,
    epsilon: f64,
    count: usize,
    seed: u64,
    rows: Option<Vec<usize>>,
) -> PyResult<(Bound<'py, PyArray1<usize>>, Bound<'py, PyArray1<usize>>)> {
    let (a, b, f, g) = (
        convert::vector(a, "a")?,
        convert::vector(b, "b")?,
        convert::vector(f, "f")?,
        convert::vector(g, "g")?,
    );
    let (ag, bg, fg, gg) = (a.readonly(), b.readonly(), f.readonly(), g.readonly());
    let check = |w: &ArrayView1<'_, f64>, p: &ArrayView1<'_, f64>, arg: &'static str| {
        if w.len() == p.len() {
            Ok(())
        } else {
            Err(invalid_input(
                py,
                arg,
                &format!("`{arg}` must have one entry per weight"),
            ))
        }
    };
    check(&ag.as_array(), &fg.as_array(), "f")?;
    check(&bg.as_array(), &gg.as_array(), "g")?;
    let log_row = log_factor(ag.as_array(), fg.as_array(), epsilon);
    let log_col = log_factor(bg.as_array(), gg.as_array(), epsilon);
    let (pairs_rows, pairs_cols) = with_geometry(py, geom, None, |geom, _, _| {
        let plan = LogPlan {
            log_row: log_row.view(),
            log_col: log_col.view(),
            epsilon,
        };
        let coupling = EntropicCoupling::new(geom, plan)?;
        match &rows {
            Some(rows) => Ok((rows.clone(), coupling.sample_targets(rows, seed)?)),
            None => {
                let pairs = coupling.sample_pairs(count, seed)?;
                Ok((pairs.rows, pairs.cols))
            }
        }
    })?;
    Ok((pairs_rows.into_pyarray(py), pairs_cols.into_pyarray(py)))
}

/// Sharpness of the entropic plan (as [`sample_coupling`]), streamed row by row:
/// (entropy, conditional_entropy, normalized_entropy, effective_partners, argmax_mass,
/// argmax_fraction).
#[pyfunction]
pub(crate) fn coupling_sharpness<'py>(
    py: Python<'py>,
    geom: &Bound<'py, PyAny>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
    f: &Bound<'py, PyAny>,
    g: &Bound<'py, PyAny>,
    epsilon: f64,
) -> PyResult<SharpnessTuple<'py>> {
    let (a, b, f, g) = (
        convert::vector(a, "a")?,
        convert::vector(b, "b")?,
        convert::vector(f, "f")?,
        convert::vector(g, "g")?,
    );
    let (ag, bg, fg, gg) = (a.readonly(), b.readonly(), f.readonly(), g.readonly());
    if ag.as_array().len() != fg.as_array().len() || bg.as_array().len() != gg.as_array().len() {
        return Err(invalid_input(
            py,
            "f",
            "potentials must have one entry per weight",
        ));
    }
    let log_row = log_factor(ag.as_array(), fg.as_array(), epsilon);
    let log_col = log_factor(bg.as_array(), gg.as_array(), epsilon);
    let s = with_geometry(py, geom, None, |geom, _, _| {
        let plan = LogPlan {
            log_row: log_row.view(),
            log_col: log_col.view(),
            epsilon,
        };
        EntropicCoupling::new(geom, plan)?.sharpness()
    })?;
    Ok(sharpness_tuple(py, s))
}

/// Sharpness of a plan given as a dense matrix.
#[pyfunction]
pub(crate) fn plan_sharpness<'py>(
    py: Python<'py>,
    plan: &Bound<'py, PyAny>,
) -> PyResult<SharpnessTuple<'py>> {
    let plan = convert::matrix(plan, "plan")?;
    let guard = plan.readonly();
    let view = guard.as_array();
    let s = run::detached(py, |_| tl::sharpness_dense(view))?;
    Ok(sharpness_tuple(py, s))
}

/// Sinkformer attention: (output, attention or None, iterations, converged, row_error,
/// column_error). `threshold` given: stop on it within `max_iterations`; else run
/// `iterations` normalizations.
#[pyfunction]
#[pyo3(signature = (q, k, v, iterations = 3, threshold = None, max_iterations = 1000,
    return_attention = false))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn sinkformer_attention<'py>(
    py: Python<'py>,
    q: &Bound<'py, PyAny>,
    k: &Bound<'py, PyAny>,
    v: &Bound<'py, PyAny>,
    iterations: usize,
    threshold: Option<f64>,
    max_iterations: usize,
    return_attention: bool,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Option<Bound<'py, PyArray2<f64>>>,
    usize,
    bool,
    f64,
    f64,
)> {
    let (q, k, v) = (
        convert::matrix(q, "q")?,
        convert::matrix(k, "k")?,
        convert::matrix(v, "v")?,
    );
    let (qg, kg, vg) = (q.readonly(), k.readonly(), v.readonly());
    let (qv, kv, vv) = (qg.as_array(), kg.as_array(), vg.as_array());
    let stop = match threshold {
        Some(threshold) => SinkformerStop::Threshold {
            threshold,
            max_iterations,
        },
        None => SinkformerStop::Iterations(iterations),
    };
    let (out, attention) = run::detached(py, |_| {
        let out = tl::sinkformer_attention(qv, kv, vv, stop)?;
        let attention = if return_attention {
            Some(out.attention()?)
        } else {
            None
        };
        Ok((out, attention))
    })?;
    Ok((
        out.output.into_pyarray(py),
        attention.map(|a| a.into_pyarray(py)),
        out.iterations,
        out.converged,
        out.row_error,
        out.column_error,
    ))
}

fn anchors(
    x: ndarray::ArrayView2<'_, f64>,
    precomputed: bool,
    arg: &'static str,
) -> otters::Result<AnchorDistributions> {
    let result = if precomputed {
        AnchorDistributions::from_distances(x)
    } else {
        AnchorDistributions::from_points(x)
    };
    // Name the caller's argument rather than the library's generic one.
    result.map_err(|e| match e {
        otters::Error::Empty { what, .. } => otters::Error::Empty { arg, what },
        otters::Error::Shape { expected, got, .. } => otters::Error::Shape { arg, expected, got },
        otters::Error::NonFinite { index, value, .. } => {
            otters::Error::NonFinite { arg, index, value }
        }
        otters::Error::InvalidParameter {
            requirement, value, ..
        } => otters::Error::InvalidParameter {
            arg,
            requirement,
            value,
        },
        other => other,
    })
}

/// Anchor distances between two clouds: `kind` is "energy", "wasserstein" or "cost"
/// (the matrix of W₁ between anchor distributions). Returns a float or a matrix.
#[pyfunction]
#[pyo3(signature = (x, y, kind, precomputed = false))]
pub(crate) fn anchor_distance<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    kind: &str,
    precomputed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, y) = if precomputed {
        (convert::matrix(x, "x")?, convert::matrix(y, "y")?)
    } else {
        (convert::points(x, "x")?, convert::points(y, "y")?)
    };
    let (xg, yg) = (x.readonly(), y.readonly());
    let (xv, yv) = (xg.as_array(), yg.as_array());
    match kind {
        "energy" | "wasserstein" => {
            let value = run::detached(py, |_| {
                let (ax, ay) = (
                    anchors(xv, precomputed, "x")?,
                    anchors(yv, precomputed, "y")?,
                );
                if kind == "energy" {
                    Ok(tl::anchor_energy(&ax, &ay))
                } else {
                    tl::anchor_wasserstein(&ax, &ay)
                }
            })?;
            Ok(value.into_pyobject(py)?.into_any())
        }
        "cost" => {
            let cost = run::detached(py, |_| {
                let (ax, ay) = (
                    anchors(xv, precomputed, "x")?,
                    anchors(yv, precomputed, "y")?,
                );
                tl::anchor_cost_matrix(&ax, &ay)
            })?;
            Ok(cost.into_pyarray(py).into_any())
        }
        other => Err(invalid_input(
            py,
            "kind",
            &format!("kind must be 'energy', 'wasserstein' or 'cost', got {other:?}"),
        )),
    }
}
