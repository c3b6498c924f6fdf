"""Bad inputs raise ValueError subclasses that name the argument; nothing panics."""

import numpy as np
import pytest

import otters

M = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])
A, B = np.array([0.5, 0.5]), np.array([0.2, 0.3, 0.5])


@pytest.mark.parametrize("a,b,M_,reg,argument,fragment", [
    ([np.nan, 1.0], B, M, 0.1, "a", "non-finite"),
    (A, [0.2, -0.3, 1.1], M, 0.1, "b", "negative"),
    (A, [0.2, 0.3, 0.6], M, 0.1, "b", "sum(b) = 1.1"),
    ([1.0], B, M, 0.1, "a", "length 2"),
    (A, B, M, -1.0, "epsilon", "> 0"),
    (A, B, M, float("nan"), "epsilon", "> 0"),
    ([0.0, 0.0], B, M, 0.1, "a", "mass 0"),
    (A, B, np.array([[0.0, np.nan, 1.0], [1.0, 0.0, 1.0]]), 0.1, "cost", "[0, 1]"),
])
def test_invalid_input_is_a_value_error_naming_the_argument(a, b, M_, reg, argument, fragment):
    with pytest.raises(otters.InvalidInputError) as info:
        otters.sinkhorn(a, b, M_, reg)
    assert isinstance(info.value, ValueError)
    assert info.value.argument == argument
    assert fragment in str(info.value)


def test_infeasible_support_is_a_numerical_error():
    inf = np.inf
    with pytest.raises(otters.NumericalError) as info:
        otters.sinkhorn([0.5, 0.5], [0.5, 0.5], np.array([[0.0, inf], [inf, inf]]), 0.1)
    assert isinstance(info.value, ArithmeticError)
    assert "all its pairs are forbidden" in str(info.value)


def test_non_convergence_warns():
    rng = np.random.default_rng(0)
    M = rng.uniform(size=(30, 30))
    with pytest.warns(otters.ConvergenceWarning, match="did not converge"):
        otters.sinkhorn([], [], M, 1e-3, numItermax=3)


def test_wrong_dimensions_are_refused_before_the_engine():
    with pytest.raises(ValueError, match="2-D"):
        otters.sinkhorn(A, B, np.zeros(3), 0.1)
