"""All pairwise transport costs between k measures: the k × k distance matrices that
single-cell, document and shape analyses build with a double loop over ``ot.sinkhorn2`` or
``ot.emd2``, computed in Rust.

* :func:`histograms` — k histograms on one support (rows of ``H``, cost ``M`` between the
  support and itself): the entropic problems are solved in batches on the one cost (every
  sweep reads ``M`` once for a group of pairs), exact ones in parallel.
* :func:`point_clouds` — k point clouds (of any sizes) and a ground cost: the pairs in
  parallel.

``cost`` chooses the value: ``"sinkhorn"`` (``<C, P_ε>``, POT's ``sinkhorn2``; the diagonal
holds each measure's cost with itself), ``"sinkhorn_divergence"`` (``OT_ε(α, β) − ½OT_ε(α, α)
− ½OT_ε(β, β)``, zero on the diagonal, solved once per measure for the symmetric terms) or
``"emd"`` (the exact cost, POT's ``emd2``).
"""

import warnings

import numpy as np

from . import _arrays, _core
from ._core import DenseCost
from .exceptions import ConvergenceWarning

__all__ = ["histograms", "point_clouds"]


def _finish(values, converged, iterations, log, warn):
    if warn and not converged.all():
        bad = int((~converged).sum())
        warnings.warn(f"{bad} of the {converged.size} pairwise solves did not converge; raise max_iterations "
                      "or epsilon (log=True gives the flags)", ConvergenceWarning, stacklevel=3)
    if log:
        return values, {"converged": converged, "iterations": iterations}
    return values


def histograms(M, H, cost="sinkhorn_divergence", *, reg=None, relative_to=None, threshold=1e-6,
               max_iterations=2000, group=64, log=False, warn=True):
    r"""Pairwise transport costs between the rows of ``H`` on the support of ``M``.

    Parameters
    ----------
    M : array-like, DenseCost or PointCloud, shape (n, n)
        Cost between the support and itself (float32 arrays are read in float32).
    H : array-like, shape (k, n)
        One histogram per row, all of the same mass.
    cost : {"sinkhorn", "sinkhorn_divergence", "emd"}
    reg : float, optional
        Entropic regularization ε (absolute; or a factor of the cost statistic named by
        ``relative_to``); the default is 0.05 · std of the cost.
    relative_to : {None, "mean", "max", "std"}
    threshold, max_iterations :
        Each Sinkhorn solve's L1 marginal-error target and budget.
    group : int
        Pairs solved together in one batch.
    log : bool
        Also return ``{"converged": (k, k) bool, "iterations": (k, k) int}``.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when a solve did not converge.

    Returns
    -------
    D : ndarray, shape (k, k)
        The symmetric matrix of costs.

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.linspace(0, 1, 50)
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> H = np.stack([np.exp(-(x - c) ** 2 / 0.01) for c in (0.2, 0.5, 0.8)])
    >>> H /= H.sum(axis=1, keepdims=True)
    >>> D = otters.pairwise.histograms(M, H, "emd")
    >>> bool(abs(D[0, 2] - 0.36) < 1e-3), D.shape
    (True, (3, 3))
    """
    geom = M if isinstance(M, (DenseCost, _core.PointCloud)) else DenseCost(_arrays.cost(M, "M"))
    H = _arrays.matrix(H, "H")
    values, converged, iterations = _core.pairwise_histograms(
        geom, H, cost=cost, epsilon=None if reg is None else float(reg), relative_to=relative_to,
        threshold=float(threshold), max_iterations=int(max_iterations), group=int(group))
    return _finish(values, converged, iterations, log, warn)


def point_clouds(clouds, weights=None, cost="sinkhorn_divergence", *, reg=None, cost_fn="sqeuclidean", p=2.0,
                 threshold=1e-6, max_iterations=2000, log=False, warn=True):
    r"""Pairwise transport costs between the point clouds ``clouds``.

    Parameters
    ----------
    clouds : list of array-like, shapes (n_i, d)
        The k point clouds (sizes may differ; one dimension d).
    weights : list of array-like, optional
        One weight vector per cloud, all of the same mass (uniform when omitted).
    cost : {"sinkhorn", "sinkhorn_divergence", "emd"}
    reg : float
        Entropic regularization ε, absolute (needed for the entropic costs: a relative ε
        would differ from pair to pair). The ground cost is not rescaled.
    cost_fn : {"sqeuclidean", "euclidean", "cityblock", "minkowski", "cosine"}
    p : float
        Exponent of "minkowski".
    threshold, max_iterations, log, warn :
        As in :func:`histograms`.

    Returns
    -------
    D : ndarray, shape (k, k)

    Examples
    --------
    >>> import numpy as np, otters
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.normal(size=(40, 2)) + s for s in (0.0, 1.0, 2.0)]
    >>> D = otters.pairwise.point_clouds(X, cost="sinkhorn_divergence", reg=0.1)
    >>> bool(D[0, 1] < D[0, 2]), bool(np.allclose(D, D.T))
    (True, True)
    """
    if reg is None and cost != "emd":
        raise _arrays.invalid("reg", "`reg` (an absolute epsilon) is needed for entropic pairwise costs")
    clouds = [_arrays.as_float64(c, "clouds") for c in clouds]
    weights = None if weights is None else [_arrays.as_float64(w, "weights") for w in weights]
    values, converged, iterations = _core.pairwise_clouds(
        clouds, weights, cost=cost, cost_fn=cost_fn, p=float(p),
        epsilon=None if reg is None else float(reg), threshold=float(threshold),
        max_iterations=int(max_iterations))
    return _finish(values, converged, iterations, log, warn)
