//! Exact, order-independent sums of non-negative `f64` values: a 512-bit fixed-point
//! accumulator (a "superaccumulator", Kulisch 1981; as in the reproducible reductions of
//! Demmel & Nguyen 2015).
//!
//! Every sweep of the engine reduces an output as `Σ_chunks s_c`, where each chunk sum `s_c`
//! is computed by a SIMD kernel over a fixed, globally aligned block of the reduced axis
//! (`CHUNK` entries) and then added *exactly* here. Integer addition is associative and
//! commutative, so the result does not depend on how the chunks are grouped: by threads, by
//! the blocks of a sharded geometry, by the ranks of a distributed solve. The one rounding is
//! the final conversion back to `f64` (to nearest, ties to even).
//!
//! The format is `N · 2^−FRAC` with `N < 2^512` and `FRAC = 280`: values below
//! 2^−280 are truncated (deterministically) and terms of [`MAX_TERM`] or more set an overflow
//! flag. Callers only accept totals in a window far inside that range (see
//! `crate::kernels::sweep`), where the result equals the correctly rounded sum of the chunk
//! sums to within one unit in the last place.

/// 64-bit limbs of the accumulator.
const LIMBS: usize = 8;
/// Bits after the binary point.
const FRAC: i32 = 280;
/// Terms at or above this (2^200) overflow the accumulator's headroom for 2^31 terms.
pub(crate) const MAX_TERM: f64 = f64::from_bits((1023 + 200) << 52);

const NAN: u8 = 1;
const OVERFLOW: u8 = 2;

/// An exact sum of non-negative `f64` values (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExactSum {
    limbs: [u64; LIMBS],
    flags: u8,
}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum::ZERO
    }
}

impl ExactSum {
    /// The empty sum.
    pub const ZERO: ExactSum = ExactSum {
        limbs: [0; LIMBS],
        flags: 0,
    };

    /// Adds `x ≥ 0` exactly (to 2^−280). A NaN or negative `x` makes the sum NaN; `+∞` or a
    /// term of at least 2^200 makes it `+∞`.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x == 0.0 {
            return;
        }
        if x.is_nan() || x < 0.0 {
            self.flags |= NAN;
            return;
        }
        if x >= MAX_TERM {
            self.flags |= OVERFLOW;
            return;
        }
        let bits = x.to_bits();
        let biased = (bits >> 52) as i32;
        let fraction = bits & ((1 << 52) - 1);
        let (mut mantissa, exp2) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), biased - 1075)
        };
        let mut position = exp2 + FRAC;
        if position < 0 {
            if position <= -64 {
                return;
            }
            mantissa >>= -position;
            position = 0;
        }
        let (limb, offset) = ((position / 64) as usize, (position % 64) as u32);
        let low = mantissa << offset;
        let high = if offset == 0 {
            0
        } else {
            mantissa >> (64 - offset)
        };
        self.add_at(limb, low, high);
    }

    /// Adds `low + high·2^64` at limb `limb`, propagating the carry.
    #[inline]
    fn add_at(&mut self, limb: usize, low: u64, high: u64) {
        let (sum, c0) = self.limbs[limb].overflowing_add(low);
        self.limbs[limb] = sum;
        let mut carry = high + c0 as u64;
        let mut k = limb + 1;
        while carry != 0 {
            if k == LIMBS {
                self.flags |= OVERFLOW;
                return;
            }
            let (sum, c) = self.limbs[k].overflowing_add(carry);
            self.limbs[k] = sum;
            carry = c as u64;
            k += 1;
        }
    }

    /// Adds another exact sum (exactly).
    #[inline]
    pub fn merge(&mut self, other: &ExactSum) {
        self.flags |= other.flags;
        let mut carry = false;
        for (a, &b) in self.limbs.iter_mut().zip(&other.limbs) {
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *a = s2;
            carry = c1 || c2;
        }
        if carry {
            self.flags |= OVERFLOW;
        }
    }

    /// The sum rounded to the nearest `f64` (ties to even): NaN if a term was NaN or
    /// negative, `+∞` on overflow.
    pub fn value(&self) -> f64 {
        if self.flags & NAN != 0 {
            return f64::NAN;
        }
        if self.flags & OVERFLOW != 0 {
            return f64::INFINITY;
        }
        let Some(top) = self.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        if top == 0 {
            return self.limbs[0] as f64 * pow2(-FRAC);
        }
        // The top 128 bits, with every lower bit folded into a sticky last bit, round once
        // to 53 bits exactly as the whole number would.
        let sticky = self.limbs[..top - 1].iter().any(|&l| l != 0);
        let window =
            ((self.limbs[top] as u128) << 64) | self.limbs[top - 1] as u128 | sticky as u128;
        (window as f64) * pow2(64 * (top as i32 - 1) - FRAC)
    }

    /// Whether a NaN, a negative or an overflowing term was added.
    pub fn is_finite(&self) -> bool {
        self.flags == 0
    }

    /// The accumulator as bytes (little-endian limbs, then the flags), for sending it to
    /// another process; [`from_bytes`](Self::from_bytes) reads it back.
    pub fn to_bytes(&self) -> [u8; 8 * LIMBS + 1] {
        let mut out = [0u8; 8 * LIMBS + 1];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(&self.limbs) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out[8 * LIMBS] = self.flags;
        out
    }

    /// The accumulator written by [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: &[u8; 8 * LIMBS + 1]) -> ExactSum {
        let mut limbs = [0u64; LIMBS];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
            *limb = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        ExactSum {
            limbs,
            flags: bytes[8 * LIMBS] & (NAN | OVERFLOW),
        }
    }
}

/// `2^k` for `−1022 ≤ k ≤ 1023`, exactly.
#[inline]
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u64, spread: f64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                (spread * (u - 0.5)).exp()
            })
            .collect()
    }

    /// The sum in double-double arithmetic (Knuth's TwoSum), accurate to ~2^−100 relative.
    fn reference(xs: &[f64]) -> f64 {
        let (mut hi, mut lo) = (0.0f64, 0.0f64);
        for &x in xs {
            let s = hi + x;
            let bb = s - hi;
            let err = (hi - (s - bb)) + (x - bb);
            hi = s;
            lo += err;
        }
        hi + lo
    }

    #[test]
    fn sums_are_correctly_rounded_and_independent_of_grouping() {
        for (seed, spread) in [(1, 1.0), (2, 60.0), (3, 250.0)] {
            let xs = values(5000, seed, spread);
            let mut whole = ExactSum::ZERO;
            xs.iter().for_each(|&x| whole.add(x));
            let want = reference(&xs);
            assert!(
                (whole.value() - want).abs() <= f64::EPSILON * want,
                "{} vs {want}",
                whole.value()
            );
            // Any grouping, any order: the same bits.
            for split in [1, 7, 1000, 4999] {
                let (mut left, mut right) = (ExactSum::ZERO, ExactSum::ZERO);
                xs[..split].iter().rev().for_each(|&x| left.add(x));
                xs[split..].iter().for_each(|&x| right.add(x));
                right.merge(&left);
                assert_eq!(right, whole);
                assert_eq!(right.value().to_bits(), whole.value().to_bits());
            }
        }
    }

    #[test]
    fn rounding_is_to_nearest_even_with_sticky_bits() {
        // 1 + 2^−53 is a tie (rounds to 1); adding 2^−200 breaks it upwards.
        let mut s = ExactSum::ZERO;
        s.add(1.0);
        s.add(f64::EPSILON / 2.0);
        assert_eq!(s.value(), 1.0);
        s.add(2f64.powi(-200));
        assert_eq!(s.value(), 1.0 + f64::EPSILON);
        // Small values, subnormals and truncation below 2^−280.
        let mut t = ExactSum::ZERO;
        t.add(3.0 * 2f64.powi(-270));
        assert_eq!(t.value(), 3.0 * 2f64.powi(-270));
        t.add(f64::from_bits(1));
        assert_eq!(t.value(), 3.0 * 2f64.powi(-270));
        assert_eq!(ExactSum::ZERO.value(), 0.0);
    }

    #[test]
    fn nan_negative_and_overflow_are_flagged() {
        let mut s = ExactSum::ZERO;
        s.add(1.0);
        s.add(f64::NAN);
        assert!(s.value().is_nan() && !s.is_finite());
        let mut s = ExactSum::ZERO;
        s.add(-1.0);
        assert!(s.value().is_nan());
        let mut s = ExactSum::ZERO;
        s.add(f64::INFINITY);
        assert_eq!(s.value(), f64::INFINITY);
        let mut s = ExactSum::ZERO;
        s.add(MAX_TERM / 2.0);
        assert!(s.is_finite());
        s.add(MAX_TERM);
        assert_eq!(s.value(), f64::INFINITY);
        // Flags survive a merge and a round trip through bytes.
        let mut a = ExactSum::ZERO;
        a.add(2.5);
        a.merge(&s);
        assert_eq!(a.value(), f64::INFINITY);
        let mut b = ExactSum::ZERO;
        b.add(2.5);
        b.add(1e-30);
        assert_eq!(ExactSum::from_bytes(&b.to_bytes()), b);
        assert_eq!(ExactSum::from_bytes(&a.to_bytes()), a);
    }
}
