#!/usr/bin/env python3
"""Small-epsilon robustness, same time budget: n = m points (default 2000) in 2-D,
squared Euclidean cost divided by its max, eps = 1e-3 (i.e. 1e-3 x max cost), target L1
marginal error 1e-6.

otters runs to the target; then POT's log-domain and kernel solvers get the same
wall-clock budget (their iteration count sized from a timed probe) and the marginal error
they reach is printed. All in one process on one machine.

Usage: .venv/bin/python bench/small_epsilon.py [--n 2000]
"""

import argparse
import time
import warnings

import numpy as np
import ot

import otters


def marginal_error(P, a, b):
    if not np.isfinite(P).all():
        return float("nan")
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(args.n, 2)), rng.normal(size=(args.n, 2)) + 1.0
    M = ot.dist(x, y)
    M /= M.max()
    a = np.full(args.n, 1.0 / args.n)
    reg = 1e-3

    t0 = time.perf_counter()
    P, log = otters.sinkhorn(a, a, M, reg, numItermax=100000, stopThr=1e-6, log=True)
    budget = time.perf_counter() - t0
    print(f"n = m = {args.n}, eps = 1e-3 x max(C), target marginal error 1e-6")
    print(f"otters (log domain): {log['niter']} iterations, {budget:.2f} s, error {marginal_error(P, a, a):.2e}")

    for method in ["sinkhorn_log", "sinkhorn"]:
        probe = 20
        t0 = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ot.sinkhorn(a, a, M, reg, method=method, numItermax=probe, stopThr=1e-300)
        per_iteration = (time.perf_counter() - t0) / probe
        iterations = max(probe, int(budget / per_iteration))
        t0 = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            Q = ot.sinkhorn(a, a, M, reg, method=method, numItermax=iterations, stopThr=1e-300)
        spent = time.perf_counter() - t0
        print(f"POT {method:<13} {iterations} iterations, {spent:.2f} s, error {marginal_error(Q, a, a):.2e}")


if __name__ == "__main__":
    main()
