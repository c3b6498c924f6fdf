//! [`LowRankCost::sampled`]: factors `C ≈ A·Bᵀ` of a cost that is not exactly low rank, from
//! a number of entries linear in `n + m`.
//!
//! The sample-optimal low-rank approximation of distance matrices (Indyk, Vakilian, Wagner,
//! Woodruff, NeurIPS 2019), in the form Scetbon, Cuturi & Peyré (ICML 2021, Algorithm 4)
//! give it for low-rank OT and OTT-JAX's `Geometry.to_LRCGeometry` implements:
//!
//! 1. **Rows by estimated norm.** For a distance, the triangle inequality bounds the squared
//!    norm of row `i` by a constant times `m·(C_ij*² + C_i*j*² + mean_j C_i*j²)` for any
//!    `i*`, `j*`; one random row and column give these estimates. `s` rows are drawn with
//!    probabilities proportional to them and rescaled into `S` (`s × m`) with `E[SᵀS] = CᵀC`.
//! 2. **Columns by norm in the sample.** `s` columns of `S` are drawn by their squared norms
//!    and rescaled into `W` (`s × s`), `E[WWᵀ] = SSᵀ`.
//! 3. **The row space.** The top left singular vectors `u_k` of `W` give approximate top
//!    right singular vectors of `C`, `Sᵀu_k/σ_k`, orthonormalized into `B` (`m × r`).
//! 4. **The left factor by regression.** `A = argmin ‖C − A·Bᵀ‖` is solved on `s` columns
//!    drawn by the leverage scores of `B` (Indyk et al.'s last step; OTT draws them
//!    uniformly), as a rescaled least-squares problem.
//!
//! For a distance matrix, Indyk et al. bound the error by `‖C − C_r‖²_F + ε·‖C‖²_F` (`C_r`
//! the best rank-r approximation) with high probability, from `O((n + m)·poly(r/ε))`
//! entries; here, as in OTT-JAX, each step takes `s = ⌈r/tol⌉` samples (on Euclidean
//! distances the tests find the error within 25% of the best rank-r error at `tol = 0.05`).
//! Every sampling distribution is mixed half-and-half with the uniform one: that costs at
//! most a factor 2 in the bound and keeps every row and column reachable for a cost that
//! is not a distance (a stored matrix, where the norm estimates can be 0). A sample as large
//! as the number of rows (or columns) takes each of them once instead. The cost is read
//! through [`Geometry::cost_block`] only: `O((n + m)·s)` entries, never the `n × m` matrix.

use faer::Mat;
use faer::linalg::solvers::Svd;
use ndarray::{Array2, ArrayView2, s};
use rand::Rng;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;

use super::{Bilinear, Geometry, LowRankCost, PointCloud};
use crate::error::{Error, Index, Result};
use crate::kernels::gemm::matmul_par;
use crate::validate;

/// Entries of the cost read per block (8 MiB of f64) while streaming the sampled rows or
/// columns.
const BLOCK_ENTRIES: usize = 1 << 20;

/// Singular values below this fraction of the largest are numerical noise: their directions
/// are dropped (a cost of rank below `rank` gets fewer columns).
const RCOND: f64 = 1e-10;

impl PointCloud<Bilinear> {
    /// Factors `C ≈ A·Bᵀ` of rank at most `rank` of the scaled cost of `geom`, by the sampling
    /// algorithm of Indyk, Vakilian, Wagner & Woodruff (2019) as used for low-rank OT by
    /// Scetbon, Cuturi & Peyré (2021) and OTT-JAX's `to_LRCGeometry`: `s` rows drawn by
    /// their norms as estimated from one random row and column (good estimates for a
    /// distance, by the triangle inequality), `s` columns of those rows drawn by their
    /// norms, the top `rank` singular vectors of the `s × s` sample as the row space
    /// (factor `B`, orthonormal columns), and `A` by least squares on `s` columns drawn by
    /// the leverage scores of `B`; every draw is mixed half-and-half with the uniform law.
    ///
    /// `tol` sets the sample size `s = min(⌈rank/tol⌉, n, m)`: smaller is more accurate and
    /// slower. It reads `(n + m) + s·(n + 2m) + s²` entries of the cost through
    /// [`Geometry::cost_block`] and takes `O((n + m)·s·rank + s³)` time; the draws come from
    /// ChaCha8 seeded with `seed`, so a seed gives the same factors everywhere.
    ///
    /// On a cost of rank at most `rank` (e.g. the squared Euclidean cost at rank `d + 2`)
    /// the result is exact to rounding once the sampled rows span the row space (in
    /// practice with a few samples per rank, `tol ≤ 0.5`); it has fewer than `rank` columns
    /// when the cost's numerical rank is lower. Its scale is 1: it approximates the cost as
    /// `geom` scales it.
    ///
    /// # Examples
    /// ```
    /// use ndarray::Array2;
    /// use otters::geometry::{Geometry, LowRankCost, PointCloud};
    ///
    /// let x = Array2::from_shape_fn((500, 2), |(i, d)| ((i * (d + 3)) as f64 * 0.37).sin());
    /// let y = Array2::from_shape_fn((400, 2), |(j, d)| ((j * (d + 2)) as f64 * 0.61).cos());
    /// // The squared Euclidean cost in 2-D has rank 4: 40 sampled rows and columns suffice.
    /// let geom = PointCloud::sq_euclidean(x.view(), y.view())?;
    /// let approx = LowRankCost::sampled(&geom, 4, 0.1, 0)?;
    /// let (c, c4) = (geom.cost_matrix(1 << 30)?, approx.cost_matrix(1 << 30)?);
    /// assert!((&c - &c4).iter().all(|d| d.abs() < 1e-9));
    /// # Ok::<(), otters::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `rank` outside `1..=min(n, m)` or `tol` outside
    /// `(0, 1]`; [`Error::NonFinite`] naming `geom` when a sampled entry is infinite (a
    /// forbidden pair: such a cost has no low-rank approximation; entries that are not
    /// sampled are not checked); [`Error::TooLarge`] when the `s × s` sample would exceed
    /// [`DEFAULT_MEMORY_LIMIT`](crate::DEFAULT_MEMORY_LIMIT); [`Error::Numerical`] if a
    /// singular value decomposition fails.
    pub fn sampled(geom: &dyn Geometry, rank: usize, tol: f64, seed: u64) -> Result<Self> {
        let (n, m) = geom.shape();
        if rank == 0 || rank > n.min(m) {
            return Err(Error::invalid(
                "rank",
                "must be between 1 and min(n, m) of the cost",
                format!("{rank} (the cost is {n} x {m})"),
            ));
        }
        if !(tol.is_finite() && tol > 0.0 && tol <= 1.0) {
            return Err(Error::invalid("tol", "must be in (0, 1]", tol));
        }
        let samples = ((rank as f64 / tol).ceil() as usize).clamp(rank, n.min(m));
        validate::matrix_bytes(
            "the sampled core of the low-rank approximation",
            samples,
            samples,
            crate::DEFAULT_MEMORY_LIMIT,
            "raise tol or lower rank (the sample size is rank / tol)",
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);

        // 1. Rows drawn by their norms estimated from one row and one column.
        let (i_star, j_star) = (rng.random_range(0..n), rng.random_range(0..m));
        let all_cols: Vec<usize> = (0..m).collect();
        let all_rows: Vec<usize> = (0..n).collect();
        let row_star = read(geom, &[i_star], &all_cols)?;
        let col_star = read(geom, &all_rows, &[j_star])?;
        let base = row_star[[0, j_star]].powi(2) + row_star.mapv(|c| c * c).mean().unwrap_or(0.0);
        let row_p = mixed(col_star.iter().map(|c| c * c + base).collect());
        let (rows, row_w) = draw(&mut rng, &row_p, samples)?;

        // 2. Columns drawn by their squared norms in S = diag(row_w)·C[rows, :].
        let mut col_norms = vec![0.0; m];
        for_column_blocks(geom, &rows, m, |start, block| {
            for (t, line) in block.outer_iter().enumerate() {
                let w2 = row_w[t] * row_w[t];
                for (acc, &c) in col_norms[start..].iter_mut().zip(line) {
                    *acc += w2 * c * c;
                }
            }
        })?;
        let (cols, col_w) = draw(&mut rng, &mixed(col_norms), samples)?;
        let mut core = read(geom, &rows, &cols)?;
        for ((t, q), v) in core.indexed_iter_mut() {
            *v *= row_w[t] * col_w[q];
        }

        // 3. The row space: Sᵀ·u_k/σ_k for the top left singular vectors of W.
        let (u, sigma) = top_left_singular(core.view(), rank)?;
        if sigma.is_empty() {
            // A zero cost (on every sampled entry): the zero factorization.
            return LowRankCost::factored(
                Array2::zeros((n, 1)).view(),
                Array2::zeros((m, 1)).view(),
            );
        }
        let weights = Array2::from_shape_fn(u.dim(), |(t, k)| u[[t, k]] * row_w[t] / sigma[k]);
        let mut span = Array2::zeros((m, sigma.len()));
        for_column_blocks(geom, &rows, m, |start, block| {
            let w = block.ncols();
            matmul_par(
                span.slice_mut(s![start..start + w, ..]),
                block.t(),
                weights.view(),
                1.0,
                false,
            );
        })?;
        let (basis, _) = top_left_singular(span.view(), sigma.len())?;

        // 4. The left factor by least squares on columns drawn by the leverage of `basis`.
        let leverage = basis.outer_iter().map(|b| b.dot(&b)).collect();
        let (cols, col_w) = draw(&mut rng, &mixed(leverage), samples)?;
        let sampled_basis = Array2::from_shape_fn((samples, basis.ncols()), |(t, k)| {
            col_w[t] * basis[[cols[t], k]]
        });
        // min_A Σ_t w_t²‖C[:, j_t] − A·basis[j_t]‖²: A = C[:, cols]·diag(w)·(B_s⁺)ᵀ.
        let mut solve = pseudo_inverse_t(sampled_basis.view())?;
        for (mut line, &w) in solve.outer_iter_mut().zip(&col_w) {
            line *= w;
        }
        let mut left = Array2::zeros((n, basis.ncols()));
        let chunk = (BLOCK_ENTRIES / samples).max(1);
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let block = read(geom, &all_rows[start..end], &cols)?;
            matmul_par(
                left.slice_mut(s![start..end, ..]),
                block.view(),
                solve.view(),
                1.0,
                false,
            );
        }
        LowRankCost::factored(left.view(), basis.view())
    }
}

/// `C[rows, cols]` of the scaled cost, refusing an infinite (forbidden) entry.
fn read(geom: &dyn Geometry, rows: &[usize], cols: &[usize]) -> Result<Array2<f64>> {
    let mut out = Array2::zeros((rows.len(), cols.len()));
    geom.cost_block(rows, cols, out.view_mut())?;
    match out.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((p, q), &value)) => Err(Error::NonFinite {
            arg: "geom",
            index: Index::Matrix(rows[p], cols[q]),
            value,
        }),
        None => Ok(out),
    }
}

/// Streams `C[rows, :]` by blocks of columns, `visit(first column, block)`, holding at most
/// about [`BLOCK_ENTRIES`] entries at a time.
fn for_column_blocks(
    geom: &dyn Geometry,
    rows: &[usize],
    m: usize,
    mut visit: impl FnMut(usize, ArrayView2<'_, f64>),
) -> Result<()> {
    let chunk = (BLOCK_ENTRIES / rows.len().max(1)).max(1);
    let cols: Vec<usize> = (0..m).collect();
    for start in (0..m).step_by(chunk) {
        let block = read(geom, rows, &cols[start..(start + chunk).min(m)])?;
        visit(start, block.view());
    }
    Ok(())
}

/// Probabilities `½·w/Σw + ½/len` (uniform when the weights sum to 0 or overflow).
fn mixed(weights: Vec<f64>) -> Vec<f64> {
    let uniform = 1.0 / weights.len() as f64;
    let total: f64 = weights.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return vec![uniform; weights.len()];
    }
    weights
        .into_iter()
        .map(|w| 0.5 * w / total + 0.5 * uniform)
        .collect()
}

/// `count` indices drawn independently with probabilities `p`, and their importance weights
/// `1/√(count·p_i)` (so that sums of squares over the sample are unbiased). A sample as
/// large as the population is the whole population, each index once with weight 1 (exact,
/// where draws with replacement would repeat some and miss others).
fn draw(rng: &mut ChaCha8Rng, p: &[f64], count: usize) -> Result<(Vec<usize>, Vec<f64>)> {
    if count >= p.len() {
        return Ok(((0..p.len()).collect(), vec![1.0; p.len()]));
    }
    let dist = WeightedIndex::new(p).map_err(|e| Error::Numerical {
        solver: "LowRankCost::sampled",
        iteration: 0,
        epsilon: f64::NAN,
        detail: format!("invalid sampling probabilities: {e}"),
    })?;
    let idx: Vec<usize> = (0..count).map(|_| dist.sample(rng)).collect();
    let w = idx
        .iter()
        .map(|&i| 1.0 / (count as f64 * p[i]).sqrt())
        .collect();
    Ok((idx, w))
}

/// The thin SVD of `a` through faer (singular values nonincreasing).
fn thin_svd(a: ArrayView2<'_, f64>) -> Result<Svd<f64>> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
        .thin_svd()
        .map_err(|e| Error::Numerical {
            solver: "LowRankCost::sampled",
            iteration: 0,
            epsilon: f64::NAN,
            detail: format!("singular value decomposition failed: {e:?}"),
        })
}

/// How many of the first `k` singular values (nonincreasing) are above [`RCOND`] times the
/// largest.
fn numerical_rank(sigma: &[f64], k: usize) -> usize {
    let floor = sigma.first().copied().unwrap_or(0.0) * RCOND;
    sigma.iter().take(k).take_while(|&&s| s > floor).count()
}

/// The left singular vectors of `a` (as columns) and their singular values, for the first
/// `k` singular values that are not numerical noise.
fn top_left_singular(a: ArrayView2<'_, f64>, k: usize) -> Result<(Array2<f64>, Vec<f64>)> {
    let svd = thin_svd(a)?;
    let sigma: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let keep = numerical_rank(&sigma, k);
    let u = svd.U();
    let vectors = Array2::from_shape_fn((a.nrows(), keep), |(i, c)| u[(i, c)]);
    Ok((vectors, sigma[..keep].to_vec()))
}

/// `(B⁺)ᵀ = U·Σ⁻¹·Vᵀ` for `B = U·Σ·Vᵀ` (`s × k`, `s ≥ k`), noise singular values dropped
/// (the least-squares solution of least norm).
fn pseudo_inverse_t(b: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let svd = thin_svd(b)?;
    let sigma: Vec<f64> = svd.S().column_vector().iter().copied().collect();
    let (u, v) = (svd.U(), svd.V());
    let mut out = Array2::zeros(b.dim());
    for (c, &sc) in sigma
        .iter()
        .enumerate()
        .take(numerical_rank(&sigma, sigma.len()))
    {
        for i in 0..b.nrows() {
            let ui = u[(i, c)] / sc;
            for j in 0..b.ncols() {
                out[[i, j]] += ui * v[(j, c)];
            }
        }
    }
    Ok(out)
}
