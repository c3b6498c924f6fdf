r"""POT-compatible entropic barycenters (POT's ``ot.bregman``): same names, argument order and
returned values, over the log-domain iterative Bregman projections of
``otters.barycenter`` (Benamou et al. 2015; on grids, Solomon et al. 2015).

Differences from POT, on purpose:

* Every ``method`` (``"sinkhorn"``, ``"sinkhorn_log"``, ``"sinkhorn_stabilized"``) runs the
  same log-domain iterations (POT's ``"sinkhorn_log"``), which do not overflow for any
  ``reg``. POT's ``"sinkhorn"`` agrees for uniform ``weights``; for other weights its
  iterations keep :math:`\sum_k w_k \log u_k` at a nonzero start value and converge to a
  point of higher objective, which otters does not reproduce.
* ``weights`` are divided by their sum (POT uses them as given, which for weights not
  summing to one is no longer a barycenter).
* The stopping error is POT's (the sum over bins of the standard deviation, over the
  inputs, of the plans' barycenter-side marginals), tested after every iteration rather
  than every tenth; ``log["err"]`` holds its last value only.
* ``empirical_sinkhorn_divergence`` is :func:`otters.divergence.empirical_sinkhorn_divergence`.
* The debiased barycenters stop on the relative change of the barycenter,
  ``max|b - b_prev| / max(max b, 1)`` (POT's ``method="sinkhorn"``; its ``"sinkhorn_log"``
  uses the marginal spread, which ignores the debiasing potential and is exactly zero for
  identical inputs). Their iteration deconvolves the entropic blur and converges slowly:
  with equal ``numItermax`` and ``stopThr=0``, otters and POT return the same iterate.
* Zero entries of ``A`` are exact zeros (POT's log-domain variants add ``1e-16`` /
  ``1e-30`` before taking logarithms).
"""

import warnings

import numpy as np

from . import _arrays, _core
from .divergence import empirical_sinkhorn_divergence
from .exceptions import ConvergenceWarning, InvalidInputError

__all__ = ["barycenter", "barycenter_debiased", "convolutional_barycenter2d", "convolutional_barycenter2d_debiased",
           "empirical_sinkhorn_divergence"]

_METHODS = ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized")


def _named(call, names):
    """Runs ``call()``, renaming the engine's argument names in its input errors to POT's."""
    try:
        return call()
    except InvalidInputError as err:
        if err.argument not in names:
            raise
        new = names[err.argument]
        renamed = InvalidInputError(str(err).replace(f"`{err.argument}`", f"`{new}`"))
        renamed.argument = new
        raise renamed from None


_NAMES = {"measures": "A", "b": "A", "inputs.weights": "A", "inputs": "A", "cost": "M", "lambdas": "weights",
          "epsilon": "reg", "threshold": "stopThr", "max_iterations": "numItermax", "support_cost": "M"}


def _check(function, method, kwargs):
    if method not in _METHODS:
        raise ValueError(f"{function}(): unknown method {method!r}; valid: {', '.join(_METHODS)}")
    for key, value in kwargs.items():
        if key not in ("tau", "stabThr"):
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")
        warnings.warn(f"{function}(): {key}={value!r} is ignored by otters", UserWarning, stacklevel=3)


def _debiased_method(function, method):
    if method not in ("sinkhorn", "sinkhorn_log"):
        raise ValueError(f"{function}(): unknown method {method!r}; valid: sinkhorn, sinkhorn_log")


def _fixed_support(A, M, reg, weights, numItermax, stopThr, warn, log, debiased):
    A = _arrays.matrix(A, "A")
    lambdas = None if weights is None else _arrays.as_float64(weights, "weights")
    bar, iterations, error, converged = _named(lambda: _core.solve_barycenter(
        A.T, M, float(reg), lambdas=lambdas, threshold=float(stopThr), max_iterations=int(numItermax),
        debiased=debiased), _NAMES)
    return _finish(bar, iterations, error, converged, warn, log)


def _images(A, reg, weights, numItermax, stopThr, warn, log, debiased):
    A = _arrays.as_float64(A, "A")
    if A.ndim != 3:
        raise _arrays.invalid("A", f"`A` must be an (n_hists, h, w) array of images, got shape {A.shape}")
    n_hists, h, w = A.shape
    lambdas = None if weights is None else _arrays.as_float64(weights, "weights")
    axes = [np.linspace(0.0, 1.0, h), np.linspace(0.0, 1.0, w)]
    bar, iterations, error, converged = _named(lambda: _core.solve_grid_barycenter(
        A.reshape(n_hists, h * w), axes, float(reg), lambdas=lambdas, threshold=float(stopThr),
        max_iterations=int(numItermax), debiased=debiased), _NAMES)
    return _finish(bar.reshape(h, w), iterations, error, converged, warn, log)


def _finish(bar, iterations, error, converged, warn, log):
    if warn and not converged:
        warnings.warn("the barycenter iterations did not converge: increase numItermax or reg",
                      ConvergenceWarning, stacklevel=3)
    if log:
        return bar, {"err": [error], "niter": iterations, "converged": converged}
    return bar


def barycenter(A, M, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-4, verbose=False,
               log=False, warn=True, **kwargs):
    r"""Entropic Wasserstein barycenter on a fixed support (POT's ``ot.bregman.barycenter``).

    Solves :math:`\min_{a} \sum_k w_k W_{reg}(a, a_k)` with :math:`W_{reg}` the entropic OT
    cost for the cost matrix ``M``, by iterative Bregman projections in the log domain.

    Parameters
    ----------
    A : array-like, shape (dim, n_hists)
        The input histograms, one per column, of equal mass.
    M : array-like, shape (dim, dim_bar)
        Cost from the inputs' support to the barycenter's.
    reg : float
        The regularization :math:`\varepsilon > 0`.
    weights : array-like, shape (n_hists,), optional
        Weights of the inputs (uniform by default; divided by their sum).
    method : {"sinkhorn", "sinkhorn_log", "sinkhorn_stabilized"}
        All run the log-domain iterations (see the module notes).
    numItermax, stopThr : int, float
        Iteration budget and threshold on the marginal spread (POT's error).
    verbose : bool
        Accepted and ignored.
    log : bool
        Also return a dict with ``err`` (the last error), ``niter`` and ``converged``.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.

    Returns
    -------
    a : ndarray, shape (dim_bar,)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.arange(5.0)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> A = np.zeros((5, 2)); A[0, 0] = A[4, 1] = 1.0
    >>> bar = otters.bregman.barycenter(A, M, 0.1, stopThr=1e-10)
    >>> int(np.argmax(bar)), bool(bar[2] > 0.99)
    (2, True)
    """
    del verbose
    _check("barycenter", method, kwargs)
    return _fixed_support(A, M, reg, weights, numItermax, stopThr, warn, log, debiased=False)


def convolutional_barycenter2d(A, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-4,
                               verbose=False, log=False, warn=True, **kwargs):
    r"""Convolutional Wasserstein barycenter of 2-D images (POT's
    ``ot.bregman.convolutional_barycenter2d``; Solomon et al. 2015).

    As POT, an ``h × w`` image lives on ``linspace(0, 1, h) × linspace(0, 1, w)`` with the
    squared Euclidean cost and :math:`\varepsilon` = ``reg`` (the kernel
    :math:`e^{-(x - y)^2/reg}` per axis), applied by separable log-domain sweeps.

    Parameters
    ----------
    A : array-like, shape (n_hists, h, w)
        The input images, of equal mass.
    reg : float
        The regularization :math:`\varepsilon > 0`.
    weights, method, numItermax, stopThr, verbose, log, warn :
        As :func:`barycenter`.

    Returns
    -------
    a : ndarray, shape (h, w)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> A = np.full((2, 8, 8), 1e-3)
    >>> A[0, 1, 1] = A[1, 6, 6] = 1.0
    >>> A /= A.sum(axis=(1, 2), keepdims=True)
    >>> bar = otters.bregman.convolutional_barycenter2d(A, 0.01, stopThr=1e-9)
    >>> bar.shape, bool(bar[3:5, 3:5].sum() > 0.3)
    ((8, 8), True)
    """
    del verbose
    _check("convolutional_barycenter2d", method, kwargs)
    return _images(A, reg, weights, numItermax, stopThr, warn, log, debiased=False)


def barycenter_debiased(A, M, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-4, verbose=False,
                        log=False, warn=True, **kwargs):
    r"""Debiased Sinkhorn barycenter (POT's ``ot.bregman.barycenter_debiased``; Janati, Cuturi,
    Gramfort 2020).

    Solves :math:`\min_{a} \sum_k w_k S_{reg}(a, a_k)` with :math:`S_{reg}` the Sinkhorn
    divergence, which removes the entropic blur of :func:`barycenter`: the barycenter of
    identical inputs is the input. Iterative Bregman projections in the log domain, with the
    barycenter's self-transport potential as the debiasing term.

    Parameters
    ----------
    A : array-like, shape (dim, n_hists)
        The input histograms, one per column, of equal mass.
    M : array-like, shape (dim, dim)
        The cost on the common support (inputs and barycenter).
    reg : float
        The regularization :math:`\varepsilon > 0`.
    weights : array-like, shape (n_hists,), optional
        Weights of the inputs (uniform by default; divided by their sum).
    method : {"sinkhorn", "sinkhorn_log"}
        Both run the log-domain iterations.
    numItermax, stopThr : int, float
        Iteration budget and threshold on the relative change of the barycenter.
    verbose : bool
        Accepted and ignored.
    log : bool
        Also return a dict with ``err`` (the last error), ``niter`` and ``converged``.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.

    Returns
    -------
    a : ndarray, shape (dim,)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.linspace(0.0, 1.0, 40)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> a = np.exp(-((x - 0.5) ** 2) / 0.005) + 1e-3; a /= a.sum()
    >>> A = np.stack([a, a], axis=1)
    >>> plain = otters.bregman.barycenter(A, M, 0.002, stopThr=1e-10)
    >>> debiased = otters.bregman.barycenter_debiased(A, M, 0.002, numItermax=1000, stopThr=0, warn=False)
    >>> bool(np.abs(plain - a).max() > 1e-3), bool(np.abs(debiased - a).max() < 1e-5)
    (True, True)
    """
    del verbose
    _debiased_method("barycenter_debiased", method)
    if kwargs:
        raise TypeError(f"barycenter_debiased() got an unexpected keyword argument {next(iter(kwargs))!r}")
    return _fixed_support(A, M, reg, weights, numItermax, stopThr, warn, log, debiased=True)


def convolutional_barycenter2d_debiased(A, reg, weights=None, method="sinkhorn", numItermax=10000, stopThr=1e-3,
                                        verbose=False, log=False, warn=True, **kwargs):
    r"""Debiased convolutional barycenter of 2-D images (POT's
    ``ot.bregman.convolutional_barycenter2d_debiased``; Janati et al. 2020 on the grids of
    Solomon et al. 2015).

    The grid and kernel are those of :func:`convolutional_barycenter2d`; the debiasing is that
    of :func:`barycenter_debiased`.

    Parameters
    ----------
    A : array-like, shape (n_hists, h, w)
        The input images, of equal mass.
    reg : float
        The regularization :math:`\varepsilon > 0`.
    weights, method, numItermax, stopThr, verbose, log, warn :
        As :func:`barycenter_debiased`.

    Returns
    -------
    a : ndarray, shape (h, w)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> A = np.full((2, 8, 8), 1e-3)
    >>> A[0, 1, 1] = A[1, 6, 6] = 1.0
    >>> A /= A.sum(axis=(1, 2), keepdims=True)
    >>> bar = otters.bregman.convolutional_barycenter2d_debiased(A, 0.01)
    >>> plain = otters.bregman.convolutional_barycenter2d(A, 0.01)
    >>> bar.shape, bool(bar.max() > plain.max())  # sharper: the blur is removed
    ((8, 8), True)
    """
    del verbose
    _debiased_method("convolutional_barycenter2d_debiased", method)
    if kwargs:
        raise TypeError(f"convolutional_barycenter2d_debiased() got an unexpected keyword argument "
                        f"{next(iter(kwargs))!r}")
    return _images(A, reg, weights, numItermax, stopThr, warn, log, debiased=True)
