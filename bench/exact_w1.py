#!/usr/bin/env python3
"""W1 and W5 of BENCHMARKS.md side by side, in one process on one machine.

W1: exact OT between two 2-D Gaussian clouds, squared Euclidean cost, uniform weights,
n = m (default 1000 2000 5000): otters.emd2 (assignment fast path), otters with the
network simplex forced, POT ot.emd2, SciPy linear_sum_assignment (skipped above
--scipy-max). W5: 1-D W_p^p with n = 10^6 samples: otters.wasserstein_1d vs
ot.wasserstein_1d. Reports the median of --repeats runs, the ratio to otters, and checks
that every solver reaches the same cost (relative difference printed).

Usage: .venv/bin/python bench/exact_w1.py [--sizes 1000 2000 5000] [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np
import ot
from scipy.optimize import linear_sum_assignment

import otters


def timed(fn, repeats):
    values, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        values.append(time.perf_counter() - t0)
    return statistics.median(values), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scipy-max", type=int, default=2000)
    parser.add_argument("--one-d", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"POT {ot.__version__}, otters {otters.__version__}; median of {args.repeats} runs; seconds")
    for n in args.sizes:
        rng = np.random.default_rng(n)
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + 1.0
        M = ot.dist(x, y)
        a = np.full(n, 1.0 / n)
        forced = otters.NetworkSimplex(assignment="off")
        runs = {
            "otters emd2": lambda: otters.emd2(a, a, M, numItermax=10**9),
            "otters network simplex": lambda: forced.solve(otters.LinearProblem(otters.DenseCost(M))).cost,
            "POT emd2": lambda: ot.emd2(a, a, M, numItermax=10**9),
        }
        if n <= args.scipy_max:
            def lsa():
                r, c = linear_sum_assignment(M)
                return M[r, c].sum() / n
            runs["SciPy linear_sum_assignment"] = lsa
        results = {name: timed(fn, args.repeats) for name, fn in runs.items()}
        base_time, base_cost = results["otters emd2"]
        print(f"\nW1 n = m = {n}")
        for name, (seconds, cost) in results.items():
            print(f"  {name:<30} {seconds:8.3f} s   {seconds / base_time:6.2f}x otters   rel. cost diff {abs(cost - base_cost) / base_cost:.1e}")

    n = args.one_d
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=n), rng.normal(size=n) * 2 + 1
    results = {
        "otters wasserstein_1d": timed(lambda: otters.wasserstein_1d(u, v, p=2), args.repeats),
        "POT wasserstein_1d": timed(lambda: ot.wasserstein_1d(u, v, p=2), args.repeats),
    }
    base_time, base_value = results["otters wasserstein_1d"]
    print(f"\nW5 1-D W_2^2, n = m = {n}")
    for name, (seconds, value) in results.items():
        print(f"  {name:<30} {seconds:8.3f} s   {seconds / base_time:6.2f}x otters   rel. diff {abs(value - base_value) / base_value:.1e}")


if __name__ == "__main__":
    main()
