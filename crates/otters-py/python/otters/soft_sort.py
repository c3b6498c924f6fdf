"""Differentiable-style soft sorting, ranking and quantiles (OTT-JAX's ``ott.tools.soft_sort``).

Cuturi, Teboul, Vert (2019), *Differentiable ranks and sorting using optimal transport*: the
values along ``axis`` are squashed into ``[0, 1]`` (sigmoid of the whitened values by
default), then moved by entropic OT (cost ``|x - y|²``, absolute ``epsilon``) onto an
increasing grid of targets. Soft sorted values are the barycentric projections of the inputs
on the targets, soft ranks those of the target indices on the inputs.

Departures from OTT-JAX: ``squashing`` is ``"sigmoid"`` or ``"identity"`` (no arbitrary
callable); Sinkhorn runs to a marginal error of ``threshold`` (OTT: 1e-3) with ε-scaling
(same solution, far fewer iterations at small ``epsilon``); each output divides by the
plan's actual marginal, so soft sorted values are exact convex combinations of the inputs.
A :class:`otters.ConvergenceWarning` is emitted when a solve runs out of iterations.
"""

import warnings

import numpy as np

from . import _arrays, _core
from .exceptions import ConvergenceWarning

__all__ = ["quantile", "ranks", "sort"]


def _apply(inputs, axis, operator, settings, **kwargs):
    x = _arrays.as_float64(inputs, "inputs")
    if x.ndim == 0:
        raise _arrays.invalid("inputs", "`inputs` must have at least one axis")
    if not -x.ndim <= axis < x.ndim:
        raise _arrays.invalid("axis", f"axis {axis} is out of range for an array of {x.ndim} dimensions")
    moved = np.moveaxis(x, axis, -1)
    batch = moved.shape[:-1]
    rows = np.ascontiguousarray(moved.reshape(-1, moved.shape[-1]))
    values, converged, error = _core.soft_sort_rows(rows, operator, **settings, **kwargs)
    if not converged:
        warnings.warn(
            f"soft {operator}: Sinkhorn did not converge (marginal error {error:.3e}); raise "
            "max_iterations or epsilon",
            ConvergenceWarning,
            stacklevel=3,
        )
    return np.moveaxis(values.reshape(batch + (values.shape[-1],)), -1, axis)


def _settings(epsilon, squashing, threshold, max_iterations):
    return {"epsilon": epsilon, "squashing": squashing, "threshold": threshold, "max_iterations": max_iterations}


def sort(inputs, axis=-1, topk=-1, num_targets=None, *, epsilon=1e-2, squashing="sigmoid", threshold=1e-6,
         max_iterations=2000):
    """Soft sort along ``axis``: increasing convex combinations of the inputs.

    Parameters
    ----------
    inputs : array_like
        Values to sort, any shape.
    axis : int
        The axis sorted.
    topk : int
        If ``0 < topk <= n``, return only the ``topk`` largest values (in increasing order).
    num_targets : int, optional
        Number of sorted values returned (default: ``n``).
    epsilon : float
        Absolute entropic regularization (OTT's default 1e-2).
    squashing : {"sigmoid", "identity"}
        How values are mapped into ``[0, 1]`` before transport.
    threshold, max_iterations :
        Sinkhorn stopping rule.

    Returns
    -------
    ndarray
        ``inputs``' shape with ``topk`` / ``num_targets`` / ``n`` entries along ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> from otters import soft_sort
    >>> np.round(soft_sort.sort([3.0, 1.0, 2.0], epsilon=1e-3), 2)
    array([1., 2., 3.])
    """
    settings = _settings(epsilon, squashing, threshold, max_iterations)
    if topk is not None and topk > 0:
        return _apply(inputs, axis, "topk", settings, k=int(topk))
    return _apply(inputs, axis, "sort", settings, num_targets=num_targets)


def ranks(inputs, axis=-1, num_targets=None, target_weights=None, *, epsilon=1e-2, squashing="sigmoid",
          threshold=1e-6, max_iterations=2000):
    """Soft ranks along ``axis``, in ``[0, n - 1]`` (compare ``argsort(argsort(x))``).

    Parameters
    ----------
    inputs : array_like
        Values to rank, any shape.
    axis : int
        The axis ranked.
    num_targets : int, optional
        Number of uniform targets (default ``n``); ranks are rescaled by
        ``(n - 1) / (num_targets - 1)``.
    target_weights : array_like, optional
        Weights of the targets (summing to 1); overrides ``num_targets``.
    epsilon, squashing, threshold, max_iterations :
        As in :func:`sort`.

    Examples
    --------
    >>> from otters import soft_sort
    >>> np.round(soft_sort.ranks([3.0, 1.0, 2.0], epsilon=1e-3), 2)
    array([2., 0., 1.])
    """
    settings = _settings(epsilon, squashing, threshold, max_iterations)
    return _apply(inputs, axis, "ranks", settings, num_targets=num_targets, target_weights=target_weights)


def quantile(inputs, q, axis=-1, weight=None, *, epsilon=1e-2, squashing="sigmoid", threshold=1e-6,
             max_iterations=2000):
    """Soft quantiles at levels ``q`` (each strictly in ``(0, 1)``, distinct) along ``axis``.

    Each level gets a target of mass ``weight`` (default: the smallest of half the gaps
    between levels, ``0.5 / len(q)``, 0.02 and ``1.5 / n``, as OTT-JAX); the result is the
    barycentric projection of the inputs on that target.

    Returns
    -------
    ndarray
        ``inputs``' shape with ``len(q)`` entries along ``axis``, in the order of ``q``.

    Examples
    --------
    >>> from otters import soft_sort
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> float(np.round(soft_sort.quantile(x, 0.5)[0], 6))
    3.0
    """
    settings = _settings(epsilon, squashing, threshold, max_iterations)
    levels = np.atleast_1d(_arrays.as_float64(q, "q"))
    return _apply(inputs, axis, "quantile", settings, q=levels, weight=weight)
