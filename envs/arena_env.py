"""``gameai/Arena-v0`` and ``gameai/ArenaPixels-v0``: one enemy NPC's view of one arena."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from envs.matches import ArenaEnvConfig, ArenaMatches, OpponentPolicy
from envs.spaces import action_space, observation_space


class ArenaEnv(gym.Env[npt.NDArray[Any], npt.NDArray[np.int64]]):
    """An enemy NPC (the agent) fights the player in the arena.

    The player is a scripted style drawn per episode (or ``opponent_policy``); the agent
    is rewarded for damage dealt and for winning, penalised for damage taken and for
    dying (:class:`~envs.reward.RewardConfig`). The episode ends when the match ends
    or the agent dies; the match's time limit is a rule of the game, shown in the
    observation (``TIME_LEFT``), so reaching it is a termination, not a truncation.

    Args:
        render_mode: None, "rgb_array" (returns ``render_size`` frames) or "human" (a window).
        config: The env set-up; keyword arguments override its fields, e.g.
            ``gymnasium.make("gameai/Arena-v0", opponent_styles=("aggressive",))``.
        opponent_policy: Plays the player instead of a scripted style: maps (n, 44)
            player-view observations to (n, 3) actions.
        render_size: (width, height) of rendered frames, pixels.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 15}

    def __init__(
        self,
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
        self.render_mode = render_mode
        self.render_size = render_size
        self.matches = ArenaMatches(1, self.config, opponent_policy)
        self.observation_space = observation_space(self.config)
        self.action_space = action_space()
        self.metadata = {
            **self.metadata,
            "render_fps": round(self.config.rules.tick_rate / self.config.action_repeat),
        }
        self._actions = np.zeros((1, 3), dtype=np.int64)
        self._renderer: Any = None
        self._window: Any = None
        self._clock: Any = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[Any], dict[str, Any]]:
        """Start a new match; ``seed`` seeds the episode generator (opponent, layout, spawns)."""
        super().reset(seed=seed, options=options)
        self.matches.rngs[0] = self.np_random
        self.matches.reset()
        if self.render_mode == "human":
            self.render()
        return self.matches.obs[0].copy(), {}

    def step(
        self, action: npt.ArrayLike
    ) -> tuple[npt.NDArray[Any], SupportsFloat, bool, bool, dict[str, Any]]:
        """Play ``action_repeat`` ticks with ``action`` (move, fire, dash)."""
        self._actions[0] = action
        matches = self.matches
        matches.step(self._actions)
        terminated = bool(matches.done[0])
        info = matches.outcome_info(0) if terminated else {}
        if self.render_mode == "human":
            self.render()
        return matches.obs[0].copy(), float(matches.reward[0]), terminated, False, info

    def render(self) -> npt.NDArray[np.uint8] | None:
        """Draw the arena: a frame for "rgb_array", a window for "human"."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode to gymnasium.make")
            return None
        import pygame

        from demo_game.render import ArenaRenderer

        if self._renderer is None:
            self._renderer = ArenaRenderer(self.render_size, rules=self.matches.sim.config.rules)
        if self.render_mode == "rgb_array":
            return self._renderer.render(self.matches.sim.state, 0)
        if self._window is None:
            pygame.display.init()
            pygame.display.set_caption("gameai arena")
            self._window = pygame.display.set_mode(self.render_size)
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._renderer.draw(self._window, self.matches.sim.state, 0)
        pygame.display.flip()
        self._clock.tick(self.metadata["render_fps"])
        return None

    def close(self) -> None:
        """Close the window, if any."""
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None
