"""Where gameai finds its shipped files, whatever the current directory.

``assets/`` lives at the project root, beside the ``gameai`` package. Model paths in
configs are usually relative (``assets/behaviour``): :func:`resolve_path` takes a
relative path from the current directory when it exists there (a user's own model
directory), and otherwise from the project root (the shipped models), so
``gameai serve`` and ``gameai demo`` work from any directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

PROJECT_ROOT: Final = Path(__file__).resolve().parents[1]
"""The directory holding the gameai package and ``assets/``."""


def resolve_path(path: str | Path) -> Path:
    """Resolve a config path: absolute as given; relative from the current directory if it
    exists there, else from :data:`PROJECT_ROOT`."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute() or candidate.exists():
        return candidate
    shipped = PROJECT_ROOT / candidate
    return shipped if shipped.exists() else candidate
