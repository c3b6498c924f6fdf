//! The `otters` command-line tool as a library: argument parsing, file input/output,
//! reports, plots and progress. It parses, reads, calls the `otters` library and writes;
//! no algorithm lives here. The binary (`src/main.rs`) only maps outcomes to exit codes.

pub mod args;
pub mod commands;
pub mod io;
pub mod plot;
pub mod progress;
pub mod report;

/// How a command ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything converged (exit 0).
    Done,
    /// A solve stopped at its budget (exit 3 unless `--allow-nonconverged`).
    NotConverged,
    /// Ctrl-C stopped the solve; a partial report was written (exit 130).
    Interrupted,
}

/// Runs a parsed command line.
///
/// # Errors
/// Any input, numerical or I/O error, as one line with its context.
pub fn run(cli: args::Cli) -> anyhow::Result<Outcome> {
    if let Some(threads) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global()?;
    }
    match cli.command {
        args::Command::Demo(a) => commands::demo::run(&a),
        args::Command::Solve(a) => commands::solve::run(&a),
        args::Command::Barycenter(a) => commands::barycenter::run(&a),
    }
}
