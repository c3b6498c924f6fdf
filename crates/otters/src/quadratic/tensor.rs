//! The linearization `L⊗P` of a GW objective in two matrix products (Peyré, Cuturi, Solomon
//! 2016, Prop. 1): for `L(c, c') = f₁(c) + f₂(c') − h₁(c)·h₂(c')` and `P ∈ Π(a, b)`,
//! `(L⊗P)_ij = (f₁(Cx)·a)_i + (f₂(Cy)·b)_j − (h₁(Cx)·P·h₂(Cy)ᵀ)_ij`.
//!
//! `h₁` is the identity for both losses, so `Cx·X` is the source geometry's own
//! [`apply_cost`](Geometry::apply_cost) (a parallel GEMM on a stored cost, factored products
//! on a squared-Euclidean point cloud); `h₂(Cy)` is `2·Cy` (square loss, the target
//! geometry again) or `log Cy` (KL loss, materialized once).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis, Zip};

use super::problem::{GwLoss, QuadraticProblem};
use crate::error::{Error, Index, Result};
use crate::geometry::{Axis, Geometry};
use crate::kernels::gemm;

/// POT's guard inside the logarithms of the KL loss (`log(c + 1e-18)`), so that zero costs
/// (the diagonal of a distance matrix) are allowed.
const KL_GUARD: f64 = 1e-18;

/// An entry-wise function of a cost.
type Map = fn(f64) -> f64;

/// How `X·h₂(Cy)ᵀ` is formed.
#[derive(Debug)]
enum TargetFactor<'p> {
    /// `factor·Cy`, through the geometry.
    Cost(&'p dyn Geometry, f64),
    /// A stored matrix.
    Dense(Array2<f64>),
}

/// `H(P) = h₁(Cx)·P·h₂(Cy)ᵀ` and, for asymmetric costs, `Hᵀ(P) = h₁(Cx)ᵀ·P·h₂(Cy)`.
#[derive(Debug, Clone)]
pub(crate) struct Products {
    pub h: Array2<f64>,
    /// `None` when both costs are symmetric (then `Hᵀ = H`).
    pub ht: Option<Array2<f64>>,
}

impl Products {
    /// `self += step·other`.
    pub fn add_scaled(&mut self, step: f64, other: &Products) {
        self.h.scaled_add(step, &other.h);
        if let (Some(a), Some(b)) = (&mut self.ht, &other.ht) {
            a.scaled_add(step, b);
        }
    }

    fn ht(&self) -> &Array2<f64> {
        self.ht.as_ref().unwrap_or(&self.h)
    }
}

/// Everything needed to evaluate a GW objective, its gradient and its exact line search.
#[derive(Debug)]
pub(crate) struct GwTensor<'p> {
    cx: &'p dyn Geometry,
    target: TargetFactor<'p>,
    /// `f₁(Cx)·a` and `f₂(Cy)·b`.
    row: Array1<f64>,
    col: Array1<f64>,
    /// The same for the transposed costs, when they differ.
    transposed: Option<(Array1<f64>, Array1<f64>)>,
}

impl<'p> GwTensor<'p> {
    /// Precomputes the constant terms; the two costs are materialized once (refused above
    /// `memory_limit` bytes each) to apply `f₁`, `f₂`.
    pub fn new(problem: &QuadraticProblem<'p>, memory_limit: usize) -> Result<Self> {
        let (cx, cy) = (problem.geom_xx(), problem.geom_yy());
        let cx_mat = cx.cost_matrix(memory_limit)?;
        let cy_mat = cy.cost_matrix(memory_limit)?;
        finite("geom_xx", &cx_mat)?;
        finite("geom_yy", &cy_mat)?;
        let loss = problem.loss();
        if loss == GwLoss::Kl {
            non_negative("geom_xx", &cx_mat)?;
            non_negative("geom_yy", &cy_mat)?;
        }
        let (f1, f2): (Map, Map) = match loss {
            GwLoss::Square => (|c| c * c, |c| c * c),
            GwLoss::Kl => (|c| c * (c + KL_GUARD).ln() - c, |c| c),
        };
        let (a, b) = (problem.a(), problem.b());
        let row = mapped_dot(&cx_mat.view(), f1, a);
        let col = mapped_dot(&cy_mat.view(), f2, b);
        let symmetric = is_symmetric(&cx_mat) && is_symmetric(&cy_mat);
        let transposed = (!symmetric).then(|| {
            (
                mapped_dot(&cx_mat.t(), f1, a),
                mapped_dot(&cy_mat.t(), f2, b),
            )
        });
        let target = match loss {
            GwLoss::Square => TargetFactor::Cost(cy, 2.0),
            GwLoss::Kl => TargetFactor::Dense(cy_mat.mapv(|c| (c + KL_GUARD).ln())),
        };
        Ok(GwTensor {
            cx,
            target,
            row,
            col,
            transposed,
        })
    }

    /// Whether both costs are symmetric (the gradient is then `2·L⊗P`).
    pub fn symmetric(&self) -> bool {
        self.transposed.is_none()
    }

    /// `H(P)` (and `Hᵀ(P)` when asymmetric): two products each.
    pub fn products(&self, p: ArrayView2<'_, f64>) -> Result<Products> {
        let h = self.product(p, false)?;
        let ht = if self.symmetric() {
            None
        } else {
            Some(self.product(p, true)?)
        };
        Ok(Products { h, ht })
    }

    /// `Cx·P·h₂ᵀ`, or `Cxᵀ·P·h₂` when `transposed`.
    fn product(&self, p: ArrayView2<'_, f64>, transposed: bool) -> Result<Array2<f64>> {
        let (n, m) = p.dim();
        // W = P·h₂ᵀ (or P·h₂), n × m.
        let mut w = Array2::zeros((n, m));
        match &self.target {
            TargetFactor::Cost(cy, factor) => {
                // (Cy·Pᵀ)ᵀ = P·Cyᵀ and (Cyᵀ·Pᵀ)ᵀ = P·Cy, written through a transposed view.
                let axis = if transposed { Axis::Cols } else { Axis::Rows };
                cy.apply_cost(axis, p.t(), w.view_mut().reversed_axes())?;
                w *= *factor;
            }
            TargetFactor::Dense(h2) => {
                let rhs = if transposed { h2.view() } else { h2.t() };
                gemm::matmul_par(w.view_mut(), p, rhs, 1.0, false);
            }
        }
        let mut out = Array2::zeros((n, m));
        let axis = if transposed { Axis::Cols } else { Axis::Rows };
        self.cx.apply_cost(axis, w.view(), out.view_mut())?;
        Ok(out)
    }

    /// The constant vectors for `L⊗P` (`transposed`: for the transposed costs).
    fn constants(&self, transposed: bool) -> (&Array1<f64>, &Array1<f64>) {
        match (&self.transposed, transposed) {
            (Some((r, c)), true) => (r, c),
            _ => (&self.row, &self.col),
        }
    }

    /// The gradient of `GW` at `P` given its products: `L⊗P + Lᵀ⊗P` (`2·L⊗P` when
    /// symmetric).
    pub fn gradient(&self, prod: &Products) -> Array2<f64> {
        let (r, c) = self.constants(false);
        let (rt, ct) = self.constants(true);
        let mut grad = -(&prod.h + prod.ht());
        Zip::indexed(&mut grad).par_for_each(|(i, j), v| *v += r[i] + c[j] + rt[i] + ct[j]);
        grad
    }

    /// `GW(P) = ⟨L⊗P, P⟩ = ⟨f₁(Cx)a, P1⟩ + ⟨f₂(Cy)b, Pᵀ1⟩ − ⟨H(P), P⟩` (POT's `gwloss`).
    pub fn loss(&self, p: ArrayView2<'_, f64>, prod: &Products) -> f64 {
        let rows = p.sum_axis(NdAxis(1));
        let cols = p.sum_axis(NdAxis(0));
        self.row.dot(&rows) + self.col.dot(&cols) - frobenius_dot(prod.h.view(), p)
    }

    /// The slope at `t = 0` of `t ↦ GW(P + tΔ)`:
    /// `⟨f₁(Cx)a, Δ1⟩ + ⟨f₂(Cy)b, Δᵀ1⟩ − ⟨H(P) + Hᵀ(P), Δ⟩`.
    pub fn slope(&self, delta: ArrayView2<'_, f64>, prod: &Products) -> f64 {
        let rows = delta.sum_axis(NdAxis(1));
        let cols = delta.sum_axis(NdAxis(0));
        self.row.dot(&rows) + self.col.dot(&cols)
            - frobenius_dot(prod.h.view(), delta)
            - frobenius_dot(prod.ht().view(), delta)
    }
}

/// `Σ_ij x_ij·y_ij`, in parallel over rows and summed in row order.
pub(crate) fn frobenius_dot(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> f64 {
    let per_row: Vec<f64> = {
        let mut v = vec![0.0; x.nrows()];
        Zip::from(&mut v[..])
            .and(x.rows())
            .and(y.rows())
            .par_for_each(|s, xr, yr| *s = xr.dot(&yr));
        v
    };
    per_row.iter().sum()
}

/// `Σ_k f(C_ik)·w_k` for every row `i`.
fn mapped_dot(c: &ArrayView2<'_, f64>, f: Map, w: ArrayView1<'_, f64>) -> Array1<f64> {
    let mut out = Array1::zeros(c.nrows());
    Zip::from(&mut out)
        .and(c.rows())
        .par_for_each(|o, row| *o = row.iter().zip(w).map(|(&c, &w)| f(c) * w).sum());
    out
}

/// NumPy's `allclose(C, Cᵀ, atol=1e-10)` (POT's test for symmetric costs).
fn is_symmetric(c: &Array2<f64>) -> bool {
    c.is_square()
        && Zip::from(c)
            .and(c.t())
            .all(|&x, &y| (x - y).abs() <= 1e-10 + 1e-5 * y.abs())
}

fn non_negative(arg: &'static str, c: &Array2<f64>) -> Result<()> {
    match c.indexed_iter().find(|(_, v)| v.is_nan() || **v < 0.0) {
        Some(((i, j), &value)) => Err(Error::InvalidParameter {
            arg,
            requirement: "non-negative costs for the KL loss",
            value: format!("{value} at [{i}, {j}]"),
        }),
        None => Ok(()),
    }
}

fn finite(arg: &'static str, c: &Array2<f64>) -> Result<()> {
    match c.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), &value)) => Err(Error::NonFinite {
            arg,
            index: Index::Matrix(i, j),
            value,
        }),
        None => Ok(()),
    }
}
