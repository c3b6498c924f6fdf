//! Dense products through faer: small sequential ones on row-major slices (tiles), and
//! parallel ones on ndarray views of any strides (quadratic OT's `Cx·P·Cyᵀ`).
#![allow(unsafe_code)] // zero-copy faer views of ndarray data: the workspace denies `unsafe` elsewhere.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2};

/// A faer view of an ndarray view (no copy; any strides, including negative ones).
fn faer_ref<'a>(a: &'a ArrayView2<'_, f64>) -> MatRef<'a, f64> {
    let (rows, cols) = a.dim();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    // SAFETY: the pointer, shape and strides come from a live ndarray view borrowed for 'a.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), rows, cols, rs, cs) }
}

/// `out ← alpha·lhs·rhs` (or `out += alpha·lhs·rhs` when `accumulate`), multi-threaded
/// on rayon's pool. Shapes are the caller's responsibility (checked in debug builds).
pub(crate) fn matmul_par(
    out: ArrayViewMut2<'_, f64>,
    lhs: ArrayView2<'_, f64>,
    rhs: ArrayView2<'_, f64>,
    alpha: f64,
    accumulate: bool,
) {
    product(out, lhs, rhs, alpha, accumulate, Par::rayon(0));
}

/// `out ← alpha·lhs·rhs` on one thread, for callers that parallelize over blocks (any
/// strides).
pub(crate) fn matmul_seq(
    out: ArrayViewMut2<'_, f64>,
    lhs: ArrayView2<'_, f64>,
    rhs: ArrayView2<'_, f64>,
    alpha: f64,
) {
    product(out, lhs, rhs, alpha, false, Par::Seq);
}

fn product(
    mut out: ArrayViewMut2<'_, f64>,
    lhs: ArrayView2<'_, f64>,
    rhs: ArrayView2<'_, f64>,
    alpha: f64,
    accumulate: bool,
    par: Par,
) {
    debug_assert_eq!(lhs.ncols(), rhs.nrows());
    debug_assert_eq!(out.dim(), (lhs.nrows(), rhs.ncols()));
    let (rows, cols) = out.dim();
    let (rs, cs) = (out.strides()[0], out.strides()[1]);
    // SAFETY: as in `faer_ref`, for the exclusively borrowed output.
    let out = unsafe { MatMut::from_raw_parts_mut(out.as_mut_ptr(), rows, cols, rs, cs) };
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(out, accum, faer_ref(&lhs), faer_ref(&rhs), alpha, par);
}

/// `out = lhs · rhsᵀ` where `lhs` is `rows × k`, `rhs` is `cols × k` and `out` is
/// `rows × cols`, all row-major and contiguous, in `f64` or `f32`. Sequential: callers
/// parallelize over tiles.
pub(crate) fn mul_transposed<T: faer::traits::ComplexField + Copy + num_one::One>(
    lhs: &[T],
    rhs: &[T],
    k: usize,
    out: &mut [T],
    rows: usize,
    cols: usize,
) {
    debug_assert_eq!(lhs.len(), rows * k);
    debug_assert_eq!(rhs.len(), cols * k);
    debug_assert_eq!(out.len(), rows * cols);
    let lhs = MatRef::from_row_major_slice(lhs, rows, k);
    let rhs = MatRef::from_row_major_slice(rhs, cols, k).transpose();
    let out = MatMut::from_row_major_slice_mut(out, rows, cols);
    matmul(out, Accum::Replace, lhs, rhs, T::ONE, Par::Seq);
}

/// The multiplicative identity of the GEMM scalars.
pub(crate) mod num_one {
    /// `1` in `f32` and `f64`.
    pub trait One {
        /// One.
        const ONE: Self;
    }
    impl One for f64 {
        const ONE: f64 = 1.0;
    }
    impl One for f32 {
        const ONE: f32 = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    #[test]
    fn parallel_product_handles_any_strides() {
        let lhs = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64 * 0.3 - 2.0);
        let rhs = Array2::from_shape_fn((5, 4).f(), |(i, j)| ((i + 2 * j) as f64).cos());
        let want = lhs.dot(&rhs);
        let mut out = Array2::zeros((4, 7)); // written through a transposed view
        super::matmul_par(
            out.view_mut().reversed_axes(),
            lhs.view(),
            rhs.view(),
            1.0,
            false,
        );
        assert!((&out.t() - &want).iter().all(|d| d.abs() < 1e-12));
        super::matmul_par(
            out.view_mut().reversed_axes(),
            lhs.view(),
            rhs.view(),
            -2.0,
            true,
        );
        assert!((&out.t() + &want).iter().all(|d| d.abs() < 1e-12));
        // Reversed axes (negative strides).
        let flipped = lhs.slice(ndarray::s![..;-1, ..]);
        let mut o2 = Array2::zeros((7, 4));
        super::matmul_par(o2.view_mut(), flipped, rhs.view(), 1.0, false);
        assert!((&o2 - &flipped.dot(&rhs)).iter().all(|d| d.abs() < 1e-12));
    }

    #[test]
    fn matches_naive_product() {
        let (rows, cols, k) = (5, 3, 4);
        let lhs: Vec<f64> = (0..rows * k).map(|v| v as f64 * 0.5 - 3.0).collect();
        let rhs: Vec<f64> = (0..cols * k).map(|v| (v as f64).sin()).collect();
        let mut out = vec![0.0; rows * cols];
        super::mul_transposed(&lhs, &rhs, k, &mut out, rows, cols);
        for i in 0..rows {
            for j in 0..cols {
                let want: f64 = (0..k).map(|t| lhs[i * k + t] * rhs[j * k + t]).sum();
                assert!((out[i * cols + j] - want).abs() < 1e-12);
            }
        }
    }
}
