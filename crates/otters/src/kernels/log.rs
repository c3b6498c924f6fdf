//! Branch-free natural logarithm for f64 lanes, for the `ln Σ` that ends every kernel-domain
//! softmin (one per output entry).
//!
//! x = 2ᵏ·m with m ∈ [√½, √2) (read from the exponent bits), f = m − 1, s = f/(2 + f), and
//! ln m = 2·atanh s = f − (f²/2 − s·(f²/2 + R)), R = Σ_{i≥1} 2 s²ⁱ/(2i + 1) (the split of
//! fdlibm's `log`, with the atanh series to s²⁰: |s| ≤ 0.1716, so the first omitted term is
//! about 4e-18 of the result). Then ln x = k·ln2_hi + (k·ln2_lo + ln m). Written without
//! branches so that LLVM vectorizes it inside a `pulp` dispatch, as [`super::exp`].

use pulp::{Simd, WithSimd};

use super::lse::dispatch;

// ln 2 split in a high part with trailing zero bits (k·LN2_HI is exact) and the rest.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// The bits of the double nearest √½: subtracting them puts m in [√½, √2).
const SQRT_HALF_BITS: u64 = 0x3FE6_A09E_667F_3BCD;
/// `2/(2i + 1)`, i = 1..=10: the atanh series in s².
const SERIES: [f64; 10] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
];

/// `ln x` for a positive, normal, finite `x` (within 2 ulp of the correctly rounded value).
/// Other inputs give an unspecified finite or NaN value (callers filter them first).
#[inline(always)]
pub(crate) fn ln_positive(x: f64) -> f64 {
    let offset = x.to_bits().wrapping_sub(SQRT_HALF_BITS);
    // Arithmetic shift: the (signed) power of two.
    let k = (offset as i64) >> 52;
    let m = f64::from_bits(x.to_bits().wrapping_sub((k as u64) << 52));
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut r = SERIES[9];
    for &c in SERIES[..9].iter().rev() {
        r = r.mul_add(z, c);
    }
    let r = r * z;
    let hfsq = 0.5 * f * f;
    let k = k as f64;
    let ln_m = f - (hfsq - s * (hfsq + r));
    k.mul_add(LN2_HI, k.mul_add(LN2_LO, ln_m))
}

/// `out_j = ln x_j` by [`ln_positive`] (same domain).
pub(crate) fn ln_slice(x: &[f64], out: &mut [f64]) {
    dispatch(LnSlice { x, out })
}

struct LnSlice<'a> {
    x: &'a [f64],
    out: &'a mut [f64],
}

impl WithSimd for LnSlice<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        for (o, &v) in self.out.iter_mut().zip(self.x) {
            *o = ln_positive(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(got: f64, want: f64) -> f64 {
        let ulp = f64::from_bits(want.abs().to_bits() + 1) - want.abs();
        ((got - want) / ulp).abs()
    }

    #[test]
    fn matches_std_ln_to_two_ulps() {
        let mut worst = 0.0f64;
        // Sweep the whole normal range geometrically, plus a fine sweep around 1 (where ln
        // is small and relative accuracy is hardest) and around the √2 split.
        let mut x = f64::MIN_POSITIVE;
        while x < 1e308 {
            worst = worst.max(ulps(ln_positive(x), x.ln()));
            x *= 1.000_731;
        }
        for i in -20_000..20_000 {
            for centre in [
                1.0,
                std::f64::consts::SQRT_2,
                std::f64::consts::FRAC_1_SQRT_2,
            ] {
                let x = centre * (1.0 + i as f64 * 3.7e-7);
                if x != 1.0 {
                    worst = worst.max(ulps(ln_positive(x), x.ln()));
                }
            }
        }
        assert!(worst <= 2.0, "max error {worst} ulp");
    }

    #[test]
    fn exact_points_and_the_slice_kernel() {
        assert_eq!(ln_positive(1.0), 0.0);
        assert_eq!(ln_positive(2.0), std::f64::consts::LN_2);
        let x: Vec<f64> = (1..100).map(|i| i as f64 * 0.37).collect();
        let mut out = vec![0.0; x.len()];
        ln_slice(&x, &mut out);
        for (o, v) in out.iter().zip(&x) {
            assert!(ulps(*o, v.ln()) <= 2.0);
        }
    }
}
