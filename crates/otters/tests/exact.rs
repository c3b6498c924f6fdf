//! Exact OT (network simplex and the assignment fast path) against POT `emd` / SciPy
//! `linear_sum_assignment` fixtures (`testdata/pot_exact.json`, from
//! `scripts/make_fixtures.py`), with the LP certificate checked on every solve.

mod common;

use common::{Rng, assert_close, matrix, testdata};
use ndarray::{Array1, Array2, ArrayView1, array};
use otters::geometry::{DenseCost, Euclidean, Geometry, PointCloud, SqEuclidean};
use otters::linear::{
    AssignmentFastPath, ExactMethod, ExactOutput, ExactStatus, LinearProblem, MarginalPenalty,
    NetworkSimplex,
};
use otters::{Error, ErrorKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Option<Vec<Vec<f64>>>,
    y: Option<Vec<Vec<f64>>>,
    cost_fn: Option<String>,
    cost: Option<Vec<Vec<f64>>>,
    a: Vec<f64>,
    b: Vec<f64>,
    cost_value: f64,
    scipy_lsa: Option<f64>,
}

/// Asserts everything an LP solution must satisfy: a plan with the right marginals and at
/// most n + m − 1 entries, feasible duals, complementary slackness, zero duality gap.
#[track_caller]
fn certify(out: &ExactOutput, c: &Array2<f64>, a: ArrayView1<f64>, b: ArrayView1<f64>, what: &str) {
    let (n, m) = c.dim();
    let scale = 1.0
        + c.iter()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |acc, v| acc.max(v.abs()));
    let tol = 1e-9 * scale;
    assert_eq!(out.status(), ExactStatus::Optimal, "{what}");
    let plan = out.plan();
    assert!(plan.nnz() < n + m, "{what}: {} entries", plan.nnz());
    assert!(plan.values().iter().all(|&v| v > 0.0));
    let mass = a.sum();
    assert!(
        out.marginal_error() <= 1e-12 * mass * (n + m) as f64,
        "{what}: marginal error {:e}",
        out.marginal_error()
    );
    let (f, g) = (out.f(), out.g());
    for i in 0..n {
        for j in 0..m {
            if c[[i, j]].is_finite() {
                assert!(
                    f[i] + g[j] <= c[[i, j]] + tol,
                    "{what}: dual infeasible at [{i},{j}]: {} > {}",
                    f[i] + g[j],
                    c[[i, j]]
                );
            }
        }
    }
    for (i, j, _) in plan.iter() {
        assert!(
            (f[i] + g[j] - c[[i, j]]).abs() <= tol,
            "{what}: slack on the support at [{i},{j}]"
        );
    }
    assert!(
        (out.dual_cost() - out.cost()).abs() <= tol,
        "{what}: gap {:e}",
        out.dual_cost() - out.cost()
    );
    let centered = a.dot(&f) - b.dot(&g);
    assert!(
        centered.abs() <= tol,
        "{what}: potentials centered as POT (⟨a,f⟩ = ⟨b,g⟩)"
    );
    let recomputed: f64 = plan.iter().map(|(i, j, v)| v * c[[i, j]]).sum();
    assert_close(out.cost(), recomputed, 1e-12, what);
}

#[test]
fn matches_pot_and_scipy_on_every_certified_fixture() {
    let text =
        std::fs::read_to_string(testdata("pot_exact.json")).expect("testdata/pot_exact.json");
    let fixtures: Fixtures = serde_json::from_str(&text).unwrap();
    assert!(
        fixtures.cases.len() >= 100,
        "{} cases",
        fixtures.cases.len()
    );
    let (mut assignments, mut simplex) = (0, 0);
    for case in &fixtures.cases {
        let (a, b) = (Array1::from(case.a.clone()), Array1::from(case.b.clone()));
        let cloud: Option<Box<dyn Geometry>> = match (&case.x, &case.y, case.cost_fn.as_deref()) {
            (Some(x), Some(y), Some("sqeuclidean")) => Some(Box::new(
                PointCloud::new(matrix(x).view(), matrix(y).view(), SqEuclidean).unwrap(),
            )),
            (Some(x), Some(y), Some("euclidean")) => Some(Box::new(
                PointCloud::new(matrix(x).view(), matrix(y).view(), Euclidean).unwrap(),
            )),
            _ => None,
        };
        let c = match (&case.cost, &cloud) {
            (Some(c), _) => matrix(c),
            (None, Some(g)) => g.cost_matrix(1 << 30).unwrap(),
            _ => panic!("{}: no cost", case.name),
        };
        let dense = DenseCost::new(c.view()).unwrap();
        let geoms: Vec<&dyn Geometry> = match &cloud {
            Some(g) => vec![g.as_ref(), &dense],
            None => vec![&dense],
        };
        for geom in geoms {
            let problem = LinearProblem::new(geom, a.view(), b.view()).unwrap();
            for fast_path in [AssignmentFastPath::Always, AssignmentFastPath::Off] {
                let out = NetworkSimplex {
                    assignment: fast_path,
                    ..NetworkSimplex::default()
                }
                .solve(&problem)
                .unwrap();
                let what = format!("{} ({fast_path:?}, {:?})", case.name, out.method());
                assert_close(out.cost(), case.cost_value, 1e-9, &what);
                if let Some(lsa) = case.scipy_lsa {
                    assert_close(out.cost(), lsa, 1e-9, &format!("{what} vs SciPy"));
                }
                certify(&out, &c, a.view(), b.view(), &what);
                match out.method() {
                    ExactMethod::Assignment => assignments += 1,
                    ExactMethod::NetworkSimplex => simplex += 1,
                }
            }
        }
    }
    assert!(
        assignments >= 20 && simplex >= 150,
        "{assignments} assignment solves, {simplex} network simplex solves"
    );
}

fn random_problem(seed: u64, n: usize, m: usize) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    (
        rng.uniform_matrix(n, m),
        rng.weights(n, 1.0),
        rng.weights(m, 1.0),
    )
}

fn solve(c: &Array2<f64>, a: &Array1<f64>, b: &Array1<f64>) -> ExactOutput {
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = NetworkSimplex::default().solve(&problem).unwrap();
    certify(&out, c, a.view(), b.view(), "random problem");
    out
}

#[test]
fn larger_random_problems_are_certified_optimal() {
    for (seed, n, m) in [(1, 150, 120), (2, 300, 300), (3, 17, 400)] {
        let (c, a, b) = random_problem(seed, n, m);
        let out = solve(&c, &a, &b);
        assert!(out.iterations() > 0);
    }
    // Square and uniform: both algorithms agree; Auto keeps LAPJV where it is cheap
    // (unstructured costs) and falls back on geometric costs, where it is slow.
    let mut rng = Rng::new(4);
    let (x, y) = (rng.normal_matrix(250, 2), rng.normal_matrix(250, 2));
    let c = common::sq_euclidean(&x, &y);
    let u = common::uniform(250);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, u.view(), u.view()).unwrap();
    let fast = NetworkSimplex {
        assignment: AssignmentFastPath::Always,
        ..NetworkSimplex::default()
    }
    .solve(&problem)
    .unwrap();
    let slow = NetworkSimplex {
        assignment: AssignmentFastPath::Off,
        ..NetworkSimplex::default()
    }
    .solve(&problem)
    .unwrap();
    assert_eq!(
        (fast.method(), slow.method()),
        (ExactMethod::Assignment, ExactMethod::NetworkSimplex)
    );
    assert_close(fast.cost(), slow.cost(), 1e-12, "same optimum");
    certify(&fast, &c, u.view(), u.view(), "assignment");
    certify(&slow, &c, u.view(), u.view(), "network simplex");
    let auto = NetworkSimplex::default().solve(&problem).unwrap();
    assert_eq!(
        auto.method(),
        ExactMethod::NetworkSimplex,
        "geometric costs exhaust the LAPJV budget"
    );
    assert_close(auto.cost(), slow.cost(), 1e-12, "same optimum");
    let random = Rng::new(5).uniform_matrix(250, 250);
    let geom = DenseCost::new(random.view()).unwrap();
    let problem = LinearProblem::new(&geom, u.view(), u.view()).unwrap();
    let auto = NetworkSimplex::default().solve(&problem).unwrap();
    assert_eq!(
        auto.method(),
        ExactMethod::Assignment,
        "unstructured costs stay on LAPJV"
    );
    certify(&auto, &random, u.view(), u.view(), "auto on random costs");
}

#[test]
fn invariances_of_the_exact_value() {
    let (c, a, b) = random_problem(5, 23, 31);
    let base = solve(&c, &a, &b).cost();
    // Row and column constants shift the value by ⟨a, u⟩ + ⟨b, v⟩.
    let mut rng = Rng::new(50);
    let (u, v) = (
        Array1::from_shape_fn(23, |_| rng.normal()),
        Array1::from_shape_fn(31, |_| rng.normal()),
    );
    let shifted =
        &c + &u.view().insert_axis(ndarray::Axis(1)) + v.view().insert_axis(ndarray::Axis(0));
    assert_close(
        solve(&shifted, &a, &b).cost(),
        base + a.dot(&u) + b.dot(&v),
        1e-12,
        "shift",
    );
    // Scaling and transposition.
    assert_close(
        solve(&(&c * 3.5), &a, &b).cost(),
        3.5 * base,
        1e-12,
        "scale",
    );
    assert_close(
        solve(&c.t().to_owned(), &b, &a).cost(),
        base,
        1e-12,
        "transpose",
    );
    // Permuting the rows (points and weights together).
    let perm: Vec<usize> = (0..23).rev().collect();
    let cp = c.select(ndarray::Axis(0), &perm);
    let ap = a.select(ndarray::Axis(0), &perm);
    assert_close(solve(&cp, &ap, &b).cost(), base, 1e-12, "permutation");
}

#[test]
fn w1_satisfies_the_triangle_inequality() {
    let mut rng = Rng::new(6);
    let clouds: Vec<Array2<f64>> = (0..3)
        .map(|k| rng.normal_matrix(20 + 5 * k, 2) + k as f64)
        .collect();
    let weights: Vec<Array1<f64>> = clouds.iter().map(|c| rng.weights(c.nrows(), 1.0)).collect();
    let w1 = |i: usize, j: usize| {
        let g = PointCloud::new(clouds[i].view(), clouds[j].view(), Euclidean).unwrap();
        let p = LinearProblem::new(&g, weights[i].view(), weights[j].view()).unwrap();
        NetworkSimplex::default().solve(&p).unwrap().cost()
    };
    let (d01, d12, d02) = (w1(0, 1), w1(1, 2), w1(0, 2));
    assert!(d02 <= d01 + d12 + 1e-12 && d01 <= d02 + d12 + 1e-12 && d12 <= d01 + d02 + 1e-12);
    assert!(w1(0, 0).abs() < 1e-12, "W1(α, α) = 0");
}

#[test]
fn planted_permutations_are_recovered_exactly() {
    let n = 60;
    let mut rng = Rng::new(7);
    let sigma: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    let mut c = Array2::from_shape_fn((n, n), |_| 1.0 + rng.uniform());
    for i in 0..n {
        c[[i, sigma[i]]] = 0.5 * rng.uniform();
    }
    let u = common::uniform(n);
    for fast_path in [
        AssignmentFastPath::Always,
        AssignmentFastPath::Auto,
        AssignmentFastPath::Off,
    ] {
        let geom = DenseCost::new(c.view()).unwrap();
        let problem = LinearProblem::new(&geom, u.view(), u.view()).unwrap();
        let out = NetworkSimplex {
            assignment: fast_path,
            ..NetworkSimplex::default()
        }
        .solve(&problem)
        .unwrap();
        assert_eq!(out.plan().nnz(), n);
        for (i, j, v) in out.plan().iter() {
            assert_eq!(j, sigma[i]);
            assert_close(v, 1.0 / n as f64, 1e-15, "mass");
        }
    }
}

#[test]
fn degenerate_inputs_have_exact_answers() {
    // One point on a side: the plan is the other side's weights.
    let c = array![[2.0, 4.0, 1.0]];
    let out = solve(&c, &array![1.0], &array![0.2, 0.3, 0.5]);
    assert_close(out.cost(), 0.4 + 1.2 + 0.5, 1e-15, "n = 1");
    // Identical clouds cost nothing.
    let mut rng = Rng::new(8);
    let x = rng.normal_matrix(30, 3);
    let g = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let w = rng.weights(30, 1.0);
    let p = LinearProblem::new(&g, w.view(), w.view()).unwrap();
    assert!(NetworkSimplex::default().solve(&p).unwrap().cost().abs() < 1e-12);
    // All costs equal: any plan is optimal, the value is the constant.
    let flat = Array2::from_elem((7, 9), 2.5);
    let (_, a, b) = random_problem(9, 7, 9);
    assert_close(solve(&flat, &a, &b).cost(), 2.5, 1e-14, "constant cost");
}

#[test]
fn zero_weights_are_dropped_and_still_get_feasible_potentials() {
    let (c, mut a, mut b) = random_problem(10, 12, 10);
    a[2] = 0.0;
    a[9] = 0.0;
    b[4] = 0.0;
    b *= a.sum() / b.sum();
    let out = solve(&c, &a, &b);
    assert!(out.plan().rows().iter().all(|&i| i != 2 && i != 9));
    assert!(out.plan().cols().iter().all(|&j| j != 4));
    assert!(out.f().iter().chain(out.g()).all(|v| v.is_finite()));
}

#[test]
fn forbidden_pairs_are_avoided_or_reported_as_infeasible() {
    let inf = f64::INFINITY;
    let c = array![[inf, 1.0, 3.0], [2.0, inf, 1.0], [1.0, 1.0, inf]];
    let u = common::uniform(3);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, u.view(), u.view()).unwrap();
    let out = NetworkSimplex::default().solve(&problem).unwrap();
    assert_eq!(
        out.method(),
        ExactMethod::NetworkSimplex,
        "infinite costs bypass the assignment path"
    );
    assert_close(out.cost(), 1.0, 1e-15, "(0→1), (1→2), (2→0)");
    certify(&out, &c, u.view(), u.view(), "forbidden pairs");

    let blocked = array![[0.0, inf], [inf, inf]];
    let geom = DenseCost::new(blocked.view()).unwrap();
    let problem = LinearProblem::new(&geom, array![0.5, 0.5], array![0.5, 0.5]).unwrap();
    let err = NetworkSimplex::default().solve(&problem).unwrap_err();
    assert!(matches!(err, Error::Infeasible { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("forbidden"));
}

#[test]
fn invalid_requests_are_refused_with_the_argument_named() {
    let (c, a, b) = random_problem(11, 5, 6);
    let geom = DenseCost::new(c.view()).unwrap();
    let kl = MarginalPenalty::Kl { rho: 1.0 };
    let relaxed = LinearProblem::unbalanced(&geom, a.view(), b.view(), kl, kl).unwrap();
    let err = NetworkSimplex::default().solve(&relaxed).unwrap_err();
    assert_eq!(err.argument(), Some("problem"), "{err}");
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let err = NetworkSimplex {
        max_iterations: 0,
        ..NetworkSimplex::default()
    }
    .solve(&problem)
    .unwrap_err();
    assert_eq!(err.argument(), Some("max_iterations"));
    let err = NetworkSimplex {
        memory_limit: 100,
        ..NetworkSimplex::default()
    }
    .solve(&problem)
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                needed_bytes: 240,
                limit_bytes: 100,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("Sinkhorn"),
        "the message suggests a streaming solver: {err}"
    );
}

#[test]
fn a_short_pivot_budget_is_a_status_with_the_marginal_error_reported() {
    let (c, a, b) = random_problem(12, 40, 40);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = NetworkSimplex {
        max_iterations: 5,
        ..NetworkSimplex::default()
    }
    .solve(&problem)
    .unwrap();
    assert_eq!(out.status(), ExactStatus::MaxIterationsReached);
    assert!(!out.converged());
    assert_eq!(out.iterations(), 5);
    assert!(out.marginal_error() > 0.0);
    assert!(out.cost().is_finite());
}
