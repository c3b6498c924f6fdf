//! Optimal transport between Gaussian measures and Gaussian mixtures, in closed form
//! (ALGORITHMS.md G1–G4): Bures–Wasserstein distance, Monge map and barycenter, entropic OT
//! (Janati et al. 2020), the Gaussian Schrödinger bridge (Bunne et al. 2023) and GMM-OT
//! (Delon & Desolneux 2020).
//!
//! A [`Gaussian`] is validated once, when built: the mean and covariance must be finite and of
//! matching sizes, the covariance symmetric and positive semi-definite up to
//! [`PSD_TOLERANCE`]. Singular covariances (degenerate Gaussians, Diracs) are accepted: the
//! tiny negative eigenvalues that rounding leaves in a positive semi-definite matrix are
//! clipped to zero, and the symmetric square roots are taken on the clipped spectrum. Only
//! the functions that need an inverse (densities, the Monge map, whose linear part is defined
//! on the source's support) treat small eigenvalues specially; each says how.
//!
//! The Bures barycenter lives here too ([`BuresBarycenter`]), next to the distance it averages.

mod barycenter;
mod bridge;
mod bures;
mod entropic;
mod init;
mod mixture;

pub use barycenter::{BuresBarycenter, BuresBarycenterOutput, bures_barycenter_residual};
pub use bridge::GaussianBridge;
pub use bures::{
    GaussianMap, bures_wasserstein, bures_wasserstein_cost_matrix, bures_wasserstein_map,
    bures_wasserstein_paired,
};
pub use entropic::{EntropicGaussianOutput, entropic_gaussian_ot};
pub use init::gaussian_init;
pub use mixture::{GaussianMixture, GmmOtOutput, gmm_barycentric_map, gmm_ot};

use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::validate;

/// Relative tolerance of the symmetry and positive semi-definiteness checks of a covariance:
/// `|Σ_ij − Σ_ji| ≤ PSD_TOLERANCE · max|Σ|` and `λ_min(Σ) ≥ −PSD_TOLERANCE · max(|λ|)`.
/// Eigenvalues in `[−PSD_TOLERANCE·max|λ|, 0)` are rounding noise and are clipped to zero.
pub const PSD_TOLERANCE: f64 = 1e-8;

/// Eigenvalues at or below `RANK_TOLERANCE · λ_max` count as zero where an inverse is taken
/// (pseudo-inverse square roots of the Monge map, positive definiteness of densities).
pub const RANK_TOLERANCE: f64 = 1e-12;

/// A Gaussian measure `N(mean, cov)` with a validated, symmetrized covariance and its
/// eigendecomposition (eigenvalues clipped at zero).
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::gaussian::{Gaussian, bures_wasserstein};
///
/// let p = Gaussian::new(array![0.0, 0.0].view(), array![[1.0, 0.0], [0.0, 4.0]].view())?;
/// let q = Gaussian::new(array![1.0, 0.0].view(), array![[4.0, 0.0], [0.0, 1.0]].view())?;
/// // Commuting covariances: W2² = |m1 − m2|² + ‖A^½ − B^½‖²_F = 1 + 1 + 1.
/// assert!((bures_wasserstein(&p, &q)? - 3.0).abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gaussian {
    mean: Array1<f64>,
    cov: Array2<f64>,
    eig: SymEigen,
    mean_arg: &'static str,
    cov_arg: &'static str,
}

impl Gaussian {
    /// `N(mean, cov)`; errors name the arguments `mean` and `cov`.
    ///
    /// # Errors
    /// See [`Gaussian::new_named`].
    pub fn new(mean: ArrayView1<'_, f64>, cov: ArrayView2<'_, f64>) -> Result<Self> {
        Self::new_named("mean", mean, "cov", cov)
    }

    /// `N(mean, cov)`, with the argument names used by error messages (and by later errors
    /// involving this Gaussian, such as a dimension mismatch with another one).
    ///
    /// # Errors
    /// [`Error::Empty`] for a 0-dimensional mean; [`Error::Shape`] unless `cov` is `d × d`;
    /// [`Error::NonFinite`] for NaN or infinite entries; [`Error::InvalidParameter`] naming
    /// `cov_arg` for a covariance that is not symmetric or not positive semi-definite beyond
    /// [`PSD_TOLERANCE`]; [`Error::Numerical`] if the eigendecomposition fails.
    pub fn new_named(
        mean_arg: &'static str,
        mean: ArrayView1<'_, f64>,
        cov_arg: &'static str,
        cov: ArrayView2<'_, f64>,
    ) -> Result<Self> {
        let d = mean.len();
        if d == 0 {
            return Err(Error::Empty {
                arg: mean_arg,
                what: "coordinate",
            });
        }
        if let Some((i, &v)) = mean.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite {
                arg: mean_arg,
                index: crate::error::Index::Vector(i),
                value: v,
            });
        }
        let cov = covariance(cov_arg, cov, d, mean_arg)?;
        let eig = SymEigen::psd(cov_arg, &cov)?;
        Ok(Gaussian {
            mean: mean.to_owned(),
            cov,
            eig,
            mean_arg,
            cov_arg,
        })
    }

    /// The Gaussian fitted to weighted samples `x` (`n × d`), as POT's `empirical_*`
    /// functions: weights `w` (uniform when `None`, normalized to sum 1), mean
    /// `m = Σ w_i x_i` when `center` (else `m = 0` and the covariance is the uncentered second
    /// moment), covariance `Σ w_i (x_i − m)(x_i − m)ᵀ + reg·I` (the biased, 1/n estimator).
    /// Errors name `x_arg` and `w_arg`.
    ///
    /// # Errors
    /// [`Error::Empty`] / [`Error::NonFinite`] / [`Error::Shape`] for bad samples; weight
    /// errors for `w`; [`Error::InvalidParameter`] for a `reg` that is negative or not finite.
    pub fn from_samples_named(
        x_arg: &'static str,
        x: ArrayView2<'_, f64>,
        w_arg: &'static str,
        w: Option<ArrayView1<'_, f64>>,
        reg: f64,
        center: bool,
    ) -> Result<Self> {
        validate::points(x_arg, x)?;
        if !(reg.is_finite() && reg >= 0.0) {
            return Err(Error::invalid("reg", "must be finite and >= 0", reg));
        }
        let (n, d) = x.dim();
        let w = match w {
            Some(w) => {
                crate::geometry::check_len(w_arg, w.len(), n, "one weight per sample")?;
                let mass = validate::weights(w_arg, w)?;
                &w / mass
            }
            None => Array1::from_elem(n, 1.0 / n as f64),
        };
        let mean = if center {
            x.t().dot(&w)
        } else {
            Array1::zeros(d)
        };
        let centered = &x - &mean;
        let weighted = &centered * &w.view().insert_axis(Axis(1));
        let mut cov = centered.t().dot(&weighted);
        for k in 0..d {
            cov[[k, k]] += reg;
        }
        // Rounding can make the product slightly asymmetric; it is symmetric by construction.
        let cov = symmetrized(cov.view());
        if cov.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                x_arg,
                "samples too large: their covariance overflows",
                "inf",
            ));
        }
        let eig = SymEigen::psd(x_arg, &cov)?;
        Ok(Gaussian {
            mean,
            cov,
            eig,
            mean_arg: x_arg,
            cov_arg: x_arg,
        })
    }

    /// [`Gaussian::from_samples_named`] with the argument names `x` and `w`.
    ///
    /// # Errors
    /// See [`Gaussian::from_samples_named`].
    pub fn from_samples(
        x: ArrayView2<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
        reg: f64,
        center: bool,
    ) -> Result<Self> {
        Self::from_samples_named("x", x, "w", w, reg, center)
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The (symmetrized) covariance.
    pub fn cov(&self) -> ArrayView2<'_, f64> {
        self.cov.view()
    }

    /// The eigenvalues of the covariance, ascending, clipped at zero.
    pub fn cov_eigenvalues(&self) -> ArrayView1<'_, f64> {
        self.eig.values.view()
    }

    /// The symmetric square root `Σ^½` (on the clipped spectrum).
    pub fn cov_sqrt(&self) -> Array2<f64> {
        self.eig.map(f64::sqrt)
    }

    /// `log` of the density at each row of `x` (`n × d`):
    /// `−½ (d log 2π + log det Σ + (x − m)ᵀ Σ⁻¹ (x − m))`.
    ///
    /// # Errors
    /// [`Error::Shape`] / [`Error::NonFinite`] for bad points; [`Error::InvalidParameter`]
    /// naming the covariance when it is singular (an eigenvalue at or below
    /// [`RANK_TOLERANCE`]·λ_max): a degenerate Gaussian has no density.
    pub fn log_pdf(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.check_points("x", x)?;
        self.require_definite()?;
        let (vals, u) = (&self.eig.values, &self.eig.vectors);
        let log_det: f64 = vals.iter().map(|v| v.ln()).sum();
        let constant = self.dim() as f64 * (2.0 * std::f64::consts::PI).ln() + log_det;
        let centered = &x - &self.mean;
        // Coordinates in the eigenbasis: z = (x − m) U, then Σ z_k² / λ_k.
        let z = centered.dot(u);
        Ok(z.rows()
            .into_iter()
            .map(|row| {
                let quad: f64 = row.iter().zip(vals).map(|(&zk, &l)| zk * zk / l).sum();
                -0.5 * (constant + quad)
            })
            .collect())
    }

    /// Points `x` (`n × d`) in the dimension of this Gaussian, all finite.
    pub(crate) fn check_points(&self, arg: &'static str, x: ArrayView2<'_, f64>) -> Result<()> {
        if x.ncols() != self.dim() {
            return Err(Error::Shape {
                arg,
                expected: format!(
                    "points of dimension {} (as `{}`)",
                    self.dim(),
                    self.mean_arg
                ),
                got: format!("{} x {}", x.nrows(), x.ncols()),
            });
        }
        validate::finite_matrix(arg, x)
    }

    /// An error unless the covariance is numerically nonsingular.
    pub(crate) fn require_definite(&self) -> Result<()> {
        let vals = &self.eig.values;
        let top = vals[vals.len() - 1];
        let bottom = vals[0];
        if top > 0.0 && bottom > RANK_TOLERANCE * top {
            Ok(())
        } else {
            Err(Error::invalid(
                self.cov_arg,
                "must be positive definite here (a singular covariance has no density)",
                format!("smallest eigenvalue {bottom:e}, largest {top:e}"),
            ))
        }
    }

    /// [`Error::Shape`] unless `other` has the same dimension (named by `other`'s mean).
    pub(crate) fn check_same_dim(&self, other: &Gaussian) -> Result<()> {
        if self.dim() == other.dim() {
            Ok(())
        } else {
            Err(Error::Shape {
                arg: other.mean_arg,
                expected: format!("dimension {} (as `{}`)", self.dim(), self.mean_arg),
                got: format!("dimension {}", other.dim()),
            })
        }
    }

    pub(crate) fn eig(&self) -> &SymEigen {
        &self.eig
    }
}

/// `(S + Sᵀ)/2`.
fn symmetrized(s: ArrayView2<'_, f64>) -> Array2<f64> {
    let d = s.nrows();
    Array2::from_shape_fn((d, d), |(i, j)| 0.5 * (s[[i, j]] + s[[j, i]]))
}

/// Checks a covariance (`d × d`, finite, symmetric up to [`PSD_TOLERANCE`]) and returns it
/// symmetrized.
fn covariance(
    arg: &'static str,
    cov: ArrayView2<'_, f64>,
    d: usize,
    mean_arg: &'static str,
) -> Result<Array2<f64>> {
    if cov.dim() != (d, d) {
        return Err(Error::Shape {
            arg,
            expected: format!("{d} x {d} (the length of `{mean_arg}`)"),
            got: format!("{} x {}", cov.nrows(), cov.ncols()),
        });
    }
    validate::finite_matrix(arg, cov)?;
    let scale = cov.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..d {
        for j in 0..i {
            let gap = (cov[[i, j]] - cov[[j, i]]).abs();
            if gap > PSD_TOLERANCE * scale {
                return Err(Error::invalid(
                    arg,
                    "a covariance must be symmetric",
                    format!(
                        "entries [{i}, {j}] = {} and [{j}, {i}] = {}",
                        cov[[i, j]],
                        cov[[j, i]]
                    ),
                ));
            }
        }
    }
    Ok(symmetrized(cov))
}

/// The eigendecomposition `S = U diag(λ) Uᵀ` of a symmetric matrix, eigenvalues ascending.
#[derive(Debug, Clone)]
pub(crate) struct SymEigen {
    pub(crate) values: Array1<f64>,
    pub(crate) vectors: Array2<f64>,
}

impl SymEigen {
    /// The eigendecomposition of a symmetric matrix (its lower triangle is read).
    pub(crate) fn new(s: &Array2<f64>) -> Result<Self> {
        let d = s.nrows();
        let evd = Mat::from_fn(d, d, |i, j| s[[i, j]])
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::Numerical {
                solver: "gaussian (symmetric eigendecomposition)",
                iteration: 0,
                epsilon: f64::NAN,
                detail: format!("{e:?}"),
            })?;
        let (u, vals) = (evd.U(), evd.S().column_vector());
        let values: Array1<f64> = (0..d).map(|k| vals[k]).collect();
        let vectors = Array2::from_shape_fn((d, d), |(i, k)| u[(i, k)]);
        if values.iter().chain(vectors.iter()).all(|v| v.is_finite()) {
            Ok(SymEigen { values, vectors })
        } else {
            Err(Error::Numerical {
                solver: "gaussian (symmetric eigendecomposition)",
                iteration: 0,
                epsilon: f64::NAN,
                detail: "non-finite eigenvalues or eigenvectors".into(),
            })
        }
    }

    /// The eigendecomposition of a covariance that must be positive semi-definite up to
    /// [`PSD_TOLERANCE`]; rounding-level negative eigenvalues are clipped to zero.
    pub(crate) fn psd(arg: &'static str, s: &Array2<f64>) -> Result<Self> {
        let mut eig = Self::new(s)?;
        eig.clip(arg)?;
        Ok(eig)
    }

    /// Clips rounding-level negative eigenvalues to zero; an error naming `arg` beyond.
    pub(crate) fn clip(&mut self, arg: &'static str) -> Result<()> {
        let scale = self.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let bottom = self.values[0];
        if bottom < -PSD_TOLERANCE * scale {
            return Err(Error::invalid(
                arg,
                "a covariance must be positive semi-definite",
                format!("eigenvalue {bottom:e} (largest magnitude {scale:e})"),
            ));
        }
        self.values.mapv_inplace(|v| v.max(0.0));
        Ok(())
    }

    /// `U diag(f(λ)) Uᵀ`.
    pub(crate) fn map(&self, f: impl Fn(f64) -> f64) -> Array2<f64> {
        let scaled = &self.vectors * &self.values.mapv(f).insert_axis(Axis(0));
        scaled.dot(&self.vectors.t())
    }

    /// The pseudo-inverse square root: `λ^{−½}` on eigenvalues above
    /// [`RANK_TOLERANCE`]·λ_max, zero on the others.
    pub(crate) fn pinv_sqrt(&self) -> Array2<f64> {
        let floor = RANK_TOLERANCE * self.values[self.values.len() - 1];
        self.map(|l| {
            if l > floor && l > 0.0 {
                1.0 / l.sqrt()
            } else {
                0.0
            }
        })
    }
}

/// The eigenvalues (clipped at zero) and eigenvectors of `A^½ B A^½`, the matrix whose square
/// root gives the Bures cross term; `a_sqrt` is `A^½`.
pub(crate) fn cross_eigen(a_sqrt: &Array2<f64>, b: ArrayView2<'_, f64>) -> Result<SymEigen> {
    let middle = symmetrized(a_sqrt.dot(&b).dot(a_sqrt).view());
    let mut eig = SymEigen::new(&middle)?;
    // A product of PSD matrices: negative eigenvalues are rounding only.
    eig.values.mapv_inplace(|v| v.max(0.0));
    Ok(eig)
}
