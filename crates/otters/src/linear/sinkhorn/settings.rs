//! The settings of [`Sinkhorn`]: regularization, stopping rule, ε-scaling, unbalanced updates.

use super::Anderson;
use crate::error::{Error, Result};
use crate::geometry::CostSummary;
use crate::validate;

/// The entropic regularization ε, absolute or relative to a statistic of the (scaled) cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Epsilon {
    /// ε itself.
    Absolute(f64),
    /// ε = x · max(C).
    RelativeToMax(f64),
    /// ε = x · mean(C).
    RelativeToMean(f64),
    /// ε = x · std(C) (OTT-JAX's default is 0.05 · std).
    RelativeToStd(f64),
}

impl Default for Epsilon {
    fn default() -> Self {
        Epsilon::RelativeToStd(0.05)
    }
}

impl Epsilon {
    /// The absolute ε for a cost whose statistics `summary` gives; `summary` is only called
    /// for a relative ε (on a point cloud it costs a pass over all pairs).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless the factor and the result are finite and `> 0`.
    pub fn resolve(self, summary: impl FnOnce() -> CostSummary) -> Result<f64> {
        let (x, stat, name) = match self {
            Epsilon::Absolute(x) => (x, 1.0, "1"),
            Epsilon::RelativeToMax(x) => (x, summary().max, "max(C)"),
            Epsilon::RelativeToMean(x) => (x, summary().mean, "mean(C)"),
            Epsilon::RelativeToStd(x) => (x, summary().std, "std(C)"),
        };
        validate::positive("epsilon", x)?;
        let eps = x * stat;
        if eps.is_finite() && eps > 0.0 {
            Ok(eps)
        } else {
            Err(Error::invalid(
                "epsilon",
                "the relative epsilon is not positive because the cost statistic is not",
                format!("{x} x {name} = {eps}"),
            ))
        }
    }
}

/// ε-scaling (annealing): run the iterations at `ε_k = max(ε, ε₀·decayᵏ)` (GeomLoss, OTT's
/// `Epsilon` scheduler; ALGORITHMS.md L5). The fixed point is unchanged; at small ε it
/// reaches it in far fewer iterations, and convergence is only declared at the target ε.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum EpsilonScaling {
    /// Every iteration at the target ε.
    #[default]
    None,
    /// Start at `start` and multiply by `decay ∈ (0, 1)` every iteration down to the target.
    Geometric {
        /// The initial ε₀ (an ε below the target means no scaling).
        start: Epsilon,
        /// The factor applied every iteration.
        decay: f64,
    },
}

impl EpsilonScaling {
    /// A geometric schedule from ε₀ = max(C) with the given decay.
    pub fn from_max_cost(decay: f64) -> Self {
        EpsilonScaling::Geometric {
            start: Epsilon::RelativeToMax(1.0),
            decay,
        }
    }
}

/// How unbalanced (KL) problems are iterated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnbalancedUpdates {
    /// Each half-step also optimizes the translation `(f + μ, g − μ)` of the dual in closed
    /// form (Séjourné, Vialard, Peyré 2022, *Faster unbalanced OT*); same fixed point, far
    /// fewer iterations when ρ ≫ ε. Not applied to total-variation penalties.
    #[default]
    TranslationInvariant,
    /// Plain unbalanced Sinkhorn, `f ← ρ/(ρ+ε)·softmin` (Chizat et al. 2018).
    Standard,
}

/// Log-domain Sinkhorn (ALGORITHMS.md L3, L5, L7, L8), for every [`Geometry`](crate::geometry::Geometry).
///
/// All fields are public settings with defaults that work; `threshold` is compared with the
/// L1 marginal error `‖P1 − a*‖₁ + ‖Pᵀ1 − b*‖₁`, where `a*`, `b*` are what optimality
/// requires (`a` for a hard marginal, `a·e^{−f/ρ}` for a KL one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sinkhorn {
    /// The regularization ε.
    pub epsilon: Epsilon,
    /// Stop once the marginal L1 error is at most this (default 1e-6).
    pub threshold: f64,
    /// Give up after this many iterations (one iteration = one update of each potential).
    pub max_iterations: usize,
    /// Never stop before this many iterations.
    pub min_iterations: usize,
    /// ε-scaling schedule.
    pub scaling: EpsilonScaling,
    /// Unbalanced update rule.
    pub unbalanced_updates: UnbalancedUpdates,
    /// How the iterations are accelerated (Anderson by default).
    pub acceleration: Acceleration,
}

/// How [`Sinkhorn`] accelerates its iterations (ALGORITHMS.md L6). The fixed point, hence
/// the solution, is the same for every choice; only the number of iterations changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Acceleration {
    /// Plain Sinkhorn iterations.
    None,
    /// Over-relaxation `f ← (1−ω)f + ω·T(f)` with a fixed ω ∈ (0, 2), for updates that do
    /// not translate the potentials (balanced, semi-relaxed, TV, or
    /// `UnbalancedUpdates::Standard`); plain iterations otherwise.
    Relaxation(f64),
    /// Over-relaxation with ω chosen from the observed convergence rate, falling back to
    /// ω = 1 when it stops paying (same scope as `Relaxation`).
    AdaptiveRelaxation,
    /// Anderson acceleration of the potentials, for every problem. Each iteration is then
    /// two separate sweeps (no fused pass over a stored cost, ~1.4× the time per iteration
    /// there), paid back by 2–25× fewer iterations in the measured cases.
    Anderson(Anderson),
}

impl Default for Acceleration {
    fn default() -> Self {
        Acceleration::Anderson(Anderson::default())
    }
}

impl Default for Sinkhorn {
    fn default() -> Self {
        Sinkhorn {
            epsilon: Epsilon::default(),
            threshold: 1e-6,
            max_iterations: 2000,
            min_iterations: 0,
            scaling: EpsilonScaling::None,
            unbalanced_updates: UnbalancedUpdates::default(),
            acceleration: Acceleration::default(),
        }
    }
}

impl Sinkhorn {
    /// Default settings with the given ε.
    pub fn new(epsilon: Epsilon) -> Self {
        Sinkhorn {
            epsilon,
            ..Sinkhorn::default()
        }
    }

    /// Checks the settings that do not depend on the problem.
    pub(crate) fn check(&self) -> Result<()> {
        validate::positive("threshold", self.threshold)?;
        if self.max_iterations == 0 {
            return Err(Error::invalid("max_iterations", "must be >= 1", 0));
        }
        if self.min_iterations > self.max_iterations {
            return Err(Error::invalid(
                "min_iterations",
                "must not exceed max_iterations",
                self.min_iterations,
            ));
        }
        match self.acceleration {
            Acceleration::Relaxation(w) if !(w > 0.0 && w < 2.0) => {
                return Err(Error::invalid(
                    "acceleration",
                    "a fixed relaxation factor must be in (0, 2)",
                    w,
                ));
            }
            Acceleration::Anderson(anderson) => anderson.check()?,
            _ => {}
        }
        if let EpsilonScaling::Geometric { decay, .. } = self.scaling
            && !(decay > 0.0 && decay < 1.0)
        {
            return Err(Error::invalid(
                "decay",
                "the epsilon-scaling decay must be in (0, 1)",
                decay,
            ));
        }
        Ok(())
    }
}
