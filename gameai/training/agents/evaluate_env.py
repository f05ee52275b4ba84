"""``gameai eval agent --env ID``: the served agent's return in a Gymnasium environment, per difficulty.

The agent plays ``config.episodes`` episodes at every level of ``config.difficulties``; episode
``i`` is seeded ``config.seed + i`` at every level, and the handicap draws from a generator
seeded ``config.seed`` at every level, so the levels differ only by the difficulty. The
episodes run side by side in Gymnasium sync vector envs (at most :data:`MAX_ENVS` at once),
each observation flattened to float32 (``FlattenObservation``) and handed to
:meth:`~gameai.agents.actor.ActorNet.act` as the service hands it ``act.observation``.
A run is replayed exactly by the same options; below difficulty 1 the handicap's draws
depend on which episodes share a batch, so changing :data:`MAX_ENVS` changes those returns
(at difficulty 1, with no draws, an episode's return is that of the episode played alone).

Which environment: ``config.env`` when given; otherwise the ``env_id`` the agent's
``actor.json`` metadata names (``gameai train agent`` writes it) when it is not the arena's
(:data:`ARENA_ENV_IDS`); otherwise none, and ``gameai eval agent`` plays arena matches
(:mod:`gameai.training.agents.evaluate`, which calls :func:`main_in_env` first).

Before any episode, :func:`check_actor_fits` raises a one-line ``ValueError`` when the agent's
observation size or action space does not fit the environment's.

An environment that says whether the agent won, Gymnasium's convention (what Stable-Baselines3's
``Monitor`` and ``evaluate_policy`` read): ``info["is_success"]`` in the info of an episode's last
step, gets a success rate per level, and the report says, as the arena's does of its win rate,
whether it never falls as the difficulty rises (``gameai eval agent`` exits 1 when it falls).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import torch
from gymnasium import spaces
from gymnasium.vector import SyncVectorEnv
from gymnasium.wrappers import FlattenObservation

from gameai.agents.actor import ActorConfig, ActorNet, LoadedActor, load_actor
from gameai.training.agents.ablation import HANDICAP_FIELDS, variant
from gameai.training.agents.config import EvalAgentConfig
from gameai.training.agents.gymnasium_env import gymnasium_id

ARENA_ENV_IDS: Final = frozenset({"gameai/Arena-v0", "gameai/ArenaPixels-v0"})
"""``env_id`` metadata of arena agents (evaluated by arena matches, not episodes)."""
MAX_ENVS: Final = 32
"""Most episodes played side by side."""

EnvSource = Literal["option", "metadata"]
"""Where the environment came from: ``--env``, or the agent's ``env_id`` metadata."""


@dataclass(frozen=True)
class EnvChoice:
    """The environment an evaluation plays, and why."""

    env: str
    """As given (``module:Id-v0`` or ``Id-v0``)."""
    source: EnvSource
    """``option`` (``--env``) or ``metadata`` (the agent's ``env_id``)."""


def environment_of(config: EvalAgentConfig, actor: LoadedActor) -> EnvChoice | None:
    """The environment to play: ``config.env``, else the agent's non-arena ``env_id``, else None (the arena).

    The ``--env`` the agent was trained with (``trained_with.env``, when the metadata has it) is
    preferred to its ``env_id``: for ``module:Id-v0`` (``env_id`` ``Id-v0``) and ``module:Class``
    (``env_id`` ``module.Class``) it imports ``module``, which registers the id.
    """
    if config.env:
        return EnvChoice(config.env, "option")
    env_id = actor.metadata.get("env_id")
    if not isinstance(env_id, str) or not env_id or env_id in ARENA_ENV_IDS:
        return None
    trained_with = actor.metadata.get("trained_with")
    given = trained_with.get("env") if isinstance(trained_with, dict) else None
    if isinstance(given, str) and given:
        return EnvChoice(given, "metadata")
    return EnvChoice(env_id, "metadata")


def check_actor_fits(
    config: ActorConfig, observation_space: spaces.Space[Any], action_space: spaces.Space[Any], where: str
) -> None:
    """Raise unless an actor of ``config`` can play an env with these (single-env) spaces.

    Args:
        config: The actor's config.
        observation_space: The env's observation space (flattened to ``flatdim`` values).
        action_space: The env's action space.
        where: Names the env and the agent in the message (``"agent cp on CartPole-v1"``).

    Raises:
        ValueError: One line naming both sizes, when the observation size differs, or the
            action space is of another kind or size (Discrete n, MultiDiscrete nvec,
            MultiBinary n, Box shape), or is none an actor plays (Dict, Tuple...).
    """
    try:
        obs_size = spaces.flatdim(observation_space)
    except ValueError as exc:
        raise ValueError(f"{where}: observations {observation_space} cannot be flattened ({exc})") from None
    if obs_size != config.obs_dim:
        raise ValueError(
            f"{where}: the agent takes {config.obs_dim} observation values, the env gives {obs_size} "
            f"({observation_space})"
        )
    agent = _describe_actions(config)
    if isinstance(action_space, spaces.Discrete):
        fits = config.action_space == "Discrete" and config.action_nvec == (int(action_space.n),)
    elif isinstance(action_space, spaces.MultiDiscrete):
        nvec = tuple(int(n) for n in action_space.nvec.ravel())
        fits = config.action_space == "MultiDiscrete" and config.action_nvec == nvec
    elif isinstance(action_space, spaces.MultiBinary):
        fits = config.action_space == "MultiBinary" and config.action_dim == int(np.prod(action_space.shape))
    elif isinstance(action_space, spaces.Box):
        fits = config.action_space == "Box" and config.action_dim == int(np.prod(action_space.shape))
    else:
        raise ValueError(f"{where}: the env's actions {action_space} are none an actor plays")
    if not fits:
        raise ValueError(f"{where}: the agent plays {agent}, the env takes {action_space}")


def _describe_actions(config: ActorConfig) -> str:
    """``Discrete(2)``, ``MultiDiscrete(9, 4, 2)``, ``MultiBinary(3)`` or ``Box(1 values)``."""
    if config.action_space == "Discrete":
        return f"Discrete({config.action_nvec[0]})"
    if config.action_space == "MultiDiscrete":
        return f"MultiDiscrete{config.action_nvec}"
    if config.action_space == "MultiBinary":
        return f"MultiBinary({config.action_dim})"
    return f"Box({config.action_dim} values)"


def env_actions(actions: npt.NDArray[Any], action_space: spaces.Space[Any]) -> npt.NDArray[Any]:
    """The actor's ``(B, action_dim)`` actions as a batch of the env's (single-env) ``action_space``.

    Discrete: ``action[0]`` plus the space's ``start``; MultiDiscrete, MultiBinary and Box:
    reshaped to the space's shape (MultiDiscrete plus its ``start``), in its dtype.
    """
    batch = actions.shape[0]
    if isinstance(action_space, spaces.Discrete):
        return (actions[:, 0] + int(action_space.start)).astype(np.int64)
    shaped = actions.reshape((batch, *(action_space.shape or ())))
    if isinstance(action_space, spaces.MultiDiscrete):
        shaped = shaped + action_space.start
    assert action_space.dtype is not None
    return shaped.astype(action_space.dtype)


def make_episode_envs(env_id: str, num_envs: int) -> SyncVectorEnv:
    """``num_envs`` copies of ``env_id`` in a sync vector env, observations flattened."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", wrappers=[FlattenObservation])
    assert isinstance(env, SyncVectorEnv)
    return env


class Episodes(NamedTuple):
    """What a batch of episodes gave, in seed order."""

    returns: list[float]
    """Sum of rewards of each episode."""
    lengths: list[int]
    """Steps of each episode."""
    successes: list[bool | None]
    """``info["is_success"]`` of each episode's last step; None where the env gave none."""


def play_episodes(
    net: ActorNet,
    env: SyncVectorEnv,
    seeds: list[int],
    difficulty: float,
    generator: torch.Generator,
) -> Episodes:
    """Play one episode per sub-env of ``env`` (sub-env j reset with ``seeds[j]``) at ``difficulty``.

    Sub-envs whose episode ended keep stepping (autoreset) until all have ended; what they
    do then is not counted.

    Args:
        net: The actor (CPU, eval mode).
        env: A vector env of ``len(seeds)`` flattened-observation envs (next-step autoreset:
            the info of an episode's last step is that step's).
        seeds: One seed per sub-env.
        difficulty: In [0, 1], for every step.
        generator: The handicap's draws.

    Returns:
        The returns, lengths and successes of the episodes, in ``seeds`` order.
    """
    n = len(seeds)
    obs, _ = env.reset(seed=list[int | None](seeds))
    levels = torch.full((n,), difficulty, dtype=torch.float32)  # (n,)
    returns = np.zeros(n, dtype=np.float64)
    lengths = np.zeros(n, dtype=np.int64)
    running = np.ones(n, dtype=np.bool_)
    successes: list[bool | None] = [None] * n
    with torch.inference_mode():
        while running.any():
            observation = torch.from_numpy(np.asarray(obs, dtype=np.float32).reshape(n, -1))  # (n, obs_dim)
            actions = net.act(observation, levels, generator).numpy()  # (n, action_dim)
            obs, rewards, terminated, truncated, infos = env.step(
                env_actions(actions, env.single_action_space)
            )
            returns += np.where(running, rewards, 0.0)
            lengths += running
            ended = running & (terminated | truncated)
            if "is_success" in infos:
                given = infos.get("_is_success", np.ones(n, dtype=np.bool_))
                for j in np.flatnonzero(ended & given):
                    successes[j] = bool(infos["is_success"][j])
            running &= ~ended
    return Episodes(returns.tolist(), lengths.tolist(), successes)


def evaluate_in_env(config: EvalAgentConfig, actor: LoadedActor, choice: EnvChoice) -> dict[str, Any]:
    """Play ``config.episodes`` episodes per level in ``choice.env``; return their returns' mean and spread.

    With an env that reports ``is_success`` at the end of every episode, each level also has
    ``success_rate`` and ``successes``, and the report ``monotone`` (the success rate never falls
    as d rises) and ``strictly_increasing``; otherwise these are None.

    Returns:
        ``agent``, ``version``, ``env`` (the Gymnasium id), ``env_source``, ``episodes_per_level``,
        ``seed``, ``handicap`` (its chances, and ``idle_action`` with a freeze), ``blind``,
        ``monotone``, ``strictly_increasing`` and ``levels``: per difficulty ``mean_return``,
        ``std_return`` (population), ``min_return``, ``max_return``, ``mean_length``,
        ``success_rate``, and the episodes' ``returns`` and ``successes`` in seed order.

    Raises:
        ValueError: If the env is not a registered id, or the agent does not fit it (before any episode).
    """
    torch.set_num_threads(config.threads)
    env_id = gymnasium_id(choice.env)
    net = variant(actor.net, config)
    started = time.perf_counter()
    envs: dict[int, SyncVectorEnv] = {}
    try:
        batch = min(config.episodes, MAX_ENVS)
        envs[batch] = make_episode_envs(env_id, batch)
        single = envs[batch]
        check_actor_fits(
            net.config,
            single.single_observation_space,
            single.single_action_space,
            f"agent {actor.name} on {env_id}",
        )
        levels = []
        for difficulty in config.difficulties:
            generator = torch.Generator().manual_seed(config.seed)
            episodes = Episodes([], [], [])
            for first in range(0, config.episodes, MAX_ENVS):
                seeds = [config.seed + i for i in range(first, min(first + MAX_ENVS, config.episodes))]
                if len(seeds) not in envs:
                    envs[len(seeds)] = make_episode_envs(env_id, len(seeds))
                played = play_episodes(net, envs[len(seeds)], seeds, difficulty, generator)
                episodes.returns.extend(played.returns)
                episodes.lengths.extend(played.lengths)
                episodes.successes.extend(played.successes)
            levels.append(_level(difficulty, episodes))
    finally:
        for env in envs.values():
            env.close()
    rates = [level["success_rate"] for level in levels]
    with_success = all(rate is not None for rate in rates)
    handicap: dict[str, Any] = {
        name: getattr(net.config, name) for name in ("random_action", *HANDICAP_FIELDS)
    }
    if net.config.freeze > 0.0:
        handicap["idle_action"] = list(net.config.idle)
    return {
        "agent": actor.name,
        "version": actor.version,
        "env": env_id,
        "env_source": choice.source,
        "episodes_per_level": config.episodes,
        "seed": config.seed,
        "handicap": handicap,
        "blind": config.blind,
        "levels": levels,
        "monotone": all(b >= a for a, b in itertools.pairwise(rates)) if with_success else None,
        "strictly_increasing": all(b > a for a, b in itertools.pairwise(rates)) if with_success else None,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _level(difficulty: float, episodes: Episodes) -> dict[str, Any]:
    values = np.asarray(episodes.returns, dtype=np.float64)
    known = all(success is not None for success in episodes.successes)
    return {
        "difficulty": difficulty,
        "episodes": len(episodes.returns),
        "mean_return": float(values.mean()),
        "std_return": float(values.std()),
        "min_return": float(values.min()),
        "max_return": float(values.max()),
        "mean_length": float(np.mean(episodes.lengths)),
        "success_rate": sum(bool(s) for s in episodes.successes) / len(episodes.successes) if known else None,
        "returns": episodes.returns,
        "successes": episodes.successes if known else None,
    }


def format_env_report(report: dict[str, Any]) -> str:
    """The report as a text table."""
    variant_note = " (blind ablation)" if report["blind"] else ""
    handicap = {name: chance for name, chance in report["handicap"].items() if chance} or "none"
    with_success = report["monotone"] is not None
    lines = [
        f"agent {report['agent']} ({report['version']}){variant_note} on {report['env']}, "
        f"{report['episodes_per_level']} episodes per level (seeds {report['seed']}..), "
        f"handicap {handicap}",
        "difficulty  mean return      std       min       max  mean length"
        + ("  success rate" if with_success else ""),
    ]
    for level in report["levels"]:
        lines.append(
            f"{level['difficulty']:10.2f}  {level['mean_return']:11.2f}  {level['std_return']:7.2f}  "
            f"{level['min_return']:8.2f}  {level['max_return']:8.2f}  {level['mean_length']:11.1f}"
            + (f"  {level['success_rate']:12.3f}" if with_success else "")
        )
    if with_success:
        rates = [level["success_rate"] for level in report["levels"]]
        lines.append(
            f"success rate never falls as difficulty rises: {'yes' if report['monotone'] else 'no'}"
            f" (strictly rising: {'yes' if report['strictly_increasing'] else 'no'}; "
            f"d = {report['levels'][0]['difficulty']:g} -> {report['levels'][-1]['difficulty']:g}: "
            f"{rates[0]:.3f} -> {rates[-1]:.3f})"
        )
    return "\n".join(lines)


def main_in_env(config: EvalAgentConfig, as_json: bool) -> int | None:
    """Evaluate in the agent's environment and print; None when it is the arena's.

    Says on stderr when the environment comes from the agent's metadata. Returns status 1 when
    the env reports success and the success rate falls somewhere as d rises, else 0.
    """
    actor = load_actor(Path(config.agent_dir))
    choice = environment_of(config, actor)
    if choice is None:
        return None
    if choice.source == "metadata":
        print(
            f"playing {choice.env}, the env_id of {actor.name}'s metadata (--env overrides)", file=sys.stderr
        )
    report = evaluate_in_env(config, actor, choice)
    print(json.dumps(report, indent=2) if as_json else format_env_report(report))
    return 1 if report["monotone"] is False else 0
