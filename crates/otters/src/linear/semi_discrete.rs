//! Semi-discrete OT: a continuous source μ, known only through a sampler, and a discrete
//! target `ν = Σ_j b_j δ_{y_j}`, solved on the semi-dual by averaged stochastic gradient
//! ascent (Genevay, Cuturi, Peyré, Bach 2016; used by Mousavi-Hosseini et al. 2025 to build
//! flow-matching couplings). ALGORITHMS.md L11.
//!
//! The semi-dual `H(g) = E_{x∼μ}[g^{c,ε}(x)] + ⟨g, b⟩` with
//! `g^{c,ε}(x) = −ε·LSE_j(log b_j + (g_j − c(x, y_j))/ε)` (ε > 0) or
//! `g^{c}(x) = min_j c(x, y_j) − g_j` (ε = 0, the non-smooth semi-dual) is concave in `g`, with
//! (super)gradient `b − E_x[π(x)]`: `π_j(x)` is the soft assignment
//! `softmax_j(log b_j + (g_j − c(x, y_j))/ε)`, or the indicator of the hard assignment
//! `argmin_j c(x, y_j) − g_j` at ε = 0. Each iteration estimates it on a fresh batch and takes
//! the step `g ← g + η_k·(b − π̄)`, `η_k = η₀/√k`; the returned potential is the average of the
//! iterates of the second half (Polyak–Ruppert averaging). At the optimum the cells
//! `{x : x is assigned to y_j}` carry mass `b_j`, which the output checks on fresh samples.
//!
//! A batch `x_1..x_k` and the targets form a [`PointCloud`] geometry, so the soft assignment
//! runs on its tiled softmin kernels and never stores the `k × m` cost: the row sweep
//! `s_i = −ε·LSE_j(h_j − c(x_i, y_j)/ε)`, `h_j = log b_j + g_j/ε`, is `g^{c,ε}(x_i)`, and the
//! column sweep `t_j = −ε·LSE_i(s_i/ε − c(x_i, y_j)/ε)` gives the summed assignment
//! `Σ_i π_j(x_i) = exp(h_j − t_j/ε)`. The per-point weights
//! ([`SemiDiscreteOutput::assignment_weights`]) are the rows of the plan
//! `exp(s_i/ε + h_j − c(x_i, y_j)/ε)`. The hard assignment (ε = 0) is a row minimum over the
//! cost block.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::geometry::{Axis, CostFn, Geometry, LogPlan, PointCloud};
use crate::kernels::argmin::min_plus;
use crate::observe::{Observer, Progress};
use crate::validate;

/// Rows of a cost block handled by one parallel task at least.
const ROW_CHUNK: usize = 64;

/// The data of a semi-discrete problem: target points `y` (`m × d`), their weights `b` and
/// the ground cost. The source is given to the solver as a sampler.
#[derive(Debug, Clone)]
pub struct SemiDiscreteProblem<C: CostFn> {
    y: Array2<f64>,
    b: Array1<f64>,
    cost_fn: C,
}

impl<C: CostFn> SemiDiscreteProblem<C> {
    /// The target `Σ_j b_j δ_{y_j}` under the cost `cost_fn`. `b` is normalized to sum to 1
    /// (the source is a probability measure); targets of zero weight are never assigned.
    ///
    /// # Errors
    /// [`Error::Empty`] / [`Error::Shape`] / [`Error::NonFinite`] for bad points (`y`), the
    /// weight errors of every problem (`b`: negative, non-finite, zero mass, wrong length),
    /// and whatever the cost refuses.
    pub fn new(y: ArrayView2<'_, f64>, b: ArrayView1<'_, f64>, cost_fn: C) -> Result<Self> {
        validate::points("y", y)?;
        cost_fn.check_points("y", y)?;
        let mass = validate::weights("b", b)?;
        if b.len() != y.nrows() {
            return Err(Error::Shape {
                arg: "b",
                expected: format!("length {} (one weight per target point)", y.nrows()),
                got: format!("length {}", b.len()),
            });
        }
        Ok(SemiDiscreteProblem {
            y: y.as_standard_layout().into_owned(),
            b: b.mapv(|w| w / mass),
            cost_fn,
        })
    }

    /// Uniform target weights `b_j = 1/m`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn uniform(y: ArrayView2<'_, f64>, cost_fn: C) -> Result<Self> {
        let m = y.nrows().max(1);
        Self::new(
            y,
            Array1::from_elem(y.nrows(), 1.0 / m as f64).view(),
            cost_fn,
        )
    }

    /// The target points.
    pub fn y(&self) -> ArrayView2<'_, f64> {
        self.y.view()
    }

    /// The target weights (normalized to sum to 1).
    pub fn b(&self) -> ArrayView1<'_, f64> {
        self.b.view()
    }

    /// The ground cost.
    pub fn cost_fn(&self) -> &C {
        &self.cost_fn
    }

    /// The geometry between `x` (`k × d`) and the targets; `None` when `x` has no row.
    fn cloud(&self, arg: &'static str, x: ArrayView2<'_, f64>) -> Result<Option<PointCloud<C>>> {
        if x.ncols() != self.y.ncols() && x.nrows() > 0 {
            return Err(Error::Shape {
                arg,
                expected: format!("points of dimension {} (as y)", self.y.ncols()),
                got: format!("{} x {}", x.nrows(), x.ncols()),
            });
        }
        if x.nrows() == 0 {
            return Ok(None);
        }
        validate::finite_matrix(arg, x)?;
        self.cost_fn.check_points(arg, x)?;
        PointCloud::new(x, self.y.view(), self.cost_fn.clone()).map(Some)
    }

    /// `h_j = log b_j + g_j/ε` (`−∞` for targets of zero weight): the column weights of the
    /// soft assignment.
    fn log_col(&self, g: &Array1<f64>, eps: f64) -> Array1<f64> {
        Array1::from_shape_fn(g.len(), |j| {
            let bj = self.b[j];
            if bj > 0.0 {
                bj.ln() + g[j] / eps
            } else {
                f64::NEG_INFINITY
            }
        })
    }

    /// `min_j c(x_i, y_j) + shift_j` and its first index, for every row of `cloud`.
    fn row_minima(&self, cloud: &PointCloud<C>, shift: &[f64]) -> Result<Vec<(f64, usize)>> {
        let cost = cloud.cost_matrix(crate::DEFAULT_MEMORY_LIMIT)?;
        Ok(cost
            .as_slice()
            .expect("standard layout")
            .par_chunks(shift.len())
            .with_min_len(ROW_CHUNK)
            .map(|c| min_plus(c, shift))
            .collect())
    }

    /// `Σ_i π(x_i)` and `Σ_i g^{c,ε}(x_i)` over the points of `cloud` (see the
    /// notes of `linear/semi_discrete.rs`); deterministic whatever the thread count.
    fn batch_sums(&self, cloud: &PointCloud<C>, g: &Array1<f64>, eps: f64) -> Result<BatchSums> {
        let (k, m) = cloud.shape();
        if eps > 0.0 {
            let h = self.log_col(g, eps);
            let (mut s, mut t) = (Array1::zeros(k), Array1::zeros(m));
            cloud.softmin(Axis::Rows, eps, h.view(), s.view_mut())?;
            cloud.softmin(Axis::Cols, eps, (&s / eps).view(), t.view_mut())?;
            return Ok(BatchSums {
                assignment: Array1::from_shape_fn(m, |j| (h[j] - t[j] / eps).exp()),
                transform: s.sum(),
            });
        }
        let neg_g: Vec<f64> = g
            .iter()
            .zip(&self.b)
            .map(|(&gj, &bj)| if bj > 0.0 { -gj } else { f64::INFINITY })
            .collect();
        let mut sums = BatchSums {
            assignment: Array1::zeros(m),
            transform: 0.0,
        };
        for (value, j) in self.row_minima(cloud, &neg_g)? {
            // A row with no finite entry (index `usize::MAX`) is assigned nowhere.
            if j < m {
                sums.assignment[j] += 1.0;
            }
            sums.transform += value;
        }
        Ok(sums)
    }
}

/// Averaged stochastic gradient ascent on the semi-dual (see the notes of `linear/semi_discrete.rs`).
///
/// All fields are public settings with defaults that work for costs of order one to a few
/// hundreds (the step is relative to the mean cost).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemiDiscrete {
    /// The entropic regularization ε ≥ 0 (absolute, in cost units); 0 solves the
    /// unregularized problem with hard assignments.
    pub epsilon: f64,
    /// Source samples drawn per iteration.
    pub batch_size: usize,
    /// Number of stochastic gradient steps.
    pub max_iterations: usize,
    /// `η₀ = learning_rate · mean cost` of the first batch; the step at iteration `k ≥ 1` is
    /// `η₀/√k`.
    pub learning_rate: f64,
    /// Fresh samples used after the solve to measure the assignment frequencies.
    pub eval_size: usize,
    /// `converged` when the measured `Σ_j |π̄_j − b_j|` is at most this. Sampling noise alone
    /// is about `√(m / eval_size)`, so keep the threshold above it.
    pub threshold: f64,
    /// Seed of the random number generator handed to the sampler.
    pub seed: u64,
}

impl Default for SemiDiscrete {
    fn default() -> Self {
        SemiDiscrete {
            epsilon: 0.0,
            batch_size: 256,
            max_iterations: 2000,
            learning_rate: 1.0,
            eval_size: 1 << 16,
            threshold: 0.05,
            seed: 0,
        }
    }
}

/// The result of [`SemiDiscrete::solve`].
#[derive(Debug, Clone)]
pub struct SemiDiscreteOutput {
    g: Array1<f64>,
    epsilon: f64,
    errors: Vec<f64>,
    frequencies: Array1<f64>,
    b: Array1<f64>,
    dual_cost: f64,
    threshold: f64,
}

/// Per-batch sums: `Σ_i π(x_i)` (length `m`) and `Σ_i g^{c,ε}(x_i)`.
struct BatchSums {
    assignment: Array1<f64>,
    transform: f64,
}

impl SemiDiscrete {
    /// The default settings with regularization `epsilon` (0 for hard assignments).
    pub fn new(epsilon: f64) -> Self {
        SemiDiscrete {
            epsilon,
            ..SemiDiscrete::default()
        }
    }

    fn check(&self) -> Result<()> {
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(Error::invalid(
                "epsilon",
                "must be finite and >= 0",
                self.epsilon,
            ));
        }
        for (arg, value) in [
            ("batch_size", self.batch_size),
            ("max_iterations", self.max_iterations),
            ("eval_size", self.eval_size),
        ] {
            if value == 0 {
                return Err(Error::invalid(arg, "must be >= 1", value));
            }
        }
        validate::positive("learning_rate", self.learning_rate)?;
        validate::positive("threshold", self.threshold)?;
        Ok(())
    }

    /// Solves `problem` with source samples drawn by `sampler(rng, k)`, which returns `k`
    /// points as a `k × d` array (or an error, which ends the solve and is returned as is).
    /// The generator is seeded with [`seed`](Self::seed), so a sampler that draws only from
    /// it makes the solve reproducible.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for invalid settings; [`Error::Shape`] /
    /// [`Error::NonFinite`] naming `sampler` for a batch of the wrong shape or with a NaN;
    /// [`Error::Numerical`] if the potential becomes non-finite.
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array2, array};
    /// use rand::Rng;
    /// use otters::geometry::SqEuclidean;
    /// use otters::linear::{SemiDiscrete, SemiDiscreteProblem};
    ///
    /// // Uniform source on [0, 1]; two targets that must split it 1/4 : 3/4.
    /// let y = array![[0.2], [0.7]];
    /// let problem = SemiDiscreteProblem::new(y.view(), array![0.25, 0.75].view(), SqEuclidean)?;
    /// let uniform = |rng: &mut dyn rand::RngCore, k: usize| {
    ///     Ok(Array2::from_shape_fn((k, 1), |_| rng.random::<f64>()))
    /// };
    /// let out = SemiDiscrete::new(0.0).solve(&problem, uniform)?;
    /// assert!(out.converged());
    /// // The cell boundary sits at the 1/4 quantile.
    /// let labels = out.assign(&problem, array![[0.2], [0.3]].view())?;
    /// assert_eq!(labels.to_vec(), vec![0, 1]);
    /// # Ok::<(), otters::Error>(())
    /// ```
    pub fn solve<C, S>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        sampler: S,
    ) -> Result<SemiDiscreteOutput>
    where
        C: CostFn,
        S: FnMut(&mut dyn RngCore, usize) -> Result<Array2<f64>>,
    {
        self.solve_with(problem, sampler, &Observer::new())
    }

    /// [`solve`](Self::solve) for a source given by a (large) fixed sample `x`: batches are
    /// drawn uniformly with replacement from its rows, i.e. the source is the empirical
    /// measure of `x`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), with the point errors naming `x`.
    pub fn solve_empirical<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        x: ArrayView2<'_, f64>,
        observer: &Observer<'_>,
    ) -> Result<SemiDiscreteOutput> {
        validate::points("x", x)?;
        if x.ncols() != problem.y.ncols() {
            return Err(Error::Shape {
                arg: "x",
                expected: format!("points of dimension {} (as y)", problem.y.ncols()),
                got: format!("{} x {}", x.nrows(), x.ncols()),
            });
        }
        let n = x.nrows();
        let resample = |rng: &mut dyn RngCore, k: usize| {
            let rows: Vec<usize> = (0..k).map(|_| rng.random_range(0..n)).collect();
            Ok(x.select(NdAxis(0), &rows))
        };
        self.solve_with(problem, resample, observer)
    }

    /// [`solve`](Self::solve), reporting every iteration to `observer` (its `error` is the
    /// batch estimate of `Σ_j |π̄_j − b_j|`) and stopping when it asks to.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with<C, S>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        mut sampler: S,
        observer: &Observer<'_>,
    ) -> Result<SemiDiscreteOutput>
    where
        C: CostFn,
        S: FnMut(&mut dyn RngCore, usize) -> Result<Array2<f64>>,
    {
        self.check()?;
        let m = problem.y.nrows();
        let b = &problem.b;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        // A batch of `k ≥ 1` samples, as the geometry between them and the targets.
        let mut draw = |rng: &mut ChaCha8Rng, k: usize| -> Result<PointCloud<C>> {
            let batch = sampler(rng, k)?;
            if batch.nrows() != k || batch.ncols() != problem.y.ncols() {
                return Err(Error::Shape {
                    arg: "sampler",
                    expected: format!("{k} x {} (batch size x dimension of y)", problem.y.ncols()),
                    got: format!("{} x {}", batch.nrows(), batch.ncols()),
                });
            }
            Ok(problem
                .cloud("sampler", batch.view())?
                .expect("a batch has k >= 1 rows"))
        };
        let mut g = Array1::<f64>::zeros(m);
        let mut g_sum = Array1::<f64>::zeros(m);
        let burn_in = self.max_iterations / 2;
        let mut errors = Vec::with_capacity(self.max_iterations);
        let mut eta0 = None;
        for k in 1..=self.max_iterations {
            let batch = draw(&mut rng, self.batch_size)?;
            let eta = *eta0.get_or_insert_with(|| {
                let mean = batch.summary().mean;
                self.learning_rate * if mean > 0.0 { mean } else { 1.0 }
            });
            let sums = problem.batch_sums(&batch, &g, self.epsilon)?;
            let inv = 1.0 / self.batch_size as f64;
            let step = eta / (k as f64).sqrt();
            let mut error = 0.0;
            for ((gj, &bj), &s) in g.iter_mut().zip(b).zip(&sums.assignment) {
                let grad = bj - s * inv;
                error += grad.abs();
                if bj > 0.0 {
                    *gj += step * grad;
                }
            }
            if !g.iter().all(|v| v.is_finite()) {
                return Err(Error::Numerical {
                    solver: "semi-discrete",
                    iteration: k,
                    epsilon: self.epsilon,
                    detail: "the dual potential g became non-finite".into(),
                });
            }
            if k > burn_in {
                g_sum += &g;
            }
            errors.push(error);
            observer.step(&Progress {
                iteration: k,
                max_iterations: self.max_iterations,
                error,
                epsilon: self.epsilon,
            })?;
        }
        let count = (self.max_iterations - burn_in) as f64;
        let mut g = g_sum / count;
        for (gj, &bj) in g.iter_mut().zip(b) {
            if bj == 0.0 {
                *gj = f64::NEG_INFINITY;
            }
        }
        // Measure the assignment frequencies of the averaged potential on fresh samples.
        let mut freq = Array1::<f64>::zeros(m);
        let mut transform = 0.0;
        let mut left = self.eval_size;
        while left > 0 {
            let k = left.min(self.batch_size.max(1024));
            let batch = draw(&mut rng, k)?;
            let sums = problem.batch_sums(&batch, &g, self.epsilon)?;
            freq += &sums.assignment;
            transform += sums.transform;
            left -= k;
        }
        let total = self.eval_size as f64;
        freq /= total;
        let gb: f64 = g
            .iter()
            .zip(b)
            .filter(|(_, bj)| **bj > 0.0)
            .map(|(gj, bj)| gj * bj)
            .sum();
        Ok(SemiDiscreteOutput {
            g,
            epsilon: self.epsilon,
            errors,
            frequencies: freq,
            b: b.clone(),
            dual_cost: transform / total + gb,
            threshold: self.threshold,
        })
    }
}

impl SemiDiscreteOutput {
    /// The averaged dual potential `g` (length `m`, cost units; `−∞` for targets of zero
    /// weight). It is defined up to an additive constant; the iterations keep `Σ_j g_j = 0`
    /// over the targets of positive weight.
    pub fn g(&self) -> ArrayView1<'_, f64> {
        self.g.view()
    }

    /// The regularization ε of the solve.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Iterations done.
    pub fn iterations(&self) -> usize {
        self.errors.len()
    }

    /// The batch estimate of `Σ_j |π̄_j − b_j|` at every iteration (noisy: one batch each).
    pub fn errors(&self) -> &[f64] {
        &self.errors
    }

    /// The mean assignment `π̄ = E_x[π(x)]` of the returned potential, measured on
    /// [`eval_size`](SemiDiscrete::eval_size) fresh samples (at ε = 0: the fraction of
    /// samples assigned to each target). It should equal `b`.
    pub fn frequencies(&self) -> ArrayView1<'_, f64> {
        self.frequencies.view()
    }

    /// `Σ_j |π̄_j − b_j|` on the evaluation samples (the marginal L1 error).
    pub fn marginal_error(&self) -> f64 {
        self.frequencies
            .iter()
            .zip(&self.b)
            .map(|(f, b)| (f - b).abs())
            .sum()
    }

    /// `max_j |π̄_j − b_j|` on the evaluation samples.
    pub fn max_deviation(&self) -> f64 {
        self.frequencies
            .iter()
            .zip(&self.b)
            .map(|(f, b)| (f - b).abs())
            .fold(0.0, f64::max)
    }

    /// Whether [`marginal_error`](Self::marginal_error) is at most the threshold.
    pub fn converged(&self) -> bool {
        self.marginal_error() <= self.threshold
    }

    /// `Ok(self)` if converged, else [`Error::NotConverged`].
    ///
    /// # Errors
    /// [`Error::NotConverged`] with the measured marginal error.
    pub fn require_converged(&self) -> Result<&Self> {
        if self.converged() {
            Ok(self)
        } else {
            Err(Error::NotConverged {
                solver: "semi-discrete",
                iterations: self.iterations(),
                error: self.marginal_error(),
                threshold: self.threshold,
            })
        }
    }

    /// The semi-dual objective `E_x[g^{c,ε}(x)] + ⟨g, b⟩` estimated on the evaluation
    /// samples: a (stochastic) lower bound of `OT_ε(μ, ν)` (KL-to-`μ⊗ν` convention), equal
    /// to it at the optimal `g`; at ε = 0, of the unregularized OT cost.
    pub fn dual_cost(&self) -> f64 {
        self.dual_cost
    }

    fn check_problem<C: CostFn>(&self, problem: &SemiDiscreteProblem<C>) -> Result<()> {
        if problem.y.nrows() == self.g.len() {
            Ok(())
        } else {
            Err(Error::Shape {
                arg: "problem",
                expected: format!("{} target points (the solved problem)", self.g.len()),
                got: format!("{}", problem.y.nrows()),
            })
        }
    }

    /// The log-plan of the soft assignment of the points of `cloud`:
    /// `π_j(x_i) = exp(log_row_i + log_col_j − c(x_i, y_j)/ε)` with `log_col = log b + g/ε` and
    /// `log_row_i = s_i/ε`, `s` the row softmin of `log_col` (so that each row sums to 1).
    fn soft_plan<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        cloud: &PointCloud<C>,
    ) -> Result<(Array1<f64>, Array1<f64>)> {
        let h = problem.log_col(&self.g, self.epsilon);
        let mut s = Array1::zeros(cloud.shape().0);
        cloud.softmin(Axis::Rows, self.epsilon, h.view(), s.view_mut())?;
        Ok((s / self.epsilon, h))
    }

    /// The assignment weights `π(x)` of new points `x` (`k × d`), a `k × m` array whose rows
    /// sum to 1: `softmax_j(log b_j + (g_j − c(x, y_j))/ε)`, or the indicator of
    /// [`assign`](Self::assign) at ε = 0.
    ///
    /// # Errors
    /// [`Error::Shape`] for points of another dimension or another problem; the point errors
    /// naming `x`; [`Error::TooLarge`] when the `k × m` array exceeds
    /// [`DEFAULT_MEMORY_LIMIT`](crate::DEFAULT_MEMORY_LIMIT).
    pub fn assignment_weights<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        self.check_problem(problem)?;
        let m = self.g.len();
        let Some(cloud) = problem.cloud("x", x)? else {
            return Ok(Array2::zeros((0, m)));
        };
        if self.epsilon > 0.0 {
            let (log_row, log_col) = self.soft_plan(problem, &cloud)?;
            let plan = LogPlan {
                log_row: log_row.view(),
                log_col: log_col.view(),
                epsilon: self.epsilon,
            };
            return cloud.plan_matrix(&plan, crate::DEFAULT_MEMORY_LIMIT);
        }
        let mut out = Array2::zeros((x.nrows(), m));
        for (i, j) in self.labels(problem, &cloud)?.into_iter().enumerate() {
            out[[i, j]] = 1.0;
        }
        Ok(out)
    }

    /// `argmin_j c(x_i, y_j) − g_j − ε·log b_j` for the points of `cloud`.
    fn labels<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        cloud: &PointCloud<C>,
    ) -> Result<Vec<usize>> {
        let shift: Vec<f64> = self
            .g
            .iter()
            .zip(&problem.b)
            .map(|(&gj, &bj)| {
                if bj > 0.0 {
                    -gj - self.epsilon * bj.ln()
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let minima = problem.row_minima(cloud, &shift)?;
        Ok(minima.into_iter().map(|(_, j)| j).collect())
    }

    /// The hard assignment of new points: `argmin_j c(x, y_j) − g_j − ε·log b_j`, i.e. the
    /// most likely target under [`assignment_weights`](Self::assignment_weights) (at ε = 0,
    /// the Laguerre cell of `x`). Ties go to the first index.
    ///
    /// # Errors
    /// As [`assignment_weights`](Self::assignment_weights).
    pub fn assign<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array1<usize>> {
        self.check_problem(problem)?;
        match problem.cloud("x", x)? {
            Some(cloud) => Ok(Array1::from(self.labels(problem, &cloud)?)),
            None => Ok(Array1::zeros(0)),
        }
    }

    /// The map of new points `x`: the barycentric projection `Σ_j π_j(x)·y_j` (the entropic
    /// map of ALGORITHMS.md M1 for the semi-discrete potential), which is `y_{assign(x)}` at
    /// ε = 0. The soft assignment is applied without being stored.
    ///
    /// # Errors
    /// As [`assignment_weights`](Self::assignment_weights), without the size limit.
    pub fn transport<C: CostFn>(
        &self,
        problem: &SemiDiscreteProblem<C>,
        x: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>> {
        self.check_problem(problem)?;
        let Some(cloud) = problem.cloud("x", x)? else {
            return Ok(Array2::zeros((0, problem.y.ncols())));
        };
        if self.epsilon > 0.0 {
            let (log_row, log_col) = self.soft_plan(problem, &cloud)?;
            let plan = LogPlan {
                log_row: log_row.view(),
                log_col: log_col.view(),
                epsilon: self.epsilon,
            };
            let mut out = Array2::zeros((x.nrows(), problem.y.ncols()));
            cloud.apply_plan(Axis::Rows, &plan, problem.y.view(), out.view_mut())?;
            return Ok(out);
        }
        Ok(problem.y.select(NdAxis(0), &self.labels(problem, &cloud)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::SqEuclidean;
    use ndarray::array;

    #[test]
    fn batch_sums_match_a_direct_softmax_and_argmin() {
        let x = Array2::from_shape_fn((300, 2), |(i, k)| ((i * 7 + k * 3) % 11) as f64 / 10.0);
        let y = array![[0.1, 0.2], [0.5, 0.9], [0.8, 0.3], [0.4, 0.4], [1.0, 1.0]];
        let b = array![0.1, 0.3, 0.0, 0.4, 0.2];
        let problem = SemiDiscreteProblem::new(y.view(), b.view(), SqEuclidean).unwrap();
        let g = array![0.1, -0.2, 0.0, 0.3, -0.2];
        let cloud = problem.cloud("x", x.view()).unwrap().unwrap();
        let cost = cloud.cost_matrix(usize::MAX).unwrap();
        for eps in [0.0, 0.05] {
            let sums = problem.batch_sums(&cloud, &g, eps).unwrap();
            let (mut assignment, mut transform) = (Array1::<f64>::zeros(5), 0.0);
            for c in cost.outer_iter() {
                if eps > 0.0 {
                    let terms = Array1::from_shape_fn(5, |j| b[j] * ((g[j] - c[j]) / eps).exp());
                    assignment += &(&terms / terms.sum());
                    transform -= eps * terms.sum().ln();
                } else {
                    let (j, v) = (0..5)
                        .filter(|&j| b[j] > 0.0)
                        .map(|j| (j, c[j] - g[j]))
                        .fold((0, f64::INFINITY), |a, p| if p.1 < a.1 { p } else { a });
                    assignment[j] += 1.0;
                    transform += v;
                }
            }
            assert_eq!(sums.assignment[2], 0.0, "a zero-weight target");
            for j in 0..5 {
                assert!(
                    (sums.assignment[j] - assignment[j]).abs() < 1e-10,
                    "eps {eps}: {} vs {assignment}",
                    sums.assignment
                );
            }
            assert!((sums.transform - transform).abs() < 1e-10 * transform.abs());
        }
    }

    #[test]
    fn settings_are_checked() {
        let problem =
            SemiDiscreteProblem::uniform(array![[0.0], [1.0]].view(), SqEuclidean).unwrap();
        let sampler = |_: &mut dyn RngCore, k: usize| Ok(Array2::zeros((k, 1)));
        for (solver, arg) in [
            (SemiDiscrete::new(-1.0), "epsilon"),
            (SemiDiscrete::new(f64::NAN), "epsilon"),
            (
                SemiDiscrete {
                    batch_size: 0,
                    ..SemiDiscrete::default()
                },
                "batch_size",
            ),
            (
                SemiDiscrete {
                    learning_rate: 0.0,
                    ..SemiDiscrete::default()
                },
                "learning_rate",
            ),
        ] {
            let err = solver.solve(&problem, sampler).unwrap_err();
            assert_eq!(err.argument(), Some(arg), "{err}");
        }
    }
}
