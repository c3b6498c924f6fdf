//! `min_j (c_j + p_j)` with its position (the pricing step of simplex-type solvers) and
//! `max_j |x_j|` with its position (the pivot search of cross approximation), run over a
//! contiguous segment with lane-wise extrema (vectorized inside a `pulp` dispatch).

use pulp::{Simd, WithSimd};

use super::lse::dispatch;

const LANES: usize = 8;

/// The minimum of `c_j + p_j` over `j < c.len()` and the first index attaining it;
/// `(+∞, usize::MAX)` for an empty slice. NaN entries are never selected.
pub(crate) fn min_plus(c: &[f64], p: &[f64]) -> (f64, usize) {
    dispatch(MinPlus { c, p })
}

struct MinPlus<'a> {
    c: &'a [f64],
    p: &'a [f64],
}

impl WithSimd for MinPlus<'_> {
    type Output = (f64, usize);

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (f64, usize) {
        let n = self.c.len().min(self.p.len());
        let (c, p) = (&self.c[..n], &self.p[..n]);
        let split = n - n % LANES;
        let mut best = [f64::INFINITY; LANES];
        let mut at = [usize::MAX; LANES];
        for (chunk, (cs, ps)) in c[..split]
            .chunks_exact(LANES)
            .zip(p[..split].chunks_exact(LANES))
            .enumerate()
        {
            for l in 0..LANES {
                let v = cs[l] + ps[l];
                if v < best[l] {
                    best[l] = v;
                    at[l] = chunk * LANES + l;
                }
            }
        }
        // Lane minima, then the smallest index among equal minima (first occurrence).
        let (mut min, mut index) = (f64::INFINITY, usize::MAX);
        for l in 0..LANES {
            if best[l] < min || (best[l] == min && at[l] < index) {
                min = best[l];
                index = at[l];
            }
        }
        for j in split..n {
            let v = c[j] + p[j];
            if v < min {
                min = v;
                index = j;
            }
        }
        (min, index)
    }
}

/// The largest `|x_j|` and the first index attaining it, skipping NaN and, when
/// `finite_only`, infinite entries; `(0, usize::MAX)` when no entry is larger than 0.
pub(crate) fn max_abs(x: &[f64], finite_only: bool) -> (f64, usize) {
    dispatch(MaxAbs { x, finite_only })
}

struct MaxAbs<'a> {
    x: &'a [f64],
    finite_only: bool,
}

impl WithSimd for MaxAbs<'_> {
    type Output = (f64, usize);

    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) -> (f64, usize) {
        // Above this, an entry is skipped: +∞ when only finite entries count.
        let cap = if self.finite_only {
            f64::MAX
        } else {
            f64::INFINITY
        };
        let x = self.x;
        let split = x.len() - x.len() % LANES;
        let mut best = [0.0f64; LANES];
        let mut at = [usize::MAX; LANES];
        for (chunk, xs) in x[..split].chunks_exact(LANES).enumerate() {
            for l in 0..LANES {
                let v = xs[l].abs();
                if v > best[l] && v <= cap {
                    best[l] = v;
                    at[l] = chunk * LANES + l;
                }
            }
        }
        let (mut max, mut index) = (0.0f64, usize::MAX);
        for l in 0..LANES {
            if best[l] > max || (best[l] == max && at[l] < index) {
                max = best[l];
                index = at[l];
            }
        }
        for (j, &v) in x.iter().enumerate().skip(split) {
            let v = v.abs();
            if v > max && v <= cap {
                max = v;
                index = j;
            }
        }
        (max, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_minimum() {
        for n in [0, 1, 7, 8, 9, 33, 100] {
            let c: Vec<f64> = (0..n).map(|j| ((j * 37) % 11) as f64).collect();
            let p: Vec<f64> = (0..n).map(|j| -(((j * 13) % 5) as f64)).collect();
            let mut want = (f64::INFINITY, usize::MAX);
            for j in 0..n {
                if c[j] + p[j] < want.0 {
                    want = (c[j] + p[j], j);
                }
            }
            assert_eq!(min_plus(&c, &p), want, "n = {n}");
        }
        let c = [3.0, f64::INFINITY, 1.0, 1.0, f64::NAN, 1.0, 0.5, 9.0, 0.5];
        assert_eq!(min_plus(&c, &[0.0; 9]), (0.5, 6));
    }

    #[test]
    fn finds_the_first_largest_magnitude() {
        for n in [0, 1, 7, 8, 9, 33, 100] {
            let x: Vec<f64> = (0..n).map(|j| ((j * 37) % 11) as f64 - 5.0).collect();
            let mut want = (0.0, usize::MAX);
            for (j, v) in x.iter().enumerate() {
                if v.abs() > want.0 {
                    want = (v.abs(), j);
                }
            }
            assert_eq!(max_abs(&x, false), want, "n = {n}");
            assert_eq!(max_abs(&x, true), want, "n = {n}");
        }
        let inf = f64::INFINITY;
        let x = [1.0, -inf, f64::NAN, -3.0, 0.0, 2.0, 3.0, 0.5, -3.0, inf];
        assert_eq!(max_abs(&x, true), (3.0, 3));
        assert_eq!(max_abs(&x, false), (inf, 1));
        assert_eq!(max_abs(&[0.0, -0.0, f64::NAN], false), (0.0, usize::MAX));
    }
}
