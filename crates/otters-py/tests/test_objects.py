"""The object face: geometries, problems, solvers and their outputs."""

import threading
import time
import warnings

import numpy as np
import ot
import pytest

import otters
from otters import DenseCost, LinearProblem, NetworkSimplex, PointCloud, Sinkhorn


@pytest.fixture
def clouds():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 2)), rng.normal(size=(25, 2)) + 1.0


def test_geometries_compute_the_cost(clouds):
    x, y = clouds
    pc = PointCloud(x, y)
    assert pc.shape == (30, 25)
    np.testing.assert_allclose(pc.cost_matrix(), ot.dist(x, y), atol=1e-12)
    dense = DenseCost(ot.dist(x, y), scale_cost="max")
    assert dense.scale == pytest.approx(ot.dist(x, y).max())
    np.testing.assert_allclose(dense.cost_matrix().max(), 1.0)
    assert "PointCloud(30 x 25" in repr(pc)
    ott_style = otters.Geometry(cost_matrix=ot.dist(x, y))
    assert isinstance(ott_style, DenseCost) and ott_style.shape == (30, 25)
    with pytest.raises(otters.InvalidInputError) as info:
        PointCloud(x, y, cost_fn="hamming")
    assert info.value.argument == "cost_fn"


# float32 costs are not cast: they are read in float32 (test_batch_precision.py).
@pytest.mark.parametrize("transform", [
    lambda M: np.asfortranarray(M),
    lambda M: M[::1, ::1].copy()[:, :],
    lambda M: np.round(M * 10).astype(np.int64),
    lambda M: M.tolist(),
])
def test_inputs_are_cast_by_one_rule(transform):
    rng = np.random.default_rng(1)
    M = rng.uniform(size=(8, 6))
    converted = transform(M)
    reference = np.asarray(converted, dtype=np.float64)
    got = otters.sinkhorn([], [], converted, 0.5)
    want = otters.sinkhorn([], [], reference, 0.5)
    np.testing.assert_array_equal(got, want)


def test_strided_and_fortran_views_are_accepted():
    rng = np.random.default_rng(2)
    big = rng.uniform(size=(20, 18))
    view = big[::2, ::3]
    np.testing.assert_allclose(otters.sinkhorn([], [], view, 0.3), otters.sinkhorn([], [], np.ascontiguousarray(view), 0.3), atol=1e-15)
    fortran = np.asfortranarray(big)
    np.testing.assert_allclose(otters.emd2([], [], fortran), otters.emd2([], [], big), rtol=1e-14)
    with pytest.raises(otters.InvalidInputError, match="complex"):
        otters.sinkhorn([], [], big.astype(complex), 0.3)


def test_problems_validate_at_construction(clouds):
    x, y = clouds
    geom = PointCloud(x, y)
    with pytest.raises(otters.InvalidInputError) as info:
        LinearProblem(geom, np.ones(29) / 29)
    assert info.value.argument == "a"
    with pytest.raises(otters.InvalidInputError, match="sum"):
        LinearProblem(geom, np.ones(30), np.ones(25))
    relaxed = LinearProblem(geom, np.ones(30), np.ones(25), rho_a=1.0, rho_b=1.0)
    assert not relaxed.is_balanced
    with pytest.raises(otters.InvalidInputError) as info:
        LinearProblem(geom, rho_a=-1.0)
    assert info.value.argument == "penalty_a"


def test_sinkhorn_output_answers_follow_up_questions(clouds):
    x, y = clouds
    geom = PointCloud(x, y)
    problem = LinearProblem(geom)
    out = Sinkhorn(0.5, threshold=1e-10).solve(problem)
    assert out.converged and out.iterations == len(out.errors) and out.errors[-1] <= 1e-10
    P = out.plan()
    np.testing.assert_allclose(P.sum(1), problem.a, atol=1e-9)
    assert out.linear_cost == pytest.approx(float(np.sum(P * ot.dist(x, y))), rel=1e-12)
    v = np.arange(30.0)
    np.testing.assert_allclose(out.apply(v), P.T @ v, rtol=1e-12)
    w = np.random.default_rng(3).normal(size=(25, 4))
    np.testing.assert_allclose(out.apply(w, axis=1), P @ w, rtol=1e-10, atol=1e-14)
    # The entropic map at the samples is the barycentric projection.
    np.testing.assert_allclose(out.transport(x), (P @ y) / problem.a[:, None], rtol=1e-6)
    assert out.transport(np.zeros((3, 2))).shape == (3, 2)
    gx, gy = out.grad_points()
    assert gx.shape == (30, 2) and gy.shape == (25, 2)
    # d reg_ot_cost / d x[0, 0] against a finite difference.
    h = 1e-6
    xp, xm = x.copy(), x.copy()
    xp[0, 0] += h
    xm[0, 0] -= h
    solve = lambda pts: Sinkhorn(0.5, threshold=1e-12, max_iterations=100000).solve(LinearProblem(PointCloud(pts, y))).reg_ot_cost
    assert gx[0, 0] == pytest.approx((solve(xp) - solve(xm)) / (2 * h), rel=1e-5)
    dense_out = Sinkhorn(0.5).solve(LinearProblem(DenseCost(ot.dist(x, y))))
    with pytest.raises(TypeError, match="PointCloud"):
        dense_out.transport(x)


def test_unbalanced_warm_started_and_non_converged_solves(clouds):
    x, y = clouds
    geom = PointCloud(x, y)
    relaxed = LinearProblem(geom, rho_a=0.5, rho_b=0.5)
    out = Sinkhorn(0.2).solve(relaxed)
    assert out.converged and out.plan_mass < 1.0
    assert out.reg_ot_cost <= out.primal_cost + 1e-12
    tv = Sinkhorn(0.2).solve(LinearProblem(geom, rho_a=0.5, rho_b=0.5, penalty="tv"))
    assert tv.converged
    problem = LinearProblem(geom)
    first = Sinkhorn(0.3, threshold=1e-10).solve(problem)
    again = Sinkhorn(0.3, threshold=1e-10).solve(problem, init=(first.f, first.g))
    assert again.iterations <= 2
    with pytest.warns(otters.ConvergenceWarning):
        out = Sinkhorn(1e-3, max_iterations=3).solve(problem)
    assert not out.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Sinkhorn(1e-3, max_iterations=3, warn=False).solve(problem)


def test_network_simplex_object(clouds):
    x, y = clouds
    M = ot.dist(x, y)
    out = NetworkSimplex().solve(LinearProblem(DenseCost(M)))
    assert out.status == "optimal" and out.converged
    assert out.cost == pytest.approx(ot.emd2([], [], M), rel=1e-12)
    rows, cols, values = out.plan_sparse()
    assert len(values) < 30 + 25
    np.testing.assert_allclose(out.plan()[rows, cols], values)
    assert out.dual_cost == pytest.approx(out.cost, rel=1e-12)


def test_two_threads_solve_concurrently_while_python_runs():
    rng = np.random.default_rng(4)
    M = rng.uniform(size=(600, 600))
    reference = otters.sinkhorn2([], [], M, 1e-3, numItermax=200, stopThr=1e-30)
    results, ticks = [None, None], 0

    def work(k):
        results[k] = otters.sinkhorn2([], [], M, 1e-3, numItermax=200, stopThr=1e-30)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.001)
    for t in threads:
        t.join()
    assert results == [reference, reference], "same numbers from concurrent solves"
    assert ticks > 10, "the interpreter kept running during the solves"


def test_initializers_and_accelerations_keep_the_solution_and_save_iterations():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 2))
    y = rng.normal(size=(200, 2)) @ np.array([[1.5, 0.4], [-0.2, 0.6]]) + np.array([2.0, -1.0])
    geom = PointCloud(x, y)
    problem = LinearProblem(geom)
    eps = 0.01 * float(np.mean(ot.dist(x, y)))
    plain = Sinkhorn(eps, acceleration="none", max_iterations=20000).solve(problem)
    assert plain.converged
    plans = {"plain": plain.plan()}
    iterations = {"plain": plain.iterations}
    for name, solver in {
        "anderson": Sinkhorn(eps, max_iterations=20000),
        "anderson 3": Sinkhorn(eps, anderson_memory=3, max_iterations=20000),
        "adaptive": Sinkhorn(eps, acceleration="adaptive", max_iterations=20000),
        "fixed 1.5": Sinkhorn(eps, acceleration=1.5, max_iterations=20000),
        "gaussian": Sinkhorn(eps, acceleration="none", initializer="gaussian", max_iterations=20000),
        "subsample": Sinkhorn(eps, acceleration="none", initializer="subsample", initializer_size=50,
                              max_iterations=20000),
    }.items():
        out = solver.solve(problem)
        assert out.converged, name
        np.testing.assert_allclose(out.plan(), plans["plain"], atol=1e-4 / 200, err_msg=name)
        iterations[name] = out.iterations
    assert 3 * iterations["anderson"] <= iterations["plain"], iterations
    assert iterations["adaptive"] < iterations["plain"], iterations
    assert iterations["gaussian"] < iterations["plain"], iterations
    assert iterations["subsample"] < iterations["plain"], iterations


def test_sorting_initializer_on_1d_clouds():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(200, 1)), 0.7 * rng.normal(size=(150, 1)) + 1.0
    problem = LinearProblem(PointCloud(x, y))
    cold = Sinkhorn(1e-2, acceleration="none", max_iterations=50000).solve(problem)
    warm = Sinkhorn(1e-2, acceleration="none", initializer="sorting", max_iterations=50000).solve(problem)
    assert cold.converged and warm.converged
    np.testing.assert_allclose(warm.plan(), cold.plan(), atol=1e-4 / 200)
    assert warm.iterations <= 0.7 * cold.iterations, (warm.iterations, cold.iterations)
    with pytest.raises(otters.InvalidInputError) as info:
        Sinkhorn(0.1, initializer="sorting").solve(LinearProblem(PointCloud(rng.normal(size=(5, 2)),
                                                                            rng.normal(size=(5, 2)))))
    assert info.value.argument == "x"


def test_bad_acceleration_and_initializer_settings_are_refused():
    for bad in (2.5, 0.0, "momentum", True):
        with pytest.raises(ValueError, match="acceleration"):
            Sinkhorn(0.1, acceleration=bad)
    for bad in (1, 2.5, None):
        with pytest.raises(ValueError, match="anderson_memory"):
            Sinkhorn(0.1, anderson_memory=bad)
    with pytest.raises(ValueError, match="initializer"):
        Sinkhorn(0.1, initializer="zeros")
    rng = np.random.default_rng(0)
    dense = LinearProblem(DenseCost(ot.dist(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)))))
    with pytest.raises(otters.InvalidInputError) as info:
        Sinkhorn(0.1, initializer="gaussian").solve(dense)
    assert info.value.argument == "initializer"
    cosine = LinearProblem(PointCloud(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), cost_fn="cosine"))
    with pytest.raises(otters.InvalidInputError, match="sqeuclidean"):
        Sinkhorn(0.1, initializer="gaussian").solve(cosine)
    out = Sinkhorn(0.1, initializer="subsample", initializer_size=3).solve(cosine)
    assert out.converged
