"""Optimal transport between Gaussian mixtures (POT's ``ot.gmm``; Delon & Desolneux 2020,
*A Wasserstein-type distance in the space of Gaussian mixture models*).

GMM-OT is the exact discrete OT between the mixture weights for the ground cost
``W2²(g_i, h_j)`` between components. Provided with POT's names and signatures:
``gaussian_logpdf``, ``gaussian_pdf``, ``gmm_pdf``, ``dist_bures_squared``, ``gmm_ot_loss``,
``gmm_ot_plan``, ``gmm_ot_apply_map``.

Differences from POT, on purpose: inputs are validated (symmetric positive semi-definite
covariances, matching shapes, equal total weights) with :class:`otters.InvalidInputError`
naming the argument; densities need positive definite covariances. ``gmm_ot_apply_map`` with
``method="rand"`` draws from NumPy's ``RandomState(seed)`` in POT's order, so it reproduces
POT's draws when the per-point probabilities agree to rounding. ``gmm_ot_plan_density`` and
``gmm_barycenter_fixed_point`` are not provided.
"""

import numpy as np

import warnings

from . import _core
from .exceptions import ConvergenceWarning

__all__ = [
    "dist_bures_squared",
    "gaussian_logpdf",
    "gaussian_pdf",
    "gmm_ot_apply_map",
    "gmm_ot_loss",
    "gmm_ot_plan",
    "gmm_pdf",
]


def _arr(x):
    return np.asarray(x, dtype=np.float64)


def _logpdfs(x, m, C):
    """Component log-densities at ``x`` (shape (..., d)): shape (..., k)."""
    x = _arr(x)
    lead = x.shape[:-1]
    out = _core.gaussian_logpdf(x.reshape(-1, x.shape[-1]), m, C, ("m", "C"))
    return out.reshape(lead + (out.shape[1],))


def gaussian_logpdf(x, m, C):
    r"""Log-density of :math:`N(m, C)` at ``x`` (POT's ``ot.gmm.gaussian_logpdf``).

    Parameters
    ----------
    x : array-like, shape (..., d)
    m : array-like, shape (d,)
    C : array-like, shape (d, d), positive definite

    Returns
    -------
    logpdf : ndarray, shape (...,)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gaussian_logpdf
    >>> round(float(gaussian_logpdf(np.zeros(1), np.zeros(1), np.eye(1))), 12)  # −log √(2π)
    -0.918938533205
    """
    return _logpdfs(x, _arr(m)[None], _arr(C)[None])[..., 0]


def gaussian_pdf(x, m, C):
    r"""Density of :math:`N(m, C)` at ``x`` (POT's ``ot.gmm.gaussian_pdf``); see
    :func:`gaussian_logpdf`.

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gaussian_pdf
    >>> round(float(gaussian_pdf(np.zeros(1), np.zeros(1), np.eye(1))), 12)
    0.398942280401
    """
    return np.exp(gaussian_logpdf(x, m, C))


def gmm_pdf(x, m, C, w):
    r"""Density :math:`\sum_k w_k N(x; m_k, C_k)` of a mixture (POT's ``ot.gmm.gmm_pdf``).

    Parameters
    ----------
    x : array-like, shape (..., d)
    m : array-like, shape (k, d)
    C : array-like, shape (k, d, d)
    w : array-like, shape (k,)

    Returns
    -------
    pdf : ndarray, shape (...,)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gmm_pdf
    >>> m = np.array([[0.0], [0.0]]); C = np.array([[[1.0]], [[1.0]]])
    >>> round(float(gmm_pdf(np.zeros(1), m, C, np.array([0.3, 0.7]))), 12)
    0.398942280401
    """
    w = _arr(w)
    if w.ndim != 1 or len(w) != len(_arr(m)):
        from .exceptions import InvalidInputError

        err = InvalidInputError(f"`w` must hold one weight per component, got shape {w.shape}")
        err.argument = "w"
        raise err
    return np.exp(_logpdfs(x, m, C)) @ w


def dist_bures_squared(m_s, m_t, C_s, C_t):
    r"""Squared Bures–Wasserstein distances between the components of two mixtures (POT's
    ``ot.gmm.dist_bures_squared``).

    Parameters
    ----------
    m_s, m_t : array-like, shape (k_s, d), (k_t, d)
    C_s, C_t : array-like, shape (k_s, d, d), (k_t, d, d)

    Returns
    -------
    dist : ndarray, shape (k_s, k_t)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import dist_bures_squared
    >>> dist_bures_squared(np.zeros((1, 1)), np.ones((2, 1)), np.ones((1, 1, 1)), np.array([[[1.0]], [[4.0]]]))
    array([[1., 2.]])
    """
    return _core.gaussian_bures(m_s, m_t, C_s, C_t, False, ("m_s", "m_t", "C_s", "C_t"))


def _solve(m_s, m_t, C_s, C_t, w_s, w_t):
    return _core.gmm_ot_solve(m_s, m_t, C_s, C_t, w_s, w_t)


def _log(loss, u, v, converged):
    warning = None
    if not converged:
        warning = "numItermax reached before optimality."
        warnings.warn(warning, ConvergenceWarning, stacklevel=3)
    return {"cost": loss, "u": u, "v": v, "warning": warning, "result_code": 1 if converged else 3}


def gmm_ot_loss(m_s, m_t, C_s, C_t, w_s, w_t, log=False):
    r"""GMM-OT loss :math:`MW_2^2 = \min_{P \in \Pi(w_s, w_t)} \sum_{ij} P_{ij}
    W_2^2(g_i, h_j)` (POT's ``ot.gmm.gmm_ot_loss``), solved by the exact network simplex.

    Parameters
    ----------
    m_s, m_t : array-like, shape (k_s, d), (k_t, d)
    C_s, C_t : array-like, shape (k_s, d, d), (k_t, d, d)
    w_s, w_t : array-like, shape (k_s,), (k_t,), equal sums
    log : bool
        Also return the exact solver's log (``cost``, ``u``, ``v``, ``warning``,
        ``result_code``).

    Returns
    -------
    loss : float
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gmm_ot_loss
    >>> m = np.array([[0.0], [5.0]]); C = np.array([[[1.0]], [[1.0]]]); w = np.array([0.5, 0.5])
    >>> round(gmm_ot_loss(m, m + 1.0, C, C, w, w), 12)  # each component moves by 1
    1.0
    """
    loss, _, _, u, v, converged = _solve(m_s, m_t, C_s, C_t, w_s, w_t)
    return (loss, _log(loss, u, v, converged)) if log else loss


def gmm_ot_plan(m_s, m_t, C_s, C_t, w_s, w_t, log=False):
    r"""GMM-OT plan between the components (POT's ``ot.gmm.gmm_ot_plan``); see
    :func:`gmm_ot_loss`.

    Returns
    -------
    plan : ndarray, shape (k_s, k_t)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gmm_ot_plan
    >>> m = np.array([[0.0], [5.0]]); C = np.array([[[1.0]], [[1.0]]]); w = np.array([0.5, 0.5])
    >>> gmm_ot_plan(m, m[::-1], C, C, w, w)
    array([[0. , 0.5],
           [0.5, 0. ]])
    """
    loss, plan, _, u, v, converged = _solve(m_s, m_t, C_s, C_t, w_s, w_t)
    return (plan, _log(loss, u, v, converged)) if log else plan


def gmm_ot_apply_map(x, m_s, m_t, C_s, C_t, w_s, w_t, plan=None, method="bary", seed=None):
    r"""Apply the GMM-OT map to points (POT's ``ot.gmm.gmm_ot_apply_map``).

    ``method="bary"``: the barycentric projection
    :math:`T(x) = \sum_{ij} P_{ij}\, g_i(x)\, T_{ij}(x) / \sum_k w_k g_k(x)`, with
    :math:`T_{ij}` the Monge map between components (computed in the log domain).
    ``method="rand"``: for each point, a pair ``(i, j)`` drawn with probability
    :math:`P_{ij} g_i(x) / \sum_k w_k g_k(x)` from ``np.random.RandomState(seed)`` and
    :math:`T_{ij}(x)`.

    Parameters
    ----------
    x : array-like, shape (n, d)
    m_s, m_t, C_s, C_t, w_s, w_t
        The two mixtures (see :func:`gmm_ot_loss`).
    plan : array-like, shape (k_s, k_t), optional
        The GMM-OT plan (computed when ``None``).
    method : {"bary", "rand"}
    seed : int, optional

    Returns
    -------
    out : ndarray, shape (n, d)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gmm import gmm_ot_apply_map
    >>> m = np.array([[0.0]]); C = np.array([[[1.0]]]); w = np.array([1.0])
    >>> gmm_ot_apply_map(np.array([[1.0]]), m, m + 3.0, C, 4 * C, w, w)  # x ↦ 3 + 2x
    array([[5.]])
    """
    if plan is None:
        plan = gmm_ot_plan(m_s, m_t, C_s, C_t, w_s, w_t)
    if method == "bary":
        return _core.gmm_map(x, m_s, m_t, C_s, C_t, w_s, w_t, plan)
    if method != "rand":
        raise ValueError(f"unknown method {method!r}; use 'bary' or 'rand'")
    x, m_s, m_t, C_s, C_t, w_s = (_arr(a) for a in (x, m_s, m_t, C_s, C_t, w_s))
    plan = _arr(plan)
    k_s, k_t = plan.shape
    # Validates the mixtures, the plan and the points (and raises like method="bary").
    _core.gmm_map(x[:1], m_s, m_t, C_s, C_t, w_s, w_t, plan)
    maps = {}
    for i, j in zip(*np.nonzero(plan > 0)):
        maps[i, j] = _core.gaussian_bures_map(m_s[i], m_t[j], C_s[i], C_t[j])
    logpdf = _core.gaussian_logpdf(x, m_s, C_s, ("m_s", "C_s"))
    rng = np.random.RandomState(seed)
    out = np.zeros(x.shape)
    for n in range(x.shape[0]):
        top = logpdf[n].max()
        dens = np.exp(logpdf[n] - top)
        p = (plan * (dens / (w_s @ dens))[:, None]).reshape(k_s * k_t)
        ij = rng.choice(k_s * k_t, p=p / p.sum())
        A, b = maps[ij // k_t, ij % k_t]
        out[n] = A @ x[n] + b
    return out
