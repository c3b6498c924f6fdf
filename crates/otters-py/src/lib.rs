//! Python bindings of otters (`otters._core`): conversion, GIL release and error mapping
//! only; every algorithm lives in the `otters` crate.

mod errors;
mod exact;
mod linear;
mod run;

use pyo3::prelude::*;

/// The compiled core of the `otters` Python package.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(linear::sinkhorn, m)?)?;
    m.add_function(wrap_pyfunction!(exact::emd, m)?)?;
    m.add_function(wrap_pyfunction!(exact::wasserstein_1d, m)?)?;
    Ok(())
}
