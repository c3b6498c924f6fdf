//! The ε schedule of a solve: `ε_k = max(ε, ε₀·decayᵏ)` (ALGORITHMS.md L5).

use super::settings::EpsilonScaling;
use crate::error::Result;
use crate::geometry::CostSummary;

/// ε at every iteration of one solve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    target: f64,
    start: f64,
    decay: f64,
}

impl Schedule {
    pub(crate) fn new(
        scaling: EpsilonScaling,
        target: f64,
        summary: impl FnOnce() -> CostSummary,
    ) -> Result<Self> {
        Ok(match scaling {
            EpsilonScaling::None => Schedule {
                target,
                start: target,
                decay: 1.0,
            },
            EpsilonScaling::Geometric { start, decay } => {
                let start = start.resolve(summary)?.max(target);
                Schedule {
                    target,
                    start,
                    decay,
                }
            }
        })
    }

    /// ε at iteration `k` (counting from 0).
    pub(crate) fn at(&self, k: usize) -> f64 {
        if self.start <= self.target {
            return self.target;
        }
        let exponent = i32::try_from(k).unwrap_or(i32::MAX);
        (self.start * self.decay.powi(exponent)).max(self.target)
    }

    /// Whether iteration `k` runs at the target ε.
    pub(crate) fn is_final(&self, k: usize) -> bool {
        self.at(k) == self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear::sinkhorn::Epsilon;

    #[test]
    fn geometric_schedule_reaches_and_stays_at_the_target() {
        let summary = || CostSummary {
            max: 2.0,
            mean: 1.0,
            std: 0.5,
        };
        let s = Schedule::new(
            EpsilonScaling::Geometric {
                start: Epsilon::RelativeToMax(1.0),
                decay: 0.5,
            },
            0.1,
            summary,
        )
        .unwrap();
        assert_eq!(s.at(0), 2.0);
        assert_eq!(s.at(1), 1.0);
        assert_eq!(s.at(4), 0.125);
        assert_eq!(s.at(5), 0.1);
        assert!(!s.is_final(4) && s.is_final(5) && s.is_final(1_000_000_000_000));
        let flat = Schedule::new(EpsilonScaling::None, 0.1, summary).unwrap();
        assert!(flat.is_final(0));
        assert_eq!(flat.at(7), 0.1);
    }
}
