//! The linearization `L⊗P` of a GW objective in two matrix products (Peyré, Cuturi, Solomon
//! 2016, Prop. 1): for `L(c, c') = f₁(c) + f₂(c') − h₁(c)·h₂(c')` and `P ∈ Π(a, b)`,
//! `(L⊗P)_ij = (f₁(Cx)·a)_i + (f₂(Cy)·b)_j − (h₁(Cx)·P·h₂(Cy)ᵀ)_ij`.
//!
//! `h₁` is the identity for both losses, so `Cx·X` is the source geometry's own
//! [`apply_cost`](Geometry::apply_cost) (a parallel GEMM on a stored cost, factored products
//! on a squared-Euclidean point cloud); `h₂(Cy)` is `2·Cy` (square loss, the target
//! geometry again) or `log Cy` (KL loss, materialized once).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis as NdAxis, Zip};
use rayon::prelude::*;

use super::problem::{GwLoss, QuadraticProblem};
use crate::error::{Error, Result};
use crate::geometry::{Axis, Geometry};
use crate::kernels::gemm;
use crate::linear::SparsePlan;
use crate::validate;

/// POT's guard inside the logarithms of the KL loss (`log(c + 1e-18)`), so that zero costs
/// (the diagonal of a distance matrix) are allowed.
const KL_GUARD: f64 = 1e-18;

/// An entry-wise function of a cost.
type Map = fn(f64) -> f64;

/// A linear operator `K` (an `n × n` or `m × m` cost, or a function of one).
#[derive(Debug)]
enum Operator<'p> {
    /// `factor·C` through the geometry.
    Cost(&'p dyn Geometry, f64),
    /// A stored matrix.
    Dense(Array2<f64>),
    /// `A·Bᵀ`, exact to rounding (see [`super::factor`]).
    Factored(Array2<f64>, Array2<f64>),
}

impl Operator<'_> {
    /// `K·X`, or `Kᵀ·X` when `transposed`.
    fn left(&self, x: ArrayView2<'_, f64>, transposed: bool) -> Result<Array2<f64>> {
        let rows = match self {
            Operator::Cost(g, _) => g.shape().0,
            Operator::Dense(k) => k.nrows(),
            Operator::Factored(a, _) => a.nrows(),
        };
        let mut out = Array2::zeros((rows, x.ncols()));
        match self {
            Operator::Cost(g, factor) => {
                let axis = if transposed { Axis::Cols } else { Axis::Rows };
                g.apply_cost(axis, x, out.view_mut())?;
                if *factor != 1.0 {
                    out *= *factor;
                }
            }
            Operator::Dense(k) => {
                let k = if transposed { k.t() } else { k.view() };
                gemm::matmul_par(out.view_mut(), k, x, 1.0, false);
            }
            Operator::Factored(a, b) => {
                let (a, b) = if transposed { (b, a) } else { (a, b) };
                let mut inner = Array2::zeros((b.ncols(), x.ncols()));
                gemm::matmul_par(inner.view_mut(), b.t(), x, 1.0, false);
                gemm::matmul_par(out.view_mut(), a.view(), inner.view(), 1.0, false);
            }
        }
        Ok(out)
    }

    /// `X·Kᵀ`, or `X·K` when `transposed`: `(K·Xᵀ)ᵀ` and `(Kᵀ·Xᵀ)ᵀ`.
    fn right(&self, x: ArrayView2<'_, f64>, transposed: bool) -> Result<Array2<f64>> {
        Ok(self.left(x.t(), transposed)?.reversed_axes())
    }
}

/// The operator for `Cx` (or `h₂(Cy)`, given as `factor·C` or a materialized matrix):
/// factored when `C` is exactly low rank and factoring is allowed.
fn operator<'p>(
    geom: &'p dyn Geometry,
    matrix: &Array2<f64>,
    factor: f64,
    factorize: bool,
) -> Operator<'p> {
    let max_rank = (matrix.nrows().min(matrix.ncols()) / 8).min(64);
    if factorize
        && max_rank >= 1
        && let Some((a, b)) = super::factor::low_rank(matrix.view(), max_rank)
    {
        return Operator::Factored(a * factor, b);
    }
    Operator::Cost(geom, factor)
}

/// `H(P) = h₁(Cx)·P·h₂(Cy)ᵀ` and, for asymmetric costs, `Hᵀ(P) = h₁(Cx)ᵀ·P·h₂(Cy)`:
/// stored, or (both costs factored, `Cx = Ax·Bxᵀ`, `h₂(Cy) = Ay·Byᵀ`) as the small cores
/// `K = Bxᵀ·P·By` and `Kᵀ = Axᵀ·P·Ay` of `H = Ax·K·Ayᵀ` and `Hᵀ = Bx·Kᵀ·Byᵀ`.
#[derive(Debug, Clone)]
pub(crate) struct Products {
    h: Array2<f64>,
    /// `None` when both costs are symmetric (then `Hᵀ = H`).
    ht: Option<Array2<f64>>,
}

impl Products {
    /// `self += step·other` (all the maps are linear in `P`).
    pub fn add_scaled(&mut self, step: f64, other: &Products) {
        self.h.scaled_add(step, &other.h);
        if let (Some(a), Some(b)) = (&mut self.ht, &other.ht) {
            a.scaled_add(step, b);
        }
    }
}

/// With both costs factored, what the objective needs of a plan `P`: the cores
/// `K = Bxᵀ·P·By` (that of [`Products`]) and `K' = Axᵀ·P·Ay`, and the marginals of `P`.
/// Then `⟨H(Q), P⟩ = ⟨K(Q), K'(P)⟩` and `⟨Hᵀ(Q), P⟩ = ⟨K'(Q), K(P)⟩`, so the loss, slope
/// and curvature of a line search are `r × r` products, all linear in `P`, and the cores
/// of a sparse plan cost `O(nnz·r²)`.
#[derive(Debug, Clone)]
pub(crate) struct Cores {
    k: Array2<f64>,
    k_dual: Array2<f64>,
    rows: Array1<f64>,
    cols: Array1<f64>,
}

impl Cores {
    /// `self − other`.
    pub fn minus(&self, other: &Cores) -> Cores {
        Cores {
            k: &self.k - &other.k,
            k_dual: &self.k_dual - &other.k_dual,
            rows: &self.rows - &other.rows,
            cols: &self.cols - &other.cols,
        }
    }

    /// `self += step·other`.
    pub fn add_scaled(&mut self, step: f64, other: &Cores) {
        self.k.scaled_add(step, &other.k);
        self.k_dual.scaled_add(step, &other.k_dual);
        self.rows.scaled_add(step, &other.rows);
        self.cols.scaled_add(step, &other.cols);
    }
}

/// The factors `(Ax, Bx, Ay, By)` when both operators are factored.
type Factors<'t> = (
    &'t Array2<f64>,
    &'t Array2<f64>,
    &'t Array2<f64>,
    &'t Array2<f64>,
);

/// A tensor with the two costs it materialized and the maps `(f₁, f₂)` of its loss.
type Materialized<'p> = (GwTensor<'p>, Array2<f64>, Array2<f64>, (Map, Map));

/// Everything needed to evaluate a GW objective, its gradient and its exact line search.
#[derive(Debug)]
pub(crate) struct GwTensor<'p> {
    /// `Cx` (`h₁` is the identity for both losses).
    source: Operator<'p>,
    /// `h₂(Cy)`.
    target: Operator<'p>,
    /// `f₁(Cx)·a` and `f₂(Cy)·b`.
    row: Array1<f64>,
    col: Array1<f64>,
    /// The same for the transposed costs, when they differ.
    transposed: Option<(Array1<f64>, Array1<f64>)>,
}

impl<'p> GwTensor<'p> {
    /// Precomputes the constant terms; the two costs are materialized once (refused above
    /// `memory_limit` bytes each) to apply `f₁`, `f₂`, and factored when exactly low rank
    /// and `factorize` allows.
    pub fn new(
        problem: &QuadraticProblem<'p>,
        memory_limit: usize,
        factorize: bool,
    ) -> Result<Self> {
        Ok(Self::build(problem, memory_limit, factorize)?.0)
    }

    /// [`new`](Self::new), also keeping `f₁(Cx)` and `f₂(Cy)` so that `L⊗Q` can be formed
    /// for plans `Q` whose marginals are not `a` and `b` (unbalanced GW).
    pub fn with_marginal_maps(
        problem: &QuadraticProblem<'p>,
        memory_limit: usize,
        factorize: bool,
    ) -> Result<(Self, MarginalMaps)> {
        let (tensor, cx, cy, (f1, f2)) = Self::build(problem, memory_limit, factorize)?;
        let maps = MarginalMaps {
            source: cx.mapv_into(f1),
            target: cy.mapv_into(f2),
        };
        Ok((tensor, maps))
    }

    /// The tensor, the two materialized costs and the maps `f₁`, `f₂`.
    fn build(
        problem: &QuadraticProblem<'p>,
        memory_limit: usize,
        factorize: bool,
    ) -> Result<Materialized<'p>> {
        let (cx, cy) = (problem.geom_xx(), problem.geom_yy());
        let cx_mat = cx.cost_matrix(memory_limit)?;
        let cy_mat = cy.cost_matrix(memory_limit)?;
        let loss = problem.loss();
        let (f1, f2): (Map, Map) = match loss {
            GwLoss::Square => (|c| c * c, |c| c * c),
            GwLoss::Kl => (|c| c * (c + KL_GUARD).ln() - c, |c| c),
        };
        let (a, b) = (problem.a(), problem.b());
        let row = loss_dot(loss, f1, &cx_mat, a, false);
        let col = loss_dot(loss, f2, &cy_mat, b, false);
        // A NaN or infinite cost makes its constants non-finite (f(±∞)·w and f(c)·0 are
        // not finite either): only then is the cost searched for the entry to report.
        if !row.iter().all(|v| v.is_finite()) {
            validate::finite_matrix("geom_xx", cx_mat.view())?;
        }
        if !col.iter().all(|v| v.is_finite()) {
            validate::finite_matrix("geom_yy", cy_mat.view())?;
        }
        if loss == GwLoss::Kl {
            non_negative("geom_xx", &cx_mat)?;
            non_negative("geom_yy", &cy_mat)?;
        }
        let symmetric = is_symmetric(&cx_mat) && is_symmetric(&cy_mat);
        let transposed = (!symmetric).then(|| {
            (
                loss_dot(loss, f1, &cx_mat, a, true),
                loss_dot(loss, f2, &cy_mat, b, true),
            )
        });
        let source = operator(cx, &cx_mat, 1.0, factorize);
        let target = match loss {
            GwLoss::Square => operator(cy, &cy_mat, 2.0, factorize),
            GwLoss::Kl => Operator::Dense(cy_mat.mapv(|c| (c + KL_GUARD).ln())),
        };
        let tensor = GwTensor {
            source,
            target,
            row,
            col,
            transposed,
        };
        Ok((tensor, cx_mat, cy_mat, (f1, f2)))
    }

    /// Whether both costs are symmetric (the gradient is then `2·L⊗P`).
    pub fn symmetric(&self) -> bool {
        self.transposed.is_none()
    }

    fn factors(&self) -> Option<Factors<'_>> {
        match (&self.source, &self.target) {
            (Operator::Factored(ax, bx), Operator::Factored(ay, by)) => Some((ax, bx, ay, by)),
            _ => None,
        }
    }

    /// `H(P)` (and `Hᵀ(P)` when asymmetric): `O(nm·rank)` with factored costs, two
    /// products each otherwise.
    pub fn products(&self, p: ArrayView2<'_, f64>) -> Result<Products> {
        let one = |transposed: bool| -> Result<Array2<f64>> {
            match self.factors() {
                Some((ax, bx, ay, by)) => {
                    let (left, right) = if transposed { (ax, ay) } else { (bx, by) };
                    Ok(core(left.view(), p, right.view()))
                }
                None => {
                    let w = self.target.right(p, transposed)?;
                    self.source.left(w.view(), transposed)
                }
            }
        };
        let h = one(false)?;
        let ht = if self.symmetric() {
            None
        } else {
            Some(one(true)?)
        };
        Ok(Products { h, ht })
    }

    /// `(h₁(Cx)·a, h₂(Cy)·b)`: `H(a·bᵀ)` is their outer product, so from the product plan
    /// the linearized cost is `rows_i + cols_j − w·x_i·y_j` (symmetric costs).
    pub fn product_plan_factors(
        &self,
        a: ArrayView1<'_, f64>,
        b: ArrayView1<'_, f64>,
    ) -> Result<(Array1<f64>, Array1<f64>)> {
        let column = |w: ArrayView1<'_, f64>| w.to_owned().insert_axis(NdAxis(1));
        let x = self.source.left(column(a).view(), false)?;
        let y = self.target.left(column(b).view(), false)?;
        Ok((x.column(0).to_owned(), y.column(0).to_owned()))
    }

    /// The [`Cores`] of a dense plan, or `None` unless both costs are factored.
    pub fn cores(&self, p: ArrayView2<'_, f64>) -> Option<Cores> {
        let (ax, bx, ay, by) = self.factors()?;
        Some(Cores {
            k: core(bx.view(), p, by.view()),
            k_dual: core(ax.view(), p, ay.view()),
            rows: p.sum_axis(NdAxis(1)),
            cols: p.sum_axis(NdAxis(0)),
        })
    }

    /// The [`Cores`] of a sparse plan (`O(nnz·r²)`), or `None` unless both costs are
    /// factored.
    pub fn sparse_cores(&self, p: &SparsePlan) -> Option<Cores> {
        let (ax, bx, ay, by) = self.factors()?;
        let outer = |l: &Array2<f64>, r: &Array2<f64>| {
            let mut k = Array2::zeros((l.ncols(), r.ncols()));
            for (i, j, v) in p.iter() {
                let (li, rj) = (l.row(i), r.row(j));
                for (mut row, &lv) in k.rows_mut().into_iter().zip(&li) {
                    row.scaled_add(v * lv, &rj);
                }
            }
            k
        };
        Some(Cores {
            k: outer(bx, by),
            k_dual: outer(ax, ay),
            rows: p.row_sums(),
            cols: p.col_sums(),
        })
    }

    /// The [`Products`] of the plan whose cores are `c`.
    pub fn products_of(&self, c: &Cores) -> Products {
        Products {
            h: c.k.clone(),
            ht: (!self.symmetric()).then(|| c.k_dual.clone()),
        }
    }

    /// [`loss`](Self::loss) from the plan's cores.
    pub fn cores_loss(&self, p: &Cores) -> f64 {
        self.row.dot(&p.rows) + self.col.dot(&p.cols) - (&p.k * &p.k_dual).sum()
    }

    /// [`slope`](Self::slope) from the cores of the plan `p` and of the direction `d`.
    pub fn cores_slope(&self, p: &Cores, d: &Cores) -> f64 {
        let transposed = if self.symmetric() {
            (&p.k * &d.k_dual).sum()
        } else {
            (&p.k_dual * &d.k).sum()
        };
        self.row.dot(&d.rows) + self.col.dot(&d.cols) - (&p.k * &d.k_dual).sum() - transposed
    }

    /// [`curvature`](Self::curvature) from the direction's cores.
    pub fn cores_curvature(&self, d: &Cores) -> f64 {
        (&d.k * &d.k_dual).sum()
    }

    /// The constant vectors for `L⊗P` (`transposed`: for the transposed costs).
    fn constants(&self, transposed: bool) -> (&Array1<f64>, &Array1<f64>) {
        match (&self.transposed, transposed) {
            (Some((r, c)), true) => (r, c),
            _ => (&self.row, &self.col),
        }
    }

    /// Writes the linearized cost `(1−α)·M + α·∇GW(P)` with `∇GW(P) = L⊗P + Lᵀ⊗P`
    /// (`2·L⊗P` when symmetric) into the `n × m` array `out`, in one pass.
    pub fn linearized(
        &self,
        prod: &Products,
        alpha: f64,
        linear: Option<&Array2<f64>>,
        out: &mut Array2<f64>,
    ) {
        let (r, c) = self.constants(false);
        let (rt, ct) = self.constants(true);
        let rows: Vec<f64> = r.iter().zip(rt).map(|(r, rt)| alpha * (r + rt)).collect();
        let cols: Vec<f64> = c.iter().zip(ct).map(|(c, ct)| alpha * (c + ct)).collect();
        self.assemble_into(
            prod,
            &Assembly {
                rows: &rows,
                cols: &cols,
                linear: linear.map(|m| (m, 1.0 - alpha)),
                h_weight: alpha,
                ht_weight: alpha,
            },
            out,
        );
    }

    /// `rows_i + cols_j + w_M·M_ij − w_H·H_ij − w_Hᵀ·Hᵀ_ij` in one pass over the `n × m`
    /// output (rows in parallel); with factored costs the products enter as a rank-`2r`
    /// update, never stored.
    pub fn assemble(&self, prod: &Products, terms: &Assembly<'_>) -> Array2<f64> {
        let mut out = Array2::zeros((terms.rows.len(), terms.cols.len()));
        self.assemble_into(prod, terms, &mut out);
        out
    }

    /// [`assemble`](Self::assemble) into a given standard-layout `n × m` array (every
    /// entry is overwritten).
    pub fn assemble_into(&self, prod: &Products, terms: &Assembly<'_>, out: &mut Array2<f64>) {
        let (rows, cols) = (terms.rows, terms.cols);
        assert_eq!(out.dim(), (rows.len(), cols.len()), "output shape");
        // Hᵀ = H for symmetric costs: its weight moves onto H.
        let (wh, wht) = match prod.ht {
            None => (terms.h_weight + terms.ht_weight, 0.0),
            Some(_) => (terms.h_weight, terms.ht_weight),
        };
        // The products as `Σ_k U_ik·V_jk` (rank ≤ 2r with factored costs), or stored.
        let (u, vt) = match self.factors() {
            Some((ax, bx, ay, by)) => {
                let mut u = gemm_new(ax.view(), prod.h.view()) * (-wh);
                let mut v = ay.clone();
                if let Some(kt) = prod.ht.as_ref().filter(|_| wht != 0.0) {
                    let ut = gemm_new(bx.view(), kt.view()) * (-wht);
                    u = ndarray::concatenate![NdAxis(1), u, ut];
                    v = ndarray::concatenate![NdAxis(1), v, by.view()];
                }
                (
                    Some(u),
                    Some(v.reversed_axes().as_standard_layout().into_owned()),
                )
            }
            None => (None, None),
        };
        Zip::indexed(out.rows_mut()).par_for_each(|i, mut row| {
            let row = row.as_slice_mut().expect("standard layout");
            let base = rows[i];
            match terms.linear {
                Some((mm, w)) => {
                    for ((o, &cj), &mj) in row.iter_mut().zip(cols).zip(mm.row(i)) {
                        *o = base + cj + w * mj;
                    }
                }
                None => row.iter_mut().zip(cols).for_each(|(o, &cj)| *o = base + cj),
            }
            match (&u, &vt) {
                (Some(u), Some(vt)) => {
                    for (k, vk) in vt.outer_iter().enumerate() {
                        let w = u[[i, k]];
                        let vk = vk.as_slice().expect("standard layout");
                        row.iter_mut().zip(vk).for_each(|(o, &v)| *o += w * v);
                    }
                }
                _ => {
                    if wh != 0.0 {
                        row.iter_mut()
                            .zip(prod.h.row(i))
                            .for_each(|(o, &h)| *o -= wh * h);
                    }
                    if let Some(ht) = prod.ht.as_ref().filter(|_| wht != 0.0) {
                        row.iter_mut()
                            .zip(ht.row(i))
                            .for_each(|(o, &h)| *o -= wht * h);
                    }
                }
            }
        });
    }

    /// `⟨H, X⟩` (`transposed`: `⟨Hᵀ, X⟩`).
    fn inner(&self, prod: &Products, x: ArrayView2<'_, f64>, transposed: bool) -> f64 {
        let h = match (&prod.ht, transposed) {
            (Some(ht), true) => ht,
            _ => &prod.h,
        };
        match self.factors() {
            // ⟨A·K·Bᵀ, X⟩ = ⟨K, Aᵀ·X·B⟩.
            Some((ax, bx, ay, by)) => {
                let (left, right) = if transposed && prod.ht.is_some() {
                    (bx, by)
                } else {
                    (ax, ay)
                };
                (h * &core(left.view(), x, right.view())).sum()
            }
            None => frobenius_dot(h.view(), x),
        }
    }

    /// `GW(P) = ⟨L⊗P, P⟩ = ⟨f₁(Cx)a, P1⟩ + ⟨f₂(Cy)b, Pᵀ1⟩ − ⟨H(P), P⟩` (POT's `gwloss`).
    pub fn loss(&self, p: ArrayView2<'_, f64>, prod: &Products) -> f64 {
        let rows = p.sum_axis(NdAxis(1));
        let cols = p.sum_axis(NdAxis(0));
        self.row.dot(&rows) + self.col.dot(&cols) - self.inner(prod, p, false)
    }

    /// `Σ L(Cx_ik, Cy_jl)·P_ij·Q_kl = ⟨f₁(Cx)·Q1, P1⟩ + ⟨f₂(Cy)·Qᵀ1, Pᵀ1⟩ − ⟨H(Q), P⟩` for any
    /// two plans (`prod_q` = [`products`](Self::products) of `Q`).
    pub fn cross_loss(
        &self,
        maps: &MarginalMaps,
        p: ArrayView2<'_, f64>,
        q: ArrayView2<'_, f64>,
        prod_q: &Products,
    ) -> f64 {
        let (rows, cols) = maps.apply(
            q.sum_axis(NdAxis(1)).view(),
            q.sum_axis(NdAxis(0)).view(),
            false,
        );
        rows.dot(&p.sum_axis(NdAxis(1))) + cols.dot(&p.sum_axis(NdAxis(0)))
            - self.inner(prod_q, p, false)
    }

    /// The slope at `t = 0` of `t ↦ GW(P + tΔ)`:
    /// `⟨f₁(Cx)a, Δ1⟩ + ⟨f₂(Cy)b, Δᵀ1⟩ − ⟨H(P) + Hᵀ(P), Δ⟩`.
    pub fn slope(&self, delta: ArrayView2<'_, f64>, prod: &Products) -> f64 {
        let rows = delta.sum_axis(NdAxis(1));
        let cols = delta.sum_axis(NdAxis(0));
        self.row.dot(&rows) + self.col.dot(&cols)
            - self.inner(prod, delta, false)
            - self.inner(prod, delta, true)
    }

    /// `⟨H(Δ), Δ⟩`, the curvature of `t ↦ GW(P + tΔ)` (up to sign).
    pub fn curvature(&self, delta: ArrayView2<'_, f64>, dprod: &Products) -> f64 {
        self.inner(dprod, delta, false)
    }
}

/// The terms of [`GwTensor::assemble`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assembly<'a> {
    /// Added to every entry of row `i`.
    pub rows: &'a [f64],
    /// Added to every entry of column `j`.
    pub cols: &'a [f64],
    /// A linear cost `M` and its weight.
    pub linear: Option<(&'a Array2<f64>, f64)>,
    /// Weight of `−H(P)`.
    pub h_weight: f64,
    /// Weight of `−Hᵀ(P)`.
    pub ht_weight: f64,
}

/// `f₁(Cx)` and `f₂(Cy)` stored, for the constant part of `L⊗Q` when `Q`'s marginals vary.
#[derive(Debug, Clone)]
pub(crate) struct MarginalMaps {
    source: Array2<f64>,
    target: Array2<f64>,
}

impl MarginalMaps {
    /// `(f₁(Cx)·μ, f₂(Cy)·ν)`, or with the transposed costs when `transposed`: the
    /// row and column constants of `L⊗Q` (resp. `Lᵀ⊗Q`) for a plan `Q` with marginals `μ`, `ν`.
    pub fn apply(
        &self,
        mu: ArrayView1<'_, f64>,
        nu: ArrayView1<'_, f64>,
        transposed: bool,
    ) -> (Array1<f64>, Array1<f64>) {
        if transposed {
            (self.source.t().dot(&mu), self.target.t().dot(&nu))
        } else {
            (self.source.dot(&mu), self.target.dot(&nu))
        }
    }
}

/// `Lᵀ·X·R` for thin `L` (`n × r₁`) and `R` (`m × r₂`).
fn core(l: ArrayView2<'_, f64>, x: ArrayView2<'_, f64>, r: ArrayView2<'_, f64>) -> Array2<f64> {
    let xr = gemm_new(x, r);
    gemm_new(l.t(), xr.view())
}

/// `A·B`, allocated.
fn gemm_new(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    gemm::matmul_par(out.view_mut(), a, b, 1.0, false);
    out
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
fn mapped_dot(
    c: &ArrayView2<'_, f64>,
    f: impl Fn(f64) -> f64 + Sync,
    w: ArrayView1<'_, f64>,
) -> Array1<f64> {
    let mut out = Array1::zeros(c.nrows());
    Zip::from(&mut out)
        .and(c.rows())
        .par_for_each(|o, row| *o = row.iter().zip(w).map(|(&c, &w)| f(c) * w).sum());
    out
}

/// [`mapped_dot`] of `C` (`transposed`: of `Cᵀ`) with the loss's `f₁` or `f₂`, the
/// square inlined.
fn loss_dot(
    loss: GwLoss,
    f: Map,
    c: &Array2<f64>,
    w: ArrayView1<'_, f64>,
    transposed: bool,
) -> Array1<f64> {
    let c = if transposed { c.t() } else { c.view() };
    match loss {
        GwLoss::Square => mapped_dot(&c, |c| c * c, w),
        GwLoss::Kl => mapped_dot(&c, f, w),
    }
}

/// NumPy's `allclose(C, Cᵀ, atol=1e-10)` (POT's test for symmetric costs), compared by
/// square tiles (rows of tiles in parallel) so that both reads stay in cache.
fn is_symmetric(c: &Array2<f64>) -> bool {
    const TILE: usize = 64;
    if !c.is_square() {
        return false;
    }
    let n = c.nrows();
    let tiles = n.div_ceil(TILE);
    (0..tiles).into_par_iter().all(|ti| {
        (0..tiles).all(|tj| {
            (ti * TILE..n.min((ti + 1) * TILE)).all(|i| {
                (tj * TILE..n.min((tj + 1) * TILE)).all(|j| {
                    let (x, y) = (c[[i, j]], c[[j, i]]);
                    (x - y).abs() <= 1e-10 + 1e-5 * y.abs()
                })
            })
        })
    })
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

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::geometry::DenseCost;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn sq_distances(x: &Array2<f64>) -> Array2<f64> {
        let n = x.nrows();
        Array2::from_shape_fn((n, n), |(i, j)| {
            (&x.row(i) - &x.row(j)).mapv(|d| d * d).sum()
        })
    }

    /// The line-search terms from cores (dense and sparse plans) match the dense formulas,
    /// for symmetric costs and for an asymmetric (still low-rank) target.
    #[test]
    fn cores_give_the_dense_loss_slope_and_curvature() {
        let mut seed = 8;
        let (n, m) = (40, 48);
        let x = Array2::from_shape_fn((n, 2), |_| lcg(&mut seed));
        let y = Array2::from_shape_fn((m, 3), |_| lcg(&mut seed));
        let cx = sq_distances(&x);
        let mut cy = sq_distances(&y);
        for symmetric in [true, false] {
            if !symmetric {
                // A rank-one asymmetric term keeps Cy low rank.
                cy = &cy + &Array2::from_shape_fn((m, m), |(i, j)| 0.3 * y[[i, 0]] * y[[j, 1]]);
            }
            let (gx, gy) = (
                DenseCost::new(cx.view()).unwrap(),
                DenseCost::new(cy.view()).unwrap(),
            );
            let a = Array1::from_elem(n, 1.0 / n as f64);
            let b = Array1::from_elem(m, 1.0 / m as f64);
            let problem = QuadraticProblem::new(&gx, &gy, a.view(), b.view()).unwrap();
            let tensor = GwTensor::new(&problem, usize::MAX, true).unwrap();
            assert!(tensor.factors().is_some());
            assert_eq!(tensor.symmetric(), symmetric);
            let p = Array2::from_shape_fn((n, m), |_| lcg(&mut seed)) / (n * m) as f64;
            let entries: Vec<(usize, usize, f64)> =
                (0..n).map(|i| (i, (i * 7) % m, 0.025)).collect();
            let v = SparsePlan::from_triplets((n, m), entries);
            let delta = &v.to_dense(usize::MAX).unwrap() - &p;
            let (prod, dprod) = (
                tensor.products(p.view()).unwrap(),
                tensor.products(delta.view()).unwrap(),
            );
            let pc = tensor.cores(p.view()).unwrap();
            let dc = tensor.sparse_cores(&v).unwrap().minus(&pc);
            let close = |got: f64, want: f64| (got - want).abs() <= 1e-12 * (1.0 + want.abs());
            let what = format!("symmetric = {symmetric}");
            assert!(
                close(tensor.cores_loss(&pc), tensor.loss(p.view(), &prod)),
                "{what}"
            );
            assert!(
                close(
                    tensor.cores_slope(&pc, &dc),
                    tensor.slope(delta.view(), &prod)
                ),
                "{what}"
            );
            assert!(
                close(
                    tensor.cores_curvature(&dc),
                    tensor.curvature(delta.view(), &dprod)
                ),
                "{what}"
            );
            let via = tensor.products_of(&pc);
            assert!((&via.h - &prod.h).iter().all(|d| d.abs() < 1e-12), "{what}");
            assert_eq!(via.ht.is_some(), !symmetric);
            // The product plan: H(a·bᵀ) is the outer product of the two factors.
            let (fx, fy) = tensor.product_plan_factors(a.view(), b.view()).unwrap();
            let outer = Array2::from_shape_fn((n, m), |(i, j)| a[i] * b[j]);
            let mut lin = Array2::zeros((n, m));
            tensor.linearized(&tensor.products(outer.view()).unwrap(), 1.0, None, &mut lin);
            let (r, c) = tensor.constants(false);
            let w = if symmetric { 2.0 } else { 1.0 };
            if symmetric {
                let err = Array2::from_shape_fn((n, m), |(i, j)| {
                    (lin[[i, j]] - (2.0 * r[i] + 2.0 * c[j] - w * fx[i] * fy[j])).abs()
                });
                assert!(err.iter().all(|e| *e < 1e-12), "{what}");
            }
        }
    }
}
