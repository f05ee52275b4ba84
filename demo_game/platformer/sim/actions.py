"""A goblin agent's actions: ``MultiDiscrete([3, 2])``, move (left, stay, right) and jump."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

ACTION_NVEC: Final[tuple[int, int]] = (3, 2)
"""Choices per action element: move (0 left, 1 stay, 2 right) and jump (0 no, 1 held)."""


def goblin_controls(action: npt.ArrayLike) -> tuple[float, float]:
    """The ``(move_x, jump)`` controls of a goblin playing ``action``.

    Raises:
        ValueError: If ``action`` is not two ints within :data:`ACTION_NVEC`.
    """
    values = np.asarray(action).reshape(-1)
    if values.shape != (2,) or not all(0 <= int(v) < n for v, n in zip(values, ACTION_NVEC, strict=True)):
        raise ValueError(f"a goblin action is (move 0..2, jump 0..1), got {values.tolist()}")
    move, jump = (int(v) for v in values)
    return float(move - 1), float(jump)
