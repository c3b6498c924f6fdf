//! Wasserstein barycenters: fixed support (any dense cost), on a grid (convolutional), and
//! free support.

use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use otters::barycenter::{
    BarycenterInput, FixedSupportBarycenter, FreeSupportBarycenter, FreeSupportInput,
    convolutional_barycenter_with,
};
use otters::geometry::{DenseCost, Grid};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::invalid_input;
use crate::run;

fn owned_matrix(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<Array2<f64>> {
    Ok(convert::matrix(obj, arg)?.readonly().as_array().to_owned())
}

fn owned_vector(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<Array1<f64>> {
    Ok(convert::vector(obj, arg)?.readonly().as_array().to_owned())
}

fn optional_vector(
    obj: Option<&Bound<'_, PyAny>>,
    arg: &'static str,
) -> PyResult<Option<Array1<f64>>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(owned_vector(o, arg)?)),
        _ => Ok(None),
    }
}

/// The fixed-support entropic barycenter of the rows of `measures` (`n_hists × n`) for the
/// cost `cost` (`n × N`, shared by all inputs): balanced, unbalanced (`rho` finite) or
/// debiased (`debiased`, with `cost` square: the barycenter support is the inputs').
/// Returns `(barycenter, iterations, error, converged)`.
#[pyfunction]
#[pyo3(signature = (measures, cost, epsilon, lambdas = None, threshold = 1e-9, max_iterations = 10000, rho = f64::INFINITY, debiased = false))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) fn solve_barycenter<'py>(
    py: Python<'py>,
    measures: &Bound<'py, PyAny>,
    cost: &Bound<'py, PyAny>,
    epsilon: f64,
    lambdas: Option<&Bound<'py, PyAny>>,
    threshold: f64,
    max_iterations: usize,
    rho: f64,
    debiased: bool,
) -> PyResult<(Bound<'py, PyArray1<f64>>, usize, f64, bool)> {
    let measures = owned_matrix(measures, "measures")?;
    let cost = owned_matrix(cost, "cost")?;
    let lambdas = optional_vector(lambdas, "lambdas")?;
    let solver = FixedSupportBarycenter {
        epsilon,
        threshold,
        max_iterations,
        rho,
    };
    let out = run::detached(py, |obs| {
        let geom = DenseCost::new(cost.view())?;
        let inputs: Vec<BarycenterInput<'_>> = measures
            .rows()
            .into_iter()
            .map(|row| BarycenterInput::new(&geom, row))
            .collect();
        let lambdas = lambdas.as_ref().map(|l| l.view());
        if debiased {
            solver.solve_debiased_with(&inputs, lambdas, &geom, obs)
        } else {
            solver.solve_with(&inputs, lambdas, obs)
        }
    })?;
    Ok((
        out.barycenter().to_owned().into_pyarray(py),
        out.iterations(),
        out.error(),
        out.converged(),
    ))
}

/// The convolutional barycenter of the rows of `measures` (`n_hists × N`, row-major over the
/// grid) on the grid with the given `axes` and cost `Σ_d |x_d − y_d|^power`: balanced,
/// unbalanced (`rho` finite) or debiased. Returns `(barycenter, iterations, error,
/// converged)`.
#[pyfunction]
#[pyo3(signature = (measures, axes, epsilon, power = 2.0, lambdas = None, threshold = 1e-9, max_iterations = 10000, rho = f64::INFINITY, debiased = false))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) fn solve_grid_barycenter<'py>(
    py: Python<'py>,
    measures: &Bound<'py, PyAny>,
    axes: Vec<Bound<'py, PyAny>>,
    epsilon: f64,
    power: f64,
    lambdas: Option<&Bound<'py, PyAny>>,
    threshold: f64,
    max_iterations: usize,
    rho: f64,
    debiased: bool,
) -> PyResult<(Bound<'py, PyArray1<f64>>, usize, f64, bool)> {
    let measures = owned_matrix(measures, "measures")?;
    let axes = axes
        .iter()
        .map(|a| owned_vector(a, "axes"))
        .collect::<PyResult<Vec<_>>>()?;
    let lambdas = optional_vector(lambdas, "lambdas")?;
    let solver = FixedSupportBarycenter {
        epsilon,
        threshold,
        max_iterations,
        rho,
    };
    let out = run::detached(py, |obs| {
        let views: Vec<_> = axes.iter().map(|a| a.view()).collect();
        let grid = Grid::with_power(&views, power)?;
        convolutional_barycenter_with(
            &grid,
            measures.view(),
            lambdas.as_ref().map(|l| l.view()),
            &solver,
            debiased,
            obs,
        )
    })?;
    Ok((
        out.barycenter().to_owned().into_pyarray(py),
        out.iterations(),
        out.error(),
        out.converged(),
    ))
}

/// The free-support barycenter of the point clouds `locations` (each `n_k × d`) with
/// `weights`, from `x_init` (`N × d`). Returns `(points, displacements, cost, converged)`.
#[pyfunction]
#[pyo3(signature = (locations, weights, x_init, a = None, lambdas = None, max_iterations = 100, threshold = 1e-7))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) fn solve_free_support_barycenter<'py>(
    py: Python<'py>,
    locations: Vec<Bound<'py, PyAny>>,
    weights: Vec<Bound<'py, PyAny>>,
    x_init: &Bound<'py, PyAny>,
    a: Option<&Bound<'py, PyAny>>,
    lambdas: Option<&Bound<'py, PyAny>>,
    max_iterations: usize,
    threshold: f64,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Vec<f64>, f64, bool)> {
    if locations.len() != weights.len() {
        return Err(invalid_input(
            py,
            "measures_weights",
            &format!(
                "`measures_weights` needs one weight vector per point cloud: {} clouds, {} weight vectors",
                locations.len(),
                weights.len()
            ),
        ));
    }
    let locations = locations
        .iter()
        .map(|y| {
            Ok(convert::points(y, "measures_locations")?
                .readonly()
                .as_array()
                .to_owned())
        })
        .collect::<PyResult<Vec<_>>>()?;
    let weights = weights
        .iter()
        .map(|w| owned_vector(w, "measures_weights"))
        .collect::<PyResult<Vec<_>>>()?;
    let x_init = convert::points(x_init, "X_init")?
        .readonly()
        .as_array()
        .to_owned();
    let a = optional_vector(a, "b")?;
    let lambdas = optional_vector(lambdas, "weights")?;
    let solver = FreeSupportBarycenter {
        max_iterations,
        threshold,
        ..FreeSupportBarycenter::default()
    };
    let out = run::detached(py, |obs| {
        let inputs: Vec<FreeSupportInput<'_>> = locations
            .iter()
            .zip(&weights)
            .map(|(y, w)| FreeSupportInput::new(y.view(), w.view()))
            .collect();
        solver.solve_with(
            &inputs,
            x_init.view(),
            a.as_ref().map(|a| a.view()),
            lambdas.as_ref().map(|l| l.view()),
            obs,
        )
    })?;
    Ok((
        out.points().to_owned().into_pyarray(py),
        out.displacements().to_vec(),
        out.cost(),
        out.converged(),
    ))
}
