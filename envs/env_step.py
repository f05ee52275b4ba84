"""One env step of every arena in a single compiled pass, arena by arena.

Doing all of an arena's work (``action_repeat`` ticks of actions, opponents,
simulation and reward, then its observation) before moving on to the next arena keeps
that arena's state in cache; calling each batch kernel in turn would stream the whole
batch's state through memory a dozen times per step. The per-arena building blocks are
the same functions the batch kernels loop over, so both orders compute the same thing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from demo_game.sim.actions import apply_action_arena
from demo_game.sim.jit import kernel
from demo_game.sim.kernels import step_arena
from demo_game.sim.observation import observe_arena
from demo_game.sim.styles import scripted_controls_arena
from envs.reward import agent_reward_arena

FloatArray = npt.NDArray[np.float64]


@kernel
def play_env_step(
    agent: int,
    actions: npt.NDArray[np.int64],
    aim_noise: FloatArray,
    player_actions: npt.NDArray[np.int64],
    player_aim_noise: FloatArray,
    use_player_actions: bool,
    player_params: FloatArray,
    player_memory: FloatArray,
    enemy_params: FloatArray,
    enemy_memory: FloatArray,
    action_repeat: int,
    weights: FloatArray,
    difficulty: FloatArray,
    controls: FloatArray,
    arena: FloatArray,
    keys: npt.NDArray[np.uint64],
    actors: FloatArray,
    bullets: FloatArray,
    pickups: FloatArray,
    friendlies: FloatArray,
    events: npt.NDArray[np.int32],
    rules: FloatArray,
    reward: FloatArray,
    done: npt.NDArray[np.bool_],
    obs: npt.NDArray[np.float32],
) -> None:
    """Play one env step in every arena and observe the result.

    Args:
        agent: The agent's actor index.
        actions: (N, 3) the agent's actions.
        aim_noise: (N,) the agent's aim error, radians.
        player_actions: (N, 3) the player's actions, used when ``use_player_actions``.
        player_aim_noise: (N,) the player's aim error when it follows ``player_actions``.
        use_player_actions: Whether the player follows ``player_actions`` (an opponent
            policy) instead of its scripted style.
        player_params, player_memory: (N, ...) the player's scripted style.
        enemy_params, enemy_memory: (E - 1, N, ...) the other enemies' scripted style.
        action_repeat: Ticks per env step.
        weights: Reward weights.
        difficulty: (N,) the difficulty shown to the agent.
        controls, arena, keys, actors, bullets, pickups, friendlies, events: the simulation.
        rules: The rules vector.
        reward: (N,) set to the step's reward.
        done: (N,) set to whether the agent's episode ended.
        obs: (N, OBSERVATION_SIZE) set to the agent's observation after the step.
    """
    for i in range(arena.shape[0]):
        reward[i] = 0.0
        done[i] = False
        for _ in range(action_repeat):
            apply_action_arena(i, agent, actions, aim_noise, controls, arena, keys, actors)
            if use_player_actions:
                apply_action_arena(i, 0, player_actions, player_aim_noise, controls, arena, keys, actors)
            else:
                scripted_controls_arena(
                    i, 0, player_params, player_memory, controls, arena, keys, actors, bullets, pickups, rules
                )
            for e in range(enemy_params.shape[0]):
                scripted_controls_arena(
                    i,
                    agent + 1 + e,
                    enemy_params[e],
                    enemy_memory[e],
                    controls,
                    arena,
                    keys,
                    actors,
                    bullets,
                    pickups,
                    rules,
                )
            step_arena(i, controls, arena, keys, actors, bullets, pickups, friendlies, events, rules)
            agent_reward_arena(i, agent, weights, arena, actors, reward, done)
            if done[i]:
                break
        observe_arena(i, agent, difficulty, obs, arena, actors, bullets, pickups, rules)
