//! Seeded example data (like POT's `ot.datasets`): reproducible point clouds for demos,
//! documentation and tests. The same seed gives the same points on every platform
//! (ChaCha8 stream).

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// `n` points of an isotropic Gaussian in ℝᵈ with the given mean and standard deviation.
///
/// # Examples
/// ```
/// let x = otters::datasets::gaussian(100, &[0.0, 1.0], 0.5, 7);
/// assert_eq!(x.dim(), (100, 2));
/// assert_eq!(x, otters::datasets::gaussian(100, &[0.0, 1.0], 0.5, 7));
/// ```
pub fn gaussian(n: usize, mean: &[f64], std: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, mean.len()), |(_, k)| {
        let z: f64 = rng.sample(StandardNormal);
        mean[k] + std * z
    })
}

/// `n` points on two interleaved half circles in the plane (the "two moons"), with Gaussian
/// noise of standard deviation `noise`.
pub fn two_moons(n: usize, noise: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Array2::zeros((n, 2));
    for (i, mut p) in points.outer_iter_mut().enumerate() {
        let t = std::f64::consts::PI * rng.random::<f64>();
        let (x, y) = if i % 2 == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        let (dx, dy): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
        p[0] = x + noise * dx;
        p[1] = y + noise * dy;
    }
    points
}

/// `n` points on a circle of the given radius around `center`, with Gaussian radial noise.
pub fn ring(n: usize, center: [f64; 2], radius: f64, noise: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Array2::zeros((n, 2));
    for mut p in points.outer_iter_mut() {
        let t = 2.0 * std::f64::consts::PI * rng.random::<f64>();
        let dr: f64 = rng.sample(StandardNormal);
        let r = radius + noise * dr;
        p[0] = center[0] + r * t.cos();
        p[1] = center[1] + r * t.sin();
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_have_the_requested_moments() {
        let x = gaussian(20_000, &[1.0, -2.0], 0.5, 1);
        let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        assert!((mean[0] - 1.0).abs() < 0.02 && (mean[1] + 2.0).abs() < 0.02);
        let std = x.std_axis(ndarray::Axis(0), 1.0);
        assert!((std[0] - 0.5).abs() < 0.02);
        let moons = two_moons(1000, 0.0, 2);
        // Noise-free moons lie on their unit half circles.
        for (i, p) in moons.outer_iter().enumerate() {
            let (cx, cy) = if i % 2 == 0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-12);
        }
        assert_ne!(two_moons(10, 0.1, 3), two_moons(10, 0.1, 4));
        for p in ring(100, [1.0, -1.0], 2.0, 0.0, 5).outer_iter() {
            assert!((((p[0] - 1.0).powi(2) + (p[1] + 1.0).powi(2)).sqrt() - 2.0).abs() < 1e-12);
        }
    }
}
