"""VecNormalize for a run whose hyperparameters say ``normalize``, with its statistics kept as JSON.

SB3's own ``VecNormalize.save`` pickles the wrapper; here the running statistics are written
beside each checkpoint as ``ckpt_<steps>.vecnormalize.json`` (no pickle) and put back on resume::

    {"norm_obs": true, "norm_reward": true, "clip_obs": 10.0, "clip_reward": 10.0,
     "gamma": 0.99, "epsilon": 1e-08,
     "obs_rms": {"mean": [...], "var": [...], "count": 1234.0},
     "ret_rms": {"mean": 0.1, "var": 2.3, "count": 1234.0}}      # only when norm_reward

The export reads the observation half as an
:class:`~gameai.training.agents.export.ObsNormalization` (the served actor normalises the
observations it gets as training did).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

if TYPE_CHECKING:
    from gameai.training.agents.export import ObsNormalization

SUFFIX = ".vecnormalize.json"
"""What follows a checkpoint's stem in its statistics' file name."""


def stats_path(checkpoint: Path) -> Path:
    """The statistics file beside ``checkpoint`` (``ckpt_X.zip`` -> ``ckpt_X.vecnormalize.json``)."""
    return checkpoint.with_name(checkpoint.stem + SUFFIX)


def wrap(venv: VecEnv, settings: dict[str, Any], gamma: float) -> VecNormalize:
    """``venv`` in a training VecNormalize with ``settings`` (the hyperparameters' ``normalize`` table).

    Args:
        venv: The monitored training envs (episode returns stay raw).
        settings: ``norm_obs``, ``norm_reward``, ``clip_obs``, ``clip_reward``, ``epsilon`` (any subset).
        gamma: Discount of the reward normalisation (the algorithm's).

    Raises:
        ValueError: If the observations are not a flat ``Box``.
    """
    if not isinstance(venv.observation_space, spaces.Box):
        raise ValueError(f"normalize needs Box observations, not {type(venv.observation_space).__name__}")
    return VecNormalize(venv, gamma=gamma, **settings)


def stats_of(venv: VecNormalize) -> dict[str, Any]:
    """The statistics of ``venv`` as JSON-able data."""
    data: dict[str, Any] = {
        "norm_obs": bool(venv.norm_obs),
        "norm_reward": bool(venv.norm_reward),
        "clip_obs": float(venv.clip_obs),
        "clip_reward": float(venv.clip_reward),
        "gamma": float(venv.gamma),
        "epsilon": float(venv.epsilon),
        "obs_rms": _rms_data(_box_rms(venv)),
    }
    if venv.norm_reward:
        data["ret_rms"] = _rms_data(venv.ret_rms)
    return data


def save_stats(venv: VecNormalize, checkpoint: Path) -> Path:
    """Write the statistics beside ``checkpoint``, atomically; return the file."""
    path = stats_path(checkpoint)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(stats_of(venv), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_stats(checkpoint: Path) -> dict[str, Any] | None:
    """The statistics saved beside ``checkpoint``, or None when there are none."""
    path = stats_path(checkpoint)
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def restore_stats(venv: VecNormalize, checkpoint: Path) -> bool:
    """Put the statistics saved beside ``checkpoint`` back into ``venv``; False when there are none.

    Raises:
        ValueError: If the saved statistics do not fit the observation shape.
    """
    data = read_stats(checkpoint)
    if data is None:
        return False
    obs = _rms_of(data["obs_rms"])
    if obs.mean.shape != _box_rms(venv).mean.shape:
        raise ValueError(
            f"{stats_path(checkpoint)}: statistics of shape {obs.mean.shape}, "
            f"observations of {_box_rms(venv).mean.shape}"
        )
    venv.obs_rms = obs  # type: ignore[assignment]  # SB3 types it by its Dict-observation branch
    if "ret_rms" in data:
        venv.ret_rms = _rms_of(data["ret_rms"])
    return True


def copy_obs_stats(source: VecNormalize, target: VecNormalize) -> None:
    """Give ``target`` (an evaluation VecNormalize) the observation statistics of ``source`` (a copy)."""
    target.obs_rms = _box_rms(source).copy()  # type: ignore[assignment]  # as in restore_stats


def evaluation_wrapper(venv: VecEnv, source: VecNormalize) -> VecNormalize:
    """``venv`` normalised as ``source`` normalises, frozen: ``training=False``, raw rewards."""
    evaluation = VecNormalize(
        venv,
        training=False,
        norm_obs=source.norm_obs,
        norm_reward=False,
        clip_obs=source.clip_obs,
        epsilon=source.epsilon,
    )
    copy_obs_stats(source, evaluation)
    return evaluation


def obs_normalization(checkpoint: Path) -> ObsNormalization | None:
    """The exporter's view of the statistics beside ``checkpoint`` (None: none, or obs not normalised)."""
    from gameai.training.agents.export import ObsNormalization

    data = read_stats(checkpoint)
    if data is None or not data.get("norm_obs", True):
        return None
    return ObsNormalization(
        mean=tuple(float(x) for x in np.ravel(data["obs_rms"]["mean"])),
        var=tuple(float(x) for x in np.ravel(data["obs_rms"]["var"])),
        clip=float(data["clip_obs"]),
        epsilon=float(data["epsilon"]),
    )


def _box_rms(venv: VecNormalize) -> RunningMeanStd:
    """The observation statistics of a VecNormalize over Box observations (:func:`wrap` makes no other)."""
    rms = venv.obs_rms
    assert isinstance(rms, RunningMeanStd), "normalize needs Box observations"
    return rms


def _rms_data(rms: RunningMeanStd) -> dict[str, Any]:
    return {
        "mean": np.asarray(rms.mean).tolist(),
        "var": np.asarray(rms.var).tolist(),
        "count": float(rms.count),
    }


def _rms_of(data: dict[str, Any]) -> RunningMeanStd:
    mean = np.asarray(data["mean"], dtype=np.float64)
    rms = RunningMeanStd(shape=mean.shape)
    rms.mean = mean
    rms.var = np.asarray(data["var"], dtype=np.float64)
    rms.count = float(data["count"])
    return rms
