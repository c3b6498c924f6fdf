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
