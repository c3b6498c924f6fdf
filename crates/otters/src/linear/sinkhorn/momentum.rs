//! Over-relaxed Sinkhorn: `f ← (1−ω)·f + ω·T(f)` (ALGORITHMS.md L6; Thibault, Chizat,
//! Dossal, Papadakis 2017, *Overrelaxed Sinkhorn–Knopp*; Lehmann, von Renesse, Sambale
//! 2022, *A note on overrelaxation in the Sinkhorn algorithm*).
//!
//! Near the fixed point Sinkhorn converges linearly at some rate θ < 1; over-relaxation with
//! `ω* = 2 / (1 + √(1 − θ))` turns that into ≈ `ω* − 1`, far smaller when θ is close to 1
//! (small ε, the slow case). The adaptive rule here measures θ from the marginal errors of a
//! window of plain iterations at the final ε, once every one-step error ratio of the last
//! two windows agrees with their mean rate (a linear regime; slow sublinear decay can pass this test too, and is caught by the fallback),
//! then relaxes with `ω*` (at most [`MAX_OMEGA`]). It is safe by
//! construction: the fixed point is the same for every ω, and it falls back to ω = 1 for the
//! rest of the solve as soon as relaxation stops paying: the best error decays no faster
//! than the plain rate over a window, no new best in [`PATIENCE`] iterations, or a jump
//! above [`BLOW_UP`] × the best.

/// Plain iterations used to measure the rate θ.
const WINDOW: usize = 8;
/// The largest ω used.
pub(crate) const MAX_OMEGA: f64 = 1.9;
/// Iterations without a new best error before giving up on relaxation.
const PATIENCE: usize = 30;
/// Plain iterations at the final ε after which, without a linear regime, relaxation is
/// not tried.
const GIVE_UP: usize = 400;
/// An error this many times the best seen means relaxation is hurting.
const BLOW_UP: f64 = 10.0;

/// How one solve relaxes its updates (from [`Acceleration`](super::Acceleration)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RelaxationMode {
    /// Plain Sinkhorn, ω = 1.
    None,
    /// A fixed ω ∈ (0, 2) from the first iteration (ω > 1 over-relaxes).
    Fixed(f64),
    /// ω from the observed convergence rate, with fallback to ω = 1 (see the module docs).
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Waiting for the final ε, then for a linear regime of plain iterations.
    Observing { since: Option<usize> },
    /// Relaxing with ω since iteration `start`, where plain iterations converged at rate
    /// `theta`; `best` error at iteration `best_at`.
    Relaxing {
        theta: f64,
        start: usize,
        best: f64,
        best_at: usize,
    },
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
    pub(crate) fn new(mode: RelaxationMode) -> Self {
        let (phase, omega) = match mode {
            RelaxationMode::None => (Phase::Off, 1.0),
            RelaxationMode::Fixed(w) => (
                Phase::Relaxing {
                    theta: 1.0,
                    start: 0,
                    best: f64::INFINITY,
                    best_at: 0,
                },
                w,
            ),
            RelaxationMode::Adaptive => (Phase::Observing { since: None }, 1.0),
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
                if k < since + 2 * WINDOW {
                    return;
                }
                // Linear regime: every one-step ratio of the last two windows is within
                // 25% of (1 − θ) of their common rate θ.
                let recent = rate(errors, k, 2 * WINDOW);
                let steady = (k + 1 - 2 * WINDOW..=k)
                    .all(|i| (errors[i] / errors[i - 1] - recent).abs() <= 0.25 * (1.0 - recent));
                if recent.is_finite() && recent > 0.0 && recent < 1.0 && steady {
                    self.omega = (2.0 / (1.0 + (1.0 - recent).sqrt())).min(MAX_OMEGA);
                    self.phase = Phase::Relaxing {
                        theta: recent,
                        start: k,
                        best: error,
                        best_at: k,
                    };
                } else if k >= since + GIVE_UP {
                    self.phase = Phase::Off;
                }
            }
            Phase::Relaxing {
                theta,
                start,
                best,
                best_at,
            } => {
                let (best, best_at) = if error < best {
                    (error, k)
                } else {
                    (best, best_at)
                };
                self.phase = Phase::Relaxing {
                    theta,
                    start,
                    best,
                    best_at,
                };
                // Relaxation must beat the plain rate (judged on the best errors of the last
                // window, which damps the oscillations it causes) and must not blow up.
                let judged = k >= start + 2 * WINDOW && (k - start).is_multiple_of(WINDOW);
                let slower = judged && best_rate(errors, start, k, WINDOW) >= theta;
                if error > BLOW_UP * best || k >= best_at + PATIENCE || slower {
                    self.phase = Phase::Off;
                    self.omega = 1.0;
                    self.fell_back = true;
                }
            }
        }
    }
}

/// Geometric mean decay per iteration of the errors over the `w` iterations ending at `k`.
fn rate(errors: &[f64], k: usize, w: usize) -> f64 {
    (errors[k] / errors[k - w]).powf(1.0 / w as f64)
}

/// The same for the running best error since `start` (never above 1).
fn best_rate(errors: &[f64], start: usize, k: usize, w: usize) -> f64 {
    let best = |end: usize| {
        errors[start..=end]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    };
    (best(k) / best(k - w)).powf(1.0 / w as f64)
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
    fn adaptive_rule_waits_for_a_linear_regime_then_relaxes() {
        let mut r = Relaxation::new(RelaxationMode::Adaptive);
        let theta: f64 = 0.96;
        // A fast transient, then a steady rate θ.
        let mut errors: Vec<f64> = vec![1.0, 0.5, 0.3, 0.2];
        while errors.len() < 60 {
            errors.push(errors.last().unwrap() * theta);
        }
        for k in 0..3 {
            r.observe(k, &errors, false);
            assert_eq!(r.omega(), 1.0);
        }
        let mut switched = None;
        for k in 3..40 {
            r.observe(k, &errors, true);
            if r.omega() > 1.0 && switched.is_none() {
                switched = Some((k, r.omega()));
            }
        }
        let (k, omega) = switched.expect("relaxation starts");
        assert!(k >= 3 + 2 * WINDOW, "not before two windows: {k}");
        let want = 2.0 / (1.0 + (1.0 - theta).sqrt());
        assert!((omega - want).abs() < 1e-9, "{omega} vs {want}");
        // These synthetic errors do not speed up: the rule then falls back.
        assert_eq!(r.omega(), 1.0);
    }

    #[test]
    fn falls_back_when_relaxation_does_not_pay() {
        let steady = |theta: f64, len: usize| -> Vec<f64> {
            (0..len).map(|k| theta.powi(k as i32)).collect()
        };
        // Blow-up.
        let mut r = Relaxation::new(RelaxationMode::Adaptive);
        let mut errors = steady(0.9, 2 * WINDOW + 1);
        for k in 0..errors.len() {
            r.observe(k, &errors, true);
        }
        assert!(r.omega() > 1.0);
        errors.push(errors.last().unwrap() * 20.0);
        r.observe(errors.len() - 1, &errors, true);
        assert_eq!(r.omega(), 1.0);
        assert!(r.fell_back);

        // Relaxed iterations no faster than plain ones.
        let mut r = Relaxation::new(RelaxationMode::Adaptive);
        let mut errors = steady(0.95, 2 * WINDOW + 1);
        let switch = errors.len() - 1;
        for k in 0..errors.len() {
            r.observe(k, &errors, true);
        }
        assert!(r.omega() > 1.0);
        for k in switch + 1..=switch + 2 * WINDOW {
            errors.push(errors[k - 1] * 0.97);
            r.observe(k, &errors, true);
        }
        assert_eq!(r.omega(), 1.0, "slower than plain: back to ω = 1");

        // A fixed ω gives up when the error makes no progress.
        let mut r = Relaxation::new(RelaxationMode::Fixed(1.5));
        let flat = vec![1.0; PATIENCE + 2];
        for k in 0..PATIENCE + 2 {
            r.observe(k, &flat, true);
        }
        assert_eq!(r.omega(), 1.0, "no progress in PATIENCE iterations");
    }

    #[test]
    fn no_relaxation_without_a_linear_regime() {
        let mut r = Relaxation::new(RelaxationMode::Adaptive);
        // Noisy errors (a decaying trend times an oscillating factor): the rates of
        // consecutive windows never agree, so the rule never relaxes, and stops trying
        // after GIVE_UP iterations.
        let errors: Vec<f64> = (0..GIVE_UP + 10)
            .map(|k| 0.99f64.powi(k as i32) * (1.0 + 0.9 * (1.3 * k as f64).sin()))
            .collect();
        for k in 0..errors.len() {
            r.observe(k, &errors, true);
            assert_eq!(r.omega(), 1.0, "relaxed at {k}");
        }
        assert_eq!(r.phase, Phase::Off);
        assert!(!r.fell_back);
    }

    #[test]
    fn sublinear_decay_may_be_tried_but_is_given_up() {
        // ~1/k decay looks locally linear (consecutive window rates agree for large k);
        // relaxing does not make these errors decay faster, so the rule must fall back.
        let mut r = Relaxation::new(RelaxationMode::Adaptive);
        let errors: Vec<f64> = (0..2000).map(|k| 1.0 / (k + 1) as f64).collect();
        let mut tried = false;
        for k in 0..errors.len() {
            r.observe(k, &errors, true);
            tried |= r.omega() > 1.0;
        }
        assert!(tried, "this sequence does trigger a try");
        assert_eq!(r.omega(), 1.0);
        assert!(r.fell_back);
    }

    #[test]
    fn relax_is_exact_at_one() {
        assert_eq!(relax(3.0, 5.0, 1.0), 5.0);
        assert_eq!(relax(3.0, 5.0, 1.5), 6.0);
        assert_eq!(relax(f64::INFINITY, 5.0, 1.5), 5.0);
    }
}
