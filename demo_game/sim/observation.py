"""Vector observations: what one actor perceives, as a float32 vector in [-1, 1].

The same function serves every point of view: an enemy NPC (the agents' view in
``gameai/Arena-v0``), the player (for opponent policies) and the game when it asks the
service for an action. Its layout is :class:`ObservationField`; a game in another
engine rebuilds it from ``docs`` and this module.
"""

from __future__ import annotations

import enum
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.fields import ActorField, ArenaField, BulletField, PickupField
from demo_game.sim.geometry import segment_blocked
from demo_game.sim.jit import kernel
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH, layout_walls
from demo_game.sim.queries import nearest_opponent, opponents_alive
from demo_game.sim.rules import Rule

FloatArray = npt.NDArray[np.float64]

RAY_COUNT: Final = 8
"""Wall-distance rays, evenly spread from angle 0."""
RAY_RANGE: Final = 200.0
"""Longest ray, world units."""
BULLET_RANGE: Final = 200.0
"""Bullet offsets are divided by this (and clipped)."""
TRACKED_BULLETS: Final = 2
"""Nearest incoming bullets in the observation."""


class ObservationField(enum.IntEnum):
    """Index of each feature; every value lies in [-1, 1]."""

    SELF_X = 0
    """x / width * 2 - 1."""
    SELF_Y = 1
    SELF_VX = 2
    """Velocity / (top speed x dash factor)."""
    SELF_VY = 3
    SELF_HEALTH = 4
    """Health / starting health."""
    SELF_FIRE_COOLDOWN = 5
    """Fraction of the fire cooldown left."""
    SELF_DASH_COOLDOWN = 6
    SELF_DASHING = 7
    """1 while dashing."""
    TARGET_DX = 8
    """(target x - x) / width."""
    TARGET_DY = 9
    TARGET_DISTANCE = 10
    """Distance / diagonal."""
    TARGET_VX = 11
    TARGET_VY = 12
    TARGET_HEALTH = 13
    TARGET_VISIBLE = 14
    """1 when no wall blocks the line between us."""
    TARGET_ALIVE = 15
    TARGET_AIM_COS = 16
    """cos of the angle between the target's aim and the direction from it to me (1: aimed at me)."""
    TARGET_AIM_SIN = 17
    TARGET_FIRE_COOLDOWN = 18
    TARGET_DASH_COOLDOWN = 19
    BULLET0_DX = 20
    """Nearest incoming opposing bullet: offset / BULLET_RANGE, velocity / bullet speed."""
    BULLET0_DY = 21
    BULLET0_VX = 22
    BULLET0_VY = 23
    BULLET1_DX = 24
    BULLET1_DY = 25
    BULLET1_VX = 26
    BULLET1_VY = 27
    BULLET0_PRESENT = 28
    BULLET1_PRESENT = 29
    RAY0 = 30
    """Distance to a wall or the border along angle k * 2pi / RAY_COUNT, / RAY_RANGE."""
    RAY1 = 31
    RAY2 = 32
    RAY3 = 33
    RAY4 = 34
    RAY5 = 35
    RAY6 = 36
    RAY7 = 37
    TIME_LEFT = 38
    """Fraction of the match left."""
    OPPONENTS_ALIVE = 39
    """Fraction of the opposing side still alive."""
    DIFFICULTY = 40
    """The difficulty asked of this actor, 0..1 (agents condition on it)."""
    PICKUP_DX = 41
    """Nearest active pickup: offset / width, height."""
    PICKUP_DY = 42
    PICKUP_PRESENT = 43


OBSERVATION_SIZE: Final = len(ObservationField)

_RAY_ANGLES = 2.0 * np.pi * np.arange(RAY_COUNT) / RAY_COUNT
_RAY_DX: Final = np.where(np.abs(np.cos(_RAY_ANGLES)) < 1e-9, 0.0, np.cos(_RAY_ANGLES))
_RAY_DY: Final = np.where(np.abs(np.sin(_RAY_ANGLES)) < 1e-9, 0.0, np.sin(_RAY_ANGLES))
_RAY_INV_DX: Final = np.array([1.0 / d if d != 0.0 else 0.0 for d in _RAY_DX])
_RAY_INV_DY: Final = np.array([1.0 / d if d != 0.0 else 0.0 for d in _RAY_DY])


@kernel
def _clip(value: float) -> float:
    return min(max(value, -1.0), 1.0)


@kernel
def _wall_rays(i: int, x: float, y: float, walls: FloatArray, out: npt.NDArray[np.float32]) -> None:
    """Write the RAY_COUNT wall distances / RAY_RANGE (the fixed directions' inverses are precomputed)."""
    for r in range(RAY_COUNT):
        best = RAY_RANGE
        dx = _RAY_DX[r]
        dy = _RAY_DY[r]
        if dx > 0.0:
            best = min(best, (ARENA_WIDTH - x) * _RAY_INV_DX[r])
        elif dx < 0.0:
            best = min(best, -x * _RAY_INV_DX[r])
        if dy > 0.0:
            best = min(best, (ARENA_HEIGHT - y) * _RAY_INV_DY[r])
        elif dy < 0.0:
            best = min(best, -y * _RAY_INV_DY[r])
        for w in range(walls.shape[0]):
            x0 = walls[w, 0]
            x1 = walls[w, 2]
            if x1 <= x0:
                continue
            y0 = walls[w, 1]
            y1 = walls[w, 3]
            t_near = 0.0
            t_far = best
            if dx == 0.0:
                if x < x0 or x > x1:
                    continue
            else:
                ta = (x0 - x) * _RAY_INV_DX[r]
                tb = (x1 - x) * _RAY_INV_DX[r]
                t_near = max(t_near, min(ta, tb))
                t_far = min(t_far, max(ta, tb))
            if dy == 0.0:
                if y < y0 or y > y1:
                    continue
            else:
                ta = (y0 - y) * _RAY_INV_DY[r]
                tb = (y1 - y) * _RAY_INV_DY[r]
                t_near = max(t_near, min(ta, tb))
                t_far = min(t_far, max(ta, tb))
            if t_near <= t_far:
                best = t_near
        out[i, ObservationField.RAY0 + r] = max(best, 0.0) / RAY_RANGE


@kernel
def observe_arena(
    i: int,
    actor: int,
    difficulty: FloatArray,
    out: npt.NDArray[np.float32],
    arena: FloatArray,
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    rules: FloatArray,
) -> None:
    """Write what ``actor`` perceives in arena ``i`` into ``out[i]`` (see :func:`observe`)."""
    diagonal = math.sqrt(ARENA_WIDTH**2 + ARENA_HEIGHT**2)
    for k in range(out.shape[1]):
        out[i, k] = 0.0
    walls = layout_walls(int(arena[i, ArenaField.LAYOUT]))
    x = actors[i, actor, ActorField.X]
    y = actors[i, actor, ActorField.Y]
    is_player = actor == 0
    speed = rules[Rule.PLAYER_SPEED] if is_player else rules[Rule.ENEMY_SPEED]
    top_speed = speed * rules[Rule.DASH_SPEED_FACTOR]
    out[i, ObservationField.SELF_X] = _clip(x / ARENA_WIDTH * 2.0 - 1.0)
    out[i, ObservationField.SELF_Y] = _clip(y / ARENA_HEIGHT * 2.0 - 1.0)
    out[i, ObservationField.SELF_VX] = _clip(actors[i, actor, ActorField.VX] / top_speed)
    out[i, ObservationField.SELF_VY] = _clip(actors[i, actor, ActorField.VY] / top_speed)
    max_health = rules[Rule.PLAYER_HEALTH] if is_player else rules[Rule.ENEMY_HEALTH]
    out[i, ObservationField.SELF_HEALTH] = _clip(actors[i, actor, ActorField.HEALTH] / max_health)
    fire_cooldown = rules[Rule.PLAYER_FIRE_COOLDOWN] if is_player else rules[Rule.ENEMY_FIRE_COOLDOWN]
    out[i, ObservationField.SELF_FIRE_COOLDOWN] = _clip(
        actors[i, actor, ActorField.FIRE_COOLDOWN] / fire_cooldown
    )
    out[i, ObservationField.SELF_DASH_COOLDOWN] = _clip(
        actors[i, actor, ActorField.DASH_COOLDOWN] / rules[Rule.DASH_COOLDOWN]
    )
    out[i, ObservationField.SELF_DASHING] = 1.0 if actors[i, actor, ActorField.DASH_LEFT] > 0.0 else 0.0

    # The target and how many opponents are left.
    target = nearest_opponent(i, actor, actors)
    alive, total = opponents_alive(i, actor, actors)
    out[i, ObservationField.OPPONENTS_ALIVE] = alive / max(total, 1)
    if target >= 0:
        tx = actors[i, target, ActorField.X]
        ty = actors[i, target, ActorField.Y]
        dx = tx - x
        dy = ty - y
        distance = math.sqrt(dx * dx + dy * dy)
        target_speed = rules[Rule.PLAYER_SPEED] if target == 0 else rules[Rule.ENEMY_SPEED]
        target_top = target_speed * rules[Rule.DASH_SPEED_FACTOR]
        target_health = rules[Rule.PLAYER_HEALTH] if target == 0 else rules[Rule.ENEMY_HEALTH]
        target_fire = rules[Rule.PLAYER_FIRE_COOLDOWN] if target == 0 else rules[Rule.ENEMY_FIRE_COOLDOWN]
        out[i, ObservationField.TARGET_DX] = _clip(dx / ARENA_WIDTH)
        out[i, ObservationField.TARGET_DY] = _clip(dy / ARENA_HEIGHT)
        out[i, ObservationField.TARGET_DISTANCE] = _clip(distance / diagonal)
        out[i, ObservationField.TARGET_VX] = _clip(actors[i, target, ActorField.VX] / target_top)
        out[i, ObservationField.TARGET_VY] = _clip(actors[i, target, ActorField.VY] / target_top)
        out[i, ObservationField.TARGET_HEALTH] = _clip(actors[i, target, ActorField.HEALTH] / target_health)
        out[i, ObservationField.TARGET_VISIBLE] = 0.0 if segment_blocked(x, y, tx, ty, walls) else 1.0
        out[i, ObservationField.TARGET_ALIVE] = 1.0
        relative = actors[i, target, ActorField.AIM] - math.atan2(-dy, -dx)
        out[i, ObservationField.TARGET_AIM_COS] = math.cos(relative)
        out[i, ObservationField.TARGET_AIM_SIN] = math.sin(relative)
        out[i, ObservationField.TARGET_FIRE_COOLDOWN] = _clip(
            actors[i, target, ActorField.FIRE_COOLDOWN] / target_fire
        )
        out[i, ObservationField.TARGET_DASH_COOLDOWN] = _clip(
            actors[i, target, ActorField.DASH_COOLDOWN] / rules[Rule.DASH_COOLDOWN]
        )

    # The two nearest opposing bullets that are still closing in.
    first = -1
    second = -1
    first_d2 = np.inf
    second_d2 = np.inf
    for b in range(bullets.shape[1]):
        owner = int(bullets[i, b, BulletField.OWNER])
        if owner < 0 or (owner == 0) == is_player:
            continue
        rx = x - bullets[i, b, BulletField.X]
        ry = y - bullets[i, b, BulletField.Y]
        if rx * bullets[i, b, BulletField.VX] + ry * bullets[i, b, BulletField.VY] <= 0.0:
            continue
        d2 = rx * rx + ry * ry
        if d2 < first_d2:
            second, second_d2 = first, first_d2
            first, first_d2 = b, d2
        elif d2 < second_d2:
            second, second_d2 = b, d2
    for slot in range(TRACKED_BULLETS):
        b = first if slot == 0 else second
        if b < 0:
            continue
        base = ObservationField.BULLET0_DX + 4 * slot
        bullet_speed = (
            rules[Rule.PLAYER_BULLET_SPEED]
            if bullets[i, b, BulletField.OWNER] == 0.0
            else rules[Rule.ENEMY_BULLET_SPEED]
        )
        out[i, base] = _clip((bullets[i, b, BulletField.X] - x) / BULLET_RANGE)
        out[i, base + 1] = _clip((bullets[i, b, BulletField.Y] - y) / BULLET_RANGE)
        out[i, base + 2] = _clip(bullets[i, b, BulletField.VX] / bullet_speed)
        out[i, base + 3] = _clip(bullets[i, b, BulletField.VY] / bullet_speed)
        out[i, ObservationField.BULLET0_PRESENT + slot] = 1.0

    _wall_rays(i, x, y, walls, out)

    out[i, ObservationField.TIME_LEFT] = _clip(1.0 - arena[i, ArenaField.TICK] / rules[Rule.MATCH_TICKS])
    out[i, ObservationField.DIFFICULTY] = _clip(difficulty[i])

    best_d2 = np.inf
    for p in range(pickups.shape[1]):
        if pickups[i, p, PickupField.ACTIVE] < 0.5:
            continue
        dx = pickups[i, p, PickupField.X] - x
        dy = pickups[i, p, PickupField.Y] - y
        d2 = dx * dx + dy * dy
        if d2 < best_d2:
            best_d2 = d2
            out[i, ObservationField.PICKUP_DX] = _clip(dx / ARENA_WIDTH)
            out[i, ObservationField.PICKUP_DY] = _clip(dy / ARENA_HEIGHT)
            out[i, ObservationField.PICKUP_PRESENT] = 1.0


@kernel
def observe(
    actor: int,
    difficulty: FloatArray,
    out: npt.NDArray[np.float32],
    arena: FloatArray,
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    rules: FloatArray,
    mask: npt.NDArray[np.bool_],
) -> None:
    """Write what ``actor`` perceives in the arenas of ``mask`` into ``out``.

    The target is the player for an enemy, and the nearest living enemy for the player.

    Args:
        actor: The point of view (0 = the player, 1..E = an enemy).
        difficulty: (N,) the difficulty of each arena's ``actor``, 0..1.
        out: (N, OBSERVATION_SIZE) float32; the rows of ``mask`` are written in full.
        arena, actors, bullets, pickups: the simulation state.
        rules: :meth:`ArenaRules.as_array`.
        mask: (N,) which arenas to observe.
    """
    for i in range(arena.shape[0]):
        if mask[i]:
            observe_arena(i, actor, difficulty, out, arena, actors, bullets, pickups, rules)
