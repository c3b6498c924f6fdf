//! Properties every Sinkhorn solution must have (RELIABILITY §3.10–3.11, §4 layer 1):
//! marginals, weak duality, symmetry, invariances, zero weights, updates and schedules that
//! reach the same fixed point, warm starts, observers, non-convergence reporting.

mod common;

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Rng, assert_close, max_abs_diff, uniform};
use ndarray::{Array1, Array2, Axis as NdAxis, array, s};
use otters::geometry::{DenseCost, PointCloud};
use otters::linear::{
    Acceleration, Epsilon, EpsilonScaling, LinearProblem, MarginalPenalty, Potentials, Sinkhorn,
    UnbalancedUpdates,
};
use otters::{Error, Observer, Progress};

fn tight(eps: f64) -> Sinkhorn {
    Sinkhorn {
        threshold: 1e-11,
        max_iterations: 50_000,
        ..Sinkhorn::new(Epsilon::Absolute(eps))
    }
}

fn problem_data(seed: u64, n: usize, m: usize) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let mut rng = Rng::new(seed);
    let x = rng.normal_matrix(n, 2);
    let y = rng.normal_matrix(m, 2) + 0.5;
    (
        common::sq_euclidean(&x, &y),
        rng.weights(n, 1.0),
        rng.weights(m, 1.0),
    )
}

#[test]
fn converged_plans_satisfy_the_marginals_checked_on_the_materialized_plan() {
    let (c, a, b) = problem_data(1, 23, 31);
    let geom = DenseCost::new(c.view()).unwrap();
    let kl = MarginalPenalty::Kl { rho: 0.7 };
    for (pa, pb) in [
        (MarginalPenalty::Hard, MarginalPenalty::Hard),
        (kl, kl),
        (MarginalPenalty::Hard, kl),
    ] {
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, pb).unwrap();
        let solver = Sinkhorn {
            threshold: 1e-9,
            ..Sinkhorn::new(Epsilon::Absolute(0.1))
        };
        let out = solver.solve(&problem).unwrap();
        assert!(out.converged());
        let plan = out.plan(&problem).unwrap();
        let (rows, cols) = (plan.sum_axis(NdAxis(1)), plan.sum_axis(NdAxis(0)));
        let target = |w: &Array1<f64>, pot: ndarray::ArrayView1<f64>, p: MarginalPenalty| match p {
            MarginalPenalty::Kl { rho } => w * &pot.mapv(|f| (-f / rho).exp()),
            _ => w.clone(),
        };
        let err = (&rows - &target(&a, out.f(), pa)).mapv(f64::abs).sum()
            + (&cols - &target(&b, out.g(), pb)).mapv(f64::abs).sum();
        assert!(
            err <= 1e-9 * 1.0001,
            "{pa:?}/{pb:?}: marginal error {err:e} on the plan itself"
        );
        let (r, cc) = out.marginals();
        assert!(max_abs_diff(&r.insert_axis(NdAxis(0)), &rows.insert_axis(NdAxis(0))) < 1e-14);
        assert!(max_abs_diff(&cc.insert_axis(NdAxis(0)), &cols.insert_axis(NdAxis(0))) < 1e-14);
    }
}

#[test]
fn dual_never_exceeds_primal() {
    let (c, a, b) = problem_data(2, 15, 12);
    let geom = DenseCost::new(c.view()).unwrap();
    let mut b_heavy = b.clone();
    b_heavy *= 2.0;
    for rho in [0.05, 1.0, 20.0] {
        let kl = MarginalPenalty::Kl { rho };
        let problem = LinearProblem::unbalanced(&geom, a.view(), b_heavy.view(), kl, kl).unwrap();
        // At every iterate, not only at convergence.
        for iterations in [1, 2, 5, 50, 5000] {
            let solver = Sinkhorn {
                max_iterations: iterations,
                ..tight(0.05)
            };
            let out = solver.solve(&problem).unwrap();
            assert!(
                out.reg_ot_cost() <= out.primal_cost() + 1e-12,
                "rho {rho}, {iterations} its: dual {} > primal {}",
                out.reg_ot_cost(),
                out.primal_cost()
            );
        }
        let out = tight(0.05).solve(&problem).unwrap();
        assert_close(
            out.reg_ot_cost(),
            out.primal_cost(),
            1e-10,
            "zero duality gap at the optimum",
        );
    }
}

#[test]
fn swapping_the_measures_transposes_the_plan() {
    let (c, a, b) = problem_data(3, 14, 19);
    let ct = c.t().to_owned();
    let (g1, g2) = (
        DenseCost::new(c.view()).unwrap(),
        DenseCost::new(ct.view()).unwrap(),
    );
    let kl = MarginalPenalty::Kl { rho: 0.5 };
    for (pa, pb) in [
        (MarginalPenalty::Hard, MarginalPenalty::Hard),
        (kl, MarginalPenalty::Hard),
    ] {
        let p1 = LinearProblem::unbalanced(&g1, a.view(), b.view(), pa, pb).unwrap();
        let p2 = LinearProblem::unbalanced(&g2, b.view(), a.view(), pb, pa).unwrap();
        let (o1, o2) = (
            tight(0.2).solve(&p1).unwrap(),
            tight(0.2).solve(&p2).unwrap(),
        );
        assert_close(
            o1.reg_ot_cost(),
            o2.reg_ot_cost(),
            1e-10,
            "OT(a, b, C) = OT(b, a, Cᵀ)",
        );
        assert!(
            max_abs_diff(
                &o1.plan(&p1).unwrap(),
                &o2.plan(&p2).unwrap().t().to_owned()
            ) < 1e-10
        );
    }
}

#[test]
fn adding_row_and_column_constants_shifts_the_balanced_value() {
    let (c, a, b) = problem_data(4, 11, 13);
    let mut rng = Rng::new(40);
    let (u, v) = (
        Array1::from_shape_fn(11, |_| rng.normal()),
        Array1::from_shape_fn(13, |_| rng.normal()),
    );
    let shifted = &c + &u.view().insert_axis(NdAxis(1)) + v.view().insert_axis(NdAxis(0));
    let (g1, g2) = (
        DenseCost::new(c.view()).unwrap(),
        DenseCost::new(shifted.view()).unwrap(),
    );
    let p1 = LinearProblem::new(&g1, a.view(), b.view()).unwrap();
    let p2 = LinearProblem::new(&g2, a.view(), b.view()).unwrap();
    let (o1, o2) = (
        tight(0.1).solve(&p1).unwrap(),
        tight(0.1).solve(&p2).unwrap(),
    );
    assert_close(
        o2.reg_ot_cost(),
        o1.reg_ot_cost() + a.dot(&u) + b.dot(&v),
        1e-10,
        "value shift",
    );
    assert!(
        max_abs_diff(&o1.plan(&p1).unwrap(), &o2.plan(&p2).unwrap()) < 1e-10,
        "same plan"
    );
}

#[test]
fn scaling_cost_and_epsilon_together_scales_the_value() {
    let (c, a, b) = problem_data(5, 10, 9);
    let s = 7.5;
    let scaled = &c * s;
    let (g1, g2) = (
        DenseCost::new(c.view()).unwrap(),
        DenseCost::new(scaled.view()).unwrap(),
    );
    let p1 = LinearProblem::new(&g1, a.view(), b.view()).unwrap();
    let p2 = LinearProblem::new(&g2, a.view(), b.view()).unwrap();
    let (o1, o2) = (
        tight(0.3).solve(&p1).unwrap(),
        tight(0.3 * s).solve(&p2).unwrap(),
    );
    assert_close(
        o2.reg_ot_cost(),
        s * o1.reg_ot_cost(),
        1e-10,
        "OT(sC, sε) = s·OT(C, ε)",
    );
    // ScaleCost::By(s) on the scaled matrix is the original problem.
    let g3 = DenseCost::new(scaled.view())
        .unwrap()
        .with_scale(otters::geometry::ScaleCost::By(s))
        .unwrap();
    let p3 = LinearProblem::new(&g3, a.view(), b.view()).unwrap();
    assert_close(
        tight(0.3).solve(&p3).unwrap().reg_ot_cost(),
        o1.reg_ot_cost(),
        1e-10,
        "ScaleCost::By",
    );
}

#[test]
fn splitting_a_point_keeps_the_value() {
    let mut rng = Rng::new(6);
    let x = rng.normal_matrix(8, 2);
    let y = rng.normal_matrix(9, 2);
    let (a, b) = (rng.weights(8, 1.0), rng.weights(9, 1.0));
    let mut x2 = Array2::zeros((9, 2));
    x2.slice_mut(s![..8, ..]).assign(&x);
    x2.row_mut(8).assign(&x.row(0));
    let mut a2 = Array1::zeros(9);
    a2.slice_mut(s![..8]).assign(&a);
    a2[0] = 0.3 * a[0];
    a2[8] = 0.7 * a[0];
    let (g1, g2) = (
        PointCloud::sq_euclidean(x.view(), y.view()).unwrap(),
        PointCloud::sq_euclidean(x2.view(), y.view()).unwrap(),
    );
    let p1 = LinearProblem::new(&g1, a.view(), b.view()).unwrap();
    let p2 = LinearProblem::new(&g2, a2.view(), b.view()).unwrap();
    assert_close(
        tight(0.1).solve(&p2).unwrap().reg_ot_cost(),
        tight(0.1).solve(&p1).unwrap().reg_ot_cost(),
        1e-10,
        "split point",
    );
}

#[test]
fn zero_weights_give_exactly_zero_rows_and_the_reduced_solution() {
    let (c, mut a, mut b) = problem_data(7, 12, 10);
    a[3] = 0.0;
    a[7] = 0.0;
    b[0] = 0.0;
    let mass = a.sum();
    b *= mass / b.sum();
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = tight(0.1).solve(&problem).unwrap();
    let plan = out.plan(&problem).unwrap();
    assert!(
        plan.row(3)
            .iter()
            .chain(plan.row(7))
            .chain(plan.column(0))
            .all(|&p| p == 0.0),
        "exact zeros"
    );
    assert!(
        out.f().iter().chain(out.g()).all(|v| v.is_finite()),
        "potentials are defined everywhere"
    );

    let keep_rows: Vec<usize> = (0..12).filter(|&i| a[i] > 0.0).collect();
    let keep_cols: Vec<usize> = (0..10).filter(|&j| b[j] > 0.0).collect();
    let c_red = c
        .select(NdAxis(0), &keep_rows)
        .select(NdAxis(1), &keep_cols);
    let g_red = DenseCost::new(c_red.view()).unwrap();
    let p_red = LinearProblem::new(
        &g_red,
        a.select(NdAxis(0), &keep_rows),
        b.select(NdAxis(0), &keep_cols),
    )
    .unwrap();
    let o_red = tight(0.1).solve(&p_red).unwrap();
    let plan_red = o_red.plan(&p_red).unwrap();
    let plan_kept = plan
        .select(NdAxis(0), &keep_rows)
        .select(NdAxis(1), &keep_cols);
    // Both solves stop at a marginal error of 1e-11 (the reduced one after thousands of
    // iterations, the full one after ~100), so their plans agree to about that.
    assert!(max_abs_diff(&plan_kept, &plan_red) < 1e-10);
    assert_close(out.reg_ot_cost(), o_red.reg_ot_cost(), 1e-10, "same value");
}

#[test]
fn translation_invariant_updates_reach_the_same_optimum_in_fewer_iterations() {
    let (c, a, b) = problem_data(8, 60, 70);
    let b = b * 1.5;
    let geom = DenseCost::new(c.view())
        .unwrap()
        .with_scale(otters::geometry::ScaleCost::Max)
        .unwrap();
    let mut ratios = Vec::new();
    for (rho, pa_hard) in [(1.0, false), (10.0, false), (100.0, false), (10.0, true)] {
        let kl = MarginalPenalty::Kl { rho };
        let pa = if pa_hard { MarginalPenalty::Hard } else { kl };
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, kl).unwrap();
        let solve = |updates| {
            Sinkhorn {
                unbalanced_updates: updates,
                threshold: 1e-10,
                max_iterations: 200_000,
                // The translations alone (Anderson acceleration narrows the gap).
                acceleration: Acceleration::None,
                ..Sinkhorn::new(Epsilon::Absolute(0.01))
            }
            .solve(&problem)
            .unwrap()
        };
        let (ti, plain) = (
            solve(UnbalancedUpdates::TranslationInvariant),
            solve(UnbalancedUpdates::Standard),
        );
        assert!(ti.converged() && plain.converged());
        assert!(
            max_abs_diff(&ti.plan(&problem).unwrap(), &plain.plan(&problem).unwrap()) < 1e-9,
            "rho {rho}: same plan"
        );
        assert_close(ti.reg_ot_cost(), plain.reg_ot_cost(), 1e-9, "same value");
        assert!(
            ti.iterations() <= plain.iterations(),
            "rho {rho}: {} TI vs {} plain",
            ti.iterations(),
            plain.iterations()
        );
        ratios.push(plain.iterations() as f64 / ti.iterations() as f64);
    }
    // ρ ≫ ε is where the translation pays (Séjourné et al. 2022).
    assert!(ratios[2] > 5.0, "iteration ratios plain/TI: {ratios:?}");
}

#[test]
fn accelerations_reach_the_same_plan_and_anderson_saves_iterations() {
    // Small ε (slow plain iterations) on balanced, zero-weight, KL (both update rules),
    // semi-relaxed and TV problems: every acceleration converges to the plain solution,
    // and Anderson needs at most a third of the plain iterations.
    let (c, a, b) = problem_data(21, 120, 110);
    let geom = DenseCost::new(c.view())
        .unwrap()
        .with_scale(otters::geometry::ScaleCost::Max)
        .unwrap();
    let mut a0 = a.clone();
    a0.slice_mut(s![..;7]).fill(0.0);
    a0 /= a0.sum();
    let b15 = &b * 1.5;
    let kl = MarginalPenalty::Kl { rho: 0.1 };
    let tv = MarginalPenalty::TotalVariation { rho: 0.1 };
    let hard = MarginalPenalty::Hard;
    let cases = [
        (
            "balanced",
            a.clone(),
            b.clone(),
            hard,
            hard,
            UnbalancedUpdates::default(),
        ),
        (
            "zero weights",
            a0,
            b.clone(),
            hard,
            hard,
            UnbalancedUpdates::default(),
        ),
        (
            "KL TI",
            a.clone(),
            b15.clone(),
            kl,
            kl,
            UnbalancedUpdates::TranslationInvariant,
        ),
        (
            "KL standard",
            a.clone(),
            b15.clone(),
            kl,
            kl,
            UnbalancedUpdates::Standard,
        ),
        (
            "semi-relaxed",
            a.clone(),
            b15.clone(),
            hard,
            kl,
            UnbalancedUpdates::default(),
        ),
        ("TV", a.clone(), b15, tv, tv, UnbalancedUpdates::default()),
    ];
    for (name, a, b, pa, pb, updates) in cases {
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), pa, pb).unwrap();
        let solve = |acceleration| {
            let out = Sinkhorn {
                threshold: 1e-9,
                max_iterations: 100_000,
                unbalanced_updates: updates,
                acceleration,
                ..Sinkhorn::new(Epsilon::Absolute(2e-3))
            }
            .solve(&problem)
            .unwrap();
            assert!(out.converged(), "{name} {acceleration:?}");
            out
        };
        let plain = solve(Acceleration::None);
        let plan = plain.plan(&problem).unwrap();
        let scale = plan.iter().fold(0.0f64, |m, &v| m.max(v));
        for acceleration in [
            Acceleration::default(),
            Acceleration::Anderson(otters::linear::Anderson::new(2)),
            Acceleration::AdaptiveRelaxation,
            Acceleration::Relaxation(1.5),
        ] {
            let out = solve(acceleration);
            let diff = max_abs_diff(&out.plan(&problem).unwrap(), &plan);
            assert!(
                diff < 1e-5 * scale,
                "{name} {acceleration:?}: plans differ by {diff:e} (max entry {scale:e})"
            );
            assert_close(
                out.reg_ot_cost(),
                plain.reg_ot_cost(),
                1e-7,
                &format!("{name} {acceleration:?}"),
            );
            if acceleration == Acceleration::default() {
                assert!(
                    3 * out.iterations() <= plain.iterations(),
                    "{name}: Anderson {} vs plain {} iterations",
                    out.iterations(),
                    plain.iterations()
                );
            }
        }
    }
}

#[test]
fn epsilon_scaling_and_warm_starts_reach_the_same_fixed_point() {
    let (c, a, b) = problem_data(9, 40, 45);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let plain = tight(0.05).solve(&problem).unwrap();
    let annealed = Sinkhorn {
        scaling: EpsilonScaling::from_max_cost(0.7),
        ..tight(0.05)
    }
    .solve(&problem)
    .unwrap();
    assert!(annealed.converged());
    assert_eq!(annealed.epsilon(), 0.05);
    assert!(
        max_abs_diff(
            &plain.plan(&problem).unwrap(),
            &annealed.plan(&problem).unwrap()
        ) < 1e-10
    );

    let init = Potentials {
        f: plain.f(),
        g: plain.g(),
    };
    let warm = tight(0.05)
        .solve_with(&problem, Some(init), &Observer::new())
        .unwrap();
    assert!(warm.converged());
    assert!(
        warm.iterations() <= 2,
        "a solution restarts in {} iterations",
        warm.iterations()
    );
    let bad = Potentials {
        f: plain.g(),
        g: plain.f(),
    };
    assert!(matches!(
        tight(0.05).solve_with(&problem, Some(bad), &Observer::new()),
        Err(Error::Shape { arg: "init.f", .. })
    ));
}

#[test]
fn non_convergence_is_a_status_not_an_error() {
    let (c, a, b) = problem_data(10, 30, 30);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = Sinkhorn {
        max_iterations: 3,
        ..tight(1e-3)
    }
    .solve(&problem)
    .unwrap();
    assert!(!out.converged());
    assert_eq!(out.iterations(), 3);
    assert_eq!(out.errors().len(), 3);
    assert!(out.marginal_error() > out.threshold());
    assert!(out.reg_ot_cost().is_finite() && out.f().iter().all(|v| v.is_finite()));
    let err = out.require_converged().unwrap_err();
    assert!(
        matches!(err, Error::NotConverged { iterations: 3, .. }),
        "{err}"
    );
    // min_iterations holds the solver back even after convergence.
    let out = Sinkhorn {
        min_iterations: 200,
        ..tight(1.0)
    }
    .solve(&problem)
    .unwrap();
    assert!(
        out.converged() && out.iterations() == 200,
        "{} iterations, error {:e}",
        out.iterations(),
        out.marginal_error()
    );
}

#[test]
fn observers_see_every_iteration_and_can_cancel() {
    let (c, a, b) = problem_data(11, 25, 25);
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let seen = Mutex::new(Vec::new());
    let record = |p: &Progress| seen.lock().unwrap().push(*p);
    let out = tight(0.1)
        .solve_with(&problem, None, &Observer::new().with_progress(&record))
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), out.iterations());
    assert_eq!(seen.last().unwrap().error, out.marginal_error());
    assert!(
        seen.iter()
            .enumerate()
            .all(|(k, p)| p.iteration == k + 1 && p.epsilon == 0.1)
    );

    let stop = AtomicBool::new(false);
    let count = Cell::new(0);
    let counter = Mutex::new(count);
    let cancel_at_five = |p: &Progress| {
        if p.iteration == 5 {
            stop.store(true, Ordering::Relaxed);
        }
        counter.lock().unwrap().set(p.iteration);
    };
    let observer = Observer::new()
        .with_progress(&cancel_at_five)
        .with_cancel(&stop);
    let err = tight(1e-3)
        .solve_with(&problem, None, &observer)
        .unwrap_err();
    assert_eq!(err, Error::Interrupted { iteration: 5 });
    assert_eq!(err.kind(), otters::ErrorKind::Interrupted);
}

#[test]
fn weights_that_are_not_probabilities_scale_the_plan() {
    let (c, a, b) = problem_data(12, 9, 11);
    let geom = DenseCost::new(c.view()).unwrap();
    let p1 = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let (a7, b7) = (&a * 7.0, &b * 7.0);
    let p7 = LinearProblem::new(&geom, a7.view(), b7.view()).unwrap();
    let (o1, o7) = (
        tight(0.1).solve(&p1).unwrap(),
        tight(0.1).solve(&p7).unwrap(),
    );
    assert!(max_abs_diff(&(o1.plan(&p1).unwrap() * 7.0), &o7.plan(&p7).unwrap()) < 1e-10);
    assert_close(
        o7.linear_cost(&p7).unwrap(),
        7.0 * o1.linear_cost(&p1).unwrap(),
        1e-10,
        "linear cost scales",
    );
}

#[test]
fn the_entropic_map_is_the_barycentric_projection_and_recovers_translations() {
    let mut rng = Rng::new(13);
    let x = rng.uniform_matrix(200, 2) * 2.0 - 1.0;
    let shift = array![1.0, -2.0];
    let y = &x + &shift;
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let out = Sinkhorn {
        threshold: 1e-10,
        max_iterations: 20_000,
        ..Sinkhorn::new(Epsilon::Absolute(0.05))
    }
    .solve(&problem)
    .unwrap();
    assert!(out.converged(), "error {:e}", out.marginal_error());
    // At the sample points the map is (P Y)_i / a_i.
    let mapped = out.entropic_map(&geom, x.view()).unwrap();
    let projection = out
        .apply_plan(&problem, otters::geometry::Axis::Rows, y.view())
        .unwrap()
        * 200.0;
    // (equal up to the marginal error of the returned f: r_i = (P1)_i / a_i ≈ 1)
    assert!(max_abs_diff(&mapped, &projection) < 1e-6);
    // Out of sample, inside the cloud, the map is close to the translation.
    let probes = array![[0.0, 0.0], [0.5, -0.3], [-0.4, 0.2]];
    let moved = out.entropic_map(&geom, probes.view()).unwrap();
    let want = &probes + &shift;
    assert!(max_abs_diff(&moved, &want) < 0.1, "{moved} vs {want}");
    // Dimension mismatch is an error naming the argument.
    let err = out
        .entropic_map(&geom, array![[0.0, 0.0, 0.0]].view())
        .unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "y", .. }), "{err}");
}

#[test]
fn converged_solves_reach_the_threshold_at_small_epsilon_on_2000_points() {
    // The robustness bar: ε = 1e-3 × max(C), n = m = 2000, marginal error 1e-6, no NaN.
    let n = 2000;
    let mut rng = Rng::new(14);
    let (x, y) = (rng.normal_matrix(n, 2), rng.normal_matrix(n, 2) + 1.0);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::new(&geom, uniform(n), uniform(n)).unwrap();
    let solver = Sinkhorn {
        threshold: 1e-6,
        max_iterations: 5000,
        ..Sinkhorn::new(Epsilon::RelativeToMax(1e-3))
    };
    let out = solver.solve(&problem).unwrap();
    assert!(
        out.converged(),
        "error {:e} after {} iterations",
        out.marginal_error(),
        out.iterations()
    );
    assert!(out.f().iter().chain(out.g()).all(|v| v.is_finite()));
    assert!(out.reg_ot_cost().is_finite() && out.linear_cost(&problem).unwrap().is_finite());
}
