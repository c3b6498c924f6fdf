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
    # POT's convention: P = exp(log_u + log_v - M / reg), with the weights inside log_u, log_v.
    rebuilt = np.exp(log["log_u"][:, None] + log["log_v"][None, :] - M / 0.5)
    np.testing.assert_allclose(rebuilt, P, rtol=1e-12)
    want, want_log = ot.sinkhorn(a, b, M, 0.5, method="sinkhorn_log", stopThr=1e-13, log=True)
    np.testing.assert_allclose(np.exp(log["log_u"] - want_log["log_u"]), np.exp(log["log_u"][0] - want_log["log_u"][0]), rtol=1e-6)


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


def test_every_sinkhorn_method_name_is_the_same_log_domain_solver():
    a, b, M = problem(8, 12, 9, "sqeuclidean")
    reg = 0.1 * np.median(M)
    base = otters.sinkhorn(a, b, M, reg, stopThr=1e-12, numItermax=10000)
    for method in otters.SINKHORN_METHODS:
        np.testing.assert_allclose(otters.sinkhorn(a, b, M, reg, method=method, stopThr=1e-12, numItermax=10000), base, atol=1e-10)
    with pytest.raises(ValueError, match="sinkhorn_log"):
        otters.sinkhorn(a, b, M, reg, method="sinkhorn_magic")
    with pytest.raises(TypeError, match="bogus"):
        otters.sinkhorn(a, b, M, reg, bogus=1)
    with pytest.warns(UserWarning, match="print_period"):
        otters.sinkhorn(a, b, M, reg, print_period=5)


def test_warmstart_from_a_previous_log_converges_at_once():
    a, b, M = problem(9, 20, 15, "sqeuclidean")
    reg = 0.05 * np.median(M)
    _, log = otters.sinkhorn(a, b, M, reg, stopThr=1e-11, numItermax=10000, log=True)
    _, again = otters.sinkhorn(a, b, M, reg, stopThr=1e-11, warmstart=(log["log_u"], log["log_v"]), log=True)
    assert again["niter"] <= 2


def test_several_target_histograms_give_several_costs():
    a, b, M = problem(10, 10, 8, "raw")
    B = np.stack([b, np.roll(b, 1)], axis=1)
    costs = otters.sinkhorn2(a, B, M, 0.1)
    want = ot.sinkhorn2(a, B, M, 0.1, method="sinkhorn_log", stopThr=1e-12)
    np.testing.assert_allclose(costs, want, rtol=1e-7)
    np.testing.assert_allclose(otters.emd2(a, B, M), [ot.emd2(a, B[:, k], M) for k in range(2)], rtol=1e-9)


def test_emd_log_and_budget_like_pot():
    a, b, M = problem(11, 15, 10, "raw")
    P, log = otters.emd(a, b, M, log=True)
    assert set(log) >= {"cost", "u", "v", "warning", "result_code"}
    assert log["result_code"] == 1 and log["warning"] is None
    with pytest.warns(otters.ConvergenceWarning, match="numItermax"):
        _, log = otters.emd(a, b, M, numItermax=2, log=True)
    assert log["result_code"] == 3
    cost, log = otters.emd2(a, b, M, log=True, return_matrix=True)
    np.testing.assert_allclose(log["G"], P)


@pytest.mark.parametrize("metric,p", [("sqeuclidean", 1.0), ("euclidean", 1.0), ("cityblock", 1.0), ("minkowski", 1.5)])
def test_emd_1d_matches_pot(metric, p):
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=30), rng.normal(size=20) + 0.5
    a, b = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(20))
    assert otters.emd2_1d(x, y, a, b, metric=metric, p=p) == pytest.approx(ot.emd2_1d(x, y, a, b, metric=metric, p=p), rel=1e-10)
    G = otters.emd_1d(x, y, a, b, metric=metric, p=p)
    np.testing.assert_allclose(G.sum(1), a, atol=1e-14)
    sparse = otters.emd_1d(x, y, a, b, metric=metric, p=p, dense=False)
    np.testing.assert_allclose(sparse.toarray(), G)


def test_wasserstein_1d_on_columns_matches_pot():
    rng = np.random.default_rng(13)
    U, V = rng.normal(size=(40, 3)), rng.normal(size=(25, 3))
    np.testing.assert_allclose(otters.wasserstein_1d(U, V, p=2), ot.wasserstein_1d(U, V, p=2), rtol=1e-10)


def test_sliced_distances_match_pot_on_the_same_projections():
    rng = np.random.default_rng(14)
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(50, 3)) + 1
    P = ot.sliced.get_random_projections(3, 40, seed=0)
    for p in [1, 2]:
        want = ot.sliced_wasserstein_distance(X, Y, n_projections=40, p=p, projections=P)
        assert otters.sliced_wasserstein_distance(X, Y, p=p, projections=P) == pytest.approx(want, rel=1e-10)
        want = ot.max_sliced_wasserstein_distance(X, Y, n_projections=40, p=p, projections=P)
        assert otters.max_sliced_wasserstein_distance(X, Y, p=p, projections=P) == pytest.approx(want, rel=1e-10)
    assert otters.sliced_wasserstein_distance(X, Y, seed=3) == otters.sliced_wasserstein_distance(X, Y, seed=3)
    value, log = otters.sliced_wasserstein_distance(X, Y, n_projections=10, seed=1, log=True)
    assert log["projections"].shape == (3, 10) and log["projected_emds"].shape == (10,)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock", "minkowski", "cosine", "chebyshev"])
def test_dist_matches_pot(metric):
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    kwargs = {"p": 3} if metric == "minkowski" else {}
    np.testing.assert_allclose(otters.dist(x, y, metric=metric, **kwargs), ot.dist(x, y, metric=metric, **kwargs), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(otters.dist(x), ot.dist(x), atol=1e-12)


def generalized_kl(p, q):
    """KL(p|q) = sum p log(p/q) - p + q: the divergence of the unbalanced objective."""
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])) - p.sum() + q.sum())


def unbalanced_objective(P, M, a, b, reg, rho_a, rho_b):
    value = float(np.sum(P * M)) + reg * generalized_kl(P.ravel(), np.outer(a, b).ravel())
    if not np.isinf(rho_a):
        value += rho_a * generalized_kl(P.sum(1), a)
    if not np.isinf(rho_b):
        value += rho_b * generalized_kl(P.sum(0), b)
    return value


@pytest.mark.parametrize("reg_m", [0.5, 5.0, (np.inf, 1.0), (2.0, np.inf)])
def test_unbalanced_sinkhorn_matches_pot(reg_m):
    rng = np.random.default_rng(16)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(15, 2)) + 1
    M = ot.dist(x, y)
    a, b = rng.dirichlet(np.ones(20)), 1.6 * rng.dirichlet(np.ones(15))
    # POT's plain method as the reference: its "sinkhorn_stabilized" stops far from the
    # optimum for reg_m = 5.0 and (2.0, inf) here (objective 13.3 and 1.35 vs 4.04 and 5.32).
    want = ot.unbalanced.sinkhorn_unbalanced(a, b, M, 0.2, reg_m, method="sinkhorn", numItermax=200000, stopThr=1e-15)
    got = otters.unbalanced.sinkhorn_unbalanced(a, b, M, 0.2, reg_m, stopThr=1e-12, numItermax=100000)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12)
    linear = otters.unbalanced.sinkhorn_unbalanced2(a, b, M, 0.2, reg_m, stopThr=1e-12, numItermax=100000)
    assert linear == pytest.approx(float(np.sum(want * M)), rel=1e-7)
    # POT 0.9.7's returnCost="total" drops the mass terms of the KL divergences (its
    # kl_div defaults to mass=False); otters returns the objective its docstring states.
    rho_a, rho_b = (reg_m, reg_m) if np.ndim(reg_m) == 0 else reg_m
    total = otters.unbalanced.sinkhorn_unbalanced2(a, b, M, 0.2, reg_m, stopThr=1e-12, numItermax=100000, returnCost="total")
    assert total == pytest.approx(unbalanced_objective(want, M, a, b, 0.2, rho_a, rho_b), rel=1e-7)
    with pytest.raises(ValueError, match="reg_type"):
        otters.unbalanced.sinkhorn_unbalanced(a, b, M, 0.2, 1.0, reg_type="entropy")


def test_solve_matches_pot_for_exact_entropic_and_unbalanced():
    rng = np.random.default_rng(17)
    x, y = rng.normal(size=(25, 2)), rng.normal(size=(30, 2)) + 0.5
    M = ot.dist(x, y)
    a, b = rng.dirichlet(np.ones(25)), rng.dirichlet(np.ones(30))
    for kwargs in [{}, {"reg": 0.5}, {"reg": 0.5, "unbalanced": 2.0}]:
        want = ot.solve(M, a, b, max_iter=100000, tol=1e-13, **kwargs)
        got = otters.solve(M, a, b, max_iter=100000, tol=1e-12, **kwargs)
        assert got.value_linear == pytest.approx(float(want.value_linear), rel=1e-7), kwargs
        if "unbalanced" in kwargs:
            # POT's value drops the KL mass terms here too; compare with the stated objective.
            rho = kwargs["unbalanced"]
            assert got.value == pytest.approx(unbalanced_objective(want.plan, M, a, b, kwargs["reg"], rho, rho), rel=1e-7)
        else:
            assert got.value == pytest.approx(float(want.value), rel=1e-7), kwargs
        np.testing.assert_allclose(got.plan, want.plan, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(got.marginal_a, want.plan.sum(1), atol=1e-9)
    res = otters.solve_sample(x, y, a, b, reg=0.5, tol=1e-12, max_iter=100000)
    want = ot.solve_sample(x, y, a, b, reg=0.5, max_iter=100000, tol=1e-13)
    assert res.value == pytest.approx(float(want.value), rel=1e-7)
    lazy = otters.solve_sample(x, y, a, b, reg=0.5, lazy=True)
    assert lazy.plan is None
    np.testing.assert_allclose(lazy.apply(np.ones(25), axis=0), res.plan.sum(0), atol=1e-6)
