//! `otters`: optimal transport from the command line.
//!
//! Exit codes: 0 success; 1 invalid input, numerical or I/O failure (one line on stderr);
//! 2 usage error; 3 a solve did not converge (unless `--allow-nonconverged`); 130
//! interrupted by Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use otters_cli::{Outcome, args::Cli, progress};

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::install_interrupt_handler();
    match otters_cli::run(cli) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::NotConverged) => ExitCode::from(3),
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Err(err)
            if err
                .downcast_ref::<otters_cli::commands::UsageError>()
                .is_some() =>
        {
            let _ = writeln!(
                std::io::stderr(),
                "error: {err}\n\nFor more information, try '--help'."
            );
            ExitCode::from(2)
        }
        Err(err) => {
            // A closed stdout (e.g. `otters demo | head -1`) is not a failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "otters: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
