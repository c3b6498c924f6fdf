//! Maps (ALGORITHMS.md M2, M3): the Monge gap against OTT-JAX fixtures, its entropic-bias
//! bounds and finite-difference gradient; elastic costs, their entropic map against the
//! τ = 0 entropic map and a brute-force `x − ∇h*(∇f(x))`, and sparse displacements.

mod common;

use common::{Rng, matrix, testdata};
use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::geometry::{Axis, Custom, Geometry, PointCloud, SqEuclidean};
use otters::linear::{Epsilon, LinearProblem, Sinkhorn};
use otters::maps::{Elastic, elastic_map, monge_gap_from_samples};
use serde::Deserialize;

fn tight(eps: f64) -> Sinkhorn {
    Sinkhorn {
        threshold: 1e-12,
        max_iterations: 100_000,
        ..Sinkhorn::new(Epsilon::Absolute(eps))
    }
}

#[derive(Deserialize)]
struct GapCase {
    name: String,
    cost: String,
    gamma: f64,
    epsilon: f64,
    x: Vec<Vec<f64>>,
    t: Vec<Vec<f64>>,
    monge_gap: f64,
    ent_reg_cost: f64,
}

#[derive(Deserialize)]
struct GapFixtures {
    cases: Vec<GapCase>,
}

/// OTT-JAX 0.6 (`testdata/ott_monge_gap.json`, both sides converged to a marginal error of
/// 1e-10): the same value and the same `ent_reg_cost` to 1e-8.
#[test]
fn monge_gap_matches_ott() {
    let text = std::fs::read_to_string(testdata("ott_monge_gap.json")).expect("fixture file");
    let fixtures: GapFixtures = serde_json::from_str(&text).expect("valid fixture file");
    assert_eq!(fixtures.cases.len(), 3);
    for case in fixtures.cases {
        let (x, t) = (matrix(&case.x), matrix(&case.t));
        let solver = tight(case.epsilon);
        let gap = match case.cost.as_str() {
            "sqeuclidean" => monge_gap_from_samples(x.view(), t.view(), SqEuclidean, &solver),
            "elastic_l1" => monge_gap_from_samples(
                x.view(),
                t.view(),
                Elastic::l1(case.gamma).unwrap(),
                &solver,
            ),
            other => panic!("unknown cost {other}"),
        }
        .unwrap();
        assert!(gap.output.converged(), "{}", case.name);
        let tol = 1e-8 * (1.0 + case.monge_gap.abs());
        assert!(
            (gap.value - case.monge_gap).abs() < tol,
            "{}: {} vs OTT {}",
            case.name,
            gap.value,
            case.monge_gap
        );
        assert!(
            (gap.ent_reg_cost - case.ent_reg_cost).abs() < tol,
            "{}",
            case.name
        );
    }
}

/// With OTT's convention the plan pairing `x_i` with `T(x_i)` bounds the gap below by
/// `ε·log n`; for an optimal map `⟨C, P⟩ ≥ OT₀ = mean c(x, T(x))` and `H(P) ≤ 2 log n` bound it
/// above by `2ε·log n`. A map that is not monotone has a gap far above both.
#[test]
fn monge_gap_is_the_entropic_bias_for_optimal_maps_only() {
    let mut rng = Rng::new(8);
    let n = 40;
    let x = rng.normal_matrix(n, 2);
    let eps = 0.05;
    // (Sinkhorn stalls near a marginal error of 1e-8 on the stretched cloud: threshold 1e-7,
    // and the bounds get 1e-5 of slack.)
    let solver = Sinkhorn {
        threshold: 1e-7,
        ..tight(eps)
    };
    let bias = eps * (n as f64).ln();
    let spd = array![[2.0, 0.5], [0.5, 1.0]];
    let maps: [(&str, Array2<f64>); 3] = [
        ("identity", x.clone()),
        ("translation", &x + &array![[1.5, -0.7]]),
        ("gradient of a convex quadratic", x.dot(&spd) + 0.3),
    ];
    for (name, t) in maps {
        let gap = monge_gap_from_samples(x.view(), t.view(), SqEuclidean, &solver).unwrap();
        assert!(
            gap.output.converged(),
            "{name}: error {} after {} iterations",
            gap.output.marginal_error(),
            gap.output.iterations()
        );
        assert!(
            gap.value >= bias - 1e-5 && gap.value <= 2.0 * bias + 1e-5,
            "{name}: gap {} outside [{bias}, {}]",
            gap.value,
            2.0 * bias
        );
    }
    // The identity on well-separated points: the plan is the diagonal, gap = ε·log n.
    let grid = Array2::from_shape_fn((9, 2), |(i, k)| {
        2.0 * if k == 0 {
            (i % 3) as f64
        } else {
            (i / 3) as f64
        }
    });
    let gap = monge_gap_from_samples(grid.view(), grid.view(), SqEuclidean, &solver).unwrap();
    assert!((gap.value - eps * 9f64.ln()).abs() < 1e-12, "{}", gap.value);
    // A rotation by 90° is not the gradient of a convex function.
    let rotated = x.dot(&array![[0.0, -1.0], [1.0, 0.0]]);
    let gap = monge_gap_from_samples(x.view(), rotated.view(), SqEuclidean, &solver).unwrap();
    assert!(gap.value > 0.5, "rotation gap {}", gap.value);
    assert!(gap.value > 10.0 * bias);
}

/// Central differences in every mapped coordinate agree with the gradient to 1e-6 of its
/// largest entry (squared Euclidean and elastic costs).
#[test]
fn monge_gap_gradient_matches_finite_differences() {
    let mut rng = Rng::new(21);
    let x = rng.normal_matrix(7, 2);
    let t = x.mapv(|v| v.tanh() * 2.0) + 0.1 * rng.normal_matrix(7, 2);
    let solver = tight(0.5);
    let check = |value: &dyn Fn(&Array2<f64>) -> f64, grad: &Array2<f64>| {
        let scale = grad.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for i in 0..t.nrows() {
            for k in 0..t.ncols() {
                let h = 1e-5;
                let (mut tp, mut tm) = (t.clone(), t.clone());
                tp[[i, k]] += h;
                tm[[i, k]] -= h;
                let fd = (value(&tp) - value(&tm)) / (2.0 * h);
                assert!(
                    (fd - grad[[i, k]]).abs() < 1e-6 * scale,
                    "[{i}, {k}]: fd {fd} vs {}",
                    grad[[i, k]]
                );
            }
        }
    };
    let gap = monge_gap_from_samples(x.view(), t.view(), SqEuclidean, &solver).unwrap();
    check(
        &|t| {
            monge_gap_from_samples(x.view(), t.view(), SqEuclidean, &solver)
                .unwrap()
                .value
        },
        &gap.gradient,
    );
    let elastic = Elastic::l1(0.3).unwrap();
    let gap = monge_gap_from_samples(x.view(), t.view(), elastic, &solver).unwrap();
    check(
        &|t| {
            monge_gap_from_samples(x.view(), t.view(), elastic, &solver)
                .unwrap()
                .value
        },
        &gap.gradient,
    );
}

#[test]
fn monge_gap_bad_inputs_name_the_argument() {
    let x = array![[0.0, 0.0], [1.0, 0.0]];
    let solver = Sinkhorn::new(Epsilon::Absolute(0.1));
    let err = monge_gap_from_samples(x.view(), array![[0.0, 0.0]].view(), SqEuclidean, &solver)
        .unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "target", .. }), "{err}");
    let nan = array![[0.0, f64::NAN], [1.0, 0.0]];
    let err = monge_gap_from_samples(x.view(), nan.view(), SqEuclidean, &solver).unwrap_err();
    assert!(matches!(err, Error::NonFinite { arg: "y", .. }), "{err}");
    let no_gradient = Custom::new(|a: &[f64], b: &[f64]| (a[0] - b[0]).abs());
    let err = monge_gap_from_samples(x.view(), x.view(), no_gradient, &solver).unwrap_err();
    assert_eq!(err.argument(), Some("cost_fn"));
    let bad_eps = Sinkhorn::new(Epsilon::Absolute(-1.0));
    let err = monge_gap_from_samples(x.view(), x.view(), SqEuclidean, &bad_eps).unwrap_err();
    assert_eq!(err.argument(), Some("epsilon"));
}

/// A source cloud and an independent target cloud displaced along the first two of five
/// coordinates: the optimal displacement is sparse.
fn sparse_shift_clouds() -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let mut rng = Rng::new(5);
    let x = rng.normal_matrix(120, 5);
    let mut y = rng.normal_matrix(120, 5);
    for mut row in y.outer_iter_mut() {
        row[0] += 4.0;
        row[1] -= 3.0;
    }
    let fresh = rng.normal_matrix(60, 5);
    (x, y, fresh)
}

#[test]
fn elastic_map_at_gamma_zero_is_the_entropic_map() {
    let (x, y, fresh) = sparse_shift_clouds();
    let eps = 0.5;
    for cost in [Elastic::l1(0.0).unwrap(), Elastic::sq_l2(0.7).unwrap()] {
        // ℓ1 at γ = 0 and the ridge at any γ: prox_τ inverts the scaling of ∇h exactly, so
        // T(x) = x − Σ_j w_j(x)·(x − y_j) = Σ_j w_j(x)·y_j.
        let geom = PointCloud::new(x.view(), y.view(), cost).unwrap();
        let out = tight(eps)
            .solve(&LinearProblem::uniform(&geom).unwrap())
            .unwrap();
        let t = elastic_map(&out, &geom, fresh.view()).unwrap();
        let want = out.entropic_map(&geom, fresh.view()).unwrap();
        let err = (&t - &want).mapv(f64::abs).fold(0.0f64, |a, &v| a.max(v));
        assert!(err < 1e-12, "{cost:?}: {err}");
    }
    // ½‖·‖² at ε is ‖·‖² at 2ε: the same weights, the same map.
    let geom = PointCloud::new(x.view(), y.view(), Elastic::l1(0.0).unwrap()).unwrap();
    let out = tight(eps)
        .solve(&LinearProblem::uniform(&geom).unwrap())
        .unwrap();
    let sq = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let out_sq = tight(2.0 * eps)
        .solve(&LinearProblem::uniform(&sq).unwrap())
        .unwrap();
    let t = elastic_map(&out, &geom, fresh.view()).unwrap();
    let want = out_sq.entropic_map(&sq, fresh.view()).unwrap();
    let err = (&t - &want).mapv(f64::abs).fold(0.0f64, |a, &v| a.max(v));
    assert!(err < 1e-8, "{err}");
}

/// `T(x) = x − ∇h*(∇f(x))` with `∇f` from central differences of the entropic potential
/// `f(x) = −ε·log Σ_j b_j exp((g_j − h(x − y_j))/ε)` and `∇h*` the soft thresholding.
#[test]
fn elastic_l1_map_matches_brute_force() {
    let (x, y, fresh) = sparse_shift_clouds();
    let gamma = 0.4;
    let eps = 0.5;
    let cost = Elastic::l1(gamma).unwrap();
    let geom = PointCloud::new(x.view(), y.view(), cost).unwrap();
    let out = tight(eps)
        .solve(&LinearProblem::uniform(&geom).unwrap())
        .unwrap();
    let log_col = out.log_plan().log_col.to_owned();
    let potential = |p: &Array1<f64>| {
        let one = p.clone().insert_axis(ndarray::Axis(0));
        let g = geom.with_source(one.view()).unwrap();
        let mut f = Array1::zeros(1);
        g.softmin(Axis::Rows, eps, log_col.view(), f.view_mut())
            .unwrap();
        f[0]
    };
    let t = elastic_map(&out, &geom, fresh.view()).unwrap();
    for (i, p) in fresh.outer_iter().enumerate().take(15) {
        let p = p.to_owned();
        let mut grad = vec![0.0; 5];
        for (k, gk) in grad.iter_mut().enumerate() {
            let h = 1e-6;
            let (mut pp, mut pm) = (p.clone(), p.clone());
            pp[k] += h;
            pm[k] -= h;
            *gk = (potential(&pp) - potential(&pm)) / (2.0 * h);
        }
        cost.prox(&mut grad);
        for k in 0..5 {
            let want = p[k] - grad[k];
            assert!(
                (t[[i, k]] - want).abs() < 1e-6,
                "point {i} coordinate {k}: {} vs brute force {want}",
                t[[i, k]]
            );
        }
    }
}

#[test]
fn elastic_l1_displacements_get_sparser_as_gamma_grows() {
    let (x, y, fresh) = sparse_shift_clouds();
    let mut fractions = Vec::new();
    for gamma in [0.0, 0.1, 0.3, 1.0] {
        let geom = PointCloud::new(x.view(), y.view(), Elastic::l1(gamma).unwrap()).unwrap();
        let out = Sinkhorn::new(Epsilon::Absolute(0.5))
            .solve(&LinearProblem::uniform(&geom).unwrap())
            .unwrap();
        let t = elastic_map(&out, &geom, fresh.view()).unwrap();
        let moved = &t - &fresh;
        let zeros = moved.iter().filter(|&&v| v == 0.0).count() as f64 / moved.len() as f64;
        // The shifted coordinates keep moving.
        let signal_zeros = moved.column(0).iter().filter(|&&v| v == 0.0).count();
        assert_eq!(signal_zeros, 0, "gamma {gamma}");
        fractions.push(zeros);
    }
    assert_eq!(fractions[0], 0.0);
    for w in fractions.windows(2) {
        assert!(w[1] > w[0], "{fractions:?}");
    }
    // At γ = 1 a good part of the three unshifted coordinates (60% of all) stays put.
    assert!(fractions[3] > 0.35, "{fractions:?}");
}

#[test]
fn elastic_map_bad_inputs_name_the_argument() {
    let (x, y, _) = sparse_shift_clouds();
    let geom = PointCloud::new(x.view(), y.view(), Elastic::l1(0.1).unwrap()).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(1.0))
        .solve(&LinearProblem::uniform(&geom).unwrap())
        .unwrap();
    let other = PointCloud::new(
        x.slice(ndarray::s![..10, ..]),
        y.view(),
        Elastic::l1(0.1).unwrap(),
    )
    .unwrap();
    let err = elastic_map(&out, &other, x.view()).unwrap_err();
    assert_eq!(err.argument(), Some("cloud"));
    let err = elastic_map(&out, &geom, array![[0.0, 1.0]].view()).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert_eq!(Elastic::l1(-1.0).unwrap_err().argument(), Some("gamma"));
}

/// ProgOT with one stage is the entropic map; with several it brings the points close to
/// the target (exact W₂² to `y` under 3% of the initial one).
#[test]
fn progot_one_stage_is_the_entropic_map_and_stages_approach_the_target() {
    use otters::linear::NetworkSimplex;
    use otters::maps::{ProgOt, StepSchedule};
    let mut rng = Rng::new(12);
    let x = rng.normal_matrix(80, 2);
    let mut y = rng.normal_matrix(80, 2);
    for mut row in y.outer_iter_mut() {
        row[0] = 3.0 + 0.5 * row[0];
        row[1] = 1.0 + 1.5 * row[1];
    }
    let sinkhorn = tight(0.1);
    let one = ProgOt::new(1, sinkhorn).solve(x.view(), y.view()).unwrap();
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let out = sinkhorn
        .solve(&LinearProblem::uniform(&geom).unwrap())
        .unwrap();
    let want = out.entropic_map(&geom, x.view()).unwrap();
    assert!(
        (one.points() - &want)
            .mapv(f64::abs)
            .fold(0.0f64, |a, &v| a.max(v))
            < 1e-12
    );
    let fresh = rng.normal_matrix(5, 2);
    let t1 = one.transport(fresh.view()).unwrap();
    let want = out.entropic_map(&geom, fresh.view()).unwrap();
    assert!((&t1 - &want).mapv(f64::abs).fold(0.0f64, |a, &v| a.max(v)) < 1e-12);

    let w2 = |p: &Array2<f64>| {
        let g = PointCloud::sq_euclidean(p.view(), y.view()).unwrap();
        NetworkSimplex::default()
            .solve(&LinearProblem::uniform(&g).unwrap())
            .unwrap()
            .cost()
    };
    let relative = Sinkhorn::new(Epsilon::RelativeToMean(0.02));
    let prog = ProgOt::new(6, relative).solve(x.view(), y.view()).unwrap();
    assert!(prog.converged());
    let (start, end) = (w2(&x), w2(prog.points()));
    assert!(end < 0.03 * start, "W2² {start} -> {end}");
    // The stored stages map the training points to the same final points.
    let again = prog.transport(x.view()).unwrap();
    assert!(
        (&again - prog.points())
            .mapv(f64::abs)
            .fold(0.0f64, |a, &v| a.max(v))
            < 1e-10
    );
    let plan = prog.plan().unwrap();
    assert!((plan.sum() - 1.0).abs() < 1e-6);
    // Bad settings.
    assert_eq!(
        ProgOt::new(0, relative)
            .solve(x.view(), y.view())
            .unwrap_err()
            .argument(),
        Some("steps")
    );
    let bad = ProgOt {
        schedule: StepSchedule::Given(vec![0.5, 1.5]),
        ..ProgOt::new(2, relative)
    };
    assert_eq!(
        bad.solve(x.view(), y.view()).unwrap_err().argument(),
        Some("schedule")
    );
}
