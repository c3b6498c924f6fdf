//! Anderson acceleration of the Sinkhorn map `f ↦ T(f)` (one full iteration: `g` from `f`,
//! then `f` from `g`). ALGORITHMS.md L6; Anderson 1965; Walker & Ni 2011, *Anderson
//! acceleration for fixed-point iterations*; regularized mixing as in Scieur, d'Aspremont,
//! Bach 2016, *Regularized nonlinear acceleration* (OTT-JAX's `AndersonAcceleration`).
//!
//! With the last `M` iterates `x_i` and their images `T(x_i)`, residuals `r_i = T(x_i) − x_i`,
//! the next iterate is `Σ α_i T(x_i)` where `α` minimizes `‖Σ α_i r_i‖² + λ‖α‖²` subject to
//! `Σ α_i = 1`: `α ∝ (RᵀR + λI)⁻¹ 1`, with `λ = ridge · ‖r_newest‖²` so that the ridge follows the
//! scale of the residuals as they shrink. The map commutes with the translation
//! `f ↦ f + c` of balanced OT, so the mixing does too.
//!
//! Safeguards (the fixed point is the same; only the path changes): the mixing is skipped
//! when the weights are not finite or wild (`Σ|α_i| >` [`MAX_WEIGHT`]); the history is reset
//! when the marginal error makes no new best in [`PATIENCE`] iterations or jumps above
//! [`BLOW_UP`] × the best seen, and after [`MAX_RESTARTS`] such jumps the solve continues
//! with plain iterations. It starts at the final ε only (the map changes with ε).

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
    /// Tikhonov regularization of the mixing, relative to the squared norm of the newest
    /// residual (`> 0`; larger is more conservative).
    pub ridge: f64,
}

impl Default for Anderson {
    fn default() -> Self {
        Anderson {
            memory: 8,
            ridge: 1e-6,
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
    /// Ring buffer of the last `memory` residuals `T(x_i) − x_i` (0 on entries that do not
    /// take part or are not finite) and images `T(x_i)`.
    residuals: Vec<Vec<f64>>,
    images: Vec<Vec<f64>>,
    /// `gram[i·memory + j] = ⟨r_i, r_j⟩` for the filled slots, updated one row at a time.
    gram: Vec<f64>,
    /// Filled slots, and the slot the next pair goes to.
    len: usize,
    /// Slots that must be filled before mixing starts.
    min_history: usize,
    next: usize,
    best: f64,
    best_at: usize,
    restarts: usize,
    /// Iterations where the mixed iterate was used.
    pub(crate) mixed: usize,
}

impl AndersonState {
    /// `weights` are the source weights (entries with weight 0 are left out of the mixing);
    /// mixing starts once `min_history` (clamped to `[2, memory]`) pairs are recorded.
    pub(crate) fn new<'w>(
        settings: Anderson,
        weights: impl Iterator<Item = &'w f64>,
        min_history: usize,
    ) -> Self {
        AndersonState {
            min_history: min_history.clamp(2, settings.memory),
            settings,
            active_entries: weights.map(|&w| w > 0.0).collect(),
            residuals: Vec::new(),
            images: Vec::new(),
            gram: vec![0.0; settings.memory * settings.memory],
            len: 0,
            next: 0,
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

    /// Whether the pair recorded next will be mixed (the caller must then leave the iterate
    /// it produces open to change).
    pub(crate) fn mixes_next(&self) -> bool {
        self.active() && self.len + 1 >= self.min_history
    }

    fn clear(&mut self) {
        self.len = 0;
        self.next = 0;
    }

    /// Records the marginal error of iteration `k` (measured at the iterate the last
    /// [`mix`](Self::mix) produced) and applies the safeguards: a blow-up restarts the
    /// history (and counts towards switching off), a stall only restarts it.
    pub(crate) fn observe(&mut self, k: usize, error: f64, at_target: bool) {
        if !at_target || !self.active() {
            self.clear();
            return;
        }
        if error < self.best {
            self.best = error;
            self.best_at = k;
        } else if error > BLOW_UP * self.best || k >= self.best_at + PATIENCE {
            if error > BLOW_UP * self.best {
                self.restarts += 1;
            }
            self.clear();
            self.best = error;
            self.best_at = k;
        }
    }

    /// `x` is the iterate an iteration started from and `tx` its image `T(x)`: records the
    /// pair and, when `apply` and there is enough history, replaces `tx` by the mixed
    /// iterate (left as is when the weights are unusable).
    pub(crate) fn mix(&mut self, x: &[f64], tx: &mut [f64], apply: bool) {
        if !self.active() {
            return;
        }
        let memory = self.settings.memory;
        let slot = self.next;
        if self.residuals.len() <= slot {
            self.residuals.push(vec![0.0; x.len()]);
            self.images.push(vec![0.0; x.len()]);
        }
        for (((r, &x), &t), &on) in self.residuals[slot]
            .iter_mut()
            .zip(x)
            .zip(tx.iter())
            .zip(&self.active_entries)
        {
            *r = if on && x.is_finite() && t.is_finite() {
                t - x
            } else {
                0.0
            };
        }
        self.images[slot].copy_from_slice(tx);
        self.len = (self.len + 1).min(memory);
        self.next = (slot + 1) % memory;
        for j in 0..self.len {
            let dot = dot(&self.residuals[slot], &self.residuals[j]);
            self.gram[slot * memory + j] = dot;
            self.gram[j * memory + slot] = dot;
        }
        if !apply || self.len < self.min_history {
            return;
        }
        let Some(alpha) = self.weights(slot) else {
            return;
        };
        self.mixed += 1;
        let images = &self.images[..self.len];
        for (i, out) in tx.iter_mut().enumerate() {
            if !self.active_entries[i] {
                continue;
            }
            let mut acc = 0.0;
            for (t, &w) in images.iter().zip(&alpha) {
                acc += w * t[i];
            }
            // Entries that are not finite in some image keep the plain image.
            if acc.is_finite() {
                *out = acc;
            }
        }
    }

    /// The mixing weights `α ∝ (RᵀR + λI)⁻¹ 1` over the filled slots, normalized to sum 1,
    /// with `λ = ridge · ‖r_newest‖²`.
    fn weights(&self, newest: usize) -> Option<Vec<f64>> {
        let (m, memory) = (self.len, self.settings.memory);
        let scale = self.gram[newest * memory + newest];
        if !(scale > 0.0 && scale.is_finite()) {
            return None;
        }
        let lambda = self.settings.ridge * scale;
        let gram = Mat::<f64>::from_fn(m, m, |i, j| {
            self.gram[i * memory + j] + if i == j { lambda } else { 0.0 }
        });
        let llt = gram.llt(FaerSide::Lower).ok()?;
        let z = llt.solve(Mat::<f64>::ones(m, 1));
        let total: f64 = (0..m).map(|i| z[(i, 0)]).sum();
        let alpha: Vec<f64> = (0..m).map(|i| z[(i, 0)] / total).collect();
        let size: f64 = alpha.iter().map(|a| a.abs()).sum();
        (size.is_finite() && size <= MAX_WEIGHT).then_some(alpha)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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
            2,
        );
        let mut x = vec![0.0, 0.0];
        for _ in 0..6 {
            let mut tx = t(&x);
            state.mix(&x, &mut tx, true);
            x = tx;
        }
        let mut plain = vec![0.0, 0.0];
        for _ in 0..6 {
            plain = t(&plain);
        }
        assert!(dist(&x) < 1e-6 * dist(&[0.0, 0.0]), "{}", dist(&x));
        assert!(dist(&plain) > 0.1 * dist(&[0.0, 0.0]));
        assert!(state.mixed >= 2);
    }

    #[test]
    fn resets_on_blow_up_and_stops_after_the_last_restart() {
        let mut state = AndersonState::new(Anderson::default(), [1.0, 1.0].iter(), 2);
        state.observe(0, 1.0, true);
        for r in 0..MAX_RESTARTS {
            assert!(state.active());
            state.observe(1 + r, 1e3 * 10f64.powi(3 * r as i32), true);
        }
        assert!(!state.active());
        let mut tx = vec![1.0, 2.0];
        state.mix(&[0.0, 0.0], &mut tx, true);
        assert_eq!(tx, vec![1.0, 2.0]);
    }

    #[test]
    fn keeps_non_finite_and_zero_weight_entries_of_the_plain_image() {
        let mut state = AndersonState::new(Anderson::new(2), [1.0, 1.0, 0.0].iter(), 2);
        let mut t1 = vec![1.0, f64::INFINITY, 7.0];
        state.mix(&[0.0, f64::INFINITY, 1.0], &mut t1, true);
        let mut t2 = vec![1.5, f64::INFINITY, 8.0];
        state.mix(&[1.0, f64::INFINITY, 7.0], &mut t2, true);
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
