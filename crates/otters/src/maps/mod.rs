//! Maps and estimators built on entropic OT (ALGORITHMS.md M1–M4).
//!
//! - the entropic map `T(x) = Σ_j w_j(x)·y_j` (Pooladian & Niles-Weed 2021, M1) is
//!   [`SinkhornOutput::entropic_map`](crate::linear::SinkhornOutput::entropic_map);
//! - [`monge_gap_from_samples`]: the Monge gap regularizer of a map given by its samples,
//!   with its gradient in the mapped points (Uscidda & Cuturi 2023, M2);
//! - [`Elastic`] costs `h(x − y)`, `h = ½‖·‖² + τ`, and their entropic map
//!   [`elastic_map`], `T(x) = x − prox_τ(Σ_j w_j(x)·∇h(x − y_j))` (Cuturi, Klein, Ablin 2023, M3);
//! - [`ProgOt`]: progressive entropic maps, `x^{k+1} = (1 − α_k)·x^k + α_k·T_{ε_k}(x^k)`
//!   (Kassraie et al. 2024, M4).

mod elastic;
mod monge_gap;
mod progot;

pub use elastic::{Elastic, ElasticRegularizer, elastic_map};
pub use monge_gap::{MongeGap, monge_gap_from_samples};
pub use progot::{ProgOt, ProgOtOutput, StepSchedule};
