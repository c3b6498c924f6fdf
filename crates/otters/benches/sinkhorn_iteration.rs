//! Seconds per Sinkhorn iteration (two softmin sweeps) on the W2 workload of
//! BENCHMARKS.md: n = m = 5000, d = 64, cost / max(C), ε = 0.01; DenseCost (on huge pages,
//! as a numpy array) and PointCloud side by side, in f64 and f32, plain iterations (one fused
//! pass over a stored cost) and Anderson-accelerated ones (two sweeps plus the mixing), plus
//! the throughput of a single softmin sweep in exp/s; then the W3 workload (point clouds in
//! d = 3, n = m = 20000, ε = 0.01, never stored) in f64 and f32.
//!
//! Run: `cargo bench -p otters --bench sinkhorn_iteration [-- n d [w3_n]]`. Prints medians
//! of repeated runs; asserts nothing. Per-iteration time is the slope between a short and a
//! long solve, so set-up (cost statistics, plan-free output) cancels out.

use std::time::Instant;

#[path = "common/huge.rs"]
mod huge;

use huge::HugeBuffer;
use ndarray::{Array1, ArrayView2};
use otters::datasets;
use otters::geometry::{Axis, DenseCost, Geometry, PointCloud, ScaleCost};
use otters::linear::{Acceleration, Epsilon, LinearProblem, Sinkhorn};

const REPEATS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time_solve(geom: &dyn Geometry, acceleration: Acceleration, iterations: usize) -> f64 {
    let problem = LinearProblem::uniform(geom).expect("valid problem");
    let solver = Sinkhorn {
        threshold: 1e-300,
        max_iterations: iterations,
        acceleration,
        ..Sinkhorn::new(Epsilon::Absolute(0.01))
    };
    let start = Instant::now();
    let out = solver.solve(&problem).expect("solve");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(out.iterations(), iterations);
    seconds
}

fn per_iteration(
    geom: &dyn Geometry,
    acceleration: Acceleration,
    (short, long): (usize, usize),
    repeats: usize,
) -> f64 {
    let slopes: Vec<f64> = (0..repeats)
        .map(|_| {
            (time_solve(geom, acceleration, long) - time_solve(geom, acceleration, short))
                / (long - short) as f64
        })
        .collect();
    median(slopes)
}

fn sweep_rate(geom: &dyn Geometry) -> f64 {
    let (n, m) = geom.shape();
    let h = Array1::zeros(m);
    let mut out = Array1::zeros(n);
    let times: Vec<f64> = (0..REPEATS * 2)
        .map(|_| {
            let start = Instant::now();
            geom.softmin(Axis::Rows, 0.01, h.view(), out.view_mut())
                .expect("sweep");
            start.elapsed().as_secs_f64()
        })
        .collect();
    (n * m) as f64 / median(times)
}

/// The machine's exp rate on all threads: the kernels' vectorized exponential over arrays
/// that stay in the L1 cache (`T` = f64 or f32), in exps per second — the bound every
/// streamed sweep is measured against (one exp per cost entry per sweep).
fn exp_limit<T: Copy + Send + Sync + From<i8>>(exp: fn(&mut [T])) -> f64 {
    let len = 2048;
    let reps = 20_000;
    let threads = rayon::current_num_threads();
    let times: Vec<f64> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            rayon::broadcast(|_| {
                let mut x = vec![T::from(-1); len];
                for _ in 0..reps {
                    exp(&mut x);
                    x.iter_mut().for_each(|v| *v = T::from(-1));
                }
                std::hint::black_box(&x);
            });
            start.elapsed().as_secs_f64()
        })
        .collect();
    (len * reps * threads) as f64 / median(times)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, d) = (
        args.first().copied().unwrap_or(5000),
        args.get(1).copied().unwrap_or(64),
    );
    let threads = rayon::current_num_threads();
    let (limit64, limit32) = (
        exp_limit::<f64>(otters::bench_support::exp_f64),
        exp_limit::<f32>(otters::bench_support::exp_f32),
    );
    println!(
        "exp rate in L1 ({threads} threads, including a refill store): f64 {:.2} G/s, f32 {:.2} G/s",
        limit64 / 1e9,
        limit32 / 1e9
    );
    let x = datasets::gaussian(n, &vec![0.0; d], 1.0, 1);
    let y = datasets::gaussian(n, &vec![0.5; d], 1.0, 2);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .unwrap()
        .with_scale(ScaleCost::Max)
        .unwrap();
    let cost = cloud.cost_matrix(otters::DEFAULT_MEMORY_LIMIT).unwrap();
    // On huge pages, as a numpy array from Python would be.
    let buffer = HugeBuffer::from_slice(cost.as_slice().unwrap());
    let dense = DenseCost::new(ArrayView2::from_shape((n, n), buffer.as_slice()).unwrap()).unwrap();
    let cost32: Vec<f32> = cost.iter().map(|&v| v as f32).collect();
    drop(cost);
    let dense32 = DenseCost::new(ArrayView2::from_shape((n, n), &cost32[..]).unwrap()).unwrap();
    let cloud32 = cloud.clone().with_precision::<f32>();
    println!(
        "Sinkhorn iteration, n = m = {n}, d = {d}, cost/max, eps = 0.01, {threads} threads (median of {REPEATS})"
    );
    println!(
        "{:<12} {:<8} {:<10} {:>14} {:>18}",
        "geometry", "dtype", "iterations", "ms / iteration", "softmin exp/s"
    );
    let anderson = Acceleration::default();
    for (name, dtype, geom) in [
        ("DenseCost", "f64", &dense as &dyn Geometry),
        ("DenseCost", "f32", &dense32),
        ("PointCloud", "f64", &cloud),
        ("PointCloud", "f32", &cloud32),
    ] {
        for (acceleration, label) in [(Acceleration::None, "plain"), (anderson, "Anderson")] {
            let it = per_iteration(geom, acceleration, (10, 30), REPEATS);
            let rate = sweep_rate(geom);
            println!(
                "{name:<12} {dtype:<8} {label:<10} {:>14.2} {:>15.2} G",
                it * 1e3,
                rate / 1e9
            );
        }
    }
    let exps = 2.0 * (n * n) as f64;
    println!(
        "exp bound at the measured rates: f64 {:.2} ms / iteration, f32 {:.2} ms / iteration",
        exps / limit64 * 1e3,
        exps / limit32 * 1e3
    );
    let w3 = args.get(2).copied().unwrap_or(20000);
    let x = datasets::gaussian(w3, &[0.0; 3], 1.0, 3);
    let y = datasets::gaussian(w3, &[0.5; 3], 1.0, 4);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let cloud32 = cloud.clone().with_precision::<f32>();
    println!("\nW3: point clouds, d = 3, n = m = {w3}, eps = 0.01, plain iterations (median of 3)");
    for (dtype, geom) in [("f64", &cloud as &dyn Geometry), ("f32", &cloud32)] {
        let it = per_iteration(geom, Acceleration::None, (2, 6), 3);
        println!(
            "PointCloud   {dtype:<8} {:>14.2} ms / iteration, {:.2} G pairs/s",
            it * 1e3,
            2.0 * (w3 * w3) as f64 / it / 1e9
        );
    }
}
