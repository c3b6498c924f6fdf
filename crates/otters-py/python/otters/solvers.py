"""Solvers (the object face): settings only; ``solve(problem)`` returns an output object.

``Sinkhorn(...).solve(problem)`` returns a :class:`otters.SinkhornOutput` with ``f``, ``g``,
``converged``, ``errors``, ``reg_ot_cost``, ``plan()``, ``apply()`` and ``transport(x)``;
``NetworkSimplex().solve(problem)`` returns an :class:`otters.ExactOutput`.
"""

import warnings

import numpy as np

from . import _arrays, _core
from .exceptions import ConvergenceWarning

_RELATIVE = (None, "mean", "max", "std")
_UPDATES = ("translation_invariant", "standard")


class Sinkhorn:
    """Log-domain Sinkhorn for balanced, unbalanced and semi-relaxed entropic OT.

    Parameters
    ----------
    epsilon : float, optional
        The regularization. Absolute by default; a factor of a cost statistic when
        ``relative_to`` is given. Omitted: ``0.05 * std(C)`` (OTT-JAX's default).
    relative_to : {None, "mean", "max", "std"}
        Statistic of the cost that ``epsilon`` multiplies.
    threshold : float
        Stop when ``|P1 - a*|_1 + |P^T 1 - b*|_1 <= threshold`` (``a*`` is what optimality
        requires: ``a`` for an exact marginal, ``a exp(-f/rho)`` for a KL one).
    max_iterations, min_iterations : int
        Iteration budget; one iteration updates both potentials.
    epsilon_scaling : float, optional
        Anneal from ``max(C)`` by this factor per iteration down to ``epsilon``.
    unbalanced_updates : {"translation_invariant", "standard"}
        Translation-invariant updates (Séjourné et al. 2022) converge much faster when
        ``rho >> epsilon``; same fixed point.
    acceleration : {"anderson", "adaptive", "none"} or float
        How the iterations are accelerated; the solution is the same in every case.
        "anderson" (default): Anderson acceleration of the potentials, mixing the last
        ``anderson_memory`` iterates (OTT-JAX's ``AndersonAcceleration``), with a fallback to
        plain iterations if the error blows up or stalls. "adaptive": over-relaxation
        ``f <- (1 - w) f + w T(f)`` (Thibault et al. 2017) of updates that do not translate
        the potentials, ``w`` measured from the convergence rate, falling back to ``w = 1``
        when it stops paying. A float in (0, 2) fixes ``w``. "none": plain Sinkhorn.
    anderson_memory : int
        Iterates mixed by Anderson acceleration (at least 2).
    initializer : {None, "gaussian", "sorting", "subsample"}
        Starting potential for point clouds when ``solve`` gets no ``init`` (Thornton &
        Cuturi 2022): "gaussian" uses the Brenier potential between Gaussian fits of the two
        clouds (squared Euclidean cost); "sorting" the exact dual potential of 1-D clouds
        (squared Euclidean cost), read off the monotone plan of the sorted points;
        "subsample" solves on ``initializer_size`` points of each cloud and extends the
        potential by a c-transform. Same solution, fewer iterations at small epsilon.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    """

    def __init__(self, epsilon=None, *, relative_to=None, threshold=1e-6, max_iterations=2000, min_iterations=0,
                 epsilon_scaling=None, unbalanced_updates="translation_invariant", acceleration="anderson",
                 anderson_memory=8, initializer=None, initializer_size=256, warn=True):
        if relative_to not in _RELATIVE:
            raise ValueError(f"unknown relative_to {relative_to!r}; use one of {_RELATIVE}")
        if unbalanced_updates not in _UPDATES:
            raise ValueError(f"unknown unbalanced_updates {unbalanced_updates!r}; use one of {_UPDATES}")
        self.epsilon = None if epsilon is None else float(epsilon)
        self.relative_to = relative_to
        self.threshold = float(threshold)
        self.max_iterations = int(max_iterations)
        self.min_iterations = int(min_iterations)
        self.epsilon_scaling = None if epsilon_scaling is None else float(epsilon_scaling)
        self.unbalanced_updates = unbalanced_updates
        if acceleration in ("anderson", "adaptive", "none"):
            self._acceleration, self._omega = acceleration, None
        elif (isinstance(acceleration, (int, float)) and not isinstance(acceleration, bool)
              and 0.0 < acceleration < 2.0):
            self._acceleration, self._omega = "relaxation", float(acceleration)
        else:
            raise ValueError("acceleration must be 'anderson', 'adaptive', 'none' or a float in (0, 2), "
                             f"got {acceleration!r}")
        self.acceleration = acceleration
        if isinstance(anderson_memory, bool) or not isinstance(anderson_memory, int) or anderson_memory < 2:
            raise ValueError(f"anderson_memory must be an integer >= 2, got {anderson_memory!r}")
        self.anderson_memory = anderson_memory
        if initializer not in (None, "gaussian", "sorting", "subsample"):
            raise ValueError(f"unknown initializer {initializer!r}; use None, 'gaussian', 'sorting' or 'subsample'")
        self.initializer = initializer
        self.initializer_size = int(initializer_size)
        self.warn = warn

    def _settings(self):
        return dict(
            epsilon=self.epsilon, relative_to=self.relative_to,
            threshold=self.threshold, max_iterations=self.max_iterations, min_iterations=self.min_iterations,
            scaling_decay=self.epsilon_scaling,
            translation_invariant=self.unbalanced_updates == "translation_invariant",
            acceleration=self._acceleration, omega=self._omega, anderson_memory=self.anderson_memory,
        )

    def _warn(self, out, label="", geom=None):
        if self.warn and not out.converged:
            hint = ""
            if getattr(geom, "dtype", None) == "float32" and out.threshold < 1e-7:
                hint = " (a float32 cost limits the marginal error to about 1e-8: use a float64 cost for this threshold)"
            warnings.warn(
                f"Sinkhorn{label} did not converge: marginal error {out.marginal_error:.3e} after "
                f"{out.iterations} iterations (threshold {out.threshold:.1e}); raise max_iterations or epsilon{hint}",
                ConvergenceWarning, stacklevel=3,
            )

    def solve(self, problem, init=None):
        """Solves ``problem`` (optionally from potentials ``init = (f, g)``)."""
        init_f, init_g = (None, None) if init is None else init
        if init is None and self.initializer is not None:
            init_f = _core.sinkhorn_init(problem.geom, problem.a, problem.b, self.initializer,
                                         epsilon=self.epsilon, relative_to=self.relative_to,
                                         size=self.initializer_size)
            init_g = np.zeros(problem.geom.shape[1])
        (out,) = _core.solve_sinkhorn(
            problem.geom, problem.a, problem.b,
            rho_a=problem.rho_a, rho_b=problem.rho_b, penalty_kind=problem.penalty,
            init_f=None if init_f is None else _arrays.as_float64(init_f, "init_f"),
            init_g=None if init_g is None else _arrays.as_float64(init_g, "init_g"),
            **self._settings(),
        )
        self._warn(out, geom=problem.geom)
        return out

    def solve_batch(self, geom, a=None, b=None, *, rho_a=None, rho_b=None, penalty="kl", init=None):
        """Solves ``k`` problems on one geometry together and returns their ``k`` outputs.

        Every sweep reads the cost once for all the problems (a stored cost is streamed once
        per iteration, not ``k`` times), each problem stops when it converges, and each output
        is the one :meth:`solve` gives for that problem alone, bit for bit.

        Parameters
        ----------
        geom : DenseCost or PointCloud
        a, b : array-like, shape (n,) or (k, n), and (m,) or (k, m)
            One weight vector shared by every problem, or one row per problem (uniform when
            omitted). POT's ``sinkhorn(a, B)`` is ``solve_batch(geom, a, B.T)``.
        rho_a, rho_b, penalty :
            Marginal penalties, shared by the problems (as in :class:`LinearProblem`).
        init : pair of arrays, optional
            Starting potentials ``(f, g)``, of shapes (n,) or (k, n), and (m,) or (k, m).

        Returns
        -------
        list of SinkhornOutput
        """
        n, m = geom.shape
        a = _arrays.weight_rows(a, n, "a")
        b = _arrays.weight_rows(b, m, "b")
        init_f, init_g = (None, None) if init is None else init
        outs = _core.solve_sinkhorn(
            geom, a, b, rho_a=None if rho_a is None else float(rho_a),
            rho_b=None if rho_b is None else float(rho_b), penalty_kind=penalty,
            init_f=None if init_f is None else _arrays.as_float64(init_f, "init_f"),
            init_g=None if init_g is None else _arrays.as_float64(init_g, "init_g"),
            **self._settings(),
        )
        for p, out in enumerate(outs):
            self._warn(out, f" (problem {p})", geom)
        return outs

    __call__ = solve

    def __repr__(self):
        return f"Sinkhorn(epsilon={self.epsilon}, relative_to={self.relative_to}, threshold={self.threshold})"


class NetworkSimplex:
    """Exact OT (network simplex; LAPJV first for uniform square problems).

    Parameters
    ----------
    max_iterations : int, optional
        Pivot budget (unlimited when omitted).
    assignment : {"auto", "always", "off"}
        Whether uniform square problems try the LAPJV assignment solver first ("auto" gives
        it a work budget and falls back).
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    """

    def __init__(self, max_iterations=None, *, assignment="auto", warn=True):
        self.max_iterations = None if max_iterations is None else int(max_iterations)
        self.assignment = assignment
        self.warn = warn

    def solve(self, problem):
        """Solves a balanced ``problem`` exactly."""
        (out,) = _core.solve_exact(problem.geom, problem.a, problem.b, max_iterations=self.max_iterations,
                                   assignment=self.assignment)
        if self.warn and not out.converged:
            warnings.warn(
                f"the network simplex stopped after {out.iterations} pivots before optimality "
                f"(marginal error {out.marginal_error:.3e}); raise max_iterations",
                ConvergenceWarning, stacklevel=2,
            )
        return out

    __call__ = solve


def _solve_gw(problem, solver, init, warn, **settings):
    out = _core.solve_gw(problem.geom_xx, problem.geom_yy, problem.a, problem.b, geom_xy=problem.geom_xy,
                         alpha=problem.fused_penalty, loss=problem.loss, solver=solver,
                         init=None if init is None else _arrays.matrix(init, "init"), **settings)
    if warn and not out.converged:
        warnings.warn(
            f"Gromov-Wasserstein ({solver}) did not converge in {out.iterations} iterations; "
            "raise max_iterations or loosen the tolerance",
            ConvergenceWarning, stacklevel=3,
        )
    return out


class GromovWasserstein:
    """Entropic Gromov–Wasserstein (OTT-JAX's ``GromovWasserstein``; POT's
    ``entropic_gromov_wasserstein``): mirror descent whose every step is a Sinkhorn solve on
    the linearized cost ``(1 - alpha) M + alpha * grad GW(P)``, warm-started from the last
    step's potentials.

    Parameters
    ----------
    epsilon : float
        The entropic regularization (absolute; scale the costs, e.g. ``scale_cost="max"``).
    threshold : float
        Stop once the Frobenius norm of the plan's change is at most this.
    max_iterations : int
        Outer iterations at most.
    inner_threshold, inner_max_iterations :
        The Sinkhorn solves' L1 marginal-error target and budget (early steps are solved to
        3% of the last step's L1 plan change only, the last ones to ``inner_threshold``).
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    """

    def __init__(self, epsilon=0.1, *, threshold=1e-9, max_iterations=1000, inner_threshold=1e-9,
                 inner_max_iterations=100_000, warn=True):
        self.epsilon = float(epsilon)
        self.threshold = float(threshold)
        self.max_iterations = int(max_iterations)
        self.inner_threshold = float(inner_threshold)
        self.inner_max_iterations = int(inner_max_iterations)
        self.warn = warn

    def solve(self, problem, init=None):
        """Solves a :class:`otters.QuadraticProblem` (optionally from the plan ``init``)."""
        return _solve_gw(problem, "entropic", init, self.warn, epsilon=self.epsilon, threshold=self.threshold,
                         max_iterations=self.max_iterations, inner_threshold=self.inner_threshold,
                         inner_max_iterations=self.inner_max_iterations)

    __call__ = solve

    def __repr__(self):
        return f"GromovWasserstein(epsilon={self.epsilon}, threshold={self.threshold})"


class UnbalancedGromovWasserstein:
    """Unbalanced (fused) Gromov–Wasserstein (Séjourné, Vialard, Peyré 2021; POT's
    ``fused_unbalanced_gromov_wasserstein`` with ``unbalanced_solver="sinkhorn"``): alternate
    minimization of the bi-convex relaxation in two plans ``(π, γ)``, each half-step an
    unbalanced Sinkhorn solve with ``rho`` and ``epsilon`` multiplied by the other plan's mass,
    followed by the rescaling that keeps both masses equal. The weights of the
    :class:`otters.QuadraticProblem` may have any positive masses.

    Parameters
    ----------
    rho : float or (float, float)
        KL penalties ``(rho_a, rho_b)`` on the marginals (``inf``: a hard marginal).
    epsilon : float
        Entropic regularization ``ε > 0`` of ``KL(π⊗γ | (a⊗b)⊗(a⊗b))`` (absolute). As ``rho``
        grows the result tends to :class:`GromovWasserstein` with ``2 * epsilon``.
    threshold : float
        Stop once the L1 change of ``π`` is at most this.
    max_iterations : int
        Outer iterations (pairs of Sinkhorn solves) at most.
    inner_threshold, inner_max_iterations :
        The Sinkhorn solves' L1 marginal-error target and budget.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    """

    def __init__(self, rho, epsilon, *, threshold=1e-9, max_iterations=1000, inner_threshold=1e-10,
                 inner_max_iterations=100_000, warn=True):
        rho_a, rho_b = (rho, rho) if np.ndim(rho) == 0 else tuple(rho)
        self.rho_a, self.rho_b = float(rho_a), float(rho_b)
        self.epsilon = float(epsilon)
        self.threshold = float(threshold)
        self.max_iterations = int(max_iterations)
        self.inner_threshold = float(inner_threshold)
        self.inner_max_iterations = int(inner_max_iterations)
        self.warn = warn

    def solve(self, problem, init=None):
        """Solves a :class:`otters.QuadraticProblem` from ``π = γ = init`` (default ``a bᵀ``);
        returns an ``UgwOutput`` (``plan``, ``second_plan``, ``loss`` and its parts)."""
        out = _core.solve_ugw(problem.geom_xx, problem.geom_yy, problem.a, problem.b, rho_a=self.rho_a,
                              rho_b=self.rho_b, epsilon=self.epsilon, geom_xy=problem.geom_xy,
                              alpha=problem.fused_penalty, loss=problem.loss, threshold=self.threshold,
                              max_iterations=self.max_iterations, inner_threshold=self.inner_threshold,
                              inner_max_iterations=self.inner_max_iterations,
                              init=None if init is None else _arrays.matrix(init, "init"))
        if self.warn and not out.converged:
            warnings.warn(
                f"unbalanced Gromov-Wasserstein did not converge in {out.iterations} iterations; "
                "raise max_iterations or loosen the tolerance",
                ConvergenceWarning, stacklevel=2,
            )
        return out

    __call__ = solve

    def __repr__(self):
        return (f"UnbalancedGromovWasserstein(rho=({self.rho_a}, {self.rho_b}), epsilon={self.epsilon}, "
                f"threshold={self.threshold})")


class ConditionalGradientGW:
    """Gromov–Wasserstein by conditional gradient (POT's ``gromov_wasserstein``): Frank–Wolfe
    steps towards the exact OT plan of the linearized cost, with an exact line search.

    Parameters
    ----------
    max_iterations : int
        Iterations at most.
    tol_rel, tol_abs : float
        Stop when the objective changes by at most ``tol_rel * |value|`` or ``tol_abs``.
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when the budget runs out.
    """

    def __init__(self, max_iterations=10_000, *, tol_rel=1e-9, tol_abs=1e-9, warn=True):
        self.max_iterations = int(max_iterations)
        self.tol_rel = float(tol_rel)
        self.tol_abs = float(tol_abs)
        self.warn = warn

    def solve(self, problem, init=None):
        """Solves a :class:`otters.QuadraticProblem` (optionally from the plan ``init``)."""
        return _solve_gw(problem, "cg", init, self.warn, max_iterations=self.max_iterations,
                         tol_rel=self.tol_rel, tol_abs=self.tol_abs)

    __call__ = solve

    def __repr__(self):
        return f"ConditionalGradientGW(max_iterations={self.max_iterations}, tol_rel={self.tol_rel})"


class LowRankSinkhorn:
    """Low-rank OT (Scetbon, Cuturi, Peyré 2021; OTT-JAX's ``LRSinkhorn``): couplings
    ``P = Q diag(1/g) R^T`` of rank ``rank``, by mirror descent; each step's KL projection onto
    the coupled marginal constraints is solved by Newton's method on its ``2r``-dimensional dual. The
    cost enters only through ``C R`` and ``C^T Q``, so a squared-Euclidean
    :class:`otters.PointCloud` (factored) costs linear time in the number of points.

    Parameters
    ----------
    rank : int
        The rank ``r`` (``1 <= r <= min(n, m)``).
    epsilon : float
        Entropic regularization of the factors (0: none).
    gamma : float
        Step scale; each step uses ``gamma / max |grad|_inf^2`` (OTT's rescaled step).
    threshold : float
        Stop once the symmetric KL between successive ``(Q, R, g)`` is at most this.
    max_iterations, min_iterations : int
        Outer iteration budget.
    inner_threshold, inner_max_iterations :
        The L1 marginal error each projection must reach, and its budget of Newton steps.
    min_g : float
        Lower bound on the entries of ``g``.
    init : {"random", "rank2", "kmeans"}
        Random factors (seeded by ``seed``), the deterministic rank-2 start, or entropic plans
        to k-means centroids of each cloud (k-means++ seeded by ``seed``; OTT-JAX's
        ``KMeansInitializer``, with the target's clusters matched to the source's; needs a
        :class:`otters.PointCloud`).
    warn : bool
        Emit :class:`otters.ConvergenceWarning` when not converged.
    """

    def __init__(self, rank, *, epsilon=0.0, gamma=10.0, threshold=1e-5, max_iterations=1000, min_iterations=10,
                 inner_threshold=1e-5, inner_max_iterations=10_000, min_g=1e-10, init="random", seed=0, warn=True):
        self.rank = int(rank)
        self.settings = dict(epsilon=float(epsilon), gamma=float(gamma), threshold=float(threshold),
                             max_iterations=int(max_iterations), min_iterations=int(min_iterations),
                             inner_threshold=float(inner_threshold), inner_max_iterations=int(inner_max_iterations),
                             min_g=float(min_g), init=init, seed=int(seed))
        self.warn = warn

    def solve(self, problem, init=None):
        """Solves a :class:`otters.LinearProblem` (balanced, or with KL-relaxed marginals:
        unbalanced low-rank OT, Scetbon et al. 2023, without the translation-invariant
        variant); returns an :class:`otters.LowRankOutput`.

        ``init``: optional starting factors ``(q, r, g)`` (OTT-JAX's ``init``), a point of the
        constraint set (``q.sum(0) == r.sum(0) == g``, rows summing to the hard marginals).
        """
        out = _core.solve_lowrank(problem.geom, problem.a, problem.b, rank=self.rank, rho_a=problem.rho_a,
                                  rho_b=problem.rho_b, penalty_kind=problem.penalty, start=init, **self.settings)
        if self.warn and not out.converged:
            warnings.warn(
                f"low-rank Sinkhorn did not converge in {out.iterations} iterations (marginal error "
                f"{out.marginal_error:.2e}); raise max_iterations / inner_max_iterations or epsilon",
                ConvergenceWarning, stacklevel=2,
            )
        return out

    __call__ = solve

    def __repr__(self):
        return f"LowRankSinkhorn(rank={self.rank})"


class LowRankGromovWasserstein:
    """Low-rank Gromov–Wasserstein (Scetbon, Peyré, Cuturi 2022; OTT-JAX's
    ``LRGromovWasserstein``): the square-loss GW objective over couplings
    ``P = Q diag(1/g) R^T`` of rank ``rank``, by the mirror descent and exact projections of
    :class:`LowRankSinkhorn`. Each step needs ``Cx Q`` and ``Cy R`` only, so factored costs
    (squared-Euclidean :class:`otters.PointCloud`) cost linear time in the number of points.
    Fused when the problem has ``geom_xy`` (the linear term weighted by the plan's mass, as
    OTT-JAX); unbalanced (Scetbon et al. 2023) for finite ``rho``.

    GW is not convex: different starts can end in different local minima, and the step
    (``gamma / max |grad|_inf^2``, OTT's rule) assumes costs of order one: scale them (e.g.
    ``PointCloud(x, scale_cost="max")``). Large unscaled costs make the steps tiny; the
    stopping rule then reports ``converged = False`` rather than stopping early.

    Parameters
    ----------
    rank : int
        The rank ``r``.
    rho : float or (float, float)
        KL penalties ``(rho_a, rho_b)`` on the marginals (``inf``, the default: hard).
    epsilon, gamma, max_iterations, min_iterations, inner_threshold, inner_max_iterations, min_g, seed, warn :
        As :class:`LowRankSinkhorn`.
    threshold : float
        Stop once the symmetric KL between successive ``(Q, R, g)``, divided by the step's
        ``gamma**2`` (OTT's and POT's low-rank GW criterion), is at most this and not growing
        (looser thresholds stop early steps, which are small, in poor local minima).
    init : {"random", "rank2"}
        Random factors (seeded by ``seed``) or the deterministic rank-2 start.
    """

    def __init__(self, rank, *, rho=float("inf"), epsilon=0.0, gamma=10.0, threshold=1e-8, max_iterations=1000,
                 min_iterations=10, inner_threshold=1e-5, inner_max_iterations=10_000, min_g=1e-10, init="random",
                 seed=0, warn=True):
        rho_a, rho_b = (rho, rho) if np.ndim(rho) == 0 else tuple(rho)
        self.rank = int(rank)
        self.settings = dict(rho_a=float(rho_a), rho_b=float(rho_b), epsilon=float(epsilon), gamma=float(gamma),
                             threshold=float(threshold), max_iterations=int(max_iterations),
                             min_iterations=int(min_iterations), inner_threshold=float(inner_threshold),
                             inner_max_iterations=int(inner_max_iterations), min_g=float(min_g), init=init,
                             seed=int(seed))
        self.warn = warn

    def solve(self, problem, init=None):
        """Solves a :class:`otters.QuadraticProblem` (square loss; its weights may differ in
        mass when ``rho`` is finite); returns an :class:`otters.LowRankOutput` whose ``cost``
        is the (fused) GW loss. ``init``: optional starting factors ``(q, r, g)``."""
        out = _core.solve_lrgw(problem.geom_xx, problem.geom_yy, problem.a, problem.b, rank=self.rank,
                               geom_xy=problem.geom_xy, alpha=problem.fused_penalty, loss=problem.loss,
                               start=init, **self.settings)
        if self.warn and not out.converged:
            warnings.warn(
                f"low-rank Gromov-Wasserstein did not converge in {out.iterations} iterations; raise "
                "max_iterations, or scale the costs to order one",
                ConvergenceWarning, stacklevel=2,
            )
        return out

    __call__ = solve

    def __repr__(self):
        return f"LowRankGromovWasserstein(rank={self.rank})"
