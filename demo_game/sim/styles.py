"""Scripted player styles: parameterised, noisy policies that play the arena.

Every style is one compiled policy, :func:`scripted_controls`, driven by a parameter
vector (:class:`StyleParam`); a named style is a box of parameter ranges
(:data:`STYLES`). Sampling a point of the box (and a skill) gives one player. Because
all styles share one kernel, a batch of arenas can mix styles at no extra cost.

The styles are the labelled players the behaviour model learns from (the label is the
style's name) and the opponents that agents train and are rated against. The same
kernel drives scripted enemies (:data:`ENEMY_STYLE`) until an RL agent does.

What each style does (checked on trajectories in ``tests/demo_game/sim/test_styles.py``):

- aggressive: closes in, strafes a little, fires often.
- explorer: roams between far-apart waypoints, fights only in passing.
- collector: runs for the nearest pickup; the most pickups.
- evasive: keeps far away, dodges and dashes away from bullets.
- idle: AFK; stands still for long stretches; barely moves or shoots.
- bot_like: inhuman precision: instant reaction, perfect lead, no aim noise, snapped
  8-way movement at constant speed; the best hit rate.
"""

from __future__ import annotations

import enum
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.counter_rng import Stream, uniform
from demo_game.sim.fields import ActorField, ArenaField, BulletField, ControlField, PickupField
from demo_game.sim.geometry import point_in_walls, ray_distance, segment_blocked
from demo_game.sim.jit import kernel
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH, layout_walls
from demo_game.sim.queries import nearest_opponent
from demo_game.sim.rules import Rule
from demo_game.style_space import Style, make_style, sample_style

FloatArray = npt.NDArray[np.float64]


class StyleParam(enum.IntEnum):
    """Columns of a style parameter vector."""

    CHASE = 0
    """Pull towards the target while farther than PREFERRED_RANGE (0..1)."""
    PREFERRED_RANGE = 1
    """Distance to the target it tries to hold, world units."""
    EVADE = 2
    """Push away from the target while closer than PREFERRED_RANGE (0..1)."""
    COLLECT = 3
    """Pull towards the nearest pickup (0..1; player only)."""
    EXPLORE = 4
    """Pull towards its current waypoint (0..1)."""
    STRAFE = 5
    """Sideways circling around the target (0..1)."""
    DODGE = 6
    """Side-step away from incoming bullets (0..1)."""
    JITTER = 7
    """Random wandering added to the movement (0..1)."""
    IDLE = 8
    """Tendency to go AFK: 0 never, 1 almost always idle."""
    FIRE_RATE = 9
    """Chance per tick to pull the trigger when the target is in sight and aimed at."""
    AIM_NOISE = 10
    """Standard deviation of the aim error, radians."""
    REACTION = 11
    """Fraction of the gap to the target's true position its estimate closes per tick (1 = instant)."""
    LEAD = 12
    """How far it leads a moving target (0 aims at it, 1 at the exact intercept)."""
    DASH_RATE = 13
    """Chance per tick to dash when a bullet is about to hit or a chase is long."""
    TURN_RATE = 14
    """Largest aim change per tick, radians."""
    SPEED = 15
    """Fraction of top speed it moves at."""
    SNAP = 16
    """1 for machine-like control: 8-way snapped full-speed moves and instant exact aim."""


class StyleMemory(enum.IntEnum):
    """Columns of a style's per-arena memory (zeroed when a match starts)."""

    SEEN_X = 0
    """Where it believes the target is (lags the truth by REACTION)."""
    SEEN_Y = 1
    WAYPOINT_X = 2
    WAYPOINT_Y = 3
    WAYPOINT_TICKS = 4
    """Ticks left before it picks a new waypoint."""
    STRAFE_SIGN = 5
    """+1 or -1: which way it circles."""
    IDLE_TICKS = 6
    """Ticks of AFK left."""
    JITTER_X = 7
    JITTER_Y = 8
    AIM_ERROR = 9
    """Current aim error, radians (redrawn every few ticks)."""
    DETOUR_X = 10
    DETOUR_Y = 11
    DETOUR_TICKS = 12
    """Ticks left of a detour after getting stuck."""
    CHECK_X = 13
    """Position at the last stuck check."""
    CHECK_Y = 14
    AIM = 15
    """Its current aim, radians."""
    VISITS = 16
    """First of REGIONS_X * REGIONS_Y counters of ticks spent in each region of the arena."""


#: The arena is cut into this many regions across and down for choosing waypoints.
REGIONS_X: Final = 4
REGIONS_Y: Final = 3


N_PARAMS: Final = len(StyleParam)
N_MEMORY: Final = len(StyleMemory) - 1 + REGIONS_X * REGIONS_Y


def _style(name: str, **ranges: tuple[float, float]) -> Style:
    defaults: dict[str, tuple[float, float]] = {
        "CHASE": (0.0, 0.0),
        "PREFERRED_RANGE": (200.0, 200.0),
        "EVADE": (0.3, 0.5),
        "COLLECT": (0.0, 0.0),
        "EXPLORE": (0.0, 0.0),
        "STRAFE": (0.0, 0.0),
        "DODGE": (0.1, 0.3),
        "JITTER": (0.1, 0.3),
        "IDLE": (0.0, 0.0),
        "FIRE_RATE": (0.3, 0.6),
        "AIM_NOISE": (0.08, 0.2),
        "REACTION": (0.15, 0.4),
        "LEAD": (0.1, 0.5),
        "DASH_RATE": (0.0, 0.02),
        "TURN_RATE": (0.12, 0.3),
        "SPEED": (0.75, 0.95),
        "SNAP": (0.0, 0.0),
    }
    return make_style(name, StyleParam, defaults, ranges)


#: The player styles, by name (the behaviour classes).
STYLES: Final[dict[str, Style]] = {
    style.name: style
    for style in (
        _style(
            "aggressive",
            CHASE=(0.85, 1.0), PREFERRED_RANGE=(60.0, 140.0), EVADE=(0.3, 0.6), STRAFE=(0.15, 0.4),
            FIRE_RATE=(0.6, 0.9), DASH_RATE=(0.02, 0.06), SPEED=(0.9, 1.0),
        ),
        _style(
            "explorer",
            CHASE=(0.0, 0.1), PREFERRED_RANGE=(100.0, 150.0), EVADE=(0.05, 0.15), EXPLORE=(0.9, 1.0),
            COLLECT=(0.0, 0.1), JITTER=(0.0, 0.1), FIRE_RATE=(0.1, 0.3), SPEED=(0.9, 1.0),
        ),
        _style(
            "collector",
            COLLECT=(0.9, 1.0), EXPLORE=(0.1, 0.25), CHASE=(0.0, 0.1), PREFERRED_RANGE=(150.0, 220.0),
            FIRE_RATE=(0.15, 0.4), SPEED=(0.85, 1.0),
        ),
        _style(
            "evasive",
            EVADE=(0.9, 1.0), PREFERRED_RANGE=(320.0, 420.0), CHASE=(0.05, 0.15), STRAFE=(0.2, 0.45),
            DODGE=(0.6, 0.9), DASH_RATE=(0.05, 0.15), FIRE_RATE=(0.15, 0.35), SPEED=(0.9, 1.0),
        ),
        _style(
            "idle",
            IDLE=(0.9, 1.0), EVADE=(0.0, 0.1), DODGE=(0.0, 0.05), JITTER=(0.05, 0.2), FIRE_RATE=(0.0, 0.05),
            SPEED=(0.3, 0.6),
        ),
        _style(
            "bot_like",
            CHASE=(0.6, 1.0), PREFERRED_RANGE=(110.0, 180.0), EVADE=(0.6, 1.0), STRAFE=(0.6, 1.0),
            DODGE=(0.8, 1.0), JITTER=(0.0, 0.0), FIRE_RATE=(1.0, 1.0), AIM_NOISE=(0.0, 0.01),
            REACTION=(1.0, 1.0), LEAD=(1.0, 1.0), DASH_RATE=(0.0, 0.02), TURN_RATE=(3.2, 3.2),
            SPEED=(1.0, 1.0), SNAP=(1.0, 1.0),
        ),
    )
}  # fmt: skip

#: The scripted enemy: holds mid range, circles and fires with human-like noise.
ENEMY_STYLE: Final[Style] = _style(
    "enemy",
    CHASE=(0.7, 0.9), PREFERRED_RANGE=(160.0, 220.0), EVADE=(0.4, 0.6), STRAFE=(0.3, 0.6),
    DODGE=(0.2, 0.4), FIRE_RATE=(0.4, 0.6), AIM_NOISE=(0.15, 0.25), SPEED=(0.85, 1.0),
)  # fmt: skip


def style_params(
    style: Style | str,
    rng: np.random.Generator,
    skill: float = 0.5,
    variation: tuple[float, float] = (0.0, 1.0),
) -> FloatArray:
    """Sample the parameter vector of one player of a style.

    Args:
        style: A :class:`Style` or the name of one in :data:`STYLES`.
        rng: Source of the per-parameter position within each range.
        skill: 0 (weak) .. 1 (strong): scales aim noise, reaction, dodging and turning.
            0.5 keeps the style's own ranges.
        variation: Sub-range of each parameter's range to draw from, as fractions
            (``(0.8, 1.0)`` keeps the top fifth): hold out a part of style space for a
            generalisation test.

    Returns:
        (len(StyleParam),) float64.

    Raises:
        KeyError: If the style name is unknown.
        ValueError: If skill or variation is out of [0, 1].
    """
    params = sample_style(style, STYLES, rng, skill, variation)
    # Skill: 0 -> twice the aim noise, half the reaction and dodging; 1 -> the reverse.
    factor = 2.0 ** (1.0 - 2.0 * skill)  # 2 at skill 0, 1 at 0.5, 0.5 at 1
    params[StyleParam.AIM_NOISE] *= factor
    params[StyleParam.REACTION] = min(params[StyleParam.REACTION] / factor, 1.0)
    params[StyleParam.DODGE] = min(params[StyleParam.DODGE] / factor, 1.0)
    params[StyleParam.TURN_RATE] /= factor
    params[StyleParam.LEAD] = min(params[StyleParam.LEAD] / factor, 1.0)
    return params


_TWO_PI: Final = 2.0 * math.pi


@kernel
def wrap_angle(angle: float) -> float:
    """Return ``(angle + pi) % (2 pi) - pi``, bit for bit, without a call to ``fmod`` when it can.

    Python's float ``%`` is ``fmod`` (always exact) with the result moved to the sign of
    the divisor. Within (-2 pi, 4 pi) that is exactly the shortcut below: ``x`` itself;
    ``x + 2 pi`` in one rounding, as ``%`` adds it; ``x - 2 pi``, which is exact there
    (Sterbenz). ``tests/demo_game/sim/test_styles.py`` checks it against ``%``.
    """
    x = angle + math.pi
    if 0.0 < x < _TWO_PI:
        wrapped = x
    elif -_TWO_PI < x < 0.0:
        wrapped = x + _TWO_PI
    elif _TWO_PI <= x < 2.0 * _TWO_PI:
        wrapped = x - _TWO_PI
    else:
        wrapped = x % _TWO_PI
    return wrapped - math.pi


@kernel
def _region(x: float, y: float) -> int:
    column = min(max(int(x / ARENA_WIDTH * REGIONS_X), 0), REGIONS_X - 1)
    row = min(max(int(y / ARENA_HEIGHT * REGIONS_Y), 0), REGIONS_Y - 1)
    return row * REGIONS_X + column


@kernel
def _new_waypoint(
    i: int, key: np.uint64, tick: int, stream: int, x: float, y: float, memory: FloatArray, walls: FloatArray
) -> None:
    """Pick the next waypoint: of a few random free points, one in the least visited region."""
    best_score = np.inf
    for k in range(5):
        wx = 30.0 + (ARENA_WIDTH - 60.0) * uniform(key, tick, stream + 2 * k)
        wy = 30.0 + (ARENA_HEIGHT - 60.0) * uniform(key, tick, stream + 2 * k + 1)
        if point_in_walls(wx, wy, 20.0, walls):
            continue
        # Ticks already spent around there, less a bonus for going far.
        score = memory[i, StyleMemory.VISITS + _region(wx, wy)] - 0.1 * math.sqrt(
            (wx - x) ** 2 + (wy - y) ** 2
        )
        if score < best_score:
            best_score = score
            memory[i, StyleMemory.WAYPOINT_X] = wx
            memory[i, StyleMemory.WAYPOINT_Y] = wy
    memory[i, StyleMemory.WAYPOINT_TICKS] = 240.0


@kernel
def scripted_controls_arena(
    i: int,
    actor: int,
    params: FloatArray,
    memory: FloatArray,
    controls: FloatArray,
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    rules: FloatArray,
) -> None:
    """Write the controls of ``actor`` in arena ``i`` (see :func:`scripted_controls`)."""
    base = Stream.STYLES + 1000 * actor
    for c in range(controls.shape[2]):
        controls[i, actor, c] = 0.0
    if arena[i, ArenaField.OUTCOME] != 0.0 or actors[i, actor, ActorField.ALIVE] < 0.5:
        return
    key = keys[i]
    tick = int(arena[i, ArenaField.TICK])
    walls = layout_walls(int(arena[i, ArenaField.LAYOUT]))
    p = params[i]
    x = actors[i, actor, ActorField.X]
    y = actors[i, actor, ActorField.Y]
    target = nearest_opponent(i, actor, actors)
    if tick == 0:
        for m in range(memory.shape[1]):
            memory[i, m] = 0.0
        memory[i, StyleMemory.STRAFE_SIGN] = 1.0 if uniform(key, tick, base) < 0.5 else -1.0
        memory[i, StyleMemory.CHECK_X] = x
        memory[i, StyleMemory.CHECK_Y] = y
        memory[i, StyleMemory.AIM] = actors[i, actor, ActorField.AIM]
        if target >= 0:
            memory[i, StyleMemory.SEEN_X] = actors[i, target, ActorField.X]
            memory[i, StyleMemory.SEEN_Y] = actors[i, target, ActorField.Y]
        _new_waypoint(i, key, tick, base + 10, x, y, memory, walls)

    # --- AFK: idle stretches -------------------------------------------------------
    if memory[i, StyleMemory.IDLE_TICKS] > 0.0:
        memory[i, StyleMemory.IDLE_TICKS] -= 1.0
        controls[i, actor, ControlField.AIM] = memory[i, StyleMemory.AIM]
        return
    if p[StyleParam.IDLE] > 0.0 and uniform(key, tick, base + 1) < 0.08 * p[StyleParam.IDLE]:
        memory[i, StyleMemory.IDLE_TICKS] = 60.0 + 180.0 * uniform(key, tick, base + 2)
        controls[i, actor, ControlField.AIM] = memory[i, StyleMemory.AIM]
        return

    move_x = 0.0
    move_y = 0.0
    # --- the target: range keeping and strafing ---------------------------------------
    visible = False
    desired_aim = memory[i, StyleMemory.AIM]
    distance = 0.0
    if target >= 0:
        tx = actors[i, target, ActorField.X]
        ty = actors[i, target, ActorField.Y]
        reaction = p[StyleParam.REACTION]
        seen_x = memory[i, StyleMemory.SEEN_X] + (tx - memory[i, StyleMemory.SEEN_X]) * reaction
        seen_y = memory[i, StyleMemory.SEEN_Y] + (ty - memory[i, StyleMemory.SEEN_Y]) * reaction
        memory[i, StyleMemory.SEEN_X] = seen_x
        memory[i, StyleMemory.SEEN_Y] = seen_y
        dx = seen_x - x
        dy = seen_y - y
        distance = max(math.sqrt(dx * dx + dy * dy), 1e-6)
        ux = dx / distance
        uy = dy / distance
        gap = distance - p[StyleParam.PREFERRED_RANGE]
        if gap > 0.0:
            pull = p[StyleParam.CHASE] * min(gap / 100.0, 1.0)
        else:
            pull = -p[StyleParam.EVADE] * min(-gap / 100.0, 1.0)
        move_x += pull * ux
        move_y += pull * uy
        if uniform(key, tick, base + 3) < 0.01:
            memory[i, StyleMemory.STRAFE_SIGN] *= -1.0
        sign = memory[i, StyleMemory.STRAFE_SIGN]
        move_x += p[StyleParam.STRAFE] * sign * -uy
        move_y += p[StyleParam.STRAFE] * sign * ux
        visible = not segment_blocked(x, y, tx, ty, walls)
        if visible and p[StyleParam.SNAP] > 0.5:
            # A machine checks that the whole bullet, not just its centre line, gets through.
            margin = rules[Rule.BULLET_RADIUS] + 1.0
            visible = not segment_blocked(
                x - uy * margin, y + ux * margin, tx - uy * margin, ty + ux * margin, walls
            )
            visible = visible and not segment_blocked(
                x + uy * margin, y - ux * margin, tx + uy * margin, ty - ux * margin, walls
            )
        # Aim where the target will be when the bullet arrives (partially, by LEAD).
        bullet_speed = rules[Rule.PLAYER_BULLET_SPEED] if actor == 0 else rules[Rule.ENEMY_BULLET_SPEED]
        flight = distance / bullet_speed * p[StyleParam.LEAD]
        lead_x = seen_x + actors[i, target, ActorField.VX] * flight - x
        lead_y = seen_y + actors[i, target, ActorField.VY] * flight - y
        desired_aim = math.atan2(lead_y, lead_x)

    # --- pickups -----------------------------------------------------------------------
    if p[StyleParam.COLLECT] > 0.0:
        best_d2 = np.inf
        px = 0.0
        py = 0.0
        for k in range(pickups.shape[1]):
            if pickups[i, k, PickupField.ACTIVE] < 0.5:
                continue
            d2 = (pickups[i, k, PickupField.X] - x) ** 2 + (pickups[i, k, PickupField.Y] - y) ** 2
            if d2 < best_d2:
                best_d2 = d2
                px = pickups[i, k, PickupField.X] - x
                py = pickups[i, k, PickupField.Y] - y
        if best_d2 < np.inf:
            d = max(math.sqrt(best_d2), 1e-6)
            move_x += p[StyleParam.COLLECT] * px / d
            move_y += p[StyleParam.COLLECT] * py / d

    # --- waypoints -----------------------------------------------------------------------
    memory[i, StyleMemory.VISITS + _region(x, y)] += 1.0
    memory[i, StyleMemory.WAYPOINT_TICKS] -= 1.0
    wx = memory[i, StyleMemory.WAYPOINT_X] - x
    wy = memory[i, StyleMemory.WAYPOINT_Y] - y
    wd = math.sqrt(wx * wx + wy * wy)
    if wd < 30.0 or memory[i, StyleMemory.WAYPOINT_TICKS] <= 0.0:
        _new_waypoint(i, key, tick, base + 10, x, y, memory, walls)
    elif p[StyleParam.EXPLORE] > 0.0:
        move_x += p[StyleParam.EXPLORE] * wx / wd
        move_y += p[StyleParam.EXPLORE] * wy / wd

    # --- dodging incoming bullets ------------------------------------------------------------
    threatened = False
    if p[StyleParam.DODGE] > 0.0:
        for b in range(bullets.shape[1]):
            owner = int(bullets[i, b, BulletField.OWNER])
            if owner < 0 or (owner == 0) == (actor == 0):
                continue
            rx = x - bullets[i, b, BulletField.X]
            ry = y - bullets[i, b, BulletField.Y]
            bvx = bullets[i, b, BulletField.VX]
            bvy = bullets[i, b, BulletField.VY]
            speed2 = bvx * bvx + bvy * bvy
            along = (rx * bvx + ry * bvy) / max(speed2, 1e-9)  # ticks until closest approach
            if along < 0.0 or along > 15.0:
                continue
            cx = rx - bvx * along  # from the bullet's line to me at closest approach
            cy = ry - bvy * along
            miss = math.sqrt(cx * cx + cy * cy)
            if miss > 30.0:
                continue
            threatened = True
            if miss < 1e-6:  # dead centre: step to the bullet's left
                cx = -bvy
                cy = bvx
                miss = math.sqrt(speed2)
            move_x += 2.0 * p[StyleParam.DODGE] * cx / miss
            move_y += 2.0 * p[StyleParam.DODGE] * cy / miss

    # --- wandering -------------------------------------------------------------------------
    if p[StyleParam.JITTER] > 0.0:
        if tick % 12 == 0:
            angle = 2.0 * math.pi * uniform(key, tick, base + 4)
            memory[i, StyleMemory.JITTER_X] = math.cos(angle)
            memory[i, StyleMemory.JITTER_Y] = math.sin(angle)
        move_x += p[StyleParam.JITTER] * memory[i, StyleMemory.JITTER_X]
        move_y += p[StyleParam.JITTER] * memory[i, StyleMemory.JITTER_Y]

    # --- getting unstuck ---------------------------------------------------------------------
    if memory[i, StyleMemory.DETOUR_TICKS] > 0.0:
        memory[i, StyleMemory.DETOUR_TICKS] -= 1.0
        move_x = memory[i, StyleMemory.DETOUR_X]
        move_y = memory[i, StyleMemory.DETOUR_Y]
    elif tick % 15 == 0:
        moved = math.sqrt(
            (x - memory[i, StyleMemory.CHECK_X]) ** 2 + (y - memory[i, StyleMemory.CHECK_Y]) ** 2
        )
        if moved < 10.0 and move_x * move_x + move_y * move_y > 0.09:
            # Go around: sideways from the intended direction, the side with more room.
            norm = math.sqrt(move_x * move_x + move_y * move_y)
            side_x = -move_y / norm
            side_y = move_x / norm
            if ray_distance(x, y, side_x, side_y, 200.0, walls) < ray_distance(
                x, y, -side_x, -side_y, 200.0, walls
            ):
                side_x = -side_x
                side_y = -side_y
            memory[i, StyleMemory.DETOUR_X] = side_x
            memory[i, StyleMemory.DETOUR_Y] = side_y
            memory[i, StyleMemory.DETOUR_TICKS] = 12.0 + 12.0 * uniform(key, tick, base + 5)
            move_x = side_x
            move_y = side_y
        memory[i, StyleMemory.CHECK_X] = x
        memory[i, StyleMemory.CHECK_Y] = y

    # --- speed and snapping ------------------------------------------------------------------
    norm = math.sqrt(move_x * move_x + move_y * move_y)
    snap = p[StyleParam.SNAP] > 0.5
    if snap:
        if norm > 0.2:
            octant = round(math.atan2(move_y, move_x) / (math.pi / 4.0))
            move_x = math.cos(octant * math.pi / 4.0)
            move_y = math.sin(octant * math.pi / 4.0)
        else:
            move_x = 0.0
            move_y = 0.0
    elif norm > 1.0:
        move_x /= norm
        move_y /= norm
    controls[i, actor, ControlField.MOVE_X] = move_x * p[StyleParam.SPEED]
    controls[i, actor, ControlField.MOVE_Y] = move_y * p[StyleParam.SPEED]

    # --- aiming and firing ---------------------------------------------------------------------
    if tick % 8 == 0:
        u1 = max(uniform(key, tick, base + 6), 1e-12)
        u2 = uniform(key, tick, base + 7)
        gauss = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        memory[i, StyleMemory.AIM_ERROR] = gauss * p[StyleParam.AIM_NOISE]
    goal = desired_aim + memory[i, StyleMemory.AIM_ERROR]
    aim = memory[i, StyleMemory.AIM]
    turn = wrap_angle(goal - aim)
    limit = p[StyleParam.TURN_RATE]
    aim = wrap_angle(aim + max(-limit, min(limit, turn)))
    memory[i, StyleMemory.AIM] = aim
    controls[i, actor, ControlField.AIM] = aim
    on_target = abs(wrap_angle(goal - aim)) < 0.12
    if (
        target >= 0
        and visible
        and on_target
        and distance < 420.0
        and uniform(key, tick, base + 8) < p[StyleParam.FIRE_RATE]
    ):
        controls[i, actor, ControlField.FIRE] = 1.0
    chase_dash = target >= 0 and p[StyleParam.CHASE] > 0.5 and distance > 260.0
    if (threatened or chase_dash) and uniform(key, tick, base + 9) < p[StyleParam.DASH_RATE]:
        controls[i, actor, ControlField.DASH] = 1.0


@kernel
def scripted_controls(
    actor: int,
    params: FloatArray,
    memory: FloatArray,
    controls: FloatArray,
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    rules: FloatArray,
) -> None:
    """Write the controls of ``actor`` in every arena, played by its style.

    Call it right before :meth:`ArenaSimulation.step`, every tick. A match at tick 0
    resets the memory.

    Args:
        actor: Which actor plays (0 = the player; an enemy index for scripted enemies).
        params: (N, len(StyleParam)) each arena's player, from :func:`style_params`.
        memory: (N, len(StyleMemory)) the style's memory, updated in place.
        controls: (N, A, len(ControlField)); row ``actor`` is written.
        arena, keys, actors, bullets, pickups: the simulation state (read only).
        rules: :meth:`ArenaRules.as_array`.
    """
    for i in range(arena.shape[0]):
        scripted_controls_arena(
            i, actor, params, memory, controls, arena, keys, actors, bullets, pickups, rules
        )
