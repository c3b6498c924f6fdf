//! One module per subcommand, and what they share: building geometries from arguments and
//! running a solver with a progress bar and Ctrl-C.

pub mod barycenter;
pub mod demo;
mod quadratic;
pub mod solve;

use std::fmt;

/// A command-line combination that clap cannot express (exit status 2, like clap's own).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
