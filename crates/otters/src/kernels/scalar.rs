//! The precisions a cost can be stored or computed in (`f64`, `f32`), and the kernels of
//! each: the exponent `h_j − γ·c_j` and its exponential are evaluated in the cost's
//! precision, every sum of exponentials is carried in `f64` (and reduced exactly, see
//! [`super::exact`]), and potentials stay `f64` throughout.

use std::fmt::Debug;

use super::lse::Columns;
use super::{gemm, lse, lse32};

/// A floating-point type the sweep kernels run in. Implemented for `f64` and `f32` only.
pub trait Kernels: Copy + Send + Sync + PartialOrd + Debug + Default + 'static {
    /// Totals `Σ exp(t − anchor)` accepted from a shifted (guessed) sweep: inside this window
    /// no term can have overflowed and the terms flushed to zero weigh nothing in `f64`;
    /// outside it the output is recomputed from its maximum.
    const WINDOW: (f64, f64);
    /// Rows of column terms summed in `Self` before they are added in `f64`.
    const NARROW_ROWS: usize;
    /// −∞.
    const NEG_INFINITY: Self;
    /// Bytes per entry.
    const BYTES: usize;
    /// `x` rounded to this precision.
    fn of(x: f64) -> Self;
    /// The value as `f64` (exact).
    fn wide(self) -> f64;
    /// `a − b`.
    fn sub(a: Self, b: Self) -> Self;
    /// `a·b + c`, rounded once.
    fn mul_add(a: Self, b: Self, c: Self) -> Self;
    /// `x` as a high part in this precision and the remainder (`f64`: `(x, 0)`); the kernels
    /// of `f32` carry `h` and the shifts this way (see `super::lse32`).
    fn split(x: f64) -> (Self, Self);
    /// `max_j (h_j − γ·c_j)` (`h`: high parts).
    fn max_row(h: &[Self], c: &[Self], gamma: Self) -> Self;
    /// `Σ_j exp(min(h_j + shift − γ·c_j, clamp))`, in a fixed order (`h`: high and low
    /// parts; the low parts are empty for `f64`).
    fn sum_exp_row(h: (&[Self], &[Self]), c: &[Self], gamma: Self, shift: f64) -> f64;
    /// [`sum_exp_row`](Self::sum_exp_row), also writing every term to `out`.
    fn exp_terms(
        h: (&[Self], &[Self]),
        c: &[Self],
        gamma: Self,
        shift: f64,
        out: &mut [Self],
    ) -> f64;
    /// `max_j ← max(max_j, hi − γ·c_j)`.
    fn accumulate_max(hi: Self, c: &[Self], gamma: Self, max: &mut [Self]);
    /// `sum_j += exp(min(hi + shift_j − γ·c_j, clamp))` (shifts: high and low parts).
    fn accumulate_exp(
        hi: f64,
        c: &[Self],
        gamma: Self,
        shift: (&[Self], &[Self]),
        sum: &mut [Self],
    );
    /// `sum_j += w·x_j`.
    fn add_scaled(w: Self, x: &[Self], sum: &mut [Self]);
    /// `wide_j += narrow_j`, `narrow_j = 0`.
    fn flush(narrow: &mut [Self], wide: &mut [f64]);
    /// `x` as `f64`: `x` itself for `f64`, widened into `buf` (at least as long) otherwise.
    fn as_f64<'b>(x: &'b [Self], buf: &'b mut [f64]) -> &'b [f64];
    /// `x` itself when `Self` is `f64`.
    fn as_f64_slice(x: &[Self]) -> Option<&[f64]>;
    /// `out = lhs·rhsᵀ` (`rows × k` by `cols × k`, row-major), sequential.
    fn mul_transposed(
        lhs: &[Self],
        rhs: &[Self],
        k: usize,
        out: &mut [Self],
        rows: usize,
        cols: usize,
    );
    /// `Σ_j exp(min(h_j + shift − γ·‖x − y_j‖², clamp))` (`h`: high and low parts).
    fn sum_exp_points(
        x: &[Self],
        y: Columns<'_, Self>,
        h: (&[Self], &[Self]),
        gamma: Self,
        shift: f64,
    ) -> f64;
    /// `out_j = ‖x − y_j‖²`, by the operations of [`sum_exp_points`](Self::sum_exp_points).
    fn sq_distances(x: &[Self], y: Columns<'_, Self>, out: &mut [Self]);
    /// `max_j (h_j − γ·‖x − y_j‖²)` (`h`: high parts).
    fn max_points(x: &[Self], y: Columns<'_, Self>, h: &[Self], gamma: Self) -> Self;
}

impl Kernels for f64 {
    /// [2^−180, 2^180]: the exact accumulator resolves 2^−280.
    const WINDOW: (f64, f64) = (
        f64::from_bits((1023 - 180) << 52),
        f64::from_bits((1023 + 180) << 52),
    );
    const NARROW_ROWS: usize = usize::MAX;
    const NEG_INFINITY: f64 = f64::NEG_INFINITY;
    const BYTES: usize = 8;

    #[inline]
    fn of(x: f64) -> f64 {
        x
    }
    #[inline]
    fn wide(self) -> f64 {
        self
    }
    #[inline]
    fn sub(a: f64, b: f64) -> f64 {
        a - b
    }
    #[inline]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    #[inline]
    fn split(x: f64) -> (f64, f64) {
        (x, 0.0)
    }
    fn max_row(h: &[f64], c: &[f64], gamma: f64) -> f64 {
        lse::max_row(h, c, gamma)
    }
    fn sum_exp_row(h: (&[f64], &[f64]), c: &[f64], gamma: f64, shift: f64) -> f64 {
        lse::sum_exp_row(h.0, c, gamma, shift)
    }
    fn exp_terms(h: (&[f64], &[f64]), c: &[f64], gamma: f64, shift: f64, out: &mut [f64]) -> f64 {
        lse::exp_terms(h.0, c, gamma, shift, out)
    }
    fn accumulate_max(hi: f64, c: &[f64], gamma: f64, max: &mut [f64]) {
        lse::accumulate_max(hi, c, gamma, max)
    }
    fn accumulate_exp(hi: f64, c: &[f64], gamma: f64, shift: (&[f64], &[f64]), sum: &mut [f64]) {
        lse::accumulate_exp(hi, c, gamma, shift.0, sum)
    }
    fn add_scaled(w: f64, x: &[f64], sum: &mut [f64]) {
        lse::add_scaled(w, x, sum)
    }
    fn flush(narrow: &mut [f64], wide: &mut [f64]) {
        for (n, w) in narrow.iter_mut().zip(wide.iter_mut()) {
            *w += *n;
            *n = 0.0;
        }
    }
    fn as_f64<'b>(x: &'b [f64], _: &'b mut [f64]) -> &'b [f64] {
        x
    }
    fn as_f64_slice(x: &[f64]) -> Option<&[f64]> {
        Some(x)
    }
    fn mul_transposed(
        lhs: &[f64],
        rhs: &[f64],
        k: usize,
        out: &mut [f64],
        rows: usize,
        cols: usize,
    ) {
        gemm::mul_transposed(lhs, rhs, k, out, rows, cols)
    }
    fn sum_exp_points(
        x: &[f64],
        y: Columns<'_, f64>,
        h: (&[f64], &[f64]),
        gamma: f64,
        shift: f64,
    ) -> f64 {
        lse::sum_exp_points(x, y, h.0, gamma, shift)
    }
    fn sq_distances(x: &[f64], y: Columns<'_, f64>, out: &mut [f64]) {
        lse::sq_distances_row(x, y, out)
    }
    fn max_points(x: &[f64], y: Columns<'_, f64>, h: &[f64], gamma: f64) -> f64 {
        lse::max_points(x, y, h, gamma)
    }
}

impl Kernels for f32 {
    /// [e^−20, e^40]: terms below `f32`'s range (< e^−87) weigh < n·e^−67 of an accepted
    /// total, and no partial `f32` sum of clamped terms overflows.
    const WINDOW: (f64, f64) = (2.061_153_622_438_558e-9, 2.353_852_668_370_2e17);
    const NARROW_ROWS: usize = 8;
    const NEG_INFINITY: f32 = f32::NEG_INFINITY;
    const BYTES: usize = 4;

    #[inline]
    fn of(x: f64) -> f32 {
        x as f32
    }
    #[inline]
    fn wide(self) -> f64 {
        self as f64
    }
    #[inline]
    fn sub(a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline]
    fn split(x: f64) -> (f32, f32) {
        lse32::split(x)
    }
    fn max_row(h: &[f32], c: &[f32], gamma: f32) -> f32 {
        lse32::max_row(h, c, gamma)
    }
    fn sum_exp_row(h: (&[f32], &[f32]), c: &[f32], gamma: f32, shift: f64) -> f64 {
        lse32::sum_exp_row(h, c, gamma, shift)
    }
    fn exp_terms(h: (&[f32], &[f32]), c: &[f32], gamma: f32, shift: f64, out: &mut [f32]) -> f64 {
        lse32::exp_terms(h, c, gamma, shift, out)
    }
    fn accumulate_max(hi: f32, c: &[f32], gamma: f32, max: &mut [f32]) {
        lse32::accumulate_max(hi, c, gamma, max)
    }
    fn accumulate_exp(hi: f64, c: &[f32], gamma: f32, shift: (&[f32], &[f32]), sum: &mut [f32]) {
        lse32::accumulate_exp(hi, c, gamma, shift, sum)
    }
    fn add_scaled(w: f32, x: &[f32], sum: &mut [f32]) {
        lse32::add_scaled(w, x, sum)
    }
    fn flush(narrow: &mut [f32], wide: &mut [f64]) {
        lse32::flush(narrow, wide)
    }
    fn as_f64<'b>(x: &'b [f32], buf: &'b mut [f64]) -> &'b [f64] {
        let buf = &mut buf[..x.len()];
        lse32::widen_slice(x, buf);
        buf
    }
    fn as_f64_slice(_: &[f32]) -> Option<&[f64]> {
        None
    }
    fn mul_transposed(
        lhs: &[f32],
        rhs: &[f32],
        k: usize,
        out: &mut [f32],
        rows: usize,
        cols: usize,
    ) {
        gemm::mul_transposed(lhs, rhs, k, out, rows, cols)
    }
    fn sum_exp_points(
        x: &[f32],
        y: Columns<'_, f32>,
        h: (&[f32], &[f32]),
        gamma: f32,
        shift: f64,
    ) -> f64 {
        lse32::sum_exp_points(x, y, h, gamma, shift)
    }
    fn sq_distances(x: &[f32], y: Columns<'_, f32>, out: &mut [f32]) {
        lse32::sq_distances_row(x, y, out)
    }
    fn max_points(x: &[f32], y: Columns<'_, f32>, h: &[f32], gamma: f32) -> f32 {
        lse32::max_points(x, y, h, gamma)
    }
}

#[cfg(test)]
mod tests {
    use super::Kernels;

    #[test]
    fn windows_are_what_their_docs_say() {
        assert_eq!(<f64 as Kernels>::WINDOW.0, 2f64.powi(-180));
        assert_eq!(<f64 as Kernels>::WINDOW.1, 2f64.powi(180));
        assert!((<f32 as Kernels>::WINDOW.0 / (-20f64).exp() - 1.0).abs() < 1e-12);
        assert!((<f32 as Kernels>::WINDOW.1 / 40f64.exp() - 1.0).abs() < 1e-12);
        // Every chunk sum of an accepted total is below the accumulator's largest term.
        assert!(<f64 as Kernels>::WINDOW.1 < super::super::exact::MAX_TERM);
        assert!(<f32 as Kernels>::WINDOW.1 < super::super::exact::MAX_TERM);
    }
}
