//! Tools built on the OT solvers (ALGORITHMS.md T1–T3, D3): soft sorting, ranking and
//! quantiles; Sinkformer attention; sampling from and measuring couplings; anchor energy and
//! anchor Wasserstein distances between clouds in different spaces.

mod anchor;
mod coupling;
mod sinkformer;
mod soft_sort;

pub use anchor::{AnchorDistributions, anchor_cost_matrix, anchor_energy, anchor_wasserstein};
pub use coupling::{
    EntropicCoupling, SampledPairs, Sharpness, sample_sparse_pairs, sample_sparse_targets,
    sharpness_dense, sharpness_sparse,
};
pub use sinkformer::{SinkformerOutput, SinkformerStop, sinkformer_attention};
pub use soft_sort::{SoftOperator, SoftSort, SoftSortOutput, SoftSortRows, Squashing};
