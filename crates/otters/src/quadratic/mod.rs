//! Quadratic optimal transport: Gromov–Wasserstein, fused GW, unbalanced (fused) GW,
//! low-rank GW and GW barycenters (ALGORITHMS.md Q1–Q5).
//!
//! A [`QuadraticProblem`] holds two intra-domain costs (any [`Geometry`](crate::geometry::Geometry)),
//! weights, the [`GwLoss`] and optionally a linear cost between the domains. Balanced solvers:
//! [`EntropicGw`] (mirror descent, each step a warm-started Sinkhorn solve) and
//! [`ConditionalGradientGw`] (Frank–Wolfe with exact directions and line search), and for
//! weights of any masses [`UnbalancedGw`] (alternate minimization of the bi-convex
//! relaxation, each half-step an unbalanced Sinkhorn solve). All evaluate `L⊗P` by two
//! matrix products, never the `n²m²` tensor. [`LowRankGw`] restricts the plan to rank `r`
//! and runs in linear time on factored costs. [`GwBarycenter`] averages several cost
//! matrices by alternating the balanced solvers with a closed-form update.

mod barycenter;
mod factor;
mod gromov_wasserstein;
mod low_rank;
mod problem;
mod tensor;
mod unbalanced;

pub use barycenter::{
    BarycenterInit, BarycenterStop, GwBarycenter, GwBarycenterInput, GwBarycenterOutput,
    GwPlanSolver,
};
pub use gromov_wasserstein::{ConditionalGradientGw, EntropicGw, GwOutput};
pub use low_rank::LowRankGw;
pub use problem::{GwLoss, QuadraticProblem};
pub use unbalanced::{UgwOutput, UnbalancedGw};
