//! Kernel micro-benchmarks (criterion): softmin sweeps in exp/s and the point-cloud
//! sweep in pairs/s, on one core and on all of them, next to the machine's own limits
//! measured in the same run (FMA throughput, memory read bandwidth).
//!
//! Run: `cargo bench -p otters --bench kernels`. Criterion prints `thrpt` per benchmark:
//! - `limits/fma`: f64 FMAs per second in registers (×2 = peak GFLOP/s of that thread count;
//!   the vector `exp` costs ~16 FMA-pipe operations, so exp/s ≤ FMA/s ÷ 16);
//! - `limits/read`: bytes per second reading 256 MiB (on huge pages, as numpy's arrays);
//! - `softmin/*`: exps per second (one exp per cost entry) for a row or column sweep, the
//!   guided (one-pass) sweep, and the fused iteration (two exps per entry);
//! - `cloud_d3/*`: pairs per second of the point-cloud sweep at d = 3 (tiles from a rank-5
//!   GEMM), exact two-pass and guided.

use std::hint::black_box;

#[path = "common/huge.rs"]
mod huge;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use huge::HugeBuffer;
use ndarray::{Array1, ArrayView2};
use otters::datasets;
use otters::geometry::{Axis, DenseCost, Geometry, PointCloud, ScaleCost, SoftminChain};

fn pools() -> Vec<(String, rayon::ThreadPool)> {
    let all = rayon::current_num_threads();
    let mut sizes = vec![1];
    if all > 1 {
        sizes.push(all);
    }
    sizes
        .into_iter()
        .map(|t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            (format!("{t}t"), pool)
        })
        .collect()
}

/// FMAs per call of [`fma_chains`] per loop iteration: 8 independent chains of 8 lanes,
/// enough to cover the FMA latency on two ports.
const FMAS_PER_ITER: usize = 64;

/// Independent vector FMA chains in registers: the machine's FMA throughput (AVX-512 when
/// the CPU has it, otherwise a portable loop that the compiler may or may not vectorize).
fn fma_chains(iters: usize, seed: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        #[target_feature(enable = "avx512f")]
        fn wide(iters: usize, seed: f64) -> f64 {
            use std::arch::x86_64::*;
            let (a, b) = (_mm512_set1_pd(0.999_999_9), _mm512_set1_pd(1e-9));
            let mut acc = [_mm512_set1_pd(seed); 8];
            for _ in 0..iters {
                for v in acc.iter_mut() {
                    *v = _mm512_fmadd_pd(*v, a, b);
                }
            }
            acc.iter().map(|v| _mm512_reduce_add_pd(*v)).sum()
        }
        // SAFETY: the CPU has AVX-512F (checked just above).
        #[allow(unsafe_code)]
        return unsafe { wide(iters, seed) };
    }
    let mut acc = [seed; FMAS_PER_ITER];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = v.mul_add(0.999_999_9, 1e-9);
        }
    }
    acc.iter().sum()
}

fn limits(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits");
    for (name, pool) in pools() {
        let threads = pool.current_num_threads();
        let iters = 1 << 16;
        group.throughput(Throughput::Elements(
            (iters * FMAS_PER_ITER * threads) as u64,
        ));
        group.bench_function(format!("fma/{name}"), |bench| {
            bench.iter(|| pool.broadcast(|ctx| fma_chains(black_box(iters), ctx.index() as f64)))
        });
        let buffer = HugeBuffer::from_slice(&vec![1.0f64; 32 << 20]);
        let data = buffer.as_slice();
        group.throughput(Throughput::Bytes((data.len() * 8) as u64));
        group.bench_function(format!("read/{name}"), |bench| {
            bench.iter(|| {
                pool.install(|| {
                    use rayon::prelude::*;
                    data.par_chunks(1 << 16)
                        .map(|ch| {
                            let mut s = [0.0; 8];
                            for w in ch.chunks_exact(8) {
                                for l in 0..8 {
                                    s[l] += w[l];
                                }
                            }
                            s.iter().sum::<f64>()
                        })
                        .sum::<f64>()
                })
            })
        });
    }
    group.finish();
}

fn softmin(c: &mut Criterion) {
    let (n, d) = (2000, 16);
    let x = datasets::gaussian(n, &vec![0.0; d], 1.0, 1);
    let y = datasets::gaussian(n, &vec![0.5; d], 1.0, 2);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view())
        .unwrap()
        .with_scale(ScaleCost::Max)
        .unwrap();
    let cost = cloud.cost_matrix(1 << 30).unwrap();
    let buffer = HugeBuffer::from_slice(cost.as_slice().unwrap());
    let dense = DenseCost::new(ArrayView2::from_shape((n, n), buffer.as_slice()).unwrap()).unwrap();
    let eps = 0.01;
    let h = Array1::zeros(n);
    let (mut s, mut t) = (Array1::zeros(n), Array1::zeros(n));
    dense
        .softmin(Axis::Rows, eps, h.view(), s.view_mut())
        .unwrap();
    dense
        .softmin(Axis::Cols, eps, h.view(), t.view_mut())
        .unwrap();
    let (s0, t0) = (s.clone(), t.clone());
    let mut group = c.benchmark_group("softmin");
    group.throughput(Throughput::Elements((n * n) as u64));
    for (name, pool) in pools() {
        group.bench_function(format!("dense_rows_two_pass/{name}"), |b| {
            b.iter(|| pool.install(|| dense.softmin(Axis::Rows, eps, h.view(), s.view_mut())))
        });
        group.bench_function(format!("dense_rows_guided/{name}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    dense.softmin_near(Axis::Rows, eps, h.view(), Some(s0.view()), s.view_mut())
                })
            })
        });
        group.bench_function(format!("dense_cols_guided/{name}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    dense.softmin_near(Axis::Cols, eps, h.view(), Some(t0.view()), t.view_mut())
                })
            })
        });
    }
    group.throughput(Throughput::Elements((2 * n * n) as u64));
    let link = |_: usize, _: usize, _: f64| 0.0;
    let chain = SoftminChain {
        eps_rows: eps,
        h: h.view().insert_axis(ndarray::Axis(0)),
        guess_rows: Some(s0.view().insert_axis(ndarray::Axis(0))),
        link: &link,
        eps_cols: eps,
        guess_cols: Some(t0.view().insert_axis(ndarray::Axis(0))),
    };
    for (name, pool) in pools() {
        group.bench_function(format!("dense_fused_iteration/{name}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    dense.softmin_chain(
                        &chain,
                        s.view_mut().insert_axis(ndarray::Axis(0)),
                        t.view_mut().insert_axis(ndarray::Axis(0)),
                    )
                })
            })
        });
    }
    group.finish();
}

fn cloud_d3(c: &mut Criterion) {
    let n = 4000;
    let x = datasets::gaussian(n, &[0.0; 3], 1.0, 1);
    let y = datasets::gaussian(n, &[0.5; 3], 1.0, 2);
    let cloud = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let eps = 0.01;
    let h = Array1::zeros(n);
    let mut s = Array1::zeros(n);
    cloud
        .softmin(Axis::Rows, eps, h.view(), s.view_mut())
        .unwrap();
    let s0 = s.clone();
    let mut group = c.benchmark_group("cloud_d3");
    group.throughput(Throughput::Elements((n * n) as u64));
    for (name, pool) in pools() {
        group.bench_function(format!("tiled_two_pass/{name}"), |b| {
            b.iter(|| pool.install(|| cloud.softmin(Axis::Rows, eps, h.view(), s.view_mut())))
        });
        group.bench_function(format!("tiled_guided/{name}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    cloud.softmin_near(Axis::Rows, eps, h.view(), Some(s0.view()), s.view_mut())
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = limits, softmin, cloud_d3
}
criterion_main!(benches);
