"""PyTorch autograd for otters' entropic OT cost and Sinkhorn divergence.

Gradients come from the optimal potentials (envelope theorem, ALGORITHMS.md X1), not from
unrolled iterations: the backward pass is free once the forward solve converged. Inputs are
moved to the CPU for the solve; gradients come back on the input's device and dtype.

Example
-------
>>> import torch, otters.torch as ott  # doctest: +SKIP
>>> x = torch.randn(100, 2, dtype=torch.float64, requires_grad=True)  # doctest: +SKIP
>>> loss = ott.sinkhorn_divergence(x, torch.randn(80, 2, dtype=torch.float64), epsilon=0.1)  # doctest: +SKIP
>>> loss.backward()  # doctest: +SKIP
"""

import numpy as np
import torch

from . import _core
from .divergence import _value_and_gradients
from .problems import LinearProblem
from .solvers import Sinkhorn


def _numpy(t):
    return None if t is None else t.detach().cpu().double().numpy()


def _solve(geom, a, b, epsilon, threshold, max_iterations):
    return Sinkhorn(float(epsilon), threshold=threshold, max_iterations=max_iterations).solve(LinearProblem(geom, a, b))


class _PointCost(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, a, b, epsilon, cost_fn, threshold, max_iterations):
        geom = _core.PointCloud(_numpy(x), _numpy(y), cost_fn=cost_fn)
        out = _solve(geom, _numpy(a), _numpy(b), epsilon, threshold, max_iterations)
        gx, gy = out.grad_points()
        like = lambda v, ref: torch.as_tensor(np.asarray(v), dtype=ref.dtype, device=ref.device)  # noqa: E731
        ctx.save_for_backward(like(gx, x), like(gy, y), like(out.grad_a, a), like(out.grad_b, b))
        return like(out.reg_ot_cost, x)

    @staticmethod
    def backward(ctx, grad):
        gx, gy, ga, gb = ctx.saved_tensors
        return grad * gx, grad * gy, grad * ga, grad * gb, None, None, None, None


class _MatrixCost(torch.autograd.Function):
    @staticmethod
    def forward(ctx, M, a, b, epsilon, threshold, max_iterations):
        out = _solve(_core.DenseCost(_numpy(M)), _numpy(a), _numpy(b), epsilon, threshold, max_iterations)
        like = lambda v, ref: torch.as_tensor(np.asarray(v), dtype=ref.dtype, device=ref.device)  # noqa: E731
        ctx.save_for_backward(like(out.plan(), M), like(out.grad_a, a), like(out.grad_b, b))
        return like(out.reg_ot_cost, M)

    @staticmethod
    def backward(ctx, grad):
        plan, ga, gb = ctx.saved_tensors
        return grad * plan, grad * ga, grad * gb, None, None, None


def _weights(w, n, ref):
    if w is None:
        return torch.full((n,), 1.0 / n, dtype=ref.dtype, device=ref.device)
    return w


def sinkhorn_cost(x, y, a=None, b=None, *, epsilon, cost_fn="sqeuclidean", threshold=1e-9, max_iterations=10000):
    r"""Regularized OT cost :math:`\mathrm{OT}_\varepsilon(\sum_i a_i\delta_{x_i}, \sum_j b_j\delta_{y_j})`
    (the dual objective, OTT's ``reg_ot_cost``), differentiable in ``x``, ``y``, ``a``, ``b``.

    The weight gradients of a balanced problem are projected on the simplex (they sum to
    zero), as the cost is only defined for equal masses.
    """
    a, b = _weights(a, x.shape[0], x), _weights(b, y.shape[0], y)
    return _PointCost.apply(x, y, a, b, float(epsilon), cost_fn, float(threshold), int(max_iterations))


def sinkhorn_cost_matrix(M, a=None, b=None, *, epsilon, threshold=1e-9, max_iterations=10000):
    r"""Regularized OT cost for a cost matrix ``M``; its gradient in ``M`` is the plan."""
    a, b = _weights(a, M.shape[0], M), _weights(b, M.shape[1], M)
    return _MatrixCost.apply(M, a, b, float(epsilon), float(threshold), int(max_iterations))


class _Divergence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y, a, b, epsilon, rho, cost_fn, threshold, max_iterations):
        value, gx, gy, ga, gb = _value_and_gradients(
            _numpy(x), _numpy(y), _numpy(a), _numpy(b), epsilon=epsilon, rho=rho, cost_fn=cost_fn,
            threshold=threshold, max_iterations=max_iterations)
        like = lambda v, ref: torch.as_tensor(np.asarray(v), dtype=ref.dtype, device=ref.device)  # noqa: E731
        ctx.save_for_backward(like(gx, x), like(gy, y), like(ga, a), like(gb, b))
        return like(value, x)

    @staticmethod
    def backward(ctx, grad):
        gx, gy, ga, gb = ctx.saved_tensors
        return grad * gx, grad * gy, grad * ga, grad * gb, None, None, None, None, None


def sinkhorn_divergence(x, y, a=None, b=None, *, epsilon, rho=None, cost_fn="sqeuclidean", threshold=1e-9,
                        max_iterations=10000):
    r"""Sinkhorn divergence :math:`S_\varepsilon = \mathrm{OT}_\varepsilon(\alpha,\beta) -
    \tfrac12\mathrm{OT}_\varepsilon(\alpha,\alpha) - \tfrac12\mathrm{OT}_\varepsilon(\beta,\beta)`
    (Genevay et al. 2018; Feydy et al. 2019), non-negative and zero iff the measures agree;
    unbalanced (with the mass term) when ``rho`` is given. Solved by
    :func:`otters.divergence.sinkhorn_divergence` (symmetric terms by averaged updates);
    differentiable in ``x``, ``y``, ``a`` and ``b``."""
    a, b = _weights(a, x.shape[0], x), _weights(b, y.shape[0], y)
    return _Divergence.apply(x, y, a, b, float(epsilon), rho, cost_fn, float(threshold), int(max_iterations))
