//! Sinkhorn initializers (ALGORITHMS.md L5): the same solution as a cold start, in fewer
//! iterations.

mod common;

use common::Rng;
use ndarray::{Array1, Array2};
use otters::Observer;
use otters::gaussian::gaussian_init;
use otters::geometry::{Geometry, PointCloud};
use otters::linear::{
    Acceleration, Epsilon, LinearProblem, Potentials, Sinkhorn, sorting_init, subsample_init,
};

fn clouds(rng: &mut Rng, n: usize) -> (Array2<f64>, Array2<f64>) {
    let x = rng.normal_matrix(n, 2);
    // An anisotropic, shifted and rotated target.
    let y = Array2::from_shape_fn((n, 2), |_| rng.normal());
    let y = y.dot(&ndarray::array![[1.5, 0.4], [-0.2, 0.6]]) + &ndarray::array![2.0, -1.0];
    (x, y)
}

#[test]
fn initializers_reach_the_same_solution_in_fewer_iterations() {
    let mut rng = Rng::new(17);
    let n = 200;
    let (x, y) = clouds(&mut rng, n);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let eps = 0.005 * cloud.summary().mean;
    let problem = LinearProblem::uniform(&cloud).unwrap();
    let solver = Sinkhorn {
        threshold: 1e-6,
        max_iterations: 20_000,
        // Plain updates, so that the iteration counts measure the initializers alone.
        acceleration: Acceleration::None,
        ..Sinkhorn::new(Epsilon::Absolute(eps))
    };
    let cold = solver.solve(&problem).unwrap();
    assert!(cold.converged());
    let w = Array1::from_elem(n, 1.0 / n as f64);
    let zeros = Array1::zeros(n);
    // (name, start, largest accepted iteration ratio warm/cold: measured 0.67 and 0.88).
    // (name, start, largest accepted iteration ratio warm/cold; measured 0.67 and 0.88).
    let starts = [
        (
            "gaussian",
            gaussian_init(x.view(), y.view(), w.view(), w.view(), 1.0).unwrap(),
            0.75,
        ),
        (
            "subsample",
            subsample_init(&cloud, w.view(), eps, 50, 7).unwrap(),
            0.95,
        ),
    ];
    for (name, f0, max_ratio) in starts {
        let warm = solver
            .solve_with(
                &problem,
                Some(Potentials {
                    f: f0.view(),
                    g: zeros.view(),
                }),
                &Observer::new(),
            )
            .unwrap();
        assert!(warm.converged(), "{name}");
        let (c0, c1) = (cold.reg_ot_cost(), warm.reg_ot_cost());
        assert!(
            (c0 - c1).abs() < 1e-7 * c0.abs(),
            "{name}: cost {c1} vs cold {c0}"
        );
        // The plans agree (potentials may drift between weakly coupled regions at small ε,
        // where they are ill-conditioned; the plan is not).
        let (p0, p1) = (cold.plan(&problem).unwrap(), warm.plan(&problem).unwrap());
        let gap = (&p0 - &p1).iter().fold(0.0f64, |m, v| m.max(v.abs())) * n as f64;
        assert!(
            gap < 1e-4,
            "{name}: plans differ by {gap:e} (relative to 1/n)"
        );
        assert!(
            (warm.iterations() as f64) <= max_ratio * cold.iterations() as f64,
            "{name}: {} iterations vs {} cold",
            warm.iterations(),
            cold.iterations()
        );
        eprintln!(
            "{name}: {} vs {} cold",
            warm.iterations(),
            cold.iterations()
        );
    }
}

#[test]
fn sorting_init_starts_one_dimensional_problems_near_the_solution() {
    let mut rng = Rng::new(29);
    let (n, m) = (200, 150);
    let x = rng.normal_matrix(n, 1);
    let y = rng.normal_matrix(m, 1) * 0.7 + 1.0;
    let (a, b) = (rng.weights(n, 1.0), rng.weights(m, 1.0));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::new(&cloud, a.view(), b.view()).unwrap();
    let solver = Sinkhorn {
        threshold: 1e-7,
        max_iterations: 50_000,
        acceleration: Acceleration::None,
        ..Sinkhorn::new(Epsilon::Absolute(1e-2))
    };
    let cold = solver.solve(&problem).unwrap();
    let f0 = sorting_init(x.view(), y.view(), a.view(), b.view(), 1.0).unwrap();
    let zeros = Array1::zeros(m);
    let warm = solver
        .solve_with(
            &problem,
            Some(Potentials {
                f: f0.view(),
                g: zeros.view(),
            }),
            &Observer::new(),
        )
        .unwrap();
    assert!(cold.converged() && warm.converged());
    let (c0, c1) = (cold.reg_ot_cost(), warm.reg_ot_cost());
    assert!((c0 - c1).abs() < 1e-7 * c0.abs(), "cost {c1} vs cold {c0}");
    // The exact dual is within O(ε) of the entropic one: the transient is skipped
    // (measured 1219 vs 2228 iterations).
    assert!(
        (warm.iterations() as f64) <= 0.65 * cold.iterations() as f64,
        "{} iterations vs {} cold",
        warm.iterations(),
        cold.iterations()
    );
    // Only 1-D clouds.
    let x2 = rng.normal_matrix(5, 2);
    let w = Array1::from_elem(5, 0.2);
    let err = sorting_init(x2.view(), x2.view(), w.view(), w.view(), 1.0).unwrap_err();
    assert_eq!(err.argument(), Some("x"), "{err}");
}

#[test]
fn gaussian_init_is_the_exact_potential_for_an_affine_map() {
    // y = A x + t with A symmetric positive: the Brenier map is exactly that, and
    // f(x_i) + g(y_i) = ‖x_i − y_i‖² for g the c-transform (a zero-gap dual pair).
    let mut rng = Rng::new(3);
    let n = 300;
    let x = rng.normal_matrix(n, 2);
    let a_map = ndarray::array![[1.4, 0.3], [0.3, 0.8]];
    let y = x.dot(&a_map) + &ndarray::array![0.5, -2.0];
    let w = Array1::from_elem(n, 1.0 / n as f64);
    let f = gaussian_init(x.view(), y.view(), w.view(), w.view(), 1.0).unwrap();
    // g(y_j) = min_i ‖x_i − y_j‖² − f_i (the c-transform); then f_i + g(y_i) = c(x_i, y_i).
    for i in (0..n).step_by(37) {
        let g_i = (0..n)
            .map(|k| {
                let d = &x.row(k) - &y.row(i);
                d.dot(&d) - f[k]
            })
            .fold(f64::INFINITY, f64::min);
        let d = &x.row(i) - &y.row(i);
        assert!((f[i] + g_i - d.dot(&d)).abs() < 1e-9, "point {i}");
    }
}

#[test]
fn initializers_refuse_bad_inputs() {
    let mut rng = Rng::new(1);
    let (x, y) = clouds(&mut rng, 20);
    let w = Array1::from_elem(20, 0.05);
    let short = Array1::from_elem(19, 1.0 / 19.0);
    let err = gaussian_init(x.view(), y.view(), short.view(), w.view(), 1.0).unwrap_err();
    assert_eq!(err.argument(), Some("a"));
    let err = gaussian_init(x.view(), y.view(), w.view(), w.view(), 0.0).unwrap_err();
    assert_eq!(err.argument(), Some("scale"));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let err = subsample_init(&cloud, w.view(), 0.1, 0, 0).unwrap_err();
    assert_eq!(err.argument(), Some("size"));
    let err = subsample_init(&cloud, w.view(), -1.0, 5, 0).unwrap_err();
    assert_eq!(err.argument(), Some("epsilon"));
}

#[test]
fn gaussian_init_is_finite_for_flat_clouds() {
    // Rank-deficient covariances: a source on a line, a target on another line, both in 2-D.
    let mut rng = Rng::new(11);
    let n = 100;
    let mut x = rng.normal_matrix(n, 2);
    x.column_mut(1).fill(0.5);
    let mut y = rng.normal_matrix(n, 2);
    y.column_mut(0).fill(-1.0);
    let w = Array1::from_elem(n, 1.0 / n as f64);
    for (xs, ys) in [(&x, &y), (&y, &x), (&x, &x)] {
        let f = gaussian_init(xs.view(), ys.view(), w.view(), w.view(), 1.0).unwrap();
        assert!(f.iter().all(|v| v.is_finite()), "{f}");
    }
}
