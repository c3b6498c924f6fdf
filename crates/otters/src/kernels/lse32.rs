//! The streaming sweep kernels for costs stored or computed in `f32`: the exponentials are
//! evaluated in `f32` lanes (twice as many per instruction as `f64`, and half the memory
//! traffic for a stored cost), their sums are carried in `f64`.
//!
//! `exp(x) = 2ᵏ·exp(r)`, `k = round(x/ln 2)`, `r = x − k·ln 2` (Cody–Waite split,
//! `|r| ≤ ln2/2`), `exp(r)` by its Taylor polynomial of degree 7 (truncation error 5e-9,
//! below half an `f32` ulp), `2ᵏ` added to the exponent bits; exactly 0 below
//! [`UNDERFLOW`], so every result is a normal number. Partial sums stay in `f32` for at most
//! [`NARROW`] terms per lane (relative rounding ≤ 5e-7) before they are added in `f64`.
//! As in [`super::lse`], every loop runs inside a `pulp` dispatch and is written without
//! branches, so LLVM vectorizes it for the machine's widest instruction set.

use pulp::{Simd, WithSimd};

use super::lse::{Columns, dispatch};

const LOG2_E: f32 = std::f32::consts::LOG2_E;
// ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 trailing zero bits (k·LN2_HI is exact for |k| < 512).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
// 1.5·2²³: adding it rounds to an integer and leaves that integer in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;
/// Below this, exp would be subnormal; the kernels return exactly 0 there.
pub(crate) const UNDERFLOW: f32 = -87.0;
/// Where the shifted kernels clamp their arguments (e^80 ≈ 5.5e34: sums of a few thousand
/// such terms stay finite in `f32`, and are rejected as badly shifted anyway).
pub(crate) const CLAMP: f32 = 80.0;
/// 1/k!, k = 0..=7.
const POLY: [f32; 8] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
];

/// Lanes per loop: two AVX2 registers, one AVX-512 register.
const LANES: usize = 16;
/// Terms summed per lane in `f32` before the lane is added into its `f64` accumulator.
const NARROW: usize = 4;

/// `exp(x)` for `x ≤ CLAMP` (callers clamp): exactly 0 below [`UNDERFLOW`] and for −∞; NaN
/// stays NaN.
#[inline(always)]
pub(crate) fn exp32(x: f32) -> f32 {
    let t = x.mul_add(LOG2_E, ROUND);
    let k = t - ROUND;
    let r = k.mul_add(-LN2_HI, x);
    let r = k.mul_add(-LN2_LO, r);
    let mut p = POLY[7];
    p = p.mul_add(r, POLY[6]);
    p = p.mul_add(r, POLY[5]);
    p = p.mul_add(r, POLY[4]);
    p = p.mul_add(r, POLY[3]);
    p = p.mul_add(r, POLY[2]);
    p = p.mul_add(r, POLY[1]);
    p = p.mul_add(r, POLY[0]);
    // Integer k sits in the low bits of t; shifting it into the exponent field multiplies by 2ᵏ.
    let scaled = f32::from_bits(p.to_bits().wrapping_add(t.to_bits() << 23));
    if x < UNDERFLOW { 0.0 } else { scaled }
}

/// The shifted, clamped term `exp(min(h + shift − γ·c, CLAMP))`, with `h = hh + hl` and
/// `shift = sh + sl` each carried as a high part on the grid `2⁻⁸` and a low part (see
/// [`split`]). For the terms that matter `h + shift ≈ γ·c` while both are large: the high
/// parts add exactly, the product `γ·c` is exact inside the fused multiply-add, so the one
/// rounding is of the (small) exponent itself; the low parts add last. Rounding `h` alone to
/// `f32` would quantize the potentials at `2⁻²⁴·|h|` and stall the solver at small ε.
#[inline(always)]
fn term(hh: f32, hl: f32, c: f32, gamma: f32, sh: f32, sl: f32) -> f32 {
    let t = (-gamma).mul_add(c, hh + sh) + (hl + sl);
    exp32(if t > CLAMP { CLAMP } else { t })
}

/// Values of magnitude below this split exactly (`2¹⁵`: high parts on the grid `2⁻⁸` then
/// need at most 23 bits, and the sum of two of them at most 24).
const SPLIT_RANGE: f64 = 32768.0;

/// `x` as a high part, a multiple of `2⁻⁸` (the nearest `f32` beyond `2¹⁵`), and the `f32`
/// nearest the remainder (|remainder| ≤ 2⁻⁹ in range).
#[inline(always)]
pub(crate) fn split(x: f64) -> (f32, f32) {
    let hi = if x.abs() < SPLIT_RANGE {
        ((x * 256.0).round() / 256.0) as f32
    } else {
        x as f32
    };
    let lo = if hi.is_finite() {
        (x - hi as f64) as f32
    } else {
        0.0
    };
    (hi, lo)
}

#[inline(always)]
fn fmax(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
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

/// `Σ_j exp(min(h_j + shift − γ·c_j, CLAMP))` in a fixed order; with `STORE`, each term is
/// also written to `out_j`, for reuse.
#[inline(always)]
fn row_terms<const STORE: bool>(
    (h, l): (&[f32], &[f32]),
    c: &[f32],
    gamma: f32,
    shift: f64,
    out: &mut [f32],
) -> f64 {
    let (sh, sl) = split(shift);
    let n = h.len().min(c.len()).min(l.len());
    let block = LANES * NARROW;
    let split = n - n % block;
    let mut wide = [0.0f64; LANES];
    for b in (0..split).step_by(block) {
        let mut narrow = [0.0f32; LANES];
        for s in 0..NARROW {
            let j0 = b + s * LANES;
            let (hs, ls, cs) = (&h[j0..j0 + LANES], &l[j0..j0 + LANES], &c[j0..j0 + LANES]);
            let mut e = [0.0f32; LANES];
            for t in 0..LANES {
                e[t] = term(hs[t], ls[t], cs[t], gamma, sh, sl);
                narrow[t] += e[t];
            }
            if STORE {
                out[j0..j0 + LANES].copy_from_slice(&e);
            }
        }
        for l in 0..LANES {
            wide[l] += narrow[l] as f64;
        }
    }
    let mut sum = pairwise(&wide);
    for j in split..n {
        let e = term(h[j], l[j], c[j], gamma, sh, sl);
        if STORE {
            out[j] = e;
        }
        sum += e as f64;
    }
    sum
}

/// `Σ_j exp(min(h_j + shift − γ·c_j, CLAMP))`, carried in `f64` (`h` as high and low parts).
pub(crate) fn sum_exp_row(h: (&[f32], &[f32]), c: &[f32], gamma: f32, shift: f64) -> f64 {
    dispatch(RowTerms::<false> {
        h,
        c,
        gamma,
        shift,
        out: &mut [],
    })
}

/// [`sum_exp_row`], also writing each term to `out`.
pub(crate) fn exp_terms(
    h: (&[f32], &[f32]),
    c: &[f32],
    gamma: f32,
    shift: f64,
    out: &mut [f32],
) -> f64 {
    dispatch(RowTerms::<true> {
        h,
        c,
        gamma,
        shift,
        out,
    })
}

struct RowTerms<'a, const STORE: bool> {
    h: (&'a [f32], &'a [f32]),
    c: &'a [f32],
    gamma: f32,
    shift: f64,
    out: &'a mut [f32],
}

impl<const STORE: bool> WithSimd for RowTerms<'_, STORE> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        row_terms::<STORE>(self.h, self.c, self.gamma, self.shift, self.out)
    }
}

/// `max_j (h_j − γ·c_j)` (−∞ for an empty slice).
pub(crate) fn max_row(h: &[f32], c: &[f32], gamma: f32) -> f32 {
    dispatch(MaxRow { h, c, gamma })
}

struct MaxRow<'a> {
    h: &'a [f32],
    c: &'a [f32],
    gamma: f32,
}

impl WithSimd for MaxRow<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f32 {
        let Self { h, c, gamma } = self;
        let n = h.len().min(c.len());
        let split = n - n % LANES;
        let mut lanes = [f32::NEG_INFINITY; LANES];
        for (hs, cs) in h[..split]
            .chunks_exact(LANES)
            .zip(c[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                lanes[l] = fmax(lanes[l], (-gamma).mul_add(cs[l], hs[l]));
            }
        }
        let mut max = lanes.iter().copied().fold(f32::NEG_INFINITY, fmax);
        for j in split..n {
            max = fmax(max, (-gamma).mul_add(c[j], h[j]));
        }
        max
    }
}

/// `‖x − y_j‖²` for the [`LANES`] points from `j0` (see [`super::lse::Columns`]).
#[inline(always)]
fn sq_distances(x: &[f32], y: &Columns<'_, f32>, j0: usize) -> [f32; LANES] {
    let mut c = [0.0f32; LANES];
    for (k, &xk) in x.iter().enumerate().take(y.d) {
        let yk = &y.cols[k * y.stride + j0..k * y.stride + j0 + LANES];
        for l in 0..LANES {
            let t = xk - yk[l];
            c[l] = t.mul_add(t, c[l]);
        }
    }
    c
}

#[inline(always)]
fn sq_distance(x: &[f32], y: &Columns<'_, f32>, j: usize) -> f32 {
    let mut c = 0.0f32;
    for (k, &xk) in x.iter().enumerate().take(y.d) {
        let t = xk - y.cols[k * y.stride + j];
        c = t.mul_add(t, c);
    }
    c
}

/// `Σ_j exp(min(h_j + shift − γ·‖x − y_j‖², CLAMP))`, carried in `f64`: the fused sweep of a
/// point cloud in few dimensions (see `super::lse::sum_exp_points`).
pub(crate) fn sum_exp_points(
    x: &[f32],
    y: Columns<'_, f32>,
    h: (&[f32], &[f32]),
    gamma: f32,
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
    x: &'a [f32],
    y: Columns<'a, f32>,
    h: (&'a [f32], &'a [f32]),
    gamma: f32,
    shift: f64,
}

impl WithSimd for SumExpPoints<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f64 {
        let Self {
            x,
            y,
            h: (h, l),
            gamma,
            shift,
        } = self;
        let (sh, sl) = split(shift);
        let n = y.len.min(h.len()).min(l.len());
        let block = LANES * NARROW;
        let split = n - n % block;
        let mut wide = [0.0f64; LANES];
        for b in (0..split).step_by(block) {
            let mut narrow = [0.0f32; LANES];
            for s in 0..NARROW {
                let j0 = b + s * LANES;
                let c = sq_distances(x, &y, j0);
                let (hs, ls) = (&h[j0..j0 + LANES], &l[j0..j0 + LANES]);
                for t in 0..LANES {
                    narrow[t] += term(hs[t], ls[t], c[t], gamma, sh, sl);
                }
            }
            for t in 0..LANES {
                wide[t] += narrow[t] as f64;
            }
        }
        let mut sum = pairwise(&wide);
        for j in split..n {
            sum += term(h[j], l[j], sq_distance(x, &y, j), gamma, sh, sl) as f64;
        }
        sum
    }
}

/// `out_j = ‖x − y_j‖²` by the operations of the fused sweeps (the same bits).
pub(crate) fn sq_distances_row(x: &[f32], y: Columns<'_, f32>, out: &mut [f32]) {
    dispatch(SqDistancesRow { x, y, out })
}

struct SqDistancesRow<'a> {
    x: &'a [f32],
    y: Columns<'a, f32>,
    out: &'a mut [f32],
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
pub(crate) fn max_points(x: &[f32], y: Columns<'_, f32>, h: &[f32], gamma: f32) -> f32 {
    dispatch(MaxPoints { x, y, h, gamma })
}

struct MaxPoints<'a> {
    x: &'a [f32],
    y: Columns<'a, f32>,
    h: &'a [f32],
    gamma: f32,
}

impl WithSimd for MaxPoints<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> f32 {
        let Self { x, y, h, gamma } = self;
        let n = y.len.min(h.len());
        let split = n - n % LANES;
        let mut lanes = [f32::NEG_INFINITY; LANES];
        for j0 in (0..split).step_by(LANES) {
            let c = sq_distances(x, &y, j0);
            let hs = &h[j0..j0 + LANES];
            for t in 0..LANES {
                lanes[t] = fmax(lanes[t], (-gamma).mul_add(c[t], hs[t]));
            }
        }
        let mut max = lanes.iter().copied().fold(f32::NEG_INFINITY, fmax);
        for (j, &hj) in h.iter().enumerate().take(n).skip(split) {
            max = fmax(max, (-gamma).mul_add(sq_distance(x, &y, j), hj));
        }
        max
    }
}

/// `sum_j += exp(min(hi + shift_j − γ·c_j, CLAMP))` for every `j`: one row's contribution
/// to column sums (kept in `f32`; the caller adds them into `f64` every few rows); the
/// shifts come as high and low parts.
pub(crate) fn accumulate_exp(
    hi: f64,
    c: &[f32],
    gamma: f32,
    shift: (&[f32], &[f32]),
    sum: &mut [f32],
) {
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
    c: &'a [f32],
    gamma: f32,
    shift: (&'a [f32], &'a [f32]),
    sum: &'a mut [f32],
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
        let (hh, hl) = split(hi);
        let (sh, sl) = shift;
        for (((s, &cj), &a), &b) in sum.iter_mut().zip(c).zip(sh).zip(sl) {
            *s += term(hh, hl, cj, gamma, a, b);
        }
    }
}

/// `max_j ← max(max_j, hi − γ·c_j)` for every `j`.
pub(crate) fn accumulate_max(hi: f32, c: &[f32], gamma: f32, max: &mut [f32]) {
    dispatch(AccumulateMax { hi, c, gamma, max })
}

struct AccumulateMax<'a> {
    hi: f32,
    c: &'a [f32],
    gamma: f32,
    max: &'a mut [f32],
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

/// `sum_j += w·x_j` for every `j`.
pub(crate) fn add_scaled(w: f32, x: &[f32], sum: &mut [f32]) {
    dispatch(AddScaled { w, x, sum })
}

struct AddScaled<'a> {
    w: f32,
    x: &'a [f32],
    sum: &'a mut [f32],
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

/// `wide_j += narrow_j` and `narrow_j = 0` for every `j`.
pub(crate) fn flush(narrow: &mut [f32], wide: &mut [f64]) {
    dispatch(Flush { narrow, wide })
}

struct Flush<'a> {
    narrow: &'a mut [f32],
    wide: &'a mut [f64],
}

impl WithSimd for Flush<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (n, w) in self.narrow.iter_mut().zip(self.wide.iter_mut()) {
            *w += *n as f64;
            *n = 0.0;
        }
    }
}

/// `x_j ← exp(min(x_j, CLAMP))` for every `j` (the kernels' `exp`, for measuring its rate).
pub(crate) fn exp_in_place(x: &mut [f32]) {
    dispatch(ExpInPlace { x })
}

struct ExpInPlace<'a> {
    x: &'a mut [f32],
}

impl WithSimd for ExpInPlace<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for v in self.x.iter_mut() {
            *v = exp32(if *v > CLAMP { CLAMP } else { *v });
        }
    }
}

/// `out_j = x_j` widened to `f64` (exact).
pub(crate) fn widen_slice(x: &[f32], out: &mut [f64]) {
    dispatch(Widen { x, out })
}

struct Widen<'a> {
    x: &'a [f32],
    out: &'a mut [f64],
}

impl WithSimd for Widen<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (o, &v) in self.out.iter_mut().zip(self.x) {
            *o = v as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (((s >> 11) as f64 / (1u64 << 53) as f64) as f32 - 0.5) * scale
            })
            .collect()
    }

    #[test]
    fn exp32_is_within_two_ulps_and_exact_at_the_edges() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= CLAMP {
            let want = (x as f64).exp();
            let got = exp32(x) as f64;
            worst = worst.max(((got - want) / want).abs());
            x += 0.000_731;
        }
        assert!(
            worst < 2.5 * f32::EPSILON as f64,
            "max relative error {worst:e}"
        );
        assert_eq!(exp32(0.0), 1.0);
        assert_eq!(exp32(-87.5), 0.0);
        assert_eq!(exp32(f32::NEG_INFINITY), 0.0);
        assert!(exp32(f32::NAN).is_nan());
        assert!(exp32(-86.9) > 0.0 && exp32(-86.9).is_normal());
    }

    #[test]
    fn row_kernels_match_f64_references() {
        for n in [1, 15, 16, 64, 65, 1000, 1024] {
            let (h, c) = (data(n, 1, 8.0), data(n, 2, 4.0));
            let lo = vec![0.0f32; n];
            let (gamma, shift) = (1.7f32, -0.25f64);
            let want: f64 = h
                .iter()
                .zip(&c)
                .map(|(&h, &c)| (h as f64 + shift - gamma as f64 * c as f64).exp())
                .sum();
            let got = sum_exp_row((&h, &lo), &c, gamma, shift);
            assert!((got - want).abs() <= 1e-6 * want, "n={n}: {got} vs {want}");
            let mut terms = vec![0.0f32; n];
            assert_eq!(
                exp_terms((&h, &lo), &c, gamma, shift, &mut terms).to_bits(),
                got.to_bits()
            );
            let (sh, sl) = split(shift);
            for (t, (&hj, &cj)) in terms.iter().zip(h.iter().zip(&c)) {
                assert_eq!(t.to_bits(), term(hj, 0.0, cj, gamma, sh, sl).to_bits());
            }
            let max = max_row(&h, &c, gamma);
            let want_max = h
                .iter()
                .zip(&c)
                .map(|(&h, &c)| (-gamma).mul_add(c, h))
                .fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max, want_max);
        }
    }

    /// The high/low split keeps h + shift − γ·c accurate where large h, shift and γ·c
    /// cancel: the exponent's error is that of its own rounding, not of h's.
    #[test]
    fn split_exponents_keep_cancelling_sums_exact() {
        for (h, shift, c) in [
            (1_234.567_890_123_f64, -1234.5 - 1e-7, 0.0f32),
            (300.123_456_789, 200.987_654_321, 0.501_111),
            (-7_000.555_555_5, 7_400.111_111_1, 0.4),
        ] {
            let gamma = 1000.0f32;
            let (hh, hl) = split(h);
            assert!(
                (hh as f64 + hl as f64 - h).abs() < 1e-9,
                "{h}: the parts carry h"
            );
            let t = h + shift - gamma as f64 * c as f64;
            let want = t.exp();
            let got = sum_exp_row((&[hh], &[hl]), &[c], gamma, shift);
            assert!((got - want).abs() <= 4e-7 * want, "{t}: {got} vs {want}");
            // Rounding h alone to f32 loses ~1e-5 of the exponent here.
            let naive = ((h as f32) as f64 + shift - gamma as f64 * c as f64).exp();
            assert!((naive - want).abs() > 1e-6 * want, "{t}");
        }
        assert_eq!(split(f64::NEG_INFINITY), (f32::NEG_INFINITY, 0.0));
        // Beyond 2^15 the high part is the nearest f32.
        let (hi, lo) = split(1e6 + 0.1);
        assert_eq!(hi, (1e6 + 0.1) as f32);
        assert!((hi as f64 + lo as f64 - (1e6 + 0.1)).abs() < 1e-9);
    }

    #[test]
    fn column_kernels_accumulate_in_order() {
        let m = 37;
        let (c, shift) = (data(m, 3, 4.0), data(m, 4, 2.0));
        let zero = vec![0.0f32; m];
        let mut sum = vec![0.0f32; m];
        let mut max = vec![f32::NEG_INFINITY; m];
        accumulate_exp(0.5, &c, 2.0, (&shift, &zero), &mut sum);
        accumulate_exp(-1.0, &c, 2.0, (&shift, &zero), &mut sum);
        accumulate_max(0.5, &c, 2.0, &mut max);
        for j in 0..m {
            let want = term(0.5, 0.0, c[j], 2.0, shift[j], 0.0)
                + term(-1.0, 0.0, c[j], 2.0, shift[j], 0.0);
            assert_eq!(sum[j].to_bits(), want.to_bits());
            assert_eq!(max[j], (-2.0f32).mul_add(c[j], 0.5));
        }
        let mut wide = vec![1.0f64; m];
        flush(&mut sum, &mut wide);
        assert!(sum.iter().all(|&v| v == 0.0));
        assert!(wide.iter().all(|&v| v > 1.0));
    }
}
