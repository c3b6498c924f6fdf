"""otters: computational optimal transport on a Rust engine.

Two faces over one engine:

* POT-compatible functions — ``otters.emd``, ``emd2``, ``sinkhorn``, ``sinkhorn2``,
  ``emd_1d``, ``emd2_1d``, ``wasserstein_1d``, ``sliced_wasserstein_distance``, ``dist``,
  ``solve``, ``solve_sample``, ``otters.unbalanced.*``, ``otters.gromov.*``,
  ``otters.gaussian.*``, ``otters.gmm.*``, ``otters.lowrank.*``,
  ``otters.bregman.*``, ``otters.lp.*``, ``otters.divergence.*`` — that drop in
  where ``ot.*`` is used;
* OTT-style objects — ``DenseCost`` / ``PointCloud`` → ``LinearProblem`` →
  ``Sinkhorn(...).solve(problem)`` / ``NetworkSimplex().solve(problem)``, and
  ``QuadraticProblem`` → ``GromovWasserstein`` / ``ConditionalGradientGW`` /
  ``UnbalancedGromovWasserstein`` / ``LowRankGromovWasserstein``, and
  ``LowRankSinkhorn`` — whose outputs
  answer follow-up questions (``plan()``, ``apply()``, ``transport(x)``, gradients).

Invalid input raises :class:`InvalidInputError` (a ``ValueError``) naming the argument;
non-convergence emits :class:`ConvergenceWarning`; solves release the GIL and stop on
Ctrl-C. See ``otters.torch`` and ``otters.jax`` for autograd, and ``otters.pairwise`` for
the k × k matrices of OT costs between k measures.
"""

from . import bregman, divergence, gaussian, gmm, gromov, lowrank, lp, maps, pairwise, soft_sort, tools, unbalanced
from ._core import (
    DenseCost,
    DivergenceOutput,
    ExactOutput,
    GwOutput,
    LowRankOutput,
    PointCloud,
    SinkhornOutput,
    UgwOutput,
    __version__,
)
from ._pot import (
    SINKHORN_METHODS,
    dist,
    emd,
    emd2,
    emd2_1d,
    emd_1d,
    max_sliced_wasserstein_distance,
    sinkhorn,
    sinkhorn2,
    sliced_wasserstein_distance,
    solve,
    solve_sample,
    wasserstein_1d,
)
from ._result import OTResult
from .exceptions import ConvergenceWarning, InvalidInputError, NumericalError, OttersError, ResourceError
from .problems import Geometry, LinearProblem, QuadraticProblem
from .solvers import (
    ConditionalGradientGW,
    GromovWasserstein,
    LowRankGromovWasserstein,
    LowRankSinkhorn,
    NetworkSimplex,
    Sinkhorn,
    UnbalancedGromovWasserstein,
)

__all__ = [
    "SINKHORN_METHODS",
    "ConditionalGradientGW",
    "ConvergenceWarning",
    "DenseCost",
    "DivergenceOutput",
    "ExactOutput",
    "Geometry",
    "GromovWasserstein",
    "GwOutput",
    "InvalidInputError",
    "LinearProblem",
    "LowRankGromovWasserstein",
    "LowRankOutput",
    "LowRankSinkhorn",
    "NetworkSimplex",
    "NumericalError",
    "OTResult",
    "OttersError",
    "PointCloud",
    "QuadraticProblem",
    "ResourceError",
    "Sinkhorn",
    "SinkhornOutput",
    "UgwOutput",
    "UnbalancedGromovWasserstein",
    "__version__",
    "bregman",
    "dist",
    "emd",
    "emd2",
    "emd2_1d",
    "emd_1d",
    "divergence",
    "gaussian",
    "gmm",
    "gromov",
    "lowrank",
    "maps",
    "lp",
    "pairwise",
    "max_sliced_wasserstein_distance",
    "sinkhorn",
    "sinkhorn2",
    "sliced_wasserstein_distance",
    "soft_sort",
    "solve",
    "solve_sample",
    "tools",
    "unbalanced",
    "wasserstein_1d",
]
