//! `Grid` against `DenseCost` on the same cost, built independently from the coordinates:
//! every sweep, and the Sinkhorn potentials and costs, agree to 1e-10.

use ndarray::{Array1, Array2, ArrayView1, array};
use otters::geometry::{Axis, DenseCost, Geometry, Grid, LogPlan};
use otters::linear::{Acceleration, Epsilon, LinearProblem, Sinkhorn};

/// `C_ij = Σ_d |x_{i,d} − y_{j,d}|^p` over row-major grid points, computed point by point.
fn dense_cost(x_axes: &[Array1<f64>], y_axes: &[Array1<f64>], p: f64) -> Array2<f64> {
    let points = |axes: &[Array1<f64>]| -> Vec<Vec<f64>> {
        let mut pts: Vec<Vec<f64>> = vec![vec![]];
        for axis in axes {
            pts = pts
                .iter()
                .flat_map(|pt| {
                    axis.iter().map(move |&c| {
                        let mut q = pt.clone();
                        q.push(c);
                        q
                    })
                })
                .collect();
        }
        pts
    };
    let (px, py) = (points(x_axes), points(y_axes));
    Array2::from_shape_fn((px.len(), py.len()), |(i, j)| {
        px[i]
            .iter()
            .zip(&py[j])
            .map(|(a, b)| (a - b).abs().powf(p))
            .sum()
    })
}

/// Deterministic positive weights with total mass one.
fn weights(n: usize, seed: f64) -> Array1<f64> {
    let w = Array1::from_shape_fn(n, |i| 1.0 + 0.7 * ((i as f64 + 1.0) * seed).sin());
    let s = w.sum();
    w / s
}

/// Source axes, target axes, exponent.
type Case = (Vec<Array1<f64>>, Vec<Array1<f64>>, f64);

fn cases() -> Vec<Case> {
    let irregular = array![0.0, 0.1, 0.35, 0.4, 0.9];
    vec![
        // 1-D, different source and target axes.
        (
            vec![Array1::linspace(0.0, 1.0, 7)],
            vec![array![-0.2, 0.3, 0.5, 1.4]],
            2.0,
        ),
        // 2-D, non-square, one grid.
        (
            vec![Array1::linspace(0.0, 1.0, 4), irregular.clone()],
            vec![Array1::linspace(0.0, 1.0, 4), irregular.clone()],
            2.0,
        ),
        // 2-D between two grids, p = 1.
        (
            vec![Array1::linspace(0.0, 1.0, 3), irregular.clone()],
            vec![array![0.2, 0.8], Array1::linspace(-0.5, 0.5, 6)],
            1.0,
        ),
        // 3-D, non-square, p = 1.5.
        (
            vec![
                Array1::linspace(0.0, 1.0, 3),
                array![0.0, 0.5],
                Array1::linspace(0.0, 2.0, 4),
            ],
            vec![
                Array1::linspace(0.0, 1.0, 3),
                array![0.0, 0.5],
                Array1::linspace(0.0, 2.0, 4),
            ],
            1.5,
        ),
    ]
}

fn grid_of(x: &[Array1<f64>], y: &[Array1<f64>], p: f64) -> Grid {
    let xv: Vec<ArrayView1<'_, f64>> = x.iter().map(|a| a.view()).collect();
    let yv: Vec<ArrayView1<'_, f64>> = y.iter().map(|a| a.view()).collect();
    Grid::between(&xv, &yv, p).unwrap()
}

fn assert_close(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>, tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn grid_sweeps_equal_dense_sweeps() {
    for (x, y, p) in cases() {
        let grid = grid_of(&x, &y, p);
        let cost = dense_cost(&x, &y, p);
        let dense = DenseCost::new(cost.view()).unwrap();
        assert_eq!(grid.shape(), dense.shape());
        let (n, m) = grid.shape();
        assert_eq!(grid.cost_matrix(1 << 24).unwrap(), cost);
        let (s_g, s_d) = (grid.summary(), dense.summary());
        assert!((s_g.max - s_d.max).abs() < 1e-12);
        assert!((s_g.mean - s_d.mean).abs() < 1e-12);
        assert!((s_g.std - s_d.std).abs() < 1e-12);

        let eps = 0.07;
        let h_m = Array1::from_shape_fn(m, |j| (j as f64 * 0.37).cos());
        let h_n = Array1::from_shape_fn(n, |i| (i as f64 * 0.71).sin());
        // ε = 1e-4 underflows most kernel entries (e^{-C/ε}): the exact fallback must agree.
        for eps in [eps, 1e-4] {
            for (axis, h, len) in [(Axis::Rows, &h_m, n), (Axis::Cols, &h_n, m)] {
                let (mut a, mut b) = (Array1::zeros(len), Array1::zeros(len));
                grid.softmin(axis, eps, h.view(), a.view_mut()).unwrap();
                dense.softmin(axis, eps, h.view(), b.view_mut()).unwrap();
                assert_close(a.view(), b.view(), 1e-12, "softmin");
            }
        }
        // A −∞ entry (zero weight) is skipped by both.
        let mut h_inf = h_m.clone();
        h_inf[0] = f64::NEG_INFINITY;
        let (mut a, mut b) = (Array1::zeros(n), Array1::zeros(n));
        grid.softmin(Axis::Rows, eps, h_inf.view(), a.view_mut())
            .unwrap();
        dense
            .softmin(Axis::Rows, eps, h_inf.view(), b.view_mut())
            .unwrap();
        assert_close(a.view(), b.view(), 1e-12, "softmin with -inf");

        let plan = LogPlan {
            log_row: h_n.view(),
            log_col: h_m.view(),
            epsilon: 0.5,
        };
        let v_m = Array2::from_shape_fn((m, 2), |(j, c)| ((j + 3 * c) as f64 * 0.9).sin());
        let v_n = Array2::from_shape_fn((n, 2), |(i, c)| ((i + 5 * c) as f64 * 0.4).cos());
        for (axis, v, len) in [(Axis::Rows, &v_m, n), (Axis::Cols, &v_n, m)] {
            let (mut a, mut b) = (Array2::zeros((len, 2)), Array2::zeros((len, 2)));
            grid.apply_plan(axis, &plan, v.view(), a.view_mut())
                .unwrap();
            dense
                .apply_plan(axis, &plan, v.view(), b.view_mut())
                .unwrap();
            for c in 0..2 {
                assert_close(a.column(c), b.column(c), 1e-11, "apply_plan");
            }
            grid.apply_cost(axis, v.view(), a.view_mut()).unwrap();
            dense.apply_cost(axis, v.view(), b.view_mut()).unwrap();
            for c in 0..2 {
                assert_close(a.column(c), b.column(c), 1e-11, "apply_cost");
            }
            grid.apply_square_cost(axis, v.view(), a.view_mut())
                .unwrap();
            dense
                .apply_square_cost(axis, v.view(), b.view_mut())
                .unwrap();
            for c in 0..2 {
                assert_close(a.column(c), b.column(c), 1e-11, "apply_square_cost");
            }
        }
        let (dot_g, dot_d) = (
            grid.plan_dot_cost(&plan).unwrap(),
            dense.plan_dot_cost(&plan).unwrap(),
        );
        assert!(
            (dot_g - dot_d).abs() < 1e-11 * dot_d.abs(),
            "{dot_g} vs {dot_d}"
        );
        let (pg, pd) = (
            grid.plan_matrix(&plan, 1 << 24).unwrap(),
            dense.plan_matrix(&plan, 1 << 24).unwrap(),
        );
        assert!(
            pg.iter()
                .zip(&pd)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs())
        );

        let (rows, cols) = (vec![n - 1, 0, n / 2, 0], vec![m / 3, m - 1]);
        let mut block = Array2::zeros((4, 2));
        grid.cost_block(&rows, &cols, block.view_mut()).unwrap();
        for (p, &i) in rows.iter().enumerate() {
            for (q, &j) in cols.iter().enumerate() {
                assert_eq!(block[[p, q]], cost[[i, j]]);
            }
        }
    }
}

#[test]
fn grid_sinkhorn_equals_dense_sinkhorn() {
    for (x, y, p) in cases() {
        let grid = grid_of(&x, &y, p);
        let cost = dense_cost(&x, &y, p);
        let dense = DenseCost::new(cost.view()).unwrap();
        let (n, m) = grid.shape();
        let (a, b) = (weights(n, 0.9), weights(m, 1.7));
        let solver = Sinkhorn {
            threshold: 1e-13,
            max_iterations: 100_000,
            acceleration: Acceleration::None,
            ..Sinkhorn::new(Epsilon::Absolute(0.05))
        };
        let pg = LinearProblem::new(&grid, a.clone(), b.clone()).unwrap();
        let pd = LinearProblem::new(&dense, a, b).unwrap();
        let (og, od) = (solver.solve(&pg).unwrap(), solver.solve(&pd).unwrap());
        assert!(og.converged() && od.converged());
        assert_close(og.f(), od.f(), 1e-10, "f");
        assert_close(og.g(), od.g(), 1e-10, "g");
        assert!((og.reg_ot_cost() - od.reg_ot_cost()).abs() < 1e-10);
        let (lg, ld) = (og.linear_cost(&pg).unwrap(), od.linear_cost(&pd).unwrap());
        assert!((lg - ld).abs() < 1e-10, "{lg} vs {ld}");
    }
}

#[test]
fn grid_rejects_bad_axes_naming_the_argument() {
    let ok = Array1::linspace(0.0, 1.0, 3);
    let empty = Array1::<f64>::zeros(0);
    let nan = array![0.0, f64::NAN];
    let err = Grid::new(&[]).unwrap_err();
    assert!(err.to_string().contains("x_axes"), "{err}");
    let err = Grid::new(&[ok.view(), empty.view()]).unwrap_err();
    assert!(err.to_string().contains("x_axes"), "{err}");
    let err = Grid::between(&[ok.view()], &[nan.view()], 2.0).unwrap_err();
    assert!(err.to_string().contains("y_axes"), "{err}");
    let err = Grid::between(&[ok.view()], &[ok.view(), ok.view()], 2.0).unwrap_err();
    assert!(err.to_string().contains("y_axes"), "{err}");
    for p in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = Grid::with_power(&[ok.view()], p).unwrap_err();
        assert!(err.to_string().contains("power"), "{err}");
    }
    let grid = Grid::new(&[ok.view()]).unwrap();
    let mut out = Array1::zeros(2);
    let err = grid
        .softmin(Axis::Rows, 0.1, ok.view(), out.view_mut())
        .unwrap_err();
    assert!(err.to_string().contains("out"), "{err}");
    let mut out = Array1::zeros(3);
    let err = grid
        .softmin(Axis::Rows, 0.0, ok.view(), out.view_mut())
        .unwrap_err();
    assert!(err.to_string().contains("epsilon"), "{err}");
    let err = grid.cost_matrix(8).unwrap_err();
    assert!(matches!(err, otters::Error::TooLarge { .. }));
}
