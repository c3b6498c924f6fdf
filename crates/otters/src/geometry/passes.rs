//! The two passes a streamed sweep is made of, as a trait: what a geometry must offer to be
//! one block of a [`Sharded`](super::Sharded) geometry (in this process, or later in
//! another one).
//!
//! An output `LSE_r(h_r − C(o, r)/ε)` of a sweep is `anchor + ln Σ_chunks s_c`, the chunk
//! sums `s_c = Σ exp(h_r − C(o, r)/ε − anchor)` added exactly ([`ExactSum`]); the anchor is
//! the guess of the output when the total lands in the precision's window, the maximum of
//! the exponents otherwise (see `crate::kernels::sweep`). Maxima and exact sums of the
//! blocks of a split reduced axis combine without rounding, in any order, so a sharded sweep
//! gives the same bits as an unsplit one.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::{Precision, Sweep};
use crate::error::Result;
use crate::kernels::exact::ExactSum;

/// The passes of a streamed sweep (see the [module docs](self)); `h`, anchors, masks and
/// outputs are `k × n` arrays, one row per problem, as in [`Sweep`].
pub trait SweepPasses: Sync {
    /// `(n, m)`: rows and columns of the cost.
    fn pass_shape(&self) -> (usize, usize);

    /// The precision the exponents are evaluated in.
    fn pass_precision(&self) -> Precision;

    /// `out[p, o] = max_r (h[p, r] − C(o, r)/ε)`, with `h` rounded to the precision first;
    /// entries that `mask` leaves out may be left unchanged.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for mismatched arrays.
    fn max_pass(
        &self,
        sweep: &Sweep<'_>,
        mask: Option<ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// `out[p, o] = Σ_chunks s_c`, exactly, with
    /// `s_c = Σ_{r ∈ chunk} exp(h[p, r] − C(o, r)/ε − anchors[p, o])`; entries that `mask`
    /// leaves out may be left unchanged.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for mismatched arrays.
    fn sum_pass(
        &self,
        sweep: &Sweep<'_>,
        anchors: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
        out: ArrayViewMut2<'_, ExactSum>,
    ) -> Result<()>;
}

/// A whole sweep from its passes: one anchored pass from the guesses, then the maxima and a
/// second anchored pass for the outputs whose totals fell outside the window. Per output,
/// the same values as the geometries' own (block-by-block) sweeps.
pub(crate) fn softmin_by_passes(
    passes: &dyn SweepPasses,
    sweep: &Sweep<'_>,
    mut out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    let precision = passes.pass_precision();
    let (lo, hi) = precision.window();
    let eps = sweep.epsilon;
    let dim = out.dim();
    let mut failed = Array2::from_elem(dim, true);
    if let Some(guess) = sweep.guess {
        let anchors = guess.mapv(|g| -g / eps);
        let mut sums = Array2::from_elem(dim, ExactSum::ZERO);
        passes.sum_pass(sweep, anchors.view(), None, sums.view_mut())?;
        for ((o, f), (&a, s)) in out
            .iter_mut()
            .zip(failed.iter_mut())
            .zip(anchors.iter().zip(sums.iter()))
        {
            let total = s.value();
            if a.is_finite() && total >= lo && total <= hi {
                *o = -eps * (a + total.ln());
                *f = false;
            }
        }
        if !failed.iter().any(|&f| f) {
            return Ok(());
        }
    }
    let mut maxima = Array2::from_elem(dim, f64::NEG_INFINITY);
    passes.max_pass(sweep, Some(failed.view()), maxima.view_mut())?;
    let mut need = failed;
    for ((o, n), &m) in out.iter_mut().zip(need.iter_mut()).zip(maxima.iter()) {
        if *n && !m.is_finite() {
            *o = if m == f64::NEG_INFINITY {
                f64::INFINITY
            } else {
                f64::NAN
            };
            *n = false;
        }
    }
    if !need.iter().any(|&n| n) {
        return Ok(());
    }
    let mut sums = Array2::from_elem(dim, ExactSum::ZERO);
    passes.sum_pass(sweep, maxima.view(), Some(need.view()), sums.view_mut())?;
    for ((o, &n), (&m, s)) in out
        .iter_mut()
        .zip(need.iter())
        .zip(maxima.iter().zip(sums.iter()))
    {
        if n {
            *o = -eps * (m + s.value().ln());
        }
    }
    Ok(())
}
