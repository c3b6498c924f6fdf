"""Low-rank GW: the object face replays OTT-JAX's trajectory from the same start (fixture),
the POT face reports the GW loss of its own plan and recovers clusters as POT does, and bad
inputs name their argument."""

import json
from pathlib import Path

import numpy as np
import ot
import pytest

import otters

TESTDATA = Path(__file__).resolve().parents[3] / "testdata"


def brute_gw(cx, cy, plan):
    p, q = plan.sum(1), plan.sum(0)
    return p @ (cx ** 2) @ p + q @ (cy ** 2) @ q - 2 * np.sum((cx @ plan @ cy.T) * plan)


def test_object_face_replays_ott_from_the_same_start():
    cases = json.loads((TESTDATA / "ott_lrgw.json").read_text())["cases"]
    case = next(c for c in cases if c["fused_penalty"] is not None and c["rho"] is None)
    x, y = np.array(case["x"]), np.array(case["y"])
    gx = otters.PointCloud(x, x, scale_cost=case["scale_x"])
    gy = otters.PointCloud(y, y, scale_cost=case["scale_y"])
    gxy = otters.PointCloud(np.array(case["fx"]), np.array(case["fy"]), scale_cost=case["scale_xy"])
    problem = otters.QuadraticProblem(gx, gy, case["a"], case["b"], geom_xy=gxy,
                                      fused_penalty=1 / (1 + case["fused_penalty"]))
    solver = otters.LowRankGromovWasserstein(case["rank"], epsilon=case["epsilon"], threshold=0.0,
                                             max_iterations=case["iterations"], min_iterations=case["iterations"],
                                             inner_threshold=1e-12, warn=False)
    out = solver.solve(problem, init=(np.array(case["q0"]), np.array(case["r0"]), np.array(case["g0"])))
    np.testing.assert_allclose(out.q, np.array(case["q"]), atol=1e-7 * np.max(case["q"]))
    np.testing.assert_allclose(out.g, np.array(case["g"]), atol=1e-7)
    assert abs(out.cost - case["cost"]) <= 1e-7 * abs(case["cost"])


def three_clusters(seed, rotate=0.0, dim=2):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 8.0]])
    x = np.repeat(centres, [30, 40, 50], axis=0) + 0.3 * rng.normal(size=(120, 2))
    c, s = np.cos(rotate), np.sin(rotate)
    x = x @ np.array([[c, -s], [s, c]])
    if dim == 3:
        x = np.concatenate([x, np.full((120, 1), 2.0)], axis=1)
    return x


def test_pot_face_reports_the_loss_of_its_plan_and_matches_clusters_like_pot():
    xs, xt = three_clusters(0), three_clusters(1, rotate=0.7, dim=3)
    labels = np.repeat([0, 1, 2], [30, 40, 50])
    def cost(x):
        # POT's rescaled costs: each factor divided by the square root of its largest entry.
        A = np.concatenate([(x ** 2).sum(1, keepdims=True), np.ones((len(x), 1)), -2 * x], 1)
        B = np.concatenate([np.ones((len(x), 1)), (x ** 2).sum(1, keepdims=True), x], 1)
        return (A / np.sqrt(A.max())) @ (B / np.sqrt(B.max())).T
    cx, cy = cost(xs), cost(xt)
    for seed in range(3):
        Q, R, g, log = otters.gromov.lowrank_gromov_wasserstein_samples(xs, xt, rank=3, seed_init=seed,
                                                                         stopThr=1e-8, stopThr_dykstra=1e-9,
                                                                         log=True)
        P = (Q / g) @ R.T
        np.testing.assert_allclose(P.sum(1), np.full(120, 1 / 120), atol=1e-5)
        np.testing.assert_allclose(P.sum(0), np.full(120, 1 / 120), atol=1e-5)
        assert log["converged"]
        assert abs(log["value"] - brute_gw(cx, cy, P)) <= 1e-6 * log["value"]
        matched = sum(P[labels == k][:, labels == k].sum() for k in range(3))
        Qp, Rp, gp = ot.gromov.lowrank_gromov_wasserstein_samples(xs, xt, rank=3, seed_init=seed, stopThr=1e-8,
                                                                  warn=False)
        pot_value = brute_gw(cx, cy, (Qp / gp) @ Rp.T)
        assert matched > 0.99, (seed, matched)
        assert log["value"] <= 1.001 * pot_value, (seed, log["value"], pot_value)


def test_bad_inputs_name_their_argument():
    x = three_clusters(2)
    geom = otters.PointCloud(x, x, scale_cost="max")
    with pytest.raises(otters.InvalidInputError, match="problem"):
        otters.LowRankGromovWasserstein(3).solve(otters.QuadraticProblem(geom, geom, loss="kl"))
    with pytest.raises(otters.InvalidInputError, match="rho_a"):
        otters.LowRankGromovWasserstein(3, rho=(-1.0, 1.0)).solve(otters.QuadraticProblem(geom, geom))
    with pytest.raises(otters.InvalidInputError, match="init"):
        otters.LowRankGromovWasserstein(3, init="kmeans").solve(otters.QuadraticProblem(geom, geom))
    with pytest.raises(ValueError, match="gamma_init"):
        otters.gromov.lowrank_gromov_wasserstein_samples(x, x, rank=3, gamma_init="theory")
    with pytest.warns(otters.ConvergenceWarning):
        otters.LowRankGromovWasserstein(3, max_iterations=3).solve(otters.QuadraticProblem(geom, geom))
