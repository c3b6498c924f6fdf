//! What low-rank mirror descent minimizes: a smooth function of the factors `(Q, R, g)` of
//! `P = Q·diag(1/g)·Rᵀ`, given by its gradient in the form the mirror step uses. The
//! linear cost `⟨C, P⟩` is low-rank OT (Scetbon, Cuturi, Peyré 2021); the square-loss GW
//! objective is low-rank GW (Scetbon, Peyré, Cuturi 2022, in `crate::quadratic`).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::error::Result;
use crate::geometry::{Axis, Geometry};

/// The marginals of the problem: weights, and the KL penalty `ρ` of each relaxed side
/// (`None`: a hard constraint).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marginals<'a> {
    pub a: ArrayView1<'a, f64>,
    pub b: ArrayView1<'a, f64>,
    pub rho_a: Option<f64>,
    pub rho_b: Option<f64>,
}

/// The parts of a gradient besides `G_Q`, `G_R` (see [`Objective::gradient`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct GradientTerms {
    /// `u_Q` in `∇_Q = G_Q·diag(1/g) + u_Q·1ᵀ` (`None`: zero).
    pub rows_q: Option<Array1<f64>>,
    /// `u_R` in `∇_R = G_R·diag(1/g) + u_R·1ᵀ` (`None`: zero).
    pub rows_r: Option<Array1<f64>>,
    /// `s` in `∇_g = −diag(Qᵀ·G_Q)/g² + s·1`.
    pub shift_g: f64,
}

/// A smooth objective `F(Q, R, g)` for low-rank mirror descent. Its gradient has the shape
/// of one through the plan, `∇_Q = ∇_P F·R·diag(1/g)`, `∇_R = (∇_P F)ᵀ·Q·diag(1/g)`,
/// `∇_g = −diag(Qᵀ·∇_P F·R)/g²`, plus the row and constant terms of [`GradientTerms`].
pub(crate) trait Objective {
    /// The solver's name in errors.
    fn name(&self) -> &'static str;

    /// Whether the stopping criterion divides the iterates' change by `γ²` (OTT-JAX's and
    /// POT's low-rank GW: a step made tiny by a large gradient is then not taken for
    /// convergence); low-rank OT does not (OTT-JAX's `LRSinkhorn`).
    fn error_per_step(&self) -> bool {
        false
    }

    /// The two point clouds, for starts that cluster them (`None` if there are none).
    fn points(&self) -> Option<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> {
        None
    }

    /// Writes `G_Q = ∇_P F·R` into `gq` (`n × r`) and `G_R = (∇_P F)ᵀ·Q` into `gr`
    /// (`m × r`), and returns the other terms.
    fn gradient(
        &mut self,
        q: &Array2<f64>,
        r: &Array2<f64>,
        g: &Array1<f64>,
        gq: &mut Array2<f64>,
        gr: &mut Array2<f64>,
    ) -> Result<GradientTerms>;

    /// `F(Q, R, g)` (without the entropy and the marginal penalties).
    fn value(&mut self, q: &Array2<f64>, r: &Array2<f64>, g: &Array1<f64>) -> Result<f64>;
}

/// `F = ⟨C, P⟩`: `∇_P F = C`, so `G_Q = C·R`, `G_R = Cᵀ·Q`.
#[derive(Debug)]
pub(crate) struct LinearCost<'g> {
    pub geom: &'g dyn Geometry,
}

impl Objective for LinearCost<'_> {
    fn name(&self) -> &'static str {
        "low-rank sinkhorn"
    }

    fn points(&self) -> Option<(ArrayView2<'_, f64>, ArrayView2<'_, f64>)> {
        self.geom.points()
    }

    fn gradient(
        &mut self,
        q: &Array2<f64>,
        r: &Array2<f64>,
        _g: &Array1<f64>,
        gq: &mut Array2<f64>,
        gr: &mut Array2<f64>,
    ) -> Result<GradientTerms> {
        self.geom.apply_cost(Axis::Rows, r.view(), gq.view_mut())?;
        self.geom.apply_cost(Axis::Cols, q.view(), gr.view_mut())?;
        Ok(GradientTerms::default())
    }

    fn value(&mut self, q: &Array2<f64>, r: &Array2<f64>, g: &Array1<f64>) -> Result<f64> {
        plan_dot(self.geom, q, r, g)
    }
}

/// `⟨C, Q·diag(1/g)·Rᵀ⟩ = Σ_k (Qᵀ·C·R)_kk / g_k`, by one product with the cost.
pub(crate) fn plan_dot(
    geom: &dyn Geometry,
    q: &Array2<f64>,
    r: &Array2<f64>,
    g: &Array1<f64>,
) -> Result<f64> {
    let mut cr = Array2::zeros(q.raw_dim());
    geom.apply_cost(Axis::Rows, r.view(), cr.view_mut())?;
    Ok(((q * &cr).sum_axis(ndarray::Axis(0)) / g).sum())
}
