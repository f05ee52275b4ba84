"""Turning a model's bot_like calibration table into the minimum probability the server holds."""

from __future__ import annotations

import pytest

from gameai.behaviour.calibration import (
    CALIBRATION_KEY,
    DEFAULT_MIN_PRECISION,
    NEVER,
    bot_like_guard,
    bot_like_minimum,
    bot_like_schedule,
)

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


@pytest.mark.parametrize(
    "calibration",
    [
        {"rows": [{"min_probability": 0.5, "precision": 0.9, "precision_low": "high", "recall": 0.5}]},
        {"rows": [{"min_probability": 0.5, "precision": 0.9, "precision_low": 7.0, "recall": 0.5}]},
        {"rows": ["row"]},
        {
            "rows": [{"min_probability": 0.5, "precision": 0.9, "precision_low": 0.9, "recall": 0.5}],
            "by_time": [{"from_s": -1, "rows": []}],
        },
        {"rows": [], "players_per_style": "many"},
    ],
    ids=["string", "out-of-range", "not-an-object", "bad-period", "bad-count"],
)
def test_a_garbled_calibration_is_refused_with_what_is_wrong(calibration: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="garbled") as info:
        bot_like_schedule({CALIBRATION_KEY: calibration}, 0.95)
    assert "gameai train behaviour calibrate" in str(info.value)
    guard = bot_like_guard({CALIBRATION_KEY: calibration}, None)  # the default: served unguarded, and why
    assert guard.schedule is None and "garbled" in guard.reason


@pytest.mark.parametrize("precision", [0.0, -0.1, 1.5])
def test_a_precision_out_of_range_is_refused(precision: float) -> None:
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        bot_like_minimum(METADATA, precision)


def _period(from_s: float, to_s: float | None, *lows: float) -> dict[str, object]:
    rows = [
        {
            "min_probability": m,
            "precision": round(low + 0.01, 2),
            "precision_low": low,
            "recall": round(1.0 - m, 2),
        }
        for m, low in zip((0.0, 0.5, 0.8, 0.95), lows, strict=True)
    ]
    return {"from_s": from_s, "to_s": to_s, "rows": rows}


BY_TIME = {
    CALIBRATION_KEY: {
        "rows": ROWS,
        "players_per_style": 200,
        "by_time": [
            _period(10.0, None, 0.96, 0.98, 0.99, 0.995),  # stored in any order
            _period(0.0, 5.0, 0.7, 0.8, 0.9, 0.94),
            _period(5.0, 10.0, 0.9, 0.93, 0.96, 0.99),
        ],
    }
}


def test_a_schedule_takes_in_each_period_the_smallest_minimum_sure_of_the_precision() -> None:
    schedule = bot_like_schedule(BY_TIME, 0.95)
    assert schedule.minimums() == ((0.0, NEVER), (5.0, 0.8), (10.0, 0.0))
    first, second, last = schedule.steps
    assert (first.to_s, first.recall) == (5.0, 0.0)  # the label is not sent in the first 5 s
    assert (second.precision, second.precision_low, second.recall) == (0.97, 0.96, 0.2)
    assert last.to_s is None and schedule.players_per_style == 200
    assert schedule.describe() == "not sent to 5 s, 0.8 to 10 s, 0 after 10 s"
    assert bot_like_schedule(BY_TIME, 0.9).minimums() == ((0.0, 0.8), (5.0, 0.0), (10.0, 0.0))


def test_a_schedule_no_period_reaches_is_refused() -> None:
    with pytest.raises(ValueError, match="at any age of a session"):
        bot_like_schedule(BY_TIME, 0.999)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        bot_like_schedule(BY_TIME, 0.0)


def test_a_calibration_without_periods_gives_one_minimum_for_the_whole_session() -> None:
    schedule = bot_like_schedule(METADATA, 0.95)
    assert schedule.minimums() == ((0.0, 0.8),)
    assert schedule.describe() == "0.8 throughout"
    with pytest.raises(ValueError, match="gameai train behaviour calibrate"):
        bot_like_schedule({}, 0.95)


def test_a_server_told_nothing_holds_bot_like_to_the_default_precision_where_the_calibration_reaches_it() -> (
    None
):
    guard = bot_like_guard(METADATA, None)  # ROWS reach 0.97 at minimum 0.9
    assert guard.schedule is not None and not guard.requested and guard.reason == ""
    assert guard.schedule.precision == DEFAULT_MIN_PRECISION == 0.97
    assert guard.schedule.minimums() == ((0.0, 0.9),)
    assert bot_like_guard(METADATA, 0.95).schedule == bot_like_schedule(METADATA, 0.95)
    assert bot_like_guard(METADATA, 0.95).requested


def test_without_a_calibration_that_reaches_it_the_default_holds_nothing_back_and_says_why() -> None:
    # A user's own model may have no calibration: the server still serves it, and logs the reason.
    uncalibrated = bot_like_guard({}, None)
    assert uncalibrated.schedule is None and not uncalibrated.requested
    assert "gameai train behaviour calibrate" in uncalibrated.reason
    weak = {CALIBRATION_KEY: {"rows": ROWS[:3], "players_per_style": 200}}  # best lower bound 0.951
    assert "best lower bound was 0.951" in bot_like_guard(weak, None).reason
    # Asked for explicitly, the same models are refused; 0 turns the guard off.
    for metadata in ({}, weak):
        with pytest.raises(ValueError):
            bot_like_guard(metadata, 0.97)
    off = bot_like_guard(METADATA, 0.0)
    assert off.schedule is None and off.requested and "turned off" in off.reason
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        bot_like_guard(METADATA, -0.5)
