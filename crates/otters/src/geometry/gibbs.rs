//! The Gibbs kernel `K = exp(−γ·S)` of a small stored cost, kept across the sweeps of one ε,
//! so that a softmin sweep is a matrix–vector product (the kernel-domain Sinkhorn of Cuturi
//! 2013, as POT's `method="sinkhorn"`) instead of one exponential per entry — without the
//! kernel domain's loss of range.
//!
//! The kernel is shifted by the smallest entry, `K_ij = e^{−γ(S_ij − S_min)} ≤ 1`. With
//! `s = max_j h_j` and `w_j = e^{h_j − s} ≤ 1`,
//! `LSE_j(h_j − γ·S_ij) = s − γ·S_min + ln Σ_j K_ij·w_j`. Every term is at most 1, so nothing
//! overflows; a term that underflows is below e^−708. A sum is accepted only above
//! [`TINY_SUM`] (e^−575): the flushed terms then weigh less than `m·e^−133` of it. Rows (or
//! columns) below that — mass far from the largest `h_j`, as at small ε — are recomputed by
//! the exact two-pass kernel, so results equal the log-domain sweep's to rounding whatever ε.
//! Whether a cost is swept through its kernel depends only on the cost and ε (see
//! [`GibbsCache::kernel`]), never on earlier sweeps.
//!
//! A sweep is one dispatched kernel–vector product (rows four at a time, columns in register
//! blocks) and one vectorized `ln` per output. Several vectors on one cost (the inputs of a
//! barycenter) are swept together, each cache-sized block of the kernel serving all of them.
//!
//! Only costs of at most [`MAX_ENTRIES`] entries keep a kernel (it doubles their memory);
//! larger ones are swept by the streaming kernels, which are memory-bound there anyway.

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::kernels::log::ln_slice;
use crate::kernels::lse::{
    column_sums, exp_below_scalar_max, exp_of_shifted_cost, log_sum_exp, row_dots,
};
use crate::kernels::scalar::Kernels;
use crate::kernels::sweep::{SplitH, row_softmin};

/// Largest cost (entries) that keeps a kernel: 8 MiB of f64, cache-resident sweeps.
pub(crate) const MAX_ENTRIES: usize = 1 << 20;

/// Largest `γ·(S_max − S_min)` swept with the kernel: beyond it most kernel entries
/// underflow and most sums would be recomputed exactly.
const MAX_RANGE: f64 = 2000.0;

/// Smallest accepted shifted sum, e^−575.
const TINY_SUM: f64 = 1e-250;

/// Entries per parallel job at least (smaller jobs cost more to hand off than to run).
const PAR_GRAIN: usize = 1 << 15;

/// Largest `p × entries` swept together by one thread, reading the kernel once for all `p`
/// vectors (larger batches split the vectors between threads).
const SHARED_SWEEP_MAX: usize = 1 << 18;

/// Doubles of kernel per block of a shared sweep (32 KiB: stays in the L1 cache while it is
/// swept for every vector; blocks keep at least 4 rows, so rows above 1024 entries exceed it).
const L1_DOUBLES: usize = 4096;

/// Columns per task of the column sweep.
const COLUMN_TASK: usize = 256;

/// `K = exp(−γ·(S − S_min))` for one `γ`, in the storage's row-major layout.
#[derive(Debug)]
pub(crate) struct GibbsKernel {
    gamma_bits: u64,
    /// `γ·S_min`.
    offset: f64,
    k: Vec<f64>,
    /// Whether sweeps at this `γ` use the kernel (else `k` is empty).
    usable: bool,
}

/// The kernel of the last `γ` a cost was swept with (shared by clones of the cost). It is a
/// pure function of the cost and `γ`, and so is the choice between kernel and log-domain
/// sweeps: results never depend on what was swept before.
#[derive(Debug, Default, Clone)]
pub(crate) struct GibbsCache(Arc<Mutex<Option<Arc<GibbsKernel>>>>);

impl GibbsCache {
    /// The kernel of `data` (row-major storage) at `gamma` (built on first use: one
    /// vectorized exponential per entry, the cost of one log-domain sweep); `None` for a
    /// cost too large, or a `γ·(S_max − S_min)` outside `[1, MAX_RANGE]`: above every cost
    /// (`< 1`) `ln Σ` would lose the last bits of `γ·S` that the log domain keeps; far below
    /// (`> MAX_RANGE`) most sums would fall back to the exact sweep anyway.
    pub(crate) fn kernel<T: Kernels>(&self, data: &[T], gamma: f64) -> Option<Arc<GibbsKernel>> {
        if data.len() > MAX_ENTRIES {
            return None;
        }
        // A poisoned lock only means a sweep panicked elsewhere; the slot stays consistent.
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = slot.as_ref()
            && k.gamma_bits == gamma.to_bits()
        {
            return k.usable.then(|| Arc::clone(k));
        }
        let (lo, hi) = data
            .iter()
            .map(|c| c.wide())
            .filter(|c| c.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c), hi.max(c))
            });
        let range = gamma * (hi - lo);
        let usable = lo.is_finite() && (1.0..=MAX_RANGE).contains(&range);
        let mut k = Vec::new();
        if usable {
            k = vec![0.0; data.len()];
            k.par_chunks_mut(PAR_GRAIN)
                .zip(data.par_chunks(PAR_GRAIN))
                .for_each(|(k, c)| {
                    let mut buf = vec![0.0; c.len()];
                    exp_of_shifted_cost(T::as_f64(c, &mut buf), gamma, lo, k)
                });
        }
        let entry = Arc::new(GibbsKernel {
            gamma_bits: gamma.to_bits(),
            offset: gamma * lo,
            k,
            usable,
        });
        *slot = Some(Arc::clone(&entry));
        usable.then_some(entry)
    }
}

/// `(s, w)`: the largest `h_j` and `w_j = e^{h_j − s}`; `None` after filling `out` with `+∞`
/// when every `h_j = −∞` (no term at all).
fn weights(h: &[f64], out: &mut [f64]) -> Option<(f64, Vec<f64>)> {
    let s = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if s == f64::NEG_INFINITY {
        out.fill(f64::INFINITY);
        return None;
    }
    let mut w = vec![0.0; h.len()];
    exp_below_scalar_max(h, s, &mut w);
    Some((s, w))
}

/// The exact (two-pass) log-sum-exp of storage row `i`: `LSE_j(h_j − γ·S_ij)`, in the
/// storage's precision (the value the streamed row sweep gives).
fn exact_row<T: Kernels>(data: &[T], m: usize, gamma: f64, h: &[f64], i: usize) -> f64 {
    let parts = SplitH::<T>::of(h);
    let b = parts.batch(h, 1, m);
    -row_softmin(&b, 0, &data[i * m..(i + 1) * m], T::of(gamma), 1.0, None)
}

/// The exact log-sum-exp of storage column `j`: `LSE_i(h_i − γ·S_ij)`.
fn exact_col<T: Kernels>(data: &[T], m: usize, gamma: f64, h: &[f64], j: usize) -> f64 {
    log_sum_exp(
        h.iter()
            .enumerate()
            .map(|(i, &hi)| hi - gamma * data[i * m + j].wide()),
    )
}

impl GibbsKernel {
    /// Softmin along the storage rows (`m` columns): `out_i = −ε·LSE_j(h_j − γ·S_ij)`, exact
    /// rows from `data` where the shifted sum is not accepted.
    pub(crate) fn rows<T: Kernels>(
        &self,
        data: &[T],
        m: usize,
        gamma: f64,
        eps: f64,
        h: &[f64],
        out: &mut [f64],
    ) {
        let Some((s, w)) = weights(h, out) else {
            return;
        };
        // Rows per job: whole jobs of at least PAR_GRAIN entries (one job, run on this thread
        // without waking the pool, for a cost below 2·PAR_GRAIN entries).
        let jobs = (out.len() * m / PAR_GRAIN).max(1);
        let per_job = out.len().div_ceil(jobs).max(1);
        out.par_chunks_mut(per_job)
            .enumerate()
            .for_each(|(blk, chunk)| {
                let i0 = blk * per_job;
                row_dots(&self.k[i0 * m..], m, &w, chunk);
                self.softmins(eps, s, chunk, |t| exact_row(data, m, gamma, h, i0 + t));
            });
    }

    /// Softmin along the storage columns (`h` has one entry per storage row):
    /// `out_j = −ε·LSE_i(h_i − γ·S_ij)`, exact columns from `data` where the shifted sum is
    /// not accepted.
    pub(crate) fn cols<T: Kernels>(
        &self,
        data: &[T],
        m: usize,
        gamma: f64,
        eps: f64,
        h: &[f64],
        out: &mut [f64],
    ) {
        let Some((s, w)) = weights(h, out) else {
            return;
        };
        let n = h.len();
        let per_job = (PAR_GRAIN / (COLUMN_TASK * n).max(1)).max(1);
        out.par_chunks_mut(COLUMN_TASK)
            .enumerate()
            .with_min_len(per_job)
            .for_each(|(blk, chunk)| {
                let j0 = blk * COLUMN_TASK;
                column_sums(&self.k, m, j0, &w, chunk, false);
                self.softmins(eps, s, chunk, |t| exact_col(data, m, gamma, h, j0 + t));
            });
    }

    /// [`rows`](Self::rows) for `p = out.len() / n` vectors at once (`h`: `p × m`, `out`:
    /// `p × n`, row-major). Same bits as `p` calls of `rows`.
    pub(crate) fn rows_batch<T: Kernels>(
        &self,
        data: &[T],
        m: usize,
        gamma: f64,
        eps: f64,
        h: &[f64],
        out: &mut [f64],
    ) {
        let n = data.len() / m.max(1);
        // A multiple of 4 rows: `row_dots` sweeps rows four at a time.
        let block = (L1_DOUBLES / m.max(1) / 4 * 4).max(4);
        self.batch(
            eps,
            (data.len(), n, block),
            (h, m),
            (out, n),
            |h, o| self.rows(data, m, gamma, eps, h, o),
            |i0, rows, w, o| {
                row_dots(
                    &self.k[i0 * m..(i0 + rows) * m],
                    m,
                    w,
                    &mut o[i0..i0 + rows],
                )
            },
            |h, i| exact_row(data, m, gamma, h, i),
        );
    }

    /// [`cols`](Self::cols) for `p = out.len() / m` vectors at once (`h`: `p × n`, `out`:
    /// `p × m`, row-major). Same bits as `p` calls of `cols`.
    pub(crate) fn cols_batch<T: Kernels>(
        &self,
        data: &[T],
        m: usize,
        gamma: f64,
        eps: f64,
        h: &[f64],
        out: &mut [f64],
    ) {
        let n = data.len() / m.max(1);
        let block = (L1_DOUBLES / m.max(1)).max(4);
        self.batch(
            eps,
            (data.len(), n, block),
            (h, n),
            (out, m),
            |h, o| self.cols(data, m, gamma, eps, h, o),
            |i0, rows, w, o| {
                column_sums(
                    &self.k[i0 * m..(i0 + rows) * m],
                    m,
                    0,
                    &w[i0..i0 + rows],
                    o,
                    i0 > 0,
                );
            },
            |h, j| exact_col(data, m, gamma, h, j),
        );
    }

    /// The batched sweeps: `p` vectors `h` (each `len_h` long) to `p` outputs (each `len_out`
    /// long), on a kernel of `entries` in `kernel_rows` rows. Small batches
    /// (`p × entries ≤ SHARED_SWEEP_MAX`) run on this thread, blocks of `block` kernel rows
    /// starting at `i0` each swept for every vector by
    /// `sweep(i0, rows, w, out)` while they are in the L1 cache; larger ones split the
    /// vectors between threads, each swept by `one`.
    #[allow(clippy::too_many_arguments)]
    fn batch(
        &self,
        eps: f64,
        (entries, kernel_rows, block): (usize, usize, usize),
        (h, len_h): (&[f64], usize),
        (out, len_out): (&mut [f64], usize),
        one: impl Fn(&[f64], &mut [f64]) + Sync,
        sweep: impl Fn(usize, usize, &[f64], &mut [f64]),
        exact: impl Fn(&[f64], usize) -> f64,
    ) {
        if len_h == 0 {
            // No term at all, as in `weights`.
            out.fill(f64::INFINITY);
            return;
        }
        if len_out == 0 || out.is_empty() {
            return;
        }
        let p = out.len() / len_out;
        if p * entries > SHARED_SWEEP_MAX {
            out.par_chunks_mut(len_out)
                .zip(h.par_chunks(len_h))
                .for_each(|(o, h)| one(h, o));
            return;
        }
        let weights: Vec<_> = out
            .chunks_mut(len_out)
            .zip(h.chunks(len_h))
            .map(|(o, h)| weights(h, o))
            .collect();
        for i0 in (0..kernel_rows).step_by(block) {
            let rows = block.min(kernel_rows - i0);
            for (o, sw) in out.chunks_mut(len_out).zip(&weights) {
                if let Some((_, w)) = sw {
                    sweep(i0, rows, w, o);
                }
            }
        }
        for ((o, h), sw) in out.chunks_mut(len_out).zip(h.chunks(len_h)).zip(&weights) {
            if let Some((s, _)) = sw {
                self.softmins(eps, *s, o, |t| exact(h, t));
            }
        }
    }

    /// Turns the shifted sums in `out` into softmins: `−ε·(s − γ·S_min + ln sum)` (one
    /// vectorized `ln` for the whole slice) where a sum is accepted, else `−ε·exact(t)`.
    fn softmins(&self, eps: f64, s: f64, out: &mut [f64], exact: impl Fn(usize) -> f64) {
        let mut logs = vec![0.0; out.len()];
        ln_slice(out, &mut logs);
        for (t, (o, &l)) in out.iter_mut().zip(&logs).enumerate() {
            *o = if *o > TINY_SUM && o.is_finite() {
                -eps * (s - self.offset + l)
            } else {
                -eps * exact(t)
            };
        }
    }
}
