"""The served view: the smoother knows each session's age as the server's does; figures by seconds seen."""

from __future__ import annotations

import numpy as np

from gameai.session.smoothing import SmoothingConfig
from gameai.training.behaviour.dataset import WindowDataset
from gameai.training.behaviour.evaluate import served_by_time, served_results

NAMES = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")


def test_served_figures_are_split_by_seconds_seen_and_empty_buckets_left_out() -> None:
    seconds = np.array([1.0, 2.0, 5.0, 7.0, 25.0, 30.0, 90.0, 120.0])  # buckets (from, to]
    truth = np.array([0, 5, 5, 1, 5, 0, 2, 5])
    served = np.array([5, 5, 0, 1, 5, 0, 2, 5])  # early mistakes, later right
    rows = served_by_time(truth, served, seconds, NAMES)
    assert [(row["from_s"], row["to_s"], row["windows"]) for row in rows] == [
        (0.0, 5.0, 3),
        (5.0, 10.0, 1),
        (20.0, 30.0, 2),
        (60.0, None, 2),
    ]
    first = rows[0]
    assert first["accuracy"] == round(1 / 3, 4)
    assert (first["bot_like_precision"], first["bot_like_recall"]) == (0.5, 0.5)
    assert all(row["accuracy"] == 1.0 for row in rows[1:])
    assert (rows[2]["bot_like_precision"], rows[2]["bot_like_recall"]) == (1.0, 1.0)
    assert [row["bot_like_sent"] for row in rows] == [2, 0, 1, 1]
    # Where bot_like was not said at all (held back early in a session) it has no precision.
    assert (rows[1]["bot_like_precision"], rows[1]["bot_like_recall"]) == (None, 0.0)


def test_the_replayed_smoother_knows_the_sessions_age_as_the_servers_does() -> None:
    # Two bots, 20 frames at 5 fps; windows of 8 frames: the first ends at 1.6 s, the last at 4 s.
    players = np.repeat([0, 1], 20).astype(np.int32)
    starts = np.concatenate([np.arange(13), 20 + np.arange(13)])
    blank = np.zeros((40, 1, 1, 3), np.uint8)
    data = WindowDataset(blank, np.full(40, 5), players, np.zeros_like(players), starts, 8)
    probabilities = np.tile([0.02, 0.02, 0.02, 0.02, 0.02, 0.9], (len(starts), 1))
    smoothing = SmoothingConfig(min_probability_schedule=(("bot_like", 0.0, 1.0), ("bot_like", 3.0, 0.0)))
    served, _ = served_results(data, probabilities, NAMES, 5.0, smoothing)
    seconds = data.window_end_seconds(5.0)
    assert seconds[0] == 1.6 and seconds[13] == 1.6  # each player is a new session
    np.testing.assert_array_equal(served == 5, seconds > 3.0 + 1e-9)  # bot_like only after 3 s of play
