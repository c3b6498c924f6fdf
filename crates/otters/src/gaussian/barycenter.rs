//! The Bures–Wasserstein barycenter of Gaussians (Agueh & Carlier 2011) by the fixed-point
//! iteration of Álvarez-Esteban, del Barrio, Cuesta-Albertos & Matrán (2016), *A fixed-point
//! approach to barycenters in Wasserstein space*.

use ndarray::{Array1, Array2, ArrayView1};

use super::{Gaussian, SymEigen, cross_eigen, symmetrized};
use crate::error::{Error, Result};
use crate::validate;

/// Settings of the Bures barycenter fixed point.
///
/// The barycenter of `N(m_i, Σ_i)` with weights `λ_i` (normalized to sum 1) is `N(m, S)` with
/// `m = Σ λ_i m_i` and `S` the solution of `S = Σ λ_i (S^½ Σ_i S^½)^½`. The iteration
/// `S ← S^{−½} (Σ λ_i (S^½ Σ_i S^½)^½)² S^{−½}`, started at `Σ λ_i Σ_i`, converges to it when
/// one `Σ_i` is positive definite; it stops when `‖S_new − S‖_F ≤ tolerance` (POT's rule).
/// With singular iterates `S^{−½}` is the pseudo-inverse square root.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::gaussian::{BuresBarycenter, Gaussian};
///
/// let p = Gaussian::new(array![0.0].view(), array![[1.0]].view())?;
/// let q = Gaussian::new(array![2.0].view(), array![[9.0]].view())?;
/// let bary = BuresBarycenter::default().solve(&[p, q], None)?;
/// // 1-D: the standard deviations average, (1 + 3)/2 = 2.
/// assert!(bary.converged);
/// assert!((bary.mean[0] - 1.0).abs() < 1e-12 && (bary.cov[[0, 0]] - 4.0).abs() < 1e-9);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuresBarycenter {
    /// Iteration budget (≥ 1).
    pub max_iterations: usize,
    /// Stop when the Frobenius norm of the last change of `S` is at most this (≥ 0).
    pub tolerance: f64,
}

impl Default for BuresBarycenter {
    fn default() -> Self {
        BuresBarycenter {
            max_iterations: 1000,
            tolerance: 1e-9,
        }
    }
}

/// The barycenter and how the iteration ended.
#[derive(Debug, Clone, PartialEq)]
pub struct BuresBarycenterOutput {
    /// `m = Σ λ_i m_i`.
    pub mean: Array1<f64>,
    /// The barycentric covariance `S`.
    pub cov: Array2<f64>,
    /// Whether the last change met the tolerance.
    pub converged: bool,
    /// Iterations done.
    pub iterations: usize,
    /// `‖S_new − S‖_F` at the last iteration.
    pub last_change: f64,
}

impl BuresBarycenter {
    /// The barycenter of `gaussians` with `weights` (uniform when `None`; normalized).
    ///
    /// # Errors
    /// [`Error::Empty`] for no Gaussian; [`Error::Shape`] for mixed dimensions or a weight
    /// vector of the wrong length; weight errors naming `weights`;
    /// [`Error::InvalidParameter`] for a zero budget or a negative / NaN tolerance;
    /// [`Error::Numerical`] if the iterates stop being finite.
    pub fn solve(
        &self,
        gaussians: &[Gaussian],
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<BuresBarycenterOutput> {
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::invalid(
                "tolerance",
                "must be finite and >= 0",
                self.tolerance,
            ));
        }
        let Some(first) = gaussians.first() else {
            return Err(Error::Empty {
                arg: "gaussians",
                what: "Gaussian",
            });
        };
        for g in gaussians {
            first.check_same_dim(g)?;
        }
        let k = gaussians.len();
        let lambda: Array1<f64> = match weights {
            Some(w) => {
                crate::geometry::check_len("weights", w.len(), k, "one weight per Gaussian")?;
                let mass = validate::weights("weights", w)?;
                &w / mass
            }
            None => Array1::from_elem(k, 1.0 / k as f64),
        };
        let d = first.dim();
        let mut mean = Array1::zeros(d);
        let mut cov = Array2::<f64>::zeros((d, d));
        for (g, &l) in gaussians.iter().zip(&lambda) {
            mean.scaled_add(l, &g.mean());
            cov.scaled_add(l, &g.cov());
        }
        let (mut converged, mut iterations, mut last_change) = (false, 0, f64::INFINITY);
        while iterations < self.max_iterations {
            iterations += 1;
            let next = fixed_point_step(&cov, gaussians, &lambda)?;
            last_change = frobenius_gap(&next, &cov);
            cov = next;
            if !last_change.is_finite() {
                return Err(Error::Numerical {
                    solver: "BuresBarycenter",
                    iteration: iterations,
                    epsilon: f64::NAN,
                    detail: "the barycentric covariance is no longer finite".into(),
                });
            }
            if last_change <= self.tolerance {
                converged = true;
                break;
            }
        }
        Ok(BuresBarycenterOutput {
            mean,
            cov,
            converged,
            iterations,
            last_change,
        })
    }
}

/// `Σ λ_i (S^½ Σ_i S^½)^½`: the right-hand side of the barycenter equation, and the residual
/// map `S ↦ ‖S − mean_root(S)‖_F` used to check a barycenter.
pub(crate) fn mean_root(
    cov: &Array2<f64>,
    gaussians: &[Gaussian],
    lambda: &Array1<f64>,
) -> Result<(Array2<f64>, SymEigen)> {
    let eig = SymEigen::new(cov)?;
    let mut eig_clipped = eig.clone();
    eig_clipped.values.mapv_inplace(|v| v.max(0.0));
    let s_sqrt = eig_clipped.map(f64::sqrt);
    let d = cov.nrows();
    let mut sum = Array2::<f64>::zeros((d, d));
    for (g, &l) in gaussians.iter().zip(lambda) {
        if l > 0.0 {
            sum.scaled_add(l, &cross_eigen(&s_sqrt, g.cov())?.map(f64::sqrt));
        }
    }
    Ok((sum, eig_clipped))
}

/// One step `S ← S^{−½} T² S^{−½}` with `T = Σ λ_i (S^½ Σ_i S^½)^½`.
fn fixed_point_step(
    cov: &Array2<f64>,
    gaussians: &[Gaussian],
    lambda: &Array1<f64>,
) -> Result<Array2<f64>> {
    let (t, eig) = mean_root(cov, gaussians, lambda)?;
    let s_pinv_sqrt = eig.pinv_sqrt();
    let next = s_pinv_sqrt.dot(&t.dot(&t)).dot(&s_pinv_sqrt);
    Ok(symmetrized(next.view()))
}

fn frobenius_gap(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// `‖S − Σ λ_i (S^½ Σ_i S^½)^½‖_F` (weights normalized): zero at the barycenter.
///
/// # Errors
/// [`Error::Empty`] for no Gaussian; as [`BuresBarycenter::solve`] for the weights;
/// [`Error::Shape`] for a covariance of the wrong size.
pub fn bures_barycenter_residual(
    cov: &Array2<f64>,
    gaussians: &[Gaussian],
    weights: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    let k = gaussians.len();
    if k == 0 {
        return Err(Error::Empty {
            arg: "gaussians",
            what: "Gaussian",
        });
    }
    let lambda: Array1<f64> = match weights {
        Some(w) => {
            crate::geometry::check_len("weights", w.len(), k, "one weight per Gaussian")?;
            let mass = validate::weights("weights", w)?;
            &w / mass
        }
        None => Array1::from_elem(k, 1.0 / k as f64),
    };
    if gaussians.iter().any(|g| g.dim() != cov.nrows()) || cov.ncols() != cov.nrows() {
        return Err(Error::Shape {
            arg: "cov",
            expected: "a d x d matrix in the dimension of the Gaussians".into(),
            got: format!("{} x {}", cov.nrows(), cov.ncols()),
        });
    }
    let (t, _) = mean_root(cov, gaussians, &lambda)?;
    Ok(frobenius_gap(cov, &t))
}
