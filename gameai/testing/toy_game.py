"""A toy game for the behaviour tests of a game's own model: a dot that stays still, drifts or darts.

Its classes are how fast the dot moves (``still``, ``slow``, ``fast``; ``fast`` its accusation
class); only the motion tells them apart. :func:`write_toy_dataset` fills a behaviour dataset
through the public API (:class:`gameai.behaviour.dataset.DatasetWriter`), as a studio's scripted
players would; :func:`toy_frames` draws one more play of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

import numpy as np

from gameai.behaviour.dataset import DatasetWriter

SPEEDS: Final = {"still": 0.0, "slow": 1.0, "fast": 3.5}
"""Each class and its dot's speed in pixels per frame."""
SIZE: Final = 48
"""Frames are SIZE x SIZE pixels."""
Colour = tuple[int, int, int]
FIXED_BACKGROUND: Final[Colour] = (24, 96, 48)
"""The ``fixed`` palette's background (green)."""
FIXED_DOT: Final[Colour] = (250, 210, 40)
"""The ``fixed`` palette's dot (yellow)."""
Palette = Literal["per_player", "fixed"]
"""``per_player``: every player's colours drawn at random (no colour is the game's own);
``fixed``: the game's own green background and yellow dot, whoever plays."""


def toy_frames(
    label: str,
    count: int,
    rng: np.random.Generator,
    background: Colour = FIXED_BACKGROUND,
    dot: Colour = FIXED_DOT,
) -> Iterator[np.ndarray]:
    """``count`` frames ``(SIZE, SIZE, 3)`` uint8 of one play of class ``label``."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    speed = SPEEDS[label]
    position = rng.uniform(8, SIZE - 8, 2)
    velocity = np.zeros(2)
    for i in range(count):
        if i % 10 == 0:  # a new heading now and then
            angle = rng.uniform(0, 2 * np.pi)
            velocity = speed * np.array([np.cos(angle), np.sin(angle)])
        position = position + velocity
        for axis in range(2):  # bounce off the edges
            if not 4 <= position[axis] <= SIZE - 5:
                velocity[axis] = -velocity[axis]
                position[axis] = np.clip(position[axis], 4, SIZE - 5)
        frame = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
        frame[:] = background
        frame[(rows - position[1]) ** 2 + (cols - position[0]) ** 2 <= 6.25] = dot
        yield frame


def _colour(values: np.ndarray) -> Colour:
    red, green, blue = (int(v) for v in values)
    return red, green, blue


def write_toy_dataset(
    path: Path, players: int = 30, frames: int = 30, seed: int = 0, palette: Palette = "per_player"
) -> None:
    """Each player plays one session per class: 3 unlabelled frames, then ``frames`` labelled ones."""
    writer = DatasetWriter(
        path,
        game_id="toy",
        classes=tuple(SPEEDS),
        accusation_classes=("fast",),
        frame_size=(SIZE, SIZE),
        sample_fps=5.0,
    )
    rng = np.random.default_rng(seed)
    for player in range(players):
        background: Colour = FIXED_BACKGROUND
        dot: Colour = FIXED_DOT
        if palette == "per_player":
            background, dot = _colour(rng.integers(0, 90, 3)), _colour(rng.integers(150, 256, 3))
        for label in SPEEDS:
            with writer.session(f"player-{player:03d}", session_id=f"{player:03d}-{label}") as session:
                for i, frame in enumerate(toy_frames(label, frames + 3, rng, background, dot)):
                    if i == 3:
                        session.set_label(label)
                    session.add_frame(frame)
