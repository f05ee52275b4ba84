"""The adaptive difficulty controller on synthetic streams of match results."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest

from gameai.protocol.messages import Hello
from gameai.session.difficulty import AdaptiveDifficulty, FixedDifficulty, MatchRecord
from gameai.session.state import Session

Outcome = Literal["win", "loss", "draw"]


def _record(outcome: Outcome, behaviour: str | None = None) -> MatchRecord:
    return MatchRecord(outcome, "rival", None, None, None, 0.5, behaviour, 0.0)


def _feed(
    controller: AdaptiveDifficulty, outcomes: list[Outcome], behaviour: str | None = None
) -> list[float]:
    levels = []
    for outcome in outcomes:
        controller.observe(_record(outcome, behaviour))
        levels.append(controller.difficulty("rival"))
    return levels


def test_player_wins_raise_the_difficulty_and_losses_lower_it() -> None:
    rising = _feed(AdaptiveDifficulty(), ["win"] * 5)
    assert all(b > a for a, b in zip([0.5, *rising], rising, strict=False)) or rising[-1] == 1.0
    assert rising[-1] == 1.0  # clipped
    falling = _feed(AdaptiveDifficulty(), ["loss"] * 5)
    assert falling == sorted(falling, reverse=True) and falling[-1] == 0.0


def test_draws_leave_it_at_a_fifty_percent_target() -> None:
    assert _feed(AdaptiveDifficulty(start=0.3), ["draw"] * 4) == [0.3] * 4


def test_a_new_player_moves_gently_at_first_then_faster_while_results_agree() -> None:
    levels = _feed(AdaptiveDifficulty(), ["win"] * 4)
    assert levels == pytest.approx([0.6, 0.75, 0.975, 1.0])  # was 0.8, 1.0: two wins no longer max it out
    moves = np.diff([0.5, *_feed(AdaptiveDifficulty(), ["loss"] * 3)])
    assert moves == pytest.approx([-0.1, -0.15, -0.225])


def test_the_search_ends_at_the_first_reversal_and_the_step_keeps_its_floor() -> None:
    controller = AdaptiveDifficulty()
    levels = _feed(controller, ["win", "win", "loss", "loss", "loss"])
    moves = np.diff([0.5, *levels])
    assert moves[:2] == pytest.approx([0.1, 0.15])
    assert not controller.searching
    # At the reversal the step shrinks (0.15 -> 0.105) but not below the floor 0.15; no growth after it.
    assert moves[2:] == pytest.approx([-0.15, -0.15, -0.15])


def test_alternating_results_shrink_the_step_to_its_floor() -> None:
    controller = AdaptiveDifficulty(start=0.5, start_step=0.2, min_step=0.05, shrink=0.5)
    levels = _feed(controller, ["win", "loss"] * 6)
    moves = np.abs(np.diff([0.5, *levels]))
    assert moves[0] == pytest.approx(0.2) and moves[1] == pytest.approx(0.1)
    assert moves[-1] == pytest.approx(0.05) and controller.step == pytest.approx(0.05)


def test_a_new_behaviour_restarts_the_fast_search() -> None:
    controller = AdaptiveDifficulty(start_step=0.2, min_step=0.05, shrink=0.5)
    _feed(controller, ["win", "loss"] * 4, behaviour="aggressive")
    assert controller.step == pytest.approx(0.05)
    before = controller.value
    _feed(controller, ["win"], behaviour="evasive")
    assert controller.value == pytest.approx(min(before + 0.2, 1.0))


def test_an_uneven_target_weights_the_steps() -> None:
    controller = AdaptiveDifficulty(
        start=0.5, target=0.25, start_step=0.1, shrink=1.0, min_step=0.1, grow=1.0
    )
    controller.observe(_record("win"))
    assert controller.value == pytest.approx(0.5 + 2 * 0.1 * 0.75)
    controller.observe(_record("win"))
    controller.observe(_record("loss"))
    assert controller.value == pytest.approx(0.5 + 4 * 0.1 * 0.75 - 2 * 0.1 * 0.25)


@pytest.mark.parametrize("skill", [0.2, 0.5, 0.8])
def test_it_holds_a_simulated_player_near_the_target(skill: float) -> None:
    """Synthetic players winning with probability sigmoid((skill - d) / 0.1): d settles near skill."""
    rng = np.random.default_rng(int(skill * 10))
    rates = []
    for _ in range(200):
        controller = AdaptiveDifficulty()
        outcomes = []
        for _ in range(30):
            p_win = 1.0 / (1.0 + math.exp(-(skill - controller.value) / 0.1))
            outcome: Outcome = "win" if rng.random() < p_win else "loss"
            outcomes.append(outcome)
            controller.observe(_record(outcome))
        rates.append(outcomes[-15:].count("win") / 15)
    rates_array = np.asarray(rates)
    assert abs(rates_array.mean() - 0.5) < 0.05
    assert (np.abs(rates_array - 0.5) <= 0.15).mean() > 0.8  # mostly within the goal band


def test_sessions_adapt_by_default_and_fixed_stays() -> None:
    session = Session(session_id="s", hello=Hello(protocol=1, game_id="g"))
    assert isinstance(session.difficulty, AdaptiveDifficulty)
    session.record_match("win", "rival", None, None, None)
    assert session.difficulty.difficulty("rival") > 0.5
    fixed = FixedDifficulty(0.4)
    fixed.observe(_record("win"))
    assert fixed.difficulty(None) == 0.4


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        AdaptiveDifficulty(target=1.0)
    with pytest.raises(ValueError):
        AdaptiveDifficulty(start_step=0.4, max_step=0.3)
    with pytest.raises(ValueError):
        AdaptiveDifficulty(min_step=0.5, max_step=0.3)
    with pytest.raises(ValueError):
        AdaptiveDifficulty(grow=0.9)
