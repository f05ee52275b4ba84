"""``gameai agents import``: serve a policy trained elsewhere with plain Stable-Baselines3.

The zip is read without unpickling (:mod:`gameai.training.agents.sb3_zip`); its actor is
written beside the other served agents with a note of where it came from. Spaces the zip
does not describe readably are given as options (:func:`parse_action_space`), and
``VecNormalize`` statistics as JSON (:func:`read_obs_normalization`): SB3's own
``vecnormalize.pkl`` is a pickle, which this command never loads.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from gameai.agents.actor import save_actor
from gameai.paths import resolve_path
from gameai.training.agents.deploy_config import ImportAgentConfig
from gameai.training.agents.export import ActorSpec, ObsNormalization
from gameai.training.agents.sb3_zip import read_sb3_zip

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

VECNORMALIZE_SNIPPET = (
    "python -c \"import json,sys,pickle; v=pickle.load(open(sys.argv[1],'rb')); "
    "json.dump({'obs_mean': v.obs_rms.mean.tolist(), 'obs_var': v.obs_rms.var.tolist(), "
    "'clip_obs': v.clip_obs, 'epsilon': v.epsilon}, open(sys.argv[2],'w'))\" "
    "vecnormalize.pkl vecnormalize.json"
)
"""Turns a VecNormalize pickle the user trusts into the JSON this command reads (run it where it was made)."""


def parse_action_space(text: str) -> spaces.Space[Any]:
    """An action space from ``Discrete(5)``, ``MultiDiscrete(9,4,2)``, ``MultiBinary(4)``, ``Box(-1,1,2)``.

    Raises:
        ValueError: If the text is none of these (one line).
    """
    match = re.fullmatch(r"\s*(\w+)\s*\(([^)]*)\)\s*", text)
    usage = "--action-space takes Discrete(n), MultiDiscrete(n1,n2,...), MultiBinary(n) or Box(low,high,n)"
    if not match:
        raise ValueError(f"{usage}, got {text!r}")
    kind, arguments = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
    try:
        if kind == "Discrete" and len(arguments) == 1:
            return spaces.Discrete(int(arguments[0]))
        if kind == "MultiDiscrete" and arguments:
            return spaces.MultiDiscrete([int(a) for a in arguments])
        if kind == "MultiBinary" and len(arguments) == 1:
            return spaces.MultiBinary(int(arguments[0]))
        if kind == "Box" and len(arguments) == 3:
            return spaces.Box(float(arguments[0]), float(arguments[1]), (int(arguments[2]),), np.float32)
    except ValueError as exc:
        raise ValueError(f"{usage}, got {text!r} ({exc})") from None
    raise ValueError(f"{usage}, got {text!r}")


def read_obs_normalization(path: Path | str) -> ObsNormalization:
    """VecNormalize observation statistics from JSON (``obs_mean``, ``obs_var``, ``clip_obs``, ``epsilon``).

    The file ``gameai train agent`` keeps beside a checkpoint (``obs_rms.mean``/``var``) is read too.

    Raises:
        ValueError: If the file is a pickle, or not such JSON (one line, with what to do).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    raw = path.read_bytes()
    if path.suffix in (".pkl", ".pickle") or raw[:1] == b"\x80":
        raise ValueError(
            f"{path} is a pickle, which is never loaded here (it can run code); "
            f"write its statistics as JSON where you trust it: {VECNORMALIZE_SNIPPET}"
        )
    try:
        data = json.loads(raw)
        stats = data["obs_rms"] if "obs_rms" in data else {"mean": data["obs_mean"], "var": data["obs_var"]}
        mean = tuple(float(v) for v in stats["mean"])
        var = tuple(float(v) for v in stats["var"])
        clip = float(data.get("clip_obs", 10.0))
        epsilon = float(data.get("epsilon", 1e-8))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: not VecNormalize statistics "
            f"(a JSON object with obs_mean, obs_var, clip_obs, epsilon): {exc!r}"
        ) from None
    if len(mean) != len(var) or not mean:
        raise ValueError(f"{path}: obs_mean and obs_var need the same length >= 1")
    return ObsNormalization(mean=mean, var=var, clip=clip, epsilon=epsilon)


def import_zip(zip_path: Path | str, config: ImportAgentConfig) -> Path:
    """Write the served actor of an SB3 zip under ``config.agents_dir``; return its folder.

    Raises:
        ValueError: If the zip cannot be served (what it cannot read and what to give), the
            name is taken (without ``force``) or an option is malformed.
    """
    zip_path = Path(zip_path)
    name = config.name or zip_path.stem
    if not _NAME.match(name):
        raise ValueError(f"agent name {name!r}: letters, digits, '_', '-', '.' (at most 64), give --name")
    directory = resolve_path(config.agents_dir) / name
    if directory.exists() and not config.force:
        raise ValueError(f"{directory} exists: give another --name, or --force to replace it")
    observation_space = None
    if config.obs_dim:
        observation_space = spaces.Box(-np.inf, np.inf, (config.obs_dim,), np.float32)
    archive = read_sb3_zip(
        zip_path,
        observation_space=observation_space,
        action_space=parse_action_space(config.action_space) if config.action_space else None,
        activation=config.activation or None,
    )
    normalization = read_obs_normalization(config.vecnormalize) if config.vecnormalize else None
    spec = ActorSpec(
        difficulty_index=config.difficulty_index if config.difficulty_index >= 0 else None,
        random_action=config.random_action if _can_randomise(archive.action_space) else 0.0,
        freeze=config.freeze,
        idle_action=config.idle_action,
    )
    net = archive.actor(spec, normalization)
    staging = directory.with_name(f".{name}.importing")
    shutil.rmtree(staging, ignore_errors=True)
    save_actor(
        staging,
        net,
        {
            "imported_from": str(zip_path.resolve()),
            "algorithm": archive.algorithm,
            "stable_baselines3": archive.sb3_version,
            "timesteps": archive.num_timesteps,
            "observation": str(archive.observation_space),
            "actions": str(archive.action_space),
            "vecnormalize": str(Path(config.vecnormalize).resolve()) if config.vecnormalize else None,
        },
    )
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    return directory


def _can_randomise(action_space: spaces.Space[Any]) -> bool:
    """Whether random actions can be drawn (a Box needs finite bounds)."""
    if isinstance(action_space, spaces.Box):
        return bool(np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high)))
    return True
