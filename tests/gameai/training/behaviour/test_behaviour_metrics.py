"""Confusion matrix, precision/recall/F1 and the PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gameai.training.behaviour.metrics import (
    classification_report,
    confusion_matrix,
    flag_thresholds,
    save_confusion_png,
)


def test_report_on_a_known_matrix() -> None:
    truth = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 1, 1])
    matrix = confusion_matrix(truth, predicted, 3)
    assert matrix.tolist() == [[2, 1, 0], [0, 2, 0], [0, 1, 0]]
    report = classification_report(matrix, ("a", "b", "c"))
    assert report["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": pytest.approx(0.6667, abs=1e-4),
                                        "f1": pytest.approx(0.8, abs=1e-4), "support": 3}  # fmt: skip
    assert report["per_class"]["b"]["precision"] == 0.5 and report["per_class"]["b"]["recall"] == 1.0
    assert report["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0.0) / 3, abs=1e-4)
    assert report["confusion"] == matrix.tolist() and report["windows"] == 6


def test_png_is_written(tmp_path: Path) -> None:
    matrix = np.array([[5, 1], [0, 4]])
    save_confusion_png(tmp_path / "cm.png", matrix, ("idle", "bot_like"), "test")
    with Image.open(tmp_path / "cm.png") as image:
        assert image.format == "PNG" and image.width > 100 and image.height > 100
        pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 3  # shaded cells, not a blank image


def test_flag_thresholds_count_only_confident_labels_of_the_class() -> None:
    truth = np.array([1, 1, 1, 0, 0])
    labels = np.array([1, 1, 0, 1, 1])  # two hits, one miss, two false flags
    probabilities = np.array([[0.1, 0.9], [0.4, 0.6], [0.6, 0.4], [0.45, 0.55], [0.2, 0.8]])
    rows = flag_thresholds(truth, labels, probabilities, 1, (0.5, 0.7, 0.95))
    assert [r["flagged"] for r in rows] == [4, 2, 0]
    assert [r["precision"] for r in rows] == [0.5, 0.5, 0.0]
    assert [r["recall"] for r in rows] == [round(2 / 3, 4), round(1 / 3, 4), 0.0]
