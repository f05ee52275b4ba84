"""The arena as an :class:`~gameai.training.agents.environment.AgentEnvironment`: the shipped agent.

Everything ``gameai train agent`` does that is about the arena lives here:

* the training arenas (:func:`arena_split`): scripted players at full strength, scripted
  players at a difficulty d drawn per episode (the agent sees d; its actions are spoiled by
  the handicap at d), and self-play arenas whose player is a frozen earlier checkpoint (the
  pool, :class:`~gameai.training.agents.opponents.FrozenPolicyPool`, saved under the
  checkpoint folder and restored on resume), natively vectorised and concatenated
  (:class:`~gameai.training.agents.vec_env.ConcatVecEnv`);
* the MLP policy (vector observations) or the arena CNN (``--obs-type pixels``);
* its callbacks: match outcome rates, self-play snapshots, evaluation against the reference;
* the served actor's difficulty input (``DIFFICULTY``, 40) and handicap; the Elo table after export.

With :mod:`~gameai.training.agents.matches`, :mod:`~gameai.training.agents.opponents` and
:mod:`~gameai.training.agents.rating` it is the only part of agent training that imports
``envs`` or ``demo_game``.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import shutil
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv

from demo_game.sim.actions import ActionHandicap
from demo_game.sim.observation import ObservationField
from envs.matches import ArenaEnvConfig
from envs.sb3 import ArenaSB3VecEnv
from envs.vector_env import ArenaVectorEnv
from gameai.agents.actor import ActorNet, load_actor, save_actor
from gameai.model_files import ModelLoadError
from gameai.training.agents.callbacks import EvaluationCallback, Every
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.environment import (
    AgentEnvironment,
    PolicySpec,
    RunInfo,
    TrainingCallbacks,
)
from gameai.training.agents.export import ActorSpec, actor_from_policy
from gameai.training.agents.features import ArenaCNN
from gameai.training.agents.matches import Opponent, play_matches
from gameai.training.agents.opponents import FrozenPolicyPool
from gameai.training.agents.rating import rate_agent
from gameai.training.agents.vec_env import ConcatVecEnv

logger = logging.getLogger(__name__)

ActorFromModel = Callable[[], ActorNet]
"""Returns the current policy as a served actor (:func:`gameai.training.agents.export.actor_from_policy`)."""


def handicap_of(config: AgentTrainConfig) -> ActionHandicap:
    """The handicap the agent trains (and is served) with."""
    return ActionHandicap(
        hold_fire=config.hold_fire, scramble_aim=config.scramble_aim, slip_move=config.slip_move
    )


def arena_actor_spec(handicap: ActionHandicap | None = None) -> ActorSpec:
    """The served arena actor: the difficulty goes into ``DIFFICULTY``; ``handicap`` spoils its actions."""
    handicap = handicap or ActionHandicap()
    return ActorSpec(
        difficulty_index=int(ObservationField.DIFFICULTY),
        hold_fire=handicap.hold_fire,
        scramble_aim=handicap.scramble_aim,
        slip_move=handicap.slip_move,
    )


def env_config_of(config: AgentTrainConfig, handicapped: bool = True) -> ArenaEnvConfig:
    """The arenas the agent trains in: d drawn per episode (``handicapped``), or d = 1."""
    return ArenaEnvConfig(
        obs_type=config.obs_type,
        opponent_styles=config.opponent_styles,
        opponent_skill=config.opponent_skill,
        difficulty=1.0,
        difficulty_range=config.difficulty_range if handicapped else None,
        handicap=handicap_of(config),
        match_ticks=config.match_ticks,
        frame_stack=config.frame_stack,
    )


def arena_split(config: AgentTrainConfig) -> tuple[int, int, int]:
    """Arenas of each part: (scripted at d = 1, scripted at a drawn d, self-play at d = 1).

    Pixel runs have no self-play arenas (the pool's members read vector observations).
    """
    num_envs = config.num_envs
    assert num_envs is not None, "the trainer resolves num_envs from the hyperparameters"
    n_self = 0
    if config.obs_type == "vector" and config.self_play_fraction > 0:
        n_self = max(1, round(num_envs * config.self_play_fraction))
    n_weak = round(num_envs * config.handicapped_fraction)
    n_full = num_envs - n_self - n_weak
    if n_full < 0 or (n_full == 0 and n_weak == 0):
        raise ValueError("self_play_fraction + handicapped_fraction must leave room for scripted arenas")
    return n_full, n_weak, n_self


def restore_pool(pool: FrozenPolicyPool, pool_dir: Path, size: int) -> None:
    """Put a killed run's last ``size`` self-play snapshots back into ``pool``.

    A snapshot that does not load (a run of an older version killed while writing it) is
    skipped with a warning.
    """
    members = sorted(p for p in pool_dir.iterdir() if p.is_dir() and p.name.isdigit())
    newest: list[tuple[str, Any]] = []
    for member in reversed(members):
        if len(newest) == size:
            break
        try:
            newest.append((member.name, load_actor(member).net))
        except ModelLoadError as exc:
            logger.warning("self-play snapshot %s skipped: %s", member.name, exc)
    for label, net in reversed(newest):  # oldest first, as the run added them
        pool.add(net, label)


class MatchOutcomeCallback(BaseCallback):
    """Logs ``charts/win_rate``, ``charts/draw_rate`` (and the self-play arenas' win rate) per rollout.

    Args:
        self_play_from: Index of the first self-play arena (arenas from there on are reported
            apart); None when there are none.
        window: Finished matches the rates are averaged over.
    """

    def __init__(self, self_play_from: int | None = None, window: int = 200) -> None:
        super().__init__()
        self.self_play_from = self_play_from
        self.scripted: deque[int] = deque(maxlen=window)
        self.self_play: deque[int] = deque(maxlen=window)

    def _on_step(self) -> bool:
        dones = self.locals["dones"]
        if dones.any():
            infos = self.locals["infos"]
            for i in np.flatnonzero(dones):
                info = infos[i]
                if "outcome" not in info:
                    continue
                outcome = 1 if info["agent_won"] else (0 if info["outcome"] == 3 else -1)
                is_self_play = self.self_play_from is not None and i >= self.self_play_from
                (self.self_play if is_self_play else self.scripted).append(outcome)
        return True

    def _on_rollout_end(self) -> None:
        if self.scripted:
            outcomes = np.asarray(self.scripted)
            self.logger.record("charts/win_rate", float((outcomes == 1).mean()))
            self.logger.record("charts/draw_rate", float((outcomes == 0).mean()))
        if self.self_play:
            self.logger.record("charts/self_play_win_rate", float((np.asarray(self.self_play) == 1).mean()))


class SelfPlayCallback(BaseCallback):
    """Adds a frozen copy of the policy to the self-play pool every ``every`` env steps.

    The pool gets the current policy at the start of training (when empty), so self-play
    arenas have a player from the first step. Each member is also written to
    ``directory/<step>/`` (``actor.safetensors`` + ``actor.json``) so a resumed run gets its pool back.

    Args:
        pool: The pool the self-play arenas' player comes from.
        actor_from_model: Converts the current policy.
        every: Env steps between snapshots.
        directory: Where members are saved.
    """

    def __init__(
        self, pool: FrozenPolicyPool, actor_from_model: ActorFromModel, every: int, directory: Path
    ) -> None:
        super().__init__()
        self.pool = pool
        self.actor_from_model = actor_from_model
        self.every = every
        self.directory = directory
        self._schedule: Every | None = None

    def _on_training_start(self) -> None:
        self._schedule = Every(self.every, self.model.num_timesteps)
        if not self.pool.members:
            self._snapshot(self.model.num_timesteps)

    def _on_rollout_start(self) -> None:
        assert self._schedule is not None
        step = self.model.num_timesteps
        if self._schedule.due(step):
            self._snapshot(step)

    def _snapshot(self, step: int) -> None:
        actor = self.actor_from_model()
        label = f"{step:012d}"
        # Written aside and renamed into place, so a run killed mid-write leaves no member
        # without its actor.json for the resumed run to trip on.
        staging = self.directory / f".{label}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        save_actor(staging, actor, {"timesteps": step})
        final = self.directory / label
        shutil.rmtree(final, ignore_errors=True)  # a resumed run snapshots a step it did before
        os.replace(staging, final)
        self.pool.add(actor, label)
        self.logger.record("charts/self_play_pool_size", len(self.pool.members))

    def _on_step(self) -> bool:
        return True


class ArenaEvalCallback(EvaluationCallback):
    """Plays the current policy against the reference opponent at several difficulties.

    Logs ``eval/win_rate_d{d}`` and ``eval/score_d{d}`` per level, and ``eval/monotone``
    (1 when the win rate never drops as d rises); keeps every evaluation in :attr:`history`.

    Args:
        actor_from_model: Converts the current policy.
        reference: The fixed opponent.
        difficulties: Levels played.
        matches: Matches per level.
        every: Env steps between evaluations (also one at the end of training).
        seed: Seed of the matches (the same every time, so evaluations compare like with like).
        match_ticks: Match length, ticks.
        on_result: Called with each evaluation's record (e.g. to stop at a goal).
    """

    def __init__(
        self,
        actor_from_model: ActorFromModel,
        reference: Opponent,
        difficulties: Sequence[float],
        matches: int,
        every: int,
        seed: int = 10_000,
        match_ticks: int = 900,
        on_result: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        super().__init__(every, on_result)
        self.actor_from_model = actor_from_model
        self.reference = reference
        self.difficulties = tuple(difficulties)
        self.matches = matches
        self.seed = seed
        self.match_ticks = match_ticks

    def measure(self) -> tuple[dict[str, Any], dict[str, float]]:
        """Win rate and score per level against the reference, and whether the win rate rises."""
        actor = self.actor_from_model()
        tallies = play_matches(
            actor, self.reference, self.difficulties, self.matches, self.seed, self.match_ticks
        )
        win_rates = [t.win_rate for t in tallies]
        monotone = bool(all(b >= a for a, b in itertools.pairwise(win_rates)))
        fields: dict[str, Any] = {
            "win_rate": dict(zip(self.difficulties, win_rates, strict=True)),
            "score": {d: t.score for d, t in zip(self.difficulties, tallies, strict=True)},
            "monotone": monotone,
        }
        scalars: dict[str, float] = {}
        for d, tally in zip(self.difficulties, tallies, strict=True):
            scalars[f"win_rate_d{d:.2f}"] = tally.win_rate
            scalars[f"score_d{d:.2f}"] = tally.score
        scalars["monotone"] = float(monotone)
        return fields, scalars


class ArenaEnvironment(AgentEnvironment):
    """The arena (``--env arena``, the default): ``gameai/Arena-v0``, or ``gameai/ArenaPixels-v0``.

    PPO only (its self-play pool and evaluation read an actor-critic policy), without VecNormalize.
    """

    algorithms = ("ppo",)
    normalizable = False

    def __init__(self, config: AgentTrainConfig) -> None:
        super().__init__(config)
        self.pool: FrozenPolicyPool | None = None
        """The run's self-play pool (made by :meth:`make_vec_env`)."""

    @property
    def env_id(self) -> str:
        """``gameai/Arena-v0`` (vector observations) or ``gameai/ArenaPixels-v0``."""
        return "gameai/Arena-v0" if self.config.obs_type == "vector" else "gameai/ArenaPixels-v0"

    def make_vec_env(self, run: RunInfo) -> VecEnv:
        """The arenas of :func:`arena_split`, in that order; on resume the pool gets its snapshots back."""
        config = self.config
        self.pool = FrozenPolicyPool(
            config.self_play_pool_size, np.random.default_rng([config.seed, run.start_step])
        )
        n_full, n_weak, n_self = arena_split(config)
        parts: list[VecEnv] = []
        if n_full:
            parts.append(
                ArenaSB3VecEnv(ArenaVectorEnv(n_full, config=env_config_of(config, handicapped=False)))
            )
        if n_weak:
            parts.append(
                ArenaSB3VecEnv(ArenaVectorEnv(n_weak, config=env_config_of(config, handicapped=True)))
            )
        if n_self:
            full = env_config_of(config, handicapped=False)
            parts.append(ArenaSB3VecEnv(ArenaVectorEnv(n_self, config=full, opponent_policy=self.pool)))
            pool_dir = run.directory / "pool"
            if run.resumed and pool_dir.is_dir():
                restore_pool(self.pool, pool_dir, config.self_play_pool_size)
        return ConcatVecEnv(parts) if len(parts) > 1 else parts[0]

    def policy(self, observation_space: spaces.Space[Any]) -> PolicySpec:
        """An MLP over the vector observation, or :class:`ArenaCNN` then the MLPs over pixels."""
        hidden = list(self.config.hidden_sizes or ())  # resolved from the hyperparameters
        net_arch = {"pi": hidden, "vf": hidden}
        if self.config.obs_type == "vector":
            return PolicySpec("MlpPolicy", {"net_arch": net_arch})
        return PolicySpec(
            "CnnPolicy",
            {
                "net_arch": net_arch,
                "features_extractor_class": ArenaCNN,
                "features_extractor_kwargs": {"features_dim": self.config.cnn_features},
            },
        )

    def callbacks(self, model: BaseAlgorithm, run: RunInfo) -> TrainingCallbacks:
        """Match outcomes; self-play snapshots (self-play arenas); evaluation (vector, ``eval_every`` > 0)."""
        config = self.config
        n_full, n_weak, n_self = arena_split(config)
        spec = arena_actor_spec(handicap_of(config))

        def current_actor() -> ActorNet:
            assert isinstance(model.policy, ActorCriticPolicy)
            return actor_from_policy(model.policy, spec)

        hooks = TrainingCallbacks([MatchOutcomeCallback(self_play_from=n_full + n_weak if n_self else None)])
        if n_self:
            assert self.pool is not None, "make_vec_env makes the pool"
            hooks.callbacks.append(
                SelfPlayCallback(self.pool, current_actor, config.self_play_every, run.directory / "pool")
            )
        if config.obs_type == "vector" and config.eval_every > 0:
            reference = Opponent(config.reference_style, config.reference_skill)
            evaluation = ArenaEvalCallback(
                current_actor, reference, config.eval_difficulties, config.eval_matches, config.eval_every,
                match_ticks=config.match_ticks,
            )  # fmt: skip
            hooks.callbacks.append(evaluation)
            hooks.history = evaluation.history
        return hooks

    def actor_spec(self) -> ActorSpec:
        """Difficulty at ``DIFFICULTY`` (40) and the served handicap; only the vector agent is served."""
        if self.config.obs_type != "vector":
            raise ValueError("only the vector agent is served (the pixel CNN stays a training checkpoint)")
        hold_fire, scramble_aim, slip_move, freeze = self.config.served_handicap
        handicap = ActionHandicap(hold_fire=hold_fire, scramble_aim=scramble_aim, slip_move=slip_move)
        return dataclasses.replace(arena_actor_spec(handicap), freeze=freeze)

    def export_metadata(self) -> dict[str, Any]:
        """What the arena actor reads and plays."""
        return {
            "observation": "demo_game.sim.observation.ObservationField (44 floats in [-1, 1]); "
            "DIFFICULTY (40) is overwritten",
            "actions": "demo_game.sim.actions: move (9), fire (4: hold, lead -0.2/0/+0.2 rad), dash (2)",
        }

    def after_export(self, directory: Path) -> dict[str, Any] | None:
        """The Elo table of the agent's levels and the scripted enemy (``ratings.json``, ``ratings.md``)."""
        return rate_agent(directory, self.config)
