//! Unbalanced and debiased fixed-support barycenters: POT fixtures
//! (`scripts/make_barycenter_fixtures.py`), closed forms (one input; identical inputs) and bad
//! inputs.

mod common;

use ndarray::{Array1, Array2, array};
use otters::barycenter::{BarycenterInput, FixedSupportBarycenter, unit_grid};
use otters::geometry::DenseCost;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    kind: String,
    name: String,
    #[serde(rename = "A")]
    a: Vec<Vec<f64>>,
    cost: Option<Vec<Vec<f64>>>,
    dims: Option<Vec<usize>>,
    reg: f64,
    reg_m: Option<f64>,
    weights: Vec<f64>,
    niter: Option<usize>,
    barycenter: Vec<f64>,
}

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

fn fixtures() -> Vec<Case> {
    let text = std::fs::read_to_string(common::testdata("pot_barycenter.json"))
        .expect("testdata/pot_barycenter.json");
    serde_json::from_str::<Fixtures>(&text)
        .expect("valid fixture file")
        .cases
}

fn matrix(rows: &[Vec<f64>]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn max_diff(a: ndarray::ArrayView1<'_, f64>, b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn line(n: usize) -> (Array1<f64>, Array2<f64>) {
    let x: Array1<f64> = Array1::linspace(0.0, 1.0, n);
    let c = Array2::from_shape_fn((n, n), |(i, j)| (x[i] - x[j]).powi(2));
    (x, c)
}

fn bump(x: &Array1<f64>, center: f64, width: f64, mass: f64) -> Array1<f64> {
    let w = x.mapv(|t| (-(t - center).powi(2) / (2.0 * width * width)).exp() + 1e-3);
    let s = w.sum();
    w * (mass / s)
}

#[test]
fn unbalanced_matches_pot() {
    let mut seen = 0;
    for case in fixtures().iter().filter(|c| c.kind == "unbalanced") {
        let cost = matrix(case.cost.as_ref().unwrap());
        let geom = DenseCost::new(cost.view()).unwrap();
        let a = matrix(&case.a);
        let inputs: Vec<_> = a
            .rows()
            .into_iter()
            .map(|r| BarycenterInput::new(&geom, r))
            .collect();
        let solver = FixedSupportBarycenter {
            rho: case.reg_m.unwrap(),
            threshold: 1e-15,
            max_iterations: 100_000,
            ..FixedSupportBarycenter::new(case.reg)
        };
        let lambdas = Array1::from(case.weights.clone());
        let out = solver.solve(&inputs, Some(lambdas.view())).unwrap();
        assert!(out.converged(), "{}", case.name);
        let diff = max_diff(out.barycenter(), &case.barycenter);
        assert!(diff < 1e-11, "{}: {diff:e}", case.name);
        // Not the balanced barycenter: the masses differ.
        let mass = out.barycenter().sum();
        let masses: Vec<f64> = a.rows().into_iter().map(|r| r.sum()).collect();
        assert!(
            masses.iter().any(|&m| (m - mass).abs() > 1e-3),
            "{}: mass {mass}",
            case.name
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
}

#[test]
fn debiased_matches_pot_iterate() {
    let mut seen = 0;
    for case in fixtures().iter().filter(|c| c.kind.contains("debiased")) {
        let a = matrix(&case.a);
        let lambdas = Array1::from(case.weights.clone());
        let solver = FixedSupportBarycenter {
            threshold: 0.0,
            max_iterations: case.niter.unwrap(),
            ..FixedSupportBarycenter::new(case.reg)
        };
        let out = if case.kind == "debiased" {
            let cost = matrix(case.cost.as_ref().unwrap());
            let geom = DenseCost::new(cost.view()).unwrap();
            let inputs: Vec<_> = a
                .rows()
                .into_iter()
                .map(|r| BarycenterInput::new(&geom, r))
                .collect();
            solver
                .solve_debiased(&inputs, Some(lambdas.view()), &geom)
                .unwrap()
        } else {
            let grid = unit_grid(case.dims.as_ref().unwrap()).unwrap();
            let inputs: Vec<_> = a
                .rows()
                .into_iter()
                .map(|r| BarycenterInput::new(&grid, r))
                .collect();
            solver
                .solve_debiased(&inputs, Some(lambdas.view()), &grid)
                .unwrap()
        };
        assert_eq!(out.iterations(), case.niter.unwrap());
        let diff = max_diff(out.barycenter(), &case.barycenter);
        assert!(diff < 1e-10, "{}: {diff:e}", case.name);
        seen += 1;
    }
    assert_eq!(seen, 3);
}

/// With one input, the barycenter side is free: `b = Kᵀ(a ⊘ K1)^φ` after one projection,
/// with `φ = ρ/(ρ + ε)`.
#[test]
fn unbalanced_single_input_closed_form() {
    let (x, cost) = line(30);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a = bump(&x, 0.4, 0.08, 1.7);
    let (eps, rho) = (0.02, 0.3);
    let phi = rho / (rho + eps);
    let k = cost.mapv(|c| (-c / eps).exp());
    let u = (&a / &k.sum_axis(ndarray::Axis(1))).mapv(|v| v.powf(phi));
    let expected = k.t().dot(&u);
    let solver = FixedSupportBarycenter {
        rho,
        threshold: 1e-15,
        ..FixedSupportBarycenter::new(eps)
    };
    let out = solver
        .solve(&[BarycenterInput::new(&geom, a.view())], None)
        .unwrap();
    assert!(out.converged());
    let diff = max_diff(out.barycenter(), expected.as_slice().unwrap());
    assert!(diff < 1e-13, "{diff:e}");
    // The returned scalings give that plan: column sums are the barycenter.
    let (f, g) = out.log_scalings(0).unwrap();
    let plan = Array2::from_shape_fn(cost.dim(), |(i, j)| {
        (f[i] + g[j] - cost[[i, j]] / eps).exp()
    });
    let cols = plan.sum_axis(ndarray::Axis(0));
    assert!(max_diff(cols.view(), out.barycenter().as_slice().unwrap()) < 1e-13);
}

/// ρ → ∞ recovers the balanced barycenter.
#[test]
fn unbalanced_tends_to_balanced() {
    let (x, cost) = line(30);
    let geom = DenseCost::new(cost.view()).unwrap();
    let (a1, a2) = (bump(&x, 0.25, 0.05, 1.0), bump(&x, 0.7, 0.1, 1.0));
    let inputs = [
        BarycenterInput::new(&geom, a1.view()),
        BarycenterInput::new(&geom, a2.view()),
    ];
    let base = FixedSupportBarycenter {
        threshold: 1e-13,
        max_iterations: 100_000,
        ..FixedSupportBarycenter::new(0.01)
    };
    let balanced = base.solve(&inputs, None).unwrap();
    let mut last = f64::INFINITY;
    for rho in [1.0, 10.0, 100.0, 1e4] {
        let out = FixedSupportBarycenter { rho, ..base }
            .solve(&inputs, None)
            .unwrap();
        assert!(out.converged());
        let d = max_diff(out.barycenter(), balanced.barycenter().as_slice().unwrap());
        assert!(d < last, "rho {rho}: {d:e} after {last:e}");
        last = d;
    }
    assert!(last < 1e-5, "{last:e}");
}

/// `S_ε(a, a) = 0` and `S_ε ≥ 0`: the debiased barycenter of identical inputs is the input,
/// which the balanced (blurred) barycenter is not.
#[test]
fn debiased_barycenter_of_identical_inputs_is_the_input() {
    let (x, cost) = line(40);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a = bump(&x, 0.5, 0.05, 1.0);
    let inputs = [
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, a.view()),
    ];
    let a_slice = a.as_slice().unwrap();
    let mut last = f64::INFINITY;
    for iterations in [10, 100, 1000] {
        let solver = FixedSupportBarycenter {
            threshold: 0.0,
            max_iterations: iterations,
            ..FixedSupportBarycenter::new(0.002)
        };
        let out = solver.solve_debiased(&inputs, None, &geom).unwrap();
        let d = max_diff(out.barycenter(), a_slice);
        assert!(d < last, "{iterations}: {d:e} after {last:e}");
        last = d;
    }
    assert!(last < 1e-6, "{last:e}");
    let blurred = FixedSupportBarycenter::new(0.002)
        .solve(&inputs, None)
        .unwrap();
    assert!(max_diff(blurred.barycenter(), a_slice) > 1e-3);
}

#[test]
fn variants_reject_bad_inputs() {
    let (x, cost) = line(6);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a = bump(&x, 0.3, 0.2, 1.0);
    let heavy = bump(&x, 0.6, 0.2, 2.0);
    let inputs = [
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, heavy.view()),
    ];
    let msg = |r: otters::Result<_>| r.unwrap_err().to_string();
    // Balanced and debiased need equal masses; unbalanced does not.
    let s = FixedSupportBarycenter::new(0.1);
    assert!(msg(s.solve(&inputs, None)).contains("mass"));
    assert!(msg(s.solve_debiased(&inputs, None, &geom)).contains("mass"));
    let unbalanced = FixedSupportBarycenter { rho: 1.0, ..s };
    assert!(unbalanced.solve(&inputs, None).is_ok());
    for rho in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        let bad = FixedSupportBarycenter { rho, ..s };
        assert!(msg(bad.solve(&inputs, None)).contains("rho"), "{rho}");
    }
    // Debiased: balanced only, and a support cost of the barycenter's size.
    let same = [
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, a.view()),
    ];
    assert!(msg(unbalanced.solve_debiased(&same, None, &geom)).contains("rho"));
    let small = Array2::<f64>::zeros((5, 5));
    let small = DenseCost::new(small.view()).unwrap();
    assert!(msg(s.solve_debiased(&same, None, &small)).contains("support_cost"));
    let w: Array1<f64> = array![1.0, f64::NAN];
    assert!(msg(s.solve_debiased(&same, Some(w.view()), &geom)).contains("lambdas"));
}
