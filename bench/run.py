#!/usr/bin/env python3
"""otters side by side with POT, OTT-JAX, GeomLoss/KeOps and SciPy on the workloads of
BENCHMARKS.md, in one run on one machine.

    python3 bench/run.py              # quick sizes (~10 min), prints the table
    python3 bench/run.py --full       # BENCHMARKS.md sizes (~45 min)
    python3 bench/run.py --only W2 W5 --write bench/RESULTS.md

The first run creates bench/.venv with the pinned peers of bench/requirements.txt and builds
otters into it (maturin, release); later runs reuse it (--python PY uses another interpreter
that already has them). Every (workload, library) pair runs in its own process, so peak
memory (max RSS, which includes the interpreter and the library's imports) is its own and
JAX compiles once per pair: one warm-up, then the median of --repeats timed runs. Next to
each time: iterations, the L1 marginal error or the cost reached, and the ratio
peer time / otters time (> 1: otters is faster). Timings are never asserted anywhere.
"""

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"


# ----------------------------------------------------------------------------------------
# Workloads: each child function gets (lib, size, repeats) and returns a dict with
# "seconds" (median), and optionally "iterations", "error", "value", "per_iteration".
# ----------------------------------------------------------------------------------------

def timed(fn, repeats, warmup=True):
    if warmup:
        fn()
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def marginal_error(P, a, b):
    import numpy as np
    P = np.asarray(P, dtype=np.float64)
    if not np.isfinite(P).all():
        return float("nan")
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def gaussians(n, d, seed=0, shift=0.5):
    import numpy as np
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift


def sqdist(x, y):
    import numpy as np
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.maximum(d, 0.0)


def ott_sinkhorn(geom, a, b, threshold, max_iterations, lse_mode=True, anderson=0):
    """OTT's Sinkhorn, jitted; `anderson` > 0 turns on its AndersonAcceleration with that memory."""
    import jax
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import acceleration, sinkhorn
    extra = {"anderson": acceleration.AndersonAcceleration(memory=anderson)} if anderson else {}
    solver = sinkhorn.Sinkhorn(threshold=threshold, max_iterations=max_iterations, lse_mode=lse_mode,
                               inner_iterations=10, **extra)
    run = jax.jit(lambda g, a, b: solver(linear_problem.LinearProblem(g, a, b)))
    return lambda: jax.block_until_ready(run(geom, a, b))


def w1_exact(lib, n, repeats):
    """Exact OT, 2-D Gaussians, squared Euclidean, uniform weights."""
    import numpy as np
    x, y = gaussians(n, 2, shift=1.0)
    M = sqdist(x, y)
    a = np.full(n, 1.0 / n)
    if lib == "otters":
        import otters
        s, v = timed(lambda: otters.emd2(a, a, M, numItermax=10**9), repeats)
    elif lib == "POT":
        import ot
        s, v = timed(lambda: ot.emd2(a, a, M, numItermax=10**9), repeats)
    elif lib == "SciPy":
        from scipy.optimize import linear_sum_assignment
        def run():
            r, c = linear_sum_assignment(M)
            return M[r, c].sum() / n
        s, v = timed(run, repeats, warmup=False)
    else:
        return None
    return {"seconds": s, "value": float(v)}


def w2_dense(lib, n, repeats, eps=0.01, d=64, threshold=1e-6, budget=3000):
    """Sinkhorn on a stored cost (d=64, cost/max) to an L1 marginal error of 1e-6."""
    import numpy as np
    x, y = gaussians(n, d)
    M = sqdist(x, y)
    M /= M.max()
    a = np.full(n, 1.0 / n)
    if lib == "otters":
        import otters
        geom = otters.DenseCost(M)
        solver = otters.Sinkhorn(eps, threshold=threshold, max_iterations=budget, warn=False)
        problem = otters.LinearProblem(geom)
        s, out = timed(lambda: solver.solve(problem), repeats)
        return {"seconds": s, "iterations": out.iterations, "error": out.marginal_error,
                "value": out.reg_ot_cost}
    if lib.startswith("POT"):
        import ot
        method = "sinkhorn_log" if lib == "POT log" else "sinkhorn"
        # POT checks its error every 10 iterations; its log solver is ~0.5 s/iteration at
        # n = 5000, so it gets a budget of 100 iterations here (its error is reported).
        it = 100 if method == "sinkhorn_log" else budget
        # POT stops on the L2 norm of one marginal's error: threshold/sqrt(n) there bounds
        # the L1 error that otters and OTT stop on.
        def run():
            with np.errstate(all="ignore"):
                P, log = ot.sinkhorn(a, a, M, eps, method=method, numItermax=it,
                                     stopThr=threshold / math.sqrt(n), warn=False, log=True)
            return P, log
        s, (P, log) = timed(run, 1 if method == "sinkhorn_log" else repeats, warmup=method != "sinkhorn_log")
        iters = int(log.get("niter", it))
        return {"seconds": s, "iterations": iters, "error": marginal_error(P, a, a)}
    if lib.startswith("OTT"):
        import jax
        jax.config.update("jax_enable_x64", "f64" in lib)
        import jax.numpy as jnp
        from ott.geometry import geometry
        dtype = jnp.float64 if "f64" in lib else jnp.float32
        geom = geometry.Geometry(cost_matrix=jnp.asarray(M, dtype=dtype), epsilon=eps)
        aj = jnp.asarray(a, dtype=dtype)
        run = ott_sinkhorn(geom, aj, aj, threshold, budget, anderson=8 if lib.endswith("Anderson") else 0)
        s, out = timed(run, repeats)
        P = np.asarray(out.matrix, dtype=np.float64)
        return {"seconds": s, "iterations": int(out.n_iters), "error": marginal_error(P, a, a),
                "value": float(out.reg_ot_cost)}
    return None


def w2_iteration(lib, n, repeats, eps=0.01, d=64):
    """Seconds per Sinkhorn iteration on a stored cost: slope between 20 and 60 iterations."""
    import numpy as np
    x, y = gaussians(n, d)
    M = sqdist(x, y)
    M /= M.max()
    a = np.full(n, 1.0 / n)
    short, long = 20, 60
    if lib.startswith("otters"):
        import otters
        # "otters f32": the cost stored in float32 (read in single precision, potentials in
        # float64).
        cost = M.astype(np.float32) if "f32" in lib else M
        problem = otters.LinearProblem(otters.DenseCost(cost))
        # "otters": plain iterations (one fused pass per iteration); "otters Anderson": the
        # default, two sweeps per iteration plus the mixing.
        acceleration = "anderson" if lib.endswith("Anderson") else "none"
        def run(k):
            otters.Sinkhorn(eps, threshold=1e-300, max_iterations=k, acceleration=acceleration,
                            warn=False).solve(problem)
    elif lib.startswith("POT"):
        import ot
        method = "sinkhorn_log" if lib == "POT log" else "sinkhorn"
        # POT recomputes the kernel exp(-M/eps) on every call (~1 s at n = 5000, noisy), so
        # its slope needs a long gap between the two runs to be meaningful.
        short, long = (10, 20) if method == "sinkhorn_log" else (20, 220)
        def run(k):
            with np.errstate(all="ignore"):
                _, log = ot.sinkhorn(a, a, M, eps, method=method, numItermax=k, stopThr=1e-300,
                                     warn=False, log=True)
            # The kernel solver stops early when its scalings overflow: then no slope exists.
            if log["niter"] < k - 1:
                raise RuntimeError(f"POT stopped at iteration {log['niter']} of {k} (numerical breakdown)")
    elif lib.startswith("OTT"):
        import jax
        jax.config.update("jax_enable_x64", lib == "OTT f64")
        import jax.numpy as jnp
        from ott.geometry import geometry
        dtype = jnp.float64 if lib == "OTT f64" else jnp.float32
        geom = geometry.Geometry(cost_matrix=jnp.asarray(M, dtype=dtype), epsilon=eps)
        aj = jnp.asarray(a, dtype=dtype)
        runs = {k: ott_sinkhorn(geom, aj, aj, 0.0, k) for k in (short, long)}
        for r in runs.values():
            r()
        def run(k):
            runs[k]()
    else:
        return None
    slopes = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(short)
        t1 = time.perf_counter()
        run(long)
        t2 = time.perf_counter()
        slopes.append(((t2 - t1) - (t1 - t0)) / (long - short))
    s = statistics.median(slopes)
    return {"seconds": s, "per_iteration": s}


def w2_small_eps(lib, n, repeats, d=2):
    """Sinkhorn at eps = 1e-3 (d-D points, cost/max) to 1e-6: who converges, and when."""
    import numpy as np
    x, y = gaussians(n, d, shift=1.0)
    M = sqdist(x, y)
    M /= M.max()
    a = np.full(n, 1.0 / n)
    eps, budget = 1e-3, 5000
    if lib == "otters":
        import otters
        problem = otters.LinearProblem(otters.DenseCost(M))
        solver = otters.Sinkhorn(eps, threshold=1e-6, max_iterations=budget, warn=False)
        s, out = timed(lambda: solver.solve(problem), repeats, warmup=False)
        return {"seconds": s, "iterations": out.iterations, "error": out.marginal_error,
                "value": out.reg_ot_cost}
    if lib.startswith("POT"):
        import ot
        method = "sinkhorn_log" if lib == "POT log" else "sinkhorn"
        it = (300 if d <= 2 else 100) if method == "sinkhorn_log" else budget
        def run():
            with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
                __import__("warnings").simplefilter("ignore")
                return ot.sinkhorn(a, a, M, eps, method=method, numItermax=it,
                                   stopThr=1e-6 / math.sqrt(n), log=True)
        s, (P, log) = timed(run, 1, warmup=False)
        return {"seconds": s, "iterations": int(log.get("niter", it)), "error": marginal_error(P, a, a)}
    if lib.startswith("OTT f64"):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import geometry
        geom = geometry.Geometry(cost_matrix=jnp.asarray(M), epsilon=eps)
        aj = jnp.asarray(a)
        run = ott_sinkhorn(geom, aj, aj, 1e-6, budget, anderson=8 if lib.endswith("Anderson") else 0)
        s, out = timed(run, 1)
        P = np.asarray(out.matrix)
        return {"seconds": s, "iterations": int(out.n_iters), "error": marginal_error(P, a, a)}
    return None


def w3_online(lib, n, repeats, eps=0.01, d=3):
    """Online cost (never stored), d=3: seconds per iteration (two softmin sweeps)."""
    import numpy as np
    x, y = gaussians(n, d)
    a = np.full(n, 1.0 / n)
    if lib in ("otters", "otters f32"):
        import otters
        dtype = "float32" if lib == "otters f32" else "float64"
        problem = otters.LinearProblem(otters.PointCloud(x, y, dtype=dtype))
        iters = (2, 4) if n > 50000 else (3, 8)
        def run(k):
            otters.Sinkhorn(eps, threshold=1e-300, max_iterations=k, warn=False).solve(problem)
    elif lib in ("OTT online", "OTT online f32"):
        import jax
        jax.config.update("jax_enable_x64", lib == "OTT online")
        import jax.numpy as jnp
        from ott.geometry import pointcloud
        dtype = jnp.float64 if lib == "OTT online" else jnp.float32
        geom = pointcloud.PointCloud(jnp.asarray(x, dtype=dtype), jnp.asarray(y, dtype=dtype), epsilon=eps,
                                     batch_size=1024)
        aj = jnp.asarray(a, dtype=dtype)
        iters = (10, 20)
        runs = {k: ott_sinkhorn(geom, aj, aj, 0.0, k) for k in iters}
        for r in runs.values():
            r()
        def run(k):
            runs[k]()
    elif lib in ("KeOps", "KeOps f32"):
        # GeomLoss's engine: one iteration = two KeOps log-sum-exp reductions.
        import torch
        from pykeops.torch import LazyTensor
        tdtype = torch.float32 if lib == "KeOps f32" else torch.float64
        X = LazyTensor(torch.from_numpy(x).to(tdtype)[:, None, :])
        Y = LazyTensor(torch.from_numpy(y).to(tdtype)[None, :, :])
        f = torch.zeros(n, 1, dtype=tdtype)
        g = torch.zeros(n, 1, dtype=tdtype)
        la = torch.full((n, 1), -math.log(n), dtype=tdtype)
        C = ((X - Y) ** 2).sum(-1)
        iters = (1, 3)
        def run(k):
            nonlocal f, g
            for _ in range(k):
                G = LazyTensor((la + g / eps).view(1, n, 1))
                f = -eps * (G - C / eps).logsumexp(dim=1)
                F = LazyTensor((la + f / eps).view(n, 1, 1))
                g = -eps * (F - C / eps).logsumexp(dim=0)
        run(1)
    else:
        return None
    if n >= 500000:
        # ~13 min per iteration at n = 10^6 on 2 cores: one timed iteration (set-up, O(n d),
        # included) shows that it runs and in how much memory.
        t0 = time.perf_counter()
        run(1)
        s = time.perf_counter() - t0
        return {"seconds": s, "per_iteration": s, "note": "one iteration, set-up included"}
    short, long = iters
    slopes = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(short)
        t1 = time.perf_counter()
        run(long)
        t2 = time.perf_counter()
        slopes.append(((t2 - t1) - (t1 - t0)) / (long - short))
    s = statistics.median(slopes)
    return {"seconds": s, "per_iteration": s}


def w4_divergence(lib, n, repeats, eps=0.05, d=3):
    """Balanced Sinkhorn divergence, d=3 Gaussians, cost ‖x−y‖², ε = 0.05, each solve to an L1
    marginal error of 1e-6 (GeomLoss has no threshold: ε-annealing at 0.9 per step)."""
    import numpy as np
    x, y = gaussians(n, d)
    if lib == "otters":
        import otters
        s, out = timed(lambda: otters.divergence.sinkhorn_divergence(x, y, epsilon=eps, threshold=1e-6,
                                                                     return_output=True), repeats)
        return {"seconds": s, "iterations": "+".join(map(str, out.iterations)), "value": out.value}
    if lib == "POT":
        # POT's definition combines the transport costs <C, P> (not the entropic costs).
        import ot
        s, val = timed(lambda: ot.bregman.empirical_sinkhorn_divergence(x, y, eps, stopThr=1e-6, numIterMax=10000),
                       repeats)
        return {"seconds": s, "value": float(val), "note": "POT's value combines <C,P>"}
    if lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import pointcloud
        from ott.tools import sinkhorn_divergence as sd
        xj, yj = jnp.asarray(x), jnp.asarray(y)
        run = jax.jit(lambda x, y: sd.sinkhorn_divergence(
            pointcloud.PointCloud, x, y, epsilon=eps, solve_kwargs={"threshold": 1e-6, "max_iterations": 10000})[0])
        s, val = timed(lambda: jax.block_until_ready(run(xj, yj)), repeats)
        return {"seconds": s, "value": float(val)}
    if lib == "GeomLoss KeOps":
        import torch
        from geomloss import SamplesLoss
        # GeomLoss's cost is ‖x−y‖²/2 with ε = blur²: blur = sqrt(ε/2) gives the same problem, half the value.
        loss = SamplesLoss("sinkhorn", p=2, blur=math.sqrt(eps / 2), scaling=0.9, backend="online")
        X, Y = torch.from_numpy(x), torch.from_numpy(y)
        s, val = timed(lambda: float(loss(X, Y)), repeats)
        return {"seconds": s, "value": 2 * val, "note": "value doubled (cost ‖x−y‖²/2)"}
    return None


def w5_1d(lib, n, repeats):
    """1-D W_2^2 between two samples of n points."""
    import numpy as np
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=n), rng.normal(size=n) + 0.3
    if lib == "otters":
        import otters
        s, val = timed(lambda: otters.wasserstein_1d(u, v, p=2), repeats)
    elif lib == "POT":
        import ot
        s, val = timed(lambda: ot.wasserstein_1d(u, v, p=2), repeats)
    elif lib == "SciPy":
        from scipy.stats import wasserstein_distance
        s, val = timed(lambda: wasserstein_distance(u, v), repeats)
        return {"seconds": s, "value": float(val), "note": "W1 (SciPy has no W2)"}
    else:
        return None
    return {"seconds": s, "value": float(val)}


def w6_unbalanced(lib, n, repeats, eps=0.01, rho=1.0):
    """Unbalanced KL Sinkhorn, 2-D, cost/max, rho = 1, to 1e-6."""
    import numpy as np
    x, y = gaussians(n, 2, shift=1.0)
    M = sqdist(x, y)
    M /= M.max()
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.5, n) / n
    b = rng.uniform(0.5, 1.5, n) / n * 1.3
    if lib == "otters":
        import otters
        s, (P, log) = timed(lambda: otters.unbalanced.sinkhorn_unbalanced(
            a, b, M, eps, rho, numItermax=5000, stopThr=1e-6, log=True), repeats)
        return {"seconds": s, "iterations": int(log["niter"]), "value": float(np.sum(P * M))}
    if lib.startswith("POT"):
        import ot
        method = "sinkhorn_translation_invariant" if lib == "POT TI" else "sinkhorn"
        s, (P, log) = timed(lambda: ot.unbalanced.sinkhorn_unbalanced(
            a, b, M, eps, rho, method=method, numItermax=5000, stopThr=1e-6, log=True), repeats)
        return {"seconds": s, "iterations": log.get("niter"), "value": float(np.sum(P * M))}
    if lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import geometry
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn
        geom = geometry.Geometry(cost_matrix=jnp.asarray(M), epsilon=eps)
        tau = rho / (rho + eps)
        solver = sinkhorn.Sinkhorn(threshold=1e-6, max_iterations=5000)
        run = jax.jit(lambda: solver(linear_problem.LinearProblem(geom, jnp.asarray(a), jnp.asarray(b),
                                                                   tau_a=tau, tau_b=tau)))
        s, out = timed(lambda: jax.block_until_ready(run()), repeats)
        return {"seconds": s, "iterations": int(out.n_iters), "value": float(np.sum(np.asarray(out.matrix) * M))}
    return None


def w10_uot_1d(lib, n, repeats, rho=1.0):
    """1-D unbalanced OT, KL penalties rho = 1, |x − y|², masses 1 and 1.5: otters to a certified
    primal–dual gap of 1e-6; POT's uot_1d (PyTorch, Frank–Wolfe with fixed steps) at its default
    10 steps and at 1000 steps. "value" is the total (KL-penalized) cost reached."""
    import numpy as np
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=n), 0.7 * rng.normal(size=n) + 0.5
    a = np.full(n, 1.0 / n)
    b = np.full(n, 1.5 / n)
    if lib == "otters":
        import otters
        s, res = timed(lambda: otters.unbalanced.uot_1d(x, y, rho, a, b, p=2, returnCost="total", log=True), repeats)
        return {"seconds": s, "iterations": res[3]["niter"], "value": float(res[2])}
    if lib.startswith("POT"):
        import ot
        import torch
        steps = 10 if lib == "POT" else 1000
        t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
        X, Y, A, B = t(x), t(y), t(a), t(b)
        s, res = timed(lambda: ot.unbalanced.uot_1d(X, Y, rho, A, B, p=2, numItermax=steps, returnCost="total"),
                       repeats)
        return {"seconds": s, "iterations": steps, "value": float(res[2])}
    return None


def w9_fixed_support(lib, n, repeats, reg=1e-3, tol=1e-8):
    """Entropic barycenter of three 1-D histograms on n bins of [0, 1], cost |x − y|², reg = 1e-3,
    to POT's marginal-spread error 1e-8. "err" is the L1 distance to a reference barycenter (otters
    at 1e-13, not timed)."""
    import numpy as np
    x = np.linspace(0.0, 1.0, n)
    M = (x[:, None] - x[None, :]) ** 2
    A = np.stack([np.exp(-((x - c) ** 2) / (2 * w**2)) + 1e-4 for c, w in ((0.2, 0.05), (0.5, 0.1), (0.8, 0.04))],
                 axis=1)
    A /= A.sum(axis=0)

    def reference():
        import otters
        return otters.bregman.barycenter(A, M, reg, stopThr=1e-13, numItermax=10**6)

    if lib == "otters":
        import otters
        s, (bar, log) = timed(lambda: otters.bregman.barycenter(A, M, reg, stopThr=tol, log=True), repeats)
    elif lib.startswith("POT"):
        import ot
        method = "sinkhorn_log" if lib == "POT log" else "sinkhorn"
        s, (bar, log) = timed(lambda: ot.bregman.barycenter(A, M, reg, method=method, stopThr=tol, log=True,
                                                            numItermax=10**5), repeats)
    else:
        return None
    return {"seconds": s, "iterations": int(log["niter"]), "error": float(np.abs(bar - reference()).sum())}


def w9_convolutional(lib, n, repeats, reg=4e-3, tol=1e-6):
    """Convolutional barycenter of three n × n images (disc, square, ring) on [0, 1]², reg = 4e-3,
    to POT's marginal-spread error 1e-6 (POT checks it every 10 iterations). "err" is the L1
    distance to a reference (otters at 1e-12, not timed)."""
    import numpy as np
    t = np.linspace(0.0, 1.0, n)
    X, Y = np.meshgrid(t, t, indexing="ij")
    r = np.hypot(X - 0.5, Y - 0.5)
    imgs = np.stack([(r < 0.3).astype(float), ((abs(X - 0.5) < 0.25) & (abs(Y - 0.5) < 0.25)).astype(float),
                     ((r > 0.2) & (r < 0.35)).astype(float)]) + 1e-4
    imgs /= imgs.sum(axis=(1, 2), keepdims=True)

    def reference():
        import otters
        return otters.bregman.convolutional_barycenter2d(imgs, reg, stopThr=1e-12, numItermax=10**5)

    if lib == "otters":
        import otters
        s, (bar, log) = timed(lambda: otters.bregman.convolutional_barycenter2d(imgs, reg, stopThr=tol, log=True),
                              repeats)
    elif lib.startswith("POT"):
        import ot
        method = "sinkhorn_log" if lib == "POT log" else "sinkhorn"
        s, (bar, log) = timed(lambda: ot.bregman.convolutional_barycenter2d(imgs, reg, method=method, stopThr=tol,
                                                                            log=True), repeats)
    else:
        return None
    return {"seconds": s, "iterations": int(log["niter"]), "error": float(np.abs(bar - reference()).sum())}


def w9_free_support(lib, n, repeats):
    """Free-support barycenter of three 2-D clouds of n points, n barycenter points from the same
    start, POT's defaults (100 iterations, displacement 1e-7). "value" is Σ_k w_k W2²(X, Y_k)
    of the result (recomputed exactly with otters, not timed)."""
    import numpy as np
    rng = np.random.default_rng(0)
    clouds = [rng.normal(size=(n, 2)) * s + m for s, m in ((0.5, (0, 0)), (0.3, (2, 1)), (0.8, (-1, 2)))]
    weights = [np.full(n, 1.0 / n)] * 3
    X0 = rng.normal(size=(n, 2))
    if lib == "otters":
        import otters
        s, X = timed(lambda: otters.lp.free_support_barycenter(clouds, weights, X0), repeats)
    elif lib == "POT":
        import ot
        s, X = timed(lambda: ot.lp.free_support_barycenter(clouds, weights, X0), repeats)
    else:
        return None
    import otters
    value = sum(otters.emd2(np.full(n, 1.0 / n), w, sqdist(X, Y)) for Y, w in zip(clouds, weights)) / 3
    return {"seconds": s, "value": float(value)}


def w11_gaussian(lib, n, repeats, d=50, k=10):
    """G1: Bures-Wasserstein barycenter (fixed point, 1e-7) of k = 10 Gaussians fitted to clouds of
    n points in d = 50, then the Bures map from the first Gaussian to the barycenter applied to
    its cloud. "value" is the barycenter covariance's trace."""
    import numpy as np
    rng = np.random.default_rng(0)
    clouds = [rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)) + rng.normal(size=d)
              for _ in range(k)]
    means = np.stack([c.mean(0) for c in clouds])
    covs = np.stack([np.cov(c.T) for c in clouds])
    if lib == "otters":
        import otters.gaussian as g
    elif lib == "POT":
        import ot.gaussian as g
    else:
        return None

    def run():
        mb, Cb = g.bures_wasserstein_barycenter(means, covs, num_iter=1000, eps=1e-7)
        A, b = g.bures_wasserstein_mapping(means[0], mb, covs[0], Cb)
        return Cb, clouds[0] @ A + b

    s, (Cb, _) = timed(run, repeats)
    return {"seconds": s, "value": float(np.trace(Cb))}


def w12_soft_ranks(lib, n, repeats, eps=1e-2):
    """T1: soft ranks of 8 rows of n values (OTT's conventions: sigmoid squashing, ε = 1e-2,
    Sinkhorn threshold 1e-6). "value" is the sum of the ranks of the first row."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, n))
    if lib == "otters":
        import otters
        s, r = timed(lambda: otters.soft_sort.ranks(x, epsilon=eps), repeats)
    elif lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.tools import soft_sort
        xj = jnp.asarray(x)
        run = jax.jit(lambda v: soft_sort.ranks(v, axis=-1, epsilon=eps))
        s, r = timed(lambda: jax.block_until_ready(run(xj)), repeats)
    else:
        return None
    return {"seconds": s, "value": float(np.asarray(r)[0].sum())}


def w13_entropic_map(lib, n, repeats, d=10, eps=1.0, n_new=10000):
    """M1: entropic map (out of sample): Sinkhorn between n source and n target points in
    d = 10 (squared Euclidean, ε = 1, marginal error 1e-6), then the map applied to 10 000
    new points. "value" is the mean squared norm of the mapped points."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) @ np.diag(np.linspace(0.5, 2.0, d)) + 1.0
    z = rng.normal(size=(n_new, d))
    if lib == "otters":
        import otters
        solver = otters.Sinkhorn(epsilon=eps, threshold=1e-6, max_iterations=10_000)

        def run():
            out = solver.solve(otters.LinearProblem(otters.PointCloud(x, y)))
            return out.transport(z), out.iterations

        s, (t, its) = timed(run, repeats)
    elif lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        from ott.geometry import pointcloud
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn
        solver = sinkhorn.Sinkhorn(threshold=1e-6, max_iterations=10_000)

        @jax.jit
        def fit_and_map(x, y, z):
            out = solver(linear_problem.LinearProblem(pointcloud.PointCloud(x, y, epsilon=eps)))
            return out.to_dual_potentials().transport(z), out.n_iters

        s, (t, its) = timed(lambda: jax.block_until_ready(fit_and_map(x, y, z)), repeats)
    else:
        return None
    t = np.asarray(t)
    return {"seconds": s, "iterations": int(its), "value": float(np.mean(np.sum(t * t, axis=1)))}


def w17_elastic_map(lib, n, repeats, d=10, eps=1.0, gamma=1.0, n_new=10000):
    """M3: entropic map under the elastic cost ½‖z‖² + γ‖z‖₁ (γ = 1; OTT's
    RegTICost(L1(), lam=γ)) between n source and n target points in d = 10 (ε = 1,
    marginal error 1e-6), applied to 10 000 new points. "value" is the mean squared norm of
    the mapped points, the note the fraction of zero displacement coordinates (sparsity)."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(n, d)) + np.r_[3.0, -2.0, np.zeros(d - 2)]
    z = rng.normal(size=(n_new, d))
    if lib == "otters":
        from otters.maps import ElasticL1, elastic_map

        def run():
            out = elastic_map(x, y, ElasticL1(gamma), epsilon=eps, threshold=1e-6, max_iterations=10_000)
            return out.transport(z)

        s, t = timed(run, repeats)
    elif lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        from ott.geometry import costs, pointcloud, regularizers
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn
        solver = sinkhorn.Sinkhorn(threshold=1e-6, max_iterations=10_000)
        cost = costs.RegTICost(regularizers.L1(), lam=gamma)

        @jax.jit
        def fit_and_map(x, y, z):
            geom = pointcloud.PointCloud(x, y, cost_fn=cost, epsilon=eps)
            out = solver(linear_problem.LinearProblem(geom))
            return out.to_dual_potentials().transport(z)

        s, t = timed(lambda: jax.block_until_ready(fit_and_map(x, y, z)), repeats)
    else:
        return None
    t = np.asarray(t)
    return {"seconds": s, "value": float(np.mean(np.sum(t * t, axis=1))),
            "note": f"zero moves {float(np.mean(t == z)):.3f}"}


def w14_monge_gap(lib, n, repeats, d=10):
    """M2: Monge gap of a map from n samples (squared Euclidean, ε = 0.05·std of the cost,
    OTT's default, Sinkhorn to 1e-6) and its gradient in the mapped points. OTT: the body of
    `ott.neural.methods.monge_gap.monge_gap_from_samples` (that module imports flax, which
    would move the pinned jax), differentiated by jax.grad. "value" is the gap."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    A = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    t = x @ A + 0.1 * rng.normal(size=(n, d))
    if lib == "otters":
        from otters.maps import monge_gap_from_samples
        s, (v, out) = timed(lambda: monge_gap_from_samples(x, t, return_output=True, threshold=1e-6,
                                                           max_iterations=10_000), repeats)
        grad = out.gradient
    elif lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import costs, pointcloud
        from ott.solvers import linear

        def gap(source, target):
            geom = pointcloud.PointCloud(source, target, cost_fn=costs.SqEuclidean())
            displacement = jnp.mean(jax.vmap(costs.SqEuclidean())(source, target))
            return displacement - linear.solve(geom, threshold=1e-6, max_iterations=10_000).ent_reg_cost

        run = jax.jit(jax.value_and_grad(gap, argnums=1))
        s, (v, grad) = timed(lambda: jax.block_until_ready(run(x, t)), repeats)
    else:
        return None
    return {"seconds": s, "value": float(v), "note": f"‖grad‖ {float(np.linalg.norm(np.asarray(grad))):.6g}"}


def w15_gmm(lib, n, repeats, k=20, d=10):
    """G4: GMM-OT (Delon & Desolneux 2020) between two mixtures of k = 20 Gaussians in d = 10:
    the loss (exact OT on the Bures costs between components), then the barycentric map
    applied to n points. "value" is the loss."""
    import numpy as np
    rng = np.random.default_rng(0)

    def mixture():
        m = 3.0 * rng.normal(size=(k, d))
        B = rng.normal(size=(k, d, d)) / np.sqrt(d)
        C = B @ B.transpose(0, 2, 1) + 0.1 * np.eye(d)
        w = rng.random(k) + 0.1
        return m, C, w / w.sum()

    (ms, Cs, ws), (mt, Ct, wt) = mixture(), mixture()
    x = ms[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))
    if lib == "otters":
        import otters.gmm as g
    elif lib == "POT":
        import ot.gmm as g
    else:
        return None

    def run():
        loss = g.gmm_ot_loss(ms, mt, Cs, Ct, ws, wt)
        return loss, g.gmm_ot_apply_map(x, ms, mt, Cs, Ct, ws, wt, method="bary")

    s, (loss, mapped) = timed(run, repeats)
    return {"seconds": s, "value": float(loss), "note": f"mean ‖T(x)‖² {float(np.mean(np.sum(mapped ** 2, 1))):.8g}"}


def w16_sinkformer(lib, n, repeats, d=64, n_iter=5):
    """T2: Sinkformer attention (Sander et al. 2022) of n tokens, d = 64, 5 normalizations
    (rows first). The peer is the paper's loop written in PyTorch (log domain, alternating
    logsumexp normalizations), as no library ships it. "value" is the sum of the output."""
    import numpy as np
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(n, d)) for _ in range(3))
    m = len(k)
    if lib == "otters":
        from otters.tools import sinkformer_attention
        s, out = timed(lambda: sinkformer_attention(q, k, v, n_iter=n_iter), repeats)
    elif lib == "PyTorch f64":
        import math
        import torch
        qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))

        def run():
            with torch.no_grad():
                logits = qt @ kt.T / math.sqrt(d)
                for it in range(n_iter):
                    if it % 2 == 0:  # rows sum to 1
                        logits = logits - torch.logsumexp(logits, dim=1, keepdim=True)
                    else:  # columns sum to n/m
                        logits = logits - torch.logsumexp(logits, dim=0, keepdim=True) + math.log(n / m)
                return (torch.exp(logits) @ vt).numpy()

        s, out = timed(run, repeats)
    else:
        return None
    return {"seconds": s, "value": float(np.asarray(out).sum())}


def grid_histograms(n, k, seed=0):
    """k random mixtures of three bumps on n bins of [0, 1], and the squared distance."""
    import numpy as np
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n)
    centers = rng.uniform(0.1, 0.9, size=(k, 3))
    widths = rng.uniform(0.02, 0.1, size=(k, 3))
    H = sum(np.exp(-((x[None, :] - centers[:, [c]]) / widths[:, [c]]) ** 2) for c in range(3)) + 1e-6
    H /= H.sum(axis=1, keepdims=True)
    return x, (x[:, None] - x[None, :]) ** 2, H


def w18_batched(lib, n, repeats, k=200, reg=1e-2):
    """sinkhorn2(a, B): one source, k = 200 target histograms on n bins (cost/max = 1), to an
    L1 marginal error (otters) / 2-norm (POT) of 1e-9: one batch against POT's kernel path."""
    import numpy as np
    _, M, H = grid_histograms(n, k + 1)
    a, B = H[0], np.ascontiguousarray(H[1:].T)
    if lib == "otters":
        import otters
        def run():
            return otters.sinkhorn2(a, B, M, reg, stopThr=1e-9, numItermax=100000, warn=False)
    elif lib in ("POT kernel", "POT log"):
        import ot
        method = "sinkhorn" if lib == "POT kernel" else "sinkhorn_log"
        def run():
            with np.errstate(all="ignore"):
                v = ot.sinkhorn2(a, B, M, reg, method=method, stopThr=1e-9, numItermax=100000)
            v = np.asarray(v, dtype=float)
            if not np.all(np.isfinite(v)):
                raise RuntimeError("POT returned non-finite costs (the kernel underflowed)")
            return v
    else:
        return None
    s, v = timed(run, repeats)
    return {"seconds": s, "value": float(np.sum(v))}


def w19_pairwise(lib, k, repeats, n=200, reg=1e-2):
    """The k × k matrix of sinkhorn2 costs between k histograms on n bins (cost/max = 1,
    threshold 1e-9): otters.pairwise against the double loop a POT user writes."""
    import numpy as np
    _, M, H = grid_histograms(n, k, seed=1)
    if lib == "otters":
        import otters
        def run():
            return otters.pairwise.histograms(M, H, "sinkhorn", reg=reg, threshold=1e-9, max_iterations=100000,
                                              warn=False)
    elif lib in ("POT kernel loop", "POT log loop"):
        import ot
        method = "sinkhorn" if lib == "POT kernel loop" else "sinkhorn_log"
        def run():
            D = np.zeros((k, k))
            for i in range(k):
                for j in range(i, k):
                    D[i, j] = D[j, i] = ot.sinkhorn2(H[i], H[j], M, reg, method=method, stopThr=1e-9,
                                                      numItermax=100000)
            return D
    else:
        return None
    s, D = timed(run, repeats)
    return {"seconds": s, "value": float(np.sum(D))}


def gw_spaces(n):
    """Two clouds in different spaces (2-D and an anisotropic 3-D), squared distances / max."""
    x, y = gw_spaces_points(n)
    C1, C2 = sqdist(x, x), sqdist(y, y)
    return x, y, C1 / C1.max(), C2 / C2.max()


def gw_loss(C1, C2, P):
    """POT's square-loss GW of a plan (the same formula for every library's plan)."""
    import numpy as np
    P = np.asarray(P, dtype=np.float64)
    p, q = P.sum(1), P.sum(0)
    const = (C1 ** 2) @ p[:, None] + ((C2 ** 2) @ q)[None, :]
    return float(np.sum((const - C1 @ P @ (2 * C2).T) * P))


def w7_gw_cg(lib, n, repeats):
    """GW by conditional gradient (POT's gromov_wasserstein defaults) from p q^T."""
    import numpy as np
    _, _, C1, C2 = gw_spaces(n)
    mod = __import__("otters").gromov if lib == "otters" else __import__("ot").gromov
    s, (P, log) = timed(lambda: mod.gromov_wasserstein(C1, C2, log=True), repeats)
    u = np.full(n, 1.0 / n)
    return {"seconds": s, "iterations": len(log["loss"]) - 1, "value": gw_loss(C1, C2, P),
            "error": marginal_error(P, u, u)}


def w7_gw_entropic(lib, n, repeats, eps=1e-2):
    """Entropic GW at POT's convention (Sinkhorn on the gradient 2 L(x)P with eps), to a plan
    change of 1e-9 (POT's default tol; OTT: its cost-change threshold 1e-9, eps/2 since OTT
    linearizes with L(x)P)."""
    import numpy as np
    x, y, C1, C2 = gw_spaces(n)
    u = np.full(n, 1.0 / n)
    if lib == "otters":
        import otters
        s, (P, log) = timed(lambda: otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=eps, log=True),
                            repeats)
        return {"seconds": s, "iterations": log["niter"], "value": gw_loss(C1, C2, P), "error": marginal_error(P, u, u)}
    if lib == "POT":
        import ot
        s, (P, log) = timed(lambda: ot.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=eps, log=True), repeats)
        return {"seconds": s, "iterations": 10 * len(log["err"]), "value": gw_loss(C1, C2, P),
                "error": marginal_error(P, u, u)}
    if lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import geometry
        from ott.problems.quadratic import quadratic_problem
        from ott.solvers.linear import sinkhorn
        from ott.solvers.quadratic import gromov_wasserstein
        gx, gy = geometry.Geometry(cost_matrix=jnp.asarray(C1)), geometry.Geometry(cost_matrix=jnp.asarray(C2))
        solver = gromov_wasserstein.GromovWasserstein(
            sinkhorn.Sinkhorn(threshold=1e-9, max_iterations=1000), epsilon=eps / 2, threshold=1e-9,
            max_iterations=1000, warm_start=True)
        run = jax.jit(lambda: solver(quadratic_problem.QuadraticProblem(gx, gy)))
        s, out = timed(lambda: jax.block_until_ready(run()), repeats)
        P = np.asarray(out.matrix)
        return {"seconds": s, "iterations": int(out.n_iters), "value": gw_loss(C1, C2, P), "error": marginal_error(P, u, u)}
    return None


def w7_lowrank_gw(lib, n, repeats, rank=10):
    """Low-rank GW, rank 10, on W7's spaces (2-D and anisotropic 3-D Gaussians, squared
    distances / max), every library given the same factored costs (POT: as
    cost_factorized_Xs/Xt; otters: the point clouds with the same scale; OTT: LRCGeometry of
    the same factors). value = square-loss GW of each library's factors by one formula (linear
    time), error = L1 marginal error. otters stops at its default threshold 1e-8 (change of the
    iterates / γ², OTT's criterion), "OTT f64" at the same threshold checked every 10 iterations
    (OTT's defaults, a 10000-iteration minimum checked every 2000, take ~290 s at n = 1000 here),
    POT at its default stopThr 1e-4 and, "POT 1e-8", at the threshold of the others."""
    import numpy as np
    x, y = gw_spaces_points(n)

    def factors(p):
        sq = (p * p).sum(1, keepdims=True)
        A = np.concatenate([sq, np.ones_like(sq), -2 * p], 1)
        B = np.concatenate([np.ones_like(sq), sq, p], 1)
        return A, B, max_sqdist(p)

    (Ax, Bx, mx), (Ay, By, my) = factors(x), factors(y)
    Ax, Bx, Ay, By = Ax / np.sqrt(mx), Bx / np.sqrt(mx), Ay / np.sqrt(my), By / np.sqrt(my)

    def value(Q, R, g):
        Q, R, g = (np.asarray(t, dtype=np.float64) for t in (Q, R, g))
        p, q = Q.sum(1), R.sum(1)
        Mx, My = Q.T @ (Ax @ (Bx.T @ Q)), R.T @ (Ay @ (By.T @ R))
        cross = float(np.sum(Mx * My / np.outer(g, g)))
        def const(A, B, w):
            return float(np.sum((A.T * w) @ A * ((B.T * w) @ B)))
        err = float(np.abs(p - 1 / n).sum() + np.abs(q - 1 / n).sum())
        return const(Ax, Bx, p) + const(Ay, By, q) - 2 * cross, err

    if lib == "otters":
        import otters
        gx = otters.PointCloud(x, x, scale_cost=mx)
        gy = otters.PointCloud(y, y, scale_cost=my)
        solver = otters.LowRankGromovWasserstein(rank, warn=False)
        s, out = timed(lambda: solver.solve(otters.QuadraticProblem(gx, gy)), repeats)
        v, err = value(out.q, out.r, out.g)
        return {"seconds": s, "iterations": out.iterations, "value": v, "error": err}
    if lib in ("POT", "POT 1e-8"):
        import ot
        thr = 1e-4 if lib == "POT" else 1e-8
        s, (Q, R, g, log) = timed(lambda: ot.gromov.lowrank_gromov_wasserstein_samples(
            x, y, rank=rank, cost_factorized_Xs=(Ax, Bx), cost_factorized_Xt=(Ay, By), stopThr=thr,
            warn=False, log=True), repeats)
        v, err = value(Q, R, g)
        return {"seconds": s, "iterations": None, "value": v, "error": err}
    if lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import low_rank
        from ott.problems.quadratic import quadratic_problem
        from ott.solvers.quadratic import gromov_wasserstein_lr
        gx = low_rank.LRCGeometry(jnp.asarray(Ax), jnp.asarray(Bx))
        gy = low_rank.LRCGeometry(jnp.asarray(Ay), jnp.asarray(By))
        solver = gromov_wasserstein_lr.LRGromovWasserstein(
            rank=rank, threshold=1e-8, min_iterations=0, inner_iterations=10)
        run = jax.jit(lambda: solver(quadratic_problem.QuadraticProblem(gx, gy)))
        s, out = timed(lambda: jax.block_until_ready(run()), repeats)
        v, err = value(out.q, out.r, out.g)
        return {"seconds": s, "iterations": int(out.n_iters), "value": v, "error": err}
    return None


def gw_spaces_points(n):
    """The points of gw_spaces (same seed), without forming the costs."""
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    y = rng.normal(size=(n, 3)) * np.array([1.0, 0.5, 2.0])
    return x, y


def max_sqdist(p, block=2000):
    """The largest squared distance within a cloud, by blocks (never the n x n matrix)."""
    best = 0.0
    for i in range(0, len(p), block):
        best = max(best, float(sqdist(p[i:i + block], p).max()))
    return best


def w8_lowrank(lib, n, repeats, rank=10):
    """Low-rank OT, rank 10, 2-D Gaussians, squared Euclidean / max; value = <C, Q diag(1/g) R^T>
    of the returned factors (same formula for every library), error = L1 marginal error."""
    import numpy as np
    x, y = gaussians(n, 2)
    cmax = float(sqdist(x, y).max()) if n <= 20000 else None

    def value(Q, R, g):
        Q, R, g = (np.asarray(t, dtype=np.float64) for t in (Q, R, g))
        CR = (x * x).sum(1)[:, None] * R.sum(0)[None, :] + ((y * y).sum(1) @ R)[None, :] - 2 * x @ (y.T @ R)
        P1, P2 = Q.sum(1), R.sum(1)
        err = float(np.abs(P1 - 1 / n).sum() + np.abs(P2 - 1 / n).sum())
        return float(((Q * CR).sum(0) / g).sum()) / (cmax or 1.0), err

    if lib in ("otters", "otters 100 it."):
        import otters
        geom = otters.PointCloud(x, y, scale_cost="max")
        # "otters 100 it.": POT's fixed budget of 100 outer steps (no stopping test).
        fixed = dict(threshold=0.0, min_iterations=100, max_iterations=100) if lib != "otters" else {}
        solver = otters.LowRankSinkhorn(rank, warn=False, **fixed)
        s, out = timed(lambda: solver.solve(otters.LinearProblem(geom)), repeats)
        v, err = value(out.q, out.r, out.g)
        return {"seconds": s, "iterations": out.iterations, "value": v, "error": err}
    if lib == "POT":
        import ot
        s, (Q, R, g) = timed(lambda: ot.lowrank.lowrank_sinkhorn(x, y, rank=rank, warn=False), repeats)
        v, err = value(Q, R, g)
        return {"seconds": s, "iterations": 100, "value": v, "error": err}
    if lib == "OTT f64":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from ott.geometry import pointcloud
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn_lr
        geom = pointcloud.PointCloud(jnp.asarray(x), jnp.asarray(y), scale_cost="max_cost")
        solver = sinkhorn_lr.LRSinkhorn(rank=rank)
        run = jax.jit(lambda: solver(linear_problem.LinearProblem(geom)))
        s, out = timed(lambda: jax.block_until_ready(run()), repeats)
        v, err = value(out.q, out.r, out.g)
        return {"seconds": s, "iterations": int(out.n_iters) if hasattr(out, "n_iters") else None, "value": v,
                "error": err}
    return None


WORKLOADS = {
    # id: (function, libraries, quick sizes, full sizes, what "value" means)
    "W1": (w1_exact, ["otters", "POT", "SciPy"], [1000, 2000], [1000, 2000, 5000]),
    "W2": (w2_dense, ["otters", "POT kernel", "POT log", "OTT f64", "OTT f64 Anderson", "OTT f32"],
           [2000], [5000]),
    "W2/it": (w2_iteration, ["otters", "otters Anderson", "otters f32", "otters f32 Anderson", "POT kernel",
                             "POT log", "OTT f64", "OTT f32"],
              [2000, 5000], [1000, 2000, 5000, 10000]),
    "W2 small eps": (w2_small_eps, ["otters", "POT kernel", "POT log", "OTT f64", "OTT f64 Anderson"],
                     [2000], [5000]),
    "W2 small eps d=64": (functools.partial(w2_small_eps, d=64),
                          ["otters", "POT kernel", "POT log", "OTT f64", "OTT f64 Anderson"], [2000], [2000]),
    "W3/it": (w3_online, ["otters", "otters f32", "OTT online", "OTT online f32", "KeOps", "KeOps f32"], [20000],
              [20000, 100000, 1000000]),
    "W4 divergence": (w4_divergence, ["otters", "POT", "OTT f64", "GeomLoss KeOps"], [2000], [5000]),
    "W5": (w5_1d, ["otters", "POT", "SciPy"], [10**6], [10**6]),
    "W6": (w6_unbalanced, ["otters", "POT TI", "POT plain", "OTT f64"], [2000], [2000]),
    "W7 GW cg": (w7_gw_cg, ["otters", "POT"], [1000], [1000]),
    "W7 GW entropic": (w7_gw_entropic, ["otters", "POT", "OTT f64"], [1000], [1000]),
    "W7 low-rank GW": (w7_lowrank_gw, ["otters", "POT", "POT 1e-8", "OTT f64"], [1000], [1000, 10000]),
    "W8 lowrank": (w8_lowrank, ["otters", "otters 100 it.", "POT", "OTT f64"], [5000], [50000, 100000]),
    "W9 1-D fixed support": (w9_fixed_support, ["otters", "POT", "POT log"], [200], [200, 1000]),
    "W9 convolutional": (w9_convolutional, ["otters", "POT", "POT log"], [64], [64, 128]),
    "W9 free support": (w9_free_support, ["otters", "POT"], [500], [500]),
    "W11 gaussian": (w11_gaussian, ["otters", "POT"], [2000], [2000]),
    "W12 soft ranks": (w12_soft_ranks, ["otters", "OTT f64"], [1000], [1000, 5000]),
    "W13 entropic map": (w13_entropic_map, ["otters", "OTT f64"], [2000], [2000, 10000]),
    "W14 monge gap": (w14_monge_gap, ["otters", "OTT f64"], [1000], [1000, 5000]),
    "W15 gmm": (w15_gmm, ["otters", "POT"], [2000], [2000, 100000]),
    "W16 sinkformer": (w16_sinkformer, ["otters", "PyTorch f64"], [1000], [1000, 4000]),
    "W17 elastic map": (w17_elastic_map, ["otters", "OTT f64"], [2000], [2000]),
    "W18 batched": (w18_batched, ["otters", "POT kernel", "POT log"], [1000], [1000]),
    "W18 batched small reg": (functools.partial(w18_batched, reg=1e-3), ["otters", "POT kernel", "POT log"],
                              [1000], [1000]),
    "W19 pairwise": (w19_pairwise, ["otters", "POT kernel loop", "POT log loop"], [100], [100]),
    "W10 uot 1d": (w10_uot_1d, ["otters", "POT", "POT 1000 steps"], [10000], [10000, 100000]),
}
# Peers too slow at some sizes to be worth the wait (they are listed as skipped).
SKIP = {("W1", "SciPy", 5000), ("W2/it", "POT log", 10000), ("W3/it", "KeOps", 100000),
        ("W3/it", "KeOps f32", 1000000), ("W3/it", "OTT online f32", 100000), ("W3/it", "OTT online f32", 1000000),
        ("W3/it", "OTT online", 100000), ("W3/it", "KeOps", 1000000), ("W3/it", "OTT online", 1000000),
        ("W8 lowrank", "POT", 100000), ("W8 lowrank", "OTT f64", 100000)}


def child(args):
    fn = WORKLOADS[args.child][0]
    result = fn(args.lib, args.size, args.repeats)
    print("RESULT " + json.dumps(result))


# ----------------------------------------------------------------------------------------
# Parent: environment, one process per (workload, library, size), table.
# ----------------------------------------------------------------------------------------

def ensure_venv():
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with the pinned peers (bench/requirements.txt; a few GB)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(ROOT / "bench" / "requirements.txt")], check=True)
    print("building otters into the benchmark environment (maturin, release)...", flush=True)
    env = dict(os.environ, VIRTUAL_ENV=str(VENV), PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    subprocess.run([str(VENV / "bin" / "maturin"), "develop", "--release", "--locked", "--quiet",
                    "-m", str(ROOT / "crates" / "otters-py" / "Cargo.toml")], check=True, env=env)
    return str(py)


def run_child(python, workload, lib, size, repeats, timeout):
    cmd = [python, __file__, "--child", workload, "--lib", lib, "--size", str(size), "--repeats", str(repeats)]
    env = dict(os.environ, PYTHONWARNINGS="ignore", KEOPS_VERBOSE="0", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"failed": f"timed out after {timeout} s"}
    # communicate() reaped the child: its rusage was folded into RUSAGE_CHILDREN, so read the
    # peak from the status line the child prints itself instead.
    for line in out.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            if res is None:
                return None
            peak = [l for l in out.splitlines() if l.startswith("PEAK ")]
            if peak:
                res["peak_mb"] = float(peak[-1].split()[1])
            return res
    lines = err.strip().splitlines() or ["no output"]
    errors = [l for l in lines if "Error" in l or "Exception" in l]
    return {"failed": (errors or lines)[-1].strip()[:160]}


def fmt_seconds(s):
    if s is None:
        return "–"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_num(v, spec):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the sizes of BENCHMARKS.md")
    parser.add_argument("--only", nargs="*", help="workload ids, e.g. W2 W5")
    parser.add_argument("--libs", nargs="*", help="only these libraries, e.g. otters 'POT kernel'")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per (workload, library, size)")
    parser.add_argument("--python", help="an interpreter that already has otters and the peers")
    parser.add_argument("--write", help="also write the table as Markdown to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            child(args)
        finally:
            import resource
            print(f"PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
        return

    python = args.python or ensure_venv()
    versions = subprocess.run([python, "-c", (
        "import importlib.metadata as m\n"
        "for p in ['otters','pot','ott-jax','jax','geomloss','pykeops','torch','scipy','numpy']:\n"
        "    try: print(p, m.version(p))\n"
        "    except Exception: print(p, 'missing')")], capture_output=True, text=True).stdout.split("\n")
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    header = [f"# otters benchmarks — {time.strftime('%Y-%m-%d')}",
              "",
              f"Machine: {cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}. "
              f"Versions: {', '.join(v for v in versions if v)}.",
              f"Command: `python3 bench/run.py{' --full' if args.full else ''}"
              f"{' --only ' + ' '.join(args.only) if args.only else ''}`; median of {args.repeats} "
              "runs after a warm-up, one process per row.",
              "",
              "| workload | n | library | time | iterations | error / value | peak MB | peer/otters |",
              "|---|---|---|---|---|---|---|---|"]
    print("\n".join(header), flush=True)
    rows = []
    scaling = {}
    for wid, (fn, libs, quick, full) in WORKLOADS.items():
        if args.only and not any(wid == o or wid.startswith(o + "/") or wid.startswith(o + " ") for o in args.only):
            continue
        for size in (full if args.full else quick):
            base = None
            for lib in libs:
                if args.libs and lib not in args.libs:
                    continue
                if (wid, lib, size) in SKIP:
                    line = f"| {wid} | {size} | {lib} | skipped (too slow at this size) | | | | |"
                    print(line, flush=True)
                    rows.append(line)
                    continue
                res = run_child(python, wid, lib, size, args.repeats, args.timeout)
                if res is None:
                    continue
                if "failed" in res:
                    line = f"| {wid} | {size} | {lib} | failed: {res['failed']} | | | | |"
                else:
                    s = res["seconds"]
                    if lib == "otters":
                        base = s
                        scaling.setdefault(wid, []).append((size, s))
                    acc = ""
                    if res.get("error") is not None:
                        acc = f"err {fmt_num(res['error'], '.1e')}"
                    if res.get("value") is not None:
                        acc += ("; " if acc else "") + f"{res['value']:.10g}"
                    if res.get("note"):
                        acc += f" ({res['note']})"
                    unit = "/it" if res.get("per_iteration") is not None else ""
                    ratio = "" if lib.startswith("otters") or base is None else f"{s / base:.2f}×"
                    line = (f"| {wid} | {size} | {lib} | {fmt_seconds(s)}{unit} | {res.get('iterations') or ''} | "
                            f"{acc} | {fmt_num(res.get('peak_mb'), '.0f')} | {ratio} |")
                print(line, flush=True)
                rows.append(line)
    notes = []
    for wid, pts in scaling.items():
        if len(pts) >= 2 and wid.endswith("/it"):
            xs = [math.log(n) for n, _ in pts]
            ys = [math.log(s) for _, s in pts]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            notes.append(f"- {wid}: otters time per iteration grows as n^{slope:.2f} over n = "
                         f"{', '.join(str(n) for n, _ in pts)} (n·m work: 2).")
    if notes:
        print("\n" + "\n".join(notes))
    if args.write:
        Path(args.write).write_text("\n".join(header + rows) + "\n\n" + "\n".join(notes) + "\n")
        print(f"\nwrote {args.write}")


if __name__ == "__main__":
    main()
