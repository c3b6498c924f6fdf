"""Gromov–Wasserstein: the POT face against POT itself (same inputs, same numbers), the
object face against the POT face, and bad inputs naming their argument."""

import numpy as np
import ot
import pytest

import otters


def clouds(n=20, m=16, seed=0):
    rng = np.random.default_rng(seed)
    xs, xt = rng.normal(size=(n, 2)), rng.normal(size=(m, 3))
    C1, C2 = ot.dist(xs, xs), ot.dist(xt, xt)
    M = ot.dist(xs, xt[:, :2])
    return xs, xt, C1 / C1.max(), C2 / C2.max(), M / M.max()


@pytest.mark.parametrize("loss_fun", ["square_loss", "kl_loss"])
def test_conditional_gradient_matches_pot(loss_fun):
    _, _, C1, C2, _ = clouds()
    if loss_fun == "kl_loss":
        C1, C2 = C1 + 0.1, C2 + 0.1
    rng = np.random.default_rng(1)
    p, q = rng.uniform(0.2, 1, 20), rng.uniform(0.2, 1, 16)
    p, q = p / p.sum(), q / q.sum()
    T, log = otters.gromov.gromov_wasserstein(C1, C2, p, q, loss_fun, log=True)
    T_pot, log_pot = ot.gromov.gromov_wasserstein(C1, C2, p, q, loss_fun, log=True)
    np.testing.assert_allclose(T, T_pot, atol=1e-10)
    assert abs(log["gw_dist"] - log_pot["gw_dist"]) < 1e-10
    assert log["converged"]
    assert abs(otters.gromov.gromov_wasserstein2(C1, C2, p, q, loss_fun) - log_pot["gw_dist"]) < 1e-10


def test_fused_and_asymmetric_match_pot():
    _, _, C1, C2, M = clouds(18, 14, seed=3)
    A = C1 + 0.3 * np.random.default_rng(2).uniform(size=C1.shape)
    T = otters.gromov.gromov_wasserstein(A, C2)
    np.testing.assert_allclose(T, ot.gromov.gromov_wasserstein(A, C2), atol=1e-10)
    for alpha in (0.2, 0.5, 0.9):
        v, log = otters.gromov.fused_gromov_wasserstein2(M, C1, C2, alpha=alpha, log=True)
        v_pot, log_pot = ot.gromov.fused_gromov_wasserstein2(M, C1, C2, alpha=alpha, log=True)
        assert abs(v - v_pot) < 1e-10
        assert abs(log["lin_loss"] - log_pot["lin_loss"]) < 1e-10
        assert abs(log["quad_loss"] - log_pot["quad_loss"]) < 1e-10


@pytest.mark.parametrize("epsilon", [0.1, 0.02])
def test_entropic_matches_pot(epsilon):
    _, _, C1, C2, M = clouds()
    tight = dict(numItermax=200_000, stopThr=1e-13)
    T = otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=epsilon, tol=1e-11, stopThr=1e-13)
    T_pot = ot.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=epsilon, tol=1e-11, max_iter=5000, **tight)
    np.testing.assert_allclose(T, T_pot, atol=1e-8)
    v = otters.gromov.entropic_fused_gromov_wasserstein2(M, C1, C2, epsilon=epsilon, alpha=0.5, tol=1e-11,
                                                         stopThr=1e-13)
    v_pot = ot.gromov.entropic_fused_gromov_wasserstein2(M, C1, C2, epsilon=epsilon, alpha=0.5, tol=1e-11,
                                                         max_iter=5000, **tight)
    assert abs(v - v_pot) < 1e-8


def test_object_face_agrees_and_point_clouds_equal_stored_costs():
    xs, xt, C1, C2, _ = clouds(25, 20, seed=5)
    dense = otters.QuadraticProblem(otters.DenseCost(C1), otters.DenseCost(C2))
    cloud = otters.QuadraticProblem(otters.PointCloud(xs, scale_cost="max"), otters.PointCloud(xt, scale_cost="max"))
    for solver in (otters.ConditionalGradientGW(), otters.GromovWasserstein(0.05)):
        a, b = solver.solve(dense), solver.solve(cloud)
        assert a.converged and b.converged
        np.testing.assert_allclose(a.plan, b.plan, atol=1e-9)
        assert abs(a.loss - b.loss) < 1e-9
    out = otters.ConditionalGradientGW().solve(dense)
    assert abs(out.loss - otters.gromov.gromov_wasserstein2(C1, C2)) < 1e-12


def test_a_reversed_copy_gives_the_anti_diagonal_plan():
    x = np.sort(np.random.default_rng(4).normal(size=(30, 1)), axis=0)
    C = otters.dist(x, x)
    T, log = otters.gromov.gromov_wasserstein(C, C[::-1, ::-1], log=True)
    np.testing.assert_allclose(T, np.eye(30)[::-1] / 30, atol=1e-12)
    assert abs(log["gw_dist"]) < 1e-12


def test_bad_inputs_name_their_argument():
    _, _, C1, C2, M = clouds(6, 5)
    cases = [
        (lambda: otters.gromov.gromov_wasserstein(C1[:, :4], C2), "C1"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2[:4]), "C2"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, p=np.ones(4) / 4), "p"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, q=[0.5, 0.5, 0.0, 0.0, -0.1]), "b"),
        (lambda: otters.gromov.fused_gromov_wasserstein(M.T, C1, C2), "M"),
        (lambda: otters.gromov.fused_gromov_wasserstein(M, C1, C2, alpha=1.5), "alpha"),
        (lambda: otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=0.0), "epsilon"),
        (lambda: otters.gromov.gromov_wasserstein(C1 - 1.0, C2, loss_fun="kl_loss"), "C1"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, G0=np.ones((6, 5))), "init"),
        (lambda: otters.gromov.gromov_wasserstein(np.where(C1 > 0.5, np.nan, C1), C2), "C1"),
        (lambda: otters.GromovWasserstein().solve(otters.QuadraticProblem(C1 - 1.0, C2, loss="kl")), "geom_xx"),
    ]
    for call, name in cases:
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
    with pytest.raises(ValueError, match="loss"):
        otters.gromov.gromov_wasserstein(C1, C2, loss_fun="l1")
    with pytest.raises(ValueError, match="PPA"):
        otters.gromov.entropic_gromov_wasserstein(C1, C2, solver="PPA")
    with pytest.raises(TypeError, match="bogus"):
        otters.gromov.gromov_wasserstein(C1, C2, bogus=1)


def test_non_convergence_warns():
    _, _, C1, C2, _ = clouds(15, 15)
    with pytest.warns(otters.ConvergenceWarning):
        otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=0.01, max_iter=2, tol=1e-14)
