"""What a body can tell about the level around it: pits, steps and ledges ahead.

Shared by the scripted players, the scripted goblins and the goblin agent's observation.
"""

from __future__ import annotations

from demo_game.platformer.sim.level import Level
from demo_game.platformer.sim.state import Body

CLIMB_REACH: float = 120.0
"""How far above its feet a player can land on a ledge with a full jump, units."""


def drop_ahead(level: Level, body: Body, direction: float, distance: float) -> float | None:
    """How far the surface falls away ``distance`` units ahead of the body's leading side.

    Args:
        level: The level.
        body: The body.
        direction: +1 right, -1 left.
        distance: How far beyond the body's side to look, units.

    Returns:
        The highest surface at or below the feet there, minus the feet's y (0: level ground,
        > 0: a drop), or None over a pit.
    """
    x = body.x + direction * (body.width / 2 + distance)
    top = level.surface_below(x, body.y)
    return None if top is None else top - body.y


def rise_ahead(level: Level, body: Body, direction: float, distance: float) -> float:
    """How far a ground block ``distance`` units ahead stands above the body's feet (0: none)."""
    x = body.x + direction * (body.width / 2 + distance)
    top = level.ground_top(x)
    return 0.0 if top is None else max(body.y - top, 0.0)


def ledge_to_climb(level: Level, body: Body, target_x: float) -> tuple[float, float, float] | None:
    """The ledge to jump onto on the way up to something above at ``target_x``.

    Of the ledges whose tops are within a jump above the feet, the one nearest to
    ``target_x`` horizontally.

    Returns:
        ``(x0, x1, top)`` of that ledge, or None when no ledge is within a jump.
    """
    ledges = level.ledges
    if ledges.shape[0] == 0:
        return None
    rise = body.y - ledges[:, 1]
    reachable = (rise > 8.0) & (rise <= CLIMB_REACH)
    if not reachable.any():
        return None
    candidates = ledges[reachable]
    gap = candidates[:, 0] - target_x
    gap = gap.clip(min=0.0) + (target_x - candidates[:, 2]).clip(min=0.0)
    best = candidates[int(gap.argmin())]
    return float(best[0]), float(best[2]), float(best[1])
