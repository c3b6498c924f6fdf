//! # otters — computational optimal transport
//!
//! One engine for exact, entropic, unbalanced and (later) quadratic optimal transport, used
//! from Rust, from the `otters` command line and from Python.
//!
//! Every method has three layers (as in OTT-JAX): a **geometry** says how the cost is stored
//! and swept, a **problem** holds the data, a **solver** holds settings and returns an
//! **output** that answers every follow-up question (costs, plan, marginals, maps, gradients).
//!
//! ```
//! use ndarray::{Array2, array};
//! use otters::geometry::PointCloud;
//! use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn};
//!
//! // Two small clouds in the plane; the cost is ‖x − y‖², recomputed on the fly.
//! let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
//! let y = &x + 0.5;
//! let geom = PointCloud::sq_euclidean(x.view(), y.view())?;
//!
//! // Balanced entropic OT with uniform weights.
//! let problem = LinearProblem::uniform(&geom)?;
//! let out = Sinkhorn::new(Epsilon::Absolute(0.25)).solve(&problem)?;
//! assert!(out.converged());
//! // A translation by t costs OT₀ = ‖t‖² = 0.5; entropic OT is bracketed by
//! // OT₀ ≤ ⟨C, P⟩ ≤ OT_ε ≤ OT₀ + ε·log n.
//! let (linear, regularized) = (out.linear_cost(&problem)?, out.reg_ot_cost());
//! assert!(0.5 <= linear && linear <= regularized && regularized <= 0.5 + 0.25 * 4f64.ln());
//!
//! // The same clouds with a KL-relaxed target marginal (unbalanced OT).
//! let kl = MarginalPenalty::Kl { rho: 1.0 };
//! let relaxed = LinearProblem::unbalanced(&geom, problem.a().to_owned(), problem.b().to_owned(), MarginalPenalty::Hard, kl)?;
//! let out = Sinkhorn::new(Epsilon::Absolute(0.1)).solve(&relaxed)?;
//! let (row_marginal, _) = out.marginals();
//! assert!((row_marginal.sum() - 1.0).abs() < 1e-5);
//!
//! // The entropic map, out of sample.
//! let mapped: Array2<f64> = out.entropic_map(&geom, array![[0.0, 0.0]].view())?;
//! assert!(mapped[[0, 0]] > 0.0);
//! # Ok::<(), otters::Error>(())
//! ```
//!
//! ## Modules
//! - [`geometry`]: the [`Geometry`](geometry::Geometry) trait, [`DenseCost`](geometry::DenseCost),
//!   [`PointCloud`](geometry::PointCloud) and the ground costs.
//! - [`linear`]: [`LinearProblem`](linear::LinearProblem), [`Sinkhorn`](linear::Sinkhorn) and
//!   its output.
//! - [`quadratic`]: Gromov–Wasserstein (entropic, conditional gradient, fused, unbalanced,
//!   low-rank) and GW barycenters.
//! - [`divergence`]: Sinkhorn divergences (balanced, unbalanced), energy distance, Gaussian MMD.
//! - [`maps`]: Monge gap, elastic costs and their maps, ProgOT (the entropic map itself is
//!   [`SinkhornOutput::entropic_map`](linear::SinkhornOutput::entropic_map)).
//! - [`gaussian`]: closed forms between Gaussians (Bures–Wasserstein distance, map and
//!   barycenter, entropic OT, Schrödinger bridge) and GMM-OT.
//! - [`tools`]: soft sorting and ranking, coupling sampling and sharpness, Sinkformer
//!   attention, anchor energy / anchor Wasserstein.
//! - [`datasets`]: seeded example point clouds.
//! - [`Error`], [`Observer`] (progress and cancellation).
//!
//! Conventions: f64 everywhere; parallel sweeps reduce in a fixed order, so results are
//! bit-identical whatever the number of threads; the library never prints, reads files or
//! panics on user input.

pub mod barycenter;
pub mod datasets;
pub mod divergence;
pub mod error;
pub mod gaussian;
pub mod geometry;
mod kernels;
pub mod linear;
pub mod maps;
mod observe;
pub mod pairwise;
pub mod quadratic;
pub mod tools;
mod validate;

/// The vectorized exponentials of the sweep kernels, exposed for the benchmarks that measure
/// the machine's exp rate (the bound of every streamed sweep). Not part of the API.
#[doc(hidden)]
pub mod bench_support {
    /// `x_j ← exp(x_j)` with the `f64` kernel's exponential (of the portable kernels).
    pub fn exp_f64(x: &mut [f64]) {
        crate::kernels::lse::exp_in_place(x)
    }

    /// `x_j ← exp(x_j)` with the `f32` kernels' exponential.
    pub fn exp_f32(x: &mut [f32]) {
        crate::kernels::lse32::exp_in_place(x)
    }
}

pub use error::{Error, ErrorKind, Index, Result};

// The README's Rust example runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
pub use observe::{Observer, Progress};
pub use validate::DEFAULT_MEMORY_LIMIT;
