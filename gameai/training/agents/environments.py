"""The registry of named environments, and which environment a run trains on.

* a registered name (:data:`ENVIRONMENTS`: ``arena``, :mod:`gameai.training.agents.arena`),
* or else any registered Gymnasium id (``CartPole-v1``, ``module:Id-v0`` imports ``module``
  first), through :class:`~gameai.training.agents.gymnasium_env.GymnasiumEnvironment`.

A name registered as ``"module:attribute"`` is imported when a run first uses it, so a run on
a Gymnasium id never loads the arena.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.environment import AgentEnvironment
from gameai.training.agents.gymnasium_env import GymnasiumEnvironment, UnknownEnvironmentError, gymnasium_id

EnvironmentFactory = Callable[[AgentTrainConfig], AgentEnvironment]
"""Makes a run's environment from its config (an :class:`AgentEnvironment` subclass is one)."""

ENVIRONMENTS: dict[str, EnvironmentFactory | str] = {
    "arena": "gameai.training.agents.arena:ArenaEnvironment",
}
"""Named environments: a factory, or ``"module:attribute"`` imported when first used."""


def register_environment(name: str, factory: EnvironmentFactory | str) -> None:
    """Make ``name`` a value of ``gameai train agent --env``.

    Raises:
        ValueError: If the name is taken.
    """
    if name in ENVIRONMENTS:
        raise ValueError(f"environment {name!r} is already registered")
    ENVIRONMENTS[name] = factory


def environment_for(config: AgentTrainConfig) -> AgentEnvironment:
    """The run's environment: the registered one named ``config.env``, else the Gymnasium id ``config.env``.

    Raises:
        ValueError: If ``config.env`` is neither (one line, for the command line).
    """
    factory = ENVIRONMENTS.get(config.env)
    if factory is None:
        try:
            gymnasium_id(config.env)
        except UnknownEnvironmentError as exc:
            names = ", ".join(sorted(ENVIRONMENTS))
            raise UnknownEnvironmentError(exc.env, exc.reason, names) from exc.__cause__
        return GymnasiumEnvironment(config)
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
        ENVIRONMENTS[config.env] = factory
    assert callable(factory)
    return factory(config)
