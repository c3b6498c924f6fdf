//! Anchor energy (AE) and anchor Wasserstein (AW) distances between point clouds that may
//! live in different spaces (ALGORITHMS.md D3; Sato, Cuturi, Yamada, Kashima 2020, *Fast and
//! robust comparison of probability measures in heterogeneous spaces*). Point `x_i` of a
//! cloud of `n` points becomes its anchor distribution `μ_i = (1/n) Σ_k δ_{d(x_i, x_k)}`; with
//! `W₁` between anchor distributions as ground metric,
//! `AE = 2·mean_ij W₁(μ_i, ν_j) − mean_ii' W₁(μ_i, μ_i') − mean_jj' W₁(ν_j, ν_j')` (the energy
//! distance) and `AW = min_{P ∈ Π(1/n, 1/m)} Σ P_ij W₁(μ_i, ν_j)` (exact OT).
//!
//! AE is computed exactly by the paper's sweep line in O(N log N) for `N = n² + m²` anchor
//! values: `Σ_ij W₁(μ_i, ν_j) = ∫ Σ_ij |F_i(t) − G_j(t)| dt`, and as `t` sweeps the sorted
//! values one CDF steps up by `1/n` (or `1/m`); the integrand is kept up to date with
//! Fenwick trees over the integer CDF levels, in exact integer arithmetic. AW needs every
//! `W₁(μ_i, ν_j)`: O(nm(n + m)) by merging sorted rows, then the network simplex.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::error::{Error, Index, Result};
use crate::geometry::DenseCost;
use crate::linear::{LinearProblem, NetworkSimplex};
use crate::validate::{self, DEFAULT_MEMORY_LIMIT};

/// The anchor distributions of a cloud: row `i` holds the sorted distances from point `i`
/// to every point of its cloud (itself included), each of weight `1/n`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorDistributions {
    sorted: Array2<f64>,
}

impl AnchorDistributions {
    /// From points (`n × d`), with Euclidean distances.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::Shape`], [`Error::NonFinite`] naming `x`;
    /// [`Error::TooLarge`] when the `n × n` distances exceed the default memory limit.
    pub fn from_points(x: ArrayView2<'_, f64>) -> Result<Self> {
        validate::points("x", x)?;
        let n = x.nrows();
        validate::matrix_bytes(
            "anchor distances",
            n,
            n,
            DEFAULT_MEMORY_LIMIT,
            "anchor distances need n x n values; subsample the cloud",
        )?;
        let mut d = Array2::zeros((n, n));
        d.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                for (k, v) in row.iter_mut().enumerate() {
                    *v = x
                        .row(i)
                        .iter()
                        .zip(x.row(k))
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt();
                }
            });
        Ok(Self::sort_rows(d))
    }

    /// From a matrix of distances within one cloud (`n × n`, finite, non-negative; row `i`
    /// is used as the distances seen from point `i`).
    ///
    /// # Errors
    /// [`Error::Empty`] / [`Error::Shape`] unless square and non-empty; [`Error::NonFinite`]
    /// or [`Error::InvalidParameter`] for a NaN, infinite or negative entry, naming
    /// `distances`.
    pub fn from_distances(distances: ArrayView2<'_, f64>) -> Result<Self> {
        if distances.is_empty() {
            return Err(Error::Empty {
                arg: "distances",
                what: "point",
            });
        }
        if distances.nrows() != distances.ncols() {
            return Err(Error::Shape {
                arg: "distances",
                expected: "a square matrix (distances within one cloud)".into(),
                got: format!("{} x {}", distances.nrows(), distances.ncols()),
            });
        }
        validate::finite_matrix("distances", distances)?;
        if let Some(((i, j), v)) = distances.indexed_iter().find(|(_, v)| **v < 0.0) {
            return Err(Error::invalid(
                "distances",
                "distances must be >= 0",
                format!("{v} at {}", Index::Matrix(i, j)),
            ));
        }
        Ok(Self::sort_rows(distances.to_owned()))
    }

    fn sort_rows(mut d: Array2<f64>) -> Self {
        d.axis_iter_mut(Axis(0))
            .into_par_iter()
            .for_each(|mut row| {
                let mut v = row.to_vec();
                v.sort_unstable_by(f64::total_cmp);
                row.assign(&Array1::from(v));
            });
        AnchorDistributions { sorted: d }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.sorted.nrows()
    }

    /// Whether there is no point (never true for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The sorted anchor values, one row per point.
    pub fn sorted(&self) -> ArrayView2<'_, f64> {
        self.sorted.view()
    }
}

/// `W₁` between two uniform empirical measures on the line given by their (non-empty) sorted
/// supports: `∫ |F(t) − G(t)| dt` by merging the two supports.
fn wasserstein_1d_sorted(u: &[f64], v: &[f64]) -> f64 {
    let (n, m) = (u.len() as f64, v.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut total = 0.0;
    let mut t = f64::min(u[0], v[0]);
    while i < u.len() || j < v.len() {
        let next = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!(),
        };
        total += (i as f64 / n - j as f64 / m).abs() * (next - t);
        t = next;
        while i < u.len() && u[i] <= t {
            i += 1;
        }
        while j < v.len() && v[j] <= t {
            j += 1;
        }
    }
    total
}

/// The `n × m` matrix `W₁(μ_i, ν_j)` between the anchor distributions of two clouds,
/// O(nm(n + m)), rows in parallel.
///
/// # Errors
/// [`Error::TooLarge`] above the default memory limit.
pub fn anchor_cost_matrix(x: &AnchorDistributions, y: &AnchorDistributions) -> Result<Array2<f64>> {
    let (n, m) = (x.len(), y.len());
    validate::matrix_bytes(
        "anchor cost matrix",
        n,
        m,
        DEFAULT_MEMORY_LIMIT,
        "use anchor_energy, which needs no n x m matrix",
    )?;
    let mut out = Array2::zeros((n, m));
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(i, mut row)| {
            let u = x.sorted.row(i).to_vec();
            for (j, o) in row.iter_mut().enumerate() {
                let v = y.sorted.row(j);
                *o = wasserstein_1d_sorted(&u, v.as_slice().expect("standard layout"));
            }
        });
    Ok(out)
}

/// The anchor Wasserstein distance: exact OT between the uniform measures on the two sets
/// of anchor distributions, ground cost [`anchor_cost_matrix`].
///
/// # Errors
/// As [`anchor_cost_matrix`] and [`NetworkSimplex::solve`].
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::tools::{AnchorDistributions, anchor_wasserstein};
///
/// let x = AnchorDistributions::from_points(array![[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]].view())?;
/// // The same triangle moved in 3-D: isometric, so AW = 0.
/// let y = AnchorDistributions::from_points(array![[5.0, 0.0, 1.0], [5.0, 1.0, 1.0], [5.0, 0.0, 3.0]].view())?;
/// assert!(anchor_wasserstein(&x, &y)?.abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn anchor_wasserstein(x: &AnchorDistributions, y: &AnchorDistributions) -> Result<f64> {
    let cost = anchor_cost_matrix(x, y)?;
    let geom = DenseCost::new(cost.view())?;
    let problem = LinearProblem::uniform(&geom)?;
    let out = NetworkSimplex::default().solve(&problem)?;
    Ok(out.cost())
}

/// The anchor energy distance by the sweep line (see the notes of `tools/anchor.rs`), exact up to
/// the rounding of the integration steps; O(N log N) time and O(N) memory for
/// `N = n² + m²`.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::tools::{AnchorDistributions, anchor_energy};
///
/// let x = AnchorDistributions::from_points(array![[0.0], [1.0], [3.0]].view())?;
/// let y = AnchorDistributions::from_points(array![[0.0], [2.0], [3.0]].view())?; // mirror image
/// assert!(anchor_energy(&x, &x).abs() < 1e-12);
/// assert!(anchor_energy(&x, &y).abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn anchor_energy(x: &AnchorDistributions, y: &AnchorDistributions) -> f64 {
    let (n, m) = (x.len(), y.len());
    // Events (value, side, point): side 0 is x, 1 is y.
    let mut events: Vec<(f64, u8, u32)> = Vec::with_capacity(n * n + m * m);
    for (side, d) in [(0u8, &x.sorted), (1u8, &y.sorted)] {
        for (i, row) in d.rows().into_iter().enumerate() {
            events.extend(row.iter().map(|&v| (v, side, i as u32)));
        }
    }
    events.par_sort_unstable_by(|p, q| p.0.total_cmp(&q.0));
    let mut sweep = Sweep::new(n, m);
    let (mut k_xy, mut k_xx, mut k_yy) = (0.0f64, 0.0f64, 0.0f64);
    let mut t = events.first().map_or(0.0, |e| e.0);
    for &(value, side, i) in &events {
        let dt = value - t;
        if dt > 0.0 {
            k_xy += sweep.xy as f64 * dt;
            k_xx += sweep.xx as f64 * dt;
            k_yy += sweep.yy as f64 * dt;
            t = value;
        }
        sweep.step(side, i as usize);
    }
    // Σ_ij |F_i − G_j| = xy/(nm); means divide by nm, n², m² pairs.
    let (nf, mf) = (n as f64, m as f64);
    2.0 * k_xy / (nf * mf * nf * mf) - k_xx / (nf * nf * nf) - k_yy / (mf * mf * mf)
}

/// The state of the sweep: integer CDF levels `c_i ∈ 0..=n` of the x anchors and `l_j ∈ 0..=m`
/// of the y anchors, Fenwick trees of their counts and level sums, and the integrands
/// `xy = Σ_ij |c_i·m − l_j·n|`, `xx = Σ_ii' |c_i − c_i'|`, `yy = Σ_jj' |l_j − l_j'|`.
struct Sweep {
    n: i128,
    m: i128,
    cx: Vec<usize>,
    cy: Vec<usize>,
    fx: Fenwick,
    fy: Fenwick,
    xy: i128,
    xx: i128,
    yy: i128,
}

impl Sweep {
    fn new(n: usize, m: usize) -> Self {
        let (mut fx, mut fy) = (Fenwick::new(n + 1), Fenwick::new(m + 1));
        fx.add(0, n as i128);
        fy.add(0, m as i128);
        Sweep {
            n: n as i128,
            m: m as i128,
            cx: vec![0; n],
            cy: vec![0; m],
            fx,
            fy,
            xy: 0,
            xx: 0,
            yy: 0,
        }
    }

    /// One anchor of point `i` on `side` is passed: its level goes up by one.
    fn step(&mut self, side: u8, i: usize) {
        let (n, m) = (self.n, self.m);
        let (levels, own, other, scale_own, scale_other, count_own) = if side == 0 {
            (&mut self.cx, &mut self.fx, &self.fy, m, n, n)
        } else {
            (&mut self.cy, &mut self.fy, &self.fx, n, m, m)
        };
        let u = levels[i];
        levels[i] = u + 1;
        let ui = u as i128;
        // Self term: the others at levels ≤ u get one further, those ≥ u + 1 one closer
        // (ordered pairs, hence the factor 2).
        own.add(u, -1);
        let below = own.prefix(u as i128).0;
        let above = (count_own - 1) - below;
        let d_self = 2 * (below - above);
        own.add(u + 1, 1);
        // Cross term, in units of 1/(nm): own value ui·s_own moves to (ui+1)·s_own; the other
        // side's levels l sit at l·s_other.
        let lo = (ui * scale_own).div_euclid(scale_other); // l·s_other ≤ ui·s_own
        let hi = ((ui + 1) * scale_own + scale_other - 1).div_euclid(scale_other); // ≥ (ui+1)·s_own
        let top = other.len() as i128 - 1;
        let (c_lo, _) = other.prefix(lo.min(top));
        let (c_mid, s_mid) = other.range(lo + 1, (hi - 1).min(top));
        let c_hi = if hi <= top {
            other.total_count() - other.prefix(hi - 1).0
        } else {
            0
        };
        let d_cross =
            scale_own * (c_lo - c_hi) + (2 * ui + 1) * scale_own * c_mid - 2 * scale_other * s_mid;
        self.xy += d_cross;
        if side == 0 {
            self.xx += d_self;
        } else {
            self.yy += d_self;
        }
    }
}

/// A Fenwick (binary indexed) tree of counts and level sums over levels `0..len`.
struct Fenwick {
    count: Vec<i128>,
    sum: Vec<i128>,
}

impl Fenwick {
    fn new(len: usize) -> Self {
        Fenwick {
            count: vec![0; len + 1],
            sum: vec![0; len + 1],
        }
    }

    fn len(&self) -> usize {
        self.count.len() - 1
    }

    fn add(&mut self, level: usize, delta: i128) {
        let mut k = level + 1;
        while k < self.count.len() {
            self.count[k] += delta;
            self.sum[k] += delta * level as i128;
            k += k & k.wrapping_neg();
        }
    }

    /// `(count, level sum)` over levels `0..=level` (empty for a negative level).
    fn prefix(&self, level: i128) -> (i128, i128) {
        if level < 0 {
            return (0, 0);
        }
        let mut k = (level as usize + 1).min(self.len());
        let (mut c, mut s) = (0, 0);
        while k > 0 {
            c += self.count[k];
            s += self.sum[k];
            k &= k - 1;
        }
        (c, s)
    }

    /// `(count, level sum)` over levels `from..=to` (empty when `to < from`).
    fn range(&self, from: i128, to: i128) -> (i128, i128) {
        if to < from {
            return (0, 0);
        }
        let (c1, s1) = self.prefix(to);
        let (c0, s0) = self.prefix(from - 1);
        (c1 - c0, s1 - s0)
    }

    fn total_count(&self) -> i128 {
        self.prefix(self.len() as i128 - 1).0
    }
}

/// AE by the definition, from all pairwise `W₁` (O(n³)): the reference for tests.
#[cfg(test)]
pub(crate) fn anchor_energy_brute(x: &AnchorDistributions, y: &AnchorDistributions) -> f64 {
    let mean = |p: &AnchorDistributions, q: &AnchorDistributions| {
        anchor_cost_matrix(p, q).unwrap().mean().unwrap()
    };
    2.0 * mean(x, y) - mean(x, x) - mean(y, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn cloud(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| rng.random::<f64>() * 4.0 - 2.0)
    }

    #[test]
    fn sweep_line_matches_the_cubic_definition() {
        for (n, m, seed) in [(1, 1, 1), (1, 4, 2), (5, 3, 3), (17, 29, 4), (40, 40, 5)] {
            let x = AnchorDistributions::from_points(cloud(n, 2, seed).view()).unwrap();
            let y = AnchorDistributions::from_points(cloud(m, 3, seed + 10).view()).unwrap();
            let (fast, slow) = (anchor_energy(&x, &y), anchor_energy_brute(&x, &y));
            assert!(
                (fast - slow).abs() <= 1e-10 * (1.0 + slow.abs()),
                "{n} {m}: {fast} vs {slow}"
            );
        }
    }

    #[test]
    fn ties_and_repeated_points_are_exact() {
        // Integer distances with many ties, and duplicated points.
        let x = AnchorDistributions::from_distances(
            array![
                [0.0, 1.0, 1.0, 2.0],
                [1.0, 0.0, 0.0, 1.0],
                [1.0, 0.0, 0.0, 1.0],
                [2.0, 1.0, 1.0, 0.0]
            ]
            .view(),
        )
        .unwrap();
        let y = AnchorDistributions::from_distances(array![[0.0, 2.0], [2.0, 0.0]].view()).unwrap();
        let (fast, slow) = (anchor_energy(&x, &y), anchor_energy_brute(&x, &y));
        assert!((fast - slow).abs() < 1e-12, "{fast} vs {slow}");
        assert!(anchor_energy(&x, &x).abs() < 1e-15);
    }

    #[test]
    fn w1_of_sorted_supports_matches_the_quantile_formula() {
        let (u, v) = ([0.0, 1.0, 5.0], [0.5, 2.0, 2.5]);
        let want = (0.5 + 1.0 + 2.5) / 3.0;
        assert!((wasserstein_1d_sorted(&u, &v) - want).abs() < 1e-15);
    }
}
