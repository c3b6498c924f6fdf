//! One module per subcommand, and what they share: building geometries from arguments and
//! running a solver with a progress bar and Ctrl-C.

pub mod barycenter;
pub mod demo;
mod quadratic;
mod shared;
pub mod solve;

use std::fmt;
use std::io::Write;

use crate::Outcome;
use crate::io::output::OutputDir;
use crate::report::Report;

/// A command-line combination that clap cannot express (exit status 2, like clap's own).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The end of a solve command: writes `report.json` into `out_dir` (listing the files
/// written), prints the report (JSON or text), and maps convergence to the outcome, with
/// `warning` on stderr when the solve did not converge.
///
/// # Errors
/// I/O errors writing the report or printing it.
pub(crate) fn finish(
    mut report: Report,
    out_dir: Option<&mut OutputDir>,
    json: bool,
    allow_nonconverged: bool,
    warning: &str,
) -> anyhow::Result<Outcome> {
    if let Some(dir) = out_dir {
        report.outputs = dir.written().to_vec();
        report.outputs.push("report.json".into());
        dir.write("report.json", |f| {
            Ok(serde_json::to_writer_pretty(f, &report)?)
        })?;
    }
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        report.print_text(&mut stdout)?;
    }
    if report.converged {
        return Ok(Outcome::Done);
    }
    eprintln!("otters: warning: {warning}");
    Ok(if allow_nonconverged {
        Outcome::Done
    } else {
        Outcome::NotConverged
    })
}

/// The end of an interrupted solve: writes the partial `report` (status `interrupted`) into
/// `out_dir` when there is one, and says so on stderr.
///
/// # Errors
/// I/O errors writing the report.
pub(crate) fn interrupted(
    report: &Report,
    out_dir: Option<&mut OutputDir>,
    iteration: usize,
) -> anyhow::Result<Outcome> {
    let written = out_dir.is_some();
    if let Some(dir) = out_dir {
        dir.write("report.json", |f| {
            Ok(serde_json::to_writer_pretty(f, report)?)
        })?;
    }
    eprintln!(
        "otters: interrupted at iteration {iteration}; partial report {}",
        if written {
            "written"
        } else {
            "not written (no --out)"
        }
    );
    Ok(Outcome::Interrupted)
}
