"""POT-compatible functions: POT's names, argument order and return conventions.

Each function maps POT's arguments onto the engine and shapes the result like POT; the
solver itself is the log-domain Sinkhorn of the Rust core (stable for small ``reg``).
"""

import warnings

import numpy as np

from . import _core
from .exceptions import ConvergenceWarning


def _as_weights(w, n, name):
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 1 and w.shape[0] == 0:
        return np.full(n, 1.0 / n)
    if w.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of weights, got shape {w.shape}")
    return np.ascontiguousarray(w)


def _solve(a, b, M, reg, numItermax, stopThr, warn):
    M = np.ascontiguousarray(np.asarray(M, dtype=np.float64))
    if M.ndim != 2:
        raise ValueError(f"`M` must be a 2-D cost matrix, got shape {M.shape}")
    a = _as_weights(a, M.shape[0], "a")
    b = _as_weights(b, M.shape[1], "b")
    res = _core.sinkhorn(M, a, b, float(reg), threshold=float(stopThr), max_iterations=int(numItermax))
    if warn and not res["converged"]:
        warnings.warn(
            f"Sinkhorn did not converge: marginal error {res['marginal_error']:.3e} after "
            f"{res['iterations']} iterations (stopThr={stopThr}); raise numItermax or reg",
            ConvergenceWarning,
            stacklevel=3,
        )
    return res


def _log(res, reg):
    return {
        "u": res["f"] / reg,
        "v": res["g"] / reg,
        "log_u": res["f"] / reg,
        "log_v": res["g"] / reg,
        "err": list(res["errors"]),
        "niter": res["iterations"],
        "converged": res["converged"],
        "reg_ot_cost": res["reg_ot_cost"],
    }


def sinkhorn(a, b, M, reg, numItermax=1000, stopThr=1e-9, log=False, warn=True):
    r"""Entropic optimal transport plan (POT's ``ot.sinkhorn``, log-domain).

    Solves :math:`\min_{P \in \Pi(a, b)} \langle M, P\rangle + \mathrm{reg}\cdot
    \mathrm{KL}(P \,|\, a b^\top)`, which has the same optimal plan as POT's entropy
    convention, with log-domain updates (POT's ``method="sinkhorn_log"``), so small ``reg``
    neither overflows nor underflows.

    Parameters
    ----------
    a : array-like, shape (n,)
        Source weights (an empty list means uniform).
    b : array-like, shape (m,)
        Target weights, same total mass as ``a``.
    M : array-like, shape (n, m)
        Cost matrix; ``+inf`` marks forbidden pairs.
    reg : float
        Entropic regularization (> 0).
    numItermax : int
        Iteration budget.
    stopThr : float
        Stop when the L1 marginal error ``|P1 - a|_1 + |P^T 1 - b|_1`` is below this.
    log : bool
        Also return a dict with the dual potentials (``log_u``, ``log_v`` = f/reg, g/reg),
        the error trace and the iteration count.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.

    Returns
    -------
    plan : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Raises
    ------
    otters.InvalidInputError
        (a ``ValueError``) for NaN, negative weights, unequal masses, bad shapes or reg <= 0.

    Examples
    --------
    >>> import numpy as np, otters
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P = otters.sinkhorn([0.5, 0.5], [0.5, 0.5], M, 0.01)
    >>> bool(np.allclose(P, np.eye(2) / 2, atol=1e-6))
    True
    """
    res = _solve(a, b, M, reg, numItermax, stopThr, warn)
    return (res["plan"], _log(res, reg)) if log else res["plan"]


def sinkhorn2(a, b, M, reg, numItermax=1000, stopThr=1e-9, log=False, warn=True):
    r"""Transport cost :math:`\langle M, P\rangle` of the entropic plan (POT's ``ot.sinkhorn2``).

    Same problem and parameters as :func:`sinkhorn`; returns the linear cost (POT's
    convention, without the entropic term). The regularized (dual) cost is in
    ``log["reg_ot_cost"]``.
    """
    res = _solve(a, b, M, reg, numItermax, stopThr, warn)
    return (res["linear_cost"], _log(res, reg)) if log else res["linear_cost"]


def _exact(a, b, M, numItermax):
    M = np.ascontiguousarray(np.asarray(M, dtype=np.float64))
    if M.ndim != 2:
        raise ValueError(f"`M` must be a 2-D cost matrix, got shape {M.shape}")
    a = _as_weights(a, M.shape[0], "a")
    b = _as_weights(b, M.shape[1], "b")
    res = _core.emd(M, a, b, max_iterations=int(numItermax))
    if not res["converged"]:
        warnings.warn(
            f"the network simplex stopped after numItermax={numItermax} pivots before optimality "
            f"(marginal error {res['marginal_error']:.3e})",
            ConvergenceWarning,
            stacklevel=3,
        )
    return res


def emd(a, b, M, numItermax=100000000, log=False):
    r"""Exact optimal transport plan (POT's ``ot.emd``).

    Solves :math:`\min_{P \in \Pi(a, b)} \langle M, P\rangle` by the network simplex (or a
    shortest-augmenting-path assignment solver when ``a`` and ``b`` are uniform of the same
    length).

    Parameters
    ----------
    a, b : array-like, shape (n,), (m,)
        Weights of equal mass (an empty list means uniform).
    M : array-like, shape (n, m)
        Cost matrix; ``+inf`` marks forbidden pairs.
    numItermax : int
        Pivot budget of the network simplex.
    log : bool
        Also return a dict with the centered dual potentials ``u``, ``v``, the ``cost`` and
        the solver's ``method``.

    Returns
    -------
    plan : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> otters.emd([0.5, 0.5], [0.5, 0.5], np.array([[0.0, 1.0], [1.0, 0.0]]))
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    res = _exact(a, b, M, numItermax)
    plan = np.zeros(res["shape"])
    np.add.at(plan, (res["rows"], res["cols"]), res["values"])
    if not log:
        return plan
    return plan, {"u": res["f"], "v": res["g"], "cost": res["cost"], "method": res["method"],
                  "iterations": res["iterations"], "converged": res["converged"]}


def emd2(a, b, M, numItermax=100000000, log=False):
    r"""Exact optimal transport cost :math:`\langle M, P\rangle` (POT's ``ot.emd2``).

    Same problem and parameters as :func:`emd`.
    """
    res = _exact(a, b, M, numItermax)
    if not log:
        return res["cost"]
    return res["cost"], {"u": res["f"], "v": res["g"], "cost": res["cost"], "method": res["method"]}


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1):
    r"""1-D optimal transport cost :math:`W_p^p` (POT's ``ot.wasserstein_1d``, which returns
    the p-th power, not its root).

    Unlike POT, weights of different total mass are refused (POT returns a meaningless
    number for them).
    """
    def as_1d(values):
        return None if values is None else np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel())

    return _core.wasserstein_1d(as_1d(u_values), as_1d(v_values), as_1d(u_weights), as_1d(v_weights), float(p))
