//! RELIABILITY.md §A: every invalid input gets an error that names the argument (and the
//! offending index or value); nothing panics.

mod common;

use ndarray::{Array1, Array2, array};
use otters::geometry::{Axis, DenseCost, Geometry, PointCloud};
use otters::linear::{
    Acceleration, Anderson, Epsilon, EpsilonScaling, LinearProblem, MarginalPenalty, Sinkhorn,
};
use otters::{Error, ErrorKind, Index};

fn dense() -> DenseCost<'static> {
    DenseCost::new(array![[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]]).unwrap()
}

#[test]
fn a1_weights_of_the_wrong_length() {
    let g = dense();
    let err = LinearProblem::new(&g, array![1.0], array![0.2, 0.3, 0.5]).unwrap_err();
    assert!(matches!(&err, Error::Shape { arg: "a", .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("length 2") && msg.contains("length 1"),
        "both shapes named: {msg}"
    );
    let err = LinearProblem::new(&g, array![0.5, 0.5], array![0.5, 0.5]).unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "b", .. }));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn a2_points_of_different_dimensions() {
    let err = PointCloud::sq_euclidean(Array2::zeros((3, 2)).view(), Array2::zeros((4, 3)).view())
        .unwrap_err();
    assert!(matches!(&err, Error::Shape { arg: "y", .. }), "{err}");
    assert!(err.to_string().contains("dimension 2"));
}

#[test]
fn a3_nan_anywhere() {
    let g = dense();
    let err = LinearProblem::new(&g, array![f64::NAN, 1.0], array![0.2, 0.3, 0.5]).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            arg: "a",
            index: Index::Vector(0),
            ..
        }
    ));
    let err = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, f64::NAN, 0.5]).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            arg: "b",
            index: Index::Vector(1),
            ..
        }
    ));
    let err = DenseCost::new(array![[0.0, f64::NAN]]).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            arg: "cost",
            index: Index::Matrix(0, 1),
            ..
        }
    ));
    assert!(err.to_string().contains("[0, 1]"));
    let mut x = Array2::zeros((3, 2));
    x[[2, 1]] = f64::NAN;
    let err = PointCloud::sq_euclidean(x.view(), Array2::zeros((2, 2)).view()).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            arg: "x",
            index: Index::Matrix(2, 1),
            ..
        }
    ));
    let err = PointCloud::sq_euclidean(Array2::zeros((2, 2)).view(), x.view()).unwrap_err();
    assert!(matches!(err, Error::NonFinite { arg: "y", .. }));
}

#[test]
fn a4_infinities() {
    let err = DenseCost::new(array![[0.0, f64::NEG_INFINITY]]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { arg: "cost", .. }));
    let g = dense();
    let err =
        LinearProblem::new(&g, array![f64::INFINITY, 1.0], array![0.2, 0.3, 0.5]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { arg: "a", .. }));
    // +∞ costs are forbidden pairs, not errors; a row with nothing allowed is infeasible.
    let g = DenseCost::new(array![[0.0, f64::INFINITY], [f64::INFINITY, f64::INFINITY]]).unwrap();
    let p = LinearProblem::new(&g, array![0.5, 0.5], array![0.5, 0.5]).unwrap();
    let err = Sinkhorn::new(Epsilon::Absolute(0.1)).solve(&p).unwrap_err();
    assert!(matches!(&err, Error::Numerical { .. }), "{err}");
    assert!(
        err.to_string().contains("row 1") || err.to_string().contains("column 1"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Numerical);
}

#[test]
fn forbidden_pairs_are_respected() {
    let inf = f64::INFINITY;
    let g = DenseCost::new(array![[0.0, inf, 1.0], [inf, 0.5, 2.0], [1.0, 1.0, inf]]).unwrap();
    let p = LinearProblem::uniform(&g).unwrap();
    let out = Sinkhorn {
        threshold: 1e-10,
        ..Sinkhorn::new(Epsilon::Absolute(0.1))
    }
    .solve(&p)
    .unwrap();
    assert!(out.converged());
    let plan = out.plan(&p).unwrap();
    assert_eq!((plan[[0, 1]], plan[[1, 0]], plan[[2, 2]]), (0.0, 0.0, 0.0));
    assert!(out.linear_cost(&p).unwrap().is_finite());
}

#[test]
fn a5_negative_weights_even_with_equal_sums() {
    let g = dense();
    let err = LinearProblem::new(&g, array![1.5, -0.5], array![0.2, 0.3, 0.5]).unwrap_err();
    assert_eq!(
        err,
        Error::NegativeWeight {
            arg: "a",
            index: 1,
            value: -0.5
        }
    );
    assert!(err.to_string().contains("-0.5"));
}

#[test]
fn a7_zero_mass() {
    let g = dense();
    let err = LinearProblem::new(&g, array![0.0, 0.0], array![0.2, 0.3, 0.5]).unwrap_err();
    assert_eq!(err, Error::ZeroMass { arg: "a" });
    let kl = MarginalPenalty::Kl { rho: 1.0 };
    assert!(
        LinearProblem::unbalanced(&g, array![0.5, 0.5], array![0.0, 0.0, 0.0], kl, kl).is_err()
    );
}

#[test]
fn a8_a9_mass_mismatch_is_refused_beyond_tolerance_and_reported_within() {
    let g = dense();
    let err = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3, 0.6]).unwrap_err();
    assert!(matches!(err, Error::MassMismatch { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("sum(a) = 1") && msg.contains("sum(b) = 1.1") && msg.contains("unbalanced"),
        "{msg}"
    );
    let p = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3, 0.5 + 2e-10]).unwrap();
    assert!(p.mass_rescale().is_some());
    let out = Sinkhorn::new(Epsilon::Absolute(0.5)).solve(&p).unwrap();
    assert!(out.mass_rescale().is_some(), "the output reports it too");
}

#[test]
fn a10_empty_inputs() {
    assert!(matches!(
        DenseCost::new(Array2::<f64>::zeros((0, 0))),
        Err(Error::Empty { arg: "cost", .. })
    ));
    assert!(matches!(
        DenseCost::new(Array2::<f64>::zeros((3, 0))),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        PointCloud::sq_euclidean(Array2::zeros((0, 2)).view(), Array2::zeros((1, 2)).view()),
        Err(Error::Empty { arg: "x", .. })
    ));
    assert!(matches!(
        PointCloud::sq_euclidean(Array2::zeros((2, 0)).view(), Array2::zeros((1, 0)).view()),
        Err(Error::Shape { arg: "x", .. })
    ));
}

#[test]
fn a12_identical_clouds_cost_nothing() {
    let mut rng = common::Rng::new(30);
    let x = rng.normal_matrix(25, 3);
    let g = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let p = LinearProblem::uniform(&g).unwrap();
    let eps = 1e-2;
    let out = Sinkhorn {
        scaling: EpsilonScaling::from_max_cost(0.7),
        ..Sinkhorn::new(Epsilon::Absolute(eps))
    }
    .solve(&p)
    .unwrap();
    let cost = out.linear_cost(&p).unwrap();
    assert!(
        (0.0..=eps * 25f64.ln()).contains(&cost),
        "linear cost {cost}"
    );
}

#[test]
fn a13_materializing_too_large_a_plan_is_refused_before_allocating() {
    let x = Array2::zeros((100_000, 2));
    let g = PointCloud::sq_euclidean(x.view(), x.view()).unwrap();
    let err = g.cost_matrix(otters::DEFAULT_MEMORY_LIMIT).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                needed_bytes: 80_000_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Resource);
    assert!(
        err.to_string().contains("PointCloud"),
        "suggests the streaming geometry: {err}"
    );
    let small = dense();
    let p = LinearProblem::new(&small, array![0.5, 0.5], array![0.2, 0.3, 0.5]).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.5)).solve(&p).unwrap();
    assert!(matches!(
        out.plan_within(&p, 40),
        Err(Error::TooLarge {
            needed_bytes: 48,
            limit_bytes: 40,
            ..
        })
    ));
    assert!(out.plan_within(&p, 48).is_ok());
}

#[test]
fn a15_invalid_parameters() {
    let g = dense();
    let p = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3, 0.5]).unwrap();
    let cases: [(Sinkhorn, &str); 14] = [
        (Sinkhorn::new(Epsilon::Absolute(0.0)), "epsilon"),
        (Sinkhorn::new(Epsilon::Absolute(-1.0)), "epsilon"),
        (Sinkhorn::new(Epsilon::Absolute(f64::NAN)), "epsilon"),
        (
            Sinkhorn::new(Epsilon::RelativeToMax(f64::INFINITY)),
            "epsilon",
        ),
        (
            Sinkhorn {
                threshold: 0.0,
                ..Sinkhorn::default()
            },
            "threshold",
        ),
        (
            Sinkhorn {
                threshold: f64::NAN,
                ..Sinkhorn::default()
            },
            "threshold",
        ),
        (
            Sinkhorn {
                max_iterations: 0,
                ..Sinkhorn::default()
            },
            "max_iterations",
        ),
        (
            Sinkhorn {
                min_iterations: 10,
                max_iterations: 5,
                ..Sinkhorn::default()
            },
            "min_iterations",
        ),
        (
            Sinkhorn {
                scaling: EpsilonScaling::Geometric {
                    start: Epsilon::Absolute(1.0),
                    decay: 1.5,
                },
                ..Sinkhorn::default()
            },
            "decay",
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::Relaxation(2.0),
                ..Sinkhorn::default()
            },
            "acceleration",
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::Relaxation(0.0),
                ..Sinkhorn::default()
            },
            "acceleration",
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::Relaxation(f64::NAN),
                ..Sinkhorn::default()
            },
            "acceleration",
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::Anderson(Anderson::new(1)),
                ..Sinkhorn::default()
            },
            "anderson.memory",
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::Anderson(Anderson {
                    memory: 4,
                    ridge: -1.0,
                }),
                ..Sinkhorn::default()
            },
            "anderson.ridge",
        ),
    ];
    for (solver, arg) in cases {
        let err = solver.solve(&p).unwrap_err();
        assert_eq!(err.argument(), Some(arg), "{err}");
        assert!(matches!(err, Error::InvalidParameter { .. }));
    }
    // A relative ε on an all-zero cost resolves to 0 and is refused, with the reason.
    let zero = DenseCost::new(Array2::<f64>::zeros((2, 2))).unwrap();
    let pz = LinearProblem::uniform(&zero).unwrap();
    let err = Sinkhorn::new(Epsilon::RelativeToMax(0.1))
        .solve(&pz)
        .unwrap_err();
    assert!(err.to_string().contains("max(C)"), "{err}");
    // Geometry primitives check their arguments too.
    let mut out = Array1::zeros(2);
    assert!(matches!(
        g.softmin(Axis::Rows, 0.1, Array1::zeros(2).view(), out.view_mut()),
        Err(Error::Shape { arg: "h", .. })
    ));
    assert!(matches!(
        g.softmin(Axis::Rows, -0.1, Array1::zeros(3).view(), out.view_mut()),
        Err(Error::InvalidParameter { arg: "epsilon", .. })
    ));
}

#[test]
fn a11_single_points_on_either_side() {
    let g = DenseCost::new(array![[2.0, 4.0, 1.0]]).unwrap();
    let b = array![0.2, 0.3, 0.5];
    let p = LinearProblem::new(&g, array![1.0], b.view()).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.01)).solve(&p).unwrap();
    let plan = out.plan(&p).unwrap();
    for j in 0..3 {
        assert!((plan[[0, j]] - b[j]).abs() < 1e-12);
    }
    assert!((out.linear_cost(&p).unwrap() - (0.4 + 1.2 + 0.5)).abs() < 1e-12);
}

#[test]
fn a_custom_cost_that_returns_nan_is_a_numerical_error_not_garbage() {
    let x = array![[0.0], [1.0], [2.0]];
    let nan_at_one = otters::geometry::Custom::new(|p: &[f64], q: &[f64]| {
        if p[0] == 1.0 && q[0] == 2.0 {
            f64::NAN
        } else {
            (p[0] - q[0]).powi(2)
        }
    });
    let g = PointCloud::new(x.view(), x.view(), nan_at_one).unwrap();
    let p = LinearProblem::uniform(&g).unwrap();
    let err = Sinkhorn::new(Epsilon::Absolute(0.1)).solve(&p).unwrap_err();
    assert!(
        matches!(err, Error::Numerical { iteration: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("NaN"), "{err}");
}
