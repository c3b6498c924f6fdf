"""otters.soft_sort and otters.tools: soft sorting against hard sorting and OTT-JAX fixtures
(testdata/ott_soft_sort.json, scripts/make_ott_soft_sort_fixtures.py), coupling samples
against the materialized plan, Sinkformer attention against numpy, anchor distances against
SciPy's 1-D W1 and POT's exact OT."""

import json
import warnings
from pathlib import Path

import numpy as np
import ot
import pytest
import scipy.stats

import otters
from otters import soft_sort, tools


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- soft sort


def test_soft_sort_and_ranks_approach_hard_ones():
    x = _rng(0).normal(size=12)
    errors = []
    for eps in [1e-1, 1e-2, 1e-3]:
        s = soft_sort.sort(x, epsilon=eps)
        r = soft_sort.ranks(x, epsilon=eps)
        errors.append((np.abs(s - np.sort(x)).max(), np.abs(r - np.argsort(np.argsort(x))).max()))
    assert errors[0][0] > errors[1][0] > errors[2][0]
    assert errors[0][1] > errors[1][1] > errors[2][1]
    assert errors[2][0] < 2e-2 and errors[2][1] < 0.5


def test_soft_sort_axis_batching_and_shapes():
    x = _rng(1).normal(size=(3, 7, 4))
    out = soft_sort.sort(x, axis=1)
    assert out.shape == (3, 7, 4)
    for i in range(3):
        for j in range(4):
            np.testing.assert_array_equal(out[i, :, j], soft_sort.sort(x[i, :, j]))
    assert np.all(np.diff(out, axis=1) > 0)
    assert soft_sort.sort(x, axis=1, num_targets=3).shape == (3, 3, 4)
    assert soft_sort.sort(x, axis=-1, topk=2).shape == (3, 7, 2)
    q = soft_sort.quantile(x, [0.2, 0.8], axis=1)
    assert q.shape == (3, 2, 4) and np.all(q[:, 0] < q[:, 1])
    r = soft_sort.ranks(x, axis=0)
    assert r.shape == x.shape and np.all((r >= 0) & (r <= 2))


def test_soft_ranks_are_permutation_equivariant_and_median_is_centred():
    x = _rng(2).normal(size=15)
    perm = _rng(3).permutation(15)
    np.testing.assert_allclose(soft_sort.ranks(x[perm], epsilon=0.05), soft_sort.ranks(x, epsilon=0.05)[perm],
                               atol=1e-8)
    half = 0.5 + np.abs(_rng(4).normal(size=8))
    sym = np.concatenate([2.0 + half, 2.0 - half])
    assert abs(soft_sort.quantile(sym, 0.5)[0] - 2.0) < 1e-6
    # Two targets of mass 1/2: a soft "upper half" indicator scaled to n - 1.
    r = soft_sort.ranks(sym, target_weights=[0.5, 0.5], epsilon=1e-3)
    np.testing.assert_allclose(r, np.where(sym > 2.0, 15.0, 0.0), atol=1e-2)


def test_soft_sort_refuses_bad_inputs():
    with pytest.raises(otters.InvalidInputError) as e:
        soft_sort.sort([1.0, np.nan])
    assert e.value.argument == "x"
    for q in (0.0, [0.5, 1.0], [0.3, 0.3]):
        with pytest.raises(otters.InvalidInputError) as e:
            soft_sort.quantile([1.0, 2.0, 3.0], q)
        assert e.value.argument == "q"
    with pytest.raises(ValueError):
        soft_sort.ranks([1.0, 2.0, 3.0], target_weights=[0.5, 0.7])
    with pytest.raises(otters.InvalidInputError) as e:
        soft_sort.sort([1.0, 2.0], squashing="tanh")
    assert e.value.argument == "squashing"
    with pytest.raises(otters.InvalidInputError):
        soft_sort.sort([1.0, 2.0], epsilon=-1.0)
    with pytest.raises(otters.InvalidInputError) as e:
        soft_sort.sort([1.0, 2.0], axis=3)
    assert e.value.argument == "axis"
    with pytest.warns(otters.ConvergenceWarning):
        soft_sort.sort(_rng(5).normal(size=20), epsilon=1e-4, max_iterations=3)


# ---------------------------------------------------------------- couplings


def _solved(seed, n=5, m=6, eps=0.5):
    rng = _rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
    problem = otters.LinearProblem(otters.PointCloud(x, y))
    return problem, otters.Sinkhorn(epsilon=eps).solve(problem)


def _chi_square_ok(counts, probs, draws):
    keep = probs > 0
    assert counts[~keep].sum() == 0
    stat = (((counts - draws * probs) ** 2)[keep] / (draws * probs[keep])).sum()
    df = keep.sum() - 1
    return stat < df + 7 * np.sqrt(2 * df), stat


def test_sampled_pairs_follow_the_plan():
    problem, out = _solved(6)
    plan = out.plan()
    draws = 200_000
    rows, cols = tools.sample_coupling(problem, out, draws, seed=3)
    counts = np.zeros_like(plan)
    np.add.at(counts, (rows, cols), 1.0)
    ok, stat = _chi_square_ok(counts, plan / plan.sum(), draws)
    assert ok, stat
    again = tools.sample_coupling(problem, out, 100, seed=3)
    np.testing.assert_array_equal(again[0], tools.sample_coupling(problem, out, 100, seed=3)[0])
    cols = tools.sample_targets(problem, out, np.full(50_000, 2), seed=1)
    counts = np.bincount(cols, minlength=plan.shape[1]).astype(float)
    ok, stat = _chi_square_ok(counts, plan[2] / plan[2].sum(), 50_000)
    assert ok, stat
    with pytest.raises(otters.InvalidInputError) as e:
        tools.sample_targets(problem, out, [0, 9])
    assert e.value.argument == "rows"


def test_coupling_sharpness_streamed_equals_dense():
    problem, out = _solved(7, eps=0.2)
    streamed = tools.coupling_sharpness(problem, out)
    dense = tools.coupling_sharpness(out.plan())
    assert streamed.entropy == pytest.approx(dense.entropy, abs=1e-12)
    np.testing.assert_allclose(streamed.effective_partners, dense.effective_partners, atol=1e-10)
    p = out.plan() / out.plan().sum()
    assert dense.entropy == pytest.approx(-(p[p > 0] * np.log(p[p > 0])).sum(), abs=1e-12)
    np.testing.assert_allclose(dense.argmax_mass, p.max(axis=1) / p.sum(axis=1), atol=1e-14)
    with pytest.raises(otters.InvalidInputError):
        tools.coupling_sharpness(-np.eye(2))


# ---------------------------------------------------------------- Sinkformer


def _softmax_attention(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[1])
    a = np.exp(s - s.max(axis=1, keepdims=True))
    return (a / a.sum(axis=1, keepdims=True)) @ v


def _numpy_sinkformer(q, k, n_iter):
    log_a = q @ k.T / np.sqrt(q.shape[1])
    n, m = log_a.shape
    for t in range(n_iter):
        if t % 2 == 0:
            log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
        else:
            log_a = log_a - np.log(np.exp(log_a).sum(axis=0, keepdims=True)) + np.log(n / m)
    return np.exp(log_a)


def test_sinkformer_against_numpy():
    rng = _rng(8)
    q, k, v = rng.normal(size=(6, 4)), rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    np.testing.assert_allclose(tools.sinkformer_attention(q, k, v, n_iter=1), _softmax_attention(q, k, v),
                               atol=1e-12)
    for n_iter in (2, 5):
        out, a = tools.sinkformer_attention(q, k, v, n_iter=n_iter, return_attention=True)
        want = _numpy_sinkformer(q, k, n_iter)
        np.testing.assert_allclose(a, want, atol=1e-12)
        np.testing.assert_allclose(out, want @ v, atol=1e-12)
    out, a = tools.sinkformer_attention(q, k, v, threshold=1e-12, max_iterations=5000, return_attention=True)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(a.sum(axis=0), 6 / 8, atol=1e-11)
    with pytest.warns(otters.ConvergenceWarning):
        tools.sinkformer_attention(q, k, v, threshold=1e-14, max_iterations=3)
    with pytest.raises(otters.InvalidInputError) as e:
        tools.sinkformer_attention(q, k, v[:5])
    assert e.value.argument == "v"


# ---------------------------------------------------------------- anchor distances


def _anchor_reference(x, y):
    dx = np.linalg.norm(x[:, None] - x[None], axis=-1)
    dy = np.linalg.norm(y[:, None] - y[None], axis=-1)

    def w1(p, q):
        return np.array([[scipy.stats.wasserstein_distance(p[i], q[j]) for j in range(len(q))]
                         for i in range(len(p))])

    cxy, cxx, cyy = w1(dx, dy), w1(dx, dx), w1(dy, dy)
    energy = 2 * cxy.mean() - cxx.mean() - cyy.mean()
    n, m = len(x), len(y)
    wasserstein = ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), cxy)
    return cxy, energy, wasserstein


def test_anchor_distances_against_scipy_and_pot():
    rng = _rng(9)
    x, y = rng.normal(size=(14, 2)), rng.normal(size=(11, 5))
    cost, energy, wasserstein = _anchor_reference(x, y)
    np.testing.assert_allclose(tools.anchor_cost_matrix(x, y), cost, atol=1e-12)
    assert tools.anchor_energy(x, y) == pytest.approx(energy, abs=1e-10)
    assert tools.anchor_wasserstein(x, y) == pytest.approx(wasserstein, abs=1e-10)
    # Isometries of one cloud change nothing; distance matrices can be given instead.
    rot = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    assert tools.anchor_energy(x, y @ rot + 3.0) == pytest.approx(energy, abs=1e-10)
    dx = np.linalg.norm(x[:, None] - x[None], axis=-1)
    dy = np.linalg.norm(y[:, None] - y[None], axis=-1)
    assert tools.anchor_wasserstein(dx, dy, precomputed=True) == pytest.approx(wasserstein, abs=1e-10)
    assert abs(tools.anchor_energy(x, x)) < 1e-14
    with pytest.raises(otters.InvalidInputError) as e:
        tools.anchor_energy(x, np.ones((3, 4)), precomputed=True)
    assert e.value.argument == "x"
    with pytest.raises(otters.InvalidInputError) as e:
        tools.anchor_energy(x, np.full((2, 2), np.nan))
    assert e.value.argument == "y"


def test_no_warning_on_converged_defaults():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        soft_sort.sort(_rng(10).normal(size=(5, 30)))
        tools.sinkformer_attention(np.eye(3), np.eye(3), np.eye(3), threshold=1e-9)


OTT_FIXTURES = Path(__file__).resolve().parents[3] / "testdata" / "ott_soft_sort.json"


@pytest.mark.parametrize("case", json.loads(OTT_FIXTURES.read_text())["cases"],
                         ids=lambda c: f"{c['op']}-{len(c['x'])}-{c['epsilon']}")
def test_soft_sort_matches_ott(case):
    x, kw = np.array(case["x"]), {"epsilon": case["epsilon"], "threshold": 1e-10, "max_iterations": 100_000}
    if case["op"] == "sort":
        got = soft_sort.sort(x, topk=case.get("topk", -1), num_targets=case.get("num_targets"), **kw)
    elif case["op"] == "ranks":
        got = soft_sort.ranks(x, target_weights=case.get("target_weights"), **kw)
    else:
        got = soft_sort.quantile(x, case["q"], **kw)
    np.testing.assert_allclose(got, case["expected"], atol=1e-8)
