//! `otters solve --method gw|fgw|ugw|lrgw`: Gromov–Wasserstein, fused GW, unbalanced (fused)
//! GW and low-rank GW between two spaces, given as points (each with its own dimension) or
//! as the costs within each space.

use anyhow::{Context, Result};
use ndarray::{Array1, Array2, Axis};
use otters::geometry::Geometry;
use otters::linear::LowRankSinkhorn;
use otters::quadratic::{
    ConditionalGradientGw, EntropicGw, GwLoss, GwOutput, LowRankGw, QuadraticProblem, UnbalancedGw,
};

use super::shared::{SolveResult, Solved, cloud, dense, find_spec, scale, usage, weights};
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
    let spec = |role: &str| find_spec(specs, role);
    let scale = scale(args.scale_cost);
    let dense = |s: &InputSpec, info: &mut ProblemInfo| -> Result<Box<dyn Geometry>> {
        let (c, note) = read_matrix(s, false, true)?;
        info.notes.extend(note);
        dense(c, scale, args.precision)
    };
    let (gx, gy, points): (Box<dyn Geometry>, Box<dyn Geometry>, _) =
        match (spec("x"), spec("y"), spec("cost_xx"), spec("cost_yy")) {
            (Some(sx), Some(sy), None, None) => {
                let (x, note_x) = read_matrix(sx, true, false)?;
                let (y, note_y) = read_matrix(sy, true, false)?;
                info.notes.extend(note_x.into_iter().chain(note_y));
                info.dimension = Some(x.ncols());
                parameters.cost_fn = Some(format!("{:?}", args.cost_fn).to_lowercase());
                let gx = cloud(&x, &x, args.cost_fn, args.p, scale, args.precision)?;
                let gy = cloud(&y, &y, args.cost_fn, args.p, scale, args.precision)?;
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
        (Method::Lrgw, None, _) => None,
        (Method::Gw, Some(_), _) => {
            return Err(usage(
                "--cost (a linear cost) only applies to --method fgw and ugw",
            ));
        }
        (_, Some(sc), _) => Some(dense(sc, info)?),
        (_, None, Some((x, y))) if x.ncols() == y.ncols() => {
            Some(cloud(x, y, args.cost_fn, args.p, scale, args.precision)?)
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
    let problem = if matches!(args.method, Method::Ugw | Method::Lrgw) {
        QuadraticProblem::unbalanced(gx.as_ref(), gy.as_ref(), a.view(), b.view())
    } else {
        QuadraticProblem::new(gx.as_ref(), gy.as_ref(), a.view(), b.view())
    };
    let mut problem = problem.context("invalid problem")?.with_loss(loss);
    if let Some(lin) = &linear {
        problem = problem.fused(lin.as_ref(), args.alpha)?;
    }
    let max_iterations = args.max_iterations.map(|v| v as usize);
    let rho = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
    let result = match (args.method, args.epsilon) {
        (Method::Lrgw, epsilon) => {
            let defaults = LowRankGw::new(args.rank as usize);
            let solver = LowRankGw {
                low_rank: LowRankSinkhorn {
                    epsilon: epsilon.unwrap_or(0.0),
                    max_iterations: max_iterations.unwrap_or(1000),
                    ..defaults.low_rank
                },
                rho_a: rho(args.rho.or(args.rho_a)),
                rho_b: rho(args.rho.or(args.rho_b)),
            };
            parameters.max_iterations = solver.low_rank.max_iterations as u64;
            parameters.threshold = Some(solver.low_rank.threshold);
            solver.solve_from(&problem, None, observer).and_then(|out| {
                let bytes = n.saturating_mul(m).saturating_mul(8);
                let plan = (bytes <= args.max_plan_bytes)
                    .then(|| out.plan(args.max_plan_bytes))
                    .transpose()?;
                let (rows, cols) = (out.q().sum_axis(Axis(1)), out.r().sum_axis(Axis(1)));
                Ok(Reduced {
                    solver: "low-rank GW",
                    epsilon: epsilon.filter(|e| *e > 0.0),
                    cost: out.cost(),
                    converged: out.converged(),
                    iterations: out.iterations(),
                    marginal_error: (&rows - &a).mapv(f64::abs).sum()
                        + (&cols - &b).mapv(f64::abs).sum(),
                    transported_mass: out.g().sum(),
                    plan,
                })
            })
        }
        (Method::Ugw, epsilon) => {
            // A side without a strength is a hard marginal (as for --method unbalanced).
            let solver = UnbalancedGw {
                rho_a: rho(args.rho.or(args.rho_a)),
                rho_b: rho(args.rho.or(args.rho_b)),
                epsilon: epsilon.ok_or_else(|| usage("--method ugw needs --epsilon"))?,
                max_iterations: max_iterations.unwrap_or(1000),
                ..UnbalancedGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            parameters.threshold = Some(solver.threshold);
            solver.solve_with(&problem, None, observer).map(|out| {
                let (loss, converged, iterations) = (out.loss(), out.converged(), out.iterations());
                Reduced::from_plan(
                    "unbalanced GW",
                    Some(solver.epsilon),
                    (loss, converged, iterations),
                    out.into_plans().0,
                    (&a, &b),
                )
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
                .map(|out| Reduced::balanced("entropic GW", Some(epsilon), out, (&a, &b)))
        }
        (_, None) => {
            let solver = ConditionalGradientGw {
                max_iterations: max_iterations.unwrap_or(10_000),
                ..ConditionalGradientGw::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            solver
                .solve_with(&problem, None, observer)
                .map(|out| Reduced::balanced("conditional gradient GW", None, out, (&a, &b)))
        }
    };
    let max_plan = args.max_plan_bytes;
    let solved = result.map(|r| Solved {
        solver: r.solver.into(),
        f: None,
        g: None,
        cost: r.cost,
        regularized_cost: None,
        divergence: None,
        converged: r.converged,
        iterations: r.iterations,
        marginal_error: r.marginal_error,
        transported_mass: r.transported_mass,
        epsilon: r.epsilon,
        sparse: None,
        dense: r
            .plan
            .filter(|_| n.saturating_mul(m).saturating_mul(8) <= max_plan),
    });
    Ok((solved, points, (n, m)))
}

/// What the report needs from any of the solvers. `cost` is the objective each returns:
/// `(1−α)⟨M, P⟩ + α·GW(P)` for gw/fgw, the relaxed UGW objective (penalties and entropic
/// term included, POT's `fugw_cost` for unfused problems) for ugw, the (fused) GW loss of
/// the low-rank plan for lrgw. The marginal error is how far the plan's marginals are from
/// the weights (for ugw and an unbalanced lrgw, not an error).
struct Reduced {
    solver: &'static str,
    epsilon: Option<f64>,
    cost: f64,
    converged: bool,
    iterations: usize,
    marginal_error: f64,
    transported_mass: f64,
    /// The plan, when it was formed (lrgw forms it only under the size limit).
    plan: Option<Array2<f64>>,
}

impl Reduced {
    fn from_plan(
        solver: &'static str,
        epsilon: Option<f64>,
        (cost, converged, iterations): (f64, bool, usize),
        plan: Array2<f64>,
        (a, b): (&Array1<f64>, &Array1<f64>),
    ) -> Self {
        let marginal_error = (&plan.sum_axis(Axis(1)) - a).mapv(f64::abs).sum()
            + (&plan.sum_axis(Axis(0)) - b).mapv(f64::abs).sum();
        Reduced {
            solver,
            epsilon,
            cost,
            converged,
            iterations,
            marginal_error,
            transported_mass: plan.sum(),
            plan: Some(plan),
        }
    }

    fn balanced(
        solver: &'static str,
        epsilon: Option<f64>,
        out: GwOutput,
        weights: (&Array1<f64>, &Array1<f64>),
    ) -> Self {
        let summary = (out.loss(), out.converged(), out.iterations());
        Self::from_plan(solver, epsilon, summary, out.into_plan(), weights)
    }
}
