#!/usr/bin/env python3
"""Generate the 1-D unbalanced OT fixtures (run by hand, not in CI): testdata/pot_uot1d.json.

POT's `ot.unbalanced.uot_1d` (Frank–Wolfe with fixed steps 2/(k+2), PyTorch backend only, so
it cannot run in the test environment) run for 20000 steps; its O(1/k) convergence leaves
it ~1e-8 from the optimum, which the Rust test (crates/otters/tests/unbalanced_1d.rs)
allows for. Needs torch and POT (the benchmark environment has them).

Usage: python scripts/make_uot1d_fixtures.py
"""

import json
from pathlib import Path

import numpy as np
import ot
import torch

SEED = 20261201
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for name, n, m, mass_b, rho, p in [
        ("equal masses, p = 2", 30, 25, 1.0, 0.5, 2),
        ("unequal masses, p = 2", 30, 25, 1.4, 0.5, 2),
        ("unequal masses, p = 1", 40, 20, 0.6, 2.0, 1),
    ]:
        x = rng.normal(size=n)
        y = 0.7 * rng.normal(size=m) + 0.8
        a = rng.uniform(0.5, 1.5, n)
        a /= a.sum()
        b = rng.uniform(0.5, 1.5, m)
        b *= mass_b / b.sum()
        t = torch.tensor
        _, _, total = ot.unbalanced.uot_1d(t(x), t(y), rho, t(a), t(b), p=p, numItermax=20000, returnCost="total")
        cases.append({"name": name, "x": x.tolist(), "y": y.tolist(), "a": a.tolist(), "b": b.tolist(),
                      "rho": rho, "p": p, "cost": float(total)})
        print(name, float(total))
    TESTDATA.mkdir(exist_ok=True)
    (TESTDATA / "pot_uot1d.json").write_text(json.dumps({"seed": SEED, "cases": cases}))


if __name__ == "__main__":
    main()
