//! Soft sorting, ranking and quantiles (ALGORITHMS.md T1; Cuturi, Teboul, Vert 2019,
//! *Differentiable ranks and sorting using optimal transport*), with the conventions of
//! OTT-JAX's `ott.tools.soft_sort`: entropic OT (cost `|x − y|²`) from the squashed inputs
//! `x̃ ∈ [0, 1]` with weights `1/n` to the increasing grid `y_k = k/(m − 1)` with weights `b`.
//! For the plan `P`: soft sort `s = diag(1/Pᵀ1)·Pᵀx`, soft ranks
//! `r = diag(1/P1)·P·(0, 1, …, m − 1)·(n − 1)/(m − 1)`, soft quantiles read off the soft
//! sort at small targets placed at the requested levels.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis};
use rayon::prelude::*;

use crate::error::{Error, Index, Result};
use crate::geometry::{Axis, PointCloud};
use crate::linear::{
    Epsilon, EpsilonScaling, LinearProblem, MASS_TOLERANCE, Sinkhorn, SinkhornOutput,
};
use crate::validate;

/// How the inputs are mapped into `[0, 1]` before they are transported to the target grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Squashing {
    /// `σ((x − mean(x)) / (std(x) + 10⁻¹⁰))` with the logistic `σ` and the population
    /// standard deviation (OTT-JAX's default).
    #[default]
    Sigmoid,
    /// The inputs as they are (they should then lie in `[0, 1]` for ε to keep its meaning).
    Identity,
}

/// Which soft operator to apply to a vector of `n` values.
#[derive(Debug, Clone, Copy)]
pub enum SoftOperator<'a> {
    /// `num_targets` increasing convex combinations of the inputs (default `n`), the
    /// targets having uniform weights.
    Sort {
        /// Number of sorted values returned (`None`: as many as inputs).
        num_targets: Option<usize>,
    },
    /// The `k` largest values in increasing order: targets of weights
    /// `((n − k)/n, 1/n, …, 1/n)`, the first one discarded.
    TopK {
        /// How many values (`1 ≤ k ≤ n`).
        k: usize,
    },
    /// Soft ranks in `[0, n − 1]`, one per input.
    Ranks {
        /// Uniform targets of this count (default `n`); ignored when `target_weights` is given.
        num_targets: Option<usize>,
        /// Weights of the targets (non-negative, summing to 1).
        target_weights: Option<ArrayView1<'a, f64>>,
    },
    /// Soft quantiles at the levels `q ∈ (0, 1)` (any order, distinct), in the order given.
    Quantiles {
        /// The levels.
        q: ArrayView1<'a, f64>,
        /// The target weight put at each level (default: the smallest of half the gaps
        /// between levels, `0.5/len(q)`, `0.02` and `1.5/n`, as OTT-JAX).
        weight: Option<f64>,
    },
}

/// Soft sorting operators: one entropic OT solve per input vector.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::tools::SoftSort;
///
/// let x = array![3.0, 1.0, 2.0];
/// let soft = SoftSort::new(1e-3);
/// let sorted = soft.sort(x.view(), None)?;
/// assert!(sorted.converged);
/// assert!((sorted.values[0] - 1.0).abs() < 1e-2 && (sorted.values[2] - 3.0).abs() < 1e-2);
/// let ranks = soft.ranks(x.view())?;
/// assert!((ranks.values[0] - 2.0).abs() < 1e-2 && ranks.values[1].abs() < 1e-2);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoftSort {
    /// The Sinkhorn settings; the default is OTT-JAX's absolute ε = 10⁻² with otters'
    /// default stopping rule (marginal error 10⁻⁶) and ε-scaling from `max C` by 0.9 per
    /// iteration (the same fixed point; without it ε ≤ 10⁻³ can need more than 10⁵
    /// iterations, with it about 100 at ε = 10⁻⁴).
    pub sinkhorn: Sinkhorn,
    /// How inputs are mapped into `[0, 1]`.
    pub squashing: Squashing,
}

impl Default for SoftSort {
    fn default() -> Self {
        SoftSort::new(1e-2)
    }
}

/// The result of a soft operator on one vector.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftSortOutput {
    /// The soft sorted values, ranks or quantiles.
    pub values: Array1<f64>,
    /// Whether the Sinkhorn solve met its threshold.
    pub converged: bool,
    /// Its final marginal error.
    pub marginal_error: f64,
    /// Its iterations.
    pub iterations: usize,
}

/// The result of a soft operator applied to every row of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftSortRows {
    /// One row of results per input row.
    pub values: Array2<f64>,
    /// Whether every row's Sinkhorn solve met its threshold.
    pub converged: bool,
    /// The largest final marginal error over the rows.
    pub marginal_error: f64,
}

impl SoftSort {
    /// Default settings (sigmoid squashing, ε-scaling) with the absolute regularization
    /// `epsilon`.
    pub fn new(epsilon: f64) -> Self {
        SoftSort {
            sinkhorn: Sinkhorn {
                scaling: EpsilonScaling::from_max_cost(0.9),
                ..Sinkhorn::new(Epsilon::Absolute(epsilon))
            },
            squashing: Squashing::Sigmoid,
        }
    }

    /// Soft sort of `x` into `num_targets` values (default `x.len()`), in increasing order.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn sort(
        &self,
        x: ArrayView1<'_, f64>,
        num_targets: Option<usize>,
    ) -> Result<SoftSortOutput> {
        self.apply(x, SoftOperator::Sort { num_targets })
    }

    /// Soft ranks of `x` in `[0, n − 1]` with `n` uniform targets.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn ranks(&self, x: ArrayView1<'_, f64>) -> Result<SoftSortOutput> {
        self.apply(
            x,
            SoftOperator::Ranks {
                num_targets: None,
                target_weights: None,
            },
        )
    }

    /// Soft quantiles of `x` at the levels `q`.
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn quantiles(
        &self,
        x: ArrayView1<'_, f64>,
        q: ArrayView1<'_, f64>,
    ) -> Result<SoftSortOutput> {
        self.apply(x, SoftOperator::Quantiles { q, weight: None })
    }

    /// Applies `op` to the vector `x`.
    ///
    /// # Errors
    /// [`Error::Empty`] / [`Error::NonFinite`] naming `x`; [`Error::InvalidParameter`] for a
    /// zero `num_targets`, `k` outside `1..=n`, ranks with a single target (for `n > 1`),
    /// quantile levels outside `(0, 1)` or repeated, a non-positive `weight`;
    /// the weight errors naming `target_weights`, or [`Error::MassMismatch`] unless they sum
    /// to 1; the Sinkhorn errors.
    pub fn apply(&self, x: ArrayView1<'_, f64>, op: SoftOperator<'_>) -> Result<SoftSortOutput> {
        check_inputs(x)?;
        let n = x.len();
        let uniform = |m: usize| Array1::from_elem(m, 1.0 / m as f64);
        match op {
            SoftOperator::Sort { num_targets } => {
                let m = count("num_targets", num_targets.unwrap_or(n))?;
                self.transport(x, uniform(m), |t| Ok(t.sorted(x)))
            }
            SoftOperator::TopK { k } => {
                if k == 0 || k > n {
                    return Err(Error::invalid(
                        "k",
                        "must be between 1 and the number of inputs",
                        format!("{k} (n = {n})"),
                    ));
                }
                let mut b = Array1::from_elem(k + 1, 1.0 / n as f64);
                b[0] = (n - k) as f64 / n as f64;
                self.transport(x, b, |t| Ok(t.sorted(x).slice_move(ndarray::s![1..])))
            }
            SoftOperator::Ranks {
                num_targets,
                target_weights,
            } => {
                let b = match target_weights {
                    Some(w) => {
                        let mass = validate::weights("target_weights", w)?;
                        if (mass - 1.0).abs() > MASS_TOLERANCE {
                            return Err(Error::MassMismatch {
                                sum_a: 1.0,
                                sum_b: mass,
                            });
                        }
                        w.to_owned()
                    }
                    None => uniform(count("num_targets", num_targets.unwrap_or(n))?),
                };
                let m = b.len();
                if n == 1 {
                    // One value has rank 0 whatever the targets.
                    return Ok(SoftSortOutput {
                        values: Array1::zeros(1),
                        converged: true,
                        marginal_error: 0.0,
                        iterations: 0,
                    });
                }
                if m < 2 {
                    return Err(Error::invalid(
                        "num_targets",
                        "ranking more than one value needs at least 2 targets",
                        m,
                    ));
                }
                let scale = (n - 1) as f64 / (m - 1) as f64;
                self.transport(x, b, |t| Ok(t.ranked() * scale))
            }
            SoftOperator::Quantiles { q, weight } => {
                let (b, order) = quantile_targets(q, weight, n)?;
                self.transport(x, b, |t| {
                    let sorted = t.sorted(x);
                    let mut out = Array1::zeros(order.len());
                    for (k, &p) in order.iter().enumerate() {
                        out[p] = sorted[2 * k + 1];
                    }
                    Ok(out)
                })
            }
        }
    }

    /// Applies `op` to every row of `x` (rows in parallel).
    ///
    /// # Errors
    /// As [`apply`](Self::apply), for the first failing row; [`Error::Empty`] for no rows.
    pub fn apply_rows(&self, x: ArrayView2<'_, f64>, op: SoftOperator<'_>) -> Result<SoftSortRows> {
        if x.nrows() == 0 {
            return Err(Error::Empty {
                arg: "x",
                what: "row",
            });
        }
        let rows: Vec<Result<SoftSortOutput>> = (0..x.nrows())
            .into_par_iter()
            .map(|i| self.apply(x.row(i), op))
            .collect();
        let rows: Vec<SoftSortOutput> = rows.into_iter().collect::<Result<_>>()?;
        let width = rows[0].values.len();
        let mut values = Array2::zeros((rows.len(), width));
        for (mut dst, row) in values.axis_iter_mut(NdAxis(0)).zip(&rows) {
            dst.assign(&row.values);
        }
        Ok(SoftSortRows {
            values,
            converged: rows.iter().all(|r| r.converged),
            marginal_error: rows.iter().map(|r| r.marginal_error).fold(0.0, f64::max),
        })
    }

    /// Solves the OT from the squashed `x` (uniform weights) to the grid with weights `b`,
    /// then reads the result with `read`.
    fn transport(
        &self,
        x: ArrayView1<'_, f64>,
        b: Array1<f64>,
        read: impl FnOnce(&Transport<'_, '_>) -> Result<Array1<f64>>,
    ) -> Result<SoftSortOutput> {
        let (n, m) = (x.len(), b.len());
        let squashed = squash(x, self.squashing).insert_axis(NdAxis(1));
        let grid = Array1::from_iter((0..m).map(|k| {
            if m == 1 {
                0.0
            } else {
                k as f64 / (m - 1) as f64
            }
        }))
        .insert_axis(NdAxis(1));
        let geom = PointCloud::sq_euclidean(squashed.view(), grid.view())?;
        let a = Array1::from_elem(n, 1.0 / n as f64);
        let problem = LinearProblem::new(&geom, a, b)?;
        let out = self.sinkhorn.solve(&problem)?;
        let values = read(&Transport {
            problem: &problem,
            out: &out,
        })?;
        Ok(SoftSortOutput {
            values,
            converged: out.converged(),
            marginal_error: out.marginal_error(),
            iterations: out.iterations(),
        })
    }
}

/// A solved sorting transport.
struct Transport<'p, 'g> {
    problem: &'p LinearProblem<'g>,
    out: &'p SinkhornOutput,
}

impl Transport<'_, '_> {
    /// `diag(1/Pᵀ1)·Pᵀx`: each entry a convex combination of the inputs (the actual column
    /// marginal is used, so that this holds whatever the remaining marginal error).
    fn sorted(&self, x: ArrayView1<'_, f64>) -> Array1<f64> {
        let (_, col_mass) = self.out.marginals();
        let moved = self
            .out
            .apply_plan(self.problem, Axis::Cols, x.insert_axis(NdAxis(1)))
            .expect("the shapes match the solved problem");
        moved
            .column(0)
            .iter()
            .zip(&col_mass)
            .map(|(v, c)| v / c)
            .collect()
    }

    /// `diag(1/P1)·P·(0, …, m − 1)`.
    fn ranked(&self) -> Array1<f64> {
        let m = self.out.g().len();
        let (row_mass, _) = self.out.marginals();
        let levels = Array1::from_iter((0..m).map(|k| k as f64)).insert_axis(NdAxis(1));
        let moved = self
            .out
            .apply_plan(self.problem, Axis::Rows, levels.view())
            .expect("the shapes match the solved problem");
        moved
            .column(0)
            .iter()
            .zip(&row_mass)
            .map(|(v, r)| v / r)
            .collect()
    }
}

fn check_inputs(x: ArrayView1<'_, f64>) -> Result<()> {
    if x.is_empty() {
        return Err(Error::Empty {
            arg: "x",
            what: "value",
        });
    }
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::NonFinite {
            arg: "x",
            index: Index::Vector(i),
            value: x[i],
        }),
        None => Ok(()),
    }
}

fn count(arg: &'static str, m: usize) -> Result<usize> {
    if m == 0 {
        Err(Error::invalid(arg, "must be >= 1", 0))
    } else {
        Ok(m)
    }
}

fn squash(x: ArrayView1<'_, f64>, squashing: Squashing) -> Array1<f64> {
    match squashing {
        Squashing::Identity => x.to_owned(),
        Squashing::Sigmoid => {
            let n = x.len() as f64;
            let mean = x.sum() / n;
            let std = (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            x.mapv(|v| 1.0 / (1.0 + (-(v - mean) / (std + 1e-10)).exp()))
        }
    }
}

/// Target weights for soft quantiles at levels `q` (OTT-JAX's layout): fillers between the
/// sorted levels interleaved with a target of mass `w` at each level, so that target `2k + 1`
/// sits at cumulative mass `q_(k)`. Returns the weights and the sorted order of `q`.
fn quantile_targets(
    q: ArrayView1<'_, f64>,
    weight: Option<f64>,
    n: usize,
) -> Result<(Array1<f64>, Vec<usize>)> {
    if q.is_empty() {
        return Err(Error::Empty {
            arg: "q",
            what: "quantile level",
        });
    }
    if let Some(i) = q.iter().position(|&v| !(v > 0.0 && v < 1.0)) {
        return Err(Error::invalid(
            "q",
            "quantile levels must lie strictly between 0 and 1",
            format!("{} at index {i}", q[i]),
        ));
    }
    if let Some(w) = weight {
        validate::positive("weight", w)?;
    }
    let mut order: Vec<usize> = (0..q.len()).collect();
    order.sort_by(|&i, &j| q[i].total_cmp(&q[j]));
    if let Some(pair) = order.windows(2).find(|p| q[p[0]] == q[p[1]]) {
        return Err(Error::invalid(
            "q",
            "quantile levels must be distinct",
            format!(
                "{} repeated at indices {} and {}",
                q[pair[0]], pair[0], pair[1]
            ),
        ));
    }
    let nq = q.len();
    let mut levels = vec![0.0];
    levels.extend(order.iter().map(|&i| q[i]));
    levels.push(1.0);
    let fillers: Vec<f64> = levels.windows(2).map(|w| w[1] - w[0]).collect();
    let mut w = fillers
        .iter()
        .map(|f| 0.5 * f)
        .fold(0.5 / nq as f64, f64::min);
    w = match weight {
        Some(given) => w.min(given),
        None => w.min(0.02).min(1.5 / n as f64),
    };
    let mut b = Vec::with_capacity(2 * nq + 1);
    for (k, f) in fillers.iter().enumerate() {
        // The outer fillers give up half a level weight, the inner ones a whole one, so
        // that each level's target is centred on its cumulative mass.
        let give = if k == 0 || k == nq { 0.5 * w } else { w };
        b.push(f - give);
        if k < nq {
            b.push(w);
        }
    }
    Ok((Array1::from(b), order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn quantile_targets_sum_to_one_and_centre_each_level() {
        let (b, order) = quantile_targets(array![0.8, 0.2, 0.5].view(), None, 10).unwrap();
        assert_eq!(order, vec![1, 2, 0]);
        assert!((b.sum() - 1.0).abs() < 1e-14);
        // Cumulative mass at the middle of target 2k+1 is the k-th sorted level.
        let mut acc = 0.0;
        for (t, &w) in b.iter().enumerate() {
            if t % 2 == 1 {
                let level = [0.2, 0.5, 0.8][t / 2];
                assert!((acc + 0.5 * w - level).abs() < 1e-14);
            }
            acc += w;
        }
        assert!(b.iter().all(|&w| w > 0.0));
    }

    #[test]
    fn sigmoid_squashing_is_monotone_and_centred() {
        let s = squash(array![-1.0, 0.0, 1.0].view(), Squashing::Sigmoid);
        assert!(s[0] < s[1] && s[1] < s[2]);
        assert!((s[1] - 0.5).abs() < 1e-15);
        let c = squash(array![2.0, 2.0].view(), Squashing::Sigmoid);
        assert_eq!(c, array![0.5, 0.5]);
    }
}
