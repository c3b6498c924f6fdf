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
use crate::kernels::sweep::{self, Chain, DenseCols, DenseRows, TileSource};

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
            let src = DenseCols { data, m };
            sweep::exact(
                &src,
                args.gamma_cols,
                args.eps_cols,
                &linked,
                args.k,
                &failed,
                cols,
            );
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
            sweep::softmin(&DenseCols { data, m }, gamma, eps, h, k, guess, out);
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
        mask: Option<ndarray::ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (data, m, gamma) = (self.data(), self.storage.ncols(), self.gamma(s.epsilon));
        if self.along_storage_rows(s.axis) {
            tiled::max_pass(&DenseRows { data, m }, self.shape(), gamma, s, mask, out)
        } else {
            tiled::max_pass(&DenseCols { data, m }, self.shape(), gamma, s, mask, out)
        }
    }

    fn sum_pass(
        &self,
        s: &Sweep<'_>,
        anchors: ndarray::ArrayView2<'_, f64>,
        mask: Option<ndarray::ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, ExactSum>,
    ) -> Result<()> {
        let (data, m, gamma) = (self.data(), self.storage.ncols(), self.gamma(s.epsilon));
        if self.along_storage_rows(s.axis) {
            tiled::sum_pass(
                &DenseRows { data, m },
                self.shape(),
                gamma,
                s,
                anchors,
                mask,
                out,
            )
        } else {
            tiled::sum_pass(
                &DenseCols { data, m },
                self.shape(),
                gamma,
                s,
                anchors,
                mask,
                out,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Sweep;
    use ndarray::{Array1, ShapeBuilder, array};

    fn naive_softmin(c: &Array2<f64>, axis: Axis, eps: f64, h: &Array1<f64>) -> Array1<f64> {
        let c = if axis == Axis::Rows {
            c.clone()
        } else {
            c.t().to_owned()
        };
        c.outer_iter()
            .map(|row| {
                let t: Vec<f64> = row.iter().zip(h).map(|(c, h)| h - c / eps).collect();
                let m = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                -eps * (m + t.iter().map(|v| (v - m).exp()).sum::<f64>().ln())
            })
            .collect()
    }

    fn random_cost(n: usize, m: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, m), |(i, j)| {
            ((i * 31 + j * 17) % 23) as f64 / 7.0 + (i as f64 * 0.1).sin()
        })
    }

    #[test]
    fn both_sweeps_match_naive_for_both_layouts() {
        let (n, m) = (70, 131);
        let c = random_cost(n, m);
        let mut fortran = Array2::zeros((n, m).f());
        fortran.assign(&c);
        for layout in [c.view(), fortran.view()] {
            let geom = DenseCost::new(layout).unwrap();
            assert_eq!(geom.shape(), (n, m));
            for (axis, len_h, len_out) in [(Axis::Rows, m, n), (Axis::Cols, n, m)] {
                let h = Array1::from_shape_fn(len_h, |j| (j as f64 * 0.37).cos());
                let mut out = Array1::zeros(len_out);
                geom.softmin(axis, 0.05, h.view(), out.view_mut()).unwrap();
                let want = naive_softmin(&c, axis, 0.05, &h);
                for (a, b) in out.iter().zip(&want) {
                    assert!(
                        (a - b).abs() < 1e-12 * (1.0 + b.abs()),
                        "{axis:?}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn batched_sweeps_give_the_bits_of_single_sweeps() {
        // 70 × 131: one thread, blocks shared by the vectors; 300 × 300 (× 3 vectors above
        // the shared-sweep limit): vectors split between threads; 1500 × 700: streamed
        // sweeps (no Gibbs kernel), with and without guesses, in f64 and f32.
        for (n, m) in [(70, 131), (300, 300), (1500, 700)] {
            batched_sweeps_match(n, m);
        }
    }

    fn batched_sweeps_match(n: usize, m: usize) {
        let c = random_cost(n, m);
        let mut fortran = Array2::zeros((n, m).f());
        fortran.assign(&c);
        let c32 = c.mapv(|v| v as f32);
        let geoms: Vec<Box<dyn Geometry>> = vec![
            Box::new(DenseCost::new(c.view()).unwrap()),
            Box::new(DenseCost::new(fortran.view()).unwrap()),
            Box::new(DenseCost::new(c32.view()).unwrap()),
        ];
        for geom in &geoms {
            for (axis, len_h, len_out) in [(Axis::Rows, m, n), (Axis::Cols, n, m)] {
                // Three vectors, one of them all −∞ (no term: +∞ out), one far from the
                // others' scale (two-pass fallbacks for some entries).
                let h = Array2::from_shape_fn((3, len_h), |(k, j)| match k {
                    0 => (j as f64 * 0.37).cos(),
                    1 => f64::NEG_INFINITY,
                    _ => 400.0 * (j as f64 * 0.11).sin(),
                });
                let guess = Array2::from_shape_fn((3, len_out), |(k, o)| {
                    0.3 * k as f64 + (o as f64 * 0.2).sin()
                });
                for (eps, with_guess) in [(0.05, false), (0.05, true), (1e-3, true)] {
                    let sweep = Sweep {
                        axis,
                        epsilon: eps,
                        h: h.view(),
                        guess: with_guess.then(|| guess.view()),
                    };
                    let mut out = Array2::zeros((3, len_out));
                    geom.softmin_batch(&sweep, out.view_mut()).unwrap();
                    for k in 0..3 {
                        let mut one = Array1::zeros(len_out);
                        let g = with_guess.then(|| guess.row(k));
                        geom.softmin_near(axis, eps, h.row(k), g, one.view_mut())
                            .unwrap();
                        for (a, b) in out.row(k).iter().zip(&one) {
                            assert_eq!(a.to_bits(), b.to_bits(), "{axis:?}, vector {k}");
                        }
                    }
                    assert!(out.row(1).iter().all(|&v| v == f64::INFINITY));
                    // Strided output.
                    let mut wide = Array2::zeros((len_out, 3));
                    geom.softmin_batch(&sweep, wide.view_mut().reversed_axes())
                        .unwrap();
                    assert_eq!(wide.t(), out);
                }
            }
            // Shapes are named.
            let h = Array2::zeros((2, m));
            let mut out = Array2::zeros((2, n));
            let bad_h = Array2::zeros((2, m + 1));
            let sweep = |h| Sweep {
                axis: Axis::Rows,
                epsilon: 0.05,
                h,
                guess: None,
            };
            let err = geom
                .softmin_batch(&sweep(bad_h.view()), out.view_mut())
                .unwrap_err();
            assert!(err.to_string().contains("h"), "{err}");
            let err = geom
                .softmin_batch(&sweep(h.view()), Array2::zeros((3, n)).view_mut())
                .unwrap_err();
            assert!(err.to_string().contains("out"), "{err}");
        }
    }

    #[test]
    fn forbidden_pairs_and_infeasible_rows() {
        let c = array![[0.0, f64::INFINITY], [f64::INFINITY, f64::INFINITY]];
        let geom = DenseCost::new(c.view()).unwrap();
        let mut out = Array1::zeros(2);
        geom.softmin(Axis::Rows, 0.1, Array1::zeros(2).view(), out.view_mut())
            .unwrap();
        assert_eq!(out[0], 0.0);
        assert_eq!(out[1], f64::INFINITY);
    }

    #[test]
    fn bad_matrices_are_refused() {
        let err = DenseCost::new(array![[0.0, f64::NAN]].view()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFinite {
                    arg: "cost",
                    index: Index::Matrix(0, 1),
                    ..
                }
            ),
            "{err}"
        );
        let mut f = Array2::zeros((2, 3).f());
        f[[1, 2]] = f64::NEG_INFINITY;
        let err = DenseCost::new(f.view()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFinite {
                    arg: "cost",
                    index: Index::Matrix(1, 2),
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            DenseCost::new(Array2::<f64>::zeros((0, 3))),
            Err(Error::Empty { .. })
        ));
        assert!(
            DenseCost::new(Array2::<f64>::zeros((2, 2)))
                .unwrap()
                .with_scale(ScaleCost::Max)
                .is_err()
        );
    }

    #[test]
    fn scaling_divides_every_reported_quantity() {
        let c = array![[1.0, 3.0], [2.0, 6.0]];
        let geom = DenseCost::new(c.view())
            .unwrap()
            .with_scale(ScaleCost::Max)
            .unwrap();
        assert_eq!(geom.summary().max, 1.0);
        assert_eq!(geom.cost_matrix(1 << 20).unwrap(), &c / 6.0);
        let geom = DenseCost::new(c.view())
            .unwrap()
            .with_scale(ScaleCost::Median)
            .unwrap();
        assert_eq!(geom.scale(), 2.5);
        let s = DenseCost::new(c.view()).unwrap().summary();
        assert_eq!((s.max, s.mean), (6.0, 3.0));
        assert!((s.std - (3.5f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_strided_view_is_copied_to_standard_layout() {
        let big = random_cost(10, 12);
        let view = big.slice(ndarray::s![..;2, ..;3]);
        let geom = DenseCost::new(view).unwrap();
        assert_eq!(geom.cost_matrix(1 << 20).unwrap(), view);
    }

    /// Small costs sweep through the Gibbs kernel: equal to the exact sweep at every ε,
    /// including where most sums underflow (exact fallback, then the kernel is retired).
    #[test]
    fn gibbs_kernel_sweeps_match_naive_at_any_epsilon() {
        let c = random_cost(37, 23);
        let geom = DenseCost::new(c.view()).unwrap();
        let data = geom.storage.as_slice().unwrap();
        for eps in [10.0, 0.1, 1e-3, 1e-5] {
            for axis in [Axis::Rows, Axis::Cols] {
                let (n_out, n_red) = super::super::sweep_lengths(geom.shape(), axis);
                // A wide range of h: some outputs' mass lies e^±700 away from max h.
                let h = Array1::from_shape_fn(n_red, |j| ((j * 7919) % 13) as f64 * 60.0 - 400.0);
                let want = naive_softmin(&c, axis, eps, &h);
                // Repeated sweeps give the same result (the kernel is cached after the first).
                for _ in 0..2 {
                    let mut out = Array1::zeros(n_out);
                    geom.softmin(axis, eps, h.view(), out.view_mut()).unwrap();
                    for (o, w) in out.iter().zip(&want) {
                        assert!(
                            (o - w).abs() <= 1e-12 * (1.0 + w.abs()),
                            "eps {eps}: {o} vs {w}"
                        );
                    }
                }
            }
        }
        assert!(geom.gibbs.kernel(data, 10.0).is_some());
        // γ·(S_max − S_min) beyond MAX_RANGE: the log path.
        assert!(geom.gibbs.kernel(data, 1e5).is_none());
        // Mass far from the largest h_j: rows 16 to 19 fall back to the exact
        // sweep (its shifted sum is below e^−575), with the same result.
        let line = Array2::from_shape_fn((20, 20), |(i, j)| ((i as f64 - j as f64) / 20.0).powi(2));
        let geom = DenseCost::new(line.view()).unwrap();
        let h = Array1::from_shape_fn(20, |j| -1000.0 * j as f64);
        let mut out = Array1::zeros(20);
        let want = naive_softmin(&line, Axis::Rows, 1e-3, &h);
        for _ in 0..2 {
            geom.softmin(Axis::Rows, 1e-3, h.view(), out.view_mut())
                .unwrap();
            for (o, w) in out.iter().zip(&want) {
                assert!((o - w).abs() <= 1e-12 * (1.0 + w.abs()), "{o} vs {w}");
            }
        }
        let data = geom.storage.as_slice().unwrap();
        assert!(geom.gibbs.kernel(data, 1.0 / 1e-3).is_some());
        // Negative costs: the kernel is shifted by the smallest entry, nothing overflows.
        let neg = c.mapv(|v| v - 10.0);
        let geom = DenseCost::new(neg.view()).unwrap();
        let h = Array1::from_shape_fn(23, |j| j as f64 * 3.0);
        let mut out = Array1::zeros(37);
        for eps in [1.0, 0.01] {
            geom.softmin(Axis::Rows, eps, h.view(), out.view_mut())
                .unwrap();
            assert!(
                geom.gibbs
                    .kernel(geom.storage.as_slice().unwrap(), 1.0 / eps)
                    .is_some()
            );
            geom.softmin(Axis::Rows, eps, h.view(), out.view_mut())
                .unwrap();
            let want = naive_softmin(&neg, Axis::Rows, eps, &h);
            for (o, w) in out.iter().zip(&want) {
                assert!((o - w).abs() <= 1e-12 * (1.0 + w.abs()), "{o} vs {w}");
            }
        }
        // ε far above the spread of the costs: the log path keeps every bit.
        assert!(
            geom.gibbs
                .kernel(geom.storage.as_slice().unwrap(), 1e-3)
                .is_none()
        );
        // All h = −∞: every output is +∞.
        let geom = DenseCost::new(c.view()).unwrap();
        let h = Array1::from_elem(23, f64::NEG_INFINITY);
        geom.softmin(Axis::Rows, 0.1, h.view(), out.view_mut())
            .unwrap();
        assert!(out.iter().all(|&v| v == f64::INFINITY));
    }
}
