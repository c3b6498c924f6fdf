//! Optimal transport on the line (ALGORITHMS.md L2): for a convex cost `|x − y|^p`
//! (p ≥ 1) the monotone (north-west corner) coupling of the sorted supports is optimal, and
//! `W_p^p = ∫₀¹ |F⁻¹(t) − G⁻¹(t)|^p dt` is computed by merging the two cumulative weight
//! sequences: O((n + m) log(n + m)), the plan has at most n + m − 1 entries.

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::sparse_plan::SparsePlan;
use crate::error::{Error, Index, Result};
use crate::linear::MASS_TOLERANCE;
use crate::validate;

/// Sizes above which sorting runs in parallel.
const PARALLEL_SORT: usize = 1 << 15;

/// The result of [`ot_1d`].
#[derive(Debug, Clone)]
pub struct OneDimensionalOutput {
    /// `W_p^p = Σ P_ij |x_i − y_j|^p`.
    pub cost: f64,
    /// The monotone plan, in the original sample order.
    pub plan: SparsePlan,
}

/// Checks 1-D samples and optional weights; returns the weights' mass (the count when absent).
pub(crate) fn check_side(
    arg_x: &'static str,
    x: ArrayView1<'_, f64>,
    arg_w: &'static str,
    w: Option<ArrayView1<'_, f64>>,
) -> Result<f64> {
    if x.is_empty() {
        return Err(Error::Empty {
            arg: arg_x,
            what: "sample",
        });
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            arg: arg_x,
            index: Index::Vector(i),
            value: x[i],
        });
    }
    match w {
        None => Ok(x.len() as f64),
        Some(w) if w.len() != x.len() => Err(Error::Shape {
            arg: arg_w,
            expected: format!("length {} (as {arg_x})", x.len()),
            got: format!("length {}", w.len()),
        }),
        Some(w) => validate::weights(arg_w, w),
    }
}

pub(crate) fn check_p(p: f64) -> Result<f64> {
    if p.is_finite() && p >= 1.0 {
        Ok(p)
    } else {
        Err(Error::invalid(
            "p",
            "the exponent must be finite and >= 1 (|x - y|^p must be convex)",
            p,
        ))
    }
}

/// Normalized cumulative weights of the sorted samples: `cum[k]` = mass of the `k + 1`
/// smallest samples, divided by the total mass (uniform weights are exact `(k+1)/n`).
fn cumulative(order: &[(f64, usize)], w: Option<ArrayView1<'_, f64>>, mass: f64) -> Vec<f64> {
    let n = order.len();
    match w {
        None => (1..=n).map(|k| k as f64 / n as f64).collect(),
        Some(w) => {
            let mut acc = 0.0;
            let mut cum: Vec<f64> = order
                .iter()
                .map(|&(_, i)| {
                    acc += w[i];
                    acc / mass
                })
                .collect();
            // The last breakpoint is exactly 1 so that no mass is left over by rounding.
            cum[n - 1] = 1.0;
            cum
        }
    }
}

pub(crate) fn sorted(x: ArrayView1<'_, f64>) -> Vec<(f64, usize)> {
    let mut order: Vec<(f64, usize)> = x.iter().copied().zip(0..).collect();
    if order.len() >= PARALLEL_SORT {
        order.par_sort_unstable_by(|l, r| l.0.total_cmp(&r.0).then(l.1.cmp(&r.1)));
    } else {
        order.sort_unstable_by(|l, r| l.0.total_cmp(&r.0).then(l.1.cmp(&r.1)));
    }
    order
}

#[inline]
pub(crate) fn ground(d: f64, p: f64) -> f64 {
    let d = d.abs();
    if p == 1.0 {
        d
    } else if p == 2.0 {
        d * d
    } else {
        d.powf(p)
    }
}

/// Walks the monotone coupling: calls `visit(i, j, mass)` with original indices, where
/// `mass` is a fraction of the total mass.
fn north_west(
    xs: &[(f64, usize)],
    ys: &[(f64, usize)],
    ca: &[f64],
    cb: &[f64],
    mut visit: impl FnMut(usize, usize, f64),
) {
    let (mut i, mut j, mut previous) = (0, 0, 0.0);
    while i < xs.len() && j < ys.len() {
        let next = ca[i].min(cb[j]);
        let mass = next - previous;
        if mass > 0.0 {
            visit(i, j, mass);
        }
        previous = next;
        if ca[i] <= next {
            i += 1;
        }
        if cb[j] <= next {
            j += 1;
        }
    }
}

struct Prepared {
    xs: Vec<(f64, usize)>,
    ys: Vec<(f64, usize)>,
    ca: Vec<f64>,
    cb: Vec<f64>,
    mass: f64,
}

fn prepare(
    x: ArrayView1<'_, f64>,
    y: ArrayView1<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
) -> Result<Prepared> {
    let mass_a = check_side("x", x, "a", a)?;
    let mass_b = check_side("y", y, "b", b)?;
    // Without weights, each side is uniform with mass 1.
    let (ma, mb) = (
        if a.is_some() { mass_a } else { 1.0 },
        if b.is_some() { mass_b } else { 1.0 },
    );
    if (ma - mb).abs() > MASS_TOLERANCE * ma.max(mb) {
        return Err(Error::MassMismatch {
            sum_a: ma,
            sum_b: mb,
        });
    }
    let (xs, ys) = (sorted(x), sorted(y));
    let (ca, cb) = (cumulative(&xs, a, mass_a), cumulative(&ys, b, mass_b));
    Ok(Prepared {
        xs,
        ys,
        ca,
        cb,
        mass: ma,
    })
}

/// `W_p^p` between `Σ a_i δ_{x_i}` and `Σ b_j δ_{y_j}` with cost `|x − y|^p`; missing
/// weights are uniform with mass 1.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`] for the samples; the weight errors; [`Error::MassMismatch`]
/// when the masses differ; [`Error::InvalidParameter`] unless `p ≥ 1`.
///
/// # Examples
/// ```
/// use ndarray::array;
/// // Sorted matching: (0→1) and (2→3) cost 1 each, W₁ = 1.
/// let w = otters::linear::wasserstein_1d(array![2.0, 0.0].view(), array![1.0, 3.0].view(), None, None, 1.0)?;
/// assert!((w - 1.0).abs() < 1e-15);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn wasserstein_1d(
    x: ArrayView1<'_, f64>,
    y: ArrayView1<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    p: f64,
) -> Result<f64> {
    let p = check_p(p)?;
    let prep = prepare(x, y, a, b)?;
    let mut cost = 0.0;
    north_west(&prep.xs, &prep.ys, &prep.ca, &prep.cb, |i, j, mass| {
        cost += mass * ground(prep.xs[i].0 - prep.ys[j].0, p);
    });
    Ok(cost * prep.mass)
}

/// [`wasserstein_1d`] with the optimal (monotone) plan.
///
/// # Errors
/// As [`wasserstein_1d`].
pub fn ot_1d(
    x: ArrayView1<'_, f64>,
    y: ArrayView1<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    p: f64,
) -> Result<OneDimensionalOutput> {
    let p = check_p(p)?;
    let prep = prepare(x, y, a, b)?;
    let (mut cost, mut entries) = (0.0, Vec::with_capacity(x.len() + y.len()));
    north_west(&prep.xs, &prep.ys, &prep.ca, &prep.cb, |i, j, mass| {
        let (xi, yj) = (prep.xs[i], prep.ys[j]);
        cost += mass * ground(xi.0 - yj.0, p);
        entries.push((xi.1, yj.1, mass * prep.mass));
    });
    Ok(OneDimensionalOutput {
        cost: cost * prep.mass,
        plan: SparsePlan::from_triplets((x.len(), y.len()), entries),
    })
}

/// Exact dual potentials `(f, g)` of 1-D OT with cost `|x − y|^p`: `f_i + g_j ≤ |x_i − y_j|^p`
/// for every pair, with equality on the monotone plan, so that `⟨a, f⟩ + ⟨b, g⟩ = W_p^p`
/// (weights normalized as in [`wasserstein_1d`]).
///
/// The potentials are read off the north-west corner basis of the sorted supports: walking
/// the staircase one index at a time (down when the current source point's cumulative weight
/// is used up, including ties and zero weights, right otherwise) visits `n + m − 1` cells
/// that span every point, and on a Monge cost (every convex `|x − y|^p` on the line) this
/// basis is optimal, so the potentials it defines are feasible. O((n + m) log(n + m)).
///
/// # Errors
/// As [`wasserstein_1d`].
pub fn ot_1d_potentials(
    x: ArrayView1<'_, f64>,
    y: ArrayView1<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    p: f64,
) -> Result<(Array1<f64>, Array1<f64>)> {
    let p = check_p(p)?;
    let prep = prepare(x, y, a, b)?;
    let (xs, ys) = (&prep.xs, &prep.ys);
    let cost = |i: usize, j: usize| ground(xs[i].0 - ys[j].0, p);
    let (mut f, mut g) = (Array1::zeros(xs.len()), Array1::zeros(ys.len()));
    let (mut i, mut j) = (0, 0);
    let (mut fi, mut gj) = (0.0, cost(0, 0));
    g[ys[0].1] = gj;
    while i + 1 < xs.len() || j + 1 < ys.len() {
        let down = j + 1 == ys.len() || (i + 1 < xs.len() && prep.ca[i] <= prep.cb[j]);
        if down {
            i += 1;
            fi = cost(i, j) - gj;
            f[xs[i].1] = fi;
        } else {
            j += 1;
            gj = cost(i, j) - fi;
            g[ys[j].1] = gj;
        }
    }
    Ok((f, g))
}

/// `W_p^p` for every column pair: `x` is `n × k`, `y` is `m × k`, and column `c` of each is
/// one 1-D sample; the weights are shared by all columns. Columns are solved in parallel.
///
/// # Errors
/// As [`wasserstein_1d`], plus [`Error::Shape`] when the column counts differ.
pub fn wasserstein_1d_batch(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    a: Option<ArrayView1<'_, f64>>,
    b: Option<ArrayView1<'_, f64>>,
    p: f64,
) -> Result<Array1<f64>> {
    if x.ncols() != y.ncols() {
        return Err(Error::Shape {
            arg: "y",
            expected: format!("{} columns (as x)", x.ncols()),
            got: format!("{} columns", y.ncols()),
        });
    }
    let values: Result<Vec<f64>> = (0..x.ncols())
        .into_par_iter()
        .map(|c| wasserstein_1d(x.column(c), y.column(c), a, b, p))
        .collect();
    Ok(Array1::from(values?))
}
