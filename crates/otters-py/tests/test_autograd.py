"""Autograd bridges checked against finite differences; skipped cleanly when the framework
is not installed (torch is kept out of the default test install: its wheel is several GB)."""

import numpy as np
import pytest


def framework(name):
    """The framework module, or a clean skip when it is missing or cannot load (a torch
    wheel without its CUDA libraries raises at import)."""
    try:
        return __import__(name)
    except Exception as exc:  # noqa: BLE001 - any failure to import means "not available"
        pytest.skip(f"{name} is not available: {exc.__class__.__name__}")


def test_torch_gradients_match_finite_differences():
    torch = framework("torch")
    import otters.torch as ott

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(12, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randn(9, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    fn = lambda x, y: ott.sinkhorn_cost(x, y, epsilon=0.5, threshold=1e-13)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, y), eps=1e-6, atol=1e-6, rtol=1e-5)
    div = lambda x: ott.sinkhorn_divergence(x, y.detach(), epsilon=0.5, threshold=1e-13)  # noqa: E731
    assert torch.autograd.gradcheck(div, (x,), eps=1e-6, atol=1e-6, rtol=1e-5)
    assert div(y.detach().clone()).item() == pytest.approx(0.0, abs=1e-9)
    # Unbalanced divergence: gradients in the points and in the weights (any direction).
    a0 = torch.rand(12, generator=gen, dtype=torch.float64) + 0.5
    udiv = lambda x, a: ott.sinkhorn_divergence(x, y.detach(), a, epsilon=0.5, rho=1.0, threshold=1e-13)  # noqa: E731
    assert torch.autograd.gradcheck(udiv, (x, (a0 / a0.sum()).requires_grad_()), eps=1e-6, atol=1e-6, rtol=1e-5)
    M = torch.rand(6, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda M: ott.sinkhorn_cost_matrix(M, epsilon=0.3, threshold=1e-13), (M,), eps=1e-6, atol=1e-6)
    # Weights of an unbalanced-mass-preserving direction: moving mass from point 0 to point 1.
    a = torch.full((12,), 1 / 12, dtype=torch.float64, requires_grad=True)
    ott.sinkhorn_cost(x.detach(), y.detach(), a, epsilon=0.5, threshold=1e-13).backward()
    h = 1e-6
    shift = torch.zeros(12, dtype=torch.float64)
    shift[0], shift[1] = h, -h
    plus = ott.sinkhorn_cost(x.detach(), y.detach(), a.detach() + shift, epsilon=0.5, threshold=1e-13)
    minus = ott.sinkhorn_cost(x.detach(), y.detach(), a.detach() - shift, epsilon=0.5, threshold=1e-13)
    assert (a.grad[0] - a.grad[1]).item() == pytest.approx(((plus - minus) / (2 * h)).item(), rel=1e-5)


def test_jax_gradients_match_finite_differences():
    jax = framework("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    import otters.jax as otj

    rng = np.random.default_rng(1)
    x, y = jnp.asarray(rng.normal(size=(10, 2))), jnp.asarray(rng.normal(size=(8, 2)) + 0.5)
    f = lambda x: otj.sinkhorn_cost(x, y, epsilon=0.5, threshold=1e-13)  # noqa: E731
    grad = jax.grad(f)(x)
    h = 1e-6
    for i, k in [(0, 0), (3, 1), (9, 0)]:
        e = jnp.zeros_like(x).at[i, k].set(h)
        fd = (f(x + e) - f(x - e)) / (2 * h)
        assert float(grad[i, k]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9)
    assert float(jax.jit(f)(x)) == pytest.approx(float(f(x)), rel=1e-12)
    div = otj.sinkhorn_divergence(x, x, epsilon=0.5, threshold=1e-13)
    assert float(div) == pytest.approx(0.0, abs=1e-9)
    d = lambda x: otj.sinkhorn_divergence(x, y, epsilon=0.5, rho=2.0, threshold=1e-13)  # noqa: E731
    grad = jax.grad(d)(x)
    for i, k in [(1, 0), (7, 1)]:
        e = jnp.zeros_like(x).at[i, k].set(h)
        assert float(grad[i, k]) == pytest.approx(float((d(x + e) - d(x - e)) / (2 * h)), rel=1e-5, abs=1e-9)
