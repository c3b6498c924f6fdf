"""Sinkhorn divergences, energy distance and Gaussian MMD between weighted point clouds.

``sinkhorn_divergence`` is ``S_ε(α, β) = OT_ε(α, β) − ½OT_ε(α, α) − ½OT_ε(β, β)
+ ε/2·(m(α) − m(β))²`` with ``OT_ε`` the dual objective of entropic OT relative to ``a⊗b``
(OTT-JAX's ``reg_ot_cost``): ``S_ε ≥ 0`` and ``S_ε(α, α) = 0``. With ``rho`` the marginals
are KL-relaxed (the unbalanced divergence of Séjourné et al. 2019). The symmetric terms use
the averaged update of Feydy et al. 2019. Balanced values equal OTT-JAX's
``sinkhorn_divergence``; both balanced and unbalanced equal GeomLoss's
``SamplesLoss("sinkhorn")`` (whose cost is ``‖x − y‖²/2``; pass ``scale_cost=2.0`` and
``epsilon=blur**2``, ``rho=reach**2`` to reproduce it). OTT-JAX's *unbalanced* Sinkhorn
regularizes relative to ``1⊗1`` instead, so its unbalanced values differ slightly.

``empirical_sinkhorn_divergence`` keeps POT's signature and POT's definition: the
*transport* costs ``⟨C, P⟩`` of the three entropic plans, combined the same way and clipped
at 0 (this quantity is not a divergence in general; ``sinkhorn_divergence`` is).
"""

import warnings

from . import _arrays, _core
from .exceptions import ConvergenceWarning

__all__ = ["empirical_sinkhorn_divergence", "energy_distance", "gaussian_mmd", "sinkhorn_divergence"]


def sinkhorn_divergence(x, y, a=None, b=None, *, epsilon=None, relative_to=None, rho=None, cost_fn="sqeuclidean",
                        p=2.0, scale_cost=None, threshold=1e-6, max_iterations=2000, epsilon_scaling=None, gradients=False,
                        return_output=False, warn=True):
    r"""Sinkhorn divergence ``S_ε(α, β)`` between two weighted point clouds.

    Parameters
    ----------
    x, y : array-like, shape (n, d) and (m, d)
    a, b : array-like, optional
        Weights (uniform by default). With ``rho=None`` their masses must agree.
    epsilon : float, optional
        The regularization, absolute, or relative to a statistic of the cross cost with
        ``relative_to`` ("max", "mean", "std"); by default 0.05·std of the cross cost. The
        same absolute ε is used for the three terms.
    rho : float, optional
        KL penalty of the marginals (unbalanced divergence); ``None`` is balanced.
    cost_fn, p, scale_cost :
        The ground cost, as in :class:`otters.PointCloud`.
    threshold, max_iterations :
        Stopping rule of each of the three solves (L1 marginal error).
    epsilon_scaling : float, optional
        Decay of an ε-annealing schedule for the cross solve, from ε₀ = max(C) (as
        :class:`otters.Sinkhorn`); helps at small ε.
    gradients : bool
        Also compute ``∇ₓS``, ``∇_yS``, ``∂S/∂a`` and ``∂S/∂b`` (``output.grad_x``, ``grad_y``,
        ``grad_a``, ``grad_b``; the weight gradients of the balanced divergence are projected
        on the simplex).
    return_output : bool
        Return the :class:`otters.DivergenceOutput` (value, the three costs, potentials,
        iterations, gradients) instead of the value.

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> abs(otters.divergence.sinkhorn_divergence(x, x, epsilon=0.1)) < 1e-8
    True
    >>> otters.divergence.sinkhorn_divergence(x, x + 1.0, epsilon=0.1) > 0.9
    True
    """
    geom = _core.PointCloud(_arrays.matrix(x, "x"), _arrays.matrix(y, "y"), cost_fn=cost_fn, p=p,
                            scale_cost=scale_cost)
    out = _core.solve_divergence(geom, a, b, epsilon=epsilon, relative_to=relative_to, rho=rho, threshold=threshold,
                                 max_iterations=max_iterations, scaling_decay=epsilon_scaling,
                                 gradients=gradients)
    if warn and not out.converged:
        warnings.warn(
            f"Sinkhorn divergence: a solve did not reach threshold {threshold:g} within {max_iterations} "
            f"iterations (iterations: {out.iterations}); raise max_iterations or epsilon",
            ConvergenceWarning,
            stacklevel=2,
        )
    return out if return_output else out.value


def energy_distance(x, y, a=None, b=None):
    r"""Energy distance ``½⟨α − β, k ⋆ (α − β)⟩`` with ``k(x, y) = −‖x − y‖`` (GeomLoss's
    ``"energy"`` loss, computed exactly: no flooring of the distances).

    Examples
    --------
    >>> import numpy as np, otters
    >>> round(otters.divergence.energy_distance(np.zeros((1, 1)), np.ones((1, 1))), 12)
    1.0
    """
    return _core.energy_distance(x, y, a, b)


def gaussian_mmd(x, y, a=None, b=None, sigma=1.0):
    r"""Gaussian MMD ``½⟨α − β, k ⋆ (α − β)⟩`` with ``k(x, y) = exp(−‖x − y‖²/(2σ²))``
    (GeomLoss's ``"gaussian"`` loss with ``blur=sigma``; half the squared MMD).

    Examples
    --------
    >>> import numpy as np, otters
    >>> v = otters.divergence.gaussian_mmd(np.zeros((1, 1)), np.ones((1, 1)), sigma=1.0)
    >>> bool(np.isclose(v, 1 - np.exp(-0.5)))
    True
    """
    return _core.gaussian_mmd(x, y, a, b, sigma=sigma)


def empirical_sinkhorn_divergence(X_s, X_t, reg, a=None, b=None, metric="sqeuclidean", numIterMax=10000,
                                  stopThr=1e-9, verbose=False, log=False, warn=True, warmstart=None, **kwargs):
    r"""POT's ``ot.bregman.empirical_sinkhorn_divergence``: ``max(0, W(a, b) − ½(W(a, a) + W(b, b)))``
    with ``W`` the transport cost ``⟨C, P⟩`` of the entropic plan (POT's ``sinkhorn2``).

    ``metric`` is "sqeuclidean", "euclidean" or "cityblock"; ``verbose`` and ``warmstart``
    are accepted and ignored (the symmetric terms start from the averaged update's own
    start). The log holds POT's ``sinkhorn_loss_ab``, ``sinkhorn_loss_a``,
    ``sinkhorn_loss_b``, plus ``converged`` and the otters ``output``.

    Examples
    --------
    >>> import numpy as np, otters
    >>> xs = np.arange(2.0).reshape(2, 1); xt = np.arange(4.0).reshape(4, 1)
    >>> round(float(otters.divergence.empirical_sinkhorn_divergence(xs, xt, 0.1)), 6)
    1.499966

    (POT's own docstring prints 1.499887: its default, non-log Sinkhorn stops short of its
    threshold on this example and warns; its ``method="sinkhorn_log"`` agrees with otters.)
    """
    del verbose, warmstart
    if kwargs:
        raise TypeError(f"unexpected keyword arguments: {sorted(kwargs)}")
    if metric not in ("sqeuclidean", "euclidean", "cityblock"):
        raise ValueError(f"metric={metric!r} is not available; use 'sqeuclidean', 'euclidean' or 'cityblock'")
    out = sinkhorn_divergence(X_s, X_t, a, b, epsilon=float(reg), cost_fn=metric, threshold=stopThr,
                              max_iterations=numIterMax, return_output=True, warn=warn)
    ab, aa, bb = out.linear_costs
    value = max(0.0, ab - 0.5 * (aa + bb))
    if not log:
        return value
    return value, {"sinkhorn_loss_ab": ab, "sinkhorn_loss_a": aa, "sinkhorn_loss_b": bb,
                   "converged": out.converged, "output": out}



def _value_and_gradients(x, y, a, b, *, epsilon, rho, cost_fn, threshold, max_iterations):
    """Host solve for the autograd bridges: ``(S, ∇ₓS, ∇_yS, ∂S/∂a, ∂S/∂b)`` as float64 arrays."""
    out = sinkhorn_divergence(x, y, a, b, epsilon=float(epsilon), rho=rho, cost_fn=cost_fn, threshold=threshold,
                              max_iterations=max_iterations, gradients=True, return_output=True)
    return out.value, out.grad_x, out.grad_y, out.grad_a, out.grad_b
