//! Batched problems (issue 19, capability 2): `k` problems sharing one geometry, solved
//! together, give each problem the output it gets alone, bit for bit (stored costs small and
//! large, point clouds, f32; balanced, unbalanced with translation-invariant updates,
//! semi-relaxed, total variation); problems converge on their own; errors name the problem.

mod common;

use common::Rng;
use ndarray::{Array1, Array2, ArrayView2, array};
use otters::geometry::{Axis, DenseCost, Geometry, PointCloud, Sweep};
use otters::linear::{
    Acceleration, Epsilon, LinearProblemBatch, MarginalPenalty, Potentials, Sinkhorn,
};
use otters::{Error, Observer, Progress};

fn weights(rng: &mut Rng, k: usize, n: usize) -> Array2<f64> {
    let mut w = Array2::zeros((k, n));
    for mut row in w.rows_mut() {
        row.assign(&rng.weights(n, 1.0));
    }
    w
}

/// Every output of the batch equals the solve of its problem alone, bit for bit.
fn check_batch(
    geom: &dyn Geometry,
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    penalty: MarginalPenalty,
    solver: &Sinkhorn,
) -> Vec<usize> {
    let batch = LinearProblemBatch::new(geom, a, b, penalty, penalty).unwrap();
    let outs = solver.solve_batch(&batch).unwrap();
    assert_eq!(outs.len(), batch.len());
    outs.iter()
        .zip(batch.problems())
        .map(|(out, problem)| {
            let alone = solver.solve(problem).unwrap();
            assert_eq!(out.f(), alone.f(), "{penalty:?}");
            assert_eq!(out.g(), alone.g(), "{penalty:?}");
            assert_eq!(out.errors(), alone.errors(), "{penalty:?}");
            assert_eq!(out.converged(), alone.converged());
            out.iterations()
        })
        .collect()
}

#[test]
fn batched_solves_equal_single_solves_on_stored_costs() {
    let mut rng = Rng::new(1);
    // 40 × 50: Gibbs-kernel sweeps; 700 × 1600: streamed sweeps and fused iterations.
    for (n, m) in [(40, 50), (700, 1600)] {
        let x = rng.normal_matrix(n, 2);
        let y = rng.normal_matrix(m, 2) + 0.3;
        let c = common::sq_euclidean(&x, &y);
        let c32 = c.mapv(|v| v as f32);
        let dense = DenseCost::new(c.view()).unwrap();
        let dense32 = DenseCost::new(c32.view()).unwrap();
        let a = weights(&mut rng, 1, n);
        let b = weights(&mut rng, 4, m);
        for geom in [&dense as &dyn Geometry, &dense32] {
            for (penalty, eps) in [
                (MarginalPenalty::Hard, 0.05),
                (MarginalPenalty::Kl { rho: 0.5 }, 0.05),
                (MarginalPenalty::TotalVariation { rho: 0.3 }, 0.1),
            ] {
                let its = check_batch(
                    geom,
                    a.view(),
                    b.view(),
                    penalty,
                    &Sinkhorn::new(Epsilon::Absolute(eps)),
                );
                assert!(its.iter().all(|&i| i > 3), "{its:?}");
            }
            // Semi-relaxed: a hard source marginal, a KL target one.
            let batch = LinearProblemBatch::new(
                geom,
                a.view(),
                b.view(),
                MarginalPenalty::Hard,
                MarginalPenalty::Kl { rho: 1.0 },
            )
            .unwrap();
            let solver = Sinkhorn {
                acceleration: Acceleration::AdaptiveRelaxation,
                ..Sinkhorn::new(Epsilon::Absolute(0.05))
            };
            for (out, problem) in solver
                .solve_batch(&batch)
                .unwrap()
                .iter()
                .zip(batch.problems())
            {
                assert_eq!(out.f(), solver.solve(problem).unwrap().f());
            }
        }
    }
}

#[test]
fn batched_solves_equal_single_solves_on_point_clouds() {
    let mut rng = Rng::new(2);
    let x = rng.normal_matrix(600, 3);
    let y = rng.normal_matrix(500, 3);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let cloud32 = cloud.clone().with_precision::<f32>();
    let a = weights(&mut rng, 3, 600);
    let b = weights(&mut rng, 3, 500);
    for geom in [&cloud as &dyn Geometry, &cloud32] {
        check_batch(
            geom,
            a.view(),
            b.view(),
            MarginalPenalty::Hard,
            &Sinkhorn::new(Epsilon::Absolute(0.2)),
        );
    }
}

/// Problems leave the batch when they converge: one easy and one hard problem take their
/// own numbers of iterations, and the batch reports the largest error still running.
#[test]
fn each_problem_stops_when_it_converges() {
    let mut rng = Rng::new(3);
    let n = 60;
    let x = rng.normal_matrix(n, 1);
    let c = common::sq_euclidean(&x, &x);
    let geom = DenseCost::new(c.view()).unwrap();
    let a = Array2::from_elem((1, n), 1.0 / n as f64);
    // Identical marginals (converges at once) and a far target.
    let mut far = Array1::from_shape_fn(n, |i| if x[[i, 0]] > 1.0 { 1.0 } else { 1e-3 });
    far /= far.sum();
    let mut b = Array2::zeros((2, n));
    b.row_mut(0).assign(&a.row(0));
    b.row_mut(1).assign(&far);
    let its = check_batch(
        &geom,
        a.view(),
        b.view(),
        MarginalPenalty::Hard,
        &Sinkhorn::new(Epsilon::Absolute(0.01)),
    );
    assert!(its[0] < its[1], "{its:?}");
    // Progress: one report per iteration of the longest problem.
    let reports = std::sync::Mutex::new(Vec::new());
    let log = |p: &Progress| reports.lock().unwrap().push(p.error);
    let batch = LinearProblemBatch::new(
        &geom,
        a.view(),
        b.view(),
        MarginalPenalty::Hard,
        MarginalPenalty::Hard,
    )
    .unwrap();
    let outs = Sinkhorn::new(Epsilon::Absolute(0.01))
        .solve_batch_with(&batch, None, &Observer::new().with_progress(&log))
        .unwrap();
    let reports = reports.into_inner().unwrap();
    assert_eq!(reports.len(), its[1]);
    assert_eq!(*reports.last().unwrap(), outs[1].marginal_error());
}

/// Warm starts, one per problem, give the single warm-started solves.
#[test]
fn warm_starts_per_problem() {
    let mut rng = Rng::new(4);
    let c = rng.uniform_matrix(30, 20);
    let geom = DenseCost::new(c.view()).unwrap();
    let (a, b) = (weights(&mut rng, 2, 30), weights(&mut rng, 2, 20));
    let batch = LinearProblemBatch::new(
        &geom,
        a.view(),
        b.view(),
        MarginalPenalty::Hard,
        MarginalPenalty::Hard,
    )
    .unwrap();
    let solver = Sinkhorn::new(Epsilon::Absolute(0.05));
    let first = solver.solve_batch(&batch).unwrap();
    let init: Vec<Potentials<'_>> = first
        .iter()
        .map(|o| Potentials { f: o.f(), g: o.g() })
        .collect();
    let warm = solver
        .solve_batch_with(&batch, Some(&init), &Observer::new())
        .unwrap();
    for (p, (w, problem)) in warm.iter().zip(batch.problems()).enumerate() {
        let alone = solver
            .solve_with(problem, Some(init[p]), &Observer::new())
            .unwrap();
        assert_eq!(w.f(), alone.f());
        assert!(w.iterations() <= 2, "{}", w.iterations());
    }
    let err = solver
        .solve_batch_with(&batch, Some(&init[..1]), &Observer::new())
        .unwrap_err();
    assert_eq!(err.argument(), Some("init"));
}

/// Bad batches: row counts other than 1 or k, and a problem's bad weights, named.
#[test]
fn bad_batches_name_the_argument_and_the_problem() {
    let geom = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]]).unwrap();
    let a = array![[0.5, 0.5], [0.5, 0.5]];
    let b3 = array![[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]];
    let hard = MarginalPenalty::Hard;
    let err = LinearProblemBatch::new(&geom, a.view(), b3.view(), hard, hard).unwrap_err();
    assert_eq!(err.argument(), Some("a"));
    assert!(err.to_string().contains("1 or 3 rows"), "{err}");
    let bad = array![[0.5, 0.5], [0.2, f64::NAN], [0.9, 0.1]];
    let err = LinearProblemBatch::new(
        &geom,
        a.row(0).insert_axis(ndarray::Axis(0)),
        bad.view(),
        hard,
        hard,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InBatch { problem: 1, .. }), "{err}");
    assert_eq!(err.argument(), Some("b"));
    assert!(
        err.to_string().starts_with("problem 1 of the batch"),
        "{err}"
    );
    let unequal = array![[0.5, 0.5], [0.2, 0.9]];
    let err = LinearProblemBatch::new(&geom, a.view(), unequal.view(), hard, hard).unwrap_err();
    assert!(matches!(err, Error::InBatch { problem: 1, .. }), "{err}");
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(LinearProblemBatch::new(&geom, empty.view(), b3.view(), hard, hard).is_err());
}

/// A batched sweep reads the cost once for every problem and gives each problem the bits of
/// its own sweep, for every geometry (a grid included).
#[test]
fn batched_sweeps_of_every_geometry() {
    let mut rng = Rng::new(6);
    let x = rng.normal_matrix(70, 2);
    let y = rng.normal_matrix(90, 2);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let axis1 = Array1::linspace(0.0, 1.0, 7);
    let axis2 = Array1::linspace(0.0, 1.0, 10);
    let grid = otters::geometry::Grid::new(&[axis1.view(), axis2.view()]).unwrap();
    for geom in [&cloud as &dyn Geometry, &grid] {
        let (n, m) = geom.shape();
        let h = rng.normal_matrix(3, m);
        let mut out = Array2::zeros((3, n));
        let sweep = Sweep {
            axis: Axis::Rows,
            epsilon: 0.1,
            h: h.view(),
            guess: None,
        };
        geom.softmin_batch(&sweep, out.view_mut()).unwrap();
        for p in 0..3 {
            let mut one = Array1::zeros(n);
            geom.softmin(Axis::Rows, 0.1, h.row(p), one.view_mut())
                .unwrap();
            assert_eq!(out.row(p), one);
        }
    }
}
