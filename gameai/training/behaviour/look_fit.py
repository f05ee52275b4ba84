"""Make a model's frame look (:mod:`gameai.behaviour.look`) from its game's frames, and calibrate it.

1. **Exemplars**: the colour histograms of up to ``candidates`` training frames (drawn evenly
   from the recording); from them ``exemplars`` chosen by farthest-point sampling (start at
   one frame, then add the frame farthest, in total variation distance, from every chosen
   one), so rare looks of the game (a death screen, a crowded fight) get an exemplar too.
2. **Threshold**: window scores (mean frame distance to the nearest exemplar) of held-out
   windows of the game's own players, and of windows of other scenes
   (:mod:`.other_scenes`); the threshold lies halfway between the game's highest scores
   and the other scenes' lowest (:func:`calibrate_threshold`).
3. **Figures** (``look.json``'s metadata): the share of own held-out windows called
   ``unknown`` and the share of other-scene windows that are not, per kind of scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from gameai.behaviour.look import FrameLook, FrameLookConfig, cell_of_pixels, colour_codes
from gameai.training.behaviour.dataset import WindowDataset

#: Frames histogrammed at a time.
_BATCH = 512


def frame_histograms(frames: Any, config: FrameLookConfig) -> npt.NDArray[np.float32]:
    """``(N, cells, bins)`` the colour histograms of ``(N, H, W, 3)`` uint8 frames (any array-like
    that indexes by slices), each cell summing to 1 (:func:`gameai.behaviour.look.cell_histograms`)."""
    count = len(frames)
    out = np.empty((count, config.cells, config.bins), np.float32)
    for start in range(0, count, _BATCH):
        batch = np.asarray(frames[start : start + _BATCH])  # (B, H, W, 3)
        b, height, width = batch.shape[:3]
        codes = colour_codes(batch, config.bits)  # (B, H, W)
        cell = cell_of_pixels(height, width, config.grid)  # (H, W)
        index = (np.arange(b)[:, None, None] * config.cells + cell) * config.bins + codes
        counts = np.bincount(index.ravel(), minlength=b * config.cells * config.bins)
        counts = counts.reshape(b, config.cells, config.bins).astype(np.float32)
        out[start : start + b] = counts / counts.sum(axis=2, keepdims=True)
    return out


def farthest_point_exemplars(histograms: npt.NDArray[np.float32], count: int) -> npt.NDArray[np.int64]:
    """Indices of ``count`` histograms ``(N, cells, bins)`` that cover them (farthest-point sampling
    in total variation distance, averaged over cells, from histogram 0)."""
    n = len(histograms)
    flat = histograms.reshape(n, -1)
    cells = histograms.shape[1]
    chosen = [0]
    nearest = 0.5 * np.abs(flat - flat[0]).sum(axis=1) / cells  # (N,)
    while len(chosen) < min(count, n):
        pick = int(nearest.argmax())
        if nearest[pick] <= 0.0:
            break
        chosen.append(pick)
        nearest = np.minimum(nearest, 0.5 * np.abs(flat - flat[pick]).sum(axis=1) / cells)
    return np.array(chosen, np.int64)


def frame_distances(look: FrameLook, frames: Any) -> npt.NDArray[np.float32]:
    """``(N,)`` each frame's distance to the look's nearest exemplar (as the server computes it)."""
    return np.array([look.frame_distance(np.asarray(frames[i])) for i in range(len(frames))], np.float32)


def window_scores_of(look: FrameLook, windows: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """``(N,)`` scores of windows ``(N, K, H, W, 3)``: each one's mean frame distance."""
    n, k = windows.shape[:2]
    return frame_distances(look, windows.reshape(n * k, *windows.shape[2:])).reshape(n, k).mean(axis=1)


def split_window_scores(look: FrameLook, data: WindowDataset) -> npt.NDArray[np.float64]:
    """``(N,)`` scores of every window of a split, each frame scored once (windows overlap)."""
    cumulative = np.concatenate([[0.0], np.cumsum(frame_distances(look, data.frames), dtype=np.float64)])
    return (cumulative[data.starts + data.k] - cumulative[data.starts]) / data.k


def fit_look(
    frames: Any,
    config: FrameLookConfig,
    exemplars: int = 256,
    candidates: int = 6000,
) -> FrameLook:
    """A look (threshold 1: not calibrated yet) whose exemplars cover ``frames`` ``(F, H, W, 3)``.

    Args:
        frames: The game's training frames (an array or anything indexed by an int array).
        config: How histograms are taken.
        exemplars: Most exemplars kept.
        candidates: Frames histogrammed to choose them from (evenly spaced over ``frames``).
    """
    rows = np.unique(np.linspace(0, len(frames) - 1, min(candidates, len(frames))).astype(np.int64))
    histograms = frame_histograms(frames[rows], config)
    chosen = farthest_point_exemplars(histograms, exemplars)
    return FrameLook(config, histograms[chosen], threshold=1.0)


def calibrate_threshold(
    look: FrameLook,
    own_scores: npt.NDArray[np.float32],
    other_scores: npt.NDArray[np.float32],
    other_kinds: list[str],
    own_quantile: float = 0.999,
    other_quantile: float = 0.01,
    margin: float = 1.5,
) -> FrameLook:
    """The look with its threshold set from window scores, and the figures in its metadata.

    The threshold lies halfway between the ``own_quantile`` of the game's own scores and the
    ``other_quantile`` of the other scenes' (frames that were re-encoded, say as JPEG, or that
    show a moment of the game the exemplars missed, move away from the game's side a little;
    another game is far off). Where the two overlap (the other scenes look like the game), it
    is ``margin`` times the own quantile and ``separated`` is false in the metadata.

    Args:
        look: The fitted look.
        own_scores: Scores of held-out windows of the game's own players.
        other_scores: Scores of windows of other scenes.
        other_kinds: The kind of scene of each of ``other_scores``.
        own_quantile: Quantile of the own scores the threshold stays above.
        other_quantile: Quantile of the other scenes' scores it stays below.
        margin: Factor on the own quantile where the two overlap.

    Raises:
        ValueError: If a score list is empty or a quantile or the margin is out of range.
    """
    if len(own_scores) == 0 or len(other_scores) == 0:
        raise ValueError("the threshold needs windows of the game and of other scenes")
    if not (0.5 <= own_quantile <= 1.0 and 0.0 <= other_quantile <= 0.5 and margin >= 1.0):
        raise ValueError(f"quantiles or margin out of range: {own_quantile}, {other_quantile}, {margin}")
    own_edge = float(np.quantile(own_scores, own_quantile))
    other_edge = float(np.quantile(other_scores, other_quantile))
    separated = other_edge > own_edge
    threshold = (own_edge + other_edge) / 2.0 if separated else min(1.0, own_edge * margin)
    kinds = np.array(other_kinds)
    known_by_kind = {
        kind: round(float((other_scores[kinds == kind] <= threshold).mean()), 4)
        for kind in sorted(set(other_kinds))
    }
    metadata = {
        "own_quantile": own_quantile,
        "other_quantile": other_quantile,
        "separated": separated,
        "exemplars": len(look.exemplars),
        "own_windows": len(own_scores),
        "own_unknown_share": round(float((own_scores > threshold).mean()), 5),
        "own_score_quantiles": {
            str(q): round(float(np.quantile(own_scores, q)), 5) for q in (0.5, 0.9, 0.99, 0.999, 1.0)
        },
        "other_windows": len(other_scores),
        "other_unknown_share": round(float((other_scores > threshold).mean()), 5),
        "other_known_share_by_kind": known_by_kind,
        "other_score_quantiles": {
            str(q): round(float(np.quantile(other_scores, q)), 5) for q in (0.0, 0.01, 0.05, 0.5)
        },
    }
    return FrameLook(look.config, look.exemplars, threshold, metadata)
