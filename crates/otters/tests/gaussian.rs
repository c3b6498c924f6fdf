//! Gaussian closed forms (ALGORITHMS.md G1–G4): known answers, invariants, the entropic
//! closed form and the Schrödinger bridge against Sinkhorn on samples, and bad inputs.

mod common;

use common::{Rng, max_abs_diff};
use ndarray::{Array1, Array2, Array3, array};
use otters::Error;
use otters::gaussian::{
    BuresBarycenter, Gaussian, GaussianBridge, GaussianMixture, bures_barycenter_residual,
    bures_wasserstein, bures_wasserstein_cost_matrix, bures_wasserstein_map,
    bures_wasserstein_paired, entropic_gaussian_ot, gmm_barycentric_map, gmm_ot,
};
use otters::geometry::PointCloud;
use otters::linear::{Epsilon, LinearProblem, Sinkhorn};

/// A random symmetric positive definite `d × d` matrix `G Gᵀ/d + shift·I`.
fn spd(rng: &mut Rng, d: usize, shift: f64) -> Array2<f64> {
    let g = rng.normal_matrix(d, d);
    let mut s = g.dot(&g.t()) / d as f64;
    for k in 0..d {
        s[[k, k]] += shift;
    }
    s
}

fn gaussian(rng: &mut Rng, d: usize) -> Gaussian {
    let m = rng.normal_matrix(1, d).row(0).to_owned();
    Gaussian::new(m.view(), spd(rng, d, 0.2).view()).unwrap()
}

/// A rotation of the plane by `angle`.
fn rotation(angle: f64) -> Array2<f64> {
    array![[angle.cos(), -angle.sin()], [angle.sin(), angle.cos()]]
}

/// Samples of `N(m, S)`: `m + Z L` with `L Lᵀ = S` (2-D Cholesky by hand).
fn samples_2d(rng: &mut Rng, n: usize, m: &Array1<f64>, s: &Array2<f64>) -> Array2<f64> {
    let l00 = s[[0, 0]].sqrt();
    let l10 = s[[1, 0]] / l00;
    let l11 = (s[[1, 1]] - l10 * l10).sqrt();
    let z = rng.normal_matrix(n, 2);
    Array2::from_shape_fn((n, 2), |(i, j)| {
        m[j] + if j == 0 {
            l00 * z[[i, 0]]
        } else {
            l10 * z[[i, 0]] + l11 * z[[i, 1]]
        }
    })
}

#[test]
fn one_dimensional_closed_form() {
    // W2²(N(m1, s1²), N(m2, s2²)) = (m1 − m2)² + (s1 − s2)².
    let p = Gaussian::new(array![1.5].view(), array![[4.0]].view()).unwrap();
    let q = Gaussian::new(array![-0.5].view(), array![[0.25]].view()).unwrap();
    let w2 = bures_wasserstein(&p, &q).unwrap();
    assert!((w2 - (4.0 + 1.5 * 1.5)).abs() < 1e-13, "{w2}");
    let map = bures_wasserstein_map(&p, &q).unwrap();
    // T(x) = m2 + (s2/s1)(x − m1).
    assert!((map.linear[[0, 0]] - 0.25).abs() < 1e-14);
    assert!((map.offset[0] - (-0.5 - 0.25 * 1.5)).abs() < 1e-14);
}

#[test]
fn commuting_covariances_give_the_frobenius_form() {
    // A = R diag(a) Rᵀ, B = R diag(b) Rᵀ commute: W2² = ‖m1 − m2‖² + Σ (√a_k − √b_k)².
    let r = rotation(0.7);
    let a = r.dot(&Array2::from_diag(&array![3.0, 0.5])).dot(&r.t());
    let b = r.dot(&Array2::from_diag(&array![0.2, 2.0])).dot(&r.t());
    let p = Gaussian::new(array![0.0, 1.0].view(), a.view()).unwrap();
    let q = Gaussian::new(array![2.0, -1.0].view(), b.view()).unwrap();
    let want = 8.0 + (3f64.sqrt() - 0.2f64.sqrt()).powi(2) + (0.5f64.sqrt() - 2f64.sqrt()).powi(2);
    let got = bures_wasserstein(&p, &q).unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    // Symmetric in its arguments, zero on the diagonal.
    assert!((bures_wasserstein(&q, &p).unwrap() - want).abs() < 1e-12);
    assert!(bures_wasserstein(&p, &p).unwrap().abs() < 1e-12);
}

#[test]
fn monge_map_pushes_the_source_onto_the_target() {
    let mut rng = Rng::new(11);
    for d in [1, 2, 3, 5, 8] {
        let (p, q) = (gaussian(&mut rng, d), gaussian(&mut rng, d));
        let map = bures_wasserstein_map(&p, &q).unwrap();
        let m = &map.linear;
        // M A M = B (M symmetric), M m1 + offset = m2.
        let pushed = m.dot(&p.cov()).dot(m);
        assert!(max_abs_diff(&pushed, &q.cov().to_owned()) < 1e-9, "d = {d}");
        assert!(max_abs_diff(m, &m.t().to_owned()) < 1e-12);
        let image = m.dot(&p.mean()) + &map.offset;
        assert!((&image - &q.mean()).iter().all(|v| v.abs() < 1e-10));
        // M is positive semi-definite (a gradient of a convex function).
        let z = rng.normal_matrix(d, 1);
        assert!(z.t().dot(m).dot(&z)[[0, 0]] >= 0.0);
        // The transport cost of the map is the distance:
        // E‖T(X) − X‖² = ‖m2 − m1‖² + tr((M − I) A (M − I)).
        let mi = m - &Array2::<f64>::eye(d);
        let cost =
            (&q.mean() - &p.mean()).mapv(|v| v * v).sum() + mi.dot(&p.cov()).dot(&mi).diag().sum();
        let w2 = bures_wasserstein(&p, &q).unwrap();
        assert!(
            (cost - w2).abs() < 1e-9 * w2.max(1.0),
            "d = {d}: {cost} vs {w2}"
        );
        // Applying the map to points.
        let x = rng.normal_matrix(4, d);
        let tx = map.apply(x.view()).unwrap();
        let want = x.dot(m) + &map.offset;
        assert!(max_abs_diff(&tx, &want) < 1e-12);
    }
}

#[test]
fn singular_covariances_are_handled() {
    // Two degenerate Gaussians on the same line x = y: the 1-D closed form applies.
    let v = array![[1.0], [1.0]] / 2f64.sqrt();
    let a = 4.0 * v.dot(&v.t());
    let b = 0.25 * v.dot(&v.t());
    let p = Gaussian::new(array![0.0, 0.0].view(), a.view()).unwrap();
    let q = Gaussian::new(array![1.0, 1.0].view(), b.view()).unwrap();
    let got = bures_wasserstein(&p, &q).unwrap();
    assert!((got - (2.0 + 1.5 * 1.5)).abs() < 1e-12, "{got}");
    // The map (pseudo-inverse on the source's support) still pushes A onto B.
    let map = bures_wasserstein_map(&p, &q).unwrap();
    let pushed = map.linear.dot(&a).dot(&map.linear);
    assert!(max_abs_diff(&pushed, &b) < 1e-12, "{pushed}");
    // Rounding noise below zero is clipped: an eigenvalue −1e-14 (relative) is accepted.
    let noisy = &a - &(1e-14 * array![[1.0, -1.0], [-1.0, 1.0]]);
    let p2 = Gaussian::new(array![0.0, 0.0].view(), noisy.view()).unwrap();
    assert!(p2.cov_eigenvalues().iter().all(|&l| l >= 0.0));
    assert!((bures_wasserstein(&p2, &q).unwrap() - got).abs() < 1e-6);
    // A Dirac: W2² = ‖m1 − m2‖² + tr B.
    let dirac = Gaussian::new(array![3.0, 0.0].view(), Array2::zeros((2, 2)).view()).unwrap();
    let got = bures_wasserstein(&dirac, &q).unwrap();
    assert!((got - (4.0 + 1.0 + 0.25)).abs() < 1e-12, "{got}");
}

#[test]
fn batched_costs_agree_with_single_evaluations() {
    let mut rng = Rng::new(5);
    let sources: Vec<_> = (0..3).map(|_| gaussian(&mut rng, 3)).collect();
    let targets: Vec<_> = (0..4).map(|_| gaussian(&mut rng, 3)).collect();
    let c = bures_wasserstein_cost_matrix(&sources, &targets).unwrap();
    for (i, s) in sources.iter().enumerate() {
        for (j, t) in targets.iter().enumerate() {
            assert!((c[[i, j]] - bures_wasserstein(s, t).unwrap()).abs() < 1e-12);
        }
    }
    let paired = bures_wasserstein_paired(&sources, &targets[..3]).unwrap();
    for i in 0..3 {
        assert!((paired[i] - c[[i, i]]).abs() < 1e-12);
    }
    assert!(matches!(
        bures_wasserstein_paired(&sources, &targets),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn barycenter_of_two_is_the_geodesic_point() {
    // The barycenter with weights (1 − t, t) is McCann's interpolant
    // N((1 − t) m1 + t m2, ((1 − t) I + t M) A ((1 − t) I + t M)).
    let mut rng = Rng::new(3);
    for d in [1, 2, 4] {
        let (p, q) = (gaussian(&mut rng, d), gaussian(&mut rng, d));
        let t = 0.3;
        let map = bures_wasserstein_map(&p, &q).unwrap();
        let k = (1.0 - t) * Array2::<f64>::eye(d) + t * &map.linear;
        let want = k.dot(&p.cov()).dot(&k);
        let solver = BuresBarycenter {
            max_iterations: 500,
            tolerance: 1e-12,
        };
        let out = solver
            .solve(&[p.clone(), q.clone()], Some(array![1.0 - t, t].view()))
            .unwrap();
        assert!(out.converged, "d = {d}: {}", out.last_change);
        assert!(max_abs_diff(&out.cov, &want) < 1e-9, "d = {d}");
        let mean = (1.0 - t) * &p.mean() + t * &q.mean();
        assert!((&out.mean - &mean).iter().all(|v| v.abs() < 1e-12));
        // Weights are normalized: (7, 3) is the same as (0.7, 0.3).
        let scaled = solver
            .solve(&[p, q], Some(array![7.0, 3.0].view()))
            .unwrap();
        assert!(max_abs_diff(&scaled.cov, &out.cov) < 1e-12);
    }
}

#[test]
fn barycenter_solves_the_fixed_point_equation() {
    let mut rng = Rng::new(8);
    let gs: Vec<_> = (0..5).map(|_| gaussian(&mut rng, 4)).collect();
    let w = array![0.1, 0.3, 0.2, 0.25, 0.15];
    let out = BuresBarycenter::default()
        .solve(&gs, Some(w.view()))
        .unwrap();
    assert!(out.converged);
    let residual = bures_barycenter_residual(&out.cov, &gs, Some(w.view())).unwrap();
    assert!(residual < 1e-8, "{residual}");
    // It minimizes Σ λ_i W2²(·, g_i): perturbing the covariance increases the objective.
    let objective = |cov: &Array2<f64>| -> f64 {
        let b = Gaussian::new(out.mean.view(), cov.view()).unwrap();
        gs.iter()
            .zip(&w)
            .map(|(g, &l)| l * bures_wasserstein(&b, g).unwrap())
            .sum()
    };
    let best = objective(&out.cov);
    for k in 0..4 {
        let mut c = out.cov.clone();
        c[[k, k]] *= 1.01;
        assert!(objective(&c) > best);
    }
    // A one-iteration budget reports non-convergence instead of failing.
    let short = BuresBarycenter {
        max_iterations: 1,
        tolerance: 0.0,
    }
    .solve(&gs, Some(w.view()))
    .unwrap();
    assert!(!short.converged && short.iterations == 1 && short.last_change.is_finite());
}

#[test]
fn entropic_closed_form_limits() {
    let mut rng = Rng::new(21);
    let (p, q) = (gaussian(&mut rng, 3), gaussian(&mut rng, 3));
    let w2 = bures_wasserstein(&p, &q).unwrap();
    // ε → 0: OT_ε → W2² (the entropic gap is O(ε log 1/ε)).
    let small = entropic_gaussian_ot(&p, &q, 1e-9).unwrap();
    assert!((small.cost() - w2).abs() < 1e-6, "{} vs {w2}", small.cost());
    assert!((small.linear_cost() - w2).abs() < 1e-6);
    // ε → ∞: the independent coupling, cost ‖m1 − m2‖² + tr A + tr B, KL → 0.
    let independent =
        (&p.mean() - &q.mean()).mapv(|v| v * v).sum() + p.cov().diag().sum() + q.cov().diag().sum();
    let large = entropic_gaussian_ot(&p, &q, 1e9).unwrap();
    assert!((large.cost() - independent).abs() < 1e-6);
    assert!(large.cross_covariance().iter().all(|v| v.abs() < 1e-6));
    // Bounds: W2² ≤ linear cost ≤ OT_ε, and the KL term is nonnegative.
    for eps in [0.01, 0.3, 2.0, 30.0] {
        let out = entropic_gaussian_ot(&p, &q, eps).unwrap();
        assert!(w2 <= out.linear_cost() + 1e-12 && out.linear_cost() <= out.cost() + 1e-12);
        assert!(out.kl() >= -1e-12);
        // The plan's covariance is positive semi-definite with marginals A and B.
        let joint = out.plan_covariance();
        let g = Gaussian::new(out.plan_mean().view(), joint.view());
        assert!(g.is_ok(), "eps = {eps}: {:?}", g.err());
    }
    // A Dirac target makes every plan the product: OT_ε = ‖m1 − m2‖² + tr A for all ε.
    let dirac = Gaussian::new(array![1.0, 1.0, 1.0].view(), Array2::zeros((3, 3)).view()).unwrap();
    let want = (&p.mean() - &dirac.mean()).mapv(|v| v * v).sum() + p.cov().diag().sum();
    for eps in [1e-3, 1.0, 1e3] {
        let got = entropic_gaussian_ot(&p, &dirac, eps).unwrap().cost();
        assert!(
            (got - want).abs() < 1e-9 * want,
            "eps = {eps}: {got} vs {want}"
        );
    }
}

/// The empirical mean and (biased) covariance of samples.
fn moments(x: &Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let g = Gaussian::from_samples(x.view(), None, 0.0, true).unwrap();
    (g.mean().to_owned(), g.cov().to_owned())
}

/// Sinkhorn (KL-to-a⊗b convention) between `n` samples of each Gaussian; returns the
/// regularized cost, the plan's cross-covariance and the empirical Gaussians.
fn sinkhorn_on_samples(
    seed: u64,
    n: usize,
    (m1, a): (&Array1<f64>, &Array2<f64>),
    (m2, b): (&Array1<f64>, &Array2<f64>),
    epsilon: f64,
) -> (f64, Array2<f64>, Gaussian, Gaussian) {
    let mut rng = Rng::new(seed);
    let x = samples_2d(&mut rng, n, m1, a);
    let y = samples_2d(&mut rng, n, m2, b);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let mut solver = Sinkhorn::new(Epsilon::Absolute(epsilon));
    solver.threshold = 1e-9;
    let out = solver.solve(&problem).unwrap();
    assert!(out.converged());
    let plan = out.plan(&problem).unwrap();
    let (mx, sx) = moments(&x);
    let (my, sy) = moments(&y);
    let cross = (&x - &mx).t().dot(&plan).dot(&(&y - &my));
    let gx = Gaussian::new(mx.view(), sx.view()).unwrap();
    let gy = Gaussian::new(my.view(), sy.view()).unwrap();
    (out.reg_ot_cost(), cross, gx, gy)
}

#[test]
fn entropic_closed_form_matches_sinkhorn_on_samples() {
    // Sinkhorn's `reg_ot_cost` is OT_ε = <C,P> + ε KL(P | a⊗b) of the two empirical
    // measures. Its fluctuation around the population value is dominated by the sampling
    // error of the means and covariances (measured with POT's log-domain Sinkhorn on these
    // Gaussians: standard deviation 0.05 at n = 1000–4000 over 5 seeds), so it is compared with
    // the closed form at the *empirical* moments, which removes that term: the remaining gap
    // measured 5e-4 ± 4e-4 at n = 2000 and 8e-4 ± 5e-4 at n = 3000 (6 seeds, ε = 1). The
    // tolerance 5e-3 is above that and 100× below the effect of any wrong convention
    // checked below (ε/2 or 2ε: > 0.5; no entropic term, i.e. W2²: > 1.5).
    let (m1, a) = (array![0.0, 0.0], array![[1.0, 0.3], [0.3, 0.5]]);
    let (m2, b) = (array![1.0, -0.5], array![[0.8, -0.2], [-0.2, 1.5]]);
    let eps = 1.0;
    let (cost, _, gx, gy) = sinkhorn_on_samples(1, 2500, (&m1, &a), (&m2, &b), eps);
    let closed = entropic_gaussian_ot(&gx, &gy, eps).unwrap().cost();
    assert!(
        (cost - closed).abs() < 5e-3,
        "Sinkhorn {cost} vs closed form {closed}"
    );
    for wrong in [
        entropic_gaussian_ot(&gx, &gy, eps / 2.0).unwrap().cost(),
        entropic_gaussian_ot(&gx, &gy, 2.0 * eps).unwrap().cost(),
        bures_wasserstein(&gx, &gy).unwrap(),
    ] {
        assert!(
            (cost - wrong).abs() > 0.1,
            "a wrong convention would pass: {wrong}"
        );
    }
    // And the population value is within the sampling spread (5 standard deviations).
    let p = Gaussian::new(m1.view(), a.view()).unwrap();
    let q = Gaussian::new(m2.view(), b.view()).unwrap();
    let population = entropic_gaussian_ot(&p, &q, eps).unwrap().cost();
    assert!((cost - population).abs() < 0.25, "{cost} vs {population}");
}

#[test]
fn bridge_endpoints_and_zero_noise_limit() {
    let mut rng = Rng::new(4);
    for d in [1, 3] {
        let (p, q) = (gaussian(&mut rng, d), gaussian(&mut rng, d));
        let bridge = GaussianBridge::new(&p, &q, 0.7).unwrap();
        let (m0, s0) = bridge.marginal(0.0).unwrap();
        let (m1, s1) = bridge.marginal(1.0).unwrap();
        assert!(max_abs_diff(&s0, &p.cov().to_owned()) < 1e-12);
        assert!(max_abs_diff(&s1, &q.cov().to_owned()) < 1e-12);
        assert!((&m0 - &p.mean()).iter().all(|v| v.abs() < 1e-14));
        assert!((&m1 - &q.mean()).iter().all(|v| v.abs() < 1e-14));
        // σ → 0: McCann's interpolation along the Monge map.
        let tiny = GaussianBridge::new(&p, &q, 1e-6).unwrap();
        let map = bures_wasserstein_map(&p, &q).unwrap();
        for t in [0.25, 0.5, 0.9] {
            let k = (1.0 - t) * Array2::<f64>::eye(d) + t * &map.linear;
            let want = k.dot(&p.cov()).dot(&k);
            let (_, got) = tiny.marginal(t).unwrap();
            assert!(max_abs_diff(&got, &want) < 1e-6, "d = {d}, t = {t}");
        }
    }
}

#[test]
fn bridge_matches_sinkhorn_with_epsilon_two_sigma_squared() {
    // The static Schrödinger bridge for the reference σW_t is entropic OT with ε = 2σ²; its
    // marginal at t is the law of (1 − t)X + tY + σ√(t(1 − t))Z under that plan. The
    // plan's cross-covariance from Sinkhorn on 2500 samples is compared with the closed form
    // at the empirical moments: POT gave gaps 4e-4–8e-4 at n = 3000 (4 seeds), while the
    // wrong scaling ε = σ² is off by 0.076; tolerance 5e-3.
    let (m1, a) = (array![0.0, 0.0], array![[1.0, 0.3], [0.3, 0.5]]);
    let (m2, b) = (array![1.0, -0.5], array![[0.8, -0.2], [-0.2, 1.5]]);
    let sigma: f64 = 0.6;
    let eps = 2.0 * sigma * sigma;
    let (_, cross, gx, gy) = sinkhorn_on_samples(2, 2500, (&m1, &a), (&m2, &b), eps);
    let bridge = GaussianBridge::new(&gx, &gy, sigma).unwrap();
    let closed = bridge.plan().cross_covariance();
    assert!(max_abs_diff(&cross, closed) < 5e-3, "{cross} vs {closed}");
    let wrong = entropic_gaussian_ot(&gx, &gy, sigma * sigma).unwrap();
    assert!(max_abs_diff(&cross, wrong.cross_covariance()) > 0.03);
    // The bridge covariance at t built from the sampled plan.
    for t in [0.3, 0.5] {
        let s = 1.0 - t;
        let sampled = s * s * &gx.cov()
            + t * t * &gy.cov()
            + s * t * (&cross + &cross.t() + sigma * sigma * Array2::<f64>::eye(2));
        let (_, got) = bridge.marginal(t).unwrap();
        assert!(max_abs_diff(&sampled, &got) < 5e-3, "t = {t}");
    }
}

fn mixture(
    rng: &mut Rng,
    k: usize,
    d: usize,
    spread: f64,
) -> (Array2<f64>, Array3<f64>, Array1<f64>) {
    let means = spread * rng.normal_matrix(k, d);
    let mut covs = Array3::zeros((k, d, d));
    for i in 0..k {
        covs.index_axis_mut(ndarray::Axis(0), i)
            .assign(&spd(rng, d, 0.1));
    }
    (means, covs, rng.weights(k, 1.0))
}

#[test]
fn gmm_ot_reduces_to_bures_and_to_zero() {
    let mut rng = Rng::new(9);
    // One component each: the Bures–Wasserstein distance.
    let (m, c, _) = mixture(&mut rng, 1, 3, 1.0);
    let (m2, c2, _) = mixture(&mut rng, 1, 3, 1.0);
    let one = array![1.0];
    let s = GaussianMixture::new(m.view(), c.view(), one.view()).unwrap();
    let t = GaussianMixture::new(m2.view(), c2.view(), one.view()).unwrap();
    let out = gmm_ot(&s, &t).unwrap();
    let w2 = bures_wasserstein(&s.components()[0], &t.components()[0]).unwrap();
    assert!((out.loss() - w2).abs() < 1e-12);
    // A mixture against a permutation of itself: loss 0, the plan is the permutation.
    let (m, c, w) = mixture(&mut rng, 4, 2, 3.0);
    let perm = [2usize, 0, 3, 1];
    let mp = m.select(ndarray::Axis(0), &perm);
    let cp = c.select(ndarray::Axis(0), &perm);
    let wp = w.select(ndarray::Axis(0), &perm);
    let s = GaussianMixture::new(m.view(), c.view(), w.view()).unwrap();
    let t = GaussianMixture::new(mp.view(), cp.view(), wp.view()).unwrap();
    let out = gmm_ot(&s, &t).unwrap();
    assert!(out.loss().abs() < 1e-12, "{}", out.loss());
    let plan = out.plan();
    for (j, &i) in perm.iter().enumerate() {
        assert!((plan[[i, j]] - w[i]).abs() < 1e-12);
    }
    // Equal to the exact LP on the cost matrix, whose dual certifies it.
    assert!((out.exact().dual_cost() - out.loss()).abs() < 1e-12);
}

#[test]
fn gmm_barycentric_map_known_cases() {
    let mut rng = Rng::new(12);
    // One component each: the Gaussian Monge map.
    let (m, c, _) = mixture(&mut rng, 1, 2, 1.0);
    let (m2, c2, _) = mixture(&mut rng, 1, 2, 1.0);
    let one = array![1.0];
    let s = GaussianMixture::new(m.view(), c.view(), one.view()).unwrap();
    let t = GaussianMixture::new(m2.view(), c2.view(), one.view()).unwrap();
    let x = rng.normal_matrix(6, 2);
    let plan = gmm_ot(&s, &t).unwrap().plan();
    let got = gmm_barycentric_map(&s, &t, plan.view(), x.view()).unwrap();
    let want = bures_wasserstein_map(&s.components()[0], &t.components()[0])
        .unwrap()
        .apply(x.view())
        .unwrap();
    assert!(max_abs_diff(&got, &want) < 1e-12);
    // Two far-apart components mapped by a diagonal plan: a point next to component i is
    // moved by T_ii (the other posterior is ~e^{-1000}).
    let means = array![[-50.0, 0.0], [50.0, 0.0]];
    let mut covs = Array3::zeros((2, 2, 2));
    covs.index_axis_mut(ndarray::Axis(0), 0)
        .assign(&array![[1.0, 0.2], [0.2, 0.5]]);
    covs.index_axis_mut(ndarray::Axis(0), 1)
        .assign(&array![[0.3, 0.0], [0.0, 2.0]]);
    let w = array![0.4, 0.6];
    let tmeans = array![[-40.0, 5.0], [60.0, -5.0]];
    let s = GaussianMixture::new(means.view(), covs.view(), w.view()).unwrap();
    let t = GaussianMixture::new(tmeans.view(), covs.view(), w.view()).unwrap();
    let out = gmm_ot(&s, &t).unwrap();
    let plan = out.plan();
    assert!((plan[[0, 0]] - 0.4).abs() < 1e-12 && (plan[[1, 1]] - 0.6).abs() < 1e-12);
    let x = array![[-49.0, 0.5], [51.0, -1.0]];
    let got = gmm_barycentric_map(&s, &t, plan.view(), x.view()).unwrap();
    // Same covariances: the component maps are translations.
    assert!(
        max_abs_diff(&got, &array![[-39.0, 5.5], [61.0, -6.0]]) < 1e-9,
        "{got}"
    );
    // Log-density of the mixture at a component mean (the other is negligible).
    let lp = s.log_pdf(array![[-50.0, 0.0]].view()).unwrap();
    let det: f64 = 1.0 * 0.5 - 0.04;
    let want = 0.4f64.ln() - (2.0 * std::f64::consts::PI).ln() - 0.5 * det.ln();
    assert!((lp[0] - want).abs() < 1e-12);
}

#[test]
fn bad_inputs_are_refused_with_the_argument_named() {
    let m = array![0.0, 0.0];
    let arg = |e: Error| e.argument();
    // Shape mismatch between mean and covariance.
    let e = Gaussian::new_named("ms", m.view(), "Cs", Array2::eye(3).view()).unwrap_err();
    assert!(matches!(e, Error::Shape { arg: "Cs", .. }), "{e}");
    // Not symmetric.
    let e = Gaussian::new_named("ms", m.view(), "Cs", array![[1.0, 0.5], [0.0, 1.0]].view())
        .unwrap_err();
    assert_eq!(arg(e.clone()), Some("Cs"));
    assert!(e.to_string().contains("symmetric"), "{e}");
    // Not positive semi-definite.
    let e = Gaussian::new_named("mt", m.view(), "Ct", array![[1.0, 2.0], [2.0, 1.0]].view())
        .unwrap_err();
    assert_eq!(arg(e.clone()), Some("Ct"));
    assert!(e.to_string().contains("positive semi-definite"), "{e}");
    // NaN and infinity.
    let e = Gaussian::new(array![f64::NAN, 0.0].view(), Array2::eye(2).view()).unwrap_err();
    assert!(matches!(e, Error::NonFinite { arg: "mean", .. }));
    let e = Gaussian::new(m.view(), array![[1.0, f64::INFINITY], [0.0, 1.0]].view()).unwrap_err();
    assert!(matches!(e, Error::NonFinite { arg: "cov", .. }));
    // Dimension mismatch between two Gaussians names the second one.
    let p = Gaussian::new_named("ms", m.view(), "Cs", Array2::eye(2).view()).unwrap();
    let q = Gaussian::new_named("mt", array![0.0].view(), "Ct", array![[1.0]].view()).unwrap();
    assert_eq!(arg(bures_wasserstein(&p, &q).unwrap_err()), Some("mt"));
    assert_eq!(arg(bures_wasserstein_map(&p, &q).unwrap_err()), Some("mt"));
    // Parameters.
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            arg(entropic_gaussian_ot(&p, &p, eps).unwrap_err()),
            Some("epsilon")
        );
    }
    assert_eq!(
        arg(GaussianBridge::new(&p, &p, 0.0).unwrap_err()),
        Some("sigma")
    );
    let bridge = GaussianBridge::new(&p, &p, 1.0).unwrap();
    for t in [-0.1, 1.5, f64::NAN] {
        assert_eq!(arg(bridge.marginal(t).unwrap_err()), Some("t"));
    }
    let zero_budget = BuresBarycenter {
        max_iterations: 0,
        tolerance: 1e-9,
    };
    assert_eq!(
        arg(zero_budget
            .solve(std::slice::from_ref(&p), None)
            .unwrap_err()),
        Some("max_iterations")
    );
    let e = BuresBarycenter::default()
        .solve(&[p.clone(), p.clone()], Some(array![1.0].view()))
        .unwrap_err();
    assert_eq!(arg(e), Some("weights"));
    let e = BuresBarycenter::default()
        .solve(&[p.clone(), p.clone()], Some(array![1.0, -1.0].view()))
        .unwrap_err();
    assert_eq!(arg(e), Some("weights"));
    assert!(BuresBarycenter::default().solve(&[], None).is_err());
    assert!(matches!(
        bures_barycenter_residual(&Array2::eye(2), &[], None),
        Err(Error::Empty { .. })
    ));
    // Empirical moments.
    let x = array![[0.0, 1.0], [1.0, f64::NAN]];
    let e = Gaussian::from_samples_named("xs", x.view(), "ws", None, 0.0, true).unwrap_err();
    assert_eq!(arg(e), Some("xs"));
    let x = array![[0.0, 1.0], [1.0, 0.0]];
    let e = Gaussian::from_samples_named("xs", x.view(), "ws", Some(array![1.0].view()), 0.0, true)
        .unwrap_err();
    assert_eq!(arg(e), Some("ws"));
    let e = Gaussian::from_samples(x.view(), None, -1.0, true).unwrap_err();
    assert_eq!(arg(e), Some("reg"));
    // Densities need a nonsingular covariance.
    let flat =
        Gaussian::new_named("m", m.view(), "C", array![[1.0, 0.0], [0.0, 0.0]].view()).unwrap();
    assert_eq!(
        arg(flat.log_pdf(array![[0.0, 0.0]].view()).unwrap_err()),
        Some("C")
    );
    // Mixtures.
    let covs = Array3::from_shape_fn((2, 2, 2), |(_, i, j)| if i == j { 1.0 } else { 0.0 });
    let means = array![[0.0, 0.0], [1.0, 1.0]];
    let e = GaussianMixture::new_named(
        "m_s",
        means.view(),
        "C_s",
        covs.view(),
        "w_s",
        array![1.0].view(),
    )
    .unwrap_err();
    assert_eq!(arg(e), Some("w_s"));
    let e = GaussianMixture::new_named(
        "m_s",
        means.view(),
        "C_s",
        covs.slice(ndarray::s![..1, .., ..]),
        "w_s",
        array![0.5, 0.5].view(),
    )
    .unwrap_err();
    assert_eq!(arg(e), Some("C_s"));
    let s = GaussianMixture::new(means.view(), covs.view(), array![0.5, 0.5].view()).unwrap();
    let e = gmm_barycentric_map(&s, &s, array![[1.0]].view(), means.view()).unwrap_err();
    assert_eq!(arg(e), Some("plan"));
    let bad_plan = array![[0.5, -0.1], [0.0, 0.6]];
    let e = gmm_barycentric_map(&s, &s, bad_plan.view(), means.view()).unwrap_err();
    assert_eq!(arg(e), Some("plan"));
    let t = GaussianMixture::new(means.view(), covs.view(), array![0.2, 0.2].view()).unwrap();
    assert!(matches!(gmm_ot(&s, &t), Err(Error::MassMismatch { .. })));
}
