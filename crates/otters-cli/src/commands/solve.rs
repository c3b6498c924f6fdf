//! `otters solve`: read a problem from files, solve it, write the report, potentials, plan
//! and plot.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use ndarray::Array1;
use ndarray_npy::{NpzWriter, WriteNpyExt};
use otters::divergence::SinkhornDivergence;
use otters::geometry::{Geometry, ScaleCost};
use otters::linear::{
    Acceleration, Epsilon, EpsilonScaling, ExactMethod, LinearProblem, LowRankSinkhorn,
    MarginalPenalty, NetworkSimplex, Sinkhorn,
};
use otters::{Error, Progress};

use super::shared::{Clouds, SolveResult, Solved, cloud, dense, find_spec, scale, usage, weights};
use crate::Outcome;
use crate::args::{AccelerationArg, Method, PenaltyArg, ScaleArg, SolveArgs};
use crate::io::output::OutputDir;
use crate::io::{InputSpec, read_matrix};
use crate::plot;
use crate::progress::{self, Tracker};
use crate::report::{Parameters, ProblemInfo, Report, Status};

const OUTPUT_FILES: [&str; 5] = ["report.json", "f.npy", "g.npy", "plan.npy", "plan.npz"];

/// Runs `otters solve`.
///
/// # Errors
/// Bad inputs, usage errors ([`UsageError`](super::UsageError)), solver or I/O failures.
pub fn run(args: &SolveArgs) -> Result<Outcome> {
    let specs: Vec<(&str, InputSpec)> = [
        ("x", &args.inputs.x),
        ("y", &args.inputs.y),
        ("cost", &args.inputs.cost),
        ("cost_xx", &args.inputs.cost_xx),
        ("cost_yy", &args.inputs.cost_yy),
        ("a", &args.a),
        ("b", &args.b),
    ]
    .into_iter()
    .filter_map(|(role, v)| v.as_deref().map(|t| (role, InputSpec::parse(t))))
    .collect();
    let input_paths: Vec<&Path> = specs.iter().map(|(_, s)| s.path.as_path()).collect();

    // Method-specific flags, checked before any work.
    let unbalanced = args.rho.is_some() || args.rho_a.is_some() || args.rho_b.is_some();
    match (args.method, unbalanced) {
        (Method::Unbalanced, false) => {
            return Err(usage(
                "--method unbalanced needs --rho (or --rho-a / --rho-b)",
            ));
        }
        (Method::Ugw, false) => {
            return Err(usage("--method ugw needs --rho (or --rho-a / --rho-b)"));
        }
        (Method::Exact | Method::Sinkhorn | Method::Gw | Method::Fgw, true) => {
            return Err(usage(
                "--rho, --rho-a and --rho-b only apply to --method unbalanced, ugw, lowrank and lrgw",
            ));
        }
        _ => {}
    }
    let quadratic = matches!(
        args.method,
        Method::Gw | Method::Fgw | Method::Ugw | Method::Lrgw
    );
    if quadratic && (args.relative_epsilon.is_some() || args.epsilon_scaling.is_some()) {
        return Err(usage(
            "--method gw/fgw/ugw/lrgw take an absolute --epsilon (gw/fgw: entropic when given, conditional gradient otherwise)",
        ));
    }
    if matches!(
        args.method,
        Method::Ugw | Method::Lowrank | Method::Lrgw | Method::Divergence
    ) && args.penalty == PenaltyArg::Tv
    {
        return Err(usage(
            "--method ugw, lowrank, lrgw and divergence penalize the marginals by KL only (--penalty kl)",
        ));
    }
    if args.method == Method::Divergence {
        if args.rho_a.is_some() || args.rho_b.is_some() {
            return Err(usage(
                "--method divergence takes one --rho for both marginals (not --rho-a / --rho-b)",
            ));
        }
        if args.inputs.x.is_none() {
            return Err(usage(
                "--method divergence needs points (--x and --y): it compares each cloud with itself",
            ));
        }
        if args.scale_cost == ScaleArg::Median {
            return Err(usage(
                "--method divergence scales the costs by max or mean (not median)",
            ));
        }
    }
    if args.method == Method::Ugw && args.epsilon.is_none() {
        return Err(usage(
            "--method ugw needs --epsilon (an absolute entropic regularization > 0)",
        ));
    }
    if !quadratic && args.inputs.cost_xx.is_some() {
        return Err(usage(
            "--cost-xx and --cost-yy only apply to --method gw, fgw, ugw and lrgw",
        ));
    }
    if matches!(args.method, Method::Exact | Method::Lowrank)
        && (args.relative_epsilon.is_some() || args.epsilon_scaling.is_some())
    {
        return Err(usage(
            "--relative-epsilon and --epsilon-scaling do not apply to --method exact or lowrank",
        ));
    }
    if args.method == Method::Exact
        && (args.epsilon.is_some()
            || args.relative_epsilon.is_some()
            || args.epsilon_scaling.is_some())
    {
        return Err(usage(
            "--epsilon, --relative-epsilon and --epsilon-scaling do not apply to --method exact",
        ));
    }

    // Where results go: checked (and created) before the solve, never over an input.
    let mut out_dir = match &args.out {
        Some(dir) => Some(OutputDir::prepare(
            dir,
            &OUTPUT_FILES,
            &input_paths,
            args.force,
        )?),
        None => None,
    };
    if let Some(plot_path) = &args.plot {
        check_plot_path(plot_path, &input_paths, args.force)?;
    }

    let mut info = ProblemInfo::default();
    for (role, s) in &specs {
        let label = match &s.key {
            Some(k) => format!("{}:{k}", s.path.display()),
            None => s.path.display().to_string(),
        };
        info.inputs.insert(role.to_string(), label);
    }
    let max_iterations = args.max_iterations.map(|v| v as usize);
    let mut parameters = Parameters {
        scale_cost: format!("{:?}", args.scale_cost).to_lowercase(),
        precision: args.precision.to_string(),
        threshold: (!matches!(
            args.method,
            Method::Exact | Method::Gw | Method::Fgw | Method::Ugw | Method::Lrgw
        ))
        .then_some(args.threshold),
        rho_a: args.rho.or(args.rho_a),
        rho_b: args.rho.or(args.rho_b),
        penalty: unbalanced.then(|| format!("{:?}", args.penalty).to_lowercase()),
        ..Parameters::default()
    };
    let tracker = Tracker::new(
        &format!("{:?}", args.method).to_lowercase(),
        max_iterations.unwrap_or(0),
    );
    let callback = |p: &Progress| tracker.update(p);
    let observer = progress::observer(&callback);
    let start = Instant::now();
    let (result, points, (n, m)) = if quadratic {
        super::quadratic::solve(args, &specs, &mut info, &mut parameters, &observer)?
    } else {
        solve_linear(args, &specs, &mut info, &mut parameters, &observer)?
    };
    let seconds = start.elapsed().as_secs_f64();
    tracker.finish();
    let method = format!("{:?}", args.method).to_lowercase();

    let solved = match result {
        Ok(s) => s,
        Err(Error::Interrupted { iteration }) => {
            let last = tracker.last();
            let report = Report {
                otters_version: env!("CARGO_PKG_VERSION"),
                status: Status::Interrupted,
                method: method.clone(),
                solver: method,
                problem: info,
                parameters,
                cost: None,
                regularized_cost: None,
                divergence: None,
                converged: false,
                iterations: iteration,
                marginal_error: last
                    .map(|p| p.error)
                    .filter(|e| e.is_finite() && args.method != Method::Exact),
                transported_mass: None,
                barycenter_mass: None,
                stopping_error: None,
                seconds,
                outputs: out_dir
                    .as_ref()
                    .map(|_| vec!["report.json".to_string()])
                    .unwrap_or_default(),
                plot: None,
            };
            return super::interrupted(&report, out_dir.as_mut(), iteration);
        }
        Err(e) => return Err(e.into()),
    };

    parameters.epsilon = solved.epsilon;
    if let Some(dir) = out_dir.as_mut() {
        write_results(dir, &solved, (n, m), args.max_plan_bytes, &mut info)?;
    }
    let mut plot = None;
    if let Some(plot_path) = &args.plot
        && write_plot(
            plot_path,
            &solved,
            (n, m),
            points.as_ref(),
            &method,
            &mut info,
        )?
    {
        plot = Some(plot_path.display().to_string());
    }
    let status = if solved.converged {
        Status::Converged
    } else {
        Status::NotConverged
    };
    let report = Report {
        otters_version: env!("CARGO_PKG_VERSION"),
        status,
        method,
        solver: solved.solver.clone(),
        problem: info,
        parameters,
        cost: Some(solved.cost),
        regularized_cost: solved.regularized_cost,
        divergence: solved.divergence,
        converged: solved.converged,
        iterations: solved.iterations,
        marginal_error: Some(solved.marginal_error),
        transported_mass: Some(solved.transported_mass),
        barycenter_mass: None,
        stopping_error: None,
        seconds,
        outputs: Vec::new(),
        plot,
    };
    let warning = format!(
        "not converged after {} iterations (marginal error {:.3e}); raise --max-iterations or epsilon",
        solved.iterations, solved.marginal_error
    );
    super::finish(
        report,
        out_dir.as_mut(),
        args.json,
        args.allow_nonconverged,
        &warning,
    )
}

/// Exact, entropic and unbalanced OT.
fn solve_linear(
    args: &SolveArgs,
    specs: &[(&str, InputSpec)],
    info: &mut ProblemInfo,
    parameters: &mut Parameters,
    observer: &otters::Observer<'_>,
) -> Result<SolveResult> {
    let spec = |role: &str| find_spec(specs, role);
    let scale = scale(args.scale_cost);
    // The divergence's symmetric costs `C(x, x)`, `C(y, y)`, in the cross cost's scale.
    let mut symmetric: Option<(Box<dyn Geometry>, Box<dyn Geometry>)> = None;
    let (geom, points): (Box<dyn Geometry>, Option<Clouds>) =
        match (spec("x"), spec("y"), spec("cost")) {
            (Some(sx), Some(sy), None) => {
                let (x, note_x) = read_matrix(sx, true, false)?;
                let (y, note_y) = read_matrix(sy, true, false)?;
                info.notes.extend(note_x.into_iter().chain(note_y));
                info.dimension = Some(x.ncols());
                let geom = if args.method == Method::Divergence {
                    let unscaled = cloud(
                        &x,
                        &y,
                        args.cost_fn,
                        args.p,
                        ScaleCost::None,
                        args.precision,
                    )?;
                    let by = match scale {
                        ScaleCost::Max => ScaleCost::By(unscaled.summary().max),
                        ScaleCost::Mean => ScaleCost::By(unscaled.summary().mean),
                        other => other,
                    };
                    symmetric = Some((
                        cloud(&x, &x, args.cost_fn, args.p, by, args.precision)?,
                        cloud(&y, &y, args.cost_fn, args.p, by, args.precision)?,
                    ));
                    cloud(&x, &y, args.cost_fn, args.p, by, args.precision)?
                } else {
                    cloud(&x, &y, args.cost_fn, args.p, scale, args.precision)?
                };
                (geom, Some((x, y)))
            }
            (None, None, Some(sc)) => {
                let (c, note) = read_matrix(sc, false, true)?;
                info.notes.extend(note);
                (dense(c, scale, args.precision)?, None)
            }
            _ => return Err(usage("give exactly one of --cost or --x with --y")),
        };
    let (n, m) = geom.shape();
    (info.n, info.m) = (n, m);
    let (a, b) = (weights(specs, "a", n)?, weights(specs, "b", m)?);
    let penalty = |rho: Option<f64>| match (rho, args.penalty) {
        (None, _) => MarginalPenalty::Hard,
        (Some(rho), PenaltyArg::Kl) => MarginalPenalty::Kl { rho },
        (Some(rho), PenaltyArg::Tv) => MarginalPenalty::TotalVariation { rho },
    };
    let (pa, pb) = (
        penalty(args.rho.or(args.rho_a)),
        penalty(args.rho.or(args.rho_b)),
    );
    let problem =
        LinearProblem::unbalanced(geom.as_ref(), a, b, pa, pb).context("invalid problem")?;

    let max_iterations = args.max_iterations.map(|v| v as usize);
    parameters.cost_fn = points
        .as_ref()
        .map(|_| format!("{:?}", args.cost_fn).to_lowercase());
    let result: otters::Result<Solved> = match args.method {
        Method::Exact => {
            let solver = NetworkSimplex {
                max_iterations: max_iterations.unwrap_or(NetworkSimplex::default().max_iterations),
                ..NetworkSimplex::default()
            };
            parameters.max_iterations = solver.max_iterations as u64;
            solver.solve_with(&problem, observer).map(|out| Solved {
                solver: match out.method() {
                    ExactMethod::NetworkSimplex => "network simplex".into(),
                    ExactMethod::Assignment => "assignment (LAPJV)".into(),
                },
                f: Some(out.f().to_owned()),
                g: Some(out.g().to_owned()),
                cost: out.cost(),
                regularized_cost: None,
                divergence: None,
                converged: out.converged(),
                iterations: out.iterations(),
                marginal_error: out.marginal_error(),
                transported_mass: out.plan().values().iter().sum(),
                epsilon: None,
                sparse: Some(out.plan().iter().collect()),
                dense: None,
            })
        }
        Method::Gw | Method::Fgw | Method::Ugw | Method::Lrgw => {
            return Err(usage("gw, fgw, ugw and lrgw are quadratic problems"));
        }
        Method::Lowrank => {
            let solver = LowRankSinkhorn {
                epsilon: args.epsilon.unwrap_or(0.0),
                max_iterations: max_iterations.unwrap_or(1000),
                ..LowRankSinkhorn::new(args.rank as usize)
            };
            parameters.max_iterations = solver.max_iterations as u64;
            parameters.threshold = Some(solver.inner_threshold);
            solver.solve_with(&problem, observer).and_then(|out| {
                let dense = (n.saturating_mul(m).saturating_mul(8) <= args.max_plan_bytes)
                    .then(|| out.plan(args.max_plan_bytes))
                    .transpose()?;
                Ok(Solved {
                    solver: format!("low-rank sinkhorn (rank {})", args.rank),
                    f: None,
                    g: None,
                    cost: out.cost(),
                    regularized_cost: None,
                    divergence: None,
                    converged: out.converged(),
                    iterations: out.iterations(),
                    marginal_error: out.marginal_error(),
                    transported_mass: out.g().sum(),
                    epsilon: (solver.epsilon > 0.0).then_some(solver.epsilon),
                    sparse: None,
                    dense,
                })
            })
        }
        Method::Divergence => {
            let Some((xx, yy)) = symmetric.as_ref() else {
                return Err(usage("--method divergence needs --x and --y"));
            };
            let solver = SinkhornDivergence {
                sinkhorn: sinkhorn_settings(args, max_iterations),
            };
            parameters.max_iterations = solver.sinkhorn.max_iterations as u64;
            solver
                .solve_with(&problem, xx.as_ref(), yy.as_ref(), observer)
                .and_then(|out| {
                    let cross = out.cross();
                    let dense = (n.saturating_mul(m).saturating_mul(8) <= args.max_plan_bytes)
                        .then(|| cross.plan_within(&problem, args.max_plan_bytes))
                        .transpose()?;
                    Ok(Solved {
                        solver: "sinkhorn divergence (symmetric terms by averaged updates)".into(),
                        f: Some(cross.f().to_owned()),
                        g: Some(cross.g().to_owned()),
                        cost: cross.linear_cost(&problem)?,
                        regularized_cost: Some(cross.reg_ot_cost()),
                        divergence: Some(out.value()),
                        converged: out.converged(),
                        iterations: cross.iterations()
                            + out.xx().iterations()
                            + out.yy().iterations(),
                        marginal_error: cross
                            .marginal_error()
                            .max(out.xx().marginal_error())
                            .max(out.yy().marginal_error()),
                        transported_mass: cross.plan_mass(),
                        epsilon: Some(cross.epsilon()),
                        sparse: None,
                        dense,
                    })
                })
        }
        Method::Sinkhorn | Method::Unbalanced => {
            let solver = sinkhorn_settings(args, max_iterations);
            parameters.max_iterations = solver.max_iterations as u64;
            solver.solve_with(&problem, None, observer).and_then(|out| {
                let dense = (n.saturating_mul(m).saturating_mul(8) <= args.max_plan_bytes)
                    .then(|| out.plan_within(&problem, args.max_plan_bytes))
                    .transpose()?;
                Ok(Solved {
                    solver: "log-domain sinkhorn".into(),
                    f: Some(out.f().to_owned()),
                    g: Some(out.g().to_owned()),
                    cost: out.linear_cost(&problem)?,
                    regularized_cost: Some(out.reg_ot_cost()),
                    divergence: None,
                    converged: out.converged(),
                    iterations: out.iterations(),
                    marginal_error: out.marginal_error(),
                    transported_mass: out.plan_mass(),
                    epsilon: Some(out.epsilon()),
                    sparse: None,
                    dense,
                })
            })
        }
    };
    Ok((result, points, (n, m)))
}

/// The Sinkhorn settings of `--method sinkhorn`, `unbalanced` and `divergence`.
fn sinkhorn_settings(args: &SolveArgs, max_iterations: Option<usize>) -> Sinkhorn {
    let epsilon = match (args.epsilon, args.relative_epsilon) {
        (Some(e), _) => Epsilon::Absolute(e),
        (None, Some(x)) => Epsilon::RelativeToMean(x),
        (None, None) => Epsilon::RelativeToMean(0.05),
    };
    Sinkhorn {
        threshold: args.threshold,
        max_iterations: max_iterations.unwrap_or(10_000),
        scaling: args
            .epsilon_scaling
            .map_or(EpsilonScaling::None, EpsilonScaling::from_max_cost),
        acceleration: match args.acceleration {
            AccelerationArg::Anderson => Acceleration::default(),
            AccelerationArg::Adaptive => Acceleration::AdaptiveRelaxation,
            AccelerationArg::None => Acceleration::None,
        },
        ..Sinkhorn::new(epsilon)
    }
}

fn check_plot_path(path: &Path, inputs: &[&Path], force: bool) -> Result<()> {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        if inputs
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .any(|p| p == canonical)
        {
            anyhow::bail!(
                "`{}` is an input file; refusing to overwrite it",
                path.display()
            );
        }
        if !force {
            anyhow::bail!(
                "`{}` already exists; pass --force to replace it",
                path.display()
            );
        }
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png" | "svg") => Ok(()),
        _ => Err(usage(format!(
            "--plot `{}` must end in .png or .svg",
            path.display()
        ))),
    }
}

fn write_results(
    dir: &mut OutputDir,
    solved: &Solved,
    shape: (usize, usize),
    max_plan_bytes: usize,
    info: &mut ProblemInfo,
) -> Result<()> {
    if let (Some(f_pot), Some(g_pot)) = (&solved.f, &solved.g) {
        dir.write("f.npy", |f| Ok(f_pot.write_npy(f)?))?;
        dir.write("g.npy", |f| Ok(g_pot.write_npy(f)?))?;
    }
    if let Some(entries) = &solved.sparse {
        let rows = Array1::from_iter(entries.iter().map(|e| e.0 as i64));
        let cols = Array1::from_iter(entries.iter().map(|e| e.1 as i64));
        let values = Array1::from_iter(entries.iter().map(|e| e.2));
        let dims = Array1::from(vec![shape.0 as i64, shape.1 as i64]);
        dir.write("plan.npz", |f| {
            let mut npz = NpzWriter::new_compressed(f);
            npz.add_array("rows", &rows)?;
            npz.add_array("cols", &cols)?;
            npz.add_array("values", &values)?;
            npz.add_array("shape", &dims)?;
            npz.finish()?;
            Ok(())
        })?;
    } else if let Some(plan) = &solved.dense {
        dir.write("plan.npy", |f| Ok(plan.write_npy(f)?))?;
    } else {
        info.notes.push(format!(
            "plan.npy not written: a {} x {} plan exceeds --max-plan-bytes {max_plan_bytes}; f.npy and g.npy define it",
            shape.0, shape.1
        ));
    }
    Ok(())
}

/// Writes the plot; `false` (with a note) when the plan is too large to draw.
fn write_plot(
    path: &Path,
    solved: &Solved,
    shape: (usize, usize),
    points: Option<&Clouds>,
    method: &str,
    info: &mut ProblemInfo,
) -> Result<bool> {
    let entries: Vec<(usize, usize, f64)> = match (&solved.sparse, &solved.dense) {
        (Some(e), _) => e.clone(),
        (None, Some(plan)) => plan
            .indexed_iter()
            .filter(|(_, v)| **v > 0.0)
            .map(|((i, j), &v)| (i, j, v))
            .collect(),
        (None, None) => {
            info.notes.push(
                "plot not written: the plan is too large to materialize (see --max-plan-bytes)"
                    .into(),
            );
            return Ok(false);
        }
    };
    let title = format!("otters {method}: cost {:.4}", solved.cost);
    match points {
        Some((x, y)) if x.ncols() == 2 && y.ncols() == 2 => {
            // The strongest coupling of each source point keeps the picture readable.
            let mut best: Vec<Option<(usize, usize, f64)>> = vec![None; shape.0];
            for &(i, j, v) in &entries {
                if best[i].is_none_or(|b| v > b.2) {
                    best[i] = Some((i, j, v));
                }
            }
            let pairs: Vec<_> = best.into_iter().flatten().collect();
            plot::couplings(path, x.view(), y.view(), &pairs, &title)?;
        }
        _ => plot::heatmap(path, shape, entries.into_iter(), &title)?,
    }
    Ok(true)
}
