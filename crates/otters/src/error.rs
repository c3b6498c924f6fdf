//! The one error type of otters.
//!
//! Invalid input is an [`Error`] whose message names the argument and the offending value;
//! non-convergence is *not* an error (see `SinkhornOutput::converged`). [`Error::kind`] gives
//! a small, stable classification that bindings match exhaustively.

use std::fmt;

/// Result alias used throughout otters.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in otters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An array has the wrong shape.
    #[error("shape mismatch for `{arg}`: expected {expected}, got {got}")]
    Shape {
        /// The argument at fault.
        arg: &'static str,
        /// What was expected, e.g. `"length 5 (rows of cost)"`.
        expected: String,
        /// What was given.
        got: String,
    },
    /// An array is empty where at least one entry is needed.
    #[error("`{arg}` is empty: at least one {what} is needed")]
    Empty {
        /// The argument at fault.
        arg: &'static str,
        /// What is missing (`"point"`, `"row"`, ...).
        what: &'static str,
    },
    /// A NaN or infinity where only finite numbers make sense.
    #[error("`{arg}` has a non-finite value {value} at index {index}")]
    NonFinite {
        /// The argument at fault.
        arg: &'static str,
        /// Where, as `[i]` or `[i, j]`.
        index: Index,
        /// The offending value.
        value: f64,
    },
    /// A negative entry in a weight vector.
    #[error("`{arg}` has a negative weight {value} at index {index}; weights must be >= 0")]
    NegativeWeight {
        /// The argument at fault.
        arg: &'static str,
        /// Where.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A weight vector with total mass zero.
    #[error("`{arg}` has total mass 0; at least one weight must be positive")]
    ZeroMass {
        /// The argument at fault.
        arg: &'static str,
    },
    /// Balanced problem whose two marginals do not carry the same mass.
    #[error(
        "balanced OT needs equal masses, but sum(a) = {sum_a} and sum(b) = {sum_b}; \
         normalize the weights or relax a marginal (MarginalPenalty::Kl / TotalVariation) \
         to solve an unbalanced problem"
    )]
    MassMismatch {
        /// Total mass of `a`.
        sum_a: f64,
        /// Total mass of `b`.
        sum_b: f64,
    },
    /// The constraints admit no solution (e.g. forbidden pairs cut every feasible plan).
    #[error("infeasible problem: {detail}")]
    Infeasible {
        /// Why.
        detail: String,
    },
    /// A parameter outside its domain (ε ≤ 0, a NaN threshold, zero iterations...).
    #[error("invalid `{arg}` = {value}: {requirement}")]
    InvalidParameter {
        /// The parameter at fault.
        arg: &'static str,
        /// What it must satisfy.
        requirement: &'static str,
        /// The given value, printed.
        value: String,
    },
    /// The computation broke down numerically (non-finite potentials, infeasible support).
    #[error(
        "numerical breakdown in {solver} at iteration {iteration} (epsilon = {epsilon:e}): {detail}"
    )]
    Numerical {
        /// The solver that failed.
        solver: &'static str,
        /// The iteration at which it failed.
        iteration: usize,
        /// The regularization in force at that iteration.
        epsilon: f64,
        /// What happened.
        detail: String,
    },
    /// A strict caller asked for convergence that was not reached (see
    /// `SinkhornOutput::require_converged`); solvers themselves report non-convergence as a
    /// status, not an error.
    #[error(
        "{solver} did not converge: error {error:e} after {iterations} iterations (threshold {threshold:e})"
    )]
    NotConverged {
        /// The solver.
        solver: &'static str,
        /// Iterations done.
        iterations: usize,
        /// The error reached.
        error: f64,
        /// The threshold asked for.
        threshold: f64,
    },
    /// A request that would need more memory than allowed.
    #[error(
        "{what} would need {needed_bytes} bytes, above the limit of {limit_bytes} bytes; {hint}"
    )]
    TooLarge {
        /// What would have been allocated.
        what: String,
        /// Bytes needed (saturated at `usize::MAX` on overflow).
        needed_bytes: usize,
        /// The limit in force.
        limit_bytes: usize,
        /// What to do instead.
        hint: &'static str,
    },
    /// The computation was cancelled through its [`Observer`](crate::Observer).
    #[error("interrupted at iteration {iteration}")]
    Interrupted {
        /// The iteration at which the cancellation was seen.
        iteration: usize,
    },
    /// An error about one problem of a batch (its inputs, or its breakdown).
    #[error("problem {problem} of the batch: {source}")]
    InBatch {
        /// The index of the problem in the batch.
        problem: usize,
        /// What went wrong with it.
        source: Box<Error>,
    },
}

/// A position in a vector or a matrix, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Position `i` in a vector.
    Vector(usize),
    /// Position `(i, j)` in a matrix.
    Matrix(usize, usize),
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Index::Vector(i) => write!(f, "[{i}]"),
            Index::Matrix(i, j) => write!(f, "[{i}, {j}]"),
        }
    }
}

/// A small, exhaustive and stable classification of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller passed something invalid; fix the input.
    InvalidInput,
    /// The numbers broke down during the computation.
    Numerical,
    /// A memory (or size) limit would be exceeded.
    Resource,
    /// The caller cancelled the computation.
    Interrupted,
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Shape { .. }
            | Error::Empty { .. }
            | Error::NonFinite { .. }
            | Error::NegativeWeight { .. }
            | Error::ZeroMass { .. }
            | Error::MassMismatch { .. }
            | Error::Infeasible { .. }
            | Error::InvalidParameter { .. } => ErrorKind::InvalidInput,
            Error::Numerical { .. } | Error::NotConverged { .. } => ErrorKind::Numerical,
            Error::TooLarge { .. } => ErrorKind::Resource,
            Error::Interrupted { .. } => ErrorKind::Interrupted,
            Error::InBatch { source, .. } => source.kind(),
        }
    }

    /// The error for problem `problem` of a batch (for callers that solve batches themselves).
    pub fn in_batch(self, problem: usize) -> Self {
        Error::InBatch {
            problem,
            source: Box::new(self),
        }
    }

    /// The argument this error is about, when there is one.
    pub fn argument(&self) -> Option<&'static str> {
        match self {
            Error::Shape { arg, .. }
            | Error::Empty { arg, .. }
            | Error::NonFinite { arg, .. }
            | Error::NegativeWeight { arg, .. }
            | Error::ZeroMass { arg }
            | Error::InvalidParameter { arg, .. } => Some(arg),
            Error::MassMismatch { .. } => Some("b"),
            Error::InBatch { source, .. } => source.argument(),
            Error::Infeasible { .. }
            | Error::Numerical { .. }
            | Error::NotConverged { .. }
            | Error::TooLarge { .. }
            | Error::Interrupted { .. } => None,
        }
    }

    pub(crate) fn invalid(
        arg: &'static str,
        requirement: &'static str,
        value: impl fmt::Display,
    ) -> Self {
        Error::InvalidParameter {
            arg,
            requirement,
            value: value.to_string(),
        }
    }
}
