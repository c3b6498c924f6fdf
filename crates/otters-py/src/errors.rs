//! `otters::Error` → Python exception, by its stable kind (one exhaustive match), with the
//! argument name attached as `.argument`.

use otters::{Error, ErrorKind};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

/// Builds the Python exception for a library error. The classes live in
/// `otters.exceptions` (`InvalidInputError` is a `ValueError`, `NumericalError` an
/// `ArithmeticError`, `ResourceError` a `MemoryError`).
pub(crate) fn to_py(py: Python<'_>, err: &Error) -> PyErr {
    let class = match err.kind() {
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::Numerical => "NumericalError",
        ErrorKind::Resource => "ResourceError",
        ErrorKind::Interrupted => return PyKeyboardInterrupt::new_err(err.to_string()),
    };
    let build = || -> PyResult<PyErr> {
        let module = py.import("otters.exceptions")?;
        let exc = module.getattr(class)?.call1((err.to_string(),))?;
        exc.setattr("argument", err.argument())?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// An `otters.InvalidInputError` (a `ValueError`) raised by the binding itself.
pub(crate) fn invalid_input(py: Python<'_>, argument: &str, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = py
            .import("otters.exceptions")?
            .getattr("InvalidInputError")?
            .call1((message,))?;
        exc.setattr("argument", argument)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}
