"""Classification figures: confusion matrix, per-class precision/recall/F1, macro-F1, and its PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def confusion_matrix(
    truth: npt.NDArray[np.integer[Any]], predicted: npt.NDArray[np.integer[Any]], n_classes: int
) -> npt.NDArray[np.int64]:
    """``(n_classes, n_classes)`` counts: row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth), np.asarray(predicted)), 1)
    return matrix


def classification_report(matrix: npt.NDArray[np.int64], class_names: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision, recall, F1 and support from a confusion matrix.

    A class never predicted has precision 0 (and never present, recall 0), so a collapsed
    classifier scores low rather than undefined.

    Args:
        matrix: From :func:`confusion_matrix`.
        class_names: Names of the rows, in order.

    Returns:
        ``{"accuracy", "macro_f1", "windows", "per_class": {name: {...}}, "confusion": [[...]]}``.
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    total = matrix.sum()
    return {
        "accuracy": round(float(true_positive.sum() / total), 4) if total else 0.0,
        "macro_f1": round(float(f1.mean()), 4),
        "windows": int(total),
        "per_class": {
            name: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion": matrix.tolist(),
    }


def flag_thresholds(
    truth: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
    probabilities: npt.NDArray[np.float64],
    flagged_class: int,
    thresholds: tuple[float, ...],
) -> list[dict[str, Any]]:
    """Precision and recall of one class when it counts only at a minimum probability.

    A window is flagged when its label is ``flagged_class`` and that class's probability is at
    least the threshold (what a game does when it acts on a label only past a confidence).

    Args:
        truth: ``(N,)`` true class of each window.
        labels: ``(N,)`` the label given.
        probabilities: ``(N, n_classes)`` the probabilities given with it.
        flagged_class: The class index.
        thresholds: Minimum probabilities to report.

    Returns:
        One entry per threshold: ``threshold``, ``precision``, ``recall``, ``flagged`` (windows);
        precision is 0 when nothing is flagged.
    """
    positive = truth == flagged_class
    rows = []
    for threshold in thresholds:
        flagged = (labels == flagged_class) & (probabilities[:, flagged_class] >= threshold)
        hits, count = int((flagged & positive).sum()), int(flagged.sum())
        rows.append(
            {
                "threshold": threshold,
                "precision": round(hits / max(count, 1), 4),
                "recall": round(hits / max(int(positive.sum()), 1), 4),
                "flagged": count,
            }
        )
    return rows


def save_confusion_png(
    path: Path | str, matrix: npt.NDArray[np.int64], class_names: tuple[str, ...], title: str
) -> None:
    """Draw a confusion matrix (rows normalised to recall, counts printed) as a PNG.

    Args:
        path: The PNG file.
        matrix: From :func:`confusion_matrix`.
        class_names: Row and column labels.
        title: A line above the matrix.
    """
    from PIL import Image, ImageDraw

    n = len(class_names)
    cell, left, top = 64, 96, 56
    image = Image.new("RGB", (left + n * cell + 16, top + n * cell + 72), "white")
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), title, fill="black")
    draw.text((left, top - 20), "predicted ->", fill="black")
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    for i in range(n):
        draw.text((8, top + i * cell + cell // 2 - 6), class_names[i][:12], fill="black")
        draw.text((left + i * cell + 4, top + n * cell + 6 + 14 * (i % 2)), class_names[i][:10], fill="black")
        for j in range(n):
            shade = int(255 * (1.0 - share[i, j]))
            colour = (shade, shade, 255) if i == j else (255, shade, shade)
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1, top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour, outline="grey")
            text_colour = "white" if share[i, j] > 0.6 else "black"
            draw.text((box[0] + 6, box[1] + 18), f"{share[i, j]:.2f}", fill=text_colour)
            draw.text((box[0] + 6, box[1] + 34), str(int(matrix[i, j])), fill=text_colour)
    draw.text((8, top + n * cell + 44), "rows: true style (share of the row, count)", fill="black")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
