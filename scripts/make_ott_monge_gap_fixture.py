#!/usr/bin/env python3
"""Generate the OTT-JAX Monge gap fixture testdata/ott_monge_gap.json (run by hand, not in CI).

Each case evaluates OTT's Monge gap from samples, `mean_i c(x_i, T_i) - ent_reg_cost`, where
`ent_reg_cost` comes from OTT's Sinkhorn on a `PointCloud` with an absolute epsilon, run in
float64 to a marginal threshold of 1e-10. It is computed here with the same three lines as
`ott.neural.methods.monge_gap.monge_gap_from_samples` (that module imports flax, which the
benchmark environment does not have). Costs: squared Euclidean and the elastic
`RegTICost(L1(), lam=gamma)`, h = 0.5|z|^2 + gamma |z|_1 (OTT 0.6 spelling of ElasticL1). The Rust test
crates/otters/tests/maps.rs recomputes every case with otters' `monge_gap_from_samples`.

Usage: python scripts/make_ott_monge_gap_fixture.py
"""

import json
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ott  # noqa: E402
from ott.geometry import costs, pointcloud, regularizers  # noqa: E402
from ott.solvers import linear  # noqa: E402

SEED = 20261201
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


def gap(x, t, cost_fn, epsilon):
    geom = pointcloud.PointCloud(jnp.asarray(x), jnp.asarray(t), cost_fn=cost_fn, epsilon=epsilon)
    displacement = jnp.mean(jax.vmap(cost_fn)(jnp.asarray(x), jnp.asarray(t)))
    out = linear.solve(geom, threshold=1e-10, max_iterations=200_000)
    errs = np.asarray(out.errors)
    assert bool(out.converged), f"OTT did not converge: {errs[errs > -1][-3:]}"
    return float(displacement - out.ent_reg_cost), float(out.ent_reg_cost)


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for name, n, d, eps, cost in [
        ("sqeuclidean_rotation", 17, 2, 0.5, "sqeuclidean"),
        ("sqeuclidean_nonlinear", 23, 3, 0.3, "sqeuclidean"),
        ("elastic_l1_nonlinear", 19, 3, 0.5, "elastic_l1"),
    ]:
        x = rng.normal(size=(n, d))
        if name.endswith("rotation"):
            t = x @ np.array([[0.0, -1.0], [1.0, 0.0]]) + 0.5
        else:
            t = np.tanh(x) * 1.5 + 0.3 * x[:, ::-1]
        gamma = 0.3
        cost_fn = costs.SqEuclidean() if cost == "sqeuclidean" else costs.RegTICost(regularizers.L1(), lam=gamma)
        value, ent = gap(x, t, cost_fn, eps)
        cases.append(
            {
                "name": name,
                "cost": cost,
                "gamma": gamma if cost == "elastic_l1" else 0.0,
                "epsilon": eps,
                "x": x.tolist(),
                "t": t.tolist(),
                "monge_gap": value,
                "ent_reg_cost": ent,
            }
        )
    out = {
        "provenance": f"ott-jax {ott.__version__}, jax {jax.__version__}, seed {SEED}",
        "cases": cases,
    }
    (TESTDATA / "ott_monge_gap.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
