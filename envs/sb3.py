"""The natively vectorised arena env as a Stable-Baselines3 ``VecEnv``.

SB3 trains on its own ``VecEnv`` interface, not on gymnasium's ``VectorEnv``. This
adapter adds no Python loop per arena except for arenas whose episode just ended
(their ``terminal_observation`` goes into that arena's info dict, as SB3 expects).

Example:
    >>> from stable_baselines3 import PPO
    >>> from stable_baselines3.common.vec_env import VecMonitor
    >>> venv = VecMonitor(ArenaSB3VecEnv(ArenaVectorEnv(num_envs=16)))
    >>> PPO("MlpPolicy", venv).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from envs.vector_env import ArenaVectorEnv


class ArenaSB3VecEnv(VecEnv):
    """Wraps an :class:`ArenaVectorEnv` (SAME_STEP autoreset) for Stable-Baselines3."""

    def __init__(self, env: ArenaVectorEnv) -> None:
        self.env = env
        self._actions: npt.NDArray[np.int64] | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> VecEnvObs:
        """Reset every arena (with the seeds given to :meth:`seed`, if any)."""
        seeds: Sequence[int | None] | None = self._seeds if any(s is not None for s in self._seeds) else None
        obs, _ = self.env.reset(seed=seeds)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions of the next :meth:`step_wait`."""
        self._actions = np.asarray(actions, dtype=np.int64)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every arena; ended episodes carry ``terminal_observation`` in their info."""
        if self._actions is None:
            raise RuntimeError("step_wait() called before step_async()")
        obs, rewards, terminated, truncated, infos = self.env.step(self._actions)
        dones = terminated | truncated
        info_list: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            final_info = infos.get("final_info", {})
            for i in np.flatnonzero(dones):
                info = {key: value[i] for key, value in final_info.items() if not key.startswith("_")}
                info["terminal_observation"] = infos["final_obs"][i]
                info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                info_list[i] = info
        return obs, rewards.astype(np.float32), dones, info_list

    def close(self) -> None:
        """Close the wrapped env."""
        self.env.close()

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Return the vector env's attribute once per index (the arenas share one env object)."""
        value = getattr(self.env, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the vector env (shared by every arena)."""
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of the vector env once and return its result per index."""
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """The arenas are never wrapped in gymnasium wrappers."""
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Frames of every arena (the vector env must have render_mode "rgb_array")."""
        frames: Iterable[np.ndarray] | None = self.env.render()
        return list(frames) if frames is not None else [None] * self.num_envs
