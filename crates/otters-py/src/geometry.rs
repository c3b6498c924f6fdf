//! Geometry classes: `DenseCost` (a float64 or float32 matrix borrowed from numpy, never
//! copied when it is C- or Fortran-contiguous) and `PointCloud` (points copied once; the cost
//! is recomputed in tiles, in float64 or float32).

use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use otters::geometry::{
    self as geo, Bilinear, Cosine, Euclidean, Geometry, Lp, Precision, ScaleCost, SqEuclidean,
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

/// `None` (keep the array's precision: float32 stays float32, anything else is float64),
/// "float64"/"f64" or "float32"/"f32".
fn parse_dtype(py: Python<'_>, dtype: Option<&str>) -> PyResult<Option<Precision>> {
    dtype
        .map(|d| {
            d.parse::<Precision>()
                .map_err(|e| invalid_input(py, "dtype", &e.to_string()))
        })
        .transpose()
}

/// The numpy array a `DenseCost` borrows, in its own precision.
enum CostArray {
    F64(Py<PyArray2<f64>>),
    F32(Py<PyArray2<f32>>),
}

/// The divisor `scale` resolves to on the cost held by `array` (validating its entries).
fn resolve_scale<T: geo::CostScalar + numpy::Element>(
    array: &Bound<'_, PyArray2<T>>,
    scale: ScaleCost,
) -> PyResult<f64> {
    let guard = array.readonly();
    let view = guard.as_array();
    run::detached(array.py(), |_| {
        Ok(geo::DenseCost::new(view)?.with_scale(scale)?.scale())
    })
}

/// Runs `f` on the `DenseCost` over `array` (divided by `scale`), with the GIL released.
fn with_dense<T: geo::CostScalar + numpy::Element, R: Send>(
    array: &Bound<'_, PyArray2<T>>,
    scale: f64,
    f: impl for<'g> FnOnce(&'g dyn Geometry, Option<&'g Cloud>, &Observer<'_>) -> otters::Result<R>
    + Send,
) -> PyResult<R> {
    let guard: PyReadonlyArray2<'_, T> = array.readonly();
    let view = guard.as_array();
    run::detached(array.py(), |obs| {
        let g = geo::DenseCost::new(view)?.with_scale(resolved(scale))?;
        f(&g, None, obs)
    })
}

/// A C- or Fortran-contiguous float32 array from `cost` (cast from other real dtypes).
fn float32_matrix<'py>(cost: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let py = cost.py();
    if let Ok(a) = cost.cast::<PyArray2<f32>>()
        && (a.is_c_contiguous() || a.is_fortran_contiguous())
    {
        return Ok(a.clone());
    }
    // Validate and shape-check as float64 first (one rule for dtypes and shapes).
    let checked = convert::matrix(cost, "cost")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", "float32")?;
    Ok(py
        .import("numpy")?
        .call_method("ascontiguousarray", (checked,), Some(&kwargs))?
        .cast_into()?)
}

/// A cost matrix held by numpy.
///
/// Args:
///     cost: (n, m) array of costs; ``+inf`` marks a forbidden pair. A float64 or float32
///         array that is C- or Fortran-contiguous is used without a copy; other dtypes are
///         cast to float64.
///     scale_cost: None, "max", "mean", "median" or a number dividing the cost.
///     dtype: None (keep a float32 array in float32, anything else float64), "float64" or
///         "float32". In float32 the cost is read in single precision (half the memory
///         traffic, twice the SIMD width) while log-sum-exps, potentials and reported values
///         stay float64: potentials agree with the float64 solve to a few 1e-6 of the
///         largest cost.
///
/// Raises:
///     InvalidInputError: for NaN or ``-inf`` entries, an empty matrix or an unknown dtype.
#[pyclass(module = "otters._core", frozen)]
pub struct DenseCost {
    cost: CostArray,
    scale: f64,
}

#[pymethods]
impl DenseCost {
    #[new]
    #[pyo3(signature = (cost, scale_cost = None, dtype = None))]
    fn new(
        py: Python<'_>,
        cost: &Bound<'_, PyAny>,
        scale_cost: Option<&Bound<'_, PyAny>>,
        dtype: Option<&str>,
    ) -> PyResult<Self> {
        let scale = parse_scale(py, scale_cost)?;
        let is_f32 = cost.cast::<PyArray2<f32>>().is_ok();
        let precision = parse_dtype(py, dtype)?.unwrap_or(if is_f32 {
            Precision::F32
        } else {
            Precision::F64
        });
        let (cost, scale) = match precision {
            Precision::F32 => {
                let array = float32_matrix(cost)?;
                let scale = resolve_scale(&array, scale)?;
                (CostArray::F32(array.unbind()), scale)
            }
            _ => {
                let mut array = convert::matrix(cost, "cost")?;
                if !convert::is_contiguous(&array) {
                    array = py
                        .import("numpy")?
                        .call_method1("ascontiguousarray", (array,))?
                        .cast_into()?;
                }
                let scale = resolve_scale(&array, scale)?;
                (CostArray::F64(array.unbind()), scale)
            }
        };
        Ok(DenseCost { cost, scale })
    }

    /// (n, m).
    #[getter]
    fn shape(&self, py: Python<'_>) -> (usize, usize) {
        let dims = match &self.cost {
            CostArray::F64(a) => a.bind(py).dims(),
            CostArray::F32(a) => a.bind(py).dims(),
        };
        (dims[0], dims[1])
    }

    /// "float64" or "float32": the precision the cost is read in.
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.cost {
            CostArray::F64(_) => "float64",
            CostArray::F32(_) => "float32",
        }
    }

    /// The divisor applied to the cost (1.0 when not scaled).
    #[getter]
    fn scale(&self) -> f64 {
        self.scale
    }

    /// The scaled cost as a new float64 array.
    fn cost_matrix<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let py = slf.py();
        Ok(with_geometry(py, slf.as_any(), None, |g, _, _| {
            g.cost_matrix(DEFAULT_MEMORY_LIMIT)
        })?
        .into_pyarray(py))
    }

    /// Low-rank factors of the scaled cost, ``C ≈ A·Bᵀ``, from a number of sampled entries
    /// linear in n + m (Indyk, Vakilian, Wagner, Woodruff 2019; OTT-JAX's
    /// ``Geometry.to_LRCGeometry``); see :meth:`PointCloud.to_low_rank`.
    #[pyo3(signature = (rank, tol = 0.01, seed = 0))]
    fn to_low_rank(slf: &Bound<'_, Self>, rank: i64, tol: f64, seed: u64) -> PyResult<PointCloud> {
        sampled_low_rank(slf.as_any(), None, rank, tol, seed)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let (n, m) = self.shape(py);
        let dtype = match self.cost {
            CostArray::F64(_) => "",
            CostArray::F32(_) => ", dtype=float32",
        };
        format!("DenseCost({n} x {m}, scale={}{dtype})", self.scale)
    }
}

impl DenseCost {
    /// The cost as a float64 array: the array held, or a float64 copy of a float32 one
    /// (for the solvers that read the cost in float64 only).
    pub(crate) fn array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        match &self.cost {
            CostArray::F64(a) => Ok(a.bind(py).clone()),
            CostArray::F32(a) => Ok(a
                .bind(py)
                .call_method1("astype", ("float64",))?
                .cast_into()?),
        }
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

    /// The same cloud with its cost computed in float32 tiles.
    fn single(&self) -> Box<dyn Geometry + Send + Sync> {
        with_cloud!(self, c => Box::new(c.clone().with_precision::<f32>()))
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
///     dtype: "float64" (default) or "float32": the precision the cost tiles are computed
///         in by the Sinkhorn sweeps (log-sum-exps, potentials and reported values stay
///         float64). Points, maps and gradients stay float64.
#[pyclass(module = "otters._core", frozen)]
pub struct PointCloud {
    pub(crate) inner: Cloud,
    /// The float32 twin the solvers sweep, for `dtype="float32"`.
    single: Option<Box<dyn Geometry + Send + Sync>>,
}

#[pymethods]
impl PointCloud {
    #[new]
    #[pyo3(signature = (x, y = None, cost_fn = "sqeuclidean", p = 2.0, scale_cost = None, dtype = None))]
    fn new(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: Option<&Bound<'_, PyAny>>,
        cost_fn: &str,
        p: f64,
        scale_cost: Option<&Bound<'_, PyAny>>,
        dtype: Option<&str>,
    ) -> PyResult<Self> {
        let precision = parse_dtype(py, dtype)?.unwrap_or(Precision::F64);
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
        let single = (precision == Precision::F32).then(|| inner.single());
        Ok(PointCloud { inner, single })
    }

    /// "float64" or "float32": the precision the cost tiles are computed in.
    #[getter]
    fn dtype(&self) -> &'static str {
        if self.single.is_some() {
            "float32"
        } else {
            "float64"
        }
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
        let dtype = if self.single.is_some() {
            ", dtype=float32"
        } else {
            ""
        };
        format!(
            "PointCloud({n} x {m}, cost_fn={cost}, scale={}{dtype})",
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
        single: None,
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
        let scale = d.scale;
        return match &d.cost {
            CostArray::F64(array) => with_dense(array.bind(py), scale, f),
            CostArray::F32(array) => with_dense(array.bind(py), scale, f),
        };
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
        let pc = cloud.get();
        let c = &pc.inner;
        let g: &dyn Geometry = match &pc.single {
            Some(single) => single.as_ref(),
            None => c.geometry(),
        };
        return run::detached(py, |obs| f(g, Some(c), obs));
    }
    Err(PyTypeError::new_err(
        "geom must be an otters.DenseCost or otters.PointCloud",
    ))
}
