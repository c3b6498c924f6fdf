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
    with pytest.raises(ValueError, match="balanced"):
        otters.LowRankSinkhorn(2).solve(otters.LinearProblem(otters.PointCloud(x, x), rho_a=1.0, rho_b=1.0))
    with pytest.raises(ValueError, match="kmeans"):
        otters.lowrank.lowrank_sinkhorn(x, x, rank=2, init="kmeans")
    with pytest.raises(otters.InvalidInputError) as info:
        otters.lowrank.lowrank_sinkhorn(x, np.full((20, 2), np.nan), rank=2)
    assert info.value.argument == "y"
