//! [`DenseCost`]: a cost matrix held in memory, in `f64` or `f32`.
//!
//! The matrix is borrowed without copy when it is contiguous in either row-major (C) or
//! column-major (Fortran) order; a column-major matrix is stored as its transpose, so the
//! sweep that is contiguous in memory is always the row kernel and the other one the
//! column-block kernel (`crate::kernels::sweep`). Small costs keep their Gibbs kernel per ε
//! (`geometry/gibbs.rs`); the others are streamed, one exponential per entry.

use std::ops::Range;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2};
use rayon::prelude::*;

use super::gibbs::GibbsCache;
use super::{
    Axis, CostScalar, CostSummary, Geometry, LogPlan, Moments, Precision, ScaleCost, SoftminChain,
    Sweep, SweepPasses, check_len, check_sweep, default_chain, median_of, resolve_scale, row_major,
    tiled, with_rows_mut,
};
use crate::error::{Error, Index, Result};
use crate::kernels::exact::ExactSum;
use crate::kernels::gemm;
use crate::kernels::sweep::{self, Chain, DenseRows, RowOrderColumns, SplitH, TileSource};

/// A stored `n × m` cost matrix of `f64` (the default) or `f32` entries. `+∞` entries are
/// allowed and mean "forbidden pair".
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::{Axis, DenseCost, Geometry};
///
/// let cost = array![[0.0, 1.0], [1.0, 0.0]];
/// let geom = DenseCost::new(cost.view())?;
/// let mut out = ndarray::Array1::zeros(2);
/// // out_i = −ε log Σ_j exp(h_j − C_ij/ε): with h = 0 and small ε, ≈ min_j C_ij = 0.
/// geom.softmin(Axis::Rows, 1e-3, ndarray::Array1::zeros(2).view(), out.view_mut())?;
/// assert!(out.iter().all(|v| v.abs() < 1e-2));
///
/// // The same cost in f32: half the memory, exponentials twice as fast, f64 results.
/// let cost32 = cost.mapv(|v| v as f32);
/// let geom32 = DenseCost::new(cost32.view())?;
/// geom32.softmin(Axis::Rows, 1e-3, ndarray::Array1::zeros(2).view(), out.view_mut())?;
/// assert!(out.iter().all(|v| v.abs() < 1e-2));
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DenseCost<'a, T: CostScalar = f64> {
    /// Row-major storage `S`: `S = C`, or `S = Cᵀ` when `transposed`.
    storage: CowArray<'a, T, Ix2>,
    transposed: bool,
    /// Divisor applied to every entry (see [`ScaleCost`]).
    scale: f64,
    /// Statistics of the unscaled finite entries, computed on first use.
    raw: OnceLock<Moments>,
    /// The Gibbs kernel of the last ε (small costs only, see `geometry/gibbs.rs`).
    gibbs: GibbsCache,
}

impl<'a, T: CostScalar> DenseCost<'a, T> {
    /// Wraps a cost matrix (an `Array2`, or a view that is then borrowed).
    ///
    /// # Errors
    /// [`Error::Empty`] for a matrix with no row or no column, [`Error::NonFinite`] for a NaN
    /// or `−∞` entry (`+∞` is allowed: a forbidden pair).
    pub fn new(cost: impl Into<CowArray<'a, T, Ix2>>) -> Result<Self> {
        let cost: CowArray<'a, T, Ix2> = cost.into();
        if cost.nrows() == 0 || cost.ncols() == 0 {
            return Err(Error::Empty {
                arg: "cost",
                what: "row and column",
            });
        }
        let (storage, transposed) = if cost.is_standard_layout() {
            (cost, false)
        } else if cost.t().is_standard_layout() {
            (cost.reversed_axes(), true)
        } else {
            (
                CowArray::from(cost.as_standard_layout().into_owned()),
                false,
            )
        };
        let data = storage.as_slice().expect("standard layout is contiguous");
        let cols = storage.ncols();
        // One parallel pass for the first bad entry (the smallest block index wins, so the
        // error does not depend on the thread count); statistics are computed on demand.
        let bad = data
            .par_chunks(cols * 64)
            .enumerate()
            .find_map_first(|(blk, chunk)| {
                chunk
                    .iter()
                    .position(|v| v.wide().is_nan() || v.wide() == f64::NEG_INFINITY)
                    .map(|pos| (blk * 64 + pos / cols, pos % cols, chunk[pos].wide()))
            });
        if let Some((r, c, value)) = bad {
            let index = if transposed {
                Index::Matrix(c, r)
            } else {
                Index::Matrix(r, c)
            };
            return Err(Error::NonFinite {
                arg: "cost",
                index,
                value,
            });
        }
        Ok(DenseCost {
            storage,
            transposed,
            scale: 1.0,
            raw: OnceLock::new(),
            gibbs: GibbsCache::default(),
        })
    }

    /// Statistics of the unscaled finite entries (one pass, cached).
    fn raw_moments(&self) -> Moments {
        *self.raw.get_or_init(|| {
            self.data()
                .par_chunks(self.storage.ncols() * 64)
                .map(Moments::of)
                .collect::<Vec<_>>()
                .into_iter()
                .fold(Moments::EMPTY, Moments::merge)
        })
    }

    /// Rescales the cost, `C ← C / s`, with `s` given by `scale`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when the statistic is not positive and finite (e.g. the
    /// maximum of an all-zero cost).
    pub fn with_scale(mut self, scale: ScaleCost) -> Result<Self> {
        let raw = match scale {
            ScaleCost::Max | ScaleCost::Mean => self.raw_moments().summary(1.0),
            _ => Moments::EMPTY.summary(1.0),
        };
        self.scale = resolve_scale(scale, raw, || {
            Ok(median_of(
                &mut self.storage.iter().map(|v| v.wide()).collect(),
            ))
        })?;
        Ok(self)
    }

    /// The divisor applied to the stored entries.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The row-major storage.
    fn data(&self) -> &[T] {
        self.storage.as_slice().expect("standard layout")
    }

    /// Whether a sweep along `axis` runs along the storage rows (contiguous).
    fn along_storage_rows(&self, axis: Axis) -> bool {
        (axis == Axis::Rows) != self.transposed
    }

    /// `1/(scale·ε)`.
    fn gamma(&self, epsilon: f64) -> f64 {
        1.0 / (self.scale * epsilon)
    }

    /// The fused iteration over the storage rows (see `kernels::sweep::chain`), with the
    /// columns it could not accept by the exact two-pass sweep of the linked vector.
    fn fused(&self, args: &Chain<'_>, rows: &mut [f64], cols: &mut [f64]) {
        let (data, m) = (self.data(), self.storage.ncols());
        let mut linked = vec![0.0; rows.len()];
        let failed = sweep::chain(data, m, args, rows, cols, &mut linked);
        if failed.contains(&true) {
            // Some column's guess was too far off (or a link was not finite).
            let (gamma, eps) = (args.gamma_cols, args.eps_cols);
            let k = args.k;
            sweep::softmin_columns(data, m, gamma, eps, &linked, k, None, Some(&failed), cols);
        }
    }

    /// The streamed sweep (no Gibbs kernel) on row-major slices.
    fn stream(
        &self,
        axis: Axis,
        eps: f64,
        h: &[f64],
        k: usize,
        guess: Option<&[f64]>,
        out: &mut [f64],
    ) {
        let (data, m, gamma) = (self.data(), self.storage.ncols(), self.gamma(eps));
        if self.along_storage_rows(axis) {
            sweep::softmin(&DenseRows { data, m }, gamma, eps, h, k, guess, out);
        } else {
            sweep::softmin_columns(data, m, gamma, eps, h, k, guess, None, out);
        }
    }
}

/// Entries of the largest batch of fused iterations: above it, each problem's column sums
/// per task (`k × m` per [`SUB`](sweep::SUB) rows) would outgrow the caches.
const CHAIN_MAX_PARTIALS: usize = 1 << 16;

impl<T: CostScalar> TileSource for DenseCost<'_, T> {
    type Scalar = T;

    fn extent(&self, axis: Axis) -> (usize, usize) {
        super::sweep_lengths(self.shape(), axis)
    }

    fn tile_shape(&self) -> (usize, usize) {
        (16, 1024)
    }

    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [T]) {
        let w = red.len();
        let data = self.data();
        let cols = self.storage.ncols();
        for (t, o) in out.enumerate() {
            let dst = &mut tile[t * w..(t + 1) * w];
            if self.along_storage_rows(axis) {
                dst.copy_from_slice(&data[o * cols + red.start..o * cols + red.end]);
            } else {
                for (d, r) in dst.iter_mut().zip(red.clone()) {
                    *d = data[r * cols + o];
                }
            }
        }
    }
}

impl<T: CostScalar> Geometry for DenseCost<'_, T> {
    fn shape(&self) -> (usize, usize) {
        let (r, c) = self.storage.dim();
        if self.transposed { (c, r) } else { (r, c) }
    }

    fn summary(&self) -> CostSummary {
        self.raw_moments().summary(self.scale)
    }

    fn precision(&self) -> Precision {
        T::PRECISION
    }

    fn softmin_batch(&self, s: &Sweep<'_>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        check_sweep(self.shape(), s, &out)?;
        let k = s.h.nrows();
        let h = row_major(&s.h);
        let guess = s.guess.as_ref().map(row_major);
        let gamma = self.gamma(s.epsilon);
        let (data, m) = (self.data(), self.storage.ncols());
        with_rows_mut(out, |o| {
            if let Some(kernel) = self.gibbs.kernel(data, gamma) {
                if self.along_storage_rows(s.axis) {
                    kernel.rows_batch(data, m, gamma, s.epsilon, &h, o);
                } else {
                    kernel.cols_batch(data, m, gamma, s.epsilon, &h, o);
                }
            } else {
                self.stream(s.axis, s.epsilon, &h, k, guess.as_deref(), o);
            }
        });
        Ok(())
    }

    fn softmin_chain(
        &self,
        chain: &SoftminChain<'_>,
        out_rows: ArrayViewMut2<'_, f64>,
        out_cols: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, m) = self.shape();
        let k = chain.h.nrows();
        let gamma = self.gamma(chain.eps_rows);
        // A small cost with a Gibbs kernel at this ε: two matrix–vector sweeps. The fused
        // pass needs C's rows contiguous, a guess for the columns and room for the partials.
        let kernel = chain.eps_rows == chain.eps_cols
            && chain.eps_rows > 0.0
            && self.gibbs.kernel(self.data(), gamma).is_some();
        // Problems per fused pass: each keeps `m` column sums per task of SUB rows.
        let per_problem = m * n.div_ceil(sweep::SUB);
        let group = (CHAIN_MAX_PARTIALS / m).min(64 * CHAIN_MAX_PARTIALS / per_problem);
        let Some(guess_cols) = chain
            .guess_cols
            .filter(|_| !kernel && !self.transposed && group > 0)
        else {
            return default_chain(self, chain, out_rows, out_cols);
        };
        crate::validate::positive("eps_rows", chain.eps_rows)?;
        crate::validate::positive("eps_cols", chain.eps_cols)?;
        check_len("h", chain.h.ncols(), m, "columns of the cost")?;
        check_len("guess_cols", guess_cols.ncols(), m, "columns of the cost")?;
        check_len("guess_cols", guess_cols.nrows(), k, "the rows of h")?;
        check_len("out_rows", out_rows.ncols(), n, "rows of the cost")?;
        check_len("out_rows", out_rows.nrows(), k, "the rows of h")?;
        check_len("out_cols", out_cols.ncols(), m, "columns of the cost")?;
        check_len("out_cols", out_cols.nrows(), k, "the rows of h")?;
        if let Some(g) = &chain.guess_rows {
            check_len("guess_rows", g.ncols(), n, "rows of the cost")?;
            check_len("guess_rows", g.nrows(), k, "the rows of h")?;
        }
        let h = row_major(&chain.h);
        let guess_rows = chain.guess_rows.as_ref().map(row_major);
        let guess_cols = row_major(&guess_cols);
        with_rows_mut(out_rows, |rows| {
            with_rows_mut(out_cols, |cols| {
                // Groups of problems, each problem's arithmetic the same in any group.
                for p0 in (0..k).step_by(group) {
                    let p1 = (p0 + group).min(k);
                    let link = |q: usize, i: usize, s: f64| (chain.link)(p0 + q, i, s);
                    let args = Chain {
                        gamma_rows: self.gamma(chain.eps_rows),
                        gamma_cols: self.gamma(chain.eps_cols),
                        eps_rows: chain.eps_rows,
                        eps_cols: chain.eps_cols,
                        h: &h[p0 * m..p1 * m],
                        k: p1 - p0,
                        guess_rows: guess_rows.as_deref().map(|g| &g[p0 * n..p1 * n]),
                        guess_cols: &guess_cols[p0 * m..p1 * m],
                        link: &link,
                    };
                    let (rows, cols) = (&mut rows[p0 * n..p1 * n], &mut cols[p0 * m..p1 * m]);
                    self.fused(&args, rows, cols);
                }
            })
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
        // f64: one parallel GEMM on the storage (or its transpose), scaled: C·V or Cᵀ·V.
        let Some(storage) = f64_storage(self) else {
            return tiled::apply_cost(self, self.shape(), self.scale, axis, v, out);
        };
        super::check_apply(self.shape(), axis, &v, &out)?;
        let lhs = if self.along_storage_rows(axis) {
            storage
        } else {
            storage.reversed_axes()
        };
        gemm::matmul_par(out, lhs, v, 1.0 / self.scale, false);
        Ok(())
    }

    fn apply_square_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        tiled::apply_square_cost(self, self.shape(), self.scale, axis, v, out)
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
        let data = self.data();
        let stride = self.storage.ncols();
        // Entry (i, j) of C is S[i, j], or S[j, i] for transposed storage.
        let (row_step, col_step) = if self.transposed {
            (1, stride)
        } else {
            (stride, 1)
        };
        tiled::cost_block(self.shape(), self.scale, rows, cols, out, |block, dst| {
            for (d, &i) in dst.chunks_mut(cols.len()).zip(block) {
                for (v, &j) in d.iter_mut().zip(cols) {
                    *v = data[i * row_step + j * col_step].wide();
                }
            }
        })
    }

    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>> {
        tiled::plan_matrix(self, self.shape(), self.scale, plan, limit_bytes)
    }
}

/// The storage as an `f64` view, when it is `f64`.
fn f64_storage<'s, T: CostScalar>(cost: &'s DenseCost<'_, T>) -> Option<ArrayView2<'s, f64>> {
    let slice = T::as_f64_slice(cost.data())?;
    ArrayView2::from_shape(cost.storage.dim(), slice).ok()
}

impl<T: CostScalar> SweepPasses for DenseCost<'_, T> {
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
        let (data, m, gamma) = (self.data(), self.storage.ncols(), self.gamma(s.epsilon));
        if self.along_storage_rows(s.axis) {
            return tiled::max_pass(&DenseRows { data, m }, self.shape(), gamma, s, mask, out);
        }
        check_sweep(self.shape(), s, &out)?;
        let h = row_major(&s.h);
        let parts = SplitH::<T>::of(&h);
        let b = parts.batch(&h, s.h.nrows(), s.h.ncols());
        let mask: Option<Vec<bool>> = mask.map(|m| m.iter().copied().collect());
        let src = RowOrderColumns { data, m };
        with_rows_mut(out, |o| src.max_pass(&b, T::of(gamma), mask.as_deref(), o));
        Ok(())
    }

    fn sum_pass(
        &self,
        s: &Sweep<'_>,
        anchors: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
        mut out: ArrayViewMut2<'_, ExactSum>,
    ) -> Result<()> {
        let (data, m, gamma) = (self.data(), self.storage.ncols(), self.gamma(s.epsilon));
        if self.along_storage_rows(s.axis) {
            let src = DenseRows { data, m };
            return tiled::sum_pass(&src, self.shape(), gamma, s, anchors, mask, out);
        }
        tiled::check_sum_pass(self.shape(), s, &anchors, mask.as_ref(), &out.view())?;
        let h = row_major(&s.h);
        let parts = SplitH::<T>::of(&h);
        let b = parts.batch(&h, s.h.nrows(), s.h.ncols());
        let anchors: Vec<f64> = anchors.iter().copied().collect();
        let mask: Option<Vec<bool>> = mask.map(|m| m.iter().copied().collect());
        let mut buf = vec![ExactSum::ZERO; out.len()];
        RowOrderColumns { data, m }.sum_pass(&b, T::of(gamma), &anchors, mask.as_deref(), &mut buf);
        out.iter_mut().zip(buf).for_each(|(o, v)| *o = v);
        Ok(())
    }
}
