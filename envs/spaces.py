"""Observation and action spaces of the arena envs."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from demo_game.sim.actions import ACTION_NVEC
from demo_game.sim.observation import OBSERVATION_SIZE
from envs.matches import ArenaEnvConfig


def observation_space(config: ArenaEnvConfig) -> spaces.Box:
    """The agent's observation space: features in [-1, 1], or uint8 frames (H, W, 3 x stack)."""
    if config.obs_type == "pixels":
        shape = (config.frame_size, config.frame_size, 3 * config.frame_stack)
        return spaces.Box(low=0, high=255, shape=shape, dtype=np.uint8)
    return spaces.Box(low=-1.0, high=1.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)


def action_space() -> spaces.MultiDiscrete:
    """The agent's action space: move (9), fire (4), dash (2); see :mod:`demo_game.sim.actions`."""
    return spaces.MultiDiscrete(np.array(ACTION_NVEC, dtype=np.int64))
