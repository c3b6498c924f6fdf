//! Branch-free `exp` for f64 lanes.
//!
//! exp(x) = 2ᵏ · exp(r), k = round(x / ln 2), r = x − k·ln 2 (Cody–Waite split, |r| ≤ ln2/2),
//! exp(r) by its Taylor polynomial of degree 12 (relative error ≤ 4e-16 on the range), and 2ᵏ
//! added to the exponent bits. Written without branches so that LLVM vectorizes the loops
//! that call it inside a `pulp` dispatch (AVX-512 / AVX2+FMA chosen at run time).

const LOG2_E: f64 = std::f64::consts::LOG2_E;
// ln 2 split in a high part with trailing zero bits (k·LN2_HI is exact) and the rest.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
// 1.5·2⁵²: adding it rounds to an integer and leaves that integer in the low mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// Below this, exp underflows to (sub)normal numbers; the kernels return exactly 0 there.
pub(crate) const UNDERFLOW: f64 = -708.39;
/// Where the shifted kernels clamp their arguments: e^700 ≈ 1e304 is finite, and a sum that
/// large is rejected as "badly shifted" (see `super::lse::shifted_lse`).
pub(crate) const CLAMP: f64 = 700.0;
/// Above this, exp overflows.
const OVERFLOW: f64 = 709.78;

/// 1/k!, the Taylor coefficients of exp (the table-driven AVX-512 exp uses the first 8).
pub(crate) const INV_FACT: [f64; 13] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
];

/// `exp(x)` for `x ≤ 0` (the log-sum-exp case, after the max shift). Returns exactly 0 below
/// [`UNDERFLOW`] and for `−∞`; NaN stays NaN.
#[inline(always)]
pub(crate) fn exp_nonpositive(x: f64) -> f64 {
    let t = x.mul_add(LOG2_E, ROUND);
    let k = t - ROUND;
    let r = k.mul_add(-LN2_HI, x);
    let r = k.mul_add(-LN2_LO, r);
    let mut p = INV_FACT[12];
    p = p.mul_add(r, INV_FACT[11]);
    p = p.mul_add(r, INV_FACT[10]);
    p = p.mul_add(r, INV_FACT[9]);
    p = p.mul_add(r, INV_FACT[8]);
    p = p.mul_add(r, INV_FACT[7]);
    p = p.mul_add(r, INV_FACT[6]);
    p = p.mul_add(r, INV_FACT[5]);
    p = p.mul_add(r, INV_FACT[4]);
    p = p.mul_add(r, INV_FACT[3]);
    p = p.mul_add(r, INV_FACT[2]);
    p = p.mul_add(r, INV_FACT[1]);
    p = p.mul_add(r, INV_FACT[0]);
    // Integer k sits in the low bits of t; shifting it to the exponent field multiplies by 2ᵏ.
    let scaled = f64::from_bits(p.to_bits().wrapping_add(t.to_bits() << 52));
    if x < UNDERFLOW { 0.0 } else { scaled }
}

/// `exp(x)` for any `x`: exactly 0 below [`UNDERFLOW`], `+∞` above the overflow threshold.
#[inline(always)]
pub(crate) fn exp(x: f64) -> f64 {
    // `f64::min` would turn NaN into the threshold; a comparison keeps NaN.
    let y = exp_nonpositive(if x > OVERFLOW { OVERFLOW } else { x });
    if x > OVERFLOW { f64::INFINITY } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_exp_to_a_few_ulps() {
        let mut worst = 0.0f64;
        let mut x: f64 = -708.0;
        while x < 709.0 {
            let (want, got) = (x.exp(), exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 5e-16, "max relative error {worst:e}");
    }

    #[test]
    fn the_split_of_ln2_is_exact_enough() {
        // LN2_HI has 21 trailing zero bits, so k·LN2_HI is exact for |k| < 2²¹ (|k| ≤ 1075 here).
        assert_eq!(LN2_HI.to_bits() & 0x1F_FFFF, 0);
        assert_eq!(LN2_HI + LN2_LO, std::f64::consts::LN_2);
    }

    #[test]
    fn special_values() {
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-709.0), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
        assert_eq!(exp(800.0), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert!(exp(709.0).is_finite());
        assert!(exp(f64::NAN).is_nan());
        assert!((exp(1.0) - std::f64::consts::E).abs() < 1e-15);
    }
}
