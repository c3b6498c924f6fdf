//! The Gaussian initializer of Sinkhorn (ALGORITHMS.md L5; Thornton & Cuturi 2022,
//! *Rethinking initialization of the Sinkhorn algorithm*): fit a Gaussian to each weighted
//! cloud and take the dual potential of the closed-form Brenier map between them (squared
//! Euclidean cost): `f(x) = (‖x‖² − 2φ(x)) / s` with `∇φ(x) = μ_y + A(x − μ_x)`,
//! `A = Σ_x^{−½}(Σ_x^{½} Σ_y Σ_x^{½})^{½} Σ_x^{−½}` (the Bures–Wasserstein map). The result
//! goes to `Sinkhorn::solve_with` as the warm start `f` (with `g = 0`).

use ndarray::{Array1, ArrayView1, ArrayView2};

use super::{Gaussian, bures_wasserstein_map};
use crate::error::Result;
use crate::validate;

/// The Gaussian initializer for the cost `‖x − y‖² / scale` (see the module docs): the
/// weighted Gaussian fits of the clouds ([`Gaussian::from_samples_named`]) and the linear part
/// of their Monge map ([`bures_wasserstein_map`]).
///
/// # Errors
/// [`Error::Shape`](crate::Error::Shape) / [`Error::NonFinite`](crate::Error::NonFinite) / weight errors for bad inputs (naming `x`, `y`,
/// `a`, `b`); [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a `scale` that is not finite and `> 0`;
/// [`Error::Numerical`](crate::Error::Numerical) if an eigendecomposition of a covariance fails.
pub fn gaussian_init(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: ArrayView1<'_, f64>,
    b: ArrayView1<'_, f64>,
    scale: f64,
) -> Result<Array1<f64>> {
    validate::positive("scale", scale)?;
    // A flat source cloud (rank-deficient covariance) still gives a finite map: its linear
    // part uses the pseudo-inverse square root, exact on the support where `x − μ_x` lies.
    let source = Gaussian::from_samples_named("x", x, "a", Some(a), 0.0, true)?;
    let target = Gaussian::from_samples_named("y", y, "b", Some(b), 0.0, true)?;
    let map = bures_wasserstein_map(&source, &target)?.linear;
    let (mu_x, mu_y) = (source.mean(), target.mean());
    let f = x
        .outer_iter()
        .map(|xi| {
            let c = &xi - &mu_x;
            let phi = 0.5 * c.dot(&map.dot(&c)) + mu_y.dot(&c);
            (xi.dot(&xi) - 2.0 * phi) / scale
        })
        .collect();
    Ok(f)
}
