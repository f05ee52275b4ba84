"""Smoothing behaviour results: evidence accumulates, labels do not flicker, real changes get through."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gameai.behaviour.calibration import ACCUSATION_CALIBRATION_KEY, ACCUSATION_CLASSES_KEY, CALIBRATION_KEY
from gameai.runtime.config import RuntimeConfig
from gameai.session.smoothing import BehaviourSmoother, SmoothingConfig, smoothing_config

CLASSES = ("a", "b", "c")


def _p(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def test_first_window_is_reported_as_is() -> None:
    smoother = BehaviourSmoother(CLASSES)
    result = smoother.update(_p(0.2, 0.7, 0.1), elapsed_s=0.2)
    assert result.label == "b"
    np.testing.assert_allclose(result.probabilities, [0.2, 0.7, 0.1], atol=1e-9)
    assert result.confidence == pytest.approx(0.7)


def test_evidence_is_a_half_life_weighted_mean_of_log_probabilities() -> None:
    smoother = BehaviourSmoother(CLASSES, SmoothingConfig(half_life_s=2.0, switch_margin=0.0))
    first, second = _p(0.6, 0.3, 0.1), _p(0.1, 0.3, 0.6)
    smoother.update(first, 0.2)
    result = smoother.update(second, elapsed_s=2.0)  # one half-life later the first counts half
    expected = np.exp((0.5 * np.log(first) + 1.0 * np.log(second)) / 1.5)
    np.testing.assert_allclose(result.probabilities, expected / expected.sum(), atol=1e-9)
    assert result.probabilities.sum() == pytest.approx(1.0)


def test_alternating_close_windows_do_not_flicker_the_label() -> None:
    smoother = BehaviourSmoother(CLASSES, SmoothingConfig(half_life_s=3.0, switch_margin=0.15))
    raw_labels, labels = [], []
    for i in range(40):
        p = _p(0.5, 0.4, 0.1) if i % 2 == 0 else _p(0.4, 0.5, 0.1)
        raw_labels.append(CLASSES[int(np.argmax(p))])
        labels.append(smoother.update(p, 0.2).label)
    assert len(set(raw_labels)) == 2  # the model flickers...
    assert set(labels) == {"a"}  # ...the served label does not


def test_a_lasting_change_gets_through_within_a_few_half_lives() -> None:
    config = SmoothingConfig(half_life_s=3.0, switch_margin=0.15)
    smoother = BehaviourSmoother(CLASSES, config)
    for _ in range(100):
        smoother.update(_p(0.8, 0.1, 0.1), 0.2)
    switched_after = None
    for step in range(1, 200):
        if smoother.update(_p(0.1, 0.1, 0.8), 0.2).label == "c":
            switched_after = step * 0.2
            break
    assert switched_after is not None
    assert config.half_life_s * 0.5 < switched_after < config.half_life_s * 3


def test_zero_half_life_reports_each_window_and_reset_forgets() -> None:
    smoother = BehaviourSmoother(CLASSES, SmoothingConfig(half_life_s=0.0, switch_margin=0.0))
    assert smoother.update(_p(0.7, 0.2, 0.1), 0.2).label == "a"
    assert smoother.update(_p(0.1, 0.2, 0.7), 0.2).label == "c"
    smoothing = BehaviourSmoother(CLASSES, SmoothingConfig(half_life_s=100.0))
    smoothing.update(_p(0.9, 0.05, 0.05), 0.2)
    smoothing.reset()
    assert smoothing.update(_p(0.05, 0.9, 0.05), 0.2).label == "b"


def test_confidence_is_the_probability_of_the_label_even_when_held() -> None:
    smoother = BehaviourSmoother(CLASSES, SmoothingConfig(half_life_s=1.0, switch_margin=0.3))
    smoother.update(_p(0.5, 0.4, 0.1), 0.2)
    result = smoother.update(_p(0.3, 0.6, 0.1), 1.0)
    assert result.label == "a"  # "b" leads, but by less than the margin
    assert result.confidence == pytest.approx(result.probabilities[0])
    assert result.probabilities[1] > result.probabilities[0]


def test_zero_probabilities_do_not_break_the_logarithm() -> None:
    smoother = BehaviourSmoother(CLASSES)
    result = smoother.update(_p(1.0, 0.0, 0.0), 0.2)
    result = smoother.update(_p(0.0, 1.0, 0.0), 0.2)
    assert np.all(np.isfinite(result.probabilities)) and math.isclose(result.probabilities.sum(), 1.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        SmoothingConfig(half_life_s=-1.0)
    with pytest.raises(ValueError):
        SmoothingConfig(switch_margin=1.0)
    with pytest.raises(ValueError, match="expected 3"):
        BehaviourSmoother(CLASSES).update(_p(0.5, 0.5), 0.2)


def test_the_server_defaults_are_the_smoothing_defaults() -> None:
    assert smoothing_config(RuntimeConfig()) == SmoothingConfig()


def test_a_label_with_a_minimum_probability_is_reported_only_above_it() -> None:
    config = SmoothingConfig(half_life_s=0.0, switch_margin=0.0, min_probabilities=(("c", 0.8),))
    smoother = BehaviourSmoother(CLASSES, config)
    result = smoother.update(_p(0.1, 0.2, 0.7), 0.2)
    assert result.label == "b"  # "c" leads, but below its minimum: the runner-up is said
    assert result.confidence == pytest.approx(0.2)
    np.testing.assert_allclose(result.probabilities, [0.1, 0.2, 0.7], atol=1e-9)  # sent as they are
    assert smoother.update(_p(0.05, 0.1, 0.85), 0.2).label == "c"
    assert BehaviourSmoother(CLASSES).update(_p(0.1, 0.2, 0.7), 0.2).label == "c"  # no minimum


def test_a_held_label_that_falls_below_its_minimum_is_dropped_at_once() -> None:
    config = SmoothingConfig(half_life_s=1.0, switch_margin=0.5, min_probabilities=(("c", 0.6),))
    smoother = BehaviourSmoother(CLASSES, config)
    assert smoother.update(_p(0.05, 0.05, 0.9), 0.2).label == "c"
    labels = [smoother.update(_p(0.3, 0.35, 0.35), 0.2).label for _ in range(30)]
    first_other = next(i for i, label in enumerate(labels) if label != "c")
    # the margin of 0.5 would hold "c" for ever against "b"; the minimum lets go once "c" < 0.6
    assert labels[first_other] == "b" and set(labels[first_other:]) == {"b"}
    assert first_other < 10


def test_minimums_for_labels_the_model_lacks_are_ignored_and_bad_ones_refused() -> None:
    smoother = BehaviourSmoother(CLASSES, SmoothingConfig(min_probabilities=(("bot_like", 0.8),)))
    assert smoother.update(_p(0.1, 0.2, 0.7), 0.2).label == "c"
    for bad in ((("c", 1.0),), (("c", -0.1),), (("c",),)):
        with pytest.raises(ValueError, match="min_probabilities"):
            SmoothingConfig(min_probabilities=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="behaviour_bot_like_min_probability"):
        smoothing_config(RuntimeConfig(behaviour_bot_like_min_probability=1.5))


def test_the_server_setting_holds_bot_like_to_its_minimum() -> None:
    config = smoothing_config(RuntimeConfig(behaviour_bot_like_min_probability=0.8))
    assert config.min_probabilities == (("bot_like", 0.8),)
    names = ("aggressive", "bot_like")
    assert BehaviourSmoother(names, config).update(_p(0.25, 0.75), 0.2).label == "aggressive"
    assert BehaviourSmoother(names, config).update(_p(0.15, 0.85), 0.2).label == "bot_like"


def test_a_minimum_precision_holds_bot_like_to_the_models_calibrated_minimum() -> None:
    rows = [
        {"min_probability": 0.0, "precision": 0.85, "precision_low": 0.82, "recall": 0.88},
        {"min_probability": 0.8, "precision": 0.97, "precision_low": 0.96, "recall": 0.61},
    ]
    metadata = {CALIBRATION_KEY: {"rows": rows, "players_per_style": 200}}  # no by_time: one minimum
    config = smoothing_config(RuntimeConfig(behaviour_bot_like_min_precision=0.95), metadata)
    assert config.min_probability_schedule == (("bot_like", 0.0, 0.8),)
    names = ("aggressive", "bot_like")
    assert BehaviourSmoother(names, config).update(_p(0.25, 0.75), 3.2).label == "aggressive"
    assert BehaviourSmoother(names, config).update(_p(0.15, 0.85), 3.2).label == "bot_like"
    # With an explicit minimum too, the higher of the two holds.
    both = RuntimeConfig(behaviour_bot_like_min_precision=0.95, behaviour_bot_like_min_probability=0.9)
    assert BehaviourSmoother(names, smoothing_config(both, metadata)).update(_p(0.15, 0.85), 3.2).label == (
        "aggressive"
    )
    both = RuntimeConfig(behaviour_bot_like_min_precision=0.95, behaviour_bot_like_min_probability=0.5)
    assert BehaviourSmoother(names, smoothing_config(both, metadata)).update(_p(0.25, 0.75), 3.2).label == (
        "aggressive"
    )
    # Reached without a minimum: a minimum of 0.
    low = RuntimeConfig(behaviour_bot_like_min_precision=0.8)
    assert smoothing_config(low, metadata).min_probability_schedule == (("bot_like", 0.0, 0.0),)
    with pytest.raises(ValueError, match="no bot_like calibration"):
        smoothing_config(RuntimeConfig(behaviour_bot_like_min_precision=0.95), {})


def test_by_default_a_calibrated_model_holds_bot_like_to_precision_0_97() -> None:
    metadata = _by_time_metadata()  # 0.97 is reached from 5 s on (minimum 0.9), after 10 s at 0.9
    default = smoothing_config(RuntimeConfig(), metadata)
    assert default.min_probability_schedule == (
        ("bot_like", 0.0, 1.0),
        ("bot_like", 5.0, 0.9),
        ("bot_like", 10.0, 0.9),
    )
    assert default.minimums_of("bot_like") == ((0.0, 1.0), (5.0, 0.9), (10.0, 0.9))
    with_floor = smoothing_config(RuntimeConfig(behaviour_bot_like_min_probability=0.95), metadata)
    assert with_floor.minimums_of("bot_like") == ((0.0, 1.0), (5.0, 0.95), (10.0, 0.95))  # the higher
    off = smoothing_config(RuntimeConfig(behaviour_bot_like_min_precision=0.0), metadata)
    assert off == SmoothingConfig() and off.minimums_of("bot_like") == ()
    assert smoothing_config(RuntimeConfig(behaviour_bot_like_min_probability=0.8)).minimums_of(
        "bot_like"
    ) == ((0.0, 0.8),)


def _by_time_metadata() -> dict[str, object]:
    def rows(*lows: float) -> list[dict[str, float]]:
        return [
            {"min_probability": m, "precision": low, "precision_low": low, "recall": 0.5}
            for m, low in zip((0.0, 0.6, 0.9), lows, strict=True)
        ]

    by_time = [
        {"from_s": 0.0, "to_s": 5.0, "rows": rows(0.5, 0.7, 0.9)},  # 0.95 never reached
        {"from_s": 5.0, "to_s": 10.0, "rows": rows(0.8, 0.9, 0.97)},
        {"from_s": 10.0, "to_s": None, "rows": rows(0.9, 0.96, 0.99)},
    ]
    return {CALIBRATION_KEY: {"rows": rows(0.8, 0.9, 0.97), "by_time": by_time, "players_per_style": 200}}


def test_a_minimum_precision_holds_bot_like_to_a_minimum_that_falls_as_the_session_goes_on() -> None:
    config = smoothing_config(RuntimeConfig(behaviour_bot_like_min_precision=0.95), _by_time_metadata())
    assert config.min_probability_schedule == (
        ("bot_like", 0.0, 1.0),  # no minimum was sure enough in the first 5 s: not said then
        ("bot_like", 5.0, 0.9),
        ("bot_like", 10.0, 0.6),
    )
    names = ("aggressive", "bot_like")
    fixed = SmoothingConfig(half_life_s=0.0, switch_margin=0.0)  # each window as it is
    smoother = BehaviourSmoother(names, dataclasses.replace(config, half_life_s=0.0, switch_margin=0.0))
    sure, likely = _p(0.001, 0.999), _p(0.3, 0.7)
    # Ages 3.2 s (the first window), 5 s (still the first period), 5.2, 10, 10.2 s.
    ages, windows = [3.2, 5.0, 5.2, 10.0, 10.2, 11.0], [sure, sure, sure, likely, likely, sure]
    labels = []
    for age, previous, window in zip(ages, [0.0, *ages], windows, strict=False):
        labels.append(smoother.update(window, age - previous).label)
    assert labels == ["aggressive", "aggressive", "bot_like", "aggressive", "bot_like", "bot_like"]
    assert smoother.age_s == pytest.approx(11.0)
    assert BehaviourSmoother(names, fixed).update(sure, 3.2).label == "bot_like"  # without the schedule
    smoother.reset()
    assert smoother.age_s == 0.0 and smoother.update(sure, 3.2).label == "aggressive"  # a new session


def test_bad_schedules_are_refused() -> None:
    for bad in (
        (("c", 1.0, 0.5),),  # does not begin at 0
        (("c", 0.0, 0.9), ("c", 5.0, 0.5), ("c", 2.0, 0.3)),  # back in time
        (("c", 0.0, 1.5),),
        (("c", -1.0, 0.5),),
        (("c", 0.0),),
    ):
        with pytest.raises(ValueError, match="schedule"):
            SmoothingConfig(min_probability_schedule=bad)  # type: ignore[arg-type]


def test_a_games_own_accusation_classes_are_held_back_by_their_own_calibrations() -> None:
    arena_table = _by_time_metadata()[CALIBRATION_KEY]
    metadata = {
        ACCUSATION_CLASSES_KEY: ["cheater", "griefer"],
        ACCUSATION_CALIBRATION_KEY: {"cheater": arena_table},  # griefer: not calibrated
    }
    names = ("builder", "cheater", "griefer")
    config = smoothing_config(RuntimeConfig(), metadata, names)
    assert config.minimums_of("cheater") == ((0.0, 1.0), (5.0, 0.9), (10.0, 0.9))  # as bot_like would be
    assert config.minimums_of("griefer") == () and config.minimums_of("builder") == ()
    floor = smoothing_config(RuntimeConfig(behaviour_bot_like_min_probability=0.8), metadata, names)
    assert floor.minimums_of("griefer") == ((0.0, 0.8),) and floor.minimums_of("builder") == ()
    with pytest.raises(ValueError, match="no griefer calibration"):
        smoothing_config(RuntimeConfig(behaviour_bot_like_min_precision=0.95), metadata, names)
    # A model with no accusation class holds nothing back, whatever its classes are called.
    assert (
        smoothing_config(RuntimeConfig(), {ACCUSATION_CLASSES_KEY: []}, ("bot_like", "b"))
        == SmoothingConfig()
    )
    with pytest.raises(ValueError, match="does not have"):
        smoothing_config(RuntimeConfig(), {ACCUSATION_CLASSES_KEY: ["cheat"]}, names)
