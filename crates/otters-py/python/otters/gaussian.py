"""Optimal transport between Gaussians in closed form (POT's ``ot.gaussian``), plus the entropic
OT cost and the Schrödinger bridge between Gaussians.

POT-compatible: ``bures_distance``, ``bures_wasserstein_distance``,
``bures_wasserstein_mapping``, ``bures_barycenter_fixpoint``, ``bures_wasserstein_barycenter``,
``empirical_bures_wasserstein_distance``, ``empirical_bures_wasserstein_mapping``,
``empirical_bures_wasserstein_barycenter`` — same names, arguments, defaults and returned
values (distances are ``W2``, not ``W2²``, as in POT). otters only:
``entropic_gaussian_ot`` and ``gaussian_schrodinger_bridge``.

Differences from POT, on purpose:

* Covariances are validated: not symmetric or not positive semi-definite beyond a relative
  ``1e-8``, NaN/inf, or shapes that do not match raise :class:`otters.InvalidInputError`
  naming the argument (POT returns NaN or garbage). Singular (PSD) covariances are
  accepted: rounding-level negative eigenvalues are clipped to zero; the Monge map uses the
  pseudo-inverse square root of ``Cs`` (POT's ``inv`` fails or explodes).
* Barycenters use the fixed point of Álvarez-Esteban et al. (2016),
  ``S ← S^{-1/2} (Σ w_i (S^{1/2} C_i S^{1/2})^{1/2})² S^{-1/2}``, which has the same
  fixed point as POT's iteration and converges faster; the stopping rule is POT's
  (``‖S_new − S‖_F ≤ eps``). ``weights`` are normalized to sum 1 (POT uses them as given,
  which scales its result when they do not sum to 1). Non-convergence emits
  :class:`otters.ConvergenceWarning` (POT prints). The log's ``num_iter`` is the number of
  iterations done. Only ``method="fixed_point"`` is available; the gradient-descent methods
  raise ``ValueError``.
* The ``*_hd`` and Gaussian Gromov–Wasserstein functions of POT are not provided.
"""

import warnings

import numpy as np

from . import _core
from .exceptions import ConvergenceWarning

__all__ = [
    "bures_barycenter_fixpoint",
    "bures_distance",
    "bures_wasserstein_barycenter",
    "bures_wasserstein_distance",
    "bures_wasserstein_mapping",
    "empirical_bures_wasserstein_barycenter",
    "empirical_bures_wasserstein_distance",
    "empirical_bures_wasserstein_mapping",
    "entropic_gaussian_ot",
    "gaussian_schrodinger_bridge",
]


def _arr(x):
    return np.asarray(x, dtype=np.float64)


def _bures_squared(ms, mt, Cs, Ct, paired, names):
    """W2² for single Gaussians (float) or stacks ((n, m), or (n,) when paired)."""
    ms, mt, Cs, Ct = _arr(ms), _arr(mt), _arr(Cs), _arr(Ct)
    single = ms.ndim == 1 and mt.ndim == 1 and Cs.ndim == 2 and Ct.ndim == 2
    if single:
        out = _core.gaussian_bures(ms[None], mt[None], Cs[None], Ct[None], False, names)
        return float(out[0, 0])
    pair = bool(paired) and len(ms) == len(mt)
    return _core.gaussian_bures(np.atleast_2d(ms), np.atleast_2d(mt), Cs if Cs.ndim == 3 else Cs[None],
                                Ct if Ct.ndim == 3 else Ct[None], pair, names)


def _sqrt(W2):
    return float(np.sqrt(max(W2, 0.0))) if np.isscalar(W2) else np.sqrt(np.maximum(W2, 0.0))


def _cov_sqrt(C, name):
    C = _arr(C)
    roots = _core.gaussian_cov_sqrt(C if C.ndim == 3 else C[None], name)
    return roots if C.ndim == 3 else roots[0]


def bures_distance(Cs, Ct, paired=False, log=False, nx=None):
    r"""Bures distance between centered Gaussians (POT's ``ot.gaussian.bures_distance``).

    :math:`B(\Sigma_s, \Sigma_t) = \mathrm{tr}(\Sigma_s + \Sigma_t -
    2 (\Sigma_s^{1/2} \Sigma_t \Sigma_s^{1/2})^{1/2})^{1/2}`.

    Parameters
    ----------
    Cs, Ct : array-like, shape (d, d) or (n, d, d), (m, d, d)
    paired : bool
        With stacks of equal length, the ``n`` paired distances instead of the ``n × m`` matrix.
    log : bool
        Also return ``{"Cs12": Cs^{1/2}}``.
    nx : ignored (NumPy only).

    Returns
    -------
    W : float, or ndarray of shape (n, m) or (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import bures_distance
    >>> round(bures_distance(np.eye(2), 4 * np.eye(2)), 12)  # ‖I − 2I‖_F
    1.414213562373
    """
    Cs, Ct = _arr(Cs), _arr(Ct)
    zeros = (lambda C: np.zeros(C.shape[:-1]))
    W = _sqrt(_bures_squared(zeros(Cs), zeros(Ct), Cs, Ct, paired, ("ms", "mt", "Cs", "Ct")))
    return (W, {"Cs12": _cov_sqrt(Cs, "Cs")}) if log else W


def bures_wasserstein_distance(ms, mt, Cs, Ct, paired=False, log=False):
    r"""2-Wasserstein distance between Gaussians (POT's
    ``ot.gaussian.bures_wasserstein_distance``; ``W2``, not squared).

    :math:`W_2^2 = \|m_s - m_t\|^2 + \mathrm{tr}\,\Sigma_s + \mathrm{tr}\,\Sigma_t -
    2\,\mathrm{tr}(\Sigma_s^{1/2} \Sigma_t \Sigma_s^{1/2})^{1/2}`.

    Parameters
    ----------
    ms, mt : array-like, shape (d,) or (n, d), (m, d)
    Cs, Ct : array-like, shape (d, d) or (n, d, d), (m, d, d)
    paired : bool
        With stacks of equal length, the ``n`` paired distances instead of the ``n × m`` matrix.
    log : bool
        Also return ``{"Cs12": Cs^{1/2}}``.

    Returns
    -------
    W : float, or ndarray of shape (n, m) or (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import bures_wasserstein_distance
    >>> W = bures_wasserstein_distance(np.zeros(1), np.ones(1), np.eye(1), 4 * np.eye(1))
    >>> round(W ** 2, 12)  # (0 − 1)² + (1 − 2)²
    2.0
    """
    W = _sqrt(_bures_squared(ms, mt, Cs, Ct, paired, ("ms", "mt", "Cs", "Ct")))
    return (W, {"Cs12": _cov_sqrt(Cs, "Cs")}) if log else W


def bures_wasserstein_mapping(ms, mt, Cs, Ct, log=False):
    r"""Monge map between Gaussians (POT's ``ot.gaussian.bures_wasserstein_mapping``):
    :math:`T(x) = A x + b` with
    :math:`A = \Sigma_s^{-1/2}(\Sigma_s^{1/2}\Sigma_t\Sigma_s^{1/2})^{1/2}\Sigma_s^{-1/2}`,
    :math:`b = m_t - A m_s`.

    For a singular ``Cs`` the pseudo-inverse square root is used (the map is then optimal on
    the support of the source).

    Parameters
    ----------
    ms, mt : array-like, shape (d,)
    Cs, Ct : array-like, shape (d, d)
    log : bool
        Also return ``{"Cs12": Cs^{1/2}, "Cs12inv": its pseudo-inverse}``.

    Returns
    -------
    A : ndarray, shape (d, d)
    b : ndarray, shape like ``ms``
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import bures_wasserstein_mapping
    >>> A, b = bures_wasserstein_mapping(np.zeros(2), np.ones(2), np.eye(2), 4 * np.eye(2))
    >>> A, b
    (array([[2., 0.],
           [0., 2.]]), array([1., 1.]))
    """
    ms, mt = _arr(ms), _arr(mt)
    A, b = _core.gaussian_bures_map(ms, mt, Cs, Ct)
    if ms.ndim == 2:
        b = b[None, :]
    if log:
        Cs12 = _cov_sqrt(Cs, "Cs")
        return A, b, {"Cs12": Cs12, "Cs12inv": np.linalg.pinv(Cs12, hermitian=True)}
    return A, b


def _fit(x, w, reg, bias, names):
    if w is not None:
        w = _arr(w).reshape(-1)
    return _core.gaussian_fit(x, w, reg, bias, names)


def empirical_bures_wasserstein_mapping(xs, xt, reg=1e-6, ws=None, wt=None, bias=True, log=False):
    r"""Monge map between the Gaussians fitted to two samples (POT's
    ``ot.gaussian.empirical_bures_wasserstein_mapping``).

    Means :math:`m = \sum_i w_i x_i / \sum_i w_i` (zero when ``bias=False``), covariances
    :math:`\sum_i w_i (x_i - m)(x_i - m)^T / \sum_i w_i + \mathrm{reg}\, I`.

    Parameters
    ----------
    xs, xt : array-like, shape (ns, d), (nt, d)
    reg : float
        Ridge added to both covariances (``>= 0``).
    ws, wt : array-like, shape (ns,) or (ns, 1), optional
        Sample weights (uniform by default).
    bias : bool
        Estimate the means (else both are zero).
    log : bool
        Also return ``Cs``, ``Ct``, ``Cs12`` and ``Cs12inv``.

    Returns
    -------
    A : ndarray, shape (d, d)
    b : ndarray, shape (1, d)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import empirical_bures_wasserstein_mapping
    >>> xs = np.array([[0.0], [2.0]]); xt = 3 * xs + 1
    >>> A, b = empirical_bures_wasserstein_mapping(xs, xt, reg=0.0)
    >>> np.round(A, 12), np.round(b, 12)
    (array([[3.]]), array([[1.]]))
    """
    ms, Cs = _fit(xs, ws, reg, bias, ("xs", "ws"))
    mt, Ct = _fit(xt, wt, reg, bias, ("xt", "wt"))
    A, b = _core.gaussian_bures_map(ms, mt, Cs, Ct)
    b = b[None, :]
    if log:
        Cs12 = _cov_sqrt(Cs, "Cs")
        return A, b, {"Cs12": Cs12, "Cs12inv": np.linalg.pinv(Cs12, hermitian=True), "Cs": Cs, "Ct": Ct}
    return A, b


def empirical_bures_wasserstein_distance(xs, xt, reg=1e-6, ws=None, wt=None, bias=True, log=False):
    r"""2-Wasserstein distance between the Gaussians fitted to two samples (POT's
    ``ot.gaussian.empirical_bures_wasserstein_distance``; ``W2``, not squared).

    Parameters are those of :func:`empirical_bures_wasserstein_mapping`; the log holds
    ``Cs12``, ``Cs`` and ``Ct``.

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import empirical_bures_wasserstein_distance
    >>> xs = np.array([[0.0], [2.0]])
    >>> round(empirical_bures_wasserstein_distance(xs, xs + 5.0, reg=0.0), 12)
    5.0
    """
    ms, Cs = _fit(xs, ws, reg, bias, ("xs", "ws"))
    mt, Ct = _fit(xt, wt, reg, bias, ("xt", "wt"))
    W = _sqrt(_bures_squared(ms, mt, Cs, Ct, False, ("ms", "mt", "Cs", "Ct")))
    return (W, {"Cs12": _cov_sqrt(Cs, "Cs"), "Cs": Cs, "Ct": Ct}) if log else W


def _barycenter(m, C, weights, num_iter, eps):
    mb, Cb, converged, iterations, last_change = _core.gaussian_barycenter(
        m, C, None if weights is None else _arr(weights).reshape(-1), int(num_iter), float(eps)
    )
    if not converged:
        warnings.warn(
            f"Bures barycenter did not converge: last change {last_change:.3e} > eps = {eps:.3e} "
            f"after {iterations} iterations",
            ConvergenceWarning,
            stacklevel=3,
        )
    return mb, Cb, {"num_iter": iterations, "final_diff": last_change, "converged": converged}


def bures_barycenter_fixpoint(C, weights=None, num_iter=1000, eps=1e-7, log=False, nx=None):
    r"""Bures barycenter of centered Gaussians (POT's ``ot.gaussian.bures_barycenter_fixpoint``):
    the solution of :math:`\Sigma = \sum_i w_i (\Sigma^{1/2} C_i \Sigma^{1/2})^{1/2}`.

    Parameters
    ----------
    C : array-like, shape (k, d, d)
    weights : array-like, shape (k,), optional
        Uniform by default; normalized to sum 1.
    num_iter : int
        Iteration budget.
    eps : float
        Stop when ``‖S_new − S‖_F <= eps``.
    log : bool
        Also return ``{"num_iter", "final_diff", "converged"}``.
    nx : ignored (NumPy only).

    Returns
    -------
    Cb : ndarray, shape (d, d)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import bures_barycenter_fixpoint
    >>> Cb = bures_barycenter_fixpoint(np.array([np.eye(2), 9 * np.eye(2)]))
    >>> np.round(Cb, 9)  # the square roots average: ((1 + 3) / 2)² = 4
    array([[4., 0.],
           [0., 4.]])
    """
    C = _arr(C)
    _, Cb, info = _barycenter(np.zeros(C.shape[:2]), C, weights, num_iter, eps)
    return (Cb, info) if log else Cb


def bures_wasserstein_barycenter(m, C, weights=None, method="fixed_point", num_iter=1000, eps=1e-7, log=False,
                                 step_size=1, batch_size=None):
    r"""Bures–Wasserstein barycenter of Gaussians (POT's
    ``ot.gaussian.bures_wasserstein_barycenter``): mean :math:`\sum_i w_i m_i`, covariance
    the solution of :math:`\Sigma = \sum_i w_i (\Sigma^{1/2} C_i \Sigma^{1/2})^{1/2}`.

    Parameters
    ----------
    m : array-like, shape (k, d)
    C : array-like, shape (k, d, d)
    weights : array-like, shape (k,), optional
        Uniform by default; normalized to sum 1.
    method : str
        Only ``"fixed_point"`` (other POT methods raise ``ValueError``).
    num_iter, eps, log
        As :func:`bures_barycenter_fixpoint`.
    step_size, batch_size : unused (gradient-descent methods only).

    Returns
    -------
    mb : ndarray, shape (d,)
    Cb : ndarray, shape (d, d)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import bures_wasserstein_barycenter
    >>> mb, Cb = bures_wasserstein_barycenter(np.array([[0.0], [2.0]]), np.array([[[1.0]], [[9.0]]]))
    >>> mb, np.round(Cb, 9)
    (array([1.]), array([[4.]]))
    """
    if method != "fixed_point":
        raise ValueError(f"method={method!r} is not available in otters; use method='fixed_point'")
    mb, Cb, info = _barycenter(m, C, weights, num_iter, eps)
    return (mb, Cb, info) if log else (mb, Cb)


def empirical_bures_wasserstein_barycenter(X, reg=1e-6, weights=None, num_iter=1000, eps=1e-7, w=None, bias=True,
                                           log=False):
    r"""Bures–Wasserstein barycenter of the Gaussians fitted to samples (POT's
    ``ot.gaussian.empirical_bures_wasserstein_barycenter``).

    Parameters
    ----------
    X : list of array-like, shapes (n_i, d)
    reg : float
        Ridge added to each covariance.
    weights : array-like, shape (k,), optional
        Barycenter weights (uniform by default; normalized).
    num_iter, eps, log
        As :func:`bures_barycenter_fixpoint`.
    w : list of array-like, shapes (n_i,) or (n_i, 1), optional
        Sample weights.
    bias : bool
        Estimate the means (else zero).

    Returns
    -------
    mb : ndarray, shape (d,)
    Cb : ndarray, shape (d, d)
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import empirical_bures_wasserstein_barycenter
    >>> X = [np.array([[-1.0], [1.0]]), np.array([[-3.0], [3.0]]) + 2.0]
    >>> mb, Cb = empirical_bures_wasserstein_barycenter(X, reg=0.0)
    >>> mb, np.round(Cb, 9)
    (array([1.]), array([[4.]]))
    """
    fits = [_fit(x, None if w is None else w[i], reg, bias, ("X", "w")) for i, x in enumerate(X)]
    if not fits:
        raise ValueError("X must hold at least one sample array")
    m = np.stack([f[0] for f in fits])
    C = np.stack([f[1] for f in fits])
    mb, Cb, info = _barycenter(m, C, weights, num_iter, eps)
    return (mb, Cb, info) if log else (mb, Cb)


def entropic_gaussian_ot(ms, mt, Cs, Ct, epsilon, log=False):
    r"""Entropic OT between :math:`N(m_s, C_s)` and :math:`N(m_t, C_t)` in closed form
    (Janati, Muzellec, Peyré & Cuturi 2020; Mallasto et al. 2021), otters only.

    Returns :math:`OT_\varepsilon = \min_\pi \int \|x - y\|^2 d\pi + \varepsilon\,
    \mathrm{KL}(\pi \,\|\, \alpha \otimes \beta)`, the convention of otters' Sinkhorn
    ``reg_ot_cost`` (its large-sample limit). With :math:`\sigma^2 = \varepsilon / 2` and
    :math:`\lambda_k` the eigenvalues of :math:`C_s^{1/2} C_t C_s^{1/2}`,
    :math:`s_k = (4\lambda_k + \sigma^4)^{1/2}`:

    :math:`OT_\varepsilon = \|m_s - m_t\|^2 + \mathrm{tr}\,C_s + \mathrm{tr}\,C_t +
    \sum_k [\sigma^2 - s_k + \sigma^2 \log((s_k + \sigma^2) / (2\sigma^2))]`.

    Parameters
    ----------
    ms, mt : array-like, shape (d,)
    Cs, Ct : array-like, shape (d, d)
    epsilon : float
        Regularization, ``> 0``.
    log : bool
        Also return a dict with ``linear_cost`` (:math:`\int\|x-y\|^2 d\pi`), ``kl``,
        ``cross_covariance`` (``Cov(X, Y)`` under the optimal plan) and ``plan_covariance``
        (the ``2d × 2d`` covariance of the Gaussian optimal plan).

    Returns
    -------
    cost : float
    log : dict, only if ``log=True``

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import entropic_gaussian_ot
    >>> # A Dirac target: every plan is the product, OT_eps = ‖m_s − m_t‖² + tr Cs.
    >>> round(entropic_gaussian_ot(np.zeros(2), np.ones(2), np.eye(2), np.zeros((2, 2)), 0.5), 12)
    4.0
    """
    cost, linear, cross = _core.gaussian_entropic_ot(ms, mt, Cs, Ct, float(epsilon))
    if not log:
        return cost
    Cs, Ct = _arr(Cs), _arr(Ct)
    joint = np.block([[(Cs + Cs.T) / 2, cross], [cross.T, (Ct + Ct.T) / 2]])
    return cost, {"linear_cost": linear, "kl": (cost - linear) / epsilon, "cross_covariance": cross,
                  "plan_covariance": joint}


def gaussian_schrodinger_bridge(m0, m1, C0, C1, sigma, t):
    r"""Marginals of the Schrödinger bridge between :math:`N(m_0, C_0)` and :math:`N(m_1, C_1)`
    for the Brownian reference :math:`\sigma W_t` (Bunne, Hsieh, Cuturi & Krause 2023), otters
    only.

    At time :math:`t \in [0, 1]` the bridge is Gaussian with mean :math:`(1-t) m_0 + t m_1`
    and covariance :math:`(1-t)^2 C_0 + t^2 C_1 + t(1-t)(K + K^T + \sigma^2 I)`, where
    :math:`K` is the cross-covariance of the entropic plan of :func:`entropic_gaussian_ot`
    with :math:`\varepsilon = 2\sigma^2`. As :math:`\sigma \to 0` it is McCann's interpolation
    along the Monge map.

    Parameters
    ----------
    m0, m1 : array-like, shape (d,)
    C0, C1 : array-like, shape (d, d)
    sigma : float
        Noise level of the reference, ``> 0``.
    t : float or array-like of shape (T,)
        Times in ``[0, 1]``.

    Returns
    -------
    mean : ndarray, shape (d,) or (T, d)
    cov : ndarray, shape (d, d) or (T, d, d)

    Examples
    --------
    >>> import numpy as np
    >>> from otters.gaussian import gaussian_schrodinger_bridge
    >>> mean, cov = gaussian_schrodinger_bridge(np.zeros(1), np.ones(1), np.eye(1), np.eye(1), 1.0, 0.5)
    >>> mean
    array([0.5])
    """
    times = _arr(t)
    means, covs = _core.gaussian_bridge(m0, m1, C0, C1, float(sigma), times.reshape(-1))
    if times.ndim == 0:
        return means[0], covs[0]
    return means, covs
