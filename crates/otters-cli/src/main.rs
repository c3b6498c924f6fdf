//! `otters`: optimal transport from the command line.
//!
//! Parses arguments, calls the library, prints a report. Exit codes: 0 success, 1 invalid
//! input or numerical failure, 2 usage error (clap), 3 not converged under `--strict`.

mod args;
mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// The outcome of a command that ran to the end.
pub(crate) enum Outcome {
    /// Converged (or nothing to converge).
    Done,
    /// A solve did not converge and `--strict` asked for that to fail.
    NotConverged,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NotConverged) => ExitCode::from(3),
        Err(err) => {
            // A closed stdout (e.g. `otters demo | head -1`) is not a failure.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "otters: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Demo(args) => commands::demo::run(&args),
    }
}
