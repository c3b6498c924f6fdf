#!/usr/bin/env python3
"""Generate the Sinkhorn divergence fixtures (run by hand, not in CI): testdata/divergence.json.

Needs ott-jax, jax, torch and geomloss (the benchmark environment has them:
bench/requirements.txt). Each case draws two weighted point clouds and records

* OTT-JAX's `sinkhorn_divergence` (float64, squared Euclidean cost `‖x − y‖²`, absolute ε,
  threshold 1e-12), balanced or with KL-relaxed marginals (OTT's `tau = ρ/(ρ + ε)`) and
  unequal masses, which exercises the mass term `ε/2·(m(α) − m(β))²`;
* GeomLoss's `SamplesLoss("sinkhorn", p=2, blur=σ, reach=r, scaling=0.995)` (float64,
  tensorized backend). GeomLoss's cost is `‖x − y‖²/2` with `ε = σ²` and `ρ = r²`; the Rust
  test divides otters' cost by 2 to compare. GeomLoss stops after a fixed ε-annealing
  schedule, so it is compared at a looser tolerance than OTT;
* GeomLoss's `"energy"` and `"gaussian"` losses (closed forms).

Checked by crates/otters/tests/divergence.rs.

Usage: python scripts/make_divergence_fixtures.py
"""

import json
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402
from geomloss import SamplesLoss  # noqa: E402
from ott.geometry import pointcloud  # noqa: E402
from ott.tools import sinkhorn_divergence as sd  # noqa: E402

SEED = 20261201
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


def ott_divergence(x, y, a, b, eps, rho):
    kwargs = {"threshold": 1e-12, "max_iterations": 200000}
    if rho is not None:
        tau = rho / (rho + eps)
        kwargs.update(tau_a=tau, tau_b=tau)
    value, out = sd.sinkhorn_divergence(
        pointcloud.PointCloud,
        jnp.asarray(x),
        jnp.asarray(y),
        a=jnp.asarray(a),
        b=jnp.asarray(b),
        epsilon=eps,
        solve_kwargs=kwargs,
    )
    assert all(bool(c) for c in out.converged), out.converged
    return float(value)


def geomloss(kind, x, y, a, b, **kw):
    loss = SamplesLoss(kind, backend="tensorized", **kw)
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return float(loss(t(a), t(x), t(b), t(y)))


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    specs = [
        # name, n, m, dim, eps (otters cost ‖x−y‖²), rho, mass of b
        ("balanced", 30, 40, 2, 0.1, None, 1.0),
        ("balanced small eps", 25, 35, 3, 0.01, None, 1.0),
        ("unbalanced equal masses", 30, 20, 2, 0.1, 1.0, 1.0),
        ("unbalanced unequal masses", 30, 40, 2, 0.05, 0.5, 1.7),
    ]
    for name, n, m, dim, eps, rho, mass_b in specs:
        x = rng.normal(size=(n, dim))
        y = 0.8 * rng.normal(size=(m, dim)) + 0.5
        a = rng.uniform(0.5, 1.5, size=n)
        a /= a.sum()
        b = rng.uniform(0.5, 1.5, size=m)
        b *= mass_b / b.sum()
        case = {
            "name": name,
            "x": x.tolist(),
            "y": y.tolist(),
            "a": a.tolist(),
            "b": b.tolist(),
            "epsilon": eps,
            "rho": rho,
            "ott": ott_divergence(x, y, a, b, eps, rho),
        }
        # GeomLoss: cost ‖x−y‖²/2, ε = blur², ρ = reach².
        half_eps = eps / 2
        reach = None if rho is None else float(np.sqrt(rho / 2))
        case["geomloss_half_cost"] = geomloss(
            "sinkhorn", x, y, a, b, p=2, blur=float(np.sqrt(half_eps)), reach=reach,
            scaling=0.995, debias=True,
        )
        case["energy"] = geomloss("energy", x, y, a, b)
        case["gaussian_sigma"] = 0.7
        case["gaussian"] = geomloss("gaussian", x, y, a, b, blur=0.7)
        cases.append(case)
        print(name, case["ott"], case["geomloss_half_cost"] * 2, case["energy"], case["gaussian"])
    TESTDATA.mkdir(exist_ok=True)
    (TESTDATA / "divergence.json").write_text(json.dumps({"seed": SEED, "cases": cases}))


if __name__ == "__main__":
    main()
