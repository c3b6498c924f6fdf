"""Input conversion shared by the Python faces.

The cast rule: float64 arrays are passed to the engine as they are (no copy for C- or
Fortran-contiguous data); cost matrices in float32 stay float32 (the engine reads them in
single precision, see :class:`otters.DenseCost`); other float32, integer and boolean arrays,
and sequences, are converted with ``numpy.asarray(x, dtype=float64)``; complex, object and string data are
refused with :class:`otters.InvalidInputError` naming the argument. Torch tensors and JAX
arrays are read through ``numpy.asarray`` (on the CPU).
"""

import numpy as np

from .exceptions import InvalidInputError


def as_float64(x, name):
    """``x`` as a float64 ndarray, following the module's cast rule."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise invalid(name, f"`{name}` must hold real numbers, got dtype {arr.dtype}")
    return arr if arr.dtype == np.float64 else arr.astype(np.float64)


def weights(w, n, name):
    """Weights of length ``n``: ``None`` or an empty sequence means uniform ``1/n``."""
    if w is None:
        return np.full(n, 1.0 / n)
    arr = as_float64(w, name)
    if arr.ndim == 1 and arr.shape[0] == 0:
        return np.full(n, 1.0 / n)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise invalid(name, f"`{name}` must be a 1-D array of weights, got shape {arr.shape}")
    return arr


def weight_rows(w, n, name):
    """Weights of length ``n`` (uniform for ``None``), or a 2-D array of such rows."""
    if w is None:
        return np.full(n, 1.0 / n)
    arr = as_float64(w, name)
    if arr.ndim == 2:
        return arr
    return weights(arr, n, name)


def cost(m, name):
    """A 2-D cost matrix: float32 and float64 arrays as they are, others as float64."""
    arr = np.asarray(m)
    if arr.dtype == np.float32:
        if arr.ndim != 2:
            raise invalid(name, f"`{name}` must be a 2-D array, got shape {arr.shape}")
        return arr
    return matrix(arr, name)


def matrix(m, name):
    """A 2-D float64 array."""
    arr = as_float64(m, name)
    if arr.ndim != 2:
        raise invalid(name, f"`{name}` must be a 2-D array, got shape {arr.shape}")
    return arr


def invalid(name, message):
    """An :class:`InvalidInputError` naming ``name``."""
    err = InvalidInputError(message)
    err.argument = name
    return err
