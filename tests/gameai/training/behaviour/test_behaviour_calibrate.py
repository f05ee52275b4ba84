"""The calibration's lower bound on precision resamples whole players, not windows."""

from __future__ import annotations

import numpy as np

from gameai.training.behaviour.calibrate import bootstrap_precision_low


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
