"""Hyperparameters of a run, RL-Baselines3-Zoo style: one TOML file per algorithm, one table per env.

Where a run's values come from, each level overriding the one before:

1. the algorithm's defaults: Stable-Baselines3's constructor defaults, and :data:`BASE_DEFAULTS`
   (``n_envs = 1``, ``n_timesteps = 1_000_000``, ``normalize = false``);
2. the shipped file's table for the env (``hyperparams/<algo>.toml`` in this package), looked up
   by the ``--env`` name, then by the Gymnasium id (the arena's table is ``[arena]``);
3. the table for the env in ``--hyperparams FILE`` (the file must have one);
4. the options given on the command line (the fields of
   :class:`~gameai.training.agents.config.AgentTrainConfig` that are not None).

A table holds the algorithm's constructor arguments (``learning_rate``, ``n_steps``,
``buffer_size``... as SB3 names them; ``learning_rate`` and ``clip_range`` may be
``"lin_<value>"``, decayed linearly to 0) and these keys::

    n_envs = 8                  # envs stepped together
    n_timesteps = 100_000       # env steps to train for
    normalize = true            # VecNormalize obs and rewards; or a table:
                                # {norm_obs, norm_reward, clip_obs, clip_reward, epsilon}
    policy = "MlpPolicy"        # overrides the environment's choice
    policy_kwargs = {net_arch = [64, 64], activation_fn = "relu"}   # tanh | relu
    noise_type = "normal"       # sac/td3 exploration noise: normal | ornstein-uhlenbeck
    noise_std = 0.1

Any other key is an error naming the file, the table and the key.
"""

from __future__ import annotations

import functools
import inspect
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.utils import LinearSchedule
from torch import nn

from gameai.training.agents.algorithms import algorithm_class

if TYPE_CHECKING:
    from gameai.training.agents.config import AgentTrainConfig

HYPERPARAMS_DIR = Path(__file__).with_name("hyperparams")
"""The shipped files, ``<algo>.toml``."""

BASE_DEFAULTS: dict[str, Any] = {"n_envs": 1, "n_timesteps": 1_000_000, "normalize": False}
"""The keys of ours that SB3 has no default for."""

OWN_KEYS = frozenset({"n_envs", "n_timesteps", "normalize", "policy", "policy_kwargs"})
NOISE_KEYS = frozenset({"noise_type", "noise_std"})
POLICY_KWARGS = frozenset({"net_arch", "activation_fn", "log_std_init", "ortho_init", "n_critics"})
NORMALIZE_KEYS = frozenset({"norm_obs", "norm_reward", "clip_obs", "clip_reward", "epsilon"})
SCHEDULES = frozenset({"learning_rate", "clip_range", "clip_range_vf"})
"""Keys that take ``"lin_<value>"``."""
ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
NOT_HYPERPARAMETERS = frozenset(
    {"self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model",
     "policy_kwargs", "action_noise", "replay_buffer_class", "replay_buffer_kwargs",
     "rollout_buffer_class", "rollout_buffer_kwargs", "stats_window_size", "monitor_wrapper"}
)  # fmt: skip
"""Constructor arguments the trainer sets itself."""

FLAG_KEYS: dict[str, str] = {
    "num_envs": "n_envs",
    "total_timesteps": "n_timesteps",
    "n_steps": "n_steps",
    "batch_size": "batch_size",
    "n_epochs": "n_epochs",
    "learning_rate": "learning_rate",
    "gamma": "gamma",
    "gae_lambda": "gae_lambda",
    "clip_range": "clip_range",
    "ent_coef": "ent_coef",
    "vf_coef": "vf_coef",
    "max_grad_norm": "max_grad_norm",
    "normalize": "normalize",
}
"""Config field -> hyperparameter key (``hidden_sizes`` and ``anneal_lr`` are handled apart)."""


class HyperparamsError(ValueError):
    """A hyperparameter file or option the algorithm cannot take (one line, for the command line)."""


@functools.cache
def algorithm_parameters(algo: str) -> Mapping[str, inspect.Parameter]:
    """The constructor arguments of ``algo`` that a file may set."""
    parameters = inspect.signature(algorithm_class(algo).__init__).parameters
    return {name: p for name, p in parameters.items() if name not in NOT_HYPERPARAMETERS}


def known_keys(algo: str) -> frozenset[str]:
    """Every key a table of ``algo``'s file may hold."""
    keys = OWN_KEYS | frozenset(algorithm_parameters(algo))
    if algo in ("sac", "td3"):
        keys |= NOISE_KEYS
    return keys


def algorithm_default(algo: str, key: str) -> Any:
    """SB3's default of ``key`` for ``algo`` (or :data:`BASE_DEFAULTS`'), None when it has none."""
    if key in BASE_DEFAULTS:
        return BASE_DEFAULTS[key]
    parameter = algorithm_parameters(algo).get(key)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


def check_table(table: Mapping[str, Any], algo: str, where: str) -> None:
    """Raise on a key ``algo`` does not take, or a value of ours it cannot read.

    Raises:
        HyperparamsError: Naming ``where`` (file and table) and the key.
    """
    known = known_keys(algo)
    for key, value in table.items():
        if key not in known:
            raise HyperparamsError(f"{where}: unknown key {key!r} for {algo}")
        if key in SCHEDULES and isinstance(value, str):
            _schedule(value, f"{where}: {key}")
        if key == "policy_kwargs":
            if not isinstance(value, Mapping):
                raise HyperparamsError(f"{where}: policy_kwargs must be a table")
            for name, item in value.items():
                if name not in POLICY_KWARGS:
                    raise HyperparamsError(f"{where}: unknown key 'policy_kwargs.{name}' for {algo}")
                if name == "activation_fn" and item not in ACTIVATIONS:
                    raise HyperparamsError(f"{where}: activation_fn {item!r} is not one of tanh, relu")
        if key == "normalize" and not isinstance(value, bool):
            if not isinstance(value, Mapping):
                raise HyperparamsError(f"{where}: normalize must be true, false or a table")
            for name in value:
                if name not in NORMALIZE_KEYS:
                    raise HyperparamsError(f"{where}: unknown key 'normalize.{name}' for {algo}")
        if key == "noise_type" and value not in ("normal", "ornstein-uhlenbeck"):
            raise HyperparamsError(f"{where}: noise_type {value!r} is not normal or ornstein-uhlenbeck")


def read_file(path: Path, algo: str) -> dict[str, dict[str, Any]]:
    """The tables of a hyperparameter file, each checked for ``algo``.

    Raises:
        HyperparamsError: If the file is missing, is not TOML, or a table has an unknown key.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HyperparamsError(f"--hyperparams {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HyperparamsError(f"{path}: not TOML ({exc})") from exc
    for env, table in data.items():
        if not isinstance(table, dict):
            raise HyperparamsError(f'{path}: {env!r} is not a table of hyperparameters (["{env}"])')
        check_table(table, algo, f"{path} [{env}]")
    return data


def shipped_file(algo: str) -> Path:
    """The package's file for ``algo``."""
    return HYPERPARAMS_DIR / f"{algo}.toml"


def _table_for(tables: Mapping[str, dict[str, Any]], names: Sequence[str]) -> dict[str, Any] | None:
    for name in names:
        if name in tables:
            return tables[name]
    return None


def _merge(lower: dict[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """``upper`` over ``lower``; ``policy_kwargs`` and a ``normalize`` table merged key by key."""
    merged = dict(lower)
    for key, value in upper.items():
        if key == "policy_kwargs":
            merged[key] = {**merged.get(key, {}), **value}
        elif key == "normalize":
            if value is False:
                merged[key] = False
            else:
                below = merged.get(key)
                merged[key] = {
                    **(below if isinstance(below, dict) else {}),
                    **(value if value is not True else {}),
                }
        else:
            merged[key] = value
    return merged


def flag_overrides(config: AgentTrainConfig) -> dict[str, Any]:
    """The options given (fields not None) as hyperparameters of ``config.algo``.

    Raises:
        HyperparamsError: If an option given does not apply to the algorithm.
    """
    known = known_keys(config.algo)
    values: dict[str, Any] = {}
    for field, key in FLAG_KEYS.items():
        value = getattr(config, field)
        if value is None:
            continue
        if key not in known:
            option = "--" + field.replace("_", "-")
            raise HyperparamsError(f"{option} does not apply to --algo {config.algo}")
        values[key] = value
    if config.hidden_sizes is not None:
        values["policy_kwargs"] = {"net_arch": list(config.hidden_sizes)}
    return values


def _anneal(learning_rate: Any, anneal: bool) -> Any:
    start = _schedule(learning_rate, "learning_rate")[0] if isinstance(learning_rate, str) else learning_rate
    return f"lin_{start}" if anneal else float(start)


@dataclass(frozen=True)
class Hyperparams:
    """A run's resolved hyperparameters (:func:`resolve`)."""

    algo: str
    """The algorithm they are for."""
    values: dict[str, Any]
    """Every key set at some level, JSON-able (as recorded in the checkpoint state and TensorBoard)."""
    sources: tuple[str, ...]
    """Where they came from, lowest first: ``defaults``, files (``path [table]``), ``options``."""

    @property
    def n_envs(self) -> int:
        """Envs stepped together."""
        return int(self.values["n_envs"])

    @property
    def n_timesteps(self) -> int:
        """Env steps to train for."""
        return int(self.values["n_timesteps"])

    @property
    def normalize(self) -> dict[str, Any] | None:
        """VecNormalize's arguments (``{}``: its defaults), or None for no VecNormalize."""
        value = self.values.get("normalize", False)
        if value is False:
            return None
        return {} if value is True else dict(value)

    def policy_kwargs(self) -> dict[str, Any]:
        """SB3 ``policy_kwargs`` (``activation_fn`` as the torch class)."""
        kwargs = dict(self.values.get("policy_kwargs", {}))
        if "activation_fn" in kwargs:
            kwargs["activation_fn"] = ACTIVATIONS[kwargs["activation_fn"]]
        return kwargs

    def algorithm_kwargs(self, action_space: spaces.Space[Any]) -> dict[str, Any]:
        """The algorithm's constructor arguments (schedules, ``train_freq``, ``action_noise`` built)."""
        kwargs: dict[str, Any] = {}
        for key, value in self.values.items():
            if key in OWN_KEYS or key in NOISE_KEYS:
                continue
            if key in SCHEDULES and isinstance(value, str):
                value = _schedule(value, key)[1]
            elif key == "train_freq" and isinstance(value, list):
                value = tuple(value)
            kwargs[key] = value
        noise = self.action_noise(action_space)
        if noise is not None:
            kwargs["action_noise"] = noise
        return kwargs

    def action_noise(self, action_space: spaces.Space[Any]) -> ActionNoise | None:
        """SAC/TD3 exploration noise of ``noise_type`` and ``noise_std``, if set."""
        kind = self.values.get("noise_type")
        if kind is None:
            return None
        n = int(np.prod(action_space.shape or (1,)))
        sigma = float(self.values.get("noise_std", 0.1)) * np.ones(n)
        if kind == "normal":
            return NormalActionNoise(mean=np.zeros(n), sigma=sigma)
        return OrnsteinUhlenbeckActionNoise(mean=np.zeros(n), sigma=sigma)

    def hparams(self) -> dict[str, bool | str | float | None]:
        """Flat values for TensorBoard's HParams (lists and tables as JSON text)."""
        flat: dict[str, bool | str | float | None] = {"algo": self.algo}
        for key, value in sorted(self.values.items()):
            if isinstance(value, bool | str | int | float) or value is None:
                flat[key] = value
            else:
                flat[key] = json.dumps(value, sort_keys=True)
        return flat


def resolve(config: AgentTrainConfig, names: Sequence[str]) -> Hyperparams:
    """The run's hyperparameters: defaults < shipped table < ``config.hyperparams``' table < options.

    Args:
        config: The run (``algo``, ``hyperparams`` and the options given).
        names: The env's names, looked up in that order (``--env``, then the Gymnasium id).

    Raises:
        HyperparamsError: An unknown key, a file without a table for the env, an option the
            algorithm does not take (one line each).
    """
    algo = config.algo
    values: dict[str, Any] = dict(BASE_DEFAULTS)
    sources = ["defaults"]
    shipped = shipped_file(algo)
    if shipped.is_file():
        tables = read_file(shipped, algo)
        table = _table_for(tables, names)
        if table is not None:
            values = _merge(values, table)
            sources.append(f"{shipped.name} [{_table_name(table, tables)}]")
    if config.hyperparams is not None:
        path = Path(config.hyperparams)
        tables = read_file(path, algo)
        table = _table_for(tables, names)
        if table is None:
            raise HyperparamsError(
                f"{path}: no table for {' or '.join(dict.fromkeys(names))} "
                f"(it has: {', '.join(tables) or 'none'})"
            )
        values = _merge(values, table)
        sources.append(f"{path} [{_table_name(table, tables)}]")
    flags = flag_overrides(config)
    if flags or config.anneal_lr is not None:
        values = _merge(values, flags)
        sources.append("options")
    if config.anneal_lr is not None:
        learning_rate = values.get("learning_rate", algorithm_default(algo, "learning_rate"))
        values["learning_rate"] = _anneal(learning_rate, config.anneal_lr)
    for key in ("n_envs", "n_timesteps"):
        values[key] = int(values[key])
    values = json.loads(json.dumps(values))  # JSON-able, as recorded
    return Hyperparams(algo, values, tuple(sources))


def _table_name(table: dict[str, Any], tables: Mapping[str, dict[str, Any]]) -> str:
    return next(name for name, candidate in tables.items() if candidate is table)


def _schedule(value: str, where: str) -> tuple[float, LinearSchedule]:
    """``"lin_<start>"`` as (start, a schedule decaying it linearly to 0 over the run)."""
    prefix, _, number = value.partition("_")
    try:
        if prefix != "lin":
            raise ValueError(value)
        start = float(number)
    except ValueError:
        raise HyperparamsError(f"{where}: {value!r} is neither a number nor lin_<number>") from None
    return start, LinearSchedule(start, 0.0, 1.0)
