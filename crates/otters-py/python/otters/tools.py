"""Tools on top of the solvers: coupling sampling and sharpness, Sinkformer attention, anchor
distances. Soft sorting lives in :mod:`otters.soft_sort`.

* :func:`sample_coupling` / :func:`sample_targets` draw index pairs from the plan of a Sinkhorn
  solve row by row, never materializing it (OT minibatch pairing for flow matching);
  :func:`coupling_sharpness` measures how concentrated a plan is.
* :func:`sinkformer_attention`: doubly stochastic attention (Sander et al. 2022).
* :func:`anchor_energy`, :func:`anchor_wasserstein`: distances between clouds in different
  spaces through the distributions of distances from each point (Sato et al. 2020).
"""

import warnings
from typing import NamedTuple

import numpy as np

from . import _arrays, _core
from .exceptions import ConvergenceWarning

__all__ = [
    "Sharpness",
    "anchor_cost_matrix",
    "anchor_energy",
    "anchor_wasserstein",
    "coupling_sharpness",
    "sample_coupling",
    "sample_targets",
    "sinkformer_attention",
]


class Sharpness(NamedTuple):
    """How concentrated a plan ``P`` is (``π = P / ΣP``, row masses ``r``)."""

    #: ``H(π)`` in nats.
    entropy: float
    #: ``H(J | I)``: 0 for a map, ``log m`` for the independent coupling with uniform target.
    conditional_entropy: float
    #: ``H(J | I) / log m`` in ``[0, 1]``.
    normalized_entropy: float
    #: ``exp(H(π_{·|i}))`` per row: the effective number of partners.
    effective_partners: np.ndarray
    #: Share of each row's mass on its heaviest entry.
    argmax_mass: np.ndarray
    #: Share of all mass on the rows' heaviest entries (1 for a map).
    argmax_fraction: float


def _plan_parts(problem, out):
    return problem.geom, problem.a, problem.b, out.f, out.g, out.epsilon


def sample_coupling(problem, out, n_samples, seed=0):
    """Draw ``n_samples`` i.i.d. index pairs ``(i, j)`` with probability ``P_ij / ΣP`` from the
    plan of ``out = Sinkhorn(...).solve(problem)``, without materializing ``P``.

    Rows are drawn from the row masses ``P1`` (one pass over the cost), then each drawn row's
    partner from ``P_ij / (P1)_i`` (one cost row per distinct drawn row): memory
    O(n + m + n_samples). The same ``seed`` gives the same pairs, whatever the thread count.

    Returns
    -------
    rows, cols : ndarray of uint
        The pairs, in the order drawn.

    Examples
    --------
    >>> import numpy as np
    >>> import otters
    >>> x = np.array([[0.0], [1.0], [2.0]])
    >>> problem = otters.LinearProblem(otters.PointCloud(x, x))
    >>> out = otters.Sinkhorn(epsilon=0.01).solve(problem)
    >>> rows, cols = otters.tools.sample_coupling(problem, out, 5, seed=1)
    >>> bool((rows == cols).all())
    True
    """
    n = int(n_samples)
    if n < 0:
        raise _arrays.invalid("n_samples", f"`n_samples` must be >= 0, got {n_samples}")
    return _core.sample_coupling(*_plan_parts(problem, out), count=n, seed=int(seed))


def sample_targets(problem, out, rows, seed=0):
    """For each index ``i`` in ``rows``, draw a partner ``j`` with probability
    ``P_ij / Σ_j P_ij`` (the conditional of the plan, as OT flow matching pairs a minibatch).

    Raises :class:`otters.InvalidInputError` for an index out of range or a row without mass.
    """
    idx = np.asarray(rows)
    if idx.ndim != 1 or (idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0)):
        raise _arrays.invalid("rows", "`rows` must be a 1-D array of non-negative integer indices")
    _, cols = _core.sample_coupling(*_plan_parts(problem, out), seed=int(seed), rows=[int(i) for i in idx])
    return cols


def coupling_sharpness(plan, out=None):
    """:class:`Sharpness` of a plan: a dense matrix ``plan``, or the plan of a Sinkhorn solve
    given as ``(problem, out)`` (streamed row by row, never materialized).

    Examples
    --------
    >>> import numpy as np
    >>> s = coupling_sharpness(np.eye(3) / 3)
    >>> round(s.entropy, 6), s.conditional_entropy, s.argmax_fraction
    (1.098612, 0.0, 1.0)
    """
    if out is None:
        return Sharpness(*_core.plan_sharpness(plan))
    return Sharpness(*_core.coupling_sharpness(*_plan_parts(plan, out)))


def sinkformer_attention(q, k, v, n_iter=3, *, threshold=None, max_iterations=1000, return_attention=False):
    """Sinkformer attention (Sander, Ablin, Blondel, Peyré 2022): ``A V`` where ``A`` is
    ``exp(q kᵀ / √d)`` made doubly stochastic by alternating normalizations, rows (to sum 1)
    first, then columns (to sum ``n/m``). ``n_iter = 1`` is softmax attention.

    Parameters
    ----------
    q : (n, d) array_like
    k : (m, d) array_like
    v : (m, d_v) array_like
    n_iter : int
        Normalizations when ``threshold`` is None.
    threshold : float, optional
        Instead of a count, stop after a row normalization once the column sums of ``A/n``
        are within ``threshold`` (L1) of ``1/m``, within ``max_iterations`` normalizations
        (a :class:`otters.ConvergenceWarning` otherwise).
    return_attention : bool
        Also return the ``n × m`` matrix ``A``.

    Returns
    -------
    ndarray, or (ndarray, ndarray) with ``return_attention``.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> out, a = sinkformer_attention(q, q, np.eye(2), threshold=1e-12, return_attention=True)
    >>> np.allclose(a.sum(axis=0), 1.0) and np.allclose(a.sum(axis=1), 1.0)
    True
    """
    output, attention, iterations, converged, _, column_error = _core.sinkformer_attention(
        q, k, v, iterations=int(n_iter), threshold=threshold, max_iterations=int(max_iterations),
        return_attention=bool(return_attention),
    )
    if not converged:
        warnings.warn(
            f"Sinkformer normalizations did not converge: column error {column_error:.3e} after "
            f"{iterations} normalizations",
            ConvergenceWarning,
            stacklevel=2,
        )
    return (output, attention) if return_attention else output


def anchor_energy(x, y, precomputed=False):
    """Anchor energy distance (Sato, Cuturi, Yamada, Kashima 2020) between two clouds that may
    live in different spaces.

    Each point becomes the distribution of its (Euclidean) distances to all points of its
    own cloud; AE is the energy distance ``2 E W₁(μ, ν) − E W₁(μ, μ') − E W₁(ν, ν')`` between
    the two sets of such distributions, computed exactly by a sweep line in
    O(N log N), N = n² + m². With ``precomputed=True``, ``x`` and ``y`` are the square
    distance matrices within each cloud.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    >>> abs(anchor_energy(x, x + 5.0)) < 1e-12
    True
    """
    return _core.anchor_distance(x, y, "energy", precomputed=bool(precomputed))


def anchor_wasserstein(x, y, precomputed=False):
    """Anchor Wasserstein distance: exact OT between the uniform measures on the two sets of
    anchor distributions (see :func:`anchor_energy`), ground cost
    :func:`anchor_cost_matrix`; O(nm(n + m)) for the cost, then the network simplex.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [3.0]])
    >>> abs(anchor_wasserstein(x, -x)) < 1e-12
    True
    """
    return _core.anchor_distance(x, y, "wasserstein", precomputed=bool(precomputed))


def anchor_cost_matrix(x, y, precomputed=False):
    """The ``n × m`` matrix of ``W₁`` between the anchor distributions of ``x`` and ``y``."""
    return _core.anchor_distance(x, y, "cost", precomputed=bool(precomputed))
