"""``gameai train behaviour calibrate``: the model's ``bot_like`` precision at each minimum probability.

A game that acts against players it calls bots wants a ``bot_like`` label it can trust
(issue 4: precision >= 0.95). The server can hold that label to a minimum smoothed
probability (``behaviour_bot_like_min_probability``); which minimum gives which precision is a
property of the model, measured here on players no model choice has seen:

1. record ``calibration_players`` new players per style, ``calibration_frames_per_player``
   frames each (a minute of play by default), into ``calibration_dir`` (split
   ``calibration``: seeds apart from every training recording's, drawn like the test split's;
   a recording with the same options already there is kept);
2. classify every window with the model (each frame held compressed, neither while recording
   nor here are the frames whole in memory), then replay each player's windows through the
   server's smoother (:func:`gameai.training.behaviour.evaluate.served_results`) once per
   minimum in :data:`CALIBRATION_MINIMA`, with that minimum;
3. store, per minimum, the served ``bot_like`` precision (with a player-bootstrap 5th
   percentile), recall and served macro-F1, over whole sessions (``rows``) and per period of
   a session (``by_time``: the results sent while the server had seen ``(0, 5]``, ``(5, 10]``,
   ``(10, 20]``, ``(20, 30]`` and more than 30 s of the player's play), in ``config.json``'s
   metadata (:data:`gameai.behaviour.calibration.CALIBRATION_KEY`) and in ``calibration.json``.

A server started with ``behaviour_bot_like_min_precision = P`` reads that table
(:func:`gameai.behaviour.calibration.bot_like_schedule`) and holds ``bot_like``, in each period,
to the smallest minimum whose precision there was ``P`` with 95% confidence. The weights are
not touched.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch

from gameai.behaviour.calibration import (
    ACCUSATION_CALIBRATION_KEY,
    ACCUSATION_CLASSES_KEY,
    CALIBRATION_KEY,
    SCHEDULE_STARTS_S,
)
from gameai.behaviour.model import load_behaviour_model, set_behaviour_metadata
from gameai.runtime.device import select_device
from gameai.session.smoothing import SmoothingConfig
from gameai.training.behaviour.config import CALIBRATION_SPLIT, BehaviourTrainConfig
from gameai.training.behaviour.dataset import WindowDataset, load_split
from gameai.training.behaviour.evaluate import (
    BOT_LIKE,
    check_compatible,
    served_results,
    serving_smoothing,
)
from gameai.training.behaviour.fit import predict
from gameai.training.behaviour.metrics import classification_report, confusion_matrix
from gameai.training.behaviour.record import calibration_recording, manifest_sha256, record
from gameai.training.behaviour.training_data import open_training_data

#: The minimum ``bot_like`` probabilities measured (0: the server's default, no minimum).
CALIBRATION_MINIMA: Final = (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
#: Player-bootstrap resamples behind ``precision_low``.
BOOTSTRAP_RESAMPLES: Final = 1000


def bootstrap_precision_low(
    players: np.ndarray, hits: np.ndarray, flagged: np.ndarray, seed: int = 0, quantile: float = 0.05
) -> float:
    """The ``quantile`` of the precision over resamples of whole players (with replacement).

    A player's windows are not independent (the model's errors are per player), so the
    spread of the precision comes from resampling players, not windows.

    Args:
        players: ``(N,)`` player of each window.
        hits: ``(N,)`` whether the window was flagged and truly of the class.
        flagged: ``(N,)`` whether the window was flagged.
        seed: Seeds the resampling.
        quantile: Which quantile (0.05: a one-sided 95% lower bound).

    Returns:
        The quantile (0 when nothing was flagged).
    """
    _, player_index = np.unique(players, return_inverse=True)
    n_players = int(player_index.max()) + 1
    hits_per_player = np.bincount(player_index, weights=hits.astype(np.float64), minlength=n_players)
    flagged_per_player = np.bincount(player_index, weights=flagged.astype(np.float64), minlength=n_players)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_players, np.full(n_players, 1.0 / n_players), size=BOOTSTRAP_RESAMPLES)
    total_flagged = counts @ flagged_per_player
    precision = np.divide(
        counts @ hits_per_player, total_flagged, out=np.zeros(len(counts)), where=total_flagged > 0
    )
    return float(np.quantile(precision, quantile))


def bot_like_row(
    truth: np.ndarray, served: np.ndarray, players: np.ndarray, bot_like: int, minimum: float
) -> dict[str, Any]:
    """``bot_like`` figures of some served results: precision, its player-bootstrap 5th percentile, recall.

    Args:
        truth: ``(N,)`` true class of each result's window.
        served: ``(N,)`` the label served.
        players: ``(N,)`` whose window each result is.
        bot_like: The index of ``bot_like``.
        minimum: The minimum the results were served at (copied into the row).
    """
    flagged = served == bot_like
    hits = flagged & (truth == bot_like)
    bots = int((truth == bot_like).sum())
    return {
        "min_probability": minimum,
        "precision": round(float(hits.sum() / flagged.sum()), 4) if flagged.any() else 0.0,
        "precision_low": round(bootstrap_precision_low(players, hits, flagged), 4),
        "recall": round(float(hits.sum() / bots), 4) if bots else 0.0,
        "flagged": int(flagged.sum()),
    }


def minimum_smoothing(label: str, minimum: float) -> SmoothingConfig:
    """The server's smoothing with ``label`` held to ``minimum`` (0: not held) and nothing else held."""
    return dataclasses.replace(
        serving_smoothing(0.0, 0.0), min_probabilities=((label, minimum),) if minimum > 0 else ()
    )


def calibration_rows(
    data: WindowDataset,
    probabilities: np.ndarray,
    class_names: tuple[str, ...],
    sample_fps: float,
    label: str = BOT_LIKE,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Served ``label`` figures at every minimum of :data:`CALIBRATION_MINIMA`, whole and by period.

    Args:
        data: The calibration split (windows in play order within each session).
        probabilities: ``(N, n_classes)`` the model's output for every window.
        class_names: The model's labels (with ``label``).
        sample_fps: The model's frame rate.
        label: The class held to each minimum (``bot_like``, or a dataset's accusation class).

    Returns:
        ``rows``: one per minimum over whole sessions, ``min_probability``, ``precision``,
        ``precision_low`` (player bootstrap, 5th percentile), ``recall``, ``flagged`` (results
        sent as ``bot_like``) and ``served_macro_f1``; and ``by_time``: per period of a session
        (``from_s``, ``to_s``, None for the last, ``windows``), the same rows (without the
        macro-F1) over the results sent in that period.
    """
    bot_like = class_names.index(label)
    truth = data.window_labels
    players = data.window_players
    seconds = data.window_end_seconds(sample_fps)
    ends = (*SCHEDULE_STARTS_S[1:], None)
    periods = [  # the non-empty ones, each with its results' mask
        (start, end, inside)
        for start, end in zip(SCHEDULE_STARTS_S, ends, strict=True)
        if (inside := (seconds > start) & (seconds <= (np.inf if end is None else end))).any()
    ]
    rows = []
    by_time: list[dict[str, Any]] = [
        {"from_s": start, "to_s": end, "windows": int(inside.sum()), "rows": []}
        for start, end, inside in periods
    ]
    for minimum in CALIBRATION_MINIMA:
        served, _ = served_results(
            data, probabilities, class_names, sample_fps, minimum_smoothing(label, minimum)
        )
        report = classification_report(confusion_matrix(truth, served, len(class_names)), class_names)
        row = bot_like_row(truth, served, players, bot_like, minimum)
        row["served_macro_f1"] = report["macro_f1"]
        rows.append(row)
        for period, (_, _, inside) in zip(by_time, periods, strict=True):
            figures = bot_like_row(truth[inside], served[inside], players[inside], bot_like, minimum)
            period["rows"].append(figures)
    return rows, by_time


def calibrate(config: BehaviourTrainConfig) -> dict[str, Any]:
    """Record the calibration players, measure the model on them, store the table; see the module docstring.

    Args:
        config: The recording options (seed, ranges, enemies), ``calibration_dir``,
            ``calibration_players`` and ``calibration_frames_per_player``, and the model
            (``assets_dir``).

    Returns:
        The calibration, as stored in the model's metadata.

    Raises:
        ValueError: If ``calibration_players`` is 0, the model has no ``bot_like`` class, or it
            was made for another frame size, rate or class list than the recording.
    """
    if config.dataset:
        return calibrate_dataset(config)
    if config.calibration_players < 1:
        raise ValueError("calibrate needs calibration_players >= 1")
    if config.threads:
        torch.set_num_threads(config.threads)
    device = select_device(config.device)
    model = load_behaviour_model(config.assets_dir, device)
    names = model.config.class_names
    if BOT_LIKE not in names:
        raise ValueError(f"the model at {config.assets_dir} has no {BOT_LIKE!r} class: {names}")
    recording = calibration_recording(config)
    manifest = record(recording)
    check_compatible(model, manifest)
    started = time.perf_counter()
    # Each frame held compressed: the calibration's 7.6 GB of frames take about 0.65 GB.
    k = model.config.frames_per_window
    data = load_split(recording.data_dir, CALIBRATION_SPLIT, k, frames="compressed")
    probabilities, _ = predict(model.net, data, np.arange(len(data)), 256, device)
    calibration = {
        "data_dir": recording.data_dir,
        "data_manifest_sha256": manifest_sha256(recording.data_dir),
        "players_per_style": recording.calibration_players,
        "seeds": manifest["splits"][CALIBRATION_SPLIT]["seeds"],
        "windows": len(data),
        "frames_per_player": recording.frames_per_player,
        "session_seconds": recording.frames_per_player / recording.sample_fps,
        "smoothing": serving_smoothing(0.0, 0.0).__dict__,
    }
    rows, by_time = calibration_rows(data, probabilities, names, model.config.sample_fps)
    calibration["rows"], calibration["by_time"] = rows, by_time
    calibration["seconds"] = round(time.perf_counter() - started, 1)
    model_dir = Path(config.assets_dir)
    set_behaviour_metadata(model_dir, CALIBRATION_KEY, calibration)
    (model_dir / "calibration.json").write_text(json.dumps(calibration, indent=1) + "\n", encoding="utf-8")
    return calibration


def calibrate_dataset(config: BehaviourTrainConfig) -> dict[str, Any]:
    """Calibrate a game's own model on its dataset's ``calibration`` players, per accusation class.

    The same table as the arena's ``bot_like`` (:func:`calibration_rows`), one per accusation
    class of the dataset, measured on the players the split rule put in ``calibration`` (no
    training step has seen them) rather than on newly played ones. Stored in ``config.json``'s
    metadata as ``accusation_classes`` (the list) and ``accusation_calibration`` (class ->
    table), and in ``calibration.json``.

    Args:
        config: The dataset, its ``split_shares`` and the model (``assets_dir``).

    Returns:
        Class -> its calibration (empty when the dataset has no accusation class: nothing is
        stored then).

    Raises:
        ValueError: If the model was made for another frame size, rate or class list, or the
            calibration split has no player or no window.
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    device = select_device(config.device)
    source = open_training_data(config.data_dir, config.dataset, config.split_shares)
    manifest = source.manifest()
    accusations = tuple(manifest["accusation_classes"])
    if not accusations:
        return {}
    model = load_behaviour_model(config.assets_dir, device)
    check_compatible(model, manifest)
    names, fps = model.config.class_names, model.config.sample_fps
    started = time.perf_counter()
    data = source.split("calibration", model.config.frames_per_window)
    probabilities, _ = predict(model.net, data, np.arange(len(data)), 256, device)
    truth, players = data.window_labels, data.window_players
    calibrations: dict[str, Any] = {}
    for label in accusations:
        rows, by_time = calibration_rows(data, probabilities, names, fps, label)
        calibrations[label] = {
            "data_dir": source.location,
            "data_manifest_sha256": source.manifest_sha256(),
            "split": "calibration",
            "players": len(np.unique(players)),
            # Players with windows of the class (the arena's count per style).
            "players_per_style": len(np.unique(players[truth == names.index(label)])),
            "windows": len(data),
            "smoothing": minimum_smoothing(label, 0.0).__dict__,
            "rows": rows,
            "by_time": by_time,
            "seconds": round(time.perf_counter() - started, 1),
        }
    model_dir = Path(config.assets_dir)
    set_behaviour_metadata(model_dir, ACCUSATION_CLASSES_KEY, list(accusations))
    set_behaviour_metadata(model_dir, ACCUSATION_CALIBRATION_KEY, calibrations)
    (model_dir / "calibration.json").write_text(json.dumps(calibrations, indent=1) + "\n", encoding="utf-8")
    return calibrations
