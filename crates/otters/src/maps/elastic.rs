//! Elastic costs `c(x, y) = h(x − y)` with `h = ½‖·‖² + τ` and their entropic map
//! (Cuturi, Klein, Ablin 2023, *Monge, Bregman and Occam*; OTT-JAX's `RegTICost`, e.g.
//! `ElasticL1`), ALGORITHMS.md M3.
//!
//! For a translation-invariant cost the optimal map is `T(x) = x − ∇h*(∇f(x))`; with the
//! entropic potential `f(x) = −ε·log Σ_j b_j exp((g_j − h(x − y_j))/ε)`,
//! `∇f(x) = Σ_j w_j(x)·∇h(x − y_j)` and `∇h* = prox_τ`, so
//! `T(x) = x − prox_τ(Σ_j w_j(x)·∇h(x − y_j))`. With `τ = γ‖·‖₁` the prox is soft
//! thresholding at γ: displacements `T(x) − x` have exact zeros, more of them as γ grows.

use ndarray::{Array2, ArrayView2, Axis as NdAxis};

use crate::error::{Error, Result};
use crate::geometry::{Axis, CostFn, Geometry, LogPlan, PointCloud, SqEuclidean};
use crate::linear::SinkhornOutput;

/// The regularizer τ of an [`Elastic`] cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElasticRegularizer {
    /// `τ(z) = γ·‖z‖₁` (sparse displacements; OTT's `ElasticL1`).
    L1,
    /// `τ(z) = (γ/2)·‖z‖²` (ridge: `h = ((1 + γ)/2)·‖z‖²`, a rescaled squared Euclidean cost).
    SqL2,
}

/// The cost `h(x − y)`, `h(z) = ½‖z‖² + τ(z)` (note the ½: at γ = 0 this is half of
/// [`SqEuclidean`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elastic {
    gamma: f64,
    regularizer: ElasticRegularizer,
}

impl Elastic {
    /// The cost with regularizer `regularizer` of strength `gamma ≥ 0`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `gamma` unless it is finite and `≥ 0`.
    pub fn new(gamma: f64, regularizer: ElasticRegularizer) -> Result<Self> {
        if gamma.is_finite() && gamma >= 0.0 {
            Ok(Elastic { gamma, regularizer })
        } else {
            Err(Error::invalid("gamma", "must be finite and >= 0", gamma))
        }
    }

    /// `h(z) = ½‖z‖² + γ‖z‖₁`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn l1(gamma: f64) -> Result<Self> {
        Self::new(gamma, ElasticRegularizer::L1)
    }

    /// `h(z) = ½‖z‖² + (γ/2)‖z‖²`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn sq_l2(gamma: f64) -> Result<Self> {
        Self::new(gamma, ElasticRegularizer::SqL2)
    }

    /// The strength γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The regularizer.
    pub fn regularizer(&self) -> ElasticRegularizer {
        self.regularizer
    }

    /// `h(z)`.
    pub fn h(&self, z: &[f64]) -> f64 {
        let sq: f64 = z.iter().map(|v| v * v).sum();
        match self.regularizer {
            ElasticRegularizer::L1 => {
                0.5 * sq + self.gamma * z.iter().map(|v| v.abs()).sum::<f64>()
            }
            ElasticRegularizer::SqL2 => 0.5 * (1.0 + self.gamma) * sq,
        }
    }

    /// `∂h/∂z_k` (the minimal-norm subgradient, 0, where `z_k = 0` for the ℓ1 term).
    #[inline]
    fn h_grad(&self, z: f64) -> f64 {
        match self.regularizer {
            ElasticRegularizer::L1 => {
                z + if z > 0.0 {
                    self.gamma
                } else if z < 0.0 {
                    -self.gamma
                } else {
                    0.0
                }
            }
            ElasticRegularizer::SqL2 => (1.0 + self.gamma) * z,
        }
    }

    /// `∇h*(w) = prox_τ(w)`, in place: soft thresholding `sign(w)·max(|w| − γ, 0)` for ℓ1,
    /// `w / (1 + γ)` for the ridge.
    pub fn prox(&self, w: &mut [f64]) {
        match self.regularizer {
            ElasticRegularizer::L1 => {
                for v in w {
                    *v = v.signum() * (v.abs() - self.gamma).max(0.0);
                }
            }
            ElasticRegularizer::SqL2 => {
                for v in w {
                    *v /= 1.0 + self.gamma;
                }
            }
        }
    }
}

impl CostFn for Elastic {
    #[inline]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        let mut sq = 0.0;
        let mut l1 = 0.0;
        for (a, b) in x.iter().zip(y) {
            let z = a - b;
            sq += z * z;
            l1 += z.abs();
        }
        match self.regularizer {
            ElasticRegularizer::L1 => 0.5 * sq + self.gamma * l1,
            ElasticRegularizer::SqL2 => 0.5 * (1.0 + self.gamma) * sq,
        }
    }

    fn add_grad_x(&self, x: &[f64], y: &[f64], w: f64, out: &mut [f64]) -> bool {
        for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
            *o += w * self.h_grad(a - b);
        }
        true
    }

    fn factors(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
    ) -> Option<(Array2<f64>, Array2<f64>)> {
        match self.regularizer {
            ElasticRegularizer::L1 => None,
            ElasticRegularizer::SqL2 => {
                let (mut a, b) = SqEuclidean.factors(x, y)?;
                a *= 0.5 * (1.0 + self.gamma);
                Some((a, b))
            }
        }
    }
}

/// The entropic map of an elastic cost at new points `x` (`k × d`):
/// `T(x) = x − prox_τ(Σ_j w_j(x)·∇h(x − y_j))`, with
/// `w_j(x) = softmax_j(log b_j + (g_j − c(x, y_j))/ε)` from the Sinkhorn `output` solved on
/// `cloud`. At γ = 0 it is [`SinkhornOutput::entropic_map`], `Σ_j w_j(x)·y_j`.
///
/// # Errors
/// As [`SinkhornOutput::entropic_map`].
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::PointCloud;
/// use otters::linear::{Epsilon, LinearProblem, Sinkhorn};
/// use otters::maps::{Elastic, elastic_map};
///
/// // Two sources and two targets 2 to the right, with opposite vertical offsets.
/// let x = array![[0.0, 0.1], [0.0, -0.1]];
/// let y = array![[2.0, 0.1], [2.0, -0.1]];
/// let new_point = array![[0.0, 0.05]];
/// let solver = Sinkhorn::new(Epsilon::Absolute(0.1));
/// let map = |gamma: f64| -> Result<_, otters::Error> {
///     let geom = PointCloud::new(x.view(), y.view(), Elastic::l1(gamma)?)?;
///     let out = solver.solve(&LinearProblem::uniform(&geom)?)?;
///     elastic_map(&out, &geom, new_point.view())
/// };
/// // γ = 0: the barycentric projection moves the point a little vertically.
/// let t = map(0.0)?;
/// assert!((t[[0, 1]] - 0.05).abs() > 1e-3);
/// // γ = 0.2: the vertical displacement is thresholded to exactly 0; the horizontal one,
/// // the same for both targets, is kept.
/// let t = map(0.2)?;
/// assert_eq!(t[[0, 1]], 0.05);
/// assert!((t[[0, 0]] - 2.0).abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn elastic_map(
    output: &SinkhornOutput,
    cloud: &PointCloud<Elastic>,
    x: ArrayView2<'_, f64>,
) -> Result<Array2<f64>> {
    let (n, m) = cloud.shape();
    if output.f().len() != n || output.g().len() != m {
        return Err(Error::Shape {
            arg: "cloud",
            expected: format!(
                "a {} x {} cost (the solved problem)",
                output.f().len(),
                output.g().len()
            ),
            got: format!("{n} x {m}"),
        });
    }
    let new = cloud.with_source(x)?;
    let eps = output.epsilon();
    let solved = output.log_plan();
    let mut f_new = ndarray::Array1::zeros(x.nrows());
    new.softmin(Axis::Rows, eps, solved.log_col, f_new.view_mut())?;
    let log_row = f_new.mapv(|f| f / eps);
    let plan = LogPlan {
        log_row: log_row.view(),
        log_col: solved.log_col,
        epsilon: eps,
    };
    // Σ_j w_j(x)·∇h(x − y_j): the gradient sums are reported in scaled units.
    let mut displacement = new.plan_weighted_gradient(Axis::Rows, &plan)? * cloud.scale();
    let cost = cloud.cost_fn();
    for mut row in displacement.axis_iter_mut(NdAxis(0)) {
        cost.prox(row.as_slice_mut().expect("standard layout"));
    }
    Ok(&new.x() - &displacement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y) = ([0.3, -1.2, 2.0], [1.1, 0.4, -0.5]);
        for c in [Elastic::l1(0.7).unwrap(), Elastic::sq_l2(0.7).unwrap()] {
            let mut grad = [0.0; 3];
            assert!(c.add_grad_x(&x, &y, 1.0, &mut grad));
            for k in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[k] += 1e-6;
                xm[k] -= 1e-6;
                let fd = (c.cost(&xp, &y) - c.cost(&xm, &y)) / 2e-6;
                assert!(
                    (fd - grad[k]).abs() < 1e-6,
                    "{c:?} {k}: {fd} vs {}",
                    grad[k]
                );
            }
            let z: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
            assert!((c.h(&z) - c.cost(&x, &y)).abs() < 1e-15);
        }
    }

    #[test]
    fn prox_inverts_the_gradient_of_h() {
        // ∇h* = (∇h)⁻¹ away from the kinks: prox(∇h(z)) = z.
        let z = [0.4, -2.0, 1e-3, -0.7];
        for c in [Elastic::l1(0.3).unwrap(), Elastic::sq_l2(0.3).unwrap()] {
            let mut w: Vec<f64> = z.iter().map(|&v| c.h_grad(v)).collect();
            c.prox(&mut w);
            for (a, b) in w.iter().zip(&z) {
                assert!((a - b).abs() < 1e-15);
            }
        }
        let mut w = [0.2, -0.29, 0.31];
        Elastic::l1(0.3).unwrap().prox(&mut w);
        assert_eq!(w[..2], [0.0, 0.0]);
        assert!((w[2] - 0.01).abs() < 1e-15);
    }

    #[test]
    fn ridge_factors_reproduce_the_cost() {
        let x = ndarray::array![[0.0, 1.0], [2.0, -1.0]];
        let y = ndarray::array![[1.0, 1.0], [-3.0, 0.5], [0.2, 0.2]];
        let c = Elastic::sq_l2(0.5).unwrap();
        let (a, b) = c.factors(x.view(), y.view()).unwrap();
        let prod = a.dot(&b.t());
        for i in 0..2 {
            for j in 0..3 {
                let want = c.cost(x.row(i).as_slice().unwrap(), y.row(j).as_slice().unwrap());
                assert!((prod[[i, j]] - want).abs() < 1e-12);
            }
        }
        assert!(
            Elastic::l1(0.5)
                .unwrap()
                .factors(x.view(), y.view())
                .is_none()
        );
    }

    #[test]
    fn invalid_gamma_is_refused() {
        for g in [-0.1, f64::NAN, f64::INFINITY] {
            let err = Elastic::l1(g).unwrap_err();
            assert_eq!(err.argument(), Some("gamma"));
        }
    }
}
