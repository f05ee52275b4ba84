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
aim where the game turns actions into controls.

:class:`ActionHandicap` weakens an agent at difficulty d < 1 on the action itself, before
it becomes controls: a shot held back, a shot's lead choice scrambled, a move slipping
to a random direction, each with a chance that grows with 1 - d. Because it changes
only the action, the service applies the very same rule to the actions it serves
(:meth:`gameai.agents.actor.ActorNet.act`) and a game needs to do nothing about it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.counter_rng import Stream, normal, uniform
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

#: Streams of the handicap's draws, after ``Stream.ACTIONS + 100 * actor`` (0 and 1 are the aim noise's).
_HOLD_DRAW, _SCRAMBLE_DRAW, _SCRAMBLE_CHOICE, _SLIP_DRAW, _SLIP_CHOICE = 10, 11, 12, 13, 14


@dataclasses.dataclass(frozen=True)
class ActionHandicap:
    """How much an agent's actions are spoiled at difficulty d: each chance below is scaled by 1 - d.

    At d = 1 nothing changes; at d = 0 each happens with the full chance given here.
    The order is: the move slips, then the shot's lead is scrambled, then the shot is held.
    """

    hold_fire: float = 0.0
    """Chance at d = 0 that a shot the agent fires is held back (fire choice -> 0)."""
    scramble_aim: float = 0.0
    """Chance at d = 0 that a shot's lead choice is replaced by a uniformly random one of 1..3."""
    slip_move: float = 0.0
    """Chance at d = 0 that the move is replaced by a uniformly random one of 0..8."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ActionHandicap.{field.name} must be in [0, 1], got {value}")

    @property
    def active(self) -> bool:
        """Whether any chance is above zero."""
        return self.hold_fire > 0.0 or self.scramble_aim > 0.0 or self.slip_move > 0.0

    def as_array(self) -> npt.NDArray[np.float64]:
        """The chances as the vector :func:`handicap_actions` reads, in field order."""
        return np.array([self.hold_fire, self.scramble_aim, self.slip_move], dtype=np.float64)


@kernel
def handicap_actions(
    actor: int,
    actions: npt.NDArray[np.int64],
    difficulty: npt.NDArray[np.float64],
    chances: npt.NDArray[np.float64],
    arena: npt.NDArray[np.float64],
    keys: npt.NDArray[np.uint64],
    out: npt.NDArray[np.int64],
) -> None:
    """Write each arena's action after the handicap at its difficulty (see :class:`ActionHandicap`).

    Draws are a pure function of the arena's episode key and tick, so arena i of a batch
    is spoiled exactly as a lone arena with the same key.

    Args:
        actor: The acting actor (its stream numbers).
        actions: (N, 3) the chosen actions.
        difficulty: (N,) the difficulty of each arena's actor, 0..1.
        chances: :meth:`ActionHandicap.as_array`.
        arena, keys: The simulation state (read only).
        out: (N, 3) set to the actions played (may be ``actions`` itself).
    """
    base = Stream.ACTIONS + 100 * actor
    for i in range(actions.shape[0]):
        weakness = 1.0 - min(max(difficulty[i], 0.0), 1.0)
        key = keys[i]
        tick = int(arena[i, ArenaField.TICK])
        move = actions[i, 0]
        fire = actions[i, 1]
        if uniform(key, tick, base + _SLIP_DRAW) < chances[2] * weakness:
            move = min(int(uniform(key, tick, base + _SLIP_CHOICE) * ACTION_NVEC[0]), ACTION_NVEC[0] - 1)
        if fire > 0 and uniform(key, tick, base + _SCRAMBLE_DRAW) < chances[1] * weakness:
            fire = 1 + min(int(uniform(key, tick, base + _SCRAMBLE_CHOICE) * 3.0), 2)
        if fire > 0 and uniform(key, tick, base + _HOLD_DRAW) < chances[0] * weakness:
            fire = 0
        out[i, 0] = move
        out[i, 1] = fire
        out[i, 2] = actions[i, 2]


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
