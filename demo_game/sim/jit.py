"""The one way our kernels are compiled.

``cache=True`` keeps compiled code on disk between runs; ``error_model="numpy"`` lets
division by zero give inf/nan instead of a per-division check (the kernels guard their
divisions themselves). No ``fastmath``: results must not depend on how a loop is
vectorised, so that an arena's trajectory is the same in any batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(function: F) -> F:
    """Compile ``function`` in nopython mode with the project's settings."""
    return cast(F, numba.njit(cache=True, error_model="numpy")(function))


def inline_kernel(function: F) -> F:
    """Like :func:`kernel`, inlined into its callers (for tiny helpers)."""
    return cast(F, numba.njit(cache=True, error_model="numpy", inline="always")(function))
