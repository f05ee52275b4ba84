"""The behaviour heads in bfloat16 serve the shipped arena model's classes, on fresh play."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.model import load_behaviour_model
from gameai.runtime.device import behaviour_head_dtype, cpu_has_native_bfloat16
from gameai.runtime.models import BehaviourClassifier, WindowRequest
from gameai.training.behaviour.record import record_windows

SHIPPED = Path(__file__).resolve().parents[3] / "assets" / "behaviour"
FRESH_SEED = 6262  # no recording of the shipped model used it


@cache
def fresh_probabilities(precision: str) -> np.ndarray:
    """``(N, classes)`` what the served classifier gives on windows of fresh scripted players."""
    model = load_behaviour_model(SHIPPED, "cpu")
    windows, starts = record_windows(
        FRESH_SEED, "test", players=6, frames_per_player=64, k=model.config.frames_per_window, every=3
    )
    classifier = BehaviourClassifier(model, precision)
    k = model.config.frames_per_window
    requests = [
        WindowRequest(window, int(first) + k - 1, None) for window, first in zip(windows, starts, strict=True)
    ]
    return np.stack(classifier(requests))


def test_bfloat16_heads_give_the_float32_classes_and_probabilities() -> None:
    exact, half = fresh_probabilities("float32"), fresh_probabilities("bfloat16")
    assert len(exact) >= 400
    assert np.mean(exact.argmax(axis=1) == half.argmax(axis=1)) >= 0.99  # measured: 507 of 508
    assert np.abs(exact - half).max() <= 0.03  # measured: 0.012


def test_the_setting_picks_the_dtype() -> None:
    cpu = torch.device("cpu")
    assert behaviour_head_dtype("float32", cpu) is torch.float32
    assert behaviour_head_dtype("bfloat16", cpu) is torch.bfloat16
    assert behaviour_head_dtype("bfloat16", torch.device("cuda")) is torch.float32
    native = torch.bfloat16 if cpu_has_native_bfloat16() else torch.float32
    assert behaviour_head_dtype("auto", cpu) is native
    with pytest.raises(ValueError, match="auto, float32 or bfloat16"):
        behaviour_head_dtype("float16", cpu)
