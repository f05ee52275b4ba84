"""The shipped model in assets/behaviour, checked on freshly recorded play (new seeds).

The recording uses the same code path as training (the demo's renderer at 960x720, the
client's downscale), with player seeds from a base no recording of the shipped model used.
The figures asserted are the issue's goals where they hold (sessions of a minute) and, for a
session's first 12 s, the ones ``docs/behaviour.md`` states for these fresh players less a small
margin (the recording and the model are deterministic; the margin is for other CPUs' rounding).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gameai.behaviour.calibration import CALIBRATION_KEY, bot_like_schedule
from gameai.behaviour.model import LoadedBehaviourModel, load_behaviour_model
from gameai.training.behaviour.config import RecordConfig, Split
from gameai.training.behaviour.dataset import WindowDataset, window_starts
from gameai.training.behaviour.evaluate import served_by_time, served_results, serving_smoothing
from gameai.training.behaviour.fit import predict
from gameai.training.behaviour.metrics import classification_report, confusion_matrix
from gameai.training.behaviour.record import plan_players, record_split

SHIPPED = Path(__file__).resolve().parents[4] / "assets" / "behaviour"
FRESH_SEED = 4242
#: What docs/behaviour.md states for 12 s of these fresh players (24 per style, seed 4242; served
#: without the server's default ``bot_like`` minimums, ``fresh``'s default: the model's own figures).
#: Lower than the training recording's test split (0.883, 0.944, 0.94): against the served agent's
#: beginner handicap this set is harder (docs/behaviour.md, Limits).
STATED = {"window_macro_f1": 0.851, "served_macro_f1": 0.888, "served_bot_like_precision": 0.811}


@cache
def shipped() -> LoadedBehaviourModel:
    return load_behaviour_model(SHIPPED)


@cache
def fresh_windows(
    players_per_style: int, frames: int, split: Split = "test"
) -> tuple[WindowDataset, np.ndarray]:
    """Record fresh players (``frames`` each) and classify every window with the shipped model.

    ``split`` "test" draws the players' style parameters from the training ranges, "heldout"
    from the ranges held out of training (new seeds either way).
    """
    model = shipped()
    config = RecordConfig(
        seed=FRESH_SEED,
        train_players=0,
        val_players=0,
        test_players=players_per_style if split == "test" else 0,
        heldout_players=players_per_style if split == "heldout" else 0,
        frames_per_player=frames,
        frame_size=model.config.frame_size,
        sample_fps=model.config.sample_fps,
    )
    plans = plan_players(config, split)
    recorded = record_split(config, plans)
    labels = np.array([p.label for p in plans], dtype=np.int64)[recorded.player]
    k = model.config.frames_per_window
    starts = window_starts(recorded.player, recorded.match, k)
    data = WindowDataset(recorded.frames, labels, recorded.player, recorded.match, starts, k)
    probabilities, _ = predict(model.net, data, np.arange(len(data)), 256, torch.device("cpu"))
    return data, probabilities


def fresh(
    players_per_style: int,
    frames: int,
    bot_like_min_probability: float = 0.0,
    bot_like_min_precision: float | None = 0.0,
    split: Split = "test",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The window and served reports of fresh players (the served one as a server with those
    ``bot_like`` settings sends it, with its ``by_time`` rows; None: the server's default)."""
    model = shipped()
    data, probabilities = fresh_windows(players_per_style, frames, split)
    names = model.config.class_names
    smoothing = serving_smoothing(bot_like_min_probability, bot_like_min_precision, model.metadata)
    served, _ = served_results(data, probabilities, names, model.config.sample_fps, smoothing)
    truth = data.window_labels
    served_report = classification_report(confusion_matrix(truth, served, len(names)), names)
    seconds = data.window_end_seconds(model.config.sample_fps)
    served_report["by_time"] = served_by_time(truth, served, seconds, names)
    return (
        classification_report(confusion_matrix(truth, probabilities.argmax(axis=1), len(names)), names),
        served_report,
    )


def test_shipped_files_are_small_half_precision_and_carry_their_provenance() -> None:
    model = shipped()
    weights = SHIPPED / "model.safetensors"
    parameters = sum(p.numel() for p in model.net.parameters())
    assert weights.stat().st_size < 2.2 * parameters < 12_000_000  # float16: 2 bytes a parameter
    metadata = model.metadata
    assert metadata["weights_dtype"] == "float16" and metadata["trained_by"] == "gameai train behaviour"
    assert len(metadata["data_manifest_sha256"]) == 64
    assert metadata["capture"]["arena_size"] == [960, 720]
    assert metadata["capture"]["downscale"] == "gameai.client.frames.downscale_frame"
    assert set(metadata["eval"]["splits"]) == {"test", "heldout"}
    # Its figures are of what the server sends by default: bot_like held to precision 0.97.
    assert (
        metadata["eval"]["bot_like_guard"]["min_precision"] == 0.97
        and metadata["eval"]["bot_like_guard"]["default"]
    )
    assert metadata["eval"]["goals"]["test_bot_like_precision"]["met_served"]
    for name in ("confusion_test_window.png", "confusion_test_served.png", "confusion_heldout_served.png"):
        assert (SHIPPED / name).is_file()
    fresh_seeds = {p.seed for p in plan_players(RecordConfig(seed=FRESH_SEED, test_players=24), "test")}
    for entry in metadata["data"].values():
        low, high = entry["seeds"]
        assert not any(low <= seed <= high for seed in fresh_seeds)


def test_the_shipped_calibration_is_of_new_players_and_holds_bot_like_to_a_sure_minimum() -> None:
    metadata = shipped().metadata
    calibration = metadata[CALIBRATION_KEY]
    assert calibration["players_per_style"] == 200 and calibration["windows"] > 250_000
    assert calibration["session_seconds"] == 60.0  # every period of a session is measured
    low, high = calibration["seeds"]
    assert high - low + 1 == 6 * 200
    for entry in metadata["data"].values():  # none of them trained, validated or was tested on
        assert entry["seeds"][1] < low or entry["seeds"][0] > high
    rows = calibration["rows"]
    assert [row["flagged"] for row in rows] == sorted((row["flagged"] for row in rows), reverse=True)
    # docs/behaviour.md, section Serving: the minimum falls as a session goes on.
    assert bot_like_schedule(metadata, 0.95).minimums() == (
        (0, 0.9),
        (5, 0.75),
        (10, 0.5),
        (20, 0.0),
        (30, 0.0),
    )
    strict = bot_like_schedule(metadata, 0.97)
    assert strict.minimums() == ((0, 0.95), (5, 0.9), (10, 0.6), (20, 0.0), (30, 0.0))
    assert bot_like_schedule(metadata, 0.98).minimums() == (
        (0, 0.95),
        (5, 0.9),
        (10, 0.65),
        (20, 0.5),
        (30, 0.0),
    )
    assert all(step.precision_low >= 0.97 for step in strict.steps)


def test_fresh_play_is_recognised_well_above_chance() -> None:
    window, served = fresh(players_per_style=4, frames=60)
    assert window["macro_f1"] > 0.4  # chance: 1/6
    for style in ("collector", "evasive", "idle"):  # the styles it tells apart best (docs/behaviour.md)
        assert served["per_class"][style]["recall"] >= 0.6, (style, served["per_class"][style])


def test_fresh_play_is_recognised_once_the_server_has_seen_20_seconds_of_it() -> None:
    """A session's first seconds rest on few windows; a game keeps its players for longer."""
    _, served = fresh(players_per_style=4, frames=150)  # 30 s of play each
    early, late = served["by_time"][0], served["by_time"][-1]
    assert (early["from_s"], late["from_s"]) == (0.0, 20.0)
    assert late["accuracy"] >= 0.9 and late["accuracy"] > early["accuracy"], served["by_time"]


@pytest.mark.slow
def test_fresh_minute_long_sessions_at_the_stated_accuracy() -> None:
    _, served = fresh(players_per_style=24, frames=300)  # 60 s of play each
    after_20_s = [row for row in served["by_time"] if row["from_s"] >= 20.0]
    assert len(after_20_s) == 2  # (20, 30] s and (30, 60] s
    # docs/behaviour.md, section Evaluation: 0.97-0.99 after 20 s on 300 players per split.
    assert all(row["macro_f1"] >= 0.95 for row in after_20_s), after_20_s
    assert served["macro_f1"] >= 0.95, served


@pytest.mark.slow
def test_fresh_play_at_the_stated_accuracy() -> None:
    window, served = fresh(players_per_style=24, frames=60)  # as large as the test split
    assert window["macro_f1"] >= STATED["window_macro_f1"] - 0.02, window
    assert served["macro_f1"] >= STATED["served_macro_f1"] - 0.02, served
    assert served["per_class"]["bot_like"]["precision"] >= STATED["served_bot_like_precision"] - 0.04, served


@pytest.mark.slow
def test_fresh_play_with_the_calibrated_bot_like_schedule_rarely_calls_a_person_a_bot() -> None:
    # docs/behaviour-guards.md: at the server's default (precision 0.97), 0.94-1.00 on 12-s
    # sessions (0.943 on these players: the one set of eight below 0.95) and 0.96-0.99 over a
    # minute, on sets of 24 to 50 players per style.
    for frames, precision, recall in ((60, 0.94, 0.3), (300, 0.95, 0.7)):
        _, served = fresh(players_per_style=24, frames=frames, bot_like_min_precision=None)
        bot_like = served["per_class"]["bot_like"]
        assert bot_like["precision"] >= precision and bot_like["recall"] >= recall, (frames, bot_like)


@pytest.mark.slow
def test_the_issues_goals_as_the_server_serves_a_minute_of_play_by_default() -> None:
    """Issue 4's goals, of what a game receives over a minute of each new player's play.

    Every result from the first window on counts (the first seconds too), as the server sends
    it by default (``bot_like`` held to the calibrated precision 0.97). docs/behaviour.md,
    section Evaluation: 0.965 / 0.965 macro-F1 and 0.989 / 0.989 precision on 50 players per
    style per split.
    """
    _, new_seeds = fresh(players_per_style=24, frames=300, bot_like_min_precision=None)
    _, new_ranges = fresh(players_per_style=24, frames=300, bot_like_min_precision=None, split="heldout")
    assert new_seeds["macro_f1"] >= 0.95, new_seeds
    assert new_ranges["macro_f1"] >= 0.90, new_ranges
    for served in (new_seeds, new_ranges):
        assert served["per_class"]["bot_like"]["precision"] >= 0.95, served["per_class"]["bot_like"]
