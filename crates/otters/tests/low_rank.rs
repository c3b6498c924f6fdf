//! Low-rank OT (ALGORITHMS.md L10): near the exact cost on clustered data, feasible
//! factors, the same answer on a stored cost and a factored point cloud, rank 1 = the
//! product coupling, and bad settings naming their argument.

mod common;

use common::{Rng, assert_close, max_abs_diff, sq_euclidean, uniform};
use ndarray::{Array2, array};
use otters::Error;
use otters::geometry::{Axis, DenseCost, PointCloud, ScaleCost};
use otters::linear::{
    LinearProblem, LowRankInit, LowRankSinkhorn, MarginalPenalty, NetworkSimplex,
};

/// `k` tight clusters of `per` points around the corners of a polygon (target: shifted,
/// rotated a little).
fn clusters(k: usize, per: usize, seed: u64, shift: f64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_fn((k * per, 2), |(i, d)| {
        let c = (i / per) as f64 * std::f64::consts::TAU / k as f64 + shift;
        let centre = if d == 0 { 3.0 * c.cos() } else { 3.0 * c.sin() };
        centre + 0.05 * rng.normal() + shift
    })
}

#[test]
fn low_rank_cost_is_within_a_few_percent_of_exact_on_clustered_data() {
    let (x, y) = (clusters(4, 50, 1, 0.0), clusters(4, 50, 2, 0.3));
    let mut cost = sq_euclidean(&x, &y);
    cost /= cost.iter().fold(0.0f64, |m, v| m.max(*v));
    let dense = DenseCost::new(cost.view()).unwrap();
    let exact = NetworkSimplex::default()
        .solve(&LinearProblem::uniform(&dense).unwrap())
        .unwrap()
        .cost();
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .and_then(|c| c.with_scale(ScaleCost::Max))
        .unwrap();
    let problem = LinearProblem::uniform(&cloud).unwrap();
    // LR OT is non-convex: a random start can merge two clusters into one factor (seed 0
    // does here, at 5× the cost). The rank-2 start and the best of three seeds are close.
    let mut best_random = f64::INFINITY;
    for init in [
        LowRankInit::Random { seed: 0 },
        LowRankInit::Random { seed: 1 },
        LowRankInit::Random { seed: 2 },
        LowRankInit::Rank2,
    ] {
        let solver = LowRankSinkhorn {
            init,
            ..LowRankSinkhorn::new(4)
        };
        let out = solver.solve(&problem).unwrap();
        // Converged means the marginals reached inner_threshold (1e-5 by default).
        let err = out.marginal_error();
        assert!(
            err < 1e-3 && (!out.converged() || err <= 1e-5),
            "{init:?}: {err:e}"
        );
        // A (nearly) feasible coupling never beats the optimum.
        assert!(
            out.cost() >= exact * (1.0 - 1e-4),
            "{init:?}: {} < {exact}",
            out.cost()
        );
        // The factors' constraints.
        let g = out.g();
        assert!(
            (g.sum() - 1.0).abs() <= err + 1e-12,
            "{init:?}: sum g - 1 = {:e}, err {err:e}, conv {}",
            g.sum() - 1.0,
            out.converged()
        );
        let qcols = out.q().sum_axis(ndarray::Axis(0));
        let rcols = out.r().sum_axis(ndarray::Axis(0));
        assert!((&qcols - &g).iter().all(|d| d.abs() < 1e-9));
        assert!((&rcols - &g).iter().all(|d| d.abs() < 1e-9));
        // ⟨C, P⟩ of the materialized plan equals the linear-time cost.
        let plan = out.plan(1 << 30).unwrap();
        assert_close((&plan * &cost).sum(), out.cost(), 1e-10, "cost");
        let v = Array2::from_shape_fn((200, 2), |(j, k)| (j * (k + 1)) as f64 * 0.01);
        let applied = out.apply(Axis::Rows, v.view()).unwrap();
        assert!(max_abs_diff(&applied, &plan.dot(&v)) < 1e-12);
        match init {
            LowRankInit::Rank2 => {
                assert!(
                    out.converged(),
                    "rank-2 start: {} iterations",
                    out.iterations()
                );
                assert!(
                    out.cost() <= 1.02 * exact,
                    "rank-2 start: {} vs {exact}",
                    out.cost()
                );
            }
            LowRankInit::Random { .. } => best_random = best_random.min(out.cost()),
        }
    }
    assert!(
        best_random <= 1.02 * exact,
        "best random start {best_random} vs {exact}"
    );
}

#[test]
fn stored_and_factored_costs_give_the_same_factors() {
    let mut rng = Rng::new(9);
    let (x, y) = (rng.normal_matrix(60, 3), rng.normal_matrix(50, 3));
    let cost = sq_euclidean(&x, &y);
    let dense = DenseCost::new(cost.view()).unwrap();
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let a = rng.weights(60, 1.0);
    let b = uniform(50);
    let solver = LowRankSinkhorn::new(5);
    let d = solver
        .solve(&LinearProblem::new(&dense, a.view(), b.view()).unwrap())
        .unwrap();
    let c = solver
        .solve(&LinearProblem::new(&cloud, a.view(), b.view()).unwrap())
        .unwrap();
    assert_eq!(d.iterations(), c.iterations());
    assert_close(d.cost(), c.cost(), 1e-9, "cost");
    assert!(max_abs_diff(&d.q().to_owned(), &c.q().to_owned()) < 1e-9);
}

#[test]
fn rank_one_is_the_product_coupling() {
    let mut rng = Rng::new(4);
    let cost = rng.uniform_matrix(7, 9);
    let geom = DenseCost::new(cost.view()).unwrap();
    let (a, b) = (rng.weights(7, 1.0), rng.weights(9, 1.0));
    let out = LowRankSinkhorn::new(1)
        .solve(&LinearProblem::new(&geom, a.view(), b.view()).unwrap())
        .unwrap();
    assert_close(out.cost(), a.dot(&cost.dot(&b)), 1e-12, "a^T C b");
}

#[test]
fn bad_low_rank_settings_name_their_argument() {
    let geom = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]]).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let arg = |e: Error| match e {
        Error::InvalidParameter { arg, .. } => arg,
        other => panic!("unexpected {other}"),
    };
    for (solver, name) in [
        (LowRankSinkhorn::new(0), "rank"),
        (LowRankSinkhorn::new(3), "rank"),
        (
            LowRankSinkhorn {
                gamma: 0.0,
                ..LowRankSinkhorn::new(1)
            },
            "gamma",
        ),
        (
            LowRankSinkhorn {
                gamma: f64::NAN,
                ..LowRankSinkhorn::new(1)
            },
            "gamma",
        ),
        (
            LowRankSinkhorn {
                epsilon: -1.0,
                ..LowRankSinkhorn::new(1)
            },
            "epsilon",
        ),
        (
            LowRankSinkhorn {
                threshold: f64::NAN,
                ..LowRankSinkhorn::new(1)
            },
            "threshold",
        ),
        (
            LowRankSinkhorn {
                min_g: 0.6,
                ..LowRankSinkhorn::new(2)
            },
            "min_g",
        ),
        (
            LowRankSinkhorn {
                max_iterations: 0,
                ..LowRankSinkhorn::new(1)
            },
            "max_iterations",
        ),
    ] {
        assert_eq!(arg(solver.solve(&problem).unwrap_err()), name);
    }
    let kl = MarginalPenalty::Kl { rho: 1.0 };
    let unbalanced = LinearProblem::unbalanced(&geom, uniform(2), uniform(2), kl, kl).unwrap();
    assert_eq!(
        arg(LowRankSinkhorn::new(1).solve(&unbalanced).unwrap_err()),
        "problem"
    );
}
