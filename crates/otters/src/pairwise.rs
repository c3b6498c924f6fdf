//! All pairwise transport costs between `k` measures: the `k × k` matrices of entropic OT
//! costs, Sinkhorn divergences (ALGORITHMS.md D1) or exact OT costs that single-cell and
//! document analyses build by hand with a double loop.
//!
//! Histograms on one shared support are solved as batches of problems on the one geometry
//! ([`LinearProblemBatch`]): every sweep reads the cost once for a whole group of pairs, and
//! each pair's value is, bit for bit, the value of its own solve. Point clouds are solved pair
//! by pair, the pairs in parallel. The divergence's symmetric terms `OT_ε(α_i, α_i)` are
//! solved once per measure (with the averaged update of [`crate::divergence`]), not once per
//! pair.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::divergence::SymmetricSinkhorn;
use crate::error::{Error, Result};
use crate::geometry::{CostFn, Geometry, PointCloud};
use crate::linear::{
    Epsilon, LinearProblem, LinearProblemBatch, MarginalPenalty, NetworkSimplex, Sinkhorn,
};
use crate::observe::Observer;

/// Which transport cost fills the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PairwiseCost {
    /// `⟨C, P_ε⟩` of the entropic plan (POT's `sinkhorn2`); the diagonal holds
    /// `⟨C, P_ε⟩` of each measure with itself.
    Sinkhorn,
    /// The Sinkhorn divergence `S_ε = OT_ε(α, β) − ½OT_ε(α, α) − ½OT_ε(β, β)` (zero diagonal).
    #[default]
    Divergence,
    /// The exact OT cost by the network simplex (POT's `emd2`; zero diagonal).
    Exact,
}

impl PairwiseCost {
    /// The names accepted by [`FromStr`] (and the CLI and Python keywords).
    pub const NAMES: &'static str = "one of 'sinkhorn', 'sinkhorn_divergence', 'emd'";
}

impl fmt::Display for PairwiseCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PairwiseCost::Sinkhorn => "sinkhorn",
            PairwiseCost::Divergence => "sinkhorn_divergence",
            PairwiseCost::Exact => "emd",
        })
    }
}

impl FromStr for PairwiseCost {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sinkhorn" => Ok(PairwiseCost::Sinkhorn),
            "sinkhorn_divergence" | "divergence" => Ok(PairwiseCost::Divergence),
            "emd" | "exact" => Ok(PairwiseCost::Exact),
            other => Err(Error::invalid("cost", PairwiseCost::NAMES, other)),
        }
    }
}

/// The settings of a pairwise computation.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Pairwise {
    /// The value computed for each pair.
    pub cost: PairwiseCost,
    /// The settings of the entropic solves (a relative ε is resolved once, on the shared
    /// cost; point clouds need an absolute ε so that every pair has the same).
    pub sinkhorn: Sinkhorn,
    /// The settings of the exact solves.
    pub exact: NetworkSimplex,
    /// Number of pairs solved together in one batch (histograms).
    pub group: usize,
}

impl Default for Pairwise {
    fn default() -> Self {
        Pairwise::new(PairwiseCost::default(), Sinkhorn::default())
    }
}

/// The `k × k` matrix and, per pair, how its solve ended.
#[derive(Debug, Clone)]
pub struct PairwiseOutput {
    values: Array2<f64>,
    converged: Array2<bool>,
    iterations: Array2<usize>,
}

impl PairwiseOutput {
    /// The symmetric matrix of values.
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// Whether the solves behind each value met their threshold (for a divergence: the cross
    /// solve and both symmetric ones).
    pub fn converged(&self) -> ArrayView2<'_, bool> {
        self.converged.view()
    }

    /// Whether every solve converged.
    pub fn all_converged(&self) -> bool {
        self.converged.iter().all(|&c| c)
    }

    /// Iterations (Sinkhorn) or pivots (exact) of each pair's solve.
    pub fn iterations(&self) -> ArrayView2<'_, usize> {
        self.iterations.view()
    }
}

/// One pair's value, convergence and iterations.
type PairResult = (f64, bool, usize);

impl Pairwise {
    /// `cost` with the entropic settings `sinkhorn`, default exact settings and groups of 64
    /// pairs.
    pub fn new(cost: PairwiseCost, sinkhorn: Sinkhorn) -> Self {
        Pairwise {
            cost,
            sinkhorn,
            exact: NetworkSimplex::default(),
            group: 64,
        }
    }

    /// The matrix between the `k` histograms `measures` (`k × n`, one per row, each of the
    /// same mass) on the support of `geom` (an `n × n` cost between the support and itself).
    ///
    /// # Errors
    /// [`Error::Shape`] naming `geom` for a cost that is not `n × n`, or `measures` for no
    /// measure; [`Error::InvalidParameter`] naming `group` for 0; the errors of
    /// [`LinearProblemBatch::new`] and of the solvers (as [`Error::InBatch`] naming the pair).
    pub fn histograms(
        &self,
        geom: &dyn Geometry,
        measures: ArrayView2<'_, f64>,
        observer: &Observer<'_>,
    ) -> Result<PairwiseOutput> {
        let (k, n) = measures.dim();
        if geom.shape() != (n, n) {
            return Err(Error::Shape {
                arg: "geom",
                expected: format!("a {n} x {n} cost between the support and itself"),
                got: format!("{} x {}", geom.shape().0, geom.shape().1),
            });
        }
        self.check(k)?;
        let pairs = self.pairs(k);
        let results: Vec<PairResult> = match self.cost {
            PairwiseCost::Exact if pairs.is_empty() => Vec::new(),
            PairwiseCost::Exact => {
                // All pairs i < j as one batch: the cost is stored once, the pairs in parallel.
                let side = |pick: fn(&(usize, usize)) -> usize| {
                    measures.select(Axis(0), &pairs.iter().map(pick).collect::<Vec<_>>())
                };
                let (a, b) = (side(|p| p.0), side(|p| p.1));
                let batch = LinearProblemBatch::new(
                    geom,
                    a.view(),
                    b.view(),
                    MarginalPenalty::Hard,
                    MarginalPenalty::Hard,
                )?;
                self.exact
                    .solve_batch_with(&batch, observer)?
                    .iter()
                    .map(|out| (out.cost(), out.converged(), out.iterations()))
                    .collect()
            }
            PairwiseCost::Sinkhorn | PairwiseCost::Divergence => {
                let epsilon = self.sinkhorn.epsilon.resolve(|| geom.summary())?;
                let settings = Sinkhorn {
                    epsilon: Epsilon::Absolute(epsilon),
                    ..self.sinkhorn
                };
                self.entropic(geom, measures, &pairs, &settings, observer)?
            }
        };
        Ok(self.assemble(k, &pairs, results))
    }

    /// The matrix between `k` point clouds `clouds[i]` (`n_i × d`) with weights `weights[i]`
    /// (`None`: uniform), for the ground cost `cost_fn` (unscaled, so that every pair is in the
    /// same units). Pairs are solved in parallel.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `epsilon` for a relative ε (it would differ from
    /// pair to pair), or `weights` for a number of weight vectors other than `k`; the errors
    /// of [`PointCloud::new`] and of the solvers, as [`Error::InBatch`] naming the pair.
    pub fn point_clouds<C: CostFn>(
        &self,
        clouds: &[ArrayView2<'_, f64>],
        weights: Option<&[ArrayView1<'_, f64>]>,
        cost_fn: &C,
        observer: &Observer<'_>,
    ) -> Result<PairwiseOutput> {
        let k = clouds.len();
        self.check(k)?;
        if let Some(w) = weights
            && w.len() != k
        {
            return Err(Error::invalid(
                "weights",
                "one weight vector per point cloud",
                format!("{} weight vectors for {k} clouds", w.len()),
            ));
        }
        let epsilon = match self.sinkhorn.epsilon {
            Epsilon::Absolute(e) => e,
            other if self.cost != PairwiseCost::Exact => {
                return Err(Error::invalid(
                    "epsilon",
                    "pairwise point clouds need an absolute epsilon (a relative one would \
                     differ from pair to pair)",
                    format!("{other:?}"),
                ));
            }
            _ => 0.0,
        };
        let weight = |i: usize| -> Array1<f64> {
            match weights {
                Some(w) => w[i].to_owned(),
                None => Array1::from_elem(clouds[i].nrows(), 1.0 / clouds[i].nrows() as f64),
            }
        };
        let settings = Sinkhorn {
            epsilon: Epsilon::Absolute(epsilon),
            ..self.sinkhorn
        };
        let symmetric = SymmetricSinkhorn {
            epsilon,
            threshold: settings.threshold,
            max_iterations: settings.max_iterations,
        };
        // The symmetric terms of the divergence, once per cloud.
        let selves: Vec<(f64, bool, usize)> = if self.cost == PairwiseCost::Divergence {
            (0..k)
                .into_par_iter()
                .map(|i| {
                    let cloud = PointCloud::new(clouds[i], clouds[i], cost_fn.clone())?;
                    let out = symmetric.solve(
                        &cloud,
                        weight(i).view(),
                        MarginalPenalty::Hard,
                        observer,
                    )?;
                    Ok((out.reg_ot_cost(), out.converged(), out.iterations()))
                })
                .collect::<Result<_>>()?
        } else {
            Vec::new()
        };
        let pairs = self.pairs(k);
        let results: Vec<PairResult> = pairs
            .par_iter()
            .map(|&(i, j)| -> Result<PairResult> {
                if i == j && self.cost != PairwiseCost::Sinkhorn {
                    return Ok((0.0, selves.get(i).is_none_or(|s| s.1), 0));
                }
                let cloud = PointCloud::new(clouds[i], clouds[j], cost_fn.clone())?;
                let problem = LinearProblem::new(&cloud, weight(i), weight(j))?;
                match self.cost {
                    PairwiseCost::Exact => {
                        let out = self.exact.solve_with(&problem, observer)?;
                        Ok((out.cost(), out.converged(), out.iterations()))
                    }
                    PairwiseCost::Sinkhorn => {
                        let out = settings.solve_with(&problem, None, observer)?;
                        Ok((
                            out.linear_cost(&problem)?,
                            out.converged(),
                            out.iterations(),
                        ))
                    }
                    PairwiseCost::Divergence => {
                        let out = settings.solve_with(&problem, None, observer)?;
                        let value = out.reg_ot_cost() - 0.5 * (selves[i].0 + selves[j].0);
                        let converged = out.converged() && selves[i].1 && selves[j].1;
                        Ok((value, converged, out.iterations()))
                    }
                }
            })
            .enumerate()
            .map(|(p, r)| r.map_err(|e| e.in_batch(p)))
            .collect::<Result<_>>()?;
        Ok(self.assemble(k, &pairs, results))
    }

    fn check(&self, k: usize) -> Result<()> {
        if k == 0 {
            return Err(Error::Shape {
                arg: "measures",
                expected: "at least one measure".into(),
                got: "none".into(),
            });
        }
        if self.group == 0 {
            return Err(Error::invalid("group", "must be >= 1", "0".to_string()));
        }
        self.sinkhorn.check()
    }

    /// The pairs `(i, j)`, `i ≤ j`, in row order (the diagonal included: the Sinkhorn cost of
    /// a measure with itself is not zero).
    fn pairs(&self, k: usize) -> Vec<(usize, usize)> {
        (0..k)
            .flat_map(|i| (i..k).map(move |j| (i, j)))
            .filter(|&(i, j)| i < j || self.cost == PairwiseCost::Sinkhorn)
            .collect()
    }

    /// Entropic values of `pairs` on the shared support, in batches of [`group`](Self::group).
    fn entropic(
        &self,
        geom: &dyn Geometry,
        measures: ArrayView2<'_, f64>,
        pairs: &[(usize, usize)],
        settings: &Sinkhorn,
        observer: &Observer<'_>,
    ) -> Result<Vec<PairResult>> {
        let Epsilon::Absolute(epsilon) = settings.epsilon else {
            unreachable!("resolved by the caller")
        };
        let selves: Vec<(f64, bool)> = if self.cost == PairwiseCost::Divergence {
            let symmetric = SymmetricSinkhorn {
                epsilon,
                threshold: settings.threshold,
                max_iterations: settings.max_iterations,
            };
            measures
                .outer_iter()
                .map(|a| {
                    let out = symmetric.solve(geom, a, MarginalPenalty::Hard, observer)?;
                    Ok((out.reg_ot_cost(), out.converged()))
                })
                .collect::<Result<_>>()?
        } else {
            Vec::new()
        };
        let mut results = Vec::with_capacity(pairs.len());
        for (g, group) in pairs.chunks(self.group).enumerate() {
            let rows = |side: fn(&(usize, usize)) -> usize| {
                measures.select(Axis(0), &group.iter().map(side).collect::<Vec<_>>())
            };
            let (a, b) = (rows(|p| p.0), rows(|p| p.1));
            let batch = LinearProblemBatch::new(
                geom,
                a.view(),
                b.view(),
                MarginalPenalty::Hard,
                MarginalPenalty::Hard,
            )
            .map_err(|e| offset_batch(e, g * self.group))?;
            let outs = settings
                .solve_batch_with(&batch, None, observer)
                .map_err(|e| offset_batch(e, g * self.group))?;
            for ((&(i, j), out), problem) in group.iter().zip(&outs).zip(batch.problems()) {
                results.push(match self.cost {
                    PairwiseCost::Divergence => (
                        out.reg_ot_cost() - 0.5 * (selves[i].0 + selves[j].0),
                        out.converged() && selves[i].1 && selves[j].1,
                        out.iterations(),
                    ),
                    _ => (out.linear_cost(problem)?, out.converged(), out.iterations()),
                });
            }
        }
        Ok(results)
    }

    fn assemble(
        &self,
        k: usize,
        pairs: &[(usize, usize)],
        results: Vec<PairResult>,
    ) -> PairwiseOutput {
        let mut values = Array2::zeros((k, k));
        let mut converged = Array2::from_elem((k, k), true);
        let mut iterations = Array2::zeros((k, k));
        for (&(i, j), (v, c, it)) in pairs.iter().zip(results) {
            for (r, s) in [(i, j), (j, i)] {
                values[[r, s]] = v;
                converged[[r, s]] = c;
                iterations[[r, s]] = it;
            }
        }
        PairwiseOutput {
            values,
            converged,
            iterations,
        }
    }
}

/// A batch error renumbered from the group's problem index to the pair's.
fn offset_batch(e: Error, offset: usize) -> Error {
    match e {
        Error::InBatch { problem, source } => Error::InBatch {
            problem: problem + offset,
            source,
        },
        other => other,
    }
}
