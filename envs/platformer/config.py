"""How ``gameai/Platformer-v0`` is set up, and how its goblin is rewarded."""

from __future__ import annotations

import dataclasses
from typing import Any

from demo_game.platformer.sim import NPC_DECISION_TICKS, LevelConfig, PlatformerRules
from demo_game.platformer.sim.styles import STYLES
from envs.config_overrides import with_overrides


@dataclasses.dataclass(frozen=True)
class PlatformerRewardConfig:
    """Weights of the goblin agent's reward terms."""

    hit: float = 1.0
    """Each time it touches the player (a hit that costs the player a heart)."""
    stomped: float = -1.0
    """When the player stomps it (its episode ends)."""
    fell: float = -1.0
    """When it falls into a pit (its episode ends)."""
    player_won: float = -0.5
    """When the player reaches the flag (the episode ends)."""
    step: float = -0.002
    """Every env step: a small push to get on with it."""
    approach: float = 2.0
    """Potential-based shaping: this weight times the change of ``-distance / 960`` to the
    player over the step (closing in pays, backing off costs the same; it cannot change which
    policy is best)."""


@dataclasses.dataclass(frozen=True)
class PlatformerEnvConfig:
    """How ``gameai/Platformer-v0`` is set up (keyword arguments of ``gymnasium.make`` map onto it)."""

    opponent_styles: tuple[str, ...] = tuple(STYLES)
    """Scripted styles the player is drawn from, one per episode."""
    opponent_skill: tuple[float, float] = (0.0, 1.0)
    """Range the player's skill is drawn from, uniformly, per episode."""
    episode_ticks: int = 600
    """Length of an episode, simulation ticks (600 = 20 s): the level's clock, shown in the observation."""
    action_repeat: int = NPC_DECISION_TICKS
    """Simulation ticks per env step (2: the goblin decides 15 times a second)."""
    n_scripted_goblins: int = 0
    """More goblins in the level, played by the scripted goblin (the agent is goblin 0)."""
    level: LevelConfig = dataclasses.field(
        default_factory=lambda: LevelConfig(screens=3.0, n_goblins=1, goblin_zone=(0.08, 0.3))
    )
    """How each episode's level is made (its n_goblins is replaced by 1 + n_scripted_goblins).
    By default the agent's home lies 300-1150 units ahead of the player's start."""
    reward: PlatformerRewardConfig = dataclasses.field(default_factory=PlatformerRewardConfig)
    """Weights of the reward terms."""
    rules: PlatformerRules = dataclasses.field(default_factory=PlatformerRules)
    """Game rules (its level_ticks is replaced by episode_ticks)."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.opponent_styles if s not in STYLES]
        if unknown or not self.opponent_styles:
            raise ValueError(f"opponent_styles must be a non-empty subset of {sorted(STYLES)}, got {unknown}")
        low, high = self.opponent_skill
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"opponent_skill must satisfy 0 <= low <= high <= 1, got {self.opponent_skill}")
        if self.episode_ticks < 1 or self.action_repeat < 1 or self.n_scripted_goblins < 0:
            raise ValueError("episode_ticks and action_repeat must be >= 1, n_scripted_goblins >= 0")

    @classmethod
    def from_kwargs(cls, config: PlatformerEnvConfig | None = None, **overrides: Any) -> PlatformerEnvConfig:
        """Return ``config`` (or the defaults) with fields replaced by ``overrides``.

        Raises:
            TypeError: If an override is not a field.
        """
        return with_overrides(
            config or cls(),
            overrides,
            env_name="platformer",
            tuples=("opponent_styles",),
            nested={"reward": PlatformerRewardConfig},
        )

    def game_rules(self) -> PlatformerRules:
        """The rules of the env's simulation: ``rules`` with the episode's clock."""
        return dataclasses.replace(self.rules, level_ticks=self.episode_ticks)

    def level_config(self) -> LevelConfig:
        """The level config of the env's episodes: ``level`` with the agent and the scripted goblins."""
        return dataclasses.replace(self.level, n_goblins=1 + self.n_scripted_goblins)
