"""``gameai eval behaviour``: figures of a behaviour model on recorded splits.

For each split (``test``: new seeds; ``heldout``: new seeds and style parameters outside the
trained ranges), two views:

* **window**: every window classified on its own (what the CNN alone does with K frames);
* **served**: what a game is told, i.e. each player's windows fed in play order, one result
  per frame (``behaviour_every = 1``), through the same :class:`~gameai.session.smoothing.BehaviourSmoother`
  and settings the server uses: by default a server's defaults, which hold ``bot_like`` to
  precision 0.97 where the model's calibration reaches it (``bot_like_guard`` in the report
  says how; ``--bot-like-min-precision 0``: without). Every result is counted, from the first
  window on.

Each view gets accuracy, macro-F1, per-class precision/recall/F1 and a confusion matrix, saved
as ``confusion_<split>_<view>.png``; the served view also gets ``bot_like_thresholds``:
``bot_like`` precision and recall when a game acts on that label only at a minimum smoothed
probability, and ``by_time``: the served figures by how many seconds of the player's play the
server had seen (a session's first seconds rest on few windows). Where the model has a frame
look, each split also gets ``look``: the share of its windows the server would call
``unknown`` (its own game's windows: at most 2% is the goal). The figures are written to
``eval.json`` and, with ``write_metadata``, into the model's ``config.json`` metadata (the
weights are not touched).

On a behaviour dataset (``dataset``; a game's own model): the splits are its players' (``test``
by default), each session is served as its own stream, and each of its accusation classes is
held back as ``bot_like`` is (by its calibration, :func:`accusation_smoothing`), with
``accusation_thresholds`` in place of ``bot_like_thresholds`` and no arena goals.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from pathlib import Path, PurePath
from typing import Any, Final

import numpy as np
import torch

from gameai.behaviour.calibration import (
    ACCUSATION_CALIBRATION_KEY,
    CALIBRATION_KEY,
    SCHEDULE_STARTS_S,
    bot_like_guard,
)
from gameai.behaviour.look import FrameLook, load_frame_look
from gameai.behaviour.model import LoadedBehaviourModel, load_behaviour_model, set_behaviour_metadata
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.device import select_device
from gameai.session.smoothing import BehaviourSmoother, SmoothingConfig, smoothing_config
from gameai.training.behaviour.config import (
    ALL_PLAYERS_SPLIT,
    DATASET_SPLITS,
    DEFAULT_SPLIT_SHARES,
    BehaviourEvalConfig,
)
from gameai.training.behaviour.dataset import WindowDataset
from gameai.training.behaviour.dataset_splits import game_model_dir
from gameai.training.behaviour.fit import predict
from gameai.training.behaviour.look_fit import split_window_scores
from gameai.training.behaviour.metrics import (
    classification_report,
    confusion_matrix,
    flag_thresholds,
    save_confusion_png,
)
from gameai.training.behaviour.training_data import TrainingData, open_training_data

#: Goals of issue 4 (``>=`` each), reported for the window view and the served view.
GOALS: Final = {"test_macro_f1": 0.95, "heldout_macro_f1": 0.90, "test_bot_like_precision": 0.95}
BOT_LIKE: Final = "bot_like"
#: Served view: ``bot_like`` precision and recall when a game acts on the label only at a
#: smoothed ``bot_like`` probability of at least each of these.
BOT_LIKE_THRESHOLDS: Final = (0.5, 0.7, 0.8, 0.9)
#: Served view by time: edges (seconds of the player's play the server has seen) of the
#: buckets ``served.by_time`` reports: the calibration's periods
#: (:data:`~gameai.behaviour.calibration.SCHEDULE_STARTS_S`), the last split at a minute. The
#: recorded players play 12 s each by default; longer recordings (``--frames-per-player``) fill
#: the later buckets.
SERVED_TIME_EDGES: Final = (*SCHEDULE_STARTS_S, 60.0, float("inf"))


def serving_smoothing(
    bot_like_min_probability: float = 0.0,
    bot_like_min_precision: float | None = None,
    model_metadata: dict[str, Any] | None = None,
) -> SmoothingConfig:
    """The smoothing ``gameai serve`` applies (by default, or with those ``bot_like`` settings).

    Args:
        bot_like_min_probability: As ``--behaviour-bot-like-min-probability``.
        bot_like_min_precision: As ``--behaviour-bot-like-min-precision`` (None: the server's
            default, which holds ``bot_like`` back only where ``model_metadata`` has a
            calibration that reaches it).
        model_metadata: The model's ``config.json`` metadata (its calibration).
    """
    runtime = RuntimeConfig(
        behaviour_bot_like_min_probability=bot_like_min_probability,
        behaviour_bot_like_min_precision=bot_like_min_precision,
    )
    return smoothing_config(runtime, model_metadata)


def served_results(
    data: WindowDataset,
    probabilities: np.ndarray,
    class_names: tuple[str, ...],
    sample_fps: float,
    smoothing: SmoothingConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """What a game would be sent after each window, session by session in play order.

    A new smoother starts for every session (each player's, in a recording) and is told the
    play each window adds, as the server tells it: the first window the play it ends at (K
    frames), each next one frame (``behaviour_every = 1``; across frames a dataset left out, the
    seconds between), so the smoother knows the session's age as the server's does.

    Args:
        data: The split (windows in play order within each session).
        probabilities: ``(N, n_classes)`` the model's output for every window of ``data``.
        class_names: The model's labels.
        sample_fps: The model's frame rate.
        smoothing: The server's smoothing (default: :func:`serving_smoothing`).

    Returns:
        ``(N,)`` class index of the served label after each window and ``(N, n_classes)`` the
        smoothed probabilities sent with it.
    """
    config = smoothing or serving_smoothing()
    served = np.zeros(len(data), dtype=np.int64)
    smoothed = np.zeros((len(data), len(class_names)), dtype=np.float64)
    sessions = data.window_sessions
    seconds = data.window_end_seconds(sample_fps).tolist()
    smoother = BehaviourSmoother(class_names, config)
    for i in range(len(data)):
        if i == 0 or sessions[i] != sessions[i - 1]:
            smoother.reset()
            elapsed = seconds[i]
        else:
            elapsed = seconds[i] - seconds[i - 1]
        result = smoother.update(probabilities[i], elapsed)
        served[i] = class_names.index(result.label)
        smoothed[i] = result.probabilities
    return served, smoothed


def check_compatible(model: LoadedBehaviourModel, manifest: dict[str, Any]) -> None:
    capture = manifest["capture"]
    config = model.config
    recorded = (tuple(capture["frame_size"]), float(capture["sample_fps"]), tuple(manifest["class_names"]))
    expected = (config.frame_size, config.sample_fps, config.class_names)
    if recorded != expected:
        raise ValueError(
            f"the recording (frame size, fps, classes) {recorded} does not match the model's {expected}"
        )


def accusation_smoothing(
    min_probability: float, min_precision: float | None, metadata: dict[str, Any], classes: tuple[str, ...]
) -> tuple[SmoothingConfig, dict[str, Any]]:
    """The smoothing of a game's own model: each accusation class held back as a server holds the
    arena's ``bot_like`` (to ``min_probability``, and by the class's calibration to
    ``min_precision``: by default 0.97 where its calibration reaches it).

    Args:
        min_probability: As ``--bot-like-min-probability``, for every accusation class.
        min_precision: As ``--bot-like-min-precision``, for every accusation class.
        metadata: The model's metadata (its ``accusation_calibration``).
        classes: The accusation classes.

    Returns:
        The smoothing, and per class how it is held back (as :func:`guard_report`).

    Raises:
        ValueError: If a precision was asked for and a class's calibration does not reach it.
    """
    calibrations = metadata.get(ACCUSATION_CALIBRATION_KEY) or {}
    floors, schedule, guards = [], [], {}
    for label in classes:
        own = {CALIBRATION_KEY: calibrations[label]} if label in calibrations else {}
        guards[label] = guard_report(min_precision, own)
        schedule += [(label, float(from_s), float(p)) for from_s, p in guards[label]["minimums"]]
        if min_probability > 0:
            floors.append((label, min_probability))
    base = serving_smoothing(0.0, 0.0)
    return dataclasses.replace(
        base, min_probabilities=tuple(floors), min_probability_schedule=tuple(schedule)
    ), guards


def evaluated_splits(config: BehaviourEvalConfig, source: TrainingData) -> tuple[str, ...]:
    """The splits to evaluate: ``config.splits``; on a dataset, its default means ``test``
    (``all``: every player of the dataset).

    Raises:
        ValueError: If a dataset has no such split.
    """
    if source.dataset is None:
        return config.splits
    if config.splits == BehaviourEvalConfig().splits:
        return ("test",)
    known = (*DATASET_SPLITS, ALL_PLAYERS_SPLIT)
    strays = [split for split in config.splits if split not in known]
    if strays:
        raise ValueError(f"a behaviour dataset has the splits {known}, not {strays}")
    return config.splits


def evaluate(config: BehaviourEvalConfig) -> dict[str, Any]:
    """Evaluate a model on recorded splits (or a dataset's); see the module docstring.

    Args:
        config: Model, data, splits and output location.

    Returns:
        The figures (also written to ``<output_dir>/eval.json``).

    Raises:
        FileNotFoundError: If the data was not recorded.
        ValueError: If the recording was made for another frame size, rate or class list.
    """
    if config.dataset and PurePath(config.model_dir) == PurePath(BehaviourEvalConfig().model_dir):
        config = dataclasses.replace(config, model_dir=game_model_dir(config.dataset))  # the game's model
    if config.threads:
        torch.set_num_threads(config.threads)
    device = select_device(config.device)
    model = load_behaviour_model(config.model_dir, device)
    shares = (model.metadata.get("dataset") or {}).get("split_shares") or DEFAULT_SPLIT_SHARES
    source = open_training_data(config.data_dir, config.dataset, tuple(shares))
    manifest = source.manifest()
    check_compatible(model, manifest)
    names = model.config.class_names
    accusations: tuple[str, ...] = ()
    if source.dataset is None:
        smoothing = serving_smoothing(
            config.bot_like_min_probability, config.bot_like_min_precision, model.metadata
        )
        guards: dict[str, Any] = {
            "bot_like_guard": guard_report(config.bot_like_min_precision, model.metadata)
        }
    else:
        accusations = tuple(manifest["accusation_classes"])
        smoothing, per_class = accusation_smoothing(
            config.bot_like_min_probability, config.bot_like_min_precision, model.metadata, accusations
        )
        guards = {"accusation_guards": per_class}
    look = load_frame_look(config.model_dir)
    out = Path(config.output_dir or config.model_dir)
    report: dict[str, Any] = {
        "model": {
            "directory": str(config.model_dir),
            "version": model.version,
            "architecture": model.config.architecture,
            "frames_per_window": model.config.frames_per_window,
            "frame_size": list(model.config.frame_size),
            "sample_fps": model.config.sample_fps,
            "parameters": sum(p.numel() for p in model.net.parameters()),
        },
        "data": {"directory": source.location, "manifest_sha256": source.manifest_sha256()},
        "smoothing": smoothing.__dict__,
        **guards,
        "splits": {},
    }
    for split in evaluated_splits(config, source):
        started = time.perf_counter()
        data = source.split(split, model.config.frames_per_window)
        probabilities, loss = predict(model.net, data, np.arange(len(data)), config.batch_size, device)
        truth = data.window_labels
        served, smoothed = served_results(data, probabilities, names, model.config.sample_fps, smoothing)
        views = {"window": probabilities.argmax(axis=1), "served": served}
        entry: dict[str, Any] = {"players": len(np.unique(data.players)), "loss": round(loss, 4)}
        for view, predicted in views.items():
            matrix = confusion_matrix(truth, predicted, len(names))
            entry[view] = classification_report(matrix, names)
            title = f"{split} split, {view} view: accuracy {entry[view]['accuracy']:.3f}, "
            title += f"macro-F1 {entry[view]['macro_f1']:.3f}"
            save_confusion_png(out / f"confusion_{split}_{view}.png", matrix, names, title)
        if BOT_LIKE in names and source.dataset is None:
            entry["served"]["bot_like_thresholds"] = flag_thresholds(
                truth, served, smoothed, names.index(BOT_LIKE), BOT_LIKE_THRESHOLDS
            )
        if accusations:
            entry["served"]["accusation_thresholds"] = {
                label: flag_thresholds(truth, served, smoothed, names.index(label), BOT_LIKE_THRESHOLDS)
                for label in accusations
            }
        seconds = data.window_end_seconds(model.config.sample_fps)
        entry["served"]["by_time"] = served_by_time(truth, served, seconds, names)
        if look is not None:
            entry["look"] = look_report(look, data)
        entry["seconds"] = round(time.perf_counter() - started, 1)
        report["splits"][split] = entry
    report["goals"] = goals(report) if source.dataset is None else {}  # the arena's issue 4
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if config.write_metadata:
        write_eval_metadata(Path(config.model_dir), report)
    return report


def look_report(look: FrameLook, data: WindowDataset) -> dict[str, Any]:
    """How many of a split's windows the server would call ``unknown`` (its frames scored by the
    model's look as the server scores them; its own game's windows: the fewer the better)."""
    scores = split_window_scores(look, data)
    return {
        "threshold": round(look.threshold, 6),
        "unknown_share": round(float((scores > look.threshold).mean()), 5),
        "score_median": round(float(np.median(scores)), 5),
        "score_max": round(float(scores.max()), 5),
    }


def guard_report(min_precision: float | None, metadata: dict[str, Any]) -> dict[str, Any]:
    """How the served view holds ``bot_like`` back (as a server with that setting), for ``eval.json``."""
    guard = bot_like_guard(metadata, min_precision)
    if guard.schedule is None:
        return {"min_precision": None, "minimums": [], "default": not guard.requested, "reason": guard.reason}
    return {
        "min_precision": guard.schedule.precision,
        "minimums": [list(pair) for pair in guard.schedule.minimums()],
        "default": not guard.requested,
        "reason": "",
    }


def served_by_time(
    truth: np.ndarray, served: np.ndarray, seconds: np.ndarray, class_names: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The served figures by how much of the player's play the server had seen.

    A session's first seconds rest on few windows; a game that keeps a player for minutes
    mostly sees the later results. One row per non-empty bucket ``(from_s, to_s]`` of
    :data:`SERVED_TIME_EDGES`.

    Args:
        truth: ``(N,)`` true class of each window.
        served: ``(N,)`` the served label after each window.
        seconds: ``(N,)`` seconds of play seen when each result was sent
            (:meth:`~gameai.training.behaviour.dataset.WindowDataset.window_end_seconds`).
        class_names: The model's labels.

    Returns:
        Rows of ``from_s``, ``to_s`` (None: no end), ``windows``, ``accuracy``, ``macro_f1`` and,
        with a ``bot_like`` class, ``bot_like_sent`` (results that said it), its
        ``bot_like_precision`` (None when none did) and ``bot_like_recall``.
    """
    rows = []
    for low, high in itertools.pairwise(SERVED_TIME_EDGES):
        inside = (seconds > low) & (seconds <= high)  # a minute-long session ends in (30, 60]
        if not inside.any():
            continue
        report = classification_report(
            confusion_matrix(truth[inside], served[inside], len(class_names)), class_names
        )
        row: dict[str, Any] = {
            "from_s": low,
            "to_s": None if math.isinf(high) else high,
            "windows": int(inside.sum()),
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
        }
        if BOT_LIKE in class_names:
            sent = int((served[inside] == class_names.index(BOT_LIKE)).sum())
            row["bot_like_sent"] = sent
            # None where the label was not sent at all (held back early in a session).
            row["bot_like_precision"] = report["per_class"][BOT_LIKE]["precision"] if sent else None
            row["bot_like_recall"] = report["per_class"][BOT_LIKE]["recall"]
        rows.append(row)
    return rows


def goals(report: dict[str, Any]) -> dict[str, Any]:
    """The goals of issue 4 beside the measured figures, for both views, where the splits were evaluated.

    Returns:
        ``{goal name: {"goal": g, "window": x, "served": y, "met_window": bool, "met_served": bool}}``
        (measurements and verdicts are None for a split that was not evaluated).
    """
    splits = report["splits"]
    where = {
        "test_macro_f1": ("test", lambda view: view["macro_f1"]),
        "heldout_macro_f1": ("heldout", lambda view: view["macro_f1"]),
        "test_bot_like_precision": ("test", lambda view: view["per_class"]["bot_like"]["precision"]),
    }
    result: dict[str, Any] = {}
    for name, goal in GOALS.items():
        split, figure = where[name]
        entry: dict[str, Any] = {"goal": goal}
        for view in ("window", "served"):
            measured = figure(splits[split][view]) if split in splits else None
            entry[view] = measured
            entry[f"met_{view}"] = None if measured is None else bool(measured >= goal)
        result[name] = entry
    return result


def write_eval_metadata(model_dir: Path, report: dict[str, Any]) -> None:
    """Put the evaluation figures into ``config.json``'s metadata (the weights stay as they are)."""
    evaluation: dict[str, Any] = {
        "data_manifest_sha256": report["data"]["manifest_sha256"],
        "smoothing": report["smoothing"],
        **{key: report[key] for key in ("bot_like_guard", "accusation_guards") if key in report},
        "goals": report["goals"],
        "splits": {
            split: {
                view: {
                    k: entry[view][k]
                    for k in ("accuracy", "macro_f1", "windows", "per_class", "confusion", "by_time")
                    if k in entry[view]
                }
                for view in ("window", "served")
            }
            for split, entry in report["splits"].items()
        },
    }
    set_behaviour_metadata(model_dir, "eval", evaluation)
