"""The one interface ``gameai train agent`` trains through.

:mod:`~gameai.training.agents.train` knows the algorithms, their hyperparameters,
checkpoints, resuming, TensorBoard and the export to the served format; everything it
knows about *what* it trains on comes from an :class:`AgentEnvironment`, made for the run by
:func:`~gameai.training.agents.environments.environment_for` (the registry of named
environments, :mod:`~gameai.training.agents.environments`).

An environment is made from the run's config, one instance per run, so it may hold what the
run's parts share (the arena's self-play pool feeds its envs and its callbacks).

Example, a new named environment::

    class MyGame(AgentEnvironment):
        @property
        def env_id(self) -> str:
            return "mygame/Duel-v0"

        def make_vec_env(self, run: RunInfo) -> VecEnv:
            return DummyVecEnv([make_duel for _ in range(self.config.num_envs)])

    register_environment("duel", MyGame)  # gameai train agent --env duel (environments.py)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gymnasium import spaces

from gameai.training.agents.export import ActorSpec

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv

    from gameai.training.agents.config import AgentTrainConfig


@dataclass(frozen=True)
class RunInfo:
    """Where the run stands when the environment builds its parts."""

    directory: Path
    """The experiment's checkpoint folder (the environment may keep its own files there)."""
    start_step: int
    """Env steps already trained: 0 for a fresh run, the checkpoint's count on resume."""
    resumed: bool
    """Whether the run continues from a checkpoint."""


@dataclass(frozen=True)
class PolicySpec:
    """The SB3 policy the environment wants."""

    policy: str
    """SB3 policy name: ``MlpPolicy``, ``CnnPolicy`` or ``MultiInputPolicy``."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """``policy_kwargs`` (features extractor...); the hyperparameters' ``policy_kwargs`` go over them."""


@dataclass
class TrainingCallbacks:
    """The environment's callbacks of a run and where its evaluations land."""

    callbacks: list[BaseCallback] = field(default_factory=list)
    """Run after the checkpoint callback, in this order."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Evaluation records, filled while training (``learn`` returns them)."""


class AgentEnvironment(ABC):
    """What ``gameai train agent`` trains on.

    Two methods are required (:attr:`env_id`, :meth:`make_vec_env`); the others have
    defaults fit for a flat observation and no difficulty input.

    Args:
        config: The run's options, its hyperparameters resolved (``num_envs``, ``total_timesteps``,
            ``hidden_sizes`` are set); the algorithm's fields are the trainer's, the environment
            reads the others.
    """

    algorithms: tuple[str, ...] | None = None
    """The ``--algo`` values it trains with (None: any whose action space fits)."""
    normalizable: bool = True
    """Whether a VecNormalize may go around its envs (False where its callbacks read raw observations)."""

    def __init__(self, config: AgentTrainConfig) -> None:
        self.config = config

    @property
    @abstractmethod
    def env_id(self) -> str:
        """The Gymnasium id trained on; its last part names runs and checkpoints (``Arena-v0__exp__1``)."""

    @abstractmethod
    def make_vec_env(self, run: RunInfo) -> VecEnv:
        """The training envs: ``config.num_envs`` of them in one SB3 VecEnv (train seeds and monitors it)."""

    def action_space(self) -> spaces.Space[Any] | None:
        """The action space, known before any env is made (to refuse an algorithm that does not fit
        before any work); None: learnt from the vector env."""
        return None

    def policy(self, observation_space: spaces.Space[Any]) -> PolicySpec:
        """The SB3 policy: by default an MLP (its layers from the hyperparameters' ``net_arch``).

        Image observations get SB3's ``CnnPolicy`` and dict observations its ``MultiInputPolicy``.
        """
        from stable_baselines3.common.preprocessing import is_image_space

        if isinstance(observation_space, spaces.Dict):
            return PolicySpec("MultiInputPolicy")
        if is_image_space(observation_space):
            return PolicySpec("CnnPolicy")
        return PolicySpec("MlpPolicy")

    def callbacks(self, model: BaseAlgorithm, run: RunInfo) -> TrainingCallbacks:
        """Callbacks of the run besides checkpoints (outcome rates, evaluation...); by default none."""
        return TrainingCallbacks()

    def actor_spec(self) -> ActorSpec:
        """What the exported actor needs beyond the policy's shapes: by default no difficulty input.

        Raises:
            ValueError: If this run's agent cannot be served (checked before training when exporting).
        """
        return ActorSpec()

    def export_metadata(self) -> dict[str, Any]:
        """Free-form notes kept in ``actor.json`` (what the observation and the actions are)."""
        return {}

    def after_export(self, directory: Path) -> dict[str, Any] | None:
        """Steps after export (step ``rate``; the arena's Elo table); None: this environment has none."""
        return None
