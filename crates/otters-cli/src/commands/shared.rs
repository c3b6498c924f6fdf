//! What `otters solve` and its quadratic methods share: geometries built from the arguments
//! (in the requested precision), weights read from files, and the outcome of any solver.

use anyhow::Result;
use ndarray::{Array1, Array2, ArrayView2};
use otters::geometry::{
    Cosine, CostFn, DenseCost, Euclidean, Geometry, Lp, PointCloud, Precision, ScaleCost,
    SqEuclidean,
};

use super::UsageError;
use crate::args::{CostFnArg, ScaleArg};
use crate::io::{InputSpec, read_vector};

pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

pub(crate) fn scale(arg: ScaleArg) -> ScaleCost {
    match arg {
        ScaleArg::None => ScaleCost::None,
        ScaleArg::Max => ScaleCost::Max,
        ScaleArg::Mean => ScaleCost::Mean,
        ScaleArg::Median => ScaleCost::Median,
    }
}

fn boxed<C: CostFn + 'static>(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    cost: C,
    scale: ScaleCost,
    precision: Precision,
) -> Result<Box<dyn Geometry>> {
    let cloud = PointCloud::new(x, y, cost)?.with_scale(scale)?;
    Ok(match precision {
        Precision::F32 => Box::new(cloud.with_precision::<f32>()),
        _ => Box::new(cloud),
    })
}

/// A point cloud geometry for `--cost-fn`, its tiles computed in `precision`.
pub(crate) fn cloud(
    x: &Array2<f64>,
    y: &Array2<f64>,
    cost_fn: CostFnArg,
    p: f64,
    scale: ScaleCost,
    precision: Precision,
) -> Result<Box<dyn Geometry>> {
    let (x, y) = (x.view(), y.view());
    match cost_fn {
        CostFnArg::Sqeuclidean => boxed(x, y, SqEuclidean, scale, precision),
        CostFnArg::Euclidean => boxed(x, y, Euclidean, scale, precision),
        CostFnArg::L1 => boxed(x, y, Lp::new(1.0)?, scale, precision),
        CostFnArg::Lp => boxed(x, y, Lp::new(p)?, scale, precision),
        CostFnArg::Cosine => boxed(x, y, Cosine, scale, precision),
    }
}

/// A stored cost matrix, kept in `precision` (a float32 copy of the matrix read).
pub(crate) fn dense(
    c: Array2<f64>,
    scale: ScaleCost,
    precision: Precision,
) -> Result<Box<dyn Geometry>> {
    Ok(match precision {
        Precision::F32 => Box::new(DenseCost::new(c.mapv(|v| v as f32))?.with_scale(scale)?),
        _ => Box::new(DenseCost::new(c)?.with_scale(scale)?),
    })
}

/// Source and target points, when the input was points.
pub(crate) type Clouds = (Array2<f64>, Array2<f64>);

/// The outcome of any solver, reduced to what the CLI writes.
pub(crate) struct Solved {
    pub(crate) solver: String,
    /// Dual potentials (linear OT only).
    pub(crate) f: Option<Array1<f64>>,
    pub(crate) g: Option<Array1<f64>>,
    pub(crate) cost: f64,
    pub(crate) regularized_cost: Option<f64>,
    /// The Sinkhorn divergence (`--method divergence` only).
    pub(crate) divergence: Option<f64>,
    pub(crate) converged: bool,
    pub(crate) iterations: usize,
    pub(crate) marginal_error: f64,
    pub(crate) transported_mass: f64,
    pub(crate) epsilon: Option<f64>,
    /// Sparse entries for exact OT.
    pub(crate) sparse: Option<Vec<(usize, usize, f64)>>,
    /// The dense plan, when entropic and small enough.
    pub(crate) dense: Option<Array2<f64>>,
}

/// What a solve returns to the writer: the outcome, the points (for plots) and the shape.
pub(crate) type SolveResult = (otters::Result<Solved>, Option<Clouds>, (usize, usize));

/// The weights given for `role`, or uniform weights of length `len`.
pub(crate) fn weights(specs: &[(&str, InputSpec)], role: &str, len: usize) -> Result<Array1<f64>> {
    match find_spec(specs, role) {
        Some(s) => Ok(read_vector(s)?.0),
        None => Ok(Array1::from_elem(len, 1.0 / len as f64)),
    }
}

/// The input given for `role`.
pub(crate) fn find_spec<'s>(specs: &'s [(&str, InputSpec)], role: &str) -> Option<&'s InputSpec> {
    specs.iter().find(|(r, _)| *r == role).map(|(_, s)| s)
}
