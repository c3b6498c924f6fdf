//! [`DenseCost`]: a cost matrix held in memory.
//!
//! The matrix is borrowed without copy when it is contiguous in either row-major (C) or
//! column-major (Fortran) order; a column-major matrix is stored as its transpose, so the
//! sweep that is contiguous in memory is always the fast row kernel and the other one the
//! cache-blocked column kernel (`crate::kernels::lse`).

use std::ops::Range;
use std::sync::OnceLock;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, CowArray, Ix2};
use rayon::prelude::*;

use super::gibbs::GibbsCache;
use super::{
    Axis, CostSummary, Geometry, LogPlan, Moments, ScaleCost, SoftminChain, check_len,
    default_chain, median_of, resolve_scale, tiled,
};
use crate::error::{Error, Index, Result};
use crate::kernels::gemm;
use crate::kernels::lse::{
    COLUMN_BLOCK, Lse, accumulate_exp, add_scaled, exp_terms, lse_columns, lse_row, lse_row_near,
    shifted_lse,
};
use crate::kernels::tiles::TileSource;
use crate::validate;

/// A stored `n × m` cost matrix. `+∞` entries are allowed and mean "forbidden pair".
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
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DenseCost<'a> {
    /// Row-major storage `S`: `S = C`, or `S = Cᵀ` when `transposed`.
    storage: CowArray<'a, f64, Ix2>,
    transposed: bool,
    /// Divisor applied to every entry (see [`ScaleCost`]).
    scale: f64,
    /// Statistics of the unscaled finite entries, computed on first use.
    raw: OnceLock<Moments>,
    /// The Gibbs kernel of the last ε (small costs only, see `geometry/gibbs.rs`).
    gibbs: GibbsCache,
}

const ROWS_PER_TASK: usize = 4;

impl<'a> DenseCost<'a> {
    /// Wraps a cost matrix (an `Array2`, or a view that is then borrowed).
    ///
    /// # Errors
    /// [`Error::Empty`] for a matrix with no row or no column, [`Error::NonFinite`] for a NaN
    /// or `−∞` entry (`+∞` is allowed: a forbidden pair).
    pub fn new(cost: impl Into<CowArray<'a, f64, Ix2>>) -> Result<Self> {
        let cost: CowArray<'a, f64, Ix2> = cost.into();
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
                    .position(|v| v.is_nan() || *v == f64::NEG_INFINITY)
                    .map(|pos| (blk * 64 + pos / cols, pos % cols, chunk[pos]))
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
            let data = self.storage.as_slice().expect("standard layout");
            data.par_chunks(self.storage.ncols() * 64)
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
            Ok(median_of(&mut self.storage.iter().copied().collect()))
        })?;
        Ok(self)
    }

    /// The divisor applied to the stored entries.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Softmin along the contiguous rows of the storage (one shifted pass per row when a
    /// guess is given, see `crate::kernels::lse`).
    fn softmin_storage_rows(
        &self,
        gamma: f64,
        eps: f64,
        h: &[f64],
        guess: Option<&[f64]>,
        out: &mut [f64],
    ) {
        let data = self.storage.as_slice().expect("standard layout");
        let cols = self.storage.ncols();
        out.par_chunks_mut(ROWS_PER_TASK)
            .enumerate()
            .with_min_len(tasks_per_job(ROWS_PER_TASK * cols))
            .for_each(|(blk, chunk)| {
                for (k, o) in chunk.iter_mut().enumerate() {
                    let i = blk * ROWS_PER_TASK + k;
                    let row = &data[i * cols..(i + 1) * cols];
                    *o = -eps * row_lse(h, row, gamma, guess.map(|g| -g[i] / eps));
                }
            });
    }

    /// Softmin along the columns of the storage. With a guess: one pass over the rows in
    /// storage order, adding each row's shifted terms into column sums (contiguous reads,
    /// [`Self::column_sums`]). Without one, or where the guess was too far off: the
    /// cache-blocked two-pass kernel, by blocks of columns.
    fn softmin_storage_cols(
        &self,
        gamma: f64,
        eps: f64,
        h: &[f64],
        guess: Option<&[f64]>,
        out: &mut [f64],
    ) {
        if let Some(guess) = guess {
            let shift: Vec<f64> = guess.iter().map(|g| g / eps).collect();
            let mut unused = vec![[0.0; 3]; h.len()];
            let sum = self.column_sums(&mut unused, |rows, _, sum| {
                for (i, &hi) in rows.clone().zip(&h[rows]) {
                    self.add_row_to_columns(i, hi, gamma, &shift, sum);
                }
            });
            if store_shifted(&sum, &shift, eps, out) {
                return;
            }
        }
        let data = self.storage.as_slice().expect("standard layout");
        let cols = self.storage.ncols();
        out.par_chunks_mut(COLUMN_BLOCK)
            .enumerate()
            .with_min_len(tasks_per_job(COLUMN_BLOCK * h.len()))
            .for_each(|(blk, chunk)| {
                let w = chunk.len();
                let (mut max, mut sum) = ([f64::NEG_INFINITY; COLUMN_BLOCK], [0.0; COLUMN_BLOCK]);
                lse_columns(
                    h,
                    &data[blk * COLUMN_BLOCK..],
                    cols,
                    gamma,
                    &mut max[..w],
                    &mut sum[..w],
                );
                for (j, o) in chunk.iter_mut().enumerate() {
                    *o = -eps
                        * Lse {
                            max: max[j],
                            sum: sum[j],
                        }
                        .value();
                }
            });
    }

    /// Shifted column sums `Σ_i exp(h_i + shift_j − γ·S_ij)` over the storage rows, where
    /// `visit(rows, per_row, sum)` adds the rows of one block into that block's partial
    /// sums (and may record a pair of values per row in `per_row`, the block's part of
    /// `per_row_out`). Blocks are fixed ([`ROW_BLOCKS`] of them) and their partials are
    /// added in order, so the result does not depend on the thread count.
    fn column_sums(
        &self,
        per_row_out: &mut [[f64; 3]],
        visit: impl Fn(Range<usize>, &mut [[f64; 3]], &mut [f64]) + Sync,
    ) -> Vec<f64> {
        let (n, m) = self.storage.dim();
        let per_block = n.div_ceil(ROW_BLOCKS).max(1);
        let partials: Vec<Vec<f64>> = per_row_out
            .par_chunks_mut(per_block)
            .enumerate()
            .with_min_len(tasks_per_job(per_block * m))
            .map(|(blk, per_row)| {
                let mut sum = vec![0.0; m];
                let start = blk * per_block;
                visit(start..start + per_row.len(), per_row, &mut sum);
                sum
            })
            .collect();
        let mut total = vec![0.0; m];
        for p in &partials {
            total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
        }
        total
    }

    /// Adds storage row `i`'s terms `exp(hi + shift_j − γ·S_ij)` into `sum` (nothing for
    /// `hi = −∞`; a non-finite `hi` otherwise poisons the sums, so the caller falls back).
    fn add_row_to_columns(&self, i: usize, hi: f64, gamma: f64, shift: &[f64], sum: &mut [f64]) {
        let m = self.storage.ncols();
        let data = self.storage.as_slice().expect("standard layout");
        if hi.is_finite() {
            accumulate_exp(hi, &data[i * m..(i + 1) * m], gamma, shift, sum);
        } else if hi != f64::NEG_INFINITY {
            sum.fill(f64::NAN);
        }
    }

    /// The fused Sinkhorn iteration over row-major storage (`C` itself): each row is read
    /// once from memory, for its own softmin and, right after (from cache), for its
    /// contribution to every column sum, shifted by the column guesses.
    ///
    /// When both sweeps share ε, the row's terms `E_ij = exp(h_j + ρ_i − γ·C_ij)` (ρ the row
    /// shift) also give its column terms, `exp(h'_i + σ_j − γ·C_ij) = E_ij·e^{h'_i − ρ_i}·e^{σ_j − h_j}`:
    /// one exp per entry instead of two. This is used only where both factors are within
    /// e^±50, so that a term flushed to zero in `E` (< e^−708) weighs at most e^−608 in the
    /// column sums, which are then accepted only above e^−500; other rows take the second
    /// exp, and any doubt sends the columns to the exact sweep.
    fn chain_storage_rows(&self, chain: &SoftminChain<'_>, g: ChainSlices<'_>) {
        let data = self.storage.as_slice().expect("standard layout");
        let (n, m) = self.storage.dim();
        let gamma_r = 1.0 / (self.scale * chain.eps_rows);
        let gamma_c = 1.0 / (self.scale * chain.eps_cols);
        let shift: Vec<f64> = g.guess_cols.iter().map(|v| v / chain.eps_cols).collect();
        // e^{σ_j − h_j} when every column qualifies for the one-exp path.
        let kappa: Option<Vec<f64>> = (chain.eps_rows == chain.eps_cols && g.guess_rows.is_some())
            .then(|| {
                shift
                    .iter()
                    .zip(g.h)
                    .map(|(&s, &h)| s - h)
                    .map(|d| (d.abs() <= REUSE_LIMIT).then(|| d.exp()))
                    .collect::<Option<Vec<f64>>>()
            })
            .flatten();
        // With reuse, the column sums are accumulated divided by κ_j (the same for every
        // row, applied once at the end): reused rows add `E_ij·e^{h'_i − ρ_i}`, rows that take
        // the second exp add `exp(h'_i + h_j − γ·C_ij)`, i.e. their terms shifted by `h`
        // instead of `σ`.
        let col_shift: &[f64] = if kappa.is_some() { g.h } else { &shift };
        let mut reused = false;
        // Per row: (softmin, link, whether its column terms reused the row's).
        let mut per_row = vec![[0.0; 3]; n];
        let total = self.column_sums(&mut per_row, |rows, per_row, sum| {
            let mut terms = vec![0.0; if kappa.is_some() { m } else { 0 }];
            for (i, out) in rows.zip(per_row.iter_mut()) {
                let row = &data[i * m..(i + 1) * m];
                if let (Some(_), Some(gr)) = (&kappa, g.guess_rows) {
                    let rho = gr[i] / chain.eps_rows;
                    if rho.is_finite()
                        && let Some(v) =
                            shifted_lse(exp_terms(g.h, row, gamma_r, rho, &mut terms), rho)
                    {
                        let s = -chain.eps_rows * v;
                        let l = (chain.link)(i, s);
                        let d = l - rho;
                        if l == f64::NEG_INFINITY {
                            *out = [s, l, 1.0];
                            continue;
                        }
                        if d.abs() <= REUSE_LIMIT {
                            add_scaled(d.exp(), &terms, sum);
                            *out = [s, l, 1.0];
                            continue;
                        }
                        self.add_row_to_columns(i, l, gamma_c, col_shift, sum);
                        *out = [s, l, 0.0];
                        continue;
                    }
                }
                // The one-exp path above already tried this row's guess: go straight to the
                // exact kernel then.
                let guess = g
                    .guess_rows
                    .filter(|_| kappa.is_none())
                    .map(|gr| -gr[i] / chain.eps_rows);
                let s = -chain.eps_rows * row_lse(g.h, row, gamma_r, guess);
                let l = (chain.link)(i, s);
                *out = [s, l, 0.0];
                self.add_row_to_columns(i, l, gamma_c, col_shift, sum);
            }
        });
        let mut total = total;
        if let Some(kappa) = &kappa {
            total.iter_mut().zip(kappa).for_each(|(t, k)| *t *= k);
        }
        for (o, p) in g.out_rows.iter_mut().zip(&per_row) {
            *o = p[0];
            reused |= p[2] == 1.0;
        }
        let floor = if reused { REUSED_MIN } else { 0.0 };
        if total.iter().any(|&t| t < floor)
            || !store_shifted(&total, &shift, chain.eps_cols, g.out_cols)
        {
            // Some column's guess was too far off (or a link was not finite): redo the
            // column sweep exactly, from the linked vector.
            let linked: Vec<f64> = per_row.iter().map(|p| p[1]).collect();
            self.softmin_storage_cols(gamma_c, chain.eps_cols, &linked, None, g.out_cols);
        }
    }
}

/// Entries a parallel job should cover at least: below it the hand-off to another thread
/// costs more than the work (small costs, such as barycenters on a few hundred bins).
const PAR_GRAIN: usize = 1 << 15;

/// Tasks of `entries_per_task` entries to group into one job (the tasks and their order of
/// reduction are unchanged, so results do not change).
fn tasks_per_job(entries_per_task: usize) -> usize {
    (PAR_GRAIN / entries_per_task.max(1)).max(1)
}

/// Largest |exponent| of the factors that turn a row's terms into its column terms.
const REUSE_LIMIT: f64 = 50.0;
/// Smallest column sum accepted when row terms were reused: e^−500.
const REUSED_MIN: f64 = 7.12e-218;

/// Blocks of rows with their own partial column sums in row-order column sweeps.
const ROW_BLOCKS: usize = 64;

/// The slices of a [`SoftminChain`] call, made contiguous.
struct ChainSlices<'s> {
    h: &'s [f64],
    guess_rows: Option<&'s [f64]>,
    guess_cols: &'s [f64],
    out_rows: &'s mut [f64],
    out_cols: &'s mut [f64],
}

/// `LSE_j(h_j − γ·row_j)`, in one shifted pass from a guess of it when there is one.
fn row_lse(h: &[f64], row: &[f64], gamma: f64, guess: Option<f64>) -> f64 {
    match guess {
        Some(g) => lse_row_near(h, row, gamma, g),
        None => lse_row(h, row, gamma).value(),
    }
}

/// Writes `out_j = −ε·(ln sum_j − shift_j)` if every shifted sum is usable; returns false
/// (leaving `out` unspecified) otherwise.
fn store_shifted(sum: &[f64], shift: &[f64], eps: f64, out: &mut [f64]) -> bool {
    for ((o, &s), &sh) in out.iter_mut().zip(sum).zip(shift) {
        match shifted_lse(s, sh) {
            Some(v) => *o = -eps * v,
            None => return false,
        }
    }
    true
}

impl TileSource for DenseCost<'_> {
    fn extent(&self, axis: Axis) -> (usize, usize) {
        super::sweep_lengths(self.shape(), axis)
    }

    fn tile_shape(&self) -> (usize, usize) {
        (16, 2048)
    }

    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [f64]) {
        let w = red.len();
        // Rows of the tile are contiguous in storage when the sweep follows the storage rows.
        let contiguous = (axis == Axis::Rows) != self.transposed;
        let data = self.storage.as_slice().expect("standard layout");
        let cols = self.storage.ncols();
        for (t, o) in out.enumerate() {
            let dst = &mut tile[t * w..(t + 1) * w];
            if contiguous {
                dst.copy_from_slice(&data[o * cols + red.start..o * cols + red.end]);
            } else {
                for (d, r) in dst.iter_mut().zip(red.clone()) {
                    *d = data[r * cols + o];
                }
            }
        }
    }
}

impl Geometry for DenseCost<'_> {
    fn shape(&self) -> (usize, usize) {
        let (r, c) = self.storage.dim();
        if self.transposed { (c, r) } else { (r, c) }
    }

    fn summary(&self) -> CostSummary {
        self.raw_moments().summary(self.scale)
    }

    fn softmin_near(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView1<'_, f64>,
        guess: Option<ArrayView1<'_, f64>>,
        out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        tiled::softmin(
            self.shape(),
            axis,
            epsilon,
            h,
            guess,
            out,
            |h, guess, out| {
                let gamma = 1.0 / (self.scale * epsilon);
                let data = self.storage.as_slice().expect("standard layout");
                let m = self.storage.ncols();
                if let Some(kernel) = self.gibbs.kernel(data, gamma) {
                    if (axis == Axis::Rows) != self.transposed {
                        kernel.rows(data, m, gamma, epsilon, h, out);
                    } else {
                        kernel.cols(data, m, gamma, epsilon, h, out);
                    }
                } else if (axis == Axis::Rows) != self.transposed {
                    self.softmin_storage_rows(gamma, epsilon, h, guess, out);
                } else {
                    self.softmin_storage_cols(gamma, epsilon, h, guess, out);
                }
            },
        )
    }

    fn softmin_batch(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<bool> {
        validate::positive("epsilon", epsilon)?;
        let (n_out, n_red) = super::sweep_lengths(self.shape(), axis);
        check_len("h", h.ncols(), n_red, "the reduced axis of the sweep")?;
        check_len("out", out.ncols(), n_out, "the output axis of the sweep")?;
        check_len(
            "out",
            out.nrows(),
            h.nrows(),
            "the rows of h (one sweep per row)",
        )?;
        let gamma = 1.0 / (self.scale * epsilon);
        let data = self.storage.as_slice().expect("standard layout");
        let Some(kernel) = self.gibbs.kernel(data, gamma) else {
            return Ok(false);
        };
        let m = self.storage.ncols();
        let h = h.as_standard_layout();
        let h = h.as_slice().expect("standard layout");
        let run = |o: &mut [f64]| {
            if (axis == Axis::Rows) != self.transposed {
                kernel.rows_batch(data, m, gamma, epsilon, h, o);
            } else {
                kernel.cols_batch(data, m, gamma, epsilon, h, o);
            }
        };
        if let Some(o) = out.as_slice_mut() {
            run(o);
        } else {
            let mut buf = out.as_standard_layout().into_owned();
            run(buf.as_slice_mut().expect("an owned array is contiguous"));
            out.assign(&buf);
        }
        Ok(true)
    }

    fn softmin_chain(
        &self,
        chain: &SoftminChain<'_>,
        out_rows: ArrayViewMut1<'_, f64>,
        out_cols: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        let (n, m) = self.shape();
        // A small cost with a Gibbs kernel at this ε: two matrix–vector sweeps.
        let data = self.storage.as_slice().expect("standard layout");
        let gamma = 1.0 / (self.scale * chain.eps_rows);
        if chain.eps_rows == chain.eps_cols
            && chain.eps_rows > 0.0
            && self.gibbs.kernel(data, gamma).is_some()
        {
            return default_chain(self, chain, out_rows, out_cols);
        }
        // The fused pass needs C's rows contiguous and a guess for the columns.
        let Some(guess_cols) = chain.guess_cols.filter(|_| !self.transposed) else {
            return default_chain(self, chain, out_rows, out_cols);
        };
        validate::positive("eps_rows", chain.eps_rows)?;
        validate::positive("eps_cols", chain.eps_cols)?;
        check_len("h", chain.h.len(), m, "columns of the cost")?;
        check_len("guess_cols", guess_cols.len(), m, "columns of the cost")?;
        check_len("out_rows", out_rows.len(), n, "rows of the cost")?;
        check_len("out_cols", out_cols.len(), m, "columns of the cost")?;
        if let Some(g) = &chain.guess_rows {
            check_len("guess_rows", g.len(), n, "rows of the cost")?;
        }
        let h = tiled::contiguous(&chain.h);
        let guess_rows = chain.guess_rows.as_ref().map(tiled::contiguous);
        let guess_cols = tiled::contiguous(&guess_cols);
        tiled::with_slice_mut(out_rows, |out_rows| {
            tiled::with_slice_mut(out_cols, |out_cols| {
                self.chain_storage_rows(
                    chain,
                    ChainSlices {
                        h: &h,
                        guess_rows: guess_rows.as_deref(),
                        guess_cols: &guess_cols,
                        out_rows,
                        out_cols,
                    },
                )
            })
        });
        Ok(())
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
        // One parallel GEMM on the storage (or its transpose), scaled: C·V or Cᵀ·V.
        super::check_apply(self.shape(), axis, &v, &out)?;
        let storage = self.storage.view();
        let lhs = if (axis == Axis::Rows) != self.transposed {
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
        let data = self.storage.as_slice().expect("standard layout");
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
                    *v = data[i * row_step + j * col_step];
                }
            }
        })
    }

    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>> {
        tiled::plan_matrix(self, self.shape(), self.scale, plan, limit_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        // the shared-sweep limit): vectors split between threads.
        for (n, m) in [(70, 131), (300, 300)] {
            batched_sweeps_match(n, m);
        }
    }

    fn batched_sweeps_match(n: usize, m: usize) {
        let c = random_cost(n, m);
        let mut fortran = Array2::zeros((n, m).f());
        fortran.assign(&c);
        for layout in [c.view(), fortran.view()] {
            let geom = DenseCost::new(layout).unwrap();
            for (axis, len_h, len_out) in [(Axis::Rows, m, n), (Axis::Cols, n, m)] {
                // Three vectors, one of them all −∞ (no term: +∞ out), one far from the
                // others' scale (exact fallbacks for some entries).
                let h = Array2::from_shape_fn((3, len_h), |(k, j)| match k {
                    0 => (j as f64 * 0.37).cos(),
                    1 => f64::NEG_INFINITY,
                    _ => 400.0 * (j as f64 * 0.11).sin(),
                });
                let mut out = Array2::zeros((3, len_out));
                assert!(
                    geom.softmin_batch(axis, 0.05, h.view(), out.view_mut())
                        .unwrap()
                );
                for k in 0..3 {
                    let mut one = Array1::zeros(len_out);
                    geom.softmin(axis, 0.05, h.row(k), one.view_mut()).unwrap();
                    for (a, b) in out.row(k).iter().zip(&one) {
                        assert_eq!(a.to_bits(), b.to_bits(), "{axis:?}, vector {k}");
                    }
                }
                // Strided output.
                let mut wide = Array2::zeros((len_out, 3));
                assert!(
                    geom.softmin_batch(axis, 0.05, h.view(), wide.view_mut().reversed_axes())
                        .unwrap()
                );
                assert_eq!(wide.t(), out);
            }
            // No kernel at this ε: the caller sweeps one by one.
            let mut out = Array2::zeros((2, n));
            let h = Array2::zeros((2, m));
            assert!(
                !geom
                    .softmin_batch(Axis::Rows, 1e-6, h.view(), out.view_mut())
                    .unwrap()
            );
            assert!(out.iter().all(|&v| v == 0.0));
            // Shapes are named.
            let err = geom
                .softmin_batch(
                    Axis::Rows,
                    0.05,
                    Array2::zeros((2, m + 1)).view(),
                    out.view_mut(),
                )
                .unwrap_err();
            assert!(err.to_string().contains("h"), "{err}");
            let err = geom
                .softmin_batch(Axis::Rows, 0.05, h.view(), Array2::zeros((3, n)).view_mut())
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
