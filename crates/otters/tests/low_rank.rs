//! Low-rank OT (ALGORITHMS.md L10): the same trajectory as OTT-JAX's `LRSinkhorn` from the
//! same start (fixtures of `testdata/ott_lowrank.json`), near the exact cost on clustered
//! data, feasible factors, the same answer on a stored cost and a factored point cloud,
//! rank 1 = the product coupling, and bad settings and starts naming their argument.

mod common;

use common::{Rng, assert_close, matrix, max_abs_diff, sq_euclidean, testdata, uniform};
use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::Observer;
use otters::geometry::{Axis, DenseCost, PointCloud, ScaleCost};
use otters::linear::{
    LinearProblem, LowRankInit, LowRankSinkhorn, LowRankStart, MarginalPenalty, NetworkSimplex,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct OttCase {
    name: String,
    x: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    a: Vec<f64>,
    b: Vec<f64>,
    rank: usize,
    epsilon: f64,
    rho: Option<f64>,
    gamma: f64,
    iterations: usize,
    q0: Vec<Vec<f64>>,
    r0: Vec<Vec<f64>>,
    g0: Vec<f64>,
    q: Vec<Vec<f64>>,
    r: Vec<Vec<f64>>,
    g: Vec<f64>,
    cost: f64,
}

#[derive(Deserialize)]
struct OttFixtures {
    cases: Vec<OttCase>,
}

/// From OTT's start, for OTT's number of steps, otters follows OTT's trajectory: the same
/// mirror step (OTT's rescaled γ and ε damping) and the same projection (otters solves it
/// by Newton's method, OTT by Dykstra run to 1e-12), so the factors agree to 1e-7 —
/// balanced, and unbalanced with KL-relaxed marginals (the mass of `b` differing).
#[test]
fn matches_ott_lrsinkhorn_from_the_same_start() {
    let text =
        std::fs::read_to_string(testdata("ott_lowrank.json")).expect("testdata/ott_lowrank.json");
    let fixtures: OttFixtures = serde_json::from_str(&text).expect("valid fixture file");
    assert!(fixtures.cases.iter().filter(|c| c.rho.is_none()).count() >= 2);
    assert!(fixtures.cases.iter().filter(|c| c.rho.is_some()).count() >= 2);
    for case in &fixtures.cases {
        let (x, y) = (matrix(&case.x), matrix(&case.y));
        let (a, b) = (Array1::from(case.a.clone()), Array1::from(case.b.clone()));
        let cloud = PointCloud::sq_euclidean(x.view(), y.view())
            .and_then(|c| c.with_scale(ScaleCost::Max))
            .unwrap();
        let problem = match case.rho {
            None => LinearProblem::new(&cloud, a.view(), b.view()).unwrap(),
            Some(rho) => {
                let kl = MarginalPenalty::Kl { rho };
                LinearProblem::unbalanced(&cloud, a.view(), b.view(), kl, kl).unwrap()
            }
        };
        let solver = LowRankSinkhorn {
            epsilon: case.epsilon,
            gamma: case.gamma,
            threshold: 0.0,
            min_iterations: case.iterations,
            max_iterations: case.iterations,
            inner_threshold: 1e-12,
            ..LowRankSinkhorn::new(case.rank)
        };
        let (q0, r0, g0) = (
            matrix(&case.q0),
            matrix(&case.r0),
            Array1::from(case.g0.clone()),
        );
        let start = LowRankStart {
            q: q0.view(),
            r: r0.view(),
            g: g0.view(),
        };
        let out = solver
            .solve_from(&problem, Some(start), &Observer::new())
            .unwrap();
        assert_eq!(out.iterations(), case.iterations, "{}", case.name);
        let (q, r) = (matrix(&case.q), matrix(&case.r));
        let g = Array1::from(case.g.clone());
        let dq = max_abs_diff(&out.q().to_owned(), &q) / q.iter().fold(0.0f64, |m, v| m.max(*v));
        let dr = max_abs_diff(&out.r().to_owned(), &r) / r.iter().fold(0.0f64, |m, v| m.max(*v));
        let dg = (&out.g() - &g)
            .mapv(f64::abs)
            .fold(0.0f64, |m, v| m.max(*v));
        assert!(
            dq < 1e-7 && dr < 1e-7 && dg < 1e-7,
            "{}: q {dq:e} r {dr:e} g {dg:e}",
            case.name
        );
        if case.rho.is_none() {
            // OTT's primal cost of an unbalanced problem adds its marginal terms.
            assert_close(out.cost(), case.cost, 1e-7, &case.name);
        }
    }
}

/// A start that is not a point of the constraint set is refused, naming `init`.
#[test]
fn bad_starts_name_init() {
    let mut rng = Rng::new(5);
    let (x, y) = (rng.normal_matrix(12, 2), rng.normal_matrix(10, 2));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&cloud).unwrap();
    let (a, b) = (uniform(12), uniform(10));
    let g = Array1::from_elem(3, 1.0 / 3.0);
    let product = |w: &Array1<f64>| Array2::from_shape_fn((w.len(), 3), |(i, k)| w[i] * g[k]);
    let (q, r) = (product(&a), product(&b));
    let solver = LowRankSinkhorn::new(3);
    let run = |q: &Array2<f64>, r: &Array2<f64>, g: &Array1<f64>| {
        solver.solve_from(
            &problem,
            Some(LowRankStart {
                q: q.view(),
                r: r.view(),
                g: g.view(),
            }),
            &Observer::new(),
        )
    };
    // The product start itself is accepted (and is a fixed point: rank one in disguise).
    assert!(run(&q, &r, &g).is_ok());
    let mut wrong_mass = q.clone();
    wrong_mass[[0, 0]] += 0.01;
    let mut negative = q.clone();
    negative[[1, 1]] = -1e-3;
    negative[[1, 2]] += 1e-3;
    let mut nan = q.clone();
    nan[[2, 0]] = f64::NAN;
    let zero_g = Array1::from(vec![0.5, 0.5, 0.0]);
    for (what, result) in [
        (
            "shape",
            run(&q.slice(ndarray::s![.., ..2]).to_owned(), &r, &g),
        ),
        ("mass", run(&wrong_mass, &r, &g)),
        ("negative", run(&negative, &r, &g)),
        ("nan", run(&nan, &r, &g)),
        ("g", run(&q, &r, &zero_g)),
    ] {
        match result {
            Err(e) => assert!(e.to_string().contains("init"), "{what}: {e}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
}

/// `k` tight clusters of `per` points around the corners of a polygon (target: shifted,
/// rotated a little).
fn clusters(k: usize, per: usize, seed: u64, shift: f64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_fn((k * per, 2), |(i, d)| {
        let c = (i / per) as f64 * std::f64::consts::TAU / k as f64 + shift;
        let centre = if d == 0 { 3.0 * c.cos() } else { 3.0 * c.sin() };
        centre + 0.05 * rng.normal() + shift
    })
}

#[test]
fn low_rank_cost_is_within_a_few_percent_of_exact_on_clustered_data() {
    let (x, y) = (clusters(4, 50, 1, 0.0), clusters(4, 50, 2, 0.3));
    let mut cost = sq_euclidean(&x, &y);
    cost /= cost.iter().fold(0.0f64, |m, v| m.max(*v));
    let dense = DenseCost::new(cost.view()).unwrap();
    let exact = NetworkSimplex::default()
        .solve(&LinearProblem::uniform(&dense).unwrap())
        .unwrap()
        .cost();
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .and_then(|c| c.with_scale(ScaleCost::Max))
        .unwrap();
    let problem = LinearProblem::uniform(&cloud).unwrap();
    // LR OT is non-convex: a random start can merge two clusters into one factor (seed 0
    // does here, at 5× the cost). The rank-2 start, the k-means start (each factor starts
    // on one cluster, for every seed) and the best of three random seeds are close.
    let mut best_random = f64::INFINITY;
    for init in [
        LowRankInit::Random { seed: 0 },
        LowRankInit::Random { seed: 1 },
        LowRankInit::Random { seed: 2 },
        LowRankInit::Rank2,
        LowRankInit::KMeans { seed: 0 },
    ] {
        let solver = LowRankSinkhorn {
            init,
            ..LowRankSinkhorn::new(4)
        };
        let out = solver.solve(&problem).unwrap();
        // Converged means the marginals reached inner_threshold (1e-5 by default).
        let err = out.marginal_error();
        assert!(
            err < 1e-3 && (!out.converged() || err <= 1e-5),
            "{init:?}: {err:e}"
        );
        // A (nearly) feasible coupling never beats the optimum.
        assert!(
            out.cost() >= exact * (1.0 - 1e-4),
            "{init:?}: {} < {exact}",
            out.cost()
        );
        // The factors' constraints.
        let g = out.g();
        assert!(
            (g.sum() - 1.0).abs() <= err + 1e-12,
            "{init:?}: sum g - 1 = {:e}, err {err:e}, conv {}",
            g.sum() - 1.0,
            out.converged()
        );
        let qcols = out.q().sum_axis(ndarray::Axis(0));
        let rcols = out.r().sum_axis(ndarray::Axis(0));
        assert!((&qcols - &g).iter().all(|d| d.abs() < 1e-9));
        assert!((&rcols - &g).iter().all(|d| d.abs() < 1e-9));
        // ⟨C, P⟩ of the materialized plan equals the linear-time cost.
        let plan = out.plan(1 << 30).unwrap();
        assert_close((&plan * &cost).sum(), out.cost(), 1e-10, "cost");
        let v = Array2::from_shape_fn((200, 2), |(j, k)| (j * (k + 1)) as f64 * 0.01);
        let applied = out.apply(Axis::Rows, v.view()).unwrap();
        assert!(max_abs_diff(&applied, &plan.dot(&v)) < 1e-12);
        match init {
            LowRankInit::Rank2 => {
                assert!(
                    out.converged(),
                    "rank-2 start: {} iterations",
                    out.iterations()
                );
                assert!(
                    out.cost() <= 1.02 * exact,
                    "rank-2 start: {} vs {exact}",
                    out.cost()
                );
            }
            LowRankInit::KMeans { .. } => {
                assert!(out.converged(), "k-means start: {} it.", out.iterations());
                assert!(
                    out.cost() <= 1.02 * exact,
                    "k-means start: {} vs {exact}",
                    out.cost()
                );
            }
            LowRankInit::Random { .. } => best_random = best_random.min(out.cost()),
        }
    }
    // Every k-means seed finds the clusters; a stored cost has no points to cluster.
    for seed in 1..4 {
        let out = LowRankSinkhorn {
            init: LowRankInit::KMeans { seed },
            ..LowRankSinkhorn::new(4)
        }
        .solve(&problem)
        .unwrap();
        assert!(
            out.cost() <= 1.02 * exact,
            "k-means seed {seed}: {}",
            out.cost()
        );
    }
    let stored = LinearProblem::uniform(&dense).unwrap();
    let err = LowRankSinkhorn {
        init: LowRankInit::KMeans { seed: 0 },
        ..LowRankSinkhorn::new(4)
    }
    .solve(&stored)
    .unwrap_err();
    assert!(err.to_string().contains("init"), "{err}");
    assert!(
        best_random <= 1.02 * exact,
        "best random start {best_random} vs {exact}"
    );
}

#[test]
fn stored_and_factored_costs_give_the_same_factors() {
    let mut rng = Rng::new(9);
    let (x, y) = (rng.normal_matrix(60, 3), rng.normal_matrix(50, 3));
    let cost = sq_euclidean(&x, &y);
    let dense = DenseCost::new(cost.view()).unwrap();
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let a = rng.weights(60, 1.0);
    let b = uniform(50);
    let solver = LowRankSinkhorn::new(5);
    let d = solver
        .solve(&LinearProblem::new(&dense, a.view(), b.view()).unwrap())
        .unwrap();
    let c = solver
        .solve(&LinearProblem::new(&cloud, a.view(), b.view()).unwrap())
        .unwrap();
    assert_eq!(d.iterations(), c.iterations());
    assert_close(d.cost(), c.cost(), 1e-9, "cost");
    assert!(max_abs_diff(&d.q().to_owned(), &c.q().to_owned()) < 1e-9);
}

#[test]
fn rank_one_is_the_product_coupling() {
    let mut rng = Rng::new(4);
    let cost = rng.uniform_matrix(7, 9);
    let geom = DenseCost::new(cost.view()).unwrap();
    let (a, b) = (rng.weights(7, 1.0), rng.weights(9, 1.0));
    let out = LowRankSinkhorn::new(1)
        .solve(&LinearProblem::new(&geom, a.view(), b.view()).unwrap())
        .unwrap();
    assert_close(out.cost(), a.dot(&cost.dot(&b)), 1e-12, "a^T C b");
}

#[test]
fn bad_low_rank_settings_name_their_argument() {
    let geom = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]]).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let arg = |e: Error| match e {
        Error::InvalidParameter { arg, .. } => arg,
        other => panic!("unexpected {other}"),
    };
    for (solver, name) in [
        (LowRankSinkhorn::new(0), "rank"),
        (LowRankSinkhorn::new(3), "rank"),
        (
            LowRankSinkhorn {
                gamma: 0.0,
                ..LowRankSinkhorn::new(1)
            },
            "gamma",
        ),
        (
            LowRankSinkhorn {
                gamma: f64::NAN,
                ..LowRankSinkhorn::new(1)
            },
            "gamma",
        ),
        (
            LowRankSinkhorn {
                epsilon: -1.0,
                ..LowRankSinkhorn::new(1)
            },
            "epsilon",
        ),
        (
            LowRankSinkhorn {
                threshold: f64::NAN,
                ..LowRankSinkhorn::new(1)
            },
            "threshold",
        ),
        (
            LowRankSinkhorn {
                min_g: 0.6,
                ..LowRankSinkhorn::new(2)
            },
            "min_g",
        ),
        (
            LowRankSinkhorn {
                max_iterations: 0,
                ..LowRankSinkhorn::new(1)
            },
            "max_iterations",
        ),
    ] {
        assert_eq!(arg(solver.solve(&problem).unwrap_err()), name);
    }
    // KL-relaxed marginals are solved; total-variation ones are refused, naming `problem`.
    let tv = MarginalPenalty::TotalVariation { rho: 1.0 };
    let unbalanced = LinearProblem::unbalanced(&geom, uniform(2), uniform(2), tv, tv).unwrap();
    assert_eq!(
        arg(LowRankSinkhorn::new(1).solve(&unbalanced).unwrap_err()),
        "problem"
    );
}

/// Unbalanced low-rank OT: with a huge ρ it is the balanced solution; against a target of
/// twice the mass, a moderate ρ transports a mass between the two (near their geometric
/// mean), a small ρ destroys mass rather than pay transport, and the columns of the factors
/// still meet `g` exactly.
#[test]
fn unbalanced_low_rank_limits() {
    let (x, y) = (clusters(3, 20, 3, 0.0), clusters(3, 20, 4, 0.2));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .and_then(|c| c.with_scale(ScaleCost::Max))
        .unwrap();
    let (a, b) = (uniform(60), uniform(60));
    let solver = LowRankSinkhorn {
        init: LowRankInit::Rank2,
        ..LowRankSinkhorn::new(3)
    };
    let balanced = solver
        .solve(&LinearProblem::new(&cloud, a.view(), b.view()).unwrap())
        .unwrap();
    let huge = MarginalPenalty::Kl { rho: 1e9 };
    let nearly = solver
        .solve(&LinearProblem::unbalanced(&cloud, a.view(), b.view(), huge, huge).unwrap())
        .unwrap();
    assert!(balanced.converged() && nearly.converged());
    let dq = max_abs_diff(&balanced.q().to_owned(), &nearly.q().to_owned());
    assert!(dq < 1e-6, "ρ = 1e9 vs balanced: {dq:e}");
    assert_close(nearly.cost(), balanced.cost(), 1e-5, "ρ = 1e9 cost");

    let heavy = &b * 2.0;
    let mut masses = Vec::new();
    for rho in [10.0, 0.05] {
        let kl = MarginalPenalty::Kl { rho };
        let out = solver
            .solve(&LinearProblem::unbalanced(&cloud, a.view(), heavy.view(), kl, kl).unwrap())
            .unwrap();
        assert!(out.converged());
        let (q, r, g) = (out.q(), out.r(), out.g());
        let col_err = (&q.sum_axis(ndarray::Axis(0)) - &g).mapv(f64::abs).sum()
            + (&r.sum_axis(ndarray::Axis(0)) - &g).mapv(f64::abs).sum();
        assert!(col_err < 1e-12, "{col_err:e}");
        masses.push(g.sum());
    }
    assert!(
        masses[0] > 1.2 && masses[0] < 1.45,
        "ρ = 10: mass {}",
        masses[0]
    );
    assert!(masses[1] < 0.9 * masses[0], "ρ = 0.05: mass {}", masses[1]);
}

/// A `LowRankCost` built from the squared-Euclidean factors `[‖x‖², 1, −2x]`, `[1, ‖y‖², y]`
/// is the same geometry as the point cloud: the same cost matrix, the same entropic plan, the
/// same low-rank factors.
#[test]
fn low_rank_cost_from_factors_equals_the_point_cloud() {
    use otters::geometry::{Geometry, LowRankCost};
    let mut rng = Rng::new(21);
    let (x, y) = (rng.normal_matrix(70, 3), rng.normal_matrix(55, 3));
    let sq = |p: &Array2<f64>| p.rows().into_iter().map(|r| r.dot(&r)).collect::<Vec<_>>();
    let (nx, ny) = (sq(&x), sq(&y));
    let a = Array2::from_shape_fn((70, 5), |(i, k)| match k {
        0 => nx[i],
        1 => 1.0,
        _ => -2.0 * x[[i, k - 2]],
    });
    let b = Array2::from_shape_fn((55, 5), |(j, k)| match k {
        0 => 1.0,
        1 => ny[j],
        _ => y[[j, k - 2]],
    });
    let factored = LowRankCost::factored(a.view(), b.view())
        .and_then(|c| c.with_scale(ScaleCost::Max))
        .unwrap();
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .and_then(|c| c.with_scale(ScaleCost::Max))
        .unwrap();
    let (cf, cc) = (
        factored.cost_matrix(1 << 30).unwrap(),
        cloud.cost_matrix(1 << 30).unwrap(),
    );
    assert!(max_abs_diff(&cf, &cc) < 1e-12);
    let solver = LowRankSinkhorn {
        init: LowRankInit::Rank2,
        ..LowRankSinkhorn::new(4)
    };
    let (of, oc) = (
        solver
            .solve(&LinearProblem::uniform(&factored).unwrap())
            .unwrap(),
        solver
            .solve(&LinearProblem::uniform(&cloud).unwrap())
            .unwrap(),
    );
    assert!(max_abs_diff(&of.q().to_owned(), &oc.q().to_owned()) < 1e-9);
    assert_close(of.cost(), oc.cost(), 1e-9, "low-rank cost");
    let sinkhorn = otters::linear::Sinkhorn::new(otters::linear::Epsilon::Absolute(0.05));
    let (pf, pc) = (
        sinkhorn
            .solve(&LinearProblem::uniform(&factored).unwrap())
            .unwrap(),
        sinkhorn
            .solve(&LinearProblem::uniform(&cloud).unwrap())
            .unwrap(),
    );
    let df = (&pf.f() - &pc.f())
        .mapv(f64::abs)
        .fold(0.0f64, |m, v| m.max(*v));
    assert!(df < 1e-9, "potentials differ by {df:e}");
    // Factors must agree in width.
    let err = LowRankCost::factored(a.view(), b.slice(ndarray::s![.., ..4])).unwrap_err();
    assert!(err.to_string().contains('y'), "{err}");
}
