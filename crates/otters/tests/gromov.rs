//! Gromov–Wasserstein and fused GW (ALGORITHMS.md Q1, Q2): POT's numbers on the certified
//! fixtures of `testdata/pot_gw.json`, isometric clouds (GW = 0, permutation recovered),
//! fused limits, geometry equivalence and bad inputs.

mod common;

use common::{Rng, assert_close, matrix, max_abs_diff, sq_euclidean, testdata, uniform};
use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::geometry::{DenseCost, PointCloud, ScaleCost};
use otters::linear::{LinearProblem, NetworkSimplex, Sinkhorn};
use otters::quadratic::{ConditionalGradientGw, EntropicGw, GwLoss, QuadraticProblem};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    pot_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    solver: String,
    loss: String,
    epsilon: Option<f64>,
    alpha: Option<f64>,
    c1: Vec<Vec<f64>>,
    c2: Vec<Vec<f64>>,
    #[serde(rename = "M")]
    m: Option<Vec<Vec<f64>>>,
    p: Vec<f64>,
    q: Vec<f64>,
    plan: Vec<Vec<f64>>,
    value: f64,
    gw_loss: f64,
}

fn entropic(epsilon: f64) -> EntropicGw {
    EntropicGw {
        epsilon,
        threshold: 1e-12,
        sinkhorn: Sinkhorn {
            threshold: 1e-13,
            max_iterations: 200_000,
            ..Sinkhorn::default()
        },
        ..EntropicGw::default()
    }
}

#[test]
fn matches_pot_on_every_certified_gw_fixture() {
    let text = std::fs::read_to_string(testdata("pot_gw.json")).expect("testdata/pot_gw.json");
    let fixtures: Fixtures = serde_json::from_str(&text).expect("valid fixture file");
    assert!(fixtures.pot_version.starts_with("0.9"));
    assert!(
        fixtures.cases.len() >= 10,
        "got {} cases",
        fixtures.cases.len()
    );
    for case in &fixtures.cases {
        let (c1, c2) = (matrix(&case.c1), matrix(&case.c2));
        let (gx, gy) = (
            DenseCost::new(c1.view()).unwrap(),
            DenseCost::new(c2.view()).unwrap(),
        );
        let (p, q) = (Array1::from(case.p.clone()), Array1::from(case.q.clone()));
        let loss = if case.loss == "kl_loss" {
            GwLoss::Kl
        } else {
            GwLoss::Square
        };
        let mut problem = QuadraticProblem::new(&gx, &gy, p.view(), q.view())
            .unwrap()
            .with_loss(loss);
        let m = case.m.as_ref().map(|m| matrix(m));
        let gm = m.as_ref().map(|m| DenseCost::new(m.view()).unwrap());
        if let (Some(gm), Some(alpha)) = (&gm, case.alpha) {
            problem = problem.fused(gm, alpha).unwrap();
        }
        let out = if case.solver == "cg" {
            ConditionalGradientGw::default().solve(&problem).unwrap()
        } else {
            entropic(case.epsilon.unwrap()).solve(&problem).unwrap()
        };
        assert!(out.converged(), "{}: not converged", case.name);
        let want = matrix(&case.plan);
        let (plan_tol, value_tol) = if case.solver == "cg" {
            (1e-9, 1e-9)
        } else {
            (1e-8, 1e-8)
        };
        let diff = max_abs_diff(&out.plan().to_owned(), &want);
        assert!(diff <= plan_tol, "{}: plan differs by {diff:e}", case.name);
        assert_close(out.loss(), case.value, value_tol, &case.name);
        assert_close(out.gw_loss(), case.gw_loss, value_tol, &case.name);
    }
}

/// A 2-D cloud and a rotated, translated, permuted copy.
fn isometric_pair(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let x = rng.normal_matrix(n, 2);
    let perm: Vec<usize> = {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize % (i + 1);
            p.swap(i, j);
        }
        p
    };
    let (s, c) = (0.7f64.sin(), 0.7f64.cos());
    // y_{perm[i]} = R x_i + t
    let mut y = Array2::zeros((n, 2));
    for i in 0..n {
        let (u, v) = (x[[i, 0]], x[[i, 1]]);
        y[[perm[i], 0]] = c * u - s * v + 3.0;
        y[[perm[i], 1]] = s * u + c * v - 1.0;
    }
    (x, y, perm)
}

#[test]
fn gw_of_an_isometric_copy_is_zero_and_recovers_the_permutation() {
    let n = 30;
    let (x, y, perm) = isometric_pair(n, 7);
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
    let out = ConditionalGradientGw::default().solve(&problem).unwrap();
    assert!(out.converged());
    assert!(out.loss().abs() < 1e-12, "GW of a copy = {:e}", out.loss());
    for (i, &j) in perm.iter().enumerate() {
        assert!(
            (out.plan()[[i, j]] - 1.0 / n as f64).abs() < 1e-12,
            "row {i}"
        );
    }
    // Entropic GW at small ε puts almost all of each row on the right point.
    let scaled = |z: &Array2<f64>| {
        PointCloud::sq_euclidean(z.view(), z.view())
            .and_then(|g| g.with_scale(ScaleCost::Max))
            .unwrap()
    };
    let (px, py) = (scaled(&x), scaled(&y));
    let problem = QuadraticProblem::uniform(&px, &py).unwrap();
    // The inner threshold is 1e-7: near the fixed point the inner solves of this copy
    // problem converge very slowly (the marginal error of the last one went 4.6e-8 → 1.1e-8
    // over 1e5 iterations, with kernel and log-domain sweeps alike), so at 1e-8 whether the
    // last solve converges was decided by rounding.
    let solver = EntropicGw {
        epsilon: 2e-3,
        threshold: 1e-8,
        sinkhorn: Sinkhorn {
            threshold: 1e-7,
            ..EntropicGw::default().sinkhorn
        },
        ..EntropicGw::default()
    };
    let out = solver.solve(&problem).unwrap();
    assert!(out.converged());
    // Entropic blur spreads each row over near neighbours (measured: 62% of the mass on
    // the right point), but every row peaks there and the loss is small.
    for i in 0..n {
        let row = out.plan().row(i).to_owned();
        let best = row.iter().copied().fold(0.0, f64::max);
        assert_eq!(row[perm[i]], best, "row {i} peaks elsewhere");
    }
    assert!(
        out.gw_loss() < 1e-3,
        "entropic GW of a copy = {:e}",
        out.gw_loss()
    );
    // A single point: GW = 0.
    let one = array![[0.0]];
    let g1 = DenseCost::new(one.view()).unwrap();
    let p1 = QuadraticProblem::uniform(&g1, &g1).unwrap();
    assert_eq!(
        ConditionalGradientGw::default().solve(&p1).unwrap().loss(),
        0.0
    );
}

#[test]
fn point_clouds_and_stored_costs_give_the_same_gw() {
    let mut rng = Rng::new(3);
    let (x, y) = (rng.normal_matrix(25, 2), rng.normal_matrix(20, 3));
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (dx, dy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let (px, py) = (
        PointCloud::sq_euclidean(x.view(), x.view()).unwrap(),
        PointCloud::sq_euclidean(y.view(), y.view()).unwrap(),
    );
    let a = rng.weights(25, 1.0);
    let b = uniform(20);
    let dense = QuadraticProblem::new(&dx, &dy, a.view(), b.view()).unwrap();
    let cloud = QuadraticProblem::new(&px, &py, a.view(), b.view()).unwrap();
    for (label, d, c) in [
        (
            "entropic",
            entropic(2.0).solve(&dense).unwrap(),
            entropic(2.0).solve(&cloud).unwrap(),
        ),
        (
            "conditional gradient",
            ConditionalGradientGw::default().solve(&dense).unwrap(),
            ConditionalGradientGw::default().solve(&cloud).unwrap(),
        ),
    ] {
        assert!(d.converged() && c.converged(), "{label}");
        assert_close(c.loss(), d.loss(), 1e-9, label);
        let diff = max_abs_diff(&c.plan().to_owned(), &d.plan().to_owned());
        assert!(diff < 1e-9, "{label}: plans differ by {diff:e}");
    }
}

#[test]
fn fused_gw_reaches_its_two_limits() {
    let mut rng = Rng::new(11);
    let (x, y) = (rng.normal_matrix(12, 2), rng.normal_matrix(15, 2));
    let (cx, cy, m) = (
        sq_euclidean(&x, &x),
        sq_euclidean(&y, &y),
        sq_euclidean(&x, &y),
    );
    let (gx, gy, gm) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
        DenseCost::new(m.view()).unwrap(),
    );
    let plain = QuadraticProblem::uniform(&gx, &gy).unwrap();
    let cg = ConditionalGradientGw::default();
    let gw = cg.solve(&plain).unwrap();
    // α = 1: plain GW, the linear term reported but not weighted.
    let fused1 = cg.solve(&plain.clone().fused(&gm, 1.0).unwrap()).unwrap();
    assert_close(fused1.loss(), gw.loss(), 1e-12, "alpha = 1");
    assert!(fused1.linear_loss().is_some());
    // α = 0: exact OT on M (one step to the optimal vertex).
    let fused0 = cg.solve(&plain.fused(&gm, 0.0).unwrap()).unwrap();
    let lp = LinearProblem::uniform(&gm).unwrap();
    let exact = NetworkSimplex::default().solve(&lp).unwrap();
    assert_close(fused0.loss(), exact.cost(), 1e-12, "alpha = 0");
}

#[test]
fn conditional_gradient_never_increases_the_objective() {
    let mut rng = Rng::new(5);
    let (x, y) = (rng.normal_matrix(40, 2), rng.normal_matrix(35, 3));
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let problem = QuadraticProblem::uniform(&gx, &gy)
        .unwrap()
        .with_loss(GwLoss::Square);
    let out = ConditionalGradientGw::default().solve(&problem).unwrap();
    assert!(out.converged() && out.iterations() >= 2);
    for w in out.trace().windows(2) {
        assert!(w[1] <= w[0] + 1e-12 * w[0].abs(), "objective rose: {w:?}");
    }
    // The reported loss is the last objective of the trace.
    assert_close(out.loss(), *out.trace().last().unwrap(), 1e-12, "trace");
    // The plan is feasible.
    let rows = out.plan().sum_axis(ndarray::Axis(1));
    assert!((rows - uniform(40)).iter().all(|d| d.abs() < 1e-12));
}

#[test]
fn bad_quadratic_inputs_name_their_argument() {
    let sq = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]]).unwrap();
    let rect = DenseCost::new(array![[0.0, 1.0, 2.0], [1.0, 0.0, 3.0]]).unwrap();
    let neg = DenseCost::new(array![[0.0, -1.0], [-1.0, 0.0]]).unwrap();
    let u = uniform(2);
    let arg = |e: Error| match e {
        Error::Shape { arg, .. }
        | Error::InvalidParameter { arg, .. }
        | Error::NonFinite { arg, .. }
        | Error::NegativeWeight { arg, .. } => arg,
        Error::MassMismatch { .. } => "mass",
        other => panic!("unexpected error {other}"),
    };
    assert_eq!(
        arg(QuadraticProblem::new(&rect, &sq, u.view(), u.view()).unwrap_err()),
        "geom_xx"
    );
    assert_eq!(
        arg(QuadraticProblem::new(&sq, &rect, u.view(), u.view()).unwrap_err()),
        "geom_yy"
    );
    assert_eq!(
        arg(QuadraticProblem::new(&sq, &sq, uniform(3), u.view()).unwrap_err()),
        "a"
    );
    assert_eq!(
        arg(QuadraticProblem::new(&sq, &sq, u.view(), array![0.5, -0.5]).unwrap_err()),
        "b"
    );
    assert_eq!(
        arg(QuadraticProblem::new(&sq, &sq, u.view(), array![0.5, 1.0]).unwrap_err()),
        "mass"
    );
    let problem = QuadraticProblem::new(&sq, &sq, u.view(), u.view()).unwrap();
    assert_eq!(
        arg(problem.clone().fused(&rect, 0.5).unwrap_err()),
        "geom_xy"
    );
    assert_eq!(arg(problem.clone().fused(&sq, 1.5).unwrap_err()), "alpha");
    assert_eq!(
        arg(problem.clone().fused(&sq, f64::NAN).unwrap_err()),
        "alpha"
    );
    let kl = QuadraticProblem::new(&neg, &sq, u.view(), u.view())
        .unwrap()
        .with_loss(GwLoss::Kl);
    assert_eq!(
        arg(ConditionalGradientGw::default().solve(&kl).unwrap_err()),
        "geom_xx"
    );
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let solver = EntropicGw {
            epsilon: eps,
            ..EntropicGw::default()
        };
        assert_eq!(arg(solver.solve(&problem).unwrap_err()), "epsilon");
    }
    let never_checked = EntropicGw {
        check_every: 0,
        ..EntropicGw::default()
    };
    assert_eq!(
        arg(never_checked.solve(&problem).unwrap_err()),
        "check_every"
    );
    let zero_iter = ConditionalGradientGw {
        max_iterations: 0,
        ..ConditionalGradientGw::default()
    };
    assert_eq!(
        arg(zero_iter.solve(&problem).unwrap_err()),
        "max_iterations"
    );
    let observer = otters::Observer::new();
    let cg = ConditionalGradientGw::default();
    let bad_inits = [
        Array2::from_elem((3, 2), 1.0 / 6.0),
        array![[0.5, f64::NAN], [0.0, 0.5]],
        array![[0.75, -0.25], [-0.25, 0.75]],
        array![[0.5, 0.5], [0.0, 0.0]],
    ];
    for init in &bad_inits {
        assert_eq!(
            arg(cg
                .solve_with(&problem, Some(init.view()), &observer)
                .unwrap_err()),
            "init"
        );
    }
    // A good init is used as given: the optimal plan stays put.
    let good = array![[0.5, 0.0], [0.0, 0.5]];
    let out = cg
        .solve_with(&problem, Some(good.view()), &observer)
        .unwrap();
    assert_eq!(out.loss(), 0.0);
}

#[test]
fn factored_low_rank_costs_give_the_same_results() {
    // n = 80 lets the exact factorization of the squared distances (rank 4 and 5) kick in.
    let mut rng = Rng::new(21);
    let (x, y) = (rng.normal_matrix(80, 2), rng.normal_matrix(72, 3));
    let (mut cx, mut cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    cx /= cx.iter().fold(0.0f64, |m, v| m.max(*v));
    cy /= cy.iter().fold(0.0f64, |m, v| m.max(*v));
    // A rank-one asymmetric term keeps the cost low rank (rank <= 5 + 1), so the factored
    // path runs for the asymmetric case too.
    let asym = &cx
        + &Array2::from_shape_fn((80, 80), |(i, j)| {
            0.1 * (i as f64 / 80.0) * (j as f64).sin()
        });
    for (label, cx) in [("symmetric", &cx), ("asymmetric", &asym)] {
        let (gx, gy) = (
            DenseCost::new(cx.view()).unwrap(),
            DenseCost::new(cy.view()).unwrap(),
        );
        let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
        let cg = ConditionalGradientGw::default();
        let plain = ConditionalGradientGw {
            low_rank_costs: false,
            ..cg.clone()
        };
        let ent = entropic(0.02);
        let ent_plain = EntropicGw {
            low_rank_costs: false,
            ..ent.clone()
        };
        for (what, f, p) in [
            (
                "cg",
                cg.solve(&problem).unwrap(),
                plain.solve(&problem).unwrap(),
            ),
            (
                "entropic",
                ent.solve(&problem).unwrap(),
                ent_plain.solve(&problem).unwrap(),
            ),
        ] {
            assert!(f.converged() && p.converged(), "{label} {what}");
            assert_close(f.loss(), p.loss(), 1e-10, &format!("{label} {what}"));
            let diff = max_abs_diff(&f.plan().to_owned(), &p.plan().to_owned());
            assert!(diff < 1e-10, "{label} {what}: plans differ by {diff:e}");
        }
    }
}

#[test]
fn entropic_step_policies_reach_the_same_fixed_point() {
    // Exact steps (every Sinkhorn solve to its threshold) and tests of the stopping rule
    // every 10th iteration only (POT's policy) change the path, not the fixed point; a
    // loose threshold then stops at iteration 1, 11, 21, ...
    let mut rng = Rng::new(17);
    let (x, y) = (rng.normal_matrix(14, 2), rng.normal_matrix(11, 2));
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (cx, cy) = (
        &cx / cx.iter().fold(0.0f64, |m, &v| m.max(v)),
        &cy / cy.iter().fold(0.0f64, |m, &v| m.max(v)),
    );
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
    let base = entropic(0.05);
    let reference = base.solve(&problem).unwrap();
    assert!(reference.converged());
    for (inexact_steps, check_every) in [(false, 1), (false, 10), (true, 10)] {
        let solver = EntropicGw {
            inexact_steps,
            check_every,
            ..base.clone()
        };
        let out = solver.solve(&problem).unwrap();
        assert!(out.converged());
        assert_eq!(out.iterations() % check_every, 1 % check_every);
        let err = max_abs_diff(&out.plan().to_owned(), &reference.plan().to_owned());
        assert!(err < 1e-9, "{inexact_steps} {check_every}: {err:e}");
    }
    let loose = EntropicGw {
        threshold: 1e-4,
        check_every: 10,
        ..base.clone()
    };
    let out = loose.solve(&problem).unwrap();
    assert_eq!(out.iterations() % 10, 1);
    let first = out.trace().iter().position(|&c| c <= 1e-4).unwrap();
    assert!(out.iterations() > first, "stopped before the rule held");
}

/// With inexact steps, the step that meets a loose stopping rule is still finished at the
/// Sinkhorn threshold: the returned plan meets its marginals to that threshold, where the
/// loose step alone (3% of its plan change) would be far off.
#[test]
fn inexact_steps_return_a_plan_on_its_marginals() {
    let mut rng = Rng::new(23);
    let (x, y) = (rng.normal_matrix(40, 2), rng.normal_matrix(35, 3));
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (cx, cy) = (
        &cx / cx.iter().fold(0.0f64, |m, &v| m.max(v)),
        &cy / cy.iter().fold(0.0f64, |m, &v| m.max(v)),
    );
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let (a, b) = (rng.weights(40, 1.0), uniform(35));
    let problem = QuadraticProblem::new(&gx, &gy, a.view(), b.view()).unwrap();
    let solver = EntropicGw {
        epsilon: 0.01,
        threshold: 1e-3,
        sinkhorn: Sinkhorn {
            threshold: 1e-10,
            ..Sinkhorn::default()
        },
        ..EntropicGw::default()
    };
    assert!(solver.inexact_steps);
    let out = solver.solve(&problem).unwrap();
    assert!(out.converged());
    let plan = out.plan().to_owned();
    let err = (&plan.sum_axis(ndarray::Axis(1)) - &a).mapv(f64::abs).sum()
        + (&plan.sum_axis(ndarray::Axis(0)) - &b).mapv(f64::abs).sum();
    assert!(err <= 1e-10, "marginal error {err:e}");
}
