//! The `f64` kernels of the sweeps and the vector helpers around them.
//!
//! A sweep (see `super::sweep`) needs, over one chunk of a row or across the columns of a
//! row: the maximum of the exponents `h_j − γ·c_j` ([`max_row`], [`accumulate_max`]) and the
//! shifted sums `Σ exp(h_j + shift − γ·c_j)` ([`sum_exp_row`], [`exp_terms`],
//! [`accumulate_exp`]), the shift being minus a known anchor (a guess of the result, or the
//! maximum). Exponents are clamped at 700, so a badly shifted sum overflows into a total the
//! caller rejects, never into `+∞·0`. Kernel–vector products ([`row_dots`],
//! [`column_sums`]) serve the Gibbs-kernel sweeps of small stored costs.
//!
//! Loops run inside a `pulp` dispatch, so they are compiled for the best instruction set of
//! the machine; with AVX-512 the shifted kernels use the table-driven `exp` of
//! [`super::avx512`].

use std::sync::LazyLock;

use pulp::{Arch, Simd, WithSimd};

use super::exp::{CLAMP, exp, exp_nonpositive};

/// Accumulators per loop: two AVX-512 registers, four AVX2 ones.
const LANES: usize = 16;

static ARCH: LazyLock<Arch> = LazyLock::new(Arch::new);

/// Runs `op` compiled for the best instruction set available.
#[inline]
pub(crate) fn dispatch<Op: WithSimd>(op: Op) -> Op::Output {
    ARCH.dispatch(op)
}

/// A log-sum-exp held as `(max, Σ exp(x − max))`, so partial results merge exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Lse {
    pub max: f64,
    pub sum: f64,
}

impl Lse {
    /// The LSE of nothing (−∞).
    pub const EMPTY: Lse = Lse {
        max: f64::NEG_INFINITY,
        sum: 0.0,
    };

    /// The LSE of the union of the two sets of terms.
    #[inline]
    pub fn merge(self, other: Lse) -> Lse {
        if other.max == f64::NEG_INFINITY {
            return self;
        }
        if self.max == f64::NEG_INFINITY {
            return other;
        }
        if self.max >= other.max {
            Lse {
                max: self.max,
                sum: self.sum + other.sum * (other.max - self.max).exp(),
            }
        } else {
            Lse {
                max: other.max,
                sum: other.sum + self.sum * (self.max - other.max).exp(),
            }
        }
    }

    /// `log Σ exp(x)`; −∞ for an empty sum, NaN if a term was NaN.
    #[inline]
    pub fn value(self) -> f64 {
        if self.sum == 0.0 {
            f64::NEG_INFINITY
        } else {
            self.max + self.sum.ln()
        }
    }
}

#[inline(always)]
fn fmax(a: f64, b: f64) -> f64 {
    // A plain comparison maps to one `vmaxpd`; NaNs are caught later by the sum.
    if a > b { a } else { b }
}

/// `max_j (h_j − γ·c_j)` (−∞ for an empty slice).
pub(crate) fn max_row(h: &[f64], c: &[f64], gamma: f64) -> f64 {
    dispatch(MaxRow { h, c, gamma })
}

struct MaxRow<'a> {
    h: &'a [f64],
    c: &'a [f64],
    gamma: f64,
}

impl WithSimd for MaxRow<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self { h, c, gamma } = self;
        let n = h.len().min(c.len());
        let split = n - n % LANES;
        let mut lanes = [f64::NEG_INFINITY; LANES];
        for (hs, cs) in h[..split]
            .chunks_exact(LANES)
            .zip(c[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                lanes[l] = fmax(lanes[l], (-gamma).mul_add(cs[l], hs[l]));
            }
        }
        let mut max = lanes.iter().copied().fold(f64::NEG_INFINITY, fmax);
        for j in split..n {
            max = fmax(max, (-gamma).mul_add(c[j], h[j]));
        }
        max
    }
}

/// Points given as coordinate columns: `cols[k·stride + j]` is coordinate `k` of point `j`
/// (`j < len`), `d` coordinates.
#[derive(Clone, Copy)]
pub struct Columns<'a, T> {
    pub cols: &'a [T],
    pub stride: usize,
    pub d: usize,
    pub len: usize,
}

/// `‖x − y_j‖²` for the [`LANES`] points from `j0`, accumulated coordinate by coordinate.
#[inline(always)]
fn sq_distances(x: &[f64], y: &Columns<'_, f64>, j0: usize) -> [f64; LANES] {
    let mut c = [0.0; LANES];
    for (k, &xk) in x.iter().enumerate().take(y.d) {
        let yk = &y.cols[k * y.stride + j0..k * y.stride + j0 + LANES];
        for l in 0..LANES {
            let t = xk - yk[l];
            c[l] = t.mul_add(t, c[l]);
        }
    }
    c
}

/// `‖x − y_j‖²` for one point.
#[inline(always)]
fn sq_distance(x: &[f64], y: &Columns<'_, f64>, j: usize) -> f64 {
    let mut c = 0.0;
    for (k, &xk) in x.iter().enumerate().take(y.d) {
        let t = xk - y.cols[k * y.stride + j];
        c = t.mul_add(t, c);
    }
    c
}

/// `Σ_j exp(min(h_j + shift − γ·‖x − y_j‖², 700))` over the points `y` (`h`: one entry per
/// point), the squared distances computed in the loop: the fused sweep of a point cloud in
/// few dimensions (no tile of costs is written).
pub(crate) fn sum_exp_points(
    x: &[f64],
    y: Columns<'_, f64>,
    h: &[f64],
    gamma: f64,
    shift: f64,
) -> f64 {
    dispatch(SumExpPoints {
        x,
        y,
        h,
        gamma,
        shift,
    })
}

struct SumExpPoints<'a> {
    x: &'a [f64],
    y: Columns<'a, f64>,
    h: &'a [f64],
    gamma: f64,
    shift: f64,
}

impl WithSimd for SumExpPoints<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self {
            x,
            y,
            h,
            gamma,
            shift,
        } = self;
        let n = y.len.min(h.len());
        let split = n - n % LANES;
        let term = |h: f64, c: f64| {
            let t = (-gamma).mul_add(c, h + shift);
            exp_nonpositive(if t > CLAMP { CLAMP } else { t })
        };
        let mut sums = [0.0; LANES];
        for j0 in (0..split).step_by(LANES) {
            let c = sq_distances(x, &y, j0);
            let hs = &h[j0..j0 + LANES];
            for l in 0..LANES {
                sums[l] += term(hs[l], c[l]);
            }
        }
        let mut sum = pairwise(&sums);
        for (j, &hj) in h.iter().enumerate().take(n).skip(split) {
            sum += term(hj, sq_distance(x, &y, j));
        }
        sum
    }
}

/// `out_j = ‖x − y_j‖²` by the operations of the fused sweeps (the same bits).
pub(crate) fn sq_distances_row(x: &[f64], y: Columns<'_, f64>, out: &mut [f64]) {
    dispatch(SqDistancesRow { x, y, out })
}

struct SqDistancesRow<'a> {
    x: &'a [f64],
    y: Columns<'a, f64>,
    out: &'a mut [f64],
}

impl WithSimd for SqDistancesRow<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { x, y, out } = self;
        let n = y.len.min(out.len());
        let split = n - n % LANES;
        for j0 in (0..split).step_by(LANES) {
            out[j0..j0 + LANES].copy_from_slice(&sq_distances(x, &y, j0));
        }
        for (j, o) in out.iter_mut().enumerate().take(n).skip(split) {
            *o = sq_distance(x, &y, j);
        }
    }
}

/// `max_j (h_j − γ·‖x − y_j‖²)`.
pub(crate) fn max_points(x: &[f64], y: Columns<'_, f64>, h: &[f64], gamma: f64) -> f64 {
    dispatch(MaxPoints { x, y, h, gamma })
}

struct MaxPoints<'a> {
    x: &'a [f64],
    y: Columns<'a, f64>,
    h: &'a [f64],
    gamma: f64,
}

impl WithSimd for MaxPoints<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self { x, y, h, gamma } = self;
        let n = y.len.min(h.len());
        let split = n - n % LANES;
        let mut lanes = [f64::NEG_INFINITY; LANES];
        for j0 in (0..split).step_by(LANES) {
            let c = sq_distances(x, &y, j0);
            let hs = &h[j0..j0 + LANES];
            for l in 0..LANES {
                lanes[l] = fmax(lanes[l], (-gamma).mul_add(c[l], hs[l]));
            }
        }
        let mut max = lanes.iter().copied().fold(f64::NEG_INFINITY, fmax);
        for (j, &hj) in h.iter().enumerate().take(n).skip(split) {
            max = fmax(max, (-gamma).mul_add(sq_distance(x, &y, j), hj));
        }
        max
    }
}

/// `max_j ← max(max_j, hi − γ·c_j)` for every `j`: one row's contribution to column maxima.
pub(crate) fn accumulate_max(hi: f64, c: &[f64], gamma: f64, max: &mut [f64]) {
    dispatch(AccumulateMax { hi, c, gamma, max })
}

struct AccumulateMax<'a> {
    hi: f64,
    c: &'a [f64],
    gamma: f64,
    max: &'a mut [f64],
}

impl WithSimd for AccumulateMax<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { hi, c, gamma, max } = self;
        for (m, &cj) in max.iter_mut().zip(c) {
            *m = fmax(*m, (-gamma).mul_add(cj, hi));
        }
    }
}

/// `Σ_j exp(min(h_j + shift − γ·c_j, 700))`, summed in a fixed order.
pub(crate) fn sum_exp_row(h: &[f64], c: &[f64], gamma: f64, shift: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = *super::avx512::TOKEN {
        return super::avx512::sum_exp_row(simd, h, c, gamma, shift);
    }
    dispatch(SumExpRow { h, c, gamma, shift })
}

struct SumExpRow<'a> {
    h: &'a [f64],
    c: &'a [f64],
    gamma: f64,
    shift: f64,
}

impl WithSimd for SumExpRow<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self { h, c, gamma, shift } = self;
        let n = h.len().min(c.len());
        let split = n - n % LANES;
        let term = |h: f64, c: f64| {
            let t = (-gamma).mul_add(c, h + shift);
            exp_nonpositive(if t > CLAMP { CLAMP } else { t })
        };
        let mut sums = [0.0; LANES];
        for (hs, cs) in h[..split]
            .chunks_exact(LANES)
            .zip(c[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                sums[l] += term(hs[l], cs[l]);
            }
        }
        let mut sum = pairwise(&sums);
        for j in split..n {
            sum += term(h[j], c[j]);
        }
        sum
    }
}

/// `out_j = exp(min(h_j + shift − γ·c_j, 700))`, returning `Σ_j out_j` (summed in a fixed
/// order): the terms of a shifted row sum, kept for reuse.
pub(crate) fn exp_terms(h: &[f64], c: &[f64], gamma: f64, shift: f64, out: &mut [f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = *super::avx512::TOKEN {
        return super::avx512::exp_terms(simd, h, c, gamma, shift, out);
    }
    dispatch(ExpTerms {
        h,
        c,
        gamma,
        shift,
        out,
    })
}

struct ExpTerms<'a> {
    h: &'a [f64],
    c: &'a [f64],
    gamma: f64,
    shift: f64,
    out: &'a mut [f64],
}

impl WithSimd for ExpTerms<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self {
            h,
            c,
            gamma,
            shift,
            out,
        } = self;
        let n = h.len().min(c.len()).min(out.len());
        let split = n - n % LANES;
        let term = |h: f64, c: f64| {
            let t = (-gamma).mul_add(c, h + shift);
            exp_nonpositive(if t > CLAMP { CLAMP } else { t })
        };
        let mut sums = [0.0; LANES];
        for ((hs, cs), os) in h[..split]
            .chunks_exact(LANES)
            .zip(c[..split].chunks_exact(LANES))
            .zip(out[..split].chunks_exact_mut(LANES))
        {
            for l in 0..LANES {
                os[l] = term(hs[l], cs[l]);
                sums[l] += os[l];
            }
        }
        let mut sum = pairwise(&sums);
        for j in split..n {
            out[j] = term(h[j], c[j]);
            sum += out[j];
        }
        sum
    }
}

/// `sum_j += w·x_j` for every `j`.
pub(crate) fn add_scaled(w: f64, x: &[f64], sum: &mut [f64]) {
    dispatch(AddScaled { w, x, sum })
}

struct AddScaled<'a> {
    w: f64,
    x: &'a [f64],
    sum: &'a mut [f64],
}

impl WithSimd for AddScaled<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { w, x, sum } = self;
        for (s, &a) in sum.iter_mut().zip(x) {
            *s = w.mul_add(a, *s);
        }
    }
}

/// `sum_j += exp(min(hi + shift_j − γ·c_j, 700))` for every `j`: one row's contribution to
/// shifted column sums.
pub(crate) fn accumulate_exp(hi: f64, c: &[f64], gamma: f64, shift: &[f64], sum: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = *super::avx512::TOKEN {
        return super::avx512::accumulate_exp(simd, hi, c, gamma, shift, sum);
    }
    dispatch(AccumulateExp {
        hi,
        c,
        gamma,
        shift,
        sum,
    })
}

struct AccumulateExp<'a> {
    hi: f64,
    c: &'a [f64],
    gamma: f64,
    shift: &'a [f64],
    sum: &'a mut [f64],
}

impl WithSimd for AccumulateExp<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            hi,
            c,
            gamma,
            shift,
            sum,
        } = self;
        for ((s, &cj), &sh) in sum.iter_mut().zip(c).zip(shift) {
            let t = (-gamma).mul_add(cj, sh + hi);
            *s += exp_nonpositive(if t > CLAMP { CLAMP } else { t });
        }
    }
}

/// `out_j = exp(shift + h_j − γ·c_j)` (exactly 0 where the exponent is below −708).
pub(crate) fn exp_row(shift: f64, h: &[f64], c: &[f64], gamma: f64, out: &mut [f64]) {
    dispatch(ExpRow {
        shift,
        h,
        c,
        gamma,
        out,
    })
}

struct ExpRow<'a> {
    shift: f64,
    h: &'a [f64],
    c: &'a [f64],
    gamma: f64,
    out: &'a mut [f64],
}

impl WithSimd for ExpRow<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            shift,
            h,
            c,
            gamma,
            out,
        } = self;
        for ((o, &hj), &cj) in out.iter_mut().zip(h).zip(c) {
            *o = exp((-gamma).mul_add(cj, hj) + shift);
        }
    }
}

/// `out_j = exp(x_j − m_j)` where `x_j ≤ m_j` (fiber maxima, one per lane); `0` where the
/// difference is NaN (`x_j = m_j = −∞`: an empty fiber).
pub(crate) fn exp_below_max(x: &[f64], m: &[f64], out: &mut [f64]) {
    dispatch(ExpBelowMax { x, m, out })
}

struct ExpBelowMax<'a> {
    x: &'a [f64],
    m: &'a [f64],
    out: &'a mut [f64],
}

impl WithSimd for ExpBelowMax<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { x, m, out } = self;
        for ((o, &v), &mx) in out.iter_mut().zip(x).zip(m) {
            let t = v - mx;
            *o = exp_nonpositive(if t.is_nan() { f64::NEG_INFINITY } else { t });
        }
    }
}

/// `out_j = exp(x_j − m)` where every `x_j ≤ m` (the maximum of `x`); all `0` when
/// `m = −∞`.
pub(crate) fn exp_below_scalar_max(x: &[f64], m: f64, out: &mut [f64]) {
    dispatch(ExpBelowScalarMax { x, m, out })
}

struct ExpBelowScalarMax<'a> {
    x: &'a [f64],
    m: f64,
    out: &'a mut [f64],
}

impl WithSimd for ExpBelowScalarMax<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { x, m, out } = self;
        if m == f64::NEG_INFINITY {
            out.fill(0.0);
            return;
        }
        for (o, &v) in out.iter_mut().zip(x) {
            *o = exp_nonpositive(v - m);
        }
    }
}

/// `x_j ← exp(x_j)` for every `j` (0 below the underflow threshold, `+∞` above overflow).
pub(crate) fn exp_in_place(x: &mut [f64]) {
    dispatch(ExpInPlace { x })
}

struct ExpInPlace<'a> {
    x: &'a mut [f64],
}

impl WithSimd for ExpInPlace<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for v in self.x.iter_mut() {
            *v = exp(*v);
        }
    }
}

/// `out_j = exp(−γ·(c_j − lo))` where every `c_j ≥ lo` (`0` for `c_j = +∞`).
pub(crate) fn exp_of_shifted_cost(c: &[f64], gamma: f64, lo: f64, out: &mut [f64]) {
    dispatch(ExpOfShiftedCost { c, gamma, lo, out })
}

struct ExpOfShiftedCost<'a> {
    c: &'a [f64],
    gamma: f64,
    lo: f64,
    out: &'a mut [f64],
}

impl WithSimd for ExpOfShiftedCost<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self { c, gamma, lo, out } = self;
        for (o, &cj) in out.iter_mut().zip(c) {
            *o = exp_nonpositive(-gamma * (cj - lo));
        }
    }
}

/// Two-pass `log Σ exp(t)` of finite or `−∞` terms, for the short and rare sums outside the
/// vectorized sweeps (`−∞` when every term is, NaN if one is NaN).
pub(crate) fn log_sum_exp(terms: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = terms.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + terms.map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// `Σ_j x_j·y_j` with a fixed summation order.
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    dispatch(Dot { x, y })
}

struct Dot<'a> {
    x: &'a [f64],
    y: &'a [f64],
}

impl WithSimd for Dot<'_> {
    type Output = f64;

    /// Accumulator `l` (of [`LANES`]) sums the products `j ≡ l (mod LANES)`, then
    /// [`pairwise`] adds them: the same order, so the same bits, for every instruction set.
    /// The accumulators are held in the machine's registers explicitly (LLVM splits a
    /// `[f64; LANES]` version into 128-bit operations).
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let n = self.x.len().min(self.y.len());
        let (x, y) = (&self.x[..n], &self.y[..n]);
        let split = n - n % LANES;
        let lanes = S::F64_LANES;
        let mut flat = [0.0; LANES];
        if LANES.is_multiple_of(lanes) {
            let regs = LANES / lanes;
            let mut acc = [simd.splat_f64s(0.0); LANES];
            for (xs, ys) in x[..split]
                .chunks_exact(LANES)
                .zip(y[..split].chunks_exact(LANES))
            {
                let (xv, _) = S::as_simd_f64s(xs);
                let (yv, _) = S::as_simd_f64s(ys);
                for r in 0..regs {
                    acc[r] = simd.mul_add_f64s(xv[r], yv[r], acc[r]);
                }
            }
            for (r, chunk) in flat.chunks_exact_mut(lanes).enumerate() {
                S::as_mut_simd_f64s(chunk).0[0] = acc[r];
            }
        } else {
            for (xs, ys) in x[..split]
                .chunks_exact(LANES)
                .zip(y[..split].chunks_exact(LANES))
            {
                for l in 0..LANES {
                    flat[l] = xs[l].mul_add(ys[l], flat[l]);
                }
            }
        }
        let mut total = pairwise(&flat);
        for j in split..n {
            total = x[j].mul_add(y[j], total);
        }
        total
    }
}

/// `out_i = Σ_j k[i·m + j]·w_j` for the `out.len()` rows of the row-major `k` (`m` columns):
/// a kernel–vector product, each row summed in [`dot`]'s order (same bits). Rows go four at a
/// time, sharing the loads of `w` and keeping four independent accumulator chains in flight:
/// on short rows one row's chain is latency-bound.
pub(crate) fn row_dots(k: &[f64], m: usize, w: &[f64], out: &mut [f64]) {
    dispatch(RowDots { k, m, w, out })
}

struct RowDots<'a> {
    k: &'a [f64],
    m: usize,
    w: &'a [f64],
    out: &'a mut [f64],
}

impl WithSimd for RowDots<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self { k, m, w, out } = self;
        let w = &w[..m];
        let lanes = S::F64_LANES;
        let split = m - m % LANES;
        let quads = if LANES.is_multiple_of(lanes) {
            out.len() / 4
        } else {
            0
        };
        let regs = LANES / lanes;
        for q in 0..quads {
            let rows: [&[f64]; 4] = std::array::from_fn(|t| &k[(4 * q + t) * m..][..m]);
            let mut acc = [[simd.splat_f64s(0.0); LANES]; 4];
            for c in (0..split).step_by(LANES) {
                let (wv, _) = S::as_simd_f64s(&w[c..c + LANES]);
                for (a, row) in acc.iter_mut().zip(&rows) {
                    let (xv, _) = S::as_simd_f64s(&row[c..c + LANES]);
                    for r in 0..regs {
                        a[r] = simd.mul_add_f64s(xv[r], wv[r], a[r]);
                    }
                }
            }
            let mut totals = [0.0; 4];
            for (total, a) in totals.iter_mut().zip(&acc) {
                let mut flat = [0.0; LANES];
                for (r, chunk) in flat.chunks_exact_mut(lanes).enumerate() {
                    S::as_mut_simd_f64s(chunk).0[0] = a[r];
                }
                *total = pairwise(&flat);
            }
            for j in split..m {
                for (total, row) in totals.iter_mut().zip(&rows) {
                    *total = row[j].mul_add(w[j], *total);
                }
            }
            out[4 * q..4 * q + 4].copy_from_slice(&totals);
        }
        for (i, o) in out.iter_mut().enumerate().skip(4 * quads) {
            *o = Dot {
                x: &k[i * m..][..m],
                y: w,
            }
            .with_simd(simd);
        }
    }
}

/// `sums_t = Σ_i w_i·k[i·m + j0 + t]` for the columns `j0 .. j0 + sums.len()` of the
/// row-major `k` (`m` columns, `w.len()` rows): a transposed kernel–vector product. Each
/// column is accumulated in row order from 0, skipping `w_i = 0` (so a forbidden entry,
/// `k = 0` with `w = 0`, never meets an infinity), with blocks of columns held in registers.
/// With `accumulate`, the sums continue from the values in `sums` instead of 0 (a product
/// split over blocks of rows gives the same bits as one pass).
pub(crate) fn column_sums(
    k: &[f64],
    m: usize,
    j0: usize,
    w: &[f64],
    sums: &mut [f64],
    accumulate: bool,
) {
    dispatch(ColumnSums {
        k,
        m,
        j0,
        w,
        sums,
        accumulate,
    })
}

struct ColumnSums<'a> {
    k: &'a [f64],
    m: usize,
    j0: usize,
    w: &'a [f64],
    sums: &'a mut [f64],
    accumulate: bool,
}

/// Columns per register block of [`column_sums`].
const COLUMN_REGISTERS: usize = 32;

impl WithSimd for ColumnSums<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let Self {
            k,
            m,
            j0,
            w,
            sums,
            accumulate,
        } = self;
        // Blocks of 32 columns, then of 8, in registers; the last < 8 through memory.
        let wide = sums.len() - sums.len() % COLUMN_REGISTERS;
        let (head, rest) = sums.split_at_mut(wide);
        let narrow = rest.len() - rest.len() % 8;
        let (middle, tail) = rest.split_at_mut(narrow);
        column_blocks::<COLUMN_REGISTERS>(k, m, j0, w, head, accumulate);
        column_blocks::<8>(k, m, j0 + wide, w, middle, accumulate);
        let start = j0 + wide + narrow;
        if !accumulate {
            tail.fill(0.0);
        }
        for (i, &wi) in w.iter().enumerate() {
            if wi != 0.0 {
                let xs = &k[i * m + start..][..tail.len()];
                for (s, &x) in tail.iter_mut().zip(xs) {
                    *s = wi.mul_add(x, *s);
                }
            }
        }
    }
}

/// [`column_sums`] over `sums.len()` (a multiple of `B`) columns from `j0`, `B` accumulators
/// at a time.
#[inline(always)]
fn column_blocks<const B: usize>(
    k: &[f64],
    m: usize,
    j0: usize,
    w: &[f64],
    sums: &mut [f64],
    accumulate: bool,
) {
    for (b, block) in sums.chunks_exact_mut(B).enumerate() {
        let start = j0 + b * B;
        let mut acc = [0.0; B];
        if accumulate {
            acc.copy_from_slice(block);
        }
        for (i, &wi) in w.iter().enumerate() {
            if wi != 0.0 {
                let xs = &k[i * m + start..][..B];
                for l in 0..B {
                    acc[l] = wi.mul_add(xs[l], acc[l]);
                }
            }
        }
        block.copy_from_slice(&acc);
    }
}

/// `Σ_j e_j·c_j` over the entries with `e_j > 0`, so that a forbidden pair
/// (`c_j = +∞`, `e_j = 0`) contributes 0 rather than NaN.
pub(crate) fn dot_where_positive(e: &[f64], c: &[f64]) -> f64 {
    dispatch(DotWherePositive { e, c })
}

struct DotWherePositive<'a> {
    e: &'a [f64],
    c: &'a [f64],
}

impl WithSimd for DotWherePositive<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let n = self.e.len().min(self.c.len());
        let (e, c) = (&self.e[..n], &self.c[..n]);
        let split = n - n % LANES;
        let mut acc = [0.0; LANES];
        for (es, cs) in e[..split]
            .chunks_exact(LANES)
            .zip(c[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                acc[l] += if es[l] > 0.0 { es[l] * cs[l] } else { 0.0 };
            }
        }
        let mut total = pairwise(&acc);
        for j in split..n {
            total += if e[j] > 0.0 { e[j] * c[j] } else { 0.0 };
        }
        total
    }
}

#[inline(always)]
fn pairwise(v: &[f64; LANES]) -> f64 {
    let mut w = *v;
    let mut len = LANES;
    while len > 1 {
        len /= 2;
        for l in 0..len {
            w[l] += w[l + len];
        }
    }
    w[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_lse(h: &[f64], c: &[f64], gamma: f64) -> f64 {
        let terms: Vec<f64> = h.iter().zip(c).map(|(h, c)| h - gamma * c).collect();
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
    }

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 10.0 - 5.0
            })
            .collect()
    }

    #[test]
    fn two_pass_from_max_and_shifted_sums_matches_naive() {
        for n in [1, 7, 16, 17, 100, 1001] {
            let (h, c) = (data(n, 1), data(n, 2));
            for gamma in [0.1, 10.0, 1e4] {
                let max = max_row(&h, &c, gamma);
                let got = max + sum_exp_row(&h, &c, gamma, -max).ln();
                let want = naive_lse(&h, &c, gamma);
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "n={n} γ={gamma}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn minus_infinity_terms_vanish_and_nan_propagates() {
        let h = [f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY];
        let c = [0.0, 1.0, f64::INFINITY];
        let max = max_row(&h, &c, 2.0);
        assert_eq!(max, -2.0);
        assert_eq!(sum_exp_row(&h, &c, 2.0, -max), 1.0);
        let none = [f64::NEG_INFINITY; 20];
        assert_eq!(max_row(&none, &[0.0; 20], 1.0), f64::NEG_INFINITY);
        for pos in 0..3 {
            let mut c = [0.5; 3];
            c[pos] = f64::NAN;
            assert!(
                sum_exp_row(&[0.0, 1.0, 2.0], &c, 1.0, 0.0).is_nan(),
                "NaN at {pos}"
            );
            let mut sum = [0.0];
            accumulate_exp(0.0, &c[pos..pos + 1], 1.0, &[0.0], &mut sum);
            assert!(sum[0].is_nan());
        }
    }

    #[test]
    fn column_kernels_match_rowwise_ones() {
        let (rows, cols) = (30, 37);
        let c = data(rows * cols, 3);
        let h = data(rows, 4);
        let shift = data(cols, 5);
        let (mut max, mut sum) = (vec![f64::NEG_INFINITY; cols], vec![0.0; cols]);
        for i in 0..rows {
            accumulate_max(h[i], &c[i * cols..(i + 1) * cols], 3.0, &mut max);
            accumulate_exp(h[i], &c[i * cols..(i + 1) * cols], 3.0, &shift, &mut sum);
        }
        for j in 0..cols {
            let col: Vec<f64> = (0..rows).map(|i| c[i * cols + j]).collect();
            assert_eq!(max[j], max_row(&h, &col, 3.0));
            let want: f64 = (0..rows)
                .map(|i| (h[i] + shift[j] - 3.0 * col[i]).exp())
                .sum();
            assert!((sum[j] - want).abs() <= 1e-13 * want, "col {j}");
        }
    }

    #[test]
    fn merge_is_exact_and_handles_empty() {
        let a = Lse { max: 1.0, sum: 2.0 };
        let b = Lse { max: 3.0, sum: 0.5 };
        let want = (2.0f64 * 1.0f64.exp() + 0.5 * 3.0f64.exp()).ln();
        assert!((a.merge(b).value() - want).abs() < 1e-14);
        assert!((b.merge(a).value() - want).abs() < 1e-14);
        assert_eq!(a.merge(Lse::EMPTY), a);
        assert_eq!(Lse::EMPTY.merge(b), b);
    }

    #[test]
    fn dot_and_exp_row() {
        let (x, y) = (data(33, 5), data(33, 6));
        let want: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert!((dot(&x, &y) - want).abs() < 1e-12);
        let mut out = vec![0.0; 33];
        exp_row(0.5, &x, &y, 0.25, &mut out);
        for j in 0..33 {
            let want = (0.5 + x[j] - 0.25 * y[j]).exp();
            assert!((out[j] - want).abs() < 1e-15 * want);
        }
    }

    #[test]
    fn kernel_vector_products_keep_the_bits_of_their_reference_orders() {
        // Rows: every row as `dot` sums it (quads and the remainder; rows shorter than,
        // equal to and longer than LANES, not multiples of it).
        for (n, m) in [(1, 1), (3, 7), (4, 16), (9, 33), (13, 200)] {
            let k = data(n * m, 1);
            let w = data(m, 2);
            let mut out = vec![0.0; n];
            row_dots(&k, m, &w, &mut out);
            for i in 0..n {
                assert_eq!(out[i].to_bits(), dot(&k[i * m..(i + 1) * m], &w).to_bits());
            }
        }
        // Columns: accumulated in row order from 0, zero weights skipped (an infinite
        // entry under a zero weight stays out of the sum).
        for (n, m, j0, width) in [(5, 7, 0, 7), (17, 100, 3, 70), (200, 200, 0, 200)] {
            let mut k = data(n * m, 3);
            let mut w = data(n, 4);
            w[n / 2] = 0.0;
            k[(n / 2) * m + j0] = f64::INFINITY;
            let mut sums = vec![f64::NAN; width];
            column_sums(&k, m, j0, &w, &mut sums, false);
            let mut split = vec![f64::NAN; width];
            let half = n / 3;
            column_sums(&k[..half * m], m, j0, &w[..half], &mut split, false);
            column_sums(&k[half * m..], m, j0, &w[half..], &mut split, true);
            assert_eq!(split, sums);
            for (t, &got) in sums.iter().enumerate() {
                let mut want = 0.0f64;
                for i in 0..n {
                    if w[i] != 0.0 {
                        want = w[i].mul_add(k[i * m + j0 + t], want);
                    }
                }
                assert_eq!(got.to_bits(), want.to_bits(), "column {t}");
            }
        }
    }
}
