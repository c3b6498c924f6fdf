//! Free-support Wasserstein-2 barycenters (Cuturi & Doucet 2014, *Fast computation of
//! Wasserstein barycenters*, algorithm 2 with fixed weights): the barycenter is `N` points
//! `X` with fixed weights `a`; each iteration solves the exact OT problems from `(X, a)` to
//! every input `(Y_k, b_k)` for the squared Euclidean cost (network simplex), then moves every
//! point to its barycentric projection `X_i ← Σ_k λ_k (P_k Y_k)_i / a_i`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::fixed_support::{check_threshold, normalized_lambdas};
use crate::error::{Error, Result};
use crate::geometry::PointCloud;
use crate::linear::{LinearProblem, MASS_TOLERANCE, NetworkSimplex};
use crate::observe::{Observer, Progress};
use crate::validate;

/// One empirical measure to average: its points (one per row) and their weights.
#[derive(Debug, Clone, Copy)]
pub struct FreeSupportInput<'a> {
    /// `Y_k`, `n_k × d`.
    pub points: ArrayView2<'a, f64>,
    /// `b_k`, length `n_k`, of the barycenter's mass.
    pub weights: ArrayView1<'a, f64>,
}

impl<'a> FreeSupportInput<'a> {
    /// Pairs points with their weights (checked by the solve).
    pub fn new(points: ArrayView2<'a, f64>, weights: ArrayView1<'a, f64>) -> Self {
        FreeSupportInput { points, weights }
    }
}

/// The free-support barycenter by alternating exact OT solves and barycentric projections.
///
/// The loop stops once the points moved by `‖X_{t+1} − X_t‖_F² ≤ threshold` (POT's
/// `stopThr` rule) or after `max_iterations` iterations.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::barycenter::{FreeSupportBarycenter, FreeSupportInput};
///
/// // The midpoint of two two-point clouds (W2 barycenters of translates are translates).
/// let (y1, y2) = (array![[0.0, 0.0], [0.0, 1.0]], array![[2.0, 0.0], [2.0, 1.0]]);
/// let w = array![0.5, 0.5];
/// let inputs = [FreeSupportInput::new(y1.view(), w.view()), FreeSupportInput::new(y2.view(), w.view())];
/// let x0 = array![[0.0, -1.0], [0.0, 3.0]];
/// let out = FreeSupportBarycenter::default().solve(&inputs, x0.view(), None, None)?;
/// assert!(out.converged());
/// assert!((out.points()[[0, 0]] - 1.0).abs() < 1e-12 && out.points()[[0, 1]].abs() < 1e-12);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeSupportBarycenter {
    /// Iteration budget (each iteration is one exact solve per input).
    pub max_iterations: usize,
    /// Stop once the squared displacement `‖X_{t+1} − X_t‖_F²` is at most this.
    pub threshold: f64,
    /// The exact solver of the inner OT problems.
    pub exact: NetworkSimplex,
}

impl Default for FreeSupportBarycenter {
    /// POT's defaults: 100 iterations, threshold `1e-7`.
    fn default() -> Self {
        FreeSupportBarycenter {
            max_iterations: 100,
            threshold: 1e-7,
            exact: NetworkSimplex::default(),
        }
    }
}

impl FreeSupportBarycenter {
    /// The barycenter of `inputs` with `N` points started at `x_init` (`N × d`), weights `a`
    /// (uniform `1/N` when `None`; its mass must be that of the inputs) and input weights
    /// `lambdas` (uniform when `None`; normalized to sum to one).
    ///
    /// # Errors
    /// [`Error::Empty`] for no input; [`Error::Shape`] when the points' dimensions differ from
    /// `x_init`'s or weights do not match their points; weight errors naming
    /// `inputs.weights`, `a` or `lambdas`; [`Error::NonFinite`] naming `inputs.points` or
    /// `x_init`; [`Error::MassMismatch`] when masses differ; [`Error::InvalidParameter`] for
    /// `threshold` or `max_iterations`; the errors of the exact solver.
    pub fn solve(
        &self,
        inputs: &[FreeSupportInput<'_>],
        x_init: ArrayView2<'_, f64>,
        a: Option<ArrayView1<'_, f64>>,
        lambdas: Option<ArrayView1<'_, f64>>,
    ) -> Result<FreeSupportOutput> {
        self.solve_with(inputs, x_init, a, lambdas, &Observer::new())
    }

    /// [`solve`](Self::solve), reporting every iteration (its error is the squared
    /// displacement) to, and cancellable by, `observer`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        inputs: &[FreeSupportInput<'_>],
        x_init: ArrayView2<'_, f64>,
        a: Option<ArrayView1<'_, f64>>,
        lambdas: Option<ArrayView1<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<FreeSupportOutput> {
        check_threshold(self.threshold)?;
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        validate::points("x_init", x_init)?;
        let (n, dim) = x_init.dim();
        let a = match a {
            Some(a) => {
                if a.len() != n {
                    return Err(Error::Shape {
                        arg: "a",
                        expected: format!("length {n} (rows of x_init)"),
                        got: format!("length {}", a.len()),
                    });
                }
                a.to_owned()
            }
            None => Array1::from_elem(n, 1.0 / n as f64),
        };
        let mass = validate::weights("a", a.view())?;
        if inputs.is_empty() {
            return Err(Error::Empty {
                arg: "inputs",
                what: "input measure",
            });
        }
        for (k, input) in inputs.iter().enumerate() {
            validate::points("inputs.points", input.points)?;
            if input.points.ncols() != dim {
                return Err(Error::Shape {
                    arg: "inputs.points",
                    expected: format!("points of dimension {dim} (as x_init)"),
                    got: format!("dimension {} in input {k}", input.points.ncols()),
                });
            }
            if input.weights.len() != input.points.nrows() {
                return Err(Error::Shape {
                    arg: "inputs.weights",
                    expected: format!("length {} (points of input {k})", input.points.nrows()),
                    got: format!("length {}", input.weights.len()),
                });
            }
            let m = validate::weights("inputs.weights", input.weights)?;
            if (m - mass).abs() > MASS_TOLERANCE * m.max(mass) {
                return Err(Error::MassMismatch {
                    sum_a: mass,
                    sum_b: m,
                });
            }
        }
        let lambdas = normalized_lambdas(lambdas, inputs.len())?;

        let mut x = x_init.to_owned();
        let mut displacements = Vec::new();
        let mut costs = Array1::zeros(inputs.len());
        let mut converged = false;
        let inner = observer.cancel_only();
        while displacements.len() < self.max_iterations {
            let mut next = Array2::<f64>::zeros((n, dim));
            for (k, input) in inputs.iter().enumerate() {
                let geom = PointCloud::sq_euclidean(x.view(), input.points)?;
                let problem = LinearProblem::new(&geom, a.view(), input.weights)?;
                let out = self.exact.solve_with(&problem, &inner)?;
                costs[k] = out.cost();
                for (i, j, p) in out.plan().iter() {
                    let w = lambdas[k] * p / a[i];
                    next.row_mut(i).scaled_add(w, &input.points.row(j));
                }
            }
            // Points of zero weight receive no mass and stay where they are.
            for i in 0..n {
                if a[i] == 0.0 {
                    next.row_mut(i).assign(&x.row(i));
                }
            }
            let moved: f64 = (&next - &x).mapv(|v| v * v).sum();
            x = next;
            displacements.push(moved);
            observer.step(&Progress {
                iteration: displacements.len(),
                max_iterations: self.max_iterations,
                error: moved,
                epsilon: 0.0,
            })?;
            if moved <= self.threshold {
                converged = true;
                break;
            }
        }
        let cost = lambdas.dot(&costs);
        Ok(FreeSupportOutput {
            points: x,
            weights: a,
            displacements,
            costs,
            cost,
            converged,
        })
    }
}

/// A free-support barycenter: its points and weights, the costs of the last OT solves and
/// the convergence record.
#[derive(Debug, Clone)]
pub struct FreeSupportOutput {
    points: Array2<f64>,
    weights: Array1<f64>,
    displacements: Vec<f64>,
    costs: Array1<f64>,
    cost: f64,
    converged: bool,
}

impl FreeSupportOutput {
    /// The barycenter points `X` (`N × d`), after the last projection.
    pub fn points(&self) -> ArrayView2<'_, f64> {
        self.points.view()
    }

    /// Their weights `a`.
    pub fn weights(&self) -> ArrayView1<'_, f64> {
        self.weights.view()
    }

    /// `‖X_{t+1} − X_t‖_F²` after each iteration.
    pub fn displacements(&self) -> &[f64] {
        &self.displacements
    }

    /// `W_2²` from the points before the last projection to each input (the last exact
    /// solves).
    pub fn costs(&self) -> ArrayView1<'_, f64> {
        self.costs.view()
    }

    /// `Σ_k λ_k W_2²(X, Y_k)` of the last exact solves.
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// Iterations done.
    pub fn iterations(&self) -> usize {
        self.displacements.len()
    }

    /// Whether the displacement reached the threshold.
    pub fn converged(&self) -> bool {
        self.converged
    }
}
