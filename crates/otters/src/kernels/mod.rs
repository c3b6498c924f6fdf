//! The hot loops: vectorized `exp`, log-sum-exp reductions, tiled sweeps, GEMM glue.
//!
//! Nothing here knows about optimal transport; geometries call these kernels. Parallel
//! drivers split work by output index only and reduce in a fixed order, so results are
//! bit-identical whatever the number of threads.

pub(crate) mod argmin;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod exp;
pub(crate) mod gemm;
pub(crate) mod log;
pub(crate) mod lse;
pub(crate) mod tiles;
