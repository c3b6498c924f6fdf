//! Sinkhorn initializers: starting potentials closer to the solution than zero (ALGORITHMS.md
//! L5; Thornton & Cuturi 2022, *Rethinking initialization of the Sinkhorn algorithm*).
//!
//! - [`gaussian_init`]: fit a Gaussian to each weighted cloud and take the dual potential of
//!   the closed-form Brenier map between them (squared Euclidean cost):
//!   `f(x) = (‖x‖² − 2φ(x)) / s` with `∇φ(x) = μ_y + A(x − μ_x)`,
//!   `A = Σ_x^{−½}(Σ_x^{½} Σ_y Σ_x^{½})^{½} Σ_x^{−½}`;
//! - [`subsample_init`]: solve on `k` points of each cloud, then extend the target potential
//!   to every source point by the c-transform `f(x) = −ε LSE_j(log b_j + (g_j − c(x, y_j))/ε)`;
//! - [`sorting_init`]: for 1-D clouds, the exact dual potential of the unregularized problem,
//!   read off the monotone plan of the sorted supports ([`ot_1d_potentials`]).
//!
//! Either result goes to [`Sinkhorn::solve_with`](super::Sinkhorn::solve_with) as the warm
//! start `f` (with `g = 0`: the first half-step recomputes `g` from `f`). The fixed point does
//! not change, only the number of iterations.

use faer::{Mat, Side as FaerSide};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis};

use super::{Epsilon, Sinkhorn};
use crate::error::{Error, Result};
use crate::geometry::{Axis, CostFn, Geometry, PointCloud};
use crate::linear::{LinearProblem, ot_1d_potentials};
use crate::validate;

/// The sorting initializer for 1-D clouds (`x` is `n × 1`, `y` is `m × 1`) and the cost
/// `|x − y|² / scale` (see the module docs). The weights are normalized first, so
/// unbalanced problems get the potential of their balanced counterpart.
///
/// # Errors
/// [`Error::Shape`] unless both clouds are 1-D; [`Error::NonFinite`] / weight errors for bad
/// inputs; [`Error::InvalidParameter`] for a `scale` that is not finite and `> 0`.
pub fn sorting_init(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: ArrayView1<'_, f64>,
    b: ArrayView1<'_, f64>,
    scale: f64,
) -> Result<Array1<f64>> {
    validate::positive("scale", scale)?;
    for (arg, points) in [("x", x), ("y", y)] {
        if points.ncols() != 1 {
            return Err(Error::Shape {
                arg,
                expected: "points of dimension 1 (the sorting initializer is for 1-D clouds)"
                    .into(),
                got: format!("{} x {}", points.nrows(), points.ncols()),
            });
        }
    }
    let mass_a = validate::weights("a", a)?;
    let mass_b = validate::weights("b", b)?;
    let (a, b) = (&a / mass_a, &b / mass_b);
    let (f, _) = ot_1d_potentials(
        x.column(0),
        y.column(0),
        Some(a.view()),
        Some(b.view()),
        2.0,
    )?;
    Ok(f / scale)
}

/// The Gaussian initializer for the cost `‖x − y‖² / scale` (see the module docs).
///
/// # Errors
/// [`Error::Shape`] / [`Error::NonFinite`] / weight errors for bad inputs;
/// [`Error::Numerical`] when a covariance has no usable square root.
pub fn gaussian_init(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: ArrayView1<'_, f64>,
    b: ArrayView1<'_, f64>,
    scale: f64,
) -> Result<Array1<f64>> {
    validate::points("x", x)?;
    validate::points("y", y)?;
    validate::positive("scale", scale)?;
    if x.ncols() != y.ncols() {
        return Err(Error::Shape {
            arg: "y",
            expected: format!("points of dimension {} (as x)", x.ncols()),
            got: format!("{} x {}", y.nrows(), y.ncols()),
        });
    }
    let (mu_x, cov_x) = moments("a", x, a)?;
    let (mu_y, cov_y) = moments("b", y, b)?;
    // A = Σx^{-1/2} (Σx^{1/2} Σy Σx^{1/2})^{1/2} Σx^{-1/2}, with a tiny ridge so that flat
    // clouds (rank-deficient covariances) still give a finite map.
    let map = brenier_matrix(&cov_x, &cov_y)?;
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

/// The subsample initializer: Sinkhorn at `epsilon` on the first `size` points of a fixed
/// random permutation (seeded) of each cloud, then the c-transform of its `g` at every point
/// of `x` under the cost of `cloud`.
///
/// # Errors
/// As [`Sinkhorn::solve`] on the subsample; [`Error::InvalidParameter`] for `size = 0`.
pub fn subsample_init<C: CostFn + Clone>(
    cloud: &PointCloud<C>,
    b: ArrayView1<'_, f64>,
    epsilon: f64,
    size: usize,
    seed: u64,
) -> Result<Array1<f64>> {
    validate::positive("epsilon", epsilon)?;
    if size == 0 {
        return Err(Error::invalid("size", "must be >= 1", 0));
    }
    let (x, y) = (cloud.x(), cloud.y());
    let (n, m) = (x.nrows(), y.nrows());
    crate::geometry::check_len("b", b.len(), m, "points of y")?;
    let pick = |len: usize, salt: u64| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..len).collect();
        let mut s = seed ^ salt;
        for i in (1..len).rev() {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            idx.swap(i, ((s >> 33) as usize) % (i + 1));
        }
        idx.truncate(size.min(len));
        idx
    };
    let (ix, iy) = (pick(n, 0x5eed), pick(m, 0xb0b));
    let xs = x.select(NdAxis(0), &ix);
    let ys = y.select(NdAxis(0), &iy);
    let bs: Array1<f64> = iy.iter().map(|&j| b[j]).collect();
    let bs = &bs / bs.sum();
    let small = cloud.with_points(xs.view(), ys.view())?;
    let problem = LinearProblem::new(
        &small,
        Array1::from_elem(xs.nrows(), 1.0 / xs.nrows() as f64),
        bs.view(),
    )?;
    let out = Sinkhorn::new(Epsilon::Absolute(epsilon)).solve(&problem)?;
    // f(x) = −ε LSE_j(log b_j + g_j/ε − c(x, y_j)/ε): a row softmin from all of x to ys.
    let extended = cloud.with_points(x, ys.view())?;
    let h: Array1<f64> = bs
        .iter()
        .zip(out.g())
        .map(|(&w, &g)| {
            if w > 0.0 {
                w.ln() + g / epsilon
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let mut f = Array1::zeros(n);
    extended.softmin(Axis::Rows, epsilon, h.view(), f.view_mut())?;
    Ok(f)
}

/// The linear part `A` of the Brenier map between centered Gaussians of covariances `cov_x`
/// and `cov_y`: `A = Σx^{−½}(Σx^{½} Σy Σx^{½})^{½} Σx^{−½}`, the symmetric positive matrix with
/// `A Σx A = Σy`. A tiny ridge keeps flat clouds (rank-deficient covariances) finite.
fn brenier_matrix(cov_x: &Array2<f64>, cov_y: &Array2<f64>) -> Result<Array2<f64>> {
    let d = cov_x.nrows();
    let ridge = 1e-12
        * (0..d)
            .map(|k| cov_x[[k, k]] + cov_y[[k, k]])
            .sum::<f64>()
            .max(1e-300);
    let (sx, sx_inv) = sym_power_pair(cov_x, ridge)?;
    let middle = sx.dot(cov_y).dot(&sx);
    let (root, _) = sym_power_pair(&middle, ridge)?;
    Ok(sx_inv.dot(&root).dot(&sx_inv))
}

/// Weighted mean and covariance of `points` (weights normalized to 1).
fn moments(
    arg: &'static str,
    points: ArrayView2<'_, f64>,
    w: ArrayView1<'_, f64>,
) -> Result<(Array1<f64>, Array2<f64>)> {
    crate::geometry::check_len(arg, w.len(), points.nrows(), "one weight per point")?;
    validate::weights(arg, w)?;
    let total = w.sum();
    let mu = points.t().dot(&w) / total;
    let centered = &points - &mu;
    let weighted = &centered * &w.insert_axis(NdAxis(1));
    let cov = centered.t().dot(&weighted) / total;
    Ok((mu, cov))
}

/// `(S^{1/2}, S^{−1/2})` of a symmetric positive semi-definite matrix, eigenvalues below
/// `ridge` raised to it.
fn sym_power_pair(s: &Array2<f64>, ridge: f64) -> Result<(Array2<f64>, Array2<f64>)> {
    let d = s.nrows();
    let m = Mat::from_fn(d, d, |i, j| 0.5 * (s[[i, j]] + s[[j, i]]));
    let evd = m
        .self_adjoint_eigen(FaerSide::Lower)
        .map_err(|e| Error::Numerical {
            solver: "gaussian_init",
            iteration: 0,
            epsilon: f64::NAN,
            detail: format!("eigendecomposition of a covariance failed: {e:?}"),
        })?;
    let (u, vals) = (evd.U(), evd.S().column_vector());
    let mut root = Array2::<f64>::zeros((d, d));
    let mut inv_root = Array2::<f64>::zeros((d, d));
    for k in 0..d {
        let lambda = vals[k].max(ridge);
        let (r, ir) = (lambda.sqrt(), 1.0 / lambda.sqrt());
        for i in 0..d {
            for j in 0..d {
                let uu = u[(i, k)] * u[(j, k)];
                root[[i, j]] += r * uu;
                inv_root[[i, j]] += ir * uu;
            }
        }
    }
    if root.iter().chain(inv_root.iter()).all(|v| v.is_finite()) {
        Ok((root, inv_root))
    } else {
        Err(Error::Numerical {
            solver: "gaussian_init",
            iteration: 0,
            epsilon: f64::NAN,
            detail: "a covariance square root is not finite".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn brenier_matrix_pushes_one_covariance_onto_the_other() {
        let cov_x = array![[2.0, 0.6, 0.1], [0.6, 1.0, -0.3], [0.1, -0.3, 0.5]];
        let cov_y = array![[0.7, -0.2, 0.0], [-0.2, 3.0, 0.9], [0.0, 0.9, 1.2]];
        let a = brenier_matrix(&cov_x, &cov_y).unwrap();
        let pushed = a.dot(&cov_x).dot(&a);
        for (p, q) in pushed.iter().zip(&cov_y) {
            assert!((p - q).abs() < 1e-10, "{pushed} vs {cov_y}");
        }
        for i in 0..3 {
            for j in 0..3 {
                assert!((a[[i, j]] - a[[j, i]]).abs() < 1e-12, "A is symmetric");
            }
        }
        let eig = Mat::from_fn(3, 3, |i, j| a[[i, j]])
            .self_adjoint_eigenvalues(FaerSide::Lower)
            .unwrap();
        assert!(
            eig.iter().all(|&v| v > 0.0),
            "A is positive definite: {eig:?}"
        );
    }
}
