//! Low-rank Gromov–Wasserstein (ALGORITHMS.md Q4; Scetbon, Peyré, Cuturi 2022, *Linear-Time
//! Gromov Wasserstein Distances using Low Rank Couplings and Costs*; unbalanced: Scetbon,
//! Klein, Palla, Cuturi 2023): the square-loss GW objective over couplings
//! `P = Q·diag(1/g)·Rᵀ`, minimized by the mirror descent of low-rank OT
//! ([`LowRankSinkhorn`]: same step, same exact KL projections) with the GW gradient.
//!
//! With `M_x = Qᵀ·Cx·Q` and `M_y = Rᵀ·Cy·R` (`r × r`), the cross term of the square loss is
//! `−2⟨Cx·P·Cyᵀ, P⟩ = −2 Σ_kl (M_x)_kl (M_y)_kl / (g_k g_l)` and its gradient through `P` is
//! `−2(Cx·P·Cyᵀ + Cxᵀ·P·Cy)`, so one step needs `Cx·Q` and `Cy·R` (and their transposed
//! products for asymmetric costs) plus `r × r` algebra: `O((n + m)·r·k)` for costs with
//! rank-`k` factors (squared-Euclidean point clouds: `k = d + 2`). The constant terms
//! `pᵀ(Cx∘Cx)p` use the geometry's [`apply_square_cost`](Geometry::apply_square_cost),
//! linear too for factored costs.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Axis as NdAxis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::problem::{GwLoss, QuadraticProblem};
use crate::error::{Error, Result};
use crate::geometry::{Axis, Geometry};
use crate::linear::low_rank::{GradientTerms, Marginals, Objective, plan_dot};
use crate::linear::{LowRankInit, LowRankOutput, LowRankSinkhorn, LowRankStart};
use crate::observe::Observer;
use crate::validate;

/// Low-rank GW (square loss). Settings only.
///
/// The objective is `α·GW(P) + (1−α)·m(P)·⟨Cxy, P⟩` with `α` the problem's
/// [`fused_penalty`](QuadraticProblem::fused_penalty) (1 without a linear cost) and `m(P) =
/// Σg` the plan's mass (1 for balanced unit-mass problems; OTT-JAX's weighting, which keeps
/// both terms quadratic in the mass), plus `ρ_a·KL(Q1 | a) + ρ_b·KL(R1 | b)` for relaxed
/// marginals. This is OTT-JAX's `LRGromovWasserstein`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowRankGw {
    /// Rank, step, entropy, stopping rule, projection settings and start: as for low-rank
    /// OT. The k-means start is for linear problems and is refused here.
    pub low_rank: LowRankSinkhorn,
    /// KL penalty `ρ_a > 0` on the source marginal `Q1` (`∞`: the hard constraint `Q1 = a`).
    pub rho_a: f64,
    /// KL penalty `ρ_b > 0` on the target marginal `R1` (`∞`: hard).
    pub rho_b: f64,
}

impl LowRankGw {
    /// Balanced low-rank GW at the given rank, with the defaults of [`LowRankSinkhorn::new`]
    /// except the stopping threshold, `1e-8`: GW's criterion divides the iterates' change by
    /// `γ²`, and leaving the start's neighbourhood takes small steps that a looser threshold
    /// would stop (on clustered data, 1e-5 stopped two of three random starts in a
    /// non-matching local minimum that 1e-7 and below escape).
    pub fn new(rank: usize) -> Self {
        LowRankGw {
            low_rank: LowRankSinkhorn {
                threshold: 1e-8,
                ..LowRankSinkhorn::new(rank)
            },
            rho_a: f64::INFINITY,
            rho_b: f64::INFINITY,
        }
    }

    /// Solves `problem` (square loss) from the configured start.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad settings, a KL loss (`problem`) or the k-means
    /// start (`init`); [`Error::MassMismatch`] for hard marginals of different masses;
    /// [`Error::Numerical`] if the iterates stop being finite.
    pub fn solve(&self, problem: &QuadraticProblem<'_>) -> Result<LowRankOutput> {
        self.solve_from(problem, None, &Observer::new())
    }

    /// [`solve`](Self::solve) from the factors `start` when given (as
    /// [`LowRankSinkhorn::solve_from`]), reporting each outer iteration to `observer`. The
    /// output's [`cost`](LowRankOutput::cost) is the objective above (the GW loss without a
    /// linear cost), without the entropy and the marginal penalties.
    ///
    /// # Errors
    /// As [`solve`](Self::solve); a bad `start` names `init`; [`Error::Interrupted`].
    pub fn solve_from(
        &self,
        problem: &QuadraticProblem<'_>,
        start: Option<LowRankStart<'_>>,
        observer: &Observer<'_>,
    ) -> Result<LowRankOutput> {
        if problem.loss() != GwLoss::Square {
            return Err(Error::invalid(
                "problem",
                "low-rank GW takes the square loss",
                format!("{:?}", problem.loss()),
            ));
        }
        if start.is_none() && matches!(self.low_rank.init, LowRankInit::KMeans { .. }) {
            return Err(Error::invalid(
                "init",
                "the k-means start clusters points of one space; low-rank GW takes the random \
                 or rank-2 start, or given factors",
                "KMeans",
            ));
        }
        let relaxed = |arg: &'static str, rho: f64| {
            if rho.is_nan() || rho <= 0.0 {
                Err(Error::invalid(arg, "must be > 0 (∞: a hard marginal)", rho))
            } else {
                Ok(rho.is_finite().then_some(rho))
            }
        };
        let marginals = Marginals {
            a: problem.a(),
            b: problem.b(),
            rho_a: relaxed("rho_a", self.rho_a)?,
            rho_b: relaxed("rho_b", self.rho_b)?,
        };
        if marginals.rho_a.is_none() && marginals.rho_b.is_none() {
            let mass = |w| validate::compensated_sum(w);
            let (sa, sb) = (
                mass(problem.a().iter().copied()),
                mass(problem.b().iter().copied()),
            );
            if (sa - sb).abs() > 1e-6 * sa.max(sb) {
                return Err(Error::MassMismatch {
                    sum_a: sa,
                    sum_b: sb,
                });
            }
        }
        let mut objective = SquareLossGw::new(problem, &marginals)?;
        self.low_rank
            .descend(&mut objective, marginals, start, observer)
    }
}

/// The square-loss (fused) GW objective of [`LowRankGw`], with its product buffers.
#[derive(Debug)]
struct SquareLossGw<'p> {
    cx: &'p dyn Geometry,
    cy: &'p dyn Geometry,
    cxy: Option<&'p dyn Geometry>,
    /// Weight of the GW term.
    alpha: f64,
    symmetric: (bool, bool),
    /// Whether the source (target) marginal is KL-relaxed.
    relaxed: (bool, bool),
    /// `Cx·Q`, `Cxᵀ·Q`, `Cy·R`, `Cyᵀ·R` and the fused `Cxy·R`, `Cxyᵀ·Q`, reused across
    /// iterations (no `n × r` allocation per iteration).
    buffers: [Array2<f64>; 6],
}

impl<'p> SquareLossGw<'p> {
    fn new(problem: &QuadraticProblem<'p>, marginals: &Marginals<'_>) -> Result<Self> {
        let (cx, cy) = (problem.geom_xx(), problem.geom_yy());
        Ok(SquareLossGw {
            cx,
            cy,
            cxy: problem.geom_xy(),
            alpha: problem.fused_penalty(),
            symmetric: (symmetric(cx)?, symmetric(cy)?),
            relaxed: (marginals.rho_a.is_some(), marginals.rho_b.is_some()),
            buffers: Default::default(),
        })
    }
}

/// `out = C·F` (`Axis::Rows`) or `Cᵀ·F` (`Axis::Cols`) into a reused buffer.
fn product<'b>(
    geom: &dyn Geometry,
    axis: Axis,
    f: &Array2<f64>,
    out: &'b mut Array2<f64>,
) -> Result<&'b Array2<f64>> {
    let rows = match axis {
        Axis::Rows => geom.shape().0,
        Axis::Cols => geom.shape().1,
    };
    if out.dim() != (rows, f.ncols()) {
        *out = Array2::zeros((rows, f.ncols()));
    }
    geom.apply_cost(axis, f.view(), out.view_mut())?;
    Ok(out)
}

/// `out = −2α·(CF·D·Mᵀ + CᵀF·D·M)` with `D = diag(1/g)` and `M` the other side's
/// `r × r` Gram matrix (`CᵀF = CF` for a symmetric cost): the GW part of `G_Q` (or `G_R`),
/// written by GEMMs straight into `out`.
fn gw_gradient(
    out: &mut Array2<f64>,
    (cf, ctf): (&Array2<f64>, Option<&Array2<f64>>),
    other: &Array2<f64>,
    inv_g: &Array1<f64>,
    alpha: f64,
) {
    // D·Mᵀ and D·M (r × r), the scale folded in.
    let scaled = |m: ndarray::ArrayView2<'_, f64>| {
        let mut m = m.to_owned();
        for (mut row, &ig) in m.outer_iter_mut().zip(inv_g) {
            row *= -2.0 * alpha * ig;
        }
        m
    };
    match ctf {
        None => general_mat_mul(1.0, cf, &scaled((&other.t() + other).view()), 0.0, out),
        Some(ctf) => {
            general_mat_mul(1.0, cf, &scaled(other.t()), 0.0, out);
            general_mat_mul(1.0, ctf, &scaled(other.view()), 1.0, out);
        }
    }
}

/// `(C∘C + (C∘C)ᵀ)·p`, or `2(C∘C)·p` for a symmetric cost.
fn square_term(geom: &dyn Geometry, symmetric: bool, p: &Array1<f64>) -> Result<Array1<f64>> {
    let col = p.view().insert_axis(NdAxis(1));
    let mut out = Array2::zeros((p.len(), 1));
    geom.apply_square_cost(Axis::Rows, col, out.view_mut())?;
    if symmetric {
        out *= 2.0;
    } else {
        let mut t = Array2::zeros((p.len(), 1));
        geom.apply_square_cost(Axis::Cols, col, t.view_mut())?;
        out += &t;
    }
    Ok(out.remove_axis(NdAxis(1)))
}

impl Objective for SquareLossGw<'_> {
    fn name(&self) -> &'static str {
        "low-rank gw"
    }

    fn error_per_step(&self) -> bool {
        true
    }

    fn gradient(
        &mut self,
        q: &Array2<f64>,
        r: &Array2<f64>,
        g: &Array1<f64>,
        gq: &mut Array2<f64>,
        gr: &mut Array2<f64>,
    ) -> Result<GradientTerms> {
        let inv_g = g.mapv(f64::recip);
        let [xq, xtq, yr, ytr, lin_q, lin_r] = &mut self.buffers;
        let xq = product(self.cx, Axis::Rows, q, xq)?;
        let xtq = match self.symmetric.0 {
            true => None,
            false => Some(product(self.cx, Axis::Cols, q, xtq)?),
        };
        let yr = product(self.cy, Axis::Rows, r, yr)?;
        let ytr = match self.symmetric.1 {
            true => None,
            false => Some(product(self.cy, Axis::Cols, r, ytr)?),
        };
        let (mx, my) = (q.t().dot(xq), r.t().dot(yr));
        gw_gradient(gq, (xq, xtq), &my, &inv_g, self.alpha);
        gw_gradient(gr, (yr, ytr), &mx, &inv_g, self.alpha);
        let mut terms = GradientTerms::default();
        if let Some(cxy) = self.cxy {
            // (1−α)·m(P)·⟨Cxy, P⟩: G_Q += (1−α)·m·Cxy·R, ∂/∂g adds (1−α)·⟨Cxy, P⟩.
            let w = 1.0 - self.alpha;
            let mass = g.sum();
            let lin_q = product(cxy, Axis::Rows, r, lin_q)?;
            let lin_r = product(cxy, Axis::Cols, q, lin_r)?;
            terms.shift_g = w * ((q * lin_q).sum_axis(NdAxis(0)) * &inv_g).sum();
            gq.scaled_add(w * mass, lin_q);
            gr.scaled_add(w * mass, lin_r);
        }
        // Relaxed marginals: ∂/∂Q of pᵀ(Cx∘Cx)p with p = Q1 is (Cx∘Cx + (Cx∘Cx)ᵀ)p on
        // every column.
        if self.relaxed.0 {
            let p = q.sum_axis(NdAxis(1));
            terms.rows_q = Some(square_term(self.cx, self.symmetric.0, &p)? * self.alpha);
        }
        if self.relaxed.1 {
            let p = r.sum_axis(NdAxis(1));
            terms.rows_r = Some(square_term(self.cy, self.symmetric.1, &p)? * self.alpha);
        }
        Ok(terms)
    }

    fn value(&mut self, q: &Array2<f64>, r: &Array2<f64>, g: &Array1<f64>) -> Result<f64> {
        let [xq, _, yr, ..] = &mut self.buffers;
        let (xq, yr) = (
            product(self.cx, Axis::Rows, q, xq)?,
            product(self.cy, Axis::Rows, r, yr)?,
        );
        let (mx, my) = (q.t().dot(xq), r.t().dot(yr));
        let cross: f64 = ndarray::Zip::indexed(&mx)
            .and(&my)
            .fold(0.0, |acc, (k, l), &x, &y| acc + x * y / (g[k] * g[l]));
        // The loss of the plan P = Q·diag(1/g)·Rᵀ itself, with its own marginals P1 = Q1 and
        // Pᵀ1 = R1 (the projection makes Qᵀ1 = Rᵀ1 = g exact; the rows meet a hard `a` only
        // to the projection's tolerance, so `a` is not used in its place).
        let constant = |geom: &dyn Geometry, f: &Array2<f64>| {
            let p = f.sum_axis(NdAxis(1));
            let col = p.view().insert_axis(NdAxis(1));
            let mut out = Array2::zeros((p.len(), 1));
            geom.apply_square_cost(Axis::Rows, col, out.view_mut())?;
            Ok::<f64, Error>(out.column(0).dot(&p))
        };
        let gw = constant(self.cx, q)? + constant(self.cy, r)? - 2.0 * cross;
        let linear = match self.cxy {
            Some(cxy) => (1.0 - self.alpha) * g.sum() * plan_dot(cxy, q, r, g)?,
            None => 0.0,
        };
        Ok(self.alpha * gw + linear)
    }
}

/// Whether `C = Cᵀ`, probed with two fixed random vectors: `C·v` and `Cᵀ·v` agree to
/// `1e-10` relative (one product each way; a non-symmetric matrix passes with probability
/// zero).
fn symmetric(geom: &dyn Geometry) -> Result<bool> {
    let n = geom.shape().0;
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let v = Array2::from_shape_fn((n, 2), |_| rng.random::<f64>() + 0.5);
    let (mut cv, mut ctv) = (Array2::zeros((n, 2)), Array2::zeros((n, 2)));
    geom.apply_cost(Axis::Rows, v.view(), cv.view_mut())?;
    geom.apply_cost(Axis::Cols, v.view(), ctv.view_mut())?;
    let sup = |x: &Array2<f64>| x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gap = sup(&(&cv - &ctv));
    Ok(gap <= 1e-10 * (sup(&cv) + sup(&ctv)))
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::{Objective, SquareLossGw};
    use crate::geometry::DenseCost;
    use crate::linear::low_rank::Marginals;
    use crate::quadratic::QuadraticProblem;

    fn random(rng: &mut ChaCha8Rng, shape: (usize, usize), lo: f64) -> Array2<f64> {
        Array2::from_shape_fn(shape, |_| lo + rng.random::<f64>())
    }

    /// The gradient the mirror step uses, `∇_Q = G_Q·diag(1/g) + u_Q·1ᵀ` (and for `R`,
    /// `∇_g = −diag(Qᵀ·G_Q)/g² + s`), equals central differences of the objective, treating
    /// `Q`, `R`, `g` as free: asymmetric costs, relaxed marginals (so `p = Q1`), fused.
    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (n, m, rank) = (6, 5, 3);
        let cx = random(&mut rng, (n, n), 0.0);
        let cy = random(&mut rng, (m, m), 0.0);
        let cxy = random(&mut rng, (n, m), 0.0);
        let (gx, gy, gxy) = (
            DenseCost::new(cx).unwrap(),
            DenseCost::new(cy).unwrap(),
            DenseCost::new(cxy).unwrap(),
        );
        let a = Array1::from_elem(n, 1.0 / n as f64);
        let b = Array1::from_elem(m, 1.3 / m as f64);
        for fused in [false, true] {
            let mut problem = QuadraticProblem::unbalanced(&gx, &gy, a.view(), b.view()).unwrap();
            if fused {
                problem = problem.fused(&gxy, 0.6).unwrap();
            }
            let marginals = Marginals {
                a: a.view(),
                b: b.view(),
                rho_a: Some(1.0),
                rho_b: Some(2.0),
            };
            let mut objective = SquareLossGw::new(&problem, &marginals).unwrap();
            assert_eq!(objective.symmetric, (false, false));
            let q = random(&mut rng, (n, rank), 0.1) * 0.1;
            let r = random(&mut rng, (m, rank), 0.1) * 0.1;
            let g = Array1::from_shape_fn(rank, |_| 0.2 + rng.random::<f64>() * 0.3);
            let (mut gq, mut gr) = (Array2::zeros((n, rank)), Array2::zeros((m, rank)));
            let terms = objective.gradient(&q, &r, &g, &mut gq, &mut gr).unwrap();
            let row = |u: &Option<Array1<f64>>, i: usize| u.as_ref().map_or(0.0, |u| u[i]);
            let h = 1e-6;
            let mut worst = 0.0f64;
            for i in 0..n {
                for k in 0..rank {
                    let (mut qp, mut qm) = (q.clone(), q.clone());
                    qp[[i, k]] += h;
                    qm[[i, k]] -= h;
                    let fd = (objective.value(&qp, &r, &g).unwrap()
                        - objective.value(&qm, &r, &g).unwrap())
                        / (2.0 * h);
                    let analytic = gq[[i, k]] / g[k] + row(&terms.rows_q, i);
                    worst = worst.max((fd - analytic).abs());
                }
            }
            for j in 0..m {
                for k in 0..rank {
                    let (mut rp, mut rm) = (r.clone(), r.clone());
                    rp[[j, k]] += h;
                    rm[[j, k]] -= h;
                    let fd = (objective.value(&q, &rp, &g).unwrap()
                        - objective.value(&q, &rm, &g).unwrap())
                        / (2.0 * h);
                    let analytic = gr[[j, k]] / g[k] + row(&terms.rows_r, j);
                    worst = worst.max((fd - analytic).abs());
                }
            }
            for k in 0..rank {
                let (mut gp, mut gm) = (g.clone(), g.clone());
                gp[k] += h;
                gm[k] -= h;
                let fd = (objective.value(&q, &r, &gp).unwrap()
                    - objective.value(&q, &r, &gm).unwrap())
                    / (2.0 * h);
                let omega = q.column(k).dot(&gq.column(k));
                let analytic = -omega / (g[k] * g[k]) + terms.shift_g;
                worst = worst.max((fd - analytic).abs());
            }
            assert!(
                worst < 1e-7,
                "fused {fused}: worst gradient error {worst:e}"
            );
        }
    }

    /// A symmetric stored cost is recognized, an asymmetric one is not.
    #[test]
    fn symmetry_probe() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let c = random(&mut rng, (7, 7), 0.0);
        let sym = &c + &c.t();
        assert!(super::symmetric(&DenseCost::new(sym).unwrap()).unwrap());
        let mut near = c.clone() + c.t();
        near[[2, 5]] += 1e-6;
        assert!(!super::symmetric(&DenseCost::new(near).unwrap()).unwrap());
        assert!(!super::symmetric(&DenseCost::new(c).unwrap()).unwrap());
    }
}
