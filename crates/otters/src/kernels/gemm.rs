//! Small dense products through faer, on row-major slices.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `out = lhs · rhsᵀ` where `lhs` is `rows × k`, `rhs` is `cols × k` and `out` is
/// `rows × cols`, all row-major and contiguous. Sequential: callers parallelize over tiles.
pub(crate) fn mul_transposed(
    lhs: &[f64],
    rhs: &[f64],
    k: usize,
    out: &mut [f64],
    rows: usize,
    cols: usize,
) {
    debug_assert_eq!(lhs.len(), rows * k);
    debug_assert_eq!(rhs.len(), cols * k);
    debug_assert_eq!(out.len(), rows * cols);
    let lhs = MatRef::from_row_major_slice(lhs, rows, k);
    let rhs = MatRef::from_row_major_slice(rhs, cols, k).transpose();
    let out = MatMut::from_row_major_slice_mut(out, rows, cols);
    matmul(out, Accum::Replace, lhs, rhs, 1.0, Par::Seq);
}

#[cfg(test)]
mod tests {
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
