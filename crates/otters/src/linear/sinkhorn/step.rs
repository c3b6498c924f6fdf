//! One Sinkhorn half-step for one side of the problem, balanced or not.
//!
//! Given the softmin `s` of this side (the balanced c-transform of the other potential), the
//! potential becomes `update(s + μ)` (see [`MarginalPenalty`]); with translation-invariant
//! updates μ is the closed-form optimal translation of the dual (derived below), otherwise 0.
//! Every other variant (ε-scaling, warm starts) wraps this step and never copies it.

use ndarray::ArrayView1;

use super::momentum::relax;
use super::settings::UnbalancedUpdates;
use crate::kernels::lse::{self, Lse};
use crate::linear::MarginalPenalty;

/// One side of the problem: its weights and how its marginal is enforced.
#[derive(Debug, Clone)]
pub(crate) struct Side<'a> {
    pub weights: ArrayView1<'a, f64>,
    /// `log w`, with `−∞` for zero weights.
    pub log_weights: Vec<f64>,
    pub penalty: MarginalPenalty,
}

impl<'a> Side<'a> {
    pub(crate) fn new(weights: ArrayView1<'a, f64>, penalty: MarginalPenalty) -> Self {
        let log_weights = weights.iter().map(|w| w.ln()).collect();
        Side {
            weights,
            log_weights,
            penalty,
        }
    }

    /// `h_i = log w_i + pot_i/ε`: the dimensionless vector the other side's softmin sweeps.
    /// Zero weights give `−∞` whatever the potential (even an infinite one).
    pub(crate) fn log_plan_factor(&self, pot: &[f64], eps: f64, h: &mut [f64]) {
        for ((h, &lw), &p) in h.iter_mut().zip(&self.log_weights).zip(pot) {
            *h = if lw == f64::NEG_INFINITY {
                f64::NEG_INFINITY
            } else {
                lw + p / eps
            };
        }
    }

    /// What [`update`] (without translation, from the potential `old`) followed by [`log_plan_factor`](Self::log_plan_factor)
    /// at `eps_next` give for entry `i` with softmin `s`: the link of a fused iteration.
    pub(crate) fn link(
        &self,
        i: usize,
        s: f64,
        old: f64,
        omega: f64,
        eps: f64,
        eps_next: f64,
    ) -> f64 {
        let pot = relax(old, self.penalty.update(s, 0.0, eps), omega);
        let lw = self.log_weights[i];
        if lw == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            lw + pot / eps_next
        }
    }

    /// The marginal of the plan on this side divided by the weights,
    /// `r_i = Σ_j w'_j·exp((pot_i + pot'_j − C_ij)/ε) = exp((pot_i − s_i − shift)/ε)`, where
    /// `s + shift` is this side's softmin for the current other potential (`shift` accounts
    /// for a translation of the other potential after `s` was computed). Defined for zero
    /// weights too (0 where the softmin is infinite).
    pub(crate) fn marginal_ratio(
        &self,
        pot: &[f64],
        s: &[f64],
        shift: f64,
        eps: f64,
        out: &mut [f64],
    ) {
        // The exponents first (−∞ where s = +∞), then the vectorized exp of the row kernel.
        let t: Vec<f64> = pot
            .iter()
            .zip(s)
            .map(|(&p, &s)| {
                if s == f64::INFINITY {
                    f64::NEG_INFINITY
                } else {
                    (p - s - shift) / eps
                }
            })
            .collect();
        lse::exp_row(0.0, &t, &vec![0.0; t.len()], 0.0, out);
    }

    /// `Σ_i residual_i`: how far the marginal `w·r` is from what optimality requires.
    pub(crate) fn marginal_error(&self, ratio: &[f64], pot: &[f64]) -> f64 {
        ratio
            .iter()
            .zip(self.weights)
            .zip(pot)
            .filter(|((_, w), _)| **w > 0.0)
            .map(|((&r, &w), &f)| self.penalty.residual(w * r, w, f))
            .sum()
    }

    /// `log Σ_i w_i·exp(−κ·v_i)`, skipping zero weights.
    fn log_mass(&self, v: &[f64], kappa: f64) -> f64 {
        self.log_weights
            .iter()
            .zip(v)
            .filter(|(lw, _)| **lw > f64::NEG_INFINITY)
            .fold(Lse::EMPTY, |acc, (&lw, &x)| {
                acc.merge(Lse {
                    max: lw - kappa * x,
                    sum: 1.0,
                })
            })
            .value()
    }
}

/// How a half-step updates: the unbalanced update rule and the relaxation factor ω.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub mode: UnbalancedUpdates,
    pub omega: f64,
}

/// Whether the updates of this pair of sides translate the potentials (μ ≠ 0 possible):
/// translation-invariant mode, KL or hard sides, not both hard.
pub(crate) fn translates(this: &Side<'_>, other: &Side<'_>, mode: UnbalancedUpdates) -> bool {
    match (this.penalty.inverse_rho(), other.penalty.inverse_rho()) {
        (Some(a), Some(b)) => mode == UnbalancedUpdates::TranslationInvariant && a + b > 0.0,
        _ => false,
    }
}

/// Updates `pot` (this side) from its softmin `s`, relaxed by `omega` (1: plain Sinkhorn;
/// the caller passes 1 whenever translations apply); with translation-invariant updates,
/// also translates `other_pot` by −μ. Returns μ (0 when no translation applies).
///
/// Derivation (verified numerically in the tests of the solver): for fixed `g`, maximize the
/// dual `D(f, g − μ)` over `f` and μ jointly. Optimality in `f` gives `f = τ_a (s + μ)`
/// (τ_a = ρ_a/(ρ_a+ε), 1 for a hard side), and `∂D/∂μ = 0` gives
/// `⟨a, e^{−κ_a (s+μ)}⟩ = ⟨b, e^{−(g−μ)/ρ_b}⟩` with `κ_a = 1/(ρ_a+ε)` (0 for hard) and
/// `1/ρ_b = 0` for a hard side, so `μ = (log A₀ − log B₀)/(κ_a + 1/ρ_b)` where
/// `A₀ = ⟨a, e^{−κ_a s}⟩`, `B₀ = ⟨b, e^{−g/ρ_b}⟩`. Two hard sides: the dual is invariant
/// and μ = 0.
pub(crate) fn update(
    this: &Side<'_>,
    other: &Side<'_>,
    s: &[f64],
    pot: &mut [f64],
    other_pot: &mut [f64],
    eps: f64,
    rule: Rule,
) -> f64 {
    let Rule { mode, omega } = rule;
    let mu = match (
        translates(this, other, mode),
        this.penalty.inverse_rho(),
        other.penalty.inverse_rho(),
    ) {
        (true, Some(inv_this), Some(inv_other)) => {
            let kappa = if inv_this > 0.0 {
                1.0 / (1.0 / inv_this + eps)
            } else {
                0.0
            };
            let mu = (this.log_mass(s, kappa) - other.log_mass(other_pot, inv_other))
                / (kappa + inv_other);
            if mu.is_finite() { mu } else { 0.0 }
        }
        _ => 0.0,
    };
    for (p, &s) in pot.iter_mut().zip(s) {
        *p = relax(*p, this.penalty.update(s, mu, eps), omega);
    }
    if mu != 0.0 {
        other_pot.iter_mut().for_each(|g| *g -= mu);
    }
    mu
}
