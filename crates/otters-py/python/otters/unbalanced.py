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
