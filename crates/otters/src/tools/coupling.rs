//! Sampling from couplings and measuring their sharpness (ALGORITHMS.md T3; the minibatch
//! pairing of OT flow matching). An entropic plan `P_ij = exp(log_row_i + log_col_j − C_ij/ε)`
//! (for Sinkhorn, `log_row = log a + f/ε`, `log_col = log b + g/ε`) is read one row at a
//! time through [`Geometry::cost_block`], so sampling `k` pairs needs O(n + m + k) memory and
//! never the `n × m` plan; exact plans are sampled from their sparse entries.

use ndarray::{Array1, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Index, Result};
use crate::geometry::{Axis, Geometry, LogPlan, check_plan};
use crate::linear::{LinearProblem, SinkhornOutput, SparsePlan};

/// Pairs `(rows[t], cols[t])` drawn from a coupling, in the order of the draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledPairs {
    /// Row (source) indices.
    pub rows: Vec<usize>,
    /// Column (target) indices.
    pub cols: Vec<usize>,
}

/// How concentrated a coupling is. With `π = P/ΣP`, row masses `r_i = Σ_j P_ij` and row
/// conditionals `π_{j|i} = P_ij / r_i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sharpness {
    /// `H(π) = −Σ_ij π_ij log π_ij` (nats).
    pub entropy: f64,
    /// `H(J | I) = Σ_i (r_i/ΣP)·H(π_{·|i})`: 0 for a map, `log m` for the independent
    /// coupling with uniform target.
    pub conditional_entropy: f64,
    /// `H(J | I) / log m` in `[0, 1]` (0 when `m = 1`).
    pub normalized_entropy: f64,
    /// `exp(H(π_{·|i}))` per row, in `[1, m]`: the effective number of partners of row `i`
    /// (0 for a row without mass).
    pub effective_partners: Array1<f64>,
    /// `max_j π_{j|i}` per row: the share of row `i`'s mass on its heaviest partner (0 for a
    /// row without mass).
    pub argmax_mass: Array1<f64>,
    /// `Σ_i max_j P_ij / ΣP`: the share of all mass that sits on each row's heaviest entry
    /// (1 for a map).
    pub argmax_fraction: f64,
}

/// Per-row statistics: mass, `Σ p log p`, max.
#[derive(Debug, Clone, Copy, Default)]
struct RowStats {
    mass: f64,
    p_log_p: f64,
    max: f64,
}

impl RowStats {
    fn of(values: impl Iterator<Item = f64>) -> RowStats {
        let mut s = RowStats::default();
        for p in values.filter(|&p| p > 0.0) {
            s.mass += p;
            s.p_log_p += p * p.ln();
            s.max = s.max.max(p);
        }
        s
    }
}

fn sharpness_of(rows: &[RowStats], m: usize) -> Result<Sharpness> {
    let total: f64 = rows.iter().map(|r| r.mass).sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::ZeroMass { arg: "plan" });
    }
    // H(π) = log Σ − (Σ p log p)/Σ ; row entropy H_i = log r_i − (Σ_j p log p)/r_i.
    let plogp: f64 = rows.iter().map(|r| r.p_log_p).sum();
    let entropy = total.ln() - plogp / total;
    let row_entropy: Vec<f64> = rows
        .iter()
        .map(|r| {
            if r.mass > 0.0 {
                (r.mass.ln() - r.p_log_p / r.mass).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let conditional_entropy = rows
        .iter()
        .zip(&row_entropy)
        .map(|(r, h)| r.mass / total * h)
        .sum::<f64>();
    Ok(Sharpness {
        entropy,
        conditional_entropy,
        normalized_entropy: if m > 1 {
            conditional_entropy / (m as f64).ln()
        } else {
            0.0
        },
        effective_partners: rows
            .iter()
            .zip(&row_entropy)
            .map(|(r, h)| if r.mass > 0.0 { h.exp() } else { 0.0 })
            .collect(),
        argmax_mass: rows
            .iter()
            .map(|r| if r.mass > 0.0 { r.max / r.mass } else { 0.0 })
            .collect(),
        argmax_fraction: rows.iter().map(|r| r.max).sum::<f64>() / total,
    })
}

/// [`Sharpness`] of a plan stored as a dense matrix.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::NegativeWeight`] (negative entry,
/// reported by its flat index) naming `plan`; [`Error::ZeroMass`] for an all-zero plan.
pub fn sharpness_dense(plan: ArrayView2<'_, f64>) -> Result<Sharpness> {
    if plan.is_empty() {
        return Err(Error::Empty {
            arg: "plan",
            what: "entry",
        });
    }
    crate::validate::finite_matrix("plan", plan)?;
    if let Some(((i, j), &v)) = plan.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(Error::NegativeWeight {
            arg: "plan",
            index: i * plan.ncols() + j,
            value: v,
        });
    }
    let rows: Vec<RowStats> = plan
        .rows()
        .into_iter()
        .map(|r| RowStats::of(r.iter().copied()))
        .collect();
    sharpness_of(&rows, plan.ncols())
}

/// [`Sharpness`] of a sparse (exact) plan.
///
/// # Errors
/// [`Error::ZeroMass`] for a plan without entries.
pub fn sharpness_sparse(plan: &SparsePlan) -> Result<Sharpness> {
    let (n, m) = plan.shape();
    let mut rows = vec![RowStats::default(); n];
    let ptr = row_pointers(plan);
    for (i, row) in rows.iter_mut().enumerate() {
        *row = RowStats::of(plan.values()[ptr[i]..ptr[i + 1]].iter().copied());
    }
    sharpness_of(&rows, m)
}

/// `ptr[i]..ptr[i+1]` are the entries of row `i` (entries are sorted by row).
fn row_pointers(plan: &SparsePlan) -> Vec<usize> {
    let n = plan.shape().0;
    let mut ptr = vec![0usize; n + 1];
    for &i in plan.rows() {
        ptr[i + 1] += 1;
    }
    for i in 0..n {
        ptr[i + 1] += ptr[i];
    }
    ptr
}

/// The index `k` with `cum[k−1] ≤ u < cum[k]` for a nondecreasing `cum` and `u < cum.last`.
fn pick(cum: &[f64], u: f64) -> usize {
    cum.partition_point(|&c| c <= u).min(cum.len() - 1)
}

/// Draws `count` i.i.d. pairs from a sparse plan, `P((i, j)) = P_ij / ΣP`, reproducibly
/// from `seed`.
///
/// # Errors
/// [`Error::ZeroMass`] for a plan without entries.
pub fn sample_sparse_pairs(plan: &SparsePlan, count: usize, seed: u64) -> Result<SampledPairs> {
    let mut cum = Vec::with_capacity(plan.nnz());
    let mut acc = 0.0;
    for &v in plan.values() {
        acc += v;
        cum.push(acc);
    }
    if acc <= 0.0 {
        return Err(Error::ZeroMass { arg: "plan" });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut rows, mut cols) = (Vec::with_capacity(count), Vec::with_capacity(count));
    for _ in 0..count {
        let e = pick(&cum, rng.random::<f64>() * acc);
        rows.push(plan.rows()[e]);
        cols.push(plan.cols()[e]);
    }
    Ok(SampledPairs { rows, cols })
}

/// Draws, for each given row `i`, one target `j` with probability `P_ij / Σ_j P_ij` from a
/// sparse plan, reproducibly from `seed`.
///
/// # Errors
/// [`Error::InvalidParameter`] naming `rows` for an index out of range or a row without mass.
pub fn sample_sparse_targets(plan: &SparsePlan, rows: &[usize], seed: u64) -> Result<Vec<usize>> {
    let ptr = row_pointers(plan);
    let n = plan.shape().0;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(rows.len());
    for (p, &i) in rows.iter().enumerate() {
        check_row(i, p, n)?;
        let values = &plan.values()[ptr[i]..ptr[i + 1]];
        let mut cum = Vec::with_capacity(values.len());
        let mut acc = 0.0;
        for &v in values {
            acc += v;
            cum.push(acc);
        }
        if acc <= 0.0 {
            return Err(massless_row(i, p));
        }
        let e = pick(&cum, rng.random::<f64>() * acc);
        out.push(plan.cols()[ptr[i] + e]);
    }
    Ok(out)
}

fn check_row(i: usize, position: usize, n: usize) -> Result<()> {
    if i < n {
        Ok(())
    } else {
        Err(Error::invalid(
            "rows",
            "row indices must be below the number of rows of the plan",
            format!("{i} at position {position} (the plan has {n} rows)"),
        ))
    }
}

fn massless_row(i: usize, position: usize) -> Error {
    Error::invalid(
        "rows",
        "a row without mass in the plan has no partner to draw",
        format!("{i} at position {position}"),
    )
}

/// An entropic coupling given in log form on a geometry, read row by row without
/// materializing it: its row masses (one sweep), pairs and conditional draws, sharpness.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::PointCloud;
/// use otters::linear::{Epsilon, LinearProblem, Sinkhorn};
/// use otters::tools::EntropicCoupling;
///
/// let x = array![[0.0], [1.0], [2.0]];
/// let geom = PointCloud::sq_euclidean(x.view(), x.view())?;
/// let problem = LinearProblem::uniform(&geom)?;
/// let out = Sinkhorn::new(Epsilon::Absolute(0.01)).solve(&problem)?;
/// let coupling = EntropicCoupling::from_sinkhorn(&problem, &out)?;
/// let pairs = coupling.sample_pairs(100, 7)?;
/// // At small ε the plan is the identity matching.
/// assert!(pairs.rows.iter().zip(&pairs.cols).all(|(i, j)| i == j));
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug)]
pub struct EntropicCoupling<'a> {
    geom: &'a dyn Geometry,
    plan: LogPlan<'a>,
    /// Running sums of the row masses `P1`.
    cumulative: Vec<f64>,
}

impl<'a> EntropicCoupling<'a> {
    /// The coupling `P_ij = exp(plan.log_row_i + plan.log_col_j − C_ij/ε)` on `geom`;
    /// computes the row masses with one softmin sweep.
    ///
    /// # Errors
    /// [`Error::Shape`] when `plan` does not fit `geom`; [`Error::InvalidParameter`] for a
    /// non-positive ε; [`Error::NonFinite`] for a NaN or `+∞` log factor; [`Error::ZeroMass`]
    /// when the plan has no mass.
    pub fn new(geom: &'a dyn Geometry, plan: LogPlan<'a>) -> Result<Self> {
        check_plan(&plan, geom.shape())?;
        for (arg, v) in [
            ("plan.log_row", plan.log_row),
            ("plan.log_col", plan.log_col),
        ] {
            if let Some(i) = v.iter().position(|x| x.is_nan() || *x == f64::INFINITY) {
                return Err(Error::NonFinite {
                    arg,
                    index: Index::Vector(i),
                    value: v[i],
                });
            }
        }
        let (n, _) = geom.shape();
        let mut s = Array1::zeros(n);
        geom.softmin(Axis::Rows, plan.epsilon, plan.log_col, s.view_mut())?;
        // Row mass r_i = exp(log_row_i) Σ_j exp(log_col_j − C_ij/ε) = exp(log_row_i − s_i/ε).
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for (lr, si) in plan.log_row.iter().zip(&s) {
            let r = if *lr == f64::NEG_INFINITY || *si == f64::INFINITY {
                0.0
            } else {
                (lr - si / plan.epsilon).exp()
            };
            acc += r;
            cumulative.push(acc);
        }
        if !(acc > 0.0 && acc.is_finite()) {
            return Err(Error::ZeroMass { arg: "plan" });
        }
        Ok(EntropicCoupling {
            geom,
            plan,
            cumulative,
        })
    }

    /// The plan of a Sinkhorn solve of `problem`.
    ///
    /// # Errors
    /// [`Error::Shape`] when `out` was not solved on `problem`'s shape; as [`new`](Self::new).
    pub fn from_sinkhorn<'g: 'a>(
        problem: &LinearProblem<'g>,
        out: &'a SinkhornOutput,
    ) -> Result<Self> {
        EntropicCoupling::new(problem.geom(), out.log_plan())
    }

    /// The row masses `P1`.
    pub fn row_masses(&self) -> Array1<f64> {
        let mut prev = 0.0;
        self.cumulative
            .iter()
            .map(|&c| {
                let r = c - prev;
                prev = c;
                r
            })
            .collect()
    }

    /// Draws `count` i.i.d. pairs with `P((i, j)) = P_ij / ΣP`: rows from the row masses,
    /// then each row's target from its conditional `P_ij / r_i` (one cost row per distinct
    /// sampled row, rows in parallel). Reproducible: the same seed gives the same pairs
    /// whatever the number of threads.
    ///
    /// # Errors
    /// The geometry's errors.
    pub fn sample_pairs(&self, count: usize, seed: u64) -> Result<SampledPairs> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let total = *self.cumulative.last().expect("n >= 1");
        let rows: Vec<usize> = (0..count)
            .map(|_| pick(&self.cumulative, rng.random::<f64>() * total))
            .collect();
        let cols = self.draw_targets(&rows, seed)?;
        Ok(SampledPairs { rows, cols })
    }

    /// For each given row `i` (repeats allowed), one target `j` drawn with probability
    /// `P_ij / Σ_j P_ij`, reproducibly from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `rows` for an index out of range or a row without
    /// mass.
    pub fn sample_targets(&self, rows: &[usize], seed: u64) -> Result<Vec<usize>> {
        let n = self.cumulative.len();
        for (p, &i) in rows.iter().enumerate() {
            check_row(i, p, n)?;
            let before = if i == 0 { 0.0 } else { self.cumulative[i - 1] };
            if self.cumulative[i] <= before {
                return Err(massless_row(i, p));
            }
        }
        self.draw_targets(rows, seed)
    }

    /// Targets for `rows` (all of positive mass). Each distinct row gets its own ChaCha
    /// stream (`seed`, stream `1 + i`), so results do not depend on scheduling.
    fn draw_targets(&self, rows: &[usize], seed: u64) -> Result<Vec<usize>> {
        let mut by_row: Vec<(usize, usize)> = rows.iter().copied().zip(0..).collect();
        by_row.sort_unstable();
        let groups: Vec<&[(usize, usize)]> = by_row.chunk_by(|x, y| x.0 == y.0).collect();
        let drawn: Vec<Vec<(usize, usize)>> = groups
            .par_iter()
            .map(|group| {
                let i = group[0].0;
                let cum = self.row_cumulative(i)?;
                let total = *cum.last().expect("m >= 1");
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(1 + i as u64);
                Ok(group
                    .iter()
                    .map(|&(_, pos)| (pos, pick(&cum, rng.random::<f64>() * total)))
                    .collect())
            })
            .collect::<Result<_>>()?;
        let mut cols = vec![0; rows.len()];
        for (pos, j) in drawn.into_iter().flatten() {
            cols[pos] = j;
        }
        Ok(cols)
    }

    /// Running sums of `exp(log_col_j − C_ij/ε − max)` over `j` for row `i`.
    fn row_cumulative(&self, i: usize) -> Result<Vec<f64>> {
        let logits = self.row_logits(i)?;
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut acc = 0.0;
        Ok(logits
            .iter()
            .map(|&l| {
                if l > f64::NEG_INFINITY {
                    acc += (l - max).exp();
                }
                acc
            })
            .collect())
    }

    /// `log_col_j − C_ij/ε` for row `i` (`−∞` for zero weights and forbidden pairs).
    fn row_logits(&self, i: usize) -> Result<Array1<f64>> {
        let m = self.plan.log_col.len();
        let cols: Vec<usize> = (0..m).collect();
        let mut cost = Array2::zeros((1, m));
        self.geom.cost_block(&[i], &cols, cost.view_mut())?;
        Ok(cost
            .row(0)
            .iter()
            .zip(self.plan.log_col)
            .map(|(&c, &lc)| {
                if lc == f64::NEG_INFINITY || c == f64::INFINITY {
                    f64::NEG_INFINITY
                } else {
                    lc - c / self.plan.epsilon
                }
            })
            .collect())
    }

    /// The [`Sharpness`] of the coupling, one cost row at a time (rows in parallel).
    ///
    /// # Errors
    /// The geometry's errors.
    pub fn sharpness(&self) -> Result<Sharpness> {
        let n = self.cumulative.len();
        let rows: Vec<RowStats> = (0..n)
            .into_par_iter()
            .map(|i| {
                let lr = self.plan.log_row[i];
                if lr == f64::NEG_INFINITY {
                    return Ok(RowStats::default());
                }
                let logits = self.row_logits(i)?;
                Ok(RowStats::of(logits.iter().map(|&l| (lr + l).exp())))
            })
            .collect::<Result<_>>()?;
        sharpness_of(&rows, self.plan.log_col.len())
    }

    /// The log factors of the coupling.
    pub fn log_plan(&self) -> LogPlan<'a> {
        self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::DenseCost;
    use ndarray::array;

    #[test]
    fn row_masses_match_the_dense_plan() {
        let cost = array![[0.0, 1.0, 4.0], [1.0, 0.0, 1.0]];
        let geom = DenseCost::new(cost.view()).unwrap();
        let (lr, lc) = (array![0.1, -0.3], array![0.0, 0.2, f64::NEG_INFINITY]);
        let plan = LogPlan {
            log_row: lr.view(),
            log_col: lc.view(),
            epsilon: 0.5,
        };
        let c = EntropicCoupling::new(&geom, plan).unwrap();
        let dense = geom.plan_matrix(&plan, 1 << 20).unwrap();
        let want = dense.sum_axis(ndarray::Axis(1));
        for (r, w) in c.row_masses().iter().zip(&want) {
            assert!((r - w).abs() < 1e-14);
        }
        // The zero-weight column is never drawn.
        let pairs = c.sample_pairs(500, 3).unwrap();
        assert!(pairs.cols.iter().all(|&j| j < 2));
    }
}
