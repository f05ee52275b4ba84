"""``gameai/Platformer-v0``: a goblin (the agent) hunts the player through a platformer level."""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from demo_game.platformer.sim import Control, Outcome, PlatformerConfig, PlatformerSimulation
from demo_game.platformer.sim.actions import ACTION_NVEC, goblin_controls
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.observation import OBSERVATION_SIZE, observe
from demo_game.platformer.sim.styles import ScriptedPlayer, style_params
from envs.platformer.config import PlatformerEnvConfig

AGENT: int = 0
"""The agent is goblin 0 (the nearest to the player's start); the others are scripted."""
_SHAPING_SCALE = 960.0


class PlatformerEnv(gym.Env[npt.NDArray[np.float32], npt.NDArray[np.int64]]):
    """A goblin NPC (the agent) tries to catch the player of a platformer level.

    Each episode makes a new level (3 screens wide by default) with the agent's home a
    few hundred units ahead of the player's start, and draws the player: a scripted style
    (:mod:`demo_game.platformer.sim.styles`) and a skill. The player runs its style (for
    the flag, gems, goblins...) and jumps on goblins it meets.

    Observation: :data:`~demo_game.platformer.sim.observation.OBSERVATION_SIZE` floats in
    [-1, 1] (its own motion, the player's relative position, motion and state, the ground
    around it, the nearest ledge above, the clock). Action: ``MultiDiscrete([3, 2])``, move
    and jump. Reward (:class:`~envs.platformer.config.PlatformerRewardConfig`): +1 per hit
    on the player, -1 when stomped or fallen, -0.5 when the player reaches the flag, a small
    cost per step and a potential-based pull towards the player. The episode ends when the
    agent dies, the player wins or loses its last heart, or the clock (``episode_ticks``,
    shown in the observation) runs out; all terminations, none a truncation. The info of the
    last step says how it went (``outcome``, ``agent_hits``...) and, Gymnasium's convention for a
    win, ``is_success``: the goblin hit the player at least once.

    Args:
        render_mode: None, "rgb_array" (``render_size`` frames) or "human" (a window).
        config: The env set-up; keyword arguments override its fields, e.g.
            ``gymnasium.make("gameai/Platformer-v0", opponent_styles=("idle",))``.
        render_size: (width, height) of rendered frames, pixels.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 15}

    def __init__(
        self,
        render_mode: str | None = None,
        config: PlatformerEnvConfig | None = None,
        render_size: tuple[int, int] = (640, 360),
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.config = PlatformerEnvConfig.from_kwargs(config, **overrides)
        self.render_mode = render_mode
        self.render_size = render_size
        self.rules = self.config.game_rules()
        self.sim = PlatformerSimulation(PlatformerConfig(rules=self.rules, level=self.config.level_config()))
        self.observation_space = spaces.Box(low=-1.0, high=1.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(np.array(ACTION_NVEC, dtype=np.int64))
        self.metadata = {
            **self.metadata,
            "render_fps": round(self.rules.tick_rate / self.config.action_repeat),
        }
        self.opponent_style = ""
        self.opponent_skill = 0.0
        self._player: ScriptedPlayer | None = None
        self._goblins: list[ScriptedGoblin] = []
        self._obs = np.zeros(OBSERVATION_SIZE, dtype=np.float32)
        self._distance = 0.0
        self._hits = 0
        self._renderer: Any = None
        self._window: Any = None
        self._clock: Any = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        """Start an episode: a new level, a new player; ``seed`` seeds the episode generator."""
        super().reset(seed=seed, options=options)
        rng, config = self.np_random, self.config
        level_seed = int(rng.integers(2**31 - 1))
        self.opponent_style = config.opponent_styles[int(rng.integers(len(config.opponent_styles)))]
        self.opponent_skill = float(rng.uniform(*config.opponent_skill))
        player_rng = np.random.default_rng(int(rng.integers(2**62)))
        self._player = ScriptedPlayer(
            style_params(self.opponent_style, player_rng, self.opponent_skill), player_rng
        )
        self._goblins = [
            ScriptedGoblin(np.random.default_rng(int(rng.integers(2**62))))
            for _ in range(config.n_scripted_goblins)
        ]
        self.sim.reset(level_seed, rng=np.random.default_rng(int(rng.integers(2**62))))
        self._distance = self._player_distance()
        self._hits = 0
        if self.render_mode == "human":
            self.render()
        return observe(self.sim.state, AGENT, self.rules, self._obs).copy(), {}

    def _player_distance(self) -> float:
        s = self.sim.state
        me, player = s.goblins[AGENT].body, s.player.body
        return min(math.hypot(player.x - me.x, player.y - me.y), _SHAPING_SCALE)

    def step(
        self, action: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float32], SupportsFloat, bool, bool, dict[str, Any]]:
        """Play ``action_repeat`` ticks with ``action`` (move, jump)."""
        if self._player is None:
            raise RuntimeError("call reset() before step()")
        move_x, jump = goblin_controls(action)
        sim, weights = self.sim, self.config.reward
        s = sim.state
        agent = s.goblins[AGENT]
        reward = weights.step
        terminated = False
        for _ in range(self.config.action_repeat):
            self._player(sim)
            sim.controls[1 + AGENT, Control.MOVE_X] = move_x
            sim.controls[1 + AGENT, Control.JUMP] = jump
            for i, goblin in enumerate(self._goblins):
                sim.controls[2 + AGENT + i] = goblin(sim, 1 + AGENT + i)
            sim.step()
            if agent.hit:
                reward += weights.hit
                self._hits += 1
            if agent.stomped:
                reward += weights.stomped
            if agent.fell:
                reward += weights.fell
            if s.outcome == Outcome.WIN:
                reward += weights.player_won
            if agent.stomped or agent.fell or s.done:
                terminated = True
                break
        distance = self._player_distance()
        reward += weights.approach * (self._distance - distance) / _SHAPING_SCALE
        self._distance = distance
        info = self._episode_info(agent.stomped, agent.fell) if terminated else {}
        if self.render_mode == "human":
            self.render()
        return observe(s, AGENT, self.rules, self._obs).copy(), float(reward), terminated, False, info

    def _episode_info(self, stomped: bool, fell: bool) -> dict[str, Any]:
        """How the episode went (the info of its last step)."""
        s = self.sim.state
        return {
            "outcome": int(s.outcome),
            "agent_hits": self._hits,
            "is_success": self._hits > 0,
            "agent_stomped": bool(stomped),
            "agent_fell": bool(fell),
            "ticks": int(s.tick),
            "opponent_style": self.opponent_style,
            "opponent_skill": self.opponent_skill,
        }

    def render(self) -> npt.NDArray[np.uint8] | None:
        """Draw the level around the player: a frame for "rgb_array", a window for "human"."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode to gymnasium.make")
            return None
        import pygame

        from demo_game.platformer.render import PlatformerRenderer

        if self._renderer is None:
            self._renderer = PlatformerRenderer(self.render_size)
        if self.render_mode == "rgb_array":
            return self._renderer.render(self.sim.state)
        if self._window is None:
            pygame.display.init()
            pygame.display.set_caption("gameai skyline")
            self._window = pygame.display.set_mode(self.render_size)
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._renderer.draw(self._window, self.sim.state)
        pygame.display.flip()
        self._clock.tick(self.metadata["render_fps"])
        return None

    def close(self) -> None:
        """Close the window, if any."""
        if self._window is not None:
            import pygame

            pygame.display.quit()
            self._window = None
