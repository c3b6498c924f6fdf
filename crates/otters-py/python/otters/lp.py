"""POT-compatible exact-OT barycenters (POT's ``ot.lp``).

Differences from POT, on purpose: ``weights`` are divided by their sum (POT uses them as
given, which for weights not summing to one scales the points); ``numThreads`` is accepted
and ignored; the log also has ``cost`` (``sum_k weights_k W_2^2`` of the last exact solves)
and ``converged``.
"""

import warnings

from . import _core
from .bregman import _named

_NAMES = {"inputs": "measures_locations", "inputs.points": "measures_locations", "inputs.weights": "measures_weights",
          "x_init": "X_init", "a": "b", "lambdas": "weights", "threshold": "stopThr", "max_iterations": "numItermax"}

__all__ = ["free_support_barycenter"]


def free_support_barycenter(measures_locations, measures_weights, X_init, b=None, weights=None, numItermax=100,
                            stopThr=1e-7, verbose=False, log=None, numThreads=1):
    r"""Free-support Wasserstein-2 barycenter (POT's ``ot.lp.free_support_barycenter``;
    Cuturi & Doucet 2014): the points ``X`` of fixed weights ``b`` minimizing
    :math:`\sum_k w_k W_2^2(X, Y_k)`, by alternating exact OT solves (network simplex) and
    barycentric projections :math:`X_i \leftarrow \sum_k w_k (P_k Y_k)_i / b_i`, until
    :math:`\|X_{t+1} - X_t\|_F^2 \le` ``stopThr``.

    Parameters
    ----------
    measures_locations : list of array-like, shape (n_k, d)
    measures_weights : list of array-like, shape (n_k,)
        Of the mass of ``b``.
    X_init : array-like, shape (N, d)
        The starting points.
    b : array-like, shape (N,), optional
        Weights of the barycenter points (uniform by default).
    weights : array-like, shape (n_measures,), optional
        Weights of the inputs (uniform by default; divided by their sum).
    numItermax, stopThr : int, float
    verbose, numThreads :
        Accepted and ignored.
    log : bool
        Also return a dict with ``displacement_square_norms``, ``cost`` and ``converged``.

    Returns
    -------
    X : ndarray, shape (N, d)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> Y1 = np.array([[0.0, 0.0], [0.0, 1.0]])
    >>> Y2 = Y1 + [2.0, 0.0]
    >>> w = np.full(2, 0.5)
    >>> X = otters.lp.free_support_barycenter([Y1, Y2], [w, w], np.array([[0.0, -1.0], [0.0, 3.0]]))
    >>> X.tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    del verbose
    if numThreads != 1:
        warnings.warn("free_support_barycenter(): numThreads is ignored by otters", UserWarning, stacklevel=2)
    X, displacements, cost, converged = _named(lambda: _core.solve_free_support_barycenter(
        list(measures_locations), list(measures_weights), X_init, a=b, lambdas=weights,
        max_iterations=int(numItermax), threshold=float(stopThr)), _NAMES)
    if log:
        return X, {"displacement_square_norms": displacements, "cost": cost, "converged": converged}
    return X
