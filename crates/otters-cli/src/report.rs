//! The report of a solve: what was solved, with which parameters, and what came out. It is
//! written as `report.json`, printed with `--json`, or summarized as text.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

/// How the solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Converged (or optimal, for exact OT).
    Converged,
    /// Stopped at its iteration budget.
    NotConverged,
    /// Stopped by Ctrl-C; the results are partial.
    Interrupted,
}

/// The problem as read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProblemInfo {
    /// Source points or rows of the cost.
    pub n: usize,
    /// Target points or columns of the cost.
    pub m: usize,
    /// Dimension of the points (absent for a cost matrix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<usize>,
    /// Histograms averaged (`otters barycenter`; `n = m` bins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histograms: Option<usize>,
    /// The input files, by role (`x`, `y`, `cost`, `a`, `b`).
    pub inputs: BTreeMap<String, String>,
    /// Conversions and other notes.
    pub notes: Vec<String>,
}

/// The settings the solve ran with.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Parameters {
    /// Ground cost for points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_fn: Option<String>,
    /// Cost rescaling.
    pub scale_cost: String,
    /// Precision the cost is read or computed in ("float64" or "float32").
    pub precision: String,
    /// The absolute ε used (entropic methods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// Marginal penalty (unbalanced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub penalty: Option<String>,
    /// ρ on the source marginal (absent: exact marginal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho_a: Option<f64>,
    /// ρ on the target marginal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho_b: Option<f64>,
    /// Stopping threshold (entropic methods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Iteration or pivot budget.
    pub max_iterations: u64,
}

/// One solve's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The otters version that produced it.
    pub otters_version: &'static str,
    /// How it ended.
    pub status: Status,
    /// The `--method` asked for.
    pub method: String,
    /// The algorithm that ran.
    pub solver: String,
    /// The problem.
    pub problem: ProblemInfo,
    /// The settings.
    pub parameters: Parameters,
    /// `⟨C, P⟩` (absent when interrupted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// The regularized (dual) cost of entropic methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regularized_cost: Option<f64>,
    /// The Sinkhorn divergence (`--method divergence`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence: Option<f64>,
    /// Whether the solver converged.
    pub converged: bool,
    /// Iterations (Sinkhorn) or pivots (network simplex) done.
    pub iterations: usize,
    /// The final L1 marginal error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marginal_error: Option<f64>,
    /// Total mass of the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transported_mass: Option<f64>,
    /// Total mass of the barycenter (`otters barycenter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barycenter_mass: Option<f64>,
    /// The final value of a stopping rule that is not a marginal error (`otters
    /// barycenter`: the spread of the plans' column marginals, or the relative change of the
    /// barycenter with --rho and --debiased).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopping_error: Option<f64>,
    /// Wall-clock seconds of the solve.
    pub seconds: f64,
    /// Files written, relative to the output directory.
    pub outputs: Vec<String>,
    /// The plot written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plot: Option<String>,
}

impl Report {
    /// A short human-readable summary.
    ///
    /// # Errors
    /// A write error (e.g. a closed pipe).
    pub fn print_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let status = match self.status {
            Status::Converged => "converged",
            Status::NotConverged => "NOT converged",
            Status::Interrupted => "interrupted",
        };
        match self.problem.histograms {
            Some(k) => writeln!(
                out,
                "otters barycenter: {k} histograms on {} bins ({})",
                self.problem.n, self.solver
            )?,
            None => writeln!(
                out,
                "otters solve: {} ({}) on {} x {}",
                self.method, self.solver, self.problem.n, self.problem.m
            )?,
        }
        writeln!(
            out,
            "  {status} after {} iterations in {:.3} s",
            self.iterations, self.seconds
        )?;
        if let Some(d) = self.divergence {
            writeln!(out, "  sinkhorn divergence       {d:.10}")?;
        }
        if let Some(c) = self.cost {
            writeln!(out, "  transport cost <C, P>     {c:.10}")?;
        }
        if let Some(c) = self.regularized_cost {
            writeln!(out, "  regularized cost (dual)   {c:.10}")?;
        }
        if let Some(e) = self.marginal_error {
            writeln!(out, "  marginal error            {e:.3e}")?;
        }
        if let Some(m) = self.transported_mass {
            writeln!(out, "  transported mass          {m:.10}")?;
        }
        if let Some(m) = self.barycenter_mass {
            writeln!(out, "  barycenter mass           {m:.10}")?;
        }
        if let Some(e) = self.stopping_error {
            writeln!(out, "  stopping error            {e:.3e}")?;
        }
        if let Some(eps) = self.parameters.epsilon {
            writeln!(out, "  epsilon                   {eps:.6e}")?;
        }
        for note in &self.problem.notes {
            writeln!(out, "  note: {note}")?;
        }
        if !self.outputs.is_empty() {
            writeln!(out, "  wrote: {}", self.outputs.join(", "))?;
        }
        if let Some(p) = &self.plot {
            writeln!(out, "  plot: {p}")?;
        }
        Ok(())
    }
}
