//! [`Grid`]: the cost `C_ij = Σ_d |x_{i,d} − y_{j,d}|^p` between the points of two product
//! grids, swept axis by axis (the separable kernels of Solomon et al. 2015, *Convolutional
//! Wasserstein distances*).
//!
//! A grid is a list of 1-D axes; its points are the tuples of their coordinates, numbered in
//! row-major order (the last axis varies fastest, as NumPy's `reshape(-1)` of an
//! `n_1 × … × n_D` array). Because the cost is a sum over axes, the Gibbs kernel is a tensor
//! product `K = K_1 ⊗ … ⊗ K_D`, and a softmin sweep is a nested 1-D log-sum-exp along each
//! axis in turn: O(N·Σ_d n_d) work and O(N) memory, never an N × N matrix.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis as NdAxis};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

use super::{
    Axis, CostSummary, Geometry, LogPlan, Sweep, check_apply, check_block, check_plan, check_sweep,
};
use crate::error::{Error, Result};
use crate::kernels::gemm;
use crate::kernels::lse::{exp_below_max, exp_below_scalar_max, log_sum_exp};
use crate::validate::{self, compensated_sum};

/// The separable cost `Σ_d |x_d − y_d|^p` between two product grids with the same number of
/// axes (see the notes of `geometry/grid.rs`).
///
/// # Examples
/// ```
/// use ndarray::{Array1, array};
/// use otters::geometry::{Axis, Geometry, Grid};
///
/// // A 3 × 4 grid of the unit square, squared Euclidean cost.
/// let (rows, cols) = (Array1::linspace(0.0, 1.0, 3), Array1::linspace(0.0, 1.0, 4));
/// let grid = Grid::new(&[rows.view(), cols.view()])?;
/// assert_eq!(grid.shape(), (12, 12));
/// // Point 5 is (0.5, 1/3), point 0 is (0, 0).
/// let c = grid.cost_matrix(1 << 20)?;
/// assert!((c[[5, 0]] - (0.25 + 1.0 / 9.0)).abs() < 1e-15);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Grid {
    /// Axis sizes of the source grid (rows of the cost).
    dims_x: Vec<usize>,
    /// Axis sizes of the target grid (columns of the cost).
    dims_y: Vec<usize>,
    /// `C_d`, `n_d × m_d`: the 1-D costs along each axis.
    axis_costs: Vec<Array2<f64>>,
    /// The exponent `p`.
    power: f64,
    summary: CostSummary,
    /// The per-axis kernels of the last few `(axis, ε)` sweeps (a fixed ε is reused for
    /// thousands of sweeps by Sinkhorn and barycenter loops); shared by clones.
    kernel_cache: Arc<Mutex<Vec<CachedKernels>>>,
}

/// The per-axis matrices of one sweep orientation at one ε.
#[derive(Debug)]
struct CachedKernels {
    axis: Axis,
    epsilon_bits: u64,
    kernels: Arc<AxisKernels>,
}

/// How many `(axis, ε)` kernel sets a grid keeps (both orientations of two ε).
const KERNEL_CACHE: usize = 4;

impl Grid {
    /// The squared Euclidean cost (`p = 2`) on one grid (source and target alike).
    ///
    /// # Errors
    /// As [`Grid::between`].
    pub fn new(axes: &[ArrayView1<'_, f64>]) -> Result<Self> {
        Grid::between(axes, axes, 2.0)
    }

    /// The cost `Σ_d |x_d − y_d|^p` on one grid.
    ///
    /// # Errors
    /// As [`Grid::between`].
    pub fn with_power(axes: &[ArrayView1<'_, f64>], power: f64) -> Result<Self> {
        Grid::between(axes, axes, power)
    }

    /// The cost `Σ_d |x_d − y_d|^p` from the grid with axes `x_axes` (rows) to the grid with
    /// axes `y_axes` (columns).
    ///
    /// # Errors
    /// [`Error::Empty`] for no axis or an empty axis; [`Error::Shape`] naming `y_axes` when the
    /// two grids have different numbers of axes; [`Error::NonFinite`] for a coordinate;
    /// [`Error::InvalidParameter`] for `power` (finite, > 0) or a grid with more than
    /// `usize::MAX` points.
    pub fn between(
        x_axes: &[ArrayView1<'_, f64>],
        y_axes: &[ArrayView1<'_, f64>],
        power: f64,
    ) -> Result<Self> {
        validate::positive("power", power)?;
        if x_axes.is_empty() {
            return Err(Error::Empty {
                arg: "x_axes",
                what: "axis",
            });
        }
        if y_axes.len() != x_axes.len() {
            return Err(Error::Shape {
                arg: "y_axes",
                expected: format!("{} axes (as many as x_axes)", x_axes.len()),
                got: format!("{} axes", y_axes.len()),
            });
        }
        for (arg, axes) in [("x_axes", x_axes), ("y_axes", y_axes)] {
            for axis in axes {
                if axis.is_empty() {
                    return Err(Error::Empty {
                        arg,
                        what: "coordinate on every axis",
                    });
                }
                if let Some((i, &v)) = axis.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::NonFinite {
                        arg,
                        index: crate::error::Index::Vector(i),
                        value: v,
                    });
                }
            }
            let count = axes
                .iter()
                .try_fold(1usize, |acc, a| acc.checked_mul(a.len()));
            if count.is_none() {
                return Err(Error::invalid(
                    arg,
                    "the grid must have at most usize::MAX points",
                    format!("{:?}", axes.iter().map(|a| a.len()).collect::<Vec<_>>()),
                ));
            }
        }
        let axis_costs: Vec<Array2<f64>> = x_axes
            .iter()
            .zip(y_axes)
            .map(|(x, y)| {
                Array2::from_shape_fn((x.len(), y.len()), |(i, j)| (x[i] - y[j]).abs().powf(power))
            })
            .collect();
        // The cost is a sum of independent coordinates under the uniform measure on the
        // product grid: maxima and means add, and so do variances.
        let (mut max, mut mean, mut var) = (0.0, 0.0, 0.0);
        for c in &axis_costs {
            let mu = c.mean().unwrap_or(0.0);
            max += c.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            mean += mu;
            var += c.mapv(|v| (v - mu).powi(2)).mean().unwrap_or(0.0);
        }
        Ok(Grid {
            dims_x: x_axes.iter().map(|a| a.len()).collect(),
            dims_y: y_axes.iter().map(|a| a.len()).collect(),
            axis_costs,
            power,
            summary: CostSummary {
                max,
                mean,
                std: var.sqrt(),
            },
            kernel_cache: Arc::default(),
        })
    }

    /// Axis sizes of the source grid (the rows of the cost).
    pub fn dims(&self) -> &[usize] {
        &self.dims_x
    }

    /// Axis sizes of the target grid (the columns of the cost).
    pub fn target_dims(&self) -> &[usize] {
        &self.dims_y
    }

    /// The exponent `p`.
    pub fn power(&self) -> f64 {
        self.power
    }

    /// (output dims, reduced dims, per-axis matrices `out_d × red_d` of `−C_d/ε` (+ `log C_d`
    /// on axis `weighted`) and their exponentials), oriented for a sweep along `axis`. The
    /// unweighted matrices are cached per `(axis, ε)`.
    fn log_kernels(&self, axis: Axis, epsilon: f64, weighted: Option<usize>) -> SweepPlan<'_> {
        let (out_dims, red_dims) = match axis {
            Axis::Rows => (&self.dims_x, &self.dims_y),
            Axis::Cols => (&self.dims_y, &self.dims_x),
        };
        let kernels = match weighted {
            Some(_) => Arc::new(self.axis_kernels(axis, epsilon, weighted)),
            None => self.cached_kernels(axis, epsilon),
        };
        SweepPlan {
            out_dims,
            red_dims,
            kernels,
        }
    }

    fn cached_kernels(&self, axis: Axis, epsilon: f64) -> Arc<AxisKernels> {
        let bits = epsilon.to_bits();
        let lookup = |cache: &Vec<CachedKernels>| {
            cache
                .iter()
                .find(|c| c.axis == axis && c.epsilon_bits == bits)
                .map(|c| Arc::clone(&c.kernels))
        };
        // A poisoned lock only means another sweep panicked; the cache stays consistent.
        if let Some(k) = lookup(&self.kernel_cache.lock().unwrap_or_else(|e| e.into_inner())) {
            return k;
        }
        let kernels = Arc::new(self.axis_kernels(axis, epsilon, None));
        let mut cache = self.kernel_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() == KERNEL_CACHE {
            cache.remove(0);
        }
        cache.push(CachedKernels {
            axis,
            epsilon_bits: bits,
            kernels: Arc::clone(&kernels),
        });
        kernels
    }

    fn axis_kernels(&self, axis: Axis, epsilon: f64, weighted: Option<usize>) -> AxisKernels {
        let logs: Vec<Array2<f64>> = self
            .axis_costs
            .iter()
            .enumerate()
            .map(|(d, c)| {
                let oriented = match axis {
                    Axis::Rows => c.view(),
                    Axis::Cols => c.view().reversed_axes(),
                };
                if weighted == Some(d) {
                    oriented.mapv(|v| v.ln() - v / epsilon)
                } else {
                    oriented.mapv(|v| -v / epsilon)
                }
            })
            .collect();
        let exps = logs.iter().map(|l| l.mapv(f64::exp)).collect();
        AxisKernels { logs, exps }
    }

    /// `Σ_i` of a signed plan application, see [`Geometry::apply_plan`]: for each column `c`
    /// of `v`, `out_i = exp(lo_i)·Σ_j exp(lr_j − C_ij/ε)·v_jc` by two log-sum-exps over the
    /// positive and negative parts of `v`.
    fn apply_log_kernel(
        &self,
        axis: Axis,
        epsilon: f64,
        log_out: ArrayView1<'_, f64>,
        log_red: ArrayView1<'_, f64>,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) {
        let sweep = self.log_kernels(axis, epsilon, None);
        for (c, vc) in v.columns().into_iter().enumerate() {
            let part = |sign: f64| -> Vec<f64> {
                let h: Vec<f64> = log_red
                    .iter()
                    .zip(vc)
                    .map(|(&l, &x)| {
                        let x = sign * x;
                        if x > 0.0 {
                            l + x.ln()
                        } else {
                            f64::NEG_INFINITY
                        }
                    })
                    .collect();
                sweep.nested_lse(h)
            };
            let (pos, neg) = (part(1.0), part(-1.0));
            for (i, o) in out.column_mut(c).iter_mut().enumerate() {
                *o = exp_or_zero(log_out[i] + pos[i]) - exp_or_zero(log_out[i] + neg[i]);
            }
        }
    }

    /// `out_i = Σ_j C_ij^{power}·V_j` in separable form: with `S_d` the marginals of `V` on
    /// each reduced axis, `C·V = Σ_d (C_d·S_d)` broadcast along the other output axes.
    fn marginals(dims: &[usize], v: ArrayView1<'_, f64>) -> Vec<Array1<f64>> {
        let strides = strides(dims);
        dims.iter()
            .zip(&strides)
            .map(|(&n, &s)| {
                let mut m = Array1::zeros(n);
                for (j, &x) in v.iter().enumerate() {
                    m[(j / s) % n] += x;
                }
                m
            })
            .collect()
    }

    fn oriented(&self, axis: Axis, d: usize) -> ArrayView2<'_, f64> {
        match axis {
            Axis::Rows => self.axis_costs[d].view(),
            Axis::Cols => self.axis_costs[d].view().reversed_axes(),
        }
    }
}

/// `e^x`, with `e^{−∞} = 0` and NaN (from `−∞ + ∞`) read as 0.
fn exp_or_zero(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.exp() }
}

/// Row-major strides of a grid with axis sizes `dims`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for d in (0..dims.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * dims[d + 1];
    }
    s
}

/// Per-axis log-kernels `L_d` and kernels `e^{L_d}` of one sweep orientation.
#[derive(Debug)]
struct AxisKernels {
    logs: Vec<Array2<f64>>,
    exps: Vec<Array2<f64>>,
}

/// One sweep: the nested log-sum-exp `out_i = LSE_j(h_j + Σ_d L_d[i_d, j_d])`.
struct SweepPlan<'g> {
    out_dims: &'g [usize],
    red_dims: &'g [usize],
    kernels: Arc<AxisKernels>,
}

/// Multiply-adds below which a parallel hand-off costs more than it saves.
const PAR_GRAIN: usize = 1 << 18;

/// Below this a kernel-product sum may have lost terms to underflow: recomputed exactly.
const TINY_SUM: f64 = 1e-250;

impl SweepPlan<'_> {
    /// Replaces the reduced axes by the output axes one at a time; each step is a 1-D
    /// log-sum-exp along one axis of the current tensor, computed as a matrix product:
    /// with `m` the maximum of each fiber, `LSE_j(x_j + L_ij) = m + log Σ_j e^{L_ij}·e^{x_j − m}`
    /// (one exponential per entry, not per term). Every sum the kernel's underflow could
    /// have spoiled (below [`TINY_SUM`]) is recomputed by the exact two-pass log-sum-exp.
    fn nested_lse(&self, h: Vec<f64>) -> Vec<f64> {
        let mut current = h;
        let mut shape: Vec<usize> = self.red_dims.to_vec();
        let k = &self.kernels;
        for (d, (mat, kernel)) in k.logs.iter().zip(&k.exps).enumerate() {
            let (n_out, red) = mat.dim();
            let outer: usize = shape[..d].iter().product();
            let inner: usize = shape[d + 1..].iter().product();
            current = lse_axis(&current, mat, kernel, outer, red, inner);
            shape[d] = n_out;
        }
        debug_assert_eq!(current.len(), self.out_dims.iter().product::<usize>());
        current
    }
}

/// One axis of [`SweepPlan::nested_lse`]: `x` is `outer × red × inner` (row-major), the
/// result `outer × n_out × inner` with `out[o, i, t] = LSE_j(x[o, j, t] + mat[i, j])`.
fn lse_axis(
    x: &[f64],
    mat: &Array2<f64>,
    kernel: &Array2<f64>,
    outer: usize,
    red: usize,
    inner: usize,
) -> Vec<f64> {
    let n_out = mat.nrows();
    // Fiber maxima m[o, t] and shifted exponentials e[o, j, t] = exp(x − m).
    let mut maxima = vec![f64::NEG_INFINITY; outer * inner];
    for o in 0..outer {
        let m = &mut maxima[o * inner..(o + 1) * inner];
        for j in 0..red {
            let row = &x[(o * red + j) * inner..(o * red + j + 1) * inner];
            for (m, &v) in m.iter_mut().zip(row) {
                *m = m.max(v);
            }
        }
    }
    // Fibers per parallel task: at least PAR_GRAIN entries of work each, so small grids run
    // on one thread instead of paying for the hand-offs.
    let grain = (PAR_GRAIN / (red * inner * n_out.max(1)).max(1)).max(1);
    let mut shifted = vec![0.0; x.len()];
    shifted
        .par_chunks_mut(red * inner)
        .zip(x.par_chunks(red * inner))
        .enumerate()
        .with_min_len(grain)
        .for_each(|(o, (e, xo))| {
            if inner == 1 {
                exp_below_scalar_max(xo, maxima[o], e);
            } else {
                let m = &maxima[o * inner..(o + 1) * inner];
                for (ej, xj) in e.chunks_mut(inner).zip(xo.chunks(inner)) {
                    exp_below_max(xj, m, ej);
                }
            }
        });
    let mut sums = vec![0.0; outer * n_out * inner];
    if inner == 1 {
        // One product: (outer × red)·kernelᵀ.
        let e = ArrayView2::from_shape((outer, red), &shifted).expect("shape");
        let out = ndarray::ArrayViewMut2::from_shape((outer, n_out), &mut sums).expect("shape");
        if outer * red * n_out < PAR_GRAIN {
            gemm::matmul_seq(out, e, kernel.t(), 1.0);
        } else {
            gemm::matmul_par(out, e, kernel.t(), 1.0, false);
        }
    } else if outer < rayon::current_num_threads() {
        // Few fibers (the first axis): parallel within each product.
        for (s, e) in sums
            .chunks_mut(n_out * inner)
            .zip(shifted.chunks(red * inner))
        {
            let e = ArrayView2::from_shape((red, inner), e).expect("shape");
            let out = ndarray::ArrayViewMut2::from_shape((n_out, inner), s).expect("shape");
            if red * inner * n_out < PAR_GRAIN {
                gemm::matmul_seq(out, kernel.view(), e, 1.0);
            } else {
                gemm::matmul_par(out, kernel.view(), e, 1.0, false);
            }
        }
    } else {
        sums.par_chunks_mut(n_out * inner)
            .zip(shifted.par_chunks(red * inner))
            .with_min_len(grain)
            .for_each(|(s, e)| {
                let e = ArrayView2::from_shape((red, inner), e).expect("shape");
                let out = ndarray::ArrayViewMut2::from_shape((n_out, inner), s).expect("shape");
                gemm::matmul_seq(out, kernel.view(), e, 1.0);
            });
    }
    sums.par_chunks_mut(n_out * inner)
        .enumerate()
        .with_min_len(grain)
        .for_each(|(o, s)| {
            let m = &maxima[o * inner..(o + 1) * inner];
            let xo = &x[o * red * inner..(o + 1) * red * inner];
            for (i, si) in s.chunks_mut(inner).enumerate() {
                for (t, v) in si.iter_mut().enumerate() {
                    *v = if m[t] == f64::NEG_INFINITY {
                        f64::NEG_INFINITY
                    } else if *v > TINY_SUM && v.is_finite() {
                        m[t] + v.ln()
                    } else {
                        log_sum_exp((0..red).map(|j| xo[j * inner + t] + mat[[i, j]]))
                    };
                }
            }
        });
    sums
}

impl Geometry for Grid {
    fn shape(&self) -> (usize, usize) {
        (self.dims_x.iter().product(), self.dims_y.iter().product())
    }

    fn summary(&self) -> CostSummary {
        self.summary
    }

    fn softmin_batch(&self, sweep: &Sweep<'_>, mut out: ArrayViewMut2<'_, f64>) -> Result<()> {
        check_sweep(self.shape(), sweep, &out)?;
        let kernels = self.log_kernels(sweep.axis, sweep.epsilon, None);
        for (h, mut o) in sweep.h.outer_iter().zip(out.outer_iter_mut()) {
            let lse = kernels.nested_lse(h.to_vec());
            for (o, l) in o.iter_mut().zip(lse) {
                *o = -sweep.epsilon * l;
            }
        }
        Ok(())
    }

    fn apply_plan(
        &self,
        axis: Axis,
        plan: &LogPlan<'_>,
        v: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_plan(plan, self.shape())?;
        check_apply(self.shape(), axis, &v, &out)?;
        let (log_out, log_red) = match axis {
            Axis::Rows => (plan.log_row, plan.log_col),
            Axis::Cols => (plan.log_col, plan.log_row),
        };
        self.apply_log_kernel(axis, plan.epsilon, log_out, log_red, v, out);
        Ok(())
    }

    fn apply_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_apply(self.shape(), axis, &v, &out)?;
        let (out_dims, red_dims) = match axis {
            Axis::Rows => (&self.dims_x, &self.dims_y),
            Axis::Cols => (&self.dims_y, &self.dims_x),
        };
        let out_strides = strides(out_dims);
        for (c, vc) in v.columns().into_iter().enumerate() {
            let margins = Grid::marginals(red_dims, vc);
            let per_axis: Vec<Array1<f64>> = margins
                .iter()
                .enumerate()
                .map(|(d, s)| self.oriented(axis, d).dot(s))
                .collect();
            for (i, o) in out.column_mut(c).iter_mut().enumerate() {
                *o = per_axis
                    .iter()
                    .enumerate()
                    .map(|(d, w)| w[(i / out_strides[d]) % out_dims[d]])
                    .sum();
            }
        }
        Ok(())
    }

    fn apply_square_cost(
        &self,
        axis: Axis,
        v: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        // (Σ_d C_d)² = Σ_d C_d² + 2·Σ_{d<e} C_d·C_e: one term per axis, one per pair of axes
        // (through the 2-D marginals of V).
        check_apply(self.shape(), axis, &v, &out)?;
        let (out_dims, red_dims) = match axis {
            Axis::Rows => (&self.dims_x, &self.dims_y),
            Axis::Cols => (&self.dims_y, &self.dims_x),
        };
        let (out_strides, red_strides) = (strides(out_dims), strides(red_dims));
        let dims = out_dims.len();
        let unit = |d: usize, i: usize, s: &[usize], n: &[usize]| (i / s[d]) % n[d];
        for (c, vc) in v.columns().into_iter().enumerate() {
            let margins = Grid::marginals(red_dims, vc);
            let singles: Vec<Array1<f64>> = margins
                .iter()
                .enumerate()
                .map(|(d, s)| self.oriented(axis, d).mapv(|x| x * x).dot(s))
                .collect();
            let mut pairs = Vec::new();
            for d in 0..dims {
                for e in d + 1..dims {
                    let mut joint = Array2::<f64>::zeros((red_dims[d], red_dims[e]));
                    for (j, &x) in vc.iter().enumerate() {
                        joint[[
                            unit(d, j, &red_strides, red_dims),
                            unit(e, j, &red_strides, red_dims),
                        ]] += x;
                    }
                    let cd = self.oriented(axis, d);
                    let ce = self.oriented(axis, e);
                    pairs.push((d, e, cd.dot(&joint).dot(&ce.t())));
                }
            }
            for (i, o) in out.column_mut(c).iter_mut().enumerate() {
                let mut total = 0.0;
                for (d, w) in singles.iter().enumerate() {
                    total += w[unit(d, i, &out_strides, out_dims)];
                }
                for (d, e, w) in &pairs {
                    total += 2.0
                        * w[[
                            unit(*d, i, &out_strides, out_dims),
                            unit(*e, i, &out_strides, out_dims),
                        ]];
                }
                *o = total;
            }
        }
        Ok(())
    }

    fn plan_dot_cost(&self, plan: &LogPlan<'_>) -> Result<f64> {
        // Σ_ij P_ij·Σ_d C_d = Σ_d Σ_i exp(u_i + LSE_j(v_j − C_ij/ε + log C_d)).
        check_plan(plan, self.shape())?;
        let mut terms = Vec::new();
        for d in 0..self.axis_costs.len() {
            let lse = self
                .log_kernels(Axis::Rows, plan.epsilon, Some(d))
                .nested_lse(plan.log_col.to_vec());
            terms.extend(
                plan.log_row
                    .iter()
                    .zip(lse)
                    .map(|(&u, l)| exp_or_zero(u + l)),
            );
        }
        Ok(compensated_sum(terms.into_iter()))
    }

    fn cost_matrix(&self, limit_bytes: usize) -> Result<Array2<f64>> {
        let (n, m) = self.shape();
        validate::matrix_bytes(
            "grid cost matrix",
            n,
            m,
            limit_bytes,
            "a Grid sweeps its cost axis by axis; materialize only small grids",
        )?;
        let rows: Vec<usize> = (0..n).collect();
        let cols: Vec<usize> = (0..m).collect();
        let mut out = Array2::zeros((n, m));
        self.cost_block(&rows, &cols, out.view_mut())?;
        Ok(out)
    }

    fn cost_block(
        &self,
        rows: &[usize],
        cols: &[usize],
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_block(self.shape(), rows, cols, &out)?;
        let (sx, sy) = (strides(&self.dims_x), strides(&self.dims_y));
        out.axis_iter_mut(NdAxis(0))
            .into_par_iter()
            .zip(rows.par_iter())
            .for_each(|(mut row, &i)| {
                let ix: Vec<usize> = (0..sx.len())
                    .map(|d| (i / sx[d]) % self.dims_x[d])
                    .collect();
                for (o, &j) in row.iter_mut().zip(cols) {
                    *o = self
                        .axis_costs
                        .iter()
                        .enumerate()
                        .map(|(d, c)| c[[ix[d], (j / sy[d]) % self.dims_y[d]]])
                        .sum();
                }
            });
        Ok(())
    }

    fn plan_matrix(&self, plan: &LogPlan<'_>, limit_bytes: usize) -> Result<Array2<f64>> {
        check_plan(plan, self.shape())?;
        let mut p = self.cost_matrix(limit_bytes)?;
        let eps = plan.epsilon;
        for ((i, j), x) in p.indexed_iter_mut() {
            *x = exp_or_zero(plan.log_row[i] + plan.log_col[j] - *x / eps);
        }
        Ok(p)
    }
}
