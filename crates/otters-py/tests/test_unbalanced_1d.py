"""1-D unbalanced OT and barycenters by Frank–Wolfe from Python: entropic unbalanced plans
(another algorithm: log-domain Sinkhorn at a small ε) bracketed by the certified bounds,
the balanced limits against POT, and bad inputs."""

import numpy as np
import ot
import pytest

import otters
from otters.unbalanced import uot_1d, uot_barycenter_1d


def sample(seed, n=30, m=25, mass_b=1.3):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=n), 0.6 * rng.normal(size=m) + 0.7
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return x, y, a / a.sum(), b * mass_b / b.sum()


def unbalanced_primal(P, M, a, b, rho):
    kl = lambda p, q: float(np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0) - p + q))  # noqa: E731
    return float(np.sum(P * M)) + rho * kl(P.sum(1), a) + rho * kl(P.sum(0), b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_entropic_plans_are_bracketed(seed):
    # Every plan costs at least the certified dual value, and the entropic plan at a small
    # regularization comes close to the Frank–Wolfe optimum. (POT's own unbalanced Sinkhorn
    # breaks down numerically at this ε; otters' log-domain one does not.)
    x, y, a, b = sample(seed)
    rho = 0.5
    ua, vb, total, log = uot_1d(x, y, rho, a, b, p=2, returnCost="total", log=True, stopThr=1e-7,
                                numItermax=100000)
    M = (x[:, None] - y[None, :]) ** 2
    P = otters.unbalanced.sinkhorn_unbalanced(a, b, M, 2e-3, rho, numItermax=100000, stopThr=1e-10)
    pot = unbalanced_primal(P, M, a, b, rho)
    assert log["dual_cost"] <= pot + 1e-12
    assert total <= pot + 1e-8
    assert pot - total < 2e-2 * total
    # The returned marginals are the plan's.
    rows, cols, values = log["plan"]
    plan = np.zeros((len(x), len(y)))
    np.add.at(plan, (rows, cols), values)
    np.testing.assert_allclose(plan.sum(1), ua, atol=1e-14)
    np.testing.assert_allclose(plan.sum(0), vb, atol=1e-14)
    assert total == pytest.approx(unbalanced_primal(plan, M, a, b, rho), rel=1e-10)


def test_balanced_limits():
    x, y, a, b = sample(3, mass_b=1.0)
    _, _, cost = uot_1d(x, y, float("inf"), a, b, p=2)
    assert cost == pytest.approx(ot.wasserstein_1d(x, y, a, b, p=2), rel=1e-12)
    # Semi-relaxed: the exact side keeps its marginal.
    ua, _, _ = uot_1d(x, y, (float("inf"), 0.3), a, b * 1.5, p=1)
    np.testing.assert_allclose(ua, a, atol=1e-14)
    # Balanced barycenter of two Diracs' translates: the quantile average.
    xs = [np.array([0.0, 1.0]), np.array([2.0, 5.0])]
    sup, w = uot_barycenter_1d(xs, lambdas=[0.25, 0.75], reg_m=float("inf"))
    np.testing.assert_allclose(sup, [1.5, 4.0], atol=1e-14)
    np.testing.assert_allclose(w, [0.5, 0.5], atol=1e-14)


def test_unbalanced_barycenter_mass_and_certificate():
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=20) + k for k in range(3)]
    ws = [np.full(20, m / 20) for m in (1.0, 2.0, 0.5)]
    sup, w, log = uot_barycenter_1d(xs, ws, reg_m=1.0, log=True)
    assert log["converged"] and log["cost"] - log["dual_cost"] <= 1e-6
    assert np.all(np.diff(sup) >= 0)
    for m in log["marginals"]:
        assert m.sum() == pytest.approx(w.sum(), rel=1e-12)
    # The barycenter's mass lies between the smallest and largest input masses.
    assert 0.5 < w.sum() < 2.0


def test_bad_inputs_and_warnings():
    x, y, a, b = sample(5)
    with pytest.raises(otters.InvalidInputError, match="rho_a"):
        uot_1d(x, y, (0.0, 1.0), a, b)
    with pytest.raises(otters.InvalidInputError, match="p"):
        uot_1d(x, y, 1.0, a, b, p=0.5)
    with pytest.raises(otters.InvalidInputError, match="a"):
        uot_1d(x, y, 1.0, -a, b)
    with pytest.raises(ValueError, match="returnCost"):
        uot_1d(x, y, 1.0, a, b, returnCost="dual")
    with pytest.raises(otters.InvalidInputError, match="lambdas"):
        uot_barycenter_1d([x, y], lambdas=[1.0])
    with pytest.raises(otters.InvalidInputError, match="weights"):
        uot_barycenter_1d([x, y], weights=[a])
    with pytest.warns(otters.ConvergenceWarning):
        uot_1d(x, y, 0.5, a, b, numItermax=1, stopThr=1e-12)
