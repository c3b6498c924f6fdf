//! [`SparsePlan`]: a transport plan stored by its nonzero entries (exact and 1-D solvers
//! return at most n + m − 1 of them).

use ndarray::{Array1, Array2};

use crate::error::Result;
use crate::validate;

/// The nonzero entries `(row, col, mass)` of an `n × m` plan, sorted by row then column.
#[derive(Debug, Clone, PartialEq)]
pub struct SparsePlan {
    shape: (usize, usize),
    rows: Vec<usize>,
    cols: Vec<usize>,
    values: Vec<f64>,
}

impl SparsePlan {
    /// Builds a plan from unsorted triplets; entries must be in range (an internal
    /// invariant of the solvers). Zero entries are dropped.
    pub(crate) fn from_triplets(
        shape: (usize, usize),
        mut entries: Vec<(usize, usize, f64)>,
    ) -> Self {
        entries.retain(|e| e.2 != 0.0);
        entries.sort_unstable_by_key(|e| (e.0, e.1));
        debug_assert!(entries.iter().all(|e| e.0 < shape.0 && e.1 < shape.1));
        let (mut rows, mut cols, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (i, j, v) in entries {
            rows.push(i);
            cols.push(j);
            values.push(v);
        }
        SparsePlan {
            shape,
            rows,
            cols,
            values,
        }
    }

    /// `(n, m)`.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// Number of nonzero entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row indices of the nonzero entries.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// Column indices of the nonzero entries.
    pub fn cols(&self) -> &[usize] {
        &self.cols
    }

    /// Masses of the nonzero entries.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// `(row, col, mass)` for every nonzero entry.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.rows
            .iter()
            .zip(&self.cols)
            .zip(&self.values)
            .map(|((&i, &j), &v)| (i, j, v))
    }

    /// The row sums `P1`.
    pub fn row_sums(&self) -> Array1<f64> {
        let mut out = Array1::zeros(self.shape.0);
        self.iter().for_each(|(i, _, v)| out[i] += v);
        out
    }

    /// The column sums `Pᵀ1`.
    pub fn col_sums(&self) -> Array1<f64> {
        let mut out = Array1::zeros(self.shape.1);
        self.iter().for_each(|(_, j, v)| out[j] += v);
        out
    }

    /// The dense `n × m` matrix, refused above `limit_bytes`.
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) above the limit.
    pub fn to_dense(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        validate::matrix_bytes(
            "plan matrix",
            self.shape.0,
            self.shape.1,
            limit_bytes,
            "iterate over the sparse entries instead, or raise the limit",
        )?;
        let mut out = Array2::zeros(self.shape);
        self.iter().for_each(|(i, j, v)| out[[i, j]] += v);
        Ok(out)
    }
}
