//! Exact (unregularized) OT: `min ⟨C, P⟩` over `Π(a, b)` (ALGORITHMS.md L1).
//!
//! [`NetworkSimplex`] materializes the cost once, drops zero weights, and solves by the
//! network simplex, or — when `n = m` and both weights are uniform — by the LAPJV
//! assignment solver, which returns the same outputs faster. [`ExactOutput`] carries the
//! sparse plan (at most n + m − 1 entries), dual potentials that certify optimality
//! (`f_i + g_j ≤ C_ij`, equality on the support, `⟨a, f⟩ + ⟨b, g⟩ = ⟨C, P⟩`) and a status.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::sparse_plan::SparsePlan;
use rayon::prelude::*;

use super::{LinearProblem, LinearProblemBatch, assignment, network_simplex};
use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::observe::Observer;
use crate::validate::{self, DEFAULT_MEMORY_LIMIT, compensated_sum};

/// Whether [`NetworkSimplex`] may switch to the assignment solver on square problems with
/// uniform weights and finite costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignmentFastPath {
    /// Try LAPJV with a work budget of [`ASSIGNMENT_BUDGET`]·n² relaxations and fall back to
    /// the network simplex when it runs out: LAPJV wins 2× on unstructured costs and loses
    /// 20× on geometric ones (near-ties), and its own work tells the two apart early.
    #[default]
    Auto,
    /// Always use LAPJV when it applies.
    Always,
    /// Always run the network simplex.
    Off,
}

/// The work budget of [`AssignmentFastPath::Auto`], in units of n² reduced-cost relaxations
/// (measured: ≤ 5 on random uniform costs up to n = 2000, ≥ 180 on squared Euclidean ones).
pub const ASSIGNMENT_BUDGET: usize = 8;

/// Which algorithm produced an [`ExactOutput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactMethod {
    /// The network simplex.
    NetworkSimplex,
    /// The LAPJV shortest-augmenting-path assignment solver.
    Assignment,
}

/// How an exact solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactStatus {
    /// The plan is optimal and the potentials certify it.
    Optimal,
    /// The pivot budget ran out: the plan is feasible but may not be optimal.
    MaxIterationsReached,
}

/// Exact OT by the network simplex (ALGORITHMS.md L1), with an assignment fast path.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::DenseCost;
/// use otters::linear::{LinearProblem, NetworkSimplex};
///
/// let cost = array![[0.0, 2.0], [1.0, 0.5]];
/// let geom = DenseCost::new(cost.view())?;
/// let problem = LinearProblem::new(&geom, array![0.6, 0.4], array![0.3, 0.7])?;
/// let out = NetworkSimplex::default().solve(&problem)?;
/// // 0.3 stays at cost 0, 0.3 moves at cost 2.0, 0.4 at cost 0.5.
/// assert!((out.cost() - 0.8).abs() < 1e-12);
/// assert!((out.dual_cost() - out.cost()).abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSimplex {
    /// Pivot budget of the network simplex.
    pub max_iterations: usize,
    /// Whether uniform square problems go to the assignment solver.
    pub assignment: AssignmentFastPath,
    /// Largest cost matrix (in bytes) the solver may materialize.
    pub memory_limit: usize,
}

impl Default for NetworkSimplex {
    fn default() -> Self {
        NetworkSimplex {
            max_iterations: 1 << 40,
            assignment: AssignmentFastPath::Auto,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// The final network-simplex basis of the last solve in a sequence of exact solves on the
/// same weights, with the (positive) weights it was built for; see
/// [`NetworkSimplex::solve_from`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ExactWarmStart {
    last: Option<(Vec<f64>, Vec<f64>, network_simplex::Basis)>,
}

impl ExactWarmStart {
    /// A start from the monotone coupling of `a` and `b`: the sources by decreasing
    /// `row_key`, the sinks by decreasing `col_key` (ties by index), coupled by the
    /// north-west corner rule. It is optimal for costs `C_ij = f_i + g_j − x_i·y_j` with
    /// `x = row_key`, `y = col_key` (a Monge array in that order); for other costs it is a
    /// feasible start. Empty when the masses differ beyond rounding.
    pub(crate) fn monotone(
        a: ArrayView1<'_, f64>,
        b: ArrayView1<'_, f64>,
        row_key: ArrayView1<'_, f64>,
        col_key: ArrayView1<'_, f64>,
    ) -> Self {
        let (a_kept, b_kept) = (kept_weights(a), kept_weights(b));
        let order = |w: ArrayView1<'_, f64>, key: ArrayView1<'_, f64>| {
            let kept: Vec<usize> = (0..w.len()).filter(|&i| w[i] > 0.0).collect();
            let mut order: Vec<usize> = (0..kept.len()).collect();
            order.sort_by(|&p, &q| key[kept[q]].total_cmp(&key[kept[p]]));
            order
        };
        let (rows, cols) = (order(a, row_key), order(b, col_key));
        if rows.is_empty() || cols.is_empty() {
            return Self::default();
        }
        let last = network_simplex::Basis::north_west(&a_kept, &b_kept, &rows, &cols)
            .map(|basis| (a_kept, b_kept, basis));
        ExactWarmStart { last }
    }
}

/// The positive entries of `w`, in order (the weights the solvers keep).
fn kept_weights(w: ArrayView1<'_, f64>) -> Vec<f64> {
    w.iter().copied().filter(|&x| x > 0.0).collect()
}

/// The result of an exact solve.
#[derive(Debug, Clone)]
pub struct ExactOutput {
    plan: SparsePlan,
    f: Array1<f64>,
    g: Array1<f64>,
    cost: f64,
    dual_cost: f64,
    marginal_error: f64,
    status: ExactStatus,
    method: ExactMethod,
    iterations: usize,
}

impl ExactOutput {
    /// The optimal transport cost `⟨C, P⟩` (POT's `emd2`).
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// The dual objective `⟨a, f⟩ + ⟨b, g⟩`; equal to [`cost`](Self::cost) at optimality.
    pub fn dual_cost(&self) -> f64 {
        self.dual_cost
    }

    /// The plan's nonzero entries.
    pub fn plan(&self) -> &SparsePlan {
        &self.plan
    }

    /// The plan as a dense matrix, refused above `limit_bytes`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above the limit.
    pub fn plan_dense(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        self.plan.to_dense(limit_bytes)
    }

    /// Source potentials `f`, centered so that `⟨a, f⟩ = ⟨b, g⟩` (POT's convention). For a
    /// zero weight, `f_i = min_j (C_ij − g_j)`, which keeps `f_i + g_j ≤ C_ij`.
    pub fn f(&self) -> ArrayView1<'_, f64> {
        self.f.view()
    }

    /// Target potentials `g` (see [`f`](Self::f)).
    pub fn g(&self) -> ArrayView1<'_, f64> {
        self.g.view()
    }

    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of the returned plan: rounding-level when optimal; when the
    /// pivot budget ran out, mass may still sit on the artificial start arcs.
    pub fn marginal_error(&self) -> f64 {
        self.marginal_error
    }

    /// Whether the plan is certified optimal.
    pub fn status(&self) -> ExactStatus {
        self.status
    }

    /// `status() == Optimal`.
    pub fn converged(&self) -> bool {
        self.status == ExactStatus::Optimal
    }

    /// The algorithm used.
    pub fn method(&self) -> ExactMethod {
        self.method
    }

    /// Pivots of the network simplex (0 for the assignment solver).
    pub fn iterations(&self) -> usize {
        self.iterations
    }
}

impl NetworkSimplex {
    /// A balanced problem and a positive pivot budget.
    fn check(&self, problem: &LinearProblem<'_>) -> Result<()> {
        if !problem.is_balanced() {
            return Err(Error::invalid(
                "problem",
                "exact OT needs hard marginals (use Sinkhorn for unbalanced problems)",
                format!("{:?}", problem.penalties()),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        Ok(())
    }

    /// Solves a balanced problem exactly.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unbalanced problem; [`Error::TooLarge`] when the
    /// cost does not fit in `memory_limit`; [`Error::Infeasible`] when forbidden pairs
    /// (`+∞` costs) leave no feasible plan.
    pub fn solve(&self, problem: &LinearProblem<'_>) -> Result<ExactOutput> {
        self.solve_with(problem, &Observer::new())
    }

    /// [`solve`](Self::solve), reporting progress to (and cancellable by) `observer`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        problem: &LinearProblem<'_>,
        observer: &Observer<'_>,
    ) -> Result<ExactOutput> {
        self.check(problem)?;
        let cost = self.stored_cost(problem.geom())?;
        self.solve_stored(problem, cost.view(), None, observer)
    }

    /// Solves the problems of `batch` exactly: the shared cost is stored once and the
    /// problems, independent of each other, run in parallel; the outputs are in order, each
    /// equal to the problem's own [`solve_with`](Self::solve_with).
    ///
    /// # Errors
    /// As [`solve_with`](Self::solve_with), as [`Error::InBatch`] naming the problem.
    pub fn solve_batch_with(
        &self,
        batch: &LinearProblemBatch<'_>,
        observer: &Observer<'_>,
    ) -> Result<Vec<ExactOutput>> {
        let cost = self.stored_cost(batch.geom())?;
        let named = |p: usize, e: Error| if batch.len() > 1 { e.in_batch(p) } else { e };
        batch
            .problems()
            .par_iter()
            .enumerate()
            .map(|(p, problem)| {
                self.solve_stored(problem, cost.view(), None, observer)
                    .map_err(|e| named(p, e))
            })
            .collect()
    }

    /// The cost of `geom` as a matrix, refused beyond the memory limit.
    fn stored_cost(&self, geom: &dyn Geometry) -> Result<Array2<f64>> {
        let (n, m) = geom.shape();
        validate::matrix_bytes(
            "cost matrix for exact OT",
            n,
            m,
            self.memory_limit,
            "exact OT needs the whole cost in memory; Sinkhorn on a PointCloud streams it, or raise memory_limit",
        )?;
        geom.cost_matrix(self.memory_limit)
    }

    /// [`solve_with`](Self::solve_with) with the problem's cost already stored as `cost`
    /// (the caller's matrix, not copied), for one of a sequence of problems on the same
    /// weights: when `warm` holds the final basis of a network-simplex run on these weights,
    /// the network simplex starts from it (it stays feasible when only the cost changes;
    /// the assignment fast path is skipped, as the last cost needed the network simplex);
    /// a network-simplex run leaves its final basis in `warm`.
    ///
    /// # Errors
    /// As [`solve_with`](Self::solve_with).
    pub(crate) fn solve_stored(
        &self,
        problem: &LinearProblem<'_>,
        cost: ArrayView2<'_, f64>,
        mut warm: Option<&mut ExactWarmStart>,
        observer: &Observer<'_>,
    ) -> Result<ExactOutput> {
        self.check(problem)?;
        let (n, m) = problem.geom().shape();
        assert_eq!(
            cost.dim(),
            (n, m),
            "the stored cost has the problem's shape"
        );
        let cost = cost.as_standard_layout();
        let (a, b) = (problem.a(), problem.b());
        let rows: Vec<usize> = (0..n).filter(|&i| a[i] > 0.0).collect();
        let cols: Vec<usize> = (0..m).filter(|&j| b[j] > 0.0).collect();
        let (a_kept, b_kept) = (kept_weights(a), kept_weights(b));
        let reduced;
        let kept_cost: &[f64] = if rows.len() == n && cols.len() == m {
            cost.as_slice().expect("standard layout")
        } else {
            reduced = rows
                .iter()
                .flat_map(|&i| cols.iter().map(move |&j| (i, j)))
                .map(|(i, j)| cost[[i, j]])
                .collect::<Vec<f64>>();
            &reduced
        };

        let uniform = |w: &[f64]| w.iter().all(|&x| x == w[0]);
        let k = rows.len();
        let budget = match self.assignment {
            AssignmentFastPath::Off => None,
            AssignmentFastPath::Auto => Some(ASSIGNMENT_BUDGET.saturating_mul(k).saturating_mul(k)),
            AssignmentFastPath::Always => Some(usize::MAX),
        };
        let basis = warm
            .as_mut()
            .and_then(|w| w.last.take())
            .filter(|(wa, wb, _)| *wa == a_kept && *wb == b_kept)
            .map(|(_, _, basis)| basis);
        let applies = basis.is_none()
            && k == cols.len()
            && uniform(&a_kept)
            && uniform(&b_kept)
            && kept_cost.iter().all(|c| c.is_finite());
        let assigned = match budget {
            Some(budget) if applies => assignment::solve(kept_cost, k, budget, observer)?,
            _ => None,
        };
        let (flows, u, v, status, method, iterations) = if let Some(sol) = assigned {
            let mass = a_kept[0];
            let flows = sol
                .col_of_row
                .iter()
                .enumerate()
                .map(|(i, &j)| (i, j, mass))
                .collect();
            (
                flows,
                sol.u,
                sol.v,
                ExactStatus::Optimal,
                ExactMethod::Assignment,
                0,
            )
        } else {
            let (sol, basis) = network_simplex::solve(
                kept_cost,
                &a_kept,
                &b_kept,
                self.max_iterations,
                basis,
                observer,
            )?;
            if let Some(w) = warm {
                w.last = Some((a_kept.clone(), b_kept.clone(), basis));
            }
            let status = match sol.termination {
                network_simplex::Termination::Optimal => ExactStatus::Optimal,
                network_simplex::Termination::MaxIterations => ExactStatus::MaxIterationsReached,
            };
            (
                sol.flows,
                sol.u,
                sol.v,
                status,
                ExactMethod::NetworkSimplex,
                sol.iterations,
            )
        };

        // Back to the original indices; zero weights get the c-transform of the other side.
        let mut f = Array1::from_elem(n, f64::NAN);
        let mut g = Array1::from_elem(m, f64::NAN);
        rows.iter().zip(&u).for_each(|(&i, &x)| f[i] = x);
        cols.iter().zip(&v).for_each(|(&j, &x)| g[j] = x);
        for j in (0..m).filter(|&j| b[j] == 0.0) {
            g[j] = rows
                .iter()
                .map(|&i| cost[[i, j]] - f[i])
                .fold(f64::INFINITY, f64::min);
        }
        for i in (0..n).filter(|&i| a[i] == 0.0) {
            f[i] = (0..m)
                .map(|j| cost[[i, j]] - g[j])
                .fold(f64::INFINITY, f64::min);
        }
        let (mass_a, mass_b) = problem.masses();
        let shift = (weighted(b, &g) - weighted(a, &f)) / (mass_a + mass_b);
        f += shift;
        g -= shift;

        let entries: Vec<(usize, usize, f64)> = flows
            .into_iter()
            .map(|(i, j, x)| (rows[i], cols[j], x))
            .collect();
        let transport = compensated_sum(entries.iter().map(|&(i, j, x)| x * cost[[i, j]]));
        let dual_cost = weighted(a, &f) + weighted(b, &g);
        let plan = SparsePlan::from_triplets((n, m), entries);
        let marginal_error = (&plan.row_sums() - &a).mapv(f64::abs).sum()
            + (&plan.col_sums() - &b).mapv(f64::abs).sum();
        Ok(ExactOutput {
            plan,
            marginal_error,
            f,
            g,
            cost: transport,
            dual_cost,
            status,
            method,
            iterations,
        })
    }
}

/// `⟨w, p⟩` over the positive weights (so an infinite potential of a zero weight is ignored).
fn weighted(w: ArrayView1<'_, f64>, p: &Array1<f64>) -> f64 {
    compensated_sum(
        w.iter()
            .zip(p)
            .filter(|(w, _)| **w > 0.0)
            .map(|(w, p)| w * p),
    )
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::geometry::DenseCost;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A sequence of nearby costs solved with one warm start (uniform square weights, where
    /// a cold solve may take the assignment path, and weights with a zero) matches cold
    /// solves; a start for other weights is ignored.
    #[test]
    fn warm_sequences_match_cold_solves() {
        let mut seed = 17;
        for (n, zero) in [(6, false), (9, false), (7, true), (12, true)] {
            let mut a = Array1::from_elem(n, 1.0 / n as f64);
            if zero {
                a[1] = 0.0;
                a[0] += 1.0 / n as f64;
            }
            let b = Array1::from_elem(n, 1.0 / n as f64);
            let x: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
            let y: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
            let mut warm = ExactWarmStart::monotone(a.view(), b.view(), a.view(), b.view());
            let solver = NetworkSimplex::default();
            for step in 0..8 {
                // Squared distances on a line (near-ties), shifted a little each step.
                let shift = 0.05 * step as f64;
                let cost = Array2::from_shape_fn((n, n), |(i, j)| {
                    let d = x[i] - y[j] - shift;
                    (d * d * 8.0).round() / 8.0
                });
                let geom = DenseCost::new(cost.view()).unwrap();
                let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
                let cold = solver.solve(&problem).unwrap();
                let got = solver
                    .solve_stored(&problem, cost.view(), Some(&mut warm), &Observer::new())
                    .unwrap();
                assert!(got.converged());
                assert!(warm.last.is_some() || got.method() == ExactMethod::Assignment);
                assert!(
                    (got.cost() - cold.cost()).abs() < 1e-12,
                    "n={n} step={step}: {} vs {}",
                    got.cost(),
                    cold.cost()
                );
                assert!((got.dual_cost() - got.cost()).abs() < 1e-12);
                assert!(got.marginal_error() < 1e-12);
            }
        }
        // A start built for other weights is dropped.
        let (a, b) = (
            Array1::from_elem(3, 1.0 / 3.0),
            Array1::from_elem(3, 1.0 / 3.0),
        );
        let other = Array1::from(vec![0.5, 0.25, 0.25]);
        let mut warm = ExactWarmStart::monotone(other.view(), b.view(), a.view(), b.view());
        let cost = Array2::from_shape_fn((3, 3), |(i, j)| ((i + 2 * j) % 3) as f64);
        let geom = DenseCost::new(cost.view()).unwrap();
        let problem = LinearProblem::new(&geom, a.view(), b.view()).unwrap();
        let got = NetworkSimplex::default()
            .solve_stored(&problem, cost.view(), Some(&mut warm), &Observer::new())
            .unwrap();
        assert_eq!(got.cost(), 0.0);
    }
}
