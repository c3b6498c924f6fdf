//! Softmin sweeps as exact reductions over fixed chunks: the primitive every streamed
//! geometry (stored costs, point clouds) is swept with, for one problem or a batch of `k`
//! problems sharing the cost, in `f64` or `f32`.
//!
//! One output of a sweep is `LSE_r(h_r − γ·C(o, r))`. It is computed as
//! `anchor + ln Σ_chunks s_c`, where `s_c = Σ_{r ∈ chunk} exp(h_r − γ·C(o, r) − anchor)` is
//! the sum over one chunk of [`CHUNK`] reduced indices (chunks aligned at multiples of
//! `CHUNK` from the start of the axis), computed by one deterministic kernel, and the chunk
//! sums are added *exactly* ([`ExactSum`]). The anchor is known before the sum:
//!
//! - with a guess of the output (the previous iteration's), `anchor = −guess/ε`, and the
//!   total is accepted when it lies in the precision's window (`Kernels::WINDOW`): one pass;
//! - otherwise (no guess, or a total outside the window) `anchor = max_r (h_r − γ·C(o, r))`
//!   from a first pass (a max is exact too), and every term is ≤ 1: two passes.
//!
//! Because the anchor is the same wherever the chunks are summed and the chunk sums are
//! added exactly, an output does not depend on how the reduced axis is split: between
//! threads, between the blocks of a sharded geometry ([`crate::geometry::Sharded`]), or
//! between processes. That is what makes sharded solves bit-identical to local ones.
//!
//! Reductions over the rows of a row-major matrix (column sweeps of a stored cost) split a
//! chunk into [`SUB`]-row sub-blocks summed one after the other and added by a fixed
//! pairwise tree, so that the fused iteration can hand sub-blocks to different threads and
//! still produce the chunk's canonical sum.

use std::ops::Range;

use rayon::prelude::*;

use super::Axis;
use super::exact::ExactSum;
use super::lse::Columns;
use super::scalar::Kernels;

/// Reduced indices per chunk (see the module docs). The blocks of a sharded geometry start
/// at multiples of it.
pub const CHUNK: usize = 1024;
/// Rows per sub-block of a chunk in reductions over the rows of a row-major matrix.
pub(crate) const SUB: usize = CHUNK / 8;
/// Entries a parallel task should cover at least (below it, handing the task to another
/// thread costs more than the work).
const GRAIN: usize = 1 << 15;

/// `k` vectors `h` (one per problem), row-major `k × len`: as given (`f64`) and in the
/// sweep's precision as high and low parts (`Kernels::split`; no low parts for `f64`).
pub(crate) struct Batch<'a, T> {
    pub h: &'a [f64],
    pub hi: &'a [T],
    pub lo: &'a [T],
    pub k: usize,
    pub len: usize,
}

impl<'a, T: Kernels> Batch<'a, T> {
    /// Problem `p`'s high parts.
    #[inline]
    pub fn row(&self, p: usize) -> &'a [T] {
        &self.hi[p * self.len..(p + 1) * self.len]
    }

    /// Problem `p`'s high and low parts over the reduced indices `r`.
    #[inline]
    pub fn parts(&self, p: usize, r: Range<usize>) -> (&'a [T], &'a [T]) {
        let at = p * self.len;
        let lo = if self.lo.is_empty() {
            &self.lo[..0]
        } else {
            &self.lo[at + r.start..at + r.end]
        };
        (&self.hi[at + r.start..at + r.end], lo)
    }

    /// Problem `p`'s entry `i`, as given.
    #[inline]
    pub fn value(&self, p: usize, i: usize) -> f64 {
        self.h[p * self.len + i]
    }
}

/// The high and low parts of a batch's `h` in precision `T`, owned (see [`Batch`]).
pub(crate) struct SplitH<T> {
    hi: Vec<T>,
    lo: Vec<T>,
}

impl<T: Kernels> SplitH<T> {
    /// The parts of `h`.
    pub(crate) fn of(h: &[f64]) -> Self {
        let (hi, lo) = split_all::<T>(h);
        SplitH { hi, lo }
    }

    /// The batch of `k` problems of `len` values each, `h` and these parts of it.
    pub(crate) fn batch<'a>(&'a self, h: &'a [f64], k: usize, len: usize) -> Batch<'a, T> {
        Batch {
            h,
            hi: &self.hi,
            lo: &self.lo,
            k,
            len,
        }
    }
}

/// The high and low parts of `x` in precision `T` (no low parts for `f64`).
pub(crate) fn split_all<T: Kernels>(x: &[f64]) -> (Vec<T>, Vec<T>) {
    if T::BYTES == 8 {
        return (x.iter().map(|&v| T::of(v)).collect(), Vec::new());
    }
    x.iter().map(|&v| T::split(v)).unzip()
}

/// Whether entry `i` of a block is to be computed.
#[inline]
fn wanted(mask: Option<&[bool]>, i: usize) -> bool {
    mask.is_none_or(|m| m[i])
}

/// Whether problem `p` has any wanted output in a block of `len` outputs.
#[inline]
fn any_wanted(mask: Option<&[bool]>, p: usize, len: usize) -> bool {
    mask.is_none_or(|m| m[p * len..(p + 1) * len].iter().any(|&w| w))
}

/// The two passes of a sweep over a block of outputs, sequentially (the drivers below run
/// blocks in parallel). Buffers are `k × len` for the `len` outputs of the block; entries the
/// mask leaves out may be computed or not, and are never read.
pub(crate) trait OutputBlocks: Sync {
    /// The precision of the exponentials.
    type T: Kernels;
    /// `(outputs, reduced indices)`.
    fn extent(&self) -> (usize, usize);
    /// Outputs per parallel task for `k` problems.
    fn grain(&self, k: usize) -> usize;
    /// `out[p·len + t] = max_r (h_p[r] − γ·C(o₀ + t, r))`.
    fn max_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, Self::T>,
        gamma: Self::T,
        mask: Option<&[bool]>,
        out: &mut [f64],
    );
    /// `out[p·len + t] = Σ_chunks s_c` (exactly) with
    /// `s_c = Σ_{r ∈ chunk} exp(h_p[r] − γ·C(o₀ + t, r) − anchor[p·len + t])`.
    fn sum_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, Self::T>,
        gamma: Self::T,
        anchors: &[f64],
        mask: Option<&[bool]>,
        out: &mut [ExactSum],
    );
}

/// Splits `0..n` into blocks of `grain` outputs, runs `f` on each (in parallel when the work,
/// `n·per_output` entries, is large enough) and returns the blocks' results in order.
fn map_blocks<R: Send>(
    n: usize,
    grain: usize,
    per_output: usize,
    f: impl Fn(Range<usize>) -> R + Sync + Send,
) -> Vec<R> {
    let grain = grain.max(1);
    let blocks: Vec<Range<usize>> = (0..n)
        .step_by(grain)
        .map(|o| o..(o + grain).min(n))
        .collect();
    if n.saturating_mul(per_output) < 2 * GRAIN || blocks.len() == 1 {
        blocks.into_iter().map(f).collect()
    } else {
        blocks.into_par_iter().map(f).collect()
    }
}

/// `dst[p·n + o] = src_block[p·len + t]` for a block `outs` (`o = o₀ + t`).
fn scatter<X: Copy>(src: &[X], k: usize, n: usize, outs: &Range<usize>, dst: &mut [X]) {
    let len = outs.len();
    for p in 0..k {
        dst[p * n + outs.start..p * n + outs.end].copy_from_slice(&src[p * len..(p + 1) * len]);
    }
}

/// The block of `src` (`k × n`) for the outputs `outs`, as `k × len`.
fn gather<X: Copy>(src: &[X], k: usize, n: usize, outs: &Range<usize>) -> Vec<X> {
    (0..k)
        .flat_map(|p| src[p * n + outs.start..p * n + outs.end].iter().copied())
        .collect()
}

/// Whether a total accepted from an anchor is inside the precision's window.
#[inline]
fn in_window<T: Kernels>(total: f64) -> bool {
    total >= T::WINDOW.0 && total <= T::WINDOW.1
}

/// `k × n_out` softmins `out[p, o] = −ε·LSE_r(h[p, r] − γ·C(o, r))` (`+∞` where every term
/// vanishes), from `h` (`k × n_red`) and optional guesses of `out`.
pub(crate) fn softmin<S: OutputBlocks>(
    src: &S,
    gamma: f64,
    eps: f64,
    h: &[f64],
    k: usize,
    guess: Option<&[f64]>,
    out: &mut [f64],
) {
    let (n_out, n_red) = src.extent();
    let parts = SplitH::<S::T>::of(h);
    let b = parts.batch(h, k, n_red);
    let gamma = S::T::of(gamma);
    let blocks = map_blocks(n_out, src.grain(k), n_red * k, |outs| {
        let mut vals = vec![0.0; k * outs.len()];
        let g = guess.map(|g| gather(g, k, n_out, &outs));
        softmin_block(src, outs.clone(), &b, gamma, eps, g.as_deref(), &mut vals);
        (outs, vals)
    });
    for (outs, vals) in blocks {
        scatter(&vals, k, n_out, &outs, out);
    }
}

/// [`softmin`] on one block of outputs (`guess` and `out` are `k × len`).
fn softmin_block<S: OutputBlocks>(
    src: &S,
    outs: Range<usize>,
    b: &Batch<'_, S::T>,
    gamma: S::T,
    eps: f64,
    guess: Option<&[f64]>,
    out: &mut [f64],
) {
    by_passes::<S::T>(
        eps,
        guess,
        None,
        |anchors, mask, sums| src.sum_pass(outs.clone(), b, gamma, anchors, mask, sums),
        |mask, maxima| src.max_pass(outs.clone(), b, gamma, mask, maxima),
        out,
    );
}

/// The values of a sweep from its two passes, for the outputs `only` selects (all when
/// `None`; `k × len` like every buffer): one anchored pass from the guesses, accepted where
/// the total is in the precision's window; the maxima, and a second anchored pass, for the
/// others. Every driver of the engine (blocks of outputs, row-order columns, the blocks of
/// a sharded geometry) goes through here, so an output's value is the same whichever
/// computed it.
pub(crate) fn by_passes<T: Kernels>(
    eps: f64,
    guess: Option<&[f64]>,
    only: Option<&[bool]>,
    mut sum_pass: impl FnMut(&[f64], Option<&[bool]>, &mut [ExactSum]),
    mut max_pass: impl FnMut(Option<&[bool]>, &mut [f64]),
    out: &mut [f64],
) {
    let mut need: Vec<bool> = only.map_or_else(|| vec![true; out.len()], <[bool]>::to_vec);
    if let Some(guess) = guess {
        let anchors: Vec<f64> = guess.iter().map(|&g| -g / eps).collect();
        let mut sums = vec![ExactSum::ZERO; out.len()];
        sum_pass(&anchors, only, &mut sums);
        for (i, s) in sums.iter().enumerate() {
            let total = s.value();
            if need[i] && anchors[i].is_finite() && in_window::<T>(total) {
                out[i] = -eps * (anchors[i] + total.ln());
                need[i] = false;
            }
        }
        if !need.contains(&true) {
            return;
        }
    }
    let mut maxima = vec![f64::NEG_INFINITY; out.len()];
    max_pass(Some(&need), &mut maxima);
    for (i, &m) in maxima.iter().enumerate() {
        if need[i] && !m.is_finite() {
            // No term at all (every h = −∞ or every cost forbidden): +∞; a NaN stays NaN.
            out[i] = if m == f64::NEG_INFINITY {
                f64::INFINITY
            } else {
                f64::NAN
            };
            need[i] = false;
        }
    }
    if !need.contains(&true) {
        return;
    }
    let mut sums = vec![ExactSum::ZERO; out.len()];
    sum_pass(&maxima, Some(&need), &mut sums);
    for (i, s) in sums.iter().enumerate() {
        if need[i] {
            out[i] = -eps * (maxima[i] + s.value().ln());
        }
    }
}

/// The first pass of a sweep for all outputs: `out[p, o] = max_r (h[p, r] − γ·C(o, r))`.
pub(crate) fn max_pass<S: OutputBlocks>(
    src: &S,
    gamma: f64,
    h: &[f64],
    k: usize,
    mask: Option<&[bool]>,
    out: &mut [f64],
) {
    let (n_out, n_red) = src.extent();
    let parts = SplitH::<S::T>::of(h);
    let b = parts.batch(h, k, n_red);
    let gamma = S::T::of(gamma);
    let blocks = map_blocks(n_out, src.grain(k), n_red * k, |outs| {
        let m = mask.map(|m| gather(m, k, n_out, &outs));
        let mut vals = vec![f64::NEG_INFINITY; k * outs.len()];
        src.max_pass(outs.clone(), &b, gamma, m.as_deref(), &mut vals);
        (outs, vals)
    });
    for (outs, vals) in blocks {
        scatter(&vals, k, n_out, &outs, out);
    }
}

/// The anchored pass of a sweep for all outputs (`anchors`: `k × n_out`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sum_pass<S: OutputBlocks>(
    src: &S,
    gamma: f64,
    h: &[f64],
    k: usize,
    anchors: &[f64],
    mask: Option<&[bool]>,
    out: &mut [ExactSum],
) {
    let (n_out, n_red) = src.extent();
    let parts = SplitH::<S::T>::of(h);
    let b = parts.batch(h, k, n_red);
    let gamma = S::T::of(gamma);
    let blocks = map_blocks(n_out, src.grain(k), n_red * k, |outs| {
        let m = mask.map(|m| gather(m, k, n_out, &outs));
        let a = gather(anchors, k, n_out, &outs);
        let mut vals = vec![ExactSum::ZERO; k * outs.len()];
        src.sum_pass(outs.clone(), &b, gamma, &a, m.as_deref(), &mut vals);
        (outs, vals)
    });
    for (outs, vals) in blocks {
        scatter(&vals, k, n_out, &outs, out);
    }
}

// ---------------------------------------------------------------------------------------
// Row-major storage swept along its rows (outputs = storage rows, contiguous).
// ---------------------------------------------------------------------------------------

/// A row-major `n × m` matrix swept along its rows.
pub(crate) struct DenseRows<'a, T> {
    pub data: &'a [T],
    pub m: usize,
}

/// `Σ_chunks exp(h_r − γ·c_r + shift)` of one row of problem `p`, exactly.
#[inline]
fn row_sum<T: Kernels>(b: &Batch<'_, T>, p: usize, row: &[T], gamma: T, shift: f64) -> ExactSum {
    let mut acc = ExactSum::ZERO;
    for c0 in (0..row.len()).step_by(CHUNK) {
        let c1 = (c0 + CHUNK).min(row.len());
        acc.add(T::sum_exp_row(
            b.parts(p, c0..c1),
            &row[c0..c1],
            gamma,
            shift,
        ));
    }
    acc
}

impl<T: Kernels> OutputBlocks for DenseRows<'_, T> {
    type T = T;

    fn extent(&self) -> (usize, usize) {
        (self.data.len() / self.m.max(1), self.m)
    }

    fn grain(&self, k: usize) -> usize {
        // A few rows per task: the two passes of a fallback then reread them from cache.
        (GRAIN / (self.m * k).max(1)).clamp(1, 4)
    }

    fn max_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, T>,
        gamma: T,
        mask: Option<&[bool]>,
        out: &mut [f64],
    ) {
        let (m, len) = (self.m, outs.len());
        for (t, i) in outs.enumerate() {
            let row = &self.data[i * m..(i + 1) * m];
            for p in 0..b.k {
                if wanted(mask, p * len + t) {
                    out[p * len + t] = T::max_row(b.row(p), row, gamma).wide();
                }
            }
        }
    }

    fn sum_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, T>,
        gamma: T,
        anchors: &[f64],
        mask: Option<&[bool]>,
        out: &mut [ExactSum],
    ) {
        let (m, len) = (self.m, outs.len());
        for (t, i) in outs.enumerate() {
            let row = &self.data[i * m..(i + 1) * m];
            for p in 0..b.k {
                let e = p * len + t;
                if wanted(mask, e) {
                    out[e] = row_sum(b, p, row, gamma, -anchors[e]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Row-major storage swept along its columns (outputs = storage columns), in row order.
// ---------------------------------------------------------------------------------------

/// `((v₀+v₁)+(v₂+v₃))+((v₄+v₅)+(v₆+v₇))`: the canonical sum of a chunk's sub-block sums.
#[inline]
pub(crate) fn tree8(v: &[f64; 8]) -> f64 {
    ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
}

/// Adds rows `rows` of `data` (`m` columns) into the column sums `wide` (`k × m`) of the
/// problems `active`: `Σ_i exp(h_p[i] − γ·S_ij + shift_p[j])`, summed over the rows in order,
/// `T::NARROW_ROWS` rows at a time in `narrow` (zeroed on return). Rows with `h_p[i] = −∞`
/// (zero weights) are skipped.
#[allow(clippy::too_many_arguments)]
fn add_rows_to_columns<T: Kernels>(
    data: &[T],
    m: usize,
    rows: Range<usize>,
    b: &Batch<'_, T>,
    gamma: T,
    (shift_hi, shift_lo): (&[T], &[T]),
    active: &[bool],
    narrow: &mut [T],
    wide: &mut [f64],
) {
    for (r, i) in rows.enumerate() {
        let row = &data[i * m..(i + 1) * m];
        for p in 0..b.k {
            let hi = b.value(p, i);
            if active[p] && hi != f64::NEG_INFINITY {
                let lo = if shift_lo.is_empty() {
                    shift_lo
                } else {
                    &shift_lo[p * m..(p + 1) * m]
                };
                T::accumulate_exp(
                    hi,
                    row,
                    gamma,
                    (&shift_hi[p * m..(p + 1) * m], lo),
                    &mut narrow[p * m..(p + 1) * m],
                );
            }
        }
        if (r + 1) % T::NARROW_ROWS == 0 {
            T::flush(narrow, wide);
        }
    }
    T::flush(narrow, wide);
}

/// Column sums of `SUB`-row tasks: the tasks' sums, `k × m` each (the chunk of task `t` is
/// `t / 8`), computed in parallel.
fn sub_block_sums<T: Kernels>(
    n: usize,
    work: usize,
    task: impl Fn(Range<usize>) -> Vec<f64> + Sync + Send,
) -> Vec<Vec<f64>> {
    let subs: Vec<Range<usize>> = (0..n).step_by(SUB).map(|r| r..(r + SUB).min(n)).collect();
    if work < 2 * GRAIN || subs.len() == 1 {
        subs.into_iter().map(task).collect()
    } else {
        subs.into_par_iter().map(task).collect()
    }
}

/// Per column entry `e` (of `k × m`), `Σ_chunks tree8(sub-block sums)` added exactly.
fn chunk_totals(subs: &[Vec<f64>], len: usize, mut add: impl FnMut(usize, f64)) {
    for chunk in subs.chunks(CHUNK / SUB) {
        for e in 0..len {
            let mut v = [0.0f64; 8];
            for (slot, sub) in v.iter_mut().zip(chunk) {
                *slot = sub[e];
            }
            add(e, tree8(&v));
        }
    }
}

/// The passes of column sweeps of a row-major `n × m` matrix, reading rows in order: each
/// `SUB`-row task adds its rows into its own column sums (or maxima), the tasks running in
/// parallel, and a chunk's sum is the canonical tree of its sub-blocks' sums. Masks select
/// problems (a problem with any wanted column computes all its columns).
pub(crate) struct RowOrderColumns<'a, T> {
    pub data: &'a [T],
    pub m: usize,
}

impl<T: Kernels> RowOrderColumns<'_, T> {
    fn n(&self) -> usize {
        self.data.len() / self.m.max(1)
    }

    /// `out[p·m + j] = max_i (h_p[i] − γ·S_ij)`.
    pub(crate) fn max_pass(
        &self,
        b: &Batch<'_, T>,
        gamma: T,
        mask: Option<&[bool]>,
        out: &mut [f64],
    ) {
        let (n, m) = (self.n(), self.m);
        let active: Vec<bool> = (0..b.k).map(|p| any_wanted(mask, p, m)).collect();
        let subs = sub_block_sums::<T>(n, n * m * b.k, |rows| {
            let mut max = vec![T::NEG_INFINITY; b.k * m];
            for i in rows {
                let row = &self.data[i * m..(i + 1) * m];
                for p in 0..b.k {
                    if active[p] && b.value(p, i) != f64::NEG_INFINITY {
                        T::accumulate_max(b.row(p)[i], row, gamma, &mut max[p * m..(p + 1) * m]);
                    }
                }
            }
            max.iter().map(|v| v.wide()).collect()
        });
        out.fill(f64::NEG_INFINITY);
        for sub in &subs {
            for (o, &v) in out.iter_mut().zip(sub) {
                if v > *o || v.is_nan() {
                    *o = v;
                }
            }
        }
    }

    /// `out[p·m + j] = Σ_chunks s_c` (exactly), `s_c` the chunk's sum of
    /// `exp(h_p[i] − γ·S_ij − anchor[p·m + j])`.
    pub(crate) fn sum_pass(
        &self,
        b: &Batch<'_, T>,
        gamma: T,
        anchors: &[f64],
        mask: Option<&[bool]>,
        out: &mut [ExactSum],
    ) {
        let (n, m) = (self.n(), self.m);
        let active: Vec<bool> = (0..b.k).map(|p| any_wanted(mask, p, m)).collect();
        let shifts: Vec<f64> = anchors.iter().map(|&a| -a).collect();
        let (shift_hi, shift_lo) = split_all::<T>(&shifts);
        let subs = sub_block_sums::<T>(n, n * m * b.k, |rows| {
            let mut narrow = vec![T::default(); b.k * m];
            let mut wide = vec![0.0f64; b.k * m];
            add_rows_to_columns(
                self.data,
                m,
                rows,
                b,
                gamma,
                (&shift_hi, &shift_lo),
                &active,
                &mut narrow,
                &mut wide,
            );
            wide
        });
        out.fill(ExactSum::ZERO);
        chunk_totals(&subs, b.k * m, |e, v| out[e].add(v));
    }
}

/// Problems per group of a row-order column sweep: each task keeps `k × m` sums, and the
/// tasks' sums are all held until the chunks are added.
fn column_group(n: usize, m: usize) -> usize {
    ((1 << 23) / (n.div_ceil(SUB) * m).max(1)).max(1)
}

/// `k × m` column softmins of a row-major `n × m` matrix (see [`softmin`]), in row order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn softmin_columns<T: Kernels>(
    data: &[T],
    m: usize,
    gamma: f64,
    eps: f64,
    h: &[f64],
    k: usize,
    guess: Option<&[f64]>,
    only: Option<&[bool]>,
    out: &mut [f64],
) {
    let n = data.len() / m.max(1);
    let src = RowOrderColumns { data, m };
    let gamma = T::of(gamma);
    let group = column_group(n, m);
    for p0 in (0..k).step_by(group) {
        let p1 = (p0 + group).min(k);
        let hg = &h[p0 * n..p1 * n];
        let parts = SplitH::<T>::of(hg);
        let b = parts.batch(hg, p1 - p0, n);
        by_passes::<T>(
            eps,
            guess.map(|g| &g[p0 * m..p1 * m]),
            only.map(|o| &o[p0 * m..p1 * m]),
            |anchors, mask, sums| src.sum_pass(&b, gamma, anchors, mask, sums),
            |mask, maxima| src.max_pass(&b, gamma, mask, maxima),
            &mut out[p0 * m..p1 * m],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Costs produced tile by tile (point clouds).
// ---------------------------------------------------------------------------------------

/// Anything that can write tiles of a cost matrix in precision `Scalar`.
pub(crate) trait TileSource: Sync {
    /// The precision of the tiles.
    type Scalar: Kernels;

    /// `(output length, reduced length)` of a sweep along `axis`.
    fn extent(&self, axis: Axis) -> (usize, usize);

    /// `(output indices, reduced indices)` per tile; the second divides [`CHUNK`].
    fn tile_shape(&self) -> (usize, usize);

    /// Writes `tile[(o − out.start)·red.len() + (r − red.start)] = C(o, r)`, where
    /// `C(o, r) = C[o, r]` for `Axis::Rows` and `C[r, o]` for `Axis::Cols` (unscaled).
    fn fill(&self, axis: Axis, out: Range<usize>, red: Range<usize>, tile: &mut [Self::Scalar]);
}

/// A [`TileSource`] swept along `axis`.
pub(crate) struct Tiles<'a, S: ?Sized> {
    pub src: &'a S,
    pub axis: Axis,
}

impl<S: TileSource + ?Sized> Tiles<'_, S> {
    /// Fills, one after the other, the tiles covering the outputs `outs` and hands each to
    /// `visit` with its range of reduced indices.
    fn sweep(&self, outs: &Range<usize>, mut visit: impl FnMut(Range<usize>, &[S::Scalar])) {
        let (_, n_red) = self.src.extent(self.axis);
        let (_, br) = self.src.tile_shape();
        debug_assert_eq!(CHUNK % br, 0);
        let mut tile = vec![S::Scalar::default(); outs.len() * br];
        for r0 in (0..n_red).step_by(br) {
            let r1 = (r0 + br).min(n_red);
            let t = &mut tile[..outs.len() * (r1 - r0)];
            self.src.fill(self.axis, outs.clone(), r0..r1, t);
            visit(r0..r1, t);
        }
    }
}

impl<S: TileSource + ?Sized> OutputBlocks for Tiles<'_, S> {
    type T = S::Scalar;

    fn extent(&self) -> (usize, usize) {
        self.src.extent(self.axis)
    }

    fn grain(&self, _k: usize) -> usize {
        self.src.tile_shape().0
    }

    fn max_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, S::Scalar>,
        gamma: S::Scalar,
        mask: Option<&[bool]>,
        out: &mut [f64],
    ) {
        let len = outs.len();
        let mut max = vec![S::Scalar::NEG_INFINITY; b.k * len];
        self.sweep(&outs, |red, tile| {
            let w = red.len();
            for p in 0..b.k {
                let h = &b.row(p)[red.clone()];
                for t in 0..len {
                    if wanted(mask, p * len + t) {
                        let m = S::Scalar::max_row(h, &tile[t * w..(t + 1) * w], gamma);
                        let slot = &mut max[p * len + t];
                        if m > *slot {
                            *slot = m;
                        }
                    }
                }
            }
        });
        for (o, v) in out.iter_mut().zip(&max) {
            *o = v.wide();
        }
    }

    fn sum_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, S::Scalar>,
        gamma: S::Scalar,
        anchors: &[f64],
        mask: Option<&[bool]>,
        out: &mut [ExactSum],
    ) {
        let len = outs.len();
        let (_, n_red) = self.extent();
        let mut partial = vec![0.0f64; b.k * len];
        self.sweep(&outs, |red, tile| {
            let w = red.len();
            for p in 0..b.k {
                let h = b.parts(p, red.clone());
                for t in 0..len {
                    let e = p * len + t;
                    if wanted(mask, e) {
                        partial[e] += S::Scalar::sum_exp_row(
                            h,
                            &tile[t * w..(t + 1) * w],
                            gamma,
                            -anchors[e],
                        );
                    }
                }
            }
            if red.end % CHUNK == 0 || red.end == n_red {
                for (o, s) in out.iter_mut().zip(partial.iter_mut()) {
                    o.add(*s);
                    *s = 0.0;
                }
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
// Squared Euclidean costs between points in few dimensions, computed inside the loops.
// ---------------------------------------------------------------------------------------

/// A squared-Euclidean cost swept from the points themselves: the outputs' points as rows
/// (`ours`, `n_out × d`) and the reduced points as coordinate columns (`theirs`, `d × n_red`);
/// each chunk's sum computes `‖x − y‖²` in the exponential's loop (no tile is written).
pub(crate) struct Points<'a, T> {
    pub ours: &'a [T],
    pub theirs: &'a [T],
    pub d: usize,
    pub n_out: usize,
    pub n_red: usize,
}

impl<'a, T: Kernels> Points<'a, T> {
    fn columns(&self, r: Range<usize>) -> Columns<'a, T> {
        Columns {
            cols: &self.theirs[r.start..],
            stride: self.n_red,
            d: self.d,
            len: r.len(),
        }
    }
}

impl<T: Kernels> OutputBlocks for Points<'_, T> {
    type T = T;

    fn extent(&self) -> (usize, usize) {
        (self.n_out, self.n_red)
    }

    fn grain(&self, k: usize) -> usize {
        (GRAIN / (self.n_red * k).max(1)).clamp(1, 64)
    }

    fn max_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, T>,
        gamma: T,
        mask: Option<&[bool]>,
        out: &mut [f64],
    ) {
        let len = outs.len();
        for (t, o) in outs.enumerate() {
            let x = &self.ours[o * self.d..(o + 1) * self.d];
            for p in 0..b.k {
                if wanted(mask, p * len + t) {
                    let y = self.columns(0..self.n_red);
                    out[p * len + t] = T::max_points(x, y, b.row(p), gamma).wide();
                }
            }
        }
    }

    fn sum_pass(
        &self,
        outs: Range<usize>,
        b: &Batch<'_, T>,
        gamma: T,
        anchors: &[f64],
        mask: Option<&[bool]>,
        out: &mut [ExactSum],
    ) {
        let len = outs.len();
        for (t, o) in outs.enumerate() {
            let x = &self.ours[o * self.d..(o + 1) * self.d];
            for p in 0..b.k {
                let e = p * len + t;
                if wanted(mask, e) {
                    let mut acc = ExactSum::ZERO;
                    for c0 in (0..self.n_red).step_by(CHUNK) {
                        let c1 = (c0 + CHUNK).min(self.n_red);
                        let y = self.columns(c0..c1);
                        acc.add(T::sum_exp_points(
                            x,
                            y,
                            b.parts(p, c0..c1),
                            gamma,
                            -anchors[e],
                        ));
                    }
                    out[e] = acc;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The fused iteration over a row-major stored cost.
// ---------------------------------------------------------------------------------------

/// The inputs of [`chain`]: a row sweep at `eps_rows` of `h`, then a column sweep at
/// `eps_cols` of `h'[p, i] = link(p, i, s[p, i])`, for `k` problems.
pub(crate) struct Chain<'a> {
    pub gamma_rows: f64,
    pub gamma_cols: f64,
    pub eps_rows: f64,
    pub eps_cols: f64,
    /// `k × m`.
    pub h: &'a [f64],
    pub k: usize,
    /// `k × n`.
    pub guess_rows: Option<&'a [f64]>,
    /// `k × m`.
    pub guess_cols: &'a [f64],
    pub link: &'a (dyn Fn(usize, usize, f64) -> f64 + Sync),
}

/// Largest |exponent| of the factors that turn a row's terms into its column terms in
/// [`chain`]: a term flushed to zero in the row (below e^−708 in `f64`, e^−87 in `f32`)
/// then weighs at most e^{±2·limit} more in the column sums, far below their window.
fn reuse_limit<T: Kernels>() -> f64 {
    if T::BYTES == 8 { 50.0 } else { 10.0 }
}

/// One sub-block task's result: its column sums (`k × m`, by chunk) and, per row and
/// problem, the row softmin and its linked value.
type SubBlockSums = (Vec<f64>, Vec<(f64, f64)>);

/// One Sinkhorn iteration over a row-major stored cost (`n × m`, rows contiguous) in one
/// pass over memory: each row's softmin, then (from cache) its contribution to every column
/// sum, shifted by the column guesses. Row outputs are exactly those of the row sweep
/// ([`DenseRows`]). Column outputs are accepted where their totals lie in the window; the
/// returned mask (`k × m`) marks the others, which the caller recomputes exactly from
/// `linked` (`k × n`, the `h'` of the column sweep).
///
/// When both sweeps share ε, a row's terms `E_ij = exp(h_j + ρ_i − γ·S_ij)` (ρ its shift)
/// also give its column terms, `exp(h'_i + σ_j − γ·S_ij) = E_ij·e^{h'_i − ρ_i}·e^{σ_j − h_j}`:
/// one exponential per entry instead of two, used where both factors are within
/// e^{±reuse_limit}. Rows are processed in [`SUB`]-row tasks; each task's column sums are
/// added into its chunk by the canonical tree, then exactly.
pub(crate) fn chain<T: Kernels>(
    data: &[T],
    m: usize,
    c: &Chain<'_>,
    out_rows: &mut [f64],
    out_cols: &mut [f64],
    linked: &mut [f64],
) -> Vec<bool> {
    let n = data.len() / m;
    let k = c.k;
    let parts = SplitH::<T>::of(c.h);
    let b = parts.batch(c.h, k, m);
    let (gr, gc) = (T::of(c.gamma_rows), T::of(c.gamma_cols));
    // σ = guess/ε, the shift of the column sums.
    let sigma: Vec<f64> = c.guess_cols.iter().map(|&g| g / c.eps_cols).collect();
    // e^{σ_j − h_j} per problem, when every column qualifies for the one-exp path.
    let kappa: Vec<Option<Vec<f64>>> = (0..k)
        .map(|p| {
            if c.eps_rows != c.eps_cols || c.guess_rows.is_none() {
                return None;
            }
            (0..m)
                .map(|j| {
                    let d = sigma[p * m + j] - c.h[p * m + j];
                    (d.abs() <= reuse_limit::<T>()).then(|| d.exp())
                })
                .collect()
        })
        .collect();
    // With reuse, problem p's column sums are accumulated divided by κ (shifted by h
    // instead of σ), and multiplied by κ at the end.
    let col_shift: Vec<f64> = (0..k)
        .flat_map(|p| {
            let src = if kappa[p].is_some() { c.h } else { &sigma };
            src[p * m..(p + 1) * m].iter().copied()
        })
        .collect();
    let (cs_hi, cs_lo) = split_all::<T>(&col_shift);
    let col_parts = |p: usize| {
        let lo = if cs_lo.is_empty() {
            &cs_lo[..0]
        } else {
            &cs_lo[p * m..(p + 1) * m]
        };
        (&cs_hi[p * m..(p + 1) * m], lo)
    };
    let subs: Vec<Range<usize>> = (0..n).step_by(SUB).map(|r| r..(r + SUB).min(n)).collect();
    let task = |rows: &Range<usize>| {
        let mut narrow = vec![T::default(); k * m];
        let mut wide = vec![0.0f64; k * m];
        let mut terms = vec![T::default(); m];
        // Per row of the task and problem: (softmin, link).
        let mut per_row = vec![(0.0, 0.0); rows.len() * k];
        for (r, i) in rows.clone().enumerate() {
            let row = &data[i * m..(i + 1) * m];
            for p in 0..k {
                let acc = &mut narrow[p * m..(p + 1) * m];
                let guess = c.guess_rows.map(|g| g[p * n + i]);
                let mut done = false;
                if let (Some(_), Some(g)) = (&kappa[p], guess) {
                    // ρ = guess/ε: the row's shift (minus its anchor).
                    let rho = g / c.eps_rows;
                    if rho.is_finite() {
                        let mut total = ExactSum::ZERO;
                        for c0 in (0..m).step_by(CHUNK) {
                            let c1 = (c0 + CHUNK).min(m);
                            total.add(T::exp_terms(
                                b.parts(p, c0..c1),
                                &row[c0..c1],
                                gr,
                                rho,
                                &mut terms[c0..c1],
                            ));
                        }
                        let total = total.value();
                        if in_window::<T>(total) {
                            let s = -c.eps_rows * (total.ln() - rho);
                            let l = (c.link)(p, i, s);
                            per_row[r * k + p] = (s, l);
                            let d = l - rho;
                            if l != f64::NEG_INFINITY {
                                if d.abs() <= reuse_limit::<T>() {
                                    T::add_scaled(T::of(d.exp()), &terms, acc);
                                } else {
                                    T::accumulate_exp(l, row, gc, col_parts(p), acc);
                                }
                            }
                            done = true;
                        }
                    }
                }
                if !done {
                    let s = row_softmin::<T>(&b, p, row, gr, c.eps_rows, guess);
                    let l = (c.link)(p, i, s);
                    per_row[r * k + p] = (s, l);
                    if l != f64::NEG_INFINITY {
                        T::accumulate_exp(l, row, gc, col_parts(p), acc);
                    }
                }
            }
            if (r + 1) % T::NARROW_ROWS == 0 {
                T::flush(&mut narrow, &mut wide);
            }
        }
        T::flush(&mut narrow, &mut wide);
        (wide, per_row)
    };
    let results: Vec<SubBlockSums> = if n * m * k < 2 * GRAIN || subs.len() == 1 {
        subs.iter().map(task).collect()
    } else {
        subs.par_iter().map(task).collect()
    };
    for (rows, (_, per_row)) in subs.iter().zip(&results) {
        for (r, i) in rows.clone().enumerate() {
            for p in 0..k {
                let (s, l) = per_row[r * k + p];
                out_rows[p * n + i] = s;
                linked[p * n + i] = l;
            }
        }
    }
    // Column totals: per chunk, the tree of its sub-blocks' sums, added exactly.
    let wides: Vec<Vec<f64>> = results.into_iter().map(|(wide, _)| wide).collect();
    let mut sums = vec![ExactSum::ZERO; k * m];
    chunk_totals(&wides, k * m, |e, v| sums[e].add(v));
    let totals: Vec<f64> = sums.iter().map(ExactSum::value).collect();
    let mut failed = vec![false; k * m];
    for (p, kappa_p) in kappa.iter().enumerate() {
        for j in 0..m {
            let e = p * m + j;
            let total = match kappa_p {
                Some(kp) => totals[e] * kp[j],
                None => totals[e],
            };
            let anchor = -sigma[e];
            if anchor.is_finite() && in_window::<T>(total) {
                out_cols[e] = -c.eps_cols * (anchor + total.ln());
            } else {
                failed[e] = true;
            }
        }
    }
    failed
}

/// One row's softmin `−ε·LSE_j(h_j − γ·row_j)`: from a guess when its total is in the
/// window, else two-pass (the values of [`DenseRows`]).
pub(crate) fn row_softmin<T: Kernels>(
    b: &Batch<'_, T>,
    p: usize,
    row: &[T],
    gamma: T,
    eps: f64,
    guess: Option<f64>,
) -> f64 {
    if let Some(g) = guess {
        let a = -g / eps;
        if a.is_finite() {
            let total = row_sum(b, p, row, gamma, -a).value();
            if in_window::<T>(total) {
                return -eps * (a + total.ln());
            }
        }
    }
    let max = T::max_row(b.row(p), row, gamma).wide();
    if !max.is_finite() {
        return if max == f64::NEG_INFINITY {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    -eps * (max + row_sum(b, p, row, gamma, -max).value().ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64, scale: f64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * scale
            })
            .collect()
    }

    fn naive(c: &[f64], m: usize, axis: Axis, eps: f64, h: &[f64]) -> Vec<f64> {
        let n = c.len() / m;
        let (n_out, n_red) = if axis == Axis::Rows { (n, m) } else { (m, n) };
        (0..n_out)
            .map(|o| {
                let t: Vec<f64> = (0..n_red)
                    .map(|r| {
                        let cij = if axis == Axis::Rows {
                            c[o * m + r]
                        } else {
                            c[r * m + o]
                        };
                        h[r] - cij / eps
                    })
                    .collect();
                let mx = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                -eps * (mx + t.iter().map(|v| (v - mx).exp()).sum::<f64>().ln())
            })
            .collect()
    }

    /// Rows and columns of a stored cost, f64 and f32, with and without guesses, match the
    /// naive formula; the column sweep's chunks have partial sub-blocks (n = 2500).
    #[test]
    fn dense_sweeps_match_naive_in_both_precisions() {
        let (n, m) = (2500, 37);
        let c: Vec<f64> = data(n * m, 1, 4.0).iter().map(|v| v + 2.0).collect();
        let c32: Vec<f32> = c.iter().map(|&v| v as f32).collect();
        let c32w: Vec<f64> = c32.iter().map(|&v| v as f64).collect();
        for axis in [Axis::Rows, Axis::Cols] {
            let (n_out, n_red) = if axis == Axis::Rows { (n, m) } else { (m, n) };
            let h = data(n_red, 2, 6.0);
            let eps = 0.3;
            let want = naive(&c, m, axis, eps, &h);
            let want32 = naive(&c32w, m, axis, eps, &h);
            for guess in [
                None,
                Some(want.iter().map(|v| v + 0.05).collect::<Vec<_>>()),
            ] {
                let mut out = vec![0.0; n_out];
                let mut out32 = vec![0.0; n_out];
                match axis {
                    Axis::Rows => {
                        softmin(
                            &DenseRows { data: &c, m },
                            1.0 / eps,
                            eps,
                            &h,
                            1,
                            guess.as_deref(),
                            &mut out,
                        );
                        softmin(
                            &DenseRows { data: &c32, m },
                            1.0 / eps,
                            eps,
                            &h,
                            1,
                            guess.as_deref(),
                            &mut out32,
                        );
                    }
                    Axis::Cols => {
                        softmin_columns(
                            &c,
                            m,
                            1.0 / eps,
                            eps,
                            &h,
                            1,
                            guess.as_deref(),
                            None,
                            &mut out,
                        );
                        softmin_columns(
                            &c32,
                            m,
                            1.0 / eps,
                            eps,
                            &h,
                            1,
                            guess.as_deref(),
                            None,
                            &mut out32,
                        );
                    }
                }
                for o in 0..n_out {
                    assert!(
                        (out[o] - want[o]).abs() <= 1e-12 * (1.0 + want[o].abs()),
                        "{axis:?} {o}"
                    );
                    assert!(
                        (out32[o] - want32[o]).abs() <= 2e-6 * (1.0 + want32[o].abs()),
                        "{axis:?} f32 {o}: {} vs {}",
                        out32[o],
                        want32[o]
                    );
                }
            }
        }
    }
}
