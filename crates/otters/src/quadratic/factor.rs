//! Exact low-rank factorization `C = A·Bᵀ` of a stored cost, when one exists, by adaptive
//! cross approximation with full pivoting (Bebendorf 2000): repeatedly subtract the
//! rank-one cross through the largest remaining entry. A squared-Euclidean distance matrix
//! in `d` dimensions has rank at most `d + 2`, so GW on such costs needs `O(nmr)` products
//! instead of `O(n²m)` GEMMs. The residual is checked entry by entry; the factors are used
//! only when every entry is reproduced to `TOLERANCE` relative to the largest.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Zip, s};

use crate::kernels::argmin::max_abs;

/// Largest residual entry accepted, relative to the largest entry of `C`.
const TOLERANCE: f64 = 1e-13;

/// `(A, B)` with `C ≈ A·Bᵀ` to [`TOLERANCE`], or `None` when the rank would exceed
/// `max_rank` (the full products are then cheaper or as cheap).
pub(crate) fn low_rank(
    c: ArrayView2<'_, f64>,
    max_rank: usize,
) -> Option<(Array2<f64>, Array2<f64>)> {
    let (n, m) = c.dim();
    let mut residual = c.as_standard_layout().into_owned();
    // The largest entry of C is the first pivot; its magnitude is the scale.
    let (mut pi, mut pj, mut pivot) = first_largest(
        Zip::from(residual.rows())
            .par_map_collect(|row| row_largest(row.as_slice().expect("owned"))),
    );
    let scale = pivot.abs();
    if !scale.is_finite() {
        return None;
    }
    let max_rank = max_rank.min(n).min(m);
    let mut a = Array2::zeros((n, max_rank));
    let mut b = Array2::zeros((m, max_rank));
    for k in 0..=max_rank {
        if pivot.abs() <= TOLERANCE * scale {
            return Some((
                a.slice(s![.., ..k]).to_owned(),
                b.slice(s![.., ..k]).to_owned(),
            ));
        }
        if k == max_rank {
            return None;
        }
        let col = residual.column(pj).to_owned();
        let row = residual.row(pi).to_owned() / pivot;
        let row = row.as_slice().expect("owned");
        // Subtract the cross and find the next pivot in the same pass.
        (pi, pj, pivot) = first_largest(Zip::from(residual.rows_mut()).and(&col).par_map_collect(
            |mut r, &ci| {
                let r = r.as_slice_mut().expect("owned");
                r.iter_mut().zip(row).for_each(|(x, &y)| *x += -ci * y);
                row_largest(r)
            },
        ));
        a.column_mut(k).assign(&col);
        b.column_mut(k).assign(&ArrayView1::from(row));
    }
    None
}

/// `(j, x_j)` of the entry of largest magnitude in a row (the first on ties; `(0, 0)` when
/// every entry is zero or NaN).
fn row_largest(row: &[f64]) -> (usize, f64) {
    match max_abs(row, false) {
        (_, usize::MAX) => (0, 0.0),
        (_, j) => (j, row[j]),
    }
}

/// `(i, j, C_ij)` of the largest of the rows' largest entries (the first row on ties).
fn first_largest(per_row: Array1<(usize, f64)>) -> (usize, usize, f64) {
    let (i, (j, v)) =
        per_row
            .into_iter()
            .enumerate()
            .fold((0, (0, 0.0f64)), |best, (i, (j, v))| {
                if v.abs() > best.1.1.abs() {
                    (i, (j, v))
                } else {
                    best
                }
            });
    (i, j, v)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    #[test]
    fn squared_distances_factor_at_rank_d_plus_2() {
        let n = 40;
        let x = Array2::from_shape_fn((n, 3), |(i, k)| ((i * 7 + k * 3) as f64 * 0.37).sin() * 2.0);
        let c = Array2::from_shape_fn((n, n), |(i, j)| {
            (0..3).map(|k| (x[[i, k]] - x[[j, k]]).powi(2)).sum::<f64>()
        });
        let (a, b) = super::low_rank(c.view(), 16).expect("rank <= 5");
        assert!(a.ncols() <= 5, "rank {}", a.ncols());
        let err = (&a.dot(&b.t()) - &c)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err <= 1e-12 * 20.0, "max error {err:e}");
    }

    #[test]
    fn a_full_rank_cost_is_refused_and_zero_has_rank_zero() {
        let n = 30;
        let c = Array2::from_shape_fn((n, n), |(i, j)| {
            ((i * 31 + j * 17) % 13) as f64 + (i == j) as u8 as f64
        });
        assert!(super::low_rank(c.view(), 8).is_none());
        let (a, b) = super::low_rank(Array2::<f64>::zeros((4, 5)).view(), 3).unwrap();
        assert_eq!((a.ncols(), b.ncols()), (0, 0));
    }
}
