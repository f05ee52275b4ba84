"""Several SB3 vector envs with the same spaces, trained on as one (e.g. scripted and self-play arenas).

Each part keeps its own natively vectorised arenas (one compiled step per part and per
env step); this only concatenates their observations, rewards, dones and infos.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn


class ConcatVecEnv(VecEnv):
    """Envs ``0..n1-1`` are the first part's, ``n1..n1+n2-1`` the second's, and so on.

    Args:
        parts: VecEnvs with equal observation and action spaces (e.g. ``ArenaSB3VecEnv``).

    Raises:
        ValueError: If there are no parts or their spaces differ.
    """

    def __init__(self, parts: Sequence[VecEnv]) -> None:
        if not parts:
            raise ValueError("ConcatVecEnv needs at least one part")
        first = parts[0]
        for part in parts[1:]:
            if part.observation_space != first.observation_space or part.action_space != first.action_space:
                raise ValueError("every part must have the same observation and action spaces")
        self.parts = list(parts)
        bounds = np.cumsum([0] + [part.num_envs for part in self.parts])
        self._slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        super().__init__(int(bounds[-1]), first.observation_space, first.action_space)

    def reset(self) -> VecEnvObs:
        """Reset every part (passing on the seeds given to :meth:`seed`)."""
        for part, where in zip(self.parts, self._slices, strict=True):
            seeds = self._seeds[where]
            if any(seed is not None for seed in seeds):
                part._seeds = list(seeds)
        self._reset_seeds()
        self._reset_options()
        return np.concatenate([part.reset() for part in self.parts])

    def step_async(self, actions: np.ndarray) -> None:
        """Hand each part its rows of ``actions``."""
        for part, where in zip(self.parts, self._slices, strict=True):
            part.step_async(actions[where])

    def step_wait(self) -> VecEnvStepReturn:
        """Step every part and concatenate the results."""
        results = [part.step_wait() for part in self.parts]
        obs = np.concatenate([r[0] for r in results])
        rewards = np.concatenate([r[1] for r in results])
        dones = np.concatenate([r[2] for r in results])
        infos: list[dict[str, Any]] = [info for r in results for info in r[3]]
        return obs, rewards, dones, infos

    def close(self) -> None:
        """Close every part."""
        for part in self.parts:
            part.close()

    def _locate(self, indices: VecEnvIndices) -> list[tuple[VecEnv, int]]:
        located = []
        for index in self._get_indices(indices):
            for part, where in zip(self.parts, self._slices, strict=True):
                if where.start <= index < where.stop:
                    located.append((part, index - where.start))
        return located

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each indexed env, from the part holding it."""
        return [part.get_attr(attr_name, i)[0] for part, i in self._locate(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute of each indexed env in the part holding it."""
        for part, i in self._locate(indices):
            part.set_attr(attr_name, value, i)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of each indexed env in the part holding it."""
        return [
            part.env_method(method_name, *method_args, indices=i, **method_kwargs)[0]
            for part, i in self._locate(indices)
        ]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether each indexed env is wrapped, per its part."""
        return [part.env_is_wrapped(wrapper_class, i)[0] for part, i in self._locate(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Frames of every env, part after part."""
        return [image for part in self.parts for image in part.get_images()]
