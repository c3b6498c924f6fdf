//! Cross-checks against POT on the certified fixtures of `testdata/pot_sinkhorn.json`
//! (regenerate with `scripts/make_fixtures.py`): plans, linear costs and objectives of
//! balanced, unbalanced and semi-relaxed problems, through both geometries.

mod common;

use common::{assert_close, matrix, max_abs_diff, testdata};
use ndarray::{Array1, Array2};
use otters::geometry::{DenseCost, Euclidean, Geometry, PointCloud, SqEuclidean};
use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn, UnbalancedUpdates};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    pot_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Option<Vec<Vec<f64>>>,
    y: Option<Vec<Vec<f64>>>,
    cost_fn: Option<String>,
    cost: Option<Vec<Vec<f64>>>,
    a: Vec<f64>,
    b: Vec<f64>,
    epsilon: f64,
    rho_a: Option<f64>,
    rho_b: Option<f64>,
    log_u: Vec<f64>,
    log_v: Vec<f64>,
    linear_cost: f64,
    objective: f64,
}

fn penalty(rho: Option<f64>) -> MarginalPenalty {
    rho.map_or(MarginalPenalty::Hard, |rho| MarginalPenalty::Kl { rho })
}

fn load() -> Fixtures {
    let text =
        std::fs::read_to_string(testdata("pot_sinkhorn.json")).expect("testdata/pot_sinkhorn.json");
    serde_json::from_str(&text).expect("valid fixture file")
}

/// Solves one case on `geom` and compares with POT's plan, linear cost and objective.
fn check(
    case: &Case,
    geom: &dyn Geometry,
    cost: &Array2<f64>,
    updates: UnbalancedUpdates,
    label: &str,
) {
    let (a, b) = (Array1::from(case.a.clone()), Array1::from(case.b.clone()));
    let problem = LinearProblem::unbalanced(
        geom,
        a.view(),
        b.view(),
        penalty(case.rho_a),
        penalty(case.rho_b),
    )
    .unwrap();
    let solver = Sinkhorn {
        threshold: 1e-12,
        max_iterations: 200_000,
        unbalanced_updates: updates,
        ..Sinkhorn::new(Epsilon::Absolute(case.epsilon))
    };
    let out = solver.solve(&problem).unwrap();
    assert!(
        out.converged(),
        "{label} {}: not converged, error {:e}",
        case.name,
        out.marginal_error()
    );
    let eps = case.epsilon;
    let want = Array2::from_shape_fn(cost.dim(), |(i, j)| {
        a[i] * b[j] * (case.log_u[i] + case.log_v[j] - cost[[i, j]] / eps).exp()
    });
    let plan = out.plan(&problem).unwrap();
    let scale = want.iter().copied().fold(0.0, f64::max);
    let diff = max_abs_diff(&plan, &want);
    assert!(
        diff <= 1e-8 * scale,
        "{label} {}: plan differs by {diff:e} (max entry {scale:e})",
        case.name
    );
    assert_close(
        out.linear_cost(&problem).unwrap(),
        case.linear_cost,
        1e-8,
        &format!("{label} {} linear cost", case.name),
    );
    assert_close(
        out.primal_cost(),
        case.objective,
        1e-8,
        &format!("{label} {} objective", case.name),
    );
    // At the optimum, the dual objective equals the primal one.
    assert_close(
        out.reg_ot_cost(),
        case.objective,
        1e-8,
        &format!("{label} {} dual objective", case.name),
    );
}

#[test]
fn matches_pot_on_every_certified_fixture() {
    let fixtures = load();
    assert!(
        fixtures.cases.len() >= 40,
        "expected the full fixture set, got {} cases",
        fixtures.cases.len()
    );
    assert!(
        fixtures.pot_version.starts_with("0.9"),
        "fixtures from POT {}",
        fixtures.pot_version
    );
    let (mut balanced, mut unbalanced) = (0, 0);
    for case in &fixtures.cases {
        let cost = match (&case.cost, &case.x, &case.y) {
            (Some(c), _, _) => matrix(c),
            (None, Some(x), Some(y)) => {
                let (x, y) = (matrix(x), matrix(y));
                let cloud: Box<dyn Geometry> = match case.cost_fn.as_deref() {
                    Some("sqeuclidean") => Box::new(
                        PointCloud::new(x.view(), y.view(), SqEuclidean)
                            .unwrap()
                            .with_tile(7, 11)
                            .unwrap(),
                    ),
                    Some("euclidean") => Box::new(
                        PointCloud::new(x.view(), y.view(), Euclidean)
                            .unwrap()
                            .with_tile(5, 13)
                            .unwrap(),
                    ),
                    other => panic!("unknown cost {other:?}"),
                };
                let cost = cloud.cost_matrix(1 << 30).unwrap();
                check(
                    case,
                    cloud.as_ref(),
                    &cost,
                    UnbalancedUpdates::TranslationInvariant,
                    "point cloud",
                );
                cost
            }
            _ => panic!("case {} has neither cost nor points", case.name),
        };
        let dense = DenseCost::new(cost.view()).unwrap();
        check(
            case,
            &dense,
            &cost,
            UnbalancedUpdates::TranslationInvariant,
            "dense",
        );
        if case.rho_a.is_some() || case.rho_b.is_some() {
            check(
                case,
                &dense,
                &cost,
                UnbalancedUpdates::Standard,
                "dense, standard updates",
            );
            unbalanced += 1;
        } else {
            balanced += 1;
        }
    }
    assert!(
        balanced >= 15 && unbalanced >= 20,
        "{balanced} balanced, {unbalanced} unbalanced cases"
    );
}
