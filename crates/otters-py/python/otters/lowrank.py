"""POT-compatible low-rank OT (POT's ``ot.lowrank``), over :class:`otters.LowRankSinkhorn`.

Differences from POT, on purpose:

* the outer loop stops on the change of the factors (OTT-JAX's criterion, ``threshold``
  1e-5) instead of running exactly 100 steps; ``stopThr`` and ``numItermax`` keep POT's
  meaning (each projection's L1 marginal tolerance and budget; otters solves the
  projection by Newton's method on its dual where POT runs Dykstra's algorithm);
* ``rescale_cost=True`` divides the cost by its maximum (POT divides each factor by the
  square root of its largest entry);
* ``init="kmeans"`` clusters with otters' own k-means++ / Lloyd (seeded by ``seed_init``,
  not scikit-learn's) and plans at ε = 0.1 on the max-scaled costs (``reg_init`` is not
  used), then matches the two clusterings; ``gamma_init="theory"`` is not available
  (``ValueError``);
* the log holds ``value`` (with the entropic terms when ``reg > 0``: not computed, equal to
  ``value_linear``), ``value_linear``, ``converged``, ``niter``, ``marginal_error``; no
  ``lazy_plan`` (use :meth:`otters.LowRankOutput.apply`).
"""

from . import _arrays, _core
from .problems import LinearProblem
from .solvers import LowRankSinkhorn

__all__ = ["lowrank_sinkhorn"]


def lowrank_sinkhorn(X_s, X_t, a=None, b=None, reg=0, rank=None, alpha=1e-10, rescale_cost=True, init="random",
                     reg_init=1e-1, seed_init=49, gamma_init="rescale", numItermax=2000, stopThr=1e-7, warn=True,
                     log=False):
    r"""Low-rank OT between two point clouds with the squared Euclidean cost (POT's
    ``ot.lowrank.lowrank_sinkhorn``): ``P = Q diag(1/g) R^T``.

    Returns
    -------
    Q : ndarray, shape (n, r)
    R : ndarray, shape (m, r)
    g : ndarray, shape (r,)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.random.default_rng(0).normal(size=(300, 2))
    >>> Q, R, g = otters.lowrank.lowrank_sinkhorn(x, x + 1.0, rank=5, stopThr=1e-4)
    >>> bool(np.allclose(Q.sum(1), 1 / 300, atol=1e-6) and np.allclose(Q.sum(0), g, atol=1e-12))
    True
    """
    del reg_init
    X_s, X_t = _arrays.matrix(X_s, "X_s"), _arrays.matrix(X_t, "X_t")
    n, m = X_s.shape[0], X_t.shape[0]
    r = min(n, m) if rank is None else min(n, m, int(rank))
    if init not in ("random", "deterministic", "kmeans"):
        raise ValueError(f"init={init!r} is not available; use 'random', 'deterministic' or 'kmeans'")
    if gamma_init != "rescale":
        raise ValueError(f"gamma_init={gamma_init!r} is not available; use 'rescale'")
    geom = _core.PointCloud(X_s, X_t, scale_cost="max" if rescale_cost else None)
    problem = LinearProblem(geom, a, b)
    solver = LowRankSinkhorn(r, epsilon=reg, min_g=alpha, inner_threshold=stopThr, inner_max_iterations=numItermax,
                             init={"deterministic": "rank2"}.get(init, init), seed=seed_init, warn=warn)
    out = solver.solve(problem)
    if not log:
        return out.q, out.r, out.g
    return out.q, out.r, out.g, {"value": out.cost, "value_linear": out.cost, "converged": out.converged,
                                 "niter": out.iterations, "marginal_error": out.marginal_error}
