//! The Schrödinger bridge between Gaussians in closed form (ALGORITHMS.md G3; Bunne, Hsieh,
//! Cuturi & Krause 2023, *The Schrödinger bridge between Gaussian measures has a closed form*).

use ndarray::{Array1, Array2};

use super::{EntropicGaussianOutput, Gaussian, entropic_gaussian_ot};
use crate::error::{Error, Result};

/// The Schrödinger bridge from `N(m0, Σ0)` to `N(m1, Σ1)` for the Brownian reference
/// `dX_t = σ dW_t` on `[0, 1]`.
///
/// The reference's transition over `[0, 1]` is `N(x, σ² I)`, so the static bridge (the law of
/// `(X_0, X_1)`) minimizes `KL(π ‖ R_01)`, i.e. `∫‖x − y‖² dπ + 2σ² KL(π ‖ α ⊗ β)` up to a
/// constant: the entropic plan of [`entropic_gaussian_ot`] with `ε = 2σ²`. Given its
/// endpoints the bridge is a Brownian bridge, so
/// `X_t = (1 − t) X_0 + t X_1 + σ √(t(1 − t)) Z` and the marginal at `t` is Gaussian with
///
/// - mean `(1 − t) m0 + t m1`,
/// - covariance `(1 − t)² Σ0 + t² Σ1 + t(1 − t)(C + Cᵀ + σ² I)`,
///
/// `C` the plan's cross-covariance (Bunne et al.'s `C_σ`). As `σ → 0` this is McCann's
/// interpolation `((1 − t) I + t M) Σ0 ((1 − t) I + t M)` along the Monge map `M`.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::gaussian::{Gaussian, GaussianBridge};
///
/// let p = Gaussian::new(array![0.0].view(), array![[1.0]].view())?;
/// let q = Gaussian::new(array![4.0].view(), array![[1.0]].view())?;
/// let bridge = GaussianBridge::new(&p, &q, 0.5)?;
/// let (mean, cov) = bridge.marginal(1.0)?;
/// assert!((mean[0] - 4.0).abs() < 1e-12 && (cov[[0, 0]] - 1.0).abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GaussianBridge {
    sigma: f64,
    plan: EntropicGaussianOutput,
    m0: Array1<f64>,
    m1: Array1<f64>,
    cov0: Array2<f64>,
    cov1: Array2<f64>,
}

impl GaussianBridge {
    /// The bridge from `source` to `target` with noise level `sigma` (the reference is
    /// `σ W_t`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `sigma` is finite and `> 0` (σ = 0 is the
    /// displacement interpolation of the Monge map); [`Error::Shape`] when the dimensions
    /// differ.
    pub fn new(source: &Gaussian, target: &Gaussian, sigma: f64) -> Result<Self> {
        crate::validate::positive("sigma", sigma)?;
        let epsilon = 2.0 * sigma * sigma;
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(Error::invalid(
                "sigma",
                "2σ² must be a finite positive number",
                sigma,
            ));
        }
        let plan = entropic_gaussian_ot(source, target, epsilon)?;
        Ok(GaussianBridge {
            sigma,
            plan,
            m0: source.mean().to_owned(),
            m1: target.mean().to_owned(),
            cov0: source.cov().to_owned(),
            cov1: target.cov().to_owned(),
        })
    }

    /// The noise level σ.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The static bridge: the entropic plan with `ε = 2σ²`.
    pub fn plan(&self) -> &EntropicGaussianOutput {
        &self.plan
    }

    /// Mean and covariance of the bridge at time `t ∈ [0, 1]`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `t` outside `[0, 1]` or NaN.
    pub fn marginal(&self, t: f64) -> Result<(Array1<f64>, Array2<f64>)> {
        if !(0.0..=1.0).contains(&t) {
            return Err(Error::invalid("t", "must lie in [0, 1]", t));
        }
        let s = 1.0 - t;
        let mean = s * &self.m0 + t * &self.m1;
        let c = self.plan.cross_covariance();
        let d = self.m0.len();
        let noise = self.sigma * self.sigma;
        let cov = Array2::from_shape_fn((d, d), |(i, j)| {
            let cross = c[[i, j]] + c[[j, i]] + if i == j { noise } else { 0.0 };
            s * s * self.cov0[[i, j]] + t * t * self.cov1[[i, j]] + s * t * cross
        });
        Ok((mean, cov))
    }
}
