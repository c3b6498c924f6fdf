//! Semi-discrete OT (ALGORITHMS.md L11): assignment frequencies match the target weights on
//! fresh samples, the 1-D solution is the quantile split, and bad inputs are refused.

use ndarray::{Array1, Array2, Axis, array, s};
use otters::Error;
use otters::Observer;
use otters::geometry::SqEuclidean;
use otters::linear::{SemiDiscrete, SemiDiscreteProblem};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform_square(rng: &mut dyn RngCore, k: usize) -> otters::Result<Array2<f64>> {
    Ok(Array2::from_shape_fn((k, 2), |_| rng.random::<f64>()))
}

fn uniform_interval(rng: &mut dyn RngCore, k: usize) -> otters::Result<Array2<f64>> {
    Ok(Array2::from_shape_fn((k, 1), |_| rng.random::<f64>()))
}

/// 20 targets in the unit square with weights in a 1 : 3 range.
fn targets(seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let y = Array2::from_shape_fn((20, 2), |_| rng.random::<f64>());
    let mut b = Array1::from_shape_fn(20, |_| 0.5 + rng.random::<f64>());
    b /= b.sum();
    (y, b)
}

fn fresh_samples(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| rng.random::<f64>())
}

fn max_deviation(labels: &Array1<usize>, b: &Array1<f64>) -> f64 {
    let mut counts = Array1::<f64>::zeros(b.len());
    for &j in labels {
        counts[j] += 1.0;
    }
    counts /= labels.len() as f64;
    (&counts - b).mapv(f64::abs).fold(0.0, |a, &v| a.max(v))
}

#[test]
fn hard_assignment_frequencies_match_the_weights() {
    let (y, b) = targets(3);
    let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
    let out = SemiDiscrete::new(0.0)
        .solve(&problem, uniform_square)
        .unwrap();
    assert!(out.converged(), "marginal error {}", out.marginal_error());
    assert!(out.g().iter().all(|v| v.is_finite()));
    // 200 000 fresh samples: the sampling noise on each frequency is ≈ 5e-4.
    let x = fresh_samples(200_000, 2, 99);
    let labels = out.assign(&problem, x.view()).unwrap();
    let dev = max_deviation(&labels, &b);
    assert!(dev < 4e-3, "max deviation {dev}");
    assert!(out.max_deviation() < 4e-3, "{}", out.max_deviation());
    // The test can fail: the Voronoi cells (g = 0) miss the weights by far more.
    let zero = SemiDiscrete {
        max_iterations: 1,
        learning_rate: 1e-12,
        ..SemiDiscrete::new(0.0)
    }
    .solve(&problem, uniform_square)
    .unwrap();
    let voronoi = max_deviation(&zero.assign(&problem, x.view()).unwrap(), &b);
    assert!(voronoi > 5.0 * dev && voronoi > 0.02, "voronoi {voronoi}");
    // The map at ε = 0 sends each point to the target of its cell.
    let mapped = out.transport(&problem, x.slice(s![..50, ..])).unwrap();
    for (i, &j) in labels.iter().take(50).enumerate() {
        assert_eq!(mapped.row(i), y.row(j));
    }
}

#[test]
fn soft_assignment_frequencies_match_the_weights() {
    let (y, b) = targets(5);
    let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
    let out = SemiDiscrete::new(0.01)
        .solve(&problem, uniform_square)
        .unwrap();
    assert!(out.converged());
    let x = fresh_samples(100_000, 2, 7);
    let w = out.assignment_weights(&problem, x.view()).unwrap();
    for row in w.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    let mean = w.mean_axis(Axis(0)).unwrap();
    let dev = (&mean - &b).mapv(f64::abs).fold(0.0, |a: f64, &v| a.max(v));
    assert!(dev < 4e-3, "max deviation {dev}");
    // The entropic map is the barycentric projection of the soft assignment.
    let t = out.transport(&problem, x.slice(s![..3, ..])).unwrap();
    let want = w.slice(s![..3, ..]).dot(&y);
    assert!((&t - &want).mapv(f64::abs).sum() < 1e-12);
}

/// Uniform source on [0, 1], sorted targets: the optimal ε = 0 cells are the intervals
/// `[B_{j−1}, B_j]` with `B` the cumulative weights, and the cost is
/// `Σ_j ∫_{B_{j−1}}^{B_j} (x − y_j)² dx`.
#[test]
fn one_dimensional_cells_are_the_quantile_intervals() {
    let y = array![[0.05], [0.2], [0.3], [0.55], [0.6], [0.9], [0.97]];
    let b = array![0.1, 0.25, 0.05, 0.2, 0.1, 0.2, 0.1];
    let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
    let solver = SemiDiscrete {
        max_iterations: 4000,
        ..SemiDiscrete::new(0.0)
    };
    let out = solver.solve(&problem, uniform_interval).unwrap();
    let g = out.g();
    let mut cumulative = 0.0;
    let mut exact_cost = 0.0;
    for j in 0..y.nrows() {
        let lo = cumulative;
        cumulative += b[j];
        let yj = y[[j, 0]];
        exact_cost += ((cumulative - yj).powi(3) - (lo - yj).powi(3)) / 3.0;
        if j + 1 < y.nrows() {
            // The boundary where (t − y_j)² − g_j = (t − y_{j+1})² − g_{j+1}.
            let (y0, y1) = (yj, y[[j + 1, 0]]);
            let t = (y1 * y1 - y0 * y0 - (g[j + 1] - g[j])) / (2.0 * (y1 - y0));
            assert!(
                (t - cumulative).abs() < 3e-3,
                "boundary {j}: {t} vs {cumulative}"
            );
        }
    }
    let rel = (out.dual_cost() - exact_cost).abs() / exact_cost;
    assert!(rel < 0.02, "dual {} vs exact {exact_cost}", out.dual_cost());
    // Points well inside an interval go to its target.
    let labels = out
        .assign(
            &problem,
            array![[0.02], [0.3], [0.37], [0.5], [0.95]].view(),
        )
        .unwrap();
    assert_eq!(labels.to_vec(), vec![0, 1, 2, 3, 6]);
}

#[test]
fn a_fixed_sample_gives_its_empirical_measure_and_runs_are_reproducible() {
    let (y, b) = targets(11);
    let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
    let x = fresh_samples(50_000, 2, 1);
    let solver = SemiDiscrete::new(0.0);
    let out = solver
        .solve_empirical(&problem, x.view(), &Observer::new())
        .unwrap();
    let dev = max_deviation(&out.assign(&problem, x.view()).unwrap(), &b);
    assert!(dev < 5e-3, "max deviation on the sample {dev}");
    let again = solver
        .solve_empirical(&problem, x.view(), &Observer::new())
        .unwrap();
    assert_eq!(out.g(), again.g());
    let other_seed = SemiDiscrete { seed: 1, ..solver }
        .solve_empirical(&problem, x.view(), &Observer::new())
        .unwrap();
    assert_ne!(out.g(), other_seed.g());
}

#[test]
fn zero_weight_targets_are_never_assigned() {
    let y = array![[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]];
    let b = array![0.5, 0.0, 0.5];
    let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
    for eps in [0.0, 0.05] {
        let out = SemiDiscrete {
            max_iterations: 200,
            ..SemiDiscrete::new(eps)
        }
        .solve(&problem, uniform_square)
        .unwrap();
        assert_eq!(out.g()[1], f64::NEG_INFINITY);
        let x = fresh_samples(1000, 2, 4);
        assert!(
            out.assign(&problem, x.view())
                .unwrap()
                .iter()
                .all(|&j| j != 1)
        );
        let w = out.assignment_weights(&problem, x.view()).unwrap();
        assert!(w.column(1).iter().all(|&v| v == 0.0));
        assert!(w.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn bad_inputs_name_the_argument() {
    let y = array![[0.0, 0.0], [1.0, 1.0]];
    let err = SemiDiscreteProblem::new(y.view(), array![0.5].view(), SqEuclidean).unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "b", .. }), "{err}");
    let err =
        SemiDiscreteProblem::new(y.view(), array![0.5, -0.1].view(), SqEuclidean).unwrap_err();
    assert_eq!(err.argument(), Some("b"));
    let err =
        SemiDiscreteProblem::uniform(array![[0.0, f64::NAN]].view(), SqEuclidean).unwrap_err();
    assert_eq!(err.argument(), Some("y"));
    let err =
        SemiDiscreteProblem::uniform(Array2::<f64>::zeros((0, 2)).view(), SqEuclidean).unwrap_err();
    assert_eq!(err.argument(), Some("y"));

    let problem = SemiDiscreteProblem::uniform(y.view(), SqEuclidean).unwrap();
    let solver = SemiDiscrete {
        max_iterations: 10,
        ..SemiDiscrete::new(0.0)
    };
    let wrong_dim = |_: &mut dyn RngCore, k: usize| Ok(Array2::zeros((k, 3)));
    let err = solver.solve(&problem, wrong_dim).unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "sampler", .. }), "{err}");
    let short = |_: &mut dyn RngCore, k: usize| Ok(Array2::zeros((k - 1, 2)));
    let err = solver.solve(&problem, short).unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "sampler", .. }), "{err}");
    let nan = |_: &mut dyn RngCore, k: usize| Ok(Array2::from_elem((k, 2), f64::NAN));
    let err = solver.solve(&problem, nan).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { arg: "sampler", .. }),
        "{err}"
    );
    let failing = |_: &mut dyn RngCore, _: usize| -> otters::Result<Array2<f64>> {
        Err(Error::Interrupted { iteration: 0 })
    };
    assert!(matches!(
        solver.solve(&problem, failing),
        Err(Error::Interrupted { .. })
    ));
    let err = solver
        .solve_empirical(&problem, array![[0.0]].view(), &Observer::new())
        .unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "x", .. }), "{err}");

    let out = solver.solve(&problem, uniform_square).unwrap();
    let err = out
        .assign(&problem, array![[0.0, 0.0, 0.0]].view())
        .unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "x", .. }), "{err}");
    let err = out
        .assignment_weights(&problem, array![[f64::INFINITY, 0.0]].view())
        .unwrap_err();
    assert_eq!(err.argument(), Some("x"));
    let other = SemiDiscreteProblem::uniform(array![[0.0, 0.0]].view(), SqEuclidean).unwrap();
    let err = out.assign(&other, array![[0.0, 0.0]].view()).unwrap_err();
    assert_eq!(err.argument(), Some("problem"));
    // No point: an empty answer, not an error.
    assert_eq!(
        out.assign(&problem, Array2::zeros((0, 2)).view())
            .unwrap()
            .len(),
        0
    );
}
