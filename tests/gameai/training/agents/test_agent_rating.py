"""Elo ratings: the fit recovers known ratings; the table reads right."""

from __future__ import annotations

import numpy as np
import pytest

from gameai.training.agents.rating import ANCHOR, Result, fit_elo, markdown_table


def _expected(a: float, b: float) -> float:
    return 1.0 / (1.0 + 10.0 ** ((b - a) / 400.0))


def test_fit_recovers_the_ratings_that_made_the_results() -> None:
    truth = {"weak": 1300.0, "mid": 1500.0, "strong": 1750.0, "p1": 1450.0, "p2": 1550.0}
    results = []
    for a in ("weak", "mid", "strong"):
        for b in ("p1", "p2"):
            n = 100_000
            results.append(Result(a, b, n * _expected(truth[a], truth[b]), n))
    ratings = fit_elo(list(truth), results, anchor_names=["p1", "p2"])
    assert np.mean([ratings["p1"], ratings["p2"]]) == pytest.approx(ANCHOR)
    for name, value in truth.items():
        assert ratings[name] == pytest.approx(value, abs=3.0), name


def test_one_sided_records_keep_finite_ratings_in_order() -> None:
    results = [
        Result("always_wins", "p", 50, 50),
        Result("always_loses", "p", 0, 50),
        Result("even", "p", 25, 50),
    ]
    ratings = fit_elo(["always_wins", "always_loses", "even", "p"], results, anchor_names=["p"])
    assert ratings["always_wins"] > ratings["even"] > ratings["always_loses"]
    assert all(np.isfinite(list(ratings.values())))
    assert ratings["even"] == pytest.approx(ANCHOR, abs=1.0)


def test_markdown_table_lists_every_participant() -> None:
    table = {
        "method": "m",
        "matches_per_pairing": 4,
        "participants": [
            {"name": "arena@d=1.00", "side": "enemy", "rating": 1612.4, "matches": 8, "score": 0.5}
        ],
    }
    text = markdown_table(table)
    assert "| arena@d=1.00 | enemy | 1612 | 8 | 0.500 |" in text
