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
use crate::kernels::sweep;

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

/// A whole sweep from its passes (the algorithm of `crate::kernels::sweep::by_passes`): per
/// output, the same value as the geometries' own sweeps.
pub(crate) fn softmin_by_passes(
    passes: &dyn SweepPasses,
    sweep: &Sweep<'_>,
    out: ArrayViewMut2<'_, f64>,
) -> Result<()> {
    let dim = out.dim();
    let guess: Option<Vec<f64>> = sweep.guess.map(|g| g.iter().copied().collect());
    let mut error = None;
    let to_array =
        |v: Option<&[bool]>| v.map(|m| Array2::from_shape_vec(dim, m.to_vec()).expect("k x n"));
    let sum_pass = |anchors: &[f64], mask: Option<&[bool]>, sums: &mut [ExactSum]| {
        let anchors = ArrayView2::from_shape(dim, anchors).expect("k x n");
        let mask = to_array(mask);
        let mut out = Array2::from_elem(dim, ExactSum::ZERO);
        if let Err(e) = passes.sum_pass(
            sweep,
            anchors,
            mask.as_ref().map(|m| m.view()),
            out.view_mut(),
        ) {
            error.get_or_insert(e);
        }
        sums.iter_mut().zip(out).for_each(|(s, v)| *s = v);
    };
    let mut error2 = None;
    let max_pass = |mask: Option<&[bool]>, maxima: &mut [f64]| {
        let mask = to_array(mask);
        let mut out = Array2::from_elem(dim, f64::NEG_INFINITY);
        if let Err(e) = passes.max_pass(sweep, mask.as_ref().map(|m| m.view()), out.view_mut()) {
            error2.get_or_insert(e);
        }
        maxima.iter_mut().zip(out).for_each(|(m, v)| *m = v);
    };
    super::with_rows_mut(out, |o| match passes.pass_precision() {
        Precision::F32 => {
            sweep::by_passes::<f32>(sweep.epsilon, guess.as_deref(), None, sum_pass, max_pass, o)
        }
        _ => sweep::by_passes::<f64>(sweep.epsilon, guess.as_deref(), None, sum_pass, max_pass, o),
    });
    match error.or(error2) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
