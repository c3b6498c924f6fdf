//! Geometry classes: `DenseCost` (a float64 matrix borrowed from numpy, never copied when it
//! is C- or Fortran-contiguous) and `PointCloud` (points copied once; the cost is recomputed
//! in tiles).

use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray2};
use otters::geometry::{
    self as geo, Bilinear, Cosine, Euclidean, Geometry, Lp, ScaleCost, SqEuclidean,
};
use otters::{DEFAULT_MEMORY_LIMIT, Observer};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert;
use crate::errors::invalid_input;
use crate::run;

/// `None`, "none", "max", "mean", "median" or a positive number.
fn parse_scale(py: Python<'_>, scale: Option<&Bound<'_, PyAny>>) -> PyResult<ScaleCost> {
    let Some(scale) = scale else {
        return Ok(ScaleCost::None);
    };
    if scale.is_none() {
        return Ok(ScaleCost::None);
    }
    if let Ok(value) = scale.extract::<f64>() {
        return Ok(ScaleCost::By(value));
    }
    let name: String = scale.extract().map_err(|_| {
        invalid_input(
            py,
            "scale_cost",
            "`scale_cost` must be None, 'max', 'mean', 'median' or a number",
        )
    })?;
    match name.as_str() {
        "none" => Ok(ScaleCost::None),
        "max" | "max_cost" => Ok(ScaleCost::Max),
        "mean" => Ok(ScaleCost::Mean),
        "median" => Ok(ScaleCost::Median),
        other => Err(invalid_input(
            py,
            "scale_cost",
            &format!("unknown scale_cost '{other}'; use None, 'max', 'mean', 'median' or a number"),
        )),
    }
}

fn resolved(scale: f64) -> ScaleCost {
    if scale == 1.0 {
        ScaleCost::None
    } else {
        ScaleCost::By(scale)
    }
}

/// A cost matrix held by numpy.
///
/// Args:
///     cost: (n, m) array of costs; ``+inf`` marks a forbidden pair. Cast to float64 if
///         needed; a float64 array that is C- or Fortran-contiguous is used without a copy.
///     scale_cost: None, "max", "mean", "median" or a number dividing the cost.
///
/// Raises:
///     InvalidInputError: for NaN or ``-inf`` entries, or an empty matrix.
#[pyclass(module = "otters._core", frozen)]
pub struct DenseCost {
    cost: Py<PyArray2<f64>>,
    scale: f64,
}

#[pymethods]
impl DenseCost {
    #[new]
    #[pyo3(signature = (cost, scale_cost = None))]
    fn new(
        py: Python<'_>,
        cost: &Bound<'_, PyAny>,
        scale_cost: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut array = convert::matrix(cost, "cost")?;
        if !convert::is_contiguous(&array) {
            array = py
                .import("numpy")?
                .call_method1("ascontiguousarray", (array,))?
                .cast_into()?;
        }
        let scale = parse_scale(py, scale_cost)?;
        let guard = array.readonly();
        let view = guard.as_array();
        let scale = run::detached(py, |_| {
            Ok(geo::DenseCost::new(view)?.with_scale(scale)?.scale())
        })?;
        drop(guard);
        Ok(DenseCost {
            cost: array.unbind(),
            scale,
        })
    }

    /// (n, m).
    #[getter]
    fn shape(&self, py: Python<'_>) -> (usize, usize) {
        let a = self.cost.bind(py);
        let dims = a.dims();
        (dims[0], dims[1])
    }

    /// The divisor applied to the cost (1.0 when not scaled).
    #[getter]
    fn scale(&self) -> f64 {
        self.scale
    }

    /// The scaled cost as a new array.
    fn cost_matrix<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let slf = self.cost.bind(py);
        Ok(
            with_geometry(py, slf.as_any(), Some(self.scale), |g, _, _| {
                g.cost_matrix(DEFAULT_MEMORY_LIMIT)
            })?
            .into_pyarray(py),
        )
    }

    /// Low-rank factors of the scaled cost, ``C ≈ A·Bᵀ``, from a number of sampled entries
    /// linear in n + m (Indyk, Vakilian, Wagner, Woodruff 2019; OTT-JAX's
    /// ``Geometry.to_LRCGeometry``); see :meth:`PointCloud.to_low_rank`.
    #[pyo3(signature = (rank, tol = 0.01, seed = 0))]
    fn to_low_rank(slf: &Bound<'_, Self>, rank: i64, tol: f64, seed: u64) -> PyResult<PointCloud> {
        let scale = slf.get().scale;
        sampled_low_rank(slf.as_any(), Some(scale), rank, tol, seed)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (n, m) = self.shape(py);
        format!("DenseCost({n} x {m}, scale={})", self.scale)
    }
}

/// A point cloud geometry, typed by its ground cost.
impl DenseCost {
    /// The numpy array held.
    pub(crate) fn array<'py>(&self, py: Python<'py>) -> &Bound<'py, PyArray2<f64>> {
        self.cost.bind(py)
    }

    /// The divisor applied to the cost.
    pub(crate) fn scale_value(&self) -> f64 {
        self.scale
    }
}

pub(crate) enum Cloud {
    SqEuclidean(geo::PointCloud<SqEuclidean>),
    Euclidean(geo::PointCloud<Euclidean>),
    Lp(geo::PointCloud<Lp>),
    Cosine(geo::PointCloud<Cosine>),
    Bilinear(geo::PointCloud<Bilinear>),
}

/// Runs `$body` with `$c` bound to the typed point cloud.
macro_rules! with_cloud {
    ($cloud:expr, $c:ident => $body:expr) => {
        match $cloud {
            $crate::geometry::Cloud::SqEuclidean($c) => $body,
            $crate::geometry::Cloud::Euclidean($c) => $body,
            $crate::geometry::Cloud::Lp($c) => $body,
            $crate::geometry::Cloud::Cosine($c) => $body,
            $crate::geometry::Cloud::Bilinear($c) => $body,
        }
    };
}
pub(crate) use with_cloud;

impl Cloud {
    pub(crate) fn geometry(&self) -> &dyn Geometry {
        with_cloud!(self, c => c as &dyn Geometry)
    }
}

/// Two point clouds and a ground cost; costs are recomputed in tiles, never stored.
///
/// Args:
///     x: (n, d) source points (a 1-D array is n points in dimension 1).
///     y: (m, d) target points.
///     cost_fn: "sqeuclidean" (default), "euclidean", "cityblock", "minkowski" (with p),
///         "cosine", or "bilinear" (C = x·yᵀ: a cost given by its factors, the low-rank
///         geometry of low-rank OT).
///     p: exponent of "minkowski" (the cost is Σ|x−y|^p).
///     scale_cost: None, "max", "mean", "median" or a number dividing the cost.
#[pyclass(module = "otters._core", frozen)]
pub struct PointCloud {
    pub(crate) inner: Cloud,
}

#[pymethods]
impl PointCloud {
    #[new]
    #[pyo3(signature = (x, y = None, cost_fn = "sqeuclidean", p = 2.0, scale_cost = None))]
    fn new(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: Option<&Bound<'_, PyAny>>,
        cost_fn: &str,
        p: f64,
        scale_cost: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let xa = convert::points(x, "x")?;
        let ya = match y {
            Some(y) if !y.is_none() => convert::points(y, "y")?,
            _ => xa.clone(),
        };
        let scale = parse_scale(py, scale_cost)?;
        let (xg, yg) = (xa.readonly(), ya.readonly());
        let (xv, yv) = (xg.as_array(), yg.as_array());
        let name = cost_fn.to_string();
        let inner = run::detached(py, move |_| {
            Ok(match name.as_str() {
                "sqeuclidean" => Some(Cloud::SqEuclidean(
                    geo::PointCloud::new(xv, yv, SqEuclidean)?.with_scale(scale)?,
                )),
                "euclidean" => Some(Cloud::Euclidean(
                    geo::PointCloud::new(xv, yv, Euclidean)?.with_scale(scale)?,
                )),
                "cityblock" => Some(Cloud::Lp(
                    geo::PointCloud::new(xv, yv, Lp::new(1.0)?)?.with_scale(scale)?,
                )),
                "minkowski" => Some(Cloud::Lp(
                    geo::PointCloud::new(xv, yv, Lp::new(p)?)?.with_scale(scale)?,
                )),
                "cosine" => Some(Cloud::Cosine(
                    geo::PointCloud::new(xv, yv, Cosine)?.with_scale(scale)?,
                )),
                "bilinear" => Some(Cloud::Bilinear(
                    geo::PointCloud::new(xv, yv, Bilinear)?.with_scale(scale)?,
                )),
                _ => None,
            })
        })?;
        let inner = inner.ok_or_else(|| {
            invalid_input(py, "cost_fn", &format!("unknown cost_fn '{cost_fn}'; use 'sqeuclidean', 'euclidean', 'cityblock', 'minkowski', 'cosine' or 'bilinear'"))
        })?;
        Ok(PointCloud { inner })
    }

    /// (n, m).
    #[getter]
    fn shape(&self) -> (usize, usize) {
        self.inner.geometry().shape()
    }

    /// The divisor applied to the cost.
    #[getter]
    fn scale(&self) -> f64 {
        with_cloud!(&self.inner, c => c.scale())
    }

    /// Source points (a copy).
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        with_cloud!(&self.inner, c => c.x().to_owned()).into_pyarray(py)
    }

    /// Target points (a copy).
    #[getter]
    fn y<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        with_cloud!(&self.inner, c => c.y().to_owned()).into_pyarray(py)
    }

    /// The scaled cost matrix (refused above 2 GiB).
    fn cost_matrix<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let py = slf.py();
        Ok(with_geometry(py, slf.as_any(), None, |g, _, _| {
            g.cost_matrix(DEFAULT_MEMORY_LIMIT)
        })?
        .into_pyarray(py))
    }

    /// Low-rank factors of the scaled cost, ``C ≈ A·Bᵀ`` with ``A`` (n, k) and ``B`` (m, k),
    /// k ≤ rank, as a ``PointCloud(A, B, cost_fn="bilinear")`` for ``LowRankSinkhorn``.
    ///
    /// The sample-optimal low-rank approximation of distance matrices (Indyk, Vakilian,
    /// Wagner, Woodruff 2019) as OTT-JAX's ``Geometry.to_LRCGeometry``: it reads about
    /// ``s·(n + 2m)`` entries of the cost, ``s = min(ceil(rank / tol), n, m)``, never the
    /// whole matrix. On distance-like costs the Frobenius error comes close to the best
    /// rank-``rank`` error (within 25% on Euclidean distances at ``tol=0.05``); a cost of
    /// rank at most ``rank`` (squared Euclidean: d + 2) is reproduced to rounding.
    ///
    /// Args:
    ///     rank: the largest number of columns of the factors (1 ≤ rank ≤ min(n, m)).
    ///     tol: in (0, 1]; sets the sample size (smaller: more accurate, slower).
    ///     seed: seed of the ChaCha8 draws (the same seed gives the same factors).
    ///
    /// Raises:
    ///     InvalidInputError: for a bad ``rank`` or ``tol``, or an infinite cost entry met
    ///         by the sampler.
    #[pyo3(signature = (rank, tol = 0.01, seed = 0))]
    fn to_low_rank(slf: &Bound<'_, Self>, rank: i64, tol: f64, seed: u64) -> PyResult<PointCloud> {
        sampled_low_rank(slf.as_any(), None, rank, tol, seed)
    }

    fn __repr__(&self) -> String {
        let (n, m) = self.shape();
        let cost = match &self.inner {
            Cloud::SqEuclidean(_) => "sqeuclidean".to_string(),
            Cloud::Euclidean(_) => "euclidean".to_string(),
            Cloud::Lp(c) => format!("minkowski(p={})", c.cost_fn().p()),
            Cloud::Cosine(_) => "cosine".to_string(),
            Cloud::Bilinear(_) => "bilinear".to_string(),
        };
        format!(
            "PointCloud({n} x {m}, cost_fn={cost}, scale={})",
            self.scale()
        )
    }
}

/// `LowRankCost::sampled` of the geometry behind `geom`, as a bilinear `PointCloud`.
fn sampled_low_rank(
    geom: &Bound<'_, PyAny>,
    dense_scale: Option<f64>,
    rank: i64,
    tol: f64,
    seed: u64,
) -> PyResult<PointCloud> {
    let py = geom.py();
    let rank = usize::try_from(rank).map_err(|_| {
        invalid_input(
            py,
            "rank",
            &format!("invalid `rank` = {rank}: must be >= 1"),
        )
    })?;
    let cloud = with_geometry(py, geom, dense_scale, |g, _, _| {
        geo::LowRankCost::sampled(g, rank, tol, seed)
    })?;
    Ok(PointCloud {
        inner: Cloud::Bilinear(cloud),
    })
}

/// Runs `f` on the Rust geometry behind a Python `DenseCost` or `PointCloud`, with the GIL
/// released. For a `DenseCost` given as its array, `dense_scale` is its scale.
pub(crate) fn with_geometry<R: Send>(
    py: Python<'_>,
    geom: &Bound<'_, PyAny>,
    dense_scale: Option<f64>,
    f: impl for<'g> FnOnce(&'g dyn Geometry, Option<&'g Cloud>, &Observer<'_>) -> otters::Result<R>
    + Send,
) -> PyResult<R> {
    if let Ok(dense) = geom.cast::<DenseCost>() {
        let d = dense.get();
        let array = d.cost.bind(py);
        let guard: PyReadonlyArray2<'_, f64> = array.readonly();
        let view = guard.as_array();
        let scale = d.scale;
        return run::detached(py, |obs| {
            let g = geo::DenseCost::new(view)?.with_scale(resolved(scale))?;
            f(&g, None, obs)
        });
    }
    if let (Some(scale), Ok(array)) = (dense_scale, geom.cast::<PyArray2<f64>>()) {
        let guard = array.readonly();
        let view = guard.as_array();
        return run::detached(py, |obs| {
            let g = geo::DenseCost::new(view)?.with_scale(resolved(scale))?;
            f(&g, None, obs)
        });
    }
    if let Ok(cloud) = geom.cast::<PointCloud>() {
        let c = &cloud.get().inner;
        return run::detached(py, |obs| f(c.geometry(), Some(c), obs));
    }
    Err(PyTypeError::new_err(
        "geom must be an otters.DenseCost or otters.PointCloud",
    ))
}
