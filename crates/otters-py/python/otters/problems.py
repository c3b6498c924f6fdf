"""The data of an OT problem (the object face, mirroring ``otters::linear::LinearProblem``)."""

from . import _arrays, _core

_PENALTIES = ("kl", "tv")


def Geometry(cost_matrix, scale_cost=None):  # noqa: N802 - OTT-JAX's class name
    """OTT-JAX's ``Geometry(cost_matrix=...)``: a stored cost matrix, i.e. :class:`DenseCost`."""
    return _core.DenseCost(cost_matrix, scale_cost=scale_cost)


class LinearProblem:
    """A linear OT problem: a geometry, weights and how each marginal is enforced.

    Parameters
    ----------
    geom : DenseCost or PointCloud
        The cost.
    a, b : array-like, optional
        Source and target weights (uniform when omitted).
    rho_a, rho_b : float, optional
        Strength of the penalty on each marginal (POT's ``reg_m``); ``None`` keeps the
        marginal exact. Both ``None`` is balanced OT; one ``None`` is semi-relaxed.
    penalty : {"kl", "tv"}
        ``rho * KL(P1 | a)`` or ``rho * |P1 - a|_1``.

    Raises
    ------
    InvalidInputError
        For weights of the wrong length, NaN or negative weights, zero mass, a
        non-positive ``rho``, or unequal masses of a balanced problem. Checked here, once.
    """

    def __init__(self, geom, a=None, b=None, *, rho_a=None, rho_b=None, penalty="kl"):
        n, m = geom.shape
        self.geom = geom
        self.a = _arrays.weights(a, n, "a")
        self.b = _arrays.weights(b, m, "b")
        if penalty not in _PENALTIES:
            raise ValueError(f"unknown penalty {penalty!r}; use one of {_PENALTIES}")
        self.rho_a = None if rho_a is None else float(rho_a)
        self.rho_b = None if rho_b is None else float(rho_b)
        self.penalty = penalty
        self.masses = _core.check_problem(geom, self.a, self.b, rho_a=self.rho_a, rho_b=self.rho_b, penalty_kind=penalty)

    @property
    def is_balanced(self):
        """Whether both marginals are exact."""
        return self.rho_a is None and self.rho_b is None

    def __repr__(self):
        kind = "balanced" if self.is_balanced else f"unbalanced ({self.penalty}, rho_a={self.rho_a}, rho_b={self.rho_b})"
        return f"LinearProblem({self.geom!r}, {kind})"


_LOSSES = {"square": "square", "square_loss": "square", "kl": "kl", "kl_loss": "kl"}


class QuadraticProblem:
    """A Gromov–Wasserstein problem (OTT-JAX's ``QuadraticProblem``).

    Parameters
    ----------
    geom_xx, geom_yy : DenseCost, PointCloud or array-like
        Costs within the source (n × n) and within the target (m × m).
    a, b : array-like, optional
        Weights of equal mass (uniform when omitted).
    geom_xy : DenseCost, PointCloud or array-like, optional
        A linear cost between the two (n × m): fused GW.
    fused_penalty : float
        The weight ``alpha`` in ``[0, 1]`` of the GW term; the linear term gets ``1 - alpha``
        (POT's convention). Only used with ``geom_xy``.
    loss : {"square", "kl"}
        ``(c - c')**2`` or ``c log(c / c') - c + c'``.

    Raises
    ------
    InvalidInputError
        Raised by the solve for non-square costs, mismatched weights or ``alpha``
        outside ``[0, 1]``.
    """

    def __init__(self, geom_xx, geom_yy, a=None, b=None, *, geom_xy=None, fused_penalty=1.0, loss="square"):
        if loss not in _LOSSES:
            raise ValueError(f"unknown loss {loss!r}; use 'square' or 'kl'")
        self.geom_xx = geom_xx if hasattr(geom_xx, "cost_matrix") else _arrays.matrix(geom_xx, "geom_xx")
        self.geom_yy = geom_yy if hasattr(geom_yy, "cost_matrix") else _arrays.matrix(geom_yy, "geom_yy")
        if geom_xy is not None and not hasattr(geom_xy, "cost_matrix"):
            geom_xy = _arrays.matrix(geom_xy, "geom_xy")
        self.geom_xy = geom_xy
        n, m = self.geom_xx.shape[0], self.geom_yy.shape[0]
        self.a = _arrays.weights(a, n, "a")
        self.b = _arrays.weights(b, m, "b")
        self.fused_penalty = float(fused_penalty)
        self.loss = _LOSSES[loss]

    def __repr__(self):
        n, m = self.geom_xx.shape[0], self.geom_yy.shape[0]
        fused = "" if self.geom_xy is None else f", fused (alpha={self.fused_penalty})"
        return f"QuadraticProblem({n} x {m}, loss={self.loss}{fused})"
