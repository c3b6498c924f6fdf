//! Wasserstein barycenters of several measures (ALGORITHMS.md D2).
//!
//! - [`FixedSupportBarycenter`]: the entropic barycenter on a given support by iterative
//!   Bregman projections in the log domain (Benamou et al. 2015), written against
//!   [`Geometry`](crate::geometry::Geometry), also unbalanced (Chizat et al. 2018) and
//!   debiased (Janati et al. 2020);
//! - [`convolutional_barycenter`]: the same on a [`Grid`](crate::geometry::Grid), whose
//!   separable kernel makes it the convolutional barycenter of Solomon et al. (2015);
//! - [`FreeSupportBarycenter`]: points that move, by alternating exact OT solves and
//!   barycentric projections (Cuturi & Doucet 2014).

mod convolutional;
mod fixed_support;
mod free_support;

pub use convolutional::{convolutional_barycenter, convolutional_barycenter_with, unit_grid};
pub use fixed_support::{BarycenterInput, BarycenterOutput, FixedSupportBarycenter};
pub use free_support::{FreeSupportBarycenter, FreeSupportInput, FreeSupportOutput};
