"""The last K frames of a session, for the behaviour model's window."""

from __future__ import annotations

from collections import deque

import numpy as np


class FrameRingBuffer:
    """The most recent K frames of a session, kept by reference.

    A frame that arrived over the wire is a read-only view of its message's bytes, so the
    ring keeps that view rather than copying it, and :meth:`frames` hands the window to the
    model as K references: a window costs no copy on the event loop, however large K is.
    A frame that is writable (its owner could change it later) is copied once on
    :meth:`push`, so the frames the ring holds never change.

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
        self.shape = (height, width, channels)
        """``(height, width, channels)`` of every frame."""
        self._frames: deque[np.ndarray] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def full(self) -> bool:
        """Whether K frames have been pushed (a window can be taken)."""
        return len(self._frames) == self.capacity

    def push(self, frame: np.ndarray) -> None:
        """Add a frame, replacing the oldest once full.

        Args:
            frame: ``(height, width, channels)`` uint8. Kept as it is when read-only (the
                caller's promise that nothing writes it through another view, as for a view
                of received bytes), else copied (as a read-only array).

        Raises:
            ValueError: If the frame has another shape or dtype.
        """
        if frame.shape != self.shape or frame.dtype != np.uint8:
            raise ValueError(f"frame {frame.shape} {frame.dtype} is not {self.shape} uint8")
        if frame.flags.writeable:
            frame = frame.copy()
            frame.flags.writeable = False
        self._frames.append(frame)

    def frames(self) -> tuple[np.ndarray, ...]:
        """The K frames oldest first, as read-only arrays (no copy).

        Raises:
            ValueError: If fewer than K frames were pushed.
        """
        if not self.full:
            raise ValueError(f"only {len(self._frames)} of {self.capacity} frames so far")
        return tuple(self._frames)

    def window(self) -> np.ndarray:
        """The frames oldest first, as a new ``(K, height, width, channels)`` array.

        Raises:
            ValueError: If fewer than K frames were pushed.
        """
        return np.stack(self.frames())

    def clear(self) -> None:
        """Forget every frame."""
        self._frames.clear()
