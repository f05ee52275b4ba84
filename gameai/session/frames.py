"""The last K frames of a session, for the behaviour model's window."""

from __future__ import annotations

import numpy as np


class FrameRingBuffer:
    """A fixed ring of the most recent frames (preallocated, no per-frame allocation).

    Args:
        capacity: K, the frames per window.
        height: Frame height in pixels.
        width: Frame width in pixels.
        channels: Colour channels (3).
    """

    def __init__(self, capacity: int, height: int, width: int, channels: int = 3) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._frames = np.zeros((capacity, height, width, channels), dtype=np.uint8)
        self._next = 0
        self._count = 0
        self._orders = [np.roll(np.arange(capacity), -start) for start in range(capacity)]

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        """Whether K frames have been pushed (a window can be taken)."""
        return self._count >= self.capacity

    def push(self, frame: np.ndarray) -> None:
        """Copy a frame in, replacing the oldest once full.

        Args:
            frame: ``(height, width, channels)`` uint8.

        Raises:
            ValueError: If the frame has another shape.
        """
        if frame.shape != self._frames.shape[1:]:
            raise ValueError(f"frame shape {frame.shape} != {self._frames.shape[1:]}")
        self._frames[self._next] = frame
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def window(self) -> np.ndarray:
        """The frames oldest first, as a new ``(K, height, width, channels)`` array.

        Raises:
            ValueError: If fewer than K frames were pushed.
        """
        if not self.full:
            raise ValueError(f"only {self._count} of {self.capacity} frames so far")
        return self._frames.take(self._orders[self._next], axis=0)

    def clear(self) -> None:
        """Forget every frame."""
        self._next = 0
        self._count = 0
