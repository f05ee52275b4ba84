"""A bounded queue that drops its oldest item instead of growing."""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """First in, first out, at most ``capacity`` items; a push onto a full queue drops the oldest.

    Args:
        capacity: The most items held.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._items: deque[T] = deque(maxlen=capacity)
        self._dropped = 0
        self.dropped_total = 0

    def __len__(self) -> int:
        return len(self._items)

    def push(self, item: T) -> bool:
        """Append an item.

        Returns:
            True if the oldest item was dropped to make room.
        """
        dropped = len(self._items) == self._items.maxlen
        self._items.append(item)
        if dropped:
            self._dropped += 1
            self.dropped_total += 1
        return dropped

    def pop(self) -> T | None:
        """Remove and return the oldest item (None when empty)."""
        return self._items.popleft() if self._items else None

    def take_dropped(self) -> int:
        """Items dropped since the previous call."""
        dropped, self._dropped = self._dropped, 0
        return dropped

    def clear(self) -> None:
        """Drop everything (not counted as dropped)."""
        self._items.clear()
