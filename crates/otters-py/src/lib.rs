//! Python bindings of otters (`otters._core`): conversion, GIL release and error mapping
//! only; every algorithm lives in the `otters` crate.

mod barycenter;
mod convert;
mod divergence;
mod errors;
mod gaussian;
mod geometry;
mod linear;
mod low_rank;
mod maps;
mod one_d;
mod pairwise;
mod quadratic;
mod run;
mod tools;

use pyo3::prelude::*;

/// The compiled core of the `otters` Python package.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<geometry::DenseCost>()?;
    m.add_class::<geometry::PointCloud>()?;
    m.add_class::<linear::SinkhornOutput>()?;
    m.add_class::<linear::ExactOutput>()?;
    m.add_class::<quadratic::GwOutput>()?;
    m.add_class::<quadratic::GwBarycenterOutput>()?;
    m.add_class::<quadratic::UgwOutput>()?;
    m.add_class::<low_rank::LowRankOutput>()?;
    m.add_class::<divergence::DivergenceOutput>()?;
    m.add_class::<maps::SemiDiscreteOutput>()?;
    m.add_class::<maps::ElasticMapOutput>()?;
    m.add_class::<maps::ProgOtOutput>()?;
    m.add_function(wrap_pyfunction!(linear::solve_sinkhorn, m)?)?;
    m.add_function(wrap_pyfunction!(linear::solve_exact, m)?)?;
    m.add_function(wrap_pyfunction!(linear::sinkhorn_init, m)?)?;
    m.add_function(wrap_pyfunction!(linear::check_problem, m)?)?;
    m.add_function(wrap_pyfunction!(pairwise::pairwise_histograms, m)?)?;
    m.add_function(wrap_pyfunction!(pairwise::pairwise_clouds, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_gw, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_gw_barycenter, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_ugw, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_lrgw, m)?)?;
    m.add_function(wrap_pyfunction!(low_rank::solve_lowrank, m)?)?;
    m.add_function(wrap_pyfunction!(divergence::solve_divergence, m)?)?;
    m.add_function(wrap_pyfunction!(divergence::energy_distance, m)?)?;
    m.add_function(wrap_pyfunction!(divergence::gaussian_mmd, m)?)?;
    m.add_function(wrap_pyfunction!(barycenter::solve_barycenter, m)?)?;
    m.add_function(wrap_pyfunction!(barycenter::solve_grid_barycenter, m)?)?;
    m.add_function(wrap_pyfunction!(
        barycenter::solve_free_support_barycenter,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(one_d::ot_1d, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::wasserstein_1d, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::wasserstein_1d_batch, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::random_directions, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::sliced_wasserstein, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::uot_1d, m)?)?;
    m.add_function(wrap_pyfunction!(one_d::uot_barycenter_1d, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_bures, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_cov_sqrt, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_bures_map, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_fit, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_barycenter, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_entropic_ot, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_bridge, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gaussian_logpdf, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gmm_ot_solve, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian::gmm_map, m)?)?;
    m.add_function(wrap_pyfunction!(maps::solve_semi_discrete, m)?)?;
    m.add_function(wrap_pyfunction!(maps::monge_gap_from_samples, m)?)?;
    m.add_function(wrap_pyfunction!(maps::solve_elastic, m)?)?;
    m.add_function(wrap_pyfunction!(maps::solve_progot, m)?)?;
    m.add_function(wrap_pyfunction!(tools::soft_sort_rows, m)?)?;
    m.add_function(wrap_pyfunction!(tools::sample_coupling, m)?)?;
    m.add_function(wrap_pyfunction!(tools::coupling_sharpness, m)?)?;
    m.add_function(wrap_pyfunction!(tools::plan_sharpness, m)?)?;
    m.add_function(wrap_pyfunction!(tools::sinkformer_attention, m)?)?;
    m.add_function(wrap_pyfunction!(tools::anchor_distance, m)?)?;
    Ok(())
}
