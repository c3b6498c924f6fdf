#!/usr/bin/env python3
"""Generate the OTT-JAX soft sorting fixtures (run by hand, not in CI): testdata/ott_soft_sort.json.

Each case runs `ott.tools.soft_sort.sort`, `ranks` or `quantile` in float64 on a seeded
vector, with OTT's default squashing (sigmoid of the whitened values) and an absolute
epsilon, its Sinkhorn run to a marginal error of 1e-10 (OTT's default stops at 1e-3), so the
values are those of the entropic fixed point. The Python test
(crates/otters-py/tests/test_tools.py) runs `otters.soft_sort` on the same inputs.
Needs ott-jax and jax (the benchmark environment has them: bench/requirements.txt).

Usage: python scripts/make_ott_soft_sort_fixtures.py
"""

import json
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import ott  # noqa: E402
from ott.tools import soft_sort  # noqa: E402

SEED = 20261201
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
SINKHORN = {"threshold": 1e-10, "max_iterations": 100_000}


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for n, eps in [(7, 1e-1), (12, 1e-2), (25, 5e-3)]:
        x = rng.normal(size=n)
        xj = jnp.asarray(x)
        kw = dict(epsilon=eps, **SINKHORN)
        cases.append({"op": "sort", "x": x.tolist(), "epsilon": eps,
                      "expected": np.asarray(soft_sort.sort(xj, **kw)).tolist()})
        cases.append({"op": "sort", "x": x.tolist(), "epsilon": eps, "num_targets": 4,
                      "expected": np.asarray(soft_sort.sort(xj, num_targets=4, **kw)).tolist()})
        cases.append({"op": "sort", "x": x.tolist(), "epsilon": eps, "topk": 3,
                      "expected": np.asarray(soft_sort.sort(xj, topk=3, **kw)).tolist()})
        cases.append({"op": "ranks", "x": x.tolist(), "epsilon": eps,
                      "expected": np.asarray(soft_sort.ranks(xj, **kw)).tolist()})
        w = rng.uniform(0.5, 1.0, size=5)
        w = w / w.sum()
        cases.append({"op": "ranks", "x": x.tolist(), "epsilon": eps, "target_weights": w.tolist(),
                      "expected": np.asarray(soft_sort.ranks(xj, target_weights=jnp.asarray(w), **kw)).tolist()})
        q = [0.2, 0.5, 0.9]
        cases.append({"op": "quantile", "x": x.tolist(), "epsilon": eps, "q": q,
                      "expected": np.asarray(soft_sort.quantile(xj, q=jnp.asarray(q), **kw)).tolist()})
    out = {"provenance": f"OTT-JAX {ott.__version__}, jax {jax.__version__}, float64, "
                         f"Sinkhorn threshold {SINKHORN['threshold']}", "seed": SEED, "cases": cases}
    TESTDATA.mkdir(exist_ok=True)
    (TESTDATA / "ott_soft_sort.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
