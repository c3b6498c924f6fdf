//! Log-domain Sinkhorn for balanced, unbalanced and semi-relaxed entropic OT.
//!
//! Solves `min_P ⟨C, P⟩ + ε·KL(P | a⊗b) + D_a(P1 | a) + D_b(Pᵀ1 | b)` by alternating the
//! updates `g ← update_b(softmin_cols(log a + f/ε))`, `f ← update_a(softmin_rows(log b + g/ε))`
//! on any [`Geometry`](crate::geometry::Geometry) (Cuturi 2013; Schmitzer 2019 for the log
//! domain; Chizat et al. 2018 for KL/TV marginals; Séjourné, Vialard, Peyré 2022 for
//! translation-invariant updates). ALGORITHMS.md L3, L5, L7, L8.
//!
//! The marginal error costs nothing extra: the row softmin that updates `f` also gives the
//! row marginal of the current plan, `P1 = a·exp((f − s)/ε)`, while the column marginal is
//! known from the preceding `g` update. Each iteration is therefore exactly two sweeps.

mod anderson;
mod init;
mod momentum;
mod output;
mod schedule;
mod settings;
mod step;

use ndarray::{Array1, ArrayView1};

pub use anderson::Anderson;
pub use init::{gaussian_init, sorting_init, subsample_init};
pub use output::SinkhornOutput;
pub use settings::{Acceleration, Epsilon, EpsilonScaling, Sinkhorn, UnbalancedUpdates};

use self::anderson::AndersonState;
use self::momentum::{Relaxation, RelaxationMode};
use self::schedule::Schedule;
use self::step::Side;
use crate::error::{Error, Index, Result};
use crate::geometry::{Axis, SoftminChain};
use crate::linear::{LinearProblem, MarginalPenalty};
use crate::observe::{Observer, Progress};

/// Starting potentials `(f, g)` for a warm start.
#[derive(Debug, Clone, Copy)]
pub struct Potentials<'a> {
    /// Source potential, length `n`.
    pub f: ArrayView1<'a, f64>,
    /// Target potential, length `m`.
    pub g: ArrayView1<'a, f64>,
}

impl Sinkhorn {
    /// Solves `problem` from zero potentials.
    ///
    /// Non-convergence within `max_iterations` is not an error: check
    /// [`SinkhornOutput::converged`] (or call [`SinkhornOutput::require_converged`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for invalid settings; [`Error::Numerical`] when a potential
    /// becomes non-finite (for example a row whose costs are all `+∞`).
    ///
    /// # Examples
    /// ```
    /// use ndarray::array;
    /// use otters::geometry::PointCloud;
    /// use otters::linear::{Epsilon, LinearProblem, Sinkhorn};
    ///
    /// let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    /// let y = array![[0.1, 0.0], [1.0, 0.1], [0.0, 0.9]];
    /// let geom = PointCloud::sq_euclidean(x.view(), y.view())?;
    /// let problem = LinearProblem::uniform(&geom)?;
    /// let out = Sinkhorn::new(Epsilon::Absolute(0.01)).solve(&problem)?;
    /// assert!(out.converged());
    /// let plan = out.plan(&problem)?;
    /// assert!((plan[[0, 0]] - 1.0 / 3.0).abs() < 1e-3); // x_i is matched to y_i
    /// # Ok::<(), otters::Error>(())
    /// ```
    pub fn solve(&self, problem: &LinearProblem<'_>) -> Result<SinkhornOutput> {
        self.solve_with(problem, None, &Observer::new())
    }

    /// Solves `problem` from the potentials `init` (a warm start), reporting progress to
    /// `observer` and stopping when it asks to.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`Error::Shape`] / [`Error::NonFinite`] for a bad
    /// warm start and [`Error::Interrupted`] when the observer cancels.
    pub fn solve_with(
        &self,
        problem: &LinearProblem<'_>,
        init: Option<Potentials<'_>>,
        observer: &Observer<'_>,
    ) -> Result<SinkhornOutput> {
        self.check()?;
        let geom = problem.geom();
        let (n, m) = geom.shape();
        let target = self.epsilon.resolve(|| geom.summary())?;
        let schedule = Schedule::new(self.scaling, target, || geom.summary())?;
        let (penalty_a, penalty_b) = problem.penalties();
        let side_a = Side::new(problem.a(), penalty_a);
        let side_b = Side::new(problem.b(), penalty_b);

        let (mut f, mut g) = match init {
            Some(p) => (
                checked_init("init.f", p.f, n)?,
                checked_init("init.g", p.g, m)?,
            ),
            None => (Array1::zeros(n), Array1::zeros(m)),
        };
        // A warm start's g came from a column softmin by the penalty's update (`g = s` for a
        // hard marginal, `ρ/(ρ+ε)·s` for KL): inverted, a guess for the first column sweep,
        // which then needs one pass instead of the exact two (it falls back where off).
        let first_guess: Option<Array1<f64>> = init.and_then(|_| match penalty_b {
            MarginalPenalty::Hard => Some(g.clone()),
            MarginalPenalty::Kl { rho } => Some(&g * ((rho + schedule.at(0)) / rho)),
            MarginalPenalty::TotalVariation { .. } => None,
        });
        let (mut h_a, mut h_b) = (Array1::zeros(n), Array1::zeros(m));
        // Softmins of this iteration (s, t) and of the previous one (guesses for the next).
        let (mut s, mut t) = (Array1::zeros(n), Array1::zeros(m));
        let (mut s_prev, mut t_prev) = (Array1::zeros(n), Array1::zeros(m));
        let (mut ratio_a, mut ratio_b) = (Array1::zeros(n), Array1::zeros(m));
        let mut errors = Vec::new();
        let mut converged = false;
        let mut eps = schedule.at(0);
        // Without translations, the f-update is entry by entry and the row sweep, f-update
        // and next column sweep fuse into one pass over the cost (`softmin_chain`).
        let fusable = !step::translates(&side_a, &side_b, self.unbalanced_updates);
        // Anderson acceleration changes f after the update, so an iteration that mixes is not
        // fused. Where fusion is possible the history first fills with (cheaper) fused
        // iterations, so that fast solves never pay for separate sweeps.
        let (mut anderson, relaxation_mode) = match self.acceleration {
            Acceleration::None => (None, RelaxationMode::None),
            Acceleration::Relaxation(w) => (None, RelaxationMode::Fixed(w)),
            Acceleration::AdaptiveRelaxation => (None, RelaxationMode::Adaptive),
            Acceleration::Anderson(settings) => {
                let min_history = if fusable { settings.memory } else { 2 };
                let state = AndersonState::new(settings, side_a.weights.iter(), min_history);
                (Some(state), RelaxationMode::None)
            }
        };
        let mut t_ready = false;
        // Over-relaxation applies to updates without translations (ω = 1 otherwise).
        let mut relaxation = Relaxation::new(if fusable {
            relaxation_mode
        } else {
            RelaxationMode::None
        });
        // The iterate each iteration starts from (for Anderson acceleration).
        let mut f_start = Vec::new();

        for k in 0..self.max_iterations {
            eps = schedule.at(k);
            let omega = relaxation.omega();
            if let Some(state) = &anderson
                && state.active()
            {
                f_start.clear();
                f_start.extend_from_slice(as_slice(&f));
            }
            // g-update; its sweep also gives the column marginal of the new (f, g).
            if !t_ready {
                side_a.log_plan_factor(as_slice(&f), eps, as_slice_mut(&mut h_a));
                std::mem::swap(&mut t, &mut t_prev);
                let guess = match &first_guess {
                    Some(guess) if k == 0 => Some(guess.view()),
                    _ => (k > 0).then(|| t_prev.view()),
                };
                geom.softmin_near(Axis::Cols, eps, h_a.view(), guess, t.view_mut())?;
            }
            check_softmin(&t, &side_b, Axis::Cols, k, eps)?;
            let shift = step::update(
                &side_b,
                &side_a,
                as_slice(&t),
                as_slice_mut(&mut g),
                as_slice_mut(&mut f),
                eps,
                step::Rule {
                    mode: self.unbalanced_updates,
                    omega,
                },
            );
            side_b.marginal_ratio(
                as_slice(&g),
                as_slice(&t),
                shift,
                eps,
                as_slice_mut(&mut ratio_b),
            );

            // Row sweep: the marginal error of the current (f, g), then the f-update.
            side_b.log_plan_factor(as_slice(&g), eps, as_slice_mut(&mut h_b));
            std::mem::swap(&mut s, &mut s_prev);
            let guess_rows = (k > 0).then(|| s_prev.view());
            let mixes = anderson
                .as_ref()
                .is_some_and(|state| schedule.is_final(k) && state.mixes_next());
            if fusable && !mixes && k + 1 < self.max_iterations {
                // The next column sweep is computed now, from the f this iteration ends with.
                let eps_next = schedule.at(k + 1);
                let link = |i: usize, si: f64| side_a.link(i, si, f[i], omega, eps, eps_next);
                std::mem::swap(&mut t, &mut t_prev);
                let chain = SoftminChain {
                    eps_rows: eps,
                    h: h_b.view(),
                    guess_rows,
                    link: &link,
                    eps_cols: eps_next,
                    guess_cols: Some(t_prev.view()),
                };
                geom.softmin_chain(&chain, s.view_mut(), t.view_mut())?;
                t_ready = true;
            } else {
                geom.softmin_near(Axis::Rows, eps, h_b.view(), guess_rows, s.view_mut())?;
                t_ready = false;
            }
            check_softmin(&s, &side_a, Axis::Rows, k, eps)?;
            side_a.marginal_ratio(
                as_slice(&f),
                as_slice(&s),
                0.0,
                eps,
                as_slice_mut(&mut ratio_a),
            );
            let error = side_a.marginal_error(as_slice(&ratio_a), as_slice(&f))
                + side_b.marginal_error(as_slice(&ratio_b), as_slice(&g));
            if !error.is_finite() {
                return Err(Error::Numerical {
                    solver: "sinkhorn",
                    iteration: k + 1,
                    epsilon: eps,
                    detail: format!("the marginal error is {error}"),
                });
            }
            errors.push(error);
            relaxation.observe(k, &errors, schedule.is_final(k));
            if let Some(state) = &mut anderson {
                state.observe(k, error, schedule.is_final(k));
            }
            observer.step(&Progress {
                iteration: k + 1,
                max_iterations: self.max_iterations,
                error,
                epsilon: eps,
            })?;
            if schedule.is_final(k) && error <= self.threshold && k + 1 >= self.min_iterations {
                converged = true;
                break;
            }
            if k + 1 == self.max_iterations {
                break;
            }
            step::update(
                &side_a,
                &side_b,
                as_slice(&s),
                as_slice_mut(&mut f),
                as_slice_mut(&mut g),
                eps,
                step::Rule {
                    mode: self.unbalanced_updates,
                    omega,
                },
            );
            if let Some(state) = &mut anderson
                && state.active()
                && schedule.is_final(k)
            {
                // A fused iteration has already swept with this f: record it only.
                state.mix(&f_start, as_slice_mut(&mut f), !t_ready);
            }
        }

        Ok(SinkhornOutput::new(
            problem,
            f,
            g,
            ratio_a,
            ratio_b,
            eps,
            converged,
            errors,
            self.threshold,
        ))
    }
}

fn as_slice(v: &Array1<f64>) -> &[f64] {
    v.as_slice().expect("owned vectors are contiguous")
}

fn as_slice_mut(v: &mut Array1<f64>) -> &mut [f64] {
    v.as_slice_mut().expect("owned vectors are contiguous")
}

fn checked_init(arg: &'static str, v: ArrayView1<'_, f64>, len: usize) -> Result<Array1<f64>> {
    if v.len() != len {
        return Err(Error::Shape {
            arg,
            expected: format!("length {len}"),
            got: format!("length {}", v.len()),
        });
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            arg,
            index: Index::Vector(i),
            value: v[i],
        });
    }
    Ok(v.to_owned())
}

/// A softmin output must be finite wherever the weight is positive: `+∞` means that point
/// can reach no mass (all its costs are forbidden), NaN means the numbers broke down.
fn check_softmin(s: &Array1<f64>, side: &Side<'_>, axis: Axis, k: usize, eps: f64) -> Result<()> {
    let bad = s
        .iter()
        .zip(side.weights)
        .position(|(v, &w)| w > 0.0 && !v.is_finite());
    let Some(i) = bad else { return Ok(()) };
    let (what, other) = match axis {
        Axis::Rows => ("row", "target"),
        Axis::Cols => ("column", "source"),
    };
    let detail = if s[i] == f64::INFINITY {
        format!(
            "{what} {i} has no finite cost to any {other} point of positive weight (all its pairs are forbidden)"
        )
    } else {
        format!("the softmin of {what} {i} is {}", s[i])
    };
    Err(Error::Numerical {
        solver: "sinkhorn",
        iteration: k + 1,
        epsilon: eps,
        detail,
    })
}
