//! Over-relaxed Sinkhorn: `f ← (1−ω)·f + ω·T(f)` (ALGORITHMS.md L6; Thibault, Chizat,
//! Dossal, Papadakis 2017, *Overrelaxed Sinkhorn–Knopp*; Lehmann, von Renesse, Sambale
//! 2022, *A note on overrelaxation in the Sinkhorn algorithm*).
//!
//! Near the fixed point Sinkhorn converges linearly at some rate θ < 1; over-relaxation with
//! `ω* = 2 / (1 + √(1 − θ))` turns that into ≈ `ω* − 1`, far smaller when θ is close to 1
//! (small ε, the slow case). The adaptive rule here measures θ from the marginal errors of a
//! window of plain iterations at the final ε, then relaxes with `ω*` (at most
//! [`MAX_OMEGA`]). It is safe by construction: the fixed point is the same for every ω, and
//! as soon as the error stops improving (no new best in [`PATIENCE`] iterations, or a jump
//! above [`BLOW_UP`] × the best) it falls back to ω = 1 for the rest of the solve.

/// Plain iterations used to measure the rate θ.
const WINDOW: usize = 8;
/// The largest ω used.
pub(crate) const MAX_OMEGA: f64 = 1.9;
/// Iterations without a new best error before giving up on relaxation.
const PATIENCE: usize = 30;
/// An error this many times the best seen means relaxation is hurting.
const BLOW_UP: f64 = 10.0;

/// How [`Sinkhorn`](super::Sinkhorn) relaxes its updates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Momentum {
    /// Plain Sinkhorn, ω = 1.
    None,
    /// A fixed ω ∈ (0, 2) from the first iteration (ω > 1 over-relaxes).
    Fixed(f64),
    /// ω from the observed convergence rate, with fallback to ω = 1 (see the module docs).
    #[default]
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Waiting for the final ε, then recording `WINDOW` errors at ω = 1.
    Observing { since: Option<usize> },
    /// Relaxing with ω; `best` error at iteration `best_at`.
    Relaxing { best: f64, best_at: usize },
    /// Never relax again.
    Off,
}

/// The ω of each iteration of one solve.
#[derive(Debug, Clone)]
pub(crate) struct Relaxation {
    phase: Phase,
    omega: f64,
    /// Whether the rule fell back to ω = 1 after relaxing.
    pub(crate) fell_back: bool,
}

impl Relaxation {
    pub(crate) fn new(mode: Momentum) -> Self {
        let (phase, omega) = match mode {
            Momentum::None => (Phase::Off, 1.0),
            Momentum::Fixed(w) => (
                Phase::Relaxing {
                    best: f64::INFINITY,
                    best_at: 0,
                },
                w,
            ),
            Momentum::Adaptive => (Phase::Observing { since: None }, 1.0),
        };
        Relaxation {
            phase,
            omega,
            fell_back: false,
        }
    }

    /// ω for the updates that follow.
    pub(crate) fn omega(&self) -> f64 {
        self.omega
    }

    /// Records the marginal error of iteration `k` (`errors[k]`), `at_target` telling
    /// whether it ran at the final ε, and decides ω for the next updates.
    pub(crate) fn observe(&mut self, k: usize, errors: &[f64], at_target: bool) {
        let error = errors[k];
        match self.phase {
            Phase::Off => {}
            Phase::Observing { mut since } => {
                if !at_target {
                    return;
                }
                let since = *since.get_or_insert(k);
                self.phase = Phase::Observing { since: Some(since) };
                if k >= since + WINDOW {
                    let theta = (error / errors[k - WINDOW]).powf(1.0 / WINDOW as f64);
                    if theta.is_finite() && theta > 0.0 && theta < 1.0 {
                        self.omega = (2.0 / (1.0 + (1.0 - theta).sqrt())).min(MAX_OMEGA);
                        self.phase = Phase::Relaxing {
                            best: error,
                            best_at: k,
                        };
                    } else if k >= since + 4 * WINDOW {
                        // Not converging linearly yet: keep plain iterations.
                        self.phase = Phase::Off;
                    }
                }
            }
            Phase::Relaxing { best, best_at } => {
                if error < best {
                    self.phase = Phase::Relaxing {
                        best: error,
                        best_at: k,
                    };
                } else if error > BLOW_UP * best || k >= best_at + PATIENCE {
                    self.phase = Phase::Off;
                    self.omega = 1.0;
                    self.fell_back = true;
                }
            }
        }
    }
}

/// `(1−ω)·old + ω·new`, exactly `new` for ω = 1 (and for infinite or equal values).
#[inline]
pub(crate) fn relax(old: f64, new: f64, omega: f64) -> f64 {
    if omega == 1.0 || old == new || !old.is_finite() {
        new
    } else {
        new + (omega - 1.0) * (new - old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_rule_measures_the_rate_then_relaxes() {
        let mut r = Relaxation::new(Momentum::Adaptive);
        let theta: f64 = 0.96;
        let errors: Vec<f64> = (0..40).map(|k| theta.powi(k)).collect();
        for k in 0..3 {
            r.observe(k, &errors, false);
            assert_eq!(r.omega(), 1.0);
        }
        for k in 3..3 + WINDOW {
            r.observe(k, &errors, true);
            assert_eq!(r.omega(), 1.0, "still measuring at {k}");
        }
        r.observe(3 + WINDOW, &errors, true);
        let want = 2.0 / (1.0 + (1.0 - theta).sqrt());
        assert!((r.omega() - want).abs() < 1e-12, "{} vs {want}", r.omega());
    }

    #[test]
    fn falls_back_when_the_error_stalls_or_blows_up() {
        let mut r = Relaxation::new(Momentum::Adaptive);
        let mut errors: Vec<f64> = (0..=WINDOW).map(|k| 0.9f64.powi(k as i32)).collect();
        for k in 0..=WINDOW {
            r.observe(k, &errors, true);
        }
        assert!(r.omega() > 1.0);
        errors.push(errors[WINDOW] * 20.0);
        r.observe(WINDOW + 1, &errors, true);
        assert_eq!(r.omega(), 1.0);
        assert!(r.fell_back);

        let mut r = Relaxation::new(Momentum::Fixed(1.5));
        let flat = vec![1.0; PATIENCE + 2];
        for k in 0..PATIENCE + 2 {
            r.observe(k, &flat, true);
        }
        assert_eq!(r.omega(), 1.0, "no progress in PATIENCE iterations");
    }

    #[test]
    fn relax_is_exact_at_one() {
        assert_eq!(relax(3.0, 5.0, 1.0), 5.0);
        assert_eq!(relax(3.0, 5.0, 1.5), 6.0);
        assert_eq!(relax(f64::INFINITY, 5.0, 1.5), 5.0);
    }
}
