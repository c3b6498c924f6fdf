"""POT-compatible functions: POT's names, argument order, defaults and return conventions.

Each function is a short adapter over the object face (DenseCost / PointCloud →
LinearProblem → Sinkhorn / NetworkSimplex), so both faces give identical numbers. Where
otters differs from POT on purpose, the docstring says so. Unknown keyword arguments raise
``TypeError``; POT keywords that otters does not need are accepted with a warning naming
them.
"""

import warnings

import numpy as np

from . import _arrays, _core
from ._result import OTResult
from .exceptions import ConvergenceWarning
from .problems import LinearProblem
from .solvers import NetworkSimplex, Sinkhorn

DenseCost = _core.DenseCost
PointCloud = _core.PointCloud

#: ``method=`` names of ``sinkhorn``/``sinkhorn2``; all are the same log-domain solver
#: (stable at small ``reg``), ``sinkhorn_epsilon_scaling`` with ε-scaling.
SINKHORN_METHODS = ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "greenkhorn", "sinkhorn_epsilon_scaling")
#: POT keywords accepted and ignored (with a warning).
_IGNORED = ("print_period", "tau", "epsilon0", "stopInnerThr", "numInnerItermax", "verbose", "processes", "numThreads", "n_threads")


def _check_kwargs(function, kwargs, ignored=_IGNORED):
    """Unknown keywords raise ``TypeError``; the ``ignored`` ones warn, naming themselves."""
    for key, value in kwargs.items():
        if key not in ignored:
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}")
        warnings.warn(f"{function}(): {key}={value!r} is ignored by otters", UserWarning, stacklevel=3)


def _sinkhorn_solver(method, reg, numItermax, stopThr, warn):
    if method not in SINKHORN_METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(SINKHORN_METHODS)}")
    scaling = 0.8 if method == "sinkhorn_epsilon_scaling" else None
    return Sinkhorn(float(reg), threshold=stopThr, max_iterations=numItermax, epsilon_scaling=scaling, warn=warn)


def _warm_start(warmstart, a, b, reg):
    """POT's ``warmstart = (log_u, log_v)`` (log-scalings of exp(-M/reg)) → potentials."""
    if warmstart is None:
        return None
    log_u, log_v = (np.asarray(w, dtype=np.float64) for w in warmstart)
    with np.errstate(divide="ignore"):
        return reg * (log_u - np.log(a)), reg * (log_v - np.log(b))


def _sinkhorn_log(out, a, b, reg):
    with np.errstate(divide="ignore"):
        log_u = np.log(a) + out.f / reg
        log_v = np.log(b) + out.g / reg
    return {
        "err": list(out.errors), "niter": out.iterations, "converged": out.converged,
        "log_u": log_u, "log_v": log_v, "u": np.exp(log_u), "v": np.exp(log_v),
        "f": out.f, "g": out.g, "reg_ot_cost": out.reg_ot_cost,
    }


def _solve_sinkhorn(a, b, M, reg, method, numItermax, stopThr, warn, warmstart):
    geom = DenseCost(_arrays.cost(M, "M"))
    problem = LinearProblem(geom, a, b)
    solver = _sinkhorn_solver(method, reg, numItermax, stopThr, warn)
    return problem, solver.solve(problem, init=_warm_start(warmstart, problem.a, problem.b, reg))


def _sinkhorn_columns(a, b, M, reg, method, numItermax, stopThr, warn, warmstart, log):
    """POT's ``sinkhorn(a, B)`` with a 2-D ``B`` (m, k): the k problems ``(a, B[:, p])``
    solved together in one batch, returning their k costs ``<M, P_p>``."""
    geom = DenseCost(_arrays.cost(M, "M"))
    n, m = geom.shape
    B = _arrays.matrix(b, "b")
    if B.shape[0] != m:
        raise _arrays.invalid("b", f"`b` must have shape ({m}, k) (one target histogram per column), got {B.shape}")
    a = _arrays.weights(a, n, "a")
    solver = _sinkhorn_solver(method, reg, numItermax, stopThr, warn)
    init = None
    if warmstart is not None:
        log_u, log_v = (np.asarray(w, dtype=np.float64) for w in warmstart)
        with np.errstate(divide="ignore"):
            init = ((reg * (log_u.T - np.log(a))) if log_u.ndim == 2 else reg * (log_u - np.log(a)),
                    reg * (log_v.T - np.log(B.T)) if log_v.ndim == 2 else reg * (log_v - np.log(B.T)))
    outs = solver.solve_batch(geom, a, np.ascontiguousarray(B.T), init=init)
    costs = np.array([out.linear_cost for out in outs])
    if not log:
        return costs
    with np.errstate(divide="ignore"):
        log_u = np.stack([np.log(a) + out.f / reg for out in outs], axis=1)
        log_v = np.stack([np.log(B[:, p]) + out.g / reg for p, out in enumerate(outs)], axis=1)
    return costs, {
        "err": [list(out.errors) for out in outs], "niter": np.array([out.iterations for out in outs]),
        "converged": np.array([out.converged for out in outs]),
        "log_u": log_u, "log_v": log_v, "u": np.exp(log_u), "v": np.exp(log_v),
        "f": np.stack([out.f for out in outs], axis=1), "g": np.stack([out.g for out in outs], axis=1),
        "reg_ot_cost": np.array([out.reg_ot_cost for out in outs]),
    }


def sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False, log=False, warn=True,
             warmstart=None, **kwargs):
    r"""Entropic optimal transport plan (POT's ``ot.sinkhorn``).

    Solves :math:`\min_{P \in \Pi(a, b)} \langle M, P\rangle + \mathrm{reg}\cdot
    \mathrm{KL}(P \,|\, a b^\top)`, which has the same optimal plan as POT's entropy
    convention, with log-domain updates for every ``method`` (so small ``reg`` neither
    overflows nor underflows; ``sinkhorn_epsilon_scaling`` adds ε-scaling).

    Parameters
    ----------
    a, b : array-like, shape (n,), (m,)
        Weights of equal mass (an empty list means uniform).
    M : array-like, shape (n, m)
        Cost matrix; ``+inf`` marks forbidden pairs.
    reg : float
        Entropic regularization (> 0).
    method : str
        One of :data:`SINKHORN_METHODS`; an unknown name raises ``ValueError``.
    numItermax : int
        Iteration budget (one iteration updates both scalings).
    stopThr : float
        Stop when the L1 marginal error ``|P1 - a|_1 + |P^T 1 - b|_1`` is below it (POT
        checks the 2-norm of the column marginal every 10 iterations instead).
    log : bool
        Also return a dict: ``log_u``, ``log_v`` (with ``P = exp(log_u + log_v - M/reg)``),
        ``u``, ``v``, ``f``, ``g``, ``err``, ``niter``, ``converged``, ``reg_ot_cost``.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    warmstart : tuple of arrays, optional
        ``(log_u, log_v)`` from a previous solve.

    Returns
    -------
    plan : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Raises
    ------
    otters.InvalidInputError
        (a ``ValueError``) for NaN, negative weights, unequal masses, bad shapes or reg <= 0.

    Examples
    --------
    >>> import numpy as np, otters
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> P = otters.sinkhorn([0.5, 0.5], [0.5, 0.5], M, 0.01)
    >>> bool(np.allclose(P, np.eye(2) / 2, atol=1e-6))
    True
    """
    _check_kwargs("sinkhorn", kwargs)
    if np.ndim(b) == 2:
        return _sinkhorn_columns(a, b, M, reg, method, numItermax, stopThr, warn, warmstart, log)
    problem, out = _solve_sinkhorn(a, b, M, reg, method, numItermax, stopThr, warn, warmstart)
    plan = out.plan()
    return (plan, _sinkhorn_log(out, problem.a, problem.b, reg)) if log else plan


def sinkhorn2(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, verbose=False, log=False, warn=False,
              warmstart=None, **kwargs):
    r"""Transport cost :math:`\langle M, P\rangle` of the entropic plan (POT's ``ot.sinkhorn2``).

    Same problem and parameters as :func:`sinkhorn` (POT's default here is ``warn=False``).
    A 2-D ``b`` of shape (m, k) solves the k problems ``(a, b[:, p])`` together (every
    sweep reads ``M`` once for all of them) and returns k costs; the log then holds arrays
    with one column (or entry) per problem. The regularized (dual) cost is
    ``log["reg_ot_cost"]``.
    """
    _check_kwargs("sinkhorn2", kwargs)
    if np.ndim(b) == 2:
        return _sinkhorn_columns(a, b, M, reg, method, numItermax, stopThr, warn, warmstart, log)
    problem, out = _solve_sinkhorn(a, b, M, reg, method, numItermax, stopThr, warn, warmstart)
    cost = out.linear_cost
    return (cost, _sinkhorn_log(out, problem.a, problem.b, reg)) if log else cost


def _solve_exact(a, b, M, numItermax, numThreads, center_dual):
    if numThreads not in (1, "max"):
        warnings.warn("numThreads is ignored: otters uses its own worker pool", UserWarning, stacklevel=3)
    if not center_dual:
        warnings.warn("center_dual=False is ignored: otters returns centered potentials", UserWarning, stacklevel=3)
    problem = LinearProblem(DenseCost(_arrays.cost(M, "M")), a, b)
    out = NetworkSimplex(numItermax, warn=False).solve(problem)
    return out, _exact_log(out)


def _exact_log(out):
    warning = None
    if not out.converged:
        warning = "numItermax reached before optimality. Try to increase numItermax."
        warnings.warn(warning, ConvergenceWarning, stacklevel=4)
    result_code = 1 if out.converged else 3
    return {"cost": out.cost, "u": out.f, "v": out.g, "warning": warning, "result_code": result_code,
            "method": out.method, "iterations": out.iterations}


def emd(a, b, M, numItermax=100000, log=False, center_dual=True, numThreads=1, check_marginals=True):
    r"""Exact optimal transport plan (POT's ``ot.emd``).

    Solves :math:`\min_{P \in \Pi(a, b)} \langle M, P\rangle` by the network simplex (or the
    LAPJV assignment solver for uniform square problems, under a work budget).

    Parameters
    ----------
    a, b : array-like, shape (n,), (m,)
        Weights of equal mass (an empty list means uniform); unequal masses raise
        :class:`otters.InvalidInputError` naming both sums.
    M : array-like, shape (n, m)
        Cost matrix; ``+inf`` marks forbidden pairs (no feasible plan → ``InvalidInputError``).
    numItermax : int
        Pivot budget (POT's default); reaching it warns and returns a feasible but possibly
        suboptimal plan.
    log : bool
        Also return a dict with the centered potentials ``u``, ``v`` (``<a,u> = <b,v>``),
        the ``cost``, ``warning`` and ``result_code`` (1 optimal, 3 budget reached).

    Returns
    -------
    plan : ndarray, shape (n, m)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np, otters
    >>> otters.emd([0.5, 0.5], [0.5, 0.5], np.array([[0.0, 1.0], [1.0, 0.0]]))
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    out, info = _solve_exact(a, b, M, numItermax, numThreads, center_dual)
    plan = out.plan()
    return (plan, info) if log else plan


def emd2(a, b, M, processes=1, numItermax=100000, log=False, return_matrix=False, center_dual=True, numThreads=1,
         check_marginals=True):
    r"""Exact optimal transport cost :math:`\langle M, P\rangle` (POT's ``ot.emd2``).

    Same problem and parameters as :func:`emd`; a 2-D ``b`` of shape (m, k) solves the k
    problems ``(a, b[:, p])`` in parallel and returns k costs (with ``log=True``, a list of
    k logs).
    With ``log=True`` and ``return_matrix=True`` the log holds the plan as ``G``.
    """
    if np.ndim(b) == 2:
        geom = DenseCost(_arrays.cost(M, "M"))
        n, m = geom.shape
        B = _arrays.matrix(b, "b")
        if B.shape[0] != m:
            raise _arrays.invalid("b", f"`b` must have shape ({m}, k) (one target histogram per column), got {B.shape}")
        outs = _core.solve_exact(geom, _arrays.weights(a, n, "a"), np.ascontiguousarray(B.T),
                                 max_iterations=numItermax)
        logs = [_exact_log(out) for out in outs]
        if return_matrix:
            for info, out in zip(logs, outs):
                info["G"] = out.plan()
        costs = np.array([out.cost for out in outs])
        return (costs, logs) if log else costs
    out, info = _solve_exact(a, b, M, numItermax, numThreads, center_dual)
    if return_matrix:
        info["G"] = out.plan()
    return (out.cost, info) if log else out.cost


def _ground_p(metric, p):
    metrics = {"sqeuclidean": 2.0, "euclidean": 1.0, "cityblock": 1.0, "minkowski": float(p)}
    if metric not in metrics:
        raise ValueError(f"unsupported metric {metric!r} in 1-D; use one of {', '.join(metrics)}")
    return metrics[metric]


def emd_1d(x_a, x_b, a=None, b=None, metric="sqeuclidean", p=1.0, dense=True, log=False, check_marginals=True):
    r"""Exact 1-D optimal transport plan (POT's ``ot.emd_1d``): the monotone coupling.

    ``metric`` is ``"sqeuclidean"`` (cost ``|x-y|^2``), ``"euclidean"``/``"cityblock"``
    (``|x-y|``) or ``"minkowski"`` (``|x-y|^p``). With ``dense=False`` the plan is a
    ``scipy.sparse.coo_array``. With ``log=True`` the log holds the ``cost``.
    """
    cost, rows, cols, values = _core.ot_1d(_arrays.as_float64(x_a, "x_a").ravel(), _arrays.as_float64(x_b, "x_b").ravel(),
                                          None if a is None else _arrays.weights(a, np.size(x_a), "a"),
                                          None if b is None else _arrays.weights(b, np.size(x_b), "b"), _ground_p(metric, p))
    shape = (np.size(x_a), np.size(x_b))
    if dense:
        plan = np.zeros(shape)
        np.add.at(plan, (rows, cols), values)
    else:
        import scipy.sparse

        plan = scipy.sparse.coo_array((values, (rows, cols)), shape=shape)
    return (plan, {"cost": cost}) if log else plan


def emd2_1d(x_a, x_b, a=None, b=None, metric="sqeuclidean", p=1.0, dense=True, log=False):
    r"""Exact 1-D optimal transport cost (POT's ``ot.emd2_1d``); see :func:`emd_1d`."""
    if log:
        plan, info = emd_1d(x_a, x_b, a, b, metric, p, dense, log=True)
        return info["cost"], {"G": plan}
    return _core.wasserstein_1d(_arrays.as_float64(x_a, "x_a").ravel(), _arrays.as_float64(x_b, "x_b").ravel(),
                                None if a is None else _arrays.weights(a, np.size(x_a), "a"),
                                None if b is None else _arrays.weights(b, np.size(x_b), "b"), _ground_p(metric, p))


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p=1, require_sort=True, return_plans=False):
    r"""1-D optimal transport cost :math:`W_p^p` (POT's ``ot.wasserstein_1d``).

    Like POT it returns the p-th power, not its root; 2-D inputs of shape (n, k) give k
    values, one per column. Unlike POT, weights of different total mass are refused (POT
    returns a meaningless number for them). ``require_sort`` is accepted for compatibility
    (otters always sorts); ``return_plans`` is not supported: use :func:`emd_1d`.
    """
    if return_plans:
        raise ValueError("return_plans is not supported; emd_1d() returns the plan")
    u = _arrays.as_float64(u_values, "u_values")
    v = _arrays.as_float64(v_values, "v_values")
    uw = None if u_weights is None else _arrays.as_float64(u_weights, "u_weights")
    vw = None if v_weights is None else _arrays.as_float64(v_weights, "v_weights")
    if u.ndim == 2 or v.ndim == 2:
        if (uw is not None and uw.ndim == 2) or (vw is not None and vw.ndim == 2):
            k = u.shape[1]
            return np.array([_core.wasserstein_1d(u[:, c], v[:, c], None if uw is None else (uw[:, c] if uw.ndim == 2 else uw),
                                                  None if vw is None else (vw[:, c] if vw.ndim == 2 else vw), float(p)) for c in range(k)])
        return _core.wasserstein_1d_batch(u, v, uw, vw, float(p))
    return _core.wasserstein_1d(u, v, uw, vw, float(p))


def _projections(d, n_projections, projections, seed):
    if projections is not None:
        return _arrays.matrix(projections, "projections").T  # POT stores directions as columns
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    elif not isinstance(seed, (int, np.integer)):
        raise TypeError("seed must be an int or None (otters draws directions from its own seeded stream)")
    return _core.random_directions(int(n_projections), d, int(seed))


def _sliced(X_s, X_t, a, b, n_projections, p, projections, seed):
    X_s = _arrays.as_float64(X_s, "X_s")
    X_t = _arrays.as_float64(X_t, "X_t")
    d = X_s.shape[1] if X_s.ndim == 2 else 1
    dirs = _projections(d, n_projections, projections, seed)
    a = None if a is None else _arrays.weights(a, X_s.shape[0], "a")
    b = None if b is None else _arrays.weights(b, X_t.shape[0], "b")
    return dirs, _core.sliced_wasserstein(X_s, X_t, dirs, a, b, float(p))


def sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2, projections=None, seed=None, log=False,
                                scaler=None):
    r"""Sliced Wasserstein distance :math:`(\mathbb{E}_\theta W_p^p(\theta_\# \alpha, \theta_\# \beta))^{1/p}`
    (POT's ``ot.sliced_wasserstein_distance``).

    ``projections`` (shape (d, n_projections), directions as columns, as in POT) overrides
    the random directions; ``seed`` (an int) makes them reproducible. With ``log=True`` the
    log holds the ``projections`` and the per-direction ``projected_emds`` (W_p^p).
    """
    if scaler is not None:
        raise ValueError("scaler is not supported")
    dirs, (sliced, _, _, projected) = _sliced(X_s, X_t, a, b, n_projections, p, projections, seed)
    return (sliced, {"projections": dirs.T, "projected_emds": projected}) if log else sliced


def max_sliced_wasserstein_distance(X_s, X_t, a=None, b=None, n_projections=50, p=2, projections=None, seed=None,
                                    log=False, scaler=None):
    r"""Max-sliced Wasserstein distance :math:`(\max_\theta W_p^p)^{1/p}` over the sampled
    directions (POT's ``ot.max_sliced_wasserstein_distance``)."""
    if scaler is not None:
        raise ValueError("scaler is not supported")
    dirs, (_, max_sliced, _, projected) = _sliced(X_s, X_t, a, b, n_projections, p, projections, seed)
    return (max_sliced, {"projections": dirs.T, "projected_emds": projected}) if log else max_sliced


_COST_FNS = {"sqeuclidean": "sqeuclidean", "euclidean": "euclidean", "cityblock": "cityblock",
             "minkowski": "minkowski", "cosine": "cosine"}


def dist(x1, x2=None, metric="sqeuclidean", p=2, w=None, backend="auto", nx=None, use_tensor=False):
    r"""Cost matrix between two point clouds (POT's ``ot.dist``), computed by the engine.

    ``metric``: ``"sqeuclidean"`` (default, ``|x-y|^2``), ``"euclidean"``, ``"cityblock"``,
    ``"minkowski"`` (``(Σ|x-y|^p)^{1/p}``, as SciPy) or ``"cosine"``; other SciPy metrics are
    delegated to ``scipy.spatial.distance.cdist``.
    """
    if w is not None:
        raise ValueError("weighted distances (w=...) are not supported")
    x1 = _arrays.as_float64(x1, "x1")
    x2 = x1 if x2 is None else _arrays.as_float64(x2, "x2")
    if metric not in _COST_FNS:
        from scipy.spatial.distance import cdist

        return cdist(x1, x2, metric=metric)
    cost = PointCloud(x1, x2, cost_fn=_COST_FNS[metric], p=float(p)).cost_matrix()
    return cost ** (1.0 / p) if metric == "minkowski" else cost


def _penalties(unbalanced, unbalanced_type):
    if unbalanced is None:
        return None, None, "kl"
    kind = str(unbalanced_type).lower()
    if kind not in ("kl", "tv"):
        raise ValueError(f"unsupported unbalanced_type {unbalanced_type!r}; otters supports 'KL' and 'TV'")
    rho_a, rho_b = (unbalanced, unbalanced) if np.ndim(unbalanced) == 0 else tuple(unbalanced)
    finite = lambda r: None if r is None or np.isinf(r) else float(r)  # noqa: E731
    return finite(rho_a), finite(rho_b), kind


def _solve_geom(geom, a, b, reg, c, reg_type, unbalanced, unbalanced_type, method, max_iter, potentials_init, tol, lazy):
    if c is not None:
        raise ValueError("a reference measure c is not supported (otters regularizes with KL(P | a b^T))")
    if str(reg_type).lower() != "kl":
        raise ValueError(f"reg_type={reg_type!r} is not supported; otters uses 'KL' (the same plan as 'entropy' when balanced)")
    rho_a, rho_b, kind = _penalties(unbalanced, unbalanced_type)
    problem = LinearProblem(geom, a, b, rho_a=rho_a, rho_b=rho_b, penalty=kind)
    if reg is None or reg == 0:
        if not problem.is_balanced:
            raise ValueError("unregularized unbalanced OT is not supported yet; give reg > 0")
        if method not in (None, "emd", "network_simplex", "exact"):
            raise ValueError(f"unknown method {method!r} for exact OT; use 'emd'")
        out = NetworkSimplex(max_iter).solve(problem)
        plan = None if lazy else out.plan()
        status = "optimal" if out.converged else "max_iterations_reached"
        return OTResult(plan=plan, value=out.cost, value_linear=out.cost, potentials=(out.f, out.g), status=status,
                        log={"method": out.method, "iterations": out.iterations}, output=out, a=problem.a, b=problem.b)
    if method not in (None, "sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "sinkhorn_translation_invariant"):
        raise ValueError(f"unknown method {method!r} for entropic OT; use 'sinkhorn'")
    solver = Sinkhorn(float(reg), threshold=1e-9 if tol is None else tol, max_iterations=1000 if max_iter is None else max_iter)
    out = solver.solve(problem, init=potentials_init)
    plan = None if lazy else out.plan()
    return OTResult(plan=plan, value=out.primal_cost, value_linear=out.linear_cost, potentials=(out.f, out.g),
                    status="converged" if out.converged else "not_converged",
                    log={"errors": out.errors, "iterations": out.iterations, "reg_ot_cost": out.reg_ot_cost},
                    output=out, a=problem.a, b=problem.b)


def solve(M, a=None, b=None, reg=None, c=None, reg_type="KL", unbalanced=None, unbalanced_type="KL", method=None,
          n_threads=1, max_iter=None, plan_init=None, potentials_init=None, tol=None, verbose=False, grad="autodiff"):
    r"""Solve an OT problem given its cost matrix (POT's ``ot.solve``), returning an :class:`OTResult`.

    ``reg`` None or 0: exact OT (network simplex). ``reg > 0``: entropic OT with
    ``reg * KL(P | a b^T)``. ``unbalanced`` (a number or a pair, ``inf`` for an exact side)
    relaxes the marginals with ``unbalanced_type`` ``"KL"`` or ``"TV"`` (entropic only).
    ``value`` is the full objective, ``value_linear`` is ``<M, P>``.
    """
    if plan_init is not None:
        raise ValueError("plan_init is not supported; use potentials_init")
    geom = DenseCost(_arrays.matrix(M, "M"))
    return _solve_geom(geom, a, b, reg, c, reg_type, unbalanced, unbalanced_type, method, max_iter, potentials_init, tol, False)


def solve_sample(X_a, X_b, a=None, b=None, metric="sqeuclidean", reg=None, c=None, reg_type="KL", unbalanced=None,
                 unbalanced_type="KL", lazy=False, batch_size=None, method=None, n_threads=1, max_iter=None, plan_init=None,
                 rank=100, scaling=0.95, potentials_init=None, X_init=None, tol=None, verbose=False, grad="autodiff",
                 random_state=None, debias=False, n_projections=50, projections=None, scaler=None):
    r"""Solve an OT problem between samples (POT's ``ot.solve_sample``), returning an :class:`OTResult`.

    The cost ``metric(X_a, X_b)`` is recomputed on the fly (never stored) by a
    :class:`PointCloud`; ``lazy=True`` also skips materializing the plan (use
    ``result.apply``). Low-rank, Gaussian and sliced methods are not available yet.
    """
    if method not in (None, "sinkhorn", "sinkhorn_log", "emd", "network_simplex", "exact"):
        raise ValueError(f"method {method!r} is not available in otters yet")
    if metric not in _COST_FNS or metric == "minkowski":
        raise ValueError(f"unsupported metric {metric!r}; use 'sqeuclidean', 'euclidean', 'cityblock' or 'cosine'")
    geom = PointCloud(X_a, X_b, cost_fn=_COST_FNS[metric])
    return _solve_geom(geom, a, b, reg, c, reg_type, unbalanced, unbalanced_type, method, max_iter, potentials_init, tol, lazy)
