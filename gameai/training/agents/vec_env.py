"""SB3 ``VecEnv`` adapters of agent training.

* :class:`ConcatVecEnv`: several SB3 vector envs with the same spaces, trained on as one
  (e.g. scripted and self-play arenas). Each part keeps its own natively vectorised arenas
  (one compiled step per part and per env step); this only concatenates their observations,
  rewards, dones and infos.
* :class:`GymnasiumSB3VecEnv`: any Gymnasium ``VectorEnv`` with ``SAME_STEP`` autoreset
  (``gymnasium.make_vec(..., vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})``)
  as an SB3 ``VecEnv``.
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


def unbatch_info(infos: dict[str, Any], index: int) -> dict[str, Any]:
    """Env ``index``'s part of a Gymnasium vector env's info dict (each key ``k`` masked by ``_k``)."""
    info: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_"):
            continue
        mask = infos.get(f"_{key}")
        if mask is not None and not mask[index]:
            continue
        info[key] = unbatch_info(value, index) if isinstance(value, dict) else value[index]
    return info


class GymnasiumSB3VecEnv(VecEnv):
    """A Gymnasium ``VectorEnv`` with ``SAME_STEP`` autoreset, stepped as SB3 steps a ``VecEnv``.

    An env whose episode ended reports the info of its last step with ``terminal_observation``
    (and ``TimeLimit.truncated``), as SB3 expects; its reset info goes to ``reset_infos``.

    Args:
        env: The vector env (e.g. ``gymnasium.make_vec(id, n, vectorization_mode="sync", ...)``).

    Raises:
        ValueError: If its autoreset mode is not ``SAME_STEP``.
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        mode = env.metadata.get("autoreset_mode")
        if mode is not None and mode != gym.vector.AutoresetMode.SAME_STEP:
            raise ValueError(f"GymnasiumSB3VecEnv needs SAME_STEP autoreset, not {mode}")
        self.env = env
        self._actions: np.ndarray | None = None
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)

    def reset(self) -> VecEnvObs:
        """Reset every env (with the seeds given to :meth:`seed`, if any)."""
        seeds = self._seeds if any(seed is not None for seed in self._seeds) else None
        obs, infos = self._sync.reset(seed=seeds)  # sync and async envs take a seed per env
        self.reset_infos = [unbatch_info(infos, i) for i in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions of the next :meth:`step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every env; ended episodes carry ``terminal_observation`` in their info."""
        if self._actions is None:
            raise RuntimeError("step_wait() called before step_async()")
        obs, rewards, terminated, truncated, infos = self.env.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        info_list: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            if dones[i]:
                info = unbatch_info(infos.get("final_info", {}), i)
                info["terminal_observation"] = infos["final_obs"][i]
                info["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                self.reset_infos[i] = {
                    k: v for k, v in unbatch_info(infos, i).items() if k not in ("final_obs", "final_info")
                }
            else:
                info = unbatch_info(infos, i)
            info_list.append(info)
        return obs, np.asarray(rewards, dtype=np.float32), dones, info_list

    def close(self) -> None:
        """Close the vector env."""
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each indexed env."""
        values = self._sync.get_attr(attr_name)
        return [values[i] for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute of each indexed env (the others keep theirs)."""
        values = list(self._sync.get_attr(attr_name))
        for i in self._get_indices(indices):
            values[i] = value
        self._sync.set_attr(attr_name, values)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """Call a method of every env; return the results of the indexed ones."""
        results = self._sync.call(method_name, *method_args, **method_kwargs)
        return [results[i] for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether each indexed env (a sync vector env's) is wrapped in ``wrapper_class``."""
        envs = getattr(self.env, "envs", None)
        if envs is None:
            return [False for _ in self._get_indices(indices)]
        return [_is_wrapped(envs[i], wrapper_class) for i in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Frames of every env (the vector env must render ``rgb_array``)."""
        frames: Any = self.env.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    @property
    def _sync(self) -> Any:
        """The vector env, untyped: sync and async envs add ``get_attr``, ``set_attr``, ``call``."""
        return self.env


def _is_wrapped(env: gym.Env[Any, Any], wrapper_class: type[gym.Wrapper]) -> bool:
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper_class):
            return True
        env = env.env
    return False
