"""Barycenters against POT, live: ``otters.bregman.barycenter`` /
``convolutional_barycenter2d`` (both POT methods, run to a tight threshold) and
``otters.lp.free_support_barycenter`` (from the same ``X_init``); bad inputs name the
argument."""

import warnings

import numpy as np
import ot
import pytest

import otters
from otters import InvalidInputError


def _histograms(rng, n, k):
    A = rng.random((n, k)) + 0.05
    return A / A.sum(axis=0, keepdims=True)


# POT's "sinkhorn" method keeps sum_k w_k log u_k at its start value, which is 0 only for
# uniform weights: with other weights it converges to another point (see the next test), so
# it is compared with uniform weights only.
@pytest.mark.parametrize("method, weights", [("sinkhorn", None), ("sinkhorn_log", None),
                                             ("sinkhorn_log", np.array([0.2, 0.5, 0.3]))])
def test_barycenter_matches_pot(method, weights):
    rng = np.random.default_rng(0)
    n = 30
    x = np.sort(rng.random(n))
    M = (x[:, None] - x[None, :]) ** 2
    A = _histograms(rng, n, 3)
    reg = 0.01
    ours = otters.bregman.barycenter(A, M, reg, weights, method=method, stopThr=1e-13, numItermax=200000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ot.bregman.barycenter(A, M, reg, weights, method=method, stopThr=1e-13, numItermax=200000)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-11)
    assert abs(ours.sum() - 1.0) < 1e-9


def test_weighted_barycenter_beats_pots_sinkhorn_method():
    # With non-uniform weights, otters' answer (= POT's "sinkhorn_log") has a lower objective
    # sum_k w_k (<P_k, M> - reg H(P_k)) than POT's "sinkhorn" method's.
    rng = np.random.default_rng(0)
    n = 30
    x = np.sort(rng.random(n))
    M = (x[:, None] - x[None, :]) ** 2
    A = _histograms(rng, n, 3)
    weights, reg = np.array([0.2, 0.5, 0.3]), 0.01

    def objective(bar):
        total = 0.0
        for k in range(3):
            P = ot.sinkhorn(A[:, k], bar, M, reg, method="sinkhorn_log", stopThr=1e-14, numItermax=100000)
            total += weights[k] * ((P * M).sum() + reg * (P * np.log(P)).sum())
        return total

    ours = otters.bregman.barycenter(A, M, reg, weights, stopThr=1e-13, numItermax=200000)
    theirs = ot.bregman.barycenter(A, M, reg, weights, method="sinkhorn", stopThr=1e-13, numItermax=200000)
    assert np.abs(ours - theirs).max() > 1e-4
    assert objective(ours) < objective(theirs) - 1e-7


def test_barycenter_log_and_rectangular_cost():
    rng = np.random.default_rng(1)
    x, y = np.sort(rng.random(12)), np.linspace(0, 1, 9)
    M = (x[:, None] - y[None, :]) ** 2
    A = _histograms(rng, 12, 2)
    # POT needs a square M; with weights (1, 0) the barycenter is the column marginal of the
    # first input's entropic projection, K^T (a_1 / K 1), for any support.
    bar, log = otters.bregman.barycenter(A, M, 0.02, weights=[1.0, 0.0], stopThr=1e-12, log=True)
    assert bar.shape == (9,)
    assert log["converged"] and log["niter"] >= 1 and log["err"][0] <= 1e-12
    K = np.exp(-M / 0.02)
    np.testing.assert_allclose(bar, K.T @ (A[:, 0] / K.sum(axis=1)), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("method", ["sinkhorn", "sinkhorn_log"])
def test_convolutional_barycenter2d_matches_pot(method):
    rng = np.random.default_rng(2)
    A = rng.random((3, 10, 13)) ** 4 + 1e-3
    A /= A.sum(axis=(1, 2), keepdims=True)
    weights = np.array([0.5, 0.25, 0.25])
    reg = 0.004
    ours = otters.bregman.convolutional_barycenter2d(A, reg, weights, method=method, stopThr=1e-12,
                                                     numItermax=100000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ot.bregman.convolutional_barycenter2d(A, reg, weights, method=method, stopThr=1e-12,
                                                       numItermax=100000)
    assert ours.shape == (10, 13)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def test_convolutional_equals_dense_barycenter():
    # The grid's separable sweeps give the dense solver's answer on the materialized cost.
    rng = np.random.default_rng(3)
    A = rng.random((2, 5, 4)) + 0.1
    A /= A.sum(axis=(1, 2), keepdims=True)
    t, s = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
    pts = np.stack(np.meshgrid(t, s, indexing="ij"), axis=-1).reshape(-1, 2)
    M = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    conv = otters.bregman.convolutional_barycenter2d(A, 0.05, stopThr=1e-13)
    dense = otters.bregman.barycenter(A.reshape(2, -1).T, M, 0.05, stopThr=1e-13)
    np.testing.assert_allclose(conv.ravel(), dense, rtol=1e-10, atol=1e-14)


def test_free_support_barycenter_matches_pot():
    rng = np.random.default_rng(4)
    locations = [rng.normal(size=(n, 2)) + shift for n, shift in ((9, 0.0), (12, 2.0), (7, -1.0))]
    measures_weights = [np.full(len(y), 1.0 / len(y)) for y in locations]
    X_init = rng.normal(size=(6, 2))
    b = rng.random(6) + 0.2
    b /= b.sum()
    weights = np.array([0.5, 0.3, 0.2])
    ours, log = otters.lp.free_support_barycenter(locations, measures_weights, X_init, b, weights,
                                                  numItermax=50, stopThr=1e-12, log=True)
    theirs, their_log = ot.lp.free_support_barycenter(locations, measures_weights, X_init, b, weights,
                                                      numItermax=50, stopThr=1e-12, log=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(log["displacement_square_norms"], their_log["displacement_square_norms"],
                               rtol=1e-8, atol=1e-14)
    assert log["converged"]
    # The reported cost is that of the last exact solves (from the points before the last move).
    assert log["cost"] > 0


def test_bad_inputs_name_the_argument():
    x = np.linspace(0, 1, 4)
    M = (x[:, None] - x[None, :]) ** 2
    A = np.full((4, 2), 0.25)
    cases = [
        (lambda: otters.bregman.barycenter(np.where(np.eye(4, 2) > 0, np.nan, A), M, 0.1), "A"),
        (lambda: otters.bregman.barycenter(A * [1.0, 2.0], M, 0.1), "A"),
        (lambda: otters.bregman.barycenter(A, M[:3], 0.1), "A"),
        (lambda: otters.bregman.barycenter(A, M, -1.0), "reg"),
        (lambda: otters.bregman.barycenter(A, M, 0.1, weights=[1.0, -1.0]), "weights"),
        (lambda: otters.bregman.barycenter(A, M, 0.1, weights=[1.0]), "weights"),
        (lambda: otters.bregman.barycenter(A, M, 0.1, stopThr=np.nan), "stopThr"),
        (lambda: otters.bregman.barycenter(A, M, 0.1, numItermax=0), "numItermax"),
        (lambda: otters.bregman.convolutional_barycenter2d(A, 0.1), "A"),
        (lambda: otters.bregman.convolutional_barycenter2d(-np.ones((2, 3, 3)), 0.1), "A"),
        (lambda: otters.lp.free_support_barycenter([np.zeros((3, 2))], [np.ones(3) / 3], np.zeros((2, 3))),
         "measures_locations"),
        (lambda: otters.lp.free_support_barycenter([np.zeros((3, 2))], [np.ones(2) / 2], np.zeros((2, 2))),
         "measures_weights"),
        (lambda: otters.lp.free_support_barycenter([np.zeros((3, 2))], [np.ones(3) / 3], np.full((2, 2), np.nan)),
         "X_init"),
        (lambda: otters.lp.free_support_barycenter([np.zeros((3, 2))], [np.ones(3) / 3], np.zeros((2, 2)),
                                                   b=[0.5, -0.5]), "b"),
        (lambda: otters.lp.free_support_barycenter([np.zeros((3, 2))], [np.ones(3) / 3, np.ones(3) / 3],
                                                   np.zeros((2, 2))), "measures_weights"),
    ]
    for call, name in cases:
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
        assert f"`{name}`" in str(info.value) or name == "A", str(info.value)
    with pytest.raises(ValueError, match="method"):
        otters.bregman.barycenter(A, M, 0.1, method="greenkhorn")


def test_non_convergence_warns():
    rng = np.random.default_rng(5)
    x = np.linspace(0, 1, 20)
    M = (x[:, None] - x[None, :]) ** 2
    A = _histograms(rng, 20, 2)
    with pytest.warns(otters.ConvergenceWarning):
        bar, log = otters.bregman.barycenter(A, M, 0.001, numItermax=2, stopThr=0.0, log=True)
    assert not log["converged"] and log["niter"] == 2
    assert np.all(np.isfinite(bar))
