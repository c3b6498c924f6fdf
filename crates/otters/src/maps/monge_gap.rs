//! The Monge gap of a map given by its samples (Uscidda & Cuturi 2023, *The Monge gap: a
//! regularizer to learn all transport maps*, Eq. 8; OTT-JAX's `monge_gap_from_samples`),
//! ALGORITHMS.md M2:
//! `M(T) = (1/n)·Σ_i c(x_i, T(x_i)) − W_{c,ε}(ρ_n, T♯ρ_n)`, with `ρ_n` uniform on the `x_i`.
//!
//! `W_{c,ε}` follows OTT's `ent_reg_cost`: `min_P ⟨C, P⟩ − ε·H(P)` over the couplings of the
//! two uniform measures, `H(P) = −Σ P_ij log P_ij`, i.e. the KL-convention
//! [`reg_ot_cost`](crate::linear::SinkhornOutput::reg_ot_cost) minus `ε·(H(a) + H(b)) = 2ε·log n`.
//! The plan `diag(1/n)` pairing `x_i` with `T(x_i)` is feasible, so `M(T) ≥ ε·log n`; for an
//! optimal map (`T = ∇φ`, φ convex, at the squared Euclidean cost) `M(T) ≤ 2ε·log n`.
//! The gradient in the mapped points is `(1/n)·∇_y c(x_i, T_i) − Σ_k P_ki ∇_y c(x_k, T_i)`
//! (envelope theorem for the second term).

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{CostFn, PointCloud};
use crate::linear::{LinearProblem, Sinkhorn, SinkhornOutput};

/// The value of the Monge gap, its parts and its gradient, from [`monge_gap_from_samples`].
#[derive(Debug, Clone)]
pub struct MongeGap {
    /// `M(T)`.
    pub value: f64,
    /// `(1/n)·Σ_i c(x_i, T(x_i))`.
    pub displacement_cost: f64,
    /// `W_{c,ε}(ρ_n, T♯ρ_n)` in OTT's `ent_reg_cost` convention (see the module docs).
    pub ent_reg_cost: f64,
    /// `∂M/∂T(x_i)`, an `n × d` array.
    pub gradient: Array2<f64>,
    /// The Sinkhorn solve behind `W_{c,ε}` (its `converged` flag applies to the gap).
    pub output: SinkhornOutput,
}

/// The Monge gap of the map sending `source[i]` to `target[i]` (both `n × d`), its gradient
/// with respect to the `target` points, and the Sinkhorn output, at the ε of `solver`
/// (OTT's default is `Epsilon::RelativeToStd(0.05)`, also `Sinkhorn`'s). The cost is used
/// unscaled.
///
/// # Errors
/// [`Error::Shape`] naming `target` unless it has the shape of `source`; the point errors of
/// [`PointCloud::new`] (naming `x` for `source`, `y` for `target`); [`Error::InvalidParameter`]
/// naming `cost_fn` for a cost without gradient; the errors of [`Sinkhorn::solve`].
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::SqEuclidean;
/// use otters::linear::{Epsilon, Sinkhorn};
/// use otters::maps::monge_gap_from_samples;
///
/// let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let solver = Sinkhorn::new(Epsilon::Absolute(0.01));
/// // A translation is an optimal map: the gap is only the entropic bias, in [ε·log n, 2ε·log n].
/// let gap = monge_gap_from_samples(x.view(), (&x + 0.3).view(), SqEuclidean, &solver)?;
/// let bias = 0.01 * 4f64.ln();
/// assert!(gap.value > bias - 1e-6 && gap.value < 2.0 * bias + 1e-6);
/// // Swapping two images breaks monotonicity: a clearly positive gap.
/// let swapped = array![[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]];
/// let gap = monge_gap_from_samples(x.view(), swapped.view(), SqEuclidean, &solver)?;
/// assert!(gap.value > 0.5);
/// # Ok::<(), otters::Error>(())
/// ```
pub fn monge_gap_from_samples<C: CostFn>(
    source: ArrayView2<'_, f64>,
    target: ArrayView2<'_, f64>,
    cost_fn: C,
    solver: &Sinkhorn,
) -> Result<MongeGap> {
    if source.dim() != target.dim() {
        return Err(Error::Shape {
            arg: "target",
            expected: format!(
                "{} x {} (the shape of source: one image per source point)",
                source.nrows(),
                source.ncols()
            ),
            got: format!("{} x {}", target.nrows(), target.ncols()),
        });
    }
    let cloud = PointCloud::new(source, target, cost_fn.clone())?;
    let problem = LinearProblem::uniform(&cloud)?;
    let output = solver.solve(&problem)?;
    let n = source.nrows();
    let inv = 1.0 / n as f64;
    let (x, y) = (cloud.x(), cloud.y());
    let mut displacement = 0.0;
    let mut gradient = -output.grad_y(&cloud)?;
    for ((xi, yi), mut gi) in x
        .outer_iter()
        .zip(y.outer_iter())
        .zip(gradient.outer_iter_mut())
    {
        let (xi, yi) = (
            xi.as_slice().expect("standard layout"),
            yi.as_slice().expect("standard layout"),
        );
        displacement += cost_fn.cost(xi, yi);
        let ok = cost_fn.add_grad_y(xi, yi, inv, gi.as_slice_mut().expect("standard layout"));
        if !ok {
            return Err(Error::invalid(
                "cost_fn",
                "the Monge gap gradient needs a cost with a gradient",
                format!("{cost_fn:?}"),
            ));
        }
    }
    let displacement_cost = displacement * inv;
    let ent_reg_cost = output.reg_ot_cost() - 2.0 * output.epsilon() * (n as f64).ln();
    Ok(MongeGap {
        value: displacement_cost - ent_reg_cost,
        displacement_cost,
        ent_reg_cost,
        gradient,
        output,
    })
}
