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
mod passes;
mod point_cloud;
mod precision;
mod sampled;
mod sharded;
mod tiled;

use std::borrow::Cow;
use std::fmt;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis as NdAxis};

pub use crate::kernels::Axis;
pub use crate::kernels::exact::ExactSum;
pub use crate::kernels::sweep::CHUNK;
pub(crate) use crate::kernels::tiles::Moments;
pub use cost_fn::{Bilinear, Cosine, CostFn, Custom, Euclidean, Lp, SqEuclidean};
pub use dense::DenseCost;
pub use grid::Grid;
pub use passes::SweepPasses;
pub use point_cloud::{LowRankCost, PointCloud};
pub use precision::{CostScalar, Precision};
pub use sharded::Sharded;

use crate::error::{Error, Result};

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

/// A batch of `k` softmin sweeps of one geometry, one per row of `h`:
/// `out[p, o] = −ε·log Σ_r exp(h[p, r] − C(o, r)/ε)`, where `C(o, r)` is `C[o, r]` for
/// `Axis::Rows` and `C[r, o]` for `Axis::Cols`.
///
/// The cost is read once for all `k` problems, and each problem's outputs are the bits a
/// sweep of that problem alone gives.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    /// Which index the outputs run over.
    pub axis: Axis,
    /// The regularization ε.
    pub epsilon: f64,
    /// `k × n_red`: one dimensionless vector per problem (log-weights plus potential over ε).
    pub h: ArrayView2<'a, f64>,
    /// `k × n_out`: guesses of the outputs (typically the previous iteration's), or `None`.
    /// A guess only buys speed (one pass instead of two): outputs agree with the unguessed
    /// sweep to rounding whatever the guess.
    pub guess: Option<ArrayView2<'a, f64>>,
}

/// The inputs of [`Geometry::softmin_chain`], for `k` problems: a row sweep at `eps_rows` of
/// `h`, then a column sweep at `eps_cols` of `h'[p, i] = link(p, i, s[p, i])`, with optional
/// guesses of both results.
#[derive(Clone, Copy)]
pub struct SoftminChain<'a> {
    /// ε of the row sweep.
    pub eps_rows: f64,
    /// The row sweep's `h` (`k × m`).
    pub h: ArrayView2<'a, f64>,
    /// Guesses of the row sweep's outputs (`k × n`), see [`Sweep::guess`].
    pub guess_rows: Option<ArrayView2<'a, f64>>,
    /// `(p, i, s[p, i]) ↦ h'[p, i]`; must return `−∞` or a finite value.
    pub link: &'a (dyn Fn(usize, usize, f64) -> f64 + Sync),
    /// ε of the column sweep.
    pub eps_cols: f64,
    /// Guesses of the column sweep's outputs (`k × m`).
    pub guess_cols: Option<ArrayView2<'a, f64>>,
}

impl fmt::Debug for SoftminChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftminChain")
            .field("eps_rows", &self.eps_rows)
            .field("eps_cols", &self.eps_cols)
            .field("problems", &self.h.nrows())
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

    /// The precision the cost is stored or computed in (sums, potentials and every reported
    /// value are `f64` either way).
    fn precision(&self) -> Precision {
        Precision::F64
    }

    /// `k` softmin sweeps at once (the primitive every entropic solver is written against),
    /// see [`Sweep`]. An output is `+∞` when every term is zero (all `h = −∞` or every cost
    /// of its row/column forbidden).
    ///
    /// # Errors
    /// [`Error::Shape`] naming `h`, `guess` or `out` for mismatched shapes;
    /// [`Error::InvalidParameter`] for an ε that is not positive and finite.
    fn softmin_batch(&self, sweep: &Sweep<'_>, out: ArrayViewMut2<'_, f64>) -> Result<()>;

    /// One softmin sweep: `Axis::Rows`: `out_i = −ε·log Σ_j exp(h_j − C_ij/ε)` with `h` of
    /// length `m` and `out` of length `n`; `Axis::Cols` is the transposed sweep.
    ///
    /// # Errors
    /// As [`softmin_batch`](Geometry::softmin_batch).
    fn softmin(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView1<'_, f64>,
        out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        self.softmin_near(axis, epsilon, h, None, out)
    }

    /// [`softmin`](Geometry::softmin) given a guess of the result (see [`Sweep::guess`]).
    ///
    /// # Errors
    /// As [`softmin_batch`](Geometry::softmin_batch).
    fn softmin_near(
        &self,
        axis: Axis,
        epsilon: f64,
        h: ArrayView1<'_, f64>,
        guess: Option<ArrayView1<'_, f64>>,
        out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        let sweep = Sweep {
            axis,
            epsilon,
            h: h.insert_axis(NdAxis(0)),
            guess: guess.map(|g| g.insert_axis(NdAxis(0))),
        };
        self.softmin_batch(&sweep, out.insert_axis(NdAxis(0)))
    }

    /// A row sweep followed by a column sweep whose `h` is computed from the row sweep's
    /// output, entry by entry (one Sinkhorn iteration), for `k` problems: `s = softmin_rows(h)`,
    /// then `t = softmin_cols(h')` with `h'[p, i] = (chain.link)(p, i, s[p, i])`. A stored cost
    /// can be read once instead of twice; the default runs the two sweeps one after the other.
    ///
    /// # Errors
    /// As [`softmin_batch`](Geometry::softmin_batch).
    fn softmin_chain(
        &self,
        chain: &SoftminChain<'_>,
        out_rows: ArrayViewMut2<'_, f64>,
        out_cols: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        default_chain(self, chain, out_rows, out_cols)
    }

    /// The two passes this geometry's sweeps are made of, when it can be one block of a
    /// [`Sharded`] geometry (stored costs and point clouds); `None` otherwise.
    fn sweep_passes(&self) -> Option<&dyn SweepPasses> {
        None
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
    mut out_rows: ArrayViewMut2<'_, f64>,
    out_cols: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    geom.softmin_batch(
        &Sweep {
            axis: Axis::Rows,
            epsilon: chain.eps_rows,
            h: chain.h,
            guess: chain.guess_rows,
        },
        out_rows.view_mut(),
    )?;
    let linked = Array2::from_shape_fn(out_rows.dim(), |(p, i)| {
        (chain.link)(p, i, out_rows[[p, i]])
    });
    geom.softmin_batch(
        &Sweep {
            axis: Axis::Cols,
            epsilon: chain.eps_cols,
            h: linked.view(),
            guess: chain.guess_cols,
        },
        out_cols,
    )
}

/// Checks the shapes and ε of a [`Sweep`] on a geometry of shape `shape` writing `out`.
pub(crate) fn check_sweep(
    shape: (usize, usize),
    sweep: &Sweep<'_>,
    out: &ArrayViewMut2<'_, f64>,
) -> Result<()> {
    crate::validate::positive("epsilon", sweep.epsilon)?;
    let (n_out, n_red) = sweep_lengths(shape, sweep.axis);
    let k = sweep.h.nrows();
    check_len("h", sweep.h.ncols(), n_red, "the reduced axis of the sweep")?;
    check_len("out", out.ncols(), n_out, "the output axis of the sweep")?;
    check_len("out", out.nrows(), k, "the rows of h (one sweep per row)")?;
    if let Some(g) = &sweep.guess {
        check_len("guess", g.ncols(), n_out, "the output axis of the sweep")?;
        check_len("guess", g.nrows(), k, "the rows of h (one guess per sweep)")?;
    }
    Ok(())
}

/// A standard-layout (row-major, contiguous) copy of `a`, or `a` itself when it already is.
pub(crate) fn row_major<'a>(a: &'a ArrayView2<'_, f64>) -> Cow<'a, [f64]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// Runs `f` on a row-major contiguous slice of `out`, through a buffer when `out` is not.
pub(crate) fn with_rows_mut<R>(
    mut out: ArrayViewMut2<'_, f64>,
    f: impl FnOnce(&mut [f64]) -> R,
) -> R {
    if let Some(s) = out.as_slice_mut() {
        return f(s);
    }
    let mut buf: Vec<f64> = out.iter().copied().collect();
    let r = f(&mut buf);
    out.iter_mut().zip(buf).for_each(|(o, v)| *o = v);
    r
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

impl Moments {
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
