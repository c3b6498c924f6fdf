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
//!
//! The same loop gives the unbalanced barycenter (Chizat et al. 2018: damped projections and a
//! power mean) and the debiased one (Janati et al. 2020: `log b` shifted by the barycenter's
//! self-transport potential); see [`FixedSupportBarycenter`].

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis, Zip, s};

use crate::error::{Error, Result};
use crate::geometry::{Axis, Geometry, SoftminChain};
use crate::kernels::lse::{exp_in_place, log_sum_exp};
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

/// The entropic barycenter on a fixed support by iterative Bregman projections (log domain):
/// balanced, unbalanced (`rho` finite) or debiased ([`solve_debiased`](Self::solve_debiased)).
///
/// - **Balanced** (`rho = ∞`): `b = argmin_b Σ_k λ_k OT_ε(a_k, b)`. The error after each
///   iteration is POT's: `Σ_j std_k (P_kᵀ1)_j`, the spread of the inputs' column marginals
///   around their common value (population standard deviation over the inputs, summed over
///   the barycenter support).
/// - **Unbalanced** (Chizat, Peyré, Schmitzer, Vialard 2018, *Scaling algorithms for
///   unbalanced optimal transport problems*, §5.2): both marginal constraints of every plan
///   become penalties `ρ·KL(·|·)`, so the inputs may have different masses. With
///   `φ = ρ/(ρ + ε)` the projections are damped (`f_k = φ(log a_k − LSE_j(g_kj − C_ij/ε))`,
///   `g_k = φ(log b − q_k)`) and the barycenter is the power mean
///   `b = (Σ_k λ_k e^{(1−φ) q_k})^{1/(1−φ)}` (POT's `barycenter_unbalanced`). The error is
///   POT's relative change `max|b − b_prev| / max(max b, max b_prev, 1)`.
/// - **Debiased** (Janati, Cuturi, Gramfort 2020, *Debiased Sinkhorn barycenters*): `b`
///   minimizes `Σ_k λ_k S_ε(a_k, b)` with the Sinkhorn divergence `S_ε`, which removes the
///   entropic blur: `log b = c + Σ_k λ_k q_k`, where `c` is the self-transport potential of
///   `b` (`e^c ⊙ K e^c = b`), advanced by ten averaged steps
///   `c ← (c + log b − LSE_i(c_i − C_ij/ε))/2` per iteration. The error is the relative
///   change of `b` (as POT's `barycenter_debiased(method="sinkhorn")`; the marginal spread
///   does not see `c`, and is exactly 0 for identical inputs). The iteration deconvolves the
///   entropic blur and converges sublinearly: expect thousands of iterations for changes
///   below 1e-8.
///
/// The loop stops once the error is below `threshold`. Inputs that share one cost (the same
/// `&dyn Geometry`, as POT's `barycenter(A, M)`) are swept together where the geometry can
/// ([`Geometry::softmin_batch`]: a small stored cost reads its Gibbs kernel once for all of
/// them); for `DenseCost` the results are those of one chain per input, bit for bit.
///
/// # Examples
/// ```
/// use ndarray::{Array2, array};
/// use otters::barycenter::{BarycenterInput, FixedSupportBarycenter};
/// use otters::geometry::DenseCost;
///
/// // Two Diracs at the ends of the grid {0, 1, 2, 3, 4}: the barycenter sits in the middle.
/// let x: ndarray::Array1<f64> = array![0.0, 0.25, 0.5, 0.75, 1.0];
/// let cost = Array2::from_shape_fn((5, 5), |(i, j)| (x[i] - x[j]).powi(2));
/// let geom = DenseCost::new(cost.view())?;
/// let (left, right) = (array![1.0, 0.0, 0.0, 0.0, 0.0], array![0.0, 0.0, 0.0, 0.0, 1.0]);
/// let inputs = [BarycenterInput::new(&geom, left.view()), BarycenterInput::new(&geom, right.view())];
/// let out = FixedSupportBarycenter::new(0.01).solve(&inputs, None)?;
/// assert!(out.converged());
/// assert!(out.barycenter()[2] > 0.99);
///
/// // Unbalanced: with twice the mass on the right, the barycenter's mass lies in between.
/// let heavy = array![0.0, 0.0, 0.0, 0.0, 2.0];
/// let inputs = [BarycenterInput::new(&geom, left.view()), BarycenterInput::new(&geom, heavy.view())];
/// let solver = FixedSupportBarycenter { rho: 1.0, ..FixedSupportBarycenter::new(0.1) };
/// let mass = solver.solve(&inputs, None)?.barycenter().sum();
/// assert!(mass > 1.0 && mass < 2.0);
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
    /// The marginal penalty ρ of unbalanced barycenters (`ρ·KL` on both marginals of every
    /// plan); `f64::INFINITY` (the default) is the balanced barycenter.
    pub rho: f64,
}

/// What the column projection does: how `log b` and `g_k` follow from the `q_k`.
enum Variant<'a> {
    Balanced,
    Unbalanced { damping: f64 },
    Debiased { support_cost: &'a dyn Geometry },
}

/// Averaged steps of the debiasing potential per iteration (as POT).
const DEBIAS_STEPS: usize = 10;

impl FixedSupportBarycenter {
    /// Regularization `epsilon`, threshold `1e-9`, at most 10 000 iterations, balanced.
    pub fn new(epsilon: f64) -> Self {
        FixedSupportBarycenter {
            epsilon,
            threshold: 1e-9,
            max_iterations: 10_000,
            rho: f64::INFINITY,
        }
    }

    /// The barycenter of `inputs` with weights `lambdas` (uniform when `None`; normalized to
    /// sum to one).
    ///
    /// # Errors
    /// [`Error::Empty`] for no input; [`Error::Shape`] naming `inputs` when the costs do not
    /// share one barycenter support or a cost and its weights disagree; weight errors naming
    /// `inputs.weights` or `lambdas`; [`Error::MassMismatch`] when the inputs' masses differ
    /// (balanced only); [`Error::InvalidParameter`] for `epsilon`, `threshold`,
    /// `max_iterations`, `rho`; [`Error::Numerical`] if the iterates stop being finite.
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
        let variant = if self.rho == f64::INFINITY {
            Variant::Balanced
        } else {
            let rho = validate::positive("rho", self.rho)?;
            Variant::Unbalanced {
                damping: rho / (rho + eps),
            }
        };
        self.iterate(inputs, lambdas, variant, observer)
    }

    /// The debiased barycenter (Janati et al. 2020) of `inputs`: `support_cost` is the cost
    /// between the points of the barycenter support (`N × N`, the columns of every input's
    /// cost).
    ///
    /// # Errors
    /// As [`solve`](Self::solve); [`Error::Shape`] naming `support_cost` unless it is
    /// `N × N`; [`Error::InvalidParameter`] naming `rho` unless it is infinite (debiased
    /// barycenters are balanced).
    pub fn solve_debiased(
        &self,
        inputs: &[BarycenterInput<'_>],
        lambdas: Option<ArrayView1<'_, f64>>,
        support_cost: &dyn Geometry,
    ) -> Result<BarycenterOutput> {
        self.solve_debiased_with(inputs, lambdas, support_cost, &Observer::new())
    }

    /// [`solve_debiased`](Self::solve_debiased), reporting to (and cancellable by) `observer`.
    ///
    /// # Errors
    /// As [`solve_debiased`](Self::solve_debiased), plus [`Error::Interrupted`].
    pub fn solve_debiased_with(
        &self,
        inputs: &[BarycenterInput<'_>],
        lambdas: Option<ArrayView1<'_, f64>>,
        support_cost: &dyn Geometry,
        observer: &Observer<'_>,
    ) -> Result<BarycenterOutput> {
        if self.rho != f64::INFINITY {
            return Err(Error::invalid(
                "rho",
                "debiased barycenters are balanced: rho must be infinite",
                self.rho,
            ));
        }
        self.iterate(
            inputs,
            lambdas,
            Variant::Debiased { support_cost },
            observer,
        )
    }

    fn iterate(
        &self,
        inputs: &[BarycenterInput<'_>],
        lambdas: Option<ArrayView1<'_, f64>>,
        variant: Variant<'_>,
        observer: &Observer<'_>,
    ) -> Result<BarycenterOutput> {
        let eps = validate::positive("epsilon", self.epsilon)?;
        check_threshold(self.threshold)?;
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        let balanced = !matches!(variant, Variant::Unbalanced { .. });
        let support = check_inputs(inputs, balanced)?;
        if let Variant::Debiased { support_cost } = variant
            && support_cost.shape() != (support, support)
        {
            return Err(Error::Shape {
                arg: "support_cost",
                expected: format!("{support} × {support} (the barycenter support, twice)"),
                got: format!("{:?}", support_cost.shape()),
            });
        }
        let lambdas = normalized_lambdas(lambdas, inputs.len())?;
        let log_lambdas = lambdas.mapv(f64::ln);
        let damping = match variant {
            Variant::Unbalanced { damping } => damping,
            _ => 1.0,
        };
        let n_in = inputs.len();

        let log_a: Vec<Array1<f64>> = inputs
            .iter()
            .map(|input| input.weights.mapv(f64::ln))
            .collect();
        let mut g = Array2::<f64>::zeros((n_in, support));
        // Double buffers: each sweep writes one and reads the other (the previous iteration's
        // outputs) as the guess of its one-pass sums.
        let mut rows: Vec<Array1<f64>> = inputs
            .iter()
            .map(|input| Array1::zeros(input.weights.len()))
            .collect();
        let mut prev_rows = rows.clone();
        let mut have_guess = false;
        let mut cols = Array2::<f64>::zeros((n_in, support));
        let mut prev_cols = cols.clone();
        let mut q = Array2::<f64>::zeros((n_in, support));
        let mut marginals = Array2::<f64>::zeros((n_in, support));
        let mut log_bar = Array1::<f64>::zeros(support);
        let mut prev_bar = Array1::<f64>::from_elem(support, f64::NAN);
        // The debiasing potential c (dimensionless) and its sweep's output.
        let mut debias = Array1::<f64>::zeros(support);
        let mut self_sweep = Array1::<f64>::zeros(support);
        // Inputs on one shared cost (POT's `barycenter(A, M)`) are swept together when the
        // geometry can (a small stored cost then reads its kernel once for all of them).
        let shared = n_in > 1
            && inputs
                .iter()
                .all(|input| std::ptr::eq(input.cost, inputs[0].cost));
        let batch_shape = if shared {
            (n_in, inputs[0].weights.len())
        } else {
            (0, 0)
        };
        let mut batch_rows = Array2::<f64>::zeros(batch_shape);
        let mut prev_batch_rows = batch_rows.clone();
        let mut error = f64::INFINITY;
        let mut iterations = 0;
        let mut converged = false;

        while iterations < self.max_iterations {
            iterations += 1;
            std::mem::swap(&mut rows, &mut prev_rows);
            std::mem::swap(&mut cols, &mut prev_cols);
            if shared {
                // One batched chain: the cost is read once per iteration for every input.
                std::mem::swap(&mut batch_rows, &mut prev_batch_rows);
                let link = |k: usize, i: usize, s: f64| damping * (log_a[k][i] + s / eps);
                let chain = SoftminChain {
                    eps_rows: eps,
                    h: g.view(),
                    guess_rows: have_guess.then(|| prev_batch_rows.view()),
                    link: &link,
                    eps_cols: eps,
                    guess_cols: have_guess.then(|| prev_cols.view()),
                };
                inputs[0]
                    .cost
                    .softmin_chain(&chain, batch_rows.view_mut(), cols.view_mut())?;
            }
            for (k, input) in inputs.iter().enumerate().filter(|_| !shared) {
                let la = log_a[k].view();
                let link = move |_: usize, i: usize, s: f64| damping * (la[i] + s / eps);
                let chain = SoftminChain {
                    eps_rows: eps,
                    h: g.slice(s![k..k + 1, ..]),
                    guess_rows: have_guess.then(|| prev_rows[k].view().insert_axis(NdAxis(0))),
                    link: &link,
                    eps_cols: eps,
                    guess_cols: have_guess.then(|| prev_cols.slice(s![k..k + 1, ..])),
                };
                input.cost.softmin_chain(
                    &chain,
                    rows[k].view_mut().insert_axis(NdAxis(0)),
                    cols.slice_mut(s![k..k + 1, ..]),
                )?;
            }
            have_guess = true;
            // q_k = LSE_i(f_ki − C_ij/ε) = −(column softmin)/ε.
            q.zip_mut_with(&cols, |q, &t| *q = -t / eps);
            match variant {
                Variant::Unbalanced { damping } => {
                    let power = 1.0 - damping;
                    for (j, lb) in log_bar.iter_mut().enumerate() {
                        let terms = (0..n_in).map(|k| log_lambdas[k] + power * q[[k, j]]);
                        *lb = log_sum_exp(terms) / power;
                    }
                }
                _ => {
                    log_bar.fill(0.0);
                    for (k, &lambda) in lambdas.iter().enumerate() {
                        if lambda > 0.0 {
                            log_bar.scaled_add(lambda, &q.row(k));
                        }
                    }
                    if let Variant::Debiased { .. } = variant {
                        log_bar += &debias;
                    }
                }
            }
            error = if let Variant::Balanced = variant {
                marginal_spread(g.view(), q.view(), &mut marginals)
            } else {
                relative_change(log_bar.view(), prev_bar.view())
            };
            // (The relative change is infinite at the first iteration: no previous barycenter.)
            if error.is_nan()
                || (error.is_infinite() && iterations > 1)
                || log_bar.iter().any(|v| v.is_nan() || *v == f64::INFINITY)
            {
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
            prev_bar.assign(&log_bar);
            for k in 0..n_in {
                for j in 0..support {
                    g[[k, j]] = if log_bar[j] == f64::NEG_INFINITY {
                        f64::NEG_INFINITY
                    } else {
                        damping * (log_bar[j] - q[[k, j]])
                    };
                }
            }
            if let Variant::Debiased { support_cost } = variant {
                for _ in 0..DEBIAS_STEPS {
                    support_cost.softmin(Axis::Cols, eps, debias.view(), self_sweep.view_mut())?;
                    Zip::from(&mut debias)
                        .and(&log_bar)
                        .and(&self_sweep)
                        .for_each(|c, &lb, &t| {
                            *c = if lb == f64::NEG_INFINITY {
                                f64::NEG_INFINITY
                            } else {
                                0.5 * (*c + lb + t / eps)
                            };
                        });
                }
            }
        }
        if shared {
            for (r, b) in rows.iter_mut().zip(batch_rows.rows()) {
                r.assign(&b);
            }
        }
        // The row log-scalings of the returned plans: f_k = φ(log a_k + s_k/ε).
        let f: Vec<Array1<f64>> = rows
            .iter()
            .zip(&log_a)
            .map(|(s, la)| (la + &(s / eps)) * damping)
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

/// POT's relative change of the barycenter, `max|b − b'| / max(max b, max b', 1)`, from logs
/// (infinite when `b'` is not yet known).
fn relative_change(log_bar: ArrayView1<'_, f64>, log_prev: ArrayView1<'_, f64>) -> f64 {
    if log_prev.iter().any(|v| v.is_nan()) {
        return f64::INFINITY;
    }
    let (mut diff, mut scale) = (0.0_f64, 1.0_f64);
    for (&l, &p) in log_bar.iter().zip(log_prev) {
        let (b, bp) = (l.exp(), p.exp());
        diff = diff.max((b - bp).abs());
        scale = scale.max(b).max(bp);
    }
    diff / scale
}

/// `Σ_j std_k exp(g_kj + q_kj)` over the inputs' column marginals.
fn marginal_spread(
    g: ArrayView2<'_, f64>,
    q: ArrayView2<'_, f64>,
    marginals: &mut Array2<f64>,
) -> f64 {
    Zip::from(&mut *marginals)
        .and(&g)
        .and(&q)
        .for_each(|m, &g, &q| *m = g + q);
    exp_in_place(
        marginals
            .as_slice_mut()
            .expect("a fresh array is contiguous"),
    );
    let n_in = g.nrows() as f64;
    let mut total = 0.0;
    for marg in marginals.columns() {
        let mean = marg.sum() / n_in;
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

/// Checks the inputs (one barycenter support, weights matching their costs, equal masses
/// when `equal_masses`);
/// returns the size of the barycenter support.
fn check_inputs(inputs: &[BarycenterInput<'_>], equal_masses: bool) -> Result<usize> {
    let Some(first) = inputs.first() else {
        return Err(Error::Empty {
            arg: "inputs",
            what: "input measure",
        });
    };
    let support = first.cost.shape().1;
    let mut masses = Vec::with_capacity(inputs.len());
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
        masses.push(validate::weights("inputs.weights", input.weights)?);
    }
    if equal_masses {
        let m0 = masses[0];
        if let Some(&mass) = masses
            .iter()
            .find(|&&mass| (mass - m0).abs() > MASS_TOLERANCE * m0.max(mass))
        {
            return Err(Error::MassMismatch {
                sum_a: m0,
                sum_b: mass,
            });
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
