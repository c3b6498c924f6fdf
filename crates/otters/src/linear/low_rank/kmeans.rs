//! The k-means start of low-rank OT (Scetbon & Cuturi 2022, §3; OTT-JAX's
//! `KMeansInitializer`): `Q` is the entropic plan (ε = 0.1 on the max-scaled squared
//! distances) between the source points and `r` k-means centroids of them carrying the mass
//! `g = Σa/r` each; `R` likewise for the target. The centroids come from k-means++ seeding
//! (Arthur & Vassilvitskii 2007) and Lloyd iterations.
//!
//! Unlike OTT-JAX, the target's components are then matched to the source's by the exact OT
//! (an assignment) between the two sets of centroids, so that `P = Q diag(1/g) Rᵀ` starts
//! as the cluster-to-cluster transport rather than an arbitrary pairing of clusters, which
//! mirror descent may not undo (a local minimum).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::geometry::{PointCloud, ScaleCost};
use crate::linear::{Epsilon, LinearProblem, NetworkSimplex, Sinkhorn};

/// Lloyd iterations at most.
const MAX_LLOYD: usize = 100;
/// The entropic regularization of the plan to the centroids (on costs scaled by their max).
const EPSILON: f64 = 0.1;

/// `k` centroids of the rows of `x` (k-means++ seeding from `rng`, then Lloyd's iterations
/// until the assignment is stable). Rows with zero weight are ignored.
pub(super) fn k_means(
    x: ArrayView2<'_, f64>,
    w: ArrayView1<'_, f64>,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f64> {
    let (n, d) = x.dim();
    let dist2 = |i: usize, c: &Array2<f64>, j: usize| -> f64 {
        x.row(i)
            .iter()
            .zip(c.row(j))
            .map(|(a, b)| (a - b) * (a - b))
            .sum()
    };
    let mut centroids = Array2::zeros((k, d));
    let support: Vec<usize> = (0..n).filter(|&i| w[i] > 0.0).collect();
    let first = support[rng.random_range(0..support.len())];
    centroids.row_mut(0).assign(&x.row(first));
    let mut nearest: Vec<f64> = (0..n).map(|i| dist2(i, &centroids, 0)).collect();
    for j in 1..k {
        // The next centroid with probability ∝ weight × squared distance to the nearest one.
        let total: f64 = support.iter().map(|&i| w[i] * nearest[i]).sum();
        let pick = if total > 0.0 {
            let mut t = rng.random::<f64>() * total;
            *support
                .iter()
                .find(|&&i| {
                    t -= w[i] * nearest[i];
                    t <= 0.0
                })
                .unwrap_or(support.last().expect("non-empty support"))
        } else {
            support[rng.random_range(0..support.len())]
        };
        centroids.row_mut(j).assign(&x.row(pick));
        for &i in &support {
            nearest[i] = nearest[i].min(dist2(i, &centroids, j));
        }
    }
    let mut assign = vec![usize::MAX; n];
    for _ in 0..MAX_LLOYD {
        let mut moved = false;
        for &i in &support {
            let best = (0..k)
                .map(|j| (dist2(i, &centroids, j), j))
                .fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a })
                .1;
            moved |= assign[i] != best;
            assign[i] = best;
        }
        if !moved {
            break;
        }
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut mass = Array1::<f64>::zeros(k);
        for &i in &support {
            let j = assign[i];
            sums.row_mut(j).scaled_add(w[i], &x.row(i));
            mass[j] += w[i];
        }
        for j in 0..k {
            // An empty cluster keeps its centroid.
            if mass[j] > 0.0 {
                centroids.row_mut(j).assign(&(&sums.row(j) / mass[j]));
            }
        }
    }
    centroids
}

/// The k-means start `(Q, R, g)` for the points `x`, `y` with weights `a`, `b`.
pub(super) fn start(
    (x, y): (ArrayView2<'_, f64>, ArrayView2<'_, f64>),
    (a, b): (ArrayView1<'_, f64>, ArrayView1<'_, f64>),
    rank: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(Array2<f64>, Array2<f64>, Array1<f64>)> {
    let (cx, cy) = (k_means(x, a, rank, rng), k_means(y, b, rank, rng));
    let q = factor(x, a, &cx)?;
    let r = factor(y, b, &cy)?;
    // Component k of Q goes with component σ(k) of R: the assignment between centroids.
    let pairs = PointCloud::sq_euclidean(cx.view(), cy.view())?;
    let uniform = Array1::from_elem(rank, 1.0 / rank as f64);
    let exact = NetworkSimplex::default().solve(&LinearProblem::new(
        &pairs,
        uniform.view(),
        uniform.view(),
    )?)?;
    let mut sigma = vec![usize::MAX; rank];
    for (i, j, mass) in exact.plan().iter() {
        if mass > 0.5 / rank as f64 {
            sigma[i] = j;
        }
    }
    if sigma.contains(&usize::MAX) {
        // A degenerate (split) optimum: keep the order k-means gave.
        sigma = (0..rank).collect();
    }
    let mut paired = Array2::zeros(r.dim());
    for (k, &s) in sigma.iter().enumerate() {
        paired.column_mut(k).assign(&r.column(s));
    }
    let g = Array1::from_elem(rank, a.sum() / rank as f64);
    Ok((q, paired, g))
}

/// The entropic plan from the points `x` (weights `w`) to the centroids, each of mass
/// `Σw/r`.
fn factor(
    x: ArrayView2<'_, f64>,
    w: ArrayView1<'_, f64>,
    centroids: &Array2<f64>,
) -> Result<Array2<f64>> {
    let rank = centroids.nrows();
    let cloud = PointCloud::sq_euclidean(x, centroids.view())?.with_scale(ScaleCost::Max)?;
    let g = Array1::from_elem(rank, w.sum() / rank as f64);
    let problem = LinearProblem::new(&cloud, w, g.view())?;
    let out = Sinkhorn::new(Epsilon::Absolute(EPSILON)).solve(&problem)?;
    let plan = out.plan(&problem)?;
    if plan.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical {
            solver: "low-rank sinkhorn (k-means start)",
            iteration: 0,
            epsilon: EPSILON,
            detail: "the plan to the centroids is not finite".into(),
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Three tight, well separated clusters: k-means finds their centres, from any seed.
    #[test]
    fn k_means_finds_separated_clusters() {
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = Array2::from_shape_fn((90, 2), |(i, d)| {
            centres[i % 3][d] + 0.1 * (rng.random::<f64>() - 0.5)
        });
        let w = Array1::from_elem(90, 1.0 / 90.0);
        for seed in 0..5 {
            let c = k_means(x.view(), w.view(), 3, &mut ChaCha8Rng::seed_from_u64(seed));
            for centre in centres {
                let best = c
                    .outer_iter()
                    .map(|row| ((row[0] - centre[0]).powi(2) + (row[1] - centre[1]).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    best < 0.05,
                    "seed {seed}: centre {centre:?} missed by {best}"
                );
            }
        }
    }
}
