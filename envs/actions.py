"""The agents' action space and how an action becomes controls.

An action is three choices (``MultiDiscrete([9, 4, 2])``):

- move: 0 stands still, k = 1..8 moves along angle (k - 1) x 45 degrees (0 = +x,
  90 = +y, i.e. down the screen);
- fire: 0 holds fire, 1..3 fire at the target with an aim offset of
  -LEAD_ANGLE, 0, +LEAD_ANGLE radians (so the agent can learn to lead a moving target);
  while not firing the actor keeps facing its target;
- dash: 1 dashes (if the cooldown allows).

Aim is relative to the target because the agent's skill lies in when and where to
move and shoot, not in turning a turret. ``aim_noise`` (radians, per arena) blurs the
aim; the service uses it to weaken an agent at low difficulty.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.counter_rng import Stream, normal
from demo_game.sim.fields import ActorField, ArenaField, ControlField
from demo_game.sim.jit import kernel
from demo_game.sim.queries import nearest_opponent

ACTION_NVEC: Final[tuple[int, int, int]] = (9, 4, 2)
"""Sizes of the move, fire and dash choices."""
LEAD_ANGLE: Final = 0.2
"""Aim offset of fire choices 1 and 3, radians."""

_MOVE_ANGLES = (np.arange(ACTION_NVEC[0]) - 1) * (np.pi / 4.0)
_MOVE_X: Final = np.where(np.arange(ACTION_NVEC[0]) > 0, np.cos(_MOVE_ANGLES), 0.0)
"""x of each move choice's direction (0: stand still)."""
_MOVE_Y: Final = np.where(np.arange(ACTION_NVEC[0]) > 0, np.sin(_MOVE_ANGLES), 0.0)


@kernel
def apply_action_arena(
    i: int,
    actor: int,
    actions: npt.NDArray[np.int64],
    aim_noise: npt.NDArray[np.float64],
    controls: npt.NDArray[np.float64],
    arena: npt.NDArray[np.float64],
    keys: npt.NDArray[np.uint64],
    actors: npt.NDArray[np.float64],
) -> None:
    """Turn arena ``i``'s action for ``actor`` into its controls (see :func:`apply_actions`)."""
    move = actions[i, 0]
    fire = actions[i, 1]
    controls[i, actor, ControlField.MOVE_X] = _MOVE_X[move]
    controls[i, actor, ControlField.MOVE_Y] = _MOVE_Y[move]
    # Face the nearest living opponent.
    aim = actors[i, actor, ActorField.AIM]
    target = nearest_opponent(i, actor, actors)
    if target >= 0:
        aim = math.atan2(
            actors[i, target, ActorField.Y] - actors[i, actor, ActorField.Y],
            actors[i, target, ActorField.X] - actors[i, actor, ActorField.X],
        )
    if fire > 0:
        aim += (fire - 2) * LEAD_ANGLE
    if aim_noise[i] > 0.0:
        tick = int(arena[i, ArenaField.TICK])
        aim += aim_noise[i] * normal(keys[i], tick, Stream.ACTIONS + 100 * actor)
    controls[i, actor, ControlField.AIM] = aim
    controls[i, actor, ControlField.FIRE] = 1.0 if fire > 0 else 0.0
    controls[i, actor, ControlField.DASH] = 1.0 if actions[i, 2] > 0 else 0.0
    controls[i, actor, ControlField.TALK] = 0.0


@kernel
def apply_actions(
    actor: int,
    actions: npt.NDArray[np.int64],
    aim_noise: npt.NDArray[np.float64],
    controls: npt.NDArray[np.float64],
    arena: npt.NDArray[np.float64],
    keys: npt.NDArray[np.uint64],
    actors: npt.NDArray[np.float64],
) -> None:
    """Turn each arena's action for ``actor`` into its controls.

    Args:
        actor: The acting actor (0 = the player, 1..E = an enemy).
        actions: (N, 3) move, fire and dash choices (see the module docstring).
        aim_noise: (N,) standard deviation of the aim error, radians (0 = exact).
        controls: (N, A, len(ControlField)); row ``actor`` is written.
        arena, keys, actors: the simulation state (read only).
    """
    for i in range(actions.shape[0]):
        apply_action_arena(i, actor, actions, aim_noise, controls, arena, keys, actors)
