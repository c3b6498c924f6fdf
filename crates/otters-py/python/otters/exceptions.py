"""Exception and warning classes of otters.

Every error raised by the engine is an :class:`OttersError`; each also derives from the
built-in class that Python code already catches for that situation.
"""


class OttersError(Exception):
    """Base class of otters errors. ``argument`` names the offending argument, if any."""

    argument: "str | None" = None


class InvalidInputError(OttersError, ValueError):
    """An argument is invalid (shape, NaN, negative weight, mass mismatch, bad parameter)."""


class NumericalError(OttersError, ArithmeticError):
    """The computation broke down numerically (e.g. a row whose costs are all +inf)."""


class ResourceError(OttersError, MemoryError):
    """The request would need more memory than allowed (e.g. materializing a huge plan)."""


class ConvergenceWarning(UserWarning):
    """A solver stopped at its iteration budget before reaching its tolerance."""
