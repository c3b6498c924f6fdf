//! Every geometry gives the same sweeps and the same solutions on the same data: DenseCost
//! (C and Fortran order) against PointCloud (with tiles shrunk so the blocked paths run,
//! odd remainders included), for every ground cost.

mod common;

use common::Rng;
use ndarray::{Array1, Array2, ShapeBuilder};
use otters::geometry::{
    Axis, Cosine, CostFn, Custom, DenseCost, Euclidean, Geometry, LogPlan, Lp, PointCloud,
    ScaleCost, SqEuclidean,
};
use otters::linear::{
    Acceleration, Epsilon, LinearProblem, MarginalPenalty, Sinkhorn, UnbalancedUpdates,
};

fn close(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rel * (1.0 + y.abs()),
            "{what}[{k}]: {x} vs {y}"
        );
    }
}

fn check_cost<C: CostFn>(cost_fn: C, label: &str) {
    let (n, m, d) = (37, 53, 3);
    let mut rng = Rng::new(11);
    let x = rng.normal_matrix(n, d);
    let y = rng.normal_matrix(m, d) + 0.3;
    let cloud = PointCloud::new(x.view(), y.view(), cost_fn)
        .unwrap()
        .with_tile(5, 7)
        .unwrap();
    let c = cloud.cost_matrix(1 << 30).unwrap();
    // Independent evaluation of the cost, pair by pair.
    for i in [0, 17, 36] {
        for j in [0, 29, 52] {
            let want = cloud
                .cost_fn()
                .cost(x.row(i).as_slice().unwrap(), y.row(j).as_slice().unwrap());
            assert!(
                (c[[i, j]] - want).abs() < 1e-12 * (1.0 + want),
                "{label}: cost[{i},{j}]"
            );
        }
    }
    let dense = DenseCost::new(c.view()).unwrap();
    let mut fortran = Array2::zeros((n, m).f());
    fortran.assign(&c);
    let dense_f = DenseCost::new(fortran.view()).unwrap();
    let geoms: [(&str, &dyn Geometry); 3] = [
        ("point cloud", &cloud),
        ("dense", &dense),
        ("dense F-order", &dense_f),
    ];

    let eps = 0.3;
    let h_rows = Array1::from_shape_fn(m, |j| (j as f64 * 0.7).sin());
    let h_cols = Array1::from_shape_fn(n, |i| (i as f64 * 0.3).cos());
    let log_row = Array1::from_shape_fn(n, |i| -(n as f64).ln() + 0.1 * (i as f64).sin());
    let log_col = Array1::from_shape_fn(m, |j| -(m as f64).ln() + 0.1 * (j as f64).cos());
    let plan = LogPlan {
        log_row: log_row.view(),
        log_col: log_col.view(),
        epsilon: eps,
    };
    let v_rows = rng.normal_matrix(m, 3);
    let v_cols = rng.normal_matrix(n, 1);

    let reference = |g: &dyn Geometry| {
        let mut s = Array1::zeros(n);
        let mut t = Array1::zeros(m);
        g.softmin(Axis::Rows, eps, h_rows.view(), s.view_mut())
            .unwrap();
        g.softmin(Axis::Cols, eps, h_cols.view(), t.view_mut())
            .unwrap();
        let mut pv = Array2::zeros((n, 3));
        let mut ptv = Array2::zeros((m, 1));
        g.apply_plan(Axis::Rows, &plan, v_rows.view(), pv.view_mut())
            .unwrap();
        g.apply_plan(Axis::Cols, &plan, v_cols.view(), ptv.view_mut())
            .unwrap();
        (
            s,
            t,
            pv,
            ptv,
            g.plan_dot_cost(&plan).unwrap(),
            g.plan_matrix(&plan, 1 << 30).unwrap(),
            g.summary(),
        )
    };
    let base = reference(&dense);
    // The plan from its definition, as a check of the kernels themselves.
    let naive = Array2::from_shape_fn((n, m), |(i, j)| {
        (log_row[i] + log_col[j] - c[[i, j]] / eps).exp()
    });
    close(
        base.5.as_slice().unwrap(),
        naive.as_slice().unwrap(),
        1e-13,
        &format!("{label}: plan"),
    );
    close(
        base.2.as_slice().unwrap(),
        naive.dot(&v_rows).as_slice().unwrap(),
        1e-12,
        &format!("{label}: P v"),
    );
    close(
        &[base.4],
        &[(&naive * &c).sum()],
        1e-12,
        &format!("{label}: <P, C>"),
    );
    for (name, g) in geoms {
        let other = reference(g);
        let what = format!("{label} / {name}");
        close(
            other.0.as_slice().unwrap(),
            base.0.as_slice().unwrap(),
            1e-12,
            &format!("{what}: softmin rows"),
        );
        close(
            other.1.as_slice().unwrap(),
            base.1.as_slice().unwrap(),
            1e-12,
            &format!("{what}: softmin cols"),
        );
        close(
            other.2.as_slice().unwrap(),
            base.2.as_slice().unwrap(),
            1e-12,
            &format!("{what}: P v"),
        );
        close(
            other.3.as_slice().unwrap(),
            base.3.as_slice().unwrap(),
            1e-12,
            &format!("{what}: Pᵀ v"),
        );
        close(&[other.4], &[base.4], 1e-12, &format!("{what}: <P, C>"));
        close(
            other.5.as_slice().unwrap(),
            base.5.as_slice().unwrap(),
            1e-12,
            &format!("{what}: plan"),
        );
        close(
            &[other.6.max, other.6.mean, other.6.std],
            &[base.6.max, base.6.mean, base.6.std],
            1e-12,
            &format!("{what}: summary"),
        );
    }

    // C·V and Cᵀ·V, against the materialized cost (factored costs take a GEMM shortcut).
    let (cv_want, ctv_want) = (c.dot(&v_rows), c.t().dot(&v_cols));
    for (name, g) in geoms {
        let (mut cv, mut ctv) = (Array2::zeros((n, 3)), Array2::zeros((m, 1)));
        g.apply_cost(Axis::Rows, v_rows.view(), cv.view_mut())
            .unwrap();
        g.apply_cost(Axis::Cols, v_cols.view(), ctv.view_mut())
            .unwrap();
        close(
            cv.as_slice().unwrap(),
            cv_want.as_slice().unwrap(),
            1e-11,
            &format!("{label} / {name}: C v"),
        );
        close(
            ctv.as_slice().unwrap(),
            ctv_want.as_slice().unwrap(),
            1e-11,
            &format!("{label} / {name}: Cᵀ v"),
        );
    }

    // Whole solves agree too.
    let (a, b) = (rng.weights(n, 1.0), rng.weights(m, 1.0));
    let solve = |g: &dyn Geometry| {
        let problem = LinearProblem::new(g, a.view(), b.view()).unwrap();
        let solver = Sinkhorn {
            threshold: 1e-11,
            ..Sinkhorn::new(Epsilon::RelativeToMean(0.05))
        };
        let out = solver.solve(&problem).unwrap();
        (
            out.f().to_owned(),
            out.g().to_owned(),
            out.reg_ot_cost(),
            out.iterations(),
        )
    };
    let (f0, g0, cost0, it0) = solve(&dense);
    for (name, g) in geoms {
        let (f, gg, cost, it) = solve(g);
        close(
            f.as_slice().unwrap(),
            f0.as_slice().unwrap(),
            1e-9,
            &format!("{label} / {name}: f"),
        );
        close(
            gg.as_slice().unwrap(),
            g0.as_slice().unwrap(),
            1e-9,
            &format!("{label} / {name}: g"),
        );
        close(&[cost], &[cost0], 1e-11, &format!("{label} / {name}: cost"));
        assert!(
            it.abs_diff(it0) <= 1,
            "{label} / {name}: {it} vs {it0} iterations"
        );
    }
}

#[test]
fn squared_euclidean() {
    check_cost(SqEuclidean, "sqeuclidean");
}

#[test]
fn euclidean() {
    check_cost(Euclidean, "euclidean");
}

#[test]
fn lp_costs() {
    check_cost(Lp::new(1.5).unwrap(), "l1.5");
    check_cost(Lp::new(1.0).unwrap(), "l1");
}

#[test]
fn cosine() {
    check_cost(Cosine, "cosine");
}

#[test]
fn custom_closure() {
    check_cost(
        Custom::new(|x: &[f64], y: &[f64]| {
            x.iter().zip(y).map(|(a, b)| (a - b).abs().max(0.1)).sum()
        }),
        "custom",
    );
}

#[test]
fn cost_scaling_agrees_between_geometries() {
    let mut rng = Rng::new(12);
    let (x, y) = (rng.normal_matrix(20, 2), rng.normal_matrix(31, 2));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let c = cloud.cost_matrix(1 << 30).unwrap();
    for scale in [
        ScaleCost::Max,
        ScaleCost::Mean,
        ScaleCost::Median,
        ScaleCost::By(2.5),
    ] {
        let a = PointCloud::sq_euclidean(x.view(), y.view())
            .unwrap()
            .with_scale(scale)
            .unwrap();
        let b = DenseCost::new(c.view()).unwrap().with_scale(scale).unwrap();
        assert!(
            (a.scale() - b.scale()).abs() < 1e-12 * b.scale(),
            "{scale:?}: {} vs {}",
            a.scale(),
            b.scale()
        );
        let (ca, cb) = (
            a.cost_matrix(1 << 30).unwrap(),
            b.cost_matrix(1 << 30).unwrap(),
        );
        close(
            ca.as_slice().unwrap(),
            cb.as_slice().unwrap(),
            1e-12,
            &format!("{scale:?}"),
        );
    }
    let mut sorted: Vec<f64> = c.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let median = 0.5 * (sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2]);
    let b = DenseCost::new(c.view())
        .unwrap()
        .with_scale(ScaleCost::Median)
        .unwrap();
    assert!(
        (b.scale() - median).abs() < 1e-15 * median,
        "median of an even count averages the middle pair"
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let mut rng = Rng::new(13);
    let (x, y) = (rng.normal_matrix(301, 4), rng.normal_matrix(257, 4));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let c = cloud.cost_matrix(1 << 30).unwrap();
    let dense = DenseCost::new(c.view()).unwrap();
    let mut fortran = Array2::zeros(c.dim().f());
    fortran.assign(&c);
    let dense_f = DenseCost::new(fortran.view()).unwrap();
    let (a, b) = (
        Array1::from_elem(301, 1.0 / 301.0),
        Array1::from_elem(257, 1.3 / 257.0),
    );
    let kl = MarginalPenalty::Kl { rho: 0.5 };
    // Balanced with Anderson acceleration (separate sweeps with guesses) and with
    // over-relaxation (fused iterations on stored costs), translation-invariant unbalanced
    // (separate sweeps), plain unbalanced (fused again).
    let relaxed = Acceleration::AdaptiveRelaxation;
    let cases = [
        (
            MarginalPenalty::Hard,
            UnbalancedUpdates::TranslationInvariant,
            Acceleration::default(),
        ),
        (
            MarginalPenalty::Hard,
            UnbalancedUpdates::TranslationInvariant,
            relaxed,
        ),
        (
            kl,
            UnbalancedUpdates::TranslationInvariant,
            Acceleration::default(),
        ),
        (kl, UnbalancedUpdates::Standard, relaxed),
    ];
    for (gi, g) in [&cloud as &dyn Geometry, &dense, &dense_f]
        .into_iter()
        .enumerate()
    {
        for (penalty, updates, acceleration) in cases {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    let problem = if penalty.is_hard() {
                        LinearProblem::uniform(g).unwrap()
                    } else {
                        LinearProblem::unbalanced(g, a.view(), b.view(), penalty, penalty).unwrap()
                    };
                    let out = Sinkhorn {
                        unbalanced_updates: updates,
                        acceleration,
                        ..Sinkhorn::new(Epsilon::RelativeToMean(0.02))
                    }
                    .solve(&problem)
                    .unwrap();
                    assert!(out.converged());
                    (
                        out.f().to_owned(),
                        out.g().to_owned(),
                        out.linear_cost(&problem).unwrap(),
                        out.errors().to_vec(),
                    )
                })
            };
            let one = run(1);
            for threads in [2, 3, 8] {
                let other = run(threads);
                let case = format!("geometry {gi} {penalty:?} {updates:?} {acceleration:?}");
                assert!(
                    one.0 == other.0 && one.1 == other.1,
                    "{threads} threads, {case}: potentials differ"
                );
                assert_eq!(
                    one.2.to_bits(),
                    other.2.to_bits(),
                    "{threads} threads, {case}: linear cost differs"
                );
                assert_eq!(
                    one.3, other.3,
                    "{threads} threads, {case}: error traces differ"
                );
            }
        }
    }
}

/// The factored `C·V` and `Cᵀ·V` of a large squared-Euclidean cloud (several row blocks,
/// reduced in parallel; a strided output) equal the product with the materialized cost.
#[test]
fn factored_products_over_many_row_blocks() {
    let (n, m, d) = (5000, 4300, 3);
    let mut rng = common::Rng::new(11);
    let (x, y) = (rng.normal_matrix(n, d), rng.normal_matrix(m, d));
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .unwrap()
        .with_scale(otters::geometry::ScaleCost::By(3.0))
        .unwrap();
    let c = cloud.cost_matrix(1 << 30).unwrap();
    let (v_rows, v_cols) = (rng.normal_matrix(m, 4), rng.normal_matrix(n, 2));
    // A transposed (column-major) output exercises any-stride writes.
    let mut cv = Array2::<f64>::zeros((4, n));
    let mut ctv = Array2::zeros((m, 2));
    cloud
        .apply_cost(Axis::Rows, v_rows.view(), cv.view_mut().reversed_axes())
        .unwrap();
    cloud
        .apply_cost(Axis::Cols, v_cols.view(), ctv.view_mut())
        .unwrap();
    let (want_rows, want_cols) = (c.dot(&v_rows), c.t().dot(&v_cols));
    let err = |got: ndarray::ArrayView2<'_, f64>, want: &Array2<f64>| {
        let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        got.iter()
            .zip(want.iter())
            .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()))
            / scale
    };
    assert!(err(cv.t(), &want_rows) < 1e-12);
    assert!(err(ctv.view(), &want_cols) < 1e-12);
}

/// `(C∘C)·V` and `(C∘C)ᵀ·V`: the factored point cloud (squared Euclidean: row-wise
/// Khatri–Rao factors), a tiled cloud without factors (Euclidean) and stored costs (C and
/// Fortran order) all equal the product with the squared, scaled cost matrix.
#[test]
fn square_cost_products_agree() {
    let (n, m) = (37, 29);
    let mut rng = Rng::new(5);
    let (x, y) = (rng.normal_matrix(n, 3), rng.normal_matrix(m, 3));
    let v_rows = rng.normal_matrix(m, 2);
    let v_cols = rng.normal_matrix(n, 2);
    let check = |geom: &dyn Geometry, label: &str| {
        let c = geom.cost_matrix(1 << 20).unwrap().mapv(|c| c * c);
        let mut out = Array2::zeros((n, 2));
        geom.apply_square_cost(Axis::Rows, v_rows.view(), out.view_mut())
            .unwrap();
        let want = c.dot(&v_rows);
        close(
            out.as_slice().unwrap(),
            want.as_slice().unwrap(),
            1e-11,
            label,
        );
        let mut out = Array2::zeros((m, 2));
        geom.apply_square_cost(Axis::Cols, v_cols.view(), out.view_mut())
            .unwrap();
        let want = c.t().dot(&v_cols);
        close(
            out.as_slice().unwrap(),
            want.as_slice().unwrap(),
            1e-11,
            label,
        );
    };
    let sq = PointCloud::new(x.view(), y.view(), SqEuclidean)
        .unwrap()
        .with_scale(ScaleCost::Mean)
        .unwrap();
    check(&sq, "squared Euclidean (factored)");
    let eu = PointCloud::new(x.view(), y.view(), Euclidean)
        .unwrap()
        .with_tile(8, 16)
        .unwrap();
    check(&eu, "Euclidean (tiled)");
    let stored = sq.cost_matrix(1 << 20).unwrap();
    check(&DenseCost::new(stored.view()).unwrap(), "stored");
    let fortran = {
        let mut f = Array2::zeros((n, m).f());
        f.assign(&stored);
        f
    };
    check(
        &DenseCost::new(fortran.view()).unwrap(),
        "stored, Fortran order",
    );
    let mut out = Array2::zeros((n + 1, 2));
    assert!(
        sq.apply_square_cost(Axis::Rows, v_rows.view(), out.view_mut())
            .is_err()
    );
}
