//! `otters demo`: entropic OT between two built-in point clouds, balanced and unbalanced.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use otters::datasets;
use otters::geometry::{PointCloud, ScaleCost};
use otters::linear::{Epsilon, LinearProblem, MarginalPenalty, Sinkhorn};
use serde::Serialize;

use crate::Outcome;
use crate::args::DemoArgs;

#[derive(Serialize)]
struct Solve {
    problem: &'static str,
    converged: bool,
    iterations: usize,
    marginal_error: f64,
    threshold: f64,
    epsilon: f64,
    reg_ot_cost: f64,
    linear_cost: f64,
    transported_mass: f64,
    seconds: f64,
}

#[derive(Serialize)]
struct Report {
    source: String,
    target: String,
    cost: &'static str,
    solves: Vec<Solve>,
}

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<Outcome> {
    let n = args.n as usize;
    let x = datasets::two_moons(n, 0.05, args.seed);
    let y = datasets::gaussian(n, &[0.5, 0.25], 0.4, args.seed.wrapping_add(1));
    let geom = PointCloud::sq_euclidean(x.view(), y.view())?.with_scale(ScaleCost::Max)?;
    let solver = Sinkhorn {
        threshold: args.threshold,
        max_iterations: args.max_iterations as usize,
        ..Sinkhorn::new(Epsilon::RelativeToMean(args.epsilon))
    };
    let balanced = LinearProblem::uniform(&geom)?;
    let kl = MarginalPenalty::Kl { rho: args.rho };
    let unbalanced = LinearProblem::unbalanced(
        &geom,
        balanced.a().to_owned(),
        balanced.b().to_owned(),
        kl,
        kl,
    )
    .context("building the unbalanced problem")?;

    let mut solves = Vec::new();
    for (name, problem) in [
        ("balanced", &balanced),
        ("unbalanced (KL on both marginals)", &unbalanced),
    ] {
        let start = Instant::now();
        let out = solver.solve(problem)?;
        let seconds = start.elapsed().as_secs_f64();
        solves.push(Solve {
            problem: name,
            converged: out.converged(),
            iterations: out.iterations(),
            marginal_error: out.marginal_error(),
            threshold: out.threshold(),
            epsilon: out.epsilon(),
            reg_ot_cost: out.reg_ot_cost(),
            linear_cost: out.linear_cost(problem)?,
            transported_mass: out.plan_mass(),
            seconds,
        });
    }
    let report = Report {
        source: format!("{} points, two moons (2-D)", args.n),
        target: format!("{} points, Gaussian blob (2-D)", args.n),
        cost: "squared Euclidean, divided by its maximum",
        solves,
    };

    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        print_text(&mut stdout, &report, args)?;
    }
    let unconverged = report.solves.iter().filter(|s| !s.converged).count();
    if unconverged > 0 {
        eprintln!(
            "otters: warning: {unconverged} solve(s) did not converge; raise --max-iterations or --epsilon"
        );
        if args.strict {
            return Ok(Outcome::NotConverged);
        }
    }
    Ok(Outcome::Done)
}

fn print_text(out: &mut impl Write, report: &Report, args: &DemoArgs) -> std::io::Result<()> {
    writeln!(
        out,
        "otters demo: entropic optimal transport between two built-in point clouds"
    )?;
    writeln!(out, "  source  {}", report.source)?;
    writeln!(out, "  target  {}", report.target)?;
    writeln!(out, "  cost    {}", report.cost)?;
    for s in &report.solves {
        writeln!(out)?;
        writeln!(out, "{}", s.problem)?;
        let status = if s.converged {
            "converged"
        } else {
            "NOT converged"
        };
        writeln!(
            out,
            "  {status} in {} iterations ({:.3} s): marginal error {:.2e} (threshold {:.0e})",
            s.iterations, s.seconds, s.marginal_error, s.threshold
        )?;
        writeln!(
            out,
            "  epsilon                   {:.4e} ({} x mean cost)",
            s.epsilon, args.epsilon
        )?;
        writeln!(out, "  regularized cost (dual)   {:.6}", s.reg_ot_cost)?;
        writeln!(out, "  transport cost <C, P>     {:.6}", s.linear_cost)?;
        writeln!(out, "  transported mass          {:.6}", s.transported_mass)?;
    }
    Ok(())
}
