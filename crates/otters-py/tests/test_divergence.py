"""Sinkhorn divergence, energy distance and Gaussian MMD from Python: POT's
``empirical_sinkhorn_divergence`` reproduced live, the divergence's invariants, its
gradients against finite differences, and bad inputs naming their argument."""

import numpy as np
import ot
import pytest

import otters
from otters.divergence import empirical_sinkhorn_divergence, energy_distance, gaussian_mmd, sinkhorn_divergence


def clouds(seed, n=40, m=30, d=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), 0.8 * rng.normal(size=(m, d)) + 0.4


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean"])
def test_empirical_sinkhorn_divergence_matches_pot(seed, metric):
    x, y = clouds(seed)
    rng = np.random.default_rng(10 + seed)
    a = rng.uniform(0.5, 1.5, len(x))
    a /= a.sum()
    b = rng.uniform(0.5, 1.5, len(y))
    b /= b.sum()
    reg = 0.5
    want, log_pot = ot.bregman.empirical_sinkhorn_divergence(x, y, reg, a, b, metric=metric, stopThr=1e-12,
                                                             numIterMax=100000, log=True)
    got, log = empirical_sinkhorn_divergence(x, y, reg, a, b, metric=metric, stopThr=1e-12, numIterMax=100000,
                                             log=True)
    assert got == pytest.approx(float(want), rel=1e-8)
    for key in ("sinkhorn_loss_ab", "sinkhorn_loss_a", "sinkhorn_loss_b"):
        assert log[key] == pytest.approx(float(log_pot[key]), rel=1e-8), key


def test_zero_on_the_diagonal_and_positive_under_translation():
    x, _ = clouds(3)
    for rho in (None, 0.5):
        # The cross solve of (α, α) is itself symmetric, where Sinkhorn stalls near 1e-9.
        assert abs(sinkhorn_divergence(x, x, epsilon=0.05, rho=rho, threshold=1e-9, max_iterations=20000)) < 1e-8
        values = [sinkhorn_divergence(x, x + t, epsilon=0.05, rho=rho) for t in (0.1, 0.5, 1.0)]
        assert 0 < values[0] < values[1] < values[2]


def test_large_translation_tends_to_the_squared_shift():
    # Balanced, squared Euclidean: S_ε(α, α + t) → ‖t‖² as ε → 0 (the OT cost of a translation).
    x, _ = clouds(4, n=60)
    t = np.array([1.0, -0.5])
    value = sinkhorn_divergence(x, x + t, epsilon=1e-3, threshold=1e-8, max_iterations=20000, epsilon_scaling=0.9)
    assert value == pytest.approx(t @ t, rel=2e-3)


def test_unbalanced_mass_term():
    # With unequal masses the unbalanced divergence stays ≥ 0 and is 0 only for equal measures.
    x, y = clouds(5)
    a = np.full(len(x), 1.0 / len(x))
    out = sinkhorn_divergence(x, x, a, 1.5 * a, epsilon=0.1, rho=1.0, return_output=True)
    assert out.converged and out.value > 0
    assert sinkhorn_divergence(x, x, a, a, epsilon=0.1, rho=1.0) == pytest.approx(0.0, abs=1e-9)


def test_gradients_equal_finite_differences():
    x, y = clouds(6, n=10, m=8)
    out = sinkhorn_divergence(x, y, epsilon=0.3, threshold=1e-12, max_iterations=100000, gradients=True,
                              return_output=True)
    h = 1e-5
    for i, k in [(0, 0), (4, 1), (9, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[i, k] += h
        xm[i, k] -= h
        fd = (sinkhorn_divergence(xp, y, epsilon=0.3, threshold=1e-12, max_iterations=100000)
              - sinkhorn_divergence(xm, y, epsilon=0.3, threshold=1e-12, max_iterations=100000)) / (2 * h)
        assert out.grad_x[i, k] == pytest.approx(fd, abs=1e-6)
    assert out.grad_y.shape == y.shape
    # Without gradients=True they are not computed.
    assert sinkhorn_divergence(x, y, epsilon=0.3, return_output=True).grad_x is None


def test_kernel_losses_equal_dense_sums():
    x, y = clouds(7, n=25, m=15, d=3)
    dist = lambda u, v: np.sqrt(((u[:, None] - v[None]) ** 2).sum(-1))  # noqa: E731
    a, b = np.full(25, 1 / 25), np.full(15, 1 / 15)
    want = a @ dist(x, y) @ b - 0.5 * (a @ dist(x, x) @ a + b @ dist(y, y) @ b)
    assert energy_distance(x, y) == pytest.approx(want, rel=1e-12)
    k = lambda u, v: np.exp(-dist(u, v) ** 2 / (2 * 0.6**2))  # noqa: E731
    want = 0.5 * (a @ k(x, x) @ a + b @ k(y, y) @ b) - a @ k(x, y) @ b
    assert gaussian_mmd(x, y, sigma=0.6) == pytest.approx(want, rel=1e-12)


def test_non_convergence_warns():
    x, y = clouds(8)
    with pytest.warns(otters.ConvergenceWarning):
        sinkhorn_divergence(x, y, epsilon=1e-3, max_iterations=2)


def test_bad_inputs_name_their_argument():
    x, y = clouds(9)
    with pytest.raises(otters.InvalidInputError, match="rho"):
        sinkhorn_divergence(x, y, epsilon=0.1, rho=-1.0)
    with pytest.raises(otters.InvalidInputError, match="epsilon"):
        sinkhorn_divergence(x, y, epsilon=-0.1)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(otters.InvalidInputError, match="x"):
        sinkhorn_divergence(bad, y, epsilon=0.1)
    with pytest.raises(otters.InvalidInputError, match="b"):
        sinkhorn_divergence(x, y, b=np.ones(3), epsilon=0.1)
    with pytest.raises(TypeError, match="PointCloud"):
        otters._core.solve_divergence(otters.DenseCost(np.ones((3, 3))))
    with pytest.raises(otters.InvalidInputError, match="sigma"):
        gaussian_mmd(x, y, sigma=0.0)
    with pytest.raises(otters.InvalidInputError, match="y"):
        energy_distance(x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="metric"):
        empirical_sinkhorn_divergence(x, y, 0.1, metric="hamming")
