//! `otters demo`: exact, entropic and unbalanced OT between two built-in point clouds (a
//! Gaussian blob and a ring, generated from a fixed seed), a table, and a plot.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use otters::datasets;
use otters::geometry::{PointCloud, ScaleCost};
use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, NetworkSimplex, Sinkhorn};
use serde::Serialize;

use crate::Outcome;
use crate::args::DemoArgs;
use crate::plot;

#[derive(Serialize)]
struct Row {
    method: String,
    cost: f64,
    regularized_cost: Option<f64>,
    transported_mass: f64,
    iterations: usize,
    converged: bool,
    seconds: f64,
}

#[derive(Serialize)]
struct DemoReport {
    source: String,
    target: String,
    cost: &'static str,
    epsilon: f64,
    rho: f64,
    results: Vec<Row>,
    plot: Option<String>,
}

/// Runs `otters demo`.
///
/// # Errors
/// A solver or plot failure.
pub fn run(args: &DemoArgs) -> Result<Outcome> {
    let n = args.n as usize;
    let x = datasets::gaussian(n, &[0.0, 0.0], 0.5, args.seed);
    let y = datasets::ring(n, [0.5, 0.25], 2.0, 0.1, args.seed.wrapping_add(1));
    let geom = PointCloud::sq_euclidean(x.view(), y.view())?.with_scale(ScaleCost::Max)?;
    let problem = LinearProblem::uniform(&geom)?;
    let kl = MarginalPenalty::Kl { rho: args.rho };
    let relaxed = LinearProblem::unbalanced(
        &geom,
        problem.a().to_owned(),
        problem.b().to_owned(),
        kl,
        kl,
    )?;
    let sinkhorn = Sinkhorn {
        max_iterations: 10_000,
        ..Sinkhorn::new(Epsilon::RelativeToMean(args.epsilon))
    };
    let mut rows = Vec::new();

    let start = Instant::now();
    let exact = NetworkSimplex::default().solve(&problem)?;
    rows.push(Row {
        method: "exact (network simplex)".into(),
        cost: exact.cost(),
        regularized_cost: None,
        transported_mass: exact.plan().values().iter().sum(),
        iterations: exact.iterations(),
        converged: exact.converged(),
        seconds: start.elapsed().as_secs_f64(),
    });
    let mut epsilon = 0.0;
    for (name, p) in [
        ("sinkhorn", &problem),
        ("unbalanced sinkhorn (KL)", &relaxed),
    ] {
        let start = Instant::now();
        let out = sinkhorn.solve(p)?;
        epsilon = out.epsilon();
        rows.push(Row {
            method: name.into(),
            cost: out.linear_cost(p)?,
            regularized_cost: Some(out.reg_ot_cost()),
            transported_mass: out.plan_mass(),
            iterations: out.iterations(),
            converged: out.converged(),
            seconds: start.elapsed().as_secs_f64(),
        });
    }

    let plot_path = (!args.no_plot).then(|| args.plot.clone());
    if let Some(path) = &plot_path {
        let pairs: Vec<_> = exact.plan().iter().collect();
        plot::couplings(
            path,
            x.view(),
            y.view(),
            &pairs,
            &format!("otters demo: exact OT, cost {:.4}", exact.cost()),
        )?;
    }
    let report = DemoReport {
        source: format!("{n} points, Gaussian blob (2-D)"),
        target: format!("{n} points, ring (2-D)"),
        cost: "squared Euclidean, divided by its maximum",
        epsilon,
        rho: args.rho,
        results: rows,
        plot: plot_path.map(|p| p.display().to_string()),
    };

    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        print_table(&mut stdout, &report)?;
    }
    let unconverged = report.results.iter().filter(|r| !r.converged).count();
    if unconverged == 0 {
        return Ok(Outcome::Done);
    }
    eprintln!("otters: warning: {unconverged} solve(s) did not converge");
    Ok(if args.allow_nonconverged {
        Outcome::Done
    } else {
        Outcome::NotConverged
    })
}

fn print_table(out: &mut impl Write, report: &DemoReport) -> std::io::Result<()> {
    writeln!(
        out,
        "otters demo: optimal transport between two built-in point clouds"
    )?;
    writeln!(out, "  source  {}", report.source)?;
    writeln!(out, "  target  {}", report.target)?;
    writeln!(
        out,
        "  cost    {}; epsilon = {:.3e}, rho = {}",
        report.cost, report.epsilon, report.rho
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<26} {:>12} {:>12} {:>9} {:>10} {:>10} {:>8}",
        "method", "cost <C,P>", "regularized", "mass", "iterations", "converged", "seconds"
    )?;
    for r in &report.results {
        let reg = r
            .regularized_cost
            .map_or("-".to_string(), |v| format!("{v:.6}"));
        writeln!(
            out,
            "{:<26} {:>12.6} {:>12} {:>9.4} {:>10} {:>10} {:>8.3}",
            r.method,
            r.cost,
            reg,
            r.transported_mass,
            r.iterations,
            if r.converged { "yes" } else { "NO" },
            r.seconds
        )?;
    }
    if let Some(p) = &report.plot {
        writeln!(out, "\nplot written to {p}")?;
    }
    Ok(())
}
