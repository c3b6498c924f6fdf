//! Convolutional Wasserstein barycenters (Solomon, de Goes, Peyré, Cuturi, Butscher, Nguyen,
//! Du, Guibas 2015, *Convolutional Wasserstein distances*): the fixed-support barycenter of
//! histograms on a regular grid, whose Gibbs kernel is applied by separable 1-D sweeps
//! ([`Grid`]), never as an `N × N` matrix.
//!
//! POT's `convolutional_barycenter2d(A, reg)` places an `h × w` image on
//! `linspace(0, 1, h) × linspace(0, 1, w)` with the kernel `exp(−(x − y)²/reg)` per axis: that
//! is [`unit_grid`] with the squared Euclidean cost and `ε = reg`.

use ndarray::{Array1, ArrayView1, ArrayView2};

use super::fixed_support::{BarycenterInput, BarycenterOutput, FixedSupportBarycenter};
use crate::error::{Error, Result};
use crate::geometry::{Geometry, Grid};
use crate::observe::Observer;

/// The grid `linspace(0, 1, n_1) × … × linspace(0, 1, n_D)` with the squared Euclidean cost
/// (an axis of one point sits at 0).
///
/// # Errors
/// [`Error::Empty`] for no axis or an axis of size 0.
pub fn unit_grid(dims: &[usize]) -> Result<Grid> {
    let axes: Vec<Array1<f64>> = dims
        .iter()
        .map(|&n| Array1::linspace(0.0, 1.0, n))
        .collect();
    let views: Vec<ArrayView1<'_, f64>> = axes.iter().map(|a| a.view()).collect();
    Grid::new(&views).map_err(|e| match e {
        Error::Empty { what, .. } => Error::Empty { arg: "dims", what },
        other => other,
    })
}

/// The barycenter of the histograms in the rows of `measures` (`n_hists × N`, each flattened
/// in the grid's row-major order) on `grid` (source and target alike), with weights
/// `lambdas`, by [`FixedSupportBarycenter`] over the separable kernel.
///
/// # Examples
/// ```
/// use ndarray::Array2;
/// use otters::barycenter::{FixedSupportBarycenter, convolutional_barycenter, unit_grid};
///
/// // Two 8 × 8 images, a blob at each end of the diagonal.
/// let grid = unit_grid(&[8, 8])?;
/// let mut images = Array2::from_elem((2, 64), 1e-3);
/// images[[0, 9]] = 1.0;
/// images[[1, 54]] = 1.0;
/// for mut row in images.rows_mut() {
///     let s = row.sum();
///     row /= s;
/// }
/// let out = convolutional_barycenter(&grid, images.view(), None, &FixedSupportBarycenter::new(1e-2))?;
/// assert!(out.converged());
/// // The mass meets half-way, around pixel (3.5, 3.5).
/// let centre: f64 = [27, 28, 35, 36].iter().map(|&p| out.barycenter()[p]).sum();
/// assert!(centre > 0.3);
/// # Ok::<(), otters::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] naming `grid` when its source and target grids differ;
/// [`Error::Shape`] naming `measures` unless it has one column per grid point; the errors of
/// [`FixedSupportBarycenter::solve`].
pub fn convolutional_barycenter(
    grid: &Grid,
    measures: ArrayView2<'_, f64>,
    lambdas: Option<ArrayView1<'_, f64>>,
    solver: &FixedSupportBarycenter,
) -> Result<BarycenterOutput> {
    convolutional_barycenter_with(grid, measures, lambdas, solver, false, &Observer::new())
}

/// [`convolutional_barycenter`], debiased when `debiased` (Janati et al. 2020, see
/// [`FixedSupportBarycenter::solve_debiased`]; the grid is its own support cost), reporting
/// to (and cancellable by) `observer`.
///
/// # Errors
/// As [`convolutional_barycenter`] and [`FixedSupportBarycenter::solve_debiased`], plus
/// [`Error::Interrupted`].
pub fn convolutional_barycenter_with(
    grid: &Grid,
    measures: ArrayView2<'_, f64>,
    lambdas: Option<ArrayView1<'_, f64>>,
    solver: &FixedSupportBarycenter,
    debiased: bool,
    observer: &Observer<'_>,
) -> Result<BarycenterOutput> {
    if grid.dims() != grid.target_dims() {
        return Err(Error::invalid(
            "grid",
            "a convolutional barycenter needs one grid (source and target alike)",
            format!("{:?} -> {:?}", grid.dims(), grid.target_dims()),
        ));
    }
    let (n, _) = grid.shape();
    if measures.ncols() != n {
        return Err(Error::Shape {
            arg: "measures",
            expected: format!("{n} columns (one per grid point)"),
            got: format!("{} columns", measures.ncols()),
        });
    }
    let inputs: Vec<BarycenterInput<'_>> = measures
        .rows()
        .into_iter()
        .map(|row| BarycenterInput::new(grid, row))
        .collect();
    if debiased {
        solver.solve_debiased_with(&inputs, lambdas, grid, observer)
    } else {
        solver.solve_with(&inputs, lambdas, observer)
    }
}
