//! Bures–Wasserstein distance and Monge map between Gaussians (ALGORITHMS.md G1; Knott &
//! Smith 1984, Peyré & Cuturi 2019 Remarks 2.29–2.31).

use ndarray::{Array1, Array2, ArrayView2};

use super::{Gaussian, cross_eigen};
use crate::error::{Error, Result};

/// The squared 2-Wasserstein distance between two Gaussians,
/// `W2² = ‖m1 − m2‖² + tr A + tr B − 2 tr (A^½ B A^½)^½`, clipped at zero (rounding can make
/// the covariance part slightly negative for nearly equal covariances).
///
/// # Errors
/// [`Error::Shape`] when the dimensions differ; [`Error::Numerical`] if an eigendecomposition
/// fails.
pub fn bures_wasserstein(source: &Gaussian, target: &Gaussian) -> Result<f64> {
    source.check_same_dim(target)?;
    let a_sqrt = source.cov_sqrt();
    bures_with_root(source, &a_sqrt, target)
}

/// `W2²` given the source covariance's square root (shared by the batched forms).
fn bures_with_root(source: &Gaussian, a_sqrt: &Array2<f64>, target: &Gaussian) -> Result<f64> {
    let mean_gap: f64 = source
        .mean()
        .iter()
        .zip(target.mean())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let cross: f64 = cross_eigen(a_sqrt, target.cov())?
        .values
        .iter()
        .map(|v| v.sqrt())
        .sum();
    let traces = source.cov().diag().sum() + target.cov().diag().sum();
    Ok(mean_gap + (traces - 2.0 * cross).max(0.0))
}

/// The matrix of squared Bures–Wasserstein distances `W2²(sources[i], targets[j])` (the
/// ground cost of GMM-OT; POT's `dist_bures_squared`). Each source square root is computed
/// once.
///
/// # Errors
/// [`Error::Empty`] for an empty list; [`Error::Shape`] when dimensions differ.
pub fn bures_wasserstein_cost_matrix(
    sources: &[Gaussian],
    targets: &[Gaussian],
) -> Result<Array2<f64>> {
    check_lists(sources, targets)?;
    let mut out = Array2::zeros((sources.len(), targets.len()));
    for (i, s) in sources.iter().enumerate() {
        let root = s.cov_sqrt();
        for (j, t) in targets.iter().enumerate() {
            out[[i, j]] = bures_with_root(s, &root, t)?;
        }
    }
    Ok(out)
}

/// The squared Bures–Wasserstein distances `W2²(sources[i], targets[i])` of paired lists.
///
/// # Errors
/// [`Error::Shape`] unless the lists have the same length and dimension.
pub fn bures_wasserstein_paired(sources: &[Gaussian], targets: &[Gaussian]) -> Result<Array1<f64>> {
    check_lists(sources, targets)?;
    if sources.len() != targets.len() {
        return Err(Error::Shape {
            arg: targets[0].mean_arg,
            expected: format!("{} Gaussians (paired with the sources)", sources.len()),
            got: format!("{} Gaussians", targets.len()),
        });
    }
    sources
        .iter()
        .zip(targets)
        .map(|(s, t)| bures_wasserstein(s, t))
        .collect()
}

fn check_lists(sources: &[Gaussian], targets: &[Gaussian]) -> Result<()> {
    let Some(first) = sources.first() else {
        return Err(Error::Empty {
            arg: "sources",
            what: "Gaussian",
        });
    };
    if targets.is_empty() {
        return Err(Error::Empty {
            arg: "targets",
            what: "Gaussian",
        });
    }
    for g in sources.iter().chain(targets) {
        first.check_same_dim(g)?;
    }
    Ok(())
}

/// An affine map `T(x) = linear · x + offset`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMap {
    /// The linear part (`d × d`).
    pub linear: Array2<f64>,
    /// The offset (`d`).
    pub offset: Array1<f64>,
}

impl GaussianMap {
    /// `T(x)` for each row of `x` (`n × d`).
    ///
    /// # Errors
    /// [`Error::Shape`] unless `x` has `d` columns.
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.offset.len() {
            return Err(Error::Shape {
                arg: "x",
                expected: format!("points of dimension {}", self.offset.len()),
                got: format!("{} x {}", x.nrows(), x.ncols()),
            });
        }
        Ok(x.dot(&self.linear.t()) + &self.offset)
    }
}

/// The Monge (Brenier) map from `N(m1, A)` to `N(m2, B)`: `T(x) = m2 + M (x − m1)` with
/// `M = A^{−½} (A^½ B A^½)^½ A^{−½}`, symmetric positive semi-definite, so
/// `linear = M` and `offset = m2 − M m1` (POT's `A`, `b`).
///
/// For a singular source covariance `A^{−½}` is the pseudo-inverse square root (eigenvalues
/// at or below [`RANK_TOLERANCE`](super::RANK_TOLERANCE)·λ_max count as zero): the map is then
/// the optimal one on the support of the source, where the source lives, and `M A M = B`
/// holds only when `B`'s covariance is reachable from that support.
///
/// # Errors
/// [`Error::Shape`] when the dimensions differ; [`Error::Numerical`] if an eigendecomposition
/// fails.
pub fn bures_wasserstein_map(source: &Gaussian, target: &Gaussian) -> Result<GaussianMap> {
    source.check_same_dim(target)?;
    let a_sqrt = source.cov_sqrt();
    let a_pinv_sqrt = source.eig().pinv_sqrt();
    let middle_root = cross_eigen(&a_sqrt, target.cov())?.map(f64::sqrt);
    let m = a_pinv_sqrt.dot(&middle_root).dot(&a_pinv_sqrt);
    let linear = super::symmetrized(m.view());
    let offset = &target.mean() - &linear.dot(&source.mean());
    Ok(GaussianMap { linear, offset })
}
