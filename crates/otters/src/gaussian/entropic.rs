//! Entropic OT between Gaussians in closed form (ALGORITHMS.md G2; Janati, Muzellec, Peyré &
//! Cuturi 2020, *Entropic optimal transport between unbalanced Gaussian measures has a closed
//! form*, Thm 1; Mallasto, Gerolin & Minh 2021).

use ndarray::{Array1, Array2};

use super::{Gaussian, cross_eigen};
use crate::error::{Error, Result};

/// Entropic OT between `N(m1, A)` and `N(m2, B)` for the cost `‖x − y‖²`, in the convention
/// of otters' Sinkhorn: `OT_ε = min_π ∫‖x − y‖² dπ + ε KL(π ‖ α ⊗ β)` (the value
/// `SinkhornOutput::reg_ot_cost` estimates from samples).
///
/// With `σ² = ε/2`, `λ_k` the eigenvalues of `M = A^½ B A^½` and `s_k = (4λ_k + σ⁴)^½`
/// (the eigenvalues of Janati et al.'s `D_σ = (4 A^½ B A^½ + σ⁴ I)^½`):
///
/// `OT_ε = ‖m1 − m2‖² + tr A + tr B + Σ_k [σ² − s_k + σ² log((s_k + σ²)/(2σ²))]`.
///
/// The optimal plan is the Gaussian on `ℝ^d × ℝ^d` with mean `(m1, m2)` and covariance
/// `[[A, C], [Cᵀ, B]]`, `C = 2 A^½ (D_σ + σ² I)^{−1} A^½ B` (equal to Janati et al.'s
/// `½ A^½ D_σ A^{−½} − ½ σ² I` when `A` is invertible, but free of inverses, so singular
/// covariances are fine).
///
/// # Errors
/// [`Error::InvalidParameter`] unless `epsilon` is finite and `> 0`; [`Error::Shape`] when
/// the dimensions differ.
pub fn entropic_gaussian_ot(
    source: &Gaussian,
    target: &Gaussian,
    epsilon: f64,
) -> Result<EntropicGaussianOutput> {
    crate::validate::positive("epsilon", epsilon)?;
    source.check_same_dim(target)?;
    let sigma2 = 0.5 * epsilon;
    let a_sqrt = source.cov_sqrt();
    let eig = cross_eigen(&a_sqrt, target.cov())?;
    let mean_gap: f64 = source
        .mean()
        .iter()
        .zip(target.mean())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let traces = source.cov().diag().sum() + target.cov().diag().sum();
    // Written with s − σ² = 4λ/(s + σ²) so that neither small nor large ε cancels.
    let (mut entropic, mut cross_trace) = (0.0, 0.0);
    for &lambda in &eig.values {
        let s = (2.0 * lambda.sqrt()).hypot(sigma2);
        let gap = 4.0 * lambda / (s + sigma2);
        entropic += -gap + sigma2 * (gap / (2.0 * sigma2)).ln_1p();
        cross_trace += 2.0 * lambda / (s + sigma2);
    }
    let cost = mean_gap + traces + entropic;
    let linear_cost = mean_gap + (traces - 2.0 * cross_trace).max(0.0);
    let resolvent = eig.map(|lambda| 1.0 / ((2.0 * lambda.sqrt()).hypot(sigma2) + sigma2));
    let cross_covariance = 2.0 * a_sqrt.dot(&resolvent).dot(&a_sqrt).dot(&target.cov());
    if !(cost.is_finite() && cross_covariance.iter().all(|v| v.is_finite())) {
        return Err(Error::Numerical {
            solver: "entropic_gaussian_ot",
            iteration: 0,
            epsilon,
            detail: "the closed form overflowed".into(),
        });
    }
    Ok(EntropicGaussianOutput {
        epsilon,
        cost,
        linear_cost,
        cross_covariance,
        source_mean: source.mean().to_owned(),
        target_mean: target.mean().to_owned(),
        source_cov: source.cov().to_owned(),
        target_cov: target.cov().to_owned(),
    })
}

/// The closed-form entropic OT between two Gaussians; see [`entropic_gaussian_ot`].
#[derive(Debug, Clone, PartialEq)]
pub struct EntropicGaussianOutput {
    epsilon: f64,
    cost: f64,
    linear_cost: f64,
    cross_covariance: Array2<f64>,
    source_mean: Array1<f64>,
    target_mean: Array1<f64>,
    source_cov: Array2<f64>,
    target_cov: Array2<f64>,
}

impl EntropicGaussianOutput {
    /// `OT_ε = ∫‖x − y‖² dπ + ε KL(π ‖ α ⊗ β)` at the optimal plan (Sinkhorn's
    /// `reg_ot_cost` convention).
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// The transport part `∫‖x − y‖² dπ = ‖m1 − m2‖² + tr A + tr B − 2 tr C` (what POT's
    /// `sinkhorn2` reports).
    pub fn linear_cost(&self) -> f64 {
        self.linear_cost
    }

    /// `KL(π ‖ α ⊗ β) = (OT_ε − linear cost)/ε`, the mutual information of the plan.
    pub fn kl(&self) -> f64 {
        (self.cost - self.linear_cost) / self.epsilon
    }

    /// The regularization ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The cross-covariance `C = Cov(X, Y)` of the optimal plan (`d × d`).
    pub fn cross_covariance(&self) -> &Array2<f64> {
        &self.cross_covariance
    }

    /// The mean `(m1, m2)` of the optimal plan (length `2d`).
    pub fn plan_mean(&self) -> Array1<f64> {
        ndarray::concatenate![ndarray::Axis(0), self.source_mean, self.target_mean]
    }

    /// The covariance `[[A, C], [Cᵀ, B]]` of the optimal plan (`2d × 2d`).
    pub fn plan_covariance(&self) -> Array2<f64> {
        let d = self.source_cov.nrows();
        let mut out = Array2::zeros((2 * d, 2 * d));
        for i in 0..d {
            for j in 0..d {
                out[[i, j]] = self.source_cov[[i, j]];
                out[[d + i, d + j]] = self.target_cov[[i, j]];
                out[[i, d + j]] = self.cross_covariance[[i, j]];
                out[[d + j, i]] = self.cross_covariance[[i, j]];
            }
        }
        out
    }
}
