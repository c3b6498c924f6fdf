//! Linear (Kantorovich) optimal transport: problems and solvers.
//!
//! A [`LinearProblem`] holds the data (geometry, weights, marginal penalties); a solver such
//! as [`Sinkhorn`] (entropic) or [`NetworkSimplex`] (exact) holds settings only and turns a
//! problem into an output.

mod assignment;
mod exact;
pub(crate) mod low_rank;
mod network_simplex;
mod one_d;
mod problem;
mod semi_discrete;
pub mod sinkhorn;
mod sliced;
mod sparse_plan;
mod unbalanced_1d;

pub(crate) use exact::ExactWarmStart;
pub use exact::{
    ASSIGNMENT_BUDGET, AssignmentFastPath, ExactMethod, ExactOutput, ExactStatus, NetworkSimplex,
};
pub use low_rank::{LowRankInit, LowRankOutput, LowRankSinkhorn, LowRankStart};
pub use one_d::{
    OneDimensionalOutput, ot_1d, ot_1d_potentials, wasserstein_1d, wasserstein_1d_batch,
};
pub use problem::{LinearProblem, LinearProblemBatch, MASS_TOLERANCE, MarginalPenalty};
pub use semi_discrete::{SemiDiscrete, SemiDiscreteOutput, SemiDiscreteProblem};
pub use sinkhorn::{
    Acceleration, Anderson, Epsilon, EpsilonScaling, Potentials, Sinkhorn, SinkhornOutput,
    UnbalancedUpdates, sorting_init, subsample_init,
};
pub use sliced::{SlicedOutput, random_directions, sliced_wasserstein};
pub use sparse_plan::SparsePlan;
pub use unbalanced_1d::{UnbalancedFrankWolfe, Uot1dBarycenter, Uot1dOutput};
