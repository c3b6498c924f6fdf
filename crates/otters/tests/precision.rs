//! float32 costs, f64 accumulation (issue 19, capability 1): f32 stored costs and point
//! clouds converge to the f64 threshold at small ε, and their potentials and costs are those
//! of the f64 solver within the perturbation the f32 rounding of the cost makes (about
//! 2⁻²⁴·max C relative to the exponent's scale), measured here and quoted in the README.

mod common;

use common::{Rng, uniform};
use ndarray::Array2;
use otters::geometry::{DenseCost, Geometry, PointCloud, Precision};
use otters::linear::{Epsilon, LinearProblem, Sinkhorn};

/// What a user sees of an f32 solve next to the f64 one, relative to max C: the largest gap
/// between the (centered) potentials, between the regularized costs, and the marginal error
/// of the f32 potentials' plan evaluated on the f64 cost. Both solves must converge.
fn compare(g64: &dyn Geometry, g32: &dyn Geometry, eps: f64) -> (f64, f64, f64) {
    let (n, m) = g64.shape();
    let solver = Sinkhorn::new(Epsilon::Absolute(eps));
    let p64 = LinearProblem::new(g64, uniform(n), uniform(m)).unwrap();
    let p32 = LinearProblem::new(g32, uniform(n), uniform(m)).unwrap();
    let (o64, o32) = (solver.solve(&p64).unwrap(), solver.solve(&p32).unwrap());
    assert!(
        o64.converged() && o32.converged(),
        "eps {eps}: f32 reaches the f64 threshold"
    );
    let (c64, c32) = (o64.f().mean().unwrap(), o32.f().mean().unwrap());
    let gap = o64
        .f()
        .iter()
        .zip(o32.f())
        .map(|(a, b)| ((a - c64) - (b - c32)).abs())
        .fold(0.0, f64::max);
    let max_c = g64.summary().max;
    let cost_gap = (o64.reg_ot_cost() - o32.reg_ot_cost()).abs() / max_c;
    let plan = g64.plan_matrix(&o32.log_plan(), 1 << 31).unwrap();
    let marginal = |axis: usize, w: f64| {
        plan.sum_axis(ndarray::Axis(axis))
            .iter()
            .map(|v| (v - w).abs())
            .sum::<f64>()
    };
    let error = marginal(1, 1.0 / n as f64) + marginal(0, 1.0 / m as f64);
    (gap / max_c, cost_gap, error)
}

/// W2-like data (d = 16, cost / max): at ε = 0.01 the potentials agree to a few 1e-6 of
/// max C; at ε = 0.001 they are determined only loosely by a 1e-6 marginal error (f64 solves
/// of the cost and of its f32 rounding differ by 3e-6 there too), so the costs and the plan
/// are compared instead.
#[test]
fn f32_stored_costs_match_f64_to_the_rounding_of_the_cost() {
    let mut rng = Rng::new(1);
    let (n, d) = (1500, 16);
    let x = rng.normal_matrix(n, d);
    let y = rng.normal_matrix(n, d) + 0.1;
    let c = common::sq_euclidean(&x, &y);
    let max = c.iter().copied().fold(0.0, f64::max);
    let c = c / max;
    let c32 = c.mapv(|v| v as f32);
    let (g64, g32) = (
        DenseCost::new(c.view()).unwrap(),
        DenseCost::new(c32.view()).unwrap(),
    );
    assert_eq!(g32.precision(), Precision::F32);
    let (gap, cost_gap, error) = compare(&g64, &g32, 0.01);
    assert!(
        gap < 1e-5,
        "eps 0.01: potentials differ by {gap:e} of max C"
    );
    assert!(
        cost_gap < 1e-8,
        "eps 0.01: costs differ by {cost_gap:e} of max C"
    );
    assert!(
        error < 1e-5,
        "eps 0.01: the f32 plan's marginal error on the f64 cost {error:e}"
    );
    let (_, cost_gap, error) = compare(&g64, &g32, 0.001);
    assert!(
        cost_gap < 1e-8,
        "eps 0.001: costs differ by {cost_gap:e} of max C"
    );
    assert!(
        error < 1e-5,
        "eps 0.001: the f32 plan's marginal error on the f64 cost {error:e}"
    );
}

#[test]
fn f32_point_clouds_match_f64() {
    let mut rng = Rng::new(2);
    let x = rng.normal_matrix(2000, 3);
    let y = rng.normal_matrix(1500, 3) * 0.7 + 0.2;
    let g64 = PointCloud::sq_euclidean(x.view(), y.view()).unwrap();
    let g32 = g64.clone().with_precision::<f32>();
    let diameter = g64.summary().max;
    let (gap, cost_gap, error) = compare(&g64, &g32, 0.01 * diameter);
    assert!(
        gap < 1e-5 && cost_gap < 1e-8 && error < 1e-5,
        "{gap:e} {cost_gap:e} {error:e}"
    );
}

/// The plan and everything derived from it come out in f64 from an f32 cost.
#[test]
fn outputs_of_an_f32_cost_are_f64() {
    let c = Array2::from_shape_fn((30, 20), |(i, j)| ((i as f32 - j as f32) / 30.0).powi(2));
    let g = DenseCost::new(c.view()).unwrap();
    let p = LinearProblem::uniform(&g).unwrap();
    let out = Sinkhorn::new(Epsilon::Absolute(0.01)).solve(&p).unwrap();
    let plan = out.plan(&p).unwrap();
    assert!((plan.sum() - 1.0).abs() < 1e-9);
    let cost = g.cost_matrix(1 << 20).unwrap();
    assert_eq!(cost[[3, 1]], c[[3, 1]] as f64);
    let linear = out.linear_cost(&p).unwrap();
    let direct: f64 = plan.iter().zip(&cost).map(|(p, c)| p * c).sum();
    assert!((linear - direct).abs() < 1e-9 * direct);
}
