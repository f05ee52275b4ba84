"""``gameai train behaviour look``: make the frame look of an exported model, from its game's splits.

The look (:mod:`gameai.behaviour.look`) is fitted on the training split's frames and calibrated
on windows of the players of every other split (none of whose frames it was fitted on) against
windows of other scenes (:mod:`.other_scenes`); ``look.safetensors`` and ``look.json`` are
written beside the model. The same step serves the arena's recording and a studio's dataset:
it only needs their splits as :class:`~gameai.training.behaviour.dataset.WindowDataset`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gameai.behaviour.look import FrameLookConfig, save_frame_look
from gameai.behaviour.model import load_behaviour_model
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.dataset import WindowDataset, evenly_spaced
from gameai.training.behaviour.evaluate import check_compatible
from gameai.training.behaviour.look_fit import (
    calibrate_threshold,
    fit_look,
    split_window_scores,
    window_scores_of,
)
from gameai.training.behaviour.other_scenes import other_scene_windows
from gameai.training.behaviour.training_data import open_training_data

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LookOptions:
    """How a model's frame look is made."""

    bits: int = 4
    """Bits kept per colour channel of a histogram (4: 4,096 bins)."""
    grid: int = 1
    """Cells per side a frame's histogram is taken in (1: the whole frame)."""
    exemplars: int = 128
    """Most exemplar histograms kept (each is ``grid**2 * 2**(3*bits)`` float16: 8 KB at the defaults)."""
    candidates: int = 6000
    """Training frames histogrammed to choose the exemplars from (evenly spaced)."""
    own_windows: int = 4000
    """Held-out windows of the game scored to place the threshold (evenly spaced over the splits)."""
    other_windows: int = 600
    """Windows of other scenes scored to place it."""
    seed: int = 0
    """Seeds the other scenes."""


def make_look(
    train: WindowDataset,
    held_out: Mapping[str, WindowDataset],
    frame_size: tuple[int, int],
    model_dir: Path | str,
    options: LookOptions = LookOptions(),
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit, calibrate and save a look beside the model in ``model_dir``; return its figures.

    Args:
        train: The split whose frames the exemplars come from.
        held_out: Splits of other players, by name, whose windows place the threshold.
        frame_size: ``(height, width)`` of the model's frames.
        model_dir: The exported model's directory.
        options: How the look is made.
        provenance: Added to the look's metadata (e.g. the data manifest's SHA-256).

    Raises:
        ValueError: If a split has no windows.
    """
    look = fit_look(
        train.frames, FrameLookConfig(options.bits, options.grid), options.exemplars, options.candidates
    )
    own_scores, per_split = [], {}
    share = max(1, options.own_windows // max(1, len(held_out)))
    for name, split in held_out.items():
        if len(split) == 0:
            raise ValueError(f"split {name!r} has no windows to calibrate the look on")
        scores = split_window_scores(look, split)[evenly_spaced(len(split), share)]
        own_scores.append(scores)
        per_split[name] = scores
    k = train.k
    other, kinds = other_scene_windows(options.other_windows, k, frame_size, options.seed)
    other_scores = window_scores_of(look, other)
    calibrated = calibrate_threshold(look, np.concatenate(own_scores), other_scores, kinds)
    calibrated.metadata["own_unknown_share_by_split"] = {
        name: round(float((scores > calibrated.threshold).mean()), 5) for name, scores in per_split.items()
    }
    calibrated.metadata["options"] = {
        "bits": options.bits,
        "grid": options.grid,
        "exemplars": options.exemplars,
        "candidates": options.candidates,
        "seed": options.seed,
    }
    calibrated.metadata.update(provenance or {})
    save_frame_look(model_dir, calibrated)
    if not calibrated.metadata["separated"]:
        logger.warning(
            "look: other scenes score as low as the game's own frames; 'unknown' will miss scenes "
            "that look like the game (threshold %.4f)",
            calibrated.threshold,
        )
    return {"threshold": round(calibrated.threshold, 6), **calibrated.metadata}


def look(config: BehaviourTrainConfig) -> dict[str, Any]:
    """The ``look`` step: the exported model's look, from the arena recording or the dataset.

    Exemplars from the ``train`` split; the threshold from every other split that has windows
    (the arena's ``val``, ``test``, ``heldout``; a dataset's ``val``, ``test``, ``calibration``).

    Raises:
        ModelLoadError: If the model was not exported (or is damaged).
        FileNotFoundError: If the data was not recorded.
        ValueError: If the model was made for other frames than the data's, or no held-out split
            has a window.
    """
    model = load_behaviour_model(config.assets_dir)
    source = open_training_data(config.data_dir, config.dataset, config.split_shares)
    check_compatible(model, source.manifest())
    model_config = model.config
    k = model_config.frames_per_window
    held_names = ("val", "test", "calibration") if config.dataset else ("val", "test", "heldout")
    held_out = {}
    for name in held_names:
        try:
            held_out[name] = source.split(name, k)
        except ValueError as exc:  # a dataset's split without players or windows
            logger.warning("look: split %s left out (%s)", name, exc)
    if not held_out:
        raise ValueError(
            f"no split of {source.location} but train has windows to place the look's threshold on"
        )
    options = LookOptions(exemplars=config.look_exemplars, seed=config.seed)
    provenance = {"data": source.location, "data_manifest_sha256": source.manifest_sha256()}
    return make_look(
        source.split("train", k), held_out, model_config.frame_size, config.assets_dir, options, provenance
    )
