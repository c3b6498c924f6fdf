#!/usr/bin/env python3
"""W2 of BENCHMARKS.md side by side: seconds per Sinkhorn iteration on a dense cost.

n = m points in d dimensions (default 5000, 64), squared Euclidean cost divided by its max,
eps = 0.01, f64. Each library runs a short and a long solve with the tolerance disabled;
the slope (long - short) / (iterations difference) is the time per iteration, so set-up
costs cancel. Median of --repeats runs, all in this one process on this one machine.

Usage: .venv/bin/python bench/sinkhorn_w2.py [--n 5000] [--d 64] [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np
import ot

import otters


def slope(run, short, long, repeats):
    values = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(short)
        t1 = time.perf_counter()
        run(long)
        t2 = time.perf_counter()
        values.append(((t2 - t1) - (t1 - t0)) / (long - short))
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.n, args.d))
    y = rng.normal(size=(args.n, args.d)) + 0.5
    M = ot.dist(x, y)
    M /= M.max()
    a = np.full(args.n, 1.0 / args.n)
    reg = 0.01

    def run_otters(k):
        otters.sinkhorn(a, a, M, reg, numItermax=k, stopThr=1e-300, warn=False)

    def run_pot_log(k):
        ot.sinkhorn(a, a, M, reg, method="sinkhorn_log", numItermax=k, stopThr=1e-300, warn=False)

    def run_pot_kernel(k):
        with np.errstate(all="ignore"):
            ot.sinkhorn(a, a, M, reg, method="sinkhorn", numItermax=k, stopThr=1e-300, warn=False)

    print(f"W2: Sinkhorn on a dense {args.n}x{args.n} cost (d={args.d}), cost/max, eps={reg}, f64; "
          f"POT {ot.__version__}, otters {otters.__version__}; median of {args.repeats}")
    # POT evaluates its error every 10 iterations; use multiples of 10 for both.
    results = {
        "otters (log domain)": slope(run_otters, 10, 30, args.repeats),
        "POT sinkhorn_log": slope(run_pot_log, 10, 20, args.repeats),
        "POT sinkhorn (kernel, unstable at small eps)": slope(run_pot_kernel, 10, 30, args.repeats),
    }
    base = results["otters (log domain)"]
    for name, seconds in results.items():
        print(f"{name:<46} {seconds * 1e3:9.2f} ms/iteration   ratio to otters {seconds / base:6.2f}")


if __name__ == "__main__":
    main()
