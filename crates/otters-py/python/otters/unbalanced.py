"""Unbalanced OT with POT's names (``ot.unbalanced``): the same log-domain Sinkhorn as
:class:`otters.Sinkhorn`, with translation-invariant updates for every ``method``."""

import numpy as np

from . import _arrays, _core
from .problems import LinearProblem
from .solvers import Sinkhorn

#: ``method=`` names accepted (all the same solver).
METHODS = ("sinkhorn", "sinkhorn_stabilized", "sinkhorn_translation_invariant", "sinkhorn_reg_scaling")


def _solve(a, b, M, reg, reg_m, method, reg_type, c, warmstart, numItermax, stopThr, kwargs):
    if kwargs:
        raise TypeError(f"unexpected keyword argument {next(iter(kwargs))!r}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if str(reg_type).lower() != "kl":
        raise ValueError(f"reg_type={reg_type!r} is not supported: otters regularizes with KL(P | a b^T), POT's 'kl'")
    if c is not None:
        raise ValueError("a reference measure c is not supported")
    rho_a, rho_b = (reg_m, reg_m) if np.ndim(reg_m) == 0 else tuple(reg_m)
    finite = lambda r: None if np.isinf(r) else float(r)  # noqa: E731
    geom = _core.DenseCost(_arrays.matrix(M, "M"))
    problem = LinearProblem(geom, a, b, rho_a=finite(rho_a), rho_b=finite(rho_b))
    init = None
    if warmstart is not None:
        init = tuple(float(reg) * np.asarray(w, dtype=np.float64) for w in warmstart)
    out = Sinkhorn(float(reg), threshold=stopThr, max_iterations=numItermax).solve(problem, init=init)
    return problem, out


def _log(out, reg):
    return {"logu": out.f / reg, "logv": out.g / reg, "err": list(out.errors), "niter": out.iterations,
            "converged": out.converged, "cost": out.linear_cost, "total_cost": out.primal_cost}


def sinkhorn_unbalanced(a, b, M, reg, reg_m, method="sinkhorn", reg_type="kl", c=None, warmstart=None,
                        numItermax=1000, stopThr=1e-6, verbose=False, log=False, **kwargs):
    r"""Unbalanced entropic OT plan (POT's ``ot.unbalanced.sinkhorn_unbalanced``).

    Solves :math:`\min_P \langle M, P\rangle + \mathrm{reg}\,\mathrm{KL}(P|ab^\top) +
    \mathrm{reg}_{m1}\mathrm{KL}(P1|a) + \mathrm{reg}_{m2}\mathrm{KL}(P^\top 1|b)`.
    ``reg_m`` is a number or a pair; ``inf`` keeps that marginal exact (semi-relaxed).
    ``stopThr`` bounds the L1 distance of each marginal to what optimality requires (POT
    uses the relative change of the scalings). ``warmstart`` is ``(logu, logv)`` as in the
    log (``f/reg``, ``g/reg``).
    """
    _, out = _solve(a, b, M, reg, reg_m, method, reg_type, c, warmstart, numItermax, stopThr, kwargs)
    plan = out.plan()
    return (plan, _log(out, reg)) if log else plan


def sinkhorn_unbalanced2(a, b, M, reg, reg_m, method="sinkhorn", reg_type="kl", c=None, warmstart=None,
                         returnCost="linear", numItermax=1000, stopThr=1e-6, verbose=False, log=False, **kwargs):
    r"""Unbalanced entropic OT cost (POT's ``ot.unbalanced.sinkhorn_unbalanced2``):
    ``returnCost="linear"`` gives :math:`\langle M, P\rangle`, ``"total"`` the whole objective."""
    if returnCost not in ("linear", "total"):
        raise ValueError(f"returnCost must be 'linear' or 'total', got {returnCost!r}")
    _, out = _solve(a, b, M, reg, reg_m, method, reg_type, c, warmstart, numItermax, stopThr, kwargs)
    cost = out.linear_cost if returnCost == "linear" else out.primal_cost
    return (cost, _log(out, reg)) if log else cost


def uot_1d(u_values, v_values, reg_m, u_weights=None, v_weights=None, p=2, require_sort=True, numItermax=10000,
           returnCost="linear", log=False, stopThr=1e-6):
    r"""Unbalanced OT on the line with KL marginal penalties (POT's ``ot.unbalanced.uot_1d``):
    Frank–Wolfe on the translation-invariant dual (Séjourné, Vialard, Peyré 2022).

    ``reg_m`` is ρ, or ``(ρ_a, ρ_b)``; ``float("inf")`` keeps a marginal exact. Returns the
    reweighted marginals ``(P1, Pᵀ1)`` and the cost (``returnCost="linear"``: ``⟨C, P⟩``;
    ``"total"``: with the KL terms).

    Differences from POT, on purpose: numpy arrays (POT's function needs torch or jax);
    one 1-D problem per call (no batched columns); the iteration stops when the certified
    primal–dual gap is at most ``stopThr`` (POT runs exactly ``numItermax`` fixed steps,
    default 10, which can leave the cost far from optimal), with an exact line search;
    ``require_sort`` is accepted and ignored (otters always sorts). A
    :class:`otters.ConvergenceWarning` is emitted when the gap stays above ``stopThr``. The
    log holds ``f``, ``g``, ``total_cost``, ``linear_cost``, ``dual_cost`` (the certified lower
    bound), ``niter``, ``converged`` and the plan as ``(rows, cols, values)``.

    Examples
    --------
    >>> import numpy as np, otters
    >>> a_, b_, cost = otters.unbalanced.uot_1d(np.array([0.0]), np.array([10.0]), 1.0, returnCost="total")
    >>> round(cost, 9)  # two far-apart Diracs: destroying both masses costs 2·ρ·KL = 2
    2.0
    """
    del require_sort
    if returnCost not in ("linear", "total"):
        raise ValueError(f"returnCost must be 'linear' or 'total', got {returnCost!r}")
    rho_a, rho_b = (reg_m, reg_m) if np.ndim(reg_m) == 0 else tuple(reg_m)
    out = _core.uot_1d(u_values, v_values, u_weights, v_weights, rho_a=float(rho_a), rho_b=float(rho_b), p=float(p),
                       threshold=float(stopThr), max_iterations=int(numItermax))
    if not out["converged"]:
        import warnings

        from .exceptions import ConvergenceWarning

        warnings.warn(f"uot_1d: the primal-dual gap {out['cost'] - out['dual_cost']:.3e} is above stopThr={stopThr:g} "
                      f"after {out['iterations']} Frank-Wolfe steps; raise numItermax", ConvergenceWarning, stacklevel=2)
    loss = out["linear_cost"] if returnCost == "linear" else out["cost"]
    if not log:
        return out["marginal_a"], out["marginal_b"], loss
    return out["marginal_a"], out["marginal_b"], loss, {
        "f": out["f"], "g": out["g"], "total_cost": out["cost"], "linear_cost": out["linear_cost"],
        "dual_cost": out["dual_cost"], "niter": out["iterations"], "converged": out["converged"],
        "plan": (out["rows"], out["cols"], out["values"])}


def uot_barycenter_1d(values, weights=None, lambdas=None, reg_m=1.0, numItermax=10000, stopThr=1e-6, log=False):
    r"""Unbalanced barycenter of 1-D measures for the squared distance (Séjourné, Vialard,
    Peyré 2022), by Frank–Wolfe: the multi-marginal problem
    ``min_γ ⟨C, γ⟩ + Σ_k ρλ_k KL(γ_k | α_k)`` with ``C = Σ_k λ_k (x_k − x̄)²``, and the barycenter
    ``x̄#γ`` on a free support. ``reg_m=float("inf")`` gives the W2 barycenter (the masses must
    then agree). otters-only (no POT equivalent).

    Parameters
    ----------
    values : list of 1-D arrays
    weights : list of 1-D arrays (or None entries: uniform with mass 1), optional
    lambdas : array-like, optional
        Barycentric weights (> 0, normalized to sum 1); uniform by default.

    Returns
    -------
    support, weights : ndarray
        The barycenter's points (increasing) and weights.
    log : dict, only if ``log=True``
        ``cost`` (primal), ``dual_cost``, ``potentials``, ``marginals``, ``niter``, ``converged``.

    Examples
    --------
    >>> import numpy as np, otters
    >>> x, w = otters.unbalanced.uot_barycenter_1d([np.array([0.0]), np.array([2.0])], reg_m=float("inf"))
    >>> x.tolist(), w.tolist()
    ([1.0], [1.0])
    """
    values = list(values)
    weights = [None] * len(values) if weights is None else list(weights)
    lambdas = np.full(len(values), 1.0 / max(len(values), 1)) if lambdas is None else lambdas
    out = _core.uot_barycenter_1d(values, weights, lambdas, float(reg_m), threshold=float(stopThr),
                                  max_iterations=int(numItermax))
    if not out["converged"]:
        import warnings

        from .exceptions import ConvergenceWarning

        warnings.warn(f"uot_barycenter_1d: the primal-dual gap {out['cost'] - out['dual_cost']:.3e} is above "
                      f"stopThr={stopThr:g} after {out['iterations']} steps; raise numItermax", ConvergenceWarning,
                      stacklevel=2)
    if not log:
        return out["support"], out["weights"]
    return out["support"], out["weights"], {k: out[k] for k in ("cost", "dual_cost", "potentials", "marginals")} | {
        "niter": out["iterations"], "converged": out["converged"]}


def barycenter_unbalanced(A, M, reg, reg_m, method="sinkhorn", weights=None, numItermax=1000, stopThr=1e-6,
                          verbose=False, log=False, **kwargs):
    r"""Unbalanced entropic barycenter on a fixed support (POT's
    ``ot.unbalanced.barycenter_unbalanced``; Chizat, Peyré, Schmitzer, Vialard 2018).

    Solves :math:`\min_b \sum_k w_k \mathrm{UOT}_{reg}(a_k, b)` where each plan's marginals
    are penalized by ``reg_m · KL``, so the inputs may have different masses; log-domain
    iterative Bregman projections (every ``method`` is the same solver).

    Parameters
    ----------
    A : array-like, shape (dim, n_hists)
        The input histograms, one per column.
    M : array-like, shape (dim, dim_bar)
        Cost from the inputs' support to the barycenter's.
    reg, reg_m : float
        The entropic regularization and the marginal penalty (``inf``: balanced).
    method : str
        One of :data:`METHODS`; all run the same log-domain iterations.
    weights : array-like, shape (n_hists,), optional
        Weights of the inputs (uniform by default; divided by their sum, which POT does not do).
    numItermax, stopThr : int, float
        Iteration budget and threshold on the relative change of the barycenter (POT's error).
    verbose : bool
        Accepted and ignored.
    log : bool
        Also return a dict with ``err`` (the last error), ``niter`` and ``converged``.

    Returns
    -------
    b : ndarray, shape (dim_bar,)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.linspace(0.0, 1.0, 5)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> A = np.zeros((5, 2)); A[0, 0] = 1.0; A[4, 1] = 2.0
    >>> b = otters.unbalanced.barycenter_unbalanced(A, M, 0.1, 1.0)
    >>> bool(1.0 < b.sum() < 2.0)
    True
    """
    import warnings

    from .bregman import _named
    from .exceptions import ConvergenceWarning

    del verbose
    if kwargs:
        raise TypeError(f"barycenter_unbalanced() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    A = _arrays.matrix(A, "A")
    lambdas = None if weights is None else _arrays.as_float64(weights, "weights")
    names = {"measures": "A", "inputs.weights": "A", "inputs": "A", "cost": "M", "lambdas": "weights",
             "epsilon": "reg", "rho": "reg_m", "threshold": "stopThr", "max_iterations": "numItermax"}
    bar, iterations, error, converged = _named(lambda: _core.solve_barycenter(
        A.T, M, float(reg), lambdas=lambdas, threshold=float(stopThr), max_iterations=int(numItermax),
        rho=float(reg_m)), names)
    if not converged:
        warnings.warn("barycenter_unbalanced: the iterations did not converge: increase numItermax or reg",
                      ConvergenceWarning, stacklevel=2)
    if log:
        return bar, {"err": [error], "niter": iterations, "converged": converged}
    return bar
