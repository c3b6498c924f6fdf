//! Linear (Kantorovich) optimal transport: problems and solvers.
//!
//! A [`LinearProblem`] holds the data (geometry, weights, marginal penalties); a solver such
//! as [`Sinkhorn`] holds settings only and turns a problem into an output.

mod problem;
pub mod sinkhorn;

pub use problem::{LinearProblem, MASS_TOLERANCE, MarginalPenalty};
pub use sinkhorn::{
    Epsilon, EpsilonScaling, Potentials, Sinkhorn, SinkhornOutput, UnbalancedUpdates,
};
