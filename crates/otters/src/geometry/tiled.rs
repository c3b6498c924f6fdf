//! The [`Geometry`](super::Geometry) operations shared by every geometry that can write tiles
//! of its cost: argument checks, then the tiled kernels of `crate::kernels::tiles`.

use std::borrow::Cow;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use rayon::prelude::*;

use super::{
    Axis, LogPlan, Sweep, check_apply, check_block, check_len, check_plan, check_sweep, row_major,
    sweep_lengths, with_rows_mut,
};
use crate::error::{Error, Result};
use crate::kernels::exact::ExactSum;
use crate::kernels::lse::exp_row;
use crate::kernels::sweep::{self, OutputBlocks, TileSource};
use crate::kernels::tiles;
use crate::validate;

/// What to do instead of materializing a too-large cost.
const COST_HINT: &str =
    "a PointCloud geometry streams the cost in tiles; otherwise raise the memory limit";
/// What to do instead of materializing a too-large plan.
const PLAN_HINT: &str = "apply the plan to vectors with apply_plan instead, or raise the limit";

/// A contiguous view of a vector, copied only when the view is strided.
pub(crate) fn contiguous<'a>(v: &'a ArrayView1<'_, f64>) -> Cow<'a, [f64]> {
    match v.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.to_vec()),
    }
}

/// The max pass of [`SweepPasses`](super::SweepPasses) for a block-swept geometry.
pub(crate) fn max_pass<S: OutputBlocks>(
    src: &S,
    shape: (usize, usize),
    gamma: f64,
    s: &Sweep<'_>,
    mask: Option<ArrayView2<'_, bool>>,
    out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    check_sweep(shape, s, &out)?;
    if let Some(m) = &mask {
        check_mask(m, &out.view())?;
    }
    let h = row_major(&s.h);
    let mask: Option<Vec<bool>> = mask.map(|m| m.iter().copied().collect());
    let k = s.h.nrows();
    with_rows_mut(out, |o| {
        sweep::max_pass(src, gamma, &h, k, mask.as_deref(), o)
    });
    Ok(())
}

/// The anchored pass of [`SweepPasses`](super::SweepPasses) for a block-swept geometry.
pub(crate) fn sum_pass<S: OutputBlocks>(
    src: &S,
    shape: (usize, usize),
    gamma: f64,
    s: &Sweep<'_>,
    anchors: ArrayView2<'_, f64>,
    mask: Option<ArrayView2<'_, bool>>,
    mut out: ArrayViewMut2<'_, ExactSum>,
) -> Result<()> {
    check_sum_pass(shape, s, &anchors, mask.as_ref(), &out.view())?;
    let h = row_major(&s.h);
    let anchors: Vec<f64> = anchors.iter().copied().collect();
    let mask: Option<Vec<bool>> = mask.map(|m| m.iter().copied().collect());
    let k = s.h.nrows();
    let mut buf = vec![ExactSum::ZERO; out.len()];
    sweep::sum_pass(src, gamma, &h, k, &anchors, mask.as_deref(), &mut buf);
    out.iter_mut().zip(buf).for_each(|(o, v)| *o = v);
    Ok(())
}

/// Checks the arguments of a sum pass: `h`, ε, and `anchors`, `mask`, `out` all `k × n_out`.
pub(crate) fn check_sum_pass(
    shape: (usize, usize),
    s: &Sweep<'_>,
    anchors: &ArrayView2<'_, f64>,
    mask: Option<&ArrayView2<'_, bool>>,
    out: &ArrayView2<'_, ExactSum>,
) -> Result<()> {
    let (n_out, n_red) = sweep_lengths(shape, s.axis);
    let k = s.h.nrows();
    crate::validate::positive("epsilon", s.epsilon)?;
    check_len("h", s.h.ncols(), n_red, "the reduced axis of the sweep")?;
    let dims = [
        ("anchors", Some(anchors.dim())),
        ("mask", mask.map(|m| m.dim())),
        ("out", Some(out.dim())),
    ];
    for (arg, dim) in dims {
        if let Some(dim) = dim
            && dim != (k, n_out)
        {
            return Err(Error::Shape {
                arg,
                expected: format!("{k} x {n_out} (problems x outputs)"),
                got: format!("{} x {}", dim.0, dim.1),
            });
        }
    }
    Ok(())
}

/// Checks that a mask has the shape of the pass's output.
fn check_mask(mask: &ArrayView2<'_, bool>, out: &ArrayView2<'_, f64>) -> Result<()> {
    if mask.dim() == out.dim() {
        Ok(())
    } else {
        Err(Error::Shape {
            arg: "mask",
            expected: format!("{} x {} (as out)", out.nrows(), out.ncols()),
            got: format!("{} x {}", mask.nrows(), mask.ncols()),
        })
    }
}

/// `out = P·V` or `Pᵀ·V` through tiles; `scale` divides the raw tiles.
pub(crate) fn apply_plan<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    axis: Axis,
    plan: &LogPlan<'_>,
    v: ArrayView2<'_, f64>,
    mut out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    check_plan(plan, shape)?;
    check_apply(shape, axis, &v, &out)?;
    let (log_out, log_red) = match axis {
        Axis::Rows => (plan.log_row, plan.log_col),
        Axis::Cols => (plan.log_col, plan.log_row),
    };
    let (log_out, log_red) = (contiguous(&log_out), contiguous(&log_red));
    let v = v.as_standard_layout();
    let k = v.ncols();
    let gamma = 1.0 / (scale * plan.epsilon);
    let v = v.as_slice().expect("standard layout is contiguous");
    let mut buf = Array2::zeros(out.raw_dim());
    tiles::apply(
        src,
        axis,
        gamma,
        &log_out,
        &log_red,
        v,
        k,
        buf.as_slice_mut().expect("fresh array"),
    );
    out.assign(&buf);
    Ok(())
}

/// `out = C·V` or `Cᵀ·V` (scaled cost) through tiles.
pub(crate) fn apply_cost<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    axis: Axis,
    v: ArrayView2<'_, f64>,
    out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    apply_power(src, shape, scale, axis, v, out, false)
}

/// `(C∘C)·V` or `(C∘C)ᵀ·V` for the scaled cost, tile by tile.
pub(crate) fn apply_square_cost<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    axis: Axis,
    v: ArrayView2<'_, f64>,
    out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    apply_power(src, shape, scale, axis, v, out, true)
}

/// `C·V` (or with the entrywise square of `C` when `squared`), along `axis`.
fn apply_power<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    axis: Axis,
    v: ArrayView2<'_, f64>,
    mut out: ArrayViewMut2<'_, f64>,
    squared: bool,
) -> Result<()> {
    check_apply(shape, axis, &v, &out)?;
    let v = v.as_standard_layout();
    let k = v.ncols();
    let v = v.as_slice().expect("standard layout is contiguous");
    let mut buf = Array2::zeros(out.raw_dim());
    let inv = 1.0 / scale;
    tiles::apply_weighted(
        src,
        axis,
        v,
        k,
        buf.as_slice_mut().expect("fresh array"),
        |_, _, c, w| {
            if squared {
                w.iter_mut()
                    .zip(c)
                    .for_each(|(w, &c)| *w = (c * inv) * (c * inv));
            } else {
                w.iter_mut().zip(c).for_each(|(w, &c)| *w = c * inv);
            }
        },
    );
    out.assign(&buf);
    Ok(())
}

/// `⟨P, C⟩` in scaled units.
pub(crate) fn plan_dot_cost<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    plan: &LogPlan<'_>,
) -> Result<f64> {
    check_plan(plan, shape)?;
    let (log_row, log_col) = (contiguous(&plan.log_row), contiguous(&plan.log_col));
    Ok(tiles::plan_dot_cost(src, 1.0 / (scale * plan.epsilon), &log_row, &log_col) / scale)
}

/// The scaled cost, materialized under a size limit.
pub(crate) fn cost_matrix<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    limit: usize,
) -> Result<Array2<f64>> {
    validate::matrix_bytes("cost matrix", shape.0, shape.1, limit, COST_HINT)?;
    let mut out = Array2::zeros(shape);
    let inv = 1.0 / scale;
    tiles::materialize(
        src,
        out.as_slice_mut().expect("fresh array"),
        |_, _, c, dst| {
            for (d, &c) in dst.iter_mut().zip(c) {
                *d = c * inv;
            }
        },
    );
    Ok(out)
}

/// Rows per parallel task of [`cost_block`].
const BLOCK_ROWS: usize = 16;

/// `out[[p, q]] = C[rows[p], cols[q]] / scale` ([`Geometry::cost_block`](super::Geometry::cost_block)),
/// after the index checks. `fill(block, dst)` writes the raw entries of the rows `block`
/// (row-major, `block.len() × cols.len()`); blocks of rows run in parallel, and the scale is
/// applied as `cost_matrix` applies it, so the entries are the same numbers.
pub(crate) fn cost_block(
    shape: (usize, usize),
    scale: f64,
    rows: &[usize],
    cols: &[usize],
    mut out: ArrayViewMut2<'_, f64>,
    fill: impl Fn(&[usize], &mut [f64]) + Sync,
) -> Result<()> {
    check_block(shape, rows, cols, &out)?;
    let w = cols.len();
    if w == 0 || rows.is_empty() {
        return Ok(());
    }
    let inv = 1.0 / scale;
    let run = |dst: &mut [f64]| {
        dst.par_chunks_mut(BLOCK_ROWS * w)
            .zip(rows.par_chunks(BLOCK_ROWS))
            .for_each(|(d, block)| {
                fill(block, d);
                d.iter_mut().for_each(|v| *v *= inv);
            });
    };
    match out.as_slice_mut() {
        Some(dst) => run(dst),
        None => {
            let mut buf = Array2::zeros(out.dim());
            run(buf.as_slice_mut().expect("fresh array"));
            out.assign(&buf);
        }
    }
    Ok(())
}

/// The plan `P_ij = exp(log_row_i + log_col_j − C_ij/ε)`, materialized under a size limit.
pub(crate) fn plan_matrix<T: TileSource + ?Sized>(
    src: &T,
    shape: (usize, usize),
    scale: f64,
    plan: &LogPlan<'_>,
    limit: usize,
) -> Result<Array2<f64>> {
    check_plan(plan, shape)?;
    validate::matrix_bytes("plan matrix", shape.0, shape.1, limit, PLAN_HINT)?;
    let (log_row, log_col) = (contiguous(&plan.log_row), contiguous(&plan.log_col));
    let gamma = 1.0 / (scale * plan.epsilon);
    let mut out = Array2::zeros(shape);
    tiles::materialize(
        src,
        out.as_slice_mut().expect("fresh array"),
        |i, j0, c, dst| {
            exp_row(log_row[i], &log_col[j0..j0 + c.len()], c, gamma, dst);
        },
    );
    Ok(out)
}
