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
fn inputs_sharing_one_cost_are_swept_together_with_the_same_bits() {
    // One geometry for all inputs (batched sweeps) against one copy per input (one chain
    // per input): the same iterates, bit for bit, in the three variants.
    let x = Array1::linspace(0.0, 1.0, 60);
    let cost = line_cost(&x);
    let shared = DenseCost::new(cost.view()).unwrap();
    let copies: Vec<DenseCost> = (0..3)
        .map(|_| DenseCost::new(cost.view()).unwrap())
        .collect();
    let hs = [
        bump(&x, 0.2, 0.01),
        bump(&x, 0.5, 0.03),
        bump(&x, 0.8, 0.005) * 1.5,
    ];
    let together: Vec<_> = hs
        .iter()
        .map(|h| BarycenterInput::new(&shared, h.view()))
        .collect();
    let apart: Vec<_> = hs
        .iter()
        .zip(&copies)
        .map(|(h, g)| BarycenterInput::new(g, h.view()))
        .collect();
    let lambdas = array![0.2, 0.5, 0.3];
    let base = FixedSupportBarycenter {
        threshold: 1e-10,
        ..FixedSupportBarycenter::new(2e-3)
    };
    let unbalanced = FixedSupportBarycenter { rho: 0.5, ..base };
    for variant in ["balanced", "unbalanced", "debiased"] {
        let solve = |inputs: &[BarycenterInput<'_>]| match variant {
            // (Balanced inputs need equal masses: the first two.)
            "balanced" => base.solve(&inputs[..2], None),
            "unbalanced" => unbalanced.solve(inputs, Some(lambdas.view())),
            _ => base.solve_debiased(&inputs[..2], None, &shared),
        };
        let (a, b) = (solve(&together).unwrap(), solve(&apart).unwrap());
        assert_eq!(a.iterations(), b.iterations(), "{variant}");
        assert!(a.iterations() > 10, "{variant}");
        for (u, v) in a.barycenter().iter().zip(b.barycenter()) {
            assert_eq!(u.to_bits(), v.to_bits(), "{variant}");
        }
        let used = if variant == "unbalanced" { 3 } else { 2 };
        for k in 0..used {
            assert_eq!(a.log_scalings(k), b.log_scalings(k), "{variant}");
        }
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

mod free_support {
    use ndarray::{Array1, Array2, array};
    use otters::barycenter::{FreeSupportBarycenter, FreeSupportInput};

    fn cloud(n: usize, shift: f64, seed: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, 2), |(i, d)| {
            shift + ((i as f64 + 1.0) * seed * (d as f64 + 1.3)).sin()
        })
    }

    #[test]
    fn one_input_with_as_many_points_is_recovered_in_one_step() {
        // With uniform weights and N = n the optimal plan is a permutation (times 1/n):
        // the projection lands exactly on the input's points.
        let y = cloud(12, 0.0, 0.77);
        let w = Array1::from_elem(12, 1.0 / 12.0);
        let x0 = cloud(12, 3.0, 1.91);
        let out = FreeSupportBarycenter::default()
            .solve(
                &[FreeSupportInput::new(y.view(), w.view())],
                x0.view(),
                None,
                None,
            )
            .unwrap();
        assert!(out.converged());
        assert_eq!(out.iterations(), 2);
        assert_eq!(out.displacements()[1], 0.0);
        let mut got: Vec<(f64, f64)> = out
            .points()
            .rows()
            .into_iter()
            .map(|r| (r[0], r[1]))
            .collect();
        let mut want: Vec<(f64, f64)> = y.rows().into_iter().map(|r| (r[0], r[1])).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        for (g, w) in got.iter().zip(&want) {
            assert!((g.0 - w.0).abs() < 1e-14 && (g.1 - w.1).abs() < 1e-14);
        }
        assert!(out.cost().abs() < 1e-12);
    }

    #[test]
    fn translated_inputs_average_their_translations() {
        // W2 barycenter of translates of one cloud with weights λ: the cloud translated by
        // Σ λ_k t_k, with W2² to input k equal to |t_k − t̄|².
        let y = cloud(8, 0.0, 0.53);
        let w = Array1::from_elem(8, 0.125);
        let shifts = [array![0.0, 0.0], array![3.0, 1.0], array![-1.0, 4.0]];
        let ys: Vec<Array2<f64>> = shifts.iter().map(|t| &y + t).collect();
        let inputs: Vec<FreeSupportInput<'_>> = ys
            .iter()
            .map(|p| FreeSupportInput::new(p.view(), w.view()))
            .collect();
        let lambdas = array![0.5, 0.3, 0.2];
        let mean = &shifts[0] * 0.5 + &shifts[1] * 0.3 + &shifts[2] * 0.2;
        let x0 = &y + &array![0.1, -0.05];
        let out = FreeSupportBarycenter::default()
            .solve(&inputs, x0.view(), None, Some(lambdas.view()))
            .unwrap();
        assert!(out.converged());
        let expected = &y + &mean;
        for (g, e) in out.points().iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
        let want: f64 = shifts
            .iter()
            .zip(&lambdas)
            .map(|(t, l)| l * (t - &mean).mapv(|v| v * v).sum())
            .sum();
        assert!(
            (out.cost() - want).abs() < 1e-10,
            "{} vs {want}",
            out.cost()
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        let y = cloud(4, 0.0, 0.5);
        let w = Array1::from_elem(4, 0.25);
        let x0 = cloud(3, 0.0, 0.9);
        let ok = [FreeSupportInput::new(y.view(), w.view())];
        let s = FreeSupportBarycenter::default();
        let msg =
            |r: otters::Result<otters::barycenter::FreeSupportOutput>| r.unwrap_err().to_string();
        assert!(msg(s.solve(&[], x0.view(), None, None)).contains("inputs"));
        let y3 = Array2::<f64>::zeros((4, 3));
        assert!(
            msg(s.solve(
                &[FreeSupportInput::new(y3.view(), w.view())],
                x0.view(),
                None,
                None
            ))
            .contains("inputs.points")
        );
        let short = Array1::from_elem(3, 1.0 / 3.0);
        assert!(
            msg(s.solve(
                &[FreeSupportInput::new(y.view(), short.view())],
                x0.view(),
                None,
                None
            ))
            .contains("inputs.weights")
        );
        let heavy = Array1::from_elem(4, 1.0);
        assert!(
            msg(s.solve(
                &[FreeSupportInput::new(y.view(), heavy.view())],
                x0.view(),
                None,
                None
            ))
            .contains("sum")
        );
        let mut nan = x0.clone();
        nan[[1, 1]] = f64::NAN;
        assert!(msg(s.solve(&ok, nan.view(), None, None)).contains("x_init"));
        assert!(msg(s.solve(&ok, x0.view(), Some(array![0.5, 0.5].view()), None)).contains("`a`"));
        assert!(
            msg(s.solve(&ok, x0.view(), Some(array![0.5, 0.7, -0.2].view()), None)).contains("`a`")
        );
        assert!(
            msg(s.solve(&ok, x0.view(), None, Some(array![1.0, 1.0].view()))).contains("lambdas")
        );
        let bad = FreeSupportBarycenter {
            threshold: -1.0,
            ..s
        };
        assert!(msg(bad.solve(&ok, x0.view(), None, None)).contains("threshold"));
        let bad = FreeSupportBarycenter {
            max_iterations: 0,
            ..s
        };
        assert!(msg(bad.solve(&ok, x0.view(), None, None)).contains("max_iterations"));
    }
}

mod convolutional {
    use ndarray::{Array2, array};
    use otters::barycenter::{FixedSupportBarycenter, convolutional_barycenter, unit_grid};
    use otters::geometry::Grid;

    #[test]
    fn unit_grid_is_linspace_and_shapes_are_checked() {
        let grid = unit_grid(&[3, 2]).unwrap();
        assert_eq!(grid.dims(), &[3, 2]);
        let g = grid_cost(&grid);
        // Point 5 = (1, 1), point 2 = (0.5, 0).
        assert!((g[[5, 2]] - 1.25).abs() < 1e-15);
        assert!(unit_grid(&[3, 0]).unwrap_err().to_string().contains("dims"));
        let s = FixedSupportBarycenter::new(0.1);
        let m = Array2::from_elem((2, 5), 0.2);
        let err = convolutional_barycenter(&grid, m.view(), None, &s).unwrap_err();
        assert!(err.to_string().contains("measures"), "{err}");
        let (a, b) = (array![0.0, 1.0], array![0.0, 0.5, 1.0]);
        let other = Grid::between(&[a.view()], &[b.view()], 2.0).unwrap();
        let m = Array2::from_elem((2, 2), 0.5);
        let err = convolutional_barycenter(&other, m.view(), None, &s).unwrap_err();
        assert!(err.to_string().contains("grid"), "{err}");
    }

    fn grid_cost(grid: &Grid) -> Array2<f64> {
        use otters::geometry::Geometry;
        grid.cost_matrix(1 << 20).unwrap()
    }
}
