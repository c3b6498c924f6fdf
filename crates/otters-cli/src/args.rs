//! Command-line arguments (clap). Values are parsed here and validated by the library,
//! whose errors name the flag's argument.

use clap::{Args, Parser, Subcommand};

/// Computational optimal transport: exact, entropic and unbalanced OT.
#[derive(Debug, Parser)]
#[command(name = "otters", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Solve balanced and unbalanced entropic OT between two built-in point clouds.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Points in each cloud.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub n: u32,
    /// Entropic regularization, relative to the mean of the (max-scaled) cost.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = positive)]
    pub epsilon: f64,
    /// Stop when the marginal L1 error is below this.
    #[arg(long, default_value_t = 1e-6, allow_negative_numbers = true, value_parser = positive)]
    pub threshold: f64,
    /// Iteration budget.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_iterations: u32,
    /// KL strength ρ of the unbalanced solve, in units of the scaled cost.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = positive)]
    pub rho: f64,
    /// Seed of the built-in clouds.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 if a solve does not converge.
    #[arg(long)]
    pub strict: bool,
}

/// A finite number > 0 (so `--epsilon -1`, `nan` or `inf` are usage errors naming the flag).
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
