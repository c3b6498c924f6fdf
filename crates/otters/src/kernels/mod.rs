//! The hot loops: vectorized `exp` (f64 and f32), exact sums, the chunked softmin sweeps,
//! tiled operations, GEMM glue. The only place for `unsafe` (AVX-512 intrinsics behind a
//! CPU-feature token, zero-copy faer views).
//!
//! Nothing here knows about optimal transport; geometries call these kernels. Parallel
//! drivers split work by output index only and reduce in a fixed order (or exactly), so
//! results are bit-identical whatever the number of threads.

/// Which index a sweep produces: `Rows` gives one value per row `i` (reducing over `j`),
/// `Cols` one value per column `j` (reducing over `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// One output per row of `C`; the sum runs over columns.
    Rows,
    /// One output per column of `C`; the sum runs over rows.
    Cols,
}

pub(crate) mod argmin;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod exact;
pub(crate) mod exp;
pub(crate) mod gemm;
pub(crate) mod log;
pub(crate) mod lse;
pub(crate) mod lse32;
pub(crate) mod scalar;
pub(crate) mod sweep;
pub(crate) mod tiles;
