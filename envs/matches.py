"""The engine behind both arena envs: N agent-versus-player matches stepped as one batch.

:class:`ArenaEnv` is this engine with N = 1 and :class:`ArenaVectorEnv` with N arenas,
so a vectorised env gives, arena by arena, exactly what single envs give on the same
seeds and actions: each arena owns a seeded ``np.random.Generator`` that is drawn from
only at reset (episode key, opponent style, skill), and every draw during a match is a
pure function of the episode key (:mod:`demo_game.sim.counter_rng`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from gymnasium.utils import seeding

from demo_game.sim import ArenaConfig, ArenaField, ArenaRules, ArenaSimulation, Outcome, key_from_generator
from demo_game.sim.actions import ActionHandicap, handicap_actions
from demo_game.sim.layouts import LAYOUT_NAMES
from demo_game.sim.observation import OBSERVATION_SIZE, observe
from demo_game.sim.rules import NPC_DECISION_TICKS
from demo_game.sim.styles import ENEMY_STYLE, N_MEMORY, N_PARAMS, STYLES, style_params
from envs.config_overrides import with_overrides
from envs.env_step import play_env_step
from envs.reward import RewardConfig

OpponentPolicy = Callable[[npt.NDArray[np.float32]], npt.ArrayLike]
"""Plays the player: (n, OBSERVATION_SIZE) player-view observations -> (n, 3) actions."""

AGENT: int = 1
"""The agent is enemy 1 (actor index 1); other enemies are scripted."""


@dataclasses.dataclass(frozen=True)
class ArenaEnvConfig:
    """How the arena envs are set up (keyword arguments of ``gymnasium.make`` map onto it)."""

    obs_type: Literal["vector", "pixels"] = "vector"
    """Vector features (:mod:`demo_game.sim.observation`) or uint8 frames of the arena."""
    n_enemies: int = 1
    """Enemies in the arena: the agent is enemy 1; the others play the scripted enemy style."""
    opponent_styles: tuple[str, ...] = tuple(STYLES)
    """Scripted styles the opponent is drawn from, one per episode (unused with an opponent policy)."""
    opponent_skill: tuple[float, float] = (0.0, 1.0)
    """Range the opponent's skill is drawn from, uniformly, per episode."""
    opponent_variation: tuple[float, float] = (0.0, 1.0)
    """Part of each style's parameter ranges the opponent is drawn from (see ``style_params``)."""
    difficulty: float = 1.0
    """Difficulty in [0, 1] shown to the agent in its observation (``DIFFICULTY``)."""
    difficulty_range: tuple[float, float] | None = None
    """Range each episode's difficulty is drawn from, uniformly, at reset (None: always ``difficulty``)."""
    handicap: ActionHandicap = dataclasses.field(default_factory=ActionHandicap)
    """How the difficulty spoils the agent's actions (none by default; see :class:`ActionHandicap`)."""
    aim_noise: float = 0.0
    """Standard deviation of the agent's aim error, radians."""
    match_ticks: int = 900
    """Length of a match, simulation ticks (900 = 30 s); the match then ends in a draw."""
    action_repeat: int = NPC_DECISION_TICKS
    """Simulation ticks per env step (2: the agent decides 15 times per game second)."""
    layout: int = -1
    """Wall layout index, or -1 for a random layout per episode."""
    frame_size: int = 84
    """Side of the square frames of pixel observations, pixels."""
    frame_stack: int = 1
    """Frames stacked along the channel axis in pixel observations (3 channels each)."""
    reward: RewardConfig = dataclasses.field(default_factory=RewardConfig)
    """Weights of the reward terms."""
    rules: ArenaRules = dataclasses.field(default_factory=ArenaRules)
    """Game rules (its match_ticks is replaced by this config's)."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.opponent_styles if s not in STYLES]
        if unknown or not self.opponent_styles:
            raise ValueError(f"opponent_styles must be a non-empty subset of {sorted(STYLES)}, got {unknown}")
        if self.obs_type not in ("vector", "pixels"):
            raise ValueError(f"obs_type must be 'vector' or 'pixels', got {self.obs_type!r}")
        if self.action_repeat < 1 or self.match_ticks < 1 or self.frame_stack < 1:
            raise ValueError("action_repeat, match_ticks and frame_stack must be >= 1")
        if not -1 <= self.layout < len(LAYOUT_NAMES):
            raise ValueError(f"layout must be -1 or in 0..{len(LAYOUT_NAMES) - 1}, got {self.layout}")
        if not 0.0 <= self.difficulty <= 1.0:
            raise ValueError(f"difficulty must be in [0, 1], got {self.difficulty}")
        if self.difficulty_range is not None:
            low, high = self.difficulty_range
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"difficulty_range must satisfy 0 <= low <= high <= 1, got {low, high}")
        if self.frame_size < 36:
            raise ValueError("frame_size must be >= 36 (stable-baselines3's CNNs need it)")

    @classmethod
    def from_kwargs(cls, config: ArenaEnvConfig | None = None, **overrides: Any) -> ArenaEnvConfig:
        """Return ``config`` (or the defaults) with fields replaced by ``overrides``.

        Raises:
            TypeError: If an override is not a field.
        """
        return with_overrides(
            config or cls(),
            overrides,
            env_name="arena",
            tuples=("opponent_styles",),
            nested={"handicap": ActionHandicap},
        )


class ArenaMatches:
    """N matches of the agent (enemy 1) against a scripted or given player.

    Calling order: :meth:`seed` (optional), :meth:`reset` of all arenas, then
    :meth:`step` and :meth:`reset` of the arenas whose episode ended, again and again.
    After each call :attr:`obs` holds every arena's observation.
    """

    def __init__(
        self, num_arenas: int, config: ArenaEnvConfig, opponent_policy: OpponentPolicy | None = None
    ) -> None:
        self.num_arenas = num_arenas
        self.config = config
        self.opponent_policy = opponent_policy
        rules = dataclasses.replace(config.rules, match_ticks=float(config.match_ticks))
        self.sim = ArenaSimulation(num_arenas, ArenaConfig(n_enemies=config.n_enemies, rules=rules))
        self.rngs: list[np.random.Generator] = [seeding.np_random()[0] for _ in range(num_arenas)]
        self.opponent_style = np.zeros(num_arenas, dtype=np.int64)
        """(N,) index into ``config.opponent_styles`` of each arena's scripted player."""
        self.opponent_skill = np.zeros(num_arenas)
        self._player_params = np.zeros((num_arenas, N_PARAMS))
        self._player_memory = np.zeros((num_arenas, N_MEMORY))
        self._enemy_params = np.zeros((config.n_enemies - 1, num_arenas, N_PARAMS))
        self._enemy_memory = np.zeros((config.n_enemies - 1, num_arenas, N_MEMORY))
        self._keys = np.zeros(num_arenas, dtype=np.uint64)
        self._layouts = np.full(num_arenas, config.layout, dtype=np.int64)
        self._weights = config.reward.as_array()
        self._difficulty = np.full(num_arenas, config.difficulty)
        self._handicap = config.handicap.as_array() if config.handicap.active else None
        self._played_actions = np.zeros((num_arenas, 3), dtype=np.int64)
        self._full_strength = np.ones(num_arenas)
        self._aim_noise = np.full(num_arenas, config.aim_noise)
        self._no_noise = np.zeros(num_arenas)
        self._player_obs = np.zeros((num_arenas, OBSERVATION_SIZE), dtype=np.float32)
        self._player_actions = np.zeros((num_arenas, 3), dtype=np.int64)
        self._all = np.ones(num_arenas, dtype=np.bool_)
        self.reward = np.zeros(num_arenas)
        """(N,) reward of the last step."""
        self.done = np.zeros(num_arenas, dtype=np.bool_)
        """(N,) whether the last step ended the arena's episode."""
        self.vector_obs = np.zeros((num_arenas, OBSERVATION_SIZE), dtype=np.float32)
        """(N, OBSERVATION_SIZE) the agent's vector observation."""
        self._renderer: Any = None
        self.frames: npt.NDArray[np.uint8] | None = None
        """(N, size, size, 3 * frame_stack) stacked frames, oldest first (pixel observations only)."""
        if config.obs_type == "pixels":
            from demo_game.render import ArenaRenderer  # pygame only where frames are wanted

            size = config.frame_size
            self._renderer = ArenaRenderer((size, size), rules=rules)
            self.frames = np.zeros((num_arenas, size, size, 3 * config.frame_stack), dtype=np.uint8)

    @property
    def obs(self) -> npt.NDArray[np.generic]:
        """(N, ...) the agent's observations: :attr:`vector_obs` or :attr:`frames`."""
        return self.vector_obs if self.frames is None else self.frames

    def seed(self, seeds: Sequence[int | None]) -> None:
        """Seed each arena's generator (None draws fresh entropy), as ``Env.reset(seed=...)`` does."""
        if len(seeds) != self.num_arenas:
            raise ValueError(f"expected {self.num_arenas} seeds, got {len(seeds)}")
        self.rngs = [seeding.np_random(seed)[0] for seed in seeds]

    def reset(self, mask: npt.NDArray[np.bool_] | None = None) -> None:
        """Start new episodes in the arenas of ``mask`` (all when None) and observe them."""
        mask = self._all if mask is None else mask
        config = self.config
        for i in np.flatnonzero(mask):
            rng = self.rngs[i]
            self._keys[i] = key_from_generator(rng)
            style = int(rng.integers(len(config.opponent_styles)))
            skill = float(rng.uniform(*config.opponent_skill))
            self.opponent_style[i] = style
            self.opponent_skill[i] = skill
            self._player_params[i] = style_params(
                config.opponent_styles[style], rng, skill=skill, variation=config.opponent_variation
            )
            for e in range(config.n_enemies - 1):
                self._enemy_params[e, i] = style_params(ENEMY_STYLE, rng)
            if config.difficulty_range is not None:
                self._difficulty[i] = rng.uniform(*config.difficulty_range)
        self.sim.reset(self._keys, mask, self._layouts)
        self._observe(mask, reset=True)

    @property
    def difficulty(self) -> npt.NDArray[np.float64]:
        """(N,) each arena's difficulty this episode (read only)."""
        view = self._difficulty.view()
        view.flags.writeable = False
        return view

    def step(self, actions: npt.NDArray[np.int64]) -> None:
        """Play one env step (``action_repeat`` ticks) in every arena.

        The config's :class:`~demo_game.sim.actions.ActionHandicap` spoils the agent's actions first,
        at each arena's difficulty. Afterwards :attr:`reward`, :attr:`done` and :attr:`obs`
        describe the step; an arena whose episode ended stays frozen until :meth:`reset`.
        """
        sim = self.sim
        s = sim.state
        actions = np.asarray(actions, dtype=np.int64)
        if self._handicap is not None:
            handicap_actions(
                AGENT, actions, self._difficulty, self._handicap, s.arena, s.keys, self._played_actions
            )
            actions = self._played_actions
        policy = self.opponent_policy
        use_policy = policy is not None
        if policy is not None:
            observe(
                0,
                self._full_strength,
                self._player_obs,
                s.arena,
                s.actors,
                s.bullets,
                s.pickups,
                sim.rules,
                self._all,
            )
            player_actions = np.asarray(policy(self._player_obs), dtype=np.int64)
            self._player_actions[:] = player_actions.reshape(self.num_arenas, 3)
        play_env_step(
            AGENT,
            actions,
            self._aim_noise,
            self._player_actions,
            self._no_noise,
            use_policy,
            self._player_params,
            self._player_memory,
            self._enemy_params,
            self._enemy_memory,
            self.config.action_repeat,
            self._weights,
            self._difficulty,
            sim.controls,
            s.arena,
            s.keys,
            s.actors,
            s.bullets,
            s.pickups,
            s.friendlies,
            s.events,
            sim.rules,
            self.reward,
            self.done,
            self.vector_obs,
        )
        if self.frames is not None:
            self._render_frames(self._all, reset=False)

    def _observe(self, mask: npt.NDArray[np.bool_], reset: bool) -> None:
        s = self.sim.state
        observe(
            AGENT,
            self._difficulty,
            self.vector_obs,
            s.arena,
            s.actors,
            s.bullets,
            s.pickups,
            self.sim.rules,
            mask,
        )
        if self.frames is not None:
            self._render_frames(mask, reset)

    def _render_frames(self, mask: npt.NDArray[np.bool_], reset: bool) -> None:
        """Render the arenas of ``mask`` and push the frames onto their stacks."""
        s = self.sim.state
        frames = self.frames
        assert frames is not None
        for i in np.flatnonzero(mask):
            frame = self._renderer.render(s, i)
            if reset:
                frames[i] = np.tile(frame, (1, 1, self.config.frame_stack))
            else:
                frames[i, :, :, :-3] = frames[i, :, :, 3:]
                frames[i, :, :, -3:] = frame

    def outcome_info(self, i: int) -> dict[str, Any]:
        """Describe how arena ``i``'s finished episode went (the ``info`` of its last step).

        ``outcome`` is the match's :class:`~demo_game.sim.Outcome` (from the player's side:
        2 = LOSS means the player died, i.e. the agent's side won).
        """
        s = self.sim.state
        return {
            "outcome": int(s.arena[i, ArenaField.OUTCOME]),
            "agent_won": bool(s.arena[i, ArenaField.OUTCOME] == Outcome.LOSS),
            "ticks": int(s.arena[i, ArenaField.TICK]),
            "opponent_style": self.config.opponent_styles[self.opponent_style[i]],
            "opponent_skill": float(self.opponent_skill[i]),
            "difficulty": float(self._difficulty[i]),
        }
