"""Turning a model's bot_like calibration table into the minimum probability the server holds."""

from __future__ import annotations

import pytest

from gameai.behaviour.calibration import CALIBRATION_KEY, bot_like_minimum

ROWS = [
    {"min_probability": 0.0, "precision": 0.85, "precision_low": 0.82, "recall": 0.88},
    {"min_probability": 0.7, "precision": 0.955, "precision_low": 0.937, "recall": 0.72},
    {"min_probability": 0.8, "precision": 0.966, "precision_low": 0.951, "recall": 0.66},
    {"min_probability": 0.9, "precision": 0.99, "precision_low": 0.97, "recall": 0.45},
]
METADATA = {CALIBRATION_KEY: {"rows": list(reversed(ROWS)), "players_per_style": 200}}


def test_the_smallest_minimum_whose_lower_bound_reached_the_precision_is_chosen() -> None:
    chosen = bot_like_minimum(METADATA, 0.95)  # not 0.7: its precision 0.955 is no sure 0.95
    assert (chosen.min_probability, chosen.precision, chosen.precision_low) == (0.8, 0.966, 0.951)
    assert (chosen.recall, chosen.players_per_style) == (0.66, 200)
    assert bot_like_minimum(METADATA, 0.96).min_probability == 0.9
    assert bot_like_minimum(METADATA, 0.5).min_probability == 0.0  # reached without a minimum


def test_an_unreachable_precision_says_what_the_best_was() -> None:
    with pytest.raises(ValueError, match=r"best lower bound was 0\.970 \(precision 0\.990\) at minimum 0\.9"):
        bot_like_minimum(METADATA, 0.995)


def test_a_model_without_a_calibration_is_refused_with_the_command_that_makes_one() -> None:
    for metadata in ({}, {CALIBRATION_KEY: {"rows": []}}, {CALIBRATION_KEY: "nonsense"}):
        with pytest.raises(ValueError, match="gameai train behaviour calibrate"):
            bot_like_minimum(metadata, 0.95)


@pytest.mark.parametrize("precision", [0.0, -0.1, 1.5])
def test_a_precision_out_of_range_is_refused(precision: float) -> None:
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        bot_like_minimum(METADATA, precision)
