//! Geometries: how a cost matrix `C ∈ ℝ^{n×m}` is stored and swept.
//!
//! Every entropic solver needs the cost only through a few sweeps (the insight behind
//! OTT-JAX's geometries; Cuturi & Peyré, *Computational Optimal Transport*, 2019, ch. 4):
//!
//! - **softmin** along rows or columns: `out_i = −ε·log Σ_j exp(h_j − C_ij/ε)`, for a
//!   dimensionless vector `h` (log-weights plus potential over ε);
//! - **apply the plan** `P_ij = exp(u_i + v_j − C_ij/ε)` to a vector or matrix, never storing P;
//! - **⟨P, C⟩**, and materialization of `C` or `P` behind a size guard;
//! - **blocks** `C[rows, cols]` of selected entries, for sampling algorithms such as the
//!   low-rank approximation [`LowRankCost::sampled`], which reads O((n + m)·rank/tol) of them.
//!
//! [`Geometry`] is that contract; solvers are written once against `&dyn Geometry`.
//! [`DenseCost`] stores the matrix (borrowed without copy when possible); [`PointCloud`]
//! recomputes tiles of `C = c(x_i, y_j)` on the fly in O((n+m)·d) memory.

mod cost_fn;
mod dense;
mod gibbs;
mod grid;
mod point_cloud;
mod sampled;
mod tiled;

use std::fmt;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

pub use cost_fn::{Bilinear, Cosine, CostFn, Custom, Euclidean, Lp, SqEuclidean};
pub use dense::DenseCost;
pub use grid::Grid;
pub use point_cloud::{LowRankCost, PointCloud};

use crate::error::{Error, Result};

/// Which index a sweep produces: `Rows` gives one value per row `i` (reducing over `j`),
/// `Cols` one value per column `j` (reducing over `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// One output per row of `C`; the sum runs over columns.
    Rows,
    /// One output per column of `C`; the sum runs over rows.
    Cols,
}

/// A transport plan in log form, `P_ij = exp(log_row_i + log_col_j − C_ij/ε)`.
///
/// For Sinkhorn potentials `f, g` and weights `a, b`: `log_row = log a + f/ε`,
/// `log_col = log b + g/ε`. Entries equal to `−∞` (zero weights) give exactly zero rows or
/// columns of `P`.
#[derive(Debug, Clone, Copy)]
pub struct LogPlan<'a> {
    /// `log a + f/ε`, one entry per row of `C`.
    pub log_row: ArrayView1<'a, f64>,
    /// `log b + g/ε`, one entry per column of `C`.
    pub log_col: ArrayView1<'a, f64>,
    /// The regularization ε that divides the cost.
    pub epsilon: f64,
}

/// The inputs of [`Geometry::softmin_chain`]: a row sweep at `eps_rows` of `h`, then a
/// column sweep at `eps_cols` of `h'_i = link(i, s_i)`, with optional guesses of both results.
#[derive(Clone, Copy)]
pub struct SoftminChain<'a> {
    /// ε of the row sweep.
    pub eps_rows: f64,
    /// The row sweep's `h` (length `m`).
    pub h: ArrayView1<'a, f64>,
    /// A guess of the row sweep's output (length `n`), see [`Geometry::softmin_near`].
    pub guess_rows: Option<ArrayView1<'a, f64>>,
    /// `(i, s_i) ↦ h'_i`; must return `−∞` or a finite value.
    pub link: &'a (dyn Fn(usize, f64) -> f64 + Sync),
    /// ε of the column sweep.
    pub eps_cols: f64,
    /// A guess of the column sweep's output (length `m`).
    pub guess_cols: Option<ArrayView1<'a, f64>>,
}

impl fmt::Debug for SoftminChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftminChain")
            .field("eps_rows", &self.eps_rows)
            .field("eps_cols", &self.eps_cols)
            .finish_non_exhaustive()
    }
}

/// Summary statistics of the (scaled) cost over its finite entries; `+∞` entries are
/// forbidden pairs and are not counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostSummary {
    /// Largest finite entry.
    pub max: f64,
    /// Mean of the finite entries.
    pub mean: f64,
    /// Standard deviation of the finite entries.
    pub std: f64,
}

/// How a geometry rescales its cost before use: `C ← C / s`.
///
/// Scaling changes the problem (and so ε's meaning); it is applied once, when the
/// geometry is built, and every quantity it reports is in the scaled units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ScaleCost {
    /// Use the cost as given.
    #[default]
    None,
    /// Divide by the largest finite entry.
    Max,
    /// Divide by the mean of the finite entries.
    Mean,
    /// Divide by the median of the finite entries (needs the matrix in memory).
    Median,
    /// Divide by the given positive number.
    By(f64),
}

/// The sweeps an entropic solver needs from a cost matrix. See the [module docs](crate::geometry).
///
/// All methods check the lengths of their arguments against [`shape`](Geometry::shape) and
/// return [`Error::Shape`] on a mismatch.
pub trait Geometry: Send + Sync + fmt::Debug {
    /// `(n, m)`: rows and columns of the cost.
    fn shape(&self) -> (usize, usize);

    /// Max / mean / std of the scaled cost (computed once, then cached).
    fn summary(&self) -> CostSummary;

    /// The source and target points behind the cost, for geometries built from points
    /// (initializers that cluster them use it); `None` for a stored cost.
    fn points(&self) -> Option<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> {
        None
    }

    /// Softmin sweep. `Axis::Rows`: `out_i = −ε·log Σ_j exp(h_j − C_ij/ε)` with `h` of
    /// length `m` and `out` of length `n`; `Axis::Cols` is the transposed sweep.
    /// An output is `+∞` when every term is zero (all `h_j = −∞` or `C_ij = +∞`).
    fn softmin(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView1<'_, f64>,
        out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        self.softmin_near(axis, epsilon, h, None, out)
    }

    /// [`softmin`](Geometry::softmin) given a guess of the result (typically the previous
    /// iteration's output; same length as `out`). The guess only buys speed: a geometry may
    /// sum the terms shifted by it in one pass, falling back to the exact two-pass sweep
    /// wherever the guess is too far off, so results agree with `softmin` to rounding
    /// whatever the guess. `None` is the plain [`softmin`](Geometry::softmin).
    fn softmin_near(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView1<'_, f64>,
        guess: Option<ArrayView1<'_, f64>>,
        out: ArrayViewMut1<'_, f64>,
    ) -> Result<()>;

    /// A row sweep followed by a column sweep whose `h` is computed from the row sweep's
    /// output, entry by entry (one Sinkhorn iteration): `s = softmin_rows(chain.h)`, then
    /// `t = softmin_cols(h')` with `h'_i = (chain.link)(i, s_i)`. A stored cost can be read
    /// once instead of twice; the default runs the two sweeps one after the other.
    fn softmin_chain(
        &self,
        chain: &SoftminChain<'_>,
        out_rows: ArrayViewMut1<'_, f64>,
        out_cols: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        default_chain(self, chain, out_rows, out_cols)
    }

    /// Softmin sweeps of several `h` at once, one per row of `h` (`out` has one row per
    /// sweep), for a geometry that does them faster together than one by one (a small stored
    /// cost reads its kernel once for all of them): `Ok(true)` when done. `Ok(false)`, the
    /// default, leaves `out` untouched: the caller sweeps the rows one by one.
    ///
    /// # Errors
    /// As [`softmin`](Geometry::softmin), naming `h` or `out` for mismatched shapes.
    fn softmin_batch(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<bool> {
        let _ = (axis, epsilon, h, out);
        Ok(false)
    }

    /// `out = P·V` (`Axis::Rows`: `V` is `m×k`, `out` is `n×k`) or `out = Pᵀ·V`
    /// (`Axis::Cols`), with `P` given by `plan` and never materialized.
    fn apply_plan(
        &self,
        axis: Axis,
        plan: &LogPlan<'_>,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// `out = C·V` (`Axis::Rows`: `V` is `m×k`, `out` is `n×k`) or `out = Cᵀ·V`
    /// (`Axis::Cols`), for the scaled cost. Forbidden pairs (`+∞`) make their outputs
    /// infinite or NaN.
    fn apply_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// `out = (C∘C)·V` (`Axis::Rows`) or `(C∘C)ᵀ·V` (`Axis::Cols`): [`apply_cost`](Geometry::apply_cost)
    /// for the entrywise square of the scaled cost, as the square-loss GW constants
    /// `Σ_k C_ik²·p_k` need. Linear in `n + m` for a cost with factors `C = A·Bᵀ`
    /// (`C∘C = (A⊙A)·(B⊙B)ᵀ`, row-wise Khatri–Rao products), one sweep of the cost otherwise.
    fn apply_square_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// `⟨P, C⟩ = Σ_ij P_ij·C_ij` (forbidden pairs contribute 0).
    fn plan_dot_cost(&self, plan: &LogPlan<'_>) -> Result<f64>;

    /// The scaled cost matrix, or [`Error::TooLarge`] if it needs more than `limit_bytes`.
    fn cost_matrix(&self, limit_bytes: usize) -> Result<Array2<f64>>;

    /// Selected entries of the scaled cost, `out[[p, q]] = C[rows[p], cols[q]]` (the same
    /// numbers as [`cost_matrix`](Geometry::cost_matrix)), for any lists of indices (repeats
    /// allowed), evaluating only those `|rows|·|cols|` entries: what sampling algorithms
    /// such as [`LowRankCost::sampled`] read instead of the whole matrix.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `rows` or `cols` for an index out of range;
    /// [`Error::Shape`] naming `out` unless it is `rows.len() × cols.len()`.
    fn cost_block(&self, rows: &[usize], cols: &[usize], out: ArrayViewMut2<'_, f64>)
    -> Result<()>;

    /// The plan matrix `P`, or [`Error::TooLarge`] if it needs more than `limit_bytes`.
    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>>;
}

/// Lengths of (output, reduced) vectors of a sweep along `axis` of an `n × m` cost.
pub(crate) fn sweep_lengths(shape: (usize, usize), axis: Axis) -> (usize, usize) {
    match axis {
        Axis::Rows => shape,
        Axis::Cols => (shape.1, shape.0),
    }
}

/// [`Geometry::softmin_chain`] as two sweeps.
pub(crate) fn default_chain<G: Geometry + ?Sized>(
    geom: &G,
    chain: &SoftminChain<'_>,
    mut out_rows: ArrayViewMut1<'_, f64>,
    out_cols: ArrayViewMut1<'_, f64>,
) -> Result<()> {
    geom.softmin_near(
        Axis::Rows,
        chain.eps_rows,
        chain.h,
        chain.guess_rows,
        out_rows.view_mut(),
    )?;
    let linked: Array1<f64> = out_rows
        .iter()
        .enumerate()
        .map(|(i, &s)| (chain.link)(i, s))
        .collect();
    geom.softmin_near(
        Axis::Cols,
        chain.eps_cols,
        linked.view(),
        chain.guess_cols,
        out_cols,
    )
}

/// Checks that a vector has the length a sweep expects.
pub(crate) fn check_len(arg: &'static str, got: usize, want: usize, role: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Shape {
            arg,
            expected: format!("length {want} ({role})"),
            got: format!("length {got}"),
        })
    }
}

/// Checks the indices and the output of a [`Geometry::cost_block`] call.
pub(crate) fn check_block(
    shape: (usize, usize),
    rows: &[usize],
    cols: &[usize],
    out: &ArrayViewMut2<'_, f64>,
) -> Result<()> {
    for (arg, idx, len, what, requirement) in [
        (
            "rows",
            rows,
            shape.0,
            "rows",
            "row indices must be below the number of rows of the cost",
        ),
        (
            "cols",
            cols,
            shape.1,
            "columns",
            "column indices must be below the number of columns of the cost",
        ),
    ] {
        if let Some((p, &i)) = idx.iter().enumerate().find(|&(_, &i)| i >= len) {
            return Err(Error::invalid(
                arg,
                requirement,
                format!("{i} at position {p} (the cost has {len} {what})"),
            ));
        }
    }
    if out.dim() != (rows.len(), cols.len()) {
        return Err(Error::Shape {
            arg: "out",
            expected: format!("{} x {} (rows.len() x cols.len())", rows.len(), cols.len()),
            got: format!("{} x {}", out.nrows(), out.ncols()),
        });
    }
    Ok(())
}

/// Checks the shapes of a [`LogPlan`] against a geometry of shape `shape`.
pub(crate) fn check_plan(plan: &LogPlan<'_>, shape: (usize, usize)) -> Result<()> {
    check_len(
        "plan.log_row",
        plan.log_row.len(),
        shape.0,
        "rows of the cost",
    )?;
    check_len(
        "plan.log_col",
        plan.log_col.len(),
        shape.1,
        "columns of the cost",
    )?;
    crate::validate::positive("plan.epsilon", plan.epsilon)?;
    Ok(())
}

/// Checks `v` and `out` of an `apply_plan` call.
pub(crate) fn check_apply(
    shape: (usize, usize),
    axis: Axis,
    v: &ArrayView2<'_, f64>,
    out: &ArrayViewMut2<'_, f64>,
) -> Result<()> {
    let (n_out, n_red) = sweep_lengths(shape, axis);
    check_len(
        "v",
        v.nrows(),
        n_red,
        "rows of v must match the reduced axis",
    )?;
    check_len(
        "out",
        out.nrows(),
        n_out,
        "rows of out must match the output axis",
    )?;
    check_len(
        "out",
        out.ncols(),
        v.ncols(),
        "columns of out must match those of v",
    )
}

/// Resolves a [`ScaleCost`] into the divisor `s`, given the raw statistics and, for the
/// median, a way to compute it.
pub(crate) fn resolve_scale(
    scale: ScaleCost,
    raw: CostSummary,
    median: impl FnOnce() -> Result<f64>,
) -> Result<f64> {
    let s = match scale {
        ScaleCost::None => return Ok(1.0),
        ScaleCost::Max => raw.max,
        ScaleCost::Mean => raw.mean,
        ScaleCost::Median => median()?,
        ScaleCost::By(s) => s,
    };
    if s.is_finite() && s > 0.0 {
        Ok(s)
    } else {
        Err(Error::invalid(
            "scale_cost",
            "the scaling statistic must be finite and > 0",
            s,
        ))
    }
}

/// Running count, max, mean and centered second moment of finite values (Welford, with
/// Chan et al.'s pairwise merge), merged in a fixed order so results do not depend on threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    count: f64,
    max: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub(crate) const EMPTY: Moments = Moments {
        count: 0.0,
        max: f64::NEG_INFINITY,
        mean: 0.0,
        m2: 0.0,
    };

    pub(crate) fn of(values: &[f64]) -> Moments {
        let mut m = Moments::EMPTY;
        for &v in values {
            if v.is_finite() {
                m.count += 1.0;
                m.max = m.max.max(v);
                let delta = v - m.mean;
                m.mean += delta / m.count;
                m.m2 += delta * (v - m.mean);
            }
        }
        m
    }

    pub(crate) fn merge(self, o: Moments) -> Moments {
        if o.count == 0.0 {
            return self;
        }
        if self.count == 0.0 {
            return o;
        }
        let count = self.count + o.count;
        let delta = o.mean - self.mean;
        Moments {
            count,
            max: self.max.max(o.max),
            mean: self.mean + delta * (o.count / count),
            m2: self.m2 + o.m2 + delta * delta * (self.count * o.count / count),
        }
    }

    /// The summary of `values / scale`.
    pub(crate) fn summary(self, scale: f64) -> CostSummary {
        if self.count == 0.0 {
            return CostSummary {
                max: f64::NAN,
                mean: f64::NAN,
                std: f64::NAN,
            };
        }
        let std = (self.m2 / self.count).max(0.0).sqrt();
        CostSummary {
            max: self.max / scale,
            mean: self.mean / scale,
            std: std / scale,
        }
    }
}

/// Median of the finite entries of `values` (reorders the slice).
pub(crate) fn median_of(values: &mut Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    let (len, mid) = (values.len(), values.len() / 2);
    let (lower, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if len % 2 == 1 {
        upper
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (below + upper)
    }
}
