"""``OTResult``: what ``otters.solve`` / ``otters.solve_sample`` return (POT's result object)."""

import numpy as np


class OTResult:
    """The solution of an OT problem, with POT's ``OTResult`` attribute names.

    Attributes
    ----------
    plan : ndarray or None
        The transport plan (``None`` for ``lazy=True`` solves: use :meth:`apply`).
    value : float
        The full objective (linear cost, plus ``reg * KL(P | a b^T)`` and the marginal
        penalties when present).
    value_linear : float
        ``<M, P>``.
    potentials : tuple of ndarray
        ``(f, g)``, dual potentials in cost units.
    status : str
        ``"converged"``/``"optimal"``, ``"not_converged"`` or ``"max_iterations_reached"``.
    log : dict
        Solver details (iterations, errors, method).
    """

    def __init__(self, *, plan, value, value_linear, potentials, status, log, output, a, b):
        self.plan = plan
        self.value = value
        self.value_linear = value_linear
        self.value_quad = None
        self.potentials = potentials
        self.potential_a, self.potential_b = potentials
        self.status = status
        self.log = log
        self._output = output
        self._a, self._b = a, b

    @property
    def sparse_plan(self):
        """The plan as a ``scipy.sparse.coo_array`` (exact OT stores it sparse)."""
        import scipy.sparse

        if hasattr(self._output, "plan_sparse"):
            rows, cols, values = self._output.plan_sparse()
            return scipy.sparse.coo_array((values, (rows, cols)), shape=self._output.shape)
        return scipy.sparse.coo_array(self.plan)

    @property
    def marginal_a(self):
        """``P 1``."""
        if hasattr(self._output, "marginals"):
            return self._output.marginals[0]
        return np.asarray(self.sparse_plan.sum(axis=1)).ravel()

    @property
    def marginal_b(self):
        """``P^T 1``."""
        if hasattr(self._output, "marginals"):
            return self._output.marginals[1]
        return np.asarray(self.sparse_plan.sum(axis=0)).ravel()

    @property
    def marginals(self):
        """``(P 1, P^T 1)``."""
        return self.marginal_a, self.marginal_b

    def apply(self, v, axis=0):
        """``P^T v`` (axis=0) or ``P v`` (axis=1), without materializing an entropic plan."""
        if hasattr(self._output, "apply"):
            return self._output.apply(v, axis=axis)
        plan = self.sparse_plan
        return plan.T @ np.asarray(v) if axis == 0 else plan @ np.asarray(v)

    def __repr__(self):
        return f"OTResult(value={self.value}, value_linear={self.value_linear}, status={self.status!r})"
