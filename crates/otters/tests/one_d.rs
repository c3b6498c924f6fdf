//! 1-D OT against POT `wasserstein_1d` and SciPy fixtures (`testdata/pot_1d.json`), against
//! the network simplex on the same problems, and sliced / max-sliced distances against
//! closed forms.

mod common;

use common::{Rng, assert_close, testdata};
use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::geometry::{Custom, DenseCost, Geometry, PointCloud};
use otters::linear::{
    LinearProblem, NetworkSimplex, ot_1d, ot_1d_potentials, random_directions, sliced_wasserstein,
    wasserstein_1d, wasserstein_1d_batch,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    x: Vec<f64>,
    y: Vec<f64>,
    a: Option<Vec<f64>>,
    b: Option<Vec<f64>>,
    p: f64,
    value: f64,
}

#[test]
fn matches_pot_wasserstein_1d_on_every_fixture() {
    let text = std::fs::read_to_string(testdata("pot_1d.json")).expect("testdata/pot_1d.json");
    let fixtures: Fixtures = serde_json::from_str(&text).unwrap();
    assert!(fixtures.cases.len() >= 40);
    for case in &fixtures.cases {
        let (x, y) = (Array1::from(case.x.clone()), Array1::from(case.y.clone()));
        let a = case.a.clone().map(Array1::from);
        let b = case.b.clone().map(Array1::from);
        let got = wasserstein_1d(
            x.view(),
            y.view(),
            a.as_ref().map(|a| a.view()),
            b.as_ref().map(|b| b.view()),
            case.p,
        )
        .unwrap();
        assert_close(got, case.value, 1e-10, &case.name);
        let out = ot_1d(
            x.view(),
            y.view(),
            a.as_ref().map(|a| a.view()),
            b.as_ref().map(|b| b.view()),
            case.p,
        )
        .unwrap();
        assert_close(
            out.cost,
            case.value,
            1e-10,
            &format!("{} (with plan)", case.name),
        );
        assert!(out.plan.nnz() < x.len() + y.len());
        let wa = a
            .clone()
            .unwrap_or_else(|| Array1::from_elem(x.len(), 1.0 / x.len() as f64));
        let wb = b
            .clone()
            .unwrap_or_else(|| Array1::from_elem(y.len(), 1.0 / y.len() as f64));
        assert!(
            (&out.plan.row_sums() - &wa).mapv(f64::abs).sum() < 1e-12,
            "{}: row marginal",
            case.name
        );
        assert!(
            (&out.plan.col_sums() - &wb).mapv(f64::abs).sum() < 1e-12,
            "{}: column marginal",
            case.name
        );
    }
}

#[test]
fn the_sorted_plan_is_optimal_for_the_linear_program() {
    let mut rng = Rng::new(1);
    for (n, m, p) in [(17, 23, 1.0), (30, 30, 2.0), (25, 11, 1.5)] {
        let x = Array2::from_shape_fn((n, 1), |_| rng.normal());
        let y = Array2::from_shape_fn((m, 1), |_| rng.normal() + 0.3);
        let (a, b) = (rng.weights(n, 1.0), rng.weights(m, 1.0));
        let cost = Custom::new(move |u: &[f64], v: &[f64]| (u[0] - v[0]).abs().powf(p));
        let c = PointCloud::new(x.view(), y.view(), cost)
            .unwrap()
            .cost_matrix(1 << 30)
            .unwrap();
        let geom = DenseCost::new(c.view()).unwrap();
        let lp = NetworkSimplex::default()
            .solve(&LinearProblem::new(&geom, a.view(), b.view()).unwrap())
            .unwrap();
        let one_d =
            wasserstein_1d(x.column(0), y.column(0), Some(a.view()), Some(b.view()), p).unwrap();
        assert_close(one_d, lp.cost(), 1e-12, &format!("1-D vs LP, p = {p}"));
    }
}

/// Two affine images of the same symmetric sample, x = m₁ + s₁z and y = m₂ + s₂z, are
/// matched in sorted order, so W₂² = (m₁ − m₂)² + (s₁ − s₂)²·mean(z²) exactly (the Gaussian
/// formula (m₁ − m₂)² + (s₁ − s₂)² as mean(z²) → 1).
#[test]
fn affine_images_of_one_sample_give_the_gaussian_formula() {
    let mut rng = Rng::new(4);
    let half: Vec<f64> = (0..5000).map(|_| rng.normal()).collect();
    let z: Vec<f64> = half
        .iter()
        .copied()
        .chain(half.iter().map(|v| -v))
        .collect();
    let second_moment = z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64;
    let x = Array1::from_iter(z.iter().map(|v| 1.0 + 0.5 * v));
    // Shuffle y so that the sort is exercised.
    let mut y: Vec<f64> = z.iter().map(|v| -2.0 + 3.0 * v).collect();
    for i in (1..y.len()).rev() {
        y.swap(i, (rng.uniform() * (i + 1) as f64) as usize);
    }
    let w2 = wasserstein_1d(x.view(), Array1::from(y).view(), None, None, 2.0).unwrap();
    assert_close(
        w2,
        9.0 + 2.5 * 2.5 * second_moment,
        1e-12,
        "W₂² of affine images",
    );
    assert_close(second_moment, 1.0, 0.05, "a standard normal sample");
}

#[test]
fn batched_problems_equal_one_by_one() {
    let mut rng = Rng::new(2);
    let (x, y) = (rng.normal_matrix(40, 5), rng.normal_matrix(33, 5));
    let b = rng.weights(33, 1.0);
    let batch = wasserstein_1d_batch(x.view(), y.view(), None, Some(b.view()), 2.0).unwrap();
    for c in 0..5 {
        assert_eq!(
            batch[c],
            wasserstein_1d(x.column(c), y.column(c), None, Some(b.view()), 2.0).unwrap()
        );
    }
    assert!(matches!(
        wasserstein_1d_batch(x.view(), y.slice(ndarray::s![.., ..3]), None, None, 2.0),
        Err(Error::Shape { arg: "y", .. })
    ));
}

#[test]
fn sliced_distances_of_a_translation_have_closed_forms() {
    let mut rng = Rng::new(3);
    let x = rng.normal_matrix(300, 3);
    let t = array![1.0, -2.0, 0.5];
    let y = &x + &t;
    let norm_t = t.dot(&t).sqrt();
    let dirs = random_directions(2000, 3, 42).unwrap();
    let out = sliced_wasserstein(x.view(), y.view(), None, None, 2.0, dirs.view()).unwrap();
    // Every projection of a translation costs (θ·t)², so SW₂² = E(θ·t)² = |t|²/d.
    for (k, theta) in dirs.outer_iter().enumerate() {
        assert_close(out.projected[k], theta.dot(&t).powi(2), 1e-9, "projection");
    }
    assert_close(out.sliced.powi(2), norm_t * norm_t / 3.0, 0.05, "SW₂²");
    assert!(
        out.max_sliced <= norm_t + 1e-12 && out.max_sliced > 0.99 * norm_t,
        "max-SW ≈ |t|"
    );
    assert_eq!(out.max_sliced, out.projected[out.argmax].sqrt());
    // Along one given direction, sliced = max-sliced = 1-D on that coordinate.
    let e1 = array![[2.0, 0.0, 0.0]];
    let single = sliced_wasserstein(x.view(), y.view(), None, None, 1.0, e1.view()).unwrap();
    let direct = wasserstein_1d(x.column(0), y.column(0), None, None, 1.0).unwrap();
    assert_close(single.sliced, direct, 1e-12, "one direction");
    assert_eq!(single.sliced, single.max_sliced);
}

#[test]
fn random_directions_are_seeded_unit_vectors() {
    let d1 = random_directions(50, 4, 7).unwrap();
    assert_eq!(d1, random_directions(50, 4, 7).unwrap());
    assert_ne!(d1, random_directions(50, 4, 8).unwrap());
    for row in d1.outer_iter() {
        assert!((row.dot(&row) - 1.0).abs() < 1e-14);
    }
    assert!(random_directions(0, 4, 1).is_err());
}

#[test]
fn bad_inputs_are_refused() {
    let (x, y) = (array![0.0, 1.0], array![0.5]);
    assert!(matches!(
        wasserstein_1d(Array1::zeros(0).view(), y.view(), None, None, 1.0),
        Err(Error::Empty { arg: "x", .. })
    ));
    assert!(matches!(
        wasserstein_1d(array![f64::NAN].view(), y.view(), None, None, 1.0),
        Err(Error::NonFinite { arg: "x", .. })
    ));
    assert!(matches!(
        wasserstein_1d(x.view(), y.view(), Some(array![1.0].view()), None, 1.0),
        Err(Error::Shape { arg: "a", .. })
    ));
    assert!(matches!(
        wasserstein_1d(
            x.view(),
            y.view(),
            Some(array![0.5, -0.5].view()),
            None,
            1.0
        ),
        Err(Error::NegativeWeight { arg: "a", .. })
    ));
    assert!(matches!(
        wasserstein_1d(
            x.view(),
            y.view(),
            Some(array![0.5, 1.0].view()),
            Some(array![1.0].view()),
            1.0
        ),
        Err(Error::MassMismatch { .. })
    ));
    for p in [0.5, f64::NAN, f64::INFINITY] {
        assert_eq!(
            wasserstein_1d(x.view(), y.view(), None, None, p)
                .unwrap_err()
                .argument(),
            Some("p")
        );
    }
    let cloud = array![[0.0, 1.0]];
    let err = sliced_wasserstein(
        cloud.view(),
        array![[0.0, 1.0, 2.0]].view(),
        None,
        None,
        2.0,
        array![[1.0, 0.0]].view(),
    )
    .unwrap_err();
    assert_eq!(err.argument(), Some("y"));
    let err = sliced_wasserstein(
        cloud.view(),
        cloud.view(),
        None,
        None,
        2.0,
        array![[0.0, 0.0]].view(),
    )
    .unwrap_err();
    assert_eq!(err.argument(), Some("directions"));
    // Zero weights are fine; equal clouds are at distance 0.
    let w = wasserstein_1d(
        x.view(),
        x.view(),
        Some(array![0.0, 1.0].view()),
        Some(array![0.0, 1.0].view()),
        2.0,
    )
    .unwrap();
    assert_eq!(w, 0.0);
    let _ = PointCloud::sq_euclidean(cloud.view(), cloud.view())
        .unwrap()
        .shape();
}

#[test]
fn potentials_are_feasible_and_close_the_gap() {
    // Random supports with ties (rounded values), random weights with zeros, n ≠ m,
    // several exponents: f_i + g_j ≤ |x_i − y_j|^p everywhere and ⟨a, f⟩ + ⟨b, g⟩ = W_p^p.
    let mut rng = Rng::new(77);
    for (case, (n, m, p)) in [(40, 40, 2.0), (37, 53, 1.0), (60, 25, 1.5), (30, 30, 3.0)]
        .into_iter()
        .enumerate()
    {
        let x: Array1<f64> = (0..n).map(|_| (rng.normal() * 4.0).round() / 4.0).collect();
        let y: Array1<f64> = (0..m)
            .map(|_| (rng.normal() * 4.0).round() / 4.0 + 0.3)
            .collect();
        let mut a = rng.weights(n, 2.0);
        if case % 2 == 0 {
            a[3] = 0.0;
            a[7] = 0.0;
        }
        let a = &a * (2.0 / a.sum());
        let b = if case == 0 {
            Array1::from_elem(m, 2.0 / m as f64)
        } else {
            rng.weights(m, 2.0)
        };
        let (f, g) =
            ot_1d_potentials(x.view(), y.view(), Some(a.view()), Some(b.view()), p).unwrap();
        let mut worst = f64::NEG_INFINITY;
        for i in 0..n {
            for j in 0..m {
                worst = worst.max(f[i] + g[j] - (x[i] - y[j]).abs().powf(p));
            }
        }
        assert!(
            worst <= 1e-9,
            "case {case}: a constraint is violated by {worst:e}"
        );
        let w = wasserstein_1d(x.view(), y.view(), Some(a.view()), Some(b.view()), p).unwrap();
        assert_close(
            a.dot(&f) + b.dot(&g),
            w,
            1e-10,
            &format!("case {case}: zero duality gap"),
        );
    }
    // Uniform weights of equal counts tie at every step: still feasible and tight.
    let x = array![0.0, 1.0, 2.0, 3.0];
    let y = array![0.5, 2.5, 1.5, 3.5];
    let (f, g) = ot_1d_potentials(x.view(), y.view(), None, None, 2.0).unwrap();
    let w = wasserstein_1d(x.view(), y.view(), None, None, 2.0).unwrap();
    assert_close((f.sum() + g.sum()) / 4.0, w, 1e-12, "uniform ties");
    assert!(ot_1d_potentials(x.view(), y.view(), None, None, 0.5).is_err());
}
