//! Sliced and max-sliced Wasserstein distances (Rabin et al. 2011; Bonneel et al. 2015;
//! Deshpande et al. 2019): project both clouds on directions θ of the unit sphere and solve
//! the 1-D problems, `SW_p = (mean_θ W_p^p(θ#α, θ#β))^{1/p}`,
//! `max-SW_p = (max_θ W_p^p(θ#α, θ#β))^{1/p}` (ALGORITHMS.md L2; POT's conventions).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use super::one_d::wasserstein_1d;
use crate::error::{Error, Result};
use crate::validate;

/// Both distances from one set of directions, with what they were computed from.
#[derive(Debug, Clone)]
pub struct SlicedOutput {
    /// `SW_p = (mean_θ W_p^p)^{1/p}`.
    pub sliced: f64,
    /// `max-SW_p = (max_θ W_p^p)^{1/p}` over the same directions.
    pub max_sliced: f64,
    /// The row of `directions` attaining the maximum.
    pub argmax: usize,
    /// `W_p^p` of each projection.
    pub projected: Array1<f64>,
}

/// `count` directions drawn uniformly on the unit sphere of ℝᵈ (normalized Gaussian vectors,
/// ChaCha8 stream: the same seed gives the same directions everywhere).
///
/// # Errors
/// [`Error::InvalidParameter`] for `count = 0` or `d = 0`.
pub fn random_directions(count: usize, d: usize, seed: u64) -> Result<Array2<f64>> {
    if count == 0 || d == 0 {
        return Err(Error::invalid(
            "n_projections",
            "at least one direction of dimension >= 1 is needed",
            format!("{count} x {d}"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut dirs = Array2::zeros((count, d));
    for mut row in dirs.outer_iter_mut() {
        loop {
            row.iter_mut()
                .for_each(|v: &mut f64| *v = rng.sample(StandardNormal));
            let norm = row.dot(&row).sqrt();
            if norm > 1e-12 {
                row /= norm;
                break;
            }
        }
    }
    Ok(dirs)
}

/// Sliced and max-sliced `W_p` between point clouds `x` (`n × d`) and `y` (`m × d`) with
/// optional weights, along the rows of `directions` (`L × d`, normalized here).
///
/// # Errors
/// [`Error::Shape`] for mismatched dimensions, [`Error::InvalidParameter`] for a zero
/// direction or `p < 1`, and the errors of [`wasserstein_1d`].
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::linear::{random_directions, sliced_wasserstein};
///
/// // A translation by t: every projection costs |θ·t|^p, the best direction is t/|t|.
/// let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
/// let y = &x + &array![3.0, 4.0];
/// let dirs = random_directions(500, 2, 0)?;
/// let out = sliced_wasserstein(x.view(), y.view(), None, None, 2.0, dirs.view())?;
/// assert!(out.max_sliced <= 5.0 && out.max_sliced > 4.99);
/// assert!((out.sliced - (25.0f64 / 2.0).sqrt()).abs() < 0.3);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn sliced_wasserstein(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    p: f64,
    directions: ArrayView2<'_, f64>,
) -> Result<SlicedOutput> {
    validate::points("x", x)?;
    validate::points("y", y)?;
    if y.ncols() != x.ncols() {
        return Err(Error::Shape {
            arg: "y",
            expected: format!("points of dimension {} (as x)", x.ncols()),
            got: format!("dimension {}", y.ncols()),
        });
    }
    if directions.ncols() != x.ncols() || directions.nrows() == 0 {
        return Err(Error::Shape {
            arg: "directions",
            expected: format!("at least one row of dimension {}", x.ncols()),
            got: format!("{} x {}", directions.nrows(), directions.ncols()),
        });
    }
    validate::points("directions", directions)?;
    let projected: Result<Vec<f64>> = directions
        .outer_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|theta| {
            let norm = theta.dot(&theta).sqrt();
            if norm == 0.0 {
                return Err(Error::invalid(
                    "directions",
                    "directions must be non-zero",
                    "a zero row",
                ));
            }
            let theta = &theta / norm;
            wasserstein_1d(x.dot(&theta).view(), y.dot(&theta).view(), a, b, p)
        })
        .collect();
    let projected = Array1::from(projected?);
    let mean = projected.iter().sum::<f64>() / projected.len() as f64;
    let (argmax, max) =
        projected
            .iter()
            .copied()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (k, v)| {
                if v > best.1 { (k, v) } else { best }
            });
    Ok(SlicedOutput {
        sliced: mean.powf(1.0 / p),
        max_sliced: max.powf(1.0 / p),
        argmax,
        projected,
    })
}
