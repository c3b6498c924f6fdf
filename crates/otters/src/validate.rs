//! Input checks shared by the constructors of geometries and problems.
//!
//! Validation happens once, when an object is built ("parse, don't validate"); a value that
//! exists is valid. Every check returns an [`Error`] that names the argument.

use ndarray::{ArrayView1, ArrayView2};

use crate::error::{Error, Index, Result};

/// Default limit for materializing an `n × m` array of `f64`: 2 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// Checks a weight vector (finite, non-negative, non-empty, positive mass); returns its mass.
pub(crate) fn weights(arg: &'static str, w: ArrayView1<'_, f64>) -> Result<f64> {
    if w.is_empty() {
        return Err(Error::Empty {
            arg,
            what: "weight",
        });
    }
    for (i, &v) in w.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                arg,
                index: Index::Vector(i),
                value: v,
            });
        }
        if v < 0.0 {
            return Err(Error::NegativeWeight {
                arg,
                index: i,
                value: v,
            });
        }
    }
    let mass = compensated_sum(w.iter().copied());
    if mass <= 0.0 {
        return Err(Error::ZeroMass { arg });
    }
    Ok(mass)
}

/// Checks that every entry of a point array is finite and that it has at least one point
/// of dimension at least one.
pub(crate) fn points(arg: &'static str, x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::Empty { arg, what: "point" });
    }
    if x.ncols() == 0 {
        return Err(Error::Shape {
            arg,
            expected: "points of dimension >= 1".into(),
            got: format!("{} x 0", x.nrows()),
        });
    }
    finite_matrix(arg, x)
}

/// [`Error::NonFinite`] naming the first (row-major) entry that is NaN or infinite.
pub(crate) fn finite_matrix(arg: &'static str, x: ArrayView2<'_, f64>) -> Result<()> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), &value)) => Err(Error::NonFinite {
            arg,
            index: Index::Matrix(i, j),
            value,
        }),
        None => Ok(()),
    }
}

/// Bytes of an `rows × cols` array of `f64`, or [`Error::TooLarge`] above `limit`
/// (multiplication is checked, so crafted sizes cannot overflow).
pub(crate) fn matrix_bytes(
    what: &str,
    rows: usize,
    cols: usize,
    limit: usize,
    hint: &'static str,
) -> Result<usize> {
    let needed = rows
        .checked_mul(cols)
        .and_then(|e| e.checked_mul(size_of::<f64>()));
    match needed {
        Some(bytes) if bytes <= limit => Ok(bytes),
        _ => Err(Error::TooLarge {
            what: format!("{what} ({rows} x {cols} f64)"),
            needed_bytes: needed.unwrap_or(usize::MAX),
            limit_bytes: limit,
            hint,
        }),
    }
}

/// Checks a strictly positive, finite parameter.
pub(crate) fn positive(arg: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::invalid(arg, "must be finite and > 0", value))
    }
}

/// Neumaier's compensated sum: masses are compared at a relative 1e-9, so the naive sum's
/// O(n·ulp) error on long vectors must not decide a mismatch.
pub(crate) fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            comp += (sum - t) + v;
        } else {
            comp += (v - t) + sum;
        }
        sum = t;
    }
    sum + comp
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn weights_are_checked_with_the_argument_named() {
        assert_eq!(weights("a", array![0.5, 0.5].view()), Ok(1.0));
        let err = weights("b", array![0.5, -0.1].view()).unwrap_err();
        assert_eq!(
            err,
            Error::NegativeWeight {
                arg: "b",
                index: 1,
                value: -0.1
            }
        );
        assert!(err.to_string().contains("`b`"));
        let err = weights("a", array![f64::NAN].view()).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                arg: "a",
                index: Index::Vector(0),
                ..
            }
        ));
        assert_eq!(
            weights("a", array![0.0, 0.0].view()),
            Err(Error::ZeroMass { arg: "a" })
        );
        assert!(matches!(
            weights("a", ndarray::Array1::zeros(0).view()),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn byte_counts_do_not_overflow() {
        assert_eq!(matrix_bytes("plan", 10, 10, 1 << 20, ""), Ok(800));
        let err = matrix_bytes("plan", 1 << 33, 1 << 33, DEFAULT_MEMORY_LIMIT, "").unwrap_err();
        assert!(matches!(
            err,
            Error::TooLarge {
                needed_bytes: usize::MAX,
                ..
            }
        ));
    }

    #[test]
    fn compensated_sum_is_exact_on_a_cancelling_sequence() {
        let v = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(compensated_sum(v.iter().copied()), 2.0);
    }
}
