"""Rewards of an enemy agent: win fights, deal damage, avoid damage."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from demo_game.sim.fields import ActorField, ArenaField, Outcome
from demo_game.sim.jit import kernel


@dataclasses.dataclass(frozen=True)
class RewardConfig:
    """Weights of the reward terms of one agent."""

    win: float = 1.0
    """When the agent's side wins the match (the player dies)."""
    loss: float = -1.0
    """When the agent dies or its side loses."""
    timeout: float = 0.0
    """When the match ends in a draw with the agent alive."""
    damage_dealt: float = 0.02
    """Per hit point of damage the agent's bullets deal."""
    damage_taken: float = -0.02
    """Per hit point of damage the agent takes."""

    def as_array(self) -> npt.NDArray[np.float64]:
        """Return the weights as the vector :func:`agent_reward` reads, in field order."""
        return np.array([getattr(self, f.name) for f in dataclasses.fields(self)], dtype=np.float64)


_WIN, _LOSS, _TIMEOUT, _DEALT, _TAKEN = range(5)
_PLAYER_DEAD = float(Outcome.LOSS)
_PLAYER_WON = float(Outcome.WIN)
_DRAW = float(Outcome.TIMEOUT)


@kernel
def agent_reward_arena(
    i: int,
    actor: int,
    weights: npt.NDArray[np.float64],
    arena: npt.NDArray[np.float64],
    actors: npt.NDArray[np.float64],
    reward: npt.NDArray[np.float64],
    done: npt.NDArray[np.bool_],
) -> None:
    """Add arena ``i``'s last-tick reward of ``actor`` (see :func:`agent_reward`)."""
    if done[i]:
        return
    r = weights[_DEALT] * actors[i, actor, ActorField.DAMAGE_DEALT]
    r += weights[_TAKEN] * actors[i, actor, ActorField.DAMAGE_TAKEN]
    outcome = arena[i, ArenaField.OUTCOME]
    if outcome == _PLAYER_DEAD:
        r += weights[_WIN]
        done[i] = True
    elif actors[i, actor, ActorField.ALIVE] < 0.5 or outcome == _PLAYER_WON:
        r += weights[_LOSS]
        done[i] = True
    elif outcome == _DRAW:
        r += weights[_TIMEOUT]
        done[i] = True
    reward[i] += r


@kernel
def agent_reward(
    actor: int,
    weights: npt.NDArray[np.float64],
    arena: npt.NDArray[np.float64],
    actors: npt.NDArray[np.float64],
    reward: npt.NDArray[np.float64],
    done: npt.NDArray[np.bool_],
) -> None:
    """Add the last tick's reward of enemy ``actor`` to ``reward`` and flag finished episodes.

    An agent's episode ends when the match ends or when the agent dies.

    Args:
        actor: The agent's actor index (1..E).
        weights: :meth:`RewardConfig.as_array`.
        arena, actors: the simulation state after the tick.
        reward: (N,) accumulated in place.
        done: (N,) set to True where the episode ended.
    """
    for i in range(arena.shape[0]):
        agent_reward_arena(i, actor, weights, arena, actors, reward, done)
