//! Fixed-support entropic Wasserstein barycenters by iterative Bregman projections, in the log
//! domain (Benamou, Carlier, Cuturi, Nenna, Peyré 2015, *Iterative Bregman projections for
//! regularized transportation problems*).
//!
//! Given inputs `a_k` (on supports of sizes `n_k`), costs `C_k` (`n_k × N`) to a common
//! barycenter support and weights `λ_k`, the barycenter is
//! `b = argmin_b Σ_k λ_k OT_ε(a_k, b)` (OT_ε with the entropy of the plan). Each plan is
//! `P_k = diag(e^{f_k}) K_k diag(e^{g_k})` with `K_k = e^{−C_k/ε}`; one iteration projects on
//! the row constraints, `f_k = log a_k − LSE_j(g_kj − C_k,ij/ε)`, then on the common column
//! marginal: with `q_kj = LSE_i(f_ki − C_k,ij/ε)`, `log b = Σ_k λ_k q_k` and
//! `g_k = log b − q_k`. Both sweeps go through [`Geometry::softmin_chain`], so no kernel is
//! ever stored and a separable geometry ([`Grid`](crate::geometry::Grid)) makes them fast
//! (the convolutional barycenters of Solomon et al. 2015).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{Geometry, SoftminChain};
use crate::linear::MASS_TOLERANCE;
use crate::observe::{Observer, Progress};
use crate::validate;

/// One measure to average: the cost from its support (rows) to the barycenter support
/// (columns), and its weights (one per row).
#[derive(Debug, Clone, Copy)]
pub struct BarycenterInput<'a> {
    /// `C_k`, `n_k × N`: rows are the input's points, columns the barycenter's.
    pub cost: &'a dyn Geometry,
    /// `a_k`, length `n_k`.
    pub weights: ArrayView1<'a, f64>,
}

impl<'a> BarycenterInput<'a> {
    /// Pairs a cost with the weights of its rows (checked by the solve).
    pub fn new(cost: &'a dyn Geometry, weights: ArrayView1<'a, f64>) -> Self {
        BarycenterInput { cost, weights }
    }
}

/// The entropic barycenter on a fixed support by iterative Bregman projections (log domain).
///
/// The error after each iteration is POT's: `Σ_j std_k (P_kᵀ1)_j`, the spread of the inputs'
/// column marginals around their common value (population standard deviation over the
/// inputs, summed over the barycenter support); the loop stops once it is below
/// `threshold`.
///
/// # Examples
/// ```
/// use ndarray::{Array2, array};
/// use otters::barycenter::{BarycenterInput, FixedSupportBarycenter};
/// use otters::geometry::DenseCost;
///
/// // Two Diracs at the ends of the grid {0, 1, 2, 3, 4}: the barycenter sits in the middle.
/// let x: ndarray::Array1<f64> = array![0.0, 1.0, 2.0, 3.0, 4.0];
/// let cost = Array2::from_shape_fn((5, 5), |(i, j)| (x[i] - x[j]).powi(2));
/// let geom = DenseCost::new(cost.view())?;
/// let (left, right) = (array![1.0, 0.0, 0.0, 0.0, 0.0], array![0.0, 0.0, 0.0, 0.0, 1.0]);
/// let inputs = [BarycenterInput::new(&geom, left.view()), BarycenterInput::new(&geom, right.view())];
/// let out = FixedSupportBarycenter::new(0.1).solve(&inputs, None)?;
/// assert!(out.converged());
/// assert!(out.barycenter()[2] > 0.99);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedSupportBarycenter {
    /// The entropic regularization ε (in the units of the costs).
    pub epsilon: f64,
    /// Stop once the error is at most this.
    pub threshold: f64,
    /// Iteration budget.
    pub max_iterations: usize,
}

impl FixedSupportBarycenter {
    /// Regularization `epsilon`, threshold `1e-9`, at most 10 000 iterations.
    pub fn new(epsilon: f64) -> Self {
        FixedSupportBarycenter {
            epsilon,
            threshold: 1e-9,
            max_iterations: 10_000,
        }
    }

    /// The barycenter of `inputs` with weights `lambdas` (uniform when `None`; normalized to
    /// sum to one).
    ///
    /// # Errors
    /// [`Error::Empty`] for no input; [`Error::Shape`] naming `inputs` when the costs do not
    /// share one barycenter support or a cost and its weights disagree; weight errors naming
    /// `inputs.weights` or `lambdas`; [`Error::MassMismatch`] when the inputs' masses differ;
    /// [`Error::InvalidParameter`] for `epsilon`, `threshold`, `max_iterations`;
    /// [`Error::Numerical`] if the iterates stop being finite.
    pub fn solve(
        &self,
        inputs: &[BarycenterInput<'_>],
        lambdas: Option<ArrayView1<'_, f64>>,
    ) -> Result<BarycenterOutput> {
        self.solve_with(inputs, lambdas, &Observer::new())
    }

    /// [`solve`](Self::solve), reporting every iteration to (and cancellable by) `observer`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Interrupted`].
    pub fn solve_with(
        &self,
        inputs: &[BarycenterInput<'_>],
        lambdas: Option<ArrayView1<'_, f64>>,
        observer: &Observer<'_>,
    ) -> Result<BarycenterOutput> {
        let eps = validate::positive("epsilon", self.epsilon)?;
        check_threshold(self.threshold)?;
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        let support = check_inputs(inputs)?;
        let lambdas = normalized_lambdas(lambdas, inputs.len())?;
        let n_in = inputs.len();

        let log_a: Vec<Array1<f64>> = inputs
            .iter()
            .map(|input| input.weights.mapv(f64::ln))
            .collect();
        let mut g = Array2::<f64>::zeros((n_in, support));
        let mut rows: Vec<Array1<f64>> = inputs
            .iter()
            .map(|input| Array1::zeros(input.weights.len()))
            .collect();
        let mut have_guess = false;
        let mut cols = Array2::<f64>::zeros((n_in, support));
        let mut q = Array2::<f64>::zeros((n_in, support));
        let mut log_bar = Array1::<f64>::zeros(support);
        let mut error = f64::INFINITY;
        let mut iterations = 0;
        let mut converged = false;

        while iterations < self.max_iterations {
            iterations += 1;
            for (k, input) in inputs.iter().enumerate() {
                let la = log_a[k].view();
                let link = move |i: usize, s: f64| la[i] + s / eps;
                // The previous sweeps' outputs are guesses of these (faster one-pass sums).
                let guess_rows = have_guess.then(|| rows[k].clone());
                let guess_cols = have_guess.then(|| cols.row(k).to_owned());
                let chain = SoftminChain {
                    eps_rows: eps,
                    h: g.row(k),
                    guess_rows: guess_rows.as_ref().map(|v| v.view()),
                    link: &link,
                    eps_cols: eps,
                    guess_cols: guess_cols.as_ref().map(|v| v.view()),
                };
                let mut out_cols = Array1::zeros(support);
                input
                    .cost
                    .softmin_chain(&chain, rows[k].view_mut(), out_cols.view_mut())?;
                cols.row_mut(k).assign(&out_cols);
            }
            have_guess = true;
            // q_k = LSE_i(f_ki − C_ij/ε) = −(column softmin)/ε.
            q.zip_mut_with(&cols, |q, &t| *q = -t / eps);
            log_bar.fill(0.0);
            for (k, &lambda) in lambdas.iter().enumerate() {
                if lambda > 0.0 {
                    log_bar.scaled_add(lambda, &q.row(k));
                }
            }
            error = marginal_spread(g.view(), q.view());
            if !error.is_finite() || log_bar.iter().any(|v| v.is_nan() || *v == f64::INFINITY) {
                return Err(Error::Numerical {
                    solver: "fixed-support barycenter",
                    iteration: iterations,
                    epsilon: eps,
                    detail: "the column marginals stopped being finite; increase epsilon".into(),
                });
            }
            observer.step(&Progress {
                iteration: iterations,
                max_iterations: self.max_iterations,
                error,
                epsilon: eps,
            })?;
            if error <= self.threshold {
                converged = true;
                break;
            }
            for k in 0..n_in {
                for j in 0..support {
                    g[[k, j]] = if log_bar[j] == f64::NEG_INFINITY {
                        f64::NEG_INFINITY
                    } else {
                        log_bar[j] - q[[k, j]]
                    };
                }
            }
        }
        // The row log-scalings of the returned plans: f_k = log a_k + s_k/ε.
        let f: Vec<Array1<f64>> = rows
            .iter()
            .zip(&log_a)
            .map(|(s, la)| la + &(s / eps))
            .collect();
        Ok(BarycenterOutput {
            barycenter: log_bar.mapv(f64::exp),
            log_row: f,
            log_col: g,
            epsilon: eps,
            iterations,
            error,
            converged,
        })
    }
}

/// `Σ_j std_k exp(g_kj + q_kj)` over the inputs' column marginals.
fn marginal_spread(g: ArrayView2<'_, f64>, q: ArrayView2<'_, f64>) -> f64 {
    let n_in = g.nrows() as f64;
    let mut total = 0.0;
    for (gj, qj) in g.columns().into_iter().zip(q.columns()) {
        let marg: Vec<f64> = gj.iter().zip(qj).map(|(g, q)| (g + q).exp()).collect();
        let mean = marg.iter().sum::<f64>() / n_in;
        let var = marg.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / n_in;
        total += var.sqrt();
    }
    total
}

pub(crate) fn check_threshold(threshold: f64) -> Result<()> {
    if threshold.is_finite() && threshold >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "threshold",
            "must be finite and >= 0",
            threshold,
        ))
    }
}

/// Checks the inputs (one barycenter support, weights matching their costs, equal masses);
/// returns the size of the barycenter support.
fn check_inputs(inputs: &[BarycenterInput<'_>]) -> Result<usize> {
    let Some(first) = inputs.first() else {
        return Err(Error::Empty {
            arg: "inputs",
            what: "input measure",
        });
    };
    let support = first.cost.shape().1;
    let mut first_mass = None;
    for (k, input) in inputs.iter().enumerate() {
        let (n, m) = input.cost.shape();
        if m != support {
            return Err(Error::Shape {
                arg: "inputs",
                expected: format!("{support} columns in every cost (the barycenter support)"),
                got: format!("{m} columns in the cost of input {k}"),
            });
        }
        if input.weights.len() != n {
            return Err(Error::Shape {
                arg: "inputs.weights",
                expected: format!("length {n} (rows of the cost of input {k})"),
                got: format!("length {}", input.weights.len()),
            });
        }
        let mass = validate::weights("inputs.weights", input.weights)?;
        match first_mass {
            None => first_mass = Some(mass),
            Some(m0) => {
                if (mass - m0).abs() > MASS_TOLERANCE * m0.max(mass) {
                    return Err(Error::MassMismatch {
                        sum_a: m0,
                        sum_b: mass,
                    });
                }
            }
        }
    }
    Ok(support)
}

/// `λ / Σλ`, or uniform weights; checks the length.
pub(crate) fn normalized_lambdas(
    lambdas: Option<ArrayView1<'_, f64>>,
    count: usize,
) -> Result<Array1<f64>> {
    match lambdas {
        None => Ok(Array1::from_elem(count, 1.0 / count as f64)),
        Some(l) => {
            if l.len() != count {
                return Err(Error::Shape {
                    arg: "lambdas",
                    expected: format!("length {count} (one weight per input)"),
                    got: format!("length {}", l.len()),
                });
            }
            let total = validate::weights("lambdas", l)?;
            Ok(l.mapv(|v| v / total))
        }
    }
}

/// A fixed-support barycenter: its weights, the potentials of the plans to each input, and
/// the convergence status.
#[derive(Debug, Clone)]
pub struct BarycenterOutput {
    barycenter: Array1<f64>,
    log_row: Vec<Array1<f64>>,
    log_col: Array2<f64>,
    epsilon: f64,
    iterations: usize,
    error: f64,
    converged: bool,
}

impl BarycenterOutput {
    /// The barycenter weights `b` (length `N`).
    pub fn barycenter(&self) -> ArrayView1<'_, f64> {
        self.barycenter.view()
    }

    /// The dimensionless log-scalings of the plan to input `k`:
    /// `P_k,ij = exp(u_i + v_j − C_k,ij/ε)` with `(u, v)` returned here (`u` has the length
    /// of input `k`, `v` that of the barycenter); `None` for `k` out of range.
    pub fn log_scalings(&self, k: usize) -> Option<(ArrayView1<'_, f64>, ArrayView1<'_, f64>)> {
        Some((self.log_row.get(k)?.view(), self.log_col.row(k)))
    }

    /// The regularization used.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Iterations done.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The last error (see [`FixedSupportBarycenter`]).
    pub fn error(&self) -> f64 {
        self.error
    }

    /// Whether the error reached the threshold.
    pub fn converged(&self) -> bool {
        self.converged
    }
}
