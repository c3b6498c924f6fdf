"""otters: computational optimal transport on a Rust engine.

Two faces over one engine: POT-compatible functions (``otters.sinkhorn``,
``otters.sinkhorn2``, ...) that drop in where ``ot.*`` is used, and the compiled core
``otters._core``. Invalid input raises :class:`InvalidInputError` (a ``ValueError``) naming
the argument; non-convergence emits :class:`ConvergenceWarning`.
"""

from ._core import __version__
from ._pot import emd, emd2, sinkhorn, sinkhorn2, wasserstein_1d
from .exceptions import ConvergenceWarning, InvalidInputError, NumericalError, OttersError, ResourceError

__all__ = [
    "ConvergenceWarning",
    "InvalidInputError",
    "NumericalError",
    "OttersError",
    "ResourceError",
    "__version__",
    "emd",
    "emd2",
    "sinkhorn",
    "sinkhorn2",
    "wasserstein_1d",
]
