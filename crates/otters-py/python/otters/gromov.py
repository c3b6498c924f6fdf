"""POT-compatible Gromov–Wasserstein functions (POT's ``ot.gromov``): same names, argument
order, defaults and returned values, over :class:`otters.QuadraticProblem` and the
:class:`otters.ConditionalGradientGW` / :class:`otters.GromovWasserstein` solvers.

Differences from POT, on purpose:

* ``symmetric`` is accepted and not needed: the gradient is always the exact one
  (``L⊗P + Lᵀ⊗P``), with symmetry detected from the data.
* ``armijo=True`` is accepted with a warning; the exact line search is always used (it is
  exact for both losses).
* The entropic solvers always warm-start their Sinkhorn solves (``warmstart`` is accepted)
  and solve early steps only to 3% of the last step's L1 plan change (the last ones to
  ``stopThr``); ``numItermax`` / ``stopThr`` set the inner budget and L1 marginal-error
  target (default 100000 / 1e-9).
* ``solver="PPA"`` is not available (``ValueError``).
* Barycenters: the update divides by ``sum(lambdas)``, so only the ratios of ``lambdas``
  matter (POT's equals it when they sum to 1; otherwise POT's square-loss ``C`` is scaled
  by ``sum(lambdas)``). ``stop_criterion="loss"`` uses the relative change of
  ``sum(lambdas[s] * GW_s)`` (POT: of the unweighted sum; the same rule for uniform
  ``lambdas``) and its first ``log["err"]`` is ``inf``, not POT's ``~1`` against a sentinel.
  The random start (``init_C=None``) is POT's construction drawn from otters' own seeded
  stream, not NumPy's: pass ``init_C`` to reproduce POT exactly.
* ``fgw_barycenters``: the feature update divides by ``sum(lambdas)`` as well (POT's
  does not). ``stop_criterion="barycenter"`` stops when *both* the structure and the
  features changed by at most ``tol`` (POT stops when *either* did, so with
  ``fixed_features=True`` it always stops after one iteration); the parts held fixed do
  not count. The features may be averaged under ``loss_fun="kl_loss"`` too (POT raises
  unless ``fixed_features``): the feature cost is squared Euclidean whatever the
  structure loss.
* Unbalanced (fused) GW needs ``epsilon > 0`` and ``divergence="kl"``: POT's unregularized
  ``epsilon=0`` path (``unbalanced_solver="mm"`` / ``"lbfgsb"``) and its ``"l2"`` divergence
  raise ``ValueError``. For ``epsilon > 0`` every ``unbalanced_solver`` name solves the same
  strictly convex subproblem, which otters always solves by log-domain Sinkhorn;
  ``max_iter_ot`` / ``tol_ot`` set its budget and L1 marginal-error target. ``init_duals``
  (a warm start only) is ignored with a warning, and the log has no ``"backend"``.
* ``lowrank_gromov_wasserstein_samples``: the same costs (POT's factors, rescaled as POT
  does), mirror step and stopping rule, but each projection is solved exactly (Newton on
  its dual) rather than by Dykstra to ``stopThr_dykstra``; the random start is otters' own
  seeded draw (``seed_init``), not NumPy's, so results are POT's only up to the start; the
  log has ``"value"``, ``"value_quad"``, ``"converged"`` and ``"n_iter"``, and no
  ``"lazy_plan"`` (the plan is ``(Q / g) @ R.T``). ``gamma_init="theory"`` raises
  ``ValueError``.
"""

import warnings

import numpy as np

from . import _arrays, _core
from ._pot import _check_kwargs
from .exceptions import ConvergenceWarning
from .problems import QuadraticProblem
from .solvers import (
    ConditionalGradientGW,
    GromovWasserstein,
    LowRankGromovWasserstein,
    UnbalancedGromovWasserstein,
)

__all__ = [
    "entropic_gromov_barycenters",
    "entropic_fused_gromov_wasserstein",
    "entropic_fused_gromov_wasserstein2",
    "entropic_gromov_wasserstein",
    "entropic_gromov_wasserstein2",
    "fgw_barycenters",
    "fused_gromov_wasserstein",
    "fused_gromov_wasserstein2",
    "fused_unbalanced_gromov_wasserstein",
    "fused_unbalanced_gromov_wasserstein2",
    "gromov_barycenters",
    "gromov_wasserstein",
    "gromov_wasserstein2",
    "lowrank_gromov_wasserstein_samples",
]

_CG_IGNORED = ("numItermaxEmd", "verbose", "alpha_min", "alpha_max")


def _problem(C1, C2, p, q, loss_fun, M=None, alpha=1.0, names=("C1", "C2", "p", "q")):
    n1, n2, n_p, n_q = names
    C1, C2 = _arrays.matrix(C1, n1), _arrays.matrix(C2, n2)
    for name, c in ((n1, C1), (n2, C2)):
        if c.shape[0] != c.shape[1]:
            raise _arrays.invalid(name, f"`{name}` must be square (costs within one space), got shape {c.shape}")
        if not np.isfinite(c).all():
            raise _arrays.invalid(name, f"`{name}` has a NaN or infinite entry")
        if loss_fun in ("kl_loss", "kl") and (c < 0).any():
            raise _arrays.invalid(name, f"`{name}` must be non-negative for the KL loss")
    n, m = C1.shape[0], C2.shape[0]
    for name, w, k in ((n_p, p, n), (n_q, q, m)):
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


def _sinkhorn_budget(function, solver, kwargs):
    """The inner Sinkhorn target and budget (``stopThr``, ``numItermax``) out of ``kwargs``."""
    if solver != "PGD":
        raise ValueError(f"{function}(): solver={solver!r} is not available; use 'PGD'")
    inner = {"numItermax": 100_000, "stopThr": 1e-9}
    for key in list(kwargs):
        if key in inner:
            inner[key] = kwargs.pop(key)
    _check_kwargs(function, kwargs, ("verbose", "method", "warmstart"))
    return inner["stopThr"], inner["numItermax"]


def _entropic(function, problem, epsilon, G0, max_iter, tol, solver, kwargs):
    stop_thr, num_iter_max = _sinkhorn_budget(function, solver, kwargs)
    gw = GromovWasserstein(epsilon, threshold=tol, max_iterations=max_iter, inner_threshold=stop_thr,
                           inner_max_iterations=num_iter_max)
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


def _seed(random_state):
    """A 64-bit seed for the random start: ``None`` is 0, an integer is itself, a NumPy
    ``Generator`` or ``RandomState`` gives one draw."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and 0 <= random_state < 2**64:
        return int(random_state)
    raise _arrays.invalid("random_state", f"`random_state` must be None, an integer in [0, 2**64) or a NumPy "
                                          f"Generator/RandomState, got {random_state!r}")


def _barycenter_args(N, Cs, ps, p, lambdas, loss_fun, init_C):
    """POT's barycenter arguments, checked and named as POT names them."""
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise _arrays.invalid("N", f"`N` must be a positive integer, got {N!r}")
    Cs = [_arrays.matrix(C, "Cs") for C in Cs]
    if not Cs:
        raise _arrays.invalid("Cs", "`Cs` must hold at least one cost matrix")
    for s, C in enumerate(Cs):
        if C.shape[0] != C.shape[1] or C.shape[0] == 0:
            raise _arrays.invalid("Cs", f"`Cs[{s}]` must be a non-empty square matrix, got shape {C.shape}")
        if not np.isfinite(C).all():
            raise _arrays.invalid("Cs", f"`Cs[{s}]` has a NaN or infinite entry")
        if loss_fun == "kl_loss" and (C < 0).any():
            raise _arrays.invalid("Cs", f"`Cs[{s}]` must be non-negative for the KL loss")
    ps = [None] * len(Cs) if ps is None else list(ps)
    if len(ps) != len(Cs):
        raise _arrays.invalid("ps", f"`ps` must hold one weight vector per cost ({len(Cs)}), got {len(ps)}")
    ps = [_arrays.weights(w, C.shape[0], "ps") for w, C in zip(ps, Cs)]
    p = _arrays.weights(p, int(N), "p")
    if p.shape[0] != N or not np.isfinite(p).all() or (p <= 0).any():
        raise _arrays.invalid("p", f"`p` must hold {N} positive weights, got {p!r}")
    for s, (w, C) in enumerate(zip(ps, Cs)):
        if w.shape[0] != C.shape[0] or not np.isfinite(w).all() or (w < 0).any():
            raise _arrays.invalid("ps", f"`ps[{s}]` must hold {C.shape[0]} non-negative weights, got {w!r}")
        if abs(w.sum() - p.sum()) > 1e-9 * max(w.sum(), p.sum()):
            raise _arrays.invalid("ps", f"`ps[{s}]` has mass {w.sum()}, but `p` has mass {p.sum()}")
    if lambdas is not None:
        lambdas = [float(v) for v in np.asarray(lambdas, dtype=np.float64).ravel()]
        if len(lambdas) != len(Cs):
            raise _arrays.invalid("lambdas", f"`lambdas` must hold one weight per cost ({len(Cs)}), got {len(lambdas)}")
    if init_C is not None:
        init_C = _arrays.matrix(init_C, "init_C")
        if init_C.shape != (N, N) or not np.isfinite(init_C).all():
            raise _arrays.invalid("init_C", f"`init_C` must be a finite {N} x {N} matrix, got shape {init_C.shape}")
    return int(N), Cs, ps, p, lambdas, init_C


def _barycenter(function, N, Cs, ps, p, lambdas, loss_fun, stop_criterion, warmstartT, log, init_C, random_state,
                max_iter, tol, fused=None, **solver):
    if loss_fun not in ("square_loss", "kl_loss"):
        raise ValueError(f"{function}(): unknown loss_fun={loss_fun!r}; use 'square_loss' or 'kl_loss'")
    if stop_criterion not in ("barycenter", "loss"):
        raise ValueError(f"{function}(): unknown stop_criterion={stop_criterion!r}; use 'barycenter' or 'loss'")
    N, Cs, ps, p, lambdas, init_C = _barycenter_args(N, Cs, ps, p, lambdas, loss_fun, init_C)
    out = _core.solve_gw_barycenter(Cs, ps, N, barycenter_weights=p, lambdas=lambdas, loss=loss_fun,
                                    max_iterations=int(max_iter), tolerance=float(tol), stop=stop_criterion,
                                    init=init_C, seed=_seed(random_state), warm_start=bool(warmstartT),
                                    **(fused or {}), **solver)
    if not out.converged:
        warnings.warn(f"{function}() did not converge in {out.iterations} iterations (last error "
                      f"{out.trace[-1]:.3e}, tol {tol:.1e}); raise max_iter or loosen tol", ConvergenceWarning,
                      stacklevel=3)
    result = out.cost if fused is None else (out.features, out.cost)
    if not log:
        return result
    entries = {"err": list(out.trace), "loss": list(out.loss_trace.sum(axis=1)), "T": out.plans,
               "p": out.weights, "gw_losses": out.gw_losses, "converged": out.converged, "niter": out.iterations}
    if fused is None:
        return result, entries
    X = out.features
    entries["Ms"] = [((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2) for Y in fused["features"]]
    entries["fgw_losses"] = entries.pop("gw_losses")
    return (*result, entries)


def gromov_barycenters(N, Cs, ps=None, p=None, lambdas=None, loss_fun="square_loss", symmetric=True, armijo=False,
                       max_iter=1000, tol=1e-9, stop_criterion="barycenter", warmstartT=False, verbose=False,
                       log=False, init_C=None, random_state=None, **kwargs):
    r"""Gromov–Wasserstein barycenter of ``S`` cost matrices (POT's ``ot.gromov.gromov_barycenters``;
    Peyré, Cuturi, Solomon 2016).

    Finds :math:`C^* = \arg\min_{C \in \mathbb{R}^{N\times N}} \sum_s \lambda_s
    \mathrm{GW}(C, C_s, p, p_s)` (a local minimum) by alternating the conditional-gradient GW
    plans :math:`T_s` (shape ``(N, n_s)``, each solved to a relative change of ``1e-5``) and
    the closed-form update :math:`C = \sum_s \hat\lambda_s T_s C_s T_s^\top / p p^\top`
    (square loss) or :math:`C = \exp(\sum_s \hat\lambda_s T_s \log(C_s) T_s^\top / p p^\top)`
    (KL loss), :math:`\hat\lambda = \lambda / \sum \lambda`.

    Parameters
    ----------
    N : int
        Number of points of the barycenter.
    Cs : list of S array-like, shapes (n_s, n_s)
        The cost matrices to average.
    ps : list of S array-like, optional
        Their weights (uniform when omitted); each of the mass of ``p``.
    p : array-like, shape (N,), optional
        Positive barycenter weights (uniform when omitted).
    lambdas : list of S floats, optional
        Non-negative weights of the inputs (uniform when omitted); only their ratios matter.
    loss_fun : {"square_loss", "kl_loss"}
    symmetric : accepted for compatibility; symmetry is detected from the data.
    armijo : accepted with a warning; the exact line search is used.
    max_iter : int
        Outer iterations at most (also the budget of each GW solve, as in POT).
    tol : float
        Threshold of the stopping rule.
    stop_criterion : {"barycenter", "loss"}
        Stop when the Frobenius norm of the change of ``C`` is at most ``tol``, or when the
        loss changes by at most ``tol`` relative to its previous value.
    warmstartT : bool
        Start each GW solve from its plan at the previous iteration.
    log : bool
        Also return a dict with ``err`` (the stopping rule per iteration), ``loss``
        (:math:`\sum_s \mathrm{GW}_s` per iteration), ``T`` (the plans), ``p``, ``gw_losses``
        (per input, for the returned ``C``), ``converged`` and ``niter``.
    init_C : array-like, shape (N, N), optional
        The starting costs; otherwise squared distances of ``N`` random Gaussian points of the
        plane over their maximum, drawn from a stream seeded by ``random_state`` (otters'
        own stream: pass ``init_C`` to reproduce a POT run).
    random_state : None, int, or NumPy Generator / RandomState
        Seed of the random start (``None`` means 0: the start is always reproducible).

    Returns
    -------
    C : ndarray, shape (N, N)
        The barycenter costs, defined up to a permutation of its points.
    log : dict, only if ``log=True``

    Raises
    ------
    otters.InvalidInputError
        Naming the argument at fault (``N``, ``Cs``, ``ps``, ``p``, ``lambdas``, ``init_C``).

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.random.default_rng(0).normal(size=(8, 2))
    >>> C = otters.dist(x, x)
    >>> C_bar = otters.gromov.gromov_barycenters(8, [C, C[::-1, ::-1]], init_C=C[::-1, ::-1])
    >>> bool(np.allclose(np.sort(C_bar, axis=None), np.sort(C, axis=None)))
    True
    """
    del symmetric, verbose
    _check_kwargs("gromov_barycenters", kwargs, _CG_IGNORED)
    if armijo:
        warnings.warn("gromov_barycenters(): armijo=True is ignored; otters uses the exact line search",
                      UserWarning, stacklevel=2)
    return _barycenter("gromov_barycenters", N, Cs, ps, p, lambdas, loss_fun, stop_criterion, warmstartT, log, init_C,
                       random_state, max_iter, tol, solver="cg", inner_iterations=int(max_iter), tol_rel=1e-5,
                       tol_abs=0.0)


def fgw_barycenters(N, Ys, Cs, ps=None, lambdas=None, alpha=0.5, fixed_structure=False, fixed_features=False, p=None,
                    loss_fun="square_loss", armijo=False, symmetric=True, max_iter=100, tol=1e-9,
                    stop_criterion="barycenter", warmstartT=False, verbose=False, log=False, init_C=None,
                    init_X=None, random_state=None, **kwargs):
    r"""Fused Gromov–Wasserstein barycenter of ``S`` graphs with node features (POT's
    ``ot.gromov.fgw_barycenters``; Vayer, Chapel, Flamary, Tavenard, Courty 2019).

    Finds :math:`(C^*, X^*) = \arg\min_{C, X} \sum_s \lambda_s \mathrm{FGW}_\alpha(C, C_s, X,
    Y_s, p, p_s)`, with :math:`\mathrm{FGW}_\alpha = \alpha\,\mathrm{GW} + (1-\alpha)
    \langle M_s, T_s\rangle` and :math:`M_s = \|x_i - y^s_j\|^2` (a local minimum), by
    alternating the conditional-gradient FGW plans :math:`T_s` (each to a relative change of
    ``1e-5``) and the closed-form updates :math:`X = \sum_s \hat\lambda_s \mathrm{diag}(1/p)
    T_s Y_s` and, as in :func:`gromov_barycenters`, of :math:`C`.

    Parameters
    ----------
    N : int
        Number of points of the barycenter.
    Ys : list of S array-like, shapes (n_s, d)
        The node features of each graph (one width ``d``).
    Cs : list of S array-like, shapes (n_s, n_s)
        The structure matrices.
    ps, p, lambdas, loss_fun, armijo, symmetric, warmstartT, random_state, init_C :
        As in :func:`gromov_barycenters`.
    alpha : float in [0, 1]
        Weight of the structure term; the features have weight ``1 - alpha``.
    fixed_structure : bool
        Keep ``C`` at ``init_C`` (required then).
    fixed_features : bool
        Keep ``X`` at ``init_X`` (required then).
    max_iter : int
        Outer iterations at most (also the budget of each FGW solve, as in POT).
    tol : float
        Stop when the Frobenius changes of ``C`` and ``X`` are both at most ``tol``
        (``stop_criterion="barycenter"``), or when the loss changes by at most ``tol``
        relative to its previous value (``"loss"``).
    init_X : array-like, shape (N, d), optional
        The starting features (zeros when omitted, as POT).
    log : bool
        Also return a dict with ``err``, ``loss``, ``T``, ``p``, ``Ms`` (the feature
        distances of the returned ``X`` to each ``Ys[s]``), ``fgw_losses`` (per input, for the
        returned ``C``, ``X`` and plans), ``converged`` and ``niter``.

    Returns
    -------
    X : ndarray, shape (N, d)
        The barycenter features.
    C : ndarray, shape (N, N)
        The barycenter structure.
    log : dict, only if ``log=True``

    Raises
    ------
    otters.InvalidInputError
        Naming the argument at fault (``N``, ``Ys``, ``Cs``, ``ps``, ``p``, ``lambdas``,
        ``alpha``, ``init_C``, ``init_X``).

    Examples
    --------
    >>> import numpy as np, otters
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 3))
    >>> C = otters.dist(x, x)
    >>> X, C_bar = otters.gromov.fgw_barycenters(6, [y, y[::-1]], [C, C[::-1, ::-1]], init_C=C)
    >>> bool(np.allclose(X, y) and np.allclose(C_bar, C))
    True
    """
    del symmetric, verbose
    _check_kwargs("fgw_barycenters", kwargs, _CG_IGNORED)
    if armijo:
        warnings.warn("fgw_barycenters(): armijo=True is ignored; otters uses the exact line search",
                      UserWarning, stacklevel=2)
    Ys = [_arrays.matrix(Y, "Ys") for Y in Ys]
    if len(Ys) != len(Cs):
        raise _arrays.invalid("Ys", f"`Ys` must hold one feature matrix per structure ({len(Cs)}), got {len(Ys)}")
    for s, (Y, C) in enumerate(zip(Ys, Cs)):
        if Y.shape[0] != np.shape(C)[0] or Y.shape[1] != Ys[0].shape[1] or Y.shape[1] == 0:
            raise _arrays.invalid("Ys", f"`Ys[{s}]` must have one row per point of `Cs[{s}]` and "
                                        f"{Ys[0].shape[1]} columns, got shape {Y.shape}")
        if not np.isfinite(Y).all():
            raise _arrays.invalid("Ys", f"`Ys[{s}]` has a NaN or infinite entry")
    if not (np.ndim(alpha) == 0 and 0.0 <= float(alpha) <= 1.0):
        raise _arrays.invalid("alpha", f"`alpha` must be a number in [0, 1], got {alpha!r}")
    if init_X is not None:
        init_X = _arrays.matrix(init_X, "init_X")
        if init_X.shape != (N, Ys[0].shape[1]) or not np.isfinite(init_X).all():
            raise _arrays.invalid("init_X", f"`init_X` must be a finite {N} x {Ys[0].shape[1]} matrix, "
                                            f"got shape {init_X.shape}")
    elif fixed_features:
        raise _arrays.invalid("init_X", "`init_X` must be given when fixed_features=True")
    if fixed_structure and init_C is None:
        raise _arrays.invalid("init_C", "`init_C` must be given when fixed_structure=True")
    fused = {"features": Ys, "alpha": float(alpha), "init_features": init_X,
             "fixed_structure": bool(fixed_structure), "fixed_features": bool(fixed_features)}
    return _barycenter("fgw_barycenters", N, Cs, ps, p, lambdas, loss_fun, stop_criterion, warmstartT, log, init_C,
                       random_state, max_iter, tol, fused=fused, solver="cg", inner_iterations=int(max_iter),
                       tol_rel=1e-5, tol_abs=0.0)


def entropic_gromov_barycenters(N, Cs, ps=None, p=None, lambdas=None, loss_fun="square_loss", epsilon=0.1,
                                symmetric=True, max_iter=1000, tol=1e-9, stop_criterion="barycenter",
                                warmstartT=False, verbose=False, log=False, init_C=None, random_state=None,
                                **kwargs):
    r"""Gromov–Wasserstein barycenter with entropic plans (POT's
    ``ot.gromov.entropic_gromov_barycenters``): as :func:`gromov_barycenters`, each plan an
    entropic GW solve with ``epsilon`` stopped when the plan changes by at most ``1e-4``
    (POT's inner setting, tested after iterations 1, 11, 21, … as POT does). Since that stop
    is loose, every Sinkhorn step is solved to ``stopThr`` within ``numItermax`` (keywords;
    default 1e-9 and 100000), as in POT, so that the plans are POT's iterates. The arguments, returns and log keys are those of
    :func:`gromov_barycenters`.
    """
    del symmetric, verbose
    stop_thr, num_iter_max = _sinkhorn_budget("entropic_gromov_barycenters", kwargs.pop("solver", "PGD"), kwargs)
    return _barycenter("entropic_gromov_barycenters", N, Cs, ps, p, lambdas, loss_fun, stop_criterion, warmstartT,
                       log, init_C, random_state, max_iter, tol, solver="entropic", epsilon=float(epsilon),
                       threshold=1e-4, inner_iterations=int(max_iter), inner_threshold=stop_thr,
                       inner_max_iterations=num_iter_max, inexact_steps=False, check_every=10)


_UGW_SOLVERS = ("sinkhorn", "sinkhorn_log", "mm", "lbfgsb")


def _fugw(function, Cx, Cy, wx, wy, reg_marginals, epsilon, divergence, unbalanced_solver, alpha, M, init_duals,
          init_pi, max_iter, tol, max_iter_ot, tol_ot, verbose, kwargs):
    """Solves POT's FUGW problem; returns the output and the factor ``α`` that relates its
    objective to POT's (``fugw_cost = out.loss / α``)."""
    del verbose
    _check_kwargs(function, kwargs, ())
    if divergence != "kl":
        raise ValueError(f"{function}(): divergence={divergence!r} is not available; otters supports 'kl' only")
    if unbalanced_solver not in _UGW_SOLVERS:
        raise ValueError(f"{function}(): unknown unbalanced_solver {unbalanced_solver!r}; "
                         f"valid: {', '.join(_UGW_SOLVERS)}")
    if np.ndim(epsilon) != 0:
        raise _arrays.invalid("epsilon", f"`epsilon` must be a scalar, got {epsilon!r}")
    if float(epsilon) == 0.0:
        raise ValueError(f"{function}(): epsilon=0 (POT's unregularized 'mm' / 'lbfgsb' path) is not available; "
                         "pass epsilon > 0, e.g. unbalanced_solver='sinkhorn', epsilon=1e-2")
    rho = np.atleast_1d(np.asarray(reg_marginals, dtype=np.float64))
    if rho.ndim != 1 or rho.size not in (1, 2):
        raise _arrays.invalid("reg_marginals", f"`reg_marginals` must be a scalar or a pair, got {reg_marginals!r}")
    rho_x, rho_y = (rho[0], rho[0]) if rho.size == 1 else rho
    if not (np.ndim(alpha) == 0 and np.isfinite(alpha) and alpha >= 0):
        raise _arrays.invalid("alpha", f"`alpha` must be a finite number >= 0, got {alpha!r}")
    if init_duals is not None:
        warnings.warn(f"{function}(): init_duals is ignored by otters (a warm start only; the result is the same)",
                      UserWarning, stacklevel=3)
    # POT: GW + (alpha/2)<M, π+γ> + ρ(...) + ε(...) = (otters' objective with weight w) / w.
    w = 1.0 / (1.0 + float(alpha)) if M is not None else 1.0
    problem = _problem(Cx, Cy, wx, wy, "square_loss", M, w, names=("Cx", "Cy", "wx", "wy"))
    solver = UnbalancedGromovWasserstein((w * rho_x, w * rho_y), w * float(epsilon), threshold=tol,
                                         max_iterations=max_iter, inner_threshold=tol_ot,
                                         inner_max_iterations=max_iter_ot)
    init = None if init_pi is None else _arrays.matrix(init_pi, "init_pi")
    return solver.solve(problem, init=init), w


def _fugw_log(out, w):
    f, g = out.potentials
    return {"error": list(out.trace), "duals": (f / out.inner_epsilon, g / out.inner_epsilon),
            "linear_cost": out.gw_loss, "fugw_cost": out.loss / w, "converged": out.converged,
            "niter": out.iterations}


def fused_unbalanced_gromov_wasserstein(Cx, Cy, wx=None, wy=None, reg_marginals=10, epsilon=0, divergence="kl",
                                        unbalanced_solver="mm", alpha=0, M=None, init_duals=None, init_pi=None,
                                        max_iter=100, tol=1e-7, max_iter_ot=500, tol_ot=1e-7, log=False,
                                        verbose=False, **kwargs_solve):
    r"""Fused unbalanced Gromov–Wasserstein couplings (POT's
    ``ot.gromov.fused_unbalanced_gromov_wasserstein``; Séjourné, Vialard, Peyré 2021).

    Minimizes over two plans :math:`\pi, \gamma` of equal mass

    .. math::
        \sum_{ijkl} (C^x_{ik} - C^y_{jl})^2 \pi_{ij}\gamma_{kl}
        + \tfrac{\alpha}{2}\langle M, \pi + \gamma\rangle
        + \rho_1 \mathrm{KL}(\pi 1 \otimes \gamma 1 | w_x \otimes w_x)
        + \rho_2 \mathrm{KL}(\pi^T 1 \otimes \gamma^T 1 | w_y \otimes w_y)
        + \varepsilon \mathrm{KL}(\pi \otimes \gamma | (w_x w_y^T) \otimes (w_x w_y^T))

    by alternate minimization, each step an unbalanced Sinkhorn solve with :math:`\rho`
    and :math:`\varepsilon` multiplied by the other plan's mass, then a rescaling to equal
    masses; the weights may have any positive masses. Stops when the L1 change of
    :math:`\pi` is below ``tol``.

    Parameters
    ----------
    Cx, Cy : array-like, shape (n, n), (m, m)
        Costs within the source and within the target.
    wx, wy : array-like, optional
        Weights of any positive masses (uniform probabilities when omitted).
    reg_marginals : float or pair
        :math:`(\rho_1, \rho_2)` (``inf``: a hard marginal).
    epsilon : float
        :math:`\varepsilon > 0` (``0`` is not available, see the module notes).
    divergence : {"kl"}
    unbalanced_solver : {"sinkhorn", "sinkhorn_log", "mm", "lbfgsb"}
        All solve the same subproblem by log-domain Sinkhorn when ``epsilon > 0``.
    alpha : float
        Weight of the linear term (needs ``M``).
    M : array-like, shape (n, m), optional
    init_pi : array-like, shape (n, m), optional
        Starting plan for both couplings (default :math:`w_x w_y^T`).
    max_iter, tol, max_iter_ot, tol_ot :
        Outer budget and L1 plan-change tolerance; inner Sinkhorn budget and L1 marginal-error
        target.
    log : bool
        Also return a dict with ``error`` (L1 plan changes), ``duals`` (the log-scalings of
        the last :math:`\pi` step), ``linear_cost`` (the GW term alone, POT's name),
        ``fugw_cost`` (the objective), ``converged``, ``niter``.

    Returns
    -------
    pi, gamma : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> x = np.random.default_rng(0).normal(size=(10, 2))
    >>> C = otters.dist(x, x)
    >>> C = C / C.max()
    >>> pi, gamma = otters.gromov.fused_unbalanced_gromov_wasserstein(
    ...     C, C, wy=np.full(10, 0.2), reg_marginals=1.0, epsilon=0.05, unbalanced_solver="sinkhorn")
    >>> bool(1.0 < pi.sum() < 2.0)
    True
    """
    out, w = _fugw("fused_unbalanced_gromov_wasserstein", Cx, Cy, wx, wy, reg_marginals, epsilon, divergence,
                   unbalanced_solver, alpha, M, init_duals, init_pi, max_iter, tol, max_iter_ot, tol_ot, verbose,
                   kwargs_solve)
    if log:
        return out.plan, out.second_plan, _fugw_log(out, w)
    return out.plan, out.second_plan


def fused_unbalanced_gromov_wasserstein2(Cx, Cy, wx=None, wy=None, reg_marginals=10, epsilon=0, divergence="kl",
                                         unbalanced_solver="mm", alpha=0, M=None, init_duals=None, init_pi=None,
                                         max_iter=100, tol=1e-7, max_iter_ot=500, tol_ot=1e-7, log=False,
                                         verbose=False, **kwargs_solve):
    """The objective (POT's ``fugw_cost``, penalties included) of
    :func:`fused_unbalanced_gromov_wasserstein`'s couplings (POT's
    ``fused_unbalanced_gromov_wasserstein2``)."""
    out, w = _fugw("fused_unbalanced_gromov_wasserstein2", Cx, Cy, wx, wy, reg_marginals, epsilon, divergence,
                   unbalanced_solver, alpha, M, init_duals, init_pi, max_iter, tol, max_iter_ot, tol_ot, verbose,
                   kwargs_solve)
    value = out.loss / w
    return (value, _fugw_log(out, w)) if log else value


def _sq_euclidean_factors(X, Y, rescale):
    """POT's factors of ``||x - y||^2`` (``[|x|^2, 1, -2x]`` and ``[1, |y|^2, y]``), each
    divided by the square root of its largest entry when ``rescale``."""
    A = np.concatenate([(X ** 2).sum(1, keepdims=True), np.ones((len(X), 1)), -2 * X], axis=1)
    B = np.concatenate([np.ones((len(Y), 1)), (Y ** 2).sum(1, keepdims=True), Y], axis=1)
    if rescale:
        A, B = A / np.sqrt(A.max()), B / np.sqrt(B.max())
    return A, B


def lowrank_gromov_wasserstein_samples(X_s, X_t, a=None, b=None, reg=0, rank=None, alpha=1e-10,
                                       gamma_init="rescale", rescale_cost=True, cost_factorized_Xs=None,
                                       cost_factorized_Xt=None, stopThr=1e-4, numItermax=1000, stopThr_dykstra=1e-3,
                                       numItermax_dykstra=10000, seed_init=49, warn=True, warn_dykstra=False,
                                       log=False):
    """Low-rank GW between two point clouds (POT's ``ot.gromov.lowrank_gromov_wasserstein_samples``;
    Scetbon, Peyré, Cuturi 2022): squared-Euclidean costs through their rank-(d+2) factors,
    couplings ``Q diag(1/g) R^T`` of rank ``rank``; linear time in the number of points.

    Returns ``Q, R, g`` (and the log when ``log=True``). ``reg`` is the entropy on the
    factors, ``alpha`` the lower bound on ``g``, ``stopThr``/``numItermax`` the outer stopping
    rule and budget, ``stopThr_dykstra``/``numItermax_dykstra`` each projection's target and
    budget. See the module notes for the differences from POT.
    """
    del warn_dykstra
    if gamma_init != "rescale":
        raise ValueError(f"gamma_init={gamma_init!r} is not available; use 'rescale'")
    X_s, X_t = _arrays.matrix(X_s, "X_s"), _arrays.matrix(X_t, "X_t")
    ns, nt = len(X_s), len(X_t)
    r = min(ns, nt) if rank is None else min(ns, nt, int(rank))
    factors = []
    for X, given, name in ((X_s, cost_factorized_Xs, "cost_factorized_Xs"), (X_t, cost_factorized_Xt,
                                                                             "cost_factorized_Xt")):
        if given is None:
            A, B = _sq_euclidean_factors(X, X, rescale_cost)
        else:
            A, B = (_arrays.matrix(f, name) for f in given)
        factors.append(_core.PointCloud(A, B, cost_fn="bilinear"))
    problem = QuadraticProblem(factors[0], factors[1], a, b)
    solver = LowRankGromovWasserstein(r, epsilon=reg, threshold=stopThr, max_iterations=numItermax,
                                      min_iterations=1, inner_threshold=stopThr_dykstra,
                                      inner_max_iterations=numItermax_dykstra, min_g=alpha, seed=seed_init,
                                      warn=False)
    out = solver.solve(problem)
    if warn and not out.converged:
        warnings.warn("Low Rank GW did not converge. You might want to increase the number of iterations "
                      "`numItermax`", ConvergenceWarning, stacklevel=2)
    Q, R, g = out.q, out.r, out.g
    if not log:
        return Q, R, g
    value = out.cost
    if reg != 0:
        value = value + reg * sum(float(np.sum(x * np.log(x + 1e-16))) for x in (Q, R, g))
    return Q, R, g, {"value": value, "value_quad": out.cost, "converged": out.converged,
                     "n_iter": out.iterations}
