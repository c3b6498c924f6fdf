//! Low-rank GW (ALGORITHMS.md Q4): the same trajectory as OTT-JAX's `LRGromovWasserstein`
//! from the same start (fixtures of `testdata/ott_lrgw.json`: balanced, unbalanced, fused,
//! clouds in spaces of different dimensions), the cluster correspondence of a rotated copy,
//! invariances, a stored cost and a point cloud giving the same factors, and bad inputs
//! naming their argument.

mod common;

use common::{Rng, assert_close, matrix, max_abs_diff, testdata};
use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::Observer;
use otters::geometry::{DenseCost, Geometry, PointCloud, ScaleCost};
use otters::linear::{LowRankInit, LowRankSinkhorn, LowRankStart};
use otters::quadratic::{GwLoss, LowRankGw, QuadraticProblem};
use serde::Deserialize;

#[derive(Deserialize)]
struct OttCase {
    name: String,
    x: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    scale_x: f64,
    scale_y: f64,
    a: Vec<f64>,
    b: Vec<f64>,
    rank: usize,
    epsilon: f64,
    rho: Option<f64>,
    gamma: f64,
    iterations: usize,
    fused_penalty: Option<f64>,
    fx: Option<Vec<Vec<f64>>>,
    fy: Option<Vec<Vec<f64>>>,
    scale_xy: Option<f64>,
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

fn cloud(x: &Array2<f64>, scale: f64) -> PointCloud {
    PointCloud::sq_euclidean(x.view(), x.view())
        .and_then(|c| c.with_scale(ScaleCost::By(scale)))
        .unwrap()
}

/// From OTT's start, for OTT's number of steps, otters follows OTT's trajectory (the GW
/// gradient, OTT's rescaled step, the exact projection; OTT's Dykstra run to 1e-12): the
/// factors agree to 1e-7 and the GW cost to 1e-7. The fixture generator checked OTT's cost
/// against a brute-force `n²m²` sum on the plan.
#[test]
fn matches_ott_lrgw_from_the_same_start() {
    let text = std::fs::read_to_string(testdata("ott_lrgw.json")).expect("testdata/ott_lrgw.json");
    let fixtures: OttFixtures = serde_json::from_str(&text).expect("valid fixture file");
    let count = |f: &dyn Fn(&OttCase) -> bool| fixtures.cases.iter().filter(|c| f(c)).count();
    assert!(count(&|c| c.rho.is_none() && c.fused_penalty.is_none()) >= 2);
    assert!(count(&|c| c.rho.is_some()) >= 2);
    assert!(count(&|c| c.fused_penalty.is_some()) >= 2);
    for case in &fixtures.cases {
        let (x, y) = (matrix(&case.x), matrix(&case.y));
        let (a, b) = (Array1::from(case.a.clone()), Array1::from(case.b.clone()));
        let (gx, gy) = (cloud(&x, case.scale_x), cloud(&y, case.scale_y));
        let features = case.fx.as_ref().map(|fx| {
            let (fx, fy) = (matrix(fx), matrix(case.fy.as_ref().unwrap()));
            PointCloud::sq_euclidean(fx.view(), fy.view())
                .and_then(|c| c.with_scale(ScaleCost::By(case.scale_xy.unwrap())))
                .unwrap()
        });
        let mut problem = QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap();
        if let (Some(fp), Some(gxy)) = (case.fused_penalty, &features) {
            // OTT weighs (fp·linear + GW)/(1 + fp): the GW weight is 1/(1 + fp).
            problem = problem.fused(gxy, 1.0 / (1.0 + fp)).unwrap();
        }
        let rho = case.rho.unwrap_or(f64::INFINITY);
        let solver = LowRankGw {
            low_rank: LowRankSinkhorn {
                epsilon: case.epsilon,
                gamma: case.gamma,
                threshold: 0.0,
                min_iterations: case.iterations,
                max_iterations: case.iterations,
                inner_threshold: 1e-12,
                ..LowRankSinkhorn::new(case.rank)
            },
            rho_a: rho,
            rho_b: rho,
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
        let sup = |m: &Array2<f64>| m.iter().fold(0.0f64, |acc, v| acc.max(*v));
        let dq = max_abs_diff(&out.q().to_owned(), &q) / sup(&q);
        let dr = max_abs_diff(&out.r().to_owned(), &r) / sup(&r);
        let dg = (&out.g() - &g)
            .mapv(f64::abs)
            .fold(0.0f64, |m, v| m.max(*v));
        assert!(
            dq < 1e-7 && dr < 1e-7 && dg < 1e-7,
            "{}: q {dq:e} r {dr:e} g {dg:e}",
            case.name
        );
        assert_close(out.cost(), case.cost, 1e-7, &case.name);
    }
}

/// Four clusters and a rotated, translated copy of them (rows shuffled): rank-4 GW puts
/// almost all the mass on matching clusters, its loss is far below the product coupling's,
/// and it is the loss of the untransformed copy (the costs are the same up to rounding).
#[test]
fn a_rotated_copy_is_matched_cluster_to_cluster() {
    let mut rng = Rng::new(11);
    let centres = array![[0.0, 0.0], [6.0, 0.0], [0.0, 9.0], [7.0, 8.0]];
    let per = 30;
    let x = Array2::from_shape_fn((4 * per, 2), |(i, k)| {
        centres[[i / per, k]] + 0.4 * rng.normal()
    });
    let label_x: Vec<usize> = (0..4 * per).map(|i| i / per).collect();
    // Shuffle, rotate by 50°, translate.
    let order: Vec<usize> = (0..4 * per).map(|i| (i * 37) % (4 * per)).collect();
    let (c, s_) = (50f64.to_radians().cos(), 50f64.to_radians().sin());
    let y = Array2::from_shape_fn((4 * per, 2), |(i, k)| {
        let p = x.row(order[i]);
        let rotated = if k == 0 {
            c * p[0] - s_ * p[1]
        } else {
            s_ * p[0] + c * p[1]
        };
        rotated + [3.0, -2.0][k]
    });
    let label_y: Vec<usize> = order.iter().map(|&i| label_x[i]).collect();
    let scaled = |p: &Array2<f64>| {
        PointCloud::sq_euclidean(p.view(), p.view())
            .and_then(|c| c.with_scale(ScaleCost::Max))
            .unwrap()
    };
    let (gx, gy) = (scaled(&x), scaled(&y));
    let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
    // GW is not convex: a few random starts, the best kept (what a user does).
    let runs: Vec<_> = (0..4)
        .map(|seed| {
            let mut solver = LowRankGw::new(4);
            solver.low_rank.init = LowRankInit::Random { seed };
            solver.solve(&problem).unwrap()
        })
        .collect();
    assert!(runs.iter().all(|r| r.converged()));
    let out = runs
        .iter()
        .min_by(|p, q| p.cost().total_cmp(&q.cost()))
        .unwrap();
    let plan = out.plan(1 << 24).unwrap();
    let matched: f64 = (0..4 * per)
        .flat_map(|i| (0..4 * per).map(move |j| (i, j)))
        .filter(|&(i, j)| label_x[i] == label_y[j])
        .map(|(i, j)| plan[[i, j]])
        .sum();
    assert!(matched > 0.99, "mass on matching clusters {matched}");
    // The product coupling's loss, from the same formula on the stored costs.
    let cx = gx.cost_matrix(1 << 24).unwrap();
    let cy = gy.cost_matrix(1 << 24).unwrap();
    let n = 4 * per;
    let w = 1.0 / n as f64;
    let product_loss: f64 = (0..n)
        .flat_map(|i| (0..n).map(move |k| (i, k)))
        .map(|(i, k)| {
            (0..n)
                .flat_map(|j| (0..n).map(move |l| (j, l)))
                .map(|(j, l)| (cx[[i, k]] - cy[[j, l]]).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        * w.powi(4);
    assert!(
        out.cost() < 0.05 * product_loss,
        "{} vs {product_loss}",
        out.cost()
    );
    // The loss is that of the brute-force sum over the returned plan.
    let brute = brute_force_gw(&cx, &cy, &plan);
    assert_close(out.cost(), brute, 1e-10, "loss vs brute force");
    // Same costs without the rotation: the same run.
    let y0 = Array2::from_shape_fn((n, 2), |(i, k)| x[[order[i], k]]);
    let gy0 = scaled(&y0);
    let best_seed = runs.iter().position(|r| r.cost() == out.cost()).unwrap() as u64;
    let mut solver = LowRankGw::new(4);
    solver.low_rank.init = LowRankInit::Random { seed: best_seed };
    let unrotated = solver
        .solve(&QuadraticProblem::uniform(&gx, &gy0).unwrap())
        .unwrap();
    assert_close(unrotated.cost(), out.cost(), 1e-6, "rotation invariance");
}

fn brute_force_gw(cx: &Array2<f64>, cy: &Array2<f64>, plan: &Array2<f64>) -> f64 {
    let (n, m) = plan.dim();
    let mut total = 0.0;
    for i in 0..n {
        for k in 0..n {
            for j in 0..m {
                for l in 0..m {
                    total += (cx[[i, k]] - cy[[j, l]]).powi(2) * plan[[i, j]] * plan[[k, l]];
                }
            }
        }
    }
    total
}

/// A stored cost and the factored point cloud give the same factors (the factored path
/// is the linear-time one: `Cx·Q`, `(Cx∘Cx)·p` through the rank-(d+2) factors), balanced
/// and unbalanced; and transposing both (asymmetric) costs leaves the problem, hence the
/// iterates, unchanged.
#[test]
fn stored_factored_and_transposed_costs_agree() {
    let mut rng = Rng::new(3);
    let (x, y) = (rng.normal_matrix(30, 2), rng.normal_matrix(26, 3));
    let (a, b) = (rng.weights(30, 1.0), rng.weights(26, 1.0));
    let gx = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let gy = PointCloud::sq_euclidean(y.view(), y.view()).unwrap();
    let dx = DenseCost::new(gx.cost_matrix(1 << 20).unwrap()).unwrap();
    let dy = DenseCost::new(gy.cost_matrix(1 << 20).unwrap()).unwrap();
    for rho in [f64::INFINITY, 0.5] {
        let solver = LowRankGw {
            rho_a: rho,
            rho_b: rho,
            ..LowRankGw::new(3)
        };
        let factored = solver
            .solve(&QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap())
            .unwrap();
        let stored = solver
            .solve(&QuadraticProblem::unbalanced(&dx, &dy, a.view(), b.view()).unwrap())
            .unwrap();
        let d = max_abs_diff(&factored.q().to_owned(), &stored.q().to_owned());
        assert!(d < 1e-9, "rho {rho}: q differs by {d:e}");
        assert_close(factored.cost(), stored.cost(), 1e-9, "cost");
    }
    // Asymmetric costs: L(Cx, Cy) over P⊗P is unchanged by transposing both.
    let cx = rng.uniform_matrix(20, 20);
    let cy = rng.uniform_matrix(18, 18);
    let solve = |cx: Array2<f64>, cy: Array2<f64>| {
        let (gx, gy) = (DenseCost::new(cx).unwrap(), DenseCost::new(cy).unwrap());
        let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
        let mut solver = LowRankGw::new(3);
        solver.low_rank.inner_threshold = 1e-12;
        solver.solve(&problem).unwrap()
    };
    let plain = solve(cx.clone(), cy.clone());
    let transposed = solve(cx.t().to_owned(), cy.t().to_owned());
    let d = max_abs_diff(&plain.q().to_owned(), &transposed.q().to_owned());
    assert!(d < 1e-10, "transposed costs: q differs by {d:e}");
    let brute = brute_force_gw(&cx, &cy, &plain.plan(1 << 20).unwrap());
    assert_close(plain.cost(), brute, 1e-10, "asymmetric loss vs brute force");
    // ... while symmetrizing only one of them changes it.
    let half = solve((&cx + &cx.t()) * 0.5, cy);
    assert!((half.cost() - plain.cost()).abs() > 1e-6);
}

/// Rank 1 is the product coupling `a⊗b` (a closed form), whose loss is the brute-force
/// sum; relaxed marginals with ρ → ∞ give it too; a small ρ moves mass away from a target
/// twice as heavy (the plan's mass stays between the two masses).
#[test]
fn rank_one_and_unbalanced_limits() {
    let mut rng = Rng::new(8);
    let (x, y) = (rng.normal_matrix(24, 2), rng.normal_matrix(20, 2));
    let gx = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let gy = PointCloud::sq_euclidean(y.view(), y.view()).unwrap();
    let (a, b) = (rng.weights(24, 1.0), rng.weights(20, 1.0));
    let product = a
        .view()
        .insert_axis(ndarray::Axis(1))
        .dot(&b.view().insert_axis(ndarray::Axis(0)));
    let exact = brute_force_gw(
        &gx.cost_matrix(1 << 20).unwrap(),
        &gy.cost_matrix(1 << 20).unwrap(),
        &product,
    );
    let balanced = LowRankGw::new(1)
        .solve(&QuadraticProblem::new(&gx, &gy, a.view(), b.view()).unwrap())
        .unwrap();
    let d = max_abs_diff(&balanced.plan(1 << 20).unwrap(), &product);
    assert!(d < 1e-12, "rank 1: plan differs from a⊗b by {d:e}");
    assert_close(balanced.cost(), exact, 1e-10, "rank-1 loss");
    let mut stiff = LowRankGw {
        rho_a: 1e12,
        rho_b: 1e12,
        ..LowRankGw::new(1)
    };
    stiff.low_rank.inner_threshold = 1e-12;
    let stiff = stiff
        .solve(&QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap())
        .unwrap();
    let d = max_abs_diff(&stiff.plan(1 << 20).unwrap(), &product);
    assert!(d < 1e-8, "rho = 1e12: plan differs from a⊗b by {d:e}");
    // The GW term grows as the mass squared, so a soft ρ shrinks the plan below both
    // masses; a stiff one keeps it between them. Columns always meet g exactly.
    let heavy = &b * 2.0;
    let relaxed = |rho: f64| {
        LowRankGw {
            rho_a: rho,
            rho_b: rho,
            ..LowRankGw::new(3)
        }
        .solve(&QuadraticProblem::unbalanced(&gx, &gy, a.view(), heavy.view()).unwrap())
        .unwrap()
    };
    let (soft, firm) = (relaxed(1.0), relaxed(1e3));
    let (m_soft, m_firm) = (soft.g().sum(), firm.g().sum());
    assert!(
        m_soft < m_firm,
        "mass {m_soft} (rho 1) vs {m_firm} (rho 1e3)"
    );
    assert!(m_firm > 1.0 && m_firm < 2.0, "mass {m_firm} at rho 1e3");
    for out in [&soft, &firm] {
        let cols = out.q().sum_axis(ndarray::Axis(0));
        assert!((&cols - &out.g()).mapv(f64::abs).sum() < 1e-9);
    }
}

#[test]
fn bad_inputs_name_their_argument() {
    let mut rng = Rng::new(2);
    let x = rng.normal_matrix(10, 2);
    let gx = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let y = rng.normal_matrix(8, 2);
    let gy = PointCloud::sq_euclidean(y.view(), y.view()).unwrap();
    let problem = QuadraticProblem::uniform(&gx, &gy).unwrap();
    let arg = |e: Error| match e {
        Error::InvalidParameter { arg, .. } | Error::Shape { arg, .. } => arg,
        other => panic!("unexpected {other:?}"),
    };
    let kl = problem.clone().with_loss(GwLoss::Kl);
    assert_eq!(arg(LowRankGw::new(3).solve(&kl).unwrap_err()), "problem");
    let mut kmeans = LowRankGw::new(3);
    kmeans.low_rank.init = LowRankInit::KMeans { seed: 0 };
    assert_eq!(arg(kmeans.solve(&problem).unwrap_err()), "init");
    assert_eq!(arg(LowRankGw::new(9).solve(&problem).unwrap_err()), "rank");
    for bad in [0.0, -1.0, f64::NAN] {
        let solver = LowRankGw {
            rho_a: bad,
            ..LowRankGw::new(3)
        };
        assert_eq!(arg(solver.solve(&problem).unwrap_err()), "rho_a");
    }
    let heavy = Array1::from_elem(8, 0.25);
    let a = Array1::from_elem(10, 0.1);
    let unequal = QuadraticProblem::unbalanced(&gx, &gy, a.view(), heavy.view()).unwrap();
    assert!(matches!(
        LowRankGw::new(3).solve(&unequal).unwrap_err(),
        Error::MassMismatch { .. }
    ));
    // A start of the wrong shape names init.
    let q = Array2::from_elem((9, 3), 1.0 / 27.0);
    let r = Array2::from_elem((8, 3), 1.0 / 24.0);
    let g = Array1::from_elem(3, 1.0 / 3.0);
    let start = LowRankStart {
        q: q.view(),
        r: r.view(),
        g: g.view(),
    };
    let err = LowRankGw::new(3)
        .solve_from(&problem, Some(start), &Observer::new())
        .unwrap_err();
    assert_eq!(arg(err), "init");
}
