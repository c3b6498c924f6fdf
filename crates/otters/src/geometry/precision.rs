//! The precision a cost is stored or computed in: `f64` (the default) or `f32`.
//!
//! With `f32` costs, the exponent `h − C/ε` and its exponential are evaluated in `f32` lanes
//! (twice as many per instruction, half the bytes read from a stored cost), while every sum
//! of exponentials, every potential and every reported value stays `f64`. The results are
//! those of the `f64` solver on the cost rounded to `f32`, up to a relative perturbation of
//! the exponents of about `2⁻²⁴·max|C|/ε` (measured in `tests/precision.rs` and documented in
//! the README).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::kernels::scalar::Kernels;

/// The precision of a cost's storage and of the exponentials of its sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Precision {
    /// 64-bit floats (the default).
    #[default]
    F64,
    /// 32-bit floats for the cost and the exponentials; sums and potentials stay 64-bit.
    F32,
}

impl Precision {
    /// The names accepted by [`FromStr`] (the CLI's `--precision` and Python's `dtype=`).
    pub const NAMES: &'static [&'static str] = &["float64", "float32", "f64", "f32"];

    /// Bytes per stored entry.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F64 => 8,
            Precision::F32 => 4,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F64 => "float64",
            Precision::F32 => "float32",
        })
    }
}

impl FromStr for Precision {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "float64" | "f64" => Ok(Precision::F64),
            "float32" | "f32" => Ok(Precision::F32),
            other => Err(Error::invalid(
                "precision",
                "must be one of float64, float32 (or f64, f32)",
                other,
            )),
        }
    }
}

/// A floating-point type a cost can be stored in: `f64` or `f32` (sealed).
pub trait CostScalar: Kernels {
    /// The matching [`Precision`].
    const PRECISION: Precision;
}

impl CostScalar for f64 {
    const PRECISION: Precision = Precision::F64;
}

impl CostScalar for f32 {
    const PRECISION: Precision = Precision::F32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in [Precision::F64, Precision::F32] {
            assert_eq!(p.to_string().parse::<Precision>().unwrap(), p);
        }
        assert_eq!("f32".parse::<Precision>().unwrap(), Precision::F32);
        let err = "half".parse::<Precision>().unwrap_err();
        assert_eq!(err.argument(), Some("precision"));
        assert!(err.to_string().contains("float32"), "{err}");
    }
}
