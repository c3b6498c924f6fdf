//! Exact (unregularized) OT: `min ⟨C, P⟩` over `Π(a, b)` (ALGORITHMS.md L1).
//!
//! [`NetworkSimplex`] materializes the cost once, drops zero weights, and solves by the
//! network simplex, or — when `n = m` and both weights are uniform — by the LAPJV
//! assignment solver, which returns the same outputs faster. [`ExactOutput`] carries the
//! sparse plan (at most n + m − 1 entries), dual potentials that certify optimality
//! (`f_i + g_j ≤ C_ij`, equality on the support, `⟨a, f⟩ + ⟨b, g⟩ = ⟨C, P⟩`) and a status.

use ndarray::{Array1, Array2, ArrayView1};

use super::sparse_plan::SparsePlan;
use super::{LinearProblem, assignment, network_simplex};
use crate::error::{Error, Result};
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
        let geom = problem.geom();
        let (n, m) = geom.shape();
        validate::matrix_bytes(
            "cost matrix for exact OT",
            n,
            m,
            self.memory_limit,
            "exact OT needs the whole cost in memory; Sinkhorn on a PointCloud streams it, or raise memory_limit",
        )?;
        let cost = geom.cost_matrix(self.memory_limit)?;
        let (a, b) = (problem.a(), problem.b());
        let rows: Vec<usize> = (0..n).filter(|&i| a[i] > 0.0).collect();
        let cols: Vec<usize> = (0..m).filter(|&j| b[j] > 0.0).collect();
        let a_kept: Vec<f64> = rows.iter().map(|&i| a[i]).collect();
        let b_kept: Vec<f64> = cols.iter().map(|&j| b[j]).collect();
        let reduced;
        let kept_cost: &[f64] = if rows.len() == n && cols.len() == m {
            cost.as_slice().expect("fresh array")
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
        let applies = k == cols.len()
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
            let sol =
                network_simplex::solve(kept_cost, &a_kept, &b_kept, self.max_iterations, observer)?;
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
