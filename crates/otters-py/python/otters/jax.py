"""JAX autograd for otters' entropic OT cost and Sinkhorn divergence.

The solve runs on the host through ``jax.pure_callback``; ``jax.custom_vjp`` supplies the
gradients from the optimal potentials (envelope theorem), so ``jax.grad`` works without
unrolling. Works under ``jit`` (the callback is a host call).
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _core
from .divergence import _value_and_gradients
from .problems import LinearProblem
from .solvers import Sinkhorn


def _host_solve(x, y, a, b, epsilon, cost_fn, threshold, max_iterations):
    geom = _core.PointCloud(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), cost_fn=cost_fn)
    problem = LinearProblem(geom, np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = Sinkhorn(epsilon, threshold=threshold, max_iterations=max_iterations).solve(problem)
    gx, gy = out.grad_points()
    dtype = np.asarray(x).dtype
    return tuple(np.asarray(v, dtype=dtype) for v in (out.reg_ot_cost, gx, gy, out.grad_a, out.grad_b))


def _call(x, y, a, b, epsilon, cost_fn, threshold, max_iterations):
    shapes = (
        jax.ShapeDtypeStruct((), x.dtype),
        jax.ShapeDtypeStruct(x.shape, x.dtype),
        jax.ShapeDtypeStruct(y.shape, x.dtype),
        jax.ShapeDtypeStruct(a.shape, x.dtype),
        jax.ShapeDtypeStruct(b.shape, x.dtype),
    )
    solve = partial(_host_solve, epsilon=epsilon, cost_fn=cost_fn, threshold=threshold, max_iterations=max_iterations)
    return jax.pure_callback(solve, shapes, x, y, a, b)


@partial(jax.custom_vjp, nondiff_argnums=(4, 5, 6, 7))
def _cost(x, y, a, b, epsilon, cost_fn, threshold, max_iterations):
    return _call(x, y, a, b, epsilon, cost_fn, threshold, max_iterations)[0]


def _cost_fwd(x, y, a, b, epsilon, cost_fn, threshold, max_iterations):
    value, gx, gy, ga, gb = _call(x, y, a, b, epsilon, cost_fn, threshold, max_iterations)
    return value, (gx, gy, ga, gb)


def _cost_bwd(epsilon, cost_fn, threshold, max_iterations, residuals, g):
    return tuple(g * r for r in residuals)


_cost.defvjp(_cost_fwd, _cost_bwd)


def sinkhorn_cost(x, y, a=None, b=None, *, epsilon, cost_fn="sqeuclidean", threshold=1e-9, max_iterations=10000):
    r"""Regularized OT cost (dual objective) between point clouds, differentiable in ``x``,
    ``y``, ``a`` and ``b`` with ``jax.grad`` (weight gradients of balanced problems are
    projected on the simplex)."""
    a = jnp.full(x.shape[0], 1.0 / x.shape[0], dtype=x.dtype) if a is None else a
    b = jnp.full(y.shape[0], 1.0 / y.shape[0], dtype=x.dtype) if b is None else b
    return _cost(x, y, a, b, float(epsilon), cost_fn, float(threshold), int(max_iterations))


def _host_divergence(x, y, a, b, epsilon, rho, cost_fn, threshold, max_iterations):
    values = _value_and_gradients(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                                  np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), epsilon=epsilon,
                                  rho=rho, cost_fn=cost_fn, threshold=threshold, max_iterations=max_iterations)
    dtype = np.asarray(x).dtype
    return tuple(np.asarray(v, dtype=dtype) for v in values)


@partial(jax.custom_vjp, nondiff_argnums=(4, 5, 6, 7, 8))
def _divergence(x, y, a, b, epsilon, rho, cost_fn, threshold, max_iterations):
    return _divergence_fwd(x, y, a, b, epsilon, rho, cost_fn, threshold, max_iterations)[0]


def _divergence_fwd(x, y, a, b, epsilon, rho, cost_fn, threshold, max_iterations):
    shapes = (
        jax.ShapeDtypeStruct((), x.dtype),
        jax.ShapeDtypeStruct(x.shape, x.dtype),
        jax.ShapeDtypeStruct(y.shape, x.dtype),
        jax.ShapeDtypeStruct(a.shape, x.dtype),
        jax.ShapeDtypeStruct(b.shape, x.dtype),
    )
    solve = partial(_host_divergence, epsilon=epsilon, rho=rho, cost_fn=cost_fn, threshold=threshold,
                    max_iterations=max_iterations)
    value, gx, gy, ga, gb = jax.pure_callback(solve, shapes, x, y, a, b)
    return value, (gx, gy, ga, gb)


def _divergence_bwd(epsilon, rho, cost_fn, threshold, max_iterations, residuals, g):
    return tuple(g * r for r in residuals)


_divergence.defvjp(_divergence_fwd, _divergence_bwd)


def sinkhorn_divergence(x, y, a=None, b=None, *, epsilon, rho=None, cost_fn="sqeuclidean", threshold=1e-9,
                        max_iterations=10000):
    r"""Sinkhorn divergence :math:`\mathrm{OT}_\varepsilon(\alpha,\beta) - \tfrac12\mathrm{OT}_\varepsilon(\alpha,\alpha)
    - \tfrac12\mathrm{OT}_\varepsilon(\beta,\beta)` (unbalanced with the mass term when ``rho``
    is given), solved by :func:`otters.divergence.sinkhorn_divergence` and differentiable in
    ``x``, ``y``, ``a`` and ``b`` with ``jax.grad``."""
    a = jnp.full(x.shape[0], 1.0 / x.shape[0], dtype=x.dtype) if a is None else a
    b = jnp.full(y.shape[0], 1.0 / y.shape[0], dtype=x.dtype) if b is None else b
    rho = None if rho is None else float(rho)
    return _divergence(x, y, a, b, float(epsilon), rho, cost_fn, float(threshold), int(max_iterations))
