"""The POT face is a thin adapter over the object face: identical numbers, bit for bit."""

import numpy as np

import otters
from otters import DenseCost, LinearProblem, NetworkSimplex, Sinkhorn


def data():
    rng = np.random.default_rng(5)
    M = rng.uniform(size=(17, 23))
    return rng.dirichlet(np.ones(17)), rng.dirichlet(np.ones(23)), M


def test_sinkhorn_faces_agree():
    a, b, M = data()
    functional = otters.sinkhorn(a, b, M, 0.1)
    objects = Sinkhorn(0.1, threshold=1e-9, max_iterations=1000)(LinearProblem(DenseCost(M), a, b)).plan()
    np.testing.assert_array_equal(functional, objects)
    assert otters.sinkhorn2(a, b, M, 0.1) == Sinkhorn(0.1, threshold=1e-9, max_iterations=1000)(LinearProblem(DenseCost(M), a, b)).linear_cost


def test_exact_faces_agree():
    a, b, M = data()
    out = NetworkSimplex(100000).solve(LinearProblem(DenseCost(M), a, b))
    np.testing.assert_array_equal(otters.emd(a, b, M), out.plan())
    assert otters.emd2(a, b, M) == out.cost
    assert otters.solve(M, a, b).value == out.cost


def test_unbalanced_faces_agree():
    a, b, M = data()
    functional = otters.unbalanced.sinkhorn_unbalanced(a, 2 * b, M, 0.1, 1.0)
    objects = Sinkhorn(0.1, threshold=1e-6, max_iterations=1000)(LinearProblem(DenseCost(M), a, 2 * b, rho_a=1.0, rho_b=1.0)).plan()
    np.testing.assert_array_equal(functional, objects)
