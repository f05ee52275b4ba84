"""The calibration: a lower bound on precision that resamples whole players, figures by a session's age."""

from __future__ import annotations

import numpy as np

from gameai.behaviour.calibration import CALIBRATION_KEY, bot_like_schedule
from gameai.training.behaviour.calibrate import CALIBRATION_MINIMA, bootstrap_precision_low, calibration_rows
from gameai.training.behaviour.dataset import WindowDataset
from gameai.training.behaviour.evaluate import served_results, serving_smoothing

NAMES = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")


def _windows(per_player: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of players given as (flagged, of which right) counts."""
    players, hits, flagged = [], [], []
    for player, (count, right) in enumerate(per_player):
        players += [player] * count
        flagged += [True] * count
        hits += [True] * right + [False] * (count - right)
    return np.array(players), np.array(hits), np.array(flagged)


def test_players_alike_give_a_bound_at_their_precision() -> None:
    players, hits, flagged = _windows([(10, 9)] * 50)
    assert bootstrap_precision_low(players, hits, flagged) == 0.9


def test_errors_gathered_in_a_few_players_give_a_lower_bound_than_errors_spread_out() -> None:
    spread = _windows([(20, 19)] * 40)  # precision 0.95, one error per player
    gathered = _windows([(20, 20)] * 36 + [(20, 10)] * 4)  # precision 0.95, four players half wrong
    low_spread = bootstrap_precision_low(*spread)
    low_gathered = bootstrap_precision_low(*gathered)
    assert low_spread == 0.95 and low_gathered < 0.94  # per-window counting would call both 0.95


def test_nothing_flagged_is_a_bound_of_zero() -> None:
    players = np.arange(6)
    nothing = np.zeros(6, dtype=bool)
    assert bootstrap_precision_low(players, nothing, nothing) == 0.0


def _sessions(k: int = 4, frames: int = 30) -> tuple[WindowDataset, np.ndarray]:
    """Ten bots and twenty aggressive players, 30 s each at 1 fps; ten of the aggressive ones
    look like bots in their first 10 s (the model's probabilities are made up)."""
    styles = [5] * 10 + [0] * 20
    players = np.repeat(np.arange(len(styles)), frames).astype(np.int32)
    labels = np.repeat(styles, frames).astype(np.int64)
    starts = np.concatenate([p * frames + np.arange(frames - k + 1) for p in range(len(styles))])
    blank = np.zeros((len(players), 1, 1, 3), np.uint8)
    data = WindowDataset(blank, labels, players, np.zeros_like(players), starts, k)
    seconds = data.window_end_seconds(1.0)
    probabilities = np.full((len(starts), 6), 0.02)
    for i, (player, second) in enumerate(zip(data.window_players, seconds, strict=True)):
        if styles[player] == 5:
            bot = 0.8 if second <= 10 else 0.95  # a bot's evidence grows
        else:
            bot = 0.68 if player < 20 and second <= 10 else 0.1  # the lookalikes, at first
        probabilities[i, 5], probabilities[i, 0] = bot, 0.92 - bot
    return data, probabilities


def test_the_calibration_measures_each_period_of_a_session_apart() -> None:
    data, probabilities = _sessions()
    rows, by_time = calibration_rows(data, probabilities, NAMES, 1.0)
    assert [row["min_probability"] for row in rows] == list(CALIBRATION_MINIMA)
    assert [(p["from_s"], p["to_s"], p["windows"]) for p in by_time] == [
        (0.0, 5.0, 60),  # windows end at 4 and 5 s
        (5.0, 10.0, 150),
        (10.0, 20.0, 300),
        (20.0, 30.0, 300),
    ]
    for index, row in enumerate(rows):  # every result in one period
        assert sum(period["rows"][index]["flagged"] for period in by_time) == row["flagged"]
    first = by_time[0]["rows"]
    none, strict = first[0], first[CALIBRATION_MINIMA.index(0.7)]
    assert (none["precision"], none["recall"]) == (0.5, 1.0)  # the lookalikes flagged too
    assert (strict["precision"], strict["precision_low"], strict["recall"]) == (1.0, 1.0, 1.0)
    late = by_time[3]["rows"][0]
    assert (late["precision"], late["recall"]) == (1.0, 1.0)  # the lookalikes no longer look like bots


def test_served_with_its_schedule_every_period_keeps_the_precision() -> None:
    data, probabilities = _sessions()
    rows, by_time = calibration_rows(data, probabilities, NAMES, 1.0)
    assert len(by_time) == 4
    metadata = {CALIBRATION_KEY: {"rows": rows, "by_time": by_time, "players_per_style": 10}}
    schedule = bot_like_schedule(metadata, 0.95)
    assert schedule.minimums()[0] == (0.0, 0.7) and schedule.minimums()[-1] == (20.0, 0.0)
    seconds = data.window_end_seconds(1.0)
    truth = data.window_labels
    without, _ = served_results(data, probabilities, NAMES, 1.0, serving_smoothing())
    served, _ = served_results(data, probabilities, NAMES, 1.0, serving_smoothing(0.0, 0.95, metadata))
    for step in schedule.steps:
        inside = (seconds > step.from_s) & (seconds <= (step.to_s or np.inf))
        flagged = served[inside] == 5
        assert (truth[inside][flagged] == 5).mean() >= 0.95  # against 0.5 early without the schedule
        assert (truth[inside][flagged] == 5).sum() == (truth[inside] == 5).sum()  # every bot named
    first = seconds <= 5
    assert (truth[first][without[first] == 5] == 5).mean() == 0.5
