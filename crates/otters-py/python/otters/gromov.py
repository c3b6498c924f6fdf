"""POT-compatible Gromov–Wasserstein functions (POT's ``ot.gromov``): same names, argument
order, defaults and returned values, over :class:`otters.QuadraticProblem` and the
:class:`otters.ConditionalGradientGW` / :class:`otters.GromovWasserstein` solvers.

Differences from POT, on purpose:

* ``symmetric`` is accepted and not needed: the gradient is always the exact one
  (``L⊗P + Lᵀ⊗P``), with symmetry detected from the data.
* ``armijo=True`` is accepted with a warning; the exact line search is always used (it is
  exact for both losses).
* The entropic solvers always warm-start their Sinkhorn solves (``warmstart`` is accepted)
  and solve early steps only to a tenth of the last plan change; ``numItermax`` /
  ``stopThr`` set the inner budget and L1 marginal-error target (default 100000 / 1e-9).
* ``solver="PPA"`` is not available (``ValueError``).
"""

import warnings

import numpy as np

from . import _arrays
from ._pot import _check_kwargs
from .problems import QuadraticProblem
from .solvers import ConditionalGradientGW, GromovWasserstein

__all__ = [
    "entropic_fused_gromov_wasserstein",
    "entropic_fused_gromov_wasserstein2",
    "entropic_gromov_wasserstein",
    "entropic_gromov_wasserstein2",
    "fused_gromov_wasserstein",
    "fused_gromov_wasserstein2",
    "gromov_wasserstein",
    "gromov_wasserstein2",
]

_CG_IGNORED = ("numItermaxEmd", "verbose", "alpha_min", "alpha_max")


def _problem(C1, C2, p, q, loss_fun, M=None, alpha=1.0):
    C1, C2 = _arrays.matrix(C1, "C1"), _arrays.matrix(C2, "C2")
    for name, c in (("C1", C1), ("C2", C2)):
        if c.shape[0] != c.shape[1]:
            raise _arrays.invalid(name, f"`{name}` must be square (costs within one space), got shape {c.shape}")
        if not np.isfinite(c).all():
            raise _arrays.invalid(name, f"`{name}` has a NaN or infinite entry")
        if loss_fun in ("kl_loss", "kl") and (c < 0).any():
            raise _arrays.invalid(name, f"`{name}` must be non-negative for the KL loss")
    n, m = C1.shape[0], C2.shape[0]
    for name, w, k in (("p", p, n), ("q", q, m)):
        if w is not None and np.size(w) not in (0, k):
            raise _arrays.invalid(name, f"`{name}` must have length {k}, got {np.size(w)}")
    M = None if M is None else _arrays.matrix(M, "M")
    if M is not None and M.shape != (n, m):
        raise _arrays.invalid("M", f"`M` must have shape {(n, m)}, got {M.shape}")
    return QuadraticProblem(C1, C2, p, q, geom_xy=M, fused_penalty=alpha, loss=loss_fun)


def _cg(function, problem, G0, armijo, max_iter, tol_rel, tol_abs, kwargs):
    _check_kwargs(function, kwargs, _CG_IGNORED)
    if armijo:
        warnings.warn(f"{function}(): armijo=True is ignored; otters uses the exact line search",
                      UserWarning, stacklevel=3)
    solver = ConditionalGradientGW(int(max_iter), tol_rel=tol_rel, tol_abs=tol_abs)
    return solver.solve(problem, init=G0)


def _entropic(function, problem, epsilon, G0, max_iter, tol, solver, kwargs):
    if solver != "PGD":
        raise ValueError(f"{function}(): solver={solver!r} is not available; use 'PGD'")
    inner = {"numItermax": 100_000, "stopThr": 1e-9}
    for key in list(kwargs):
        if key in inner:
            inner[key] = kwargs.pop(key)
    _check_kwargs(function, kwargs, ("verbose", "method"))
    gw = GromovWasserstein(epsilon, threshold=tol, max_iterations=max_iter, inner_threshold=inner["stopThr"],
                           inner_max_iterations=inner["numItermax"])
    return gw.solve(problem, init=G0)


def _log(out, key):
    return {key: out.loss, "loss": list(out.trace), "converged": out.converged, "niter": out.iterations,
            "T": out.plan}


def _fused_log(out, key, alpha):
    log = _log(out, key)
    log["lin_loss"] = (1.0 - alpha) * out.linear_loss
    log["quad_loss"] = out.loss - log["lin_loss"]
    return log


def gromov_wasserstein(C1, C2, p=None, q=None, loss_fun="square_loss", symmetric=None, log=False, armijo=False,
                       G0=None, max_iter=1e4, tol_rel=1e-9, tol_abs=1e-9, **kwargs):
    r"""Gromov–Wasserstein coupling by conditional gradient (POT's
    ``ot.gromov.gromov_wasserstein``).

    Minimizes :math:`\sum_{ijkl} L(C1_{ik}, C2_{jl}) T_{ij} T_{kl}` over couplings of
    ``p`` and ``q`` from ``G0`` (default ``p qᵀ``); the result is a local minimum.

    Parameters
    ----------
    C1, C2 : array-like, shape (n, n), (m, m)
        Costs within the source and within the target.
    p, q : array-like, optional
        Weights (uniform when omitted).
    loss_fun : {"square_loss", "kl_loss"}
    log : bool
        Also return a dict with ``gw_dist``, ``loss`` (objective per iteration),
        ``converged``, ``niter``, ``T``.
    G0 : array-like, optional
        Starting coupling (its marginals must be ``p`` and ``q``).
    max_iter, tol_rel, tol_abs :
        Budget and stopping rule on the change of the objective.

    Returns
    -------
    T : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.random.default_rng(0).normal(size=(20, 2))
    >>> C = otters.dist(x, x)
    >>> T = otters.gromov.gromov_wasserstein(C, C[::-1, ::-1])
    >>> bool(np.allclose(T, np.eye(20)[::-1] / 20))
    True
    """
    del symmetric
    out = _cg("gromov_wasserstein", _problem(C1, C2, p, q, loss_fun), G0, armijo, max_iter, tol_rel, tol_abs, kwargs)
    return (out.plan, _log(out, "gw_dist")) if log else out.plan


def gromov_wasserstein2(C1, C2, p=None, q=None, loss_fun="square_loss", symmetric=None, log=False, armijo=False,
                        G0=None, max_iter=1e4, tol_rel=1e-9, tol_abs=1e-9, **kwargs):
    """The GW loss of :func:`gromov_wasserstein`'s coupling (POT's ``gromov_wasserstein2``)."""
    del symmetric
    out = _cg("gromov_wasserstein2", _problem(C1, C2, p, q, loss_fun), G0, armijo, max_iter, tol_rel, tol_abs, kwargs)
    return (out.loss, _log(out, "gw_dist")) if log else out.loss


def fused_gromov_wasserstein(M, C1, C2, p=None, q=None, loss_fun="square_loss", symmetric=None, alpha=0.5,
                             armijo=False, G0=None, log=False, max_iter=1e4, tol_rel=1e-9, tol_abs=1e-9, **kwargs):
    r"""Fused GW coupling by conditional gradient (POT's ``fused_gromov_wasserstein``):
    minimizes :math:`(1-\alpha)\langle M, T\rangle + \alpha\,\mathrm{GW}(T)`.

    ``log`` holds ``fgw_dist``, ``lin_loss`` (:math:`(1-\alpha)\langle M, T\rangle`),
    ``quad_loss``, ``loss``, ``converged``, ``niter``, ``T``.
    """
    del symmetric
    problem = _problem(C1, C2, p, q, loss_fun, M, alpha)
    out = _cg("fused_gromov_wasserstein", problem, G0, armijo, max_iter, tol_rel, tol_abs, kwargs)
    return (out.plan, _fused_log(out, "fgw_dist", alpha)) if log else out.plan


def fused_gromov_wasserstein2(M, C1, C2, p=None, q=None, loss_fun="square_loss", symmetric=None, alpha=0.5,
                              armijo=False, G0=None, log=False, max_iter=1e4, tol_rel=1e-9, tol_abs=1e-9, **kwargs):
    """The fused GW objective of :func:`fused_gromov_wasserstein`'s coupling."""
    del symmetric
    problem = _problem(C1, C2, p, q, loss_fun, M, alpha)
    out = _cg("fused_gromov_wasserstein2", problem, G0, armijo, max_iter, tol_rel, tol_abs, kwargs)
    return (out.loss, _fused_log(out, "fgw_dist", alpha)) if log else out.loss


def entropic_gromov_wasserstein(C1, C2, p=None, q=None, loss_fun="square_loss", epsilon=0.1, symmetric=None, G0=None,
                                max_iter=1000, tol=1e-9, solver="PGD", warmstart=False, verbose=False, log=False,
                                **kwargs):
    r"""Entropic GW coupling (POT's ``entropic_gromov_wasserstein``, ``solver="PGD"``): each
    step solves :math:`\min_T \langle \nabla \mathrm{GW}(T_k), T\rangle - \epsilon H(T)` by
    Sinkhorn; stops when :math:`\|T_{k+1} - T_k\|_F \le` ``tol``.

    ``log`` holds ``gw_dist`` (the GW loss of the plan, without entropy), ``loss`` (the plan
    change per iteration), ``converged``, ``niter``, ``T``.
    """
    del symmetric, warmstart, verbose
    out = _entropic("entropic_gromov_wasserstein", _problem(C1, C2, p, q, loss_fun), epsilon, G0, max_iter, tol,
                    solver, kwargs)
    return (out.plan, _log(out, "gw_dist")) if log else out.plan


def entropic_gromov_wasserstein2(C1, C2, p=None, q=None, loss_fun="square_loss", epsilon=0.1, symmetric=None,
                                 G0=None, max_iter=1000, tol=1e-9, solver="PGD", warmstart=False, verbose=False,
                                 log=False, **kwargs):
    """The GW loss (no entropy term) of :func:`entropic_gromov_wasserstein`'s coupling."""
    del symmetric, warmstart, verbose
    out = _entropic("entropic_gromov_wasserstein2", _problem(C1, C2, p, q, loss_fun), epsilon, G0, max_iter, tol,
                    solver, kwargs)
    return (out.loss, _log(out, "gw_dist")) if log else out.loss


def entropic_fused_gromov_wasserstein(M, C1, C2, p=None, q=None, loss_fun="square_loss", epsilon=0.1, symmetric=None,
                                      alpha=0.5, G0=None, max_iter=1000, tol=1e-9, solver="PGD", warmstart=False,
                                      verbose=False, log=False, **kwargs):
    """Entropic fused GW coupling (POT's ``entropic_fused_gromov_wasserstein``)."""
    del symmetric, warmstart, verbose
    problem = _problem(C1, C2, p, q, loss_fun, M, alpha)
    out = _entropic("entropic_fused_gromov_wasserstein", problem, epsilon, G0, max_iter, tol, solver, kwargs)
    return (out.plan, _fused_log(out, "fgw_dist", alpha)) if log else out.plan


def entropic_fused_gromov_wasserstein2(M, C1, C2, p=None, q=None, loss_fun="square_loss", epsilon=0.1,
                                       symmetric=None, alpha=0.5, G0=None, max_iter=1000, tol=1e-9, solver="PGD",
                                       warmstart=False, verbose=False, log=False, **kwargs):
    """The fused objective (no entropy term) of :func:`entropic_fused_gromov_wasserstein`."""
    del symmetric, warmstart, verbose
    problem = _problem(C1, C2, p, q, loss_fun, M, alpha)
    out = _entropic("entropic_fused_gromov_wasserstein2", problem, epsilon, G0, max_iter, tol, solver, kwargs)
    return (out.loss, _fused_log(out, "fgw_dist", alpha)) if log else out.loss
