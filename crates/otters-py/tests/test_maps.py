"""otters.maps: semi-discrete OT (frequencies match b, the dual cost matches POT's exact OT on
an empirical source), the Monge gap (POT's entropic plan as oracle, finite-difference
gradient), elastic maps (numpy from the potentials, sparsity), and bad inputs."""

import numpy as np
import ot
import pytest

import otters
from otters.maps import ElasticL1, ElasticSqL2, SemiDiscrete, elastic_map, monge_gap_from_samples


def targets(m=20, seed=3):
    rng = np.random.default_rng(seed)
    y = rng.random((m, 2))
    b = 0.5 + rng.random(m)
    return y, b / b.sum()


def uniform_square(rng, k):
    return rng.random((k, 2))


def test_semi_discrete_hard_assignment_frequencies_match_b():
    y, b = targets()
    out = SemiDiscrete(epsilon=0.0).solve(y, b, sampler=uniform_square)
    assert out.converged
    x = np.random.default_rng(99).random((200_000, 2))
    labels = out.assign(x)
    freq = np.bincount(labels, minlength=len(b)) / len(x)
    assert np.abs(freq - b).max() < 4e-3
    assert out.max_deviation < 4e-3
    np.testing.assert_allclose(out.frequencies.sum(), 1.0, atol=1e-12)
    # The test can fail: Voronoi cells (g = 0) are far from b.
    voronoi = np.argmin(ot.dist(x[:20000], y), axis=1)
    assert np.abs(np.bincount(voronoi, minlength=len(b)) / 20000 - b).max() > 0.02
    # At ε = 0 the map sends each point to the target of its cell.
    np.testing.assert_array_equal(out.transport(x[:10]), y[labels[:10]])


def test_semi_discrete_soft_assignment():
    y, b = targets(seed=5)
    out = SemiDiscrete(epsilon=0.01).solve(y, b, sampler=uniform_square)
    x = np.random.default_rng(7).random((50_000, 2))
    w = out.assignment_weights(x)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert np.abs(w.mean(axis=0) - b).max() < 5e-3
    # Soft assignment, from the potential with numpy.
    logits = np.log(b) + (out.g - ot.dist(x[:5], y)) / 0.01
    ref = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(w[:5], ref / ref.sum(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(out.transport(x[:5]), w[:5] @ y, atol=1e-12)


def test_semi_discrete_on_a_fixed_sample_matches_pot_exact_ot():
    """On an empirical source the semi-discrete problem is discrete OT: the semi-dual at the
    returned g is within 1% of POT's exact cost, and the frequencies on the sample match b."""
    y, b = targets(m=10, seed=11)
    x = np.random.default_rng(2).random((3000, 2))
    out = SemiDiscrete(epsilon=0.0, max_iterations=3000).solve(y, b, samples=x)
    exact = ot.emd2(np.full(len(x), 1 / len(x)), b, ot.dist(x, y))
    assert abs(out.dual_cost - exact) / exact < 0.01
    freq = np.bincount(out.assign(x), minlength=len(b)) / len(x)
    assert np.abs(freq - b).max() < 5e-3
    again = SemiDiscrete(epsilon=0.0, max_iterations=3000).solve(y, b, samples=x)
    np.testing.assert_array_equal(out.g, again.g)


@pytest.mark.parametrize("cost_fn, cost", [
    ("euclidean", lambda x, y: ot.dist(x, y, metric="euclidean")),
    ("cityblock", lambda x, y: ot.dist(x, y, metric="cityblock")),
    ("minkowski", lambda x, y: ot.dist(x, y, metric="minkowski", p=3) ** 3),  # Σ|x − y|³
    ("cosine", lambda x, y: ot.dist(x, y, metric="cosine")),
    (ElasticL1(0.5), lambda x, y: 0.5 * ot.dist(x, y) + 0.5 * ot.dist(x, y, metric="cityblock")),
])
def test_semi_discrete_other_costs_match_pot_exact_ot(cost_fn, cost):
    """Every cost: on an empirical source the semi-dual at g is within 1% of POT's exact cost
    with that cost matrix, and the hard assignment is argmin_j c(x, y_j) - g_j."""
    y, b = targets(m=10, seed=11)
    x = np.random.default_rng(2).random((3000, 2)) + 0.1
    solver = SemiDiscrete(epsilon=0.0, max_iterations=3000, cost_fn=cost_fn, p=3.0)
    if cost_fn == "cityblock":  # see below: hard cells cannot meet b
        with pytest.warns(otters.ConvergenceWarning, match="marginal error"):
            out = solver.solve(y, b, samples=x)
    else:
        out = solver.solve(y, b, samples=x)
    C = cost(x, y)
    exact = ot.emd2(np.full(len(x), 1 / len(x)), b, C)
    assert abs(out.dual_cost - exact) / exact < 0.01, (out.dual_cost, exact)
    labels = out.assign(x)
    np.testing.assert_array_equal(labels, np.argmin(C - out.g, axis=1))
    freq = np.bincount(labels, minlength=len(b)) / len(x)
    if cost_fn != "cityblock":
        assert np.abs(freq - b).max() < 1e-2
    # (|x - y|₁ is not strictly convex: c(x, y_i) - c(x, y_j) is constant on whole regions,
    # so hard cells cannot split their mass and the frequencies miss b; the cost still
    # matches the exact OT cost above.)
    # The squared Euclidean solve is a different one (the test could fail).
    sq = SemiDiscrete(epsilon=0.0, max_iterations=3000).solve(y, b, samples=x)
    assert np.abs(sq.g - sq.g.mean() - (out.g - out.g.mean())).max() > 1e-3
    soft = SemiDiscrete(epsilon=0.05, max_iterations=3000, cost_fn=cost_fn, p=3.0).solve(y, b, samples=x)
    w = soft.assignment_weights(x[:5])
    logits = np.log(b) + (soft.g - C[:5]) / 0.05
    ref = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(w, ref / ref.sum(axis=1, keepdims=True), atol=1e-12)


def test_monge_gap_matches_pot_entropic_ot():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    t = np.tanh(x) * 2 + 0.3 * x[:, ::-1]
    eps = 0.3
    gap, info = monge_gap_from_samples(x, t, epsilon=eps, return_output=True, threshold=1e-9,
                                       max_iterations=100_000)
    M = ot.dist(x, t)
    n = len(x)
    P = ot.sinkhorn(np.full(n, 1 / n), np.full(n, 1 / n), M, eps, method="sinkhorn_log", stopThr=1e-13,
                    numItermax=100_000)
    pos = P > 0
    ent_reg = np.sum(P * M) + eps * np.sum(P[pos] * np.log(P[pos]))  # <P, C> - eps H(P)
    assert abs(info.ent_reg_cost - ent_reg) < 1e-7
    assert abs(gap - (np.mean(np.sum((x - t) ** 2, axis=1)) - ent_reg)) < 1e-7
    assert info.converged


def test_monge_gap_bias_bounds_and_gradient():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(25, 2))
    eps, n = 0.05, 25
    for t in (x + [1.0, -2.0], x @ np.array([[2.0, 0.3], [0.3, 1.0]])):
        gap = monge_gap_from_samples(x, t, epsilon=eps, threshold=1e-7, max_iterations=100_000)
        assert eps * np.log(n) - 1e-5 <= gap <= 2 * eps * np.log(n) + 1e-5
    rotated = x @ np.array([[0.0, -1.0], [1.0, 0.0]])
    assert monge_gap_from_samples(x, rotated, epsilon=eps) > 10 * eps * np.log(n)

    t = np.tanh(x[:6]) * 2
    for cost in (None, ElasticL1(0.3)):
        def value(tt):
            return monge_gap_from_samples(x[:6], tt, cost, epsilon=0.5, threshold=1e-12, max_iterations=100_000)

        _, info = monge_gap_from_samples(x[:6], t, cost, epsilon=0.5, return_output=True, threshold=1e-12,
                                         max_iterations=100_000)
        fd = np.zeros_like(t)
        h = 1e-5
        for i in range(t.shape[0]):
            for k in range(t.shape[1]):
                tp, tm = t.copy(), t.copy()
                tp[i, k] += h
                tm[i, k] -= h
                fd[i, k] = (value(tp) - value(tm)) / (2 * h)
        assert np.abs(fd - info.gradient).max() < 1e-6 * np.abs(info.gradient).max()


def elastic_reference(out, x, y, z, gamma, eps):
    """T(z) = z - ST_gamma(sum_j w_j(z) grad h(z - y_j)) from the potential g, in numpy."""
    b = np.full(len(y), 1 / len(y))
    diff = z[:, None, :] - y[None, :, :]
    h = 0.5 * (diff ** 2).sum(-1) + gamma * np.abs(diff).sum(-1)
    logits = np.log(b) + (out.g - h) / eps
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    grad = np.einsum("ij,ijk->ik", w, diff + gamma * np.sign(diff))
    return z - np.sign(grad) * np.maximum(np.abs(grad) - gamma, 0.0)


def sparse_shift(seed=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 5))
    y = rng.normal(size=(100, 5)) + [4.0, -3.0, 0.0, 0.0, 0.0]
    return x, y, rng.normal(size=(40, 5))


def test_elastic_map_matches_numpy_and_gets_sparser():
    x, y, z = sparse_shift()
    fractions = []
    for gamma in (0.0, 0.1, 0.3, 1.0):
        out = elastic_map(x, y, ElasticL1(gamma), epsilon=0.5, threshold=1e-10, max_iterations=10_000)
        assert out.converged
        t = out.transport(z)
        np.testing.assert_allclose(t, elastic_reference(out, x, y, z, gamma, 0.5), atol=1e-9)
        moved = t - z
        assert np.all(moved[:, 0] != 0.0)
        fractions.append(np.mean(moved == 0.0))
    assert fractions[0] == 0.0
    assert all(a < b for a, b in zip(fractions, fractions[1:])), fractions


def test_elastic_ridge_and_gamma_zero_give_the_barycentric_map():
    x, y, z = sparse_shift(seed=8)
    for cost in (ElasticL1(0.0), ElasticSqL2(0.7)):
        out = elastic_map(x, y, cost, epsilon=0.5, threshold=1e-10, max_iterations=10_000)
        # h = c/2 |z|^2: T(z) = sum_j w_j(z) y_j with w from the potential.
        c = 1.0 + (cost.scaling_reg if isinstance(cost, ElasticSqL2) else 0.0)
        logits = np.log(1 / len(y)) + (out.g - 0.5 * c * ot.dist(z, y)) / 0.5
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(out.transport(z), w @ y, atol=1e-10)
    # ½|.|² at ε equals the squared Euclidean entropic map at 2ε.
    out = elastic_map(x, y, ElasticL1(0.0), epsilon=0.5, threshold=1e-10, max_iterations=10_000)
    sq = otters.Sinkhorn(epsilon=1.0, threshold=1e-10, max_iterations=10_000).solve(
        otters.LinearProblem(otters.PointCloud(x, y)))
    np.testing.assert_allclose(out.transport(z), sq.transport(z), atol=1e-8)


def bad(fn, argument, exc=otters.InvalidInputError):
    with pytest.raises(exc) as info:
        fn()
    if argument is not None:
        assert info.value.argument == argument, (info.value.argument, str(info.value))
    return info.value


def test_bad_inputs_name_the_argument():
    y, b = targets(m=3)
    solver = SemiDiscrete(max_iterations=10, eval_size=100)
    bad(lambda: solver.solve(y, b, sampler=lambda rng, k: rng.random((k, 3))), "sampler")
    bad(lambda: solver.solve(y, b, sampler=lambda rng, k: np.full((k, 2), np.nan)), "sampler")
    bad(lambda: solver.solve(y, b, sampler=uniform_square, samples=y), "sampler")
    bad(lambda: solver.solve(y, b), "sampler")
    bad(lambda: solver.solve(y, b, sampler=42), "sampler")
    bad(lambda: solver.solve(y, b, samples=np.ones((5, 3))), "samples")
    bad(lambda: solver.solve(y, b[:2], sampler=uniform_square), "b")
    bad(lambda: solver.solve(y, -b, sampler=uniform_square), "b")
    bad(lambda: SemiDiscrete(epsilon=-1.0).solve(y, b, sampler=uniform_square), "epsilon")
    bad(lambda: SemiDiscrete(learning_rate=0.0).solve(y, b, sampler=uniform_square), "learning_rate")
    err = bad(lambda: SemiDiscrete(cost_fn="hamming").solve(y, b, sampler=uniform_square), "cost_fn")
    assert "cityblock" in str(err)
    bad(lambda: SemiDiscrete(cost_fn="minkowski", p=0.0).solve(y, b, sampler=uniform_square), "p")

    def failing(rng, k):
        raise RuntimeError("sampler broke")

    with pytest.raises(RuntimeError, match="sampler broke"):
        solver.solve(y, b, sampler=failing)
    with pytest.warns(otters.ConvergenceWarning, match="marginal error"):
        out = solver.solve(y, b, sampler=uniform_square)  # 10 iterations: not converged
    assert not out.converged
    bad(lambda: out.assign(np.ones((2, 3))), "x")
    bad(lambda: out.transport([[np.nan, 0.0]]), "x")

    x = np.random.default_rng(0).normal(size=(5, 2))
    bad(lambda: monge_gap_from_samples(x, x[:4], epsilon=0.1), "target")
    bad(lambda: monge_gap_from_samples(x, x, cost_fn="cosine", epsilon=0.1), "cost_fn")
    bad(lambda: monge_gap_from_samples(x, x, epsilon=-0.1), "epsilon")
    bad(lambda: monge_gap_from_samples(x, np.full((5, 2), np.inf), epsilon=0.1), "target")
    bad(lambda: monge_gap_from_samples(x, x, ElasticL1(-1.0), epsilon=0.1), "gamma")
    bad(lambda: elastic_map(x, x, ElasticL1(0.1), epsilon=0.1, relative_epsilon="median"), "relative_epsilon")
    bad(lambda: elastic_map(x, x, cost_fn="sqeuclidean", epsilon=0.1), "cost_fn")
    bad(lambda: elastic_map(x, x[:, :1], epsilon=0.1), "y")
    out = elastic_map(x, x, epsilon=0.1)
    bad(lambda: out.transport(np.ones((2, 3))), None)


def test_progot_one_stage_is_the_entropic_map_and_approaches_the_target():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    y = rng.normal(size=(60, 2)) * [0.5, 1.5] + [3.0, 1.0]
    one = otters.maps.progot(x, y, steps=1, epsilon=0.1, threshold=1e-10, max_iterations=10_000)
    sk = otters.Sinkhorn(epsilon=0.1, threshold=1e-10, max_iterations=10_000).solve(
        otters.LinearProblem(otters.PointCloud(x, y)))
    np.testing.assert_allclose(one.points, sk.transport(x), atol=1e-12)
    z = rng.normal(size=(4, 2))
    np.testing.assert_allclose(one.transport(z), sk.transport(z), atol=1e-12)

    u = np.full(60, 1 / 60)
    prog = otters.maps.progot(x, y, steps=6, epsilon=0.02, relative_epsilon="mean")
    start, end = ot.emd2(u, u, ot.dist(x, y)), ot.emd2(u, u, ot.dist(prog.points, y))
    assert end < 0.03 * start, (start, end)
    np.testing.assert_allclose(prog.transport(x), prog.points, atol=1e-10)
    np.testing.assert_allclose(prog.plan().sum(axis=1), u, atol=1e-6)
    bad(lambda: otters.maps.progot(x, y, steps=0), "steps")
    bad(lambda: otters.maps.progot(x, y, steps=2, alphas=[0.5, 2.0]), "alphas")
