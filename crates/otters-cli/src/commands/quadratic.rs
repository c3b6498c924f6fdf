//! `otters solve --method gw|fgw|ugw`: Gromov–Wasserstein, fused GW and unbalanced (fused)
//! GW between two spaces, given as points (each with its own dimension) or as the costs
//! within each space.

use anyhow::{Context, Result};
use ndarray::{Array2, Axis};
use otters::geometry::{DenseCost, Geometry};
use otters::quadratic::{
    ConditionalGradientGw, EntropicGw, GwLoss, GwOutput, QuadraticProblem, UnbalancedGw,
};

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
                    "--method gw/fgw/ugw need --x with --y, or --cost-xx with --cost-yy",
                ));
            }
        };
    let (n, m) = (gx.shape().0, gy.shape().0);
    (info.n, info.m) = (n, m);
    let linear: Option<Box<dyn Geometry>> = match (args.method, spec("cost"), &points) {
        (Method::Gw | Method::Ugw, None, _) => None,
        (Method::Gw, Some(_), _) => {
            return Err(usage(
                "--cost (a linear cost) only applies to --method fgw and ugw",
            ));
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
    let problem = if args.method == Method::Ugw {
        QuadraticProblem::unbalanced(gx.as_ref(), gy.as_ref(), a.view(), b.view())
    } else {
        QuadraticProblem::new(gx.as_ref(), gy.as_ref(), a.view(), b.view())
    };
    let mut problem = problem.context("invalid problem")?.with_loss(loss);
    if let Some(lin) = &linear {
        problem = problem.fused(lin.as_ref(), args.alpha)?;
    }
    let max_iterations = args.max_iterations.map(|v| v as usize);
    let result = match (args.method, args.epsilon) {
        (Method::Ugw, epsilon) => {
            // A side without a strength is a hard marginal (as for --method unbalanced).
            let rho = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
            let solver = UnbalancedGw {
                rho_a: rho(args.rho.or(args.rho_a)),
                rho_b: rho(args.rho.or(args.rho_b)),
                epsilon: epsilon.ok_or_else(|| usage("--method ugw needs --epsilon"))?,
                max_iterations: max_iterations.unwrap_or(1000),
                ..UnbalancedGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            parameters.threshold = Some(solver.threshold);
            solver
                .solve_with(&problem, None, observer)
                .map(|out| Reduced {
                    solver: "unbalanced GW",
                    epsilon: Some(solver.epsilon),
                    cost: out.loss(),
                    converged: out.converged(),
                    iterations: out.iterations(),
                    plan: out.into_plans().0,
                })
        }
        (_, Some(epsilon)) => {
            let solver = EntropicGw {
                epsilon,
                max_iterations: max_iterations.unwrap_or(1000),
                ..EntropicGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            parameters.threshold = Some(solver.threshold);
            solver
                .solve_with(&problem, None, observer)
                .map(|out| Reduced::balanced("entropic GW", Some(epsilon), out))
        }
        (_, None) => {
            let solver = ConditionalGradientGw {
                max_iterations: max_iterations.unwrap_or(10_000),
                ..ConditionalGradientGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            solver
                .solve_with(&problem, None, observer)
                .map(|out| Reduced::balanced("conditional gradient GW", None, out))
        }
    };
    let max_plan = args.max_plan_bytes;
    let solved = result.map(|r| {
        // For ugw this is how far the plan's marginals are from the weights, not an error.
        let marginal_error = (&r.plan.sum_axis(Axis(1)) - &a).mapv(f64::abs).sum()
            + (&r.plan.sum_axis(Axis(0)) - &b).mapv(f64::abs).sum();
        Solved {
            solver: r.solver.into(),
            f: None,
            g: None,
            cost: r.cost,
            regularized_cost: None,
            converged: r.converged,
            iterations: r.iterations,
            marginal_error,
            transported_mass: r.plan.sum(),
            epsilon: r.epsilon,
            sparse: None,
            dense: (n.saturating_mul(m).saturating_mul(8) <= max_plan).then_some(r.plan),
        }
    });
    Ok((solved, points, (n, m)))
}

/// What the report needs from any of the three solvers. `cost` is the objective each
/// returns: `(1−α)⟨M, P⟩ + α·GW(P)` for gw/fgw, the relaxed UGW objective (penalties and
/// entropic term included, POT's `fugw_cost` for unfused problems) for ugw.
struct Reduced {
    solver: &'static str,
    epsilon: Option<f64>,
    cost: f64,
    converged: bool,
    iterations: usize,
    plan: Array2<f64>,
}

impl Reduced {
    fn balanced(solver: &'static str, epsilon: Option<f64>, out: GwOutput) -> Self {
        Reduced {
            solver,
            epsilon,
            cost: out.loss(),
            converged: out.converged(),
            iterations: out.iterations(),
            plan: out.into_plan(),
        }
    }
}
