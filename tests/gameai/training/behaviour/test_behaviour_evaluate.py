"""The served figures by how much of a player's play the server had seen."""

from __future__ import annotations

import numpy as np

from gameai.training.behaviour.evaluate import served_by_time

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
