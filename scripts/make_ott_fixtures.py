#!/usr/bin/env python3
"""Generate the OTT-JAX low-rank OT fixtures (testdata/ott_lowrank.json; run by hand, not in CI).

Balanced cases and unbalanced ones (KL-relaxed marginals, OTT's non-translation-invariant
variant). Needs ott-jax and jax (the benchmark environment has them: bench/requirements.txt). Each
case runs OTT's `LRSinkhorn` in float64 for a fixed number of outer iterations from a given
feasible start (the deterministic rank-2 mixture of Scetbon et al. 2021), with its Dykstra
projections run far past OTT's default tolerance so that the trajectory is the exact
mirror-descent one; a case is kept only if OTT's factors meet their marginals to 1e-9.
The Rust test (crates/otters/tests/low_rank.rs) runs otters' `LowRankSinkhorn` from the
same start for the same iterations and compares the factors.

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
from ott.solvers.linear import sinkhorn_lr  # noqa: E402

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


if __name__ == "__main__":
    main()
