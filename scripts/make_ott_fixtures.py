#!/usr/bin/env python3
"""Generate the OTT-JAX low-rank fixtures (run by hand, not in CI): low-rank OT
(testdata/ott_lowrank.json) and low-rank GW (testdata/ott_lrgw.json).

Balanced cases and unbalanced ones (KL-relaxed marginals, OTT's non-translation-invariant
variant). Needs ott-jax and jax (the benchmark environment has them: bench/requirements.txt). Each
case runs OTT's `LRSinkhorn` in float64 for a fixed number of outer iterations from a given
feasible start (the deterministic rank-2 mixture of Scetbon et al. 2021), with its Dykstra
projections run far past OTT's default tolerance so that the trajectory is the exact
mirror-descent one; a case is kept only if OTT's factors meet their marginals to 1e-9.
The Rust test (crates/otters/tests/low_rank.rs) runs otters' `LowRankSinkhorn` from the
same start for the same iterations and compares the factors. The low-rank GW cases do the same
with OTT's `LRGromovWasserstein` (square loss; balanced, unbalanced, fused; the two clouds in
spaces of different dimensions), checked by crates/otters/tests/low_rank_gw.rs.

Usage: python scripts/make_ott_fixtures.py
"""

import json
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ott  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.problems.linear import linear_problem  # noqa: E402
from ott.problems.quadratic import quadratic_problem  # noqa: E402
from ott.solvers.linear import sinkhorn_lr  # noqa: E402
from ott.solvers.quadratic import gromov_wasserstein_lr  # noqa: E402

SEED = 20261130
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


def clusters(rng, k, per, dim, shift):
    centres = rng.normal(scale=3.0, size=(k, dim)) + shift
    return np.concatenate([c + 0.3 * rng.normal(size=(per, dim)) for c in centres])


def weights(rng, n, kind):
    if kind == "uniform":
        return np.full(n, 1.0 / n)
    w = rng.uniform(0.2, 1.0, size=n)
    return w / w.sum()


def rank2_start(a, b, r):
    """The deterministic rank-2 start (Scetbon et al. 2021, the formula otters' Rank2 uses)."""
    g = np.full(r, 1.0 / r)
    lam = 0.5 * min(a.min(), b.min(), g.min())

    def ramp(n):
        v = np.arange(1, n + 1, dtype=np.float64)
        return v / v.sum()

    g1 = ramp(r)
    g2 = (g - lam * g1) / (1 - lam)

    def factor(w):
        x1 = ramp(len(w))
        x2 = (w - lam * x1) / (1 - lam)
        return lam * np.outer(x1, g1) + (1 - lam) * np.outer(x2, g2)

    return factor(a), factor(b), g


def case(rng, name, n, m, dim, rank, epsilon, iterations, weight_kind, rho=None, mass_b=1.0):
    """rho: KL strength of both relaxed marginals (OTT's tau = rho / (1 + rho) for low rank,
    run without OTT's translation-invariant variant); None for hard marginals."""
    x = clusters(rng, 4, n // 4, dim, 0.0)[:n]
    y = clusters(rng, 4, m // 4, dim, 1.0)[:m]
    a, b = weights(rng, len(x), weight_kind), weights(rng, len(y), weight_kind)
    q0, r0, g0 = rank2_start(a, b, rank)
    b = b * mass_b
    geom = pointcloud.PointCloud(jnp.asarray(x), jnp.asarray(y), scale_cost="max_cost")
    tau = 1.0 if rho is None else rho / (1.0 + rho)
    prob = linear_problem.LinearProblem(geom, a=jnp.asarray(a), b=jnp.asarray(b), tau_a=tau, tau_b=tau)
    dykstra = {"tolerance": 1e-12, "max_iter": 200_000}
    if rho is None:
        dykstra["min_entry_value"] = 1e-10
    else:
        dykstra["translation_invariant"] = False
    solver = sinkhorn_lr.LRSinkhorn(
        rank=rank, gamma=10.0, epsilon=epsilon, threshold=0.0, min_iterations=iterations,
        max_iterations=iterations, inner_iterations=10, kwargs_dys=dykstra)
    out = solver(prob, init=(jnp.asarray(q0), jnp.asarray(r0), jnp.asarray(g0)))
    q, r, g = (np.asarray(t) for t in (out.q, out.r, out.g))
    marginal = np.abs(q.sum(0) - g).sum() + np.abs(r.sum(0) - g).sum()
    if rho is None:
        marginal += np.abs(q.sum(1) - a).sum() + np.abs(r.sum(1) - b).sum()
    if not np.isfinite(marginal) or marginal > 1e-9:
        print(f"skip {name}: OTT's marginal error {marginal:.2e}")
        return None
    done = int(np.sum(np.asarray(out.errors) != -1)) * 10
    if done != iterations:
        print(f"skip {name}: OTT ran {done} iterations, not {iterations}")
        return None
    cost = float(out.primal_cost)
    print(f"{name}: cost {cost:.6f}, marginal error {marginal:.1e}")
    return {"name": name, "x": x.tolist(), "y": y.tolist(), "a": a.tolist(), "b": b.tolist(),
            "rank": rank, "epsilon": epsilon, "rho": rho, "gamma": 10.0, "iterations": iterations,
            "q0": q0.tolist(), "r0": r0.tolist(), "g0": g0.tolist(),
            "q": q.tolist(), "r": r.tolist(), "g": g.tolist(), "cost": cost}


def max_sq_distance(x):
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return float(d.max())


def gw_case(rng, name, n, m, dims, rank, epsilon, iterations, weight_kind, rho=None, mass_b=1.0,
            fused_penalty=None):
    """Low-rank GW between a cloud in dims[0] and one in dims[1] (square loss, costs divided
    by their largest entry, given to both libraries as the number); fused_penalty adds a
    squared-Euclidean feature cost (OTT's convention: (fp·lin + quad)/(1 + fp))."""
    x = clusters(rng, 4, n // 4, dims[0], 0.0)[:n]
    y = clusters(rng, 4, m // 4, dims[1], 1.0)[:m]
    a, b = weights(rng, len(x), weight_kind), weights(rng, len(y), weight_kind)
    q0, r0, g0 = rank2_start(a, b, rank)
    b = b * mass_b
    sx, sy = max_sq_distance(x), max_sq_distance(y)
    geom_xx = pointcloud.PointCloud(jnp.asarray(x), scale_cost=sx)
    geom_yy = pointcloud.PointCloud(jnp.asarray(y), scale_cost=sy)
    fx = fy = None
    kwargs = {}
    if fused_penalty is not None:
        fx, fy = rng.normal(size=(len(x), 2)), rng.normal(size=(len(y), 2)) + 0.5
        sxy = float(((fx[:, None, :] - fy[None, :, :]) ** 2).sum(-1).max())
        kwargs = {"geom_xy": pointcloud.PointCloud(jnp.asarray(fx), jnp.asarray(fy), scale_cost=sxy),
                  "fused_penalty": fused_penalty}
    tau = 1.0 if rho is None else rho / (1.0 + rho)
    prob = quadratic_problem.QuadraticProblem(
        geom_xx, geom_yy, a=jnp.asarray(a), b=jnp.asarray(b), tau_a=tau, tau_b=tau, **kwargs)
    dykstra = {"tolerance": 1e-12, "max_iter": 200_000}
    if rho is None:
        dykstra["min_entry_value"] = 1e-10
    else:
        dykstra["translation_invariant"] = False
    solver = gromov_wasserstein_lr.LRGromovWasserstein(
        rank=rank, gamma=10.0, epsilon=epsilon, threshold=0.0, min_iterations=iterations,
        max_iterations=iterations, inner_iterations=10, kwargs_dys=dykstra)
    out = solver(prob, init=(jnp.asarray(q0), jnp.asarray(r0), jnp.asarray(g0)))
    q, r, g = (np.asarray(t) for t in (out.q, out.r, out.g))
    marginal = np.abs(q.sum(0) - g).sum() + np.abs(r.sum(0) - g).sum()
    if rho is None:
        marginal += np.abs(q.sum(1) - a).sum() + np.abs(r.sum(1) - b).sum()
    if not np.isfinite(marginal) or marginal > 1e-9:
        print(f"skip {name}: OTT's marginal error {marginal:.2e}")
        return None
    done = int(np.sum(np.asarray(out.errors) != -1)) * 10
    if done != iterations:
        print(f"skip {name}: OTT ran {done} iterations, not {iterations}")
        return None
    cost = float(out.primal_cost)
    # The GW loss by brute force on the returned plan (independent of both libraries).
    cx = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1) / sx
    cy = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1) / sy
    plan = (q / g) @ r.T
    p, pt = plan.sum(1), plan.sum(0)
    brute = p @ (cx ** 2) @ p + pt @ (cy ** 2) @ pt - 2 * np.sum((cx @ plan @ cy) * plan)
    if fused_penalty is not None:
        cxy = ((fx[:, None, :] - fy[None, :, :]) ** 2).sum(-1) / sxy
        alpha = fused_penalty / (1 + fused_penalty)
        brute = alpha * g.sum() * np.sum(cxy * plan) + (1 - alpha) * brute
    if abs(brute - cost) > 1e-10 * max(1.0, abs(cost)):
        print(f"skip {name}: OTT's cost {cost} is not the brute-force {brute}")
        return None
    print(f"{name}: GW cost {cost:.6f}, marginal error {marginal:.1e}")
    out = {"name": name, "x": x.tolist(), "y": y.tolist(), "scale_x": sx, "scale_y": sy,
           "a": a.tolist(), "b": b.tolist(), "rank": rank, "epsilon": epsilon, "rho": rho,
           "gamma": 10.0, "iterations": iterations, "fused_penalty": fused_penalty,
           "q0": q0.tolist(), "r0": r0.tolist(), "g0": g0.tolist(),
           "q": q.tolist(), "r": r.tolist(), "g": g.tolist(), "cost": cost}
    if fused_penalty is not None:
        out.update({"fx": fx.tolist(), "fy": fy.tolist(), "scale_xy": sxy})
    return out


def main():
    rng = np.random.default_rng(SEED)
    specs = [
        ("rank3_eps0_uniform_40x36", 40, 36, 2, 3, 0.0, 30, "uniform"),
        ("rank5_eps0_random_weights_48x40", 48, 40, 3, 5, 0.0, 30, "random"),
        ("rank4_eps0.05_uniform_44x44", 44, 44, 2, 4, 0.05, 30, "uniform"),
        ("rank3_eps0_uniform_36x32", 36, 32, 2, 3, 0.0, 20, "uniform"),
    ]
    unbalanced = [
        ("unbalanced_rho1_rank3_eps0_40x36_mass1.3", 40, 36, 2, 3, 0.0, 30, "random", 1.0, 1.3),
        ("unbalanced_rho0.1_rank4_eps0.02_32x40", 32, 40, 2, 4, 0.02, 30, "uniform", 0.1, 1.0),
    ]
    cases = [c for spec in specs if (c := case(rng, *spec))]
    cases += [c for spec in unbalanced if (c := case(rng, *spec[:-2], rho=spec[-2], mass_b=spec[-1]))]
    meta = {"generator": "scripts/make_ott_fixtures.py", "seed": SEED, "ott_version": ott.__version__,
            "jax_version": jax.__version__, "cases": cases}
    TESTDATA.mkdir(exist_ok=True)
    (TESTDATA / "ott_lowrank.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} low-rank cases")

    rng = np.random.default_rng(SEED + 1)
    gw_specs = [
        dict(name="lrgw_rank3_eps0_uniform_40x36_2d_3d", n=40, m=36, dims=(2, 3), rank=3,
             epsilon=0.0, iterations=30, weight_kind="uniform"),
        dict(name="lrgw_rank2_eps0_random_32x30_2d_3d", n=32, m=30, dims=(2, 3), rank=2,
             epsilon=0.0, iterations=20, weight_kind="random"),
        dict(name="lrgw_rank4_eps0.01_random_44x40_3d_2d", n=44, m=40, dims=(3, 2), rank=4,
             epsilon=0.01, iterations=30, weight_kind="random"),
        dict(name="lrgw_unbalanced_rho1_rank3_36x40_mass1.2", n=36, m=40, dims=(2, 2), rank=3,
             epsilon=0.0, iterations=30, weight_kind="random", rho=1.0, mass_b=1.2),
        dict(name="lrgw_fused_fp1_rank3_40x40", n=40, m=40, dims=(2, 3), rank=3, epsilon=0.0,
             iterations=30, weight_kind="uniform", fused_penalty=1.0),
        dict(name="lrgw_fused_unbalanced_rho2_rank4_40x32", n=40, m=32, dims=(3, 2), rank=4,
             epsilon=0.0, iterations=20, weight_kind="uniform", rho=2.0, mass_b=0.8,
             fused_penalty=0.5),
    ]
    gw_cases = [c for spec in gw_specs if (c := gw_case(rng, **spec))]
    meta = {"generator": "scripts/make_ott_fixtures.py", "seed": SEED + 1, "ott_version": ott.__version__,
            "jax_version": jax.__version__, "cases": gw_cases}
    (TESTDATA / "ott_lrgw.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(gw_cases)} low-rank GW cases")


if __name__ == "__main__":
    main()
