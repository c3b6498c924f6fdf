//! Command-line arguments (clap). Numbers are range-checked here, so `--epsilon -1` is a
//! usage error naming the flag (exit 2); everything else is validated by the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use otters::geometry::Precision;

const EXAMPLES: &str = "Examples:
  otters demo
  otters solve --x source.npy --y target.npy --method sinkhorn --epsilon 0.01 --out results/
  otters solve --cost C.csv --a a.csv --b b.csv --method exact --out results/ --json
  otters solve --x data.npz:xs --y data.npz:xt --method unbalanced --rho 0.5 --plot plan.png
  otters solve --x shape2d.npy --y shape3d.npy --method gw --scale-cost max --out results/
  otters solve --cost-xx Cx.npy --cost-yy Cy.npy --cost M.npy --method fgw --alpha 0.5
  otters solve --x shape.npy --y noisy_shape.npy --method ugw --rho 1 --epsilon 0.01 --scale-cost max
  otters solve --x big_source.npy --y big_target.npy --method lowrank --rank 20 --scale-cost max
  otters solve --x cells_rna.npy --y cells_atac.npy --method lrgw --rank 10 --scale-cost max
  otters solve --x before.npy --y after.npy --method divergence --epsilon 0.05
  otters barycenter --histograms A.npy --cost M.npy --epsilon 0.001 --out results/
  otters barycenter --histograms images.npy --grid 64,64 --epsilon 0.004 --debiased

Exit status: 0 success, 1 invalid input or failure, 2 usage error, 3 not converged
(unless --allow-nonconverged), 130 interrupted.";

/// Computational optimal transport: exact, entropic and unbalanced OT from files.
#[derive(Debug, Parser)]
#[command(name = "otters", version, about, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Solve exact, entropic and unbalanced OT between two built-in point clouds (a
    /// Gaussian blob and a ring), print a table and write a plot.
    #[command(after_help = "Example:\n  otters demo --n 3000 --plot demo.svg")]
    Demo(DemoArgs),
    /// Solve an OT problem read from .npy, .npz or .csv files and write the results.
    #[command(after_help = EXAMPLES)]
    Solve(Box<SolveArgs>),
    /// Average histograms on common bins: the entropic Wasserstein barycenter (POT's
    /// `bregman.barycenter` and `convolutional_barycenter2d`), balanced, unbalanced with
    /// --rho, or debiased with --debiased; writes barycenter.npy.
    #[command(after_help = EXAMPLES)]
    Barycenter(Box<BarycenterArgs>),
}

/// The solvers `--method` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Exact OT (network simplex; LAPJV for uniform square problems).
    Exact,
    /// Balanced entropic OT (log-domain Sinkhorn).
    Sinkhorn,
    /// Unbalanced entropic OT: marginals penalized by --rho (KL or TV).
    Unbalanced,
    /// Gromov–Wasserstein between the costs within each space (--x and --y may differ in
    /// dimension, or give --cost-xx and --cost-yy): conditional gradient, or entropic when
    /// --epsilon is given.
    Gw,
    /// Fused Gromov–Wasserstein: GW weighted by --alpha plus (1 − alpha) times the linear
    /// cost between the spaces (--cost, or the points' cost when they share a dimension).
    Fgw,
    /// Unbalanced Gromov–Wasserstein (needs --rho and --epsilon): weights of any masses,
    /// marginals penalized by rho·KL⊗, entropic term epsilon·KL⊗; with --cost, fused with
    /// --alpha as fgw.
    Ugw,
    /// Low-rank OT of rank --rank (P = Q diag(1/g) Rᵀ; linear time in the number of points
    /// for squared-Euclidean point clouds).
    Lowrank,
    /// Low-rank Gromov–Wasserstein of rank --rank (square loss; linear time for
    /// squared-Euclidean point clouds); unbalanced with --rho, fused with --cost and
    /// --alpha as fgw. Scale the costs (--scale-cost max): the step assumes costs of order one.
    Lrgw,
    /// Sinkhorn divergence between the point clouds --x and --y:
    /// OT_ε(x, y) − ½OT_ε(x, x) − ½OT_ε(y, y), balanced, or unbalanced with --rho (KL, plus
    /// the mass term); ≥ 0 and 0 only for equal measures. The plan and potentials written
    /// are those of the cross term.
    Divergence,
}

/// Losses comparing the two spaces' costs in (fused) GW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GwLossArg {
    /// (c − c')²
    Square,
    /// c·log(c/c') − c + c'
    Kl,
}

/// Ground costs between points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CostFnArg {
    /// |x − y|²
    Sqeuclidean,
    /// |x − y|
    Euclidean,
    /// Σ|x_k − y_k|
    L1,
    /// Σ|x_k − y_k|^p (set --p)
    Lp,
    /// 1 − cos(x, y)
    Cosine,
}

/// Cost rescaling before solving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// The cost as given.
    None,
    /// Divide by the largest entry.
    Max,
    /// Divide by the mean.
    Mean,
    /// Divide by the median.
    Median,
}

/// Marginal penalties of unbalanced OT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PenaltyArg {
    /// ρ·KL(P1 | a)
    Kl,
    /// ρ·|P1 − a|₁
    Tv,
}

/// How Sinkhorn iterations are accelerated (the solution is the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccelerationArg {
    /// Anderson acceleration of the potentials (memory 8).
    Anderson,
    /// Over-relaxation with ω measured from the convergence rate.
    Adaptive,
    /// Plain Sinkhorn iterations.
    None,
}

/// Options of `otters demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Points in each cloud.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub n: u32,
    /// Entropic regularization, relative to the mean of the (max-scaled) cost.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = positive)]
    pub epsilon: f64,
    /// Strength ρ of the KL marginal penalties of the unbalanced solve.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = positive)]
    pub rho: f64,
    /// Seed of the built-in clouds.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the plot (.png or .svg).
    #[arg(long, default_value = "otters-demo.png")]
    pub plot: PathBuf,
    /// Do not write a plot.
    #[arg(long, conflicts_with = "plot")]
    pub no_plot: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 0 even if a solve did not converge.
    #[arg(long)]
    pub allow_nonconverged: bool,
}

/// The input files of `otters solve`: points or a cost matrix.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct Inputs {
    /// Source points, n × d (FILE or FILE.npz:NAME).
    #[arg(long, value_name = "FILE", requires = "y")]
    pub x: Option<String>,
    /// Target points, m × d (m × d' for gw).
    #[arg(long, value_name = "FILE", requires = "x")]
    pub y: Option<String>,
    /// Cost matrix, n × m (+inf marks a forbidden pair); for fgw, the linear cost.
    #[arg(long, value_name = "FILE")]
    pub cost: Option<String>,
    /// Costs within the source space, n × n (gw, fgw, ugw).
    #[arg(long, value_name = "FILE", requires = "cost_yy", conflicts_with_all = ["x", "y"])]
    pub cost_xx: Option<String>,
    /// Costs within the target space, m × m (gw, fgw, ugw).
    #[arg(long, value_name = "FILE", requires = "cost_xx", conflicts_with_all = ["x", "y"])]
    pub cost_yy: Option<String>,
}

/// Options of `otters solve`.
#[derive(Debug, Args)]
pub struct SolveArgs {
    /// Give exactly one of `--cost` or `--x` with `--y`.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Source weights (default uniform).
    #[arg(long, value_name = "FILE")]
    pub a: Option<String>,
    /// Target weights (default uniform).
    #[arg(long, value_name = "FILE")]
    pub b: Option<String>,
    /// The solver.
    #[arg(long, value_enum, default_value_t = Method::Sinkhorn)]
    pub method: Method,
    /// Ground cost for point inputs.
    #[arg(long, value_enum, default_value_t = CostFnArg::Sqeuclidean)]
    pub cost_fn: CostFnArg,
    /// Exponent of `--cost-fn lp`.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true, value_parser = positive)]
    pub p: f64,
    /// Rescale the cost before solving.
    #[arg(long, value_enum, default_value_t = ScaleArg::None)]
    pub scale_cost: ScaleArg,
    /// Precision the cost is stored (--cost) or computed (--x/--y) in: f64 or f32 (float32
    /// halves the memory traffic and doubles the SIMD width; potentials and reported values
    /// stay float64, accurate to a few 1e-6 of the largest cost).
    #[arg(long, default_value = "f64", value_parser = parse_precision, value_name = "f64|f32")]
    pub precision: Precision,
    /// Entropic regularization ε, absolute (in cost units).
    #[arg(long, allow_negative_numbers = true, value_parser = positive, conflicts_with = "relative_epsilon")]
    pub epsilon: Option<f64>,
    /// Entropic regularization relative to the mean cost (ε = X · mean C); the default.
    #[arg(long, value_name = "X", allow_negative_numbers = true, value_parser = positive)]
    pub relative_epsilon: Option<f64>,
    /// ε-scaling: start at max C and multiply by this decay each iteration.
    #[arg(long, value_name = "DECAY", allow_negative_numbers = true, value_parser = unit_interval)]
    pub epsilon_scaling: Option<f64>,
    /// How Sinkhorn iterations are accelerated.
    #[arg(long, value_enum, default_value_t = AccelerationArg::Anderson)]
    pub acceleration: AccelerationArg,
    /// Marginal penalty strength of `--method unbalanced` and `ugw` (both sides).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub rho: Option<f64>,
    /// Penalty strength on the source marginal only (the other side stays exact unless given).
    #[arg(long, allow_negative_numbers = true, value_parser = positive, conflicts_with = "rho")]
    pub rho_a: Option<f64>,
    /// Penalty strength on the target marginal only.
    #[arg(long, allow_negative_numbers = true, value_parser = positive, conflicts_with = "rho")]
    pub rho_b: Option<f64>,
    /// Kind of marginal penalty of `--method unbalanced`.
    #[arg(long, value_enum, default_value_t = PenaltyArg::Kl)]
    pub penalty: PenaltyArg,
    /// Weight of the GW term in fgw and fused ugw (the linear cost gets 1 − alpha).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true, value_parser = closed_unit_interval)]
    pub alpha: f64,
    /// Rank of the coupling (lowrank).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub rank: u32,
    /// Loss comparing the two spaces' costs (gw, fgw, ugw).
    #[arg(long, value_enum, default_value_t = GwLossArg::Square)]
    pub loss: GwLossArg,
    /// Stop when the marginal L1 error is below this (Sinkhorn).
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true, value_parser = positive)]
    pub threshold: f64,
    /// Iteration (Sinkhorn) or pivot (exact) budget.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    pub max_iterations: Option<u64>,
    /// Write report.json, f.npy, g.npy and the plan into this directory (created if its
    /// parent exists).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace existing result files in --out.
    #[arg(long)]
    pub force: bool,
    /// Write a plot of the plan (.png or .svg): points and couplings for 2-D points, a heat
    /// map otherwise.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Largest dense plan (in bytes) written as plan.npy or plotted.
    #[arg(long, default_value_t = 1 << 30, value_name = "BYTES")]
    pub max_plan_bytes: usize,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 0 even if the solve did not converge.
    #[arg(long)]
    pub allow_nonconverged: bool,
}

/// Options of `otters barycenter`.
#[derive(Debug, Args)]
pub struct BarycenterArgs {
    /// The histograms to average, n × k: one column per histogram on the n bins (POT's
    /// layout), nonnegative; equal masses unless --rho is given.
    #[arg(long, value_name = "FILE")]
    pub histograms: String,
    /// Cost between the bins, n × n (+inf marks a forbidden pair).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "grid",
        conflicts_with = "grid"
    )]
    pub cost: Option<String>,
    /// Instead of --cost: the bins are a regular grid of these sizes on [0, 1]^d, in
    /// row-major order, with the squared Euclidean cost; the sweeps are separable (the
    /// convolutional barycenter), so large images need no n × n cost.
    #[arg(long, value_name = "N1,N2,...", value_delimiter = ',',
          value_parser = clap::value_parser!(u32).range(1..))]
    pub grid: Option<Vec<u32>>,
    /// Weights of the histograms, length k (default uniform; normalized to sum to 1).
    #[arg(long, value_name = "FILE")]
    pub weights: Option<String>,
    /// Entropic regularization ε, absolute (in cost units).
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    pub epsilon: f64,
    /// Unbalanced barycenter: marginal penalty ρ·KL on both sides of every plan (the
    /// histograms may then have different masses).
    #[arg(long, allow_negative_numbers = true, value_parser = positive, conflicts_with = "debiased")]
    pub rho: Option<f64>,
    /// Debiased barycenter (Sinkhorn divergences instead of entropic OT: no entropic blur).
    #[arg(long)]
    pub debiased: bool,
    /// Stop when the error (the spread of the plans' column marginals; the relative change
    /// of the barycenter for --rho and --debiased) is below this.
    #[arg(long, default_value_t = 1e-9, allow_negative_numbers = true, value_parser = positive)]
    pub threshold: f64,
    /// Iteration budget.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub max_iterations: u64,
    /// Write report.json and barycenter.npy into this directory (created if its parent
    /// exists).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace existing result files in --out.
    #[arg(long)]
    pub force: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 0 even if the solve did not converge.
    #[arg(long)]
    pub allow_nonconverged: bool,
}

/// A finite number > 0 (so `--epsilon -1`, `nan` or `inf` are usage errors naming the flag).
/// `f64`/`float64` or `f32`/`float32` (the strings of `otters::geometry::Precision`).
fn parse_precision(text: &str) -> Result<Precision, String> {
    text.parse().map_err(|e: otters::Error| e.to_string())
}

fn positive(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("must be a finite number > 0, got {text}"))
    }
}

/// A number in [0, 1].
fn closed_unit_interval(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be in [0, 1], got {text}"))
    }
}

/// A number in the open interval (0, 1).
fn unit_interval(text: &str) -> Result<f64, String> {
    let value = positive(text)?;
    if value < 1.0 {
        Ok(value)
    } else {
        Err(format!("must be in (0, 1), got {text}"))
    }
}
