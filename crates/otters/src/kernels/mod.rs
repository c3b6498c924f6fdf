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
pub(crate) mod lse;
pub(crate) mod tiles;

/// Asks the CPU to bring `data` into the L2 cache ahead of use (a hint; no effect on
/// results, a no-op off x86-64).
#[inline]
pub(crate) fn prefetch(data: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    for line in data.chunks(8) {
        // SAFETY: prefetching is a hint that never faults; the pointer is in bounds.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(
                line.as_ptr().cast(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}
