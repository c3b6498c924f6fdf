//! Tools (ALGORITHMS.md T1–T3, D3): soft sorting against hard sorting, coupling samples
//! against the materialized plan, Sinkformer attention against softmax and its marginals,
//! anchor distances against their invariances.

use ndarray::{Array1, Array2, array};
use otters::Error;
use otters::geometry::{DenseCost, PointCloud};
use otters::linear::{Epsilon, LinearProblem, NetworkSimplex, Sinkhorn};
use otters::tools::{
    AnchorDistributions, EntropicCoupling, SinkformerStop, SoftOperator, SoftSort,
    anchor_cost_matrix, anchor_energy, anchor_wasserstein, sample_sparse_pairs,
    sample_sparse_targets, sharpness_dense, sharpness_sparse, sinkformer_attention,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn normal(shape: (usize, usize), seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn(shape, |_| rng.sample(StandardNormal))
}

fn hard_sort(x: &Array1<f64>) -> Array1<f64> {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    Array1::from(v)
}

fn hard_ranks(x: &Array1<f64>) -> Array1<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut r = Array1::zeros(x.len());
    for (rank, &i) in order.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn max_abs(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------- T1 soft sort

#[test]
fn soft_sort_and_ranks_tend_to_hard_ones_as_epsilon_vanishes() {
    let x = normal((1, 15), 1).row(0).to_owned();
    let (sorted, ranks) = (hard_sort(&x), hard_ranks(&x));
    let mut last = (f64::INFINITY, f64::INFINITY);
    for eps in [1e-1, 1e-2, 1e-3, 1e-4] {
        let soft = SoftSort::new(eps);
        let s = soft.sort(x.view(), None).unwrap();
        let r = soft.ranks(x.view()).unwrap();
        assert!(s.converged && r.converged, "eps {eps}");
        let err = (max_abs(&s.values, &sorted), max_abs(&r.values, &ranks));
        assert!(
            err.0 < last.0 && err.1 < last.1,
            "eps {eps}: {err:?} after {last:?}"
        );
        last = err;
    }
    // The sigmoid squashes the tails together, so the last steps shrink slowly (measured at
    // ε = 1e-4: 5.0e-4 on the values, 2.5e-2 on the ranks).
    assert!(last.0 < 1e-3 && last.1 < 5e-2, "{last:?}");
}

#[test]
fn soft_sort_is_increasing_and_ranks_are_permutation_equivariant() {
    let x = normal((1, 23), 2).row(0).to_owned();
    let soft = SoftSort::new(0.05);
    let s = soft.sort(x.view(), None).unwrap().values;
    assert!(s.windows(2).into_iter().all(|w| w[0] < w[1]), "{s}");
    // Each soft sorted value is a convex combination of the inputs, and the sum is kept (to
    // the row marginal error, threshold 1e-6).
    assert!((s.sum() - x.sum()).abs() < 1e-5);
    let r = soft.ranks(x.view()).unwrap().values;
    let sigma: Vec<usize> = (0..23).map(|k| (k * 7 + 3) % 23).collect();
    let xp: Array1<f64> = sigma.iter().map(|&i| x[i]).collect();
    let rp = soft.ranks(xp.view()).unwrap().values;
    for (k, &i) in sigma.iter().enumerate() {
        assert!((rp[k] - r[i]).abs() < 1e-8, "{k}: {} vs {}", rp[k], r[i]);
    }
    // Ranks are increasing in the value, and average to (n − 1)/2.
    let order = hard_ranks(&x);
    for i in 0..23 {
        for j in 0..23 {
            if order[i] < order[j] {
                assert!(r[i] < r[j]);
            }
        }
    }
    assert!((r.mean().unwrap() - 11.0).abs() < 1e-5);
}

#[test]
fn soft_median_of_a_symmetric_sample_is_its_centre() {
    let half = normal((1, 10), 3).row(0).mapv(f64::abs);
    let x: Array1<f64> = half
        .iter()
        .map(|v| 3.0 + v)
        .chain(half.iter().map(|v| 3.0 - v))
        .collect();
    let soft = SoftSort::new(1e-2);
    let q = array![0.5];
    let med = soft.quantiles(x.view(), q.view()).unwrap();
    assert!(med.converged);
    assert!((med.values[0] - 3.0).abs() < 1e-6, "{}", med.values[0]);
    // Quantiles come back in the order asked, and are increasing in the level.
    let levels = array![0.9, 0.1, 0.5];
    let qs = soft.quantiles(x.view(), levels.view()).unwrap().values;
    assert!(qs[1] < qs[2] && qs[2] < qs[0]);
    assert!(
        (qs[0] - 3.0 + (qs[1] - 3.0)).abs() < 1e-6,
        "symmetric levels: {qs}"
    );
}

#[test]
fn target_weights_top_k_and_rows() {
    let x = array![0.3, -1.0, 2.0, 0.9, -0.2, 1.5];
    let soft = SoftSort::new(1e-3);
    // Two targets of mass 1/2: the lower half ranks 0, the upper half n − 1.
    let w = array![0.5, 0.5];
    let r = soft
        .apply(
            x.view(),
            SoftOperator::Ranks {
                num_targets: None,
                target_weights: Some(w.view()),
            },
        )
        .unwrap()
        .values;
    let upper = [false, false, true, true, false, true];
    for (ri, &up) in r.iter().zip(&upper) {
        let want = if up { 5.0 } else { 0.0 };
        assert!((ri - want).abs() < 1e-3, "{r}");
    }
    let top = soft
        .apply(x.view(), SoftOperator::TopK { k: 2 })
        .unwrap()
        .values;
    assert_eq!(top.len(), 2);
    assert!(
        (top[0] - 1.5).abs() < 1e-3 && (top[1] - 2.0).abs() < 1e-3,
        "{top}"
    );
    let fewer = soft.sort(x.view(), Some(3)).unwrap().values;
    assert!((fewer[0] - (-1.0 - 0.2) / 2.0).abs() < 1e-3, "{fewer}");
    // Rows are the per-vector results.
    let m = normal((4, 9), 4);
    let soft = SoftSort::default();
    let rows = soft
        .apply_rows(m.view(), SoftOperator::Sort { num_targets: None })
        .unwrap();
    assert!(rows.converged);
    for i in 0..4 {
        let one = soft.sort(m.row(i), None).unwrap().values;
        assert_eq!(rows.values.row(i), one);
    }
}

#[test]
fn soft_sort_refuses_bad_inputs() {
    let soft = SoftSort::default();
    let x = array![1.0, 2.0, 3.0];
    let arg = |e: Error| e.argument();
    assert_eq!(
        arg(soft.sort(Array1::zeros(0).view(), None).unwrap_err()),
        Some("x")
    );
    assert_eq!(
        arg(soft.sort(array![1.0, f64::NAN].view(), None).unwrap_err()),
        Some("x")
    );
    assert_eq!(
        arg(soft.sort(x.view(), Some(0)).unwrap_err()),
        Some("num_targets")
    );
    assert_eq!(
        arg(soft
            .apply(x.view(), SoftOperator::TopK { k: 4 })
            .unwrap_err()),
        Some("k")
    );
    for q in [
        array![0.0],
        array![0.5, 1.0],
        array![0.3, 0.3],
        array![f64::NAN],
    ] {
        assert_eq!(
            arg(soft.quantiles(x.view(), q.view()).unwrap_err()),
            Some("q")
        );
    }
    let bad_weight = soft.apply(
        x.view(),
        SoftOperator::Quantiles {
            q: array![0.5].view(),
            weight: Some(-1.0),
        },
    );
    assert_eq!(arg(bad_weight.unwrap_err()), Some("weight"));
    let heavy = array![1.0, 1.0];
    let err = soft
        .apply(
            x.view(),
            SoftOperator::Ranks {
                num_targets: None,
                target_weights: Some(heavy.view()),
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::MassMismatch { .. }), "{err}");
    let negative = array![1.5, -0.5];
    let err = soft
        .apply(
            x.view(),
            SoftOperator::Ranks {
                num_targets: None,
                target_weights: Some(negative.view()),
            },
        )
        .unwrap_err();
    assert_eq!(err.argument(), Some("target_weights"));
    let err = soft
        .apply(
            x.view(),
            SoftOperator::Ranks {
                num_targets: Some(1),
                target_weights: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.argument(), Some("num_targets"));
    // A single value: sorted to itself, rank 0.
    assert_eq!(
        soft.sort(array![4.0].view(), None).unwrap().values,
        array![4.0]
    );
    assert_eq!(soft.ranks(array![4.0].view()).unwrap().values, array![0.0]);
}

// ---------------------------------------------------------------- T3 couplings

fn chi_square(counts: &Array2<f64>, probs: &Array2<f64>, draws: f64) -> (f64, usize) {
    let mut stat = 0.0;
    let mut cells = 0;
    for (c, p) in counts.iter().zip(probs) {
        if *p > 0.0 {
            let e = p * draws;
            stat += (c - e) * (c - e) / e;
            cells += 1;
        } else {
            assert_eq!(*c, 0.0, "a pair of zero probability was drawn");
        }
    }
    (stat, cells - 1)
}

/// Upper bound on a χ² statistic with `df` degrees of freedom that a correct sampler
/// exceeds with probability below ~1e-6.
fn chi_square_bound(df: usize) -> f64 {
    let df = df as f64;
    df + 7.0 * (2.0 * df).sqrt()
}

#[test]
fn sampled_pairs_follow_the_entropic_plan() {
    let x = normal((5, 2), 5);
    let y = normal((6, 2), 6);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let a = array![0.1, 0.3, 0.2, 0.25, 0.15];
    let b = array![0.2, 0.0, 0.2, 0.2, 0.2, 0.2];
    let problem = LinearProblem::new(&geom, a, b).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.5))
        .solve(&problem)
        .unwrap();
    let plan = out.plan(&problem).unwrap();
    let probs = &plan / plan.sum();
    let coupling = EntropicCoupling::from_sinkhorn(&problem, &out).unwrap();
    let draws = 200_000;
    let pairs = coupling.sample_pairs(draws, 11).unwrap();
    let mut counts = Array2::zeros((5, 6));
    for (&i, &j) in pairs.rows.iter().zip(&pairs.cols) {
        counts[[i, j]] += 1.0;
    }
    let (stat, df) = chi_square(&counts, &probs, draws as f64);
    assert!(stat < chi_square_bound(df), "chi2 {stat} with {df} dof");
    // Reproducible, and another seed gives other pairs.
    assert_eq!(
        coupling.sample_pairs(1000, 11).unwrap(),
        coupling.sample_pairs(1000, 11).unwrap()
    );
    assert_ne!(
        coupling.sample_pairs(1000, 11).unwrap(),
        coupling.sample_pairs(1000, 12).unwrap()
    );
    // Conditional draws for one row follow that row of the plan.
    let rows = vec![3; 100_000];
    let cols = coupling.sample_targets(&rows, 5).unwrap();
    let mut row_counts = Array2::zeros((1, 6));
    cols.iter().for_each(|&j| row_counts[[0, j]] += 1.0);
    let row = plan.row(3).to_owned().insert_axis(ndarray::Axis(0));
    let (stat, df) = chi_square(&row_counts, &(&row / row.sum()), 100_000.0);
    assert!(stat < chi_square_bound(df), "chi2 {stat} with {df} dof");
    // Row masses are the plan's.
    for (r, p) in coupling.row_masses().iter().zip(plan.rows()) {
        assert!((r - p.sum()).abs() < 1e-12);
    }
}

#[test]
fn sharpness_of_an_entropic_plan_matches_the_dense_one() {
    let x = normal((7, 3), 7);
    let y = normal((9, 3), 8);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    for eps in [0.05, 1.0, 100.0] {
        let out = Sinkhorn::new(Epsilon::Absolute(eps))
            .solve(&problem)
            .unwrap();
        let coupling = EntropicCoupling::from_sinkhorn(&problem, &out).unwrap();
        let streamed = coupling.sharpness().unwrap();
        let dense = sharpness_dense(out.plan(&problem).unwrap().view()).unwrap();
        assert!((streamed.entropy - dense.entropy).abs() < 1e-12);
        assert!((streamed.conditional_entropy - dense.conditional_entropy).abs() < 1e-12);
        assert!((streamed.argmax_fraction - dense.argmax_fraction).abs() < 1e-12);
        for (s, d) in streamed
            .effective_partners
            .iter()
            .zip(&dense.effective_partners)
        {
            assert!((s - d).abs() < 1e-10);
        }
        if eps == 100.0 {
            // Nearly the independent coupling: every row spreads over all 9 targets.
            assert!(
                streamed.normalized_entropy > 0.99,
                "{}",
                streamed.normalized_entropy
            );
        }
    }
    // A permutation: no spread at all.
    let perm = Array2::from_shape_fn((4, 4), |(i, j)| if j == (i + 1) % 4 { 0.25 } else { 0.0 });
    let s = sharpness_dense(perm.view()).unwrap();
    assert!((s.entropy - 4f64.ln()).abs() < 1e-15);
    assert_eq!((s.conditional_entropy, s.argmax_fraction), (0.0, 1.0));
    assert!(s.effective_partners.iter().all(|&e| e == 1.0));
}

#[test]
fn exact_plans_are_sampled_from_their_entries() {
    let x = normal((6, 2), 9);
    let y = normal((4, 2), 10);
    let geom = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let problem = LinearProblem::uniform(&geom).unwrap();
    let exact = NetworkSimplex::default().solve(&problem).unwrap();
    let dense = exact.plan_dense(1 << 20).unwrap();
    let draws = 100_000;
    let pairs = sample_sparse_pairs(exact.plan(), draws, 1).unwrap();
    let mut counts = Array2::zeros((6, 4));
    for (&i, &j) in pairs.rows.iter().zip(&pairs.cols) {
        counts[[i, j]] += 1.0;
    }
    let (stat, df) = chi_square(&counts, &(&dense / dense.sum()), draws as f64);
    assert!(stat < chi_square_bound(df), "chi2 {stat} with {df} dof");
    let cols = sample_sparse_targets(exact.plan(), &[0, 5, 0], 2).unwrap();
    for (&i, &j) in [0, 5, 0].iter().zip(&cols) {
        assert!(dense[[i, j]] > 0.0);
    }
    let s = sharpness_sparse(exact.plan()).unwrap();
    let d = sharpness_dense(dense.view()).unwrap();
    assert!(
        (s.entropy - d.entropy).abs() < 1e-14
            && (s.argmax_fraction - d.argmax_fraction).abs() < 1e-14
    );
}

#[test]
fn coupling_tools_refuse_bad_inputs() {
    let cost = array![[0.0, 1.0], [1.0, 0.0]];
    let geom = DenseCost::new(cost.view()).unwrap();
    let problem = LinearProblem::new(&geom, array![1.0, 0.0], array![0.5, 0.5]).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.1))
        .solve(&problem)
        .unwrap();
    let coupling = EntropicCoupling::from_sinkhorn(&problem, &out).unwrap();
    assert_eq!(
        coupling.sample_targets(&[2], 0).unwrap_err().argument(),
        Some("rows")
    );
    // Row 1 has weight 0, hence no mass.
    assert_eq!(
        coupling.sample_targets(&[0, 1], 0).unwrap_err().argument(),
        Some("rows")
    );
    assert!(
        coupling
            .sample_pairs(100, 0)
            .unwrap()
            .rows
            .iter()
            .all(|&i| i == 0)
    );
    assert_eq!(coupling.sample_pairs(0, 0).unwrap().rows.len(), 0);
    let bad = array![[0.5, f64::NAN]];
    assert_eq!(
        sharpness_dense(bad.view()).unwrap_err().argument(),
        Some("plan")
    );
    let neg = array![[0.5, -0.1]];
    assert_eq!(
        sharpness_dense(neg.view()).unwrap_err().argument(),
        Some("plan")
    );
    assert_eq!(
        sharpness_dense(Array2::zeros((2, 2)).view())
            .unwrap_err()
            .argument(),
        Some("plan")
    );
    let short = array![0.0];
    let plan = otters::geometry::LogPlan {
        log_row: short.view(),
        log_col: short.view(),
        epsilon: 1.0,
    };
    assert!(matches!(
        EntropicCoupling::new(&geom, plan).unwrap_err(),
        Error::Shape { .. }
    ));
}

// ---------------------------------------------------------------- T2 Sinkformer

fn softmax_attention(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>) -> Array2<f64> {
    let s = q.dot(&k.t()) / (q.ncols() as f64).sqrt();
    let mut a = s.clone();
    for mut row in a.rows_mut() {
        let max = row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        row.mapv_inplace(|x| (x - max).exp());
        let sum = row.sum();
        row /= sum;
    }
    a.dot(v)
}

#[test]
fn one_normalization_is_softmax_attention() {
    let (q, k, v) = (normal((5, 4), 20), normal((7, 4), 21), normal((7, 3), 22));
    let out =
        sinkformer_attention(q.view(), k.view(), v.view(), SinkformerStop::Iterations(1)).unwrap();
    let want = softmax_attention(&q, &k, &v);
    let err = (&out.output - &want)
        .mapv(f64::abs)
        .fold(0.0, |m: f64, &x| m.max(x));
    assert!(err < 1e-12, "{err}");
    assert_eq!(out.row_error, 0.0);
}

#[test]
fn sinkformer_attention_is_doubly_stochastic() {
    let (q, k, v) = (normal((6, 3), 23), normal((9, 3), 24), normal((9, 2), 25));
    let stop = SinkformerStop::Threshold {
        threshold: 1e-12,
        max_iterations: 10_000,
    };
    let out = sinkformer_attention(q.view(), k.view(), v.view(), stop).unwrap();
    assert!(out.converged && out.iterations % 2 == 1);
    let a = out.attention().unwrap();
    for row in a.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-12);
    }
    for col in a.columns() {
        assert!((col.sum() - 6.0 / 9.0).abs() < 1e-11, "{}", col.sum());
    }
    let direct = a.dot(&v);
    assert!((&out.output - &direct).mapv(f64::abs).sum() < 1e-11);
    // An even count ends on a column normalization.
    let two =
        sinkformer_attention(q.view(), k.view(), v.view(), SinkformerStop::Iterations(2)).unwrap();
    let a2 = two.attention().unwrap();
    for col in a2.columns() {
        assert!((col.sum() - 6.0 / 9.0).abs() < 1e-12);
    }
    let row_error: f64 = a2
        .rows()
        .into_iter()
        .map(|r| (r.sum() - 1.0).abs())
        .sum::<f64>()
        / 6.0;
    assert!((two.row_error - row_error).abs() < 1e-12);
}

#[test]
fn sinkformer_refuses_bad_inputs() {
    let (q, k, v) = (normal((3, 2), 1), normal((4, 2), 2), normal((4, 2), 3));
    let it = SinkformerStop::Iterations(3);
    assert_eq!(
        sinkformer_attention(q.view(), k.view(), v.slice(ndarray::s![..3, ..]), it)
            .unwrap_err()
            .argument(),
        Some("v")
    );
    assert_eq!(
        sinkformer_attention(q.view(), normal((4, 3), 2).view(), v.view(), it)
            .unwrap_err()
            .argument(),
        Some("k")
    );
    assert_eq!(
        sinkformer_attention(q.view(), k.view(), v.view(), SinkformerStop::Iterations(0))
            .unwrap_err()
            .argument(),
        Some("iterations")
    );
    let bad = SinkformerStop::Threshold {
        threshold: 0.0,
        max_iterations: 10,
    };
    assert_eq!(
        sinkformer_attention(q.view(), k.view(), v.view(), bad)
            .unwrap_err()
            .argument(),
        Some("threshold")
    );
    let mut qn = q.clone();
    qn[[1, 1]] = f64::NAN;
    assert_eq!(
        sinkformer_attention(qn.view(), k.view(), v.view(), it)
            .unwrap_err()
            .argument(),
        Some("q")
    );
}

// ---------------------------------------------------------------- D3 anchor distances

fn rigid_motion(x: &Array2<f64>, angle: f64, shift: [f64; 2]) -> Array2<f64> {
    let (c, s) = (angle.cos(), angle.sin());
    Array2::from_shape_fn(x.dim(), |(i, d)| {
        let (a, b) = (x[[i, 0]], x[[i, 1]]);
        if d == 0 {
            c * a - s * b + shift[0]
        } else {
            s * a + c * b + shift[1]
        }
    })
}

#[test]
fn anchor_distances_are_isometry_invariant() {
    let x = normal((25, 2), 30);
    let y = normal((18, 2), 31).mapv(|v| 1.5 * v);
    let ax = AnchorDistributions::from_points(x.view()).unwrap();
    let ay = AnchorDistributions::from_points(y.view()).unwrap();
    let moved =
        AnchorDistributions::from_points(rigid_motion(&x, 0.7, [3.0, -2.0]).view()).unwrap();
    let (ae, aw) = (
        anchor_energy(&ax, &ay),
        anchor_wasserstein(&ax, &ay).unwrap(),
    );
    assert!(ae > 1e-3 && aw > 1e-3, "{ae} {aw}");
    assert!((anchor_energy(&moved, &ay) - ae).abs() < 1e-10);
    assert!((anchor_wasserstein(&moved, &ay).unwrap() - aw).abs() < 1e-10);
    assert!(anchor_energy(&ax, &moved).abs() < 1e-10);
    assert!(anchor_wasserstein(&ax, &moved).unwrap().abs() < 1e-10);
    assert!(anchor_energy(&ax, &ax).abs() < 1e-14);
    // Symmetric, and the energy is the mean-based formula on the cost matrices.
    assert!((anchor_energy(&ay, &ax) - ae).abs() < 1e-12);
    let mean = |p: &AnchorDistributions, q: &AnchorDistributions| {
        anchor_cost_matrix(p, q).unwrap().mean().unwrap()
    };
    let brute = 2.0 * mean(&ax, &ay) - mean(&ax, &ax) - mean(&ay, &ay);
    assert!((ae - brute).abs() < 1e-10 * brute.abs().max(1.0));
    // AW is at most the mean cost (the independent coupling is feasible).
    assert!(aw <= mean(&ax, &ay) + 1e-12);
}

#[test]
fn anchor_inputs_are_checked() {
    assert_eq!(
        AnchorDistributions::from_points(Array2::zeros((0, 2)).view())
            .unwrap_err()
            .argument(),
        Some("x")
    );
    assert_eq!(
        AnchorDistributions::from_distances(Array2::zeros((2, 3)).view())
            .unwrap_err()
            .argument(),
        Some("distances")
    );
    assert_eq!(
        AnchorDistributions::from_distances(array![[0.0, -1.0], [1.0, 0.0]].view())
            .unwrap_err()
            .argument(),
        Some("distances")
    );
    assert_eq!(
        AnchorDistributions::from_distances(array![[0.0, f64::NAN], [1.0, 0.0]].view())
            .unwrap_err()
            .argument(),
        Some("distances")
    );
}
