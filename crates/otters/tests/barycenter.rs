//! Fixed-support entropic barycenters: closed forms (one effective input), symmetry,
//! marginals of the returned plans, Grid = DenseCost, and bad inputs.

use ndarray::{Array1, Array2, array};
use otters::barycenter::{BarycenterInput, FixedSupportBarycenter};
use otters::geometry::{DenseCost, Geometry, Grid, LogPlan};

fn line_cost(x: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((x.len(), x.len()), |(i, j)| (x[i] - x[j]).powi(2))
}

fn bump(x: &Array1<f64>, center: f64, width: f64) -> Array1<f64> {
    let w = x.mapv(|t| (-(t - center).powi(2) / width).exp() + 1e-3);
    let s = w.sum();
    w / s
}

/// `Kᵀ(a ⊘ K1)`: the column marginal of the entropic projection of `a` with a free column
/// marginal, the barycenter when every input with positive weight equals `a`.
fn free_projection(cost: &Array2<f64>, a: &Array1<f64>, eps: f64) -> Array1<f64> {
    let k = cost.mapv(|c| (-c / eps).exp());
    let row_sums = k.sum_axis(ndarray::Axis(1));
    k.t().dot(&(a / &row_sums))
}

fn solver(eps: f64) -> FixedSupportBarycenter {
    FixedSupportBarycenter {
        threshold: 1e-13,
        max_iterations: 100_000,
        ..FixedSupportBarycenter::new(eps)
    }
}

#[test]
fn identical_inputs_give_their_entropic_projection() {
    let x = Array1::linspace(0.0, 1.0, 30);
    let cost = line_cost(&x);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a = bump(&x, 0.3, 0.02);
    let inputs = [
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, a.view()),
    ];
    let eps = 0.01;
    let out = solver(eps)
        .solve(&inputs, Some(array![0.2, 0.5, 0.3].view()))
        .unwrap();
    assert!(out.converged());
    let expected = free_projection(&cost, &a, eps);
    for (b, e) in out.barycenter().iter().zip(&expected) {
        assert!((b - e).abs() < 1e-12, "{b} vs {e}");
    }
}

#[test]
fn weights_one_zero_give_the_first_inputs_projection() {
    let x = Array1::linspace(0.0, 1.0, 25);
    let cost = line_cost(&x);
    let geom = DenseCost::new(cost.view()).unwrap();
    let (a1, a2) = (bump(&x, 0.2, 0.01), bump(&x, 0.8, 0.03));
    let inputs = [
        BarycenterInput::new(&geom, a1.view()),
        BarycenterInput::new(&geom, a2.view()),
    ];
    let eps = 0.02;
    let out = solver(eps)
        .solve(&inputs, Some(array![1.0, 0.0].view()))
        .unwrap();
    assert!(out.converged());
    let expected = free_projection(&cost, &a1, eps);
    for (b, e) in out.barycenter().iter().zip(&expected) {
        assert!((b - e).abs() < 1e-12, "{b} vs {e}");
    }
}

#[test]
fn mirrored_inputs_give_a_symmetric_barycenter_and_consistent_plans() {
    let x = Array1::linspace(-1.0, 1.0, 41);
    let cost = line_cost(&x);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a1 = bump(&x, -0.6, 0.02);
    let a2: Array1<f64> = a1.iter().rev().copied().collect();
    let inputs = [
        BarycenterInput::new(&geom, a1.view()),
        BarycenterInput::new(&geom, a2.view()),
    ];
    let eps = 0.01;
    let out = solver(eps).solve(&inputs, None).unwrap();
    assert!(out.converged());
    let b = out.barycenter();
    let n = b.len();
    for j in 0..n {
        assert!((b[j] - b[n - 1 - j]).abs() < 1e-12);
    }
    // The mass moves to the middle: most of it within 0.25 of 0.
    let central: f64 = (0..n).filter(|&j| x[j].abs() < 0.25).map(|j| b[j]).sum();
    assert!(central > 0.9, "{central}");
    assert!((b.sum() - 1.0).abs() < 1e-10);
    // Each plan has its input as row marginal and the barycenter as column marginal.
    for (k, a) in [&a1, &a2].into_iter().enumerate() {
        let (u, v) = out.log_scalings(k).unwrap();
        let plan = LogPlan {
            log_row: u,
            log_col: v,
            epsilon: eps,
        };
        let p = geom.plan_matrix(&plan, 1 << 24).unwrap();
        let rows = p.sum_axis(ndarray::Axis(1));
        let cols = p.sum_axis(ndarray::Axis(0));
        assert!(rows.iter().zip(a).all(|(r, a)| (r - a).abs() < 1e-12));
        assert!(cols.iter().zip(b).all(|(c, b)| (c - b).abs() < 1e-10));
    }
    assert!(out.log_scalings(2).is_none());
}

#[test]
fn inputs_on_different_supports() {
    // Inputs on 3 and 4 points, barycenter on 5: the costs are 3 × 5 and 4 × 5.
    let y = Array1::linspace(0.0, 1.0, 5);
    let (x1, x2): (Array1<f64>, Array1<f64>) = (array![0.0, 0.1, 0.2], array![0.7, 0.8, 0.9, 1.0]);
    let c1 = Array2::from_shape_fn((3, 5), |(i, j)| (x1[i] - y[j]).powi(2));
    let c2 = Array2::from_shape_fn((4, 5), |(i, j)| (x2[i] - y[j]).powi(2));
    let (g1, g2) = (
        DenseCost::new(c1.view()).unwrap(),
        DenseCost::new(c2.view()).unwrap(),
    );
    let (a1, a2) = (Array1::from_elem(3, 1.0 / 3.0), Array1::from_elem(4, 0.25));
    let inputs = [
        BarycenterInput::new(&g1, a1.view()),
        BarycenterInput::new(&g2, a2.view()),
    ];
    let out = solver(0.01)
        .solve(&inputs, Some(array![1.0, 0.0].view()))
        .unwrap();
    assert!(out.converged());
    let expected = free_projection(&c1, &a1, 0.01);
    for (b, e) in out.barycenter().iter().zip(&expected) {
        assert!((b - e).abs() < 1e-12, "{b} vs {e}");
    }
}

#[test]
fn grid_barycenter_equals_dense_barycenter() {
    let (r, c) = (Array1::linspace(0.0, 1.0, 6), Array1::linspace(0.0, 1.0, 7));
    let grid = Grid::new(&[r.view(), c.view()]).unwrap();
    let cost = grid.cost_matrix(1 << 24).unwrap();
    let dense = DenseCost::new(cost.view()).unwrap();
    let n = 42;
    let measure = |s: f64| {
        let w = Array1::from_shape_fn(n, |i| 1.0 + ((i as f64 + 1.0) * s).sin().powi(2) * 3.0);
        let t = w.sum();
        w / t
    };
    let (a1, a2, a3) = (measure(0.3), measure(1.1), measure(2.3));
    let lambdas = array![0.5, 0.3, 0.2];
    let on = |geom: &dyn Geometry| {
        let inputs = [
            BarycenterInput::new(geom, a1.view()),
            BarycenterInput::new(geom, a2.view()),
            BarycenterInput::new(geom, a3.view()),
        ];
        solver(0.03).solve(&inputs, Some(lambdas.view())).unwrap()
    };
    let (og, od) = (on(&grid), on(&dense));
    assert!(og.converged() && od.converged());
    for (x, y) in og.barycenter().iter().zip(od.barycenter()) {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
}

#[test]
fn bad_inputs_are_named() {
    let x = Array1::linspace(0.0, 1.0, 4);
    let cost = line_cost(&x);
    let geom = DenseCost::new(cost.view()).unwrap();
    let a = Array1::from_elem(4, 0.25);
    let short = Array1::from_elem(3, 1.0 / 3.0);
    let heavy = Array1::from_elem(4, 0.5);
    let negative = array![0.5, 0.5, 0.5, -0.5];
    let ok = [
        BarycenterInput::new(&geom, a.view()),
        BarycenterInput::new(&geom, a.view()),
    ];
    let s = FixedSupportBarycenter::new(0.1);
    let msg = |r: otters::Result<_>| {
        r.map(|_: otters::barycenter::BarycenterOutput| ())
            .unwrap_err()
            .to_string()
    };
    assert!(msg(s.solve(&[], None)).contains("inputs"));
    assert!(
        msg(s.solve(&[BarycenterInput::new(&geom, short.view())], None)).contains("inputs.weights")
    );
    assert!(
        msg(s.solve(&[ok[0], BarycenterInput::new(&geom, heavy.view())], None)).contains("sum")
    );
    assert!(
        msg(s.solve(&[BarycenterInput::new(&geom, negative.view())], None))
            .contains("inputs.weights")
    );
    assert!(msg(s.solve(&ok, Some(array![1.0].view()))).contains("lambdas"));
    assert!(msg(s.solve(&ok, Some(array![1.0, -1.0].view()))).contains("lambdas"));
    assert!(msg(s.solve(&ok, Some(array![0.0, 0.0].view()))).contains("lambdas"));
    for eps in [0.0, -1.0, f64::NAN] {
        assert!(msg(FixedSupportBarycenter::new(eps).solve(&ok, None)).contains("epsilon"));
    }
    let bad = FixedSupportBarycenter {
        threshold: f64::NAN,
        ..s
    };
    assert!(msg(bad.solve(&ok, None)).contains("threshold"));
    let bad = FixedSupportBarycenter {
        max_iterations: 0,
        ..s
    };
    assert!(msg(bad.solve(&ok, None)).contains("max_iterations"));
    // Different barycenter supports.
    let wide = Array2::<f64>::zeros((4, 5));
    let wide = DenseCost::new(wide.view()).unwrap();
    assert!(msg(s.solve(&[ok[0], BarycenterInput::new(&wide, a.view())], None)).contains("inputs"));
    // A budget too small is reported, not an error.
    let tight = FixedSupportBarycenter {
        max_iterations: 1,
        threshold: 0.0,
        ..s
    };
    let x2: Array1<f64> = array![0.7, 0.1, 0.1, 0.1];
    let out = tight
        .solve(&[ok[0], BarycenterInput::new(&geom, x2.view())], None)
        .unwrap();
    assert!(!out.converged());
    assert_eq!(out.iterations(), 1);
    assert!(out.barycenter().iter().all(|v| v.is_finite()));
}
