//! Gradients of the regularized cost (ALGORITHMS.md X1) against central finite differences
//! of re-solved problems.

mod common;

use common::{Rng, assert_close};
use ndarray::{Array1, Array2};
use otters::geometry::{CostFn, Euclidean, PointCloud, SqEuclidean};
use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn};

fn solver() -> Sinkhorn {
    Sinkhorn {
        threshold: 1e-13,
        max_iterations: 100_000,
        ..Sinkhorn::new(Epsilon::Absolute(0.5))
    }
}

fn value<C: CostFn>(
    x: &Array2<f64>,
    y: &Array2<f64>,
    cost: C,
    a: &Array1<f64>,
    b: &Array1<f64>,
    pa: MarginalPenalty,
    pb: MarginalPenalty,
) -> f64 {
    let geom = PointCloud::new(x.view(), y.view(), cost).unwrap();
    let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, pb).unwrap();
    let out = solver().solve(&problem).unwrap();
    assert!(out.converged());
    out.reg_ot_cost()
}

fn data() -> (Array2<f64>, Array2<f64>, Array1<f64>, Array1<f64>) {
    let mut rng = Rng::new(21);
    (
        rng.normal_matrix(9, 2),
        rng.normal_matrix(7, 2),
        rng.weights(9, 1.0),
        rng.weights(7, 1.3),
    )
}

#[test]
fn weight_gradients_of_unbalanced_problems_match_finite_differences() {
    let (x, y, a, b) = data();
    let kl = MarginalPenalty::Kl { rho: 0.8 };
    for (pa, pb) in [
        (kl, kl),
        (MarginalPenalty::Hard, kl),
        (kl, MarginalPenalty::Hard),
    ] {
        let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, pb).unwrap();
        let out = solver().solve(&problem).unwrap();
        let (ga, gb) = (out.grad_a(), out.grad_b());
        let h = 1e-6;
        for i in [0, 4, 8] {
            let (mut ap, mut am) = (a.clone(), a.clone());
            ap[i] += h;
            am[i] -= h;
            let fd = (value(&x, &y, SqEuclidean, &ap, &b, pa, pb)
                - value(&x, &y, SqEuclidean, &am, &b, pa, pb))
                / (2.0 * h);
            assert_close(ga[i], fd, 1e-6, &format!("{pa:?}/{pb:?} d/da[{i}]"));
        }
        for j in [0, 6] {
            let (mut bp, mut bm) = (b.clone(), b.clone());
            bp[j] += h;
            bm[j] -= h;
            let fd = (value(&x, &y, SqEuclidean, &a, &bp, pa, pb)
                - value(&x, &y, SqEuclidean, &a, &bm, pa, pb))
                / (2.0 * h);
            assert_close(gb[j], fd, 1e-6, &format!("{pa:?}/{pb:?} d/db[{j}]"));
        }
    }
}

#[test]
fn balanced_weight_gradients_are_the_projected_derivative() {
    let (x, y, a, b) = data();
    let b = &b * (a.sum() / b.sum());
    let hard = MarginalPenalty::Hard;
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = solver().solve(&problem).unwrap();
    let ga = out.grad_a();
    assert!(
        ga.sum().abs() < 1e-12,
        "projected onto the simplex's tangent space"
    );
    // Moving mass from a_k to a_i keeps the problem balanced: d/dt = g_i − g_k.
    let h = 1e-6;
    for (i, k) in [(0, 3), (5, 8)] {
        let (mut ap, mut am) = (a.clone(), a.clone());
        ap[i] += h;
        ap[k] -= h;
        am[i] -= h;
        am[k] += h;
        let fd = (value(&x, &y, SqEuclidean, &ap, &b, hard, hard)
            - value(&x, &y, SqEuclidean, &am, &b, hard, hard))
            / (2.0 * h);
        assert_close(ga[i] - ga[k], fd, 1e-6, &format!("mass from {k} to {i}"));
    }
}

fn check_point_gradients<C: CostFn + Copy>(cost: C, label: &str) {
    let (x, y, a, b) = data();
    let kl = MarginalPenalty::Kl { rho: 2.0 };
    for (pa, pb) in [(MarginalPenalty::Hard, MarginalPenalty::Hard), (kl, kl)] {
        let b = if pa.is_hard() {
            &b * (a.sum() / b.sum())
        } else {
            b.clone()
        };
        let geom = PointCloud::new(x.view(), y.view(), cost).unwrap();
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, pb).unwrap();
        let out = solver().solve(&problem).unwrap();
        let (gx, gy) = (out.grad_x(&geom).unwrap(), out.grad_y(&geom).unwrap());
        let h = 1e-6;
        for (i, k) in [(0, 0), (3, 1), (8, 1)] {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[[i, k]] += h;
            xm[[i, k]] -= h;
            let fd = (value(&xp, &y, cost, &a, &b, pa, pb) - value(&xm, &y, cost, &a, &b, pa, pb))
                / (2.0 * h);
            assert_close(
                gx[[i, k]],
                fd,
                1e-6,
                &format!("{label} {pa:?}: d/dx[{i},{k}]"),
            );
        }
        for (j, k) in [(0, 1), (6, 0)] {
            let (mut yp, mut ym) = (y.clone(), y.clone());
            yp[[j, k]] += h;
            ym[[j, k]] -= h;
            let fd = (value(&x, &yp, cost, &a, &b, pa, pb) - value(&x, &ym, cost, &a, &b, pa, pb))
                / (2.0 * h);
            assert_close(
                gy[[j, k]],
                fd,
                1e-6,
                &format!("{label} {pa:?}: d/dy[{j},{k}]"),
            );
        }
    }
}

#[test]
fn point_gradients_match_finite_differences() {
    check_point_gradients(SqEuclidean, "sqeuclidean");
    check_point_gradients(Euclidean, "euclidean");
}

#[test]
fn costs_without_gradient_say_so() {
    let (x, y, _, _) = data();
    let geom = PointCloud::new(
        x.view(),
        y.view(),
        otters::geometry::Custom::new(|p: &[f64], q: &[f64]| (p[0] - q[0]).abs()),
    )
    .unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.5))
        .solve(&problem)
        .unwrap();
    let err = out.grad_x(&geom).unwrap_err();
    assert_eq!(err.argument(), Some("cost_fn"));
}
