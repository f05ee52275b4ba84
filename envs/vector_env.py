"""The natively vectorised arena env: N arenas stepped by one compiled call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from envs.matches import ArenaEnvConfig, ArenaMatches, OpponentPolicy
from envs.spaces import action_space, observation_space


class ArenaVectorEnv(VectorEnv[npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[Any]]):
    """N arenas of ``gameai/Arena-v0`` (or ``ArenaPixels-v0``) with no Python loop per arena.

    Autoreset is ``SAME_STEP`` (declared in ``metadata["autoreset_mode"]``): when an
    arena's episode ends, ``step`` returns the first observation of its next episode,
    with the last one in ``infos["final_obs"]`` and the episode summary in
    ``infos["final_info"]``, exactly as ``SyncVectorEnv(autoreset_mode=SAME_STEP)``
    over single envs does. Arena i with seed ``s + i`` matches a single env with seed
    ``s + i`` step for step.

    Args:
        num_envs: N, the number of arenas.
        render_mode: None or "rgb_array" (``render`` returns one frame per arena).
        config: The env set-up; keyword arguments override its fields.
        opponent_policy: Plays the player in every arena (see :class:`~envs.arena_env.ArenaEnv`).
        render_size: (width, height) of rendered frames, pixels.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(
        self,
        num_envs: int,
        render_mode: str | None = None,
        config: ArenaEnvConfig | None = None,
        opponent_policy: OpponentPolicy | None = None,
        render_size: tuple[int, int] = (640, 480),
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.config = ArenaEnvConfig.from_kwargs(config, **overrides)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.render_size = render_size
        self.matches = ArenaMatches(num_envs, self.config, opponent_policy)
        self.single_observation_space = observation_space(self.config)
        self.single_action_space = action_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.metadata = {
            **self.metadata,
            "render_fps": round(self.config.rules.tick_rate / self.config.action_repeat),
        }
        self._truncated = np.zeros(num_envs, dtype=np.bool_)
        self._renderer: Any = None

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[Any], dict[str, Any]]:
        """Start new matches in every arena.

        Args:
            seed: An int seeds arena i with ``seed + i``; a sequence gives each arena's seed;
                None keeps the arenas' generators (fresh entropy on the first reset).
            options: Unused.
        """
        super().reset(seed=seed if isinstance(seed, int) else None, options=options)
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            self.matches.seed(seeds)
        self.matches.reset()
        return self.matches.obs.copy(), {}

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[
        npt.NDArray[Any],
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        dict[str, Any],
    ]:
        """Step every arena; arenas whose episode ended are reset in the same step."""
        matches = self.matches
        matches.step(np.asarray(actions, dtype=np.int64).reshape(self.num_envs, 3))
        terminated = matches.done.copy()
        rewards = matches.reward.copy()
        infos: dict[str, Any] = {}
        if terminated.any():
            infos = self._final_infos(np.flatnonzero(terminated))
            matches.reset(terminated)
        return matches.obs.copy(), rewards, terminated, self._truncated.copy(), infos

    def _final_infos(self, ended: npt.NDArray[np.intp]) -> dict[str, Any]:
        """The infos of a step in which the arenas ``ended`` finished their episodes.

        The same arrays, masks and key order as gymnasium's ``VectorEnv._add_info`` builds
        arena by arena (what ``SyncVectorEnv`` returns), built a key at a time instead.
        """
        n = self.num_envs
        mask = np.zeros(n, dtype=np.bool_)
        mask[ended] = True
        final_obs = np.full(n, None, dtype=object)
        for i in ended:
            final_obs[i] = self.matches.obs[i].copy()
        summaries = [self.matches.outcome_info(int(i)) for i in ended]
        final_info: dict[str, Any] = {}
        for key, first in summaries[0].items():
            if type(first) in (int, float, bool):
                values: npt.NDArray[Any] = np.zeros(n, dtype=type(first))
            else:
                values = np.full(n, None, dtype=object)
            values[ended] = [summary[key] for summary in summaries]
            final_info[key] = values
            final_info[f"_{key}"] = mask.copy()
        return {
            "final_obs": final_obs,
            "_final_obs": mask.copy(),
            "final_info": final_info,
            "_final_info": mask,
        }

    def render(self) -> tuple[npt.NDArray[np.uint8], ...] | None:
        """Return one ``render_size`` frame per arena (render_mode "rgb_array")."""
        if self.render_mode is None:
            return None
        from demo_game.render import ArenaRenderer

        if self._renderer is None:
            self._renderer = ArenaRenderer(self.render_size, rules=self.matches.sim.config.rules)
        state = self.matches.sim.state
        return tuple(self._renderer.render(state, i) for i in range(self.num_envs))
