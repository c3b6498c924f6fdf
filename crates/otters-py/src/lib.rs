//! Python bindings of otters (`otters._core`): conversion, GIL release and error mapping
//! only; every algorithm lives in the `otters` crate.

mod barycenter;
mod convert;
mod errors;
mod geometry;
mod linear;
mod low_rank;
mod one_d;
mod quadratic;
mod run;

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
    m.add_function(wrap_pyfunction!(linear::solve_sinkhorn, m)?)?;
    m.add_function(wrap_pyfunction!(linear::solve_exact, m)?)?;
    m.add_function(wrap_pyfunction!(linear::sinkhorn_init, m)?)?;
    m.add_function(wrap_pyfunction!(linear::check_problem, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_gw, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_gw_barycenter, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_ugw, m)?)?;
    m.add_function(wrap_pyfunction!(quadratic::solve_lrgw, m)?)?;
    m.add_function(wrap_pyfunction!(low_rank::solve_lowrank, m)?)?;
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
    Ok(())
}
