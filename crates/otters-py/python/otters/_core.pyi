"""Type stubs of the compiled core (checked against the module by mypy.stubtest)."""

from collections.abc import Callable, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DenseCost",
    "DivergenceOutput",
    "ElasticMapOutput",
    "ProgOtOutput",
    "SemiDiscreteOutput",
    "__version__",
    "ExactOutput",
    "GwBarycenterOutput",
    "GwOutput",
    "LowRankOutput",
    "PointCloud",
    "SinkhornOutput",
    "UgwOutput",
    "check_problem",
    "energy_distance",
    "gaussian_mmd",
    "sinkhorn_init",
    "ot_1d",
    "pairwise_clouds",
    "pairwise_histograms",
    "random_directions",
    "sliced_wasserstein",
    "solve_divergence",
    "solve_exact",
    "solve_gw",
    "solve_gw_barycenter",
    "solve_lowrank",
    "solve_lrgw",
    "solve_sinkhorn",
    "solve_ugw",
    "uot_1d",
    "uot_barycenter_1d",
    "wasserstein_1d",
    "wasserstein_1d_batch",
    "gaussian_bures",
    "gaussian_cov_sqrt",
    "gaussian_bures_map",
    "gaussian_fit",
    "gaussian_barycenter",
    "gaussian_entropic_ot",
    "gaussian_bridge",
    "gaussian_logpdf",
    "gmm_ot_solve",
    "gmm_map",
    "monge_gap_from_samples",
    "solve_elastic",
    "solve_progot",
    "solve_semi_discrete",
    "anchor_distance",
    "coupling_sharpness",
    "plan_sharpness",
    "sample_coupling",
    "sinkformer_attention",
    "soft_sort_rows",
    "solve_barycenter",
    "solve_free_support_barycenter",
    "solve_grid_barycenter",
]
__version__: str

_Array = npt.NDArray[np.float64]
_ArrayLike = npt.ArrayLike

@final
class DenseCost:
    def __new__(
        cls, cost: _ArrayLike, scale_cost: float | str | None = None, dtype: str | None = None
    ) -> DenseCost: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def scale(self) -> float: ...
    def cost_matrix(self) -> _Array: ...
    def to_low_rank(self, rank: int, tol: float = 0.01, seed: int = 0) -> PointCloud: ...

@final
class PointCloud:
    def __new__(
        cls,
        x: _ArrayLike,
        y: _ArrayLike | None = None,
        cost_fn: str = "sqeuclidean",
        p: float = 2.0,
        scale_cost: float | str | None = None,
        dtype: str | None = None,
    ) -> PointCloud: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def dtype(self) -> str: ...
    @property
    def scale(self) -> float: ...
    @property
    def x(self) -> _Array: ...
    @property
    def y(self) -> _Array: ...
    def cost_matrix(self) -> _Array: ...
    def to_low_rank(self, rank: int, tol: float = 0.01, seed: int = 0) -> PointCloud: ...

_Geometry = DenseCost | PointCloud

@final
class SinkhornOutput:
    @property
    def f(self) -> _Array: ...
    @property
    def g(self) -> _Array: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def errors(self) -> _Array: ...
    @property
    def marginal_error(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def epsilon(self) -> float: ...
    @property
    def reg_ot_cost(self) -> float: ...
    @property
    def primal_cost(self) -> float: ...
    @property
    def plan_mass(self) -> float: ...
    @property
    def marginals(self) -> tuple[_Array, _Array]: ...
    @property
    def linear_cost(self) -> float: ...
    def plan(self, max_bytes: int = ...) -> _Array: ...
    def apply(self, v: _ArrayLike, axis: int = 0) -> _Array: ...
    def transport(self, x: _ArrayLike) -> _Array: ...
    @property
    def grad_a(self) -> _Array: ...
    @property
    def grad_b(self) -> _Array: ...
    def grad_points(self) -> tuple[_Array, _Array]: ...

@final
class ExactOutput:
    @property
    def cost(self) -> float: ...
    @property
    def dual_cost(self) -> float: ...
    @property
    def f(self) -> _Array: ...
    @property
    def g(self) -> _Array: ...
    @property
    def converged(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def iterations(self) -> int: ...
    @property
    def marginal_error(self) -> float: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    def plan_sparse(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], _Array]: ...
    def plan(self, max_bytes: int = ...) -> _Array: ...

def solve_sinkhorn(
    geom: _Geometry,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    epsilon: float | None = None,
    relative_to: str | None = None,
    rho_a: float | None = None,
    rho_b: float | None = None,
    penalty_kind: str = "kl",
    threshold: float = 1e-6,
    max_iterations: int = 2000,
    min_iterations: int = 0,
    scaling_decay: float | None = None,
    translation_invariant: bool = True,
    acceleration: str = "anderson",
    omega: float | None = None,
    anderson_memory: int = 8,
    init_f: _ArrayLike | None = None,
    init_g: _ArrayLike | None = None,
) -> list[SinkhornOutput]: ...
def sinkhorn_init(
    geom: _Geometry,
    a: _ArrayLike,
    b: _ArrayLike,
    method: str,
    *,
    epsilon: float | None = None,
    relative_to: str | None = None,
    size: int = 256,
    seed: int = 0,
) -> _Array: ...
@final
class GwOutput:
    @property
    def plan(self) -> _Array: ...
    @property
    def loss(self) -> float: ...
    @property
    def gw_loss(self) -> float: ...
    @property
    def linear_loss(self) -> float | None: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def trace(self) -> _Array: ...

def solve_gw(
    geom_xx: _Geometry | _ArrayLike,
    geom_yy: _Geometry | _ArrayLike,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    geom_xy: _Geometry | _ArrayLike | None = None,
    alpha: float = 1.0,
    loss: str = "square",
    solver: str = "cg",
    epsilon: float = 0.1,
    threshold: float = 1e-9,
    max_iterations: int | None = None,
    tol_rel: float = 1e-9,
    tol_abs: float = 1e-9,
    inner_threshold: float = 1e-9,
    inner_max_iterations: int = 100000,
    init: _ArrayLike | None = None,
) -> GwOutput: ...
@final
class GwBarycenterOutput:
    @property
    def cost(self) -> _Array: ...
    @property
    def features(self) -> _Array | None: ...
    @property
    def weights(self) -> _Array: ...
    @property
    def plans(self) -> list[_Array]: ...
    @property
    def gw_losses(self) -> _Array: ...
    @property
    def loss(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def trace(self) -> _Array: ...
    @property
    def loss_trace(self) -> _Array: ...

def solve_gw_barycenter(
    costs: list[_Geometry | _ArrayLike],
    weights: list[_ArrayLike],
    size: int,
    *,
    barycenter_weights: _ArrayLike | None = None,
    lambdas: list[float] | None = None,
    loss: str = "square",
    solver: str = "cg",
    epsilon: float = 0.1,
    threshold: float = 1e-9,
    inner_iterations: int | None = None,
    tol_rel: float = 1e-9,
    tol_abs: float = 1e-9,
    inner_threshold: float = 1e-9,
    inner_max_iterations: int = 100000,
    inexact_steps: bool = True,
    check_every: int = 1,
    max_iterations: int = 1000,
    tolerance: float = 1e-9,
    stop: str = "barycenter",
    init: _ArrayLike | None = None,
    seed: int = 0,
    warm_start: bool = False,
    features: list[_ArrayLike] | None = None,
    alpha: float = 0.5,
    init_features: _ArrayLike | None = None,
    fixed_structure: bool = False,
    fixed_features: bool = False,
) -> GwBarycenterOutput: ...
@final
class UgwOutput:
    @property
    def plan(self) -> _Array: ...
    @property
    def second_plan(self) -> _Array: ...
    @property
    def loss(self) -> float: ...
    @property
    def gw_loss(self) -> float: ...
    @property
    def linear_loss(self) -> float | None: ...
    @property
    def marginal_penalty(self) -> float: ...
    @property
    def entropic_penalty(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def trace(self) -> _Array: ...
    @property
    def potentials(self) -> tuple[_Array, _Array]: ...
    @property
    def inner_epsilon(self) -> float: ...

def solve_ugw(
    geom_xx: _Geometry | _ArrayLike,
    geom_yy: _Geometry | _ArrayLike,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    rho_a: float,
    rho_b: float,
    epsilon: float,
    geom_xy: _Geometry | _ArrayLike | None = None,
    alpha: float = 1.0,
    loss: str = "square",
    threshold: float = 1e-9,
    max_iterations: int = 1000,
    inner_threshold: float = 1e-10,
    inner_max_iterations: int = 100000,
    init: _ArrayLike | None = None,
) -> UgwOutput: ...
@final
class LowRankOutput:
    @property
    def q(self) -> _Array: ...
    @property
    def r(self) -> _Array: ...
    @property
    def g(self) -> _Array: ...
    @property
    def cost(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def errors(self) -> _Array: ...
    @property
    def marginal_error(self) -> float: ...
    def plan(self) -> _Array: ...
    def apply(self, v: _ArrayLike, axis: int = 0) -> _Array: ...

def solve_lowrank(
    geom: _Geometry,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    rank: int,
    rho_a: float | None = None,
    rho_b: float | None = None,
    penalty_kind: str = "kl",
    epsilon: float = 0.0,
    gamma: float = 10.0,
    threshold: float = 1e-5,
    max_iterations: int = 1000,
    min_iterations: int = 10,
    inner_threshold: float = 1e-5,
    inner_max_iterations: int = 10000,
    min_g: float = 1e-10,
    init: str = "random",
    seed: int = 0,
    start: tuple[_ArrayLike, _ArrayLike, _ArrayLike] | None = None,
) -> LowRankOutput: ...
def solve_lrgw(
    geom_xx: _Geometry | _ArrayLike,
    geom_yy: _Geometry | _ArrayLike,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    rank: int,
    rho_a: float = ...,
    rho_b: float = ...,
    geom_xy: _Geometry | _ArrayLike | None = None,
    alpha: float = 1.0,
    loss: str = "square",
    epsilon: float = 0.0,
    gamma: float = 10.0,
    threshold: float = 1e-8,
    max_iterations: int = 1000,
    min_iterations: int = 10,
    inner_threshold: float = 1e-5,
    inner_max_iterations: int = 10000,
    min_g: float = 1e-10,
    init: str = "random",
    seed: int = 0,
    start: tuple[_ArrayLike, _ArrayLike, _ArrayLike] | None = None,
) -> LowRankOutput: ...
def solve_exact(
    geom: _Geometry, a: _ArrayLike, b: _ArrayLike, *, max_iterations: int | None = None, assignment: str = "auto"
) -> list[ExactOutput]: ...
def pairwise_histograms(
    geom: _Geometry,
    measures: _ArrayLike,
    *,
    cost: str = "sinkhorn_divergence",
    epsilon: float | None = None,
    relative_to: str | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
    group: int = 64,
) -> tuple[_Array, _Array, _Array]: ...
def pairwise_clouds(
    clouds: list[_ArrayLike],
    weights: list[_ArrayLike] | None = None,
    *,
    cost: str = "sinkhorn_divergence",
    cost_fn: str = "sqeuclidean",
    p: float = 2.0,
    epsilon: float | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
) -> tuple[_Array, _Array, _Array]: ...
def check_problem(
    geom: _Geometry,
    a: _ArrayLike,
    b: _ArrayLike,
    *,
    rho_a: float | None = None,
    rho_b: float | None = None,
    penalty_kind: str = "kl",
) -> tuple[float, float]: ...
def ot_1d(
    x: _ArrayLike, y: _ArrayLike, a: _ArrayLike | None = None, b: _ArrayLike | None = None, p: float = 1.0
) -> tuple[float, npt.NDArray[np.uint64], npt.NDArray[np.uint64], _Array]: ...
def wasserstein_1d(
    x: _ArrayLike, y: _ArrayLike, a: _ArrayLike | None = None, b: _ArrayLike | None = None, p: float = 1.0
) -> float: ...
def wasserstein_1d_batch(
    x: _ArrayLike, y: _ArrayLike, a: _ArrayLike | None = None, b: _ArrayLike | None = None, p: float = 1.0
) -> _Array: ...
def random_directions(count: int, d: int, seed: int) -> _Array: ...
def sliced_wasserstein(
    x: _ArrayLike,
    y: _ArrayLike,
    directions: _ArrayLike,
    a: _ArrayLike | None = None,
    b: _ArrayLike | None = None,
    p: float = 2.0,
) -> tuple[float, float, int, _Array]: ...

@final
class DivergenceOutput:
    @property
    def value(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def epsilon(self) -> float: ...
    @property
    def reg_ot_costs(self) -> tuple[float, float, float]: ...
    @property
    def linear_costs(self) -> tuple[float, float, float]: ...
    @property
    def iterations(self) -> tuple[int, int, int]: ...
    @property
    def potentials_xy(self) -> tuple[_Array, _Array]: ...
    @property
    def potential_xx(self) -> _Array: ...
    @property
    def potential_yy(self) -> _Array: ...
    @property
    def grad_x(self) -> _Array | None: ...
    @property
    def grad_y(self) -> _Array | None: ...
    @property
    def grad_a(self) -> _Array | None: ...
    @property
    def grad_b(self) -> _Array | None: ...

def solve_divergence(
    geom: PointCloud,
    a: _ArrayLike | None = None,
    b: _ArrayLike | None = None,
    epsilon: float | None = None,
    relative_to: str | None = None,
    rho: float | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
    scaling_decay: float | None = None,
    gradients: bool = False,
) -> DivergenceOutput: ...
def energy_distance(x: _ArrayLike, y: _ArrayLike, a: _ArrayLike | None = None, b: _ArrayLike | None = None) -> float: ...
def gaussian_mmd(
    x: _ArrayLike, y: _ArrayLike, a: _ArrayLike | None = None, b: _ArrayLike | None = None, sigma: float = 1.0
) -> float: ...
def uot_1d(
    x: _ArrayLike,
    y: _ArrayLike,
    a: _ArrayLike | None = None,
    b: _ArrayLike | None = None,
    rho_a: float = 1.0,
    rho_b: float = 1.0,
    p: float = 2.0,
    threshold: float = 1e-6,
    max_iterations: int = 10000,
) -> dict[str, Any]: ...
def uot_barycenter_1d(
    values: Sequence[_ArrayLike],
    weights: Sequence[_ArrayLike | None],
    lambdas: _ArrayLike,
    rho: float,
    threshold: float = 1e-6,
    max_iterations: int = 10000,
) -> dict[str, Any]: ...
# Gaussians and Gaussian mixtures (otters.gaussian, otters.gmm).
def gaussian_bures(
    ms: _ArrayLike,
    mt: _ArrayLike,
    Cs: _ArrayLike,
    Ct: _ArrayLike,
    paired: bool = False,
    names: tuple[str, str, str, str] = ...,
) -> _Array: ...
def gaussian_cov_sqrt(C: _ArrayLike, name: str = "C") -> _Array: ...
def gaussian_bures_map(ms: _ArrayLike, mt: _ArrayLike, Cs: _ArrayLike, Ct: _ArrayLike) -> tuple[_Array, _Array]: ...
def gaussian_fit(
    x: _ArrayLike,
    w: _ArrayLike | None = None,
    reg: float = 0.0,
    bias: bool = True,
    names: tuple[str, str] = ...,
) -> tuple[_Array, _Array]: ...
def gaussian_barycenter(
    m: _ArrayLike,
    C: _ArrayLike,
    weights: _ArrayLike | None = None,
    max_iterations: int = 1000,
    tolerance: float = 1e-9,
) -> tuple[_Array, _Array, bool, int, float]: ...
def gaussian_entropic_ot(
    ms: _ArrayLike, mt: _ArrayLike, Cs: _ArrayLike, Ct: _ArrayLike, epsilon: float
) -> tuple[float, float, _Array]: ...
def gaussian_bridge(
    m0: _ArrayLike, m1: _ArrayLike, C0: _ArrayLike, C1: _ArrayLike, sigma: float, t: _ArrayLike
) -> tuple[_Array, _Array]: ...
def gaussian_logpdf(x: _ArrayLike, m: _ArrayLike, C: _ArrayLike, names: tuple[str, str] = ...) -> _Array: ...
def gmm_ot_solve(
    m_s: _ArrayLike, m_t: _ArrayLike, C_s: _ArrayLike, C_t: _ArrayLike, w_s: _ArrayLike, w_t: _ArrayLike
) -> tuple[float, _Array, _Array, _Array, _Array, bool]: ...
def gmm_map(
    x: _ArrayLike,
    m_s: _ArrayLike,
    m_t: _ArrayLike,
    C_s: _ArrayLike,
    C_t: _ArrayLike,
    w_s: _ArrayLike,
    w_t: _ArrayLike,
    plan: _ArrayLike,
) -> _Array: ...

@final
class SemiDiscreteOutput:
    @property
    def g(self) -> _Array: ...
    @property
    def b(self) -> _Array: ...
    @property
    def epsilon(self) -> float: ...
    @property
    def iterations(self) -> int: ...
    @property
    def errors(self) -> _Array: ...
    @property
    def frequencies(self) -> _Array: ...
    @property
    def marginal_error(self) -> float: ...
    @property
    def max_deviation(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def dual_cost(self) -> float: ...
    def assign(self, x: _ArrayLike) -> npt.NDArray[np.uint64]: ...
    def assignment_weights(self, x: _ArrayLike) -> _Array: ...
    def transport(self, x: _ArrayLike) -> _Array: ...

def solve_semi_discrete(
    y: _ArrayLike,
    b: _ArrayLike,
    *,
    sampler: Callable[[int], _ArrayLike] | None = None,
    samples: _ArrayLike | None = None,
    cost_fn: str = "sqeuclidean",
    p: float = 2.0,
    gamma: float = 0.0,
    epsilon: float = 0.0,
    batch_size: int = 256,
    max_iterations: int = 2000,
    learning_rate: float = 1.0,
    eval_size: int = 65536,
    threshold: float = 0.05,
    seed: int = 0,
) -> SemiDiscreteOutput: ...
def monge_gap_from_samples(
    source: _ArrayLike,
    target: _ArrayLike,
    *,
    cost_fn: str = "sqeuclidean",
    gamma: float = 0.0,
    epsilon: float | None = None,
    relative_to: str | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
) -> tuple[float, float, float, _Array, bool]: ...
@final
class ElasticMapOutput:
    @property
    def f(self) -> _Array: ...
    @property
    def g(self) -> _Array: ...
    @property
    def epsilon(self) -> float: ...
    @property
    def gamma(self) -> float: ...
    @property
    def converged(self) -> bool: ...
    @property
    def iterations(self) -> int: ...
    @property
    def reg_ot_cost(self) -> float: ...
    def transport(self, x: _ArrayLike) -> _Array: ...

def solve_elastic(
    x: _ArrayLike,
    y: _ArrayLike,
    a: _ArrayLike | None = None,
    b: _ArrayLike | None = None,
    *,
    gamma: float = 1.0,
    regularizer: str = "l1",
    epsilon: float | None = None,
    relative_to: str | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
) -> ElasticMapOutput: ...
@final
class ProgOtOutput:
    @property
    def points(self) -> _Array: ...
    @property
    def converged(self) -> bool: ...
    def transport(self, x: _ArrayLike) -> _Array: ...
    def plan(self) -> _Array: ...

def solve_progot(
    x: _ArrayLike,
    y: _ArrayLike,
    *,
    steps: int = 4,
    alphas: list[float] | None = None,
    epsilon: float | None = None,
    relative_to: str | None = None,
    threshold: float = 1e-6,
    max_iterations: int = 2000,
) -> ProgOtOutput: ...

_Sharpness = tuple[float, float, float, _Array, _Array, float]

def soft_sort_rows(
    x: _ArrayLike,
    operator: str,
    *,
    epsilon: float = 0.01,
    num_targets: int | None = None,
    k: int | None = None,
    target_weights: _ArrayLike | None = None,
    q: _ArrayLike | None = None,
    weight: float | None = None,
    squashing: str = "sigmoid",
    threshold: float = 1e-6,
    max_iterations: int = 2000,
    scaling_decay: float | None = ...,
) -> tuple[_Array, bool, float]: ...
def sample_coupling(
    geom: _Geometry,
    a: _ArrayLike,
    b: _ArrayLike,
    f: _ArrayLike,
    g: _ArrayLike,
    epsilon: float,
    count: int = 0,
    seed: int = 0,
    rows: list[int] | None = None,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]: ...
def coupling_sharpness(
    geom: _Geometry, a: _ArrayLike, b: _ArrayLike, f: _ArrayLike, g: _ArrayLike, epsilon: float
) -> _Sharpness: ...
def plan_sharpness(plan: _ArrayLike) -> _Sharpness: ...
def sinkformer_attention(
    q: _ArrayLike,
    k: _ArrayLike,
    v: _ArrayLike,
    iterations: int = 3,
    threshold: float | None = None,
    max_iterations: int = 1000,
    return_attention: bool = False,
) -> tuple[_Array, _Array | None, int, bool, float, float]: ...
def anchor_distance(
    x: _ArrayLike, y: _ArrayLike, kind: str, precomputed: bool = False
) -> float | _Array: ...

def solve_barycenter(
    measures: _ArrayLike,
    cost: _ArrayLike,
    epsilon: float,
    lambdas: _ArrayLike | None = None,
    threshold: float = 1e-9,
    max_iterations: int = 10000,
    rho: float = ...,
    debiased: bool = False,
) -> tuple[_Array, int, float, bool]: ...
def solve_grid_barycenter(
    measures: _ArrayLike,
    axes: list[_ArrayLike],
    epsilon: float,
    power: float = 2.0,
    lambdas: _ArrayLike | None = None,
    threshold: float = 1e-9,
    max_iterations: int = 10000,
    rho: float = ...,
    debiased: bool = False,
) -> tuple[_Array, int, float, bool]: ...
def solve_free_support_barycenter(
    locations: list[_ArrayLike],
    weights: list[_ArrayLike],
    x_init: _ArrayLike,
    a: _ArrayLike | None = None,
    lambdas: _ArrayLike | None = None,
    max_iterations: int = 100,
    threshold: float = 1e-7,
) -> tuple[_Array, list[float], float, bool]: ...
