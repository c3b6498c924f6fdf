//! Ground costs `c(x, y)` between points of ℝᵈ.
//!
//! A [`CostFn`] evaluates one pair, optionally its gradient in `x` (for the envelope-theorem
//! gradients of ALGORITHMS.md X1) and, when the cost is an inner product of features, the
//! factors `C = A·Bᵀ` that let [`PointCloud`](super::PointCloud) compute tiles with a GEMM.

use std::fmt;

use ndarray::{Array2, ArrayView2, Axis as NdAxis};

use crate::error::{Error, Result};

/// A ground cost between two points of the same dimension.
pub trait CostFn: Send + Sync + fmt::Debug + Clone {
    /// `c(x, y)`.
    fn cost(&self, x: &[f64], y: &[f64]) -> f64;

    /// Adds `w·∇ₓc(x, y)` to `out`; returns `false` (leaving `out` untouched) when the cost
    /// has no gradient.
    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        let _ = (x, y, w, out);
        false
    }

    /// Adds `w·∇_y c(x, y)` to `out`. The default assumes a symmetric cost, `c(x, y) = c(y, x)`.
    fn add_grad_y(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        self.add_grad_x(y, x, w, out)
    }

    /// Feature maps `A` (`n × k`) and `B` (`m × k`) with `C = A·Bᵀ`, when the cost has such a
    /// factorization; `None` otherwise.
    fn factors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Option<(Array2<f64>, Array2<f64>)> {
        let _ = (x, y);
        None
    }

    /// Whether the cost is `‖x − y‖²`: point clouds in few dimensions then compute it from the
    /// coordinates inside the sweeps' loops instead of writing tiles of costs.
    fn is_squared_euclidean(&self) -> bool {
        false
    }

    /// Checks that the points are in the domain of the cost.
    fn check_points(&self, arg: &'static str, points: ArrayView2<'_, f64>) -> Result<()> {
        let _ = (arg, points);
        Ok(())
    }
}

/// Squared Euclidean cost `c(x, y) = ‖x − y‖²`.
///
/// Tiles are computed as `‖x‖² + ‖y‖² − 2⟨x, y⟩` by one GEMM on the rank-(d+2) factors
/// `[‖x‖², 1, −2x]·[1, ‖y‖², y]ᵀ`, after centering both clouds at their joint mean
/// (the cost is translation invariant, and centering keeps the cancellation error small).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SqEuclidean;

impl CostFn for SqEuclidean {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum()
    }

    fn is_squared_euclidean(&self) -> bool {
        true
    }

    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
            *o += 2.0 * w * (a - b);
        }
        true
    }

    fn factors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Option<(Array2<f64>, Array2<f64>)> {
        let d = x.ncols();
        let total = (x.nrows() + y.nrows()) as f64;
        let center = (x.sum_axis(NdAxis(0)) + y.sum_axis(NdAxis(0))) / total;
        let mut a = Array2::zeros((x.nrows(), d + 2));
        let mut b = Array2::zeros((y.nrows(), d + 2));
        for (xi, mut ai) in x.outer_iter().zip(a.outer_iter_mut()) {
            let xc = &xi - &center;
            ai[0] = xc.dot(&xc);
            ai[1] = 1.0;
            for k in 0..d {
                ai[k + 2] = -2.0 * xc[k];
            }
        }
        for (yj, mut bj) in y.outer_iter().zip(b.outer_iter_mut()) {
            let yc = &yj - &center;
            bj[0] = 1.0;
            bj[1] = yc.dot(&yc);
            for k in 0..d {
                bj[k + 2] = yc[k];
            }
        }
        Some((a, b))
    }
}

/// Euclidean cost `c(x, y) = ‖x − y‖` (computed directly, not from the squared form, to keep
/// full relative precision near zero).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Euclidean;

impl CostFn for Euclidean {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        SqEuclidean.cost(x, y).sqrt()
    }

    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        let dist = self.cost(x, y);
        // At x = y the cost is not differentiable; 0 is the minimal-norm subgradient.
        if dist > 0.0 {
            for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
                *o += w * (a - b) / dist;
            }
        }
        true
    }
}

/// The bilinear cost `c(a, b) = ⟨a, b⟩` between feature vectors: a cost given by its
/// factors, `C = A·Bᵀ` (the `LowRankCost` geometry of low-rank OT, Scetbon, Cuturi, Peyré
/// 2021). Its factorization is the points themselves, so every sweep is a tile GEMM and
/// `C·V` costs `O((n + m)·k·r)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bilinear;

impl CostFn for Bilinear {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    fn add_grad_x(&self, _x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        for (o, b) in out.iter_mut().zip(y) {
            *o += w * b;
        }
        true
    }

    fn add_grad_y(&self, x: &[f64], _y: &[f64], w: f64, out: &mut [f64]) -> bool {
        for (o, a) in out.iter_mut().zip(x) {
            *o += w * a;
        }
        true
    }

    fn factors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Option<(Array2<f64>, Array2<f64>)> {
        Some((
            x.as_standard_layout().into_owned(),
            y.as_standard_layout().into_owned(),
        ))
    }
}

/// `ℓ_p` cost to the power p: `c(x, y) = Σ_k |x_k − y_k|^p`, for `p ≥ 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lp {
    p: f64,
}

impl Lp {
    /// The cost `Σ_k |x_k − y_k|^p`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `p` is finite and `≥ 1`.
    pub fn new(p: f64) -> Result<Self> {
        if p.is_finite() && p >= 1.0 {
            Ok(Lp { p })
        } else {
            Err(Error::invalid(
                "p",
                "the exponent of an Lp cost must be finite and >= 1",
                p,
            ))
        }
    }

    /// The exponent p.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl CostFn for Lp {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - b).abs().powf(self.p))
            .sum()
    }

    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
            let diff = a - b;
            if diff != 0.0 {
                *o += w * self.p * diff.abs().powf(self.p - 1.0) * diff.signum();
            }
        }
        true
    }
}

/// Cosine dissimilarity `c(x, y) = 1 − ⟨x, y⟩ / (‖x‖·‖y‖)`, in `[0, 2]`; points must be
/// non-zero. Tiles come from one GEMM on the normalized points.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cosine;

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

impl CostFn for Cosine {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        let dot: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
        1.0 - dot / (norm(x) * norm(y))
    }

    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        let (nx, ny) = (norm(x), norm(y));
        let dot: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
        for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
            *o -= w * (b / (nx * ny) - dot * a / (nx * nx * nx * ny));
        }
        true
    }

    fn factors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Option<(Array2<f64>, Array2<f64>)> {
        let features = |p: ArrayView2<'_, f64>, sign: f64| {
            let mut f = Array2::zeros((p.nrows(), p.ncols() + 1));
            for (pi, mut fi) in p.outer_iter().zip(f.outer_iter_mut()) {
                let n = pi.dot(&pi).sqrt();
                fi[0] = 1.0;
                for k in 0..p.ncols() {
                    fi[k + 1] = sign * pi[k] / n;
                }
            }
            f
        };
        Some((features(x, -1.0), features(y, 1.0)))
    }

    fn check_points(&self, arg: &'static str, points: ArrayView2<'_, f64>) -> Result<()> {
        for (i, p) in points.outer_iter().enumerate() {
            if p.iter().all(|&v| v == 0.0) {
                return Err(Error::invalid(
                    arg,
                    "the cosine cost needs non-zero points",
                    format!("point {i} = 0"),
                ));
            }
        }
        Ok(())
    }
}

/// A user-supplied cost `c(x, y)` (no gradient, no factorization).
#[derive(Clone)]
pub struct Custom<F> {
    f: F,
}

impl<F: Fn(&[f64], &[f64]) -> f64 + Send + Sync + Clone> Custom<F> {
    /// Wraps a closure `|x, y| c(x, y)`.
    pub fn new(f: F) -> Self {
        Custom { f }
    }
}

impl<F> fmt::Debug for Custom<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Custom(<closure>)")
    }
}

impl<F: Fn(&[f64], &[f64]) -> f64 + Send + Sync + Clone> CostFn for Custom<F> {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        (self.f)(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn check_gradient<C: CostFn>(c: &C, x: &[f64], y: &[f64]) {
        let mut grad = vec![0.0; x.len()];
        assert!(c.add_grad_x(x, y, 1.0, &mut grad));
        for k in 0..x.len() {
            let h = 1e-6;
            let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
            xp[k] += h;
            xm[k] -= h;
            let fd = (c.cost(&xp, y) - c.cost(&xm, y)) / (2.0 * h);
            assert!(
                (fd - grad[k]).abs() < 1e-6 * (1.0 + fd.abs()),
                "{c:?} d{k}: {fd} vs {}",
                grad[k]
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (x, y) = ([0.3, -1.2, 2.0], [1.1, 0.4, -0.5]);
        check_gradient(&SqEuclidean, &x, &y);
        check_gradient(&Euclidean, &x, &y);
        check_gradient(&Lp::new(1.5).unwrap(), &x, &y);
        check_gradient(&Lp::new(3.0).unwrap(), &x, &y);
        check_gradient(&Cosine, &x, &y);
    }

    fn check_factors<C: CostFn>(c: &C) {
        let x = array![[0.0, 1.0], [2.0, -1.0], [100.0, 3.0]];
        let y = array![[1.0, 1.0], [-3.0, 0.5]];
        let (a, b) = c.factors(x.view(), y.view()).unwrap();
        let prod = a.dot(&b.t());
        for i in 0..3 {
            for j in 0..2 {
                let want = c.cost(x.row(i).as_slice().unwrap(), y.row(j).as_slice().unwrap());
                assert!(
                    (prod[[i, j]] - want).abs() < 1e-10 * (1.0 + want),
                    "{c:?} [{i},{j}]"
                );
            }
        }
    }

    #[test]
    fn factors_reproduce_the_cost() {
        check_factors(&SqEuclidean);
        check_factors(&Cosine);
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Lp::new(0.5).is_err());
        assert!(Lp::new(f64::NAN).is_err());
        let err = Cosine
            .check_points("x", array![[1.0, 0.0], [0.0, 0.0]].view())
            .unwrap_err();
        assert_eq!(err.argument(), Some("x"));
        assert!(err.to_string().contains("point 1"), "{err}");
    }

    #[test]
    fn custom_costs_have_no_gradient() {
        let c = Custom::new(|x: &[f64], y: &[f64]| (x[0] - y[0]).abs());
        assert_eq!(c.cost(&[1.0], &[3.0]), 2.0);
        assert!(!c.add_grad_x(&[1.0], &[3.0], 1.0, &mut [0.0]));
    }
}
