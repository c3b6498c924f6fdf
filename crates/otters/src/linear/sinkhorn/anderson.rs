//! Anderson acceleration of the Sinkhorn map `f ↦ T(f)` (one full iteration: `g` from `f`,
//! then `f` from `g`). ALGORITHMS.md L6; Anderson 1965; Walker & Ni 2011, *Anderson
//! acceleration for fixed-point iterations*; regularized mixing as in Scieur, d'Aspremont,
//! Bach 2016, *Regularized nonlinear acceleration* (OTT-JAX's `AndersonAcceleration`).
//!
//! With the last `M` iterates `x_i` and their images `T(x_i)`, residuals `r_i = T(x_i) − x_i`,
//! the next iterate is `Σ α_i T(x_i)` where `α` minimizes `‖Σ α_i r_i‖² + λ‖α‖²` subject to
//! `Σ α_i = 1`: `α ∝ (RᵀR + λI)⁻¹ 1`, with `λ = ridge · tr(RᵀR)/M` so that the ridge does not
//! depend on the scale of the potentials. The map commutes with the translation
//! `f ↦ f + c` of balanced OT, so the mixing does too.
//!
//! Safeguards (the fixed point is the same; only the path changes): the mixing is skipped
//! when the weights are not finite or wild (`Σ|α_i| >` [`MAX_WEIGHT`]); the history is reset
//! when the marginal error jumps above [`BLOW_UP`] × the best seen or makes no new best in
//! [`PATIENCE`] iterations, and after [`MAX_RESTARTS`] resets the solve continues with plain
//! iterations. It starts at the final ε only (the map changes with ε).

use std::collections::VecDeque;

use faer::linalg::solvers::Solve;
use faer::{Mat, Side as FaerSide};

use crate::error::{Error, Result};

/// Mixing weights with `Σ|α_i|` above this are not used (the plain image is taken instead).
const MAX_WEIGHT: f64 = 1e3;
/// An error this many times the best seen resets the history.
const BLOW_UP: f64 = 10.0;
/// Iterations without a new best error before the history is reset.
const PATIENCE: usize = 30;
/// Resets after which Anderson acceleration is switched off for the rest of the solve.
const MAX_RESTARTS: usize = 3;

/// Settings of Anderson acceleration for [`Sinkhorn`](super::Sinkhorn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anderson {
    /// How many past iterates are mixed, at least 2.
    pub memory: usize,
    /// Tikhonov regularization of the mixing, relative to the mean squared residual
    /// (`> 0`; larger is more conservative).
    pub ridge: f64,
}

impl Default for Anderson {
    fn default() -> Self {
        Anderson {
            memory: 5,
            ridge: 1e-4,
        }
    }
}

impl Anderson {
    /// Anderson acceleration mixing `memory` iterates, with the default ridge.
    pub fn new(memory: usize) -> Self {
        Anderson {
            memory,
            ..Anderson::default()
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.memory < 2 {
            return Err(Error::invalid(
                "anderson.memory",
                "Anderson acceleration mixes at least 2 iterates",
                self.memory,
            ));
        }
        if !(self.ridge > 0.0 && self.ridge.is_finite()) {
            return Err(Error::invalid(
                "anderson.ridge",
                "must be finite and > 0",
                self.ridge,
            ));
        }
        Ok(())
    }
}

/// The history and safeguards of one solve.
#[derive(Debug)]
pub(crate) struct AndersonState {
    settings: Anderson,
    /// Entries that take part (positive weight): a zero-weight entry of the potential does
    /// not change the plan, so it must not steer the mixing either.
    active_entries: Vec<bool>,
    /// `(x_i, T(x_i))`, oldest first.
    history: VecDeque<(Vec<f64>, Vec<f64>)>,
    best: f64,
    best_at: usize,
    restarts: usize,
    /// Iterations where the mixed iterate was used.
    pub(crate) mixed: usize,
}

impl AndersonState {
    /// `weights` are the source weights (entries with weight 0 are left out of the mixing).
    pub(crate) fn new<'w>(settings: Anderson, weights: impl Iterator<Item = &'w f64>) -> Self {
        AndersonState {
            settings,
            active_entries: weights.map(|&w| w > 0.0).collect(),
            history: VecDeque::with_capacity(settings.memory),
            best: f64::INFINITY,
            best_at: 0,
            restarts: 0,
            mixed: 0,
        }
    }

    /// Whether the solve still accelerates.
    pub(crate) fn active(&self) -> bool {
        self.restarts < MAX_RESTARTS
    }

    /// Records the marginal error of iteration `k` (measured at the iterate the last
    /// [`mix`](Self::mix) produced) and applies the safeguards.
    pub(crate) fn observe(&mut self, k: usize, error: f64, at_target: bool) {
        if !at_target || !self.active() {
            self.history.clear();
            return;
        }
        if error < self.best {
            self.best = error;
            self.best_at = k;
        } else if error > BLOW_UP * self.best || k >= self.best_at + PATIENCE {
            self.history.clear();
            self.restarts += 1;
            self.best = error;
            self.best_at = k;
        }
    }

    /// `x` is the iterate an iteration started from and `tx` its image `T(x)`; replaces `tx`
    /// by the mixed iterate (or leaves it when there is too little history or the weights
    /// are unusable).
    pub(crate) fn mix(&mut self, x: &[f64], tx: &mut [f64]) {
        if !self.active() {
            return;
        }
        if self.history.len() == self.settings.memory {
            let (mut ox, mut otx) = self.history.pop_front().expect("non-empty history");
            ox.copy_from_slice(x);
            otx.copy_from_slice(tx);
            self.history.push_back((ox, otx));
        } else {
            self.history.push_back((x.to_vec(), tx.to_vec()));
        }
        let m = self.history.len();
        if m < 2 {
            return;
        }
        let Some(alpha) = self.weights() else { return };
        self.mixed += 1;
        for (i, out) in tx.iter_mut().enumerate() {
            if !self.active_entries[i] {
                continue;
            }
            let mut acc = 0.0;
            let mut finite = true;
            for ((_, t), &w) in self.history.iter().zip(&alpha) {
                finite &= t[i].is_finite();
                acc += w * t[i];
            }
            // Entries that are not finite in some image (zero weights) keep the plain image.
            if finite && acc.is_finite() {
                *out = acc;
            }
        }
    }

    /// The mixing weights `α ∝ (RᵀR + λI)⁻¹ 1`, normalized to sum 1.
    fn weights(&self) -> Option<Vec<f64>> {
        let m = self.history.len();
        let residual = |i: usize, j: usize| {
            let (xi, ti) = &self.history[i];
            let (xj, tj) = &self.history[j];
            xi.iter()
                .zip(ti)
                .zip(xj.iter().zip(tj))
                .zip(&self.active_entries)
                .filter(|(((x, t), (y, u)), on)| {
                    **on && x.is_finite() && t.is_finite() && y.is_finite() && u.is_finite()
                })
                .map(|(((x, t), (y, u)), _)| (t - x) * (u - y))
                .sum::<f64>()
        };
        let mut gram = Mat::<f64>::zeros(m, m);
        for i in 0..m {
            for j in 0..=i {
                let v = residual(i, j);
                gram[(i, j)] = v;
                gram[(j, i)] = v;
            }
        }
        let trace: f64 = (0..m).map(|i| gram[(i, i)]).sum();
        if !(trace > 0.0 && trace.is_finite()) {
            return None;
        }
        let lambda = self.settings.ridge * trace / m as f64;
        for i in 0..m {
            gram[(i, i)] += lambda;
        }
        let llt = gram.llt(FaerSide::Lower).ok()?;
        let z = llt.solve(Mat::<f64>::ones(m, 1));
        let total: f64 = (0..m).map(|i| z[(i, 0)]).sum();
        let alpha: Vec<f64> = (0..m).map(|i| z[(i, 0)] / total).collect();
        let size: f64 = alpha.iter().map(|a| a.abs()).sum();
        (size.is_finite() && size <= MAX_WEIGHT).then_some(alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On an affine contraction `T(x) = Ax + c` in 2-D, Anderson with memory 3 reaches the
    /// fixed point (to the ridge's accuracy) in a few steps where plain iteration needs many.
    #[test]
    fn mixing_solves_an_affine_contraction() {
        let t = |x: &[f64]| vec![0.95 * x[0] + 0.04 * x[1] + 1.0, 0.03 * x[0] + 0.9 * x[1]];
        // Fixed point of x = Ax + c.
        let (a, b, c, d) = (1.0 - 0.95, -0.04, -0.03, 1.0 - 0.9);
        let det = a * d - b * c;
        let star = [d / det, -c / det];
        let dist = |x: &[f64]| ((x[0] - star[0]).powi(2) + (x[1] - star[1]).powi(2)).sqrt();

        let mut state = AndersonState::new(
            Anderson {
                memory: 3,
                ridge: 1e-12,
            },
            [1.0, 1.0].iter(),
        );
        let mut x = vec![0.0, 0.0];
        for _ in 0..6 {
            let mut tx = t(&x);
            state.mix(&x, &mut tx);
            x = tx;
        }
        let mut plain = vec![0.0, 0.0];
        for _ in 0..6 {
            plain = t(&plain);
        }
        assert!(dist(&x) < 1e-6 * dist(&[0.0, 0.0]), "{}", dist(&x));
        assert!(dist(&plain) > 0.1 * dist(&[0.0, 0.0]));
        assert!(state.mixed >= 4);
    }

    #[test]
    fn resets_on_blow_up_and_stops_after_the_last_restart() {
        let mut state = AndersonState::new(Anderson::default(), [1.0, 1.0].iter());
        state.observe(0, 1.0, true);
        for r in 0..MAX_RESTARTS {
            assert!(state.active());
            state.observe(1 + r, 1e3 * 10f64.powi(3 * r as i32), true);
        }
        assert!(!state.active());
        let mut tx = vec![1.0, 2.0];
        state.mix(&[0.0, 0.0], &mut tx);
        assert_eq!(tx, vec![1.0, 2.0]);
    }

    #[test]
    fn keeps_non_finite_and_zero_weight_entries_of_the_plain_image() {
        let mut state = AndersonState::new(Anderson::new(2), [1.0, 1.0, 0.0].iter());
        let mut t1 = vec![1.0, f64::INFINITY, 7.0];
        state.mix(&[0.0, f64::INFINITY, 1.0], &mut t1);
        let mut t2 = vec![1.5, f64::INFINITY, 8.0];
        state.mix(&[1.0, f64::INFINITY, 7.0], &mut t2);
        assert!(t2[0].is_finite() && t2[0] != 1.5, "mixed: {}", t2[0]);
        assert_eq!(t2[1], f64::INFINITY);
        assert_eq!(t2[2], 8.0, "zero-weight entries keep the plain image");
    }

    #[test]
    fn bad_settings_name_their_argument() {
        let e = Anderson::new(1).check().unwrap_err().to_string();
        assert!(e.contains("anderson.memory"), "{e}");
        let e = Anderson {
            memory: 3,
            ridge: f64::NAN,
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(e.contains("anderson.ridge"), "{e}");
    }
}
