//! `otters solve --method gw|fgw`: Gromov–Wasserstein and fused GW between two spaces,
//! given as points (each with its own dimension) or as the costs within each space.

use anyhow::{Context, Result};
use ndarray::Axis;
use otters::geometry::{DenseCost, Geometry};
use otters::quadratic::{ConditionalGradientGw, EntropicGw, GwLoss, QuadraticProblem};

use super::solve::{SolveResult, Solved, cloud, scale, usage, weights};
use crate::args::{GwLossArg, Method, SolveArgs};
use crate::io::{InputSpec, read_matrix};
use crate::report::{Parameters, ProblemInfo};

/// Reads the two spaces (and the linear cost of fgw), solves, and reduces the result.
pub(crate) fn solve(
    args: &SolveArgs,
    specs: &[(&str, InputSpec)],
    info: &mut ProblemInfo,
    parameters: &mut Parameters,
    observer: &otters::Observer<'_>,
) -> Result<SolveResult> {
    let spec = |role: &str| super::solve::find_spec(specs, role);
    let scale = scale(args.scale_cost);
    let dense = |s: &InputSpec, info: &mut ProblemInfo| -> Result<Box<dyn Geometry>> {
        let (c, note) = read_matrix(s, false, true)?;
        info.notes.extend(note);
        Ok(Box::new(DenseCost::new(c)?.with_scale(scale)?))
    };
    let (gx, gy, points): (Box<dyn Geometry>, Box<dyn Geometry>, _) =
        match (spec("x"), spec("y"), spec("cost_xx"), spec("cost_yy")) {
            (Some(sx), Some(sy), None, None) => {
                let (x, note_x) = read_matrix(sx, true, false)?;
                let (y, note_y) = read_matrix(sy, true, false)?;
                info.notes.extend(note_x.into_iter().chain(note_y));
                info.dimension = Some(x.ncols());
                parameters.cost_fn = Some(format!("{:?}", args.cost_fn).to_lowercase());
                let gx = cloud(&x, &x, args.cost_fn, args.p, scale)?;
                let gy = cloud(&y, &y, args.cost_fn, args.p, scale)?;
                (gx, gy, Some((x, y)))
            }
            (None, None, Some(sx), Some(sy)) => (dense(sx, info)?, dense(sy, info)?, None),
            _ => {
                return Err(usage(
                    "--method gw/fgw need --x with --y, or --cost-xx with --cost-yy",
                ));
            }
        };
    let (n, m) = (gx.shape().0, gy.shape().0);
    (info.n, info.m) = (n, m);
    let linear: Option<Box<dyn Geometry>> = match (args.method, spec("cost"), &points) {
        (Method::Gw, None, _) => None,
        (Method::Gw, Some(_), _) => {
            return Err(usage("--cost (a linear cost) only applies to --method fgw"));
        }
        (_, Some(sc), _) => Some(dense(sc, info)?),
        (_, None, Some((x, y))) if x.ncols() == y.ncols() => {
            Some(cloud(x, y, args.cost_fn, args.p, scale)?)
        }
        _ => {
            return Err(usage(
                "--method fgw needs --cost (the linear cost), or --x and --y of one dimension",
            ));
        }
    };
    let (a, b) = (weights(specs, "a", n)?, weights(specs, "b", m)?);
    let loss = match args.loss {
        GwLossArg::Square => GwLoss::Square,
        GwLossArg::Kl => GwLoss::Kl,
    };
    let mut problem = QuadraticProblem::new(gx.as_ref(), gy.as_ref(), a.view(), b.view())
        .context("invalid problem")?
        .with_loss(loss);
    if let Some(lin) = &linear {
        problem = problem.fused(lin.as_ref(), args.alpha)?;
    }
    let max_iterations = args.max_iterations.map(|v| v as usize);
    let result = match args.epsilon {
        Some(epsilon) => {
            let solver = EntropicGw {
                epsilon,
                max_iterations: max_iterations.unwrap_or(1000),
                ..EntropicGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            parameters.threshold = Some(solver.threshold);
            solver
                .solve_with(&problem, None, observer)
                .map(|out| ("entropic GW", Some(epsilon), out))
        }
        None => {
            let solver = ConditionalGradientGw {
                max_iterations: max_iterations.unwrap_or(10_000),
                ..ConditionalGradientGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            solver
                .solve_with(&problem, None, observer)
                .map(|out| ("conditional gradient GW", None, out))
        }
    };
    let max_plan = args.max_plan_bytes;
    let solved = result.map(|(solver, epsilon, out)| {
        let plan = out.plan();
        let marginal_error = (&plan.sum_axis(Axis(1)) - &a).mapv(f64::abs).sum()
            + (&plan.sum_axis(Axis(0)) - &b).mapv(f64::abs).sum();
        Solved {
            solver: solver.into(),
            f: None,
            g: None,
            cost: out.loss(),
            regularized_cost: None,
            converged: out.converged(),
            iterations: out.iterations(),
            marginal_error,
            transported_mass: plan.sum(),
            epsilon,
            sparse: None,
            dense: (n.saturating_mul(m).saturating_mul(8) <= max_plan).then(|| out.into_plan()),
        }
    });
    Ok((solved, points, (n, m)))
}
