//! Known-answer tests (RELIABILITY.md §3): closed forms the solver must reproduce.

mod common;

use common::{Rng, assert_close, sq_euclidean, uniform};
use ndarray::{Array1, Array2, array};
use otters::geometry::{DenseCost, PointCloud, SqEuclidean};
use otters::linear::{Epsilon, EpsilonScaling, LinearProblem, MarginalPenalty, Sinkhorn};

fn solver(eps: f64) -> Sinkhorn {
    Sinkhorn {
        threshold: 1e-10,
        max_iterations: 100_000,
        ..Sinkhorn::new(Epsilon::Absolute(eps))
    }
}

#[test]
fn two_diracs_cost_their_distance_at_every_epsilon() {
    let c = 1.7;
    let geom = DenseCost::new(array![[c]]).unwrap();
    let problem = LinearProblem::new(&geom, array![1.0], array![1.0]).unwrap();
    for eps in [1e-4, 1.0, 1e4] {
        let out = solver(eps).solve(&problem).unwrap();
        assert!(out.converged());
        assert_eq!(out.iterations(), 1, "one iteration solves a 1x1 problem");
        // The plan is exp(f/ε + g/ε − c/ε): at ε = 1e-4 the exponent's terms are ~1e4, so
        // the plan carries ~1e4 ulps of rounding.
        assert_close(out.f()[0] + out.g()[0], c, 1e-14, "f + g = c");
        assert_close(out.reg_ot_cost(), c, 1e-14, "regularized cost");
        assert_close(out.linear_cost(&problem).unwrap(), c, 1e-11, "linear cost");
        assert_close(out.plan(&problem).unwrap()[[0, 0]], 1.0, 1e-11, "plan");
    }
}

#[test]
fn one_target_point_receives_every_source_as_is() {
    let mut rng = Rng::new(1);
    let x = rng.normal_matrix(7, 2);
    let y = array![[0.3, -0.2]];
    let a = rng.weights(7, 1.0);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), array![1.0]).unwrap();
    let want: f64 = sq_euclidean(&x, &y.to_owned()).column(0).dot(&a);
    for eps in [1e-3, 1.0, 100.0] {
        let out = solver(eps).solve(&problem).unwrap();
        let plan = out.plan(&problem).unwrap();
        for i in 0..7 {
            assert_close(plan[[i, 0]], a[i], 1e-12, "plan column = a");
        }
        assert_close(
            out.linear_cost(&problem).unwrap(),
            want,
            1e-12,
            "linear cost",
        );
        // KL(P | a⊗b) = 0 when P = a⊗b, so the regularized cost is the linear one.
        assert_close(out.reg_ot_cost(), want, 1e-10, "regularized cost");
    }
}

#[test]
fn huge_epsilon_gives_the_independent_coupling() {
    let mut rng = Rng::new(2);
    let c = rng.uniform_matrix(9, 13);
    let (a, b) = (rng.weights(9, 1.0), rng.weights(13, 1.0));
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = solver(1e4).solve(&problem).unwrap();
    let plan = out.plan(&problem).unwrap();
    for i in 0..9 {
        for j in 0..13 {
            assert_close(plan[[i, j]], a[i] * b[j], 1e-4, "plan ≈ a bᵀ");
        }
    }
    let independent: f64 = (0..9)
        .map(|i| (0..13).map(|j| a[i] * b[j] * c[[i, j]]).sum::<f64>())
        .sum();
    assert_close(
        out.linear_cost(&problem).unwrap(),
        independent,
        1e-4,
        "linear cost",
    );
}

/// RELIABILITY §3.4: plant a permutation σ with `C_iσ(i) ≤ t − g` and every other entry `≥ t`;
/// σ is then the unique optimum with margin g, and entropic plans concentrate on it.
#[test]
fn a_planted_permutation_is_recovered_with_certified_bounds() {
    let n = 50;
    let mut rng = Rng::new(3);
    let sigma: Vec<usize> = {
        let mut s: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            s.swap(i, (rng.uniform() * (i + 1) as f64) as usize);
        }
        s
    };
    let mut c = Array2::from_shape_fn((n, n), |_| 1.0 + rng.uniform());
    for i in 0..n {
        c[[i, sigma[i]]] = 0.5 * rng.uniform();
    }
    let exact: f64 = (0..n).map(|i| c[[i, sigma[i]]]).sum::<f64>() / n as f64;
    let geom = DenseCost::new(c.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    for eps in [0.2, 0.1] {
        let out = solver(eps).solve(&problem).unwrap();
        assert!(
            out.converged(),
            "eps {eps}: error {:e}",
            out.marginal_error()
        );
        let plan = out.plan(&problem).unwrap();
        for i in 0..n {
            let best = (0..n)
                .max_by(|&j, &k| plan[[i, j]].total_cmp(&plan[[i, k]]))
                .unwrap();
            assert_eq!(best, sigma[i], "row {i}");
        }
        let on_sigma: f64 = (0..n).map(|i| plan[[i, sigma[i]]]).sum();
        assert!(
            on_sigma > 1.0 - 60.0 * (-0.5f64 / eps).exp(),
            "eps {eps}: {on_sigma} of the mass on σ"
        );
        // OT₀ ≤ ⟨C, P⟩ ≤ OT_ε ≤ OT₀ + ε·log n (RELIABILITY §3.11).
        let linear = out.linear_cost(&problem).unwrap();
        let slack = 1e-9;
        assert!(exact - slack <= linear, "{exact} <= {linear}");
        assert!(
            linear <= out.reg_ot_cost() + slack,
            "{linear} <= {}",
            out.reg_ot_cost()
        );
        assert!(out.reg_ot_cost() <= exact + eps * (n as f64).ln() + slack);
    }
}

/// `y = A x + t` with `A` symmetric positive definite is the gradient of a convex function,
/// so the identity is the optimal assignment for the squared Euclidean cost.
#[test]
fn a_convex_gradient_map_has_the_identity_as_optimal_cost() {
    let n = 40;
    let mut rng = Rng::new(3);
    let x = rng.normal_matrix(n, 2);
    let affine = array![[1.5, 0.3], [0.3, 0.8]];
    let y = x.dot(&affine) + &array![0.4, -1.0];
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let exact: f64 = (0..n)
        .map(|i| (0..2).map(|k| (x[[i, k]] - y[[i, k]]).powi(2)).sum::<f64>())
        .sum::<f64>()
        / n as f64;
    let eps = 0.1;
    let annealed = Sinkhorn {
        scaling: EpsilonScaling::from_max_cost(0.7),
        threshold: 1e-8,
        ..solver(eps)
    };
    let out = annealed.solve(&problem).unwrap();
    assert!(out.converged(), "error {:e}", out.marginal_error());
    // No plan beats the identity (⟨C, P⟩ ≥ OT₀), and the entropic value is within ε·log n.
    let linear = out.linear_cost(&problem).unwrap();
    assert!(exact - 1e-6 <= linear, "{linear} < {exact}");
    assert!(out.reg_ot_cost() <= exact + eps * (n as f64).ln() + 1e-6);
}

#[test]
fn one_dimensional_problems_approach_sorted_matching() {
    let n = 60;
    let mut rng = Rng::new(4);
    let x = Array2::from_shape_fn((n, 1), |_| rng.normal());
    let y = Array2::from_shape_fn((n, 1), |_| 2.0 * rng.uniform() - 0.5);
    let mut xs: Vec<f64> = x.iter().copied().collect();
    let mut ys: Vec<f64> = y.iter().copied().collect();
    xs.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let exact: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / n as f64;
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let mut previous_gap = f64::INFINITY;
    for eps in [1e-1, 3e-2, 1e-2] {
        let annealed = Sinkhorn {
            scaling: EpsilonScaling::from_max_cost(0.8),
            threshold: 1e-8,
            ..solver(eps)
        };
        let out = annealed.solve(&problem).unwrap();
        assert!(
            out.converged(),
            "eps {eps}: error {:e}",
            out.marginal_error()
        );
        let gap = out.reg_ot_cost() - exact;
        assert!(
            gap >= -1e-6 && gap <= eps * (n as f64).ln() + 1e-6,
            "eps {eps}: OT_eps - OT_0 = {gap}"
        );
        assert!(gap < previous_gap, "the entropic bias shrinks with epsilon");
        previous_gap = gap;
    }
}

/// Entropic OT between Gaussians (Janati, Muzellec, Peyré, Cuturi 2020, Thm 1), 1-D:
/// with cost |x−y|² and ε = 2σ², OT = (m₁−m₂)² + s₁² + s₂² − D + σ²(1 − log 2σ²) + σ² log(D + σ²),
/// D = (4 s₁² s₂² + σ⁴)^{1/2}. Checked on a fine grid covering ±6 standard deviations.
fn entropic_gaussian_1d(m1: f64, s1: f64, m2: f64, s2: f64, sigma2: f64) -> f64 {
    let d = (4.0 * s1 * s1 * s2 * s2 + sigma2 * sigma2).sqrt();
    (m1 - m2).powi(2) + s1 * s1 + s2 * s2 - d
        + sigma2 * (1.0 - (2.0 * sigma2).ln())
        + sigma2 * (d + sigma2).ln()
}

fn gaussian_weights(grid: &Array2<f64>, mean: &[f64], cov: &Array2<f64>) -> Array1<f64> {
    let d = mean.len();
    let (inv, _) = if d == 1 {
        (array![[1.0 / cov[[0, 0]]]], cov[[0, 0]])
    } else {
        let det = cov[[0, 0]] * cov[[1, 1]] - cov[[0, 1]] * cov[[1, 0]];
        (
            array![[cov[[1, 1]], -cov[[0, 1]]], [-cov[[1, 0]], cov[[0, 0]]]] / det,
            det,
        )
    };
    let w = Array1::from_iter(grid.outer_iter().map(|p| {
        let z: Vec<f64> = (0..d).map(|k| p[k] - mean[k]).collect();
        let q: f64 = (0..d)
            .map(|i| (0..d).map(|j| z[i] * inv[[i, j]] * z[j]).sum::<f64>())
            .sum();
        (-0.5 * q).exp()
    }));
    let total = w.sum();
    w / total
}

#[test]
fn entropic_gaussian_closed_form_holds_on_a_fine_grid() {
    // N(0, 1) → N(1, 4), the check of RELIABILITY §3.7 (4.49029, 3.22436, 2.40082 at σ² = 2, 0.5, 0.1).
    let k = 2500;
    let grid = Array2::from_shape_fn((k, 1), |(i, _)| -11.0 + 24.0 * i as f64 / (k - 1) as f64);
    let a = gaussian_weights(&grid, &[0.0], &array![[1.0]]);
    let b = gaussian_weights(&grid, &[1.0], &array![[4.0]]);
    let geom = PointCloud::new(grid.view(), grid.view(), SqEuclidean).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    for (sigma2, reference) in [(2.0, 4.49029), (0.5, 3.22436), (0.1, 2.40082)] {
        let want = entropic_gaussian_1d(0.0, 1.0, 1.0, 2.0, sigma2);
        assert_close(
            want,
            reference,
            2e-6,
            "closed form vs the POT-verified value",
        );
        let out = solver(2.0 * sigma2).solve(&problem).unwrap();
        assert!(out.converged());
        assert_close(
            out.primal_cost(),
            want,
            1e-5,
            &format!("primal at sigma2 = {sigma2}"),
        );
        assert_close(
            out.reg_ot_cost(),
            want,
            1e-5,
            &format!("dual at sigma2 = {sigma2}"),
        );
    }
}

/// The same closed form in 2-D with non-commuting covariances:
/// OT = |m₁−m₂|² + tr A + tr B − tr D + dσ²(1 − log 2σ²) + σ² log det(D + σ²I),
/// D = (4 A^{½} B A^{½} + σ⁴ I)^{½}.
#[test]
fn entropic_gaussian_closed_form_in_two_dimensions() {
    fn sqrt2(m: &Array2<f64>) -> Array2<f64> {
        // For a 2×2 SPD matrix: √M = (M + √det·I)/√(tr + 2√det).
        let det = m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]];
        let s = det.sqrt();
        let eye: Array2<f64> = Array2::eye(2);
        (m + &(eye * s)) / (m[[0, 0]] + m[[1, 1]] + 2.0 * s).sqrt()
    }
    let (ma, mb) = ([0.0, 0.0], [0.5, -0.3]);
    let ca = array![[0.6, 0.2], [0.2, 0.4]];
    let cb = array![[0.5, -0.25], [-0.25, 0.7]];
    let sigma2: f64 = 0.5;
    let eye: Array2<f64> = Array2::eye(2);
    let ra = sqrt2(&ca);
    let d = sqrt2(&(ra.dot(&cb).dot(&ra) * 4.0 + &eye * (sigma2 * sigma2)));
    let shifted = &d + &(&eye * sigma2);
    let log_det = (shifted[[0, 0]] * shifted[[1, 1]] - shifted[[0, 1]] * shifted[[1, 0]]).ln();
    let mean_gap: f64 = (0..2).map(|k| (ma[k] - mb[k]) * (ma[k] - mb[k])).sum();
    let want = mean_gap + ca.diag().sum() + cb.diag().sum() - d.diag().sum()
        + 2.0 * sigma2 * (1.0 - (2.0 * sigma2).ln())
        + sigma2 * log_det;

    let k = 60;
    let side = |i: usize| -4.5 + 9.0 * i as f64 / (k - 1) as f64;
    let grid = Array2::from_shape_fn(
        (k * k, 2),
        |(p, c)| if c == 0 { side(p / k) } else { side(p % k) },
    );
    let a = gaussian_weights(&grid, &ma, &ca);
    let b = gaussian_weights(&grid, &mb, &cb);
    let geom = PointCloud::sq_euclidean(grid.view(), grid.view()).unwrap();
    let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let out = solver(2.0 * sigma2).solve(&problem).unwrap();
    assert!(out.converged());
    assert_close(out.reg_ot_cost(), want, 2e-4, "2-D entropic Gaussian OT");
}

/// Unbalanced OT between two Diracs with masses p, q, KL penalties ρ and entropy ε·KL(P|pq):
/// minimizing c·m + ε KL(m|pq) + ρ KL(m|p) + ρ KL(m|q) over the single entry m gives
/// m* = (pq)^{(ε+ρ)/(ε+2ρ)} e^{−c/(ε+2ρ)}, which tends to √(pq)·e^{−c/2ρ} (RELIABILITY §3.8).
#[test]
fn unbalanced_two_diracs_transport_the_closed_form_mass() {
    let (p, q, c, rho) = (0.7, 1.9, 1.3, 0.8);
    let geom = DenseCost::new(array![[c]]).unwrap();
    let kl = MarginalPenalty::Kl { rho };
    let problem = LinearProblem::unbalanced(&geom, array![p], array![q], kl, kl).unwrap();
    for eps in [1.0, 1e-2, 1e-5] {
        let out = solver(eps).solve(&problem).unwrap();
        let m = (p * q).powf((eps + rho) / (eps + 2.0 * rho)) * (-c / (eps + 2.0 * rho)).exp();
        let kl = |x: f64, y: f64| x * (x / y).ln() - x + y;
        let objective = c * m + eps * kl(m, p * q) + rho * kl(m, p) + rho * kl(m, q);
        assert_close(
            out.plan(&problem).unwrap()[[0, 0]],
            m,
            1e-9,
            "transported mass",
        );
        assert_close(out.primal_cost(), objective, 1e-9, "objective");
        assert_close(out.reg_ot_cost(), objective, 1e-9, "dual objective");
    }
    // ε → 0: POT's mm_unbalanced value 0.511754 (RELIABILITY §3.8).
    let out = solver(1e-7).solve(&problem).unwrap();
    assert_close(
        out.plan(&problem).unwrap()[[0, 0]],
        0.511754,
        1e-5,
        "unregularized limit",
    );
}

/// Total-variation marginals between two Diracs: moving m costs c·m + ρ(p − m) + ρ(q − m), so
/// the smaller mass moves iff c < 2ρ.
#[test]
fn total_variation_two_diracs_move_mass_iff_it_is_cheaper_than_destroying_it() {
    let (p, q, c) = (0.7, 1.9, 1.3);
    let geom = DenseCost::new(array![[c]]).unwrap();
    for (rho, moved) in [(1.0, 0.7), (0.5, 0.0)] {
        let tv = MarginalPenalty::TotalVariation { rho };
        let problem = LinearProblem::unbalanced(&geom, array![p], array![q], tv, tv).unwrap();
        let out = solver(1e-4).solve(&problem).unwrap();
        assert!(out.converged());
        let m = out.plan(&problem).unwrap()[[0, 0]];
        assert!(
            (m - moved).abs() < 2e-3,
            "rho {rho}: moved {m}, want {moved}"
        );
        let objective = c * moved + rho * ((p - moved) + (q - moved));
        assert_close(out.primal_cost(), objective, 2e-3, "objective");
        assert!(
            out.reg_ot_cost() <= out.primal_cost() + 1e-9,
            "weak duality"
        );
    }
}

#[test]
fn unbalanced_tends_to_balanced_as_rho_grows() {
    let mut rng = Rng::new(5);
    let c = rng.uniform_matrix(12, 15);
    let (a, b) = (uniform(12), uniform(15));
    let geom = DenseCost::new(c.view()).unwrap();
    let balanced = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
    let reference = solver(0.05)
        .solve(&balanced)
        .unwrap()
        .plan(&balanced)
        .unwrap();
    let mut previous = f64::INFINITY;
    for rho in [1.0, 100.0, 1e4] {
        let kl = MarginalPenalty::Kl { rho };
        let problem = LinearProblem::unbalanced(&geom, a.view(), b.view(), kl, kl).unwrap();
        let plan = solver(0.05)
            .solve(&problem)
            .unwrap()
            .plan(&problem)
            .unwrap();
        let diff = common::max_abs_diff(&plan, &reference);
        assert!(diff < previous, "rho {rho}: {diff} should shrink");
        previous = diff;
    }
    assert!(previous < 1e-5, "rho = 1e4 is balanced to {previous:e}");
}
