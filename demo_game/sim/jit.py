"""The one way our kernels are compiled.

``cache=True`` keeps compiled code on disk between runs; ``error_model="numpy"`` lets
division by zero give inf/nan instead of a per-division check (the kernels guard their
divisions themselves). No ``fastmath``: results must not depend on how a loop is
vectorised, so that an arena's trajectory is the same in any batch.

Two settings make the envs' fused step (:func:`envs.env_step.play_env_step`) twice as
fast, bit for bit the same (measured with ``perf`` in the profile of that step):

- ``_nrt=False`` compiles without numba's reference counting. With it, every array
  argument and view (``params[i]``, a layout's walls) cost an atomic increment and
  decrement that numba cannot prune across branches (numba/numba#2350): 40% of the
  step. Our kernels only read and write arrays that their Python caller owns for the
  whole call; they never allocate an array nor hand one back to Python (Python code
  calls a plain twin instead, such as :func:`demo_game.sim.layouts.layout_wall_rows`).
- ``inline="always"`` inlines every kernel into the compiled kernels that call it (a
  kernel called from Python is compiled as a whole, as usual). A call between compiled
  functions passes each array as a dozen scalars on the stack; with calls per actor per
  tick that marshalling was a third of the rest. The price is compile time, paid once
  per machine thanks to the cache.

numba checks a cached kernel against its own file only, but a compiled kernel holds the
code of every kernel it calls: after an edit to ``demo_game/sim/styles.py``, the cached
``envs.env_step.play_env_step`` would still play the old styles. So the cache lives in
a folder named after a digest of every kernel source (``demo_game/sim`` and ``envs``),
under ``$XDG_CACHE_HOME/gameai/numba`` (``~/.cache``), unless ``NUMBA_CACHE_DIR`` says
otherwise. An edit anywhere starts a fresh folder; old folders may be deleted freely.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])

_KERNEL_PACKAGES = ("demo_game.sim", "envs")
_OPTIONS: dict[str, Any] = {"cache": True, "error_model": "numpy", "inline": "always", "_nrt": False}
"""numba's keywords (``_nrt`` is a private one, so not in numba's type stubs)."""


def kernel_cache_dir() -> Path:
    """The folder compiled kernels are cached in: named after a digest of every kernel source."""
    digest = hashlib.sha256()
    for package in _KERNEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations is not None
        for source in sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "gameai" / "numba" / digest.hexdigest()[:16]


_CACHE_DIR = os.environ.get("NUMBA_CACHE_DIR") or str(kernel_cache_dir())


def kernel(function: F) -> F:
    """Compile ``function`` in nopython mode with the project's settings.

    numba picks a function's cache folder when it is decorated, from its global
    ``config.CACHE_DIR``: that is set to ours for the decoration only, so numba functions
    of other libraries keep their own.
    """
    config: Any = numba.config  # numba's type stubs do not list CACHE_DIR
    previous = config.CACHE_DIR
    config.CACHE_DIR = _CACHE_DIR
    try:
        return cast(F, numba.njit(**_OPTIONS)(function))
    finally:
        config.CACHE_DIR = previous
