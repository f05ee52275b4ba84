"""Smoothing behaviour results: evidence accumulates, labels do not flicker, real changes get through."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gameai.runtime.config import RuntimeConfig
from gameai.session.smoothing import BehaviourSmoother, SmoothingConfig

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
    runtime = RuntimeConfig()
    assert SmoothingConfig() == SmoothingConfig(
        runtime.behaviour_smoothing_s, runtime.behaviour_switch_margin
    )
