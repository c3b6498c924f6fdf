#!/usr/bin/env python3
"""Generate the barycenter fixtures (run by hand, not in CI): testdata/pot_barycenter.json.

POT's unbalanced barycenter (`ot.unbalanced.barycenter_unbalanced`, Sinkhorn scaling) run to a
threshold far below the tolerance of the Rust test (crates/otters/tests/barycenter.rs); its
debiased barycenter (`ot.bregman.barycenter_debiased`, log domain) and debiased convolutional
barycenter (`ot.bregman.convolutional_barycenter2d_debiased`, log domain) after a fixed number
of iterations (`niter`, threshold 0). The debiased iteration converges sublinearly (it
deconvolves the entropic blur; after 10^5 iterations its iterate still moves by ~1e-4), so
no run reaches its fixed point to test precision: the test compares the same iterate,
which the same Bregman projections reproduce to rounding. Needs POT (the test environment
has it).

Usage: python scripts/make_barycenter_fixtures.py
"""

import json
import warnings
from pathlib import Path

import numpy as np
import ot

SEED = 20261201
NITER = 300  # iterations of the debiased runs
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"


def bumps(x, centres, widths, masses):
    out = []
    for c, w, m in zip(centres, widths, masses):
        h = np.exp(-((x - c) ** 2) / (2 * w**2)) + 1e-3
        out.append(m * h / h.sum())
    return np.array(out).T  # (n, n_hists), POT's layout


def main():
    rng = np.random.default_rng(SEED)
    x = np.linspace(0.0, 1.0, 40)
    M = (x[:, None] - x[None, :]) ** 2
    cases = []
    for name, masses, reg, reg_m, weights in [
        ("unbalanced, two inputs of different mass", [1.0, 1.6], 0.01, 0.5, [0.5, 0.5]),
        ("unbalanced, three inputs, weighted", [0.8, 1.0, 1.3], 0.02, 0.1, [0.2, 0.3, 0.5]),
    ]:
        A = bumps(x, rng.uniform(0.1, 0.9, len(masses)), rng.uniform(0.03, 0.1, len(masses)), masses)
        bar = ot.unbalanced.barycenter_unbalanced(A, M, reg, reg_m, weights=np.array(weights),
                                                  numItermax=200000, stopThr=1e-15)
        cases.append({"kind": "unbalanced", "name": name, "A": A.T.tolist(), "cost": M.tolist(),
                      "reg": reg, "reg_m": reg_m, "weights": weights, "barycenter": bar.tolist()})
    for name, reg, weights in [
        ("debiased, two inputs", 0.01, [0.5, 0.5]),
        ("debiased, three inputs, weighted", 0.005, [0.2, 0.3, 0.5]),
    ]:
        k = len(weights)
        A = bumps(x, rng.uniform(0.1, 0.9, k), rng.uniform(0.03, 0.1, k), [1.0] * k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bar = ot.bregman.barycenter_debiased(A, M, reg, weights=np.array(weights), method="sinkhorn_log",
                                                 numItermax=NITER, stopThr=0.0)
        cases.append({"kind": "debiased", "name": name, "A": A.T.tolist(), "cost": M.tolist(),
                      "reg": reg, "weights": weights, "niter": NITER, "barycenter": bar.tolist()})
    # Debiased convolutional: two 12 x 10 images.
    h, w = 12, 10
    imgs = np.full((2, h, w), 1e-3)
    imgs[0, 2:5, 1:4] = 1.0
    imgs[1, 7:11, 5:9] = 1.0
    imgs /= imgs.sum(axis=(1, 2), keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bar = ot.bregman.convolutional_barycenter2d_debiased(imgs, 0.01, method="sinkhorn_log",
                                                             numItermax=NITER, stopThr=0.0)
    cases.append({"kind": "convolutional_debiased", "name": "two 12 x 10 images", "A": imgs.reshape(2, -1).tolist(),
                  "dims": [h, w], "reg": 0.01, "weights": [0.5, 0.5], "niter": NITER,
                  "barycenter": bar.reshape(-1).tolist()})
    out = TESTDATA / "pot_barycenter.json"
    out.write_text(json.dumps({"generator": f"POT {ot.__version__}", "seed": SEED, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
