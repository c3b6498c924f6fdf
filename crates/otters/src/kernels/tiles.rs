//! The tiled operations other than softmin (which is `super::sweep`'s) over a cost that is
//! produced tile by tile (KeOps / OTT "online" style): plan application, ⟨P, C⟩,
//! materialization and moments, with O(tile) memory per thread. Tiles in `f32` are widened
//! to `f64` first. Work is split over blocks of output indices; each output is reduced over
//! the tiles in a fixed order, so results do not depend on the number of threads.

use std::ops::Range;

use rayon::prelude::*;

use super::Axis;
use super::lse::{dot, dot_where_positive, exp_row};
use super::scalar::Kernels;
use super::sweep::TileSource;

/// Fills, one after the other, the tiles covering output indices `out` and hands each to
/// `visit` (widened to `f64`) with its range of reduced indices.
#[inline]
fn sweep_block<T: TileSource + ?Sized>(
    src: &T,
    axis: Axis,
    out: Range<usize>,
    (tile, wide): &mut (Vec<T::Scalar>, Vec<f64>),
    mut visit: impl FnMut(Range<usize>, &[f64]),
) {
    let (_, n_red) = src.extent(axis);
    let (_, br) = src.tile_shape();
    for r0 in (0..n_red).step_by(br) {
        let r1 = (r0 + br).min(n_red);
        let t = &mut tile[..out.len() * (r1 - r0)];
        src.fill(axis, out.clone(), r0..r1, t);
        visit(r0..r1, T::Scalar::as_f64(t, wide));
    }
}

/// Tile buffers for one thread.
fn buffers<T: TileSource + ?Sized>(src: &T) -> (Vec<T::Scalar>, Vec<f64>) {
    let (bo, br) = src.tile_shape();
    let wide = if T::Scalar::BYTES == 8 { 0 } else { bo * br };
    (vec![T::Scalar::default(); bo * br], vec![0.0; wide])
}

/// `out[o, :] += Σ_r w_or·v[r, :]`, with `v` (`n_red × k`) and `out` (`n_out × k`)
/// row-major, where `weights(o, red, c, w)` writes into `w` the weights of output `o` over
/// the reduced indices `red`, given the matching row `c` of a cost tile.
pub(crate) fn apply_weighted<T, W>(
    src: &T,
    axis: Axis,
    v: &[f64],
    k: usize,
    out: &mut [f64],
    weights: W,
) where
    T: TileSource + ?Sized,
    W: Fn(usize, Range<usize>, &[f64], &mut [f64]) + Sync,
{
    let (bo, br) = src.tile_shape();
    out.par_chunks_mut(bo * k).enumerate().for_each_init(
        || (buffers(src), vec![0.0; br]),
        |(tile, w), (blk, chunk)| {
            let o0 = blk * bo;
            let rows = chunk.len() / k;
            sweep_block(src, axis, o0..o0 + rows, tile, |red, t| {
                let width = red.len();
                let w = &mut w[..width];
                for o in 0..rows {
                    weights(o0 + o, red.clone(), &t[o * width..(o + 1) * width], w);
                    let dst = &mut chunk[o * k..(o + 1) * k];
                    if k == 1 {
                        dst[0] += dot(w, &v[red.clone()]);
                        continue;
                    }
                    for (r, &wr) in w.iter().enumerate() {
                        if wr != 0.0 {
                            let vr = &v[(red.start + r) * k..(red.start + r + 1) * k];
                            dst.iter_mut().zip(vr).for_each(|(d, &x)| *d += wr * x);
                        }
                    }
                }
            });
        },
    );
}

/// `out[o, :] += Σ_r exp(log_out_o + log_red_r − γ·C(o, r))·v[r, :]`: the plan applied to `v`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply<T: TileSource + ?Sized>(
    src: &T,
    axis: Axis,
    gamma: f64,
    log_out: &[f64],
    log_red: &[f64],
    v: &[f64],
    k: usize,
    out: &mut [f64],
) {
    apply_weighted(src, axis, v, k, out, |o, red, c, w| {
        exp_row(log_out[o], &log_red[red], c, gamma, w)
    });
}

/// `Σ_{o,r} exp(log_row_o + log_col_r − γ·C[o, r])·C[o, r]` (unscaled `C`), summed per block
/// and then over blocks in order.
pub(crate) fn plan_dot_cost<T: TileSource + ?Sized>(
    src: &T,
    gamma: f64,
    log_row: &[f64],
    log_col: &[f64],
) -> f64 {
    let (n, _) = src.extent(Axis::Rows);
    let (bo, br) = src.tile_shape();
    let mut partial = vec![0.0; n.div_ceil(bo)];
    partial.par_iter_mut().enumerate().for_each_init(
        || (buffers(src), vec![0.0; br]),
        |(tile, e), (blk, total)| {
            let o0 = blk * bo;
            let rows = bo.min(n - o0);
            sweep_block(src, Axis::Rows, o0..o0 + rows, tile, |red, t| {
                let w = red.len();
                let e = &mut e[..w];
                for o in 0..rows {
                    let c = &t[o * w..(o + 1) * w];
                    exp_row(log_row[o0 + o], &log_col[red.clone()], c, gamma, e);
                    *total += dot_where_positive(e, c);
                }
            });
        },
    );
    partial.iter().sum()
}

/// Writes the whole `n × m` matrix `map(C)` row-major into `out`; `map` sees the row index,
/// the first column index, a row of a tile of `C` and the matching slice of `out`.
pub(crate) fn materialize<T, F>(src: &T, out: &mut [f64], map: F)
where
    T: TileSource + ?Sized,
    F: Fn(usize, usize, &[f64], &mut [f64]) + Sync + Send,
{
    let (_, m) = src.extent(Axis::Rows);
    let (bo, _) = src.tile_shape();
    if m == 0 {
        return;
    }
    out.par_chunks_mut(bo * m).enumerate().for_each_init(
        || buffers(src),
        |tile, (blk, chunk)| {
            let o0 = blk * bo;
            let rows = chunk.len() / m;
            sweep_block(src, Axis::Rows, o0..o0 + rows, tile, |red, t| {
                let w = red.len();
                for o in 0..rows {
                    let dst = &mut chunk[o * m + red.start..o * m + red.end];
                    map(o0 + o, red.start, &t[o * w..(o + 1) * w], dst);
                }
            });
        },
    );
}

/// Count, max, mean and spread of the finite entries of the cost, merged in block order.
pub(crate) fn moments<T: TileSource + ?Sized>(src: &T) -> Moments {
    let (n, _) = src.extent(Axis::Rows);
    let (bo, _) = src.tile_shape();
    let mut partial = vec![Moments::EMPTY; n.div_ceil(bo)];
    partial.par_iter_mut().enumerate().for_each_init(
        || buffers(src),
        |tile, (blk, acc)| {
            let o0 = blk * bo;
            let rows = bo.min(n - o0);
            sweep_block(src, Axis::Rows, o0..o0 + rows, tile, |_, t| {
                *acc = acc.merge(Moments::of(t))
            });
        },
    );
    partial.into_iter().fold(Moments::EMPTY, Moments::merge)
}

/// Running count, max, mean and centered second moment of finite values (Welford, with
/// Chan et al.'s pairwise merge), merged in a fixed order so results do not depend on threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    pub(crate) count: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
}

impl Moments {
    pub(crate) const EMPTY: Moments = Moments {
        count: 0.0,
        max: f64::NEG_INFINITY,
        mean: 0.0,
        m2: 0.0,
    };

    pub(crate) fn of<T: super::scalar::Kernels>(values: &[T]) -> Moments {
        let mut m = Moments::EMPTY;
        for v in values {
            let v = v.wide();
            if v.is_finite() {
                m.count += 1.0;
                m.max = m.max.max(v);
                let delta = v - m.mean;
                m.mean += delta / m.count;
                m.m2 += delta * (v - m.mean);
            }
        }
        m
    }

    pub(crate) fn merge(self, o: Moments) -> Moments {
        if o.count == 0.0 {
            return self;
        }
        if self.count == 0.0 {
            return o;
        }
        let count = self.count + o.count;
        let delta = o.mean - self.mean;
        Moments {
            count,
            max: self.max.max(o.max),
            mean: self.mean + delta * (o.count / count),
            m2: self.m2 + o.m2 + delta * delta * (self.count * o.count / count),
        }
    }
}
