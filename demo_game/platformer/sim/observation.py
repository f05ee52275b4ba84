"""A goblin's view of the level, as the goblin agent sees it: :data:`OBSERVATION_SIZE` floats in [-1, 1].

The env ``gameai/Platformer-v0`` trains on it and the demo sends it in ``act`` requests,
so both compute it here, from the simulation state alone.
"""

from __future__ import annotations

import enum
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim.rules import PlatformerRules
from demo_game.platformer.sim.senses import CLIMB_REACH, drop_ahead, rise_ahead
from demo_game.platformer.sim.state import PlatformerState


class ObservationField(enum.IntEnum):
    """Entries of a goblin's observation (all clipped to [-1, 1])."""

    SELF_VX = 0
    """Its horizontal speed / its top speed."""
    SELF_VY = 1
    """Its vertical speed / the fastest fall (down is positive)."""
    SELF_ON_GROUND = 2
    """1 on the ground, -1 in the air."""
    SELF_FROM_HOME = 3
    """(x - home x) / 400 units."""
    PLAYER_DX = 4
    """(player x - its x) / 480 units."""
    PLAYER_DY = 5
    """(player feet - its feet) / 360 units (the player below is positive)."""
    PLAYER_VX = 6
    """The player's horizontal speed / the player's top speed."""
    PLAYER_VY = 7
    """The player's vertical speed / the fastest fall."""
    PLAYER_ON_GROUND = 8
    """1 when the player stands on something, -1 in the air."""
    PLAYER_SAFE = 9
    """1 while the player cannot be hurt (blinking after a hit or a fall), else -1."""
    PLAYER_ABOVE = 10
    """(its head - the player's feet) / 120 units: positive while the player's feet are above
    its head (where a stomp comes from)."""
    PLAYER_HEARTS = 11
    """The player's hearts left, -1 (none) .. 1 (all)."""
    GROUND_LEFT_FAR = 12
    """How far the surface drops 96 units left of it / 128 units (1: a pit or a big drop;
    negative: higher ground)."""
    GROUND_LEFT_MID = 13
    """The same 48 units left."""
    GROUND_LEFT_NEAR = 14
    """The same 16 units left."""
    GROUND_RIGHT_NEAR = 15
    """16 units right."""
    GROUND_RIGHT_MID = 16
    """48 units right."""
    GROUND_RIGHT_FAR = 17
    """96 units right."""
    WALL_LEFT = 18
    """How high a ground block rises just left of it / 64 units (0: none)."""
    WALL_RIGHT = 19
    """The same on the right."""
    LEDGE_DX = 20
    """(x of the nearest ledge within a jump above it - its x) / 300 units (0: none)."""
    LEDGE_UP = 21
    """How far above its feet that ledge is / CLIMB_REACH (-1: none)."""
    TIME_LEFT = 22
    """Time left on the level's clock: 1 full .. -1 none."""
    PLAYER_FACING = 23
    """1 when the player faces right, -1 left."""


OBSERVATION_SIZE: Final = len(ObservationField)
_PROBES: Final = (
    (ObservationField.GROUND_LEFT_FAR, -1.0, 96.0),
    (ObservationField.GROUND_LEFT_MID, -1.0, 48.0),
    (ObservationField.GROUND_LEFT_NEAR, -1.0, 16.0),
    (ObservationField.GROUND_RIGHT_NEAR, 1.0, 16.0),
    (ObservationField.GROUND_RIGHT_MID, 1.0, 48.0),
    (ObservationField.GROUND_RIGHT_FAR, 1.0, 96.0),
)


def observe(
    state: PlatformerState, goblin: int, rules: PlatformerRules, out: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float32]:
    """Goblin ``goblin``'s observation of ``state``.

    Args:
        state: The level in play.
        goblin: Which goblin looks (index into ``state.goblins``).
        rules: The simulation's rules (speeds, hearts, clock).
        out: (OBSERVATION_SIZE,) float32 to write into; a new array when None.

    Returns:
        (OBSERVATION_SIZE,) float32 in [-1, 1].
    """
    obs = np.zeros(OBSERVATION_SIZE, dtype=np.float32) if out is None else out
    me = state.goblins[goblin]
    body, player = me.body, state.player.body
    level = state.level
    values = np.zeros(OBSERVATION_SIZE)
    F = ObservationField
    values[F.SELF_VX] = body.vx / rules.goblin_speed
    values[F.SELF_VY] = body.vy / rules.max_fall_speed
    values[F.SELF_ON_GROUND] = 1.0 if body.on_ground else -1.0
    values[F.SELF_FROM_HOME] = (body.x - me.home_x) / 400.0
    values[F.PLAYER_DX] = (player.x - body.x) / 480.0
    values[F.PLAYER_DY] = (player.y - body.y) / 360.0
    values[F.PLAYER_VX] = player.vx / rules.player_speed
    values[F.PLAYER_VY] = player.vy / rules.max_fall_speed
    values[F.PLAYER_ON_GROUND] = 1.0 if player.on_ground else -1.0
    values[F.PLAYER_SAFE] = 1.0 if state.player.invulnerable > 0 else -1.0
    values[F.PLAYER_ABOVE] = (body.top - player.y) / 120.0
    values[F.PLAYER_HEARTS] = 2.0 * state.player.hearts / rules.player_hearts - 1.0
    for field, direction, distance in _PROBES:
        drop = drop_ahead(level, body, direction, distance)
        values[field] = 1.0 if drop is None else drop / 128.0
    values[F.WALL_LEFT] = rise_ahead(level, body, -1.0, 2.0) / 64.0
    values[F.WALL_RIGHT] = rise_ahead(level, body, 1.0, 2.0) / 64.0
    values[F.LEDGE_UP] = -1.0
    ledges = level.ledges
    if ledges.shape[0]:
        rise = body.y - ledges[:, 1]
        reachable = (rise > 8.0) & (rise <= CLIMB_REACH) & (np.abs(ledges[:, 0] - body.x) < 600.0)
        if reachable.any():
            centres = (ledges[reachable, 0] + ledges[reachable, 2]) / 2
            nearest = int(np.abs(centres - body.x).argmin())
            values[F.LEDGE_DX] = (centres[nearest] - body.x) / 300.0
            values[F.LEDGE_UP] = rise[reachable][nearest] / CLIMB_REACH
    values[F.TIME_LEFT] = 2.0 * max(rules.level_ticks - state.tick, 0) / rules.level_ticks - 1.0
    values[F.PLAYER_FACING] = player.facing
    np.clip(values, -1.0, 1.0, out=values)
    obs[:] = values
    return obs
