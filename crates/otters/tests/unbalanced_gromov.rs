//! Unbalanced (fused) Gromov–Wasserstein (ALGORITHMS.md Q3): POT's numbers on the certified
//! fixtures of `testdata/pot_ugw.json`, the balanced limit ρ → ∞ against entropic GW,
//! outlier mass destroyed, factored and stored costs agreeing, and bad inputs.

mod common;

use common::{Rng, assert_close, matrix, max_abs_diff, sq_euclidean, testdata, uniform};
use ndarray::{Array1, Array2, array, s};
use otters::Error;
use otters::geometry::DenseCost;
use otters::linear::Sinkhorn;
use otters::quadratic::{EntropicGw, QuadraticProblem, UnbalancedGw};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    pot_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    rho_a: f64,
    rho_b: f64,
    epsilon: f64,
    alpha: f64,
    c1: Vec<Vec<f64>>,
    c2: Vec<Vec<f64>>,
    #[serde(rename = "M")]
    m: Option<Vec<Vec<f64>>>,
    p: Vec<f64>,
    q: Vec<f64>,
    plan: Vec<Vec<f64>>,
    second_plan: Vec<Vec<f64>>,
    fugw_cost: f64,
    gw_loss: f64,
}

/// Tight settings, so that the fixed point is reached to rounding.
fn tight(rho_a: f64, rho_b: f64, epsilon: f64) -> UnbalancedGw {
    UnbalancedGw {
        rho_a,
        rho_b,
        epsilon,
        threshold: 1e-12,
        sinkhorn: Sinkhorn {
            threshold: 1e-13,
            max_iterations: 200_000,
            ..Sinkhorn::default()
        },
        ..UnbalancedGw::default()
    }
}

#[test]
fn matches_pot_on_every_certified_ugw_fixture() {
    let text = std::fs::read_to_string(testdata("pot_ugw.json")).expect("testdata/pot_ugw.json");
    let fixtures: Fixtures = serde_json::from_str(&text).expect("valid fixture file");
    assert!(fixtures.pot_version.starts_with("0.9"));
    assert!(
        fixtures.cases.len() >= 5,
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
        let mut problem = QuadraticProblem::unbalanced(&gx, &gy, p.view(), q.view()).unwrap();
        // POT: GW + (α_POT/2)⟨M, π+γ⟩ + ρ… + ε…  =  (our objective) / α with α = 1/(1+α_POT).
        let alpha = 1.0 / (1.0 + case.alpha);
        let m = case.m.as_ref().map(|m| matrix(m));
        let gm = m.as_ref().map(|m| DenseCost::new(m.view()).unwrap());
        if let Some(gm) = &gm {
            problem = problem.fused(gm, alpha).unwrap();
        }
        let solver = tight(alpha * case.rho_a, alpha * case.rho_b, alpha * case.epsilon);
        let out = solver.solve(&problem).unwrap();
        assert!(out.converged(), "{}: not converged", case.name);
        let diff = max_abs_diff(&out.plan().to_owned(), &matrix(&case.plan));
        // Measured: 1e-13 (POT's own run is certified to 1e-11 by a tighter rerun).
        assert!(diff <= 1e-10, "{}: plan differs by {diff:e}", case.name);
        let diff = max_abs_diff(&out.second_plan().to_owned(), &matrix(&case.second_plan));
        assert!(
            diff <= 1e-10,
            "{}: second plan differs by {diff:e}",
            case.name
        );
        assert_close(out.loss() / alpha, case.fugw_cost, 1e-11, &case.name);
        assert_close(out.gw_loss(), case.gw_loss, 1e-11, &case.name);
        // The plans keep one mass, and some mass is created or destroyed.
        let (mp, mg) = (out.plan().sum(), out.second_plan().sum());
        assert!(
            (mp - mg).abs() <= 1e-12 * mp,
            "{}: masses {mp} {mg}",
            case.name
        );
    }
}

#[test]
fn large_rho_approaches_balanced_entropic_gw_with_twice_epsilon() {
    let mut rng = Rng::new(11);
    let (x, y) = (rng.normal_matrix(14, 2), rng.normal_matrix(12, 3));
    let (mut cx, mut cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    cx /= cx.iter().copied().fold(0.0, f64::max);
    cy /= cy.iter().copied().fold(0.0, f64::max);
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let (a, b) = (rng.weights(14, 1.0), uniform(12));
    let problem = QuadraticProblem::new(&gx, &gy, a.view(), b.view()).unwrap();
    let epsilon = 0.02;
    let balanced = EntropicGw {
        epsilon: 2.0 * epsilon,
        threshold: 1e-12,
        sinkhorn: Sinkhorn {
            threshold: 1e-13,
            max_iterations: 200_000,
            ..Sinkhorn::default()
        },
        ..EntropicGw::default()
    }
    .solve(&problem)
    .unwrap();
    assert!(balanced.converged());
    let want = balanced.plan().to_owned();
    let mut last = f64::INFINITY;
    for rho in [1.0, 10.0, 100.0, 1e3, 1e4] {
        let out = tight(rho, rho, epsilon).solve(&problem).unwrap();
        assert!(out.converged(), "rho = {rho}");
        let diff = max_abs_diff(&out.plan().to_owned(), &want);
        // O(1/ρ): each decade of ρ divides the gap by ~10 (measured 9.3–10).
        assert!(
            diff < last / 5.0,
            "rho = {rho}: {diff:e} did not shrink from {last:e}"
        );
        last = diff;
    }
    // Measured 3.7e-7 at ρ = 1e4 (plan entries are ~1e-2).
    assert!(last < 1e-6, "rho = 1e4: plan differs by {last:e}");
    // ρ = ∞ is the balanced problem itself: the same fixed point.
    let out = tight(f64::INFINITY, f64::INFINITY, epsilon)
        .solve(&problem)
        .unwrap();
    assert!(out.converged());
    let diff = max_abs_diff(&out.plan().to_owned(), &want);
    assert!(diff < 1e-9, "rho = inf: plan differs by {diff:e}");
    assert!(out.marginal_penalty() == 0.0);
    assert_close(
        out.gw_loss(),
        balanced.gw_loss(),
        1e-9,
        "GW loss at rho = inf",
    );
}

#[test]
fn outlier_mass_is_destroyed() {
    // Target: a rotated copy of the source plus outliers far away, all of weight 1/n.
    let (n, k) = (20, 5);
    let mut rng = Rng::new(5);
    let x = rng.normal_matrix(n, 2);
    let (s, c) = (0.9f64.sin(), 0.9f64.cos());
    let mut y = Array2::zeros((n + k, 2));
    for i in 0..n {
        y[[i, 0]] = c * x[[i, 0]] - s * x[[i, 1]];
        y[[i, 1]] = s * x[[i, 0]] + c * x[[i, 1]];
    }
    for o in 0..k {
        y[[n + o, 0]] = 2.5 + 0.3 * rng.normal();
        y[[n + o, 1]] = -2.0 + 0.3 * rng.normal();
    }
    let (cx, cy) = (sq_euclidean(&x, &x), sq_euclidean(&y, &y));
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let (a, b) = (uniform(n), Array1::from_elem(n + k, 1.0 / n as f64));
    let problem = QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap();
    let out = UnbalancedGw::new(0.5, 0.05).solve(&problem).unwrap();
    assert!(out.converged());
    let plan = out.plan();
    let on_outliers = plan.slice(s![.., n..]).sum();
    let outlier_weight = k as f64 / n as f64;
    assert!(
        on_outliers < 0.01 * outlier_weight,
        "outliers keep {on_outliers:e} of their weight {outlier_weight}"
    );
    // The copy keeps most of its mass.
    let on_copy = plan.slice(s![.., ..n]).sum();
    assert!(on_copy > 0.8, "mass on the copy {on_copy}");
}

#[test]
fn factored_and_stored_costs_agree_also_for_asymmetric_costs() {
    let mut rng = Rng::new(21);
    let (n, m) = (48, 40);
    let (x, y) = (rng.normal_matrix(n, 2), rng.normal_matrix(m, 2));
    let mut cx = sq_euclidean(&x, &x);
    let cy = sq_euclidean(&y, &y);
    for asymmetric in [false, true] {
        if asymmetric {
            // Row offsets keep the rank low (d + 2) but break the symmetry.
            for i in 0..n {
                let offset = rng.uniform();
                cx.row_mut(i).mapv_inplace(|v| v + offset);
            }
        }
        let (gx, gy) = (
            DenseCost::new(cx.view()).unwrap(),
            DenseCost::new(cy.view()).unwrap(),
        );
        let (a, b) = (rng.weights(n, 1.0), rng.weights(m, 1.3));
        let problem = QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap();
        let mut solver = UnbalancedGw::new(1.0, 0.5);
        solver.sinkhorn.threshold = 1e-12;
        let factored = solver.solve(&problem).unwrap();
        solver.low_rank_costs = false;
        let stored = solver.solve(&problem).unwrap();
        assert!(factored.converged() && stored.converged());
        let diff = max_abs_diff(&factored.plan().to_owned(), &stored.plan().to_owned());
        assert!(
            diff < 1e-10,
            "asymmetric = {asymmetric}: plans differ by {diff:e}"
        );
        assert_close(factored.loss(), stored.loss(), 1e-10, "loss");
        if asymmetric {
            // The two plans differ for asymmetric costs (each sees the other's transpose).
            let gap = max_abs_diff(
                &factored.plan().to_owned(),
                &factored.second_plan().to_owned(),
            );
            assert!(gap > 1e-6, "plans coincide ({gap:e})");
        }
    }
}

#[test]
fn non_convergence_is_reported_not_an_error() {
    let cx = array![[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]];
    let cy = array![[0.0, 3.0], [3.0, 0.0]];
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let problem =
        QuadraticProblem::unbalanced(&gx, &gy, array![0.3, 0.3, 0.4], array![1.0, 2.0]).unwrap();
    let mut solver = UnbalancedGw::new(1.0, 0.1);
    solver.max_iterations = 1;
    let out = solver.solve(&problem).unwrap();
    assert!(!out.converged());
    assert_eq!(out.iterations(), 1);
    assert_eq!(out.trace().len(), 1);
    assert!(out.loss().is_finite());
    // The balanced solvers refuse unequal masses.
    let err = EntropicGw::default().solve(&problem).unwrap_err();
    assert!(matches!(err, Error::MassMismatch { .. }), "{err}");
}

#[test]
fn bad_inputs_name_their_argument() {
    let cx = array![[0.0, 1.0], [1.0, 0.0]];
    let cy = array![[0.0, 2.0, 1.0], [2.0, 0.0, 1.0], [1.0, 1.0, 0.0]];
    let (gx, gy) = (
        DenseCost::new(cx.view()).unwrap(),
        DenseCost::new(cy.view()).unwrap(),
    );
    let (a, b) = (array![0.5, 0.5], array![0.4, 0.4, 0.7]);
    let problem = QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap();
    let with = |f: &dyn Fn(&mut UnbalancedGw)| {
        let mut s = UnbalancedGw::new(1.0, 0.1);
        f(&mut s);
        s.solve(&problem).unwrap_err()
    };
    let cases: Vec<(Error, &str)> = vec![
        (with(&|s| s.rho_a = 0.0), "rho_a"),
        (with(&|s| s.rho_b = f64::NAN), "rho_b"),
        (with(&|s| s.rho_a = -1.0), "rho_a"),
        (with(&|s| s.epsilon = 0.0), "epsilon"),
        (with(&|s| s.epsilon = f64::INFINITY), "epsilon"),
        (with(&|s| s.threshold = f64::NAN), "threshold"),
        (with(&|s| s.max_iterations = 0), "max_iterations"),
        (with(&|s| s.sinkhorn.threshold = -1.0), "threshold"),
    ];
    for (err, arg) in cases {
        assert_eq!(err.argument(), Some(arg), "{err}");
    }
    let solver = UnbalancedGw::new(1.0, 0.1);
    let init_err = |p: Array2<f64>| {
        solver
            .solve_with(&problem, Some(p.view()), &otters::Observer::new())
            .unwrap_err()
    };
    for bad in [
        Array2::from_elem((3, 2), 0.1),
        array![[0.1, 0.1, -0.1], [0.1, 0.1, 0.1]],
        array![[0.1, f64::NAN, 0.1], [0.1, 0.1, 0.1]],
        Array2::zeros((2, 3)),
    ] {
        let err = init_err(bad);
        assert_eq!(err.argument(), Some("init"), "{err}");
    }
    // Weights: any positive mass, but finite, non-negative, matching the costs.
    let bad_weights: Vec<(Array1<f64>, Array1<f64>, &str)> = vec![
        (array![0.5, -0.1], b.clone(), "a"),
        (a.clone(), array![0.0, 0.0, 0.0], "b"),
        (array![0.5, f64::INFINITY], b.clone(), "a"),
        (array![0.5, 0.5, 0.5], b.clone(), "a"),
    ];
    for (wa, wb, arg) in bad_weights {
        let err = QuadraticProblem::unbalanced(&gx, &gy, wa, wb).unwrap_err();
        assert_eq!(err.argument(), Some(arg), "{err}");
    }
    let rect = array![[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]];
    let gr = DenseCost::new(rect.view()).unwrap();
    let err = QuadraticProblem::unbalanced(&gr, &gy, a.view(), b.view()).unwrap_err();
    assert_eq!(err.argument(), Some("geom_xx"), "{err}");
}
