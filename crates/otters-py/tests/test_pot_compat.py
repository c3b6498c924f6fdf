"""otters against POT (the oracle) on random problems and on the shared fixtures."""

import json
from pathlib import Path

import numpy as np
import ot
import pytest

import otters

FIXTURES = Path(__file__).resolve().parents[3] / "testdata" / "pot_sinkhorn.json"


def problem(seed, n, m, kind):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 0.5
    M = ot.dist(x, y) if kind == "sqeuclidean" else rng.uniform(size=(n, m))
    a = rng.uniform(0.1, 1.0, n)
    b = rng.uniform(0.1, 1.0, m)
    return a / a.sum(), b / b.sum(), M


@pytest.mark.parametrize("seed,n,m,kind,reg_rel", [
    (0, 10, 12, "sqeuclidean", 1.0),
    (1, 40, 30, "sqeuclidean", 0.1),
    (2, 25, 25, "raw", 0.05),
    (3, 64, 50, "sqeuclidean", 0.02),
])
def test_sinkhorn_matches_pot_sinkhorn_log(seed, n, m, kind, reg_rel):
    a, b, M = problem(seed, n, m, kind)
    reg = reg_rel * np.median(M)
    want = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=100000, stopThr=1e-13)
    got = otters.sinkhorn(a, b, M, reg, numItermax=100000, stopThr=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12 * want.max())
    cost = otters.sinkhorn2(a, b, M, reg, numItermax=100000, stopThr=1e-12)
    assert cost == pytest.approx(float(np.sum(want * M)), rel=1e-8)


def test_empty_weights_mean_uniform_like_pot():
    _, _, M = problem(4, 7, 9, "raw")
    got = otters.sinkhorn([], [], M, 0.1)
    want = ot.sinkhorn([], [], M, 0.1, method="sinkhorn_log", stopThr=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_log_dict_has_potentials_and_trace():
    a, b, M = problem(5, 8, 6, "sqeuclidean")
    P, log = otters.sinkhorn(a, b, M, 0.5, log=True)
    assert log["converged"] and log["niter"] == len(log["err"]) > 0
    rebuilt = np.exp(log["log_u"][:, None] + log["log_v"][None, :] - M / 0.5) * np.outer(a, b)
    np.testing.assert_allclose(rebuilt, P, rtol=1e-12)


def test_small_reg_stays_finite_where_pot_kernel_mode_fails():
    a, b, M = problem(6, 50, 50, "sqeuclidean")
    reg = 1e-3 * M.max()
    with np.errstate(all="ignore"), pytest.warns(UserWarning):
        ot.sinkhorn(a, b, M, reg, method="sinkhorn", numItermax=200)
    P = otters.sinkhorn(a, b, M, reg, numItermax=20000, stopThr=1e-8)
    assert np.isfinite(P).all()
    assert np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum() < 1e-8


def test_every_fixture_case_from_the_rust_side_matches():
    data = json.loads(FIXTURES.read_text())
    checked = 0
    for case in data["cases"]:
        if case["kind"] != "balanced":
            continue
        a, b = np.array(case["a"]), np.array(case["b"])
        if "cost" in case:
            M = np.array(case["cost"])
        else:
            M = ot.dist(np.array(case["x"]), np.array(case["y"]), case["cost_fn"])
        eps = case["epsilon"]
        want = np.exp(np.array(case["log_u"])[:, None] + np.array(case["log_v"])[None, :] - M / eps) * np.outer(a, b)
        got = otters.sinkhorn(a, b, M, eps, numItermax=200000, stopThr=1e-12)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9 * want.max(), err_msg=case["name"])
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("seed,n,m,uniform", [(0, 1, 1, True), (1, 20, 30, False), (2, 50, 50, True), (3, 64, 40, False)])
def test_emd_matches_pot(seed, n, m, uniform):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    M = ot.dist(x, y)
    a = np.full(n, 1.0 / n) if uniform else rng.dirichlet(np.ones(n))
    b = np.full(m, 1.0 / m) if uniform else rng.dirichlet(np.ones(m))
    want = ot.emd2(a, b, M)
    assert otters.emd2(a, b, M) == pytest.approx(want, rel=1e-9, abs=1e-12)
    P, log = otters.emd(a, b, M, log=True)
    np.testing.assert_allclose(P.sum(1), a, atol=1e-12)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-12)
    assert float(np.sum(P * M)) == pytest.approx(want, rel=1e-9, abs=1e-12)
    # The certificate: dual feasibility and zero gap.
    assert (log["u"][:, None] + log["v"][None, :] <= M + 1e-9).all()
    assert float(a @ log["u"] + b @ log["v"]) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_wasserstein_1d_matches_pot_and_refuses_unequal_masses():
    rng = np.random.default_rng(7)
    u, v = rng.normal(size=100), rng.normal(size=70) + 1
    wu, wv = rng.dirichlet(np.ones(100)), rng.dirichlet(np.ones(70))
    for p in [1, 2, 1.5]:
        assert otters.wasserstein_1d(u, v, wu, wv, p=p) == pytest.approx(ot.wasserstein_1d(u, v, wu, wv, p=p), rel=1e-10)
    assert otters.wasserstein_1d(u, v) == pytest.approx(ot.wasserstein_1d(u, v), rel=1e-10)
    with pytest.raises(otters.InvalidInputError, match="sum"):
        otters.wasserstein_1d([0.0, 1.0], [0.5], [1.0, 3.0], [2.0])
