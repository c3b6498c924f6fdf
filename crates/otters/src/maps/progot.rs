//! ProgOT: progressive entropic transport (Kassraie, Pooladian, Klein, Thornton,
//! Niles-Weed, Cuturi 2024), ALGORITHMS.md M4. From `x⁰ = x`, each stage solves entropic OT
//! between the current points and the target and moves part of the way along the entropic
//! map: `x^{k+1} = (1 − α_k)·x^k + α_k·T_{ε_k}(x^k)`. The stages are kept, so new points follow
//! the same steps (an out-of-sample map); the last stage's plan couples `x` with `y`.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::geometry::{PointCloud, SqEuclidean};
use crate::linear::{LinearProblem, Sinkhorn, SinkhornOutput};

/// How far each stage moves along its entropic map.
#[derive(Debug, Clone, PartialEq)]
pub enum StepSchedule {
    /// `α_k = 1/(K − k)`: equal displacements along a straight path, the last stage lands
    /// on the map (the paper's constant-speed schedule).
    ConstantSpeed,
    /// The given `α_k ∈ (0, 1]`, one per stage.
    Given(Vec<f64>),
}

/// ProgOT settings: `steps` stages, each solved by `sinkhorn` (a relative ε is resolved on
/// each stage's own cost, so it shrinks as the points approach the target), squared
/// Euclidean cost.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgOt {
    /// The number of stages K ≥ 1.
    pub steps: usize,
    /// The step sizes α_k.
    pub schedule: StepSchedule,
    /// The Sinkhorn solver of every stage.
    pub sinkhorn: Sinkhorn,
}

/// One stage: the points it started from, the target, and its Sinkhorn solve.
#[derive(Debug, Clone)]
struct Stage {
    cloud: PointCloud<SqEuclidean>,
    output: SinkhornOutput,
    alpha: f64,
}

/// The result of [`ProgOt::solve`].
#[derive(Debug, Clone)]
pub struct ProgOtOutput {
    stages: Vec<Stage>,
    points: Array2<f64>,
}

impl ProgOt {
    /// `steps` stages with the constant-speed schedule and the given Sinkhorn solver.
    pub fn new(steps: usize, sinkhorn: Sinkhorn) -> Self {
        ProgOt {
            steps,
            schedule: StepSchedule::ConstantSpeed,
            sinkhorn,
        }
    }

    fn alphas(&self) -> Result<Vec<f64>> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", "must be >= 1", 0));
        }
        match &self.schedule {
            StepSchedule::ConstantSpeed => Ok((0..self.steps)
                .map(|k| 1.0 / (self.steps - k) as f64)
                .collect()),
            StepSchedule::Given(alphas) => {
                if alphas.len() != self.steps {
                    return Err(Error::Shape {
                        arg: "schedule",
                        expected: format!("{} step sizes (one per stage)", self.steps),
                        got: format!("{}", alphas.len()),
                    });
                }
                if let Some(a) = alphas.iter().find(|a| !(**a > 0.0 && **a <= 1.0)) {
                    return Err(Error::invalid(
                        "schedule",
                        "step sizes must be in (0, 1]",
                        a,
                    ));
                }
                Ok(alphas.clone())
            }
        }
    }

    /// Runs the stages from `x` (`n × d`, uniform weights) to `y` (`m × d`, uniform weights).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `steps` or `schedule`; the point errors of
    /// [`PointCloud::new`]; the errors of [`Sinkhorn::solve`].
    pub fn solve(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<ProgOtOutput> {
        let alphas = self.alphas()?;
        let mut points = x.to_owned();
        let mut stages = Vec::with_capacity(self.steps);
        for alpha in alphas {
            let cloud = PointCloud::sq_euclidean(points.view(), y)?;
            let output = self.sinkhorn.solve(&LinearProblem::uniform(&cloud)?)?;
            let mapped = output.entropic_map(&cloud, points.view())?;
            points = &points * (1.0 - alpha) + &mapped * alpha;
            stages.push(Stage {
                cloud,
                output,
                alpha,
            });
        }
        Ok(ProgOtOutput { stages, points })
    }
}

impl ProgOtOutput {
    /// The final points `x^K` (row `i` is where `x_i` went).
    pub fn points(&self) -> &Array2<f64> {
        &self.points
    }

    /// The Sinkhorn output of every stage.
    pub fn stage_outputs(&self) -> impl Iterator<Item = &SinkhornOutput> {
        self.stages.iter().map(|s| &s.output)
    }

    /// Whether every stage's Sinkhorn solve converged.
    pub fn converged(&self) -> bool {
        self.stages.iter().all(|s| s.output.converged())
    }

    /// The ProgOT map at new points `z` (`k × d`): the same stages,
    /// `z^{k+1} = (1 − α_k)·z^k + α_k·T_k(z^k)`.
    ///
    /// # Errors
    /// [`Error::Shape`] for points of another dimension; [`Error::NonFinite`] naming `x`.
    pub fn transport(&self, z: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let mut current = z.to_owned();
        for stage in &self.stages {
            let mapped = stage.output.entropic_map(&stage.cloud, current.view())?;
            current = &current * (1.0 - stage.alpha) + &mapped * stage.alpha;
        }
        Ok(current)
    }

    /// The coupling of the last stage, between `x` (through `x^{K−1}`, row by row) and `y`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] above [`DEFAULT_MEMORY_LIMIT`](crate::DEFAULT_MEMORY_LIMIT).
    pub fn plan(&self) -> Result<Array2<f64>> {
        let last = self.stages.last().expect("at least one stage");
        last.output.plan(&LinearProblem::uniform(&last.cloud)?)
    }
}
