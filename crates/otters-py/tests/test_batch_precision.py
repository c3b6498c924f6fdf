"""float32 costs (read in single precision, potentials in float64), batched problems
(POT's ``sinkhorn(a, B)``, ``sinkhorn2(a, B)``, ``emd2(a, B)``) and ``otters.pairwise``."""

import warnings

import numpy as np
import ot
import pytest

import otters
from otters import DenseCost, LinearProblem, PointCloud, Sinkhorn


@pytest.fixture
def problem():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(120, 5)), rng.normal(size=(90, 5)) + 0.5
    M = ot.dist(x, y)
    M /= M.max()
    return x, y, M


def test_float32_costs_are_borrowed_and_solved_to_float32_accuracy(problem):
    x, y, M = problem
    M32 = M.astype(np.float32)
    geom32 = DenseCost(M32)
    assert geom32.dtype == "float32" and "float32" in repr(geom32)
    assert DenseCost(M).dtype == "float64"
    assert DenseCost(M, dtype="float32").dtype == "float32"
    solver = Sinkhorn(0.01, threshold=1e-9)
    out32 = solver.solve(LinearProblem(geom32))
    out64 = solver.solve(LinearProblem(DenseCost(M32.astype(np.float64))))
    assert out32.converged and out64.converged
    # The same float32 cost read in f32 or widened to f64: the potentials agree to the
    # sweeps' float32 rounding (a few 1e-6 of the largest cost), the costs far better.
    assert np.abs(out32.f - out64.f).max() < 5e-6
    assert abs(out32.reg_ot_cost - out64.reg_ot_cost) < 1e-7
    # The POT face keeps float32 too, and agrees with POT's float64 answer.
    got = otters.sinkhorn2([], [], M32, 0.01, stopThr=1e-9)
    want = ot.sinkhorn2(np.full(120, 1 / 120), np.full(90, 1 / 90), M, 0.01, method="sinkhorn_log", stopThr=1e-12,
                        numItermax=100000)
    assert got == pytest.approx(float(want), rel=1e-5)


def test_float32_point_clouds(problem):
    x, y, _ = problem
    # float32 tiles put a floor near 1e-8 under the marginal error: a 1e-7 target.
    solver = Sinkhorn(0.05, threshold=1e-7)
    pc32 = PointCloud(x, y, dtype="float32")
    assert pc32.dtype == "float32" and PointCloud(x, y).dtype == "float64"
    out32 = solver.solve(LinearProblem(pc32))
    out64 = solver.solve(LinearProblem(PointCloud(x, y)))
    scale = PointCloud(x, y).cost_matrix().max()
    assert np.abs(out32.f - out64.f).max() < 5e-6 * scale
    assert out32.reg_ot_cost == pytest.approx(out64.reg_ot_cost, rel=1e-6)
    # Below the float32 floor the warning says why.
    with pytest.warns(otters.ConvergenceWarning, match="float32 cost limits"):
        Sinkhorn(0.05, threshold=1e-12, max_iterations=50).solve(LinearProblem(pc32))
    for bad in ("float16", "double"):
        with pytest.raises(otters.InvalidInputError) as info:
            PointCloud(x, y, dtype=bad)
        assert info.value.argument == "dtype"
    with pytest.raises(otters.InvalidInputError) as info:
        DenseCost(np.ones((3, 3)), dtype="int8")
    assert info.value.argument == "dtype"


def test_sinkhorn2_with_columns_is_one_batch_equal_to_single_solves(problem):
    _, _, M = problem
    rng = np.random.default_rng(3)
    B = rng.uniform(size=(90, 6))
    B /= B.sum(axis=0)
    a = np.full(120, 1 / 120)
    batched = otters.sinkhorn2(a, B, M, 0.02, stopThr=1e-9)
    singles = np.array([otters.sinkhorn2(a, B[:, k], M, 0.02, stopThr=1e-9) for k in range(6)])
    np.testing.assert_array_equal(batched, singles)  # bit for bit
    pot = ot.sinkhorn2(a, B, M, 0.02, stopThr=1e-12, numItermax=100000)
    np.testing.assert_allclose(batched, pot, rtol=1e-6)
    # POT's sinkhorn(a, B) returns the k costs too.
    np.testing.assert_array_equal(otters.sinkhorn(a, B, M, 0.02, stopThr=1e-9), batched)
    costs, log = otters.sinkhorn2(a, B, M, 0.02, stopThr=1e-9, log=True)
    assert log["u"].shape == (120, 6) and log["v"].shape == (90, 6) and log["converged"].all()
    plan = np.exp(log["log_u"][:, 2][:, None] + log["log_v"][:, 2][None, :] - M / 0.02)
    np.testing.assert_allclose(plan.sum(axis=0), B[:, 2], atol=1e-8)
    # A warm start from the batch's own log: (n, k) and (m, k) log-scalings, as POT's.
    warm, wlog = otters.sinkhorn2(a, B, M, 0.02, stopThr=1e-9, log=True, warmstart=(log["log_u"], log["log_v"]))
    np.testing.assert_allclose(warm, batched, rtol=1e-9)
    assert wlog["niter"].max() <= 2 < log["niter"].min()
    with pytest.raises(otters.InvalidInputError) as info:
        otters.sinkhorn2(a, B[:50], M, 0.02)
    assert info.value.argument == "b"


def test_batched_problems_converge_separately():
    rng = np.random.default_rng(5)
    M = rng.uniform(size=(40, 30))
    B = np.stack([np.full(30, 1 / 30), rng.dirichlet(np.full(30, 0.05))])
    solver = Sinkhorn(0.01, threshold=1e-10)
    outs = solver.solve_batch(DenseCost(M), None, B)
    assert len(outs) == 2 and all(o.converged for o in outs)
    assert outs[0].iterations != outs[1].iterations
    for out, b in zip(outs, B):
        single = solver.solve(LinearProblem(DenseCost(M), None, b))
        assert single.iterations == out.iterations
        np.testing.assert_array_equal(single.f, out.f)
    # A bad problem in a batch is named.
    B[1, 3] = -1.0
    with pytest.raises(otters.InvalidInputError, match="problem 1"):
        solver.solve_batch(DenseCost(M), None, B)


def test_emd2_with_columns_matches_pot(problem):
    _, _, M = problem
    rng = np.random.default_rng(4)
    B = rng.uniform(size=(90, 5))
    B /= B.sum(axis=0)
    a = np.full(120, 1 / 120)
    got = otters.emd2(a, B, M)
    np.testing.assert_allclose(got, ot.emd2(a, B, M), rtol=1e-10)
    np.testing.assert_allclose(got, [otters.emd2(a, B[:, k], M) for k in range(5)], rtol=1e-14)
    costs, logs = otters.emd2(a, B, M, log=True, return_matrix=True)
    assert len(logs) == 5 and logs[3]["G"].shape == (120, 90)
    assert logs[3]["result_code"] == 1


def test_pairwise_histograms_match_the_pot_loop():
    x = np.linspace(0, 1, 60)
    M = (x[:, None] - x[None, :]) ** 2
    rng = np.random.default_rng(9)
    H = rng.dirichlet(np.ones(60), size=6)
    D = otters.pairwise.histograms(M, H, "emd")
    want = np.array([[ot.emd2(H[i], H[j], M) for j in range(6)] for i in range(6)])
    np.testing.assert_allclose(D, want, rtol=1e-10, atol=1e-15)
    S = otters.pairwise.histograms(M, H, "sinkhorn", reg=0.01, threshold=1e-9)
    want = np.array([[ot.sinkhorn2(H[i], H[j], M, 0.01, method="sinkhorn_log", stopThr=1e-13, numItermax=100000)
                      for j in range(6)] for i in range(6)])
    np.testing.assert_allclose(S, want, rtol=1e-6)
    div, log = otters.pairwise.histograms(M, H, reg=0.01, threshold=1e-9, log=True)
    assert log["converged"].all() and np.all(np.diag(div) == 0) and np.all(div[~np.eye(6, dtype=bool)] > 0)
    np.testing.assert_array_equal(div, div.T)
    with pytest.raises(otters.InvalidInputError) as info:
        otters.pairwise.histograms(M, H, "wasserstein")
    assert info.value.argument == "cost"


def test_pairwise_point_clouds_match_the_pot_loop():
    rng = np.random.default_rng(11)
    X = [rng.normal(size=(20 + 3 * k, 2)) + k * 0.4 for k in range(4)]
    D = otters.pairwise.point_clouds(X, cost="emd")
    want = np.array([[ot.emd2([], [], ot.dist(X[i], X[j])) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(D, want, rtol=1e-10, atol=1e-14)
    div = otters.pairwise.point_clouds(X, reg=0.1, threshold=1e-9)
    for i, j in [(0, 1), (1, 3)]:
        single = otters.divergence.sinkhorn_divergence(X[i], X[j], epsilon=0.1, threshold=1e-9)
        assert div[i, j] == pytest.approx(single, rel=1e-12)
    with pytest.raises(otters.InvalidInputError) as info:
        otters.pairwise.point_clouds(X)
    assert info.value.argument == "reg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        otters.pairwise.point_clouds(X, cost="sinkhorn", reg=0.5)
