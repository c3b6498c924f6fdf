//! Quadratic optimal transport: Gromov–Wasserstein and fused GW (ALGORITHMS.md Q1, Q2).
//!
//! A [`QuadraticProblem`] holds two intra-domain costs (any [`Geometry`](crate::geometry::Geometry)),
//! weights, the [`GwLoss`] and optionally a linear cost between the domains. Two solvers:
//! [`EntropicGw`] (mirror descent, each step a warm-started Sinkhorn solve) and
//! [`ConditionalGradientGw`] (Frank–Wolfe with exact directions and line search). Both
//! evaluate `L⊗P` by two matrix products, never the `n²m²` tensor.

mod factor;
mod gromov_wasserstein;
mod problem;
mod tensor;

pub use gromov_wasserstein::{ConditionalGradientGw, EntropicGw, GwOutput};
pub use problem::{GwLoss, QuadraticProblem};
