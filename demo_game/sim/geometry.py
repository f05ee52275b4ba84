"""Collision and visibility tests against a layout's walls (numba, scalar per arena).

``walls`` is one layout: (MAX_WALLS, 4) float64 rows ``(x0, y0, x1, y1)``; rows with
``x1 <= x0`` are empty. Coordinates are world units.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from demo_game.sim.jit import kernel
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH

_EPSILON = 1e-9


@kernel
def push_out_of_walls(
    x: float, y: float, vx: float, vy: float, radius: float, walls: npt.NDArray[np.float64]
) -> tuple[float, float, float, float]:
    """Move a circle out of the walls and the arena border; cancel velocity into them.

    Returns:
        The corrected ``(x, y, vx, vy)``.
    """
    for w in range(walls.shape[0]):
        x0, y0, x1, y1 = walls[w, 0], walls[w, 1], walls[w, 2], walls[w, 3]
        if x1 <= x0:
            continue
        cx = min(max(x, x0), x1)
        cy = min(max(y, y0), y1)
        dx = x - cx
        dy = y - cy
        d2 = dx * dx + dy * dy
        if d2 >= radius * radius:
            continue
        if d2 > _EPSILON:
            d = np.sqrt(d2)
            nx = dx / d
            ny = dy / d
            x = cx + nx * radius
            y = cy + ny * radius
        else:  # centre inside the rectangle: leave through the nearest side
            left = x - x0
            right = x1 - x
            top = y - y0
            bottom = y1 - y
            nearest = min(left, right, top, bottom)
            nx = 0.0
            ny = 0.0
            if nearest == left:
                nx = -1.0
                x = x0 - radius
            elif nearest == right:
                nx = 1.0
                x = x1 + radius
            elif nearest == top:
                ny = -1.0
                y = y0 - radius
            else:
                ny = 1.0
                y = y1 + radius
        into = vx * nx + vy * ny
        if into < 0.0:
            vx -= into * nx
            vy -= into * ny
    if x < radius:
        x = radius
        vx = max(vx, 0.0)
    elif x > ARENA_WIDTH - radius:
        x = ARENA_WIDTH - radius
        vx = min(vx, 0.0)
    if y < radius:
        y = radius
        vy = max(vy, 0.0)
    elif y > ARENA_HEIGHT - radius:
        y = ARENA_HEIGHT - radius
        vy = min(vy, 0.0)
    return x, y, vx, vy


@kernel
def point_in_walls(x: float, y: float, margin: float, walls: npt.NDArray[np.float64]) -> bool:
    """Return whether ``(x, y)`` lies within ``margin`` of a wall or outside the arena."""
    if x < margin or y < margin or x > ARENA_WIDTH - margin or y > ARENA_HEIGHT - margin:
        return True
    # Without branches per wall: which wall holds a point (a bullet, mostly) is unpredictable.
    inside = False
    for w in range(walls.shape[0]):
        x0, y0, x1, y1 = walls[w, 0], walls[w, 1], walls[w, 2], walls[w, 3]
        inside |= (
            (x1 > x0) & (x0 - margin <= x) & (x <= x1 + margin) & (y0 - margin <= y) & (y <= y1 + margin)
        )
    return inside


@kernel
def _slab_entry(
    x: float, y: float, dx: float, dy: float, x0: float, y0: float, x1: float, y1: float
) -> float:
    """Return the parameter t >= 0 where the ray ``(x, y) + t (dx, dy)`` enters the box, or inf."""
    t_near = 0.0
    t_far = np.inf
    if abs(dx) < _EPSILON:
        if x < x0 or x > x1:
            return np.inf
    else:
        ta = (x0 - x) / dx
        tb = (x1 - x) / dx
        t_near = max(t_near, min(ta, tb))
        t_far = min(t_far, max(ta, tb))
    if abs(dy) < _EPSILON:
        if y < y0 or y > y1:
            return np.inf
    else:
        ta = (y0 - y) / dy
        tb = (y1 - y) / dy
        t_near = max(t_near, min(ta, tb))
        t_far = min(t_far, max(ta, tb))
    if t_near > t_far:
        return np.inf
    return t_near


@kernel
def segment_blocked(x0: float, y0: float, x1: float, y1: float, walls: npt.NDArray[np.float64]) -> bool:
    """Return whether a wall cuts the segment from ``(x0, y0)`` to ``(x1, y1)`` (line of sight)."""
    dx = x1 - x0
    dy = y1 - y0
    for w in range(walls.shape[0]):
        if walls[w, 2] <= walls[w, 0]:
            continue
        if _slab_entry(x0, y0, dx, dy, walls[w, 0], walls[w, 1], walls[w, 2], walls[w, 3]) <= 1.0:
            return True
    return False


@kernel
def ray_distance(
    x: float, y: float, dx: float, dy: float, max_distance: float, walls: npt.NDArray[np.float64]
) -> float:
    """Return the distance along the unit direction ``(dx, dy)`` to the first wall or border.

    The result is capped at ``max_distance``.
    """
    best = max_distance
    if dx > _EPSILON:
        best = min(best, (ARENA_WIDTH - x) / dx)
    elif dx < -_EPSILON:
        best = min(best, -x / dx)
    if dy > _EPSILON:
        best = min(best, (ARENA_HEIGHT - y) / dy)
    elif dy < -_EPSILON:
        best = min(best, -y / dy)
    for w in range(walls.shape[0]):
        if walls[w, 2] <= walls[w, 0]:
            continue
        best = min(best, _slab_entry(x, y, dx, dy, walls[w, 0], walls[w, 1], walls[w, 2], walls[w, 3]))
    return max(best, 0.0)
