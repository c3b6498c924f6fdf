//! Wasserstein barycenters of several measures (ALGORITHMS.md D2).
//!
//! - [`FixedSupportBarycenter`]: the entropic barycenter on a given support by iterative
//!   Bregman projections (Benamou et al. 2015), written against [`Geometry`](crate::geometry::Geometry);
//!   on a [`Grid`](crate::geometry::Grid) it is the convolutional barycenter of Solomon et al.
//!   (2015).

mod fixed_support;

pub use fixed_support::{BarycenterInput, BarycenterOutput, FixedSupportBarycenter};
