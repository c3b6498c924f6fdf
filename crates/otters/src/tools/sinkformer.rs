//! Sinkformer attention (ALGORITHMS.md T2; Sander, Ablin, Blondel, Peyré 2022, *Sinkformers:
//! Transformers with doubly stochastic attention*): the attention matrix
//! `A = diag(e^u)·exp(QKᵀ/√d)·diag(e^v)` is made doubly stochastic by alternating row
//! normalizations (rows sum to 1) and column normalizations (columns sum to n/m), starting
//! with a row one, so one normalization is softmax attention. `A = n·P` for the entropic
//! plan `P` with uniform marginals, cost `−QKᵀ/√d` and ε = 1; the sweeps are the geometry's
//! softmins on a streamed point cloud, and `A·V` is applied without storing `A`.

use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{Axis, Bilinear, Geometry, LogPlan, PointCloud};
use crate::validate::{self, DEFAULT_MEMORY_LIMIT};

/// When the alternating normalizations stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SinkformerStop {
    /// Exactly this many normalizations (row, column, row, …); 1 is softmax attention.
    Iterations(usize),
    /// After a row normalization once the column sums of `A/n` are within `threshold` of
    /// `1/m` in L1 norm, at most `max_iterations` normalizations.
    Threshold {
        /// L1 tolerance on the column marginal of `A/n`.
        threshold: f64,
        /// The budget of normalizations.
        max_iterations: usize,
    },
}

/// The result of [`sinkformer_attention`].
#[derive(Debug, Clone)]
pub struct SinkformerOutput {
    /// `A·V` (`n × d_v`).
    pub output: Array2<f64>,
    /// Normalizations done.
    pub iterations: usize,
    /// Whether the threshold was met (always `true` for a fixed count).
    pub converged: bool,
    /// `Σ_i |Σ_j A_ij − 1| / n`: 0 after a row normalization.
    pub row_error: f64,
    /// `Σ_j |Σ_i A_ij − n/m| / n`: 0 after a column normalization.
    pub column_error: f64,
    geom: PointCloud<Bilinear>,
    log_row: Array1<f64>,
    log_col: Array1<f64>,
}

impl SinkformerOutput {
    /// The attention matrix `A` (`n × m`), refused above the default memory limit.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above [`DEFAULT_MEMORY_LIMIT`].
    pub fn attention(&self) -> Result<Array2<f64>> {
        self.geom
            .plan_matrix(&self.log_plan(), DEFAULT_MEMORY_LIMIT)
    }

    fn log_plan(&self) -> LogPlan<'_> {
        LogPlan {
            log_row: self.log_row.view(),
            log_col: self.log_col.view(),
            epsilon: 1.0,
        }
    }
}

/// Sinkformer attention of queries `q` (`n × d`), keys `k` (`m × d`) and values `v`
/// (`m × d_v`): `A·V` with `A` the doubly stochastic normalization of `exp(QKᵀ/√d)`.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`] naming `q`, `k` or `v`; [`Error::Shape`] when `k`
/// does not have `q`'s dimension or `v` has not `m` rows; [`Error::InvalidParameter`] for 0
/// iterations or a non-positive threshold; [`Error::Numerical`] if a scaling overflows.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::tools::{SinkformerStop, sinkformer_attention};
///
/// let q = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let v = array![[1.0], [2.0], [3.0]];
/// let stop = SinkformerStop::Threshold { threshold: 1e-10, max_iterations: 1000 };
/// let out = sinkformer_attention(q.view(), q.view(), v.view(), stop)?;
/// assert!(out.converged);
/// let a = out.attention()?;
/// for j in 0..3 {
///     assert!((a.column(j).sum() - 1.0).abs() < 1e-9); // columns sum to n/m = 1
/// }
/// # Ok::<(), otters::Error>(())
/// ```
pub fn sinkformer_attention(
    q: ArrayView2<'_, f64>,
    k: ArrayView2<'_, f64>,
    v: ArrayView2<'_, f64>,
    stop: SinkformerStop,
) -> Result<SinkformerOutput> {
    validate::points("q", q)?;
    validate::points("k", k)?;
    validate::points("v", v)?;
    if k.ncols() != q.ncols() {
        return Err(Error::Shape {
            arg: "k",
            expected: format!("keys of dimension {} (as the queries)", q.ncols()),
            got: format!("{} x {}", k.nrows(), k.ncols()),
        });
    }
    if v.nrows() != k.nrows() {
        return Err(Error::Shape {
            arg: "v",
            expected: format!("{} rows (one per key)", k.nrows()),
            got: format!("{} x {}", v.nrows(), v.ncols()),
        });
    }
    let (budget, threshold) = match stop {
        SinkformerStop::Iterations(0) => {
            return Err(Error::invalid("iterations", "must be >= 1", 0));
        }
        SinkformerStop::Iterations(t) => (t, None),
        SinkformerStop::Threshold {
            threshold,
            max_iterations,
        } => {
            validate::positive("threshold", threshold)?;
            if max_iterations == 0 {
                return Err(Error::invalid("max_iterations", "must be >= 1", 0));
            }
            (max_iterations, Some(threshold))
        }
    };
    // C_ij = (−q_i/√d)·k_j = −S_ij, so softmin_rows(v)_i = −log Σ_j exp(v_j + S_ij).
    let scaled_q = q.mapv(|x| -x / (q.ncols() as f64).sqrt());
    let geom = PointCloud::new(scaled_q.view(), k, Bilinear)?;
    let (n, m) = geom.shape();
    let log_ratio = (n as f64 / m as f64).ln();
    let (mut u, mut w) = (Array1::zeros(n), Array1::zeros(m));
    let (mut s, mut t) = (Array1::zeros(n), Array1::zeros(m));
    let mut iterations = 0;
    let mut converged = threshold.is_none();
    let mut column_error = f64::INFINITY;
    while iterations < budget {
        // Row normalization.
        geom.softmin(Axis::Rows, 1.0, w.view(), s.view_mut())?;
        u.assign(&s);
        iterations += 1;
        check_finite(&u, iterations)?;
        // The column sweep gives the column sums of the current A and the next update.
        geom.softmin(Axis::Cols, 1.0, u.view(), t.view_mut())?;
        column_error = column_sum_error(&w, &t, log_ratio, n);
        if let Some(tol) = threshold
            && column_error <= tol
        {
            converged = true;
            break;
        }
        if iterations == budget {
            break;
        }
        // Column normalization: v_j = log(n/m) − LSE_i(u_i + S_ij).
        w = &t + log_ratio;
        iterations += 1;
        check_finite(&w, iterations)?;
        column_error = 0.0;
    }
    let row_error = if iterations % 2 == 1 {
        0.0
    } else {
        geom.softmin(Axis::Rows, 1.0, w.view(), s.view_mut())?;
        u.iter()
            .zip(&s)
            .map(|(ui, si)| ((ui - si).exp() - 1.0).abs())
            .sum::<f64>()
            / n as f64
    };
    let plan = LogPlan {
        log_row: u.view(),
        log_col: w.view(),
        epsilon: 1.0,
    };
    let mut output = Array2::zeros((n, v.ncols()));
    geom.apply_plan(Axis::Rows, &plan, v, output.view_mut())?;
    Ok(SinkformerOutput {
        output,
        iterations,
        converged,
        row_error,
        column_error,
        geom,
        log_row: u,
        log_col: w,
    })
}

/// `Σ_j |colsum_j − n/m| / n`, with `colsum_j = exp(w_j − t_j)`.
fn column_sum_error(w: &Array1<f64>, t: &Array1<f64>, log_ratio: f64, n: usize) -> f64 {
    let target = log_ratio.exp();
    w.iter()
        .zip(t)
        .map(|(wj, tj)| ((wj - tj).exp() - target).abs())
        .sum::<f64>()
        / n as f64
}

fn check_finite(x: &Array1<f64>, iteration: usize) -> Result<()> {
    match x.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(v) => Err(Error::Numerical {
            solver: "sinkformer",
            iteration,
            epsilon: 1.0,
            detail: format!("a log-scaling became {v}"),
        }),
    }
}
