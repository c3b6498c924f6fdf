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

use ndarray::{Array1, Array2, ArrayView1};

pub use anderson::Anderson;
pub use init::{sorting_init, subsample_init};
pub use output::SinkhornOutput;
pub use settings::{Acceleration, Epsilon, EpsilonScaling, Sinkhorn, UnbalancedUpdates};

use self::anderson::AndersonState;
use self::momentum::{Relaxation, RelaxationMode};
use self::schedule::Schedule;
use self::step::Side;
use crate::error::{Error, Index, Result};
use crate::geometry::{Axis, SoftminChain, Sweep};
use crate::linear::{LinearProblem, LinearProblemBatch, MarginalPenalty};
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
        let batch = LinearProblemBatch::single(problem.clone());
        let init = init.map(|p| [p]);
        let mut outputs = self.run(&batch, init.as_ref().map(|i| &i[..]), observer)?;
        Ok(outputs.pop().expect("one output per problem"))
    }

    /// Solves the `k` problems of `batch` together: every sweep reads the cost once for all
    /// the problems still running (a problem that has converged stops costing), and each
    /// output is bit for bit the one [`solve`](Self::solve) gives for that problem alone.
    ///
    /// # Errors
    /// As [`solve`](Self::solve); errors about one problem are [`Error::InBatch`].
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array2, array};
    /// use otters::geometry::DenseCost;
    /// use otters::linear::{Epsilon, LinearProblem, LinearProblemBatch, MarginalPenalty, Sinkhorn};
    ///
    /// let cost = Array2::from_shape_fn((4, 4), |(i, j)| (i as f64 - j as f64).powi(2));
    /// let geom = DenseCost::new(cost.view())?;
    /// let a = Array2::from_elem((1, 4), 0.25);
    /// let b = array![[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]];
    /// let batch = LinearProblemBatch::new(&geom, a.view(), b.view(), MarginalPenalty::Hard, MarginalPenalty::Hard)?;
    /// let solver = Sinkhorn::new(Epsilon::Absolute(0.1));
    /// let outs = solver.solve_batch(&batch)?;
    /// let alone = solver.solve(&batch.problems()[1])?;
    /// assert_eq!(outs[1].f(), alone.f()); // the same bits
    /// # Ok::<(), otters::Error>(())
    /// ```
    pub fn solve_batch(&self, batch: &LinearProblemBatch<'_>) -> Result<Vec<SinkhornOutput>> {
        self.run(batch, None, &Observer::new())
    }

    /// [`solve_batch`](Self::solve_batch) from the warm starts `init` (one per problem),
    /// reporting progress (the largest marginal error among the problems still running).
    ///
    /// # Errors
    /// As [`solve_batch`](Self::solve_batch), plus [`Error::Shape`] naming `init` for a number
    /// of warm starts other than the number of problems.
    pub fn solve_batch_with(
        &self,
        batch: &LinearProblemBatch<'_>,
        init: Option<&[Potentials<'_>]>,
        observer: &Observer<'_>,
    ) -> Result<Vec<SinkhornOutput>> {
        self.run(batch, init, observer)
    }

    /// The solver loop, for one problem or a batch.
    fn run(
        &self,
        batch: &LinearProblemBatch<'_>,
        init: Option<&[Potentials<'_>]>,
        observer: &Observer<'_>,
    ) -> Result<Vec<SinkhornOutput>> {
        self.check()?;
        let geom = batch.geom();
        let problems = batch.problems();
        let k = problems.len();
        let (n, m) = geom.shape();
        let in_batch = |e: Error, p: usize| if k > 1 { e.in_batch(p) } else { e };
        let target = self.epsilon.resolve(|| geom.summary())?;
        let schedule = Schedule::new(self.scaling, target, || geom.summary())?;
        let (penalty_a, penalty_b) = problems[0].penalties();

        let (mut f, mut g) = (Array2::zeros((k, n)), Array2::zeros((k, m)));
        if let Some(init) = init {
            if init.len() != k {
                return Err(Error::Shape {
                    arg: "init",
                    expected: format!("{k} warm starts (one per problem)"),
                    got: format!("{}", init.len()),
                });
            }
            for (p, start) in init.iter().enumerate() {
                f.row_mut(p)
                    .assign(&checked_init("init.f", start.f, n).map_err(|e| in_batch(e, p))?);
                g.row_mut(p)
                    .assign(&checked_init("init.g", start.g, m).map_err(|e| in_batch(e, p))?);
            }
        }
        // A warm start's g came from a column softmin by the penalty's update (`g = s` for a
        // hard marginal, `ρ/(ρ+ε)·s` for KL): inverted, a guess for the first column sweep,
        // which then needs one pass instead of the exact two (it falls back where off).
        let first_guess: Option<Array2<f64>> = init.and_then(|_| match penalty_b {
            MarginalPenalty::Hard => Some(g.clone()),
            MarginalPenalty::Kl { rho } => Some(&g * ((rho + schedule.at(0)) / rho)),
            MarginalPenalty::TotalVariation { .. } => None,
        });
        let (mut h_a, mut h_b) = (Array2::zeros((k, n)), Array2::zeros((k, m)));
        // Softmins of this iteration (s, t) and of the previous one (guesses for the next).
        let (mut s, mut t) = (Array2::zeros((k, n)), Array2::zeros((k, m)));
        let (mut s_prev, mut t_prev) = (Array2::zeros((k, n)), Array2::zeros((k, m)));
        let (mut ratio_a, mut ratio_b) = (Array2::zeros((k, n)), Array2::zeros((k, m)));
        let sides: Vec<(Side<'_>, Side<'_>)> = problems
            .iter()
            .map(|pr| (Side::new(pr.a(), penalty_a), Side::new(pr.b(), penalty_b)))
            .collect();
        // Without translations, the f-update is entry by entry and the row sweep, f-update
        // and next column sweep fuse into one pass over the cost (`softmin_chain`).
        let fusable = !step::translates(&sides[0].0, &sides[0].1, self.unbalanced_updates);
        let mut states: Vec<State> = sides
            .iter()
            .map(|(side_a, _)| State::new(self, side_a, fusable))
            .collect();
        let mut active: Vec<usize> = (0..k).collect();
        let rule = |omega| step::Rule {
            mode: self.unbalanced_updates,
            omega,
        };

        for it in 0..self.max_iterations {
            let eps = schedule.at(it);
            for &p in &active {
                let st = &mut states[p];
                st.omega = st.relaxation.omega();
                if st.anderson.as_ref().is_some_and(AndersonState::active) {
                    st.f_start.clear();
                    st.f_start.extend(f.row(p).iter().copied());
                }
            }
            // g-updates; their sweep also gives the column marginal of the new (f, g).
            let group: Vec<usize> = active
                .iter()
                .copied()
                .filter(|&p| !states[p].t_ready)
                .collect();
            if !group.is_empty() {
                for &p in &group {
                    sides[p]
                        .0
                        .log_plan_factor(row(&f, p), eps, row_mut(&mut h_a, p));
                    t_prev.row_mut(p).assign(&t.row(p));
                }
                let guess = if it == 0 {
                    first_guess.as_ref()
                } else {
                    Some(&t_prev)
                };
                sweep_group(geom, Axis::Cols, eps, &group, &h_a, guess, &mut t)?;
            }
            for &p in &active {
                let (side_a, side_b) = &sides[p];
                check_softmin(row(&t, p), side_b, Axis::Cols, it, eps)
                    .map_err(|e| in_batch(e, p))?;
                let (fp, gp) = (row_mut(&mut f, p), row_mut(&mut g, p));
                let shift = step::update(
                    side_b,
                    side_a,
                    row(&t, p),
                    gp,
                    fp,
                    eps,
                    rule(states[p].omega),
                );
                side_b.marginal_ratio(row(&g, p), row(&t, p), shift, eps, row_mut(&mut ratio_b, p));
                side_b.log_plan_factor(row(&g, p), eps, row_mut(&mut h_b, p));
                s_prev.row_mut(p).assign(&s.row(p));
            }

            // Row sweeps: the marginal error of the current (f, g), then the f-update; fused
            // with the next column sweep where no Anderson mixing intervenes.
            let (fused, plain): (Vec<usize>, Vec<usize>) = active.iter().partition(|&&p| {
                let mixes = states[p]
                    .anderson
                    .as_ref()
                    .is_some_and(|a| schedule.is_final(it) && a.mixes_next());
                fusable && !mixes && it + 1 < self.max_iterations
            });
            let guess_rows = (it > 0).then_some(&s_prev);
            if !fused.is_empty() {
                let eps_next = schedule.at(it + 1);
                for &p in &fused {
                    t_prev.row_mut(p).assign(&t.row(p));
                }
                let (f_ref, states_ref, sides_ref) = (&f, &states, &sides);
                let link = |q: usize, i: usize, si: f64| {
                    let p = fused[q];
                    sides_ref[p]
                        .0
                        .link(i, si, f_ref[[p, i]], states_ref[p].omega, eps, eps_next)
                };
                chain_group(
                    geom,
                    &fused,
                    (eps, eps_next),
                    (&h_b, guess_rows, &t_prev),
                    &link,
                    (&mut s, &mut t),
                )?;
                fused.iter().for_each(|&p| states[p].t_ready = true);
            }
            if !plain.is_empty() {
                sweep_group(geom, Axis::Rows, eps, &plain, &h_b, guess_rows, &mut s)?;
                plain.iter().for_each(|&p| states[p].t_ready = false);
            }
            let mut largest = 0.0f64;
            for &p in &active {
                let (side_a, side_b) = &sides[p];
                check_softmin(row(&s, p), side_a, Axis::Rows, it, eps)
                    .map_err(|e| in_batch(e, p))?;
                side_a.marginal_ratio(row(&f, p), row(&s, p), 0.0, eps, row_mut(&mut ratio_a, p));
                let error = side_a.marginal_error(row(&ratio_a, p), row(&f, p))
                    + side_b.marginal_error(row(&ratio_b, p), row(&g, p));
                if !error.is_finite() {
                    let e = Error::Numerical {
                        solver: "sinkhorn",
                        iteration: it + 1,
                        epsilon: eps,
                        detail: format!("the marginal error is {error}"),
                    };
                    return Err(in_batch(e, p));
                }
                let st = &mut states[p];
                st.errors.push(error);
                st.epsilon = eps;
                st.relaxation.observe(it, &st.errors, schedule.is_final(it));
                if let Some(a) = &mut st.anderson {
                    a.observe(it, error, schedule.is_final(it));
                }
                largest = largest.max(error);
            }
            observer.step(&Progress {
                iteration: it + 1,
                max_iterations: self.max_iterations,
                error: largest,
                epsilon: eps,
            })?;
            active.retain(|&p| {
                let st = &mut states[p];
                let error = *st.errors.last().expect("one error per iteration");
                st.converged = schedule.is_final(it)
                    && error <= self.threshold
                    && it + 1 >= self.min_iterations;
                !st.converged
            });
            if active.is_empty() || it + 1 == self.max_iterations {
                break;
            }
            for &p in &active {
                let (side_a, side_b) = &sides[p];
                let (fp, gp) = (row_mut(&mut f, p), row_mut(&mut g, p));
                step::update(
                    side_a,
                    side_b,
                    row(&s, p),
                    fp,
                    gp,
                    eps,
                    rule(states[p].omega),
                );
                let st = &mut states[p];
                if let Some(a) = &mut st.anderson
                    && a.active()
                    && schedule.is_final(it)
                {
                    // A fused iteration has already swept with this f: record it only.
                    a.mix(&st.f_start, row_mut(&mut f, p), !st.t_ready);
                }
            }
        }

        Ok(problems
            .iter()
            .zip(states)
            .enumerate()
            .map(|(p, (problem, st))| {
                SinkhornOutput::new(
                    problem,
                    f.row(p).to_owned(),
                    g.row(p).to_owned(),
                    ratio_a.row(p).to_owned(),
                    ratio_b.row(p).to_owned(),
                    st.epsilon,
                    st.converged,
                    st.errors,
                    self.threshold,
                )
            })
            .collect())
    }
}

/// The per-problem state of the solver loop.
struct State {
    errors: Vec<f64>,
    converged: bool,
    /// The ε of the last iteration.
    epsilon: f64,
    anderson: Option<AndersonState>,
    relaxation: Relaxation,
    omega: f64,
    /// Whether this iteration's column sweep was done by the previous (fused) one.
    t_ready: bool,
    /// The iterate each iteration starts from (for Anderson acceleration).
    f_start: Vec<f64>,
}

impl State {
    fn new(solver: &Sinkhorn, side_a: &Side<'_>, fusable: bool) -> Self {
        // Anderson acceleration changes f after the update, so an iteration that mixes is not
        // fused. Where fusion is possible the history first fills with (cheaper) fused
        // iterations, so that fast solves never pay for separate sweeps.
        let (anderson, relaxation_mode) = match solver.acceleration {
            Acceleration::None => (None, RelaxationMode::None),
            Acceleration::Relaxation(w) => (None, RelaxationMode::Fixed(w)),
            Acceleration::AdaptiveRelaxation => (None, RelaxationMode::Adaptive),
            Acceleration::Anderson(settings) => {
                let min_history = if fusable { settings.memory } else { 2 };
                let state = AndersonState::new(settings, side_a.weights.iter(), min_history);
                (Some(state), RelaxationMode::None)
            }
        };
        // Over-relaxation applies to updates without translations (ω = 1 otherwise).
        let relaxation = Relaxation::new(if fusable {
            relaxation_mode
        } else {
            RelaxationMode::None
        });
        State {
            errors: Vec::new(),
            converged: false,
            epsilon: f64::NAN,
            anderson,
            relaxation,
            omega: 1.0,
            t_ready: false,
            f_start: Vec::new(),
        }
    }
}

/// Whether `group` is every problem, in order (then the arrays are swept in place).
fn is_everyone(group: &[usize], k: usize) -> bool {
    group.len() == k && group.iter().enumerate().all(|(q, &p)| q == p)
}

/// The rows `group` of `a`.
fn gather(a: &Array2<f64>, group: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((group.len(), a.ncols()), |(q, j)| a[[group[q], j]])
}

/// Writes the rows of `part` into the rows `group` of `a`.
fn scatter(part: &Array2<f64>, group: &[usize], a: &mut Array2<f64>) {
    for (q, &p) in group.iter().enumerate() {
        a.row_mut(p).assign(&part.row(q));
    }
}

/// The batched sweep of the problems `group`: rows of `h`, guesses from rows of `guess`,
/// outputs into rows of `out`.
fn sweep_group(
    geom: &dyn crate::geometry::Geometry,
    axis: Axis,
    epsilon: f64,
    group: &[usize],
    h: &Array2<f64>,
    guess: Option<&Array2<f64>>,
    out: &mut Array2<f64>,
) -> Result<()> {
    if is_everyone(group, h.nrows()) {
        let sweep = Sweep {
            axis,
            epsilon,
            h: h.view(),
            guess: guess.map(|a| a.view()),
        };
        return geom.softmin_batch(&sweep, out.view_mut());
    }
    let (hg, gg) = (gather(h, group), guess.map(|g| gather(g, group)));
    let mut part = Array2::zeros((group.len(), out.ncols()));
    let sweep = Sweep {
        axis,
        epsilon,
        h: hg.view(),
        guess: gg.as_ref().map(|a| a.view()),
    };
    geom.softmin_batch(&sweep, part.view_mut())?;
    scatter(&part, group, out);
    Ok(())
}

/// The batched fused iteration of the problems `group` (`link` takes positions in `group`).
fn chain_group(
    geom: &dyn crate::geometry::Geometry,
    group: &[usize],
    (eps, eps_next): (f64, f64),
    (h, guess_rows, guess_cols): (&Array2<f64>, Option<&Array2<f64>>, &Array2<f64>),
    link: &(dyn Fn(usize, usize, f64) -> f64 + Sync),
    (s, t): (&mut Array2<f64>, &mut Array2<f64>),
) -> Result<()> {
    if is_everyone(group, h.nrows()) {
        let chain = SoftminChain {
            eps_rows: eps,
            h: h.view(),
            guess_rows: guess_rows.map(|a| a.view()),
            link,
            eps_cols: eps_next,
            guess_cols: Some(guess_cols.view()),
        };
        return geom.softmin_chain(&chain, s.view_mut(), t.view_mut());
    }
    let (hg, gr, gc) = (
        gather(h, group),
        guess_rows.map(|g| gather(g, group)),
        gather(guess_cols, group),
    );
    let (mut sp, mut tp) = (
        Array2::zeros((group.len(), s.ncols())),
        Array2::zeros((group.len(), t.ncols())),
    );
    let chain = SoftminChain {
        eps_rows: eps,
        h: hg.view(),
        guess_rows: gr.as_ref().map(|a| a.view()),
        link,
        eps_cols: eps_next,
        guess_cols: Some(gc.view()),
    };
    geom.softmin_chain(&chain, sp.view_mut(), tp.view_mut())?;
    scatter(&sp, group, s);
    scatter(&tp, group, t);
    Ok(())
}

/// Row `p` of `a` as a slice.
fn row(a: &Array2<f64>, p: usize) -> &[f64] {
    let n = a.ncols();
    &a.as_slice().expect("owned arrays are contiguous")[p * n..(p + 1) * n]
}

/// Row `p` of `a` as a mutable slice.
fn row_mut(a: &mut Array2<f64>, p: usize) -> &mut [f64] {
    let n = a.ncols();
    &mut a.as_slice_mut().expect("owned arrays are contiguous")[p * n..(p + 1) * n]
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
fn check_softmin(s: &[f64], side: &Side<'_>, axis: Axis, k: usize, eps: f64) -> Result<()> {
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
