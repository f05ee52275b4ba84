"""What a game's frames look like: the behaviour model's test for frames that are not its game.

A behaviour model knows one game's pixels. Shown anything else (another game, a menu, a
browser page) it still answers, often with full confidence, and means nothing. A
:class:`FrameLook` is made with the model, from its own game's frames, and says how unlike
them a frame is:

* a frame's **colour histogram**: each pixel's colour quantised to ``bits`` bits per channel
  (``2 ** (3 * bits)`` bins), counted in each cell of a ``grid x grid`` split of the frame and
  normalised per cell (a game's look is its colours and roughly where they are);
* a frame's **distance**: the total variation distance between its histogram and the nearest
  of the game's **exemplars** (histograms of the game's own frames, chosen to cover them:
  the training frames' farthest-point sample), averaged over the cells; 0 is a frame exactly
  like an exemplar, 1 a frame with no colour in common with any;
* a **window's score**: the mean distance of its K frames. Above :attr:`FrameLook.threshold`
  the window is ``unknown``: the server sends the label ``unknown`` (with the model's
  probabilities), keeps the window out of the session's smoothed evidence, and never sends an
  accusation class for it.

``gameai train behaviour calibrate`` fits it (the threshold from held-out frames of the game
against scenes of other looks: ``docs/behaviour-guards.md``, section *Unknown*) and writes two
files beside the model: ``look.safetensors`` (the exemplars, float16 ``(E, cells, bins)``) and
``look.json`` (the settings, the threshold, the calibration's figures and the weights'
SHA-256). A model directory without them has no ``unknown`` test. Scoring is numpy only: the
server's event loop scores each frame as it arrives (about a tenth of a millisecond).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from gameai.model_files import ModelLoadError, read_json, sha256_of, write_json
from gameai.vocabulary import UNKNOWN_BEHAVIOUR

FORMAT: Final = "gameai-frame-look"
FORMAT_VERSION: Final = 1
LOOK_WEIGHTS_FILE: Final = "look.safetensors"
LOOK_CONFIG_FILE: Final = "look.json"
#: The label a window gets when its frames are not the model's game (never a class name).
UNKNOWN: Final = UNKNOWN_BEHAVIOUR


@dataclass(frozen=True)
class FrameLookConfig:
    """How a frame's colour histogram is taken (saved in ``look.json``)."""

    bits: int = 4
    """Bits kept per colour channel: ``2 ** (3 * bits)`` histogram bins (4: 4,096)."""
    grid: int = 2
    """The frame is split into ``grid x grid`` cells, each with its own histogram."""

    def __post_init__(self) -> None:
        if self.bits not in (2, 3, 4, 5):
            raise ValueError(f"bits must be 2, 3, 4 or 5, got {self.bits!r}")
        if self.grid not in (1, 2, 3, 4):
            raise ValueError(f"grid must be 1, 2, 3 or 4, got {self.grid!r}")

    @property
    def bins(self) -> int:
        """Histogram bins per cell."""
        return 1 << (3 * self.bits)

    @property
    def cells(self) -> int:
        """Cells per frame."""
        return self.grid * self.grid


def colour_codes(frame: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.intp]:
    """``frame.shape[:-1]`` each pixel's quantised colour: ``bits`` bits of R, then G, then B."""
    shift = 8 - bits
    red = (frame[..., 0] >> shift).astype(np.intp)
    green = (frame[..., 1] >> shift).astype(np.intp)
    return (red << (2 * bits)) | (green << bits) | (frame[..., 2] >> shift)


def _check_frame(frame: npt.NDArray[np.uint8], grid: int) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    if frame.shape[0] < grid or frame.shape[1] < grid:
        raise ValueError(
            f"a frame of {frame.shape[0]}x{frame.shape[1]} pixels cannot be split into {grid}x{grid} cells"
        )


def cell_of_pixels(height: int, width: int, grid: int) -> npt.NDArray[np.intp]:
    """``(H, W)`` the grid cell of each pixel, row-major."""
    rows = np.arange(height) * grid // height
    cols = np.arange(width) * grid // width
    return (rows[:, None] * grid + cols[None, :]).astype(np.intp)


def cell_counts(frame: npt.NDArray[np.uint8], config: FrameLookConfig) -> npt.NDArray[np.intp]:
    """``(cells * bins,)`` how many pixels of each cell have each quantised colour.

    Raises:
        ValueError: If the frame is not ``(H, W, 3)`` uint8 of at least ``grid`` pixels a side.
    """
    _check_frame(frame, config.grid)
    codes = colour_codes(frame, config.bits)
    if config.grid > 1:
        height, width = frame.shape[:2]
        codes = codes + cell_of_pixels(height, width, config.grid) * config.bins
    return np.bincount(codes.ravel(), minlength=config.cells * config.bins)


def cell_histograms(frame: npt.NDArray[np.uint8], config: FrameLookConfig) -> npt.NDArray[np.float32]:
    """``(cells, bins)`` the frame's colour histogram in each grid cell, each summing to 1.

    Raises:
        ValueError: If the frame is not ``(H, W, 3)`` uint8 of at least ``grid`` pixels a side.
    """
    counts = cell_counts(frame, config).reshape(config.cells, config.bins).astype(np.float32)
    return counts / counts.sum(axis=1, keepdims=True)


def exemplar_support(
    exemplars: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """The exemplars ``(E, cells, bins)`` bin-major, only where any has mass: the flat indices
    ``(S,)`` of those ``cells * bins`` bins and their values ``(S, E)``."""
    columns = exemplars.reshape(len(exemplars), -1).T  # (cells * bins, E)
    support = np.flatnonzero(columns.any(axis=1)).astype(np.intp)
    return support, np.ascontiguousarray(columns[support], dtype=np.float32)


def count_distances(
    counts: npt.NDArray[np.integer],
    support: npt.NDArray[np.intp],
    support_values: npt.NDArray[np.float32],
    config: FrameLookConfig,
) -> npt.NDArray[np.float32]:
    """``(E,)`` total variation distance of one frame's per-cell colour counts ``(cells * bins,)``
    to each exemplar (:func:`exemplar_support`), averaged over the cells.

    Per cell, ``0.5 * sum |h - e| = 1 - sum min(h, e)`` for two histograms that sum to 1, and
    ``min(h, e)`` is 0 wherever the exemplars have no mass: only the ``S`` bins of the game's own
    colours are read, whatever the frame holds (a frame of noise costs what a game frame costs).
    """
    totals = counts.reshape(config.cells, config.bins).sum(axis=1)
    h = (counts[support] / totals[support // config.bins]).astype(np.float32)  # (S,)
    overlap = np.minimum(support_values, h[:, None]).sum(axis=0)  # (E,)
    return (1.0 - overlap / config.cells).astype(np.float32)


@dataclass
class FrameLook:
    """A game's look: its exemplar histograms and the threshold of an ``unknown`` window."""

    config: FrameLookConfig
    """How histograms are taken."""
    exemplars: npt.NDArray[np.float32]
    """``(E, cells, bins)`` histograms of the game's own frames."""
    threshold: float
    """A window whose score (mean frame distance) is above this is ``unknown``."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """The calibration's figures (``look.json``'s ``metadata``)."""

    def __post_init__(self) -> None:
        expected = (self.config.cells, self.config.bins)
        if self.exemplars.ndim != 3 or self.exemplars.shape[1:] != expected or len(self.exemplars) < 1:
            raise ValueError(
                f"exemplars must be (E >= 1, {expected[0]}, {expected[1]}), got {self.exemplars.shape}"
            )
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        self.support, self.support_values = exemplar_support(self.exemplars)

    def frame_distance(self, frame: npt.NDArray[np.uint8]) -> float:
        """How unlike the game's frames one ``(H, W, 3)`` uint8 frame is: 0 (like one) to 1.

        Raises:
            ValueError: If the frame is not ``(H, W, 3)`` uint8 of at least ``grid`` pixels a side.
        """
        counts = cell_counts(frame, self.config)
        return float(count_distances(counts, self.support, self.support_values, self.config).min())

    def is_unknown(self, window_score: float) -> bool:
        """Whether a window of this score (mean frame distance) is not the game's."""
        return window_score > self.threshold


def save_frame_look(directory: Path | str, look: FrameLook) -> None:
    """Write ``look.safetensors`` and ``look.json`` into a model directory."""
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / LOOK_WEIGHTS_FILE
    save_file({"exemplars": look.exemplars.astype(np.float16)}, str(weights))
    write_json(
        directory / LOOK_CONFIG_FILE,
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": {"bits": look.config.bits, "grid": look.config.grid},
            "threshold": look.threshold,
            "weights_sha256": sha256_of(weights),
            "metadata": look.metadata,
        },
    )


def load_frame_look(directory: Path | str) -> FrameLook | None:
    """The look of a model directory (None: it has no ``look.json``, so no ``unknown`` test).

    Raises:
        ModelLoadError: If the files are there but unreadable, altered or inconsistent (which
            file and what is wrong).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    directory = Path(directory)
    path = directory / LOOK_CONFIG_FILE
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: not a {FORMAT} file")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{path}: format_version {data.get('format_version')!r} unsupported")
    weights = directory / LOOK_WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"{weights}: missing (look.json refers to it)")
    if sha256_of(weights) != data.get("weights_sha256"):
        raise ModelLoadError(f"{weights}: SHA-256 differs from look.json's (altered or truncated)")
    try:
        exemplars = load_file(str(weights))["exemplars"].astype(np.float32)
        settings: dict[str, Any] = data.get("config") or {}
        metadata = data.get("metadata") or {}
        return FrameLook(
            FrameLookConfig(bits=settings["bits"], grid=settings["grid"]),
            exemplars,
            float(data["threshold"]),
            metadata if isinstance(metadata, dict) else {},
        )
    except (SafetensorError, KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: {exc}") from exc
