#!/usr/bin/env python3
"""Generate the POT / SciPy cross-check fixtures in testdata/ (run by hand, not in CI).

Every case is a random entropic OT problem solved by POT far past its default tolerance; a
case is written only if it certifies itself (the solution satisfies its own optimality
conditions to 1e-9), since a reference can be wrong too. The Rust tests
(crates/otters/tests/pot_fixtures.rs) and the Python tests read the same files.

Conventions stored per case: the cost (or the points it comes from), weights a and b, the
regularization `epsilon` (POT's `reg`), the marginal strengths `rho_a`/`rho_b` (POT's
`reg_m`, null for a hard marginal), POT's log-scalings `log_u`, `log_v` such that
P = exp(log_u[:,None] + log_v[None,:] - C/eps) * a[:,None] * b[None,:] (the KL-to-a⊗b
convention), the linear cost <C,P> and the primal objective
<C,P> + eps KL(P|a⊗b) + rho_a KL(P1|a) + rho_b KL(P^T1|b).

Exact OT (testdata/pot_exact.json): random problems of varied shapes, costs (including
integer costs full of ties) and weights (including zeros), solved by POT's `emd` and, when
square with uniform weights, by SciPy's `linear_sum_assignment`; a case is kept only when
POT reports convergence, its duals close the duality gap to 1e-9, and SciPy agrees.
1-D OT (testdata/pot_1d.json): `ot.wasserstein_1d` for several p, checked against
`scipy.stats.wasserstein_distance` for p = 1.
Gromov-Wasserstein (testdata/pot_gw.json): POT's conditional-gradient and entropic GW and
fused GW (square and KL losses, symmetric and asymmetric costs), kept only when the reported
loss equals the brute-force sum over the n^2 m^2 tensor to 1e-12 and the plan's marginals
are exact to 1e-9 (the entropic cases run Sinkhorn far past POT's defaults).

Unbalanced GW (testdata/pot_ugw.json): POT's `fused_unbalanced_gromov_wasserstein` with
`unbalanced_solver="sinkhorn"` (epsilon > 0), weights of unequal masses, symmetric and
asymmetric costs, fused or not, run far past POT's defaults; a case is kept only when POT's
alternation converged (its last L1 plan change is below the tolerance before the budget ran
out), a rerun with a ten times tighter inner tolerance gives the same plans to 1e-11, and
POT's `fugw_cost` equals the objective recomputed by brute force (the n^2 m^2 tensor and
KL(pi x gamma | (a x b) x (a x b)) entry by entry) to 1e-10.

Usage: .venv/bin/python scripts/make_fixtures.py [exact|1d|sinkhorn|gw|ugw ...]
(regenerates every file, or only those named)
"""

import json
import sys
from pathlib import Path

import numpy as np
import ot
import scipy
from scipy.optimize import linear_sum_assignment
from scipy.stats import wasserstein_distance

SEED = 20261122
TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
OUT = TESTDATA / "pot_sinkhorn.json"


def kl(p, q):
    """Generalized KL(p|q) = sum p log(p/q) - p + q, with 0 log 0 = 0."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])) - p.sum() + q.sum())


def make_cost(rng, n, m, kind):
    if kind == "sqeuclidean":
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 0.5
        return {"x": x.tolist(), "y": y.tolist(), "cost_fn": kind}, ot.dist(x, y, "sqeuclidean")
    if kind == "euclidean":
        x, y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
        return {"x": x.tolist(), "y": y.tolist(), "cost_fn": kind}, ot.dist(x, y, "euclidean")
    c = rng.uniform(size=(n, m))
    return {"cost": c.tolist()}, c


def make_weights(rng, n, kind, mass=1.0):
    if kind == "uniform":
        w = np.full(n, 1.0 / n)
    else:
        w = rng.uniform(0.1, 1.0, size=n)
        if kind == "zeros" and n > 2:
            w[rng.choice(n, size=max(1, n // 5), replace=False)] = 0.0
        w /= w.sum()
    return w * mass


def plan_from(log_u, log_v, a, b, c, eps):
    with np.errstate(divide="ignore"):
        return np.exp(log_u[:, None] + log_v[None, :] - c / eps) * a[:, None] * b[None, :]


def balanced_case(rng, name, n, m, cost_kind, weight_kind, eps_rel):
    data, c = make_cost(rng, n, m, cost_kind)
    a, b = make_weights(rng, n, weight_kind), make_weights(rng, m, weight_kind)
    eps = eps_rel * float(np.median(c)) if c.size > 1 else eps_rel
    # POT's log-domain solver, far past its default tolerance.
    p, log = ot.sinkhorn(a, b, c, eps, method="sinkhorn_log", numItermax=200000, stopThr=1e-14, log=True, warn=False)
    # POT's log_u/log_v scale the Gibbs kernel exp(-C/eps); rewrite them for the a⊗b reference.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_u = np.asarray(log["log_u"]) - np.log(a)
        log_v = np.asarray(log["log_v"]) - np.log(b)
    log_u[a == 0] = 0.0
    log_v[b == 0] = 0.0
    plan = plan_from(log_u, log_v, a, b, c, eps)
    err = np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - b).sum()
    if not (err < 1e-9 and np.allclose(plan, p, rtol=1e-10, atol=1e-14)):
        print(f"skip {name}: POT did not certify (marginal error {err:.2e})", file=sys.stderr)
        return None
    linear = float(np.sum(plan * c))
    objective = linear + eps * kl(plan.ravel(), np.outer(a, b).ravel())
    return {
        "name": name, "kind": "balanced", **data, "a": a.tolist(), "b": b.tolist(), "epsilon": eps,
        "rho_a": None, "rho_b": None, "log_u": log_u.tolist(), "log_v": log_v.tolist(),
        "linear_cost": linear, "objective": objective, "pot_marginal_error": err,
    }


def unbalanced_case(rng, name, n, m, cost_kind, weight_kind, eps_rel, rho_a, rho_b, mass_b):
    data, c = make_cost(rng, n, m, cost_kind)
    a, b = make_weights(rng, n, weight_kind), make_weights(rng, m, weight_kind, mass_b)
    eps = eps_rel * float(np.median(c)) if c.size > 1 else eps_rel
    reg_m = (np.inf if rho_a is None else rho_a, np.inf if rho_b is None else rho_b)
    p, log = ot.unbalanced.sinkhorn_unbalanced(
        a, b, c, eps, reg_m, method="sinkhorn_stabilized", reg_type="kl",
        numItermax=200000, stopThr=1e-15, log=True,
    )
    p_plain = ot.unbalanced.sinkhorn_unbalanced(
        a, b, c, eps, reg_m, method="sinkhorn", reg_type="kl", numItermax=200000, stopThr=1e-15,
    )
    # The stabilized solver's log-scalings are f/eps and g/eps for the kernel exp(-C/eps) a⊗b.
    lu, lv = np.asarray(log["logu"], float), np.asarray(log["logv"], float)
    lu[a == 0] = 0.0
    lv[b == 0] = 0.0
    plan = plan_from(lu, lv, a, b, c, eps)
    f, g = eps * lu, eps * lv
    res_a = np.abs(plan.sum(1) - (a if rho_a is None else a * np.exp(-f / rho_a))).sum()
    res_b = np.abs(plan.sum(0) - (b if rho_b is None else b * np.exp(-g / rho_b))).sum()
    agree = np.allclose(p, p_plain, rtol=1e-8, atol=1e-13) and np.allclose(plan, p, rtol=1e-9, atol=1e-14)
    if not (res_a + res_b < 1e-9 and agree):
        print(f"skip {name}: POT did not certify (residual {res_a + res_b:.2e}, agree {agree})", file=sys.stderr)
        return None
    linear = float(np.sum(plan * c))
    objective = linear + eps * kl(plan.ravel(), np.outer(a, b).ravel())
    if rho_a is not None:
        objective += rho_a * kl(plan.sum(1), a)
    if rho_b is not None:
        objective += rho_b * kl(plan.sum(0), b)
    return {
        "name": name, "kind": "unbalanced", **data, "a": a.tolist(), "b": b.tolist(), "epsilon": eps,
        "rho_a": rho_a, "rho_b": rho_b, "log_u": lu.tolist(), "log_v": lv.tolist(),
        "linear_cost": linear, "objective": objective, "pot_marginal_error": float(res_a + res_b),
    }


def exact_case(rng, name, n, m, cost_kind, weight_kind):
    if cost_kind == "integer":
        c = rng.integers(0, 4, size=(n, m)).astype(float)
        data = {"cost": c.tolist()}
    elif cost_kind == "raw":
        c = rng.uniform(size=(n, m))
        data = {"cost": c.tolist()}
    else:
        data, c = make_cost(rng, n, m, cost_kind)
    a, b = make_weights(rng, n, weight_kind), make_weights(rng, m, weight_kind)
    plan, log = ot.emd(a, b, c, numItermax=10**8, log=True)
    gap = abs(float(np.dot(a, log["u"]) + np.dot(b, log["v"])) - log["cost"])
    if log["warning"] is not None or gap > 1e-9 * max(1.0, abs(log["cost"])):
        print(f"skip {name}: POT did not certify ({log['warning']}, gap {gap:.1e})", file=sys.stderr)
        return None
    case = {"name": name, **data, "a": a.tolist(), "b": b.tolist(), "cost_value": float(log["cost"]), "pot_gap": gap}
    if n == m and weight_kind == "uniform":
        rows, cols = linear_sum_assignment(c)
        lsa = float(c[rows, cols].sum() / n)
        if abs(lsa - log["cost"]) > 1e-9 * max(1.0, abs(lsa)):
            print(f"skip {name}: SciPy and POT disagree ({lsa} vs {log['cost']})", file=sys.stderr)
            return None
        case["scipy_lsa"] = lsa
    return case


def exact_fixtures():
    rng = np.random.default_rng(SEED + 1)
    shapes = [(1, 1), (1, 7), (5, 1), (2, 3), (3, 3), (8, 8), (13, 21), (21, 13), (30, 30), (40, 25), (64, 64), (100, 80)]
    kinds = ["sqeuclidean", "euclidean", "raw", "integer"]
    weights = ["uniform", "random", "zeros"]
    cases = []
    for (n, m) in shapes:
        for cost_kind in kinds:
            for weight_kind in weights:
                if cost_kind in ("raw", "integer") and n * m > 30 * 30:
                    continue
                if weight_kind == "zeros" and min(n, m) < 3:
                    continue
                name = f"exact_{n}x{m}_{cost_kind}_{weight_kind}"
                case = exact_case(rng, name, n, m, cost_kind, weight_kind)
                if case:
                    cases.append(case)
    meta = {"generator": "scripts/make_fixtures.py", "seed": SEED + 1, "pot_version": ot.__version__,
            "scipy_version": scipy.__version__, "numpy_version": np.__version__, "cases": cases}
    (TESTDATA / "pot_exact.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} exact cases")


def one_d_fixtures():
    rng = np.random.default_rng(SEED + 2)
    cases = []
    for k, (n, m) in enumerate([(1, 1), (1, 9), (7, 3), (50, 50), (200, 130), (33, 77)]):
        for p in [1.0, 1.5, 2.0, 3.0]:
            for weighted in [False, True]:
                x = rng.normal(size=n)
                y = rng.normal(size=m) * 2.0 + 0.5
                if k % 2 == 1:
                    x = np.round(x, 1)  # ties
                a = rng.uniform(0.1, 1.0, n) if weighted else None
                b = rng.uniform(0.1, 1.0, m) if weighted else None
                if weighted:
                    a, b = a / a.sum(), b / b.sum()
                value = float(ot.wasserstein_1d(x, y, a, b, p=p))
                if p == 1.0:
                    scipy_value = wasserstein_distance(x, y, a, b)
                    if abs(scipy_value - value) > 1e-9 * max(1.0, value):
                        print(f"skip 1d case: SciPy {scipy_value} vs POT {value}", file=sys.stderr)
                        continue
                cases.append({"name": f"1d_{n}x{m}_p{p}_{'weighted' if weighted else 'uniform'}", "x": x.tolist(), "y": y.tolist(),
                              "a": None if a is None else a.tolist(), "b": None if b is None else b.tolist(), "p": p, "value": value})
    meta = {"generator": "scripts/make_fixtures.py", "seed": SEED + 2, "pot_version": ot.__version__,
            "scipy_version": scipy.__version__, "cases": cases}
    (TESTDATA / "pot_1d.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} 1-D cases")


def main():
    chosen = set(sys.argv[1:]) or {"exact", "1d", "sinkhorn", "gw", "ugw"}
    for name, make in [("exact", exact_fixtures), ("1d", one_d_fixtures),
                       ("sinkhorn", sinkhorn_fixtures), ("gw", gw_fixtures),
                       ("ugw", ugw_fixtures)]:
        if name in chosen:
            make()


def gw_brute(c1, c2, t, loss):
    """sum_ijkl L(C1_ik, C2_jl) T_ij T_kl by the full tensor (small n only)."""
    a, b = c1[:, None, :, None], c2[None, :, None, :]
    if loss == "square_loss":
        L = (a - b) ** 2
    else:
        L = a * np.log(a + 1e-18) - a - a * np.log(b + 1e-18) + b
    return float(np.einsum("ijkl,ij,kl->", L, t, t))


def gw_case(rng, name, n, m, solver, loss="square_loss", asymmetric=False, fused=None,
            epsilon=None, weights="uniform"):
    xs, xt = rng.normal(size=(n, 2)), rng.normal(size=(m, 3))
    c1, c2 = ot.dist(xs, xs), ot.dist(xt, xt)
    c1, c2 = c1 / c1.max(), c2 / c2.max()
    if asymmetric:
        c1 = c1 + 0.3 * rng.uniform(size=(n, n))
    if loss == "kl_loss":
        c1, c2 = c1 + 0.1, c2 + 0.1
    p = make_weights(rng, n, weights)
    q = make_weights(rng, m, weights)
    M = None
    if fused is not None:
        M = ot.dist(xs, xt[:, :2])
        M = M / M.max()
    if solver == "cg" and M is None:
        t, log = ot.gromov.gromov_wasserstein(c1, c2, p, q, loss, log=True)
        value = log["gw_dist"]
    elif solver == "cg":
        t, log = ot.gromov.fused_gromov_wasserstein(M, c1, c2, p, q, loss, alpha=fused, log=True)
        value = log["fgw_dist"]
    elif M is None:
        t, log = ot.gromov.entropic_gromov_wasserstein(
            c1, c2, p, q, loss, epsilon=epsilon, log=True, max_iter=5000, tol=1e-11,
            numItermax=200000, stopThr=1e-13)
        value = log["gw_dist"]
    else:
        t, log = ot.gromov.entropic_fused_gromov_wasserstein(
            M, c1, c2, p, q, loss, epsilon=epsilon, alpha=fused, log=True, max_iter=5000,
            tol=1e-11, numItermax=200000, stopThr=1e-13)
        value = log["fgw_dist"]
    gw = gw_brute(c1, c2, t, loss)
    alpha = 1.0 if fused is None else fused
    lin = 0.0 if M is None else float(np.sum(M * t))
    brute = (1 - alpha) * lin + alpha * gw
    marg = np.abs(t.sum(1) - p).sum() + np.abs(t.sum(0) - q).sum()
    if abs(brute - value) > 1e-12 * max(1.0, abs(value)) or marg > 1e-9:
        print(f"  dropped {name}: brute {brute} vs {value}, marginal error {marg:.1e}")
        return None
    return {"name": name, "solver": solver, "loss": loss, "epsilon": epsilon,
            "alpha": fused, "c1": c1.tolist(), "c2": c2.tolist(),
            "M": None if M is None else M.tolist(), "p": p.tolist(), "q": q.tolist(),
            "plan": t.tolist(), "value": value, "gw_loss": gw}


def gw_fixtures():
    rng = np.random.default_rng(SEED + 7)
    specs = [
        ("cg_square_20x15", 20, 15, "cg", {}),
        ("cg_square_random_weights_12x18", 12, 18, "cg", {"weights": "random"}),
        ("cg_kl_14x14", 14, 14, "cg", {"loss": "kl_loss"}),
        ("cg_square_asymmetric_16x11", 16, 11, "cg", {"asymmetric": True}),
        ("cg_fused_alpha0.5_18x13", 18, 13, "cg", {"fused": 0.5}),
        ("cg_fused_alpha0.9_kl_10x12", 10, 12, "cg", {"fused": 0.9, "loss": "kl_loss"}),
        ("entropic_square_eps0.1_20x15", 20, 15, "entropic", {"epsilon": 0.1}),
        ("entropic_square_eps0.02_15x15", 15, 15, "entropic", {"epsilon": 0.02}),
        ("entropic_kl_eps0.05_12x9", 12, 9, "entropic", {"epsilon": 0.05, "loss": "kl_loss"}),
        ("entropic_asymmetric_eps0.05_11x13", 11, 13, "entropic", {"epsilon": 0.05, "asymmetric": True}),
        ("entropic_fused_alpha0.5_eps0.05_16x14", 16, 14, "entropic", {"epsilon": 0.05, "fused": 0.5}),
    ]
    cases = []
    for name, n, m, solver, kw in specs:
        case = gw_case(rng, name, n, m, solver, **kw)
        if case:
            cases.append(case)
    meta = {"generator": "scripts/make_fixtures.py", "seed": SEED + 7,
            "pot_version": ot.__version__, "numpy_version": np.__version__, "cases": cases}
    (TESTDATA / "pot_gw.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} GW cases")


def ugw_brute(c1, c2, p, q, pi, gamma, rho_x, rho_y, eps, M, alpha):
    """POT's FUGW objective from its definition, by the full tensors (small n only)."""
    gw = gw_brute_pair(c1, c2, pi, gamma)
    value = gw
    if M is not None:
        value += alpha / 2 * float(np.sum(M * (pi + gamma)))
    value += rho_x * kl(np.kron(pi.sum(1), gamma.sum(1)), np.kron(p, p))
    value += rho_y * kl(np.kron(pi.sum(0), gamma.sum(0)), np.kron(q, q))
    pq = np.outer(p, q).ravel()
    value += eps * kl(np.kron(pi.ravel(), gamma.ravel()), np.kron(pq, pq))
    return gw, value


def gw_brute_pair(c1, c2, pi, gamma):
    """sum_ijkl (C1_ik - C2_jl)^2 pi_ij gamma_kl."""
    L = (c1[:, None, :, None] - c2[None, :, None, :]) ** 2
    return float(np.einsum("ijkl,ij,kl->", L, pi, gamma))


def ugw_case(rng, name, n, m, rho, eps, mass_b=1.0, asymmetric=False, alpha=0.0,
             weights="random"):
    xs, xt = rng.normal(size=(n, 2)), rng.normal(size=(m, 3))
    c1, c2 = ot.dist(xs, xs), ot.dist(xt, xt)
    c1, c2 = c1 / c1.max(), c2 / c2.max()
    if asymmetric:
        c1 = c1 + 0.3 * rng.uniform(size=(n, n))
    p = make_weights(rng, n, weights)
    q = make_weights(rng, m, weights, mass=mass_b)
    M = None
    if alpha > 0:
        M = ot.dist(xs, xt[:, :2])
        M = M / M.max()
    runs = []
    for tol_ot in (1e-12, 1e-13):
        try:
            pi, gamma, log = ot.gromov.fused_unbalanced_gromov_wasserstein(
                c1, c2, wx=p, wy=q, reg_marginals=rho, epsilon=eps,
                unbalanced_solver="sinkhorn", alpha=alpha, M=M, max_iter=5000, tol=1e-11,
                max_iter_ot=200000, tol_ot=tol_ot, log=True)
        except ValueError as err:  # POT's "NaN in coupling"
            print(f"  dropped {name}: POT failed ({' '.join(str(err).split())})")
            return None
        runs.append((pi, gamma, log))
    pi, gamma, log = runs[0]
    errors = [float(e) for e in log["error"]]
    rho_x, rho_y = (rho, rho) if np.isscalar(rho) else rho
    gw, brute = ugw_brute(c1, c2, p, q, pi, gamma, rho_x, rho_y, eps, M, alpha)
    rerun = max(np.abs(pi - runs[1][0]).max(), np.abs(gamma - runs[1][1]).max())
    value = float(log["fugw_cost"])
    if not errors or errors[-1] >= 1e-11 or len(errors) >= 5000:
        print(f"  dropped {name}: not converged ({len(errors)} iterations, last {errors[-1]:.1e})")
        return None
    if rerun > 1e-11 or abs(brute - value) > 1e-10 * max(1.0, abs(value)):
        print(f"  dropped {name}: rerun {rerun:.1e}, brute {brute} vs {value}")
        return None
    print(f"  {name}: {len(errors)} iterations, mass {pi.sum():.6f}, cost {value:.9f}")
    return {"name": name, "rho_a": rho_x, "rho_b": rho_y, "epsilon": eps, "alpha": alpha,
            "c1": c1.tolist(), "c2": c2.tolist(), "M": None if M is None else M.tolist(),
            "p": p.tolist(), "q": q.tolist(), "plan": pi.tolist(), "second_plan": gamma.tolist(),
            "fugw_cost": value, "gw_loss": gw, "linear_cost": float(log["linear_cost"]),
            "iterations": len(errors)}


def ugw_fixtures():
    rng = np.random.default_rng(SEED + 11)
    specs = [
        ("rho1_eps0.1_uniform_12x10", 12, 10, 1.0, 0.1, {"weights": "uniform"}),
        ("rho0.5_eps0.05_mass1.5_11x13", 11, 13, 0.5, 0.05, {"mass_b": 1.5}),
        ("rho2_eps0.02_mass0.7_14x9", 14, 9, 2.0, 0.02, {"mass_b": 0.7}),
        ("rho(0.3,3)_eps0.1_asymmetric_10x12", 10, 12, (0.3, 3.0), 0.1, {"asymmetric": True}),
        ("fused_alpha0.5_rho1_eps0.05_13x11", 13, 11, 1.0, 0.05, {"alpha": 0.5, "mass_b": 1.2}),
        ("rho10_eps0.05_12x12", 12, 12, 10.0, 0.05, {}),
    ]
    cases = []
    for name, n, m, rho, eps, kw in specs:
        case = ugw_case(rng, name, n, m, rho, eps, **kw)
        if case:
            cases.append(case)
    meta = {"generator": "scripts/make_fixtures.py", "seed": SEED + 11,
            "pot_version": ot.__version__, "numpy_version": np.__version__,
            "function": "ot.gromov.fused_unbalanced_gromov_wasserstein(unbalanced_solver='sinkhorn')",
            "cases": cases}
    (TESTDATA / "pot_ugw.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} UGW cases")


def sinkhorn_fixtures():
    rng = np.random.default_rng(SEED)
    cases = []
    shapes = [(1, 1), (1, 5), (6, 1), (3, 4), (17, 29), (40, 40), (64, 50)]
    kinds = ["sqeuclidean", "euclidean", "raw"]
    weights = ["uniform", "random", "zeros"]
    k = 0
    for (n, m) in shapes:
        for eps_rel in [1.0, 0.1, 0.01]:
            cost_kind, weight_kind = kinds[k % 3], weights[(k // 3) % 3]
            k += 1
            case = balanced_case(rng, f"balanced_{n}x{m}_{cost_kind}_{weight_kind}_eps{eps_rel}", n, m, cost_kind, weight_kind, eps_rel)
            if case:
                cases.append(case)
    k = 0
    for (n, m) in [(1, 1), (3, 4), (17, 29), (40, 40), (64, 50)]:
        for rho, (side_a, side_b) in [(0.1, (True, True)), (1.0, (True, True)), (10.0, (True, True)), (1.0, (False, True)), (1.0, (True, False))]:
            eps_rel = [1.0, 0.1][k % 2]
            cost_kind, weight_kind = kinds[k % 3], weights[(k // 2) % 2]
            k += 1
            rho_a = rho if side_a else None
            rho_b = rho if side_b else None
            name = f"unbalanced_{n}x{m}_{cost_kind}_{weight_kind}_eps{eps_rel}_rho{rho_a}_{rho_b}"
            case = unbalanced_case(rng, name, n, m, cost_kind, weight_kind, eps_rel, rho_a, rho_b, mass_b=1.7)
            if case:
                cases.append(case)
    meta = {
        "generator": "scripts/make_fixtures.py",
        "seed": SEED,
        "pot_version": ot.__version__,
        "numpy_version": np.__version__,
        "cases": cases,
    }
    OUT.write_text(json.dumps(meta, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    with np.errstate(divide="ignore"):  # log(0) of zero weights inside POT is expected
        main()
