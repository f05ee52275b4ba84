"""Running, jumping and colliding with the level: one body, one tick.

Order within a tick: horizontal speed eases towards the wanted speed; a jump starts (on
the ground or within the coyote ticks) or is cut short (jump let go while rising);
gravity; the body moves along x and is pushed out of ground blocks; it moves along y and
lands on the highest surface its feet crossed (ground blocks from above, ledges only from
above) or bumps its head on a block. Nothing random: the same body, controls and level
always give the same result.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from demo_game.platformer.sim.level import Level
from demo_game.platformer.sim.rules import PlatformerRules
from demo_game.platformer.sim.state import Body

_EPS = 1e-6


@dataclasses.dataclass(frozen=True)
class Mover:
    """How one kind of body moves: top speed and take-off speed, units per tick."""

    speed: float
    jump_speed: float


@dataclasses.dataclass(frozen=True)
class Moved:
    """What a tick of movement did to a body."""

    jumped: bool
    """It took off."""
    landed: bool
    """It touched down after being in the air."""


def move_body(
    body: Body, move_x: float, jump: bool, mover: Mover, level: Level, rules: PlatformerRules
) -> Moved:
    """Advance ``body`` one tick, in place.

    Args:
        body: The body (changed in place).
        move_x: -1 .. 1, the fraction of ``mover.speed`` wanted (clipped).
        jump: Whether jump is held.
        mover: The body's speeds.
        level: The level to collide with.
        rules: Gravity, accelerations, coyote time, jump cut.

    Returns:
        Whether it jumped and whether it landed.
    """
    move_x = max(-1.0, min(1.0, move_x))
    was_on_ground = body.on_ground
    accel = rules.ground_acceleration if body.on_ground else rules.air_acceleration
    body.vx += (move_x * mover.speed - body.vx) * accel
    if abs(body.vx) < 0.05 and move_x == 0.0:
        body.vx = 0.0
    if move_x != 0.0:
        body.facing = 1.0 if move_x > 0 else -1.0

    jumped = False
    if jump and (body.on_ground or body.coyote > 0) and body.vy >= 0.0:
        body.vy = -mover.jump_speed
        body.on_ground = False
        body.coyote = 0
        jumped = True
    if not jump and body.vy < -rules.jump_cut_speed:
        body.vy = -rules.jump_cut_speed
    body.vy = min(body.vy + rules.gravity, rules.max_fall_speed)

    _move_x(body, level)
    landed = _move_y(body, level)
    body.on_ground = landed
    body.coyote = rules.coyote_ticks if landed else max(body.coyote - 1, 0)
    return Moved(jumped=jumped, landed=landed and not was_on_ground)


def _move_x(body: Body, level: Level) -> None:
    body.x += body.vx
    solids = level.solids
    # Blocks beside the body: overlapping it vertically (standing on one does not count).
    beside = (solids[:, 1] < body.y - _EPS) & (solids[:, 3] > body.top + _EPS)
    left, right = body.left, body.right
    hit = beside & (solids[:, 0] < right) & (solids[:, 2] > left)
    if hit.any():
        if body.vx > 0:
            body.x = float(solids[hit, 0].min()) - body.width / 2
        elif body.vx < 0:
            body.x = float(solids[hit, 2].max()) + body.width / 2
        else:  # pushed into a block without moving (a respawn): out the nearer side
            centre = (solids[hit, 0].min() + solids[hit, 2].max()) / 2
            body.x = (
                float(solids[hit, 0].min()) - body.width / 2
                if body.x < centre
                else float(solids[hit, 2].max()) + body.width / 2
            )
        body.vx = 0.0
    half = body.width / 2
    if body.x < half or body.x > level.width - half:
        body.x = min(max(body.x, half), level.width - half)
        body.vx = 0.0


def _move_y(body: Body, level: Level) -> bool:
    """Move along y; return whether the body stands on something afterwards."""
    before = body.y
    body.y += body.vy
    left, right = body.left + _EPS, body.right - _EPS
    if body.vy >= 0.0:
        best = np.inf
        for rects in (level.solids, level.ledges):
            if rects.shape[0] == 0:
                continue
            crossed = (
                (rects[:, 0] < right)
                & (rects[:, 2] > left)
                & (rects[:, 1] >= before - _EPS)
                & (rects[:, 1] <= body.y + _EPS)
            )
            if crossed.any():
                best = min(best, float(rects[crossed, 1].min()))
        if best < np.inf:
            body.y = best
            body.vy = 0.0
            return True
        return False
    solids = level.solids
    bumped = (
        (solids[:, 0] < right)
        & (solids[:, 2] > left)
        & (solids[:, 3] > body.top)
        & (solids[:, 3] <= before - body.height + _EPS)
    )
    if bumped.any():
        body.y = float(solids[bumped, 3].max()) + body.height
        body.vy = 0.0
    return False
