//! Fused GW barycenters (ALGORITHMS.md Q5 with Q2; Vayer et al. 2019): permuted copies of a
//! featured graph give it back (costs and features, consistently permuted), the returned
//! features are the minimizer for the returned plans, with α = 0 the plans see only the
//! features, held parts stay put, and bad inputs name their argument.

mod common;

use common::{Rng, max_abs_diff, sq_euclidean, uniform};
use ndarray::{Array1, Array2};
use otters::Error;
use otters::geometry::DenseCost;
use otters::quadratic::{BarycenterInit, GwBarycenter, GwBarycenterInput, GwBarycenterOutput};

/// A graph of `n` points of the plane (squared distances / max) with 3-D features.
fn featured_graph(n: usize, seed: u64) -> (Array2<f64>, Array2<f64>) {
    let mut rng = Rng::new(seed);
    let x = rng.normal_matrix(n, 2);
    let c = sq_euclidean(&x, &x);
    let max = c.iter().fold(0.0f64, |m, &v| m.max(v));
    (c / max, rng.normal_matrix(n, 3))
}

/// The same graph with its points in the order `sigma`.
fn permuted(c: &Array2<f64>, y: &Array2<f64>, sigma: &[usize]) -> (Array2<f64>, Array2<f64>) {
    let n = sigma.len();
    (
        Array2::from_shape_fn((n, n), |(i, k)| c[[sigma[i], sigma[k]]]),
        Array2::from_shape_fn((n, y.ncols()), |(i, d)| y[[sigma[i], d]]),
    )
}

fn solve(
    settings: &GwBarycenter,
    graphs: &[(Array2<f64>, Option<Array2<f64>>)],
) -> Result<GwBarycenterOutput, Error> {
    let geoms: Vec<DenseCost<'_>> = graphs
        .iter()
        .map(|(c, _)| DenseCost::new(c.view()).unwrap())
        .collect();
    let weights: Vec<Array1<f64>> = graphs.iter().map(|(c, _)| uniform(c.nrows())).collect();
    let inputs: Vec<GwBarycenterInput<'_>> = geoms
        .iter()
        .zip(&weights)
        .zip(graphs)
        .map(|((g, w), (_, y))| {
            let input = GwBarycenterInput::new(g, w.view());
            match y {
                Some(y) => input.with_features(y.view()),
                None => input,
            }
        })
        .collect();
    settings.solve(&inputs)
}

#[test]
fn permuted_copies_give_back_the_graph_and_its_features() {
    let n = 10;
    let (c, y) = featured_graph(n, 1);
    let sigma = [3, 7, 0, 9, 1, 5, 2, 8, 6, 4];
    let (c2, y2) = permuted(&c, &y, &sigma);
    // Start from the structure of the first copy and zero features (POT's default).
    let settings = GwBarycenter {
        init: BarycenterInit::Cost(c.clone()),
        ..GwBarycenter::new(n)
    };
    let out = solve(&settings, &[(c.clone(), Some(y.clone())), (c2, Some(y2))]).unwrap();
    assert!(out.converged());
    assert!(out.loss() < 1e-12, "loss {}", out.loss());
    assert!(max_abs_diff(&out.cost().to_owned(), &c) < 1e-12);
    let x = out.features().unwrap().to_owned();
    assert!(
        max_abs_diff(&x, &y) < 1e-12,
        "features {}",
        max_abs_diff(&x, &y)
    );
    // The plan to the permuted copy is the permutation.
    let plan = &out.plans()[1];
    for (j, &i) in sigma.iter().enumerate() {
        assert!((plan[[i, j]] - 1.0 / n as f64).abs() < 1e-12, "T[{i}, {j}]");
    }
}

#[test]
fn returned_features_minimize_the_feature_term_for_the_returned_plans() {
    let (c1, y1) = featured_graph(9, 2);
    let (c2, y2) = featured_graph(12, 3);
    let (c3, y3) = featured_graph(7, 4);
    let n = 6;
    let lambdas = vec![0.5, 0.3, 0.7];
    let settings = GwBarycenter {
        lambdas: Some(lambdas.clone()),
        alpha: 0.3,
        max_iterations: 7,
        ..GwBarycenter::new(n)
    };
    let graphs = [(c1, Some(y1)), (c2, Some(y2)), (c3, Some(y3))];
    let out = solve(&settings, &graphs).unwrap();
    let x = out.features().unwrap().to_owned();
    let p = out.weights().to_owned();
    // Gradient in X of Σ_s λ_s Σ_ij ‖x_i − y_j‖² T_ij: 2 Σ_s λ_s (diag(p)·X − T_s·Y_s).
    let mut grad = Array2::<f64>::zeros(x.raw_dim());
    for ((plan, (_, y)), &l) in out.plans().iter().zip(&graphs).zip(&lambdas) {
        let y = y.as_ref().unwrap();
        assert!(
            max_abs_diff(
                &plan
                    .sum_axis(ndarray::Axis(1))
                    .insert_axis(ndarray::Axis(1)),
                &p.clone().insert_axis(ndarray::Axis(1))
            ) < 1e-9
        );
        let px = &x * &p.clone().insert_axis(ndarray::Axis(1));
        grad = grad + (px - plan.dot(y)) * l;
    }
    let worst = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(worst < 1e-12, "gradient {worst:e}");
    // The reported losses are α·GW + (1 − α)·⟨M, T⟩ for the returned (C, X, T).
    for (s, (plan, (cs, y))) in out.plans().iter().zip(&graphs).enumerate() {
        let y = y.as_ref().unwrap();
        let cb = out.cost();
        let (m, k) = (cs.nrows(), n);
        let mut gw = 0.0;
        for i in 0..k {
            for j in 0..k {
                for a in 0..m {
                    for b in 0..m {
                        gw += (cb[[i, j]] - cs[[a, b]]).powi(2) * plan[[i, a]] * plan[[j, b]];
                    }
                }
            }
        }
        let lin: f64 = sq_euclidean(&x, y)
            .iter()
            .zip(plan.iter())
            .map(|(d, t)| d * t)
            .sum();
        let want = 0.3 * gw + 0.7 * lin;
        let got = out.gw_losses()[s];
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "input {s}: {got} vs {want}"
        );
    }
}

/// With `α = 0` the plans see only the features: structures of other inputs change the
/// barycenter's costs but not its features or plans.
#[test]
fn alpha_zero_plans_see_only_the_features() {
    let (c1, y1) = featured_graph(9, 5);
    let (c2, y2) = featured_graph(11, 6);
    let (d1, _) = featured_graph(9, 12);
    let (d2, _) = featured_graph(11, 13);
    let settings = GwBarycenter {
        alpha: 0.0,
        max_iterations: 5,
        ..GwBarycenter::new(7)
    };
    let first = solve(
        &settings,
        &[(c1.clone(), Some(y1.clone())), (c2, Some(y2.clone()))],
    )
    .unwrap();
    let second = solve(&settings, &[(d1, Some(y1)), (d2, Some(y2))]).unwrap();
    assert_eq!(first.features(), second.features());
    assert_eq!(first.plans(), second.plans());
    assert_ne!(first.cost(), second.cost());
}

#[test]
fn held_parts_stay_at_their_start() {
    let (c1, y1) = featured_graph(8, 7);
    let (c2, y2) = featured_graph(10, 8);
    let (c0, x0) = featured_graph(6, 9);
    let graphs = [(c1, Some(y1)), (c2, Some(y2))];
    let structure = GwBarycenter {
        init: BarycenterInit::Cost(c0.clone()),
        fixed_structure: true,
        max_iterations: 4,
        ..GwBarycenter::new(6)
    };
    let out = solve(&structure, &graphs).unwrap();
    assert_eq!(out.cost(), c0);
    assert_ne!(out.features().unwrap(), Array2::<f64>::zeros((6, 3)));
    let features = GwBarycenter {
        init_features: Some(x0.clone()),
        fixed_features: true,
        max_iterations: 4,
        ..GwBarycenter::new(6)
    };
    let out = solve(&features, &graphs).unwrap();
    assert_eq!(out.features().unwrap(), x0);
}

#[test]
fn bad_fused_settings_name_their_argument() {
    let (c1, y1) = featured_graph(8, 10);
    let (c2, y2) = featured_graph(9, 11);
    let arg = |settings: &GwBarycenter, graphs: &[(Array2<f64>, Option<Array2<f64>>)]| match solve(
        settings, graphs,
    ) {
        Err(Error::InvalidParameter { arg, .. } | Error::Shape { arg, .. }) => arg,
        other => panic!("expected an error, got {other:?}"),
    };
    let both = [
        (c1.clone(), Some(y1.clone())),
        (c2.clone(), Some(y2.clone())),
    ];
    let plain = [(c1.clone(), None), (c2.clone(), None)];
    let base = GwBarycenter::new(5);
    assert_eq!(
        arg(&base, &[(c1.clone(), Some(y1.clone())), (c2.clone(), None)]),
        "inputs"
    );
    let narrow = y2.slice(ndarray::s![.., ..2]).to_owned();
    assert_eq!(
        arg(
            &base,
            &[(c1.clone(), Some(y1.clone())), (c2.clone(), Some(narrow))]
        ),
        "inputs"
    );
    let mut nan = y2.clone();
    nan[[3, 1]] = f64::NAN;
    assert_eq!(
        arg(
            &base,
            &[(c1.clone(), Some(y1.clone())), (c2.clone(), Some(nan))]
        ),
        "inputs"
    );
    let short = y2.slice(ndarray::s![..5, ..]).to_owned();
    assert_eq!(
        arg(
            &base,
            &[(c1.clone(), Some(y1.clone())), (c2.clone(), Some(short))]
        ),
        "inputs"
    );
    let alpha = GwBarycenter {
        alpha: 1.5,
        ..base.clone()
    };
    assert_eq!(arg(&alpha, &both), "alpha");
    let structure = GwBarycenter {
        fixed_structure: true,
        ..base.clone()
    };
    assert_eq!(arg(&structure, &both), "init");
    let features = GwBarycenter {
        fixed_features: true,
        ..base.clone()
    };
    assert_eq!(arg(&features, &both), "init_features");
    assert_eq!(arg(&features, &plain), "fixed_features");
    let shape = GwBarycenter {
        init_features: Some(Array2::zeros((5, 2))),
        ..base.clone()
    };
    assert_eq!(arg(&shape, &both), "init_features");
    assert_eq!(arg(&shape, &plain), "init_features");
}
