//! [`PointCloud`]: the cost `C_ij = c(x_i, y_j)` between two point clouds, never stored.
//!
//! Sweeps recompute the cost in tiles (KeOps, Charlier et al. 2021; OTT-JAX's online
//! `PointCloud`): O((n+m)·d) memory plus one tile per thread. Costs with a factorization
//! `C = A·Bᵀ` (squared Euclidean, cosine) get each tile from one small GEMM; the others are
//! evaluated pair by pair. ALGORITHMS.md L4.

use std::ops::Range;
use std::sync::OnceLock;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis as NdAxis, s};
use rayon::prelude::*;

use super::{
    Axis, CostFn, CostScalar, CostSummary, Geometry, LogPlan, Moments, Precision, ScaleCost,
    SqEuclidean, Sweep, SweepPasses, check_sweep, median_of, resolve_scale, row_major, tiled,
    with_rows_mut,
};
use crate::error::{Error, Result};
use crate::kernels::exact::ExactSum;
use crate::kernels::gemm::{matmul_seq, mul_transposed};
use crate::kernels::lse::Columns;
use crate::kernels::lse::exp_row;
use crate::kernels::sweep::{self, TileSource, Tiles};
use crate::kernels::tiles;
use crate::validate;

/// Default tile: 64 output indices × 256 reduced ones (128 KiB of f64, L2-resident).
const DEFAULT_TILE: (usize, usize) = (64, 256);

/// Two point clouds `x` (`n × d`) and `y` (`m × d`) and a ground cost, computed in tiles of
/// `f64` (the default) or `f32` (`T`; see [`with_precision`](PointCloud::with_precision)).
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::{Geometry, PointCloud, SqEuclidean};
///
/// let x = array![[0.0, 0.0], [1.0, 0.0]];
/// let y = array![[0.0, 1.0]];
/// let geom = PointCloud::new(x.view(), y.view(), SqEuclidean)?;
/// assert_eq!(geom.cost_matrix(1 << 20)?, array![[1.0], [2.0]]);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PointCloud<C: CostFn = SqEuclidean, T: CostScalar = f64> {
    x: Array2<f64>,
    y: Array2<f64>,
    cost_fn: C,
    /// `C = A·Bᵀ` when the cost has a factorization.
    factors: Option<(Array2<f64>, Array2<f64>)>,
    /// The factors in the tiles' precision.
    tile_factors: Option<(Array2<T>, Array2<T>)>,
    /// The centered coordinates, when the cost is computed from them in the loops.
    direct: Option<Direct<T>>,
    /// `C∘C = (A⊙A)·(B⊙B)ᵀ` (row-wise Khatri–Rao squares of the factors), built on first use.
    square_factors: OnceLock<(Array2<f64>, Array2<f64>)>,
    scale: f64,
    tile: (usize, usize),
    moments: OnceLock<Moments>,
}

impl PointCloud<SqEuclidean> {
    /// Squared Euclidean cost between `x` and `y`.
    ///
    /// # Errors
    /// As [`PointCloud::new`].
    pub fn sq_euclidean(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        Self::new(x, y, SqEuclidean)
    }
}

/// A cost given by its factors, `C = A·Bᵀ` (`A`: `n × k`, `B`: `m × k`): the points of a
/// [`PointCloud`] under the [`Bilinear`](super::Bilinear) cost. Every solver sees it as
/// any geometry; sweeps are tile GEMMs and `C·V = A·(Bᵀ·V)` is linear in `n + m`, which is
/// what low-rank OT needs. (A squared-Euclidean [`PointCloud`] already carries its exact
/// rank-(d+2) factors.) Build it with [`LowRankCost::factored`].
pub type LowRankCost = PointCloud<super::Bilinear>;

impl PointCloud<super::Bilinear> {
    /// The cost `C = A·Bᵀ` from its factors (copied; rescale with
    /// [`with_scale`](PointCloud::with_scale)).
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use otters::geometry::{Geometry, LowRankCost};
    ///
    /// let a = array![[1.0, 0.0], [0.0, 2.0]];
    /// let b = array![[1.0, 1.0], [3.0, 0.0], [0.0, 1.0]];
    /// let cost = LowRankCost::factored(a.view(), b.view())?;
    /// assert_eq!(cost.cost_matrix(1 << 20)?, a.dot(&b.t()));
    /// # Ok::<(), otters::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`PointCloud::new`]: empty or non-finite factors, or a different number of
    /// columns (the errors name `x` for `A` and `y` for `B`).
    pub fn factored(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<Self> {
        Self::new(a, b, super::Bilinear)
    }
}

impl<C: CostFn> PointCloud<C, f64> {
    /// The cost `c(x_i, y_j)` between the rows of `x` and `y` (the points are copied).
    ///
    /// # Errors
    /// [`Error::Empty`] for a cloud with no point, [`Error::Shape`] when the dimensions differ
    /// or are 0, [`Error::NonFinite`] for a NaN or infinite coordinate, and whatever the cost
    /// refuses (e.g. a zero point for [`Cosine`](super::Cosine)).
    pub fn new(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>, cost_fn: C) -> Result<Self> {
        validate::points("x", x)?;
        validate::points("y", y)?;
        if x.ncols() != y.ncols() {
            return Err(Error::Shape {
                arg: "y",
                expected: format!("points of dimension {} (as x)", x.ncols()),
                got: format!("{} x {}", y.nrows(), y.ncols()),
            });
        }
        cost_fn.check_points("x", x)?;
        cost_fn.check_points("y", y)?;
        let factors = cost_fn.factors(x, y);
        let direct = Direct::new(x, y, &cost_fn, None);
        Ok(PointCloud {
            x: x.as_standard_layout().into_owned(),
            y: y.as_standard_layout().into_owned(),
            direct,
            cost_fn,
            tile_factors: factors.clone(),
            factors,
            square_factors: OnceLock::new(),
            scale: 1.0,
            tile: DEFAULT_TILE,
            moments: OnceLock::new(),
        })
    }
}

impl<C: CostFn, T: CostScalar> PointCloud<C, T> {
    /// The same points, cost and scale, with tiles computed in precision `U` (`f32`: the
    /// exponentials of every sweep in `f32` lanes, sums and potentials in `f64`; see
    /// [`Precision`]).
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use otters::geometry::{Geometry, PointCloud, Precision};
    ///
    /// let x = array![[0.0, 0.0], [1.0, 0.0]];
    /// let geom = PointCloud::sq_euclidean(x.view(), x.view())?.with_precision::<f32>();
    /// assert_eq!(geom.precision(), Precision::F32);
    /// # Ok::<(), otters::Error>(())
    /// ```
    pub fn with_precision<U: CostScalar>(self) -> PointCloud<C, U> {
        let tile_factors = self
            .factors
            .as_ref()
            .map(|(a, b)| (a.mapv(|v| U::of(v)), b.mapv(|v| U::of(v))));
        PointCloud {
            // The same center (a block keeps its parent's), so the coordinates round alike.
            direct: self.direct.as_ref().and_then(|d| {
                Direct::new(self.x.view(), self.y.view(), &self.cost_fn, Some(&d.center))
            }),
            x: self.x,
            y: self.y,
            cost_fn: self.cost_fn,
            factors: self.factors,
            tile_factors,
            square_factors: self.square_factors,
            scale: self.scale,
            tile: self.tile,
            // Moments are of the f64 cost; the tiles round it, statistics do not.
            moments: self.moments,
        }
    }

    /// Rescales the cost, `C ← C / s`. `Max` and `Mean` take one pass over all pairs;
    /// `Median` needs the `n × m` matrix in memory and refuses above
    /// [`DEFAULT_MEMORY_LIMIT`](crate::DEFAULT_MEMORY_LIMIT).
    ///
    /// # Errors
    /// [`Error::TooLarge`] for the median of a too-large cost; [`Error::InvalidParameter`]
    /// when the statistic is not positive and finite.
    pub fn with_scale(mut self, scale: ScaleCost) -> Result<Self> {
        let raw = if matches!(scale, ScaleCost::Max | ScaleCost::Mean) {
            self.raw_moments().summary(1.0)
        } else {
            CostSummary {
                max: f64::NAN,
                mean: f64::NAN,
                std: f64::NAN,
            }
        };
        let s = resolve_scale(scale, raw, || {
            let (n, m) = self.shape();
            validate::matrix_bytes(
                "median of the cost",
                n,
                m,
                crate::DEFAULT_MEMORY_LIMIT,
                "ScaleCost::Max and ScaleCost::Mean stream the cost instead",
            )?;
            let mut all = vec![0.0; n * m];
            tiles::materialize(&F64Tiles(&self), &mut all, |_, _, c, dst| {
                dst.copy_from_slice(c)
            });
            Ok(median_of(&mut all))
        })?;
        self.scale = s;
        Ok(self)
    }

    /// Sets the tile size (output indices × reduced indices) used by the sweeps; a tuning
    /// knob, it does not change the sweeps' results: the reduced indices are summed in chunks
    /// of [`CHUNK`](super::CHUNK), so the number of reduced indices per tile is rounded down
    /// to a power of two (a divisor of `CHUNK`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a zero size.
    pub fn with_tile(mut self, rows: usize, cols: usize) -> Result<Self> {
        if rows == 0 || cols == 0 {
            return Err(Error::invalid(
                "tile",
                "tile sizes must be >= 1",
                format!("{rows} x {cols}"),
            ));
        }
        let cols = 1usize << cols.min(sweep::CHUNK).ilog2();
        self.tile = (rows, cols);
        Ok(self)
    }

    /// The source points.
    pub fn x(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// The target points.
    pub fn y(&self) -> ArrayView2<'_, f64> {
        self.y.view()
    }

    /// The ground cost.
    pub fn cost_fn(&self) -> &C {
        &self.cost_fn
    }

    /// The divisor applied to the cost.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The same target cloud, cost and scale, with new source points (for out-of-sample
    /// evaluations such as the entropic map).
    ///
    /// # Errors
    /// As [`PointCloud::new`].
    pub fn with_source(&self, x: ArrayView2<'_, f64>) -> Result<Self> {
        self.with_points(x, self.y.view())
    }

    /// The precision of the tiles.
    pub fn tile_precision(&self) -> Precision {
        T::PRECISION
    }

    /// The block of this cost between the source points `rows` and the target points
    /// `cols`, with the same cost values bit for bit (the parent's factors are sliced, not
    /// recomputed: a squared-Euclidean cloud centers its factors on the joint mean of both
    /// clouds), scale and tiles: the blocks of a [`Sharded`](super::Sharded) point cloud.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `rows` or `cols` for an empty range or one past the
    /// end of the cloud.
    pub fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Self> {
        for (arg, r, len) in [
            ("rows", &rows, self.x.nrows()),
            ("cols", &cols, self.y.nrows()),
        ] {
            if r.start >= r.end || r.end > len {
                return Err(Error::invalid(
                    arg,
                    "a block needs a non-empty range of points within the cloud",
                    format!("{}..{} of {len} points", r.start, r.end),
                ));
            }
        }
        let slice = |a: &Array2<f64>, r: &Range<usize>| a.slice(s![r.clone(), ..]).to_owned();
        let slice_t = |a: &Array2<T>, r: &Range<usize>| a.slice(s![r.clone(), ..]).to_owned();
        Ok(PointCloud {
            direct: self.direct.as_ref().map(|d| d.block(&rows, &cols)),
            x: slice(&self.x, &rows),
            y: slice(&self.y, &cols),
            cost_fn: self.cost_fn.clone(),
            factors: self
                .factors
                .as_ref()
                .map(|(a, b)| (slice(a, &rows), slice(b, &cols))),
            tile_factors: self
                .tile_factors
                .as_ref()
                .map(|(a, b)| (slice_t(a, &rows), slice_t(b, &cols))),
            square_factors: OnceLock::new(),
            scale: self.scale,
            tile: self.tile,
            moments: OnceLock::new(),
        })
    }

    /// The same cost and scale between new point clouds (subsamples, new data).
    ///
    /// # Errors
    /// As [`PointCloud::new`].
    pub fn with_points(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        let mut other = PointCloud::new(x, y, self.cost_fn.clone())?;
        other.scale = self.scale;
        other.tile = self.tile;
        Ok(other.with_precision::<T>())
    }

    /// Σ_j P_ij·∇ₓc(x_i, y_j) for every i (`Axis::Rows`, an `n × d` array), or
    /// Σ_i P_ij·∇_y c(x_i, y_j) for every j (`Axis::Cols`, `m × d`), in scaled units.
    ///
    /// # Errors
    /// [`Error::Shape`] for a plan of the wrong shape; [`Error::InvalidParameter`] when the
    /// cost has no gradient.
    pub fn plan_weighted_gradient(&self, axis: Axis, plan: &LogPlan<'_>) -> Result<Array2<f64>> {
        super::check_plan(plan, self.shape())?;
        let (ours, theirs, log_out, log_red) = match axis {
            Axis::Rows => (&self.x, &self.y, plan.log_row, plan.log_col),
            Axis::Cols => (&self.y, &self.x, plan.log_col, plan.log_row),
        };
        let (log_out, log_red) = (tiled::contiguous(&log_out), tiled::contiguous(&log_red));
        let gamma = 1.0 / (self.scale * plan.epsilon);
        let d = ours.ncols();
        let mut out = Array2::zeros(ours.raw_dim());
        let (bo, br) = self.tile;
        let supported = out
            .as_slice_mut()
            .expect("fresh array")
            .par_chunks_mut(bo * d)
            .enumerate()
            .map_init(
                || {
                    (
                        vec![T::default(); bo * br],
                        vec![0.0; bo * br],
                        vec![0.0; br],
                    )
                },
                |(tile, wide, e), (blk, chunk)| {
                    let o0 = blk * bo;
                    let rows = chunk.len() / d;
                    let mut ok = true;
                    for r0 in (0..theirs.nrows()).step_by(br) {
                        let r1 = (r0 + br).min(theirs.nrows());
                        let w = r1 - r0;
                        let t = &mut tile[..rows * w];
                        self.fill(axis, o0..o0 + rows, r0..r1, t);
                        let t = T::as_f64(t, wide);
                        for o in 0..rows {
                            let e = &mut e[..w];
                            exp_row(
                                log_out[o0 + o],
                                &log_red[r0..r1],
                                &t[o * w..(o + 1) * w],
                                gamma,
                                e,
                            );
                            let p = ours.row(o0 + o);
                            let p = p.as_slice().expect("standard layout");
                            let dst = &mut chunk[o * d..(o + 1) * d];
                            for (r, &weight) in e.iter().enumerate() {
                                if weight == 0.0 {
                                    continue;
                                }
                                let q = theirs.row(r0 + r);
                                let q = q.as_slice().expect("standard layout");
                                ok &= match axis {
                                    Axis::Rows => {
                                        self.cost_fn.add_grad_x(p, q, weight / self.scale, dst)
                                    }
                                    Axis::Cols => {
                                        self.cost_fn.add_grad_y(q, p, weight / self.scale, dst)
                                    }
                                };
                            }
                        }
                    }
                    ok
                },
            )
            .reduce(|| true, |a, b| a && b);
        if supported {
            Ok(out)
        } else {
            Err(Error::invalid(
                "cost_fn",
                "this cost has no gradient",
                format!("{:?}", self.cost_fn),
            ))
        }
    }

    /// `C(o, r)` (unscaled, `f64`) for a sweep along `axis`.
    #[inline]
    fn pair_cost(&self, axis: Axis, o: usize, r: usize) -> f64 {
        fn row(a: &Array2<f64>, i: usize) -> &[f64] {
            let d = a.ncols();
            &a.as_slice().expect("standard layout")[i * d..(i + 1) * d]
        }
        match axis {
            Axis::Rows => self.cost_fn.cost(row(&self.x, o), row(&self.y, r)),
            Axis::Cols => self.cost_fn.cost(row(&self.x, r), row(&self.y, o)),
        }
    }

    /// Statistics of the unscaled cost in `f64` (whatever the tiles' precision), cached.
    fn raw_moments(&self) -> Moments {
        *self.moments.get_or_init(|| tiles::moments(&F64Tiles(self)))
    }
}

impl<C: CostFn, T: CostScalar> TileSource for PointCloud<C, T> {
    type Scalar = T;

    fn extent(&self, axis: Axis) -> (usize, usize) {
        super::sweep_lengths(self.shape(), axis)
    }

    fn tile_shape(&self) -> (usize, usize) {
        self.tile
    }

    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [T]) {
        let (rows, cols) = (out.len(), red.len());
        if let Some(direct) = &self.direct {
            direct.fill(axis, out, red, tile);
            return;
        }
        if let Some((a, b)) = &self.tile_factors {
            let (lhs, rhs) = match axis {
                Axis::Rows => (a, b),
                Axis::Cols => (b, a),
            };
            let k = lhs.ncols();
            let lhs = &lhs.as_slice().expect("standard layout")[out.start * k..out.end * k];
            let rhs = &rhs.as_slice().expect("standard layout")[red.start * k..red.end * k];
            T::mul_transposed(lhs, rhs, k, tile, rows, cols);
            return;
        }
        for (t, o) in out.enumerate() {
            for (dst, r) in tile[t * cols..(t + 1) * cols].iter_mut().zip(red.clone()) {
                *dst = T::of(self.pair_cost(axis, o, r));
            }
        }
    }
}

/// Largest dimension whose squared distances are computed from the coordinates inside the
/// sweeps' loops (`d` FMAs per entry); above it, tiles from one GEMM of the factors are faster.
const DIRECT_MAX_D: usize = 8;

/// The coordinates of a squared-Euclidean cloud in few dimensions, centered on the joint
/// mean (the cost is translation invariant; centering keeps `f32` coordinates accurate), as
/// rows and as coordinate columns of each cloud, in the sweeps' precision.
#[derive(Debug, Clone)]
struct Direct<T> {
    x: Array2<T>,
    y: Array2<T>,
    /// `d × n` and `d × m`.
    xt: Array2<T>,
    yt: Array2<T>,
    /// The point subtracted from every coordinate.
    center: Array1<f64>,
}

impl<T: CostScalar> Direct<T> {
    fn new<C: CostFn>(
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
        cost_fn: &C,
        center: Option<&Array1<f64>>,
    ) -> Option<Self> {
        let d = x.ncols();
        if !cost_fn.is_squared_euclidean() || d > DIRECT_MAX_D {
            return None;
        }
        let total = (x.nrows() + y.nrows()) as f64;
        let center = center
            .cloned()
            .unwrap_or_else(|| (x.sum_axis(NdAxis(0)) + y.sum_axis(NdAxis(0))) / total);
        let x = (&x - &center).mapv(T::of);
        let y = (&y - &center).mapv(T::of);
        Some(Direct {
            xt: x.t().as_standard_layout().into_owned(),
            yt: y.t().as_standard_layout().into_owned(),
            x,
            y,
            center,
        })
    }

    fn block(&self, rows: &Range<usize>, cols: &Range<usize>) -> Self {
        Direct {
            x: self.x.slice(s![rows.clone(), ..]).to_owned(),
            y: self.y.slice(s![cols.clone(), ..]).to_owned(),
            xt: self.xt.slice(s![.., rows.clone()]).to_owned(),
            yt: self.yt.slice(s![.., cols.clone()]).to_owned(),
            center: self.center.clone(),
        }
    }

    /// The sweep along `axis`: outputs' points as rows, reduced points as columns.
    fn points(&self, axis: Axis) -> sweep::Points<'_, T> {
        let (ours, theirs) = match axis {
            Axis::Rows => (&self.x, &self.yt),
            Axis::Cols => (&self.y, &self.xt),
        };
        sweep::Points {
            ours: ours.as_slice().expect("standard layout"),
            theirs: theirs.as_slice().expect("standard layout"),
            d: ours.ncols(),
            n_out: ours.nrows(),
            n_red: theirs.ncols(),
        }
    }

    /// A tile of the same squared distances the sweeps compute (same operations, same bits).
    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [T]) {
        let p = self.points(axis);
        let w = red.len();
        let y = Columns {
            cols: &p.theirs[red.start..],
            stride: p.n_red,
            d: p.d,
            len: w,
        };
        for (t, o) in out.enumerate() {
            let x = &p.ours[o * p.d..(o + 1) * p.d];
            T::sq_distances(x, y, &mut tile[t * w..(t + 1) * w]);
        }
    }
}

/// A point cloud's cost in `f64` tiles, whatever its own precision (statistics, median).
struct F64Tiles<'a, C: CostFn, T: CostScalar>(&'a PointCloud<C, T>);

impl<C: CostFn, T: CostScalar> TileSource for F64Tiles<'_, C, T> {
    type Scalar = f64;

    fn extent(&self, axis: Axis) -> (usize, usize) {
        self.0.extent(axis)
    }

    fn tile_shape(&self) -> (usize, usize) {
        self.0.tile
    }

    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [f64]) {
        let cloud = self.0;
        if let Some((a, b)) = &cloud.factors {
            let (lhs, rhs) = match axis {
                Axis::Rows => (a, b),
                Axis::Cols => (b, a),
            };
            let k = lhs.ncols();
            let lhs = &lhs.as_slice().expect("standard layout")[out.start * k..out.end * k];
            let rhs = &rhs.as_slice().expect("standard layout")[red.start * k..red.end * k];
            mul_transposed(lhs, rhs, k, tile, out.len(), red.len());
            return;
        }
        let cols = red.len();
        for (t, o) in out.enumerate() {
            for (dst, r) in tile[t * cols..(t + 1) * cols].iter_mut().zip(red.clone()) {
                *dst = cloud.pair_cost(axis, o, r);
            }
        }
    }
}

impl<C: CostFn, T: CostScalar> SweepPasses for PointCloud<C, T> {
    fn pass_shape(&self) -> (usize, usize) {
        self.shape()
    }

    fn pass_precision(&self) -> Precision {
        T::PRECISION
    }

    fn max_pass(
        &self,
        s: &Sweep<'_>,
        mask: Option<ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let gamma = 1.0 / (self.scale * s.epsilon);
        if let Some(direct) = &self.direct {
            return tiled::max_pass(&direct.points(s.axis), self.shape(), gamma, s, mask, out);
        }
        let src = Tiles {
            src: self,
            axis: s.axis,
        };
        tiled::max_pass(&src, self.shape(), gamma, s, mask, out)
    }

    fn sum_pass(
        &self,
        s: &Sweep<'_>,
        anchors: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, ExactSum>,
    ) -> Result<()> {
        let gamma = 1.0 / (self.scale * s.epsilon);
        if let Some(direct) = &self.direct {
            let src = direct.points(s.axis);
            return tiled::sum_pass(&src, self.shape(), gamma, s, anchors, mask, out);
        }
        let src = Tiles {
            src: self,
            axis: s.axis,
        };
        tiled::sum_pass(&src, self.shape(), gamma, s, anchors, mask, out)
    }
}

impl<C: CostFn, T: CostScalar> Geometry for PointCloud<C, T> {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows(), self.y.nrows())
    }

    fn points(&self) -> Option<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> {
        Some((self.x.view(), self.y.view()))
    }

    fn summary(&self) -> CostSummary {
        self.raw_moments().summary(self.scale)
    }

    fn precision(&self) -> Precision {
        T::PRECISION
    }

    fn softmin_batch(&self, s: &Sweep<'_>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        check_sweep(self.shape(), s, &out)?;
        let h = row_major(&s.h);
        let guess = s.guess.as_ref().map(row_major);
        let gamma = 1.0 / (self.scale * s.epsilon);
        let k = s.h.nrows();
        with_rows_mut(out, |o| {
            if let Some(direct) = &self.direct {
                let src = direct.points(s.axis);
                sweep::softmin(&src, gamma, s.epsilon, &h, k, guess.as_deref(), o)
            } else {
                let src = Tiles {
                    src: self,
                    axis: s.axis,
                };
                sweep::softmin(&src, gamma, s.epsilon, &h, k, guess.as_deref(), o)
            }
        });
        Ok(())
    }

    fn sweep_passes(&self) -> Option<&dyn SweepPasses> {
        Some(self)
    }

    fn apply_plan(
        &self,
        axis: Axis,
        plan: &LogPlan<'_>,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        tiled::apply_plan(self, self.shape(), self.scale, axis, plan, v, out)
    }

    fn apply_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let Some((a, b)) = &self.factors else {
            return tiled::apply_cost(self, self.shape(), self.scale, axis, v, out);
        };
        super::check_apply(self.shape(), axis, &v, &out)?;
        factored_product((a, b), axis, v, out, 1.0 / self.scale);
        Ok(())
    }

    fn apply_square_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let Some((a, b)) = &self.factors else {
            return tiled::apply_square_cost(self, self.shape(), self.scale, axis, v, out);
        };
        super::check_apply(self.shape(), axis, &v, &out)?;
        let (a2, b2) = self
            .square_factors
            .get_or_init(|| (khatri_rao_square(a, 1.0), khatri_rao_square(b, 2.0)));
        let inv = 1.0 / self.scale;
        factored_product((a2, b2), axis, v, out, inv * inv);
        Ok(())
    }

    fn plan_dot_cost(&self, plan: &LogPlan<'_>) -> Result<f64> {
        tiled::plan_dot_cost(self, self.shape(), self.scale, plan)
    }

    fn cost_matrix(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        tiled::cost_matrix(self, self.shape(), self.scale, limit_bytes)
    }

    fn cost_block(
        &self,
        rows: &[usize],
        cols: &[usize],
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, m) = self.shape();
        if let Some((a, b)) = &self.factors {
            // The factored entries by one small GEMM per block of rows, as the tiles.
            super::check_block((n, m), rows, cols, &out)?;
            let rhs = gather_rows(b, cols);
            let k = a.ncols();
            return tiled::cost_block((n, m), self.scale, rows, cols, out, |block, dst| {
                let lhs = gather_rows(a, block);
                mul_transposed(&lhs, &rhs, k, dst, block.len(), cols.len());
            });
        }
        tiled::cost_block((n, m), self.scale, rows, cols, out, |block, dst| {
            for (d, &i) in dst.chunks_mut(cols.len()).zip(block) {
                let p = self.x.row(i);
                let p = p.as_slice().expect("standard layout");
                for (v, &j) in d.iter_mut().zip(cols) {
                    let q = self.y.row(j);
                    *v = self.cost_fn.cost(p, q.as_slice().expect("standard layout"));
                }
            }
        })
    }

    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>> {
        tiled::plan_matrix(self, self.shape(), self.scale, plan, limit_bytes)
    }
}

/// `out = factor·A·(Bᵀ·V)` (`Axis::Rows`) or `factor·B·(Aᵀ·V)` (`Axis::Cols`): linear in
/// the number of rows. Both products are skinny, so they run as sequential products over
/// blocks of rows, in parallel, with the partial sums of `Bᵀ·V` added in a fixed order
/// (faer's own parallel split of such products spends its time in barriers).
fn factored_product(
    (a, b): (&Array2<f64>, &Array2<f64>),
    axis: Axis,
    v: ArrayView2<'_, f64>,
    mut out: ArrayViewMut2<'_, f64>,
    factor: f64,
) {
    let (lhs, rhs) = match axis {
        Axis::Rows => (a, b),
        Axis::Cols => (b, a),
    };
    const ROWS: usize = 2048;
    let block = |c: usize| {
        let rows = c * ROWS..((c + 1) * ROWS).min(rhs.nrows());
        let mut part = Array2::zeros((rhs.ncols(), v.ncols()));
        matmul_seq(
            part.view_mut(),
            rhs.slice(s![rows.clone(), ..]).t(),
            v.slice(s![rows, ..]),
            1.0,
        );
        part
    };
    let parts: Vec<Array2<f64>> = (0..rhs.nrows().div_ceil(ROWS))
        .into_par_iter()
        .map(block)
        .collect();
    let mut inner = Array2::zeros((rhs.ncols(), v.ncols()));
    for part in &parts {
        inner += part;
    }
    out.axis_chunks_iter_mut(NdAxis(0), ROWS)
        .into_par_iter()
        .zip(lhs.axis_chunks_iter(NdAxis(0), ROWS).into_par_iter())
        .for_each(|(o, l)| matmul_seq(o, l, inner.view(), factor));
}

/// The row-wise Khatri–Rao square of a factor, folded by symmetry: the columns are the
/// products `F_ip·F_iq` for `p ≤ q`, those with `p < q` multiplied by `off_diagonal`. With
/// `off_diagonal = 1` on one factor and `2` on the other, `(A⊙A)·(B⊙B)ᵀ = (A·Bᵀ)∘(A·Bᵀ)`
/// in `k(k+1)/2` columns instead of `k²`.
fn khatri_rao_square(f: &Array2<f64>, off_diagonal: f64) -> Array2<f64> {
    let k = f.ncols();
    let mut out = Array2::zeros((f.nrows(), k * (k + 1) / 2));
    for (row, mut o) in f.outer_iter().zip(out.outer_iter_mut()) {
        let mut c = 0;
        for p in 0..k {
            for q in p..k {
                let w = if p == q { 1.0 } else { off_diagonal };
                o[c] = w * row[p] * row[q];
                c += 1;
            }
        }
    }
    out
}

/// The rows `idx` of `f` (standard layout), stacked into one row-major buffer.
fn gather_rows(f: &Array2<f64>, idx: &[usize]) -> Vec<f64> {
    let k = f.ncols();
    let data = f.as_slice().expect("standard layout");
    let mut out = Vec::with_capacity(idx.len() * k);
    for &i in idx {
        out.extend_from_slice(&data[i * k..(i + 1) * k]);
    }
    out
}
