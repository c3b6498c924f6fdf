"""Maps and estimators (OTT-JAX style): the Monge gap, elastic costs and their sparse
entropic maps, and semi-discrete OT.

* :func:`monge_gap_from_samples` — the Monge gap of a map given by its samples (Uscidda &
  Cuturi 2023), OTT's ``ott.neural.methods.monge_gap.monge_gap_from_samples``, with its
  gradient in the mapped points;
* :class:`ElasticL1`, :class:`ElasticSqL2` — costs ``h(x - y)``, ``h = ½|z|² + τ(z)``
  (Cuturi, Klein, Ablin 2023), and :func:`elastic_map`, whose output maps new points by
  ``x - prox_τ(Σ_j w_j(x) ∇h(x - y_j))``;
* :func:`progot` — progressive entropic maps (Kassraie et al. 2024),
  ``x_{k+1} = (1 - α_k) x_k + α_k T_{ε_k}(x_k)``;
* :class:`SemiDiscrete` — OT from a continuous source (a sampler) to weighted points, by
  averaged SGD on the semi-dual (Genevay, Cuturi, Peyré, Bach 2016).

The entropic map of the squared Euclidean cost is ``SinkhornOutput.transport(x)``.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from . import _core
from ._core import ElasticMapOutput, ProgOtOutput, SemiDiscreteOutput
from .exceptions import ConvergenceWarning, InvalidInputError

__all__ = [
    "ElasticL1",
    "ElasticMapOutput",
    "ElasticSqL2",
    "MongeGapOutput",
    "ProgOtOutput",
    "SemiDiscrete",
    "SemiDiscreteOutput",
    "elastic_map",
    "monge_gap_from_samples",
    "progot",
]


@dataclass(frozen=True)
class ElasticL1:
    """The elastic cost ``h(x - y)``, ``h(z) = ½|z|² + scaling_reg·|z|₁`` (OTT-JAX's
    ``ElasticL1``, ``RegTICost(L1(), lam=scaling_reg)``); its entropic map moves points by
    sparse displacements."""

    scaling_reg: float = 1.0


@dataclass(frozen=True)
class ElasticSqL2:
    """The ridge elastic cost ``h(z) = ½|z|² + (scaling_reg/2)·|z|²``."""

    scaling_reg: float = 1.0


#: Point costs :class:`SemiDiscrete` takes by name, beside the elastic costs.
_POINT_COSTS = ("sqeuclidean", "euclidean", "cityblock", "minkowski", "cosine")


def _cost_name(cost_fn):
    if cost_fn is None or cost_fn == "sqeuclidean":
        return "sqeuclidean", 0.0
    if isinstance(cost_fn, ElasticL1):
        return "elastic_l1", float(cost_fn.scaling_reg)
    if isinstance(cost_fn, ElasticSqL2):
        return "elastic_sq_l2", float(cost_fn.scaling_reg)
    err = InvalidInputError(
        f"unknown cost_fn {cost_fn!r}; use None / 'sqeuclidean', ElasticL1(...) or ElasticSqL2(...)")
    err.argument = "cost_fn"
    raise err


@dataclass(frozen=True)
class MongeGapOutput:
    """What :func:`monge_gap_from_samples` computed with ``return_output=True``."""

    value: float
    #: ``mean_i c(x_i, T(x_i))``.
    displacement_cost: float
    #: ``W_{c,ε}`` in OTT's ``ent_reg_cost`` convention: ``min_P <C, P> - ε H(P)``.
    ent_reg_cost: float
    #: ``∂ value / ∂ target``, shape (n, d).
    gradient: np.ndarray
    converged: bool


def monge_gap_from_samples(source, target, cost_fn=None, epsilon=None, relative_epsilon=None,
                           return_output=False, *, threshold=1e-6, max_iterations=2000):
    r"""Monge gap of the map sending ``source[i]`` to ``target[i]`` (Uscidda & Cuturi 2023):

    .. math::
        M = \frac1n \sum_i c(x_i, y_i) - W_{c,\varepsilon}\Big(\frac1n\sum_i\delta_{x_i},
        \frac1n\sum_i\delta_{y_i}\Big),

    with OTT-JAX's convention for :math:`W_{c,\varepsilon}`: ``ent_reg_cost``,
    :math:`\min_P \langle C, P\rangle - \varepsilon H(P)`. Hence :math:`M \ge \varepsilon\log n`
    for every map, and :math:`M \le 2\varepsilon\log n` for an optimal one.

    Parameters
    ----------
    source, target : array-like, shape (n, d)
    cost_fn : None (squared Euclidean), :class:`ElasticL1` or :class:`ElasticSqL2`
    epsilon : float, optional
        Absolute ε; with ``relative_epsilon`` ("mean", "std" or "max") a fraction of that
        statistic of the cost. Default: 0.05 · std of the cost (OTT's default).
    return_output : bool
        Also return a :class:`MongeGapOutput` (OTT returns its Sinkhorn output; otters
        returns the parts of the value and the gradient in ``target``).
    threshold, max_iterations : Sinkhorn's stopping rule.

    Examples
    --------
    >>> import numpy as np
    >>> from otters.maps import monge_gap_from_samples
    >>> x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> gap = monge_gap_from_samples(x, x + 0.3, epsilon=0.01)  # a translation is optimal
    >>> bool(0.01 * np.log(4) - 1e-6 <= gap <= 2 * 0.01 * np.log(4) + 1e-6)
    True
    >>> bool(monge_gap_from_samples(x, x[::-1], epsilon=0.01) > 0.5)  # not monotone
    True
    """
    name, gamma = _cost_name(cost_fn)
    value, displacement, ent, gradient, converged = _core.monge_gap_from_samples(
        source, target, cost_fn=name, gamma=gamma, epsilon=epsilon, relative_to=relative_epsilon,
        threshold=threshold, max_iterations=max_iterations)
    if not converged:
        warnings.warn(f"Sinkhorn did not reach threshold {threshold:.1e} in {max_iterations} "
                      "iterations; the Monge gap and its gradient are approximate",
                      ConvergenceWarning, stacklevel=2)
    if return_output:
        return value, MongeGapOutput(value, displacement, ent, gradient, converged)
    return value


def elastic_map(x, y, cost_fn=None, a=None, b=None, epsilon=None, relative_epsilon=None, *,
                threshold=1e-6, max_iterations=2000):
    r"""Entropic OT between ``x`` and ``y`` under an elastic cost, whose output maps new points
    by ``T(z) = z - prox_τ(Σ_j w_j(z) ∇h(z - y_j))`` (Cuturi, Klein, Ablin 2023).

    Parameters
    ----------
    x : array-like, shape (n, d)
    y : array-like, shape (m, d)
    cost_fn : :class:`ElasticL1` (default, ``scaling_reg=1``) or :class:`ElasticSqL2`
    a, b : weights, uniform by default
    epsilon, relative_epsilon : as in :func:`monge_gap_from_samples`
    threshold, max_iterations : Sinkhorn's stopping rule

    Returns
    -------
    ElasticMapOutput
        with ``transport(z)``, potentials ``f``, ``g``, ``converged``.

    Examples
    --------
    >>> import numpy as np
    >>> from otters.maps import ElasticL1, elastic_map
    >>> x = np.array([[0.0, 0.1], [0.0, -0.1]])
    >>> y = np.array([[2.0, 0.1], [2.0, -0.1]])
    >>> out = elastic_map(x, y, ElasticL1(0.2), epsilon=0.1)
    >>> out.transport([[0.0, 0.05]])  # the small vertical displacement is thresholded
    array([[2.  , 0.05]])
    """
    if cost_fn is None:
        cost_fn = ElasticL1()
    name, gamma = _cost_name(cost_fn)
    if name == "sqeuclidean":
        err = InvalidInputError("elastic_map needs an elastic cost_fn: ElasticL1(...) or ElasticSqL2(...)")
        err.argument = "cost_fn"
        raise err
    out = _core.solve_elastic(x, y, a, b, gamma=gamma, regularizer="l1" if name == "elastic_l1" else "sq_l2",
                              epsilon=epsilon, relative_to=relative_epsilon, threshold=threshold,
                              max_iterations=max_iterations)
    if not out.converged:
        warnings.warn(f"Sinkhorn did not reach threshold {threshold:.1e} in {max_iterations} iterations",
                      ConvergenceWarning, stacklevel=2)
    return out


def progot(x, y, steps=4, alphas=None, epsilon=None, relative_epsilon=None, *, threshold=1e-6,
           max_iterations=2000):
    r"""ProgOT (Kassraie, Pooladian, Klein, Thornton, Niles-Weed, Cuturi 2024), squared Euclidean
    cost, uniform weights: ``steps`` stages ``x_{k+1} = (1 - α_k) x_k + α_k T_k(x_k)``, where
    ``T_k`` is the entropic map from the current points to ``y``.

    Parameters
    ----------
    x : array-like, shape (n, d)
    y : array-like, shape (m, d)
    steps : int
        Number of stages K.
    alphas : sequence of K floats in (0, 1], optional
        Step sizes; default ``1 / (K - k)`` (constant speed; the last stage lands on its map).
    epsilon, relative_epsilon : the ε of every stage, as in :func:`monge_gap_from_samples`;
        a relative ε is resolved on each stage's cost, so it shrinks as the points approach
        ``y`` (OTT's ProgOT takes explicit ε and α schedules instead).
    threshold, max_iterations : each stage's Sinkhorn stopping rule.

    Returns
    -------
    ProgOtOutput
        ``points`` (where each ``x_i`` went), ``transport(z)`` for new points, ``plan()``
        (the last stage's coupling).

    Examples
    --------
    >>> import numpy as np
    >>> from otters.maps import progot
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 3.0
    >>> out = progot(x, y, steps=4, epsilon=0.05, relative_epsilon="mean")
    >>> bool(np.abs(out.points.mean(axis=0) - y.mean(axis=0)).max() < 1e-3)
    True
    """
    out = _core.solve_progot(x, y, steps=steps, alphas=None if alphas is None else [float(a) for a in alphas],
                             epsilon=epsilon, relative_to=relative_epsilon, threshold=threshold,
                             max_iterations=max_iterations)
    if not out.converged:
        warnings.warn(f"a ProgOT stage's Sinkhorn did not reach threshold {threshold:.1e} in "
                      f"{max_iterations} iterations", ConvergenceWarning, stacklevel=2)
    return out


class SemiDiscrete:
    r"""Semi-discrete OT solver: a continuous source, known through samples, to the weighted
    points ``Σ_j b_j δ_{y_j}`` (Genevay et al. 2016; OTT-JAX's ``SemidiscreteSolver`` runs the
    same semi-dual with an optax optimizer).

    Averaged stochastic gradient ascent on the semi-dual in ``g``: each step draws
    ``batch_size`` samples and moves ``g`` by ``η_k (b - mean assignment)``,
    ``η_k = learning_rate · mean cost / √k``; the result averages the iterates of the second
    half. ``epsilon = 0`` uses hard assignments ``argmin_j c(x, y_j) - g_j``; ``epsilon > 0``
    the soft ones ``softmax_j(log b_j + (g_j - c(x, y_j))/ε)``. After the solve the mean
    assignment is measured on ``eval_size`` fresh samples; ``converged`` means its L1 distance
    to ``b`` is at most ``threshold``.

    ``cost_fn``: None / ``"sqeuclidean"`` (``|x - y|²``, the default), ``"euclidean"``,
    ``"cityblock"``, ``"minkowski"`` (``Σ_k |x_k - y_k|^p``; ``p`` is used by this cost only),
    ``"cosine"``, :class:`ElasticL1` or :class:`ElasticSqL2`. ``transport`` is the
    barycentric map ``Σ_j w_j(x) y_j`` for every cost. With ``"cityblock"`` (not strictly
    convex) hard cells cannot split mass that is equidistant from two targets, so the
    frequencies may miss ``b`` (a :class:`otters.ConvergenceWarning` says so).

    Examples
    --------
    >>> import numpy as np
    >>> from otters.maps import SemiDiscrete
    >>> y = np.array([[0.2], [0.7]])
    >>> out = SemiDiscrete(epsilon=0.0).solve(y, [0.25, 0.75], sampler=lambda rng, k: rng.random((k, 1)))
    >>> out.assign([[0.2], [0.3]]).tolist()  # the cells are [0, 1/4] and [1/4, 1]
    [0, 1]
    >>> bool(out.max_deviation < 0.01)
    True
    """

    def __init__(self, epsilon=0.0, batch_size=256, max_iterations=2000, learning_rate=1.0, eval_size=65536,
                 threshold=0.05, seed=0, cost_fn=None, p=2.0):
        self.cost_fn = cost_fn
        self.p = p
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iterations = max_iterations
        self.learning_rate = learning_rate
        self.eval_size = eval_size
        self.threshold = threshold
        self.seed = seed

    def solve(self, y, b=None, *, sampler=None, samples=None):
        """Solve for targets ``y`` (m, d) with weights ``b`` (uniform by default).

        Give exactly one source: ``sampler(rng, k)`` returning a (k, d) array, called with a
        ``numpy.random.Generator`` seeded by ``seed``; or ``samples``, a fixed (n, d) array
        resampled with replacement (the source is then its empirical measure).
        """
        if b is None:
            m = np.shape(y)[0] if np.ndim(y) >= 1 else 0
            b = np.full(m, 1.0 / max(m, 1))
        core_sampler = None
        if sampler is not None:
            if not callable(sampler):
                err = InvalidInputError("`sampler` must be a callable sampler(rng, k) -> (k, d) array")
                err.argument = "sampler"
                raise err
            rng = np.random.default_rng(self.seed)

            def core_sampler(k):
                return sampler(rng, k)

        if isinstance(self.cost_fn, str) and self.cost_fn in _POINT_COSTS:
            name, gamma = self.cost_fn, 0.0
        elif self.cost_fn is None or isinstance(self.cost_fn, (ElasticL1, ElasticSqL2)):
            name, gamma = _cost_name(self.cost_fn)
        else:
            err = InvalidInputError(f"unknown cost_fn {self.cost_fn!r}; use None, one of {_POINT_COSTS}, "
                                    "ElasticL1(...) or ElasticSqL2(...)")
            err.argument = "cost_fn"
            raise err
        out = _core.solve_semi_discrete(
            y, b, sampler=core_sampler, samples=samples, cost_fn=name, p=float(self.p), gamma=gamma,
            epsilon=self.epsilon, batch_size=self.batch_size,
            max_iterations=self.max_iterations, learning_rate=self.learning_rate, eval_size=self.eval_size,
            threshold=self.threshold, seed=self.seed)
        if not out.converged:
            warnings.warn(f"semi-discrete SGD: measured marginal error {out.marginal_error:.3e} above "
                          f"threshold {self.threshold:.1e}; raise max_iterations or tune learning_rate",
                          ConvergenceWarning, stacklevel=2)
        return out

    def __repr__(self):
        return (f"SemiDiscrete(cost_fn={self.cost_fn!r}, p={self.p}, epsilon={self.epsilon}, "
                f"batch_size={self.batch_size}, "
                f"max_iterations={self.max_iterations}, learning_rate={self.learning_rate}, seed={self.seed})")
