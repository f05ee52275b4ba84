"""Questions about an arena's actors that several kernels ask (compiled, inlined)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from demo_game.sim.fields import ActorField
from demo_game.sim.jit import kernel


@kernel
def nearest_opponent(i: int, actor: int, actors: npt.NDArray[np.float64]) -> int:
    """Return the nearest living actor of the other side of ``actor`` in arena ``i``, or -1.

    The player's opponents are the enemies; an enemy's only opponent is the player.
    """
    x = actors[i, actor, ActorField.X]
    y = actors[i, actor, ActorField.Y]
    is_player = actor == 0
    best = -1
    best_d2 = np.inf
    for a in range(actors.shape[1]):
        if (a == 0) == is_player or actors[i, a, ActorField.ALIVE] < 0.5:
            continue
        dx = actors[i, a, ActorField.X] - x
        dy = actors[i, a, ActorField.Y] - y
        d2 = dx * dx + dy * dy
        if d2 < best_d2:
            best = a
            best_d2 = d2
    return best


@kernel
def opponents_alive(i: int, actor: int, actors: npt.NDArray[np.float64]) -> tuple[int, int]:
    """Return (living, all) actors of the other side of ``actor`` in arena ``i``."""
    is_player = actor == 0
    alive = 0
    total = 0
    for a in range(actors.shape[1]):
        if (a == 0) != is_player:
            total += 1
            if actors[i, a, ActorField.ALIVE] > 0.5:
                alive += 1
    return alive, total
