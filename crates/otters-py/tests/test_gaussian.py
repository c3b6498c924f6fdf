"""otters.gaussian and otters.gmm against POT's ot.gaussian / ot.gmm (live), closed forms, and bad
inputs. Both sides are closed forms, so the tolerances are rounding-level (1e-10 relative)."""

import warnings

import numpy as np
import pytest
import scipy.linalg

import otters
from otters import gaussian as og
from otters import gmm as ogmm

ot = pytest.importorskip("ot")
import ot.gaussian  # noqa: E402
import ot.gmm  # noqa: E402

RTOL = 1e-10


def spd(rng, d, shift=0.3):
    g = rng.standard_normal((d, d))
    return g @ g.T / d + shift * np.eye(d)


def close(got, want, rtol=RTOL):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    err = float(np.max(np.abs(got - want))) if want.size else 0.0
    assert err <= rtol * scale, f"max |diff| {err:.3e} > {rtol * scale:.3e}"


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distance_and_map_match_pot(d, seed):
    rng = np.random.default_rng(seed)
    ms, mt = rng.standard_normal(d), rng.standard_normal(d)
    Cs, Ct = spd(rng, d), spd(rng, d)
    close(og.bures_wasserstein_distance(ms, mt, Cs, Ct), ot.gaussian.bures_wasserstein_distance(ms, mt, Cs, Ct))
    close(og.bures_distance(Cs, Ct), ot.gaussian.bures_distance(Cs, Ct))
    A, b = og.bures_wasserstein_mapping(ms, mt, Cs, Ct)
    A0, b0 = ot.gaussian.bures_wasserstein_mapping(ms, mt, Cs, Ct)
    close(A, A0)
    close(b, b0)
    _, _, log = og.bures_wasserstein_mapping(ms, mt, Cs, Ct, log=True)
    _, _, log0 = ot.gaussian.bures_wasserstein_mapping(ms, mt, Cs, Ct, log=True)
    close(log["Cs12"], log0["Cs12"])
    close(log["Cs12inv"], log0["Cs12inv"], 1e-8)
    # The map pushes N(ms, Cs) onto N(mt, Ct).
    close(A @ Cs @ A.T, Ct, 1e-9)


def test_batched_distances_match_pot():
    rng = np.random.default_rng(7)
    d = 3
    ms, mt = rng.standard_normal((4, d)), rng.standard_normal((5, d))
    Cs = np.stack([spd(rng, d) for _ in range(4)])
    Ct = np.stack([spd(rng, d) for _ in range(5)])
    W = og.bures_wasserstein_distance(ms, mt, Cs, Ct)
    assert W.shape == (4, 5)
    close(W, ot.gaussian.bures_wasserstein_distance(ms, mt, Cs, Ct))
    close(og.bures_distance(Cs, Ct), ot.gaussian.bures_distance(Cs, Ct))
    Wp = og.bures_wasserstein_distance(ms, mt[:4], Cs, Ct[:4], paired=True)
    assert Wp.shape == (4,)
    close(Wp, ot.gaussian.bures_wasserstein_distance(ms, mt[:4], Cs, Ct[:4], paired=True))
    close(og.bures_distance(Cs, Ct[:4], paired=True), ot.gaussian.bures_distance(Cs, Ct[:4], paired=True))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_empirical_functions_match_pot(bias, weighted):
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((40, 3)) @ rng.standard_normal((3, 3)) + 1.0
    xt = rng.standard_normal((30, 3)) * [0.5, 2.0, 1.0] - 2.0
    ws = rng.uniform(0.5, 1.5, (40, 1)) if weighted else None
    wt = rng.uniform(0.5, 1.5, (30, 1)) if weighted else None
    kw = dict(reg=1e-3, ws=ws, wt=wt, bias=bias)
    W, log = og.empirical_bures_wasserstein_distance(xs, xt, log=True, **kw)
    W0, log0 = ot.gaussian.empirical_bures_wasserstein_distance(xs, xt, log=True, **kw)
    close(W, W0)
    close(log["Cs"], log0["Cs"])
    close(log["Ct"], log0["Ct"])
    A, b = og.empirical_bures_wasserstein_mapping(xs, xt, **kw)
    A0, b0 = ot.gaussian.empirical_bures_wasserstein_mapping(xs, xt, **kw)
    close(A, A0)
    close(b, b0)
    # 1-D weights work too (POT needs (n, 1)).
    if weighted:
        close(og.empirical_bures_wasserstein_distance(xs, xt, reg=1e-3, ws=ws[:, 0], wt=wt[:, 0], bias=bias), W0)


def test_barycenters_match_pot():
    rng = np.random.default_rng(11)
    k, d = 4, 3
    m = rng.standard_normal((k, d))
    C = np.stack([spd(rng, d) for _ in range(k)])
    w = rng.uniform(0.2, 1.0, k)
    w /= w.sum()
    mb, Cb, log = og.bures_wasserstein_barycenter(m, C, weights=w, eps=1e-13, log=True)
    mb0, Cb0 = ot.gaussian.bures_wasserstein_barycenter(m, C, weights=w, eps=1e-13, num_iter=20000)
    close(mb, mb0)
    close(Cb, Cb0, 1e-9)
    assert log["converged"] and log["final_diff"] <= 1e-13
    close(og.bures_barycenter_fixpoint(C, weights=w, eps=1e-13), Cb0, 1e-9)
    # The fixed-point equation holds.
    root = scipy.linalg.sqrtm(Cb).real
    rhs = sum(wi * scipy.linalg.sqrtm(root @ Ci @ root).real for wi, Ci in zip(w, C))
    close(Cb, rhs, 1e-9)
    X = [rng.standard_normal((25, d)) * (i + 1) + i for i in range(3)]
    mb, Cb = og.empirical_bures_wasserstein_barycenter(X, reg=1e-3, eps=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mb0, Cb0 = ot.gaussian.empirical_bures_wasserstein_barycenter(X, reg=1e-3, eps=1e-13, num_iter=20000)
    close(mb, mb0)
    close(Cb, Cb0, 1e-9)


def test_barycenter_nonconvergence_warns():
    C = np.stack([np.eye(2), np.diag([9.0, 0.25])])
    with pytest.warns(otters.ConvergenceWarning):
        _, log = og.bures_barycenter_fixpoint(C, num_iter=1, eps=0.0, log=True)
    assert not log["converged"] and log["num_iter"] == 1


def janati_cost(ms, mt, Cs, Ct, eps):
    """The published form (Janati et al. 2020, Thm 1, penalty 2σ² KL, so σ² = ε/2), with inverses."""
    d, s2 = len(ms), eps / 2
    Ah = scipy.linalg.sqrtm(Cs).real
    D = scipy.linalg.sqrtm(4 * Ah @ Ct @ Ah + s2**2 * np.eye(d)).real
    cross = 0.5 * Ah @ D @ np.linalg.inv(Ah) - 0.5 * s2 * np.eye(d)
    cost = (np.sum((ms - mt) ** 2) + np.trace(Cs) + np.trace(Ct) - np.trace(D) + d * s2 * (1 - np.log(2 * s2))
            + s2 * np.linalg.slogdet(D + s2 * np.eye(d))[1])
    return cost, cross


@pytest.mark.parametrize("eps", [0.05, 1.0, 20.0])
def test_entropic_closed_form_matches_the_published_form(eps):
    rng = np.random.default_rng(5)
    d = 3
    ms, mt, Cs, Ct = rng.standard_normal(d), rng.standard_normal(d), spd(rng, d), spd(rng, d)
    cost, log = og.entropic_gaussian_ot(ms, mt, Cs, Ct, eps, log=True)
    want, cross = janati_cost(ms, mt, Cs, Ct, eps)
    close(cost, want, 1e-9)
    close(log["cross_covariance"], cross, 1e-9)
    close(log["linear_cost"], np.sum((ms - mt) ** 2) + np.trace(Cs) + np.trace(Ct) - 2 * np.trace(cross), 1e-9)
    assert log["kl"] >= 0 and np.linalg.eigvalsh(log["plan_covariance"]).min() > -1e-10


def test_entropic_cost_matches_sinkhorn_on_samples():
    # reg_ot_cost of otters' Sinkhorn (<C,P> + ε KL(P | a⊗b)) on 1500 samples against the
    # closed form at the samples' own moments (the dominant sampling error cancels; the
    # remaining gap measured ~1e-3 at n = 1000–2000), tolerance 1e-2, 30× below the change
    # from a wrong convention (ε/2 or 2ε: > 0.5).
    rng = np.random.default_rng(0)
    A = np.array([[1.0, 0.3], [0.3, 0.5]])
    B = np.array([[0.8, -0.2], [-0.2, 1.5]])
    x = rng.multivariate_normal([0, 0], A, 1500)
    y = rng.multivariate_normal([1, -0.5], B, 1500)
    eps = 1.0
    geom = otters.PointCloud(x, y)
    out = otters.Sinkhorn(epsilon=eps, threshold=1e-9).solve(otters.LinearProblem(geom))
    Ax, Ay = np.cov(x.T, bias=True), np.cov(y.T, bias=True)
    closed = og.entropic_gaussian_ot(x.mean(0), y.mean(0), Ax, Ay, eps)
    assert abs(out.reg_ot_cost - closed) < 1e-2, (out.reg_ot_cost, closed)
    for wrong in (eps / 2, 2 * eps):
        assert abs(out.reg_ot_cost - og.entropic_gaussian_ot(x.mean(0), y.mean(0), Ax, Ay, wrong)) > 0.1


def test_bridge_matches_the_published_form():
    rng = np.random.default_rng(9)
    d, sigma = 3, 0.8
    m0, m1, C0, C1 = rng.standard_normal(d), rng.standard_normal(d), spd(rng, d), spd(rng, d)
    _, K = janati_cost(m0, m1, C0, C1, 2 * sigma**2)
    t = np.array([0.0, 0.2, 0.5, 1.0])
    means, covs = og.gaussian_schrodinger_bridge(m0, m1, C0, C1, sigma, t)
    assert means.shape == (4, d) and covs.shape == (4, d, d)
    for k, tk in enumerate(t):
        want = (1 - tk) ** 2 * C0 + tk**2 * C1 + tk * (1 - tk) * (K + K.T + sigma**2 * np.eye(d))
        close(covs[k], want, 1e-9)
        close(means[k], (1 - tk) * m0 + tk * m1)
    close(covs[0], C0)
    close(covs[-1], C1)
    mean, cov = og.gaussian_schrodinger_bridge(m0, m1, C0, C1, sigma, 0.5)
    assert mean.shape == (d,) and cov.shape == (d, d)


def mixtures(rng, ks, kt, d):
    m_s, m_t = 2 * rng.standard_normal((ks, d)), 2 * rng.standard_normal((kt, d))
    C_s = np.stack([spd(rng, d) for _ in range(ks)])
    C_t = np.stack([spd(rng, d) for _ in range(kt)])
    w_s, w_t = rng.uniform(0.2, 1, ks), rng.uniform(0.2, 1, kt)
    return m_s, m_t, C_s, C_t, w_s / w_s.sum(), w_t / w_t.sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_gmm_matches_pot(seed):
    rng = np.random.default_rng(seed)
    args = mixtures(rng, 3, 4, 2)
    m_s, m_t, C_s, C_t, w_s, w_t = args
    close(ogmm.dist_bures_squared(m_s, m_t, C_s, C_t), ot.gmm.dist_bures_squared(m_s, m_t, C_s, C_t))
    loss, log = ogmm.gmm_ot_loss(*args, log=True)
    close(loss, ot.gmm.gmm_ot_loss(*args))
    assert log["result_code"] == 1
    close(ogmm.gmm_ot_plan(*args), ot.gmm.gmm_ot_plan(*args))
    x = rng.standard_normal((20, 2)) * 2
    close(ogmm.gmm_ot_apply_map(x, *args), ot.gmm.gmm_ot_apply_map(x, *args), 1e-9)
    # The random map with the same seed draws the same pairs.
    close(ogmm.gmm_ot_apply_map(x, *args, method="rand", seed=4), ot.gmm.gmm_ot_apply_map(x, *args, method="rand",
                                                                                        seed=4), 1e-9)
    close(ogmm.gaussian_logpdf(x, m_s[0], C_s[0]), ot.gmm.gaussian_logpdf(x, m_s[0], C_s[0]))
    close(ogmm.gaussian_pdf(x, m_s[0], C_s[0]), ot.gmm.gaussian_pdf(x, m_s[0], C_s[0]))
    close(ogmm.gmm_pdf(x, m_s, C_s, w_s), ot.gmm.gmm_pdf(x, m_s, C_s, w_s))


def test_bad_inputs_name_the_argument():
    m, eye = np.zeros(2), np.eye(2)

    def arg_of(call):
        with pytest.raises(otters.InvalidInputError) as info:
            call()
        return info.value.argument

    assert arg_of(lambda: og.bures_wasserstein_distance(m, m, np.array([[1.0, 0.5], [0.0, 1.0]]), eye)) == "Cs"
    assert arg_of(lambda: og.bures_wasserstein_distance(m, m, eye, np.array([[1.0, 2.0], [2.0, 1.0]]))) == "Ct"
    assert arg_of(lambda: og.bures_wasserstein_mapping(m, m, eye, np.eye(3))) == "Ct"
    assert arg_of(lambda: og.bures_wasserstein_mapping(np.array([np.nan, 0.0]), m, eye, eye)) == "ms"
    assert arg_of(lambda: og.bures_wasserstein_distance(m, np.zeros(3), eye, np.eye(3))) == "mt"
    xs = np.ones((5, 2))
    xs[2, 1] = np.inf
    assert arg_of(lambda: og.empirical_bures_wasserstein_distance(xs, np.ones((4, 2)))) == "xs"
    assert arg_of(lambda: og.empirical_bures_wasserstein_mapping(np.ones((4, 2)), np.ones((4, 2)),
                                                                  wt=np.ones(3))) == "wt"
    assert arg_of(lambda: og.entropic_gaussian_ot(m, m, eye, eye, 0.0)) == "epsilon"
    assert arg_of(lambda: og.gaussian_schrodinger_bridge(m, m, eye, eye, -1.0, 0.5)) == "sigma"
    assert arg_of(lambda: og.gaussian_schrodinger_bridge(m, m, eye, eye, 1.0, 1.5)) == "t"
    C = np.stack([eye, eye])
    assert arg_of(lambda: og.bures_barycenter_fixpoint(C, weights=[1.0, -1.0])) == "weights"
    with pytest.raises(ValueError, match="fixed_point"):
        og.bures_wasserstein_barycenter(np.zeros((2, 2)), C, method="gradient_descent")
    w = np.array([0.5, 0.5])
    assert arg_of(lambda: ogmm.gmm_ot_loss(np.zeros((2, 2)), np.zeros((2, 2)), C, C[:1], w, w)) == "C_t"
    assert arg_of(lambda: ogmm.gmm_ot_loss(np.zeros((2, 2)), np.zeros((2, 2)), C, C, w, [0.5])) == "w_t"
    assert arg_of(lambda: ogmm.gmm_ot_apply_map(np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((2, 2)), C, C, w, w,
                                                plan=-np.eye(2))) == "plan"
    flat = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert arg_of(lambda: ogmm.gaussian_logpdf(np.zeros((1, 2)), m, flat)) == "C"
    with pytest.raises(ValueError):
        ogmm.gmm_ot_apply_map(np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((2, 2)), C, C, w, w, method="nope")


def test_singular_covariances_are_accepted():
    # Degenerate Gaussians on the line x = y: the 1-D closed form.
    v = np.array([1.0, 1.0]) / np.sqrt(2)
    W = og.bures_wasserstein_distance(np.zeros(2), np.ones(2), 4 * np.outer(v, v), 0.25 * np.outer(v, v))
    assert abs(W**2 - (2.0 + 1.5**2)) < 1e-12


def test_empty_point_sets_map_to_empty_outputs():
    rng = np.random.default_rng(2)
    args = mixtures(rng, 2, 2, 2)
    for x in (np.zeros((0, 2)), np.zeros((3, 2))[:0]):
        assert ogmm.gmm_ot_apply_map(x, *args).shape == (0, 2)
        assert ogmm.gaussian_logpdf(x, args[0][0], args[2][0]).shape == (0,)
