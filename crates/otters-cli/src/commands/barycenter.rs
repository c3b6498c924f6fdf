//! `otters barycenter`: read histograms on common bins and their cost (or a grid), average
//! them by [`FixedSupportBarycenter`], write the barycenter and the report.

use std::time::Instant;

use anyhow::{Result, bail};
use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;
use otters::Error;
use otters::barycenter::{BarycenterInput, BarycenterOutput, FixedSupportBarycenter, unit_grid};
use otters::geometry::{DenseCost, Geometry};
use otters::linear::MASS_TOLERANCE;

use super::shared::usage;
use crate::Outcome;
use crate::args::BarycenterArgs;
use crate::io::output::OutputDir;
use crate::io::{InputSpec, read_matrix, read_vector};
use crate::progress::{self, Tracker};
use crate::report::{Parameters, ProblemInfo, Report, Status};

const OUTPUT_FILES: [&str; 2] = ["report.json", "barycenter.npy"];

/// Runs `otters barycenter`.
///
/// # Errors
/// Unreadable or invalid inputs (named by file), usage errors, I/O errors.
pub fn run(args: &BarycenterArgs) -> Result<Outcome> {
    let specs: Vec<(&str, InputSpec)> = [
        ("histograms", Some(&args.histograms)),
        ("cost", args.cost.as_ref()),
        ("weights", args.weights.as_ref()),
    ]
    .into_iter()
    .filter_map(|(role, v)| v.map(|t| (role, InputSpec::parse(t))))
    .collect();
    let input_paths: Vec<_> = specs.iter().map(|(_, s)| s.path.as_path()).collect();
    let mut out_dir = match &args.out {
        Some(dir) => Some(OutputDir::prepare(
            dir,
            &OUTPUT_FILES,
            &input_paths,
            args.force,
        )?),
        None => None,
    };
    let mut info = ProblemInfo::default();
    for (role, s) in &specs {
        info.inputs.insert(role.to_string(), s.label());
    }

    let (hist, note) = read_matrix(&specs[0].1, true, false)?;
    info.notes.extend(note);
    let (n, k) = hist.dim();
    check_histograms(&hist, &specs[0].1.label(), args.rho.is_none())?;
    (info.n, info.m, info.histograms) = (n, n, Some(k));

    let geom: Box<dyn Geometry> = match (&args.grid, specs.iter().find(|(r, _)| *r == "cost")) {
        (Some(dims), None) => {
            let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
            let bins = dims.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
            if bins != Some(n) {
                let bins = bins.map_or("too many".to_string(), |b| b.to_string());
                return Err(usage(format!(
                    "--grid {dims:?} has {bins} points, but the histograms have {n} bins (rows)"
                )));
            }
            info.dimension = Some(dims.len());
            Box::new(unit_grid(&dims)?)
        }
        (None, Some((_, sc))) => {
            let (c, note) = read_matrix(sc, false, true)?;
            info.notes.extend(note);
            if c.dim() != (n, n) {
                bail!(
                    "`{}`: the cost must be {n} x {n} (bins x bins, as the histograms' rows), got {} x {}",
                    sc.label(),
                    c.nrows(),
                    c.ncols()
                );
            }
            Box::new(DenseCost::new(c)?)
        }
        _ => return Err(usage("give exactly one of --cost or --grid")),
    };
    let lambdas = match specs.iter().find(|(r, _)| *r == "weights") {
        Some((_, s)) => {
            let (w, note) = read_vector(s)?;
            info.notes.extend(note);
            if w.len() != k {
                bail!(
                    "`{}`: {} weights for {k} histograms (columns of --histograms)",
                    s.label(),
                    w.len()
                );
            }
            if w.iter().any(|&v| v < 0.0) || w.sum() <= 0.0 {
                bail!(
                    "`{}`: the weights must be nonnegative with a positive sum",
                    s.label()
                );
            }
            Some(w)
        }
        None => None,
    };

    let solver = FixedSupportBarycenter {
        threshold: args.threshold,
        max_iterations: args.max_iterations as usize,
        rho: args.rho.unwrap_or(f64::INFINITY),
        ..FixedSupportBarycenter::new(args.epsilon)
    };
    let columns: Vec<Array1<f64>> = hist.columns().into_iter().map(|c| c.to_owned()).collect();
    let inputs: Vec<BarycenterInput<'_>> = columns
        .iter()
        .map(|c| BarycenterInput::new(geom.as_ref(), c.view()))
        .collect();
    let parameters = Parameters {
        scale_cost: "none".into(),
        precision: "float64".into(),
        epsilon: Some(args.epsilon),
        penalty: args.rho.map(|_| "kl".into()),
        rho_a: args.rho,
        rho_b: args.rho,
        threshold: Some(args.threshold),
        max_iterations: args.max_iterations,
        ..Parameters::default()
    };
    let solver_name = format!(
        "iterative Bregman projections (log domain{}{})",
        if args.grid.is_some() {
            ", separable grid"
        } else {
            ""
        },
        match (args.rho, args.debiased) {
            (Some(_), _) => ", unbalanced",
            (None, true) => ", debiased",
            _ => "",
        }
    );

    let tracker = Tracker::new("barycenter", args.max_iterations as usize);
    let callback = |p: &otters::Progress| tracker.update(p);
    let observer = progress::observer(&callback);
    let start = Instant::now();
    let lambdas_view = lambdas.as_ref().map(|l| l.view());
    let result = if args.debiased {
        solver.solve_debiased_with(&inputs, lambdas_view, geom.as_ref(), &observer)
    } else {
        solver.solve_with(&inputs, lambdas_view, &observer)
    };
    let seconds = start.elapsed().as_secs_f64();
    tracker.finish();

    let report = |status, out: Option<&BarycenterOutput>, iterations, outputs| Report {
        otters_version: env!("CARGO_PKG_VERSION"),
        status,
        method: "barycenter".into(),
        solver: solver_name.clone(),
        problem: info.clone(),
        parameters: parameters.clone(),
        cost: None,
        regularized_cost: None,
        divergence: None,
        converged: out.is_some_and(BarycenterOutput::converged),
        iterations,
        marginal_error: None,
        transported_mass: None,
        barycenter_mass: out.map(|o| o.barycenter().sum()),
        stopping_error: out.map(BarycenterOutput::error),
        seconds,
        outputs,
        plot: None,
    };
    let out = match result {
        Ok(out) => out,
        Err(Error::Interrupted { iteration }) => {
            let outputs = out_dir
                .as_ref()
                .map(|_| vec!["report.json".to_string()])
                .unwrap_or_default();
            let partial = report(Status::Interrupted, None, iteration, outputs);
            return super::interrupted(&partial, out_dir.as_mut(), iteration);
        }
        Err(e) => return Err(e.into()),
    };

    let status = if out.converged() {
        Status::Converged
    } else {
        Status::NotConverged
    };
    if let Some(dir) = out_dir.as_mut() {
        let barycenter = out.barycenter().to_owned();
        dir.write("barycenter.npy", |f| Ok(barycenter.write_npy(f)?))?;
    }
    let warning = format!(
        "not converged after {} iterations (error {:.3e}); raise --max-iterations or epsilon",
        out.iterations(),
        out.error()
    );
    super::finish(
        report(status, Some(&out), out.iterations(), Vec::new()),
        out_dir.as_mut(),
        args.json,
        args.allow_nonconverged,
        &warning,
    )
}

/// Histograms are nonnegative with positive mass, and (balanced) of equal masses; errors name
/// the file and the column.
fn check_histograms(hist: &Array2<f64>, label: &str, balanced: bool) -> Result<()> {
    if let Some(((i, j), v)) = hist.indexed_iter().find(|(_, v)| **v < 0.0) {
        bail!("`{label}`: negative value {v} at row {i}, column {j} (histograms are nonnegative)");
    }
    let masses: Vec<f64> = hist.columns().into_iter().map(|c| c.sum()).collect();
    if let Some(j) = masses.iter().position(|&m| m <= 0.0) {
        bail!("`{label}`: column {j} has no mass (every histogram needs some)");
    }
    if balanced {
        let first = masses[0];
        if let Some(j) = masses
            .iter()
            .position(|&m| (m - first).abs() > MASS_TOLERANCE * first.max(m))
        {
            bail!(
                "`{label}`: the histograms' masses differ (column 0: {first}, column {j}: {}); normalize them, or give --rho for an unbalanced barycenter",
                masses[j]
            );
        }
    }
    Ok(())
}
