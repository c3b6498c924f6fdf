//! Quadratic (Gromov–Wasserstein) problems: two intra-domain costs, weights, the loss
//! comparing them, and optionally a linear cost between the domains (fused GW, Vayer et al.
//! 2019). Data only; the solvers are in [`super::gromov_wasserstein`].

use ndarray::{Array1, ArrayView1, CowArray, Ix1};

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::linear::MASS_TOLERANCE;
use crate::validate;

/// The loss `L(c, c')` comparing an intra-domain cost of the source with one of the target.
/// Both are written `L(c, c') = f₁(c) + f₂(c') − h₁(c)·h₂(c')` (Peyré, Cuturi, Solomon 2016),
/// so that `L⊗P` costs two matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GwLoss {
    /// `(c − c')²`: `f₁ = c²`, `f₂ = c'²`, `h₁ = c`, `h₂ = 2c'` (POT's `square_loss`).
    #[default]
    Square,
    /// `c·log(c/c') − c + c'`: `f₁ = c log c − c`, `f₂ = c'`, `h₁ = c`, `h₂ = log c'`
    /// (POT's `kl_loss`). Needs `c ≥ 0` and `c' > 0`.
    Kl,
}

/// A Gromov–Wasserstein problem `min_{P ∈ Π(a,b)} (1−α)⟨M, P⟩ + α·Σ L(Cx_ik, Cy_jl) P_ij P_kl`,
/// with `α = 1` (plain GW) unless a linear cost `M` is given ([`fused`](Self::fused)).
///
/// # Examples
/// ```
/// use ndarray::array;
/// use otters::geometry::DenseCost;
/// use otters::quadratic::QuadraticProblem;
///
/// let cx = DenseCost::new(array![[0.0, 1.0], [1.0, 0.0]])?;
/// let cy = DenseCost::new(array![[0.0, 2.0], [2.0, 0.0]])?;
/// let problem = QuadraticProblem::new(&cx, &cy, array![0.5, 0.5], array![0.5, 0.5])?;
/// assert_eq!(problem.shape(), (2, 2));
/// # Ok::<(), otters::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct QuadraticProblem<'a> {
    geom_xx: &'a dyn Geometry,
    geom_yy: &'a dyn Geometry,
    geom_xy: Option<&'a dyn Geometry>,
    fused_penalty: f64,
    a: CowArray<'a, f64, Ix1>,
    b: CowArray<'a, f64, Ix1>,
    loss: GwLoss,
}

impl<'a> QuadraticProblem<'a> {
    /// A balanced GW problem between the source costs `geom_xx` (`n × n`) and the target
    /// costs `geom_yy` (`m × m`), with weights `a` and `b` of equal mass.
    ///
    /// # Errors
    /// [`Error::Shape`] when a cost is not square or a weight vector does not match it;
    /// the weight errors of [`LinearProblem`](crate::linear::LinearProblem);
    /// [`Error::MassMismatch`] when the masses differ.
    pub fn new(
        geom_xx: &'a dyn Geometry,
        geom_yy: &'a dyn Geometry,
        a: impl Into<CowArray<'a, f64, Ix1>>,
        b: impl Into<CowArray<'a, f64, Ix1>>,
    ) -> Result<Self> {
        let problem = Self::unbalanced(geom_xx, geom_yy, a, b)?;
        let mass = |w: &CowArray<'a, f64, Ix1>| validate::compensated_sum(w.iter().copied());
        let (mass_a, mass_b) = (mass(&problem.a), mass(&problem.b));
        if (mass_a - mass_b).abs() > MASS_TOLERANCE * mass_a.max(mass_b) {
            return Err(Error::MassMismatch {
                sum_a: mass_a,
                sum_b: mass_b,
            });
        }
        Ok(problem)
    }

    /// A GW problem whose weights may carry different masses, for
    /// [`UnbalancedGw`](super::UnbalancedGw) (the balanced solvers refuse unequal masses
    /// with [`Error::MassMismatch`] when they build their first linear problem).
    ///
    /// # Errors
    /// As [`new`](Self::new), without the mass check.
    pub fn unbalanced(
        geom_xx: &'a dyn Geometry,
        geom_yy: &'a dyn Geometry,
        a: impl Into<CowArray<'a, f64, Ix1>>,
        b: impl Into<CowArray<'a, f64, Ix1>>,
    ) -> Result<Self> {
        let (a, b) = (a.into(), b.into());
        let n = square("geom_xx", geom_xx)?;
        let m = square("geom_yy", geom_yy)?;
        check_weights("a", a.view(), n, "rows of geom_xx")?;
        check_weights("b", b.view(), m, "rows of geom_yy")?;
        validate::weights("a", a.view())?;
        validate::weights("b", b.view())?;
        Ok(QuadraticProblem {
            geom_xx,
            geom_yy,
            geom_xy: None,
            fused_penalty: 1.0,
            a,
            b,
            loss: GwLoss::Square,
        })
    }

    /// Uniform weights `1/n` and `1/m`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn uniform(geom_xx: &'a dyn Geometry, geom_yy: &'a dyn Geometry) -> Result<Self> {
        let n = square("geom_xx", geom_xx)?;
        let m = square("geom_yy", geom_yy)?;
        Self::new(
            geom_xx,
            geom_yy,
            Array1::from_elem(n, 1.0 / n as f64),
            Array1::from_elem(m, 1.0 / m as f64),
        )
    }

    /// Uses `loss` to compare the two costs (square loss by default).
    pub fn with_loss(mut self, loss: GwLoss) -> Self {
        self.loss = loss;
        self
    }

    /// Fused GW: adds the linear cost `geom_xy` (`n × m`, e.g. feature distances) with weight
    /// `1 − alpha`, the GW term keeping weight `alpha ∈ [0, 1]` (POT's convention).
    ///
    /// # Errors
    /// [`Error::Shape`] when `geom_xy` is not `n × m`; [`Error::InvalidParameter`] for an
    /// `alpha` outside `[0, 1]`.
    pub fn fused(mut self, geom_xy: &'a dyn Geometry, alpha: f64) -> Result<Self> {
        let shape = self.shape();
        if geom_xy.shape() != shape {
            return Err(Error::Shape {
                arg: "geom_xy",
                expected: format!("{} × {} (source × target points)", shape.0, shape.1),
                got: format!("{} × {}", geom_xy.shape().0, geom_xy.shape().1),
            });
        }
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::invalid("alpha", "must be in [0, 1]", alpha));
        }
        self.geom_xy = Some(geom_xy);
        self.fused_penalty = alpha;
        Ok(self)
    }

    /// `(n, m)`: source and target sizes.
    pub fn shape(&self) -> (usize, usize) {
        (self.geom_xx.shape().0, self.geom_yy.shape().0)
    }

    /// The source intra-domain cost.
    pub fn geom_xx(&self) -> &'a dyn Geometry {
        self.geom_xx
    }

    /// The target intra-domain cost.
    pub fn geom_yy(&self) -> &'a dyn Geometry {
        self.geom_yy
    }

    /// The linear (fused) cost, if any.
    pub fn geom_xy(&self) -> Option<&'a dyn Geometry> {
        self.geom_xy
    }

    /// The weight `α` of the GW term (1 without a linear cost).
    pub fn fused_penalty(&self) -> f64 {
        self.fused_penalty
    }

    /// Source weights.
    pub fn a(&self) -> ArrayView1<'_, f64> {
        self.a.view()
    }

    /// Target weights.
    pub fn b(&self) -> ArrayView1<'_, f64> {
        self.b.view()
    }

    /// The loss.
    pub fn loss(&self) -> GwLoss {
        self.loss
    }
}

fn square(arg: &'static str, geom: &dyn Geometry) -> Result<usize> {
    let (r, c) = geom.shape();
    if r != c {
        return Err(Error::Shape {
            arg,
            expected: "a square cost (pairwise costs within one domain)".into(),
            got: format!("{r} × {c}"),
        });
    }
    Ok(r)
}

fn check_weights(arg: &'static str, w: ArrayView1<'_, f64>, n: usize, of: &str) -> Result<()> {
    if w.len() != n {
        return Err(Error::Shape {
            arg,
            expected: format!("length {n} ({of})"),
            got: format!("length {}", w.len()),
        });
    }
    Ok(())
}
