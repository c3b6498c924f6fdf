//! Pairwise matrices between k measures agree with the pair-by-pair solves they replace
//! (bit for bit for the batched entropic solves), and with closed forms for exact costs.

use ndarray::{Array1, Array2, ArrayView1};
use otters::divergence::SinkhornDivergence;
use otters::geometry::{DenseCost, Euclidean, PointCloud, SqEuclidean};
use otters::linear::{Epsilon, LinearProblem, NetworkSimplex, Sinkhorn};
use otters::pairwise::{Pairwise, PairwiseCost};
use otters::{Error, Observer};

/// `k` random histograms on `n` bins (some empty bins), each of mass 1.
fn histograms(k: usize, n: usize, seed: u64) -> Array2<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut h = Array2::from_shape_fn((k, n), |_| {
        let u = next();
        if u < 0.1 { 0.0 } else { u }
    });
    for mut row in h.rows_mut() {
        let s = row.sum();
        row /= s;
    }
    h
}

fn line_cost(n: usize, p: i32) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        ((i as f64 - j as f64) / n as f64).abs().powi(p)
    })
}

#[test]
fn batched_histogram_values_equal_the_pair_by_pair_solves() {
    let (k, n) = (7, 60);
    let h = histograms(k, n, 3);
    let cost = line_cost(n, 2);
    let geom = DenseCost::new(cost.view()).unwrap();
    let sinkhorn = Sinkhorn {
        threshold: 1e-9,
        ..Sinkhorn::new(Epsilon::Absolute(0.005))
    };
    for group in [1, 4, 64] {
        // Settings are #[non_exhaustive]: built from `new` or `default`, then set by field.
        let mut pairwise = Pairwise::new(PairwiseCost::Sinkhorn, sinkhorn);
        pairwise.group = group;
        let out = pairwise
            .histograms(&geom, h.view(), &Observer::new())
            .unwrap();
        assert!(out.all_converged());
        // Each pair i ≤ j is solved once, as the problem (h_i, h_j); the matrix is symmetric.
        for i in 0..k {
            for j in i..k {
                let problem = LinearProblem::new(&geom, h.row(i), h.row(j)).unwrap();
                let single = sinkhorn.solve(&problem).unwrap();
                let want = single.linear_cost(&problem).unwrap();
                assert_eq!(
                    out.values()[[i, j]].to_bits(),
                    want.to_bits(),
                    "({i}, {j}) group {group}"
                );
                assert_eq!(out.values()[[j, i]], out.values()[[i, j]]);
                let swapped = LinearProblem::new(&geom, h.row(j), h.row(i)).unwrap();
                let other = sinkhorn
                    .solve(&swapped)
                    .unwrap()
                    .linear_cost(&swapped)
                    .unwrap();
                assert!(
                    (other - want).abs() <= 1e-6 * want,
                    "({j}, {i}): {other} vs {want}"
                );
            }
        }
    }
    let divergence = Pairwise::new(PairwiseCost::Divergence, sinkhorn)
        .histograms(&geom, h.view(), &Observer::new())
        .unwrap();
    for i in 0..k {
        assert_eq!(divergence.values()[[i, i]], 0.0);
        for j in 0..k {
            if i == j {
                continue;
            }
            let problem = LinearProblem::new(&geom, h.row(i), h.row(j)).unwrap();
            let want = SinkhornDivergence { sinkhorn }
                .solve(&problem, &geom, &geom)
                .unwrap()
                .value();
            let got = divergence.values()[[i, j]];
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1e-3),
                "({i}, {j}): {got} vs {want}"
            );
            assert!(got > 0.0);
        }
    }
}

/// On a line with the cost |x − y|, the exact cost is the L1 distance between the CDFs.
#[test]
fn exact_histogram_costs_are_the_cdf_distances_on_a_line() {
    let (k, n) = (6, 40);
    let h = histograms(k, n, 9);
    let cost = line_cost(n, 1);
    let geom = DenseCost::new(cost.view()).unwrap();
    let out = Pairwise::new(PairwiseCost::Exact, Sinkhorn::default())
        .histograms(&geom, h.view(), &Observer::new())
        .unwrap();
    assert!(out.all_converged());
    for i in 0..k {
        for j in 0..k {
            let (mut ci, mut cj, mut w1) = (0.0, 0.0, 0.0);
            for b in 0..n - 1 {
                ci += h[[i, b]];
                cj += h[[j, b]];
                w1 += (ci - cj).abs() / n as f64;
            }
            let got = out.values()[[i, j]];
            assert!((got - w1).abs() <= 1e-12, "({i}, {j}): {got} vs {w1}");
        }
    }
}

fn cloud(n: usize, d: usize, shift: f64, seed: u64) -> Array2<f64> {
    let u = histograms(1, n * d, seed);
    Array2::from_shape_fn((n, d), |(i, c)| {
        u[[0, i * d + c]] * (n * d) as f64 + shift * c as f64
    })
}

#[test]
fn point_cloud_values_equal_the_pair_by_pair_solves() {
    let clouds: Vec<Array2<f64>> = (0..4)
        .map(|s| cloud(30 + 5 * s, 2, s as f64 * 0.3, s as u64 + 1))
        .collect();
    let views: Vec<_> = clouds.iter().map(|c| c.view()).collect();
    let sinkhorn = Sinkhorn {
        threshold: 1e-9,
        ..Sinkhorn::new(Epsilon::Absolute(0.05))
    };
    let out = Pairwise::new(PairwiseCost::Divergence, sinkhorn)
        .point_clouds(&views, None, &SqEuclidean, &Observer::new())
        .unwrap();
    assert!(out.all_converged());
    for i in 0..4 {
        for j in 0..4 {
            if i == j {
                assert_eq!(out.values()[[i, j]], 0.0);
                continue;
            }
            let pc = PointCloud::new(views[i], views[j], SqEuclidean).unwrap();
            let want = SinkhornDivergence { sinkhorn }
                .solve_clouds(&pc, None, None, otters::linear::MarginalPenalty::Hard)
                .unwrap()
                .value();
            let got = out.values()[[i, j]];
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "({i}, {j}): {got} vs {want}"
            );
        }
    }
    // Relative ε would differ from pair to pair: refused, naming epsilon.
    let err = Pairwise::new(PairwiseCost::Sinkhorn, Sinkhorn::default())
        .point_clouds(&views, None, &SqEuclidean, &Observer::new())
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidParameter { arg: "epsilon", .. }),
        "{err}"
    );
}

/// Equal-size uniform clouds in 1-D: W₁ is the mean gap between the sorted points.
#[test]
fn exact_point_cloud_costs_match_sorting_in_one_dimension() {
    let clouds: Vec<Array2<f64>> = (0..5).map(|s| cloud(25, 1, 0.0, 40 + s)).collect();
    let views: Vec<_> = clouds.iter().map(|c| c.view()).collect();
    let weights: Vec<Array1<f64>> = (0..5).map(|_| Array1::from_elem(25, 0.04)).collect();
    let wv: Vec<ArrayView1<'_, f64>> = weights.iter().map(|w| w.view()).collect();
    let out = Pairwise::new(PairwiseCost::Exact, Sinkhorn::default())
        .point_clouds(&views, Some(&wv), &Euclidean, &Observer::new())
        .unwrap();
    let sorted = |c: &Array2<f64>| {
        let mut v: Vec<f64> = c.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        v
    };
    for i in 0..5 {
        for j in 0..5 {
            let (x, y) = (sorted(&clouds[i]), sorted(&clouds[j]));
            let w1: f64 = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).sum::<f64>() / 25.0;
            let got = out.values()[[i, j]];
            assert!(
                (got - w1).abs() <= 1e-12 * (1.0 + w1),
                "({i}, {j}): {got} vs {w1}"
            );
        }
    }
    let exact = NetworkSimplex::default();
    let pc = PointCloud::new(views[0], views[1], Euclidean).unwrap();
    let single = exact
        .solve(&LinearProblem::new(&pc, weights[0].view(), weights[1].view()).unwrap())
        .unwrap();
    assert!((single.cost() - out.values()[[0, 1]]).abs() <= 1e-14);
}

#[test]
fn bad_inputs_are_refused_by_name() {
    let cost = line_cost(5, 2);
    let geom = DenseCost::new(cost.view()).unwrap();
    let pw = Pairwise::new(
        PairwiseCost::Sinkhorn,
        Sinkhorn::new(Epsilon::Absolute(0.1)),
    );
    let err = pw
        .histograms(&geom, Array2::zeros((3, 4)).view(), &Observer::new())
        .unwrap_err();
    assert!(matches!(err, Error::Shape { arg: "geom", .. }), "{err}");
    let mut h = histograms(3, 5, 1);
    h[[1, 2]] = f64::NAN;
    let err = pw
        .histograms(&geom, h.view(), &Observer::new())
        .unwrap_err();
    assert!(matches!(err, Error::InBatch { .. }), "{err}");
    // One measure: a 1 x 1 matrix (zero for the exact cost and the divergence).
    let one = histograms(1, 5, 2);
    for c in [PairwiseCost::Exact, PairwiseCost::Divergence] {
        let out = Pairwise::new(c, Sinkhorn::new(Epsilon::Absolute(0.1)))
            .histograms(&geom, one.view(), &Observer::new())
            .unwrap();
        assert_eq!(out.values().dim(), (1, 1));
        assert_eq!(out.values()[[0, 0]], 0.0);
    }
    assert!("emd2".parse::<PairwiseCost>().is_err());
    for c in [
        PairwiseCost::Sinkhorn,
        PairwiseCost::Divergence,
        PairwiseCost::Exact,
    ] {
        assert_eq!(c.to_string().parse::<PairwiseCost>().unwrap(), c);
    }
}
