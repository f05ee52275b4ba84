"""Any registered Gymnasium environment as an :class:`~gameai.training.agents.environment.AgentEnvironment`.

``gameai train agent learn --env CartPole-v1 [--algo ...]`` trains on ``config.num_envs`` copies made by
``gymnasium.make_vec(id, vectorization_mode="sync")`` (``SAME_STEP`` autoreset, handed to
SB3 by :class:`~gameai.training.agents.vec_env.GymnasiumSB3VecEnv`). ``module:Id-v0``
imports ``module`` first (where the id is registered), as ``gymnasium.make`` does.

What it adds to the trainer: every ``eval_every`` env steps (and at the end) the greedy
policy plays ``eval_matches`` episodes on envs of its own, seeded the same every time, and
``eval/mean_return``, ``eval/std_return`` and ``eval/mean_length`` go to TensorBoard (when the
run normalises observations, through a frozen copy of the training VecNormalize's statistics,
with raw rewards). The exported actor has no difficulty input; its handicap replaces each
element of the served action by a random one with chance ``config.random_action`` at
difficulty 0, and the whole action by ``config.idle_action`` with chance ``config.freeze`` (both
scaled by 1 - difficulty). There is no step after export.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, unwrap_vec_normalize

from gameai.agents.actor import ActorConfig
from gameai.training.agents.callbacks import EvaluationCallback
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.environment import AgentEnvironment, RunInfo, TrainingCallbacks
from gameai.training.agents.export import ActorSpec, action_fields
from gameai.training.agents.normalization import evaluation_wrapper
from gameai.training.agents.vec_env import GymnasiumSB3VecEnv

EVAL_SEED = 10_000
"""Seed of the evaluation episodes (the same at every evaluation, so they compare like with like)."""
EVAL_ENVS = 8
"""Most envs the evaluation episodes are spread over."""


class UnknownEnvironmentError(ValueError):
    """``--env`` names no Gymnasium id (nor, as far as this module knows, anything else)."""

    def __init__(self, env: str, reason: str, names: str = "") -> None:
        registered = f"a registered name ({names}) nor " if names else ""
        super().__init__(f"--env {env}: neither {registered}a Gymnasium id ({reason})")
        self.env = env
        self.reason = reason


def gymnasium_id(env: str) -> str:
    """The registered id of ``env``.

    ``env`` is a registered id (``CartPole-v1``), ``module:Id-v0`` (``module`` registers the id when
    imported) or ``module:Class``, a ``gymnasium.Env`` subclass, registered here under the id
    ``module.Class`` so that ``gymnasium.make_vec`` makes it like any other.

    Raises:
        UnknownEnvironmentError: If no Gymnasium id ``env`` is registered (one line, for the command line).
        ValueError: If the module of ``module:...`` cannot be imported.
    """
    module, _, env_id = env.rpartition(":")
    if module:
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            raise ValueError(f"--env {env}: cannot import {module!r} ({exc})") from exc
        entry = getattr(imported, env_id, None)
        if isinstance(entry, type) and issubclass(entry, gym.Env):
            registered = f"{module}.{env_id}"
            if registered not in gym.registry:
                gym.register(id=registered, entry_point=f"{module}:{env_id}")
            return registered
    try:
        gym.spec(env_id)
    except gym.error.Error as exc:
        raise UnknownEnvironmentError(env, str(exc)) from exc
    return env_id


def make_sb3_vec_env(env_id: str, num_envs: int) -> VecEnv:
    """``num_envs`` copies of ``env_id`` in a sync vector env (``SAME_STEP`` autoreset), as an SB3 VecEnv."""
    vector = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
    )
    return GymnasiumSB3VecEnv(vector)


class ReturnEvalCallback(EvaluationCallback):
    """Plays ``episodes`` greedy episodes on envs of its own; logs their mean return and length.

    When the training envs are in a VecNormalize, the evaluation envs normalise observations
    with a copy of its current statistics (frozen, rewards left raw).

    Args:
        make_env: Makes the evaluation envs (an SB3 VecEnv; monitored here).
        episodes: Episodes per evaluation.
        every: Env steps between evaluations (also one at the end of training).
    """

    def __init__(self, make_env: Any, episodes: int, every: int) -> None:
        super().__init__(every)
        self.make_env = make_env
        self.episodes = episodes
        self._env: VecEnv | None = None

    def measure(self) -> tuple[dict[str, Any], dict[str, float]]:
        """Mean and spread of the episodes' returns, and their mean length."""
        if self._env is None:
            self._env = VecMonitor(self.make_env())
        env: VecEnv = self._env
        training_env = self.model.get_env()
        training = unwrap_vec_normalize(training_env) if training_env is not None else None
        if training is not None:
            env = evaluation_wrapper(self._env, training)
        env.seed(EVAL_SEED)
        returns, lengths = evaluate_policy(
            self.model,
            env,
            n_eval_episodes=self.episodes,
            deterministic=True,
            return_episode_rewards=True,
        )
        figures = {
            "mean_return": float(np.mean(returns)),
            "std_return": float(np.std(returns)),
            "mean_length": float(np.mean(lengths)),
        }
        return figures, figures

    def _on_training_end(self) -> None:
        super()._on_training_end()
        if self._env is not None:
            self._env.close()
            self._env = None


class GymnasiumEnvironment(AgentEnvironment):
    """Any registered Gymnasium id (``config.env``), vectorised by Gymnasium's sync vector env.

    Raises:
        ValueError: If ``config.env`` is not a registered Gymnasium id.
    """

    def __init__(self, config: AgentTrainConfig) -> None:
        super().__init__(config)
        self._env_id = gymnasium_id(config.env)

    @property
    def env_id(self) -> str:
        """The Gymnasium id (without a ``module:`` prefix)."""
        return self._env_id

    def make_vec_env(self, run: RunInfo) -> VecEnv:
        """``config.num_envs`` copies in one sync vector env."""
        assert self.config.num_envs is not None, "the trainer resolves num_envs"
        return make_sb3_vec_env(self._env_id, self.config.num_envs)

    def action_space(self) -> gym.spaces.Space[Any]:
        """The env's action space (one env made and closed)."""
        env = gym.make(gym.spec(self._env_id))
        try:
            return env.action_space
        finally:
            env.close()

    def callbacks(self, model: BaseAlgorithm, run: RunInfo) -> TrainingCallbacks:
        """The return of greedy episodes every ``eval_every`` env steps (none when 0)."""
        if self.config.eval_every <= 0 or self.config.eval_matches <= 0:
            return TrainingCallbacks()
        n = min(EVAL_ENVS, self.config.eval_matches)
        evaluation = ReturnEvalCallback(
            lambda: make_sb3_vec_env(self._env_id, n), self.config.eval_matches, self.config.eval_every
        )
        return TrainingCallbacks([evaluation], evaluation.history)

    def actor_spec(self) -> ActorSpec:
        """No difficulty input; the handicap ``config.random_action``, ``freeze`` and ``idle_action``.

        Raises:
            ValueError: If the agent would be exported under the arena agent's default name, or
                the handicap does not fit the env's actions (an idle action that is not one of them).
        """
        config = self.config
        if config.agent_name == AgentTrainConfig.agent_name:
            raise ValueError(
                f"name the {self._env_id} agent with --agent-name "
                f"(the default {AgentTrainConfig.agent_name!r} is the arena agent's)"
            )
        spec = ActorSpec(
            random_action=config.random_action, freeze=config.freeze, idle_action=config.idle_action
        )
        if spec.freeze > 0.0 or spec.idle_action is not None:
            # The actor's own checks, on the env's actions, before any training.
            ActorConfig(
                obs_dim=1,
                freeze=spec.freeze,
                idle_action=spec.idle_action,
                **action_fields(self.action_space()),
            )
        return spec

    def export_metadata(self) -> dict[str, Any]:
        """The env's spaces, and how a Discrete action is served."""
        spec = gym.spec(self._env_id)
        env = gym.make(spec)
        try:
            observation, action = str(env.observation_space), env.action_space
        finally:
            env.close()
        notes = {"observation": observation, "actions": str(action)}
        if isinstance(action, gym.spaces.Discrete):
            notes["actions"] += ": served as one branch, the action is action[0]"
        return notes
