"""Gromov–Wasserstein: the POT face against POT itself (same inputs, same numbers), the
object face against the POT face, and bad inputs naming their argument."""

import numpy as np
import ot
import pytest

import otters


def clouds(n=20, m=16, seed=0):
    rng = np.random.default_rng(seed)
    xs, xt = rng.normal(size=(n, 2)), rng.normal(size=(m, 3))
    C1, C2 = ot.dist(xs, xs), ot.dist(xt, xt)
    M = ot.dist(xs, xt[:, :2])
    return xs, xt, C1 / C1.max(), C2 / C2.max(), M / M.max()


@pytest.mark.parametrize("loss_fun", ["square_loss", "kl_loss"])
def test_conditional_gradient_matches_pot(loss_fun):
    _, _, C1, C2, _ = clouds()
    if loss_fun == "kl_loss":
        C1, C2 = C1 + 0.1, C2 + 0.1
    rng = np.random.default_rng(1)
    p, q = rng.uniform(0.2, 1, 20), rng.uniform(0.2, 1, 16)
    p, q = p / p.sum(), q / q.sum()
    T, log = otters.gromov.gromov_wasserstein(C1, C2, p, q, loss_fun, log=True)
    T_pot, log_pot = ot.gromov.gromov_wasserstein(C1, C2, p, q, loss_fun, log=True)
    np.testing.assert_allclose(T, T_pot, atol=1e-10)
    assert abs(log["gw_dist"] - log_pot["gw_dist"]) < 1e-10
    assert log["converged"]
    assert abs(otters.gromov.gromov_wasserstein2(C1, C2, p, q, loss_fun) - log_pot["gw_dist"]) < 1e-10


def test_fused_and_asymmetric_match_pot():
    _, _, C1, C2, M = clouds(18, 14, seed=3)
    A = C1 + 0.3 * np.random.default_rng(2).uniform(size=C1.shape)
    T = otters.gromov.gromov_wasserstein(A, C2)
    np.testing.assert_allclose(T, ot.gromov.gromov_wasserstein(A, C2), atol=1e-10)
    for alpha in (0.2, 0.5, 0.9):
        v, log = otters.gromov.fused_gromov_wasserstein2(M, C1, C2, alpha=alpha, log=True)
        v_pot, log_pot = ot.gromov.fused_gromov_wasserstein2(M, C1, C2, alpha=alpha, log=True)
        assert abs(v - v_pot) < 1e-10
        assert abs(log["lin_loss"] - log_pot["lin_loss"]) < 1e-10
        assert abs(log["quad_loss"] - log_pot["quad_loss"]) < 1e-10


@pytest.mark.parametrize("epsilon", [0.1, 0.02])
def test_entropic_matches_pot(epsilon):
    _, _, C1, C2, M = clouds()
    tight = dict(numItermax=200_000, stopThr=1e-13)
    T = otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=epsilon, tol=1e-11, stopThr=1e-13)
    T_pot = ot.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=epsilon, tol=1e-11, max_iter=5000, **tight)
    np.testing.assert_allclose(T, T_pot, atol=1e-8)
    v = otters.gromov.entropic_fused_gromov_wasserstein2(M, C1, C2, epsilon=epsilon, alpha=0.5, tol=1e-11,
                                                         stopThr=1e-13)
    v_pot = ot.gromov.entropic_fused_gromov_wasserstein2(M, C1, C2, epsilon=epsilon, alpha=0.5, tol=1e-11,
                                                         max_iter=5000, **tight)
    assert abs(v - v_pot) < 1e-8


def test_object_face_agrees_and_point_clouds_equal_stored_costs():
    xs, xt, C1, C2, _ = clouds(25, 20, seed=5)
    dense = otters.QuadraticProblem(otters.DenseCost(C1), otters.DenseCost(C2))
    cloud = otters.QuadraticProblem(otters.PointCloud(xs, scale_cost="max"), otters.PointCloud(xt, scale_cost="max"))
    for solver in (otters.ConditionalGradientGW(), otters.GromovWasserstein(0.05)):
        a, b = solver.solve(dense), solver.solve(cloud)
        assert a.converged and b.converged
        np.testing.assert_allclose(a.plan, b.plan, atol=1e-9)
        assert abs(a.loss - b.loss) < 1e-9
    out = otters.ConditionalGradientGW().solve(dense)
    assert abs(out.loss - otters.gromov.gromov_wasserstein2(C1, C2)) < 1e-12


def test_a_reversed_copy_gives_the_anti_diagonal_plan():
    x = np.sort(np.random.default_rng(4).normal(size=(30, 1)), axis=0)
    C = otters.dist(x, x)
    T, log = otters.gromov.gromov_wasserstein(C, C[::-1, ::-1], log=True)
    np.testing.assert_allclose(T, np.eye(30)[::-1] / 30, atol=1e-12)
    assert abs(log["gw_dist"]) < 1e-12


def test_bad_inputs_name_their_argument():
    _, _, C1, C2, M = clouds(6, 5)
    cases = [
        (lambda: otters.gromov.gromov_wasserstein(C1[:, :4], C2), "C1"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2[:4]), "C2"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, p=np.ones(4) / 4), "p"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, q=[0.5, 0.5, 0.0, 0.0, -0.1]), "b"),
        (lambda: otters.gromov.fused_gromov_wasserstein(M.T, C1, C2), "M"),
        (lambda: otters.gromov.fused_gromov_wasserstein(M, C1, C2, alpha=1.5), "alpha"),
        (lambda: otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=0.0), "epsilon"),
        (lambda: otters.gromov.gromov_wasserstein(C1 - 1.0, C2, loss_fun="kl_loss"), "C1"),
        (lambda: otters.gromov.gromov_wasserstein(C1, C2, G0=np.ones((6, 5))), "init"),
        (lambda: otters.gromov.gromov_wasserstein(np.where(C1 > 0.5, np.nan, C1), C2), "C1"),
        (lambda: otters.GromovWasserstein().solve(otters.QuadraticProblem(C1 - 1.0, C2, loss="kl")), "geom_xx"),
    ]
    for call, name in cases:
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
    with pytest.raises(ValueError, match="loss"):
        otters.gromov.gromov_wasserstein(C1, C2, loss_fun="l1")
    with pytest.raises(ValueError, match="PPA"):
        otters.gromov.entropic_gromov_wasserstein(C1, C2, solver="PPA")
    with pytest.raises(TypeError, match="bogus"):
        otters.gromov.gromov_wasserstein(C1, C2, bogus=1)


def test_non_convergence_warns():
    _, _, C1, C2, _ = clouds(15, 15)
    with pytest.warns(otters.ConvergenceWarning):
        otters.gromov.entropic_gromov_wasserstein(C1, C2, epsilon=0.01, max_iter=2, tol=1e-14)


def barycenter_inputs(sizes=(10, 12, 8), seed=7, shift=0.0):
    """Costs of random clouds of several sizes (scaled to max 1, plus ``shift``), random
    weights, and a symmetric random start built like POT's."""
    rng = np.random.default_rng(seed)
    Cs, ps = [], []
    for n in sizes:
        x = rng.normal(size=(n, 2))
        C = ot.dist(x, x)
        Cs.append(C / C.max() + shift)
        w = rng.uniform(0.3, 1.0, n)
        ps.append(w / w.sum())
    z = rng.normal(size=(6, 2))
    init_C = ot.dist(z, z)
    return Cs, ps, init_C / init_C.max() + shift


@pytest.mark.parametrize("stop_criterion", ["barycenter", "loss"])
@pytest.mark.parametrize("loss_fun", ["square_loss", "kl_loss"])
def test_gromov_barycenters_match_pot(loss_fun, stop_criterion):
    shift = 0.1 if loss_fun == "kl_loss" else 0.0
    Cs, ps, init_C = barycenter_inputs(shift=shift)
    # The loss rule follows the weighted loss (POT: the unweighted sum): the same rule for
    # uniform lambdas only.
    lambdas = [0.2, 0.5, 0.3] if stop_criterion == "barycenter" else None
    tol = 1e-9 if stop_criterion == "barycenter" else 1e-10
    kw = dict(ps=ps, lambdas=lambdas, loss_fun=loss_fun, tol=tol, stop_criterion=stop_criterion, init_C=init_C,
              log=True)
    C, log = otters.gromov.gromov_barycenters(6, Cs, **kw)
    C_pot, log_pot = ot.gromov.gromov_barycenters(6, Cs, **kw)
    assert log["converged"]
    assert np.abs(C - C_pot).max() <= 1e-8 * np.abs(C_pot).max()
    assert log["niter"] == len(log_pot["err"])
    for T, T_pot in zip(log["T"], log_pot["T"]):
        np.testing.assert_allclose(T, T_pot, atol=1e-10)
    np.testing.assert_allclose(log["p"], log_pot["p"], atol=1e-15)
    if stop_criterion == "barycenter":
        np.testing.assert_allclose(log["err"], log_pot["err"], rtol=1e-6, atol=1e-12)
    else:
        np.testing.assert_allclose(log["loss"], log_pot["loss"], rtol=1e-10)
        np.testing.assert_allclose(log["err"][1:], log_pot["err"][1:], rtol=1e-6, atol=1e-14)
    # The reported per-input losses are GW of the returned C with the returned plans.
    for s, (Cs_s, ps_s, T) in enumerate(zip(Cs, ps, log["T"])):
        constC, hC1, hC2 = ot.gromov.init_matrix(C, Cs_s, log["p"], ps_s, loss_fun)
        assert abs(log["gw_losses"][s] - ot.gromov.gwloss(constC, hC1, hC2, T)) < 1e-12


@pytest.mark.parametrize("loss_fun", ["square_loss", "kl_loss"])
def test_entropic_gromov_barycenters_match_pot(loss_fun):
    shift = 0.1 if loss_fun == "kl_loss" else 0.0
    Cs, ps, init_C = barycenter_inputs(shift=shift)
    kw = dict(ps=ps, lambdas=[0.2, 0.5, 0.3], loss_fun=loss_fun, epsilon=0.05, tol=1e-9, init_C=init_C, log=True)
    C, log = otters.gromov.entropic_gromov_barycenters(6, Cs, stopThr=1e-12, **kw)
    C_pot, log_pot = ot.gromov.entropic_gromov_barycenters(6, Cs, numItermax=100_000, stopThr=1e-12, **kw)
    assert log["converged"]
    assert np.abs(C - C_pot).max() <= 1e-8 * np.abs(C_pot).max()
    for T, T_pot in zip(log["T"], log_pot["T"]):
        np.testing.assert_allclose(T, T_pot, atol=1e-9)


def test_a_barycenter_of_one_space_and_its_relabelling_is_that_space():
    Cs, _, _ = barycenter_inputs(sizes=(9,), seed=11)
    C = Cs[0]
    perm = np.random.default_rng(3).permutation(9)
    for seed in (0, 1, 2):
        C_bar, log = otters.gromov.gromov_barycenters(9, [C, C[perm][:, perm]], random_state=seed, log=True)
        assert log["converged"]
        assert np.abs(log["gw_losses"]).max() < 1e-10
        sigma = log["T"][0].argmax(axis=1)
        np.testing.assert_allclose(C_bar, C[sigma][:, sigma], atol=1e-10)


def test_random_start_is_reproducible():
    Cs, ps, _ = barycenter_inputs(seed=5)
    run = lambda rs: otters.gromov.gromov_barycenters(6, Cs, ps, max_iter=3, random_state=rs, log=True)
    with pytest.warns(otters.ConvergenceWarning):
        (a, la), (b, lb), (c, _), (d, ld) = run(4), run(4), run(None), run(0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, d)
    assert la["err"][0] != ld["err"][0]


def test_barycenter_bad_inputs_name_their_argument():
    Cs, ps, init_C = barycenter_inputs(sizes=(5, 4), seed=2)
    bary = otters.gromov.gromov_barycenters
    cases = [
        (lambda: bary(0, Cs), "N"),
        (lambda: bary(2.5, Cs), "N"),
        (lambda: bary(6, []), "Cs"),
        (lambda: bary(6, [Cs[0], Cs[1][:, :3]]), "Cs"),
        (lambda: bary(6, [Cs[0], np.where(Cs[1] > 0.5, np.nan, Cs[1])]), "Cs"),
        (lambda: bary(6, [Cs[0] - 1.0, Cs[1]], loss_fun="kl_loss"), "Cs"),
        (lambda: bary(6, Cs, ps=ps[:1]), "ps"),
        (lambda: bary(6, Cs, ps=[ps[0], np.ones(5) / 5]), "ps"),
        (lambda: bary(6, Cs, ps=[ps[0], 2 * ps[1]]), "ps"),
        (lambda: bary(6, Cs, ps=[ps[0], -ps[1]]), "ps"),
        (lambda: bary(6, Cs, p=np.ones(5) / 5), "p"),
        (lambda: bary(6, Cs, p=[0.5, 0.5, 0, 0, 0, 0]), "p"),
        (lambda: bary(6, Cs, lambdas=[1.0]), "lambdas"),
        (lambda: bary(6, Cs, lambdas=[1.0, -0.5]), "lambdas"),
        (lambda: bary(6, Cs, lambdas=[np.nan, 1.0]), "lambdas"),
        (lambda: bary(6, Cs, init_C=init_C[:5, :5]), "init_C"),
        (lambda: bary(6, Cs, init_C=np.full((6, 6), np.inf)), "init_C"),
        (lambda: bary(6, Cs, random_state="seed"), "random_state"),
        (lambda: otters.gromov.entropic_gromov_barycenters(6, Cs, epsilon=-1.0), "epsilon"),
    ]
    for call, name in cases:
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
    with pytest.raises(ValueError, match="loss_fun"):
        bary(6, Cs, loss_fun="l1")
    with pytest.raises(ValueError, match="stop_criterion"):
        bary(6, Cs, stop_criterion="plan")
    with pytest.raises(ValueError, match="PPA"):
        otters.gromov.entropic_gromov_barycenters(6, Cs, solver="PPA")
    with pytest.raises(TypeError, match="bogus"):
        bary(6, Cs, bogus=1)


def featured_inputs(sizes=(7, 9, 8), d=3, seed=21):
    rng = np.random.default_rng(seed)
    Cs, _, init_C = barycenter_inputs(sizes=sizes, seed=seed)
    Ys = [rng.normal(size=(n, d)) for n in sizes]
    return Cs, Ys, init_C


@pytest.mark.parametrize("stop_criterion", ["barycenter", "loss"])
@pytest.mark.parametrize("start_x", [False, True])
def test_fgw_barycenters_match_pot(stop_criterion, start_x):
    Cs, Ys, init_C = featured_inputs()
    init_X = np.random.default_rng(4).normal(size=(6, 3)) if start_x else None
    kw = dict(alpha=0.4, tol=1e-9, stop_criterion=stop_criterion, init_C=init_C, init_X=init_X, log=True)
    X, C, log = otters.gromov.fgw_barycenters(6, Ys, Cs, **kw)
    X_pot, C_pot, log_pot = ot.gromov.fgw_barycenters(6, Ys, Cs, **kw)
    assert log["converged"]
    np.testing.assert_allclose(X, X_pot, atol=1e-9)
    np.testing.assert_allclose(C, C_pot, atol=1e-9)
    for T, T_pot in zip(log["T"], log_pot["T"]):
        np.testing.assert_allclose(T, T_pot, atol=1e-10)
    for M, M_pot in zip(log["Ms"], log_pot["Ms"]):
        np.testing.assert_allclose(M, M_pot, atol=1e-9)
    if stop_criterion == "loss":
        np.testing.assert_allclose(log["loss"], log_pot["loss"], rtol=1e-9)
    else:
        assert log["niter"] == len(log_pot["err_feature"])
    # The reported per-input losses are POT's FGW of the returned (C, X) with the plans.
    for s, (C_s, T, M) in enumerate(zip(Cs, log["T"], log["Ms"])):
        p_s = np.full(C_s.shape[0], 1 / C_s.shape[0])
        constC, hC1, hC2 = ot.gromov.init_matrix(C, C_s, log["p"], p_s, "square_loss")
        want = 0.4 * ot.gromov.gwloss(constC, hC1, hC2, T) + 0.6 * np.sum(M * T)
        assert abs(log["fgw_losses"][s] - want) < 1e-12


def test_fgw_barycenters_hold_parts_and_name_bad_inputs():
    Cs, Ys, init_C = featured_inputs(sizes=(5, 6), seed=3)
    X0 = np.random.default_rng(1).normal(size=(4, 3))
    X, C = otters.gromov.fgw_barycenters(4, Ys, Cs, fixed_structure=True, init_C=init_C[:4, :4], max_iter=5)
    np.testing.assert_array_equal(C, init_C[:4, :4])
    X, C = otters.gromov.fgw_barycenters(4, Ys, Cs, fixed_features=True, init_X=X0, max_iter=5)
    np.testing.assert_array_equal(X, X0)
    fgw = otters.gromov.fgw_barycenters
    cases = [
        (lambda: fgw(4, Ys[:1], Cs), "Ys"),
        (lambda: fgw(4, [Ys[0], Ys[1][:, :2]], Cs), "Ys"),
        (lambda: fgw(4, [Ys[0], Ys[1][:4]], Cs), "Ys"),
        (lambda: fgw(4, [Ys[0], np.full_like(Ys[1], np.nan)], Cs), "Ys"),
        (lambda: fgw(4, Ys, Cs, alpha=1.5), "alpha"),
        (lambda: fgw(4, Ys, Cs, init_X=X0[:3]), "init_X"),
        (lambda: fgw(4, Ys, Cs, fixed_features=True), "init_X"),
        (lambda: fgw(4, Ys, Cs, fixed_structure=True), "init_C"),
        (lambda: fgw(4, Ys, [Cs[0], Cs[1][:, :5]]), "Cs"),
        (lambda: fgw(0, Ys, Cs), "N"),
    ]
    for call, name in cases:
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))


def unbalanced_inputs(n=14, m=11, seed=7, mass_q=1.4):
    xs, xt, C1, C2, M = clouds(n, m, seed)
    rng = np.random.default_rng(seed + 1)
    p, q = rng.uniform(0.2, 1, n), rng.uniform(0.2, 1, m)
    return C1, C2, M, p / p.sum(), q * mass_q / q.sum()


TIGHT = dict(max_iter=5000, tol=1e-11, max_iter_ot=200_000, tol_ot=1e-12)


@pytest.mark.parametrize("kw", [
    dict(reg_marginals=1.0, epsilon=0.1),
    dict(reg_marginals=(0.5, 2.0), epsilon=0.05),
    dict(reg_marginals=1.0, epsilon=0.05, alpha=0.5, fused=True),
    dict(reg_marginals=2.0, epsilon=0.05, asymmetric=True),
])
def test_unbalanced_gw_matches_pot(kw):
    C1, C2, M, p, q = unbalanced_inputs()
    kw = dict(kw)
    if kw.pop("fused", False):
        kw["M"] = M
    if kw.pop("asymmetric", False):
        C1 = C1 + 0.3 * np.random.default_rng(3).uniform(size=C1.shape)
    pi, gamma, log = otters.gromov.fused_unbalanced_gromov_wasserstein(
        C1, C2, p, q, unbalanced_solver="sinkhorn", log=True, **TIGHT, **kw)
    pi_pot, gamma_pot, log_pot = ot.gromov.fused_unbalanced_gromov_wasserstein(
        C1, C2, p, q, unbalanced_solver="sinkhorn", log=True, **TIGHT, **kw)
    assert len(log_pot["error"]) < TIGHT["max_iter"] and log["converged"]
    # Measured: 1e-13 on the plans and 1e-15 on the costs.
    np.testing.assert_allclose(pi, pi_pot, atol=1e-11)
    np.testing.assert_allclose(gamma, gamma_pot, atol=1e-11)
    assert abs(log["fugw_cost"] - log_pot["fugw_cost"]) < 1e-11
    assert abs(log["linear_cost"] - log_pot["linear_cost"]) < 1e-11
    for ours, theirs in zip(log["duals"], log_pot["duals"]):
        np.testing.assert_allclose(ours, theirs, atol=1e-9)
    # Mass is destroyed or created: the plan's marginals are not the weights.
    assert abs(pi.sum() - 1.0) > 1e-3 and abs(pi.sum() - 1.4) > 1e-3
    v = otters.gromov.fused_unbalanced_gromov_wasserstein2(C1, C2, p, q, unbalanced_solver="sinkhorn", **TIGHT, **kw)
    assert abs(v - log_pot["fugw_cost"]) < 1e-11


def test_unbalanced_gw_defaults_and_any_solver_name_give_pot_s_fixed_point():
    C1, C2, _, p, q = unbalanced_inputs(12, 12, seed=9)
    # At POT's defaults (tol 1e-7 on the L1 plan change) both stop near the same point.
    pi = otters.gromov.fused_unbalanced_gromov_wasserstein(C1, C2, p, q, reg_marginals=1.0, epsilon=0.05,
                                                           unbalanced_solver="sinkhorn")[0]
    pi_pot = ot.gromov.fused_unbalanced_gromov_wasserstein(C1, C2, p, q, reg_marginals=1.0, epsilon=0.05,
                                                           unbalanced_solver="sinkhorn")[0]
    np.testing.assert_allclose(pi, pi_pot, atol=1e-7)
    # POT's "mm" at epsilon > 0 solves the same strictly convex subproblems.
    pi_mm = ot.gromov.fused_unbalanced_gromov_wasserstein(C1, C2, p, q, reg_marginals=1.0, epsilon=0.05,
                                                          unbalanced_solver="mm", max_iter=5000, tol=1e-11,
                                                          max_iter_ot=100_000, tol_ot=1e-13)[0]
    pi_ours = otters.gromov.fused_unbalanced_gromov_wasserstein(C1, C2, p, q, reg_marginals=1.0, epsilon=0.05,
                                                                **TIGHT)[0]
    np.testing.assert_allclose(pi_ours, pi_mm, atol=1e-11)


def test_unbalanced_gw_object_face_agrees_and_large_rho_is_entropic_gw():
    C1, C2, _, p, q = unbalanced_inputs(12, 10, seed=2, mass_q=1.0)
    problem = otters.QuadraticProblem(C1, C2, p, q)
    out = otters.UnbalancedGromovWasserstein(1.0, 0.05).solve(problem)
    pi = otters.gromov.fused_unbalanced_gromov_wasserstein(C1, C2, p, q, reg_marginals=1.0, epsilon=0.05,
                                                           max_iter=1000, tol=1e-9, tol_ot=1e-10,
                                                           max_iter_ot=100_000)[0]
    np.testing.assert_array_equal(out.plan, pi)
    assert out.converged
    parts = out.gw_loss + out.marginal_penalty + out.entropic_penalty
    assert abs(out.loss - parts) < 1e-14
    # ρ → ∞: entropic GW with twice the epsilon (measured gap 4e-7 at ρ = 1e4).
    big = otters.UnbalancedGromovWasserstein(1e4, 0.02, threshold=1e-11, inner_threshold=1e-12).solve(problem)
    T = otters.gromov.entropic_gromov_wasserstein(C1, C2, p, q, epsilon=0.04, tol=1e-11, stopThr=1e-12)
    np.testing.assert_allclose(big.plan, T, atol=1e-5)
    assert np.abs(out.plan - T).max() > 1e-3  # ... and ρ = 1 is far from it


def test_unbalanced_gw_bad_inputs():
    C1, C2, M, p, q = unbalanced_inputs(6, 5)
    f = otters.gromov.fused_unbalanced_gromov_wasserstein
    ok = dict(reg_marginals=1.0, epsilon=0.1, unbalanced_solver="sinkhorn")
    cases = [
        (lambda: f(C1[:, :4], C2, **ok), "Cx"),
        (lambda: f(C1, np.where(C2 > 0.5, np.nan, C2), **ok), "Cy"),
        (lambda: f(C1, C2, wx=np.ones(4), **ok), "wx"),
        (lambda: f(C1, C2, wy=[0.5, 0.5, 0.0, 0.0, -0.1], **ok), "b"),
        (lambda: f(C1, C2, p, np.zeros(5), **ok), "b"),
        (lambda: f(C1, C2, p, q, reg_marginals=-1.0, epsilon=0.1), "rho_a"),
        (lambda: f(C1, C2, p, q, reg_marginals=(1.0, float("nan")), epsilon=0.1), "rho_b"),
        (lambda: f(C1, C2, p, q, reg_marginals=(1.0, 2.0, 3.0), epsilon=0.1), "reg_marginals"),
        (lambda: f(C1, C2, p, q, reg_marginals=1.0, epsilon=-0.1), "epsilon"),
        (lambda: f(C1, C2, p, q, alpha=-1.0, M=M, **ok), "alpha"),
        (lambda: f(C1, C2, p, q, alpha=0.5, M=M.T, **ok), "M"),
        (lambda: f(C1, C2, p, q, init_pi=np.ones((5, 6)), **ok), "init"),
        (lambda: f(C1, C2, p, q, init_pi=-np.ones((6, 5)), **ok), "init"),
    ]
    for call, name in cases:
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
    with pytest.raises(ValueError, match="epsilon=0"):
        f(C1, C2)  # POT's defaults: epsilon=0 with the 'mm' solver
    with pytest.raises(ValueError, match="divergence"):
        f(C1, C2, divergence="l2", **ok)
    with pytest.raises(ValueError, match="unbalanced_solver"):
        f(C1, C2, reg_marginals=1.0, epsilon=0.1, unbalanced_solver="newton")
    with pytest.raises(TypeError, match="bogus"):
        f(C1, C2, bogus=1, **ok)
    with pytest.warns(UserWarning, match="init_duals"):
        f(C1, C2, init_duals=(np.zeros(6), np.zeros(5)), **ok)
    with pytest.warns(otters.ConvergenceWarning):
        f(C1, C2, max_iter=1, tol=1e-14, **ok)
