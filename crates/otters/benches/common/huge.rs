//! Benchmark buffers backed by transparent huge pages where Linux offers them
//! (`madvise(MADV_HUGEPAGE)`, as numpy does for its large arrays), so that the Rust
//! benchmarks read memory the way the Python harness's arrays are read. Elsewhere, or when
//! the kernel declines, they are plain heap buffers.

/// 2 MiB: the huge-page size of x86-64 Linux.
const ALIGN_BYTES: usize = 2 << 20;

/// A copy of some `f64` data starting on a 2 MiB boundary.
pub struct HugeBuffer {
    storage: Vec<f64>,
    offset: usize,
}

impl HugeBuffer {
    pub fn from_slice(data: &[f64]) -> Self {
        let mut storage: Vec<f64> = Vec::with_capacity(data.len() + ALIGN_BYTES / 8);
        let address = storage.as_mut_ptr() as usize;
        let offset = (ALIGN_BYTES - address % ALIGN_BYTES) % ALIGN_BYTES / 8;
        #[cfg(target_os = "linux")]
        // SAFETY: the range lies inside the vector's allocation (capacity ≥ offset + len) and
        // starts on a page boundary; madvise only changes how those pages are backed.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(
                (address + offset * 8) as *mut libc::c_void,
                data.len() * 8,
                libc::MADV_HUGEPAGE,
            );
        }
        // The pages are touched (and backed) only now, after the advice.
        storage.resize(offset, 0.0);
        storage.extend_from_slice(data);
        HugeBuffer { storage, offset }
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.storage[self.offset..]
    }
}
