//! [`Sharded`]: one cost split into a grid of blocks (rows × columns), each block any
//! geometry whose sweeps are made of the two passes of [`SweepPasses`] (stored costs, point
//! clouds). Sweeps combine the blocks' maxima and exact chunk sums, so their outputs are
//! bit-identical to those of the unsplit cost, however it is split: the in-process model of
//! a cost whose rows or columns live in other processes or on other devices.
//!
//! Block boundaries must fall on multiples of [`CHUNK`] (the reduction chunk of every
//! sweep), on both axes. Operations other than sweeps (applying the plan or the cost, ⟨P, C⟩)
//! add the blocks' results in block order.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};

use super::passes::softmin_by_passes;
use super::{
    Axis, CHUNK, CostSummary, ExactSum, Geometry, LogPlan, Precision, Sweep, SweepPasses,
    check_apply, check_block, check_plan, check_sweep,
};
use crate::error::{Error, Result};
use crate::validate;

/// A cost assembled from a grid of blocks (see the [module docs](self)).
///
/// # Examples
/// ```
/// use ndarray::Array2;
/// use otters::geometry::{Axis, DenseCost, Geometry, Sharded};
///
/// let cost = Array2::from_shape_fn((2048 + 100, 30), |(i, j)| ((i * 7 + j) % 13) as f64);
/// let (top, bottom) = cost.view().split_at(ndarray::Axis(0), 1024);
/// let sharded = Sharded::by_rows(vec![
///     Box::new(DenseCost::new(top)?),
///     Box::new(DenseCost::new(bottom)?),
/// ])?;
/// let whole = Sharded::by_rows(vec![Box::new(DenseCost::new(cost.view())?)])?;
/// let h = ndarray::Array1::zeros(2148);
/// let (mut a, mut b) = (ndarray::Array1::zeros(30), ndarray::Array1::zeros(30));
/// sharded.softmin(Axis::Cols, 0.5, h.view(), a.view_mut())?;
/// whole.softmin(Axis::Cols, 0.5, h.view(), b.view_mut())?;
/// assert_eq!(a, b); // the same bits, however the rows are split
/// # Ok::<(), otters::Error>(())
/// ```
pub struct Sharded<'a> {
    /// Row-major grid of blocks.
    blocks: Vec<Box<dyn Geometry + 'a>>,
    /// Block boundaries: `rows[r]..rows[r + 1]` are block row `r`'s rows of the cost.
    rows: Vec<usize>,
    cols: Vec<usize>,
    precision: Precision,
    summary: CostSummary,
}

impl std::fmt::Debug for Sharded<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharded")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("precision", &self.precision)
            .finish_non_exhaustive()
    }
}

/// The boundaries of blocks of the given sizes, checked against [`CHUNK`].
fn boundaries(sizes: impl Iterator<Item = usize>, what: &str) -> Result<Vec<usize>> {
    let mut out = vec![0];
    let sizes: Vec<usize> = sizes.collect();
    for (b, &size) in sizes.iter().enumerate() {
        if b + 1 < sizes.len() && size % CHUNK != 0 {
            return Err(Error::invalid(
                "blocks",
                "every block but the last must span a multiple of CHUNK (1024) rows and columns",
                format!("{what} block {b} spans {size}"),
            ));
        }
        out.push(out[b] + size);
    }
    Ok(out)
}

impl<'a> Sharded<'a> {
    /// A cost from a grid of blocks: `blocks[r][c]` holds the costs between the `r`-th block
    /// of rows and the `c`-th block of columns.
    ///
    /// # Errors
    /// [`Error::Empty`] for no block; [`Error::Shape`] when the blocks of a block row (or
    /// column) have different numbers of rows (or columns); [`Error::InvalidParameter`]
    /// naming `blocks` for a block that cannot be swept in passes (e.g. a [`Grid`](super::Grid)),
    /// for blocks of different precisions, or for a boundary that is not a multiple of
    /// [`CHUNK`].
    pub fn new(blocks: Vec<Vec<Box<dyn Geometry + 'a>>>) -> Result<Self> {
        let width = blocks.first().map_or(0, Vec::len);
        if width == 0 {
            return Err(Error::Empty {
                arg: "blocks",
                what: "block",
            });
        }
        for (r, row) in blocks.iter().enumerate() {
            if row.len() != width {
                return Err(Error::Shape {
                    arg: "blocks",
                    expected: format!("{width} blocks in every block row"),
                    got: format!("{} in block row {r}", row.len()),
                });
            }
        }
        let precision = blocks[0][0].precision();
        for (r, row) in blocks.iter().enumerate() {
            for (c, b) in row.iter().enumerate() {
                let (n, m) = b.shape();
                let (n0, m0) = (row[0].shape().0, blocks[0][c].shape().1);
                if (n, m) != (n0, m0) {
                    return Err(Error::Shape {
                        arg: "blocks",
                        expected: format!(
                            "{n0} x {m0} (the rows of block row {r}, the columns of block column {c})"
                        ),
                        got: format!("{n} x {m} for block ({r}, {c})"),
                    });
                }
                if b.sweep_passes().is_none() {
                    return Err(Error::invalid(
                        "blocks",
                        "every block must be a geometry swept in passes (a stored cost or a point cloud)",
                        format!("block ({r}, {c}) is {b:?}"),
                    ));
                }
                if b.precision() != precision {
                    return Err(Error::invalid(
                        "blocks",
                        "every block must have the same precision",
                        format!(
                            "block ({r}, {c}) is {} where block (0, 0) is {precision}",
                            b.precision()
                        ),
                    ));
                }
            }
        }
        let rows = boundaries(blocks.iter().map(|row| row[0].shape().0), "row")?;
        let cols = boundaries(blocks[0].iter().map(|b| b.shape().1), "column")?;
        // Summary: the blocks' statistics, weighted by their numbers of entries.
        let (mut total, mut max, mut mean, mut second) = (0.0, f64::NEG_INFINITY, 0.0, 0.0);
        for b in blocks.iter().flatten() {
            let (n, m) = b.shape();
            let w = (n * m) as f64;
            let s = b.summary();
            total += w;
            max = max.max(s.max);
            mean += w * s.mean;
            second += w * (s.std * s.std + s.mean * s.mean);
        }
        mean /= total;
        let summary = CostSummary {
            max,
            mean,
            std: (second / total - mean * mean).max(0.0).sqrt(),
        };
        Ok(Sharded {
            blocks: blocks.into_iter().flatten().collect(),
            rows,
            cols,
            precision,
            summary,
        })
    }

    /// A cost split by rows: `blocks[r]` holds the `r`-th block of rows, all columns.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn by_rows(blocks: Vec<Box<dyn Geometry + 'a>>) -> Result<Self> {
        Self::new(blocks.into_iter().map(|b| vec![b]).collect())
    }

    /// A cost split by columns: `blocks[c]` holds the `c`-th block of columns, all rows.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn by_cols(blocks: Vec<Box<dyn Geometry + 'a>>) -> Result<Self> {
        Self::new(vec![blocks])
    }

    /// `(block rows, block columns)`.
    pub fn grid(&self) -> (usize, usize) {
        (self.rows.len() - 1, self.cols.len() - 1)
    }

    fn block(&self, r: usize, c: usize) -> &dyn Geometry {
        &*self.blocks[r * (self.cols.len() - 1) + c]
    }

    /// `(output ranges, reduced ranges)` of the blocks along `axis`, and the block at
    /// `(output block, reduced block)`.
    fn along(&self, axis: Axis) -> (&[usize], &[usize]) {
        match axis {
            Axis::Rows => (&self.rows, &self.cols),
            Axis::Cols => (&self.cols, &self.rows),
        }
    }

    fn block_along(&self, axis: Axis, o: usize, r: usize) -> &dyn Geometry {
        match axis {
            Axis::Rows => self.block(o, r),
            Axis::Cols => self.block(r, o),
        }
    }

    /// Runs `f(block, output range, reduced range)` over every block, output blocks outer.
    fn for_blocks<E>(
        &self,
        axis: Axis,
        mut f: impl FnMut(
            &dyn Geometry,
            std::ops::Range<usize>,
            std::ops::Range<usize>,
        ) -> Result<(), E>,
    ) -> Result<(), E> {
        let (outs, reds) = self.along(axis);
        for o in 0..outs.len() - 1 {
            for r in 0..reds.len() - 1 {
                f(
                    self.block_along(axis, o, r),
                    outs[o]..outs[o + 1],
                    reds[r]..reds[r + 1],
                )?;
            }
        }
        Ok(())
    }
}

/// The sub-sweep of a block: `h` restricted to the block's reduced range.
fn sub_sweep<'s>(s: &Sweep<'s>, red: std::ops::Range<usize>) -> Sweep<'s> {
    Sweep {
        axis: s.axis,
        epsilon: s.epsilon,
        h: s.h.slice_move(s![.., red]),
        guess: None,
    }
}

impl SweepPasses for Sharded<'_> {
    fn pass_shape(&self) -> (usize, usize) {
        self.shape()
    }

    fn pass_precision(&self) -> Precision {
        self.precision
    }

    fn max_pass(
        &self,
        sweep: &Sweep<'_>,
        mask: Option<ArrayView2<'_, bool>>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_sweep(self.shape(), sweep, &out)?;
        out.fill(f64::NEG_INFINITY);
        self.for_blocks(sweep.axis, |block, outs, red| {
            let passes = block.sweep_passes().expect("checked at construction");
            let k = sweep.h.nrows();
            let mut part = Array2::from_elem((k, outs.len()), f64::NEG_INFINITY);
            let m = mask.map(|m| m.slice_move(s![.., outs.clone()]));
            passes.max_pass(&sub_sweep(sweep, red), m, part.view_mut())?;
            for (o, &v) in out.slice_mut(s![.., outs]).iter_mut().zip(&part) {
                if v > *o || v.is_nan() {
                    *o = v;
                }
            }
            Ok(())
        })
    }

    fn sum_pass(
        &self,
        sweep: &Sweep<'_>,
        anchors: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
        mut out: ArrayViewMut2<'_, ExactSum>,
    ) -> Result<()> {
        out.fill(ExactSum::ZERO);
        self.for_blocks(sweep.axis, |block, outs, red| {
            let passes = block.sweep_passes().expect("checked at construction");
            let k = sweep.h.nrows();
            let mut part = Array2::from_elem((k, outs.len()), ExactSum::ZERO);
            let m = mask.map(|m| m.slice_move(s![.., outs.clone()]));
            let a = anchors.slice(s![.., outs.clone()]);
            passes.sum_pass(&sub_sweep(sweep, red), a, m, part.view_mut())?;
            for (o, v) in out.slice_mut(s![.., outs]).iter_mut().zip(&part) {
                o.merge(v);
            }
            Ok(())
        })
    }
}

impl Geometry for Sharded<'_> {
    fn shape(&self) -> (usize, usize) {
        (
            *self.rows.last().expect("boundaries"),
            *self.cols.last().expect("boundaries"),
        )
    }

    fn summary(&self) -> CostSummary {
        self.summary
    }

    fn precision(&self) -> Precision {
        self.precision
    }

    fn softmin_batch(&self, sweep: &Sweep<'_>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        check_sweep(self.shape(), sweep, &out)?;
        softmin_by_passes(self, sweep, out)
    }

    fn sweep_passes(&self) -> Option<&dyn SweepPasses> {
        Some(self)
    }

    fn apply_plan(
        &self,
        axis: Axis,
        plan: &LogPlan<'_>,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_plan(plan, self.shape())?;
        check_apply(self.shape(), axis, &v, &out)?;
        out.fill(0.0);
        self.for_blocks(axis, |block, outs, red| {
            let (rows, cols) = match axis {
                Axis::Rows => (outs.clone(), red.clone()),
                Axis::Cols => (red.clone(), outs.clone()),
            };
            let sub = LogPlan {
                log_row: plan.log_row.slice_move(s![rows]),
                log_col: plan.log_col.slice_move(s![cols]),
                epsilon: plan.epsilon,
            };
            let mut part = Array2::zeros((outs.len(), v.ncols()));
            block.apply_plan(axis, &sub, v.slice(s![red, ..]), part.view_mut())?;
            let mut dst = out.slice_mut(s![outs, ..]);
            dst += &part;
            Ok(())
        })
    }

    fn apply_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_apply(self.shape(), axis, &v, &out)?;
        out.fill(0.0);
        self.for_blocks(axis, |block, outs, red| {
            let mut part = Array2::zeros((outs.len(), v.ncols()));
            block.apply_cost(axis, v.slice(s![red, ..]), part.view_mut())?;
            let mut dst = out.slice_mut(s![outs, ..]);
            dst += &part;
            Ok(())
        })
    }

    fn apply_square_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_apply(self.shape(), axis, &v, &out)?;
        out.fill(0.0);
        self.for_blocks(axis, |block, outs, red| {
            let mut part = Array2::zeros((outs.len(), v.ncols()));
            block.apply_square_cost(axis, v.slice(s![red, ..]), part.view_mut())?;
            let mut dst = out.slice_mut(s![outs, ..]);
            dst += &part;
            Ok(())
        })
    }

    fn plan_dot_cost(&self, plan: &LogPlan<'_>) -> Result<f64> {
        check_plan(plan, self.shape())?;
        let mut total = 0.0;
        self.for_blocks(Axis::Rows, |block, rows, cols| {
            let sub = LogPlan {
                log_row: plan.log_row.slice_move(s![rows]),
                log_col: plan.log_col.slice_move(s![cols]),
                epsilon: plan.epsilon,
            };
            total += block.plan_dot_cost(&sub)?;
            Ok(())
        })?;
        Ok(total)
    }

    fn cost_matrix(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        let (n, m) = self.shape();
        validate::matrix_bytes("cost matrix", n, m, limit_bytes, "sweep the blocks instead")?;
        let mut out = Array2::zeros((n, m));
        self.for_blocks(Axis::Rows, |block, rows, cols| {
            out.slice_mut(s![rows, cols])
                .assign(&block.cost_matrix(limit_bytes)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn cost_block(
        &self,
        rows: &[usize],
        cols: &[usize],
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_block(self.shape(), rows, cols, &out)?;
        self.for_blocks(Axis::Rows, |block, r_range, c_range| {
            let (ps, local_rows): (Vec<usize>, Vec<usize>) = rows
                .iter()
                .enumerate()
                .filter(|(_, i)| r_range.contains(i))
                .map(|(p, &i)| (p, i - r_range.start))
                .unzip();
            let (qs, local_cols): (Vec<usize>, Vec<usize>) = cols
                .iter()
                .enumerate()
                .filter(|(_, j)| c_range.contains(j))
                .map(|(q, &j)| (q, j - c_range.start))
                .unzip();
            if ps.is_empty() || qs.is_empty() {
                return Ok(());
            }
            let mut part = Array2::zeros((ps.len(), qs.len()));
            block.cost_block(&local_rows, &local_cols, part.view_mut())?;
            for (a, &p) in ps.iter().enumerate() {
                for (b, &q) in qs.iter().enumerate() {
                    out[[p, q]] = part[[a, b]];
                }
            }
            Ok(())
        })
    }

    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>> {
        check_plan(plan, self.shape())?;
        let (n, m) = self.shape();
        validate::matrix_bytes(
            "plan matrix",
            n,
            m,
            limit_bytes,
            "apply the plan to vectors with apply_plan instead, or raise the limit",
        )?;
        let mut out = Array2::zeros((n, m));
        self.for_blocks(Axis::Rows, |block, rows, cols| {
            let sub = LogPlan {
                log_row: plan.log_row.slice_move(s![rows.clone()]),
                log_col: plan.log_col.slice_move(s![cols.clone()]),
                epsilon: plan.epsilon,
            };
            out.slice_mut(s![rows, cols])
                .assign(&block.plan_matrix(&sub, limit_bytes)?);
            Ok(())
        })?;
        Ok(out)
    }
}
