//! Python objects → float64 numpy arrays, with one documented cast rule: float64 arrays are
//! used as they are (any strides, no copy); other real dtypes (float32, integers, bools) and
//! sequences are converted by `numpy.asarray(x, dtype=float64)`; complex, object and
//! string data are refused with an `InvalidInputError` that names the argument.

use numpy::{PyArray1, PyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;

use crate::errors::invalid_input;

fn to_float64<'py>(obj: &Bound<'py, PyAny>, arg: &'static str) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let array = np.call_method1("asarray", (obj,))?;
    let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u" | "b") {
        let dtype = array.getattr("dtype")?.str()?.to_string();
        return Err(invalid_input(
            py,
            arg,
            &format!("`{arg}` must hold real numbers, got dtype {dtype}"),
        ));
    }
    if kind == "f"
        && array
            .getattr("dtype")?
            .getattr("itemsize")?
            .extract::<usize>()?
            == 8
    {
        return Ok(array);
    }
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", "float64")?;
    np.call_method("asarray", (array,), Some(&kwargs))
}

/// A 2-D float64 array from any array-like.
pub(crate) fn matrix<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &'static str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let array = to_float64(obj, arg)?;
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if ndim != 2 {
        let shape = array.getattr("shape")?.str()?.to_string();
        return Err(invalid_input(
            obj.py(),
            arg,
            &format!("`{arg}` must be a 2-D array, got shape {shape}"),
        ));
    }
    Ok(array.cast_into::<PyArray2<f64>>()?)
}

/// A 1-D float64 array from any array-like (an n × 1 or 1 × n array is flattened).
pub(crate) fn vector<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &'static str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let array = to_float64(obj, arg)?;
    let shape: Vec<usize> = array.getattr("shape")?.extract()?;
    let flat = match shape.as_slice() {
        [_] => array,
        [1, _] | [_, 1] => array.call_method0("ravel")?,
        _ => {
            return Err(invalid_input(
                obj.py(),
                arg,
                &format!("`{arg}` must be a 1-D array, got shape {shape:?}"),
            ));
        }
    };
    Ok(flat.cast_into::<PyArray1<f64>>()?)
}

/// A 2-D float64 array from an array-like of at most two dimensions; a 1-D array becomes
/// the 2-D shape `one_d` (`(1, -1)`: one row; `(-1, 1)`: one column), and `expected` names
/// what the argument must be in the error for other shapes.
fn two_d<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &'static str,
    one_d: (i64, i64),
    expected: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let array = to_float64(obj, arg)?;
    let ndim: usize = array.getattr("ndim")?.extract()?;
    let array = match ndim {
        1 => array.call_method1("reshape", (one_d,))?,
        2 => array,
        _ => {
            let shape = array.getattr("shape")?.str()?.to_string();
            return Err(invalid_input(
                obj.py(),
                arg,
                &format!("`{arg}` must be {expected}, got shape {shape}"),
            ));
        }
    };
    Ok(array.cast_into::<PyArray2<f64>>()?)
}

/// Weight vectors, one per row: a 2-D array, or a 1-D array read as one row.
pub(crate) fn rows<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &'static str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    two_d(obj, arg, (1, -1), "a 1-D array or a 2-D array of rows")
}

/// Points: a 2-D array, or a 1-D array read as n points of dimension 1.
pub(crate) fn points<'py>(
    obj: &Bound<'py, PyAny>,
    arg: &'static str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    two_d(obj, arg, (-1, 1), "an (n, d) array of points")
}

/// Whether a float64 array is contiguous in C or Fortran order (so the engine borrows it).
pub(crate) fn is_contiguous(array: &Bound<'_, PyArray2<f64>>) -> bool {
    array.is_c_contiguous() || array.is_fortran_contiguous()
}
