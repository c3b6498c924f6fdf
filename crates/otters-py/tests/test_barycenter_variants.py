"""Unbalanced and debiased barycenters against POT, live: ``otters.unbalanced.barycenter_unbalanced``
(run to a tight threshold), ``otters.bregman.barycenter_debiased`` and
``convolutional_barycenter2d_debiased`` (same iterate after the same number of iterations:
the debiased iteration converges too slowly for a converged comparison); closed forms and bad
inputs."""

import warnings

import numpy as np
import ot
import pytest

import otters
from otters import InvalidInputError


def _line(n):
    x = np.linspace(0.0, 1.0, n)
    return x, (x[:, None] - x[None, :]) ** 2


def _bumps(x, centres, masses, width=0.06):
    cols = [np.exp(-((x - c) ** 2) / (2 * width**2)) + 1e-3 for c in centres]
    return np.stack([m * c / c.sum() for c, m in zip(cols, masses)], axis=1)


@pytest.mark.parametrize("weights", [None, np.array([0.2, 0.3, 0.5])])
@pytest.mark.parametrize("reg, reg_m", [(0.01, 0.5), (0.03, 5.0)])
def test_unbalanced_barycenter_matches_pot(weights, reg, reg_m):
    x, M = _line(35)
    A = _bumps(x, [0.2, 0.5, 0.8], [1.0, 1.5, 0.7])
    ours, log = otters.unbalanced.barycenter_unbalanced(A, M, reg, reg_m, weights=weights, stopThr=1e-15,
                                                        numItermax=100000, log=True)
    theirs = ot.unbalanced.barycenter_unbalanced(A, M, reg, reg_m, weights=weights, stopThr=1e-15,
                                                 numItermax=100000)
    assert log["converged"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    # Not a balanced barycenter: its mass lies strictly between the inputs'.
    assert 0.7 < ours.sum() < 1.5


@pytest.mark.parametrize("weights", [None, np.array([0.7, 0.3])])
def test_debiased_barycenter_matches_pots_iterate(weights):
    x, M = _line(30)
    A = _bumps(x, [0.3, 0.65], [1.0, 1.0])
    for niter in (5, 150):
        ours = otters.bregman.barycenter_debiased(A, M, 0.005, weights=weights, numItermax=niter, stopThr=0,
                                                  warn=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = ot.bregman.barycenter_debiased(A, M, 0.005, weights=weights, method="sinkhorn_log",
                                                    numItermax=niter, stopThr=0)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_convolutional_debiased_matches_pots_iterate():
    A = np.full((3, 10, 12), 1e-3)
    A[0, 1:3, 1:4] = 1.0
    A[1, 6:9, 2:5] = 1.0
    A[2, 4:7, 8:11] = 1.0
    A /= A.sum(axis=(1, 2), keepdims=True)
    ours = otters.bregman.convolutional_barycenter2d_debiased(A, 0.008, numItermax=100, stopThr=0, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ot.bregman.convolutional_barycenter2d_debiased(A, 0.008, method="sinkhorn_log", numItermax=100,
                                                                stopThr=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


def test_debiasing_removes_the_blur():
    # S(a, a) = 0 and S >= 0: the debiased barycenter of identical inputs is the input.
    x, M = _line(40)
    A = _bumps(x, [0.5, 0.5], [1.0, 1.0], width=0.05)
    a = A[:, 0]
    plain = otters.bregman.barycenter(A, M, 0.002, stopThr=1e-12)
    debiased, log = otters.bregman.barycenter_debiased(A, M, 0.002, numItermax=3000, stopThr=1e-9, log=True)
    assert log["converged"] and log["niter"] < 3000
    assert np.abs(plain - a).max() > 1e-3
    assert np.abs(debiased - a).max() < 1e-6


def test_variant_bad_inputs_name_the_argument():
    x, M = _line(5)
    A = _bumps(x, [0.2, 0.7], [1.0, 2.0])
    cases = [
        (lambda: otters.unbalanced.barycenter_unbalanced(A, M, 0.1, -1.0), "reg_m"),
        (lambda: otters.unbalanced.barycenter_unbalanced(A, M, 0.0, 1.0), "reg"),
        (lambda: otters.unbalanced.barycenter_unbalanced(-A, M, 0.1, 1.0), "A"),
        (lambda: otters.unbalanced.barycenter_unbalanced(A, M, 0.1, 1.0, weights=[1.0]), "weights"),
        (lambda: otters.bregman.barycenter_debiased(A, M, 0.1), "A"),  # unequal masses
        (lambda: otters.bregman.barycenter_debiased(A / A.sum(0), M[:, :4], 0.1), "M"),
        (lambda: otters.bregman.barycenter_debiased(A / A.sum(0), M, 0.1, stopThr=-1.0), "stopThr"),
        (lambda: otters.bregman.convolutional_barycenter2d_debiased(np.ones((2, 3)), 0.1), "A"),
    ]
    for call, name in cases:
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.argument == name, (name, str(info.value))
    with pytest.raises(ValueError, match="method"):
        otters.bregman.barycenter_debiased(A, M, 0.1, method="sinkhorn_stabilized")
    with pytest.warns(otters.ConvergenceWarning):
        otters.unbalanced.barycenter_unbalanced(A, M, 0.001, 1.0, numItermax=2, stopThr=0.0)
