//! Sinkhorn initializers: starting potentials closer to the solution than zero (ALGORITHMS.md
//! L5; Thornton & Cuturi 2022, *Rethinking initialization of the Sinkhorn algorithm*).
//!
//! - the Gaussian initializer (`otters::gaussian::gaussian_init`, in the Gaussian module
//!   because it is the potential of the Bures–Wasserstein map: Sinkhorn does not depend on
//!   it);
//! - [`subsample_init`]: solve on `k` points of each cloud, then extend the target potential
//!   to every source point by the c-transform `f(x) = −ε LSE_j(log b_j + (g_j − c(x, y_j))/ε)`;
//! - [`sorting_init`]: for 1-D clouds, the exact dual potential of the unregularized problem,
//!   read off the monotone plan of the sorted supports ([`ot_1d_potentials`]).
//!
//! Either result goes to [`Sinkhorn::solve_with`](super::Sinkhorn::solve_with) as the warm
//! start `f` (with `g = 0`: the first half-step recomputes `g` from `f`). The fixed point does
//! not change, only the number of iterations.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis as NdAxis};

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
