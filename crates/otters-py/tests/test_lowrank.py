"""Low-rank OT: near the exact cost on clustered data (as POT's), the POT face equal to the
object face, linear-time cost = cost of the materialized plan, and bad inputs."""

import numpy as np
import ot
import pytest

import otters


def clusters(k=4, per=40, seed=0, shift=0.0, sigma=0.05):
    rng = np.random.default_rng(seed)
    angles = np.repeat(np.arange(k) * 2 * np.pi / k + shift, per)
    centres = 3 * np.stack([np.cos(angles), np.sin(angles)], 1)
    return centres + sigma * rng.normal(size=(k * per, 2)) + shift


@pytest.mark.filterwarnings("ignore:Dykstra did not converge")
def test_low_rank_is_near_exact_on_clustered_data_like_pot():
    x, y = clusters(seed=1), clusters(seed=2, shift=0.3)
    M = ot.dist(x, y)
    M /= M.max()
    exact = ot.emd2([], [], M)
    Q, R, g, log = otters.lowrank.lowrank_sinkhorn(x, y, rank=4, init="deterministic", stopThr=1e-5, log=True)
    P = (Q / g) @ R.T
    assert log["converged"]
    assert abs((P * M).sum() - log["value_linear"]) < 1e-12
    assert exact * (1 - 1e-4) <= log["value_linear"] <= 1.02 * exact
    Qk, Rk, gk, logk = otters.lowrank.lowrank_sinkhorn(x, y, rank=4, init="kmeans", stopThr=1e-5, log=True)
    assert logk["converged"] and exact * (1 - 1e-4) <= logk["value_linear"] <= 1.02 * exact
    Qp, Rp, gp = ot.lowrank.lowrank_sinkhorn(x, y, rank=4, init="deterministic")
    pot_cost = ((Qp / gp) @ Rp.T * M).sum()
    assert log["value_linear"] <= 1.02 * pot_cost
    np.testing.assert_allclose(P.sum(1), np.full(160, 1 / 160), atol=1e-5)


def test_object_face_equals_pot_face_and_apply_matches_plan():
    x, y = clusters(seed=3), clusters(seed=4, shift=0.2)
    geom = otters.PointCloud(x, y, scale_cost="max")
    out = otters.LowRankSinkhorn(4, init="rank2", inner_threshold=1e-5).solve(otters.LinearProblem(geom))
    Q, R, g = otters.lowrank.lowrank_sinkhorn(x, y, rank=4, init="deterministic", stopThr=1e-5)
    np.testing.assert_allclose(out.q, Q, atol=1e-14)
    v = np.random.default_rng(0).normal(size=(160, 3))
    np.testing.assert_allclose(out.apply(v), out.plan() @ v, atol=1e-12)
    np.testing.assert_allclose(out.apply(v, axis=1), out.plan().T @ v, atol=1e-12)


def test_bad_low_rank_inputs():
    x = clusters(per=5)
    with pytest.raises(otters.InvalidInputError) as info:
        otters.LowRankSinkhorn(0).solve(otters.LinearProblem(otters.PointCloud(x, x)))
    assert info.value.argument == "rank"
    with pytest.raises(otters.InvalidInputError) as info:
        otters.LowRankSinkhorn(2, gamma=-1).solve(otters.LinearProblem(otters.PointCloud(x, x)))
    assert info.value.argument == "gamma"
    with pytest.raises(otters.InvalidInputError) as info:
        otters.LowRankSinkhorn(2).solve(
            otters.LinearProblem(otters.PointCloud(x, x), rho_a=1.0, rho_b=1.0, penalty="tv"))
    assert info.value.argument == "problem"
    n = len(x)
    g = np.full(2, 0.5)
    q = np.full((n, 2), 0.5 / n)
    for bad in [(q[:, :1], q, g), (q * 2, q, g), (q, q, np.array([1.0, 0.0])), (np.full_like(q, np.nan), q, g)]:
        with pytest.raises(otters.InvalidInputError) as info:
            otters.LowRankSinkhorn(2).solve(otters.LinearProblem(otters.PointCloud(x, x)), init=bad)
        assert info.value.argument == "init"
    with pytest.raises(ValueError, match="kmeans"):
        otters.lowrank.lowrank_sinkhorn(x, x, rank=2, init="spectral")
    with pytest.raises(otters.InvalidInputError) as info:
        otters.LowRankSinkhorn(2, init="kmeans").solve(otters.LinearProblem(otters.DenseCost(ot.dist(x, x))))
    assert info.value.argument == "init"
    with pytest.raises(otters.InvalidInputError) as info:
        otters.lowrank.lowrank_sinkhorn(x, np.full((20, 2), np.nan), rank=2)
    assert info.value.argument == "y"


def test_unbalanced_low_rank_and_a_given_start():
    """KL-relaxed marginals: a huge rho gives the balanced factors; a moderate rho against a
    target of twice the mass transports a mass in between. A given start is used as is: the
    rank-2 start passed explicitly reproduces init="rank2"."""
    x, y = clusters(k=3, per=20, seed=5), clusters(k=3, per=20, seed=6, shift=0.2)
    geom = otters.PointCloud(x, y, scale_cost="max")
    solver = otters.LowRankSinkhorn(3, init="rank2")
    balanced = solver.solve(otters.LinearProblem(geom))
    huge = solver.solve(otters.LinearProblem(geom, rho_a=1e9, rho_b=1e9))
    np.testing.assert_allclose(huge.q, balanced.q, atol=1e-6)
    heavy = solver.solve(otters.LinearProblem(geom, np.full(60, 1 / 60), np.full(60, 2 / 60), rho_a=10.0, rho_b=10.0))
    assert heavy.converged and 1.2 < heavy.g.sum() < 1.45
    np.testing.assert_allclose(heavy.q.sum(0), heavy.g, atol=1e-12)
    # The first iterate from the rank-2 start equals the first iterate of init="rank2".
    one = otters.LowRankSinkhorn(3, init="rank2", max_iterations=1, min_iterations=1, warn=False)
    first = one.solve(otters.LinearProblem(geom))
    r0 = otters.LowRankSinkhorn(3, max_iterations=1, min_iterations=1, warn=False)
    lam = 0.5 / 60
    ramp = np.arange(1, 61) / np.arange(1, 61).sum()
    g1 = np.arange(1, 4) / 6.0
    g0 = np.full(3, 1 / 3)
    g2 = (g0 - lam * g1) / (1 - lam)
    x2 = (np.full(60, 1 / 60) - lam * ramp) / (1 - lam)
    start = lam * np.outer(ramp, g1) + (1 - lam) * np.outer(x2, g2)
    given = r0.solve(otters.LinearProblem(geom), init=(start, start, g0))
    np.testing.assert_allclose(given.q, first.q, atol=1e-14)


def test_a_cost_given_by_its_factors():
    """cost_fn="bilinear": C = a @ b.T from the factors; the squared-Euclidean factors give the
    point cloud's cost and the same low-rank solution."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    a = np.column_stack([(x * x).sum(1), np.ones(40), -2 * x])
    b = np.column_stack([np.ones(30), (y * y).sum(1), y])
    factored = otters.PointCloud(a, b, cost_fn="bilinear", scale_cost="max")
    cloud = otters.PointCloud(x, y, scale_cost="max")
    np.testing.assert_allclose(factored.cost_matrix(), cloud.cost_matrix(), atol=1e-12)
    solver = otters.LowRankSinkhorn(3, init="rank2")
    out_f = solver.solve(otters.LinearProblem(factored))
    out_c = solver.solve(otters.LinearProblem(cloud))
    np.testing.assert_allclose(out_f.q, out_c.q, atol=1e-9)
    with pytest.raises(otters.InvalidInputError) as info:
        otters.PointCloud(a, b[:, :3], cost_fn="bilinear")
    assert info.value.argument == "y"


def test_sampled_low_rank_factors_of_a_general_cost():
    """to_low_rank: factors C ≈ A·Bᵀ from sampled rows and columns (Indyk et al. 2019, OTT's
    to_LRCGeometry). Exact at rank d + 2 for the squared Euclidean cost; on Euclidean
    distances the error falls with the rank and low-rank OT on the factors lands within 3%
    of the exact geometry; a stored (scaled) cost gives the factors of the scaled matrix."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(120, 3)) + 1.0, rng.normal(size=(90, 3))
    sq = otters.PointCloud(x, y, scale_cost="max")
    exact = sq.to_low_rank(5, tol=0.1, seed=1)
    assert isinstance(exact, otters.PointCloud) and "bilinear" in repr(exact)
    assert exact.shape == (120, 90) and exact.x.shape == (120, 5) and exact.y.shape == (90, 5)
    np.testing.assert_allclose(exact.cost_matrix(), sq.cost_matrix(), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sq.to_low_rank(5, tol=0.1, seed=1).x, exact.x)

    u, v = rng.uniform(size=(300, 2)), rng.uniform(size=(250, 2))
    dist = otters.PointCloud(u, v, cost_fn="euclidean", scale_cost="max")
    C = dist.cost_matrix()
    errors = []
    for rank in (2, 4, 8, 16):
        approx = dist.to_low_rank(rank, tol=0.05)
        errors.append(np.linalg.norm(approx.cost_matrix() - C) / np.linalg.norm(C))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.02, errors
    solver = otters.LowRankSinkhorn(10, init="rank2")
    on_exact = solver.solve(otters.LinearProblem(dist))
    on_sampled = solver.solve(otters.LinearProblem(dist.to_low_rank(16, tol=0.05)))
    true_cost = (on_sampled.plan() * C).sum()
    assert abs(true_cost - on_exact.cost) < 0.03 * on_exact.cost
    assert abs(on_sampled.cost - on_exact.cost) < 0.03 * on_exact.cost

    stored = otters.DenseCost(C * 7.0, scale_cost=7.0)
    from_dense = stored.to_low_rank(16, tol=0.05)
    assert np.linalg.norm(from_dense.cost_matrix() - C) / np.linalg.norm(C) < 0.02


@pytest.mark.parametrize("kwargs,argument", [
    ({"rank": 0}, "rank"),
    ({"rank": -1}, "rank"),
    ({"rank": 11}, "rank"),
    ({"rank": 2, "tol": 0.0}, "tol"),
    ({"rank": 2, "tol": 2.0}, "tol"),
    ({"rank": 2, "tol": float("nan")}, "tol"),
])
def test_sampled_low_rank_bad_arguments_name_themselves(kwargs, argument):
    geom = otters.PointCloud(np.arange(20.0).reshape(10, 2), np.arange(24.0).reshape(12, 2), cost_fn="euclidean")
    with pytest.raises(otters.InvalidInputError) as info:
        geom.to_low_rank(**kwargs)
    assert info.value.argument == argument


def test_sampled_low_rank_refuses_a_forbidden_pair():
    M = np.ones((6, 5))
    M[:, 2] = np.inf
    with pytest.raises(otters.InvalidInputError) as info:
        otters.DenseCost(M).to_low_rank(2, tol=0.5)
    assert info.value.argument == "geom"
