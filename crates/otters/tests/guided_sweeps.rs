//! Sweeps given a guess of their result (`softmin_near`) and fused Sinkhorn iterations
//! (`softmin_chain`) agree with the exact two-pass sweeps, whatever the guess: good, far
//! off, infinite or NaN, with zero weights (−∞ entries) and forbidden pairs (+∞ costs).

mod common;

use common::Rng;
use ndarray::Axis as NdAxis;
use ndarray::{Array1, Array2, ShapeBuilder};
use otters::geometry::{Axis, DenseCost, Geometry, PointCloud, SoftminChain};

fn max_rel_diff(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            if x == y {
                0.0
            } else {
                (x - y).abs() / x.abs().max(y.abs()).max(1.0)
            }
        })
        .fold(0.0, f64::max)
}

/// The guesses tried: exact, slightly off, far off (shift beyond e^±600), mixed with
/// non-finite entries.
fn guesses(exact: &Array1<f64>, eps: f64, rng: &mut Rng) -> Vec<(&'static str, Array1<f64>)> {
    let noisy = exact.mapv(|v| v + eps * (rng.uniform() - 0.5));
    let far = exact.mapv(|v| v + 900.0 * eps);
    let below = exact.mapv(|v| v - 900.0 * eps);
    let mut odd = noisy.clone();
    odd[0] = f64::NAN;
    if odd.len() > 2 {
        odd[1] = f64::INFINITY;
        odd[2] = f64::NEG_INFINITY;
    }
    vec![
        ("exact", exact.clone()),
        ("noisy", noisy),
        ("far above", far),
        ("far below", below),
        ("non-finite", odd),
    ]
}

fn geometries(
    rng: &mut Rng,
    n: usize,
    m: usize,
) -> (
    PointCloud<otters::geometry::SqEuclidean>,
    Array2<f64>,
    Array2<f64>,
) {
    let (x, y) = (rng.normal_matrix(n, 3), rng.normal_matrix(m, 3));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let mut c = cloud.cost_matrix(1 << 30).unwrap();
    c[[3, 5]] = f64::INFINITY;
    let mut f = Array2::zeros((n, m).f());
    f.assign(&c);
    (cloud, c, f)
}

#[test]
fn softmin_near_equals_softmin_for_any_guess() {
    let mut rng = Rng::new(5);
    let (n, m) = (137, 301);
    let (cloud, c, f) = geometries(&mut rng, n, m);
    let dense = DenseCost::new(c.view()).unwrap();
    let dense_f = DenseCost::new(f.view()).unwrap();
    for (name, g) in [
        ("cloud", &cloud as &dyn Geometry),
        ("dense", &dense),
        ("dense F", &dense_f),
    ] {
        for axis in [Axis::Rows, Axis::Cols] {
            let (n_out, n_red) = if axis == Axis::Rows { (n, m) } else { (m, n) };
            for eps in [1.0, 0.05, 0.002] {
                let mut h = Array1::from_shape_fn(n_red, |_| rng.normal());
                h[1] = f64::NEG_INFINITY;
                let mut exact = Array1::zeros(n_out);
                g.softmin(axis, eps, h.view(), exact.view_mut()).unwrap();
                for (kind, guess) in guesses(&exact, eps, &mut rng) {
                    let mut out = Array1::from_elem(n_out, 7.0);
                    g.softmin_near(axis, eps, h.view(), Some(guess.view()), out.view_mut())
                        .unwrap();
                    let diff = max_rel_diff(&exact, &out);
                    assert!(
                        diff < 1e-13,
                        "{name} {axis:?} eps={eps} guess {kind}: {diff:e}"
                    );
                }
            }
        }
    }
}

#[test]
fn softmin_chain_equals_two_sweeps() {
    let mut rng = Rng::new(9);
    let (n, m) = (211, 150);
    let (cloud, c, f) = geometries(&mut rng, n, m);
    let dense = DenseCost::new(c.view()).unwrap();
    let dense_f = DenseCost::new(f.view()).unwrap();
    let mut log_a = Array1::from_shape_fn(n, |_| (rng.uniform() + 0.1).ln());
    log_a[4] = f64::NEG_INFINITY;
    for (name, g) in [
        ("cloud", &cloud as &dyn Geometry),
        ("dense", &dense),
        ("dense F", &dense_f),
    ] {
        for (eps_rows, eps_cols) in [(0.1, 0.1), (0.5, 0.45), (0.01, 0.009)] {
            let h = Array1::from_shape_fn(m, |_| rng.normal());
            let link = |_: usize, i: usize, s: f64| {
                if log_a[i] == f64::NEG_INFINITY {
                    f64::NEG_INFINITY
                } else {
                    log_a[i] + 0.9 * s / eps_cols
                }
            };
            let mut s = Array1::zeros(n);
            g.softmin(Axis::Rows, eps_rows, h.view(), s.view_mut())
                .unwrap();
            let linked: Array1<f64> = s.iter().enumerate().map(|(i, &v)| link(0, i, v)).collect();
            let mut t = Array1::zeros(m);
            g.softmin(Axis::Cols, eps_cols, linked.view(), t.view_mut())
                .unwrap();
            for ((kind_r, gr), (kind_c, gc)) in guesses(&s, eps_rows, &mut rng)
                .into_iter()
                .zip(guesses(&t, eps_cols, &mut rng))
            {
                for guess_rows in [None, Some(gr.view().insert_axis(NdAxis(0)))] {
                    let chain = SoftminChain {
                        eps_rows,
                        h: h.view().insert_axis(NdAxis(0)),
                        guess_rows,
                        link: &link,
                        eps_cols,
                        guess_cols: Some(gc.view().insert_axis(NdAxis(0))),
                    };
                    let (mut s2, mut t2) = (Array1::zeros(n), Array1::zeros(m));
                    g.softmin_chain(
                        &chain,
                        s2.view_mut().insert_axis(NdAxis(0)),
                        t2.view_mut().insert_axis(NdAxis(0)),
                    )
                    .unwrap();
                    let (ds, dt) = (max_rel_diff(&s, &s2), max_rel_diff(&t, &t2));
                    assert!(
                        ds < 1e-13 && dt < 1e-13,
                        "{name} eps=({eps_rows},{eps_cols}) guesses {kind_r}/{kind_c}: {ds:e} {dt:e}"
                    );
                }
            }
        }
    }
}

#[test]
fn chain_propagates_a_nan_link() {
    let mut rng = Rng::new(2);
    let c = rng.uniform_matrix(40, 30);
    let dense = DenseCost::new(c.view()).unwrap();
    let h = Array1::zeros(30);
    let link = |_: usize, i: usize, _s: f64| if i == 7 { f64::NAN } else { 0.0 };
    let guess = Array1::zeros(30);
    let chain = SoftminChain {
        eps_rows: 0.1,
        h: h.view().insert_axis(NdAxis(0)),
        guess_rows: None,
        link: &link,
        eps_cols: 0.1,
        guess_cols: Some(guess.view().insert_axis(NdAxis(0))),
    };
    let (mut s, mut t) = (Array1::zeros(40), Array1::zeros(30));
    dense
        .softmin_chain(
            &chain,
            s.view_mut().insert_axis(NdAxis(0)),
            t.view_mut().insert_axis(NdAxis(0)),
        )
        .unwrap();
    assert!(s.iter().all(|v| v.is_finite()));
    assert!(t.iter().all(|v| v.is_nan()), "{t}");
}
