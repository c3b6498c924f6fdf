//! 1-D unbalanced OT and barycenters by Frank–Wolfe (ALGORITHMS.md L9): an independent
//! optimality certificate (a feasible dual checked on every pair, equal to the primal value
//! of the returned plan recomputed from scratch), POT's `uot_1d` (fixtures), the balanced
//! limits (1-D OT, quantile averaging), the two-measure barycenter equal to 1-D UOT, and bad
//! inputs naming their argument.

mod common;

use common::{Rng, assert_close};
use ndarray::{Array1, array};
use otters::Error;
use otters::linear::{UnbalancedFrankWolfe, wasserstein_1d};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    rho: f64,
    p: f64,
    cost: f64,
}

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

fn kl(p: &Array1<f64>, q: &Array1<f64>) -> f64 {
    p.iter()
        .zip(q)
        .map(|(&p, &q)| if p > 0.0 { p * (p / q).ln() - p + q } else { q })
        .sum()
}

/// Checks the certificate from scratch: `f_i + g_j ≤ |x_i − y_j|^p` for every pair, the dual
/// value of `(f, g)`, and the primal value of the plan (its marginals, cost and KL terms);
/// returns `(primal, dual)`.
#[allow(clippy::too_many_arguments)]
fn certify(
    x: &Array1<f64>,
    y: &Array1<f64>,
    a: &Array1<f64>,
    b: &Array1<f64>,
    rho: (f64, f64),
    p: f64,
    out: &otters::linear::Uot1dOutput,
) -> (f64, f64) {
    for i in 0..x.len() {
        for j in 0..y.len() {
            let c = (x[i] - y[j]).abs().powf(p);
            assert!(
                out.f[i] + out.g[j] <= c + 1e-12,
                "dual infeasible at ({i}, {j})"
            );
        }
    }
    let side = |w: &Array1<f64>, f: &Array1<f64>, r: f64| -> f64 {
        if r.is_infinite() {
            w.dot(f)
        } else {
            -r * w
                .iter()
                .zip(f)
                .map(|(w, f)| w * (-f / r).exp_m1())
                .sum::<f64>()
        }
    };
    let dual = side(a, &out.f, rho.0) + side(b, &out.g, rho.1);
    let (rows, cols) = (out.plan.row_sums(), out.plan.col_sums());
    assert!((&rows - &out.marginal_a).iter().all(|d| d.abs() < 1e-14));
    assert!((&cols - &out.marginal_b).iter().all(|d| d.abs() < 1e-14));
    let linear: f64 = out
        .plan
        .iter()
        .map(|(i, j, v)| v * (x[i] - y[j]).abs().powf(p))
        .sum();
    assert_close(linear, out.linear_cost, 1e-12, "linear cost");
    let penalty = |m: &Array1<f64>, w: &Array1<f64>, r: f64| {
        if r.is_infinite() {
            assert!(
                (m - w).iter().all(|d| d.abs() < 1e-12),
                "exact marginal moved"
            );
            0.0
        } else {
            r * kl(m, w)
        }
    };
    let primal = linear + penalty(&rows, a, rho.0) + penalty(&cols, b, rho.1);
    (primal, dual)
}

/// The certified gap: the returned plan's primal value and the dual value of the returned
/// potentials agree to the threshold, and both agree with what the solver reports.
#[test]
fn certified_optimal_on_random_problems() {
    for seed in 0..6 {
        let mut rng = Rng::new(seed);
        let (n, m) = (20 + seed as usize, 15);
        let x = Array1::from_shape_fn(n, |_| rng.normal());
        let y = Array1::from_shape_fn(m, |_| 0.5 * rng.normal() + 1.0);
        let a = rng.weights(n, 1.0);
        let b = rng.weights(m, 0.3 + 0.4 * seed as f64);
        let rho = [
            (0.5, 0.5),
            (2.0, 0.1),
            (f64::INFINITY, 1.0),
            (0.3, f64::INFINITY),
        ][seed as usize % 4];
        let p = if seed % 2 == 0 { 2.0 } else { 1.5 };
        let solver = UnbalancedFrankWolfe {
            threshold: 1e-6,
            max_iterations: 20000,
        };
        let out = solver
            .solve(
                x.view(),
                y.view(),
                Some(a.view()),
                Some(b.view()),
                rho.0,
                rho.1,
                p,
            )
            .unwrap();
        let (primal, dual) = certify(&x, &y, &a, &b, rho, p, &out);
        assert!(
            out.converged,
            "seed {seed}: gap {:e} after {} steps",
            primal - dual,
            out.iterations
        );
        assert!(primal - dual <= 1e-6, "seed {seed}: gap {}", primal - dual);
        assert!(primal - dual >= -1e-12, "seed {seed}: weak duality broken");
        assert_close(primal, out.cost, 1e-11, "primal");
        assert_close(dual, out.dual_cost, 1e-11, "dual");
    }
}

/// POT's `uot_1d` (20000 fixed steps) lies between otters' certified dual bound and its
/// primal value (a gap ≤ 1e-6): weak duality says every plan, POT's included, costs at least
/// any feasible dual value, so a wrong dual or a wrong value would show.
#[test]
fn matches_pot_uot_1d() {
    let text = std::fs::read_to_string(common::testdata("pot_uot1d.json")).unwrap();
    let fixtures: Fixtures = serde_json::from_str(&text).unwrap();
    for case in &fixtures.cases {
        let (x, y) = (Array1::from(case.x.clone()), Array1::from(case.y.clone()));
        let (a, b) = (Array1::from(case.a.clone()), Array1::from(case.b.clone()));
        let out = UnbalancedFrankWolfe::default()
            .solve(
                x.view(),
                y.view(),
                Some(a.view()),
                Some(b.view()),
                case.rho,
                case.rho,
                case.p,
            )
            .unwrap();
        assert!(out.converged, "{}", case.name);
        assert_close(out.cost, case.cost, 1e-6, &case.name);
        // POT's plan is feasible, so it costs at least otters' dual value.
        assert!(
            out.dual_cost <= case.cost + 1e-12,
            "{}: dual {} above POT's plan {}",
            case.name,
            out.dual_cost,
            case.cost
        );
    }
}

/// Both marginals exact: balanced 1-D OT, solved by the first oracle call.
#[test]
fn balanced_limit_is_one_dimensional_ot() {
    let mut rng = Rng::new(3);
    let x = Array1::from_shape_fn(40, |_| rng.normal());
    let y = Array1::from_shape_fn(30, |_| rng.normal() + 0.4);
    let (a, b) = (rng.weights(40, 1.0), rng.weights(30, 1.0));
    let inf = f64::INFINITY;
    let out = UnbalancedFrankWolfe::default()
        .solve(
            x.view(),
            y.view(),
            Some(a.view()),
            Some(b.view()),
            inf,
            inf,
            2.0,
        )
        .unwrap();
    let exact = wasserstein_1d(x.view(), y.view(), Some(a.view()), Some(b.view()), 2.0).unwrap();
    assert!(
        out.converged && out.iterations <= 1,
        "{} iterations",
        out.iterations
    );
    assert_close(out.cost, exact, 1e-12, "balanced");
    // A large ρ approaches it from below (relaxing the marginals can only lower the cost).
    let relaxed = UnbalancedFrankWolfe::default()
        .solve(
            x.view(),
            y.view(),
            Some(a.view()),
            Some(b.view()),
            1e4,
            1e4,
            2.0,
        )
        .unwrap();
    assert!(relaxed.cost <= exact && exact - relaxed.cost < 1e-3 * exact);
}

/// A small ρ destroys mass rather than transporting it far: two far-apart Diracs.
#[test]
fn small_rho_destroys_mass_between_far_diracs() {
    let (x, y) = (array![0.0], array![10.0]);
    let out = UnbalancedFrankWolfe::default()
        .solve(x.view(), y.view(), None, None, 1.0, 1.0, 2.0)
        .unwrap();
    // min_m m·100 + 2·(m log m − m + 1): m = e^{−50}, cost ≈ 2.
    assert!(out.marginal_a[0] < 1e-20);
    assert_close(out.cost, 2.0 * (1.0 - (-50.0f64).exp()), 1e-9, "far Diracs");
}

/// `ρ = ∞`: the W2 barycenter on the line, whose quantile function is `Σ λ_k F_k⁻¹`.
#[test]
fn balanced_barycenter_averages_quantiles() {
    let mut rng = Rng::new(8);
    let xs: Vec<Array1<f64>> = (0..3)
        .map(|k| Array1::from_shape_fn(10 + 5 * k, |_| rng.normal() + k as f64))
        .collect();
    let ws: Vec<Array1<f64>> = xs.iter().map(|x| rng.weights(x.len(), 1.0)).collect();
    let lambdas = array![0.2, 0.5, 0.3];
    let inputs: Vec<_> = xs
        .iter()
        .zip(&ws)
        .map(|(x, w)| (x.view(), Some(w.view())))
        .collect();
    let bar = UnbalancedFrankWolfe::default()
        .barycenter(&inputs, lambdas.view(), f64::INFINITY)
        .unwrap();
    assert!(bar.converged);
    assert_close(bar.weights.sum(), 1.0, 1e-12, "mass");
    assert!(bar.support.windows(2).into_iter().all(|w| w[0] <= w[1]));
    // Compare quantile functions on a fine grid of levels.
    let quantile = |x: &Array1<f64>, w: &Array1<f64>, t: f64| {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
        let mut acc = 0.0;
        for &i in &order {
            acc += w[i];
            if acc >= t {
                return x[i];
            }
        }
        x[order[order.len() - 1]]
    };
    for s in 1..200 {
        let t = (s as f64 + 0.37) / 200.0;
        let want: f64 = (0..3)
            .map(|k| lambdas[k] * quantile(&xs[k], &ws[k], t))
            .sum();
        let got = quantile(&bar.support, &bar.weights, t);
        assert!((got - want).abs() < 1e-12, "level {t}: {got} vs {want}");
    }
}

/// With two measures, `Σ λ_k(x_k − x̄)² = λ₁λ₂(x₁ − x₂)²`: the barycenter problem is 1-D UOT
/// with penalties `ρ/λ₂`, `ρ/λ₁` scaled by `λ₁λ₂`, so the values agree.
#[test]
fn two_measure_barycenter_is_uot() {
    let mut rng = Rng::new(13);
    let x = Array1::from_shape_fn(25, |_| rng.normal());
    let y = Array1::from_shape_fn(18, |_| rng.normal() + 1.5);
    let (a, b) = (rng.weights(25, 1.0), rng.weights(18, 0.7));
    let (l1, l2, rho) = (0.3, 0.7, 0.8);
    let solver = UnbalancedFrankWolfe {
        threshold: 1e-9,
        max_iterations: 50000,
    };
    let bar = solver
        .barycenter(
            &[(x.view(), Some(a.view())), (y.view(), Some(b.view()))],
            array![l1, l2].view(),
            rho,
        )
        .unwrap();
    let uot = solver
        .solve(
            x.view(),
            y.view(),
            Some(a.view()),
            Some(b.view()),
            rho / l2,
            rho / l1,
            2.0,
        )
        .unwrap();
    assert!(bar.converged && uot.converged);
    assert_close(bar.cost, l1 * l2 * uot.cost, 1e-8, "two-measure barycenter");
    assert!(bar.cost - bar.dual_cost <= 1e-9);
    let mass: f64 = bar.weights.sum();
    for m in &bar.marginals {
        assert_close(m.sum(), mass, 1e-12, "marginal mass");
    }
}

#[test]
fn bad_inputs_name_their_argument() {
    let (x, y) = (array![0.0, 1.0], array![0.5]);
    let fw = UnbalancedFrankWolfe::default();
    let arg = |e: Error| e.argument();
    assert_eq!(
        arg(fw
            .solve(x.view(), y.view(), None, None, 0.0, 1.0, 2.0)
            .unwrap_err()),
        Some("rho_a")
    );
    assert_eq!(
        arg(fw
            .solve(x.view(), y.view(), None, None, 1.0, f64::NAN, 2.0)
            .unwrap_err()),
        Some("rho_b")
    );
    assert_eq!(
        arg(fw
            .solve(x.view(), y.view(), None, None, 1.0, 1.0, 0.5)
            .unwrap_err()),
        Some("p")
    );
    let nan = array![0.0, f64::NAN];
    assert_eq!(
        arg(fw
            .solve(nan.view(), y.view(), None, None, 1.0, 1.0, 2.0)
            .unwrap_err()),
        Some("x")
    );
    let w = array![0.5, -0.5];
    assert_eq!(
        arg(fw
            .solve(x.view(), y.view(), Some(w.view()), None, 1.0, 1.0, 2.0)
            .unwrap_err()),
        Some("a")
    );
    let inf = f64::INFINITY;
    let heavy = array![2.0];
    assert!(matches!(
        fw.solve(x.view(), y.view(), None, Some(heavy.view()), inf, inf, 2.0)
            .unwrap_err(),
        Error::MassMismatch { .. }
    ));
    let bad = UnbalancedFrankWolfe {
        threshold: 0.0,
        max_iterations: 10,
    };
    assert_eq!(
        arg(bad
            .solve(x.view(), y.view(), None, None, 1.0, 1.0, 2.0)
            .unwrap_err()),
        Some("threshold")
    );
    assert_eq!(
        arg(fw.barycenter(&[], array![].view(), 1.0).unwrap_err()),
        Some("inputs")
    );
    let inputs = [(x.view(), None), (y.view(), None)];
    assert_eq!(
        arg(fw.barycenter(&inputs, array![1.0].view(), 1.0).unwrap_err()),
        Some("lambdas")
    );
    assert_eq!(
        arg(fw
            .barycenter(&inputs, array![1.0, 0.0].view(), 1.0)
            .unwrap_err()),
        Some("lambdas")
    );
    assert_eq!(
        arg(fw
            .barycenter(&inputs, array![1.0, 1.0].view(), -1.0)
            .unwrap_err()),
        Some("rho")
    );
    let inputs = [(nan.view(), None), (y.view(), None)];
    assert_eq!(
        arg(fw
            .barycenter(&inputs, array![1.0, 1.0].view(), 1.0)
            .unwrap_err()),
        Some("inputs")
    );
}
