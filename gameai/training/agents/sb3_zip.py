"""Read a Stable-Baselines3 zip without unpickling anything.

An SB3 ``model.zip`` holds ``data`` (JSON: the algorithm's attributes; objects that JSON
cannot hold are pickled inside it, *with* a readable copy of their fields beside), the
policy's weights ``policy.pth`` (a plain state dict) and training-only files (optimizers,
``pytorch_variables.pth``). Loading it with ``PPO.load`` unpickles the JSON's objects, and
with them whatever code a stranger's zip names. This module never does: it reads

* the weights with ``torch.load(..., weights_only=True)`` (tensors only);
* the spaces from the readable fields of ``data`` (``n``, ``nvec``, ``_shape``, ``low``,
  ``high``, ``start``) - or from the caller, when they are missing or unreadable;
* the policy's family from ``policy_class.__module__`` (or from the weights' names),
  the activation and ``squash_output`` from the readable ``policy_kwargs``;
* ``num_timesteps``.

Everything else (the optimizer, the replay buffer, callbacks, custom classes) is ignored.
``gameai agents import`` and the ``export`` step (:func:`export_checkpoint`) both read zips here.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from gameai.agents.actor import ActorNet, save_actor
from gameai.training.agents.export import (
    ACTIVATION_OF_CLASS,
    DEFAULT_ACTIVATION,
    ActorSpec,
    ObsNormalization,
    PolicyFamily,
    actor_from_weights,
)

_FAMILY_OF_MODULE: dict[str, PolicyFamily] = {
    "stable_baselines3.common.policies": "actor-critic",
    "stable_baselines3.ppo.policies": "actor-critic",
    "stable_baselines3.a2c.policies": "actor-critic",
    "stable_baselines3.dqn.policies": "q-network",
    "stable_baselines3.sac.policies": "sac",
    "stable_baselines3.td3.policies": "td3",
    "stable_baselines3.ddpg.policies": "td3",
}
_ALGORITHMS: dict[PolicyFamily, str] = {
    "actor-critic": "PPO or A2C",
    "q-network": "DQN",
    "sac": "SAC",
    "td3": "TD3 or DDPG",
}


class Sb3ZipError(ValueError):
    """A zip that cannot be read as an SB3 model (the message says what is missing and what to give)."""


@dataclass(frozen=True)
class Sb3Archive:
    """What a zip holds that serving needs."""

    path: Path
    """The zip."""
    family: PolicyFamily
    """Where the policy keeps its deterministic half."""
    observation_space: spaces.Box
    """The observation space (from the zip or the caller)."""
    action_space: spaces.Space[Any]
    """The action space (from the zip or the caller)."""
    activation: str
    """Of the hidden layers."""
    squash: bool
    """Box actions squashed by tanh (SAC, TD3, ``squash_output``)."""
    num_timesteps: int
    """Steps it was trained for (0 when the zip does not say)."""
    sb3_version: str | None
    """The Stable-Baselines3 version that wrote it."""
    state_dict: dict[str, torch.Tensor]
    """The policy's weights."""

    @property
    def algorithm(self) -> str:
        """The algorithms the policy's family comes from (for messages)."""
        return _ALGORITHMS[self.family]

    def actor(self, spec: ActorSpec, normalization: ObsNormalization | None = None) -> ActorNet:
        """The served actor of this policy.

        Raises:
            ValueError: If the weights or the spaces have no served form.
        """
        return actor_from_weights(
            self.state_dict,
            family=self.family,
            observation_space=self.observation_space,
            action_space=self.action_space,
            activation=self.activation,
            squash=self.squash,
            spec=spec,
            normalization=normalization,
        )


def read_sb3_zip(
    path: Path | str,
    *,
    observation_space: spaces.Box | None = None,
    action_space: spaces.Space[Any] | None = None,
    activation: str | None = None,
) -> Sb3Archive:
    """Read an SB3 zip's policy without unpickling (see the module docstring).

    Args:
        path: The zip.
        observation_space: Use this instead of the zip's (needed when the zip's is unreadable).
        action_space: Use this instead of the zip's.
        activation: Use this instead of the zip's (``tanh``, ``relu``, ``elu``, ``leaky_relu``).

    Raises:
        Sb3ZipError: If the zip is not an SB3 model, its weights hold more than tensors, or
            a space is unreadable and not given.
    """
    path = Path(path)
    if not path.is_file():
        raise Sb3ZipError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = sorted({"data", "policy.pth"} - names)
            if missing:
                raise Sb3ZipError(f"{path}: not a Stable-Baselines3 model zip (no {', '.join(missing)})")
            data_text = archive.read("data").decode("utf-8")
            weights = archive.read("policy.pth")
            version = (
                archive.read("_stable_baselines3_version").decode().strip()
                if "_stable_baselines3_version" in names
                else None
            )
    except zipfile.BadZipFile as exc:
        raise Sb3ZipError(f"{path}: not a zip file ({exc})") from None
    try:
        data = json.loads(data_text)
    except ValueError as exc:
        raise Sb3ZipError(f"{path}: its 'data' is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise Sb3ZipError(f"{path}: its 'data' is not a JSON object")
    try:
        state_dict = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # any refusal of the restricted loader means the same
        raise Sb3ZipError(
            f"{path}: policy.pth is not a plain state dict of tensors (refused by weights_only loading: "
            f"{str(exc).splitlines()[0][:200]})"
        ) from None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise Sb3ZipError(f"{path}: policy.pth is not a state dict of tensors")
    family = _family(data, state_dict, path)
    kwargs = data.get("policy_kwargs") if isinstance(data.get("policy_kwargs"), dict) else {}
    assert isinstance(kwargs, dict)
    obs_space = observation_space or _space(data.get("observation_space"), "observation", path)
    if not isinstance(obs_space, spaces.Box):
        raise Sb3ZipError(
            f"{path}: the observation space is {obs_space}; only flat Box observations are served"
        )
    return Sb3Archive(
        path=path,
        family=family,
        observation_space=obs_space,
        action_space=action_space or _space(data.get("action_space"), "action", path),
        activation=activation or _activation(kwargs, family, path),
        squash=family in ("sac", "td3") or kwargs.get("squash_output") is True,
        num_timesteps=int(data["num_timesteps"]) if isinstance(data.get("num_timesteps"), int) else 0,
        sb3_version=version,
        state_dict=state_dict,
    )


def _family(data: dict[str, Any], state_dict: dict[str, torch.Tensor], path: Path) -> PolicyFamily:
    policy_class = data.get("policy_class")
    module = policy_class.get("__module__") if isinstance(policy_class, dict) else None
    if isinstance(module, str) and module in _FAMILY_OF_MODULE:
        return _FAMILY_OF_MODULE[module]
    keys = set(state_dict)
    if any(k.startswith("mlp_extractor.policy_net.") for k in keys):
        return "actor-critic"
    if any(k.startswith("q_net.q_net.") for k in keys):
        return "q-network"
    if any(k.startswith("actor.latent_pi.") for k in keys):
        return "sac"
    if any(k.startswith("actor.mu.") for k in keys):
        return "td3"
    raise Sb3ZipError(
        f"{path}: a policy of {module or 'an unknown module'} cannot be served "
        "(PPO, A2C, DQN, SAC, TD3 and DDPG MLP policies can)"
    )


def _activation(kwargs: dict[str, Any], family: PolicyFamily, path: Path) -> str:
    named = kwargs.get("activation_fn")
    if named is None:
        return DEFAULT_ACTIVATION[family]
    match = re.search(r"\.(\w+)'>$", str(named))
    if match and match.group(1) in ACTIVATION_OF_CLASS:
        return ACTIVATION_OF_CLASS[match.group(1)]
    raise Sb3ZipError(
        f"{path}: activation {named!r} cannot be served (tanh, relu, elu, leaky_relu); "
        "if it is one of them under another name, give --activation"
    )


def _space(field: Any, what: str, path: Path) -> spaces.Space[Any]:
    """A space from the readable fields SB3 writes beside the pickled one."""
    flag = "--obs-dim" if what == "observation" else "--action-space"
    if not isinstance(field, dict):
        raise Sb3ZipError(f"{path}: the zip does not describe its {what} space; give {flag}")
    kind = str(field.get(":type:", "")).rstrip("'>").rsplit(".", 1)[-1]
    try:
        if kind == "Box":
            shape = tuple(int(n) for n in field["_shape"])
            low = _array(field.get("low"), shape, -np.inf)
            high = _array(field.get("high"), shape, np.inf)
            if what == "action" and (field.get("low") is None or field.get("high") is None):
                raise ValueError("no bounds")
            return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        if kind == "Discrete":
            return spaces.Discrete(int(field["n"]), start=int(field.get("start", 0)))
        if kind == "MultiDiscrete":
            nvec = _array(field["nvec"], None, 0).astype(np.int64)
            start = _array(field["start"], nvec.shape, 0).astype(np.int64) if "start" in field else None
            return spaces.MultiDiscrete(nvec, start=start)
        if kind == "MultiBinary":
            n = field.get("n", field.get("_shape"))
            if isinstance(n, list):
                return spaces.MultiBinary([int(v) for v in n])
            return spaces.MultiBinary(int(str(n)))
    except (KeyError, TypeError, ValueError) as exc:
        raise Sb3ZipError(f"{path}: the {what} space ({kind}) is unreadable ({exc}); give {flag}") from None
    raise Sb3ZipError(
        f"{path}: {what} space {kind or 'of unknown type'} cannot be served; give {flag} if it is flat"
    )


def _array(text: Any, shape: tuple[int, ...] | None, missing: float) -> np.ndarray:
    """A numpy array from its ``repr`` (``"[-4.8 -inf 0.42]"``); ``missing`` fills it when there is none."""
    if text is None:
        if shape is None:
            raise ValueError("no values")
        return np.full(shape, missing)
    if isinstance(text, (int, float)):
        return np.full(shape or (), float(text))
    if "..." in str(text):
        raise ValueError("the values are abbreviated")
    values = [float(v) for v in re.sub(r"[\[\],]", " ", str(text)).split()]
    array = np.asarray(values, dtype=np.float64)
    if shape is not None:
        if math.prod(shape) != array.size:
            raise ValueError(f"{array.size} values for shape {shape}")
        array = array.reshape(shape)
    return array


def export_checkpoint(
    checkpoint: Path,
    directory: Path,
    spec: ActorSpec,
    metadata: dict[str, Any] | None = None,
    normalization: ObsNormalization | None = None,
) -> ActorNet:
    """Read an SB3 checkpoint (zip, any algorithm, not unpickled); write its actor to ``directory``.

    Args:
        checkpoint: The SB3 zip.
        directory: ``assets/agents/<name>/``.
        spec: The difficulty input and handicap it was trained with.
        metadata: Kept in ``actor.json`` (the run, its figures).
        normalization: The ``VecNormalize`` observation statistics it was trained behind.

    Returns:
        The exported actor.
    """
    archive = read_sb3_zip(checkpoint)
    net = archive.actor(spec, normalization)
    save_actor(directory, net, {"timesteps": archive.num_timesteps, **(metadata or {})})
    return net
