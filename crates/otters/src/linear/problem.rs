//! [`LinearProblem`]: the data of a linear (Kantorovich) OT problem, balanced or not.
//!
//! `min_P ⟨C, P⟩ + D_a(P1 | a) + D_b(Pᵀ1 | b)` (+ ε·KL(P | a⊗b) for entropic solvers), where
//! each marginal term is a [`MarginalPenalty`]: a hard constraint (balanced OT), a KL penalty
//! (Liero, Mielke, Savaré 2018; Chizat et al. 2018) or a total-variation penalty.
//! ALGORITHMS.md L3, L7.

use ndarray::{Array1, ArrayView1, ArrayView2, CowArray, Ix1};

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::validate;

/// Relative tolerance on `|Σa − Σb| / max(Σa, Σb)` under which a balanced problem is accepted
/// (and `b` rescaled to the mass of `a`, which the problem reports).
pub const MASS_TOLERANCE: f64 = 1e-9;

/// How one marginal of the plan is tied to its weights.
///
/// With the dual potential `f` of that side and the softmin `s` (the balanced update), the
/// Sinkhorn update is `f = s` (hard), `f = ρ/(ρ+ε)·s` (KL) or `f = clamp(s, −ρ, ρ)` (TV).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum MarginalPenalty {
    /// `P1 = a` exactly (balanced OT).
    #[default]
    Hard,
    /// `ρ·KL(P1 | a)`; POT's `reg_m` is `ρ`, OTT's `tau` is `ρ/(ρ+ε)`.
    Kl {
        /// Strength ρ > 0 (ρ → ∞ recovers the hard constraint).
        rho: f64,
    },
    /// `ρ·‖P1 − a‖₁`.
    TotalVariation {
        /// Strength ρ > 0.
        rho: f64,
    },
}

impl MarginalPenalty {
    /// The KL penalty whose Sinkhorn contraction factor is `tau = ρ/(ρ+ε)` (OTT's convention),
    /// i.e. `ρ = ε·τ/(1−τ)`; `tau = 1` is the hard constraint.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 < tau ≤ 1` and `epsilon > 0`.
    pub fn kl_from_tau(tau: f64, epsilon: f64) -> Result<Self> {
        if !(tau > 0.0 && tau <= 1.0) {
            return Err(Error::invalid("tau", "must be in (0, 1]", tau));
        }
        validate::positive("epsilon", epsilon)?;
        Ok(if tau == 1.0 {
            MarginalPenalty::Hard
        } else {
            MarginalPenalty::Kl {
                rho: epsilon * tau / (1.0 - tau),
            }
        })
    }

    fn validated(self, arg: &'static str) -> Result<Self> {
        match self {
            MarginalPenalty::Hard => Ok(self),
            MarginalPenalty::Kl { rho } if rho == f64::INFINITY => Ok(MarginalPenalty::Hard),
            MarginalPenalty::Kl { rho } | MarginalPenalty::TotalVariation { rho } => {
                if rho.is_finite() && rho > 0.0 {
                    Ok(self)
                } else {
                    Err(Error::invalid(
                        arg,
                        "the penalty strength rho must be > 0 (use Hard for a balanced marginal)",
                        rho,
                    ))
                }
            }
        }
    }

    /// The Sinkhorn update of a potential from its softmin value `s` and the translation
    /// `shift` of translation-invariant Sinkhorn (0 otherwise).
    #[inline]
    pub(crate) fn update(self, s: f64, shift: f64, epsilon: f64) -> f64 {
        match self {
            MarginalPenalty::Hard => s + shift,
            MarginalPenalty::Kl { rho } => rho / (rho + epsilon) * (s + shift),
            MarginalPenalty::TotalVariation { rho } => s.clamp(-rho, rho),
        }
    }

    /// Distance from the current marginal `p` to what optimality requires given the
    /// potential `f`: `a` (hard), `a·e^{−f/ρ}` (KL), or the TV subdifferential set.
    #[inline]
    pub(crate) fn residual(self, p: f64, weight: f64, f: f64) -> f64 {
        match self {
            MarginalPenalty::Hard => (p - weight).abs(),
            MarginalPenalty::Kl { rho } => (p - weight * (-f / rho).exp()).abs(),
            MarginalPenalty::TotalVariation { rho } => {
                if f >= rho {
                    // Upper clamp active: any marginal in [0, a] is optimal.
                    (p - weight).max(0.0)
                } else if f <= -rho {
                    (weight - p).max(0.0)
                } else {
                    (p - weight).abs()
                }
            }
        }
    }

    /// This side's term of the dual objective, `−φ*(−f)` summed later over the entries.
    #[inline]
    pub(crate) fn dual_term(self, weight: f64, f: f64) -> f64 {
        match self {
            MarginalPenalty::Hard => weight * f,
            MarginalPenalty::Kl { rho } => -rho * weight * ((-f / rho).exp_m1()),
            MarginalPenalty::TotalVariation { rho } => weight * f.min(rho),
        }
    }

    /// This side's term of the primal objective, `D(p | a)` for one entry.
    #[inline]
    pub(crate) fn divergence(self, p: f64, weight: f64) -> f64 {
        match self {
            MarginalPenalty::Hard => 0.0,
            MarginalPenalty::Kl { rho } => {
                let plogp = if p > 0.0 { p * (p / weight).ln() } else { 0.0 };
                rho * (plogp - p + weight)
            }
            MarginalPenalty::TotalVariation { rho } => rho * (p - weight).abs(),
        }
    }

    /// `∂(dual term)/∂weight` at potential `f`.
    #[inline]
    pub(crate) fn weight_gradient(self, f: f64) -> f64 {
        match self {
            MarginalPenalty::Hard => f,
            MarginalPenalty::Kl { rho } => -rho * (-f / rho).exp_m1(),
            MarginalPenalty::TotalVariation { rho } => f.min(rho),
        }
    }

    /// `1/ρ` for the KL penalty, 0 for the hard constraint, `None` for TV (whose dual is
    /// not smooth, so translation-invariant updates do not apply).
    pub(crate) fn inverse_rho(self) -> Option<f64> {
        match self {
            MarginalPenalty::Hard => Some(0.0),
            MarginalPenalty::Kl { rho } => Some(1.0 / rho),
            MarginalPenalty::TotalVariation { .. } => None,
        }
    }

    /// Whether this side is a hard constraint.
    pub fn is_hard(self) -> bool {
        self == MarginalPenalty::Hard
    }
}

/// A linear OT problem: a geometry, two weight vectors and how each marginal is enforced.
///
/// Construction validates everything (shapes, finite non-negative weights with positive
/// mass, penalties, equal masses when both sides are hard); a `LinearProblem` that exists is
/// valid.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::DenseCost;
/// use otters::linear::{LinearProblem, MarginalPenalty};
///
/// let cost = array![[0.0, 1.0], [1.0, 0.0]];
/// let geom = DenseCost::new(cost.view())?;
/// let balanced = LinearProblem::new(&geom, array![0.5, 0.5], array![0.5, 0.5])?;
/// let kl = MarginalPenalty::Kl { rho: 1.0 };
/// let relaxed = LinearProblem::unbalanced(&geom, array![0.5, 0.5], array![1.0, 1.0], kl, kl)?;
/// assert!(LinearProblem::new(&geom, array![0.5, 0.5], array![1.0, 1.0]).is_err());
/// # let _ = (balanced, relaxed);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LinearProblem<'a> {
    geom: &'a dyn Geometry,
    a: CowArray<'a, f64, Ix1>,
    b: CowArray<'a, f64, Ix1>,
    mass_a: f64,
    mass_b: f64,
    penalty_a: MarginalPenalty,
    penalty_b: MarginalPenalty,
    mass_rescale: Option<f64>,
}

impl<'a> LinearProblem<'a> {
    /// A balanced problem: both marginals are hard constraints.
    ///
    /// # Errors
    /// [`Error::Shape`] when `a` or `b` does not match the geometry; [`Error::Empty`],
    /// [`Error::NonFinite`], [`Error::NegativeWeight`], [`Error::ZeroMass`] for bad weights;
    /// [`Error::MassMismatch`] when the masses differ by more than [`MASS_TOLERANCE`]
    /// (relative).
    pub fn new(
        geom: &'a dyn Geometry,
        a: impl Into<CowArray<'a, f64, Ix1>>,
        b: impl Into<CowArray<'a, f64, Ix1>>,
    ) -> Result<Self> {
        Self::unbalanced(geom, a, b, MarginalPenalty::Hard, MarginalPenalty::Hard)
    }

    /// A problem whose marginals are enforced as `penalty_a` and `penalty_b` say; the masses
    /// may differ unless both are hard.
    ///
    /// # Errors
    /// As [`new`](Self::new), plus [`Error::InvalidParameter`] for a penalty strength that is
    /// not positive.
    pub fn unbalanced(
        geom: &'a dyn Geometry,
        a: impl Into<CowArray<'a, f64, Ix1>>,
        b: impl Into<CowArray<'a, f64, Ix1>>,
        penalty_a: MarginalPenalty,
        penalty_b: MarginalPenalty,
    ) -> Result<Self> {
        let (a, mut b) = (a.into(), b.into());
        let (n, m) = geom.shape();
        if a.len() != n {
            return Err(Error::Shape {
                arg: "a",
                expected: format!("length {n} (rows of the cost)"),
                got: format!("length {}", a.len()),
            });
        }
        if b.len() != m {
            return Err(Error::Shape {
                arg: "b",
                expected: format!("length {m} (columns of the cost)"),
                got: format!("length {}", b.len()),
            });
        }
        let mass_a = validate::weights("a", a.view())?;
        let mut mass_b = validate::weights("b", b.view())?;
        let penalty_a = penalty_a.validated("penalty_a")?;
        let penalty_b = penalty_b.validated("penalty_b")?;
        let mut mass_rescale = None;
        if penalty_a.is_hard() && penalty_b.is_hard() && mass_a != mass_b {
            if (mass_a - mass_b).abs() > MASS_TOLERANCE * mass_a.max(mass_b) {
                return Err(Error::MassMismatch {
                    sum_a: mass_a,
                    sum_b: mass_b,
                });
            }
            // Within tolerance: rescale b to the mass of a, and say so in the problem.
            let factor = mass_a / mass_b;
            b = CowArray::from(b.mapv(|v| v * factor));
            mass_b = mass_a;
            mass_rescale = Some(factor);
        }
        Ok(LinearProblem {
            geom,
            a,
            b,
            mass_a,
            mass_b,
            penalty_a,
            penalty_b,
            mass_rescale,
        })
    }

    /// Uniform weights `1/n` and `1/m`, balanced.
    ///
    /// # Errors
    /// As [`new`](Self::new) (it cannot fail for a valid geometry).
    pub fn uniform(geom: &'a dyn Geometry) -> Result<Self> {
        let (n, m) = geom.shape();
        Self::new(
            geom,
            Array1::from_elem(n, 1.0 / n as f64),
            Array1::from_elem(m, 1.0 / m as f64),
        )
    }

    /// The geometry.
    pub fn geom(&self) -> &'a dyn Geometry {
        self.geom
    }

    /// Source weights `a`.
    pub fn a(&self) -> ArrayView1<'_, f64> {
        self.a.view()
    }

    /// Target weights `b` (after the rescaling reported by [`mass_rescale`](Self::mass_rescale)).
    pub fn b(&self) -> ArrayView1<'_, f64> {
        self.b.view()
    }

    /// `(Σa, Σb)`.
    pub fn masses(&self) -> (f64, f64) {
        (self.mass_a, self.mass_b)
    }

    /// `(penalty on a, penalty on b)`.
    pub fn penalties(&self) -> (MarginalPenalty, MarginalPenalty) {
        (self.penalty_a, self.penalty_b)
    }

    /// Whether both marginals are hard constraints.
    pub fn is_balanced(&self) -> bool {
        self.penalty_a.is_hard() && self.penalty_b.is_hard()
    }

    /// `Some(Σa/Σb)` when a balanced problem's masses differed within [`MASS_TOLERANCE`] and
    /// `b` was multiplied by that factor.
    pub fn mass_rescale(&self) -> Option<f64> {
        self.mass_rescale
    }
}

/// `k` linear problems on one geometry, solved together by
/// [`Sinkhorn::solve_batch`](crate::linear::Sinkhorn::solve_batch): every sweep reads the
/// cost once for all of them, and each problem gets the output it would get alone, bit for
/// bit. The problems share the geometry and the marginal penalties; their weights differ
/// (POT's `sinkhorn(a, B)` with a 2-D `B`: one source, `k` targets).
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::DenseCost;
/// use otters::linear::{LinearProblemBatch, MarginalPenalty};
///
/// let geom = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]])?;
/// let a = array![[0.5, 0.5]];
/// let b = array![[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]];
/// let batch = LinearProblemBatch::new(&geom, a.view(), b.view(), MarginalPenalty::Hard, MarginalPenalty::Hard)?;
/// assert_eq!(batch.len(), 3);
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LinearProblemBatch<'a> {
    geom: &'a dyn Geometry,
    problems: Vec<LinearProblem<'a>>,
}

impl<'a> LinearProblemBatch<'a> {
    /// Problems `p = 0..k` with weights `a[p]` and `b[p]` (rows); an array with one row is
    /// shared by every problem, and `k` is the larger number of rows.
    ///
    /// # Errors
    /// [`Error::Shape`] naming `a` or `b` when they have no row, or numbers of rows other than
    /// 1 or `k`; the errors of [`LinearProblem::unbalanced`] for a problem's weights, as
    /// [`Error::InBatch`] naming the problem.
    pub fn new(
        geom: &'a dyn Geometry,
        a: ArrayView2<'a, f64>,
        b: ArrayView2<'a, f64>,
        penalty_a: MarginalPenalty,
        penalty_b: MarginalPenalty,
    ) -> Result<Self> {
        let k = a.nrows().max(b.nrows());
        for (arg, rows) in [("a", a.nrows()), ("b", b.nrows())] {
            if rows == 0 || (rows != 1 && rows != k) {
                return Err(Error::Shape {
                    arg,
                    expected: format!(
                        "1 or {k} rows (one weight vector per problem, or one for all)"
                    ),
                    got: format!("{rows} rows"),
                });
            }
        }
        let pick = |w: &ArrayView2<'a, f64>, p: usize| {
            let r = if w.nrows() == 1 { 0 } else { p };
            w.index_axis_move(ndarray::Axis(0), r)
        };
        let problems = (0..k)
            .map(|p| {
                LinearProblem::unbalanced(geom, pick(&a, p), pick(&b, p), penalty_a, penalty_b)
                    .map_err(|e| if k > 1 { e.in_batch(p) } else { e })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LinearProblemBatch { geom, problems })
    }

    /// The batch of one problem.
    pub fn single(problem: LinearProblem<'a>) -> Self {
        LinearProblemBatch {
            geom: problem.geom(),
            problems: vec![problem],
        }
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.problems.len()
    }

    /// Whether the batch has no problem (never: a batch holds at least one).
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The shared geometry.
    pub fn geom(&self) -> &'a dyn Geometry {
        self.geom
    }

    /// The problems, in order.
    pub fn problems(&self) -> &[LinearProblem<'a>] {
        &self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::DenseCost;
    use ndarray::{Array2, array};

    fn geom() -> DenseCost<'static> {
        DenseCost::new(Array2::<f64>::ones((2, 3))).unwrap()
    }

    #[test]
    fn shapes_and_masses_are_checked() {
        let g = geom();
        let err = LinearProblem::new(&g, array![1.0], array![0.2, 0.3, 0.5]).unwrap_err();
        assert!(matches!(err, Error::Shape { arg: "a", .. }), "{err}");
        assert!(err.to_string().contains("length 2"));
        let err = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3]).unwrap_err();
        assert!(matches!(err, Error::Shape { arg: "b", .. }));
        let err = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3, 0.6]).unwrap_err();
        assert!(matches!(err, Error::MassMismatch { .. }));
        assert!(
            err.to_string().contains("1.1") && err.to_string().contains("Kl"),
            "{err}"
        );
    }

    #[test]
    fn nearly_equal_masses_are_rescaled_and_reported() {
        let g = geom();
        let p = LinearProblem::new(&g, array![0.5, 0.5], array![0.2, 0.3, 0.5 + 1e-12]).unwrap();
        let factor = p.mass_rescale().expect("rescaling is reported");
        assert!((factor - 1.0).abs() < 1e-11);
        assert!((p.b().sum() - 1.0).abs() < 1e-15);
        let exact = LinearProblem::new(&g, array![3.5, 3.5], array![2.0, 2.0, 3.0]).unwrap();
        assert_eq!(exact.mass_rescale(), None);
    }

    #[test]
    fn unbalanced_problems_accept_any_masses_but_valid_penalties() {
        let g = geom();
        let (a, b) = (array![0.5, 0.5], array![2.0, 3.0, 0.6]);
        assert!(LinearProblem::new(&g, a.view(), b.view()).is_err());
        let semi = LinearProblem::unbalanced(
            &g,
            a.view(),
            b.view(),
            MarginalPenalty::Hard,
            MarginalPenalty::Kl { rho: 0.5 },
        );
        assert!(!semi.unwrap().is_balanced());
        let err = LinearProblem::unbalanced(
            &g,
            a.view(),
            b.view(),
            MarginalPenalty::Kl { rho: -1.0 },
            MarginalPenalty::Hard,
        )
        .unwrap_err();
        assert_eq!(err.argument(), Some("penalty_a"));
        let tv = MarginalPenalty::TotalVariation { rho: f64::NAN };
        assert!(
            LinearProblem::unbalanced(&g, a.view(), b.view(), tv, MarginalPenalty::Hard).is_err()
        );
        // ρ = ∞ is the hard constraint, so the mass check applies again.
        let inf = MarginalPenalty::Kl { rho: f64::INFINITY };
        assert!(matches!(
            LinearProblem::unbalanced(&g, a.view(), b.view(), inf, inf),
            Err(Error::MassMismatch { .. })
        ));
    }

    #[test]
    fn tau_converts_to_rho() {
        assert_eq!(
            MarginalPenalty::kl_from_tau(0.5, 0.1).unwrap(),
            MarginalPenalty::Kl { rho: 0.1 }
        );
        assert_eq!(
            MarginalPenalty::kl_from_tau(1.0, 0.1).unwrap(),
            MarginalPenalty::Hard
        );
        assert!(MarginalPenalty::kl_from_tau(0.0, 0.1).is_err());
    }
}
