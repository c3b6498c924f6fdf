//! Sweeps that can be sharded (issue 19, capability 4): a cost split into 1, 2 or 3 blocks
//! of rows, of columns, or a grid of blocks, gives bit-identical sweeps and bit-identical
//! Sinkhorn potentials, in f64 and f32, for stored costs and point clouds; blocks that are
//! not aligned on CHUNK, of mixed precisions or that cannot be swept in passes are refused.

mod common;

use common::Rng;
use ndarray::{Array1, Array2, ArrayView2, Axis as NdAxis, s};
use otters::geometry::{
    Axis, CHUNK, DenseCost, Geometry, Grid, PointCloud, Sharded, SqEuclidean, Sweep,
};
use otters::linear::{
    Acceleration, Epsilon, EpsilonScaling, LinearProblem, MarginalPenalty, Sinkhorn,
};

/// Row (or column) boundaries of `blocks` blocks over `n`, on multiples of CHUNK.
fn cuts(n: usize, blocks: usize) -> Vec<usize> {
    let per = (n / blocks).div_ceil(CHUNK).max(1) * CHUNK;
    let mut out: Vec<usize> = (0..blocks).map(|b| (b * per).min(n)).collect();
    out.push(n);
    out
}

/// The dense cost split into a `rb × cb` grid of blocks.
fn dense_grid<'a>(c: ArrayView2<'a, f64>, rb: usize, cb: usize) -> Sharded<'a> {
    let (r, k) = (cuts(c.nrows(), rb), cuts(c.ncols(), cb));
    let blocks = r
        .windows(2)
        .map(|rw| {
            k.windows(2)
                .map(|cw| {
                    let b = c.slice_move(s![rw[0]..rw[1], cw[0]..cw[1]]);
                    Box::new(DenseCost::new(b).unwrap()) as Box<dyn Geometry + 'a>
                })
                .collect()
        })
        .collect();
    Sharded::new(blocks).unwrap()
}

fn dense_grid32(c: &Array2<f32>, rb: usize, cb: usize) -> Sharded<'_> {
    let (r, k) = (cuts(c.nrows(), rb), cuts(c.ncols(), cb));
    let blocks = r
        .windows(2)
        .map(|rw| {
            k.windows(2)
                .map(|cw| {
                    let b = c.slice(s![rw[0]..rw[1], cw[0]..cw[1]]);
                    Box::new(DenseCost::new(b).unwrap()) as Box<dyn Geometry + '_>
                })
                .collect()
        })
        .collect();
    Sharded::new(blocks).unwrap()
}

/// The point clouds split by source points.
/// The point clouds split by source points: blocks of one parent cloud (the same cost values).
fn cloud_rows(x: &Array2<f64>, y: &Array2<f64>, rb: usize, f32_tiles: bool) -> Sharded<'static> {
    let parent = PointCloud::new(x.view(), y.view(), SqEuclidean)
        .unwrap()
        .with_tile(48, 256)
        .unwrap();
    let r = cuts(x.nrows(), rb);
    let blocks = r
        .windows(2)
        .map(|w| {
            let cloud = parent.block(w[0]..w[1], 0..y.nrows()).unwrap();
            if f32_tiles {
                Box::new(cloud.with_precision::<f32>()) as Box<dyn Geometry>
            } else {
                Box::new(cloud) as Box<dyn Geometry>
            }
        })
        .collect();
    Sharded::by_rows(blocks).unwrap()
}

/// The bits of a vector, folded into one number (a failed comparison prints two numbers,
/// not two vectors).
fn bits(a: &Array1<f64>) -> u64 {
    a.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
        (h ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3)
    })
}

fn solve_bits(
    geom: &dyn Geometry,
    solver: &Sinkhorn,
    penalty: MarginalPenalty,
) -> (u64, u64, usize) {
    let (n, m) = geom.shape();
    let mut rng = Rng::new(7);
    let (a, b) = (rng.weights(n, 1.0), rng.weights(m, 1.3));
    let b = if penalty == MarginalPenalty::Hard {
        &b / 1.3
    } else {
        b
    };
    let problem = LinearProblem::unbalanced(geom, a, b, penalty, penalty).unwrap();
    let out = solver.solve(&problem).unwrap();
    (
        bits(&out.f().to_owned()),
        bits(&out.g().to_owned()),
        out.iterations(),
    )
}

/// A sweep of a sharded geometry equals the unsplit geometry's own sweep, bit for bit, with
/// and without guesses (including guesses far enough off that some outputs fall back to
/// two passes), along both axes, in f64 and f32.
#[test]
fn sharded_sweeps_equal_the_unsplit_sweep() {
    let (n, m) = (2 * CHUNK + 300, CHUNK + 77);
    let mut rng = Rng::new(1);
    let c = rng.uniform_matrix(n, m) * 4.0;
    let c32 = c.mapv(|v| v as f32);
    let whole = DenseCost::new(c.view()).unwrap();
    let whole32 = DenseCost::new(c32.view()).unwrap();
    for (label, plain, splits) in [
        (
            "f64",
            &whole as &dyn Geometry,
            vec![
                dense_grid(c.view(), 1, 1),
                dense_grid(c.view(), 3, 1),
                dense_grid(c.view(), 2, 2),
            ],
        ),
        (
            "f32",
            &whole32,
            vec![
                dense_grid32(&c32, 1, 1),
                dense_grid32(&c32, 3, 1),
                dense_grid32(&c32, 2, 2),
            ],
        ),
    ] {
        for axis in [Axis::Rows, Axis::Cols] {
            let (n_out, n_red) = if axis == Axis::Rows { (n, m) } else { (m, n) };
            let h = Array2::from_shape_fn((2, n_red), |(p, j)| {
                ((j * (p + 3)) as f64 * 0.01).sin() * 3.0
            });
            let mut exact = Array2::zeros((2, n_out));
            let sweep = Sweep {
                axis,
                epsilon: 0.2,
                h: h.view(),
                guess: None,
            };
            plain.softmin_batch(&sweep, exact.view_mut()).unwrap();
            // Good guesses for most outputs, far ones (fallbacks) for every tenth.
            let guess = Array2::from_shape_fn((2, n_out), |(p, o)| {
                exact[[p, o]] + if o % 10 == 0 { 40.0 } else { 1e-3 }
            });
            for g in [None, Some(guess.view())] {
                let sweep = Sweep {
                    axis,
                    epsilon: 0.2,
                    h: h.view(),
                    guess: g,
                };
                let mut want = Array2::zeros((2, n_out));
                plain.softmin_batch(&sweep, want.view_mut()).unwrap();
                for split in &splits {
                    let mut got = Array2::zeros((2, n_out));
                    split.softmin_batch(&sweep, got.view_mut()).unwrap();
                    for (x, y) in got.iter().zip(&want) {
                        assert_eq!(
                            x.to_bits(),
                            y.to_bits(),
                            "{label} {axis:?} {:?}",
                            split.grid()
                        );
                    }
                }
            }
        }
    }
}

/// Sinkhorn on a stored cost split into 1, 2 and 3 blocks of rows (and a 2 × 2 grid) gives
/// the same potentials, bit for bit: balanced with Anderson acceleration, unbalanced KL
/// with translation-invariant updates and ε-scaling, total variation, in f64 and f32.
#[test]
fn sinkhorn_potentials_are_bit_identical_for_1_2_and_3_blocks() {
    let (n, m) = (2 * CHUNK + 500, CHUNK + 300);
    let mut rng = Rng::new(3);
    let x = rng.normal_matrix(n, 2);
    let y = rng.normal_matrix(m, 2) + 0.5;
    let c = common::sq_euclidean(&x, &y);
    let c32 = c.mapv(|v| v as f32);
    let solvers = [
        (
            Sinkhorn::new(Epsilon::Absolute(0.05)),
            MarginalPenalty::Hard,
        ),
        (
            Sinkhorn {
                scaling: EpsilonScaling::from_max_cost(0.7),
                ..Sinkhorn::new(Epsilon::Absolute(0.02))
            },
            MarginalPenalty::Kl { rho: 1.0 },
        ),
        (
            Sinkhorn {
                acceleration: Acceleration::None,
                ..Sinkhorn::new(Epsilon::Absolute(0.1))
            },
            MarginalPenalty::TotalVariation { rho: 0.5 },
        ),
    ];
    for (solver, penalty) in &solvers {
        let reference = solve_bits(&dense_grid(c.view(), 1, 1), solver, *penalty);
        assert!(reference.2 > 5, "a real solve: {} iterations", reference.2);
        for (rb, cb) in [(2, 1), (3, 1), (2, 2), (1, 2)] {
            let got = solve_bits(&dense_grid(c.view(), rb, cb), solver, *penalty);
            assert_eq!(got, reference, "{penalty:?}, {rb} x {cb} blocks");
        }
        let reference32 = solve_bits(&dense_grid32(&c32, 1, 1), solver, *penalty);
        assert_ne!(reference32.0, reference.0, "f32 is not f64");
        for (rb, cb) in [(3, 1), (2, 2)] {
            let got = solve_bits(&dense_grid32(&c32, rb, cb), solver, *penalty);
            assert_eq!(got, reference32, "f32 {penalty:?}, {rb} x {cb} blocks");
        }
    }
}

/// The same for point clouds split by source points, f64 and f32 tiles.
#[test]
fn point_cloud_blocks_give_the_same_potentials() {
    let (n, m) = (2 * CHUNK + 100, 900);
    let mut rng = Rng::new(4);
    let x = rng.normal_matrix(n, 3);
    let y = rng.normal_matrix(m, 3) * 0.8;
    let solver = Sinkhorn::new(Epsilon::Absolute(0.1));
    for f32_tiles in [false, true] {
        let reference = solve_bits(
            &cloud_rows(&x, &y, 1, f32_tiles),
            &solver,
            MarginalPenalty::Hard,
        );
        for rb in [2, 3] {
            let got = solve_bits(
                &cloud_rows(&x, &y, rb, f32_tiles),
                &solver,
                MarginalPenalty::Hard,
            );
            assert_eq!(got, reference, "f32 tiles: {f32_tiles}, {rb} blocks");
        }
    }
}

/// The other operations of a sharded geometry agree with the unsplit cost (to rounding).
#[test]
fn plans_costs_and_blocks_of_a_sharded_geometry() {
    let (n, m) = (CHUNK + 40, 70);
    let mut rng = Rng::new(5);
    let c = rng.uniform_matrix(n, m);
    let whole = DenseCost::new(c.view()).unwrap();
    let split = dense_grid(c.view(), 2, 1);
    assert_eq!(split.shape(), (n, m));
    assert_eq!(split.cost_matrix(1 << 30).unwrap(), c);
    let s = split.summary();
    let w = whole.summary();
    assert!((s.max - w.max).abs() < 1e-15 && (s.mean - w.mean).abs() < 1e-12);
    assert!((s.std - w.std).abs() < 1e-10);
    let problem = LinearProblem::uniform(&whole).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.1))
        .solve(&problem)
        .unwrap();
    let plan = out.log_plan();
    let (pw, ps) = (
        whole.plan_matrix(&plan, 1 << 30).unwrap(),
        split.plan_matrix(&plan, 1 << 30).unwrap(),
    );
    assert!(
        pw.iter()
            .zip(&ps)
            .all(|(a, b)| (a - b).abs() <= 1e-15 * a.abs().max(1e-300))
    );
    for (axis, len_in, len_out) in [(Axis::Rows, m, n), (Axis::Cols, n, m)] {
        let v = Array2::from_shape_fn((len_in, 2), |(j, c)| ((j * 7 + c) % 13) as f64);
        let (mut a, mut b) = (Array2::zeros((len_out, 2)), Array2::zeros((len_out, 2)));
        whole
            .apply_plan(axis, &plan, v.view(), a.view_mut())
            .unwrap();
        split
            .apply_plan(axis, &plan, v.view(), b.view_mut())
            .unwrap();
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + x.abs()))
        );
        whole.apply_cost(axis, v.view(), a.view_mut()).unwrap();
        split.apply_cost(axis, v.view(), b.view_mut()).unwrap();
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + x.abs()))
        );
    }
    let dot_w = whole.plan_dot_cost(&plan).unwrap();
    let dot_s = split.plan_dot_cost(&plan).unwrap();
    assert!((dot_w - dot_s).abs() <= 1e-12 * dot_w);
    let (rows, cols) = ([0, CHUNK, n - 1, 3], [5, 0, m - 1]);
    let (mut bw, mut bs) = (Array2::zeros((4, 3)), Array2::zeros((4, 3)));
    whole.cost_block(&rows, &cols, bw.view_mut()).unwrap();
    split.cost_block(&rows, &cols, bs.view_mut()).unwrap();
    assert_eq!(bw, bs);
}

/// Blocks that are not on CHUNK boundaries, of mixed precision, of mismatched shapes or
/// that cannot be swept in passes are refused with an error naming `blocks`.
#[test]
fn bad_splits_are_refused() {
    let c = Array2::<f64>::ones((CHUNK + 10, 20));
    let c32 = c.mapv(|v| v as f32);
    fn at(r: usize, c: &Array2<f64>) -> Vec<Box<dyn Geometry + '_>> {
        let (top, bottom) = c.view().split_at(NdAxis(0), r);
        vec![
            Box::new(DenseCost::new(top).unwrap()),
            Box::new(DenseCost::new(bottom).unwrap()),
        ]
    }
    let err = Sharded::by_rows(at(1000, &c)).unwrap_err();
    assert_eq!(err.argument(), Some("blocks"));
    assert!(
        err.to_string().contains("1024") && err.to_string().contains("1000"),
        "{err}"
    );
    assert!(Sharded::by_rows(at(CHUNK, &c)).is_ok());
    let (top32, _) = c32.view().split_at(NdAxis(0), CHUNK);
    let (_, bottom) = c.view().split_at(NdAxis(0), CHUNK);
    let err = Sharded::by_rows(vec![
        Box::new(DenseCost::new(top32).unwrap()),
        Box::new(DenseCost::new(bottom).unwrap()),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("precision"), "{err}");
    let axis = Array1::linspace(0.0, 1.0, 5);
    let grid = Grid::new(&[axis.view()]).unwrap();
    let err = Sharded::by_rows(vec![Box::new(grid)]).unwrap_err();
    assert!(err.to_string().contains("passes"), "{err}");
    let narrow = Array2::<f64>::ones((10, 19));
    let err = Sharded::by_rows(vec![
        Box::new(DenseCost::new(c.slice(s![..CHUNK, ..])).unwrap()),
        Box::new(DenseCost::new(narrow.view()).unwrap()),
    ])
    .unwrap_err();
    assert_eq!(err.argument(), Some("blocks"));
    assert!(Sharded::by_rows(vec![]).is_err());
}
