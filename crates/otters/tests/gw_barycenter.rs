//! Gromov–Wasserstein barycenters (ALGORITHMS.md Q5): identical inputs and a single input
//! give back the input up to a permutation, the closed-form update against a brute-force
//! four-index computation (it is the minimizer for the plans), the stopping rules, the
//! observer, and bad inputs naming their argument.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{Rng, sq_euclidean, uniform};
use ndarray::{Array1, Array2, array};
use otters::geometry::DenseCost;
use otters::linear::Sinkhorn;
use otters::quadratic::{
    BarycenterInit, BarycenterStop, EntropicGw, GwBarycenter, GwBarycenterInput,
    GwBarycenterOutput, GwLoss, GwPlanSolver,
};
use otters::{Error, Observer, Progress};

/// Squared distances between `n` Gaussian points of the plane, scaled to a largest entry 1.
fn cloud_cost(n: usize, seed: u64) -> Array2<f64> {
    let x = Rng::new(seed).normal_matrix(n, 2);
    let c = sq_euclidean(&x, &x);
    let max = c.iter().fold(0.0f64, |m, &v| m.max(v));
    c / max
}

/// Checks that `bary = P·c·Pᵀ` for the permutation `P` read off the plan (each row of the
/// plan has its mass on one point), to `tol`; returns the permutation.
fn assert_permuted_copy(bary: &Array2<f64>, c: &Array2<f64>, plan: &Array2<f64>, tol: f64) {
    let n = c.nrows();
    assert_eq!(bary.dim(), (n, n));
    let sigma: Vec<usize> = plan
        .rows()
        .into_iter()
        .map(|row| {
            let (j, &v) = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap();
            assert!((v - row.sum()).abs() < 1e-9, "row mass not on one point");
            j
        })
        .collect();
    let mut seen = sigma.clone();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..n).collect::<Vec<_>>(),
        "the plan is not a permutation"
    );
    for i in 0..n {
        for k in 0..n {
            let d = (bary[[i, k]] - c[[sigma[i], sigma[k]]]).abs();
            assert!(d <= tol, "C_bar[{i}, {k}] differs by {d:e}");
        }
    }
}

/// `Σ_s λ_s Σ_ijkl L(C_ij, C^s_kl) T^s_ik T^s_jl`, by four nested loops.
fn brute_objective(
    loss: GwLoss,
    c: &Array2<f64>,
    costs: &[&Array2<f64>],
    plans: &[Array2<f64>],
    lambdas: &[f64],
) -> f64 {
    let l = |a: f64, b: f64| match loss {
        GwLoss::Square => (a - b) * (a - b),
        GwLoss::Kl => a * (a / b).ln() - a + b,
    };
    let n = c.nrows();
    let mut total = 0.0;
    for ((cs, t), &lambda) in costs.iter().zip(plans).zip(lambdas) {
        let m = cs.nrows();
        let mut sum = 0.0;
        for i in 0..n {
            for j in 0..n {
                for k in 0..m {
                    for q in 0..m {
                        sum += l(c[[i, j]], cs[[k, q]]) * t[[i, k]] * t[[j, q]];
                    }
                }
            }
        }
        total += lambda * sum;
    }
    total
}

fn solve(
    settings: &GwBarycenter,
    costs: &[&Array2<f64>],
    weights: &[Array1<f64>],
) -> GwBarycenterOutput {
    let geoms: Vec<DenseCost<'_>> = costs
        .iter()
        .map(|c| DenseCost::new(c.view()).unwrap())
        .collect();
    let inputs: Vec<GwBarycenterInput<'_>> = geoms
        .iter()
        .zip(weights)
        .map(|(g, w)| GwBarycenterInput::new(g, w.view()))
        .collect();
    settings.solve(&inputs).unwrap()
}

#[test]
fn identical_inputs_give_back_the_input_up_to_a_permutation() {
    let n = 12;
    let c = cloud_cost(n, 3);
    let w = uniform(n);
    for (seed, lambdas) in [(1, vec![0.2, 0.5, 0.3]), (2, vec![1.0, 1.0, 1.0])] {
        let settings = GwBarycenter {
            lambdas: Some(lambdas.clone()),
            init: BarycenterInit::Random { seed },
            ..GwBarycenter::new(n)
        };
        let out = solve(&settings, &[&c, &c, &c], &[w.clone(), w.clone(), w.clone()]);
        assert!(out.converged(), "seed {seed}: {:?}", out.trace());
        for (s, g) in out.gw_losses().iter().enumerate() {
            assert!(g.abs() < 1e-10, "seed {seed}: GW(C_bar, C_{s}) = {g:e}");
        }
        let cost = out.cost().to_owned();
        for plan in out.plans() {
            assert_permuted_copy(&cost, &c, plan, 1e-10);
        }
        let total: f64 = lambdas.iter().sum();
        assert!(out.loss().abs() < 1e-10 * total);
    }
}

#[test]
fn a_single_input_is_its_own_barycenter_for_both_losses() {
    let n = 10;
    let c = cloud_cost(n, 8);
    for loss in [GwLoss::Square, GwLoss::Kl] {
        // KL needs positive costs off the diagonal; the floor keeps log C finite on it.
        let c = if loss == GwLoss::Kl {
            &c + 0.1
        } else {
            c.clone()
        };
        let settings = GwBarycenter {
            loss,
            init: BarycenterInit::Random { seed: 5 },
            ..GwBarycenter::new(n)
        };
        let out = solve(&settings, &[&c], &[uniform(n)]);
        assert!(out.converged(), "{loss:?}: {:?}", out.trace());
        assert!(out.loss().abs() < 1e-10, "{loss:?}: GW = {:e}", out.loss());
        assert_permuted_copy(&out.cost().to_owned(), &c, &out.plans()[0], 1e-9);
    }
}

#[test]
fn the_update_is_the_brute_force_minimizer_for_the_plans() {
    // One iteration from a given start: the returned C is the update of the returned plans.
    let (c1, c2) = (cloud_cost(5, 11) + 0.05, cloud_cost(4, 12) + 0.05);
    let mut rng = Rng::new(13);
    let (w1, w2) = (rng.weights(5, 1.0), rng.weights(4, 1.0));
    let p = rng.weights(3, 1.0);
    let start = cloud_cost(3, 14) + 0.05;
    let lambdas = vec![0.7, 2.1];
    for loss in [GwLoss::Square, GwLoss::Kl] {
        let settings = GwBarycenter {
            weights: Some(p.clone()),
            lambdas: Some(lambdas.clone()),
            loss,
            max_iterations: 1,
            init: BarycenterInit::Cost(start.clone()),
            ..GwBarycenter::new(3)
        };
        let out = solve(&settings, &[&c1, &c2], &[w1.clone(), w2.clone()]);
        assert_eq!(out.iterations(), 1);
        assert!(
            !out.converged(),
            "one iteration cannot meet ‖ΔC‖ ≤ 1e-9 here"
        );
        let plans = out.plans();
        assert_eq!((plans[0].dim(), plans[1].dim()), ((3, 5), (3, 4)));
        // C_ij = Σ_s λ̂_s Σ_kl T_ik K_kl T_jl / (p_i p_j), K = C_s or log C_s.
        let total: f64 = lambdas.iter().sum();
        let mut want = Array2::<f64>::zeros((3, 3));
        for ((cs, t), &lambda) in [&c1, &c2].iter().zip(plans).zip(&lambdas) {
            for i in 0..3 {
                for j in 0..3 {
                    for k in 0..cs.nrows() {
                        for q in 0..cs.nrows() {
                            let kk = match loss {
                                GwLoss::Kl => cs[[k, q]].ln(),
                                _ => cs[[k, q]],
                            };
                            want[[i, j]] += lambda / total * t[[i, k]] * kk * t[[j, q]];
                        }
                    }
                }
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                want[[i, j]] /= p[i] * p[j];
            }
        }
        if loss == GwLoss::Kl {
            want.mapv_inplace(f64::exp);
        }
        let got = out.cost().to_owned();
        let err = (&got - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            err < 1e-13,
            "{loss:?}: update differs from brute force by {err:e}"
        );
        // The reported losses are the four-index sums at the returned C.
        let costs = [&c1, &c2];
        for s in 0..2 {
            let g = brute_objective(loss, &got, &costs[s..=s], &plans[s..=s], &[1.0]);
            assert!((out.gw_losses()[s] - g).abs() < 1e-13, "{loss:?}: GW_{s}");
        }
        let objective = brute_objective(loss, &got, &costs, plans, &lambdas);
        assert!((out.loss() - objective).abs() < 1e-13 * objective.max(1.0));
        // It is the minimizer for these plans: moving any entry raises the objective.
        for (i, j) in [(0, 0), (0, 1), (2, 1)] {
            for delta in [1e-3, -1e-3] {
                let mut moved = got.clone();
                moved[[i, j]] += delta;
                let value = brute_objective(loss, &moved, &costs, plans, &lambdas);
                assert!(
                    value > objective,
                    "{loss:?}: C[{i},{j}] {delta:+} lowers it"
                );
            }
        }
        // And the update lowered the objective of the start for the same plans.
        let before = brute_objective(loss, &start, &costs, plans, &lambdas);
        assert!(objective < before);
        let pre: f64 = out
            .loss_trace()
            .row(0)
            .iter()
            .zip(&lambdas)
            .map(|(g, l)| g * l)
            .sum();
        assert!((pre - before).abs() < 1e-10, "loss trace {pre} vs {before}");
    }
}

#[test]
fn only_the_ratios_of_the_lambdas_move_the_barycenter() {
    let (c1, c2) = (cloud_cost(8, 21), cloud_cost(7, 22));
    let (w1, w2) = (uniform(8), uniform(7));
    let run = |scale: f64| {
        let settings = GwBarycenter {
            lambdas: Some(vec![0.3 * scale, 0.7 * scale]),
            init: BarycenterInit::Random { seed: 4 },
            ..GwBarycenter::new(6)
        };
        solve(&settings, &[&c1, &c2], &[w1.clone(), w2.clone()])
    };
    let (a, b) = (run(1.0), run(7.0));
    assert!(a.converged() && b.converged());
    assert_eq!(a.iterations(), b.iterations());
    let err = (&a.cost() - &b.cost())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err < 1e-12, "C moved by {err:e}");
    assert!((b.loss() - 7.0 * a.loss()).abs() < 1e-12 * b.loss().max(1.0));
}

#[test]
fn stopping_rules_and_non_convergence() {
    let (c1, c2) = (cloud_cost(9, 31), cloud_cost(6, 32));
    let weights = [uniform(9), uniform(6)];
    let by_loss = GwBarycenter {
        stop: BarycenterStop::LossChange,
        tolerance: 1e-10,
        init: BarycenterInit::Random { seed: 9 },
        ..GwBarycenter::new(5)
    };
    let out = solve(&by_loss, &[&c1, &c2], &weights);
    assert!(out.converged());
    let trace = out.trace();
    assert!(
        trace[0].is_infinite(),
        "no previous loss at the first iteration"
    );
    assert!(*trace.last().unwrap() <= 1e-10);
    // The trace is the relative change of Σ λ_s GW_s along the loss trace.
    let objective: Vec<f64> = out
        .loss_trace()
        .rows()
        .into_iter()
        .map(|r| 0.5 * r.sum())
        .collect();
    for k in 1..trace.len() {
        let want = (objective[k] - objective[k - 1]).abs() / objective[k - 1].abs();
        assert!((trace[k] - want).abs() <= 1e-12 * want.max(1e-300) + 1e-300);
    }
    // A budget too small for the rule: not converged, finite costs, one trace entry each.
    let short = GwBarycenter {
        max_iterations: 2,
        tolerance: 0.0,
        init: BarycenterInit::Random { seed: 9 },
        ..GwBarycenter::new(5)
    };
    let out = solve(&short, &[&c1, &c2], &weights);
    assert!(!out.converged());
    assert_eq!((out.iterations(), out.trace().len()), (2, 2));
    assert_eq!(out.loss_trace().dim(), (2, 2));
    assert!(out.cost().iter().all(|v| v.is_finite()));
    // Warm-started plans reach a fixed point too, and it is symmetric like the inputs.
    let warm = GwBarycenter {
        warm_start: true,
        init: BarycenterInit::Random { seed: 9 },
        ..GwBarycenter::new(5)
    };
    let out = solve(&warm, &[&c1, &c2], &weights);
    assert!(out.converged());
    let c = out.cost();
    assert!((&c - &c.t()).iter().all(|v| v.abs() < 1e-12));
}

#[test]
fn entropic_plans_reach_a_fixed_point_and_the_observer_sees_every_iteration() {
    let (c1, c2) = (cloud_cost(10, 41), cloud_cost(8, 42));
    let weights = [uniform(10), uniform(8)];
    let entropic = GwPlanSolver::Entropic(EntropicGw {
        epsilon: 0.05,
        threshold: 1e-9,
        sinkhorn: Sinkhorn {
            threshold: 1e-11,
            ..EntropicGw::default().sinkhorn
        },
        ..EntropicGw::default()
    });
    let settings = GwBarycenter {
        solver: entropic,
        tolerance: 1e-8,
        init: BarycenterInit::Random { seed: 2 },
        ..GwBarycenter::new(6)
    };
    let (g1, g2) = (
        DenseCost::new(c1.view()).unwrap(),
        DenseCost::new(c2.view()).unwrap(),
    );
    let inputs = [
        GwBarycenterInput::new(&g1, weights[0].view()),
        GwBarycenterInput::new(&g2, weights[1].view()),
    ];
    let calls = AtomicUsize::new(0);
    let count = |p: &Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
        assert!((p.epsilon - 0.05).abs() < 1e-15);
    };
    let out = settings
        .solve_with(&inputs, &Observer::new().with_progress(&count))
        .unwrap();
    assert!(out.converged(), "{:?}", out.trace());
    assert_eq!(calls.load(Ordering::Relaxed), out.iterations());
    // Entropic plans are dense and carry the marginals p and p_s.
    for (plan, w) in out.plans().iter().zip(&weights) {
        assert!(plan.iter().all(|&v| v > 0.0));
        let rows = plan.sum_axis(ndarray::Axis(1));
        let cols = plan.sum_axis(ndarray::Axis(0));
        assert!((&rows - &uniform(6)).iter().all(|v| v.abs() < 1e-9));
        assert!((&cols - w).iter().all(|v| v.abs() < 1e-9));
    }
    // The blur of the entropic plans costs GW loss; the exact plans do better.
    let exact = GwBarycenter {
        init: BarycenterInit::Random { seed: 2 },
        ..GwBarycenter::new(6)
    };
    let exact = exact.solve(&inputs).unwrap();
    assert!(out.loss() > exact.loss());
    // A set cancellation flag stops the solve at the first outer iteration.
    let stop = AtomicBool::new(true);
    let err = settings
        .solve_with(&inputs, &Observer::new().with_cancel(&stop))
        .unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }), "{err}");
}

#[test]
fn bad_inputs_name_their_argument() {
    let c = cloud_cost(4, 51);
    let w = uniform(4);
    let g = DenseCost::new(c.view()).unwrap();
    let rect = Array2::<f64>::ones((4, 3));
    let g_rect = DenseCost::new(rect.view()).unwrap();
    let neg = &c - 0.5;
    let g_neg = DenseCost::new(neg.view()).unwrap();
    let heavy = &w * 2.0;
    let short = uniform(3);
    let bad_w = array![0.5, 0.5, 0.25, -0.25];
    let ok = GwBarycenterInput::new(&g, w.view());
    let base = || GwBarycenter::new(4);
    let kl = || GwBarycenter {
        loss: GwLoss::Kl,
        ..base()
    };
    let with = |f: fn(&mut GwBarycenter)| {
        let mut s = base();
        f(&mut s);
        s
    };
    let cases: Vec<(GwBarycenter, Vec<GwBarycenterInput<'_>>, &str)> = vec![
        (GwBarycenter::new(0), vec![ok], "size"),
        (with(|s| s.max_iterations = 0), vec![ok], "max_iterations"),
        (with(|s| s.tolerance = f64::NAN), vec![ok], "tolerance"),
        (base(), vec![], "inputs"),
        (
            base(),
            vec![ok, GwBarycenterInput::new(&g_rect, w.view())],
            "inputs",
        ),
        (
            base(),
            vec![GwBarycenterInput::new(&g, short.view())],
            "inputs",
        ),
        (
            base(),
            vec![GwBarycenterInput::new(&g, heavy.view())],
            "inputs",
        ),
        (
            base(),
            vec![GwBarycenterInput::new(&g, bad_w.view())],
            "inputs",
        ),
        (
            kl(),
            vec![GwBarycenterInput::new(&g_neg, w.view())],
            "inputs",
        ),
        (
            with(|s| s.lambdas = Some(vec![1.0])),
            vec![ok, ok],
            "lambdas",
        ),
        (
            with(|s| s.lambdas = Some(vec![1.0, -0.5])),
            vec![ok, ok],
            "lambdas",
        ),
        (
            with(|s| s.lambdas = Some(vec![1.0, f64::NAN])),
            vec![ok, ok],
            "lambdas",
        ),
        (
            with(|s| s.lambdas = Some(vec![0.0, 0.0])),
            vec![ok, ok],
            "lambdas",
        ),
        (with(|s| s.weights = Some(uniform(3))), vec![ok], "weights"),
        (
            with(|s| s.weights = Some(array![0.5, 0.5, 0.0, 0.0])),
            vec![ok],
            "weights",
        ),
        (
            with(|s| s.weights = Some(array![0.5, 0.5, f64::NAN, 0.0])),
            vec![ok],
            "weights",
        ),
        (
            with(|s| s.init = BarycenterInit::Cost(Array2::zeros((3, 3)))),
            vec![ok],
            "init",
        ),
        (
            with(|s| s.init = BarycenterInit::Cost(Array2::from_elem((4, 4), f64::INFINITY))),
            vec![ok],
            "init",
        ),
        (
            GwBarycenter {
                init: BarycenterInit::Cost(-Array2::<f64>::ones((4, 4))),
                ..kl()
            },
            vec![ok],
            "init",
        ),
    ];
    for (settings, inputs, arg) in cases {
        let err = settings.solve(&inputs).unwrap_err();
        assert_eq!(err.argument(), Some(arg), "{err}");
        assert!(err.to_string().contains(arg), "{err}");
    }
    // A non-finite input cost is refused before any solve (DenseCost accepts +inf as a
    // forbidden pair).
    let inf = Array2::from_elem((4, 4), f64::INFINITY);
    let g_inf = DenseCost::new(inf.view()).unwrap();
    let err = base()
        .solve(&[GwBarycenterInput::new(&g_inf, w.view())])
        .unwrap_err();
    assert_eq!(err.argument(), Some("inputs"), "{err}");
}
